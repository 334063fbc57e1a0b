//! Question banks kept in other systems' formats, turned into ujian banks.
//!
//! A separate crate rather than a module of item-bank: item-bank defines ujian's own
//! format and its rules, while these readers follow other systems' formats (and, as
//! more arrive, their dependencies such as an XML parser). Going through item-bank's public
//! API only, every import is checked by the very [`Bank::parse`] that `ujian bank
//! validate` runs, so an import cannot produce a bank the validator would refuse.
//!
//! Every reader turns its text into [`Question`]s, each with the line it starts on;
//! [`build`] decides each question's kind and key, reports what ujian cannot hold
//! (every problem with file and line), and writes the bank's own TOML files.
//!
//! # Layout
//!
//! - [`aiken`]: the plain Aiken format (stem, `A.`/`A)` options, `ANSWER: X`).
//! - [`gift`]: Moodle's GIFT text format.
//! - [`moodle`]: Moodle XML (quick-xml), with its HTML reduced to plain text and its
//!   embedded images.
//! - [`qti`]: IMS QTI 3.0 and 2.1 (a zip package with its `imsmanifest.xml`, or one item
//!   file): `choiceInteraction` items, sections of the assessment test as topics.
//! - [`build`]: [`Question`]s to a bank's files, with the [`Report`] of what was
//!   imported and what was skipped.
//! - [`export`]: a bank written as a QTI 3.0 package or as Moodle XML, both read back by
//!   the importers above to the same bank hash.
//! - [`command`]: `ujian bank import` and `ujian bank export` as functions of plain
//!   argument structs; the crate's only file I/O, so the CLI is one call.

pub mod aiken;
pub mod build;
pub mod command;
pub mod export;
pub mod gift;
pub mod moodle;
pub mod qti;
pub(crate) mod xml;

use std::fmt;

pub use build::{Import, Options, Report, Skipped, import};
use item_bank::{Bank, Diagnostic};

/// The formats `ujian bank import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Aiken,
    Gift,
    MoodleXml,
    /// QTI 3.0 or 2.1, told apart by the reader from the elements' names.
    Qti,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Aiken, Format::Gift, Format::MoodleXml, Format::Qti];

    pub fn name(self) -> &'static str {
        match self {
            Format::Aiken => "aiken",
            Format::Gift => "gift",
            Format::MoodleXml => "moodle-xml",
            Format::Qti => "qti",
        }
    }

    /// A format's name; `qti3`, `qti21` and `qti2` all name the QTI reader.
    pub fn parse(s: &str) -> Option<Format> {
        if ["qti3", "qti30", "qti21", "qti2"].iter().any(|q| q.eq_ignore_ascii_case(s)) {
            return Some(Format::Qti);
        }
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s))
    }

    /// Guesses the format from the file's name and bytes: a zip is a QTI package.
    pub fn detect_bytes(file_name: &str, bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"PK\x03\x04") || file_name.to_ascii_lowercase().ends_with(".zip") {
            return Some(Format::Qti);
        }
        Format::detect(file_name, &String::from_utf8_lossy(bytes))
    }

    /// Guesses the format from the file name, then from the text: a QTI item has an
    /// `assessmentItem` element, a GIFT file `{...}` answer blocks, an Aiken file
    /// `ANSWER:` lines.
    pub fn detect(file_name: &str, text: &str) -> Option<Format> {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".gift") {
            return Some(Format::Gift);
        }
        if !text.contains("<quiz")
            && ["assessmentItem", "qti-assessment-item", "imsmanifest"].iter().any(|m| text.contains(m))
        {
            return Some(Format::Qti);
        }
        if lower.ends_with(".xml") || text.trim_start().starts_with("<?xml") || text.contains("<quiz") {
            return Some(Format::MoodleXml);
        }
        if text.lines().any(|l| l.trim_start().starts_with("ANSWER:")) {
            return Some(Format::Aiken);
        }
        if text.contains('{') && text.contains('}') {
            return Some(Format::Gift);
        }
        None
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One question as a format wrote it, before ujian decides its kind and key.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The line the question starts on, for every message about it.
    pub line: usize,
    /// The format's own name for the question (GIFT `::title::`), used as the item id
    /// when it makes a valid, unused one.
    pub title: Option<String>,
    /// The category path (GIFT `$CATEGORY:`), which becomes the item's topic.
    pub category: Option<String>,
    pub stem: String,
    /// An image shown under the stem: a name in [`Parsed::assets`].
    pub image: Option<String>,
    pub answers: Vec<Answer>,
    /// The general feedback, kept as the item's explanation.
    pub explanation: Option<String>,
    /// True when the order of the answers means something (true/false).
    pub pin_options: bool,
    /// The ujian section code, where the file carries one (ujian's own exports);
    /// otherwise the import's `section` option.
    pub section: Option<String>,
    /// Difficulty 1..5, where the file carries one.
    pub difficulty: Option<u8>,
    /// The file inside a package the question was read from (QTI); `line` is in it.
    pub part: Option<String>,
}

