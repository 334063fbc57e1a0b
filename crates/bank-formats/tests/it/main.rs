//! Imports of the fixtures written for this project, every planted mistake, and the
//! property that no input makes an importer panic or reject without a position.

mod command;
mod qti;
mod round_trip;

use std::path::PathBuf;

use bank_formats::{Format, Import, Options, import};
use item_bank::{Bank, Key, Label};
use proptest::prelude::*;

fn fixture(name: &str) -> (String, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    (name.to_owned(), text)
}

fn options(skip_bad: bool) -> Options {
    Options { name: "impor".into(), section: "UMUM".into(), skip_bad }
}

fn run(format: Format, name: &str, skip_bad: bool) -> Import {
    let (file, text) = fixture(name);
    import(format, &file, &text, &options(skip_bad))
}

fn bank(import: &Import) -> Bank {
    let source = import.source.clone().expect("the import writes a bank");
    Bank::parse(source).expect("an imported bank passes bank validate")
}

fn problems(import: &Import) -> Vec<String> {
    import.report.problems.iter().map(ToString::to_string).collect()
}

#[track_caller]
fn assert_exactly(import: &Import, expected: &[&str]) {
    let got = problems(import);
    assert_eq!(got, expected, "problems were:\n{}", got.join("\n"));
}

fn label(s: &str) -> Label {
    Label::parse(s).expect("label")
}

#[test]
fn an_aiken_file_becomes_single_items_with_their_keys() {
    let import = run(Format::Aiken, "soal.aiken.txt", false);
    let bank = bank(&import);
    let items = bank.items();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].key(), &Key::Single(label("A")));
    assert_eq!(items[0].options()[2].text(), "Surabaya", "A) labels read like A.");
    assert_eq!(items[1].key(), &Key::Single(label("B")));
    assert_eq!(items[2].stem(), "Pilih bilangan prima\ndi bawah ini.");
    assert_eq!(items[2].id().as_str(), "UMUM-0003");
    assert_eq!(import.report.imported, vec![("umum".to_owned(), 3)]);
}

#[test]
fn every_planted_aiken_mistake_is_reported_in_one_run_and_nothing_is_written() {
    let import = run(Format::Aiken, "broken.aiken.txt", false);
    assert!(import.source.is_none());
    assert_exactly(
        &import,
        &[
            "broken.aiken.txt:3: no ANSWER line: the question has no key",
            "broken.aiken.txt:8: ANSWER \"E\" is not one of the options (A, B)",
            "broken.aiken.txt:12: option C out of order: expected B",
            "broken.aiken.txt:16: answer 1 has no text",
            "broken.aiken.txt:20: no options: a question needs options A. B. ... and an ANSWER line",
            "broken.aiken.txt:27: a second ANSWER line (a question has one key)",
        ],
    );
}

#[test]
fn skip_bad_imports_the_good_aiken_questions_and_lists_the_bad_ones() {
    let import = run(Format::Aiken, "broken.aiken.txt", true);
    let bank = bank(&import);
    assert_eq!(bank.items().len(), 1);
    assert_eq!(bank.items()[0].stem(), "Soal yang benar.");
    let skipped = import.report.skipped_by_reason();
    assert_eq!(skipped.get("invalid").map(Vec::len), Some(6), "{skipped:?}");
}

