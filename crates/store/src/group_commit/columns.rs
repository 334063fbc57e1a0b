//! The tables the group commit writes, as columns and the rule each session column keeps,
//! and the SQL both writers run, generated from them: the SQLite writer's one-row
//! statements and the pooled writer's multi-row ones cannot drift apart.

use crate::connection::Backend;
use crate::multi_row::values_sql;

/// A table the group commit inserts into, with its columns in the order rows bind them.
pub(crate) struct Insert {
    pub(crate) table: &'static str,
    pub(crate) columns: &'static [&'static str],
}

pub(crate) const AUDIT: Insert =
    Insert { table: "audit_log", columns: &["seq", "at", "actor", "action", "subject", "detail", "prev_hash", "hash"] };

pub(crate) const LOGIN_TOKENS: Insert =
    Insert { table: "login_tokens", columns: &["token_hash", "session_id", "created_at"] };

pub(crate) const ANSWER_LOG: Insert = Insert {
    table: "answer_log",
    columns: &["session_id", "seq", "position", "action", "choice", "flagged", "client_ts", "server_ts", "used_ms"],
};

/// What a session update does to a stored column, given the stored value and the new one.
/// The in-batch merge (`batch::merge_sessions`) applies the same rules between the writes
/// of one batch ([`Rule::merge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// The new value, unless it is absent: a clock checkpoint carries no status.
    NewUnlessAbsent,
    /// Set once: the stored value stays.
    FirstWins,
    /// Only grows: used time and extensions, which always have a value (SQL's comparison
    /// with a NULL would not).
    Larger,
    /// Always the new value.
    New,
}

impl Rule {
    /// The rule between two writes of one batch, the earlier standing for the stored value.
    pub(crate) fn merge<T: Ord>(self, earlier: Option<T>, later: Option<T>) -> Option<T> {
        match self {
            Rule::NewUnlessAbsent => later.or(earlier),
            Rule::FirstWins => earlier.or(later),
            Rule::Larger => earlier.max(later),
            Rule::New => later,
        }
    }

    /// [`Rule::merge`] for a column that always has a value.
    pub(crate) fn merge_value<T: Ord>(self, earlier: T, later: T) -> T {
        match self {
            Rule::NewUnlessAbsent | Rule::New => later,
            Rule::FirstWins => earlier,
            Rule::Larger => earlier.max(later),
        }
    }
}

// Each session column's rule, named for the merge, which applies them field by field.
pub(crate) const STATUS: Rule = Rule::NewUnlessAbsent;
pub(crate) const USED_MS: Rule = Rule::Larger;
pub(crate) const EXTENSION_MS: Rule = Rule::Larger;
pub(crate) const LAST_SEEN_AT: Rule = Rule::New;
pub(crate) const STARTED_AT: Rule = Rule::FirstWins;
pub(crate) const FINISHED_AT: Rule = Rule::NewUnlessAbsent;
pub(crate) const FINISH_REASON: Rule = Rule::NewUnlessAbsent;
pub(crate) const RESULT: Rule = Rule::NewUnlessAbsent;
pub(crate) const RECEIPT_CODE: Rule = Rule::NewUnlessAbsent;

/// The session row's columns as a group commit updates them, in the order they bind
/// after the key (`id`, bound first). A finished session is final: the update skips it.
pub(crate) const SESSIONS: [(&str, Rule); 9] = [
    ("status", STATUS),
    ("used_ms", USED_MS),
    ("extension_ms", EXTENSION_MS),
    ("last_seen_at", LAST_SEEN_AT),
    ("started_at", STARTED_AT),
    ("finished_at", FINISHED_AT),
    ("finish_reason", FINISH_REASON),
    ("result", RESULT),
    ("receipt_code", RECEIPT_CODE),
];

/// The columns of a revocation, in the order they bind: the session whose other logins
/// end, the login that keeps the seat, and when.
const REVOCATION: [&str; 3] = ["session_id", "keep_hash", "at"];

/// How a statement names the stored column and the new value.
#[derive(Clone, Copy)]
enum Form {
    /// One row a statement, values as `?N` (the SQLite writer).
    OneRow,
    /// Many rows joined from `FROM (VALUES …) AS v`, values as `v.columnN` (the pooled
    /// writer, on both backends).
    Joined,
}

