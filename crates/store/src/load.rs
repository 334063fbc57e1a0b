//! Sessions loaded back into memory: a session's row, its paper and its answer log
//! replayed, in three queries however many sessions are asked for.
//!
//! One session (a first connect that was not preloaded, a reload after an eviction) is
//! read through the pool. The bulk loads, a sitting's room before its logins, every
//! unfinished session at a restart and a sitting's every session for the results
//! export, are hundreds of thousands of rows; through sqlx-sqlite each row is a message from the connection's
//! thread and every value a copy, so a restart of thousands of sessions
//! would take seconds. On
//! SQLite they are read on a blocking thread through a connection of their own (ujian's
//! settings, `query_only`), in one read transaction: one snapshot for the three queries.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use futures_util::TryStreamExt as _;
use session_engine::{LogDigest, LogLine, Replay};
use sqlx::{AssertSqlSafe, Row as _};

use crate::connection::{Backend, READER_CACHE_KIB, Store, open_sqlite};
use crate::error::{Result, StoreError};
use crate::rows::{PaperRow, SessionRecord};

/// Which sessions [`Store::load_sessions`] loads.
#[derive(Clone, Copy)]
pub(crate) enum Which<'a> {
    One(&'a str),
    /// A sitting's sessions that have not started.
    Sitting(&'a str),
    /// Every session of a sitting, whatever its status.
    AllOfSitting(&'a str),
    Unfinished,
}

/// The three queries, written once for both backends (`$1`, which SQLite also takes).
struct Queries {
    head: String,
    paper: String,
    log: String,
    bound: Option<String>,
}

fn queries(which: Which<'_>) -> Queries {
    // Fixed filters; an id is always bound.
    let (head_filter, filter, bound) = match which {
        Which::One(id) => ("s.id = $1", "session_id = $1", Some(id)),
        Which::Sitting(id) => (
            "s.sitting_id = $1 AND s.status = 'ready'",
            "session_id IN (SELECT id FROM sessions WHERE sitting_id = $1 AND status = 'ready')",
            Some(id),
        ),
        Which::AllOfSitting(id) => {
            ("s.sitting_id = $1", "session_id IN (SELECT id FROM sessions WHERE sitting_id = $1)", Some(id))
        }
        Which::Unfinished => (
            "s.status IN ('active', 'paused')",
            "session_id IN (SELECT id FROM sessions WHERE status IN ('active', 'paused'))",
            None,
        ),
    };
    Queries {
        head: format!(
            "SELECT s.id, s.sitting_id, t.venue, t.exam_code, s.participant_no, c.name, s.status, s.finish_reason,
                    s.duration_ms, s.extension_ms, s.used_ms, s.result, t.starts_at
             FROM sessions s JOIN sittings t ON t.id = s.sitting_id JOIN candidates c ON c.participant_no = s.participant_no
             WHERE {head_filter} ORDER BY s.id"
        ),
        paper: format!(
            "SELECT session_id, section, item_id, option_order FROM papers WHERE {filter} ORDER BY session_id, position"
        ),
        // Replaying the log in seq order gives the current sheet: the last word per position wins.
        log: format!(
            "SELECT session_id, seq, position, action, choice, flagged, server_ts, used_ms
             FROM answer_log WHERE {filter} ORDER BY session_id, seq"
        ),
        bound: bound.map(str::to_owned),
    }
}

/// A row of either driver, read by column index.
trait Cols {
    fn text(&self, i: usize) -> Result<&str>;
    fn opt_text(&self, i: usize) -> Result<Option<&str>>;
    fn int(&self, i: usize) -> Result<i64>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
}

impl Cols for sqlx::any::AnyRow {
    fn text(&self, i: usize) -> Result<&str> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<&str>> {
        Ok(self.try_get(i)?)
    }
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.try_get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.try_get(i)?)
    }
}

impl Cols for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<&str> {
        let value = self.get_ref(i)?;
        Ok(value.as_str().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(e)))?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<&str>> {
        let value = self.get_ref(i)?;
        Ok(value
            .as_str_or_null()
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(e)))?)
    }
    fn int(&self, i: usize) -> Result<i64> {
        Ok(self.get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(self.get(i)?)
    }
}

/// The records being built, row by row, whichever driver reads them.
#[derive(Default)]
struct Loader {
    recs: Vec<SessionRecord>,
    /// Each record's answer log replayed so far, by the record's index.
    replays: Vec<Replay>,
    index: HashMap<String, usize>,
}

