//! `ujian bank import` and `ujian bank export` as functions: plain arguments in, a report
//! out. The only file I/O of the crate, so that the CLI is one call and a test can run
//! the command without a process.

use std::fmt;
use std::path::{Path, PathBuf};

use item_bank::{Bank, BankHash, Diagnostic};

use crate::{Format, Options, Report};

/// A command that could not run: a file not readable or writable, a format not known.
/// Problems in the bank being imported are not errors: they are in the [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("unknown format {0:?} (known: {1})")]
    UnknownFormat(String, &'static str),
    #[error("cannot tell the format of {0}; name it: ujian bank import FORMAT FILE")]
    Undetected(String),
    #[error("{0} exists and is not empty; name a new folder")]
    OutNotEmpty(PathBuf),
    #[error("the bank at {0} does not load:\n{1}")]
    Bank(PathBuf, String),
}

/// `ujian bank import [FORMAT] FILE --out DIR [--skip-bad]`.
#[derive(Debug, Clone)]
pub struct ImportArgs {
    /// The format's name; detected from the file when None.
    pub format: Option<String>,
    pub file: PathBuf,
    /// The bank folder to write; must not exist or be empty.
    pub out: PathBuf,
    pub skip_bad: bool,
    /// The section code of items whose file names none (only ujian's exports do).
    pub section: String,
    /// The bank's name; None takes the name an export of ujian carries, else the --out
    /// folder's name.
    pub name: Option<String>,
}

/// What an import did.
#[derive(Debug)]
pub struct ImportOutcome {
    pub format: Format,
    /// The file as named in messages.
    pub file: String,
    pub report: Report,
    /// The bank written, None when a problem stopped the import.
    pub written: Option<Written>,
}

#[derive(Debug)]
pub struct Written {
    pub out: PathBuf,
    pub items: usize,
    pub hash: BankHash,
}

impl ImportOutcome {
    /// Every problem, one a line, each with file and line.
    pub fn problems(&self) -> &[Diagnostic] {
        &self.report.problems
    }

    /// Why nothing was written, when nothing was: the line that closes the problems.
    pub fn refusal(&self) -> Option<String> {
        if self.written.is_some() {
            return None;
        }
        let n = self.report.problems.len();
        Some(format!(
            "{n} problem{} found; nothing written (fix them, or pass --skip-bad to import the rest)",
            if n == 1 { "" } else { "s" }
        ))
    }
}

/// The summary printed at the end of an import: items per topic, skipped per reason
/// (with where), and what was written ([`ImportOutcome::refusal`] says why nothing was).
impl fmt::Display for ImportOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} import of {}", self.format, self.file)?;
        for (topic, n) in &self.report.imported {
            writeln!(f, "  imported {n:>5}  topic {topic}")?;
        }
        let mut reasons: Vec<&str> = self.report.skipped.iter().map(|s| s.reason.as_str()).collect();
        reasons.sort_unstable();
        reasons.dedup();
        for reason in reasons {
            let at: Vec<String> = self
                .report
                .skipped
                .iter()
                .filter(|s| s.reason == reason)
                .map(|s| match &s.part {
                    Some(part) => format!("{part}:{}", s.line),
                    None => s.line.to_string(),
                })
                .collect();
            writeln!(f, "  skipped  {:>5}  {reason} (lines {})", at.len(), at.join(", "))?;
        }
        match &self.written {
            Some(w) => writeln!(f, "wrote {} items to {} (sha256 {})", w.items, w.out.display(), w.hash),
            None => Ok(()),
        }
    }
}

/// Runs an import: reads the file, builds the bank and writes it only when nothing is
/// wrong (or `skip_bad`), then loads what it wrote as `ujian bank validate` would.
pub fn import(args: &ImportArgs) -> Result<ImportOutcome, CommandError> {
    import_with_progress(args, &mut |_, _| {})
}

