//! The board's unit tests: ranking, coalescing, pages and the feed.

use scoring::Score;

use super::*;

/// A frame's JSON, after checking that it is one whole Server-Sent Event.
fn data(sse: &[u8], name: &str) -> serde_json::Value {
    let text = std::str::from_utf8(sse).expect("utf-8");
    let json = text
        .strip_prefix(&format!("event: {name}\ndata: "))
        .and_then(|t| t.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("not one {name} event: {text:?}"));
    assert!(!json.contains('\n'), "one data line");
    serde_json::from_str(json).expect("json")
}

fn exam(names: &'static str) -> Arc<BoardExam> {
    Arc::new(BoardExam {
        code: "E".into(),
        title: "t".into(),
        sections: vec![],
        tie_break: vec![],
        names: names.parse().expect("a name policy"),
        questions: 10,
        running: "live",
        interval_minutes: None,
    })
}

fn update(id: &str, total: i64, exam: &Arc<BoardExam>) -> RowUpdate {
    let score = Score {
        sections: vec![scoring::SectionScore {
            code: item_bank::SectionCode::new_unchecked("K"),
            points: item_bank::Points(total),
            threshold: item_bank::Points(10),
            passed: total >= 10,
        }],
        total: item_bank::Points(total),
        passed: total >= 10,
    };
    RowUpdate {
        id: id.into(),
        participant_no: id.into(),
        name: "Ani Lestari".into(),
        sitting: "S".into(),
        venue: "V".into(),
        exam: exam.clone(),
        scored: Some(Scored { score, key: RankKey::from_parts(total, &[]) }),
        answered: 0,
        status: "active".into(),
        reason: None,
        sitting_ends_ms: None,
    }
}

fn clock() -> Arc<dyn crate::clock::Clock> {
    Arc::new(crate::clock::ManualClock::new(chrono::Utc::now()))
}

#[test]
fn many_updates_between_ticks_become_one_frame_per_board() {
    let exam = exam("full");
    let hub = BoardHub::new(clock());
    hub.update(update("a", 0, &exam));
    let board = BoardId::Sitting("S".into());
    let mut rx = hub.subscribe(&board).expect("board exists");
    for total in 1..=100 {
        hub.update(update("a", total, &exam));
        hub.update(update("b", 100 - total, &exam));
    }
    hub.tick();
    let frame = rx.try_recv().expect("one frame");
    assert!(rx.try_recv().is_err(), "only one frame per tick");
    let delta = data(&frame.sse, "delta");
    assert_eq!(delta["rows"].as_array().map(Vec::len), Some(2), "each changed row once, at its latest");
    assert_eq!(delta["rows"][0]["total"], 100);
    hub.tick();
    assert!(rx.try_recv().is_err(), "no changes, no frame");
    let snap = hub.snapshot(&board, 0, 10).expect("snapshot");
    assert_eq!(snap.version, frame.version);
    assert_eq!(snap.rows.iter().map(|r| (r.id.as_str(), r.rank)).collect::<Vec<_>>(), [("a", Some(1)), ("b", Some(2))]);
}

/// A session as the board sees it: its current total, and how often it was read.
struct Counting {
    total: Mutex<i64>,
    reads: std::sync::atomic::AtomicUsize,
    exam: Arc<BoardExam>,
}

impl RowSource for Counting {
    fn row_update(&self) -> Option<RowUpdate> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(update("m", *self.total.lock().expect("lock"), &self.exam))
    }
}