impl Loader {
    fn head(&mut self, r: &impl Cols) -> Result<()> {
        let rec = SessionRecord {
            id: r.text(0)?.to_owned(),
            sitting_id: r.text(1)?.to_owned(),
            venue: r.text(2)?.to_owned(),
            exam_code: r.text(3)?.to_owned(),
            participant_no: r.text(4)?.to_owned(),
            name: r.text(5)?.to_owned(),
            status: r.text(6)?.to_owned(),
            finish_reason: r.opt_text(7)?.map(str::to_owned),
            duration_ms: r.int(8)?,
            extension_ms: r.int(9)?,
            used_ms: r.int(10)?,
            result: r.opt_text(11)?.map(str::to_owned),
            sitting_starts_at: r.text(12)?.to_owned(),
            paper: Vec::new(),
            answers: BTreeMap::new(),
            flags: BTreeMap::new(),
            acks: BTreeMap::new(),
            log_digest: LogDigest::new(),
        };
        self.index.insert(rec.id.clone(), self.recs.len());
        self.recs.push(rec);
        self.replays.push(Replay::default());
        Ok(())
    }

    fn paper(&mut self, r: &impl Cols) -> Result<()> {
        let Some(&i) = self.index.get(r.text(0)?) else { return Ok(()) };
        self.recs[i].paper.push(PaperRow {
            section: r.text(1)?.to_owned(),
            item_id: r.text(2)?.to_owned(),
            option_order: r.text(3)?.to_owned(),
        });
        Ok(())
    }

    fn log(&mut self, r: &impl Cols) -> Result<()> {
        let Some(&i) = self.index.get(r.text(0)?) else { return Ok(()) };
        self.replays[i].push(LogLine {
            seq: r.int(1)?,
            position: r.opt_int(2)?,
            action: r.text(3)?,
            choice: r.opt_text(4)?,
            flagged: r.opt_int(5)?.map(|f| f != 0),
            server_ts: r.text(6)?,
            used_ms: r.opt_int(7)?,
        });
        Ok(())
    }

    /// The records with their logs' replays in them.
    fn finish(self) -> Vec<SessionRecord> {
        let mut recs = self.recs;
        for (rec, replay) in recs.iter_mut().zip(self.replays) {
            rec.used_ms = replay.used_ms(rec.used_ms, rec.status == "finished");
            rec.answers = replay.answers;
            rec.flags = replay.flags;
            rec.acks = replay.acks;
            rec.log_digest = replay.digest;
        }
        recs
    }
}

impl Store {
    /// The sessions `which` names, in id order.
    pub(crate) async fn load_sessions(&self, which: Which<'_>) -> Result<Vec<SessionRecord>> {
        let q = queries(which);
        // An in-memory database has no file to open again: it stays on the pool.
        if self.backend == Backend::Sqlite
            && !matches!(which, Which::One(_))
            && let Ok(path) = self.sqlite_file()
        {
            return match tokio::task::spawn_blocking(move || load_on_sqlite(&path, &q)).await {
                Ok(loaded) => loaded,
                Err(e) => Err(StoreError::Blocking(e.to_string())),
            };
        }
        let query = |sql: &str| {
            let query = sqlx::query(AssertSqlSafe(sql.to_owned()));
            match &q.bound {
                Some(id) => query.bind(id.clone()),
                None => query,
            }
        };
        let mut loader = Loader::default();
        for r in query(&q.head).fetch_all(&self.pool).await? {
            loader.head(&r)?;
        }
        if loader.recs.is_empty() {
            return Ok(loader.recs);
        }
        // Rows are streamed, not collected: at a restart there are a hundred per session.
        let mut rows = query(&q.paper).fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            loader.paper(&r)?;
        }
        drop(rows);
        let mut rows = query(&q.log).fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            loader.log(&r)?;
        }
        Ok(loader.finish())
    }
}

/// The three queries on a SQLite connection of their own, in one read transaction.
fn load_on_sqlite(path: &Path, q: &Queries) -> Result<Vec<SessionRecord>> {
    let mut conn = open_sqlite(path, READER_CACHE_KIB)?;
    conn.pragma_update(None, "query_only", true)?;
    let tx = conn.transaction()?;
    let run = |sql: &str, each: &mut dyn FnMut(&rusqlite::Row<'_>) -> Result<()>| -> Result<()> {
        let mut stmt = tx.prepare(sql)?;
        let mut rows = match &q.bound {
            Some(id) => stmt.query([id])?,
            None => stmt.query([])?,
        };
        while let Some(r) = rows.next()? {
            each(r)?;
        }
        Ok(())
    };
    let mut loader = Loader::default();
    run(&q.head, &mut |r| loader.head(r))?;
    if !loader.recs.is_empty() {
        run(&q.paper, &mut |r| loader.paper(r))?;
        run(&q.log, &mut |r| loader.log(r))?;
    }
    Ok(loader.finish())
}