#[test]
fn a_gift_file_maps_every_construct() {
    let import = run(Format::Gift, "soal.gift", false);
    let bank = bank(&import);
    let by_id = |id: &str| bank.items().iter().find(|i| i.id().as_str() == id).expect(id).clone();

    let panc1 = by_id("PANC-01");
    assert_eq!(panc1.topic().as_str(), "wawasan-kebangsaan-pancasila", "$CATEGORY is the topic");
    assert_eq!(panc1.key(), &Key::Single(label("A")));
    assert_eq!(panc1.options()[1].text(), "Kemanusiaan yang adil dan beradab", "answer feedback is dropped");
    assert_eq!(panc1.explanation(), Some("Sila pertama menegaskan dasar ketuhanan."));

    let panc2 = by_id("PANC-02");
    assert_eq!(panc2.options().iter().map(|o| o.text()).collect::<Vec<_>>(), ["Benar", "Salah"]);
    assert_eq!(panc2.key(), &Key::Single(label("A")));
    assert!(panc2.pin_options(), "true stays before false");
    assert_eq!(panc2.explanation(), Some("Disahkan oleh PPKI."));

    let missing_word = by_id("UMUM-0003");
    assert_eq!(missing_word.stem(), "Garuda Pancasila adalah _____ Indonesia.");
    assert_eq!(missing_word.key(), &Key::Single(label("B")));

    let tkp = by_id("TKP-01");
    assert_eq!(tkp.topic().as_str(), "karakteristik-pribadi");
    let points: Vec<i64> = match tkp.key() {
        Key::Weighted(p) => p.iter().map(|p| p.0).collect(),
        other => panic!("weighted expected, got {other:?}"),
    };
    assert_eq!(points, [100, 50, 0], "percent weights are kept as points");

    let escaped = by_id("UMUM-0005");
    assert_eq!(escaped.stem(), "Tanda kurung kurawal { dan } serta sama dengan = ditulis dengan garis miring. Benar?");
    assert_eq!(escaped.key(), &Key::Single(label("B")), "{{FALSE}} keys Salah");

    assert_eq!(by_id("HTML-01").stem(), "Hasil dari 2^3 adalah ...", "[html] stems are reduced to text");

    assert_eq!(bank.items().len(), 6);
    let skipped: Vec<(usize, &str)> = import.report.skipped.iter().map(|s| (s.line, s.reason.as_str())).collect();
    assert_eq!(
        skipped,
        [(26, "essay"), (28, "numerical"), (30, "short answer"), (32, "matching"), (34, "description (no answers)"),]
    );
    assert!(import.report.problems.is_empty());
}

#[test]
fn every_planted_gift_mistake_is_reported_in_one_run_and_nothing_is_written() {
    let import = run(Format::Gift, "broken.gift", false);
    assert!(import.source.is_none());
    assert_exactly(
        &import,
        &[
            "broken.gift:3: item B1: no key: no answer is marked correct",
            "broken.gift:5: item B2: two keys: answers 1, 2 are all marked correct",
            "broken.gift:7: item B3: answer 2 has no text",
            "broken.gift:9: item B4: weight -50% is outside 0..100% (a ujian option earns 0 to 100 points)",
            "broken.gift:11: item B5: has 6 answer(s); a ujian item has 2 to 5 options",
            "broken.gift:13: the answers' closing } is missing",
            "broken.gift:15: weight %lima% is not a number",
            "broken.gift:19: 1 image(s) in the HTML stem; GIFT cannot carry their files",
        ],
    );
    let ok = run(Format::Gift, "broken.gift", true);
    let bank = bank(&ok);
    assert_eq!(bank.items().iter().map(|i| i.id().as_str()).collect::<Vec<_>>(), ["OK1"]);
}

#[test]
fn importing_the_same_file_twice_gives_the_same_bank_hash() {
    for (format, name) in
        [(Format::Aiken, "soal.aiken.txt"), (Format::Gift, "soal.gift"), (Format::MoodleXml, "soal.xml")]
    {
        let first = bank(&run(format, name, false));
        let second = bank(&run(format, name, false));
        assert_eq!(first.hash(), second.hash(), "{name}");
    }
}

#[test]
fn the_format_is_detected_from_the_file() {
    let (_, aiken) = fixture("soal.aiken.txt");
    let (_, gift) = fixture("soal.gift");
    assert_eq!(Format::detect("soal.txt", &aiken), Some(Format::Aiken));
    assert_eq!(Format::detect("soal.txt", &gift), Some(Format::Gift));
    assert_eq!(Format::detect("x.gift", ""), Some(Format::Gift));
    assert_eq!(Format::detect("notes.txt", "just words"), None);
    assert_eq!(Format::detect("ekspor.xml", ""), Some(Format::MoodleXml));
}

