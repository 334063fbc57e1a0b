//! `ujian analyze`: the real binary over a sitting whose candidates answered through the
//! real server, its files checked against figures the test works out itself.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::process::Command;

use item_bank::{Key, Label};

use crate::helpers::{Candidate, Db, SITTING, Setup, TestApp, databases, participant, repo};

const CANDIDATES: usize = 8;
const FOCUS_LOSSES: usize = 12;
/// Candidate 5's page comes back after a drop this often; candidate 6's seat is taken by a
/// second connection this often.
const RECONNECTS: usize = 2;
const TAKEOVERS: usize = 6;

fn ujian(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ujian")).args(args).current_dir(repo("")).output().expect("run ujian");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The option (in the item's own labels) a candidate picks: the same for candidates 1 and
/// 2 (who copy), a different spread for everyone else.
fn pick(item: &str, candidate: usize, options: usize) -> usize {
    let mut h = DefaultHasher::new();
    item.hash(&mut h);
    if candidate > 2 {
        candidate.hash(&mut h);
    }
    (h.finish() % options as u64) as usize
}

fn rows(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv row");
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()
        })
        .collect()
}

#[tokio::test]
async fn analyze_writes_item_statistics_and_finds_two_candidates_who_answered_alike() {
    for db in databases() {
        analyze_on(db).await;
    }
}

