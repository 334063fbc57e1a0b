//! The committee's commands: check banks and exams, convert CSV, import candidates.
//! Output is for people: tables on stdout, every problem on stderr, exit 1 on any problem.
//! Every command that changes what an exam day depends on writes an audit entry
//! ([`record`]), with the committee as its actor.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use item_bank::{Bank, BankError, Exam, ExamSummary, ScoringRule};
use store::{NewCandidate, Store};

use crate::actions::LogAction;
use crate::config::Config;
use crate::credentials;
use crate::staff::Role;

/// Who the audit log names for a command-line change: the committee, and the operating
/// system's user who ran it where known.
fn committee_actor() -> String {
    match std::env::var("USER").or_else(|_| std::env::var("USERNAME")) {
        Ok(user) if !user.is_empty() => format!("committee:{user}"),
        _ => "committee".to_owned(),
    }
}

/// Writes the audit entry of a committee command's change, after the change is stored.
pub(crate) async fn record(
    store: &Store,
    action: LogAction,
    subject: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let at = store::ts(chrono::Utc::now());
    let row = crate::audit::append(store, &at, &committee_actor(), action.as_str(), subject, &detail)
        .await
        .with_context(|| format!("write the audit entry {action} {subject}"))?;
    println!("audit entry {}: {action} {subject}", row.seq);
    Ok(())
}

/// Creates (or truncates) a file only its owner can read: PIN slips. A file that existed
/// keeps its inode, so its mode is set again.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        let f = options.open(path)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(f)
    }
    #[cfg(not(unix))]
    options.open(path)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

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

/// `ujian bank import`'s arguments.
#[allow(dead_code, reason = "superseded by bank_formats::command::import; left for the committee restructuring")]
pub(crate) struct ImportArgs {
    pub(crate) format: Option<String>,
    pub(crate) file: std::path::PathBuf,
    pub(crate) out: std::path::PathBuf,
    pub(crate) skip_bad: bool,
    pub(crate) section: String,
    pub(crate) name: Option<String>,
}

