//! Result exports: rescored from the answer logs, ranked, with announcement codes.

use serde_json::json;

use crate::helpers::{Setup, TestApp, best_and_worst, participant};

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
    let store = app.store().clone();

    let export =
        server::results::export(&store, server::results::Scope::Sitting("T-1"), Some(1), 3).await.expect("export");
    let got: Vec<(Option<usize>, &str, i64, &str)> =
        export.lines.iter().map(|l| (l.rank, l.participant_no.as_str(), l.total, l.code.as_str())).collect();
    assert_eq!(got[0], (Some(1), "P-0001", 18, "P/L"));
    assert_eq!(got[1], (Some(1), "P-0002", 18, "P/L"), "tied with the first: same rank, same code");
    assert_eq!(got[2].3, "TL");
    assert_eq!(got[2].1, "P-0003");
    assert_eq!(got[3].3, "DIS");
    assert_eq!(got[4], (None, "P-0005", 0, "TH"), "never came");
    assert!(export.lines.iter().all(|l| l.mismatch.is_none()));
    // The whole exam: a second sitting ("T-10", whose session ids a collation may sort
    // among T-1's) where P-0005 was booked and never came. Each sitting is loaded once
    // and the ranking is the first sitting's, with one more absent line.
    let spec = server::sitting::SittingSpec {
        id: "T-10".into(),
        exam_code: export.exam.clone(),
        venue: "Test".into(),
        starts_at: chrono::Utc::now(),
        candidates: vec![participant(5)],
    };
    server::sitting::prepare(&store, &spec, chrono::Utc::now()).await.expect("second sitting");
    let by_exam = server::results::export(&store, server::results::Scope::Exam(&export.exam), Some(1), 3)
        .await
        .expect("export the exam");
    let lines: Vec<(Option<usize>, &str, &str, i64, &str)> = by_exam
        .lines
        .iter()
        .map(|l| (l.rank, l.sitting.as_str(), l.participant_no.as_str(), l.total, l.code.as_str()))
        .collect();
    let mut expected: Vec<(Option<usize>, &str, &str, i64, &str)> =
        export.lines.iter().map(|l| (l.rank, "T-1", l.participant_no.as_str(), l.total, l.code.as_str())).collect();
    expected.push((None, "T-10", "P-0005", 0, "TH"));
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
        Some("rank,participant_no,name,sitting,venue,K,W,total,passed,status,code,answer_cycling")
    );
    assert_eq!(lines.next(), Some("1,P-0001,Peserta 1,T-1,Test,10,8,18,true,submitted,P,0"));
}
