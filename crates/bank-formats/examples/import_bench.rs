//! Imports 10,000 generated Moodle XML questions through `ujian bank import`'s command and
//! checks it takes under 5 seconds (docs/benchmarks.md).
//!
//! `cargo run --release -p bank-formats --example import_bench [-- COUNT]`

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bank_formats::command::{ImportArgs, import_with_progress};

const LIMIT: Duration = Duration::from_secs(5);
const TOPICS: [&str; 5] = ["Pancasila", "UUD 1945", "Bela Negara", "Deret Angka", "Pelayanan Publik"];

/// A quiz of `n` questions in the shapes committees export: HTML stems, categories,
/// single-key items with a penalty, weighted items (graded fractions), general feedback.
fn quiz(n: usize) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n");
    for i in 0..n {
        if i % 2000 == 0 {
            let topic = TOPICS[(i / 2000) % TOPICS.len()];
            let _ = writeln!(
                out,
                "  <question type=\"category\"><category><text>$course$/top/Latihan/{topic}</text></category></question>"
            );
        }
        let weighted = i % 3 == 0;
        let _ = writeln!(out, "  <question type=\"multichoice\">\n    <name><text>SOAL-{i:05}</text></name>");
        let _ = writeln!(
            out,
            "    <questiontext format=\"html\"><text><![CDATA[<p>Soal nomor <b>{i}</b>: manakah pernyataan yang paling tepat tentang butir {i}?</p>]]></text></questiontext>"
        );
        let _ = writeln!(
            out,
            "    <generalfeedback format=\"html\"><text><![CDATA[<p>Pembahasan soal {i}.</p>]]></text></generalfeedback>"
        );
        out.push_str("    <single>true</single>\n");
        let fractions: [&str; 5] =
            if weighted { ["100", "80", "60", "40", "20"] } else { ["100", "-25", "0", "0", "0"] };
        for (k, f) in fractions.iter().enumerate() {
            let _ = writeln!(
                out,
                "    <answer fraction=\"{f}\" format=\"html\"><text>Pilihan {k} untuk soal {i}</text></answer>"
            );
        }
        out.push_str("  </question>\n");
    }
    out.push_str("</quiz>\n");
    out
}

fn main() -> ExitCode {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot make a temporary folder: {e}");
            return ExitCode::FAILURE;
        }
    };
    let file = dir.path().join("ekspor-moodle.xml");
    let text = quiz(n);
    if let Err(e) = std::fs::write(&file, &text) {
        eprintln!("cannot write {}: {e}", file.display());
        return ExitCode::FAILURE;
    }
    let bar = indicatif::ProgressBar::new(n as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} questions")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("importing");
    let args = ImportArgs {
        format: None,
        file,
        out: dir.path().join("bank"),
        skip_bad: false,
        section: "UMUM".into(),
        name: None,
    };
    let start = Instant::now();
    let outcome = import_with_progress(&args, &mut |done, _| bar.set_position(done as u64));
    let took = start.elapsed();
    bar.finish_and_clear();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("import failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{outcome}");
    let items = outcome.written.as_ref().map_or(0, |w| w.items);
    println!(
        "imported {items} of {n} Moodle XML questions ({:.1} MB) in {:.2} s ({:.0} questions/s); limit {} s",
        text.len() as f64 / 1e6,
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        LIMIT.as_secs()
    );
    if items != n || took >= LIMIT {
        eprintln!("FAILED: every question must be imported in under {} s", LIMIT.as_secs());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