#[allow(dead_code, reason = "superseded by bank_formats::command::import; left for the committee restructuring")]
pub(crate) fn bank_import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    use bank_formats::Format;
    let shown = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).with_context(|| format!("read {shown}"))?;
    // Exports from Windows tools often start with a byte order mark.
    let text = String::from_utf8(bytes).with_context(|| format!("{shown} is not UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let format = match &args.format {
        Some(f) => Format::parse(f).with_context(|| {
            let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format {f:?} (known: {})", known.join(", "))
        })?,
        None => Format::detect(&shown, text)
            .with_context(|| format!("cannot tell the format of {shown}; name it: ujian bank import FORMAT FILE"))?,
    };
    let name = match &args.name {
        Some(n) => n.clone(),
        None => {
            let folder = args.out.file_name().and_then(|n| n.to_str()).unwrap_or("imported");
            let slug: String =
                folder.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
            let slug = slug.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
            if slug.is_empty() { "imported".to_owned() } else { slug }
        }
    };
    if args.out.exists() && std::fs::read_dir(&args.out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        anyhow::bail!("{} exists and is not empty; name a new folder", args.out.display());
    }
    let options = bank_formats::Options { name, section: args.section.clone(), skip_bad: args.skip_bad };
    let import = bank_formats::import(format, &shown, text, &options);
    let report = &import.report;
    for d in &report.problems {
        eprintln!("{d}");
    }
    println!("{format} import of {shown}");
    for (topic, n) in &report.imported {
        println!("  imported {n:>5}  topic {topic}");
    }
    for (reason, lines) in report.skipped_by_reason() {
        let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
        println!("  skipped  {:>5}  {reason} (lines {})", lines.len(), lines.join(", "));
    }
    let Some(source) = &import.source else {
        let n = report.problems.len();
        eprintln!(
            "{n} problem{} found; nothing written (fix them, or pass --skip-bad to import the rest)",
            if n == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::FAILURE);
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("create {}", args.out.display()))?;
    for (name, text) in &source.files {
        let path = args.out.join(name);
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
    }
    if !source.assets.is_empty() {
        let dir = args.out.join(item_bank::bank::ASSETS_DIR);
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        for (name, bytes) in &source.assets {
            std::fs::write(dir.join(name), bytes).with_context(|| format!("write asset {name}"))?;
        }
    }
    let bank = Bank::load(&args.out).map_err(|e| anyhow::anyhow!("the written bank does not load: {e}"))?;
    let total: usize = report.imported.iter().map(|(_, n)| n).sum();
    println!("wrote {total} items to {} (sha256 {})", args.out.display(), bank.hash());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn exam_check(path: &Path) -> ExitCode {
    match Exam::load(path) {
        Ok((exam, bank, summary)) => {
            print_exam(&exam, &bank, &summary);
            println!("ok: papers of {} items can be drawn from bank {}", exam.total_items(), bank.name());
            if let Some(warning) = exam.board().running.warning(exam.code()) {
                eprintln!("{warning}");
            }
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
    let board = exam.board();
    println!(
        "board while running: {}; seat monitor: {}",
        match board.running {
            item_bank::BoardRunning::Progress => "progress only, scores at the finish".to_owned(),
            item_bank::BoardRunning::Interval { minutes } => format!("scores as at every {minutes}-minute mark"),
            item_bank::BoardRunning::Live => "live scores".to_owned(),
        },
        if board.supervisor_running_scores { "running scores" } else { "as the board" }
    );
}

pub(crate) async fn exam_import(config: &Config, path: &Path) -> anyhow::Result<ExitCode> {
    let (exam, bank, _) = match Exam::load(path) {
        Ok(v) => v,
        Err(e) => return Ok(report(&e)),
    };
    let source = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let store = Store::open(&config.database_url()).await?;
    store.put_exam(&exam, &bank, chrono::Utc::now()).await?;
    println!("stored exam {} with bank {} {} (sha256 {})", exam.code(), bank.name(), bank.version(), bank.hash());
    let detail = serde_json::json!({
        "exam_file_sha256": sha256_hex(&source),
        "bank": bank.name(),
        "bank_version": bank.version(),
        "bank_sha256": bank.hash().to_string(),
    });
    record(&store, LogAction::ExamImported, exam.code(), detail).await?;
    if let Some(warning) = exam.board().running.warning(exam.code()) {
        eprintln!("{warning}");
    }
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
            Some(no) if !crate::auth::is_participant_no(no) => errors.push(format!(
                "{file}:{line}: column participant_no: {no:?} may only hold letters, digits, '-' and '_' (at most 32)"
            )),
            Some(no) if !seen.insert(no.clone()) => {
                errors.push(format!("{file}:{line}: column participant_no: {no} appears twice"))
            }
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
        let mut f = private_file(path).with_context(|| format!("create {}", path.display()))?;
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
    // A participant already registered whose PIN hash changes has had their PIN re-issued.
    let mut reissued = Vec::new();
    let mut added = 0;
    for c in &candidates {
        match store.candidate_pin_hash(&c.participant_no).await? {
            None => added += 1,
            Some(old) if old != c.pin_hash => reissued.push(c.participant_no.clone()),
            Some(_) => {}
        }
    }
    store.put_candidates(&candidates, chrono::Utc::now()).await?;
    println!("imported {} candidates ({} in the database)", candidates.len(), store.candidate_count().await?);
    let detail = serde_json::json!({
        "file_sha256": sha256_hex(text.as_bytes()),
        "candidates": candidates.len(),
        "added": added,
        "pins_generated": generated.len(),
        "pins_reissued": reissued,
    });
    record(&store, LogAction::CandidatesImported, &csv.display().to_string(), detail).await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The public key to check signatures with: `--key`, or the key of the server whose data
/// dir is given.
fn public_key(config: &Config, key: Option<&str>) -> anyhow::Result<String> {
    Ok(match key {
        Some(k) => k.trim().to_owned(),
        None => crate::receipt::Signer::load_or_create(&config.data_dir)?.public_hex,
    })
}

/// Reads a signed head from a file or an `http://` address (for `https://`, save it with
/// a client that speaks TLS, e.g. `curl -o head.json`, and give the file).
async fn read_head(source: &str) -> anyhow::Result<crate::audit::SignedHead> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let response = reqwest::get(source).await.with_context(|| {
            format!("fetch {source} (only http:// is fetched here; save an https:// head to a file first)")
        })?;
        if !response.status().is_success() {
            anyhow::bail!("fetch {source}: {}", response.status());
        }
        response.text().await.with_context(|| format!("read {source}"))?
    } else {
        std::fs::read_to_string(source).with_context(|| format!("read {source}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{source}: not a signed audit head"))
}

pub(crate) async fn audit_verify(config: &Config, head: Option<&str>, key: Option<&str>) -> anyhow::Result<ExitCode> {
    // The signed head is checked before the database is read: a forged one says nothing.
    let signed = match head {
        Some(source) => {
            let signed = read_head(source).await?;
            let public = public_key(config, key)?;
            if let Err(e) = signed.verify(&public) {
                eprintln!("signed head {source}: {e}");
                return Ok(ExitCode::FAILURE);
            }
            Some(signed)
        }
        None => None,
    };
    let store = Store::open(&config.database_url()).await?;
    let rows = store.audit_log().await?;
    store.close().await;
    let n = match crate::audit::verify(&rows) {
        Ok(n) => n,
        Err(b) => {
            eprintln!("audit log broken at entry {}: {}", b.seq, b.reason);
            if let Some(r) = rows.iter().find(|r| r.seq == b.seq) {
                eprintln!("  entry {}: {} {} {} {} {}", r.seq, r.at, r.actor, r.action, r.subject, r.detail);
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let head_hash = rows.last().map_or(crate::audit::GENESIS, |r| r.hash.as_str());
    println!("ok: {n} audit entries, chain intact; head {head_hash}");
    if let Some(signed) = signed {
        let at = crate::audit::ChainHead { seq: signed.seq, hash: signed.hash.clone() };
        match at.check_in(&rows) {
            Ok(()) => println!(
                "ok: the chain extends the head signed at {} (entry {}, {})",
                signed.signed_at, signed.seq, signed.hash
            ),
            Err(e) => {
                eprintln!(
                    "tampered: the chain does not extend the head signed at {} (entry {}, {}): {e}",
                    signed.signed_at, signed.seq, signed.hash
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn receipt_verify(config: &Config, receipt: &str, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let public = public_key(config, key)?;
    let (p, code) = match crate::receipt::verify(receipt, &public) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("invalid receipt: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("valid receipt {code}");
    println!("  session {} (participant {}), exam {}", p.session, p.participant_no, p.exam);
    let scores: Vec<String> = p.scores.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("  scores {}; total {}; {}", scores.join(", "), p.total, if p.passed { "passed" } else { "not passed" });
    println!("  finished {} ({})", p.finished_at, p.reason);
    println!("  bank sha256 {}", p.bank_sha256);
    println!("  paper sha256 {}", p.paper_sha256);
    println!("  answers sha256 {}", p.answers_sha256);
    let Some(head) = &p.audit_head else {
        println!("  audit head: none (a receipt from before receipts named one); the chain is not checked");
        return Ok(ExitCode::SUCCESS);
    };
    println!("  audit head entry {} {}", head.seq, head.hash);
    // The chain is checked where there is a database to check: --database, or a data dir
    // holding one (opening would make an empty one).
    if config.database_url.is_none() && !config.data_dir.join("ujian.db").exists() {
        println!("  chain not checked: no database at {}", config.data_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let store = Store::open(&config.database_url()).await?;
    let rows = store.audit_log().await?;
    store.close().await;
    let mut problems = Vec::new();
    if let Err(b) = crate::audit::verify(&rows) {
        problems.push(format!("the audit log is broken at entry {}: {}", b.seq, b.reason));
    }
    if let Err(e) = head.check_in(&rows) {
        problems.push(format!("the chain does not hold the receipt's audit head (entry {}): {e}", head.seq));
    }
    // The finish's own entry follows the head and publishes this very result.
    let finishes: Vec<&store::AuditRow> =
        rows.iter().filter(|r| r.action == LogAction::SessionFinished.as_str() && r.subject == p.session).collect();
    match finishes.iter().find(|r| recorded_receipt(&r.detail).as_deref() == Some(receipt.trim())) {
        None => problems.push(format!(
            "none of the {} session.finished entries of {} holds this receipt",
            finishes.len(),
            p.session
        )),
        Some(r) => {
            if r.seq <= head.seq {
                problems.push(format!("entry {} holds this receipt but comes before its head {}", r.seq, head.seq));
            }
            if let Some(differs) = recorded_result_differs(&r.detail, &p) {
                problems.push(format!("the session.finished entry {} of {} records {differs}", r.seq, p.session));
            }
        }
    }
    if problems.is_empty() {
        println!("  ok: the audit chain holds the receipt's head and records this result");
        Ok(ExitCode::SUCCESS)
    } else {
        for problem in &problems {
            eprintln!("tampered: {problem}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// The receipt a `session.finished` entry's detail holds.
fn recorded_receipt(detail: &str) -> Option<String> {
    let detail: serde_json::Value = serde_json::from_str(detail).ok()?;
    detail["result"]["receipt_full"].as_str().map(str::to_owned)
}

/// What a `session.finished` entry publishes that the receipt does not say, if anything.
fn recorded_result_differs(detail: &str, receipt: &crate::receipt::ReceiptPayload) -> Option<String> {
    let Ok(detail) = serde_json::from_str::<serde_json::Value>(detail) else {
        return Some("a detail that is not JSON".to_owned());
    };
    let result = &detail["result"];
    let scores: Option<std::collections::BTreeMap<String, i64>> = serde_json::from_value(result["scores"].clone()).ok();
    if result["total"].as_i64() != Some(receipt.total) {
        Some(format!("total {}, the receipt {}", result["total"], receipt.total))
    } else if scores.as_ref() != Some(&receipt.scores) {
        Some(format!("scores {}, the receipt others", result["scores"]))
    } else if result["passed"].as_bool() != Some(receipt.passed) {
        Some(format!("passed {}, the receipt {}", result["passed"], receipt.passed))
    } else {
        None
    }
}

pub(crate) async fn staff_add(
    config: &Config,
    username: &str,
    role: &str,
    name: Option<&str>,
    sittings: &[String],
) -> anyhow::Result<ExitCode> {
    let Ok(role) = role.parse::<Role>() else {
        anyhow::bail!("--role must be admin or supervisor, not {role:?}");
    };
    if !crate::staff::is_username(username) {
        anyhow::bail!("a username holds letters, digits, '.', '-' and '_' (at most 64)");
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
        role: role.as_str().to_owned(),
    };
    store.put_staff(&account, sittings, chrono::Utc::now()).await?;
    // Never the password: a new one is made each time, so the entry says that it changed.
    let detail = serde_json::json!({ "role": role.as_str(), "name": name.unwrap_or(username), "sittings": sittings });
    record(&store, LogAction::StaffAdded, username, detail).await?;
    println!("{} {username}: password {password}", role.as_str());
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
