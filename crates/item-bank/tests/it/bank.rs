use item_bank::{Bank, BankError, BankSource, Key, Label};

use crate::{fixture, repo};

fn errors_of(dir: &str) -> Vec<String> {
    match Bank::load(&fixture(dir)) {
        Err(BankError::Invalid(d)) => d.iter().map(|d| d.to_string()).collect(),
        other => panic!("expected validation errors, got {other:?}"),
    }
}

#[track_caller]
fn assert_reported(errors: &[String], expected: &str) {
    assert!(
        errors.iter().any(|e| e.contains(expected)),
        "no error contains {expected:?}; errors were:\n{}",
        errors.join("\n")
    );
}

#[test]
fn every_planted_mistake_is_reported_with_file_and_line() {
    let errors = errors_of("broken");
    let f = fixture("broken").display().to_string();
    for expected in [
        format!("{f}/bank.toml:3: files: \"missing.toml\" does not exist"),
        format!("{f}/items.toml:21: item BAD-001: text: option E has no text"),
        format!("{f}/items.toml:28: item BAD-002: answer: \"F\" is not one of the options (A, B)"),
        format!("{f}/items.toml:35: item BAD-003: anwser: unknown field"),
        format!("{f}/items.toml:31: item BAD-003: answer: missing"),
        format!("{f}/items.toml:38: item OK-001: id: repeated: first used at {f}/items.toml:4"),
        format!("{f}/items.toml:47: item BAD-005: topic: \"Bela Negara\" must be lower case"),
        format!("{f}/items.toml:50: item BAD-005: points: option B has no points"),
        format!("{f}/items.toml:55: item BAD-006: difficulty: 9 is outside 1..5"),
        format!("{f}/items.toml:59: item BAD-006: label: \"C\" out of order: expected B"),
    ] {
        assert_reported(&errors, &expected);
    }
    assert_eq!(errors.len(), 10, "unexpected extra errors:\n{}", errors.join("\n"));
}

#[test]
fn a_missing_image_is_reported() {
    let mut source = BankSource::read_dir(&fixture("tiny")).expect("read");
    source.assets.clear();
    let errors: Vec<String> = Bank::parse(source).expect_err("must fail").iter().map(|d| d.to_string()).collect();
    assert_reported(&errors, "item K-1: image: \"dot.svg\" is not in");
}

#[test]
fn toml_syntax_errors_name_their_line() {
    let mut source = BankSource::read_dir(&fixture("tiny")).expect("read");
    source.files.insert("items.toml".into(), "section = \"K\"\n\n[[item]\nid = 1\n".into());
    let errors: Vec<String> = Bank::parse(source).expect_err("must fail").iter().map(|d| d.to_string()).collect();
    assert!(errors.iter().any(|e| e.contains("items.toml:3: TOML syntax")), "{errors:?}");
}

#[test]
fn wrong_types_are_reported_and_do_not_hide_other_errors() {
    let mut source = BankSource::read_dir(&fixture("tiny")).expect("read");
    source.files.insert(
        "items.toml".into(),
        r#"
[[item]]
id = "X-1"
section = "K"
topic = "alpha"
difficulty = "hard"
stem = "s"
answer = "A"
options = [{ label = "A", text = "a" }, { label = "B", text = 2 }]

[[item]]
id = "X-2"
section = "K"
topic = "alpha"
stem = ""
answer = "A"
options = [{ label = "A", text = "a" }]
"#
        .into(),
    );
    let errors: Vec<String> = Bank::parse(source).expect_err("must fail").iter().map(|d| d.to_string()).collect();
    assert_reported(&errors, "items.toml:6: item X-1: difficulty: expected a whole number, found a string");
    assert_reported(&errors, "items.toml:9: item X-1: text: expected a string, found a whole number");
    assert_reported(&errors, "items.toml:15: item X-2: stem: is empty");
    assert_reported(&errors, "items.toml:17: item X-2: options: has 1 options");
}

#[test]
fn the_tiny_bank_loads_with_its_kinds_and_assets() {
    let bank = Bank::load(&fixture("tiny")).expect("tiny bank is valid");
    assert_eq!(bank.name(), "tiny");
    assert_eq!(bank.items().len(), 5);
    let k1 = &bank.items()[0];
    assert_eq!(k1.key(), &Key::Single(Label::parse("A").expect("label")));
    assert_eq!(k1.image(), Some("dot.svg"));
    assert!(bank.asset("dot.svg").is_some());
    assert!(bank.items()[2].pin_options());
    let w1 = &bank.items()[3];
    assert_eq!(w1.section().as_str(), "W");
    assert_eq!(w1.max_weight().map(|p| p.0), Some(4));
}

