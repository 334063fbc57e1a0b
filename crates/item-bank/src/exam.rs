//! Exam blueprints: sections, topic quotas, duration, scoring rules, thresholds and
//! tie-breaks. Nothing about a particular exam (the SKD included) is a constant in code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::bank::{Bank, BankError};
use crate::diag::{Diagnostics, Sink};
use crate::model::{Item, Key, Points, SectionCode, Topic};
use crate::walk::{At, Fields, Got, LineIndex, is_code, is_slug, parse_document, strings};

/// How a section turns answers into points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoringRule {
    /// Single-key items: the keyed option earns `correct`, any other `wrong`, no answer `blank`.
    Keyed { correct: Points, wrong: Points, blank: Points },
    /// Weighted items: an answer earns its option's points, no answer `blank`.
    Weighted { blank: Points },
}

impl ScoringRule {
    pub fn name(&self) -> &'static str {
        match self {
            ScoringRule::Keyed { .. } => "keyed",
            ScoringRule::Weighted { .. } => "weighted",
        }
    }

    /// The points an answer (or `None` for blank) to `item` earns under this rule. An item
    /// whose kind does not match the rule earns the blank points: `Exam::check` refuses such
    /// pairings before any paper is drawn, so this is never reached in practice.
    pub fn points(&self, item: &Item, choice: Option<crate::model::Label>) -> Points {
        match (self, item.key(), choice) {
            (ScoringRule::Keyed { blank, .. }, _, None) | (ScoringRule::Weighted { blank }, _, None) => *blank,
            (ScoringRule::Keyed { correct, wrong, .. }, Key::Single(key), Some(c)) => {
                if *key == c {
                    *correct
                } else {
                    *wrong
                }
            }
            (ScoringRule::Weighted { blank }, Key::Weighted(points), Some(c)) => {
                points.get(c.index()).copied().unwrap_or(*blank)
            }
            (ScoringRule::Keyed { blank, .. }, Key::Weighted(_), Some(_))
            | (ScoringRule::Weighted { blank }, Key::Single(_), Some(_)) => *blank,
        }
    }
}

/// Whether the public board shows candidates' names in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardNames {
    Full,
    Masked,
}

/// What the public board shows of a session that is still running. A running score that
/// moves with every answer tells whoever watches it which option is keyed (answer A, B, C
/// in turn and watch the total), so scores are hidden by default until the finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardRunning {
    /// Status and `answered/total` only; scores appear the instant the candidate finishes.
    Progress,
    /// Running scores as they stood at the last whole mark of this many minutes (≥ 5) of
    /// the server's UTC clock, so a probe costs that long per option tried.
    Interval { minutes: u32 },
    /// Every stored answer moves the score: an answer-key oracle for anyone who can see
    /// the board and reach a candidate. Only for rooms where no candidate can.
    Live,
}

impl BoardRunning {
    /// The shortest interval allowed: shorter ones make probing cheap again.
    pub const MIN_INTERVAL_MINUTES: u32 = 5;

    pub fn name(&self) -> &'static str {
        match self {
            BoardRunning::Progress => "progress",
            BoardRunning::Interval { .. } => "interval",
            BoardRunning::Live => "live",
        }
    }

    /// The warning `ujian exam check` and the server's start print for a live board.
    pub fn warning(&self, exam_code: &str) -> Option<String> {
        (*self == BoardRunning::Live).then(|| {
            format!(
                "warning: exam {exam_code} has [board] running = \"live\": the public board is an answer-key \
                 oracle (a candidate who tries each option of a question while someone watches the board \
                 learns its key); use it only where no candidate can see or hear from the board"
            )
        })
    }
}

/// The exam's `[board]` table: what the public and the supervisors see of running sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardPolicy {
    pub running: BoardRunning,
    /// The supervisor's seat monitor shows running scores whatever `running` says.
    pub supervisor_running_scores: bool,
}

impl Default for BoardPolicy {
    fn default() -> Self {
        BoardPolicy { running: BoardRunning::Progress, supervisor_running_scores: false }
    }
}

/// Draw `count` items from any of `topics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub topics: Vec<Topic>,
    pub count: u32,
    line: usize,
}

/// One section of the blueprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub code: SectionCode,
    pub name: String,
    pub count: u32,
    pub threshold: Points,
    pub scoring: ScoringRule,
    pub draw: Vec<Quota>,
    line: usize,
}