impl Form {
    fn stored(self, table: &str, column: &str) -> String {
        match self {
            Form::OneRow => column.to_owned(),
            Form::Joined => format!("{table}.{column}"),
        }
    }

    /// The new value of the `i`th column (from 0).
    fn value(self, i: usize) -> String {
        match self {
            Form::OneRow => format!("?{}", i + 1),
            Form::Joined => format!("v.column{}", i + 1),
        }
    }
}

impl Rule {
    fn sql(self, stored: &str, new: &str) -> String {
        match self {
            Rule::NewUnlessAbsent => format!("COALESCE({new}, {stored})"),
            Rule::FirstWins => format!("COALESCE({stored}, {new})"),
            Rule::Larger => format!("CASE WHEN {stored} > {new} THEN {stored} ELSE {new} END"),
            Rule::New => new.to_owned(),
        }
    }
}

fn update_sessions(form: Form) -> (String, String) {
    let set: Vec<String> = SESSIONS
        .iter()
        .enumerate()
        .map(|(i, (column, rule))| {
            format!("{column} = {}", rule.sql(&form.stored("sessions", column), &form.value(i + 1)))
        })
        .collect();
    let guard = format!(
        "{} = {} AND {} <> 'finished'",
        form.stored("sessions", "id"),
        form.value(0),
        form.stored("sessions", "status")
    );
    (format!("UPDATE sessions SET {}", set.join(", ")), guard)
}

fn revoke_others(form: Form) -> (String, String) {
    let col = |name: &str| REVOCATION.iter().position(|c| *c == name).expect("a revocation column");
    let stored = |c: &str| form.stored("login_tokens", c);
    (
        format!("UPDATE login_tokens SET revoked_reason = 'superseded', revoked_at = {}", form.value(col("at"))),
        format!(
            "{} = {} AND {} <> {} AND {} IS NULL",
            stored("session_id"),
            form.value(col("session_id")),
            stored("token_hash"),
            form.value(col("keep_hash")),
            stored("revoked_reason")
        ),
    )
}

impl Insert {
    /// The SQLite writer's INSERT of one row.
    pub(crate) fn one_row(&self) -> String {
        let values: Vec<String> = (0..self.columns.len()).map(|i| Form::OneRow.value(i)).collect();
        format!("INSERT INTO {} ({}) VALUES ({})", self.table, self.columns.join(", "), values.join(", "))
    }

    /// The pooled writer's INSERT of `rows` rows.
    pub(crate) fn rows(&self, backend: Backend, rows: usize) -> String {
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.table,
            self.columns.join(", "),
            values_sql(backend, self.columns.len(), rows)
        )
    }
}

/// The SQLite writer's UPDATE of one session.
pub(crate) fn update_session() -> String {
    let (update, guard) = update_sessions(Form::OneRow);
    format!("{update} WHERE {guard}")
}

/// The pooled writer's UPDATE of `rows` sessions, each once (`batch::merge_sessions`).
pub(crate) fn update_sessions_sql(backend: Backend, rows: usize) -> String {
    let (update, guard) = update_sessions(Form::Joined);
    format!("{update} FROM (VALUES {}) AS v WHERE {guard}", values_sql(backend, 1 + SESSIONS.len(), rows))
}

/// The SQLite writer's UPDATE ending the other logins of one session.
pub(crate) fn revoke_other_logins() -> String {
    let (update, guard) = revoke_others(Form::OneRow);
    format!("{update} WHERE {guard}")
}

