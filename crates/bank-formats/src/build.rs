//! Questions to a bank's own files: each question's kind and key decided, every problem
//! reported with its line, one item file per topic, and the result checked by
//! [`item_bank::Bank::parse`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use item_bank::{BankSource, Diagnostic};

use crate::{Format, Parsed, Question, problem};

/// How an import names what it makes.
#[derive(Debug, Clone)]
pub struct Options {
    /// The bank's name (`[a-z0-9-]+`).
    pub name: String,
    /// The section code every imported item is put in; none of the formats has sections.
    pub section: String,
    /// Import the good questions even when others are wrong (the wrong ones are listed).
    pub skip_bad: bool,
}

/// A question left out, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file inside a package (QTI) the question is in; None for the imported file.
    pub part: Option<String>,
    pub line: usize,
    /// Short and shared by questions skipped for the same cause (`essay`, `numerical`,
    /// `invalid`), so the summary can count them.
    pub reason: String,
}

/// What an import did: the summary printed at its end.
#[derive(Debug, Default)]
pub struct Report {
    /// Every problem, in line order. Non-empty means nothing is written unless skip_bad.
    pub problems: Vec<Diagnostic>,
    /// Items imported per topic, in first-seen order.
    pub imported: Vec<(String, usize)>,
    /// Questions skipped, in line order.
    pub skipped: Vec<Skipped>,
}

impl Report {
    /// Skipped questions counted by reason, in reason order.
    pub fn skipped_by_reason(&self) -> BTreeMap<&str, Vec<usize>> {
        let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for s in &self.skipped {
            out.entry(s.reason.as_str()).or_default().push(s.line);
        }
        out
    }
}

/// The outcome: the bank's files (None when a problem blocks writing) and the report.
#[derive(Debug)]
pub struct Import {
    pub source: Option<BankSource>,
    pub report: Report,
}

/// The reason recorded for questions left out because they are wrong (with `skip_bad`).
pub const INVALID: &str = "invalid";

/// Reads `text` as `format` and builds a bank from it. Deterministic: the same text and
/// options give the same files, hence the same bank hash.
pub fn import(format: Format, file: &str, text: &str, options: &Options) -> Import {
    import_parsed(format, file, crate::parse(format, file, text), options, &mut |_, _| {})
}

