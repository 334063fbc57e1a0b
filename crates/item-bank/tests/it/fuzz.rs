//! Bad input never panics: arbitrary text through the bank, exam and CSV parsers gives
//! either a value or diagnostics, every one with a file name.

use item_bank::{Bank, BankSource, Exam, csv_import};
use proptest::prelude::*;

/// Text that looks enough like TOML to reach the field checks, plus raw noise.
fn tomlish() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("[[item]]".to_owned()),
        Just("[[section]]".to_owned()),
        "[a-z_]{1,10} = \"[^\"\\\\\\n]{0,20}\"",
        "[a-z_]{1,10} = -?[0-9]{1,20}",
        "[a-z_]{1,10} = \\[\\{ label = \"[A-G]\", text = \"[a-z]{0,5}\", points = [0-9]{1,3} \\}\\]",
        "(id|topic|stem|answer|kind|section|code|bank|image) = \"[A-Za-z0-9 ._/-]{0,12}\"",
        "(difficulty|count|threshold|duration_minutes) = -?[0-9]{1,4}",
        "[^\\n]{0,30}",
    ];
    prop::collection::vec(line, 0..40).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn item_files_never_panic(text in tomlish()) {
        let mut source = BankSource { root: "b".into(), ..Default::default() };
        source.files.insert("bank.toml".into(), "name = \"b\"\nversion = \"1\"\nfiles = [\"items.toml\"]\n".into());
        source.files.insert("items.toml".into(), text);
        if let Err(d) = Bank::parse(source) {
            prop_assert!(!d.is_empty());
            prop_assert!(d.iter().all(|d| d.file.starts_with("b/")));
        }
    }

    #[test]
    fn exam_files_never_panic(text in tomlish()) {
        if let Err(d) = Exam::parse("exam.toml", &text) {
            prop_assert!(d.iter().all(|d| d.file == "exam.toml"));
        }
    }

    #[test]
    fn csv_files_never_panic(text in "[a-z_,\"\\n0-9A-E ]{0,300}") {
        let header = "id,section,topic,kind,difficulty,stem,answer,a,b,c,a_points,b_points\n";
        let _ = csv_import::parse_csv("x.csv", &format!("{header}{text}"));
        let _ = csv_import::parse_csv("x.csv", &text);
    }
}