/// One answer of a [`Question`].
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub line: usize,
    pub text: String,
    /// The option's image: a name in [`Parsed::assets`].
    pub image: Option<String>,
    /// The share of the question's marks this answer earns, in percent (100 = the key).
    pub percent: f64,
    /// True when the format marked the answer as the key outright (GIFT `=`, Aiken's
    /// `ANSWER:`), rather than giving it a weight.
    pub keyed: bool,
    /// True when the format gave the answer an explicit weight (GIFT `~%50%`).
    pub weighted: bool,
}

/// What a reader found: the questions it could read, the ones it skips on purpose
/// (types ujian cannot deliver yet) and the problems (each with a line).
#[derive(Debug, Default)]
pub struct Parsed {
    pub questions: Vec<Question>,
    pub skipped: Vec<Skipped>,
    pub problems: Vec<Diagnostic>,
    /// Images carried inside the file (Moodle's base64 `file` elements, a QTI package's
    /// files), by asset name.
    pub assets: std::collections::BTreeMap<String, Vec<u8>>,
    /// The bank a file names, when it is one of ujian's own exports. Its texts are then
    /// taken exactly as written (no trimming), so that a round trip keeps the bank hash.
    pub bank: Option<BankMeta>,
}

/// What an export says about the bank it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankMeta {
    pub name: String,
    pub version: String,
    pub title: String,
}

/// Reads `text` in `format`; `file` names it in messages.
pub fn parse(format: Format, file: &str, text: &str) -> Parsed {
    match format {
        Format::Aiken => aiken::parse(file, text),
        Format::Gift => gift::parse(file, text),
        Format::MoodleXml => moodle::parse(file, text),
        Format::Qti => qti::parse_item_file(file, text),
    }
}

/// Reads a file's bytes in `format`: a QTI package is a zip; the other formats are UTF-8
/// text (a leading byte order mark, common in exports from Windows tools, is dropped).
pub fn parse_bytes(format: Format, file: &str, bytes: &[u8]) -> Parsed {
    if format == Format::Qti && bytes.starts_with(b"PK") {
        return qti::parse_package(file, bytes);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(format, file, text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            let mut out = Parsed::default();
            out.problems.push(problem(file, line, None, "not UTF-8 text (save the file as UTF-8)"));
            out
        }
    }
}

/// Checks a built bank the way `ujian bank validate` does; used by [`import`] so that a
/// bank it returns always loads.
pub(crate) fn validate(source: item_bank::BankSource) -> Result<Bank, item_bank::Diagnostics> {
    Bank::parse(source)
}

pub(crate) fn problem(file: &str, line: usize, item: Option<&str>, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line: Some(line),
        item: item.map(str::to_owned),
        field: None,
        message: message.into(),
    }
}

/// Reads one block of a line-based format; a block that raised a problem is listed as
/// skipped, once, at its first line (so `--skip-bad` counts questions, not problems).
pub(crate) fn read_checked(block: &[(usize, &str)], read: impl FnOnce(&mut Parsed), out: &mut Parsed) {
    let before = out.problems.len();
    read(out);
    if out.problems.len() > before
        && let Some(&(line, _)) = block.first()
    {
        out.skipped.push(Skipped { part: None, line, reason: build::INVALID.to_owned() });
    }
}
