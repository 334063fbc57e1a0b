//! The audit log (and the announcements and assessors' scores) kept append-only by the
//! database itself, and entries appended from outside
//! the server's group commit (the command line).
//!
//! The triggers are installed by [`Store::open`] after the migrations rather than by a
//! migration: a trigger has no syntax SQLite and PostgreSQL both accept, and the migrations
//! are one set for both. Installing them at every open also puts back triggers someone
//! dropped. They stop an honest mistake and a careless edit; an insider who can drop them
//! can still rewrite the log, which is what the signed chain heads are for.

use sqlx::{AssertSqlSafe, Row as _};

use crate::connection::{Backend, Store};
use crate::error::Result;
use crate::rows::AuditRow;

const SQLITE_TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
];

const PG_FUNCTION: &str = "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger \
     LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP; END $$";

const PG_TRIGGERS: [(&str, &str); 2] = [
    (
        "audit_log_no_update_delete",
        "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log \
         FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    ),
    (
        "audit_log_no_truncate",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log \
         FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ),
];

/// Tables that are only ever added to besides the audit log: a published announcement
/// (a correction is a new one) and an assessor's score (never replaced). Their triggers
/// name the table in the refusal.
const ADDED_ONLY: [&str; 2] = ["announcements", "assessor_scores"];

const PG_ADDED_ONLY_FUNCTION: &str = "CREATE OR REPLACE FUNCTION ujian_added_only() RETURNS trigger \
     LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP; END $$";

/// Any number that is ujian's own among PostgreSQL's advisory locks: servers and command
/// lines opening one database at once install the triggers one at a time.
const PG_TRIGGER_LOCK: i64 = 0x756a_6961_6e01;

impl Store {
    /// Installs the triggers that refuse UPDATE and DELETE on `audit_log` and the
    /// [`ADDED_ONLY`] tables, unless present.
    pub(crate) async fn install_append_only(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                let present: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' \
                     AND name IN ('audit_log_no_update', 'audit_log_no_delete')",
                )
                .fetch_one(&self.pool)
                .await?;
                if present < 2 {
                    for sql in SQLITE_TRIGGERS {
                        sqlx::query(sql).execute(&self.pool).await?;
                    }
                }
                for table in ADDED_ONLY {
                    for (op, when) in [("update", "UPDATE"), ("delete", "DELETE")] {
                        let sql = format!(
                            "CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {when} ON {table} \
                             BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                        );
                        sqlx::query(AssertSqlSafe(sql)).execute(&self.pool).await?;
                    }
                }
            }
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                // Counted, not selected: the lock function returns `void`, a type the `Any`
                // driver cannot carry.
                sqlx::query("SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                    .bind(PG_TRIGGER_LOCK)
                    .execute(&mut *tx)
                    .await?;
                let present: Vec<String> = sqlx::query_scalar(
                    "SELECT tgname::text FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal",
                )
                .fetch_all(&mut *tx)
                .await?;
                let missing: Vec<&str> = PG_TRIGGERS
                    .iter()
                    .filter(|(name, _)| !present.iter().any(|p| p == name))
                    .map(|(_, sql)| *sql)
                    .collect();
                if !missing.is_empty() {
                    sqlx::query(PG_FUNCTION).execute(&mut *tx).await?;
                    for sql in missing {
                        sqlx::query(sql).execute(&mut *tx).await?;
                    }
                }
                sqlx::query(PG_ADDED_ONLY_FUNCTION).execute(&mut *tx).await?;
                for table in ADDED_ONLY {
                    let present: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                        "SELECT tgname::text FROM pg_trigger WHERE tgrelid = '{table}'::regclass AND NOT tgisinternal"
                    )))
                    .fetch_all(&mut *tx)
                    .await?;
                    let triggers = [
                        (format!("{table}_no_update_delete"), "BEFORE UPDATE OR DELETE", "ROW"),
                        (format!("{table}_no_truncate"), "BEFORE TRUNCATE", "STATEMENT"),
                    ];
                    for (name, when, each) in triggers {
                        if !present.contains(&name) {
                            let sql = format!(
                                "CREATE TRIGGER {name} {when} ON {table} FOR EACH {each} EXECUTE FUNCTION ujian_added_only()"
                            );
                            sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
                        }
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Appends one audit entry from outside the server's writer (the command line, which
    /// may run beside a server): the head is read and the entry inserted in one write
    /// transaction that holds off every other writer of the log, so nobody takes the same
    /// place in between. `make` builds the entry from the head (`None`: the log is empty).
    pub async fn append_audit(&self, make: impl FnOnce(Option<(i64, String)>) -> AuditRow) -> Result<AuditRow> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Conflicts with the row locks every INSERT takes, and with itself.
            sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| -> Result<(i64, String)> { Ok((r.try_get("seq")?, r.try_get("hash")?)) })
            .transpose()?;
        let row = make(head);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.seq)
        .bind(&row.at)
        .bind(&row.actor)
        .bind(&row.action)
        .bind(&row.subject)
        .bind(&row.detail)
        .bind(&row.prev_hash)
        .bind(&row.hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row)
    }
}
