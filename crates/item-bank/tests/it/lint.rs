//! The lint against fixture banks that each carry one flaw (tests/fixtures/lint/<check>).

use item_bank::lint::{self, Check, Options, Rule, Severity};
use item_bank::{Bank, BankSource, Exam};

use crate::fixture;

fn load(name: &str, exam_text: Option<&str>) -> (Bank, Option<Exam>) {
    let dir = fixture("lint").join(name);
    let bank = Bank::load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let exam = exam_text.map(|text| {
        let exam = Exam::parse("exam.toml", text).unwrap_or_else(|e| panic!("{name}/exam.toml: {e}"));
        exam.check(&bank).unwrap_or_else(|e| panic!("{name}/exam.toml: {e}"));
        exam
    });
    (bank, exam)
}

fn exam_of(name: &str) -> Option<String> {
    std::fs::read_to_string(fixture("lint").join(name).join("exam.toml")).ok()
}

/// The findings as printed, with the fixture's folder cut from file names.
fn findings(name: &str, exam_text: Option<&str>, strict: bool) -> Vec<String> {
    let (bank, exam) = load(name, exam_text);
    let report = lint::lint(&bank, exam.as_ref(), Options { strict });
    let prefix = format!("{}/", fixture("lint").join(name).display());
    report.findings.iter().map(|f| f.to_string().replace(&prefix, "")).collect()
}

/// Lints the fixture (with its exam.toml, if any) and compares every finding.
#[track_caller]
fn check(name: &str, expected: &[&str]) {
    let exam = exam_of(name);
    let got = findings(name, exam.as_deref(), false);
    assert_eq!(got, expected, "\nfindings of {name}:\n{}\n", got.join("\n"));
}

#[test]
fn a_bank_written_without_flaws_has_no_findings_even_when_strict() {
    let exam = exam_of("clean");
    assert_eq!(findings("clean", exam.as_deref(), true), Vec::<String>::new());
}

#[test]
fn a_key_that_is_always_the_longest_option_is_found_and_passes_the_section_unread() {
    check(
        "longest-key",
        &[
            "items.toml:4: warning: longest-key: section L: the key is the longest option in 6 of 6 items, against 1.5 by chance (p < 0.001)",
            "items.toml:4: warning: item L-1: longest-key: the key (B) is the longest option, 3.0× the next; a cue across section L",
            "items.toml:11: warning: item L-2: longest-key: the key (A) is the longest option, 4.9× the next; a cue across section L",
            "items.toml:18: warning: item L-3: longest-key: the key (D) is the longest option, 3.8× the next; a cue across section L",
            "items.toml:25: warning: item L-4: longest-key: the key (C) is the longest option, 4.5× the next; a cue across section L",
            "items.toml:32: warning: item L-5: longest-key: the key (A) is the longest option, 4.5× the next; a cue across section L",
            "items.toml:39: warning: item L-6: longest-key: the key (B) is the longest option, 2.6× the next; a cue across section L",
            "exam.toml:5: warning: reading-free-score: section L: always choosing the longest option without reading the stem expects 30.0 points, reaching the threshold 25 (random guessing expects 7.5)",
        ],
    );
}

#[test]
fn a_best_option_that_always_lists_most_clauses_is_found() {
    check(
        "most-clauses-key",
        &[
            "items.toml:4: warning: most-clauses-key: section M: the best option is the option with most clauses in 6 of 6 items, against 1.5 by chance (p < 0.001)",
            "items.toml:4: warning: item M-1: most-clauses-key: the best option (A, 4 points) is the option with most clauses, 3 clauses against at most 1; a cue across section M",
            "items.toml:16: warning: item M-2: most-clauses-key: the best option (B, 4 points) is the option with most clauses, 3 clauses against at most 1; a cue across section M",
            "items.toml:28: warning: item M-3: most-clauses-key: the best option (D, 4 points) is the option with most clauses, 3 clauses against at most 1; a cue across section M",
            "items.toml:40: warning: item M-4: most-clauses-key: the best option (A, 4 points) is the option with most clauses, 3 clauses against at most 1; a cue across section M",
            "items.toml:52: warning: item M-5: most-clauses-key: the best option (C, 4 points) is the option with most clauses, 3 clauses against at most 1; a cue across section M",
            "items.toml:64: warning: item M-6: most-clauses-key: the best option (D, 4 points) is the option with most clauses, 3 clauses against at most 1; a cue across section M",
        ],
    );
}