#[test]
fn the_skd_sample_bank_is_valid_and_large_enough() {
    let bank = Bank::load(&repo("question-banks/skd")).unwrap_or_else(|e| panic!("{e}"));
    let counts = bank.counts();
    let per_section = |code: &str| -> usize {
        counts.iter().find(|(s, _)| s.as_str() == code).map_or(0, |(_, t)| t.iter().map(|(_, n)| n).sum())
    };
    // At least twice the blueprint in every section, so that papers really differ.
    assert!(per_section("TWK") >= 60, "TWK has {}", per_section("TWK"));
    assert!(per_section("TIU") >= 70, "TIU has {}", per_section("TIU"));
    assert!(per_section("TKP") >= 90, "TKP has {}", per_section("TKP"));
    // Every TKP option is weighted 1..5.
    for item in bank.items().iter().filter(|i| i.section().as_str() == "TKP") {
        let Key::Weighted(points) = item.key() else { panic!("{} is not weighted", item.id()) };
        let mut sorted: Vec<i64> = points.iter().map(|p| p.0).collect();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![1, 2, 3, 4, 5], "{}", item.id());
    }
    // Some figural items carry images.
    assert!(bank.items().iter().filter(|i| i.image().is_some()).count() >= 5);
}

#[test]
fn the_english_sample_bank_is_valid() {
    let bank = Bank::load(&repo("question-banks/sample-en")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bank.language(), "en");
    assert!(bank.items().len() >= 30);
}

#[test]
fn a_repeated_id_is_reported_with_the_other_mistakes_of_its_items() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = fixture("tiny");
    std::fs::copy(src.join("bank.toml"), dir.path().join("bank.toml")).expect("copy");
    std::fs::create_dir(dir.path().join("assets")).expect("assets");
    for asset in std::fs::read_dir(src.join("assets")).expect("assets") {
        let asset = asset.expect("asset").path();
        std::fs::copy(&asset, dir.path().join("assets").join(asset.file_name().expect("name"))).expect("copy");
    }
    // A wrong key (K-2), a bad difficulty and a repeated id (K-3 renamed K-1): one run.
    let items = std::fs::read_to_string(src.join("items.toml"))
        .expect("read")
        .replacen("answer = \"C\"", "answer = \"F\"", 1)
        .replacen("id = \"K-3\"\ntopic = \"beta\"\n", "id = \"K-1\"\ntopic = \"beta\"\ndifficulty = \"sulit\"\n", 1);
    std::fs::write(dir.path().join("items.toml"), items).expect("write");
    let errors = match Bank::load(dir.path()) {
        Err(BankError::Invalid(d)) => d.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        other => panic!("expected validation errors, got {other:?}"),
    };
    assert_reported(&errors, "item K-2: answer: \"F\" is not one of the options");
    assert_reported(&errors, "item K-1: difficulty: expected a whole number");
    assert_reported(&errors, "item K-1: id: repeated: first used at");
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

#[test]
fn an_explanation_is_read_and_does_not_change_the_bank_hash() {
    let plain = Bank::load(&fixture("tiny")).expect("tiny bank is valid");
    assert_eq!(plain.items()[1].explanation(), None);
    let mut source = BankSource::read_dir(&fixture("tiny")).expect("read");
    let items = source.files.get("items.toml").expect("items.toml").replace(
        "stem = \"2 + 2 = ?\"\n",
        "stem = \"2 + 2 = ?\"\nexplanation = \"\"\"\nDua ditambah dua sama dengan empat.\n\"\"\"\n",
    );
    source.files.insert("items.toml".into(), items);
    let explained = Bank::parse(source).expect("an explanation is a known field");
    assert_eq!(explained.items()[1].explanation(), Some("Dua ditambah dua sama dengan empat.\n"));
    assert_eq!(explained.hash(), plain.hash(), "the explanation is neither shown during the exam nor scored");
}

#[test]
fn an_explanation_that_is_not_text_is_reported() {
    let mut source = BankSource::read_dir(&fixture("tiny")).expect("read");
    let items = source
        .files
        .get("items.toml")
        .expect("items.toml")
        .replace("stem = \"2 + 2 = ?\"\n", "stem = \"2 + 2 = ?\"\nexplanation = 4\n");
    source.files.insert("items.toml".into(), items);
    let errors: Vec<String> = Bank::parse(source).expect_err("must fail").iter().map(|d| d.to_string()).collect();
    assert_reported(&errors, "items.toml:16: item K-2: explanation: expected a string, found a whole number");
}
