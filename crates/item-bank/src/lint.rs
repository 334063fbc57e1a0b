//! The bank lint: item-writing flaws that are not mistakes in the file but let a candidate
//! score without knowing the answer (a key that is always the longest option), or confuse
//! one who does (two options that say the same thing).
//!
//! Every check is a [`Check`]; `docs/bank-format.md` says what each catches, why it
//! matters and how one item silences it (`lint_allow`, with a reason). The statistics are
//! exact for the bank as written: cue counts are tested against the chance of a key
//! placed without regard to the cue (a Poisson-binomial tail, since items differ in their
//! number of options), and the score of a candidate who never reads a stem is its
//! expected value over every paper the exam's blueprint can draw.

use std::collections::BTreeMap;
use std::fmt;

use crate::bank::Bank;
use crate::exam::{Exam, ScoringRule};
use crate::model::{Item, ItemId, Key, Label, Points, SectionCode, Topic};

pub use crate::check::Check;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One thing the lint found, with the place to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub check: Check,
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    /// The item to fix; `None` for findings about a section or topic as a whole.
    pub item: Option<ItemId>,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}:{}: {severity}:", self.file, self.line)?;
        if let Some(item) = &self.item {
            write!(f, " item {item}:")?;
        }
        write!(f, " {}: {}", self.check, self.message)
    }
}

/// A way to answer without reading the stem: pick the option that stands out by this rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    Longest,
    MostClauses,
    StemEcho,
}

impl Rule {
    pub const ALL: [Rule; 3] = [Rule::Longest, Rule::MostClauses, Rule::StemEcho];

    pub fn name(self) -> &'static str {
        match self {
            Rule::Longest => "longest",
            Rule::MostClauses => "most clauses",
            Rule::StemEcho => "most like stem",
        }
    }

    fn check(self) -> Check {
        match self {
            Rule::Longest => Check::LongestKey,
            Rule::MostClauses => Check::MostClausesKey,
            Rule::StemEcho => Check::StemEchoKey,
        }
    }

    fn option_phrase(self) -> &'static str {
        match self {
            Rule::Longest => "the longest option",
            Rule::MostClauses => "the option with most clauses",
            Rule::StemEcho => "the option sharing most words with the stem",
        }
    }

    /// The rule's measure of each option; `None` when it cannot be applied because an
    /// option is an image (then the rule can only guess).
    fn values(self, item: &Item) -> Option<Vec<f64>> {
        if item.options().iter().any(|o| o.image().is_some()) {
            return None;
        }
        let stem = match self {
            Rule::StemEcho => content_words(item.stem()),
            _ => Vec::new(),
        };
        Some(
            item.options()
                .iter()
                .map(|o| match self {
                    Rule::Longest => o.text().trim().chars().count() as f64,
                    Rule::MostClauses => clauses(o.text()) as f64,
                    Rule::StemEcho => shared(&content_words(o.text()), &stem) as f64,
                })
                .collect(),
        )
    }

    /// When an item's hit is glaring on its own, whatever the rest of the bank does.
    fn glaring(self, top: f64, next: f64) -> bool {
        match self {
            // "12" against "7" is twice as long and no cue at all: the gap must be seen.
            Rule::Longest => next > 0.0 && top / next >= STRONG_LENGTH_RATIO && top - next >= 10.0,
            Rule::MostClauses => top - next >= 2.0,
            Rule::StemEcho => top - next >= 3.0,
        }
    }

    fn detail(self, top: f64, next: f64) -> String {
        match self {
            Rule::Longest if next > 0.0 => format!("{:.1}× the next", top / next),
            Rule::Longest => format!("{top} characters"),
            Rule::MostClauses => format!("{top} clauses against at most {next}"),
            Rule::StemEcho => format!("{top} of the stem's words against at most {next}"),
        }
    }
}

/// How often one rule finds the key in a section or one of its topics.
#[derive(Debug, Clone, PartialEq)]
pub struct CueStat {
    pub section: SectionCode,
    /// `None` for the section as a whole.
    pub topic: Option<Topic>,
    pub rule: Rule,
    /// Items where the rule picks exactly one option (ties and image options cannot cue).
    pub items: usize,
    /// Of those, items where that option is the key (or a best weighted option).
    pub hits: usize,
    /// Hits expected if keys were placed without regard to the rule.
    pub chance: f64,
    /// Probability of at least `hits` by chance.
    pub p_value: f64,
}

impl CueStat {
    fn flagged(&self) -> bool {
        self.items >= MIN_GROUP && self.hits as f64 > self.chance && self.p_value < ALPHA
    }
}

/// The expected section score of a candidate who never reads a stem, on the exam's blueprint.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingFree {
    pub section: SectionCode,
    /// `None`: guessing uniformly at random, the baseline.
    pub rule: Option<Rule>,
    /// Expected points over every paper the blueprint can draw.
    pub expected: f64,
    pub threshold: Points,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Fail on every finding, and on a reading-free rule that passes a section; only a
    /// reading-free score within the margin below a threshold stays a warning.
    pub strict: bool,
}

