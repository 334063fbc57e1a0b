//! QTI packages and items written for this project: every construct read, every planted
//! mistake reported in one run.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bank_formats::{Format, Import, Options, build, parse_bytes};
use item_bank::{Bank, Key, Label};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture folder as a zip package, its files in name order (the fixtures are kept
/// unpacked so that they can be read and reviewed).
pub(crate) fn zip_dir(dir: &str) -> Vec<u8> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).expect("fixture folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let name = path.strip_prefix(root).expect("inside").to_string_lossy().replace('\\', "/");
                out.push((name, std::fs::read(&path).expect("fixture file")));
            }
        }
    }
    let root = fixtures().join(dir);
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().last_modified_time(zip::DateTime::default());
    for (name, bytes) in files {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(&bytes).expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

fn run(file: &str, bytes: &[u8], skip_bad: bool) -> Import {
    let options = Options { name: "impor".into(), section: "TWK".into(), skip_bad };
    build::import_parsed(Format::Qti, file, parse_bytes(Format::Qti, file, bytes), &options, &mut |_, _| {})
}

fn bank(import: &Import) -> Bank {
    let problems: Vec<String> = import.report.problems.iter().map(ToString::to_string).collect();
    let source = import.source.clone().unwrap_or_else(|| panic!("no bank; problems:\n{}", problems.join("\n")));
    Bank::parse(source).expect("an imported bank passes bank validate")
}

fn label(s: &str) -> Label {
    Label::parse(s).expect("label")
}

fn points(key: &Key) -> Vec<i64> {
    match key {
        Key::Weighted(p) => p.iter().map(|p| p.0).collect(),
        other => panic!("weighted expected, got {other:?}"),
    }
}

#[test]
fn a_qti3_package_maps_every_construct() {
    let import = run("twk.zip", &zip_dir("qti3-paket"), false);
    let bank = bank(&import);
    let by_id = |id: &str| bank.items().iter().find(|i| i.id().as_str() == id).expect(id).clone();
    let ids: Vec<&str> = bank.items().iter().map(|i| i.id().as_str()).collect();
    assert_eq!(ids, ["PANC-1", "PANC-2", "SIKAP-1", "LEPAS-1"], "test order, then items outside the test");

    let p1 = by_id("PANC-1");
    assert_eq!(p1.topic().as_str(), "pancasila", "the section is the topic");
    assert_eq!(p1.section().as_str(), "TWK", "the import's section");
    assert_eq!(p1.stem(), "Bacalah pernyataan berikut dengan cermat.\n\nBunyi sila pertama Pancasila adalah ...");
    assert_eq!(p1.key(), &Key::Single(label("B")));
    assert!(!p1.pin_options(), "shuffle=true");
    assert_eq!(p1.explanation(), Some("Sila pertama menegaskan dasar ketuhanan."), "modal feedback");

    let p2 = by_id("PANC-2");
    assert!(p2.pin_options(), "a fixed choice pins the item's options");
    assert_eq!(p2.image(), Some("garuda.svg"));
    assert_eq!(p2.options()[1].image(), Some("pita.svg"));
    assert_eq!(p2.options()[1].text(), "");
    assert!(bank.asset("garuda.svg").is_some_and(|b| b.starts_with(b"<svg")), "images come from the package");

    let s1 = by_id("SIKAP-1");
    assert_eq!(s1.topic().as_str(), "pelayanan-publik", "the innermost section");
    assert_eq!(points(s1.key()), [5, 3, 4, 1], "the mapping's points; unmapped choices take the default");
    assert!(s1.pin_options(), "shuffle=false");
    assert_eq!(s1.difficulty(), Some(3), "category difficulty-3 on the item reference");

    assert_eq!(by_id("LEPAS-1").topic().as_str(), "umum");

    let skipped: Vec<(String, &str)> = import
        .report
        .skipped
        .iter()
        .map(|s| (format!("{}:{}", s.part.as_deref().unwrap_or(""), s.line), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("twk.zip/soal/isian.xml:2".to_owned(), "text-entry-interaction"),
            ("twk.zip/soal/pilih-banyak.xml:2".to_owned(), "multiple response (max-choices 0)"),
        ]
    );
    assert_eq!(
        import.report.imported,
        [("pancasila".to_owned(), 2), ("pelayanan-publik".to_owned(), 1), ("umum".to_owned(), 1)]
    );
}

#[test]
fn a_qti21_package_maps_every_construct() {
    let import = run("tiu.zip", &zip_dir("qti21-paket"), false);
    let bank = bank(&import);
    let items = bank.items();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].id().as_str(), "deret-1");
    assert_eq!(items[0].topic().as_str(), "deret-angka");
    assert_eq!(items[0].key(), &Key::Single(label("C")), "correctResponse ChoiceC is the third choice");
    assert_eq!(items[0].explanation(), Some("Setiap suku dikali 2."));
    assert_eq!(items[1].topic().as_str(), "figural");
    assert_eq!(items[1].key(), &Key::Single(label("B")), "match_correct: the mapping is not the score");
    assert_eq!(items[1].image(), Some("kubus.png"), "an object element's image");
    assert_eq!(items[1].stem(), "Berapa banyak sisi bangun ini?");
    assert_eq!(items[1].difficulty(), Some(4));
    assert!(items[1].pin_options());
}

#[test]
fn a_single_qti_item_file_is_read_without_a_package() {
    let text = std::fs::read_to_string(fixtures().join("qti21-soal.xml")).expect("fixture");
    assert_eq!(Format::detect("qti21-soal.xml", &text), Some(Format::Qti));
    let import = run("qti21-soal.xml", text.as_bytes(), false);
    let bank = bank(&import);
    assert_eq!(bank.items()[0].stem(), "Sinonim kata cermat adalah ...");
    assert_eq!(bank.items()[0].key(), &Key::Single(label("A")));
}

#[test]
fn every_planted_qti_mistake_is_reported_in_one_run_and_nothing_is_written() {
    let package = zip_dir("qti3-rusak");
    assert_eq!(Format::detect_bytes("kiriman.bin", &package), Some(Format::Qti), "a zip is a QTI package");
    let import = run("rusak.zip", &package, false);
    assert!(import.source.is_none());
    let got: Vec<String> = import.report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "rusak.zip/b1.xml:2: item B1: no key: no answer is marked correct",
            "rusak.zip/b2.xml:10: item B2: two keys: answers 1, 2 are all marked correct",
            "rusak.zip/b3.xml:8: item B3: image \"peta.png\" is missing from the package",
            "rusak.zip/b3.xml:10: item B3: answer 2 has no text",
            "rusak.zip/b4.xml:4: item B4: mapped value \"lima\" is not a number",
            "rusak.zip/b5.xml:4: item B5: correct response \"Z\" is not one of the choices",
            "rusak.zip/b6.xml:11: not well-formed XML: ill-formed document: expected `</qti-choice-interaction>`, but `</qti-choice>` was found",
            "rusak.zip/imsmanifest.xml:11: item file \"hilang.xml\" is missing from the package",
        ],
        "problems were:\n{}",
        got.join("\n")
    );
    let ok = run("rusak.zip", &package, true);
    let bank = bank(&ok);
    assert_eq!(bank.items().iter().map(|i| i.id().as_str()).collect::<Vec<_>>(), ["OK"]);
}

#[test]
fn a_qti_package_imported_twice_gives_the_same_bank_hash() {
    let first = bank(&run("twk.zip", &zip_dir("qti3-paket"), false));
    let second = bank(&run("twk.zip", &zip_dir("qti3-paket"), false));
    assert_eq!(first.hash(), second.hash());
}