fn gift_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("=".to_owned()),
        Just("~".to_owned()),
        Just("%".to_owned()),
        Just("#".to_owned()),
        Just("::".to_owned()),
        Just("\\".to_owned()),
        Just("\n".to_owned()),
        Just("\n\n".to_owned()),
        Just("$CATEGORY: a/b\n".to_owned()),
        Just("ANSWER: A\n".to_owned()),
        Just("A. ".to_owned()),
        Just("B) ".to_owned()),
        Just("->".to_owned()),
        Just("<quiz>".to_owned()),
        Just("<question type=\"multichoice\">".to_owned()),
        Just("<question type=\"truefalse\">".to_owned()),
        Just("</question>".to_owned()),
        Just("<answer fraction=\"100\"><text>".to_owned()),
        Just("<questiontext><text>".to_owned()),
        Just("</text>".to_owned()),
        Just("</answer>".to_owned()),
        Just("&amp;".to_owned()),
        Just("<img src=\"@@PLUGINFILE@@/a.png\">".to_owned()),
        Just("T".to_owned()),
        Just("<qti-assessment-item identifier=\"a\">".to_owned()),
        Just("<assessmentItem identifier=\"b\">".to_owned()),
        Just("<qti-item-body>".to_owned()),
        Just("<qti-choice-interaction max-choices=\"1\" shuffle=\"true\">".to_owned()),
        Just("<qti-simple-choice identifier=\"A\" fixed=\"true\">".to_owned()),
        Just("</qti-simple-choice>".to_owned()),
        Just("<qti-response-declaration identifier=\"RESPONSE\">".to_owned()),
        Just("<qti-correct-response><qti-value>A</qti-value></qti-correct-response>".to_owned()),
        Just("<qti-mapping><qti-map-entry map-key=\"A\" mapped-value=\"5\"/></qti-mapping>".to_owned()),
        Just("<div xml:space=\"preserve\">".to_owned()),
        Just("<img src=\"x.png\"/>".to_owned()),
        "[ a-zé0-9%.-]{0,6}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn importers_never_panic_and_every_rejection_has_a_line(text in prop_oneof![gift_like(), any::<String>()]) {
        for format in Format::ALL {
            for skip_bad in [false, true] {
                let import = import(format, "x.txt", &text, &options(skip_bad));
                for d in &import.report.problems {
                    prop_assert!(d.line.is_some(), "{d}");
                }
                match &import.source {
                    Some(source) => prop_assert!(Bank::parse(source.clone()).is_ok()),
                    None => prop_assert!(!import.report.problems.is_empty()),
                }
            }
        }
    }
}