impl Section {
    /// The line of the section's `[[section]]` header in the exam file.
    pub fn line(&self) -> usize {
        self.line
    }
}

/// A validated exam blueprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exam {
    code: String,
    title: String,
    /// The bank folder as written, relative to the exam file.
    bank: String,
    bank_line: usize,
    duration_minutes: u32,
    accommodations: BTreeMap<String, u32>,
    shuffle_options: bool,
    board_names: BoardNames,
    /// How long a candidate's login outlives the sitting's end, in minutes.
    token_grace_minutes: u32,
    /// Extensions a supervisor may give one session, in minutes in total; beyond, only
    /// the exam committee (an admin) may.
    extension_cap_minutes: u32,
    board: BoardPolicy,
    tie_break: Vec<SectionCode>,
    tie_break_line: usize,
    sections: Vec<Section>,
    file: String,
    /// The file's text, stored with results so the blueprint they were scored by is kept.
    source: String,
}

/// What `ujian exam check` prints: per section and quota, needed vs available.
#[derive(Debug, Clone)]
pub struct ExamSummary {
    pub sections: Vec<SectionSummary>,
}

#[derive(Debug, Clone)]
pub struct SectionSummary {
    pub code: SectionCode,
    pub name: String,
    pub count: u32,
    pub bank_items: usize,
    pub max_points: Points,
    pub threshold: Points,
    pub rule: ScoringRule,
    pub quotas: Vec<(Vec<Topic>, u32, usize)>,
}

impl Exam {
    /// Reads an exam file and the bank it names, then checks that papers can be drawn.
    pub fn load(path: &Path) -> Result<(Exam, Bank, ExamSummary), BankError> {
        let text = std::fs::read_to_string(path).map_err(|source| BankError::Io { path: path.to_owned(), source })?;
        // Every problem in one run: the exam file's own, then its bank's, then the
        // blueprint against the bank, as far as each can be read.
        let (exam, mut diags) = Exam::parse_partial(&path.display().to_string(), &text);
        let Some(exam) = exam else { return Err(BankError::Invalid(diags)) };
        let bank = match Bank::load(&exam.bank_dir(path)) {
            Ok(bank) => bank,
            Err(BankError::Invalid(bank_diags)) => {
                diags.extend(bank_diags);
                diags.sort();
                return Err(BankError::Invalid(diags));
            }
            Err(io) if diags.is_empty() => return Err(io),
            Err(io) => {
                let mut sink = Sink::new(&exam.file);
                sink.error(Some(exam.bank_line), Some("bank"), io.to_string());
                diags.extend(sink.diags);
                diags.sort();
                return Err(BankError::Invalid(diags));
            }
        };
        match exam.check(&bank) {
            Ok(summary) if diags.is_empty() => Ok((exam, bank, summary)),
            Ok(_) => Err(BankError::Invalid(diags)),
            Err(check_diags) => {
                diags.extend(check_diags);
                diags.sort();
                Err(BankError::Invalid(diags))
            }
        }
    }

    /// The bank folder, resolved against the exam file's folder.
    pub fn bank_dir(&self, exam_path: &Path) -> PathBuf {
        exam_path.parent().unwrap_or(Path::new(".")).join(&self.bank)
    }

    pub fn parse(file: &str, text: &str) -> Result<Exam, Diagnostics> {
        match Exam::parse_partial(file, text) {
            (Some(exam), diags) => diags.into_result(exam),
            (None, mut diags) => {
                diags.sort();
                Err(diags)
            }
        }
    }