/// The pooled writer's UPDATE ending the other logins of `rows` sessions.
pub(crate) fn revoke_other_logins_sql(backend: Backend, rows: usize) -> String {
    let (update, guard) = revoke_others(Form::Joined);
    format!("{update} FROM (VALUES {}) AS v WHERE {guard}", values_sql(backend, REVOCATION.len(), rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whitespace does not change a statement; compared without it.
    #[track_caller]
    fn same_sql(generated: &str, written: &str) {
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(words(generated), words(written));
    }

    /// The SQLite writer's statements written out by hand: what is generated must be
    /// these, word for word, so that generating them changes nothing.
    #[test]
    fn the_sqlite_writer_runs_the_statements_it_always_ran() {
        same_sql(
            &AUDIT.one_row(),
            "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        );
        same_sql(
            &LOGIN_TOKENS.one_row(),
            "INSERT INTO login_tokens (token_hash, session_id, created_at) VALUES (?1, ?2, ?3)",
        );
        same_sql(
            &revoke_other_logins(),
            "UPDATE login_tokens SET revoked_reason = 'superseded', revoked_at = ?3 \
             WHERE session_id = ?1 AND token_hash <> ?2 AND revoked_reason IS NULL",
        );
        same_sql(
            &ANSWER_LOG.one_row(),
            "INSERT INTO answer_log \
             (session_id, seq, position, action, choice, flagged, client_ts, server_ts, used_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        );
        same_sql(
            &update_session(),
            "UPDATE sessions SET status = COALESCE(?2, status),
                 used_ms = CASE WHEN used_ms > ?3 THEN used_ms ELSE ?3 END,
                 extension_ms = CASE WHEN extension_ms > ?4 THEN extension_ms ELSE ?4 END,
                 last_seen_at = ?5,
                 started_at = COALESCE(started_at, ?6),
                 finished_at = COALESCE(?7, finished_at),
                 finish_reason = COALESCE(?8, finish_reason),
                 result = COALESCE(?9, result),
                 receipt_code = COALESCE(?10, receipt_code)
             WHERE id = ?1 AND status <> 'finished'",
        );
    }

    /// The pooled writer's statements written out by hand, for one and two rows on each
    /// backend.
    #[test]
    fn the_pooled_writer_runs_the_statements_it_always_ran() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            for rows in [1, 2] {
                let values = |cols| values_sql(backend, cols, rows);
                same_sql(
                    &AUDIT.rows(backend, rows),
                    &format!(
                        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES {}",
                        values(8)
                    ),
                );
                same_sql(
                    &LOGIN_TOKENS.rows(backend, rows),
                    &format!("INSERT INTO login_tokens (token_hash, session_id, created_at) VALUES {}", values(3)),
                );
                same_sql(
                    &ANSWER_LOG.rows(backend, rows),
                    &format!(
                        "INSERT INTO answer_log (session_id, seq, position, action, choice, flagged, client_ts, \
                         server_ts, used_ms) VALUES {}",
                        values(9)
                    ),
                );
                same_sql(
                    &revoke_other_logins_sql(backend, rows),
                    &format!(
                        "UPDATE login_tokens SET revoked_reason = 'superseded', revoked_at = v.column3
                         FROM (VALUES {}) AS v
                         WHERE login_tokens.session_id = v.column1 AND login_tokens.token_hash <> v.column2
                             AND login_tokens.revoked_reason IS NULL",
                        values(3)
                    ),
                );
                same_sql(
                    &update_sessions_sql(backend, rows),
                    &format!(
                        "UPDATE sessions SET status = COALESCE(v.column2, sessions.status),
                             used_ms = CASE WHEN sessions.used_ms > v.column3 THEN sessions.used_ms ELSE v.column3 END,
                             extension_ms = CASE WHEN sessions.extension_ms > v.column4 THEN sessions.extension_ms ELSE v.column4 END,
                             last_seen_at = v.column5,
                             started_at = COALESCE(sessions.started_at, v.column6),
                             finished_at = COALESCE(v.column7, sessions.finished_at),
                             finish_reason = COALESCE(v.column8, sessions.finish_reason),
                             result = COALESCE(v.column9, sessions.result),
                             receipt_code = COALESCE(v.column10, sessions.receipt_code)
                         FROM (VALUES {}) AS v
                         WHERE sessions.id = v.column1 AND sessions.status <> 'finished'",
                        values(10)
                    ),
                );
            }
        }
    }

    #[test]
    fn placeholders_are_anonymous_on_sqlite_and_numbered_on_postgres() {
        assert_eq!(values_sql(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(values_sql(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
    }
}