/// A package with bytes changed, cut short or left whole: the reader must not panic, and
/// whatever it refuses it refuses with a position.
fn damaged_package() -> impl Strategy<Value = Vec<u8>> {
    let package = qti::zip_dir("qti3-paket");
    let len = package.len();
    (prop::collection::vec((0..len, any::<u8>()), 0..8), len / 2..=len).prop_map(move |(flips, keep)| {
        let mut bytes = package.clone();
        for (at, b) in flips {
            bytes[at] = b;
        }
        bytes.truncate(keep);
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn damaged_packages_and_arbitrary_bytes_never_panic_and_every_rejection_has_a_line(
        bytes in prop_oneof![damaged_package(), any::<Vec<u8>>()]
    ) {
        for format in Format::ALL {
            let parsed = bank_formats::parse_bytes(format, "x.zip", &bytes);
            let import = bank_formats::build::import_parsed(format, "x.zip", parsed, &options(false), &mut |_, _| {});
            for d in &import.report.problems {
                prop_assert!(d.line.is_some(), "{d}");
            }
            match &import.source {
                Some(source) => prop_assert!(Bank::parse(source.clone()).is_ok()),
                None => prop_assert!(!import.report.problems.is_empty()),
            }
        }
    }
}

#[test]
fn a_moodle_xml_file_maps_every_construct() {
    let import = run(Format::MoodleXml, "soal.xml", false);
    assert!(import.report.problems.is_empty(), "{:?}", problems(&import));
    let bank = bank(&import);
    let by_id = |id: &str| bank.items().iter().find(|i| i.id().as_str() == id).expect(id).clone();

    let tiu1 = by_id("TIU-01");
    assert_eq!(tiu1.topic().as_str(), "tes-intelegensia-umum-numerik", "the category is the topic");
    assert_eq!(tiu1.stem(), "Hitunglah nilai x jika x^2 = 49 dan x > 0.", "HTML reduced, script removed");
    assert_eq!(tiu1.key(), &Key::Single(label("A")), "the 100% answer is the key; the penalty is dropped");
    assert_eq!(tiu1.explanation(), Some("Akar positif dari 49 adalah 7."), "general feedback");

    let tiu2 = by_id("TIU-02");
    assert_eq!(tiu2.stem(), "Perhatikan gambar berikut.\n\n- baris pertama\n- baris kedua\n\na | b");
    let image = tiu2.image().expect("the embedded image");
    assert_eq!(bank.asset(image).map(|b| &b[..4]), Some(&b"\x89PNG"[..]), "base64 decoded into assets");

    let tkp1 = by_id("TKP-01");
    let points: Vec<i64> = match tkp1.key() {
        Key::Weighted(p) => p.iter().map(|p| p.0).collect(),
        other => panic!("weighted expected, got {other:?}"),
    };
    assert_eq!(points, [100, 75, 33, 0], "graded fractions kept as rounded percent points");
    assert!(tkp1.pin_options(), "shuffleanswers 0 pins the options");
    assert!(!tiu1.pin_options());

    let tkp2 = by_id("TKP-02");
    assert_eq!(tkp2.options().iter().map(|o| o.text()).collect::<Vec<_>>(), ["Benar", "Salah"]);
    assert_eq!(tkp2.stem(), "Kerja sama tim & komunikasi penting dalam pelayanan publik.");

    let skipped: Vec<(usize, &str)> = import.report.skipped.iter().map(|s| (s.line, s.reason.as_str())).collect();
    assert_eq!(skipped, [(47, "essay"), (51, "matching"), (55, "multichoice with several answers")]);
}

#[test]
fn every_planted_moodle_mistake_is_reported_in_one_run_and_nothing_is_written() {
    let import = run(Format::MoodleXml, "broken.xml", false);
    assert!(import.source.is_none());
    assert_exactly(
        &import,
        &[
            "broken.xml:3: item X1: no key: no answer is marked correct",
            "broken.xml:13: item X2: two keys: answers 1, 2 are all marked correct",
            "broken.xml:17: item X3: image \"hilang.png\" is missing from the file",
            "broken.xml:19: item X3: answer 2 has no text",
            "broken.xml:24: item X4: fraction \"seratus\" is not a number",
            "broken.xml:31: item X5: image \"rusak.png\" is not valid base64: Invalid symbol 33, offset 0.",
            "broken.xml:33: item X5: image \"skrip.exe\" is not an svg, png, jpg or webp file",
            "broken.xml:33: item X5: answer 1 has no text",
        ],
    );
    let ok = run(Format::MoodleXml, "broken.xml", true);
    let bank = bank(&ok);
    assert_eq!(bank.items().iter().map(|i| i.id().as_str()).collect::<Vec<_>>(), ["OK"]);
    let invalid = ok.report.skipped_by_reason().get("invalid").cloned();
    assert_eq!(invalid, Some(vec![3, 9, 15, 21, 27]));
}

#[test]
fn malformed_xml_is_reported_at_its_line() {
    let text = "<quiz>\n<question type=\"multichoice\">\n</quiz>\n";
    let import = import(Format::MoodleXml, "x.xml", text, &options(false));
    let got = problems(&import);
    assert!(got.first().is_some_and(|p| p.starts_with("x.xml:3: not well-formed XML")), "{got:?}");
}