#[test]
fn a_key_that_echoes_the_stem_is_found() {
    check(
        "stem-echo-key",
        &[
            "items.toml:4: warning: stem-echo-key: section S: the key is the option sharing most words with the stem in 6 of 6 items, against 1.5 by chance (p < 0.001)",
            "items.toml:4: warning: item S-1: stem-echo-key: the key (C) is the option sharing most words with the stem, 2 of the stem's words against at most 0; a cue across section S",
            "items.toml:11: warning: item S-2: stem-echo-key: the key (A) is the option sharing most words with the stem, 1 of the stem's words against at most 0; a cue across section S",
            "items.toml:18: warning: item S-3: stem-echo-key: the key (B) is the option sharing most words with the stem, 2 of the stem's words against at most 0; a cue across section S",
            "items.toml:25: warning: item S-4: stem-echo-key: the key (D) is the option sharing most words with the stem, 2 of the stem's words against at most 0; a cue across section S",
            "items.toml:32: warning: item S-5: stem-echo-key: the key (A) is the option sharing most words with the stem, 2 of the stem's words against at most 0; a cue across section S",
            "items.toml:39: warning: item S-6: stem-echo-key: the key (C) is the option sharing most words with the stem, 2 of the stem's words against at most 0; a cue across section S",
        ],
    );
}

#[test]
fn identical_near_identical_and_cut_short_options_are_found() {
    check(
        "similar-options",
        &[
            "items.toml:4: warning: item O-1: similar-options: options A and C read the same: \"Green\"",
            "items.toml:11: warning: item O-2: similar-options: options B and C are near-identical (92% the same words in the same order)",
            "items.toml:23: warning: item O-3: similar-options: option B is option A cut short: \"Ask the administrator to unlock it\"",
            "items.toml:35: warning: item O-4: similar-options: options A and B differ only in punctuation or spacing",
        ],
    );
}

#[test]
fn an_option_pasted_from_another_item_is_found_but_a_shared_option_list_is_not() {
    check(
        "copied-option",
        &[
            "items.toml:16: warning: item C-2: copied-option: option B is option A of C-1 (items.toml:4)",
            "items.toml:28: warning: item C-3: copied-option: option C is nearly option A of C-1 (items.toml:4)",
        ],
    );
}

#[test]
fn an_option_starting_in_another_case_than_its_siblings_is_found() {
    check(
        "option-case",
        &[
            "items.toml:4: warning: item CASE-1: option-case: option C starts in lower case, every other option in upper case",
        ],
    );
}

#[test]
fn all_none_and_label_combination_options_are_found() {
    check(
        "all-or-none-option",
        &[
            "items.toml:4: warning: item ALL-1: all-or-none-option: option D says \"all of the above\": it answers about the other options",
            "items.toml:12: warning: item ALL-2: all-or-none-option: option D says \"tidak ada yang benar\": it answers about the other options",
            "items.toml:20: warning: item ALL-3: all-or-none-option: option C (\"A and B\") answers by naming other options",
        ],
    );
}

#[test]
fn a_pinned_option_shared_by_many_items_and_never_keyed_is_found() {
    check(
        "pinned-never-keyed",
        &[
            "items.toml:4: warning: item Q-1: pinned-never-keyed: option D (\"P = 2Q\") is pinned in 5 items with the same options (Q-1, Q-2, Q-3, Q-4, Q-5) and is the key of none: candidates learn to rule it out",
        ],
    );
}

#[test]
fn options_reading_like_labels_are_found_only_while_options_are_shuffled() {
    // Without an exam options are taken to be shuffled (the default); LL-2 pins its own.
    let got = findings("label-like-option", None, false);
    assert_eq!(got, EXPECTED_LABEL_LIKE, "\n{}\n", got.join("\n"));
    // Its exam keeps options as written: then a letter is just a letter.
    check("label-like-option", &[]);
}

#[test]
fn a_figural_topic_or_section_item_without_an_image_is_found() {
    check(
        "topic-without-images",
        &[
            "items.toml:12: warning: item F-2: topic-without-images: topic figural promises figures but the item shows no image",
            "items.toml:26: warning: item G-1: topic-without-images: section G (Figure series) promises figures but the item shows no image",
        ],
    );
}

#[test]
fn pinned_items_keyed_at_one_position_are_found() {
    check(
        "pinned-key-position",
        &[
            "items.toml:4: warning: pinned-key-position: section P: the key is option C in 6 of 6 items with pinned options (P-1, P-2, P-3, P-4, P-5, P-6), against 1.5 by chance (p < 0.001)",
        ],
    );
}

