use item_bank::csv_import::{parse_csv, to_item_file};
use item_bank::{Bank, BankSource, Key};

const GOOD: &str = "id,section,topic,kind,stem,answer,a,b,c,d,e,a_points,b_points,c_points,d_points,e_points
C-1,TWK,pilar-negara,single,\"Dasar negara Indonesia, yaitu?\",B,UUD,Pancasila,Tap MPR,,,,,,,
C-2,TKP,pelayanan-publik,weighted,Antrean panjang.,,Bantu,Diam,Marah,,,5,2,1,,
";

#[test]
fn a_good_csv_becomes_items_and_a_valid_item_file() {
    let items = parse_csv("items.csv", GOOD).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].options().len(), 3);
    assert_eq!(items[0].stem(), "Dasar negara Indonesia, yaitu?");
    assert!(matches!(items[1].key(), Key::Weighted(p) if p.len() == 3));

    // The written file reads back as the same items.
    let text = to_item_file(&items);
    let mut source = BankSource { root: "b".into(), ..Default::default() };
    source.files.insert("bank.toml".into(), "name = \"b\"\nversion = \"1\"\nfiles = [\"items.toml\"]\n".into());
    source.files.insert("items.toml".into(), text);
    let bank = Bank::parse(source).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bank.items().len(), 2);
    assert_eq!(bank.items()[0].stem(), items[0].stem());
    assert_eq!(bank.items()[1].key(), items[1].key());
}

#[test]
fn every_bad_row_is_reported_with_its_line_and_column() {
    let csv = "id,section,topic,difficulty,stem,answer,a,b,c
R-1,TWK,x,2,Soal satu,F,a,b,c
R-2,TWK,x,tinggi,Soal dua,A,a,b,
R-3,TWK,x,1,,A,a,b,c
R-1,TWK,x,1,Soal empat,A,a,b,c
";
    let errors: Vec<String> =
        parse_csv("items.csv", csv).expect_err("must fail").iter().map(|d| d.to_string()).collect();
    let joined = errors.join("\n");
    assert!(joined.contains("items.csv:2: item R-1: answer: \"F\" is not one of the options (A, B, C)"), "{joined}");
    assert!(joined.contains("items.csv:3: column difficulty: \"tinggi\" is not a whole number"), "{joined}");
    assert!(joined.contains("items.csv:4: item R-3: stem: missing"), "{joined}");
    assert!(joined.contains("items.csv:5: column id: R-1 repeats the id of line 2"), "{joined}");
}

#[test]
fn an_unknown_column_is_refused() {
    let csv = "id,section,topic,stem,anwser,a,b\nR-1,TWK,x,s,A,a,b\n";
    let errors = parse_csv("items.csv", csv).expect_err("must fail").to_string();
    assert!(errors.contains("items.csv:1: column anwser: unknown column"), "{errors}");
}
