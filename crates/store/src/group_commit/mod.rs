//! The group commit: many candidates' requests stored in one durable transaction.
//!
//! - `writer`: [`BatchWriter`], the group commit's own connection.
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
pub use writer::BatchWriter;
