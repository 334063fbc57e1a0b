use item_bank::{Bank, BoardNames, BoardPolicy, BoardRunning, Exam, Points, ScoringRule};

use crate::{fixture, repo};

fn tiny_exam(text: &str) -> Result<item_bank::ExamSummary, Vec<String>> {
    let exam = Exam::parse("exam.toml", text).map_err(|d| d.iter().map(|d| d.to_string()).collect::<Vec<_>>())?;
    let bank = Bank::load(&fixture("tiny")).expect("tiny");
    exam.check(&bank).map_err(|d| d.iter().map(|d| d.to_string()).collect())
}

fn base() -> String {
    std::fs::read_to_string(fixture("tiny-exam.toml")).expect("read")
}

#[test]
fn the_tiny_exam_checks_and_summarises() {
    let (exam, _bank, summary) = Exam::load(&fixture("tiny-exam.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(exam.code(), "TINY");
    assert_eq!(exam.duration_for(None), Some(10));
    assert_eq!(exam.duration_for(Some("extended")), Some(15));
    assert_eq!(exam.duration_for(Some("unknown")), None);
    assert_eq!(exam.board_names(), BoardNames::Full);
    assert_eq!(exam.board(), BoardPolicy::default(), "without [board]: progress only");
    assert_eq!(exam.board().running, BoardRunning::Progress);
    assert_eq!(exam.tie_break().iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["W", "K"]);
    assert_eq!(summary.sections.len(), 2);
    assert_eq!(summary.sections[0].max_points, Points(10));
    // Weighted maximum: the two best items' best options, 4 + 4.
    assert_eq!(summary.sections[1].max_points, Points(8));
    assert_eq!(
        exam.sections()[0].scoring,
        ScoringRule::Keyed { correct: Points(5), wrong: Points(-1), blank: Points(0) }
    );
}

#[test]
fn a_quota_larger_than_the_bank_is_refused_with_its_line() {
    let text = base().replace(
        "{ topics = [\"alpha\"], count = 1 }, { topics = [\"beta\"], count = 1 }",
        "{ topics = [\"alpha\"], count = 3 }",
    );
    let text = text.replacen("count = 2\n", "count = 3\n", 1);
    let errors = tiny_exam(&text).expect_err("must fail");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("exam.toml:17: draw: section K: 3 items wanted from alpha but the bank has only 2")),
        "{errors:?}"
    );
}

#[test]
fn blueprint_mistakes_are_all_reported() {
    let text = base()
        .replace("tie_break = [\"W\", \"K\"]", "tie_break = [\"W\", \"X\"]")
        .replace("threshold = 5\nscoring = { rule = \"weighted\"", "threshold = 50\nscoring = { rule = \"weighted\"")
        .replace("{ topics = [\"beta\"], count = 1 }", "{ topics = [\"beta\"], count = 2 }")
        .replace("extended = 15", "extended = 0");
    let errors = tiny_exam(&text).expect_err("must fail");
    let joined = errors.join("\n");
    assert!(joined.contains("exam.toml:6: tie_break: \"X\" is not a section of this exam"), "{joined}");
    assert!(joined.contains("accommodations: extended"), "{joined}");
    assert!(joined.contains("quotas add up to 3 but count is 2"), "{joined}");
}

#[test]
fn a_threshold_above_the_maximum_is_refused() {
    let text = base()
        .replace("threshold = 5\nscoring = { rule = \"weighted\"", "threshold = 9\nscoring = { rule = \"weighted\"");
    let errors = tiny_exam(&text).expect_err("must fail");
    assert!(errors.iter().any(|e| e.contains("threshold 9 is above the most a paper can score (8)")), "{errors:?}");
}

#[test]
fn a_rule_that_does_not_fit_the_items_is_refused() {
    let text =
        base().replace("scoring = { rule = \"weighted\", blank = 0 }", "scoring = { rule = \"keyed\", correct = 5 }");
    let errors = tiny_exam(&text).expect_err("must fail");
    assert!(errors.iter().any(|e| e.contains("section W is scored keyed but item W-1")), "{errors:?}");
}

