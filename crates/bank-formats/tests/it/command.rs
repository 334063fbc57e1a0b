//! `ujian bank import` and `ujian bank export` as the CLI runs them: files in, files out.

use std::path::PathBuf;

use bank_formats::command::{self, CommandError, ExportArgs, ImportArgs};
use item_bank::Bank;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn import_args(file: PathBuf, out: PathBuf) -> ImportArgs {
    ImportArgs { format: None, file, out, skip_bad: false, section: "UMUM".into(), name: None }
}

#[test]
fn an_export_imported_by_the_command_is_the_same_bank_under_its_own_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let original = Bank::load(&repo("question-banks/skd")).expect("skd");
    for (format, file) in [("qti3", "skd.zip"), ("moodle-xml", "skd.xml")] {
        let exported = tmp.path().join(file);
        let args = ExportArgs { format: format.into(), bank: repo("question-banks/skd"), out: exported.clone() };
        let outcome = command::export(&args).expect("export");
        assert_eq!(outcome.hash, *original.hash());
        assert!(outcome.to_string().starts_with(&format!("wrote 220 items as {format} to ")), "{outcome}");

        // The folder's name differs from the bank's: the export's own name is kept.
        let out = tmp.path().join(format!("kembali-{format}"));
        let imported = command::import(&import_args(exported, out.clone())).expect("import");
        let written = imported.written.as_ref().expect("written");
        assert_eq!(&written.hash, original.hash(), "{format}: {imported}");
        assert_eq!(Bank::load(&out).expect("the written bank loads").name(), "skd");
        let summary = imported.to_string();
        assert!(summary.contains("imported    12  topic nasionalisme"), "{summary}");
    }
}

#[test]
fn a_file_with_mistakes_writes_nothing_and_the_summary_says_why() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("bank");
    let args = import_args(repo("crates/bank-formats/tests/fixtures/broken.xml"), out.clone());
    let outcome = command::import(&args).expect("the command runs");
    assert!(outcome.written.is_none());
    assert!(!out.exists(), "nothing written");
    assert_eq!(outcome.problems().len(), 8);
    let refusal = outcome.refusal().expect("nothing written");
    assert_eq!(refusal, "8 problems found; nothing written (fix them, or pass --skip-bad to import the rest)");
    let summary = outcome.to_string();
    assert!(summary.contains("skipped      5  invalid (lines 3, 9, 15, 21, 27)"), "{summary}");

    let outcome = command::import(&ImportArgs { skip_bad: true, ..args }).expect("the command runs");
    assert_eq!(outcome.written.as_ref().map(|w| w.items), Some(1));
    assert_eq!(Bank::load(&out).expect("loads").name(), "bank", "named after the folder");
}

#[test]
fn the_command_refuses_what_it_cannot_do_before_writing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = repo("crates/bank-formats/tests/fixtures/soal.gift");
    let full = tmp.path().to_owned();
    std::fs::write(full.join("ada.txt"), "x").expect("write");
    let refused = command::import(&import_args(file.clone(), full.clone()));
    assert!(matches!(refused, Err(CommandError::OutNotEmpty(_))), "{refused:?}");
    let unknown =
        command::import(&ImportArgs { format: Some("word".into()), ..import_args(file, tmp.path().join("b")) });
    assert!(matches!(unknown, Err(CommandError::UnknownFormat(..))), "{unknown:?}");
    let export =
        command::export(&ExportArgs { format: "pdf".into(), bank: repo("question-banks/skd"), out: full.join("x") });
    assert!(matches!(export, Err(CommandError::UnknownFormat(..))), "{export:?}");
}
