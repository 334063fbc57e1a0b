//! The committee's commands: check banks and exams, convert CSV, import candidates.
//! Output is for people: tables on stdout, every problem on stderr, exit 1 on any problem.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use item_bank::{Bank, BankError, Exam, ExamSummary, ScoringRule};
use store::{NewCandidate, Store};

use crate::app::Config;
use crate::credentials;

/// Prints every diagnostic and a count; returns the failure exit code.
fn report(err: &BankError) -> ExitCode {
    match err {
        BankError::Invalid(diags) => {
            for d in diags.iter() {
                eprintln!("{d}");
            }
            let n = diags.len();
            eprintln!("{n} problem{} found", if n == 1 { "" } else { "s" });
        }
        BankError::Io { .. } => eprintln!("error: {err}"),
    }
    ExitCode::FAILURE
}

pub(crate) fn bank_validate(path: &Path) -> ExitCode {
    let bank = match Bank::load(path) {
        Ok(b) => b,
        Err(e) => return report(&e),
    };
    print_bank(&bank);
    println!("ok: {} items, {} assets, no problems", bank.items().len(), bank.source().assets.len());
    // Flaws are not mistakes: the bank is valid, but the committee sees them at once.
    let lint = item_bank::lint::lint(&bank, None, item_bank::lint::Options::default());
    for f in &lint.findings {
        eprintln!("{f}");
    }
    if !lint.findings.is_empty() {
        eprintln!(
            "{} lint warning{} (see `ujian bank lint {} --exam EXAM` for the figures)",
            lint.findings.len(),
            if lint.findings.len() == 1 { "" } else { "s" },
            path.display()
        );
    }
    ExitCode::SUCCESS
}

pub(crate) fn bank_lint(path: &Path, exam_path: Option<&Path>, strict: bool) -> ExitCode {
    let bank = match Bank::load(path) {
        Ok(b) => b,
        Err(e) => return report(&e),
    };
    let exam = match exam_path {
        None => None,
        Some(exam_path) => {
            let text = match std::fs::read_to_string(exam_path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", exam_path.display());
                    return ExitCode::FAILURE;
                }
            };
            let exam = match Exam::parse(&exam_path.display().to_string(), &text) {
                Ok(exam) => exam,
                Err(diags) => return report(&BankError::Invalid(diags)),
            };
            // The blueprint is checked against the bank being linted, which may be a
            // working copy rather than the folder the exam names.
            if let Err(diags) = exam.check(&bank) {
                return report(&BankError::Invalid(diags));
            }
            Some(exam)
        }
    };
    let lint = item_bank::lint::lint(&bank, exam.as_ref(), item_bank::lint::Options { strict });
    print_lint(&bank, exam.as_ref(), &lint);
    for f in &lint.findings {
        eprintln!("{f}");
    }
    let (errors, warnings) = (lint.errors(), lint.warnings());
    eprintln!(
        "{errors} error{}, {warnings} warning{}",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" }
    );
    if errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn print_lint(bank: &Bank, exam: Option<&Exam>, lint: &item_bank::lint::Report) {
    println!("lint bank {} {} ({} items)", bank.name(), bank.version(), bank.items().len());
    println!();
    println!("key or best option picked by a rule that never reads the stem (items: where the rule picks one option)");
    println!("{:<8} {:<28} {:<15} {:>11} {:>7} {:>9}", "section", "topic", "rule", "hits/items", "chance", "p");
    // A topic where no item lets the rule pick one option says nothing.
    for c in lint.cues.iter().filter(|c| c.topic.is_none() || c.items > 0) {
        let p = if c.p_value < 0.001 { "<0.001".to_owned() } else { format!("{:.3}", c.p_value) };
        println!(
            "{:<8} {:<28} {:<15} {:>11} {:>7.1} {:>9}",
            c.section.as_str(),
            c.topic.as_ref().map_or("(all)", |t| t.as_str()),
            c.rule.name(),
            format!("{}/{}", c.hits, c.items),
            c.chance,
            p
        );
    }
    if let Some(exam) = exam {
        println!();
        println!("expected section score without reading the stems, over random papers of exam {}", exam.code());
        println!("{:<8} {:<15} {:>9} {:>9}", "section", "rule", "expected", "threshold");
        for r in &lint.reading_free {
            println!(
                "{:<8} {:<15} {:>9.1} {:>9}",
                r.section.as_str(),
                r.rule.map_or("random guess", |r| r.name()),
                r.expected,
                r.threshold
            );
        }
    }
    println!();
}

