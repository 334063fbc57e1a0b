//! A selection made real: its definition and applicants read back from the store, stage 1
//! computed from the stored results of its SKD exam, and the signed, immutable
//! announcements with what a candidate may look up of their own standing.
//!
//! # Layout
//!
//! - `stored`: a stored selection parsed again ([`StoredSelection`]), and applicants as rows.
//! - `skd`: stage 1 from the SKD exam's stored results ([`skd_tracks`]).
//! - `signed`: the signed payload ([`Payload`], [`Signed`]), signing, verifying,
//!   the changes a correction lists, and the standing lookup.

mod signed;
mod skd;
mod stored;

pub use signed::{
    Change, FORMAT, Line, Payload, Placed, Signed, Stage, Standing, StandingEntry, TrackLines, VerifyError, announce,
    standing, verify,
};
pub use skd::{SkdTracks, skd_tracks};
pub use stored::{StoredSelection, applicant_row, is_selection_id};