#[test]
fn marked_rows_are_read_once_per_flush_and_every_read_sees_them() {
    let exam = exam("full");
    let hub = BoardHub::new(clock());
    hub.update(update("a", 50, &exam));
    hub.tick();
    let board = BoardId::Sitting("S".into());
    let mut rx = hub.subscribe(&board).expect("board");
    let source = Arc::new(Counting { total: Mutex::new(0), reads: 0.into(), exam: exam.clone() });
    for total in 1..=200 {
        *source.total.lock().expect("lock") = total;
        hub.mark(source.clone());
    }
    // A read flushes first: the snapshot shows the latest state, read once.
    let snap = hub.snapshot(&board, 0, 10).expect("snapshot");
    assert_eq!(
        snap.rows.iter().map(|r| (r.id.as_str(), r.total)).collect::<Vec<_>>(),
        [("m", Some(200)), ("a", Some(50))]
    );
    assert_eq!(source.reads.load(std::sync::atomic::Ordering::Relaxed), 1);
    hub.tick();
    let delta = data(&rx.try_recv().expect("frame").sse, "delta");
    assert_eq!(delta["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!((&delta["rows"][0]["id"], &delta["rows"][0]["total"]), (&"m".into(), &200.into()));
    assert_eq!(source.reads.load(std::sync::atomic::Ordering::Relaxed), 1, "nothing marked since");
}

#[test]
fn an_unchanged_row_is_not_sent_again() {
    let exam = exam("masked");
    let hub = BoardHub::new(clock());
    hub.update(update("a", 5, &exam));
    let board = BoardId::Exam("E".into());
    let mut rx = hub.subscribe(&board).expect("board");
    hub.tick();
    let _ = rx.try_recv();
    hub.update(update("a", 5, &exam));
    hub.tick();
    assert!(rx.try_recv().is_err());
    assert_eq!(hub.snapshot(&board, 0, 1).expect("snap").rows[0].name, "A** L******");
}

#[tokio::test]
async fn viewers_share_one_first_page_until_the_board_ticks() {
    let exam = exam("full");
    let hub = BoardHub::new(clock());
    hub.update(update("a", 10, &exam));
    hub.update(update("b", 20, &exam));
    hub.tick();
    let board = BoardId::Sitting("S".into());
    let first = hub.feed_page(&board).await.expect("page");
    let second = hub.feed_page(&board).await.expect("page");
    assert_eq!(first.sse.as_ptr(), second.sse.as_ptr(), "the second viewer reuses the first page");
    let snap = data(&first.sse, "snapshot");
    assert_eq!(snap["version"], first.version);
    let ranked = |v: &serde_json::Value| {
        v["rows"].as_array().expect("rows").iter().map(|r| (r["id"].clone(), r["rank"].clone())).collect::<Vec<_>>()
    };
    assert_eq!(ranked(&snap), [("b".into(), 1.into()), ("a".into(), 2.into())]);

    // A change before the tick: a viewer subscribed now still gets the shared page, and
    // the change in the next delta.
    let mut rx = hub.subscribe(&board).expect("board");
    hub.update(update("a", 30, &exam));
    let third = hub.feed_page(&board).await.expect("page");
    assert_eq!(first.sse.as_ptr(), third.sse.as_ptr());
    hub.tick();
    let delta = rx.try_recv().expect("delta");
    assert_eq!(delta.version, first.version + 1, "the delta follows the shared page's version");
    let delta = data(&delta.sse, "delta");
    assert_eq!((&delta["rows"][0]["id"], &delta["rows"][0]["total"]), (&"a".into(), &30.into()));

    // After the tick the page is built again, at the new version, with the change.
    let fourth = hub.feed_page(&board).await.expect("page");
    assert_ne!(first.sse.as_ptr(), fourth.sse.as_ptr());
    assert_eq!(fourth.version, first.version + 1);
    let snap = data(&fourth.sse, "snapshot");
    assert_eq!(ranked(&snap), [("a".into(), 1.into()), ("b".into(), 2.into())]);
    assert!(hub.feed_page(&BoardId::Sitting("nope".into())).await.is_none());
}

#[tokio::test]
async fn a_page_nobody_watches_is_dropped_once_the_board_moves_past_it() {
    let exam = exam("full");
    let hub = BoardHub::new(clock());
    hub.update(update("a", 10, &exam));
    hub.tick();
    let board = BoardId::Sitting("S".into());
    let rx = hub.subscribe(&board).expect("board");
    let first = hub.feed_page(&board).await.expect("page");
    hub.tick();
    let kept = hub.feed_page(&board).await.expect("page");
    assert_eq!(kept.sse.as_ptr(), first.sse.as_ptr(), "a watched page outlives a tick");
    drop(rx);
    hub.tick();
    let current = hub.feed_page(&board).await.expect("page");
    assert_eq!(current.sse.as_ptr(), first.sse.as_ptr(), "a current page stays for the snapshot's readers");
    assert_eq!(hub.pages_built(), 1);
    hub.update(update("a", 11, &exam));
    hub.tick();
    assert!(lock(&hub.feed_pages).is_empty(), "nobody watches and the board moved on: the page is gone");
    let _rx = hub.subscribe(&board).expect("board");
    let again = hub.feed_page(&board).await.expect("page");
    assert_eq!(again.version, first.version + 1, "built again, at the board's version");
    assert_eq!(data(&again.sse, "snapshot")["rows"][0]["total"], 11);
    assert_eq!(hub.pages_built(), 2);
}

#[tokio::test]
async fn a_board_that_does_not_exist_gets_no_page_and_no_slot() {
    let hub = BoardHub::new(clock());
    assert!(hub.feed_page(&BoardId::Sitting("nope".into())).await.is_none());
    assert!(lock(&hub.feed_pages).is_empty(), "a name anyone may send keeps nothing");
}

#[tokio::test]
async fn the_snapshots_json_is_the_feed_pages_data_line() {
    let exam = exam("full");
    let hub = BoardHub::new(clock());
    hub.update(update("a", 10, &exam));
    let page = hub.feed_page(&BoardId::Sitting("S".into())).await.expect("page");
    let json: serde_json::Value = serde_json::from_slice(&page.json()).expect("json");
    assert_eq!(json, data(&page.sse, "snapshot"));
    assert_eq!(page.json().as_ptr(), page.sse[b"event: snapshot\ndata: ".len()..].as_ptr(), "the same bytes");
}

#[tokio::test(start_paused = true)]
async fn a_feed_sends_its_page_then_newer_deltas_and_a_comment_when_quiet() {
    use futures_util::StreamExt as _;
    let exam = exam("full");
    let hub = Arc::new(BoardHub::new(clock()));
    hub.update(update("a", 10, &exam));
    hub.tick();
    let board = BoardId::Sitting("S".into());
    let rx = hub.subscribe(&board).expect("board");
    let first = hub.feed_page(&board).await.expect("page");
    let (stop, shutdown) = watch::channel(false);
    let mut feed = std::pin::pin!(events(hub.clone(), board, rx, first.clone(), shutdown));
    let mut next = async || feed.next().await.expect("an event").expect("infallible");
    assert_eq!(next().await.as_ptr(), first.sse.as_ptr(), "the shared page, as it is");

    hub.update(update("a", 20, &exam));
    hub.tick();
    let delta = data(&next().await, "delta");
    assert_eq!((delta["version"].as_u64(), &delta["rows"][0]["total"]), (Some(first.version + 1), &20.into()));

    let quiet = tokio::time::Instant::now();
    assert_eq!(&next().await[..], b":\n\n");
    assert_eq!(quiet.elapsed(), KEEP_ALIVE, "a comment once the feed has been quiet that long");

    let _ = stop.send(true);
    assert!(feed.next().await.is_none(), "the feed ends at shutdown");
}

#[test]
fn hidden_scores_are_listed_after_the_scored_by_progress_unranked_and_not_started_last() {
    let exam = exam("full");
    let hub = BoardHub::new(clock());
    let hidden = |id: &str, answered: u32, status: &str| RowUpdate {
        scored: None,
        answered,
        status: status.into(),
        ..update(id, 0, &exam)
    };
    hub.update(hidden("ready", 0, "ready"));
    hub.update(hidden("slow", 3, "active"));
    hub.update(hidden("fast", 9, "paused"));
    hub.update(RowUpdate { status: "finished".into(), ..update("low", 5, &exam) });
    hub.update(RowUpdate { status: "finished".into(), ..update("high", 40, &exam) });
    hub.update(RowUpdate { status: "finished".into(), ..update("tied", 5, &exam) });
    let snap = hub.snapshot(&BoardId::Sitting("S".into()), 0, 10).expect("snapshot");
    type Shown<'a> = (&'a str, Option<usize>, Option<i64>, Option<bool>);
    let got: Vec<Shown<'_>> = snap.rows.iter().map(|r| (r.id.as_str(), r.rank, r.total, r.passed)).collect();
    assert_eq!(
        got,
        [
            ("high", Some(1), Some(40), Some(true)),
            ("low", Some(2), Some(5), Some(false)),
            ("tied", Some(2), Some(5), Some(false)),
            ("fast", None, None, None),
            ("slow", None, None, None),
            ("ready", None, None, None),
        ]
    );
    let json = serde_json::to_value(&snap.rows[3]).expect("json");
    assert!(json.get("total").is_none() && json.get("scores").is_none() && json.get("passed").is_none(), "{json}");
}

#[test]
fn names_are_masked_word_by_word() {
    assert_eq!(mask_name("Ani Lestari"), "A** L******");
    assert_eq!(mask_name("Ø"), "Ø");
    assert_eq!(mask_name("  "), "");
}

#[test]
fn a_disqualified_candidate_is_listed_last_and_not_ranked_whatever_the_score() {
    let exam = exam("full");
    let hub = BoardHub::new(clock());
    let finished = |id: &str, total: i64, reason: &str| RowUpdate {
        status: "finished".into(),
        reason: Some(reason.into()),
        ..update(id, total, &exam)
    };
    hub.update(finished("cheat", 90, "terminated"));
    hub.update(finished("good", 40, "submitted"));
    hub.update(RowUpdate { scored: None, status: "ready".into(), ..update("absent", 0, &exam) });
    hub.update(finished("late", 20, "time_up"));
    let snap = hub.snapshot(&BoardId::Sitting("S".into()), 0, 10).expect("snapshot");
    let got: Vec<(&str, Option<usize>)> = snap.rows.iter().map(|r| (r.id.as_str(), r.rank)).collect();
    assert_eq!(got, [("good", Some(1)), ("late", Some(2)), ("absent", None), ("cheat", None)]);
}