/// What the lint found and the figures behind the testwiseness checks.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// In file and line order.
    pub findings: Vec<Finding>,
    pub cues: Vec<CueStat>,
    /// Empty without an exam.
    pub reading_free: Vec<ReadingFree>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Error).count()
    }
    pub fn warnings(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Warning).count()
    }
}

/// A cue count is flagged when it is this unlikely by chance.
const ALPHA: f64 = 0.01;
/// Fewer items than this say nothing about a cue or a position.
const MIN_GROUP: usize = 5;
/// A reading-free score within this fraction below the threshold is a warning.
pub const MARGIN: f64 = 0.10;
/// A key this many times as long as every other option gives itself away on its own.
const STRONG_LENGTH_RATIO: f64 = 1.5;
/// Word-set overlap (Jaccard) from which two options or stems are near-identical.
const NEAR: f64 = 0.8;
/// Options of one item this similar word for word are near-identical. Higher than `NEAR`:
/// one word is often the whole point ("semua" against "sebagian" in a syllogism).
const NEAR_OPTIONS: f64 = 0.9;
/// Near-identical options within an item need this many words: "P > Q" and "P < Q" differ.
const MIN_WORDS_NEAR: usize = 4;
/// Shorter options recur legitimately across items as facts ("Pasal 27 ayat (1)", "Serangan
/// Umum 1 Maret 1949 di Yogyakarta"); a pasted sentence is longer.
const MIN_WORDS_COPIED: usize = 8;
/// Stems this similar word for word (edit distance over words) are near-duplicates.
const STEM_NEAR: f64 = 0.9;
const MIN_WORDS_STEM: usize = 6;

/// Lints a validated bank, and with an exam its blueprint (papers drawn, thresholds,
/// whether options are shuffled).
pub fn lint(bank: &Bank, exam: Option<&Exam>, options: Options) -> Report {
    let mut out = Out { findings: Vec::new(), strict: options.strict };
    let items = bank.items();
    let shuffled = |item: &Item| !item.pin_options() && exam.is_none_or(Exam::shuffle_options);

    let cues = cue_checks(items, &mut out);
    for item in items {
        similar_options(item, &mut out);
        option_case(item, &mut out);
        all_or_none(item, &mut out);
        if shuffled(item) {
            label_like(item, &mut out);
        }
        points_spread(item, &mut out);
    }
    copied_options(items, &mut out);
    duplicate_stems(items, &mut out);
    let pinned: Vec<&Item> = items.iter().filter(|i| !shuffled(i)).collect();
    pinned_never_keyed(&pinned, &mut out);
    pinned_key_position(&pinned, &mut out);
    without_images(items, exam, &mut out);
    let reading_free = match exam {
        Some(exam) => reading_free(bank, exam, &mut out),
        None => Vec::new(),
    };

    let mut findings = out.findings;
    findings.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Report { findings, cues, reading_free }
}

struct Out {
    findings: Vec<Finding>,
    strict: bool,
}

impl Out {
    fn item(&mut self, check: Check, item: &Item, message: String) {
        if !item.allows(check) {
            self.push(check, item.file(), item.line(), Some(item.id().clone()), message);
        }
    }

    fn push(&mut self, check: Check, file: &str, line: usize, item: Option<ItemId>, message: String) {
        let severity = if self.strict { Severity::Error } else { Severity::Warning };
        self.findings.push(Finding { check, severity, file: file.to_owned(), line, item, message });
    }
}

// ---------------------------------------------------------------------------------------
// Testwiseness cues

/// The options holding the most points: the key of a single item, the best of a weighted one.
fn best(item: &Item) -> Vec<usize> {
    match item.key() {
        Key::Single(label) => vec![label.index()],
        Key::Weighted(points) => {
            let max = points.iter().copied().max().unwrap_or_default();
            (0..points.len()).filter(|&i| points[i] == max).collect()
        }
    }
}

fn argmax(values: &[f64]) -> Vec<usize> {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (0..values.len()).filter(|&i| values[i] == max).collect()
}

/// The largest value other than the one at `top`.
fn runner_up(values: &[f64], top: usize) -> f64 {
    values.iter().enumerate().filter(|&(i, _)| i != top).map(|(_, v)| *v).fold(0.0, f64::max)
}

/// One item under one rule, when the rule singles out one option.
struct Cued {
    hit: bool,
    /// Probability of a hit if the key were placed without regard to the rule.
    chance: f64,
    top: f64,
    next: f64,
    option: usize,
}

fn cued(rule: Rule, item: &Item) -> Option<Cued> {
    let values = rule.values(item)?;
    let [top] = argmax(&values)[..] else { return None };
    let best = best(item);
    Some(Cued {
        hit: best.contains(&top),
        chance: best.len() as f64 / values.len() as f64,
        top: values[top],
        next: runner_up(&values, top),
        option: top,
    })
}