fn print_bank(bank: &Bank) {
    println!("bank {} {} ({})", bank.name(), bank.version(), bank.language());
    if !bank.title().is_empty() {
        println!("  {}", bank.title());
    }
    println!("sha256 {}", bank.hash());
    println!();
    println!("{:<10} {:<28} {:>6}", "section", "topic", "items");
    for (section, topics) in bank.counts() {
        let total: usize = topics.iter().map(|(_, n)| n).sum();
        println!("{:<10} {:<28} {:>6}", section.as_str(), "(all)", total);
        for (topic, n) in topics {
            println!("{:<10} {:<28} {:>6}", "", topic.as_str(), n);
        }
    }
    println!();
}

/// `bank new`: a bank folder to start from, valid as written.
pub(crate) fn bank_new(dir: &Path, name: &str) -> anyhow::Result<ExitCode> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        anyhow::bail!("a bank's name holds lower case letters, digits and '-', not {name:?}");
    }
    let folder = dir.join(name);
    if folder.exists() {
        anyhow::bail!("{} exists; choose another name or --dir", folder.display());
    }
    std::fs::create_dir_all(folder.join("assets")).with_context(|| format!("create {}", folder.display()))?;
    let bank = format!(
        "# The bank's identity: a result names the exact text (name, version and SHA-256) it\n\
         # was scored against. Raise the version whenever an item changes.\n\
         name = \"{name}\"\nversion = \"1\"\ntitle = \"\"\nlanguage = \"id\"\n\
         # Item files, in order. Images go in assets/.\nfiles = [\"items.toml\"]\n"
    );
    std::fs::write(folder.join("bank.toml"), bank)?;
    std::fs::write(folder.join("items.toml"), NEW_BANK_ITEMS)?;
    println!("wrote {}/bank.toml and items.toml (two example items)", folder.display());
    println!("edit them (docs/bank-format.md), then run `ujian bank validate {}`", folder.display());
    Ok(ExitCode::SUCCESS)
}

/// The example items of `bank new`: one keyed item, one weighted.
const NEW_BANK_ITEMS: &str = r#"# One [[item]] table per question. docs/bank-format.md lists every field.

[[item]]
id = "CONTOH-001"
section = "TWK"
topic = "pilar-negara"
difficulty = 2
stem = "Tulis pokok soal di sini."
answer = "A"
options = [
  { label = "A", text = "Jawaban yang benar" },
  { label = "B", text = "Pengecoh pertama" },
  { label = "C", text = "Pengecoh kedua" },
  { label = "D", text = "Pengecoh ketiga" },
  { label = "E", text = "Pengecoh keempat" },
]

[[item]]
id = "CONTOH-002"
section = "TKP"
topic = "pelayanan-publik"
kind = "weighted"
stem = "Tulis situasi di sini; setiap pilihan diberi poin 1 sampai 5."
options = [
  { label = "A", text = "Tanggapan terbaik", points = 5 },
  { label = "B", text = "Tanggapan baik", points = 4 },
  { label = "C", text = "Tanggapan cukup", points = 3 },
  { label = "D", text = "Tanggapan kurang", points = 2 },
  { label = "E", text = "Tanggapan terburuk", points = 1 },
]
"#;

