//! `ujian bank`: validate, lint, start and convert a bank.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bank_formats::command::{ExportArgs, ImportArgs};
use item_bank::{Bank, BankError, Exam};

use super::report;

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

/// `ujian bank samples`: the sample banks and exams built into the binary, written to
/// `dir` to start from (or to follow README's walkthrough in an empty folder). Refuses a
/// folder that holds anything, so nobody's edited bank is overwritten.
pub(crate) fn bank_samples(dir: &Path) -> anyhow::Result<ExitCode> {
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        anyhow::bail!("{} is not empty; give another --dir", dir.display());
    }
    let exam = crate::demo::unpack_samples(dir)?;
    println!("wrote the sample banks and exams to {}", dir.display());
    println!("the SKD sample exam: {} (try `ujian exam check {}`)", exam.display(), exam.display());
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

/// The most rows and columns read from a spreadsheet of questions: far above any bank,
/// far below what would exhaust memory.
const MAX_ROWS: u32 = 1_000_000;
const MAX_COLUMNS: u32 = 50;

/// The first sheet of a spreadsheet as rows of text, each with its row number (1-based, as
/// the spreadsheet shows it). Whole numbers stored as floats read without ".0".
///
/// An XLSX sheet is read cell by cell, not as calamine's dense range: a range spans from
/// the first used cell to the last, so a small file with one cell at `XFD1048576` would ask
/// for hundreds of gigabytes. A cell beyond [`MAX_ROWS`] or [`MAX_COLUMNS`] refuses it.
fn spreadsheet_rows(path: &Path) -> anyhow::Result<Vec<(usize, Vec<String>)>> {
    use calamine::{Data, Reader as _};
    let text = |cell: &Data| match cell {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    if matches!(ext.as_str(), "xlsx" | "xlsm") {
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook(path).with_context(|| format!("open {}", path.display()))?;
        let sheet = book
            .sheet_names()
            .first()
            .cloned()
            .with_context(|| format!("{}: the workbook has no sheet", path.display()))?;
        let mut cells = book
            .worksheet_cells_reader(&sheet)
            .with_context(|| format!("read the first sheet of {}", path.display()))?;
        let mut rows: std::collections::BTreeMap<u32, Vec<String>> = std::collections::BTreeMap::new();
        while let Some(cell) =
            cells.next_cell().with_context(|| format!("read the first sheet of {}", path.display()))?
        {
            let (row, col) = cell.get_position();
            if row >= MAX_ROWS || col >= MAX_COLUMNS {
                anyhow::bail!(
                    "{}: the sheet is too large: a cell in column {} of row {}; at most {MAX_ROWS} rows and \
                     {MAX_COLUMNS} columns are read",
                    path.display(),
                    col + 1,
                    row + 1
                );
            }
            let cells = rows.entry(row).or_default();
            if cells.len() <= col as usize {
                cells.resize(col as usize + 1, String::new());
            }
            cells[col as usize] = text(&Data::from(cell.get_value().clone()));
        }
        return Ok(rows.into_iter().map(|(row, cells)| (row as usize + 1, cells)).collect());
    }
    let mut book = calamine::open_workbook_auto(path).with_context(|| format!("open {}", path.display()))?;
    let range = book
        .worksheet_range_at(0)
        .with_context(|| format!("{}: the workbook has no sheet", path.display()))?
        .with_context(|| format!("read the first sheet of {}", path.display()))?;
    let (height, width) = range.get_size();
    if height > MAX_ROWS as usize || width > MAX_COLUMNS as usize {
        anyhow::bail!(
            "{}: the sheet is too large: {height} rows by {width} columns; at most {MAX_ROWS} rows and \
             {MAX_COLUMNS} columns are read",
            path.display()
        );
    }
    let first = range.start().map_or(0, |(row, _)| row as usize);
    Ok(range.rows().enumerate().map(|(i, row)| (first + i + 1, row.iter().map(text).collect())).collect())
}

/// `ujian bank import`: every problem on stderr with file and line, the summary on stdout,
/// exit 1 when nothing was written. A bar shows the questions done on a terminal (a
/// 10,000-question file takes a second or two); piped, the output is the summary only.
pub(crate) fn bank_import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} questions")
            .expect("a fixed template")
            .progress_chars("=> "),
    );
    let outcome = bank_formats::command::import_with_progress(args, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    for d in outcome.problems() {
        eprintln!("{d}");
    }
    print!("{outcome}");
    Ok(match outcome.refusal() {
        Some(refusal) => {
            eprintln!("{refusal}");
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    })
}

/// `ujian bank export`: a QTI 3 package or a Moodle XML file of the bank.
pub(crate) fn bank_export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    println!("{}", bank_formats::command::export(args)?);
    Ok(ExitCode::SUCCESS)
}