    /// Parses as much of an exam file as can be read: the exam (with the sections that
    /// parsed) whenever its code, bank and duration did, and every problem found.
    fn parse_partial(file: &str, text: &str) -> (Option<Exam>, Diagnostics) {
        let mut sink = Sink::new(file);
        let lines = LineIndex::new(text);
        let Some(doc) = parse_document(text, &lines, &mut sink) else { return (None, sink.diags) };
        let f = Fields::new(&doc, &lines);
        let s = &mut sink;

        let code = f.string("code", s).required(s, 1, "code");
        if let Some(c) = &code
            && !is_code(&c.value)
        {
            s.error(Some(c.line), Some("code"), format!("{:?} may only hold letters, digits, '-' and '_'", c.value));
        }
        let title = f.string("title", s).ok().map(|t| t.value).unwrap_or_default();
        let bank = f.string("bank", s).required(s, 1, "bank");
        let duration = positive(f.int("duration_minutes", s).required(s, 1, "duration_minutes"), s, "duration_minutes");
        let shuffle_options = f.bool("shuffle_options", s).ok().is_none_or(|b| b.value);
        let board_names = match f.string("board_names", s) {
            Got::Ok(b) => match b.value.as_str() {
                "full" => BoardNames::Full,
                "masked" => BoardNames::Masked,
                other => {
                    s.error(Some(b.line), Some("board_names"), format!("{other:?} is not \"full\" or \"masked\""));
                    BoardNames::Masked
                }
            },
            _ => BoardNames::Masked,
        };
        let token_grace_minutes =
            minutes_or(f.int("token_grace_minutes", s), s, "token_grace_minutes", DEFAULT_TOKEN_GRACE_MINUTES);
        let extension_cap_minutes =
            minutes_or(f.int("extension_cap_minutes", s), s, "extension_cap_minutes", DEFAULT_EXTENSION_CAP_MINUTES);
        let board = f.table("board", s).map(|b| read_board(&b, s)).unwrap_or_default();
        let mut accommodations = BTreeMap::new();
        if let Some(acc) = f.table("accommodations", s) {
            for (name, value) in acc.entries() {
                let line = acc.lines().line(value.span().start);
                let minutes =
                    value.get_ref().as_integer().and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok());
                match minutes {
                    Some(m) if m > 0 && m <= 24 * 60 => {
                        accommodations.insert(name.to_owned(), m as u32);
                    }
                    _ => s.error(
                        Some(line),
                        Some("accommodations"),
                        format!("{name}: expected a duration in minutes (1..1440)"),
                    ),
                }
            }
        }
        let (tie_break_raw, tie_break_line) = match f.array("tie_break", s) {
            Got::Ok(a) => (strings(a.value, &lines, s, "tie_break"), a.line),
            _ => (Vec::new(), 1),
        };