pub(crate) fn bank_import_csv(input: &Path, out: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let file = input.display().to_string();
    let extension = input.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    let parsed = if matches!(extension.as_str(), "xlsx" | "xlsm" | "xls" | "xlsb" | "ods") {
        item_bank::csv_import::parse_rows(&file, spreadsheet_rows(input)?)
    } else {
        let text = std::fs::read_to_string(input).with_context(|| format!("read {file}"))?;
        if item_bank::csv_import::sniff_delimiter(&text) == b';' {
            println!("reading {file} with ';' as the separator (as a spreadsheet saves CSV under Indonesian settings)");
        }
        item_bank::csv_import::parse_csv(&file, &text)
    };
    let items = match parsed {
        Ok(items) => items,
        Err(diags) => return Ok(report(&BankError::Invalid(diags))),
    };
    if out.exists() && !force {
        anyhow::bail!("{} exists; pass --force to overwrite it", out.display());
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    std::fs::write(out, item_bank::csv_import::to_item_file(&items))
        .with_context(|| format!("write {}", out.display()))?;
    println!("wrote {} items to {}", items.len(), out.display());
    println!(
        "add {:?} to the files list of the bank's bank.toml, then run `ujian bank validate`",
        out.file_name().unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// The first sheet of a spreadsheet as rows of text, each with its row number (1-based, as
/// the spreadsheet shows it). Whole numbers stored as floats read without ".0".
fn spreadsheet_rows(path: &Path) -> anyhow::Result<Vec<(usize, Vec<String>)>> {
    use calamine::{Data, Reader as _};
    let mut book = calamine::open_workbook_auto(path).with_context(|| format!("open {}", path.display()))?;
    let range = book
        .worksheet_range_at(0)
        .with_context(|| format!("{}: the workbook has no sheet", path.display()))?
        .with_context(|| format!("read the first sheet of {}", path.display()))?;
    let first = range.start().map_or(0, |(row, _)| row as usize);
    let text = |cell: &Data| match cell {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    };
    Ok(range.rows().enumerate().map(|(i, row)| (first + i + 1, row.iter().map(text).collect())).collect())
}

pub(crate) fn exam_check(path: &Path) -> ExitCode {
    match Exam::load(path) {
        Ok((exam, bank, summary)) => {
            print_exam(&exam, &bank, &summary);
            println!("ok: papers of {} items can be drawn from bank {}", exam.total_items(), bank.name());
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

fn print_exam(exam: &Exam, bank: &Bank, summary: &ExamSummary) {
    println!("exam {}: {}", exam.code(), exam.title());
    println!("bank {} {} ({} items) sha256 {}", bank.name(), bank.version(), bank.items().len(), bank.hash());
    let acc: Vec<String> = exam.accommodations().iter().map(|(k, v)| format!("{k} {v} min")).collect();
    println!(
        "duration {} min{}; options {}; board names {}",
        exam.duration_minutes(),
        if acc.is_empty() { String::new() } else { format!(" (accommodations: {})", acc.join(", ")) },
        if exam.shuffle_options() { "shuffled" } else { "as written" },
        match exam.board_names() {
            item_bank::BoardNames::Full => "in full",
            item_bank::BoardNames::Masked => "masked",
        }
    );
    println!();
    println!("{:<8} {:>5} {:>5}  {:<18} {:>5} {:>9}", "section", "draw", "bank", "scoring", "max", "threshold");
    for s in &summary.sections {
        let rule = match s.rule {
            ScoringRule::Keyed { correct, wrong, blank } => format!("keyed {correct}/{wrong}/{blank}"),
            ScoringRule::Weighted { blank } => format!("weighted, blank {blank}"),
        };
        println!(
            "{:<8} {:>5} {:>5}  {:<18} {:>5} {:>9}",
            s.code.as_str(),
            s.count,
            s.bank_items,
            rule,
            s.max_points,
            s.threshold
        );
        for (topics, count, available) in &s.quotas {
            let names: Vec<&str> = topics.iter().map(|t| t.as_str()).collect();
            println!("  {:<28} {:>3} of {:>3}", names.join(" | "), count, available);
        }
    }
    let total: i64 = summary.sections.iter().map(|s| s.max_points.0).sum();
    println!("{:<8} {:>5} {:>5}  {:<18} {:>5}", "total", exam.total_items(), bank.items().len(), "", total);
    let tb: Vec<&str> = exam.tie_break().iter().map(|s| s.as_str()).collect();
    println!();
    println!(
        "pass: every section at or above its threshold; ties broken by {}",
        if tb.is_empty() { "(none)".into() } else { tb.join(", then ") }
    );
}

pub(crate) async fn exam_import(config: &Config, path: &Path) -> anyhow::Result<ExitCode> {
    let (exam, bank, _) = match Exam::load(path) {
        Ok(v) => v,
        Err(e) => return Ok(report(&e)),
    };
    let store = Store::open(&config.database_url()).await?;
    store.put_exam(&exam, &bank, chrono::Utc::now()).await?;
    println!("stored exam {} with bank {} {} (sha256 {})", exam.code(), bank.name(), bank.version(), bank.hash());
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// One candidate row as read from the CSV, before the PIN is hashed.
struct CandidateRow {
    participant_no: String,
    name: String,
    birth_date: Option<String>,
    pin: Option<String>,
    accommodation: Option<String>,
}

fn read_candidates(file: &str, text: &str) -> Result<Vec<CandidateRow>, Vec<String>> {
    let mut errors = Vec::new();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![format!("{file}:1: cannot read the header row: {e}")]),
    };
    const KNOWN: &[&str] = &["participant_no", "name", "birth_date", "pin", "accommodation"];
    for h in &headers {
        if !KNOWN.contains(&h.as_str()) {
            errors.push(format!("{file}:1: column {h}: unknown column (expected: {})", KNOWN.join(", ")));
        }
    }
    for required in ["participant_no", "name"] {
        if !headers.iter().any(|h| h == required) {
            errors.push(format!("{file}:1: column {required}: missing from the header row"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("{file}:{}: malformed row: {e}", e.position().map_or(0, |p| p.line())));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let cell = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let no = cell("participant_no");
        match &no {
            None => errors.push(format!("{file}:{line}: column participant_no: missing")),
            Some(no) if !no.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') || no.len() > 32 => {
                errors.push(format!("{file}:{line}: column participant_no: {no:?} may only hold letters, digits, '-' and '_' (at most 32)"))
            }
            Some(no) if !seen.insert(no.clone()) => errors.push(format!("{file}:{line}: column participant_no: {no} appears twice")),
            Some(_) => {}
        }
        let name = cell("name");
        if name.is_none() {
            errors.push(format!("{file}:{line}: column name: missing"));
        }
        let birth_date = cell("birth_date");
        if let Some(d) = &birth_date
            && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
        {
            errors.push(format!("{file}:{line}: column birth_date: {d:?} is not a date like 1999-12-31"));
        }
        let pin = cell("pin");
        if let Some(p) = &pin
            && (p.len() < 6 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            errors.push(format!("{file}:{line}: column pin: a PIN is at least 6 digits"));
        }
        if let (Some(participant_no), Some(name)) = (no, name) {
            rows.push(CandidateRow { participant_no, name, birth_date, pin, accommodation: cell("accommodation") });
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(format!("{file}: the CSV holds no candidates"));
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

pub(crate) async fn candidates_import(
    config: &Config,
    csv: &Path,
    pins_out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(csv).with_context(|| format!("read {}", csv.display()))?;
    let rows = match read_candidates(&csv.display().to_string(), &text) {
        Ok(rows) => rows,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{} problem{} found; nothing imported", errors.len(), if errors.len() == 1 { "" } else { "s" });
            return Ok(ExitCode::FAILURE);
        }
    };
    let needs_pins = rows.iter().any(|r| r.pin.is_none());
    if needs_pins && pins_out.is_none() {
        anyhow::bail!("some rows have no pin: pass --pins-out FILE to generate PINs and write them there");
    }
    let store = Store::open(&config.database_url()).await?;

    let pins = credentials::PinKey::load_or_create(&config.data_dir)?;
    let mut generated = Vec::new();
    let rows: Vec<(CandidateRow, String)> = rows
        .into_iter()
        .map(|r| {
            let pin = r.pin.clone().unwrap_or_else(credentials::generate_pin);
            if r.pin.is_none() {
                generated.push((r.participant_no.clone(), pin.clone()));
            }
            let hash = pins.hash_pin(&r.participant_no, &pin);
            (r, hash)
        })
        .collect();

    let candidates: Vec<NewCandidate> = rows
        .into_iter()
        .map(|(r, pin_hash)| NewCandidate {
            pin_hash,
            participant_no: r.participant_no,
            name: r.name,
            birth_date: r.birth_date,
            accommodation: r.accommodation,
        })
        .collect();
    // Write the PIN slips before committing: if writing fails, nothing is imported and no
    // candidate is left with a PIN nobody knows.
    if let (Some(path), false) = (pins_out, generated.is_empty()) {
        let mut f = std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
        writeln!(f, "participant_no,pin")?;
        for (no, pin) in &generated {
            writeln!(f, "{no},{pin}")?;
        }
        f.sync_all()?;
        println!(
            "wrote {} generated PINs to {} (hand them out, then delete the file)",
            generated.len(),
            path.display()
        );
    }
    store.put_candidates(&candidates, chrono::Utc::now()).await?;
    println!("imported {} candidates ({} in the database)", candidates.len(), store.candidate_count().await?);
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn audit_verify(config: &Config) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.database_url()).await?;
    let rows = store.audit_log().await?;
    store.close().await;
    match crate::audit::verify(&rows) {
        Ok(n) => {
            let head = rows.last().map_or(crate::audit::GENESIS, |r| r.hash.as_str());
            println!("ok: {n} audit entries, chain intact; head {head}");
            Ok(ExitCode::SUCCESS)
        }
        Err(b) => {
            eprintln!("audit log broken at entry {}: {}", b.seq, b.reason);
            if let Some(r) = rows.iter().find(|r| r.seq == b.seq) {
                eprintln!("  entry {}: {} {} {} {} {}", r.seq, r.at, r.actor, r.action, r.subject, r.detail);
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

pub(crate) fn receipt_verify(config: &Config, receipt: &str, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let public = match key {
        Some(k) => k.to_owned(),
        None => crate::receipt::Signer::load_or_create(&config.data_dir)?.public_hex,
    };
    match crate::receipt::verify(receipt, &public) {
        Ok((p, code)) => {
            println!("valid receipt {code}");
            println!("  session {} (participant {}), exam {}", p.session, p.participant_no, p.exam);
            let scores: Vec<String> = p.scores.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!(
                "  scores {}; total {}; {}",
                scores.join(", "),
                p.total,
                if p.passed { "passed" } else { "not passed" }
            );
            println!("  finished {} ({})", p.finished_at, p.reason);
            println!("  bank sha256 {}", p.bank_sha256);
            println!("  paper sha256 {}", p.paper_sha256);
            println!("  answers sha256 {}", p.answers_sha256);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("invalid receipt: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub(crate) async fn staff_add(
    config: &Config,
    username: &str,
    role: &str,
    name: Option<&str>,
    sittings: &[String],
) -> anyhow::Result<ExitCode> {
    if !matches!(role, "admin" | "supervisor") {
        anyhow::bail!("--role must be admin or supervisor, not {role:?}");
    }
    if username.is_empty()
        || !username.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        anyhow::bail!("a username holds letters, digits, '.', '-' and '_'");
    }
    let store = Store::open(&config.database_url()).await?;
    // Everything is checked before anything is written: a typo in a sitting must not
    // leave the account with a new password nobody was shown.
    let mut unknown = Vec::new();
    for sitting in sittings {
        if store.get_sitting(sitting).await?.is_none() {
            unknown.push(sitting.as_str());
        }
    }
    if !unknown.is_empty() {
        store.close().await;
        anyhow::bail!("sitting {} does not exist; nothing was changed", unknown.join(", "));
    }
    let password = format!("{}{}", credentials::generate_pin(), credentials::generate_pin());
    let account = store::NewSupervisor {
        username: username.to_owned(),
        name: name.unwrap_or(username).to_owned(),
        password_hash: credentials::hash_secret(&password)?,
        role: role.to_owned(),
    };
    store.put_staff(&account, sittings, chrono::Utc::now()).await?;
    println!("{role} {username}: password {password}");
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_candidate_row_is_reported_with_its_line() {
        let csv = "participant_no,name,birth_date,pin\nP-1,Ani,1999-02-30,123456\nP-1,Budi,,12\n,Citra,,\n";
        let errors = read_candidates("c.csv", csv).err().expect("must fail");
        let joined = errors.join("\n");
        assert!(joined.contains("c.csv:2: column birth_date: \"1999-02-30\" is not a date"), "{joined}");
        assert!(joined.contains("c.csv:3: column participant_no: P-1 appears twice"), "{joined}");
        assert!(joined.contains("c.csv:3: column pin: a PIN is at least 6 digits"), "{joined}");
        assert!(joined.contains("c.csv:4: column participant_no: missing"), "{joined}");
    }

    #[test]
    fn good_candidate_rows_are_read() {
        let csv = "participant_no,name,accommodation\nP-1,Ani,\nP-2,Budi,tunanetra\n";
        let rows = read_candidates("c.csv", csv).expect("valid");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].accommodation.as_deref(), Some("tunanetra"));
        assert!(rows[0].pin.is_none());
    }
}