fn cue_checks(items: &[Item], out: &mut Out) -> Vec<CueStat> {
    // Sections and topics in bank order.
    let mut groups: Vec<(SectionCode, Option<Topic>)> = Vec::new();
    for item in items {
        for key in [(item.section().clone(), None), (item.section().clone(), Some(item.topic().clone()))] {
            if !groups.contains(&key) {
                groups.push(key);
            }
        }
    }
    // A section with one topic would report the same figures twice.
    let several: Vec<SectionCode> = groups
        .iter()
        .filter(|(s, _)| groups.iter().filter(|(s2, t2)| s2 == s && t2.is_some()).count() > 1)
        .map(|(s, _)| s.clone())
        .collect();
    groups.retain(|(s, t)| t.is_none() || several.contains(s));
    groups.sort_by_key(|(s, t)| (groups_order(items, s), t.is_some()));
    let mut stats = Vec::new();
    for rule in Rule::ALL {
        let check = rule.check();
        let mut flagged_items: Vec<(&ItemId, String)> = Vec::new();
        for (section, topic) in &groups {
            let members: Vec<&Item> = items
                .iter()
                .filter(|i| i.section() == section && topic.as_ref().is_none_or(|t| t == i.topic()))
                .filter(|i| !i.allows(check))
                .collect();
            let cues: Vec<(&Item, Cued)> = members.iter().filter_map(|i| cued(rule, i).map(|c| (*i, c))).collect();
            let probs: Vec<f64> = cues.iter().map(|(_, c)| c.chance).collect();
            let hits = cues.iter().filter(|(_, c)| c.hit).count();
            let stat = CueStat {
                section: section.clone(),
                topic: topic.clone(),
                rule,
                items: cues.len(),
                hits,
                // A fold from +0.0: an empty float sum is -0.0, printed "-0.0".
                chance: probs.iter().fold(0.0, |a, p| a + p),
                p_value: upper_tail(&probs, hits),
            };
            if stat.flagged()
                && let Some(first) = members.first()
            {
                let place = match topic {
                    Some(t) => format!("section {section}, topic {t}"),
                    None => format!("section {section}"),
                };
                let what = if cues.iter().any(|(i, _)| matches!(i.key(), Key::Weighted(_))) {
                    "the best option"
                } else {
                    "the key"
                };
                out.push(
                    check,
                    first.file(),
                    first.line(),
                    None,
                    format!(
                        "{place}: {what} is {} in {} of {} items, against {:.1} by chance ({})",
                        rule.option_phrase(),
                        stat.hits,
                        stat.items,
                        stat.chance,
                        p_text(stat.p_value)
                    ),
                );
                for (item, _) in cues.iter().filter(|(_, c)| c.hit) {
                    if !flagged_items.iter().any(|(id, _)| *id == item.id()) {
                        flagged_items.push((item.id(), place.clone()));
                    }
                }
            }
            stats.push(stat);
        }
        for item in items.iter().filter(|i| !i.allows(check)) {
            let Some(c) = cued(rule, item).filter(|c| c.hit) else { continue };
            let group = flagged_items.iter().find(|(id, _)| *id == item.id()).map(|(_, place)| place);
            if group.is_none() && !rule.glaring(c.top, c.next) {
                continue;
            }
            let label = Label::from_index(c.option).map_or_else(String::new, |l| l.to_string());
            let whose = match item.key() {
                Key::Single(_) => format!("the key ({label})"),
                Key::Weighted(points) => format!("the best option ({label}, {} points)", points[c.option]),
            };
            let why = match group {
                Some(place) => format!("; a cue across {place}"),
                None => String::new(),
            };
            out.item(check, item, format!("{whose} is {}, {}{why}", rule.option_phrase(), rule.detail(c.top, c.next)));
        }
    }
    stats
}

fn groups_order(items: &[Item], section: &SectionCode) -> usize {
    items.iter().position(|i| i.section() == section).unwrap_or(usize::MAX)
}

/// P(X ≥ k) for X a sum of independent Bernoulli(p_i): the exact Poisson-binomial tail.
pub(crate) fn upper_tail(probs: &[f64], k: usize) -> f64 {
    let mut dist = vec![0.0; probs.len() + 1];
    dist[0] = 1.0;
    for (n, &p) in probs.iter().enumerate() {
        for j in (0..=n + 1).rev() {
            let stay = dist[j] * (1.0 - p);
            let moved = if j > 0 { dist[j - 1] * p } else { 0.0 };
            dist[j] = stay + moved;
        }
    }
    dist.iter().skip(k).sum::<f64>().min(1.0)
}

fn p_text(p: f64) -> String {
    if p < 0.001 { "p < 0.001".to_owned() } else { format!("p = {p:.3}") }
}