#[test]
fn repeated_and_nearly_repeated_stems_are_found_but_not_over_different_figures() {
    check(
        "duplicate-stem",
        &[
            "items.toml:11: warning: item D-2: duplicate-stem: the stem repeats the stem of D-1 (items.toml:4)",
            "items.toml:25: warning: item D-4: duplicate-stem: the stem nearly repeats (95% the same words) the stem of D-3 (items.toml:18)",
        ],
    );
}

#[test]
fn weighted_points_that_repeat_or_skip_a_level_are_found_unless_allowed() {
    check(
        "points-spread",
        &[
            "items.toml:4: warning: item PS-1: points-spread: points are not a spread: options A, B all score 4; no option scores 2 (an intended pattern needs a lint_allow with its reason)",
            "items.toml:16: warning: item PS-2: points-spread: points are not a spread: no option scores 3 (an intended pattern needs a lint_allow with its reason)",
        ],
    );
}

#[test]
fn the_reading_free_figures_are_expected_values_over_the_blueprint() {
    let exam = exam_of("longest-key");
    let (bank, exam) = load("longest-key", exam.as_deref());
    let report = lint::lint(&bank, exam.as_ref(), Options::default());
    let expected = |rule: Option<Rule>| {
        report.reading_free.iter().find(|r| r.rule == rule).map(|r| r.expected).expect("a row per rule")
    };
    // Six items of four options, 5 points each: guessing expects 6 × 5 / 4, the longest
    // option is always the key, and every option has one clause (a tie: a guess again).
    assert!((expected(None) - 7.5).abs() < 1e-9);
    assert!((expected(Some(Rule::Longest)) - 30.0).abs() < 1e-9);
    assert!((expected(Some(Rule::MostClauses)) - 7.5).abs() < 1e-9);
    let longest = report.cues.iter().find(|c| c.rule == Rule::Longest && c.topic.is_none()).expect("section row");
    assert_eq!((longest.hits, longest.items), (6, 6));
    assert!((longest.p_value - 0.25f64.powi(6)).abs() < 1e-12, "p = {}", longest.p_value);
}

#[test]
fn strict_makes_findings_errors_but_a_score_just_below_the_threshold_stays_a_warning() {
    // The longest-key bank and one more item whose longest option is wrong: drawing 6 of
    // these 7, the longest option expects 6 × (6 × 5) / 7 = 25.7 points of 30.
    let mut source = BankSource::read_dir(&fixture("lint/longest-key")).expect("read");
    source.root = String::new();
    let items = source.files["items.toml"].clone()
        + r#"
[[item]]
id = "L-7"
topic = "t"
stem = "Which ocean is the largest?"
answer = "A"
options = [{ label = "A", text = "Pacific" }, { label = "B", text = "The vast Atlantic Ocean" }, { label = "C", text = "Indian" }, { label = "D", text = "Arctic" }]
"#;
    source.files.insert("items.toml".into(), items);
    let bank = Bank::parse(source).expect("valid");
    let exam = exam_of("longest-key").expect("exam");
    let strict = |threshold: &str| {
        let exam = Exam::parse("exam.toml", &exam.replace("threshold = 25", threshold)).expect("exam");
        lint::lint(&bank, Some(&exam), Options { strict: true })
    };
    let reading_free = |report: &lint::Report| {
        report.findings.iter().filter(|f| f.check == Check::ReadingFreeScore).cloned().collect::<Vec<_>>()
    };
    // 25 is passed unread: an error, like every other finding.
    let passed = strict("threshold = 25");
    assert_eq!(reading_free(&passed).len(), 1);
    assert!(passed.findings.iter().all(|f| f.severity == Severity::Error));
    // 28 is not reached, but 25.7 is within 10% of it: a warning even when strict.
    let near = reading_free(&strict("threshold = 28"));
    assert_eq!(near.len(), 1);
    assert_eq!(near[0].severity, Severity::Warning);
    assert!(near[0].message.contains("expects 25.7 points, within 10% of the threshold 28"), "{}", near[0].message);
    // 29 is out of the margin (25.7 < 26.1).
    assert_eq!(reading_free(&strict("threshold = 29")).len(), 0);
    // Without strict nothing is an error.
    let exam = Exam::parse("exam.toml", &exam).expect("exam");
    assert_eq!(lint::lint(&bank, Some(&exam), Options::default()).errors(), 0);
}