/// [`import`], telling `progress` how many questions are done of how many.
pub fn import_with_progress(
    args: &ImportArgs,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportOutcome, CommandError> {
    let shown = args.file.display().to_string();
    let bytes = std::fs::read(&args.file).map_err(|source| CommandError::Read { path: args.file.clone(), source })?;
    let format = match &args.format {
        Some(f) => {
            Format::parse(f).ok_or_else(|| CommandError::UnknownFormat(f.clone(), "aiken, gift, moodle-xml, qti"))?
        }
        None => Format::detect_bytes(&shown, &bytes).ok_or_else(|| CommandError::Undetected(shown.clone()))?,
    };
    if args.out.exists() && std::fs::read_dir(&args.out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(CommandError::OutNotEmpty(args.out.clone()));
    }
    let parsed = crate::parse_bytes(format, &shown, &bytes);
    let name = match (&args.name, &parsed.bank) {
        (Some(n), _) => n.clone(),
        (None, Some(meta)) if is_slug(&meta.name) => meta.name.clone(),
        _ => folder_slug(&args.out),
    };
    let options = Options { name, section: args.section.clone(), skip_bad: args.skip_bad };
    let import = crate::build::import_parsed(format, &shown, parsed, &options, progress);
    let mut outcome = ImportOutcome { format, file: shown, report: import.report, written: None };
    let Some(source) = import.source else { return Ok(outcome) };
    let write = |path: PathBuf, bytes: &[u8]| {
        std::fs::write(&path, bytes).map_err(|source| CommandError::Write { path, source })
    };
    let mkdir = |path: &Path| {
        std::fs::create_dir_all(path).map_err(|source| CommandError::Write { path: path.to_owned(), source })
    };
    mkdir(&args.out)?;
    for (name, text) in &source.files {
        write(args.out.join(name), text.as_bytes())?;
    }
    if !source.assets.is_empty() {
        let dir = args.out.join(item_bank::bank::ASSETS_DIR);
        mkdir(&dir)?;
        for (name, bytes) in &source.assets {
            write(dir.join(name), bytes)?;
        }
    }
    let bank = Bank::load(&args.out).map_err(|e| CommandError::Bank(args.out.clone(), e.to_string()))?;
    outcome.written = Some(Written { out: args.out.clone(), items: bank.items().len(), hash: bank.hash().clone() });
    Ok(outcome)
}

fn is_slug(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The --out folder's name as a bank name (`[a-z0-9-]+`).
fn folder_slug(out: &Path) -> String {
    let folder = out.file_name().and_then(|n| n.to_str()).unwrap_or("imported");
    let slug: String =
        folder.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let slug = slug.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if slug.is_empty() { "imported".to_owned() } else { slug }
}

/// The formats a bank is exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Qti3,
    MoodleXml,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<ExportFormat> {
        match s.to_ascii_lowercase().as_str() {
            "qti3" | "qti" => Some(ExportFormat::Qti3),
            "moodle-xml" | "moodle" => Some(ExportFormat::MoodleXml),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Qti3 => "qti3",
            ExportFormat::MoodleXml => "moodle-xml",
        }
    }
}

/// `ujian bank export qti3|moodle-xml BANK --out FILE`.
#[derive(Debug, Clone)]
pub struct ExportArgs {
    pub format: String,
    /// The bank folder.
    pub bank: PathBuf,
    /// The file to write (replaced if it exists).
    pub out: PathBuf,
}

/// What an export wrote.
#[derive(Debug)]
pub struct ExportOutcome {
    pub format: ExportFormat,
    pub out: PathBuf,
    pub items: usize,
    pub bytes: usize,
    /// The exported bank's hash: importing the file gives a bank with the same one.
    pub hash: BankHash,
}

impl fmt::Display for ExportOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {} items as {} to {} ({} bytes; bank sha256 {})",
            self.items,
            self.format.name(),
            self.out.display(),
            self.bytes,
            self.hash
        )
    }
}

/// Loads and validates the bank, then writes it in the format.
pub fn export(args: &ExportArgs) -> Result<ExportOutcome, CommandError> {
    let format = ExportFormat::parse(&args.format)
        .ok_or_else(|| CommandError::UnknownFormat(args.format.clone(), "qti3, moodle-xml"))?;
    let bank = Bank::load(&args.bank).map_err(|e| CommandError::Bank(args.bank.clone(), e.to_string()))?;
    let bytes = match format {
        ExportFormat::Qti3 => crate::export::qti3(&bank),
        ExportFormat::MoodleXml => crate::export::moodle_xml(&bank).into_bytes(),
    };
    std::fs::write(&args.out, &bytes).map_err(|source| CommandError::Write { path: args.out.clone(), source })?;
    Ok(ExportOutcome {
        format,
        out: args.out.clone(),
        items: bank.items().len(),
        bytes: bytes.len(),
        hash: bank.hash().clone(),
    })
}