/// The expected score, per section, of a candidate who answers every item by one rule.
fn reading_free(bank: &Bank, exam: &Exam, out: &mut Out) -> Vec<ReadingFree> {
    let mut rows = Vec::new();
    for section in exam.sections() {
        let in_section: Vec<&Item> = bank.items().iter().filter(|i| *i.section() == section.code).collect();
        let mut random = 0.0;
        for rule in [None, Some(Rule::Longest), Some(Rule::MostClauses), Some(Rule::StemEcho)] {
            // Each quota draws its count uniformly from its pool, so by linearity the
            // expected score is count × the pool's mean item score.
            let mut expected = 0.0;
            for quota in &section.draw {
                let pool: Vec<&Item> =
                    in_section.iter().copied().filter(|i| quota.topics.contains(i.topic())).collect();
                if pool.is_empty() {
                    continue;
                }
                let mean =
                    pool.iter().map(|i| item_expectation(i, rule, &section.scoring)).sum::<f64>() / pool.len() as f64;
                expected += f64::from(quota.count) * mean;
            }
            let threshold = section.threshold;
            match rule {
                None => random = expected,
                Some(rule) if threshold.0 > 0 && expected >= threshold.0 as f64 * (1.0 - MARGIN) => {
                    let passes = expected >= threshold.0 as f64;
                    let severity = if passes && out.strict { Severity::Error } else { Severity::Warning };
                    out.findings.push(Finding {
                        check: Check::ReadingFreeScore,
                        severity,
                        file: exam.file().to_owned(),
                        line: section.line(),
                        item: None,
                        message: format!(
                            "section {}: always choosing {} without reading the stem expects {expected:.1} points, {} the threshold {threshold} (random guessing expects {random:.1})",
                            section.code,
                            rule.option_phrase(),
                            if passes { "reaching" } else { "within 10% of" },
                        ),
                    });
                }
                Some(_) => {}
            }
            rows.push(ReadingFree { section: section.code.clone(), rule, expected, threshold });
        }
    }
    rows
}

/// One item's expected points when the rule picks among the options it ties on.
fn item_expectation(item: &Item, rule: Option<Rule>, scoring: &ScoringRule) -> f64 {
    let n = item.options().len();
    let picks = match rule.and_then(|r| r.values(item)) {
        Some(values) => argmax(&values),
        None => (0..n).collect(),
    };
    let total: i64 = picks.iter().filter_map(|&i| Label::from_index(i)).map(|l| scoring.points(item, Some(l)).0).sum();
    total as f64 / picks.len().max(1) as f64
}

// ---------------------------------------------------------------------------------------
// Options

fn similar_options(item: &Item, out: &mut Out) {
    let opts = item.options();
    // In a weighted item a shortened copy marks the fuller option as the better one; in a
    // single item it is often the right distractor ("DPR" against "DPR Daerah").
    let weighted = matches!(item.key(), Key::Weighted(_));
    for i in 0..opts.len() {
        for j in i + 1..opts.len() {
            let (a, b) = (&opts[i], &opts[j]);
            if a.text().trim().is_empty() || b.text().trim().is_empty() || a.image() != b.image() {
                continue;
            }
            let (wa, wb) = (words(a.text()), words(b.text()));
            let message = if plain(a.text()) == plain(b.text()) {
                format!("options {} and {} read the same: {:?}", a.label(), b.label(), a.text().trim())
            } else if wa == wb {
                format!("options {} and {} differ only in punctuation or spacing", a.label(), b.label())
            } else if wa.len().min(wb.len()) >= MIN_WORDS_NEAR && similarity(&wa, &wb) >= NEAR_OPTIONS {
                // Word order counts: "if A then B" and "if B then A" are different answers.
                format!(
                    "options {} and {} are near-identical ({:.0}% the same words in the same order)",
                    a.label(),
                    b.label(),
                    similarity(&wa, &wb) * 100.0
                )
            } else if let Some(a_is_short) = weighted.then(|| cut_short(&wa, &wb)).flatten() {
                let (s, l) = if a_is_short { (a, b) } else { (b, a) };
                format!("option {} is option {} cut short: {:?}", s.label(), l.label(), s.text().trim())
            } else {
                continue;
            };
            out.item(Check::SimilarOptions, item, message);
        }
    }
}

/// `Some(true)` if `a`'s words (3 or more) appear in order, contiguously, in `b`;
/// `Some(false)` if `b`'s appear in `a`.
fn cut_short(a: &[String], b: &[String]) -> Option<bool> {
    let contains = |long: &[String], short: &[String]| {
        short.len() >= 3 && short.len() < long.len() && long.windows(short.len()).any(|w| w == short)
    };
    if contains(b, a) {
        Some(true)
    } else if contains(a, b) {
        Some(false)
    } else {
        None
    }
}

