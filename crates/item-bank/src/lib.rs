//! Items, banks and exam blueprints: the content an exam is made of.
//!
//! Committees keep banks and exams as TOML files in git (see `docs/bank-format.md`).
//! This crate turns those files into validated types, reporting *every* problem at once
//! with file, line and field, and computes the bank's content hash so that a result can
//! name exactly which text it was scored against.
//!
//! # Layout
//!
//! - [`model`]: the validated types: [`Item`], [`Key`], [`Label`], [`Points`] and the id newtypes.
//! - [`bank`]: [`Bank`] and [`BankSource`]: loading a bank folder, or the same files from memory.
//! - [`exam`]: [`Exam`], its sections, quotas and scoring rules, and the check that a
//!   blueprint can be drawn from its bank.
//! - [`diag`]: [`Diagnostic`] and [`Diagnostics`], the file:line errors.
//! - [`lint`]: [`lint::lint`], the item-writing flaws a bank can be valid with: testwiseness
//!   cues, the score of a candidate who never reads a stem, pasted and look-alike options.
//! - [`csv_import`]: spreadsheet rows to an item file.
//! - `hash`: the canonical form behind [`BankHash`].
//! - `walk`: reading spanned TOML tables field by field.

pub mod bank;
mod check;
pub mod csv_import;
pub mod diag;
mod draft;
pub mod exam;
mod hash;
pub mod lint;
pub mod model;
mod walk;

pub use bank::{Bank, BankError, BankSource};
pub use diag::{Diagnostic, Diagnostics};
pub use exam::{BoardNames, BoardPolicy, BoardRunning, Exam, ExamSummary, Quota, ScoringRule, Section};
pub use hash::BankHash;
pub use model::{Item, ItemId, ItemOption, Key, Label, LintAllow, Points, SectionCode, Topic};