#[test]
fn the_skd_exam_is_drawable_from_the_skd_bank() {
    let (exam, bank, summary) = Exam::load(&repo("question-banks/exams/skd.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bank.name(), "skd");
    assert_eq!(exam.total_items(), 110);
    assert_eq!(exam.duration_minutes(), 100);
    let got: Vec<(String, u32, i64, i64)> =
        summary.sections.iter().map(|s| (s.code.to_string(), s.count, s.threshold.0, s.max_points.0)).collect();
    assert_eq!(got, [("TWK".into(), 30, 65, 150), ("TIU".into(), 35, 80, 175), ("TKP".into(), 45, 166, 225)]);
    assert_eq!(exam.tie_break().iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["TKP", "TIU", "TWK"]);
}

#[test]
fn the_english_sample_exam_is_drawable() {
    let (exam, _, _) = Exam::load(&repo("question-banks/exams/sample-en.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(exam.code(), "SAMPLE-EN");
}

#[test]
fn the_login_grace_and_the_supervisors_extension_cap_default_to_thirty_minutes_and_are_checked() {
    let exam = Exam::parse("exam.toml", &base()).expect("parses");
    assert_eq!((exam.token_grace_minutes(), exam.extension_cap_minutes()), (30, 30));
    let text = base().replace(
        "board_names = \"full\"",
        "board_names = \"full\"\ntoken_grace_minutes = 10\nextension_cap_minutes = 0",
    );
    let exam = Exam::parse("exam.toml", &text).expect("parses");
    assert_eq!((exam.token_grace_minutes(), exam.extension_cap_minutes()), (10, 0));
    let text = base().replace(
        "board_names = \"full\"",
        "board_names = \"full\"\ntoken_grace_minutes = -1\nextension_cap_minutes = 2000",
    );
    let errors = tiny_exam(&text).expect_err("must fail").join("\n");
    assert!(errors.contains("exam.toml:6: token_grace_minutes: -1 is outside 0..1440"), "{errors}");
    assert!(errors.contains("exam.toml:7: extension_cap_minutes: 2000 is outside 0..1440"), "{errors}");
}

/// The exam with `board` put in as its `[board]` table.
fn with_board(board: &str) -> Result<Exam, Vec<String>> {
    let text = base().replace("[accommodations]", &format!("[board]\n{board}\n\n[accommodations]"));
    Exam::parse("exam.toml", &text).map_err(|d| d.iter().map(|d| d.to_string()).collect())
}

#[test]
fn the_board_policy_is_read_from_the_board_table() {
    let policy = |text: &str| with_board(text).unwrap_or_else(|e| panic!("{e:?}")).board();
    assert_eq!(policy("running = \"progress\"").running, BoardRunning::Progress);
    assert_eq!(policy("running = \"interval\"\ninterval_minutes = 15").running, BoardRunning::Interval { minutes: 15 });
    let live = policy("running = \"live\"\nsupervisor_running_scores = true");
    assert_eq!(live, BoardPolicy { running: BoardRunning::Live, supervisor_running_scores: true });
    assert!(live.running.warning("TINY").is_some_and(|w| w.contains("answer-key oracle")), "live warns");
    assert_eq!(BoardRunning::Progress.warning("TINY"), None);
    assert_eq!(BoardRunning::Interval { minutes: 5 }.warning("TINY"), None);
}

#[test]
fn board_policy_mistakes_are_all_reported_with_their_lines() {
    let errors = with_board("running = \"interval\"\ninterval_minutes = 4\nshow = 1").expect_err("must fail");
    let joined = errors.join("\n");
    assert!(joined.contains("exam.toml:10: board.interval_minutes: 4 is outside 5..1440"), "{joined}");
    assert!(joined.contains("exam.toml:11: show: unknown field"), "{joined}");
    let errors = with_board("running = \"interval\"").expect_err("must fail");
    assert!(errors.iter().any(|e| e.contains("exam.toml:9: board.interval_minutes: missing")), "{errors:?}");
    let errors = with_board("running = \"always\"\ninterval_minutes = 10").expect_err("must fail");
    assert!(errors.iter().any(|e| e.contains("exam.toml:9: board.running: \"always\" is not")), "{errors:?}");
    let errors = with_board("running = \"live\"\ninterval_minutes = 10").expect_err("must fail");
    assert!(errors.iter().any(|e| e.contains("exam.toml:10: board.interval_minutes: only applies")), "{errors:?}");
}

#[test]
fn every_mistake_of_an_exam_is_reported_in_one_run_in_words() {
    let dir = tempfile::tempdir().expect("tmp");
    let bank = fixture("tiny");
    // Four planted mistakes: a bad duration, an unknown tie-break section, a misspelt topic
    // and an unreachable threshold; a check that stopped at the first would hide the rest.
    let text = base()
        .replace("bank = \"tiny\"", &format!("bank = {:?}", bank.display().to_string()))
        .replace("duration_minutes = 10", "duration_minutes = 0")
        .replace("tie_break = [\"W\", \"K\"]", "tie_break = [\"W\", \"X\"]")
        .replace("{ topics = [\"beta\"], count = 1 }", "{ topics = [\"betta\"], count = 1 }")
        .replacen(
            "threshold = 5\nscoring = { rule = \"weighted\"",
            "threshold = 50\nscoring = { rule = \"weighted\"",
            1,
        );
    let path = dir.path().join("exam.toml");
    std::fs::write(&path, text).expect("write");
    let errors: Vec<String> = match Exam::load(&path) {
        Err(item_bank::BankError::Invalid(d)) => d.iter().map(|d| d.to_string()).collect(),
        other => panic!("expected validation errors, got {:?}", other.map(|_| ())),
    };
    let joined = errors.join("\n");
    for expected in [
        "duration_minutes: 0 is outside 1..1440",
        "tie_break: \"X\" is not a section of this exam",
        "section K: the bank has no items with topic \"betta\"; did you mean \"beta\"?",
        "section W: threshold 50 is above the most a paper can score (8)",
    ] {
        assert!(joined.contains(expected), "missing {expected:?} in:\n{joined}");
    }
    assert!(!joined.contains("Topic("), "no Rust debug text: {joined}");
}
