//! The group commit: one writer owns every answer write and acknowledges a request only
//! once the transaction holding it has committed (docs/design-rules.md: nothing
//! acknowledged is lost). Many candidates' requests share one transaction, which is how
//! that is made fast.
//!
//! - `writer`: [`Writer`], the task that takes the queued requests, commits them as one
//!   [`Batch`] on its own connection ([`BatchWriter`]) and only then answers each.
//! - `batch`: [`Batch`], what one transaction stores, and the merge rule that keeps one
//!   update per session.
//! - `columns`: the tables the group commit writes, as columns with the rule each session
//!   column keeps; both writers' SQL is generated from it.
//! - `sqlite`: [`DirectWriter`], SQLite's writer: rusqlite on the writer's own thread, a
//!   prepared statement a table.
//! - `pooled`: [`PooledWriter`], PostgreSQL's writer: multi-row statements through sqlx.

mod batch;
mod columns;
mod pooled;
mod sqlite;
mod writer;

pub use batch::Batch;
pub use pooled::PooledWriter;
pub use sqlite::{DirectWriter, WriterSettings};
pub use writer::{BatchWriter, Pending, StartError, WriteError, Writer};
