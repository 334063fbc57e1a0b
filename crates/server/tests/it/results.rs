//! Result exports: rescored from the answer logs, ranked, with announcement codes.

use serde_json::json;

use crate::helpers::{Setup, TestApp, best_and_worst, participant};

fn options(openings: Option<u32>, provisional: bool) -> server::results::Options {
    server::results::Options { openings, multiplier: 3, provisional }
}

#[tokio::test]
async fn the_export_ranks_rescored_results_with_their_codes() {
    let mut app = TestApp::spawn(Setup::tiny(5)).await;
    let sup = app.staff("sup1").await;
    // 1 and 2 answer everything best (tied), 3 everything worst, 4 is terminated, 5… absent.
    for i in 1..=3 {
        let mut c = app.candidate(i).await;
        let key = best_and_worst(&app, &format!("T-1.{}", participant(i))).await;
        for (q, (best, worst, ..)) in key.iter().enumerate() {
            c.answer(q, Some(if i < 3 { best } else { worst })).await;
        }
        c.finish().await;
    }
    let mut c4 = app.candidate(4).await;
    c4.answer(0, Some("A")).await;
    let (status, _) = app.act(&sup, "/api/v1/sessions/T-1.P-0004/terminate", json!({ "reason": "joki" })).await;
    assert_eq!(status, 200);
    let (status, _) = app.act(&sup, "/api/v1/sittings/T-1/close", json!({ "reason": "sesi selesai" })).await;
    assert_eq!(status, 200);
    let store = app.store().clone();

    let export = server::results::export(&store, server::results::Scope::Sitting("T-1"), options(Some(1), false))
        .await
        .expect("export");
    let got: Vec<(Option<usize>, &str, i64, &str)> =
        export.lines.iter().map(|l| (l.rank, l.participant_no.as_str(), l.total, l.code.as_str())).collect();
    assert_eq!(got[0], (Some(1), "P-0001", 18, "P/L"));
    assert_eq!(got[1], (Some(1), "P-0002", 18, "P/L"), "tied with the first: same rank, same code");
    assert_eq!(got[2].3, "TL");
    assert_eq!(got[2].1, "P-0003");
    assert_eq!(got[3], (None, "P-0005", 0, "TH"), "never came: listed before the disqualified");
    assert_eq!(got[4].3, "DIS");
    assert!(export.lines.iter().all(|l| l.mismatch.is_none()));
    // The whole exam: a second sitting ("T-10", whose session ids a collation may sort
    // among T-1's) where P-0005 was booked and never came. Each sitting is loaded once
    // and the ranking is the first sitting's, with one more absent line among the absent.
    let spec = server::sitting::SittingSpec {
        id: "T-10".into(),
        exam_code: export.exam.clone(),
        venue: "Test".into(),
        starts_at: chrono::Utc::now(),
        candidates: vec![participant(5)],
    };
    server::sitting::prepare(&store, &spec, chrono::Utc::now()).await.expect("second sitting");
    let by_exam = server::results::export(&store, server::results::Scope::Exam(&export.exam), options(Some(1), true))
        .await
        .expect("export the exam");
    assert_eq!(by_exam.provisional, ["T-2 (prepared)", "T-10 (prepared)"], "never opened");
    let lines: Vec<(Option<usize>, &str, &str, i64, &str)> = by_exam
        .lines
        .iter()
        .map(|l| (l.rank, l.sitting.as_str(), l.participant_no.as_str(), l.total, l.code.as_str()))
        .collect();
    let mut expected: Vec<(Option<usize>, &str, &str, i64, &str)> =
        export.lines.iter().map(|l| (l.rank, "T-1", l.participant_no.as_str(), l.total, l.code.as_str())).collect();
    expected.insert(4, (None, "T-10", "P-0005", 0, "TH"));
    assert_eq!(lines, expected);

    // The same through the CLI, as CSV, once the server has stopped.
    let dir = app.dir.path().to_owned();
    let url = app.url.clone();
    app.shutdown().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ujian"))
        .args(["--data-dir", dir.to_str().expect("utf8"), "--database", &url, "results", "export", "--sitting", "T-1"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8_lossy(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("rank,participant_no,name,sitting,venue,K,W,total,passed,status,code,answer_cycling,irregularities")
    );
    assert_eq!(lines.next(), Some("1,P-0001,Peserta 1,T-1,Test,10,8,18,true,submitted,P,0,"));
}

/// Runs `ujian results export` on a test app's data; returns the exit code, stdout, stderr.
fn export_cli(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let dir = app.dir.path().to_str().expect("utf8").to_owned();
    let mut all = vec!["--data-dir", &dir, "--database", &app.url, "results", "export"];
    all.extend_from_slice(args);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ujian")).args(&all).output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_candidate_below_a_threshold_is_not_ranked_above_those_who_passed() {
    let app = TestApp::spawn(Setup::tiny(5)).await;
    let sup = app.staff("sup1").await;
    // Keyed items score 5 (best) or 0 (worst); weighted ones 4 (best) or 1 (worst).
    let keyed = |k: &(String, String, i64, i64)| k.2 == 5 && k.3 == 0;
    // P-0001: every keyed item right, every weighted one worst: 10 + 2 = 12, below W's 5.
    // P-0002: one keyed item right, one blank; weighted best then worst: 5 + 5 = 10, passes.
    // P-0003: everything best: 18, passes. P-0004 never comes; P-0005 is terminated.
    for i in 1..=3 {
        let mut c = app.candidate(i).await;
        let key = best_and_worst(&app, &format!("T-1.{}", participant(i))).await;
        let (mut k_seen, mut w_seen) = (0, 0);
        for (q, item) in key.iter().enumerate() {
            let (best, worst) = (item.0.as_str(), item.1.as_str());
            let choice = match (i, keyed(item)) {
                (1, true) => Some(best),
                (1, false) => Some(worst),
                (2, true) => {
                    k_seen += 1;
                    (k_seen == 1).then_some(best)
                }
                (2, false) => {
                    w_seen += 1;
                    Some(if w_seen == 1 { best } else { worst })
                }
                _ => Some(best),
            };
            if choice.is_some() {
                c.answer(q, choice).await;
            }
        }
        c.finish().await;
    }
    let mut c5 = app.candidate(5).await;
    let worst = best_and_worst(&app, "T-1.P-0005").await[0].1.clone();
    c5.answer(0, Some(&worst)).await;
    let (status, _) = app.act(&sup, "/api/v1/sessions/T-1.P-0005/terminate", json!({ "reason": "joki" })).await;
    assert_eq!(status, 200);
    let (status, _) = app.act(&sup, "/api/v1/sittings/T-1/close", json!({ "reason": "sesi selesai" })).await;
    assert_eq!(status, 200);

    let export = server::results::export(app.store(), server::results::Scope::Sitting("T-1"), options(Some(1), false))
        .await
        .expect("export");
    let got: Vec<(Option<usize>, &str, i64, &str)> =
        export.lines.iter().map(|l| (l.rank, l.participant_no.as_str(), l.total, l.code.as_str())).collect();
    assert_eq!(
        got,
        [
            (Some(1), "P-0003", 18, "P/L"),
            (Some(2), "P-0002", 10, "P/L"),
            (None, "P-0001", 12, "TL"),
            (None, "P-0004", 0, "TH"),
            (None, "P-0005", -1, "DIS"),
        ]
    );
}

#[tokio::test]
async fn an_export_while_candidates_are_still_working_is_refused_or_marked_provisional() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    let mut c = app.candidate(1).await;
    c.answer(0, Some("A")).await;

    let (code, out, err) = export_cli(&app, &["--sitting", "T-1"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.is_empty(), "nothing is written: {out}");
    assert!(err.contains("sitting T-1 (open) is not closed"), "{err}");
    assert!(err.contains("--provisional"), "{err}");

    let (code, out, err) = export_cli(&app, &["--sitting", "T-1", "--provisional"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("provisional export"), "{err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "provisional,rank,participant_no,name,sitting,venue,K,W,total,passed,status,code,answer_cycling,\
             irregularities"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|l| l.starts_with("PROVISIONAL,")), "{out}");

    // A sitting never opened would export everyone as absent: refused the same way.
    let (code, _, err) = export_cli(&app, &["--sitting", "T-2"]);
    assert_eq!(code, 1);
    assert!(err.contains("sitting T-2 (prepared) is not closed"), "{err}");
    let (code, out, err) = export_cli(&app, &["--sitting", "T-2", "--provisional", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["provisional"], json!(["T-2 (prepared)"]));
}
