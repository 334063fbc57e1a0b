//! `Seat::accept` decided line by line, and what the board reads of a seat while lines
//! are still being committed.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use futures_util::FutureExt as _;
use item_bank::{Bank, Exam, Label};
use session_engine::{Command, FinishReason, Refusal, Session, Status, Tick};
use store::SessionRecord;

use super::{Accepted, Action, Line, Note, Seat, Undo};
use crate::exams::ExamCtx;
use crate::live::error::{BadSeq, Error};
use crate::monitor::Irregularity;
use crate::protocol::ClientEvent;

/// Two answers closer than this are fast.
const FAST_MS: u64 = 1_500;

/// An active seat of the tiny test exam with nothing answered, its board showing running
/// scores live.
fn tiny_seat() -> Seat {
    tiny_seat_with("running = \"live\"")
}

/// An active seat of the tiny test exam with `board` as its `[board]` table.
fn tiny_seat_with(board: &str) -> Seat {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../item-bank/tests/fixtures/tiny-exam.toml");
    let text = std::fs::read_to_string(&path).expect("read") + "\n[board]\n" + board + "\n";
    let exam = Exam::parse("tiny-exam.toml", &text).expect("tiny exam");
    let bank = Bank::load(&exam.bank_dir(&path)).expect("tiny bank");
    let paper = session_engine::assemble(&exam, &bank, [7; 32]).expect("paper");
    let rec = SessionRecord {
        id: "T-1.P-0001".into(),
        sitting_id: "T-1".into(),
        venue: "Test".into(),
        exam_code: exam.code().to_owned(),
        participant_no: "P-0001".into(),
        name: "Peserta 1".into(),
        status: "active".into(),
        finish_reason: None,
        duration_ms: 600_000,
        extension_ms: 0,
        used_ms: 0,
        result: None,
        sitting_starts_at: "2027-01-15T08:00:00+07:00".into(),
        paper: crate::sitting::paper_rows(&paper),
        answers: BTreeMap::new(),
        flags: BTreeMap::new(),
        acks: BTreeMap::new(),
        log_digest: store::LogDigest::default(),
    };
    Seat::from_record(rec, Arc::new(ExamCtx::new(exam, bank)), 0, FAST_MS).expect("seat")
}

fn label(c: &str) -> Option<Label> {
    Some(Label::parse(c).expect("label"))
}

fn utc() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a time")
}

fn answer(index: i64, choice: &str) -> Action {
    Action::Answer { index, choice: Some(choice.to_owned()) }
}

/// Everything `accept` may change.
fn state(s: &Seat) -> (Session, i64, BTreeMap<i64, Undo>, String, Option<Tick>, bool) {
    (s.session.clone(), s.last_seq, s.pending.clone(), s.digest.hex(), s.last_answer, s.stale)
}

/// Accepts `action` as `seq` at `now` and checks the outcome; a refusal must change
/// nothing.
#[track_caller]
fn check(s: &mut Seat, now: Tick, seq: i64, action: Action, expected: Result<&Accepted, &Error>) {
    let before = state(s);
    let got = s.accept(now, utc(), seq, &action);
    assert_eq!(got.as_ref(), expected);
    if got.is_err() || matches!(got, Ok(Accepted::Again { .. })) {
        assert_eq!(state(s), before, "a refusal or a repeat changes nothing");
    }
}

/// Accepts `action` as `seq` at `now`, expecting a new line; returns it.
#[track_caller]
fn line(s: &mut Seat, now: Tick, seq: i64, action: Action) -> Line {
    match s.accept(now, utc(), seq, &action) {
        Ok(Accepted::Line(line)) => line,
        other => panic!("expected a line, got {other:?}"),
    }
}

