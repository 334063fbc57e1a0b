//! Persistence for ujian on SQLite (embedded, the default) and PostgreSQL (by URL), through
//! one sqlx code path (the `Any` driver) and one set of migrations, except where SQLite's
//! hand-offs through sqlx cost too much: the group commit's SQLite writer and the bulk loads
//! (`load`) run SQLite themselves there, on a thread of their own (rusqlite, the same
//! SQLite library as sqlx's).
//!
//! # Layout
//!
//! - `connection`: [`Store`]; the settings every connection gets, the durability
//!   read-back, and the WAL checkpointer ([`run_wal_checkpoints`]).
//! - `open`: [`Store::open`]: the data directory, the migrations, the append-only
//!   triggers.
//! - `error`: [`StoreError`].
//! - `rows`: every row type the store reads or writes ([`SessionRecord`], [`LogEntry`],
//!   [`AuditRow`], …), plain values with no database code.
//! - `banks`: banks stored by content hash, loaded back through item-bank's own parser.
//! - `exams`: exam blueprints tied to the bank they were checked against.
//! - `people`: candidates and supervisors (credentials as argon2id hashes, made by the caller).
//! - [`group_commit`]: the writer that owns every answer write ([`group_commit::Writer`]),
//!   the [`Batch`] it commits and the merge rule, and its two connections: SQLite's
//!   writer and PostgreSQL's pooled one, both running SQL generated from one column table.
//! - `sessions`: sittings, sessions, papers and reading the append-only answer log,
//!   written by the group commit and read back into memory by `load`.
//! - `multi_row`: statements of many rows through the pool (the pooled writer, papers).
//! - `staff`: staff tokens and scopes, seats, check-in, and reading the audit log.
//! - [`chain`]: the audit log's hash chain, and linking a commit's entries to the head
//!   it really follows.
//! - `append_only`: the triggers that refuse UPDATE and DELETE on the audit log, and
//!   [`Store::append_audit`] for entries from the command line.
//! - `leases`: which cluster node owns a sitting ([`Lease`]), taken and renewed by the
//!   database's clock, and the fence check a group commit runs in its own transaction.
//! - `lease_keeper`: [`LeaseKeeper`], a node's leases renewed on a connection of their
//!   own and given out as fences only while surely held.
//! - `selections`: selections (their `selection.toml` text), their applicants linked to
//!   candidates by participant number, assessors' SKB scores, and signed announcements,
//!   only ever added.
//! - `tokens`: candidate login tokens: what a presented one stands for, and ending them
//!   (marked with a reason, never deleted).
//!
//! Every query is written once, with `$1` placeholders that both backends accept, except
//! multi-row statements, which use `?` on SQLite (see `multi_row`), and the SQLite group
//! commit's own statements (`group_commit`); `load`'s queries run on both drivers as
//! written.

mod append_only;
mod banks;
pub mod chain;
mod connection;
mod error;
mod exams;
pub mod group_commit;
mod lease_keeper;
mod leases;
mod load;
mod multi_row;
mod open;
mod people;
mod rows;
mod selections;
mod sessions;
mod staff;
mod tokens;

pub use connection::{Backend, Store, WalCheckpoint, run_wal_checkpoints};
pub use error::{Result, StoreError};
pub use exams::StoredExam;
pub use group_commit::Batch;
pub use lease_keeper::LeaseKeeper;
pub use leases::{Lease, LeaseRow};
pub use open::{create_private_dir, sqlite_url_in};
pub use rows::{
    AnswerLine, AuditRow, BoardRow, LogEntry, LoginCandidate, LoginCounts, NewCandidate, NewLoginToken, NewSession,
    NewSitting, NewSupervisor, PaperRow, Revoked, SeatRow, SessionRecord, SessionWrite, SittingListRow, SittingRow,
    StaffRow, StoredBank, TokenRevocation, TokenRow, ts,
};
pub use selections::{AnnouncementRow, ApplicantRow, AssessorScoreRow, SelectionRow};
/// The digest a [`SessionRecord`] carries on; the answer log's rules live in session-engine.
pub use session_engine::LogDigest;
