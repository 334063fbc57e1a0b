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
//! - [`build`]: [`Question`]s to a bank's files, with the [`Report`] of what was
//!   imported and what was skipped.

pub mod aiken;
pub mod build;
pub mod gift;
pub mod moodle;

use std::fmt;

pub use build::{Import, Options, Report, Skipped, import};
use item_bank::{Bank, Diagnostic};

/// The formats `ujian bank import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Aiken,
    Gift,
    MoodleXml,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Aiken, Format::Gift, Format::MoodleXml];

    pub fn name(self) -> &'static str {
        match self {
            Format::Aiken => "aiken",
            Format::Gift => "gift",
            Format::MoodleXml => "moodle-xml",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s))
    }

    /// Guesses the format from the file name, then from the text: a GIFT file has
    /// `{...}` answer blocks, an Aiken file `ANSWER:` lines.
    pub fn detect(file_name: &str, text: &str) -> Option<Format> {
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".gift") {
            return Some(Format::Gift);
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
    /// Images carried inside the file (Moodle's base64 `file` elements), by asset name.
    pub assets: std::collections::BTreeMap<String, Vec<u8>>,
}

/// Reads `text` in `format`; `file` names it in messages.
pub fn parse(format: Format, file: &str, text: &str) -> Parsed {
    match format {
        Format::Aiken => aiken::parse(file, text),
        Format::Gift => gift::parse(file, text),
        Format::MoodleXml => moodle::parse(file, text),
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
        out.skipped.push(Skipped { line, reason: build::INVALID.to_owned() });
    }
}