#[test]
fn an_answer_becomes_a_pending_line_with_the_clock() {
    let mut s = tiny_seat();
    let l = line(&mut s, 2_000, 1, answer(0, "B"));
    assert_eq!(
        (l.log.seq, l.log.position, l.log.action.as_str(), l.log.choice.as_deref(), l.log.flagged),
        (1, Some(0), "answer", Some("B"), None)
    );
    assert_eq!((l.log.used_ms, l.log.server_ts.as_str()), (Some(2_000), store::ts(utc()).as_str()));
    assert_eq!((l.answers_sha256, l.notes), (None, vec![]));
    assert_eq!(s.session.answers()[0], label("B"));
    assert_eq!(s.last_seq, 1);
    assert_eq!(s.pending.get(&1), Some(&Undo { answer: Some((0, None)), status: None }));

    let l = line(&mut s, 3_000, 2, Action::Flag { index: 1, flagged: true });
    assert_eq!((l.log.action.as_str(), l.log.position, l.log.flagged), ("flag", Some(1), Some(true)));
    assert_eq!(s.pending.get(&2), Some(&Undo::default()));
}

#[test]
fn every_refusal_changes_nothing() {
    let mut s = tiny_seat();
    let n = s.entries.len();
    line(&mut s, 1_000, 1, answer(0, "A"));
    check(&mut s, 1_000, 1, answer(1, "A"), Err(&Error::BadSeq(BadSeq::BeingStored(1))));
    s.landed(1);
    s.acks.insert(1, (Some(0), "then".to_owned()));
    line(&mut s, 1_000, 5, answer(1, "A"));
    s.landed(5);
    check(&mut s, 9_000, 3, answer(2, "A"), Err(&Error::BadSeq(BadSeq::NotAbove { seq: 3, last: 5 })));
    check(&mut s, 9_000, 6, answer(n as i64, "A"), Err(&Error::UnknownIndex { index: n as i64, count: n }));
    check(&mut s, 9_000, 6, answer(-1, "A"), Err(&Error::UnknownIndex { index: -1, count: n }));
    check(&mut s, 9_000, 6, answer(0, "Z"), Err(&Error::BadChoice("Z".to_owned())));
    check(&mut s, 700_000, 6, answer(0, "B"), Err(&Error::Refused(Refusal::TimeExpired)));

    line(&mut s, 9_000, 6, answer(2, "B"));
    check(&mut s, 9_000, 7, Action::Finish, Err(&Error::BadSeq(BadSeq::FinishBehindPending(7))));
    s.landed(6);

    s.session.apply(10_000, Command::Pause).expect("paused");
    check(&mut s, 11_000, 7, answer(3, "A"), Err(&Error::AnsweredWhilePaused { position: 3 }));
    check(&mut s, 11_000, 7, Action::Flag { index: 3, flagged: true }, Err(&Error::Refused(Refusal::Paused)));
    s.session.apply(12_000, Command::Resume).expect("resumed");

    line(&mut s, 13_000, 7, Action::Finish);
    s.landed(7);
    check(&mut s, 14_000, 8, answer(0, "C"), Err(&Error::Refused(Refusal::AlreadyFinished)));
    let focus = Action::Event { kind: ClientEvent::FocusLost };
    check(&mut s, 14_000, 8, focus, Err(&Error::Refused(Refusal::AlreadyFinished)));

    s.stale = true;
    check(&mut s, 14_000, 8, answer(0, "C"), Err(&Error::Stale));
}

#[test]
fn an_acknowledged_seq_is_acknowledged_again_and_changes_nothing() {
    let mut s = tiny_seat();
    line(&mut s, 1_000, 1, answer(0, "A"));
    s.landed(1);
    s.acks.insert(1, (Some(0), "at the first ack".to_owned()));
    let again = Accepted::Again { position: Some(0), server_ts: "at the first ack".to_owned() };
    // Whatever the message now says: the seq is what was acknowledged.
    check(&mut s, 2_000, 1, answer(0, "B"), Ok(&again));
    assert_eq!(s.session.answers()[0], label("A"));
}