#[test]
fn an_item_silences_a_check_only_with_a_known_check_and_a_reason() {
    let mut source = BankSource::read_dir(&fixture("lint/points-spread")).expect("read");
    source.root = String::new();
    let items = source.files.get("items.toml").expect("items").clone();
    let with = |allow: &str| {
        let mut s = source.clone();
        s.files.insert(
            "items.toml".into(),
            items.replace(
                r#"lint_allow = [{ check = "points-spread", reason = "two responses are equally right: the committee scores both 4" }]"#,
                allow,
            ),
        );
        match Bank::parse(s) {
            Ok(_) => Vec::new(),
            Err(d) => d.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        }
    };
    assert_eq!(
        with(r#"lint_allow = [{ check = "longest-option", reason = "r" }]"#),
        [
            "items.toml:33: item PS-3: lint_allow.check: \"longest-option\" is not a lint check (one of: longest-key, most-clauses-key, stem-echo-key, similar-options, copied-option, option-case, all-or-none-option, pinned-never-keyed, label-like-option, topic-without-images, pinned-key-position, duplicate-stem, points-spread)"
        ]
    );
    assert_eq!(
        with(r#"lint_allow = [{ check = "points-spread" }]"#),
        ["items.toml:33: item PS-3: lint_allow.reason: missing: silencing a check needs the reason it is intended"]
    );
    assert_eq!(
        with(r#"lint_allow = [{ check = "points-spread", reason = " " }]"#),
        ["items.toml:33: item PS-3: lint_allow.reason: is empty: say why the flaw is intended"]
    );
    assert_eq!(
        with(r#"lint_allow = [{ check = "reading-free-score", reason = "r" }]"#),
        [
            "items.toml:33: item PS-3: lint_allow.check: reading-free-score is a property of the bank or exam and cannot be silenced by one item"
        ]
    );
    assert_eq!(
        with(r#"lint_allow = [{ check = "points-spread", reason = "r" }, { check = "points-spread", reason = "s" }]"#),
        ["items.toml:33: item PS-3: lint_allow.check: points-spread is listed twice"]
    );
    assert_eq!(
        with(r#"lint_allow = [{ check = "points-spread", reason = "r", until = "2027" }]"#),
        ["items.toml:33: item PS-3: until: unknown field (expected one of: check, reason)"]
    );
    assert_eq!(with(r#"lint_allow = []"#), Vec::<String>::new());
}

#[test]
fn silencing_a_check_does_not_change_the_bank_hash() {
    let source = BankSource::read_dir(&fixture("lint/points-spread")).expect("read");
    let silenced = Bank::parse(source.clone()).expect("valid");
    let mut bare = source;
    let items =
        bare.files["items.toml"].lines().filter(|l| !l.starts_with("lint_allow")).collect::<Vec<_>>().join("\n");
    bare.files.insert("items.toml".into(), items);
    let bare = Bank::parse(bare).expect("valid");
    assert_eq!(silenced.hash(), bare.hash());
    // …and the silenced item is flagged once the allowance is gone.
    let flagged = |bank: &Bank| {
        lint::lint(bank, None, Options::default())
            .findings
            .iter()
            .filter_map(|f| f.item.clone())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(flagged(&silenced), ["PS-1", "PS-2"]);
    assert_eq!(flagged(&bare), ["PS-1", "PS-2", "PS-3"]);
}

const EXPECTED_LABEL_LIKE: &[&str] = &[
    "items.toml:4: warning: item LL-1: label-like-option: option text that reads like a label while options are shuffled: A (\"A\"), B (\"B\"); the candidate sees it under another label",
];

#[test]
fn the_sample_banks_pass_the_strict_lint_on_their_exams() {
    for (bank, exam) in [
        ("question-banks/sample-en", "question-banks/exams/sample-en.toml"),
        ("question-banks/skd", "question-banks/exams/skd.toml"),
    ] {
        let bank = Bank::load(&crate::repo(bank)).unwrap_or_else(|e| panic!("{bank}: {e}"));
        let text = std::fs::read_to_string(crate::repo(exam)).expect("exam file");
        let exam = Exam::parse(exam, &text).unwrap_or_else(|e| panic!("{exam}: {e}"));
        exam.check(&bank).unwrap_or_else(|e| panic!("{e}"));
        let report = lint::lint(&bank, Some(&exam), Options { strict: true });
        let errors: Vec<String> =
            report.findings.iter().filter(|f| f.severity == Severity::Error).map(|f| f.to_string()).collect();
        assert!(errors.is_empty(), "bank {}:\n{}", bank.name(), errors.join("\n"));
        // No reading-free rule reaches a threshold (a score within the margin below one
        // is allowed: it is the only finding that strict keeps a warning).
        for row in report.reading_free.iter().filter(|r| r.rule.is_some()) {
            assert!(row.expected < row.threshold.0 as f64, "bank {}: {row:?}", bank.name());
        }
    }
}