async fn analyze_on(db: Db) {
    let mut app = TestApp::spawn(Setup::skd(CANDIDATES).on(db)).await;
    // Per item: how many papers held it and how many of those answered the key.
    let mut given: HashMap<String, (usize, usize)> = HashMap::new();
    for i in 1..=CANDIDATES {
        let session = format!("{SITTING}.{}", participant(i));
        let rec = app.store().load_session(&session).await.expect("load").expect("session");
        let mut c = app.candidate(i).await;
        for (q, row) in rec.paper.iter().enumerate() {
            let item = app.bank.items().iter().find(|it| it.id().as_str() == row.item_id).expect("item in bank");
            let own = pick(&row.item_id, i, item.options().len());
            let shown = row.option_order.chars().position(|ch| ch as usize - 'A' as usize == own).expect("in order");
            let label = Label::from_index(shown).expect("label").to_string();
            let ack = c.answer(q, Some(&label)).await;
            assert_eq!(ack["type"], "ack", "{ack}");
            let entry = given.entry(row.item_id.clone()).or_default();
            entry.0 += 1;
            if matches!(item.key(), Key::Single(k) if k.index() == own) {
                entry.1 += 1;
            }
        }
        // Candidate 3 leaves the window once (ordinary); candidate 4 twelve times, the page
        // hidden among them.
        let losses = match i {
            3 => 1,
            4 => FOCUS_LOSSES,
            _ => 0,
        };
        for n in 0..losses {
            // A second between them on the server's clock: within the message rate limit.
            app.clock.advance(1_000);
            let seq = c.next_seq();
            let kind = if n % 4 == 3 { "page_hidden" } else { "focus_lost" };
            c.send(serde_json::json!({ "type": "event", "seq": seq, "kind": kind, "client_ts": null })).await;
            let ack = c.recv().await;
            assert_eq!(ack["type"], "ack", "{ack}");
        }
        for _ in 0..if i == 5 { RECONNECTS } else { 0 } {
            // The same login back once the server has seen the drop: a reconnect, not a takeover.
            c.ws.close(None).await.expect("close");
            let gone = async {
                while app.state.registry.seat_view(&session).is_some_and(|s| s.connected) {
                    tokio::task::yield_now().await;
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(10), gone).await.expect("the drop is seen");
            c = Candidate::connect(app.addr, &c.token).await;
        }
        for _ in 0..if i == 6 { TAKEOVERS } else { 0 } {
            let second = Candidate::connect(app.addr, &c.token).await;
            assert_eq!(c.recv().await["type"], "taken_over");
            c = second;
        }
        c.finish().await;
    }
    let (dir, url) = (app.dir.path().to_owned(), app.url.clone());
    app.shutdown().await;
    let d = dir.to_str().expect("utf8").to_owned();

    let out = dir.join("items-report");
    let o = out.to_str().expect("utf8");
    let (code, stdout, err) =
        ujian(&["--data-dir", &d, "--database", &url, "analyze", "items", "--exam", "SKD-2026", "--out", o]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains(&format!("{CANDIDATES} candidates")), "{stdout}");
    let items = rows(&out.join("items.csv"));
    assert_eq!(items.len(), given.len(), "one row per item drawn");
    let mut checked = 0;
    for row in items.iter().filter(|r| r["scoring"] == "single") {
        let (drawn, right) = given[&row["item"]];
        assert_eq!(row["drawn"], drawn.to_string(), "{row:?}");
        assert_eq!(row["difficulty"], format!("{:.4}", right as f64 / drawn as f64), "{row:?}");
        checked += 1;
    }
    assert!(checked > 50, "single-keyed items checked: {checked}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("items.json")).expect("items.json")).expect("json");
    assert_eq!(json["sections"].as_array().map(Vec::len), Some(3), "TWK, TIU, TKP");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("<svg") && html.contains("bukan putusan") && html.contains("never a verdict"));
    // The charts: one scatter, option bars on every item's row.
    assert_eq!(html.matches("aria-label=\"difficulty against discrimination\"").count(), 1);
    assert_eq!(html.matches("aria-label=\"option shares\"").count(), given.len());
    assert_eq!(err.lines().filter(|l| !l.starts_with("warning: ")).count(), 0, "no progress bar on a pipe: {err}");

    let out = dir.join("integrity-report");
    let o = out.to_str().expect("utf8");
    let (code, stdout, err) =
        ujian(&["--data-dir", &d, "--database", &url, "analyze", "integrity", "--sitting", SITTING, "--out", o]);
    assert_eq!(code, 0, "{stdout}{err}");
    let flagged: Vec<(String, String)> = rows(&out.join("pairs.csv"))
        .into_iter()
        .filter(|r| r["flagged"] == "true")
        .map(|r| (r["a"].clone(), r["b"].clone()))
        .collect();
    assert_eq!(flagged, [(participant(1), participant(2))], "only the pair who answered alike");
    let per_candidate = rows(&out.join("integrity.csv"));
    assert_eq!(per_candidate.len(), CANDIDATES);
    let first = per_candidate.iter().find(|r| r["participant_no"] == participant(1)).expect("P-0001");
    assert_eq!(first["similar_to"], participant(2));
    let third = per_candidate.iter().find(|r| r["participant_no"] == participant(3)).expect("P-0003");
    assert_eq!((third["client_events"].as_str(), third["flags"].as_str()), ("focus_lost:1", ""), "context, not a flag");
    assert_eq!(
        (third["focus_losses"].as_str(), third["relogins"].as_str(), third["pc_moves"].as_str()),
        ("1", "0", "0")
    );
    let fourth = per_candidate.iter().find(|r| r["participant_no"] == participant(4)).expect("P-0004");
    assert_eq!(fourth["client_events"], "focus_lost:9 page_hidden:3");
    assert_eq!(fourth["flags"], format!("focus_losses:{FOCUS_LOSSES}"), "far above the room's 13 in 8");
    // Reconnects and takeovers are stored as the server sees them, and counted against the room.
    let fifth = per_candidate.iter().find(|r| r["participant_no"] == participant(5)).expect("P-0005");
    assert_eq!((fifth["reconnects"].as_str(), fifth["takeovers"].as_str()), ("2", "0"), "{fifth:?}");
    assert_eq!(fifth["flags"], "", "two drops are no flag");
    let sixth = per_candidate.iter().find(|r| r["participant_no"] == participant(6)).expect("P-0006");
    assert_eq!((sixth["reconnects"].as_str(), sixth["takeovers"].as_str()), ("0", "6"), "{sixth:?}");
    assert_eq!(sixth["flags"], format!("takeovers:{TAKEOVERS}"), "every takeover of the room");
    assert_eq!(third["takeovers"], "0");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("integrity.json")).expect("json")).expect("json");
    let events = &json["candidates"][3]["session_events"]["focus_losses"];
    assert_eq!((events["count"].as_u64(), events["flagged"].as_bool()), (Some(12), Some(true)), "{events}");
    assert_eq!(events["room_mean"].as_f64(), Some(1.625));
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains("bukan putusan"));
    // The room of 8 drawn whole: 28 pairs, each cell twice; the flagged pair in red.
    assert_eq!(html.matches("aria-label=\"similarity matrix\"").count(), 1);
    let matrix = &html[html.find("aria-label=\"similarity matrix\"").expect("matrix")..];
    let matrix = &matrix[..matrix.find("</svg>").expect("svg end")];
    assert_eq!(matrix.matches("<rect").count(), 2 * 28);
    assert_eq!(matrix.matches("fill=\"#c0392b\"").count(), 2, "the one flagged pair");
    // A timeline for each flagged candidate: the pair and the one who kept leaving the window.
    assert_eq!(html.matches("aria-label=\"answer timeline\"").count(), 4, "P-0001, P-0002, P-0004, P-0006");

    // The results export names each candidate's flags, for the committee deciding on DIS.
    let (code, stdout, err) =
        ujian(&["--data-dir", &d, "--database", &url, "results", "export", "--sitting", SITTING, "--provisional"]);
    assert_eq!(code, 0, "{stdout}{err}");
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let flags: HashMap<String, String> = reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            let get = |name: &str| r.get(headers.iter().position(|h| h == name).expect(name)).expect(name).to_owned();
            (get("participant_no"), get("irregularities"))
        })
        .collect();
    assert_eq!(flags.len(), CANDIDATES);
    assert_eq!(flags[&participant(1)], format!("SIM:{}", participant(2)));
    assert_eq!(flags[&participant(2)], format!("SIM:{}", participant(1)));
    assert_eq!(flags[&participant(4)], format!("FOCUS:{FOCUS_LOSSES}"));
    assert_eq!(flags[&participant(3)], "", "one focus loss is no flag");
    assert_eq!(flags[&participant(6)], format!("TAKEOVER:{TAKEOVERS}"));

    // An unknown exam or sitting is refused and nothing is written.
    for (args, known) in [(["items", "--exam", "NOPE"], "SKD-2026"), (["integrity", "--sitting", "NOPE"], SITTING)] {
        let nowhere = dir.join("nowhere");
        let n = nowhere.to_str().expect("utf8");
        let (code, _, err) =
            ujian(&[&["--data-dir", &d, "--database", &url, "analyze"][..], &args, &["--out", n]].concat());
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("NOPE does not exist"), "{err}");
        assert!(err.contains(&format!("with sittings: {known}")), "the refusal names what is stored: {err}");
        assert!(!nowhere.exists(), "{args:?} wrote {n}");
    }
}