#[test]
fn fast_answers_and_cycling_are_noted_for_the_supervisor() {
    let mut s = tiny_seat();
    // A question with at least three options, to be tried option by option.
    let p = s.entries.iter().position(|(e, _)| e.order.len() >= 3).expect("a question with three options");
    let other = if p == 0 { 1 } else { 0 };
    assert_eq!(line(&mut s, 10_000, 1, answer(p as i64, "A")).notes, vec![], "the first answer has none before it");
    assert_eq!(line(&mut s, 10_000 + FAST_MS, 2, answer(other as i64, "A")).notes, vec![], "not faster than the limit");
    let first_fast = 12_000 - 10_000 - FAST_MS;
    let grouped = |fast_answers, fastest_ms, cycled_questions, answers| {
        Note::Irregularity(Irregularity {
            fast_answers,
            fastest_ms,
            cycled_questions,
            answers,
            score: fast_answers + cycled_questions,
        })
    };
    assert_eq!(line(&mut s, 12_000, 3, answer(p as i64, "B")).notes, vec![grouped(1, first_fast, 0, 3)]);
    assert_eq!(
        line(&mut s, 20_000, 4, answer(p as i64, "C")).notes,
        vec![Note::AnswerCycling { position: p }, grouped(1, first_fast, 1, 4)],
        "three options of one question within a minute: its own event, and the grouped one grows"
    );
    // A faster answer still: the same one grouped irregularity, its count and fastest updated.
    assert_eq!(line(&mut s, 20_100, 5, answer(other as i64, "B")).notes, vec![grouped(2, 100, 1, 5)]);
    assert_eq!(line(&mut s, 25_000, 6, answer(other as i64, "A")).notes, vec![], "an ordinary answer adds nothing");
    assert_eq!(s.irregularity.answers, 6);
    let l = line(&mut s, 30_000, 7, Action::Event { kind: ClientEvent::PageHidden });
    assert_eq!((l.log.action.as_str(), l.log.choice.as_deref()), ("event", Some("page_hidden")));
    assert_eq!(l.notes, vec![Note::Candidate(ClientEvent::PageHidden)]);
    assert_eq!(
        Note::of_refusal(&Error::AnsweredWhilePaused { position: 2 }),
        Some(Note::AnswerWhilePaused { position: 2 })
    );
    assert_eq!(Note::of_refusal(&Error::Refused(Refusal::Paused)), None);
}

#[test]
fn a_finish_carries_the_digest_of_every_line_before_it() {
    let mut s = tiny_seat();
    line(&mut s, 1_000, 1, answer(0, "A"));
    s.landed(1);
    let before = s.digest.hex();
    let l = line(&mut s, 2_000, 2, Action::Finish);
    assert_eq!(l.answers_sha256.as_deref(), Some(before.as_str()));
    assert_ne!(s.digest.hex(), before, "the finish line is in the digest after it");
    assert_eq!((l.log.action.as_str(), l.log.position), ("finish", None));
    assert_eq!(s.session.status(), Status::Finished(FinishReason::Submitted));
    assert_eq!(s.pending.get(&2), Some(&Undo { answer: None, status: Some(Status::Active) }));
}

/// Accepts a line as `submit` does: applied now, committed later.
fn accept(s: &mut Seat, seq: i64, command: Command) {
    let undo = s.apply_line(1_000, command).expect("applied");
    s.pending.insert(seq, undo);
}

/// (answered, total, status) as the board would show them.
fn shown(s: &Seat) -> (u32, Option<i64>, String) {
    let r = s.row_update().expect("a row");
    (r.answered, r.scored.map(|s| s.score.total.0), r.status)
}

/// The score on the board's row.
fn row_score(s: &Seat) -> Option<scoring::Score> {
    s.row_update().expect("a row").scored.map(|s| s.score)
}

