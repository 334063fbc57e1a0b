//! ujian → QTI 3 → ujian and ujian → Moodle XML → ujian keep the bank hash, for the
//! sample banks (images, weighted items, pinned options, difficulties, several sections).

use std::path::PathBuf;

use bank_formats::{Format, Options, build, export, parse_bytes};
use item_bank::Bank;

fn sample(name: &str) -> Bank {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../question-banks").join(name);
    Bank::load(&dir).expect("sample bank loads")
}

fn reimport(bank: &Bank, format: Format, file: &str, bytes: &[u8]) -> Bank {
    let parsed = parse_bytes(format, file, bytes);
    assert_eq!(parsed.bank.as_ref().map(|m| m.name.as_str()), Some(bank.name()), "the export names its bank");
    let options = Options { name: bank.name().to_owned(), section: "UMUM".into(), skip_bad: false };
    let import = build::import_parsed(format, file, parsed, &options, &mut |_, _| {});
    let problems: Vec<String> = import.report.problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(import.report.skipped.is_empty(), "{:?}", import.report.skipped);
    Bank::parse(import.source.expect("a bank")).expect("the reimport validates")
}

#[track_caller]
fn assert_same(original: &Bank, back: &Bank) {
    for (a, b) in original.items().iter().zip(back.items()) {
        assert_eq!(a.id(), b.id());
        assert_eq!(a.section(), b.section(), "{}", a.id());
        assert_eq!(a.topic(), b.topic(), "{}", a.id());
        assert_eq!(a.difficulty(), b.difficulty(), "{}", a.id());
        assert_eq!(a.stem(), b.stem(), "{}", a.id());
        assert_eq!(a.image(), b.image(), "{}", a.id());
        assert_eq!(a.options(), b.options(), "{}", a.id());
        assert_eq!(a.key(), b.key(), "{}", a.id());
        assert_eq!(a.pin_options(), b.pin_options(), "{}", a.id());
        assert_eq!(a.explanation().map(str::trim), b.explanation().map(str::trim), "{}", a.id());
    }
    assert_eq!(original.items().len(), back.items().len());
    assert_eq!(original.version(), back.version());
    assert_eq!(original.title(), back.title());
    assert_eq!(original.hash(), back.hash());
}

#[test]
fn ujian_to_qti3_to_ujian_keeps_the_bank_hash() {
    for name in ["skd", "sample-en"] {
        let bank = sample(name);
        let package = export::qti3(&bank);
        assert_eq!(package, export::qti3(&bank), "the same bank gives the same bytes");
        let back = reimport(&bank, Format::Qti, "ekspor.zip", &package);
        assert_same(&bank, &back);
    }
}

#[test]
fn ujian_to_moodle_xml_to_ujian_keeps_the_bank_hash() {
    for name in ["skd", "sample-en"] {
        let bank = sample(name);
        let xml = export::moodle_xml(&bank);
        let back = reimport(&bank, Format::MoodleXml, "ekspor.xml", xml.as_bytes());
        assert_same(&bank, &back);
    }
}