        let mut sections = Vec::new();
        match f.array("section", s) {
            Got::Ok(a) => {
                for value in a.value {
                    if let Some(sec) = read_section(value, &lines, s) {
                        sections.push(sec);
                    }
                }
            }
            Got::Bad => {}
            Got::Missing => s.error(None, Some("section"), "no [[section]] tables: an exam needs at least one"),
        }
        let mut codes = BTreeSet::new();
        for sec in &sections {
            if !codes.insert(sec.code.clone()) {
                s.error(Some(sec.line), Some("code"), format!("section {} is defined twice", sec.code));
            }
        }
        let mut tie_break = Vec::new();
        for t in tie_break_raw {
            let code = SectionCode::new(t.value.clone());
            if !codes.contains(&code) {
                s.error(Some(t.line), Some("tie_break"), format!("{:?} is not a section of this exam", t.value));
            } else if tie_break.contains(&code) {
                s.error(Some(t.line), Some("tie_break"), format!("{:?} is listed twice", t.value));
            } else {
                tie_break.push(code);
            }
        }
        f.finish(
            &[
                "code",
                "title",
                "bank",
                "duration_minutes",
                "shuffle_options",
                "board_names",
                "token_grace_minutes",
                "extension_cap_minutes",
                "board",
                "tie_break",
                "accommodations",
                "section",
            ],
            s,
        );
        let (Some(code), Some(bank)) = (code, bank) else { return (None, sink.diags) };
        // A bad duration is already reported; the rest is still checked against the bank.
        let duration = duration.unwrap_or(0);
        let exam = Exam {
            code: code.value,
            title,
            bank: bank.value,
            bank_line: bank.line,
            duration_minutes: duration,
            accommodations,
            shuffle_options,
            board_names,
            token_grace_minutes,
            extension_cap_minutes,
            board,
            tie_break,
            tie_break_line,
            sections,
            file: file.to_owned(),
            source: text.to_owned(),
        };
        (Some(exam), sink.diags)
    }

    /// Checks the blueprint against its bank: every quota can be filled, item kinds match
    /// the section's rule, thresholds are reachable.
    pub fn check(&self, bank: &Bank) -> Result<ExamSummary, Diagnostics> {
        let mut sink = Sink::new(&self.file);
        let mut summary = ExamSummary { sections: Vec::new() };
        for sec in &self.sections {
            let in_section: Vec<&Item> = bank.items().iter().filter(|i| *i.section() == sec.code).collect();
            if in_section.is_empty() {
                let sections: BTreeSet<&str> = bank.items().iter().map(|i| i.section().as_str()).collect();
                sink.error(
                    Some(sec.line),
                    Some("code"),
                    format!(
                        "the bank {} has no items in section {}{}",
                        bank.name(),
                        sec.code,
                        did_you_mean(sec.code.as_str(), sections)
                    ),
                );
                continue;
            }
            let mut quotas = Vec::new();
            let mut max_points = Points(0);
            for q in &sec.draw {
                let pool: Vec<&Item> = in_section.iter().copied().filter(|i| q.topics.contains(i.topic())).collect();
                for t in &q.topics {
                    if !pool.iter().any(|i| i.topic() == t) {
                        let topics: BTreeSet<&str> = in_section.iter().map(|i| i.topic().as_str()).collect();
                        sink.error(
                            Some(q.line),
                            Some("draw"),
                            format!(
                                "section {}: the bank has no items with topic \"{t}\"{}",
                                sec.code,
                                did_you_mean(t.as_str(), topics)
                            ),
                        );
                    }
                }
                if pool.len() < q.count as usize {
                    sink.error(
                        Some(q.line),
                        Some("draw"),
                        format!(
                            "section {}: {} items wanted from {} but the bank has only {}",
                            sec.code,
                            q.count,
                            topics_list(&q.topics),
                            pool.len()
                        ),
                    );
                }
                max_points += match sec.scoring {
                    ScoringRule::Keyed { correct, blank, wrong } => {
                        Points(correct.0.max(blank.0).max(wrong.0) * i64::from(q.count))
                    }
                    ScoringRule::Weighted { blank } => {
                        let mut best: Vec<i64> =
                            pool.iter().map(|i| i.max_weight().unwrap_or(blank).0.max(blank.0)).collect();
                        best.sort_unstable_by(|a, b| b.cmp(a));
                        Points(best.iter().take(q.count as usize).sum())
                    }
                };
                quotas.push((q.topics.clone(), q.count, pool.len()));
            }
            for item in &in_section {
                let fits = matches!(
                    (&sec.scoring, item.key()),
                    (ScoringRule::Keyed { .. }, Key::Single(_)) | (ScoringRule::Weighted { .. }, Key::Weighted(_))
                );
                if !fits {
                    sink.error(
                        Some(sec.line),
                        Some("scoring"),
                        format!(
                            "section {} is scored {} but item {} ({}:{}) is {}",
                            sec.code,
                            sec.scoring.name(),
                            item.id(),
                            item.file(),
                            item.line(),
                            item.key().kind_name()
                        ),
                    );
                }
            }
            if sec.threshold > max_points {
                sink.error(
                    Some(sec.line),
                    Some("threshold"),
                    format!(
                        "section {}: threshold {} is above the most a paper can score ({max_points})",
                        sec.code, sec.threshold
                    ),
                );
            }
            summary.sections.push(SectionSummary {
                code: sec.code.clone(),
                name: sec.name.clone(),
                count: sec.count,
                bank_items: in_section.len(),
                max_points,
                threshold: sec.threshold,
                rule: sec.scoring,
                quotas,
            });
        }
        sink.diags.into_result(summary)
    }

    pub fn code(&self) -> &str {
        &self.code
    }
    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn bank(&self) -> &str {
        &self.bank
    }
    pub fn duration_minutes(&self) -> u32 {
        self.duration_minutes
    }
    /// The duration for a named accommodation, or the standard one.
    pub fn duration_for(&self, accommodation: Option<&str>) -> Option<u32> {
        match accommodation {
            None => Some(self.duration_minutes),
            Some(name) => self.accommodations.get(name).copied(),
        }
    }
    pub fn accommodations(&self) -> &BTreeMap<String, u32> {
        &self.accommodations
    }
    pub fn shuffle_options(&self) -> bool {
        self.shuffle_options
    }
    pub fn board_names(&self) -> BoardNames {
        self.board_names
    }
    /// How long a candidate's login outlives the sitting's end, in minutes.
    pub fn token_grace_minutes(&self) -> u32 {
        self.token_grace_minutes
    }

    /// Extensions a supervisor may give one session, in minutes in total.
    pub fn extension_cap_minutes(&self) -> u32 {
        self.extension_cap_minutes
    }

    pub fn board(&self) -> BoardPolicy {
        self.board
    }
    pub fn tie_break(&self) -> &[SectionCode] {
        &self.tie_break
    }
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }
    pub fn section(&self, code: &SectionCode) -> Option<&Section> {
        self.sections.iter().find(|s| s.code == *code)
    }
    pub fn total_items(&self) -> u32 {
        self.sections.iter().map(|s| s.count).sum()
    }
    pub fn source(&self) -> &str {
        &self.source
    }
    pub fn file(&self) -> &str {
        &self.file
    }
    #[doc(hidden)]
    pub fn tie_break_line(&self) -> usize {
        self.tie_break_line
    }
}

