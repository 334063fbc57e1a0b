//! Evidence from answer logs: classical item analysis after a sitting, and the
//! irregularities a sitting's logs show (answer similarity, timing, changes).
//!
//! Pure like `item-bank` and `scoring`: the caller hands in the items and each candidate's
//! paper and answer lines with their server timestamps, and gets statistics back. Every
//! flag is evidence for a person to weigh, never a verdict (docs/analytics.md).
//!
//! # Layout
//!
//! - [`input`]: [`ItemInfo`], [`Sheet`] and [`Line`], what every analysis reads.
//! - [`items`]: [`items::analyse`], per item difficulty, discrimination, distractors and
//!   time; per section KR-20 or α, SEM and a histogram.
//! - [`similarity`]: [`similarity::similarity`], improbably similar answers between the
//!   candidates of a room.
//! - [`timing`]: fast right answers, idle gaps followed by bursts, seats answering in step.
//! - [`changes`]: wrong-to-right changes above the room's rate, answer cycling.
//! - [`events`]: counts of session events (focus losses, logins, PC moves) above the room's.
//! - `stats`: moments, correlation, quantiles and the Poisson-binomial tail.

pub mod changes;
pub mod events;
pub mod input;
pub mod items;
pub mod similarity;
mod stats;
pub mod timing;

pub use changes::{ChangeRate, cycling, wrong_to_right};
pub use events::{UnusualCount, unusual_counts};
pub use input::{ItemInfo, Line, Sheet};
pub use items::{
    Analysis, ItemFlag, ItemReport, ItemScoring, OptionShare, Reliability, SectionReport, TimeSpent, analyse,
};
pub use similarity::{Comparison, PairCell, SimilarPair, SimilarityOptions, SimilarityReport, similarity};
pub use timing::{FastAnswer, IdleBurst, Lockstep, fast_answers, idle_bursts, lockstep};