/// [`import`] of what a reader already read (a QTI package is read from bytes, see
/// [`crate::parse_bytes`]). `progress` is told how many questions are done of how many.
pub fn import_parsed(
    format: Format,
    file: &str,
    parsed: Parsed,
    options: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Import {
    let parsed_assets = parsed.assets;
    let meta = parsed.bank;
    // ujian's own exports are taken exactly as written, so a round trip keeps the hash.
    let verbatim = meta.is_some();
    let mut report = Report { problems: parsed.problems, skipped: parsed.skipped, ..Report::default() };
    // Readers list the questions they could not read as skipped; questions read but not
    // fit for ujian join them here. A question is known by its file and line.
    let mut bad: BTreeSet<(Option<String>, usize)> = BTreeSet::new();
    let reader_bad: BTreeSet<(Option<String>, usize)> =
        report.skipped.iter().filter(|s| s.reason == INVALID).map(|s| (s.part.clone(), s.line)).collect();
    let mut items = Vec::new();
    let mut ids = BTreeSet::new();
    let total = parsed.questions.len();
    for (n, q) in parsed.questions.iter().enumerate() {
        let at = (q.part.clone(), q.line);
        let shown = q.part.as_deref().unwrap_or(file);
        match plan(shown, q, &options.section, n + 1, &mut ids, verbatim) {
            // A reader may hand over a question it found wrong (a missing image) so that
            // its other problems are reported too; it is never imported.
            Ok(_) if reader_bad.contains(&at) => {}
            Ok(item) => items.push(item),
            Err(problems) => {
                bad.insert(at);
                report.problems.extend(problems);
            }
        }
        if n % 256 == 255 || n + 1 == total {
            progress(n + 1, total);
        }
    }
    report.problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    for (part, line) in bad {
        let skipped = Skipped { part, line, reason: INVALID.to_owned() };
        if !report.skipped.contains(&skipped) {
            report.skipped.push(skipped);
        }
    }
    report.skipped.sort_by(|a, b| (&a.part, a.line).cmp(&(&b.part, b.line)));
    if !report.problems.is_empty() && !options.skip_bad {
        return Import { source: None, report };
    }

    // One file per run of items of one topic, so that the bank keeps the order it was
    // read in (the bank hash follows item order); the summary counts per topic.
    let mut runs: Vec<(String, Vec<Planned>)> = Vec::new();
    for item in items {
        match runs.last_mut() {
            Some((t, list)) if *t == item.topic => list.push(item),
            _ => runs.push((item.topic.clone(), vec![item])),
        }
        let topic = &runs[runs.len() - 1].0;
        match report.imported.iter_mut().find(|(t, _)| t == topic) {
            Some((_, n)) => *n += 1,
            None => report.imported.push((topic.clone(), 1)),
        }
    }
    if runs.is_empty() {
        // Line 1: even a file with nothing usable gets a position an editor can open.
        report.problems.push(problem(file, 1, None, "no question could be imported"));
        return Import { source: None, report };
    }

    let mut source = BankSource::default();
    // Only the images a written item shows: a skipped question's images stay behind.
    for item in runs.iter().flat_map(|(_, list)| list) {
        for name in item.image.iter().chain(item.options.iter().filter_map(|(_, i)| i.as_ref())) {
            if let Some(bytes) = parsed_assets.get(name) {
                source.assets.insert(name.clone(), bytes.clone());
            }
        }
    }
    let mut files: Vec<String> = Vec::new();
    for (topic, _) in &runs {
        let mut name = format!("{topic}.toml");
        let mut n = 2;
        while files.contains(&name) {
            name = format!("{topic}-{n}.toml");
            n += 1;
        }
        files.push(name);
    }
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let (version, title) = match &meta {
        Some(m) => (m.version.clone(), m.title.clone()),
        None => ("1".to_owned(), format!("imported from {base} ({format})")),
    };
    let mut meta_text = String::new();
    let _ = writeln!(meta_text, "name = {}", quote(&options.name));
    let _ = writeln!(meta_text, "version = {}", quote(&version));
    let _ = writeln!(meta_text, "title = {}", quote(&title));
    let _ = writeln!(meta_text, "files = [{}]", files.iter().map(|f| quote(f)).collect::<Vec<_>>().join(", "));
    source.files.insert(item_bank::bank::BANK_FILE.to_owned(), meta_text);
    for ((_, list), name) in runs.iter().zip(&files) {
        source.files.insert(name.clone(), item_file(file, &options.section, list));
    }
    // The bank's own rules have the last word; a failure here is a gap in the checks
    // above, reported rather than written.
    if let Err(diags) = crate::validate(source.clone()) {
        report.problems.extend(diags.0);
        return Import { source: None, report };
    }
    Import { source: Some(source), report }
}

/// An item ready to be written.
#[derive(Debug)]
struct Planned {
    id: String,
    topic: String,
    /// The item's own section when it differs from the import's.
    section: Option<String>,
    difficulty: Option<u8>,
    stem: String,
    image: Option<String>,
    options: Vec<(String, Option<String>)>,
    key: PlannedKey,
    pin_options: bool,
    explanation: Option<String>,
}

#[derive(Debug)]
enum PlannedKey {
    Single(usize),
    Weighted(Vec<i64>),
}

const MAX_OPTIONS: usize = item_bank::Label::MAX_OPTIONS;

/// Decides a question's kind and key, or says everything that stops it being an item.
fn plan(
    file: &str,
    q: &Question,
    section: &str,
    number: usize,
    ids: &mut BTreeSet<String>,
    verbatim: bool,
) -> Result<Planned, Vec<Diagnostic>> {
    let keep = |s: &str| if verbatim { s.to_owned() } else { s.trim().to_owned() };
    let title = q.title.as_deref();
    let mut problems = Vec::new();
    let mut err = |line: usize, m: String| problems.push(problem(file, line, title, m));
    if q.stem.trim().is_empty() {
        err(q.line, "the question has no text".to_owned());
    }
    let n = q.answers.len();
    if !(2..=MAX_OPTIONS).contains(&n) {
        err(q.line, format!("has {n} answer(s); a ujian item has 2 to {MAX_OPTIONS} options"));
    }
    for (i, a) in q.answers.iter().enumerate() {
        if a.text.trim().is_empty() && a.image.is_none() {
            err(a.line, format!("answer {} has no text", i + 1));
        }
    }
    let key = if q.answers.iter().any(|a| a.weighted) {
        let mut points = Vec::new();
        for a in &q.answers {
            let p = if a.keyed { 100.0 } else { a.percent };
            if !(0.0..=100.0).contains(&p) {
                err(a.line, format!("weight {p}% is outside 0..100% (a ujian option earns 0 to 100 points)"));
            }
            points.push(p.round() as i64);
        }
        if points.iter().all(|p| *p == 0) {
            err(q.line, "no answer earns any points".to_owned());
        }
        PlannedKey::Weighted(points)
    } else {
        let keyed: Vec<usize> = (0..n).filter(|i| q.answers[*i].keyed).collect();
        match keyed.as_slice() {
            [one] => PlannedKey::Single(*one),
            [] => {
                err(q.line, "no key: no answer is marked correct".to_owned());
                PlannedKey::Single(0)
            }
            [_, more @ ..] => {
                let which: Vec<String> = keyed.iter().map(|i| (i + 1).to_string()).collect();
                err(q.answers[more[0]].line, format!("two keys: answers {} are all marked correct", which.join(", ")));
                PlannedKey::Single(0)
            }
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let id = match title.map(code).filter(|c| !c.is_empty() && !ids.contains(c)) {
        Some(c) => c,
        None => {
            let mut id = format!("{section}-{number:04}");
            while ids.contains(&id) {
                id.push('x');
            }
            id
        }
    };
    ids.insert(id.clone());
    Ok(Planned {
        id,
        topic: q.category.as_deref().map(topic_slug).filter(|t| !t.is_empty()).unwrap_or_else(|| "umum".to_owned()),
        section: q.section.clone().filter(|s| s != section && is_code(s)),
        difficulty: q.difficulty.filter(|d| (1..=5).contains(d)),
        stem: keep(&q.stem),
        image: q.image.clone(),
        options: q.answers.iter().map(|a| (keep(&a.text), a.image.clone())).collect(),
        key,
        pin_options: q.pin_options,
        explanation: q.explanation.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned),
    })
}

/// A title as an item id: letters, digits, `-` and `_`, other characters as `-`.
fn code(title: &str) -> String {
    let mapped: String =
        title.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' }).collect();
    collapse(&mapped)
}

/// A category path as a topic slug. Moodle's `$course$`/`$system$` prefixes and its
/// `top` level name no real category and are dropped; the levels are joined with `-`.
fn topic_slug(path: &str) -> String {
    let levels: Vec<&str> = path
        .split('/')
        .map(str::trim)
        .filter(|l| {
            let moodle_root = l.eq_ignore_ascii_case("top") || (l.starts_with('$') && l.ends_with('$'));
            !(l.is_empty() || moodle_root)
        })
        .collect();
    let mapped: String = levels
        .join("-")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    collapse(&mapped)
}

/// `[A-Za-z0-9_-]{1,64}`, item-bank's rule for section codes.
fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn collapse(s: &str) -> String {
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn item_file(file: &str, section: &str, items: &[Planned]) -> String {
    let mut out = String::new();
    let _ =
        writeln!(out, "# Imported from {} by `ujian bank import`.", file.rsplit(['/', '\\']).next().unwrap_or(file));
    let _ = writeln!(out, "section = {}", quote(section));
    for item in items {
        out.push_str("\n[[item]]\n");
        let _ = writeln!(out, "id = {}", quote(&item.id));
        if let Some(s) = &item.section {
            let _ = writeln!(out, "section = {}", quote(s));
        }
        let _ = writeln!(out, "topic = {}", quote(&item.topic));
        if let Some(d) = item.difficulty {
            let _ = writeln!(out, "difficulty = {d}");
        }
        match &item.key {
            PlannedKey::Single(k) => {
                out.push_str("kind = \"single\"\n");
                let _ = writeln!(out, "answer = \"{}\"", label(*k));
            }
            PlannedKey::Weighted(_) => out.push_str("kind = \"weighted\"\n"),
        }
        let _ = writeln!(out, "stem = {}", quote(&item.stem));
        if let Some(image) = &item.image {
            let _ = writeln!(out, "image = {}", quote(image));
        }
        if item.pin_options {
            out.push_str("pin_options = true\n");
        }
        if let Some(e) = &item.explanation {
            let _ = writeln!(out, "explanation = {}", quote(e));
        }
        out.push_str("options = [\n");
        for (i, (text, image)) in item.options.iter().enumerate() {
            let _ = write!(out, "  {{ label = \"{}\", text = {}", label(i), quote(text));
            if let Some(image) = image {
                let _ = write!(out, ", image = {}", quote(image));
            }
            if let PlannedKey::Weighted(points) = &item.key {
                let _ = write!(out, ", points = {}", points[i]);
            }
            out.push_str(" },\n");
        }
        out.push_str("]\n");
    }
    out
}

fn label(i: usize) -> char {
    (b'A' + i as u8) as char
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_topic(path: &str, expected: &str) {
        assert_eq!(topic_slug(path), expected);
    }

    #[test]
    fn category_paths_become_topic_slugs() {
        check_topic("$course$/top/Matematika/Aljabar Dasar", "matematika-aljabar-dasar");
        check_topic("Wawasan Kebangsaan", "wawasan-kebangsaan");
        check_topic("$system$/top", "");
        check_topic("  //Bahasa__Indonesia// ", "bahasa-indonesia");
    }

    #[test]
    fn titles_become_ids_with_only_code_characters() {
        assert_eq!(code("Soal 1: ibu kota"), "Soal-1-ibu-kota");
        assert_eq!(code("???"), "");
    }
}