fn topics_list(topics: &[Topic]) -> String {
    topics.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" or ")
}

/// `token_grace_minutes` when the exam file does not say.
pub const DEFAULT_TOKEN_GRACE_MINUTES: u32 = 30;
/// `extension_cap_minutes` when the exam file does not say.
pub const DEFAULT_EXTENSION_CAP_MINUTES: u32 = 30;

/// An optional number of minutes in 0..=1440, `default` when absent.
fn minutes_or(v: Got<i64>, s: &mut Sink, field: &str, default: u32) -> u32 {
    match v {
        Got::Ok(v) if (0..=24 * 60).contains(&v.value) => v.value as u32,
        Got::Ok(v) => {
            s.error(Some(v.line), Some(field), format!("{} is outside 0..1440", v.value));
            default
        }
        Got::Bad | Got::Missing => default,
    }
}

fn positive(v: Option<At<i64>>, s: &mut Sink, field: &str) -> Option<u32> {
    let v = v?;
    if v.value > 0 && v.value <= 24 * 60 {
        Some(v.value as u32)
    } else {
        s.error(Some(v.line), Some(field), format!("{} is outside 1..1440", v.value));
        None
    }
}

fn read_section(value: &toml::Spanned<toml::de::DeValue<'_>>, lines: &LineIndex, s: &mut Sink) -> Option<Section> {
    let f = Fields::from_value(value, lines, s, "section")?;
    let line = f.line;
    let code = f.string("code", s).required(s, line, "code");
    if let Some(c) = &code
        && !is_code(&c.value)
    {
        s.error(Some(c.line), Some("code"), format!("{:?} may only hold letters, digits, '-' and '_'", c.value));
    }
    let name = f.string("name", s).ok().map(|n| n.value).unwrap_or_default();
    let count = f.int("count", s).required(s, line, "count");
    let count = match count {
        Some(c) if c.value > 0 && c.value <= 10_000 => Some(c.value as u32),
        Some(c) => {
            s.error(Some(c.line), Some("count"), format!("{} is outside 1..10000", c.value));
            None
        }
        None => None,
    };
    let threshold = f.int("threshold", s).ok().map_or(Points(0), |t| Points(t.value));
    let scoring = match f.table("scoring", s) {
        Some(sf) => read_rule(&sf, s),
        None => {
            s.error(
                Some(line),
                Some("scoring"),
                "missing, e.g. scoring = { rule = \"keyed\", correct = 5, wrong = 0, blank = 0 }",
            );
            None
        }
    };
    let mut draw = Vec::new();
    match f.array("draw", s) {
        Got::Ok(a) => {
            for q in a.value {
                let Some(qf) = Fields::from_value(q, lines, s, "draw") else { continue };
                let topics = match qf.array("topics", s).required(s, qf.line, "draw.topics") {
                    Some(t) => strings(t.value, lines, s, "draw.topics"),
                    None => Vec::new(),
                };
                for t in &topics {
                    if !is_slug(&t.value) {
                        s.error(
                            Some(t.line),
                            Some("draw.topics"),
                            format!("{:?} must be lower case letters, digits and '-'", t.value),
                        );
                    }
                }
                if topics.is_empty() {
                    s.error(Some(qf.line), Some("draw.topics"), "names no topic");
                }
                let qcount = qf.int("count", s).required(s, qf.line, "draw.count");
                qf.finish(&["topics", "count"], s);
                match qcount {
                    Some(c) if c.value > 0 => draw.push(Quota {
                        topics: topics.into_iter().map(|t| Topic::new(t.value)).collect(),
                        count: c.value as u32,
                        line: qf.line,
                    }),
                    Some(c) => s.error(Some(c.line), Some("draw.count"), format!("{} must be positive", c.value)),
                    None => {}
                }
            }
        }
        Got::Bad => {}
        Got::Missing => s.error(Some(line), Some("draw"), "missing: say how many items to draw from which topics"),
    }
    // Quotas must not share topics: then each quota is filled from its own pool, and
    // "enough items per quota" is exactly "drawable" (no matching problem to solve).
    let mut claimed: BTreeMap<&Topic, usize> = BTreeMap::new();
    for q in &draw {
        for t in &q.topics {
            if let Some(first) = claimed.insert(t, q.line) {
                s.error(
                    Some(q.line),
                    Some("draw.topics"),
                    format!("topic {t:?} is already drawn by the quota on line {first}"),
                );
            }
        }
    }
    let quota_sum: u32 = draw.iter().map(|q| q.count).sum();
    if let Some(count) = count
        && !draw.is_empty()
        && quota_sum != count
    {
        s.error(Some(line), Some("draw"), format!("quotas add up to {quota_sum} but count is {count}"));
    }
    f.finish(&["code", "name", "count", "threshold", "scoring", "draw"], s);
    Some(Section { code: SectionCode::new(code?.value), name, count: count?, threshold, scoring: scoring?, draw, line })
}

