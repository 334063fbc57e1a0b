//! The selection crate's tests: the files' refusals, each stage, and a whole selection
//! checked against an independent computation of docs/scoring.md's rules.

mod applicants;
mod definition;
mod end_to_end;
mod finals;
mod skb;
mod skd;

use std::path::PathBuf;

use selection::Selection;

pub(crate) fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// The sample selection shipped in question-banks/selections.
pub(crate) fn sample() -> Selection {
    let path = repo("question-banks/selections/sawahlunto-2026/selection.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Selection::parse("selection.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}
