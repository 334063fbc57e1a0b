//! A civil-service selection around the exams: formations and applicants, read from the
//! committee's files into validated types.
//!
//! The rules (result codes, the multiplier cut with ties at the cut, the 40/60 final
//! score and its tie-breaks, exact thousandths) are scoring's; this crate decides what
//! goes into them. `docs/selection.md` describes the flow and the formats.
//!
//! # Layout
//!
//! - [`definition`]: `selection.toml` parsed into a [`Selection`] (formations with their
//!   tracks and openings, the SKD stage, the SKB components and rubrics, final weights).
//! - [`applicants`]: the applicant list (CSV or XLSX) into [`Applicants`], every mistake
//!   at once with line and column.

pub mod applicants;
pub mod definition;

pub use applicants::{Applicant, Applicants, ParticipantNo};
pub use definition::{Component, ComponentId, ComponentRule, Formation, FormationCode, Selection, Shortfall, Track};