fn read_board(f: &Fields<'_, '_>, s: &mut Sink) -> BoardPolicy {
    let interval = f.int("interval_minutes", s).ok();
    let running = match f.string("running", s) {
        Got::Ok(r) => match r.value.as_str() {
            "progress" => Some(BoardRunning::Progress),
            "live" => Some(BoardRunning::Live),
            "interval" => match &interval {
                Some(m) if m.value >= i64::from(BoardRunning::MIN_INTERVAL_MINUTES) && m.value <= 24 * 60 => {
                    Some(BoardRunning::Interval { minutes: m.value as u32 })
                }
                Some(m) => {
                    s.error(
                        Some(m.line),
                        Some("board.interval_minutes"),
                        format!("{} is outside {}..1440", m.value, BoardRunning::MIN_INTERVAL_MINUTES),
                    );
                    None
                }
                None => {
                    s.error(
                        Some(r.line),
                        Some("board.interval_minutes"),
                        "missing: running = \"interval\" needs interval_minutes (5 or more)",
                    );
                    None
                }
            },
            other => {
                s.error(
                    Some(r.line),
                    Some("board.running"),
                    format!("{other:?} is not \"progress\", \"interval\" or \"live\""),
                );
                None
            }
        },
        _ => Some(BoardRunning::Progress),
    };
    if let (Some(m), Some(r)) = (&interval, running)
        && !matches!(r, BoardRunning::Interval { .. })
    {
        s.error(Some(m.line), Some("board.interval_minutes"), "only applies with running = \"interval\"");
    }
    let supervisor_running_scores = f.bool("supervisor_running_scores", s).ok().is_some_and(|b| b.value);
    f.finish(&["running", "interval_minutes", "supervisor_running_scores"], s);
    BoardPolicy { running: running.unwrap_or(BoardRunning::Progress), supervisor_running_scores }
}

fn read_rule(f: &Fields<'_, '_>, s: &mut Sink) -> Option<ScoringRule> {
    let rule = f.string("rule", s).required(s, f.line, "scoring.rule")?;
    let pts = |key: &str, s: &mut Sink, default: i64| f.int(key, s).ok().map_or(Points(default), |p| Points(p.value));
    match rule.value.as_str() {
        "keyed" => {
            let correct = f.int("correct", s).required(s, f.line, "scoring.correct").map(|p| Points(p.value));
            let wrong = pts("wrong", s, 0);
            let blank = pts("blank", s, 0);
            f.finish(&["rule", "correct", "wrong", "blank"], s);
            Some(ScoringRule::Keyed { correct: correct?, wrong, blank })
        }
        "weighted" => {
            let blank = pts("blank", s, 0);
            f.finish(&["rule", "blank"], s);
            Some(ScoringRule::Weighted { blank })
        }
        other => {
            s.error(Some(rule.line), Some("scoring.rule"), format!("{other:?} is not a rule (keyed or weighted)"));
            None
        }
    }
}

/// "; did you mean \"x\"?" for the known name closest to a misspelt one (at most a third of
/// its letters off), or nothing.
fn did_you_mean<'a>(wrong: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let limit = wrong.chars().count().div_ceil(3).max(1);
    known
        .into_iter()
        .map(|k| (strsim::levenshtein(&wrong.to_lowercase(), &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| format!("; did you mean \"{k}\"?"))
        .unwrap_or_default()
}