#[test]
fn the_board_row_leaves_out_every_line_still_being_committed() {
    let mut l = tiny_seat();
    accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
    accept(&mut l, 2, Command::Answer { index: 2, choice: label("B") });
    l.pending.clear(); // both committed
    let stored = shown(&l);
    assert_eq!(stored.0, 2);
    let stored_score = l.score();

    // Two lines on one position and one on another, none committed: the row is the
    // stored sheet, not the sheet as the candidate sees it.
    accept(&mut l, 3, Command::Answer { index: 0, choice: label("B") });
    accept(&mut l, 4, Command::Answer { index: 0, choice: None });
    // Position 1 gets the option under which the candidate's own sheet scores other
    // than the stored one: the rows of the two sheets can then be told apart.
    let differs = ["A", "B"]
        .into_iter()
        .find(|c| {
            let mut sheet = l.session.answers().to_vec();
            sheet[1] = label(c);
            l.score_of(&sheet) != stored_score
        })
        .expect("an option that moves the score");
    accept(&mut l, 5, Command::Answer { index: 1, choice: label(differs) });
    accept(&mut l, 6, Command::Flag { index: 1, flagged: true });
    assert_eq!(l.session.answers()[0], None);
    assert_ne!(l.score(), stored_score, "the candidate's own sheet scores differently");
    assert_eq!(shown(&l), stored);
    assert_eq!(row_score(&l), Some(stored_score));

    // As their commits land, in order, the row follows.
    l.pending.remove(&3);
    let mut sheet = l.session.answers().to_vec();
    sheet[0] = label("B");
    sheet[1] = None;
    assert_eq!(row_score(&l), Some(l.score_of(&sheet)));
    l.pending.remove(&4);
    l.pending.remove(&5);
    l.pending.remove(&6);
    assert_eq!(shown(&l).0, 2);
    assert_eq!(row_score(&l), Some(l.score()));

    // A clearing answer is taken back too.
    accept(&mut l, 7, Command::Answer { index: 2, choice: None });
    assert_eq!(shown(&l).0, 2);

    // A finish still being committed: the row stays active.
    l.pending.clear();
    accept(&mut l, 8, Command::Finish);
    assert_eq!(l.session.status(), Status::Finished(FinishReason::Submitted));
    assert_eq!(shown(&l).2, "active");
    l.pending.clear();
    assert_eq!(shown(&l).2, "finished");
}

#[test]
fn a_status_change_of_the_servers_side_shows_once_all_of_them_are_stored() {
    let mut l = tiny_seat();
    // A pause and a resume queued one after the other: the board shows the status
    // before the first until both commits land.
    for command in [Command::Pause, Command::Resume] {
        l.apply_unstored(1_000, command).expect("applied");
    }
    assert_eq!(shown(&l).2, "active");
    l.apply_unstored(2_000, Command::Pause).expect("applied");
    l.status_stored();
    l.status_stored();
    assert_eq!(shown(&l).2, "active", "the last change is not stored yet");
    l.status_stored();
    assert_eq!(shown(&l).2, "paused");
}

#[test]
fn by_default_a_running_row_shows_progress_and_no_score_until_the_finish_is_stored() {
    let mut l = tiny_seat_with("running = \"progress\"");
    accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
    l.pending.clear();
    assert_eq!(shown(&l), (1, None, "active".to_owned()));
    assert_eq!(l.supervisor_score(), None, "the monitor follows the board");
    accept(&mut l, 2, Command::Finish);
    assert_eq!(shown(&l), (1, None, "active".to_owned()), "a finish still being committed shows nothing");
    l.pending.clear();
    assert_eq!(shown(&l), (1, Some(l.score().total.0), "finished".to_owned()));
    assert_eq!(l.supervisor_score(), Some(l.score()));

    let mut l = tiny_seat_with("running = \"progress\"\nsupervisor_running_scores = true");
    accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
    assert_eq!(l.supervisor_score(), Some(l.score()), "the exam lets supervisors see running scores");
    assert_eq!(shown(&l).1, None, "the public still does not");
}

