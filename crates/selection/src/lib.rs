//! A civil-service selection around the exams: formations and applicants, the SKD cut,
//! the SKB and the final ranking, as pure functions over a selection's data.
//!
//! The rules (result codes, the multiplier cut with ties at the cut, the 40/60 final
//! score and its tie-breaks, exact thousandths) are scoring's [`scoring::select`],
//! [`scoring::FinalScore`] and [`scoring::FinalKey`]; this crate decides what goes into
//! them. `docs/selection.md` describes the flow and the formulas.
//!
//! # Layout
//!
//! - [`definition`]: `selection.toml` parsed into a [`Selection`] (formations with their
//!   tracks and openings, the SKD stage, the SKB components and rubrics, final weights).
//! - [`applicants`]: the applicant list (CSV or XLSX) into [`Applicants`], every mistake
//!   at once with line and column.
//! - [`skd`]: stage 1, [`stage_one`]: per formation and track, P/L, P, TL, TH, DIS.
//! - [`skb`]: stage 2, [`stage_two`]: each component normalised and weighed into the SKB
//!   score; assessed components by two assessors, held when they disagree.
//! - [`final_ranking`]: [`final_ranking()`] fills the openings in final order;
//!   [`optimisation`] lists who may fill a formation left unfilled.

pub mod applicants;
pub mod definition;
pub mod final_ranking;
pub mod skb;
pub mod skd;

pub use applicants::{Applicant, Applicants, ParticipantNo};
pub use definition::{Component, ComponentId, ComponentRule, Formation, FormationCode, Selection, Shortfall, Track};
pub use final_ranking::{FinalLine, FinalRankingError, FinalTrack, Outcome, Vacancy, final_ranking, optimisation};
pub use skb::{
    AssessorScore, ComponentInput, Hold, Reconciliation, SkbError, SkbOutcome, SkbResult, SkbSheet, stage_two,
};
pub use skd::{SkdError, SkdLine, SkdResult, SkdRules, SkdSheet, SkdTrack, stage_one};