fn copied_options(items: &[Item], out: &mut Out) {
    struct Entry<'a> {
        item: usize,
        option: usize,
        words: &'a [String],
        set: Vec<&'a str>,
    }
    let lists: Vec<Vec<String>> = items.iter().map(|i| i.options().iter().map(|o| plain(o.text())).collect()).collect();
    let texts: Vec<Vec<Vec<String>>> =
        items.iter().map(|i| i.options().iter().map(|o| words(o.text())).collect()).collect();
    // In bank order, so the first match found for an option is the earliest it copies.
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for (item, options) in texts.iter().enumerate() {
        for (option, words) in options.iter().enumerate() {
            if words.len() >= MIN_WORDS_COPIED {
                entries.push(Entry { item, option, words, set: word_set(words) });
            }
        }
    }
    let mut found: BTreeMap<(usize, usize), (usize, usize, bool)> = BTreeMap::new();
    for (x, early) in entries.iter().enumerate() {
        for late in &entries[x + 1..] {
            // Items sharing their whole option list are one format, not a paste.
            if early.item == late.item || lists[early.item] == lists[late.item] {
                continue;
            }
            // Overlap with the shorter option, not Jaccard: a pasted option is often edited
            // by a few words at its end ("…, selama bahasanya sopan dan tidak menyebut…").
            let same = early.words == late.words;
            if same || overlap(&early.set, &late.set) >= NEAR {
                found.entry((late.item, late.option)).or_insert((early.item, early.option, same));
            }
        }
    }
    for ((ii, oi), (ei, eo, same)) in found {
        let (item, source) = (&items[ii], &items[ei]);
        if source.allows(Check::CopiedOption) {
            continue;
        }
        let label = |i: usize| Label::from_index(i).map_or_else(String::new, |l| l.to_string());
        out.item(
            Check::CopiedOption,
            item,
            format!(
                "option {} is {}option {} of {} ({}:{})",
                label(oi),
                if same { "" } else { "nearly " },
                label(eo),
                source.id(),
                source.file(),
                source.line()
            ),
        );
    }
}

fn option_case(item: &Item, out: &mut Out) {
    let cases: Vec<(Label, bool)> = item
        .options()
        .iter()
        .filter_map(|o| {
            let first = o.text().trim_start().chars().next()?;
            (first.is_alphabetic() && (first.is_uppercase() || first.is_lowercase()))
                .then(|| (o.label(), first.is_uppercase()))
        })
        .collect();
    let upper = cases.iter().filter(|(_, u)| *u).count();
    let lower = cases.len() - upper;
    let odd = match (upper, lower) {
        (1, l) if l >= 2 => Some(true),
        (u, 1) if u >= 2 => Some(false),
        _ => None,
    };
    if let Some(odd_upper) = odd
        && let Some((label, _)) = cases.iter().find(|(_, u)| *u == odd_upper)
    {
        let (this, others) = if odd_upper { ("upper", "lower") } else { ("lower", "upper") };
        out.item(
            Check::OptionCase,
            item,
            format!("option {label} starts in {this} case, every other option in {others} case"),
        );
    }
}

const ALL_OR_NONE: &[&str] = &[
    "semua benar",
    "semuanya benar",
    "semua jawaban benar",
    "semua jawaban di atas benar",
    "semua pilihan benar",
    "semua pernyataan benar",
    "semua salah",
    "semuanya salah",
    "semua jawaban salah",
    "tidak ada yang benar",
    "tidak ada jawaban yang benar",
    "tidak ada pilihan yang benar",
    "tidak ada satu pun yang benar",
    "all of the above",
    "none of the above",
    "all of these",
    "none of these",
    "all the above",
    "all are correct",
    "none are correct",
    "none is correct",
    "both a and b",
];

/// Words that may join label letters in an option that points at other options.
const LABEL_JOINERS: &[&str] = &["dan", "and", "serta", "atau", "or", "benar", "saja", "both", "keduanya", "correct"];

fn is_label_word(w: &str) -> bool {
    matches!(w, "a" | "b" | "c" | "d" | "e")
}

/// "A dan B benar", "B and C": an option that names other options by label.
fn names_labels(w: &[String]) -> bool {
    w.iter().filter(|w| is_label_word(w)).count() >= 2
        && w.iter().all(|w| is_label_word(w) || LABEL_JOINERS.contains(&w.as_str()))
}

fn all_or_none(item: &Item, out: &mut Out) {
    for o in item.options() {
        let w = words(o.text());
        let padded = format!(" {} ", w.join(" "));
        let hit = ALL_OR_NONE.iter().find(|p| padded.contains(&format!(" {p} ")));
        let message = match hit {
            Some(phrase) => format!("option {} says {phrase:?}: it answers about the other options", o.label()),
            None if names_labels(&w) => {
                format!("option {} ({:?}) answers by naming other options", o.label(), o.text())
            }
            None => continue,
        };
        out.item(Check::AllOrNoneOption, item, message);
    }
}