#[test]
fn an_interval_row_shows_the_sheet_stored_at_the_last_mark() {
    const MARK: i64 = 5 * 60_000;
    let mut l = tiny_seat_with("running = \"interval\"\ninterval_minutes = 5");
    assert!(!l.at_interval_mark(10 * MARK + 1), "first seen: nothing to show yet");
    accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
    l.pending.clear();
    assert!(!l.at_interval_mark(11 * MARK - 1), "the same mark");
    assert_eq!(shown(&l), (1, None, "active".to_owned()), "before a mark it was seen at: no score");
    let at_first = l.score();
    // A line still being committed at the mark is not part of the stored sheet.
    accept(&mut l, 2, Command::Answer { index: 1, choice: label("A") });
    assert!(l.at_interval_mark(11 * MARK));
    assert_eq!(row_score(&l), Some(at_first.clone()));
    l.pending.clear();
    assert_eq!(row_score(&l), Some(at_first), "stored after the mark: shown at the next");
    assert_eq!(shown(&l).0, 2, "progress moves at once");
    assert!(l.at_interval_mark(12 * MARK));
    assert_eq!(row_score(&l), Some(l.score()));
}

#[test]
fn a_stale_copy_has_no_board_row() {
    let mut l = tiny_seat();
    accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
    // Its commit failed: the line is no longer pending, but this copy still holds it.
    l.pending.clear();
    l.stale = true;
    assert!(l.row_update().is_none());
}

#[tokio::test(start_paused = true)]
async fn a_finish_waits_for_the_last_pending_line_to_land() {
    let seat = std::sync::Mutex::new(tiny_seat());
    line(&mut super::lock(&seat), 1_000, 1, answer(0, "A"));
    let waited = tokio::time::Instant::now();
    let settle = super::settle(&seat);
    tokio::pin!(settle);
    assert!(settle.as_mut().now_or_never().is_none(), "the line is still being committed");
    super::lock(&seat).landed(1);
    settle.await;
    assert_eq!(waited.elapsed(), std::time::Duration::ZERO, "woken by the commit, not a poll");

    // A line that never lands is waited for a bounded while.
    line(&mut super::lock(&seat), 2_000, 2, answer(1, "A"));
    let waited = tokio::time::Instant::now();
    super::settle(&seat).await;
    assert_eq!(waited.elapsed(), super::SETTLE_LIMIT);
}

#[test]
fn every_note_reaches_the_monitor_under_its_kind() {
    let said = || "power cut".to_owned();
    let cases = [
        (Note::Connected, ("connected", "server", "")),
        (Note::Disconnected, ("disconnected", "server", "")),
        (Note::TakenOver, ("taken_over", "server", "a new connection took the seat")),
        (Note::Paused { reason: said() }, ("paused", "server", "power cut")),
        (Note::Resumed { reason: said() }, ("resumed", "server", "power cut")),
        (Note::Extended { reason: said() }, ("extended", "server", "power cut")),
        (Note::Finished { reason: "time_up".into() }, ("finished", "server", "time_up")),
        (Note::AnswerWhilePaused { position: 2 }, ("answer_while_paused", "server", "question 3")),
        (
            Note::Irregularity(Irregularity {
                fast_answers: 3,
                fastest_ms: 400,
                cycled_questions: 1,
                answers: 20,
                score: 4,
            }),
            ("irregularity", "server", "3 of 20 answers faster than the limit (fastest 400 ms), 1 questions cycled"),
        ),
        (
            Note::AnswerCycling { position: 4 },
            ("answer_cycling", "server", "question 5 answered with several different options within a minute"),
        ),
        (Note::Candidate(ClientEvent::FocusLost), ("focus_lost", "candidate", "")),
    ];
    for (note, (kind, by, detail)) in cases {
        let (k, b, d) = note.describe();
        assert_eq!((k, b, d.as_str()), (kind, by, detail), "{note:?}");
    }
}
