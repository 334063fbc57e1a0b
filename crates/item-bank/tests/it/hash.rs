use item_bank::{Bank, BankHash, BankSource};

use crate::fixture;

fn hash_of(source: BankSource) -> BankHash {
    Bank::parse(source).expect("valid").hash().clone()
}

#[test]
fn layout_and_comments_do_not_change_the_hash() {
    let source = BankSource::read_dir(&fixture("tiny")).expect("read");
    let original = hash_of(source.clone());
    let mut reformatted = source.clone();
    let text = reformatted.files["items.toml"].replace("\n[[item]]", "\n# a comment\n\n[[item]]");
    reformatted.files.insert("items.toml".into(), text);
    assert_eq!(hash_of(reformatted), original);
}

#[test]
fn changing_a_word_a_key_a_weight_or_an_image_changes_the_hash() {
    let source = BankSource::read_dir(&fixture("tiny")).expect("read");
    let original = hash_of(source.clone());
    let edits: [(&str, &str); 4] = [
        ("How many dots?", "How many circles?"),
        ("answer = \"C\"", "answer = \"B\""),
        ("points = 4 }, { label = \"B\", text = \"ignore\"", "points = 5 }, { label = \"B\", text = \"ignore\""),
        ("text = \"three\"", "text = \"3\""),
    ];
    for (from, to) in edits {
        let mut edited = source.clone();
        let text = edited.files["items.toml"].replacen(from, to, 1);
        assert_ne!(text, edited.files["items.toml"], "edit {from:?} did not apply");
        edited.files.insert("items.toml".into(), text);
        assert_ne!(hash_of(edited), original, "edit {from:?} -> {to:?} kept the hash");
    }
    let mut image = source.clone();
    image.assets.insert("dot.svg".into(), b"<svg/>".to_vec());
    assert_ne!(hash_of(image), original);
}

#[test]
fn the_hash_round_trips_through_hex() {
    let h = hash_of(BankSource::read_dir(&fixture("tiny")).expect("read"));
    assert_eq!(h.to_hex().len(), 64);
    assert_eq!(BankHash::from_hex(&h.to_hex()), Some(h.clone()));
    assert_eq!(BankHash::from_hex("zz"), None);
}