fn label_like(item: &Item, out: &mut Out) {
    let like: Vec<String> = item
        .options()
        .iter()
        .filter(|o| {
            let t: String = o.text().chars().filter(|c| !matches!(c, '(' | ')' | '.' | '[' | ']' | ' ')).collect();
            let single = t.len() == 1 && t.chars().all(|c| matches!(c.to_ascii_lowercase(), 'a'..='e'));
            single || names_labels(&words(o.text()))
        })
        .map(|o| format!("{} ({:?})", o.label(), o.text().trim()))
        .collect();
    if !like.is_empty() {
        out.item(
            Check::LabelLikeOption,
            item,
            format!(
                "option text that reads like a label while options are shuffled: {}; the candidate sees it under another label",
                like.join(", ")
            ),
        );
    }
}

fn points_spread(item: &Item, out: &mut Out) {
    let Key::Weighted(points) = item.key() else { return };
    let mut problems = Vec::new();
    let mut levels: Vec<i64> = points.iter().map(|p| p.0).collect();
    levels.sort_unstable();
    levels.dedup();
    for &level in levels.iter().rev() {
        let at: Vec<String> = (0..points.len())
            .filter(|&i| points[i].0 == level)
            .filter_map(Label::from_index)
            .map(|l| l.to_string())
            .collect();
        if at.len() > 1 {
            problems.push(format!("options {} all score {level}", at.join(", ")));
        }
    }
    let missing: Vec<String> = levels.windows(2).flat_map(|w| (w[0] + 1..w[1]).map(|p| p.to_string())).collect();
    if !missing.is_empty() {
        problems.push(format!("no option scores {}", missing.join(", ")));
    }
    if !problems.is_empty() {
        out.item(
            Check::PointsSpread,
            item,
            format!(
                "points are not a spread: {} (an intended pattern needs a lint_allow with its reason)",
                problems.join("; ")
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------
// Across items

fn duplicate_stems(items: &[Item], out: &mut Out) {
    fn images(i: &Item) -> Vec<Option<&str>> {
        let mut v: Vec<Option<&str>> = i.options().iter().map(|o| o.image()).collect();
        v.push(i.image());
        v
    }
    let prepared: Vec<(Vec<String>, Vec<String>, String)> = items
        .iter()
        .map(|i| {
            let w = words(i.stem());
            let set = word_set(&w).into_iter().map(str::to_owned).collect();
            (w, set, plain(i.stem()))
        })
        .collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| prepared[i].0.len());
    let mut found: BTreeMap<usize, (usize, f64)> = BTreeMap::new();
    for x in 0..order.len() {
        for &j in &order[x + 1..] {
            let i = order[x];
            let (a, b) = (&prepared[i], &prepared[j]);
            let exact = a.2 == b.2;
            if !exact && (a.0.len() as f64) < b.0.len() as f64 * STEM_NEAR {
                break;
            }
            // Same words over different figures are different questions.
            if images(&items[i]) != images(&items[j]) {
                continue;
            }
            let similarity = if exact {
                1.0
            } else if a.0.len().min(b.0.len()) < MIN_WORDS_STEM || jaccard_sets(&a.1, &b.1) < STEM_NEAR - 0.2 {
                continue;
            } else {
                let s = similarity(&a.0, &b.0);
                if s < STEM_NEAR {
                    continue;
                }
                s
            };
            let (early, late) = if i < j { (i, j) } else { (j, i) };
            let slot = found.entry(late).or_insert((early, similarity));
            if early < slot.0 {
                *slot = (early, similarity);
            }
        }
    }
    for (late, (early, similarity)) in found {
        let (item, other) = (&items[late], &items[early]);
        if other.allows(Check::DuplicateStem) {
            continue;
        }
        let how = if similarity >= 1.0 {
            "repeats".to_owned()
        } else {
            format!("nearly repeats ({:.0}% the same words)", similarity * 100.0)
        };
        out.item(
            Check::DuplicateStem,
            item,
            format!("the stem {how} the stem of {} ({}:{})", other.id(), other.file(), other.line()),
        );
    }
}

fn pinned_never_keyed(pinned: &[&Item], out: &mut Out) {
    /// An option list as the candidate sees it: each option's text and image.
    type Signature<'a> = Vec<(String, Option<&'a str>)>;
    let mut groups: Vec<(Signature<'_>, Vec<&Item>)> = Vec::new();
    for item in pinned.iter().filter(|i| !i.allows(Check::PinnedNeverKeyed)) {
        let signature: Vec<(String, Option<&str>)> =
            item.options().iter().map(|o| (plain(o.text()), o.image())).collect();
        match groups.iter_mut().find(|(s, _)| *s == signature) {
            Some((_, members)) => members.push(item),
            None => groups.push((signature, vec![item])),
        }
    }
    for (signature, members) in groups {
        // With fewer items than options some option goes unkeyed by simple arithmetic.
        if members.len() < signature.len().max(3) {
            continue;
        }
        let ids: Vec<String> = members.iter().map(|i| i.id().to_string()).collect();
        for position in 0..signature.len() {
            if members.iter().any(|i| best(i).contains(&position)) {
                continue;
            }
            let first = members[0];
            let label = Label::from_index(position).map_or_else(String::new, |l| l.to_string());
            let text = first.options()[position].text().trim();
            out.item(
                Check::PinnedNeverKeyed,
                first,
                format!(
                    "option {label} ({text:?}) is pinned in {} items with the same options ({}) and is the key of none: candidates learn to rule it out",
                    members.len(),
                    ids.join(", ")
                ),
            );
        }
    }
}

fn pinned_key_position(pinned: &[&Item], out: &mut Out) {
    let mut sections: Vec<(&SectionCode, Vec<&Item>)> = Vec::new();
    for item in pinned.iter().filter(|i| !i.allows(Check::PinnedKeyPosition)) {
        match sections.iter_mut().find(|(s, _)| *s == item.section()) {
            Some((_, members)) => members.push(item),
            None => sections.push((item.section(), vec![item])),
        }
    }
    for (section, members) in sections {
        let keyed: Vec<(&Item, usize)> = members
            .iter()
            .filter_map(|i| match best(i)[..] {
                [only] => Some((*i, only)),
                _ => None,
            })
            .collect();
        if keyed.len() < MIN_GROUP {
            continue;
        }
        let positions = keyed.iter().map(|(i, _)| i.options().len()).max().unwrap_or(0);
        for position in 0..positions {
            let probs: Vec<f64> = keyed
                .iter()
                .filter(|(i, _)| i.options().len() > position)
                .map(|(i, _)| 1.0 / i.options().len() as f64)
                .collect();
            let at: Vec<&Item> = keyed.iter().filter(|(_, k)| *k == position).map(|(i, _)| *i).collect();
            let chance: f64 = probs.iter().sum();
            // Bonferroni over the positions tested.
            let p = (upper_tail(&probs, at.len()) * positions as f64).min(1.0);
            if (at.len() as f64) <= chance || p >= ALPHA {
                continue;
            }
            let label = Label::from_index(position).map_or_else(String::new, |l| l.to_string());
            let ids: Vec<String> = at.iter().map(|i| i.id().to_string()).collect();
            let first = keyed[0].0;
            out.push(
                Check::PinnedKeyPosition,
                first.file(),
                first.line(),
                None,
                format!(
                    "section {section}: the key is option {label} in {} of {} items with pinned options ({}), against {chance:.1} by chance ({})",
                    at.len(),
                    keyed.len(),
                    ids.join(", "),
                    p_text(p)
                ),
            );
        }
    }
}

/// Words in a topic slug or section name that promise figures.
const FIGURAL: &[&str] = &["figur", "gambar", "figure", "visual", "spasial", "spatial", "diagram", "picture"];

fn without_images(items: &[Item], exam: Option<&Exam>, out: &mut Out) {
    let promising = |text: &str| {
        let lower = text.to_lowercase();
        FIGURAL.iter().find(|w| lower.contains(*w)).is_some()
    };
    for item in items {
        let has_image = item.image().is_some() || item.options().iter().any(|o| o.image().is_some());
        if has_image {
            continue;
        }
        let section_name =
            exam.and_then(|e| e.section(item.section())).map(|s| s.name.as_str()).filter(|n| promising(n));
        let promise = if promising(item.topic().as_str()) {
            format!("topic {} promises figures", item.topic())
        } else if let Some(name) = section_name {
            format!("section {} ({name}) promises figures", item.section())
        } else {
            continue;
        };
        out.item(Check::TopicWithoutImages, item, format!("{promise} but the item shows no image"));
    }
}

// ---------------------------------------------------------------------------------------
// Text

/// Signs that carry meaning in an option ("P > Q" is not "P < Q"), kept as words.
const SIGNS: &[char] = &['<', '>', '=', '≠', '≤', '≥', '+', '−', '×', '÷', '%', '/', '*', '^'];

/// Lower-case words (letters and digits) and signs; punctuation dropped.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if SIGNS.contains(&c) {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// The text as a reader compares it: case and spacing ignored, symbols kept ("P > Q" is not "P < Q").
fn plain(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").trim_end_matches('.').to_lowercase()
}

fn word_set(words: &[String]) -> Vec<&str> {
    let mut set: Vec<&str> = words.iter().map(String::as_str).collect();
    set.sort_unstable();
    set.dedup();
    set
}

/// 1 − the word-level edit distance over the longer length: 1 for the same words in the
/// same order.
fn similarity(a: &[String], b: &[String]) -> f64 {
    1.0 - edit_distance(a, b) as f64 / a.len().max(b.len()).max(1) as f64
}

/// |A ∩ B| of two sorted, deduplicated sets.
fn common<S: AsRef<str>>(a: &[S], b: &[S]) -> usize {
    let (mut i, mut j, mut both) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].as_ref().cmp(b[j].as_ref()) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    both
}

/// |A ∩ B| / |A ∪ B| of two sorted, deduplicated sets.
fn jaccard_sets<S: AsRef<str>>(a: &[S], b: &[S]) -> f64 {
    let both = common(a, b);
    let union = a.len() + b.len() - both;
    if union == 0 { 1.0 } else { both as f64 / union as f64 }
}

/// |A ∩ B| / min(|A|, |B|) of two sorted, deduplicated sets.
fn overlap(a: &[&str], b: &[&str]) -> f64 {
    common(a, b) as f64 / a.len().min(b.len()).max(1) as f64
}

/// Words-level Levenshtein distance.
fn edit_distance(a: &[String], b: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for (i, wa) in a.iter().enumerate() {
        row[0] = i + 1;
        for (j, wb) in b.iter().enumerate() {
            row[j + 1] = (prev[j] + usize::from(wa != wb)).min(prev[j + 1] + 1).min(row[j] + 1);
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()]
}

/// Conjunctions that join clauses in the languages banks are written in.
const CONJUNCTIONS: &[&str] =
    &["dan", "serta", "lalu", "kemudian", "sekaligus", "sambil", "maupun", "and", "then", "while"];

/// Clauses in an option: runs of words between separators (',' ';' ':', not a decimal
/// comma) and conjunctions. "X, Y, dan Z" has three.
pub(crate) fn clauses(text: &str) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut segments = vec![String::new()];
    for (i, &c) in chars.iter().enumerate() {
        let decimal =
            c == ',' && i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if matches!(c, ',' | ';' | ':') && !decimal {
            segments.push(String::new());
        } else if let Some(last) = segments.last_mut() {
            last.push(c);
        }
    }
    let mut count = 0;
    for segment in segments {
        let mut in_run = false;
        for w in words(&segment) {
            if CONJUNCTIONS.contains(&w.as_str()) {
                in_run = false;
            } else if !in_run {
                in_run = true;
                count += 1;
            }
        }
    }
    count
}

/// Function words long enough to pass the length filter but saying nothing about content.
const STOP_WORDS: &[&str] = &[
    "yang", "dengan", "untuk", "dalam", "pada", "agar", "atau", "tidak", "akan", "sudah", "karena", "adalah", "juga",
    "lebih", "saat", "oleh", "bila", "jika", "apabila", "kepada", "dari", "anda", "saya", "this", "that", "with",
    "from", "have", "will", "your", "which", "what", "when", "their", "there", "they", "them", "than", "into", "about",
    "would", "should", "could", "been", "were", "does",
];

fn content_words(text: &str) -> Vec<String> {
    let mut w: Vec<String> =
        words(text).into_iter().filter(|w| w.chars().count() >= 4 && !STOP_WORDS.contains(&w.as_str())).collect();
    w.sort_unstable();
    w.dedup();
    w
}

/// Distinct words two sorted, deduplicated lists share.
fn shared(a: &[String], b: &[String]) -> usize {
    a.iter().filter(|w| b.binary_search(w).is_ok()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_tail(probs: &[f64], k: usize, expected: f64) {
        let got = upper_tail(probs, k);
        assert!((got - expected).abs() < 1e-9, "P(X >= {k}) = {got}, expected {expected}");
    }

    #[test]
    fn the_tail_is_the_binomial_tail_when_every_item_has_the_same_chance() {
        // Binomial(10, 0.2): P(X >= 5) = 0.0327934976, P(X >= 0) = 1, P(X >= 10) = 0.2^10.
        check_tail(&[0.2; 10], 5, 0.032_793_497_6);
        check_tail(&[0.2; 10], 0, 1.0);
        check_tail(&[0.2; 10], 10, 0.2f64.powi(10));
        // Mixed chances: P(X >= 2) for p = (0.5, 0.25) is 0.125.
        check_tail(&[0.5, 0.25], 2, 0.125);
        check_tail(&[0.5, 0.25], 3, 0.0);
    }

    #[track_caller]
    fn check_clauses(text: &str, expected: usize) {
        assert_eq!(clauses(text), expected, "{text:?}");
    }

    #[test]
    fn clauses_are_counted_at_separators_and_conjunctions_but_not_decimal_commas() {
        check_clauses("Melaporkannya.", 1);
        check_clauses("meminta maaf, menelusuri berkas, dan memberi kepastian", 3);
        check_clauses("menjelaskan kembali dan memastikan ia paham; lalu mencatatnya", 3);
        check_clauses("Rp1,5 juta", 1);
        check_clauses("", 0);
    }

    #[test]
    fn every_check_name_parses_back() {
        for check in Check::ALL {
            assert_eq!(Check::parse(check.name()), Some(check));
        }
        assert_eq!(Check::parse("longest"), None);
    }
}
