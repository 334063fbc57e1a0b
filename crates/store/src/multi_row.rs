//! Multi-row statements through the pool: one statement per chunk of rows, each a round
//! trip on PostgreSQL, instead of one per row.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::connection::Backend;
use crate::error::Result;

/// Rows per multi-row statement: well under SQLite's 32,766 bound parameters (and
/// PostgreSQL's 65,535) at up to 9 a row, and small enough to prepare quickly.
pub(crate) const CHUNK: usize = 256;

pub(crate) type AnyQuery = Query<'static, sqlx::Any, AnyArguments>;

/// Runs one statement per [`CHUNK`] of `rows`: `sql(n)` for a chunk of `n` rows, each
/// row's values bound by `bind` (given the row's index in `rows`).
pub(crate) async fn execute_chunked<T>(
    conn: &mut sqlx::AnyConnection,
    rows: &[T],
    sql: impl Fn(usize) -> String,
    bind: impl Fn(AnyQuery, usize, &T) -> AnyQuery,
) -> Result<()> {
    for (n, chunk) in rows.chunks(CHUNK).enumerate() {
        let mut q: AnyQuery = sqlx::query(AssertSqlSafe(sql(chunk.len())));
        for (i, row) in chunk.iter().enumerate() {
            q = bind(q, n * CHUNK + i, row);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `INSERT INTO {target} VALUES (..), (..)` for `rows` rows of `cols` columns.
pub(crate) fn insert_sql(backend: Backend, target: &str, cols: usize, rows: usize) -> String {
    format!("INSERT INTO {target} VALUES {}", values_sql(backend, cols, rows))
}

/// `(p, p, ..), (p, ..)` with the backend's placeholders. SQLite gets anonymous `?`:
/// sqlx-sqlite looks every parameter up by name, and SQLite finds a name (`$7`) by a
/// linear scan, so numbered placeholders make binding quadratic in the row count.
/// PostgreSQL only accepts `$N`.
pub(crate) fn values_sql(backend: Backend, cols: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    use std::fmt::Write as _;
                    let _ = write!(sql, "${}", r * cols + c + 1);
                }
            }
        }
        sql.push(')');
    }
    sql
}
