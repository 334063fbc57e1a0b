//! The durability check: every acknowledgement the candidates received must match a row of
//! the stored answer log (docs/design-rules.md,
//! "Nothing acknowledged is lost").

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use store::{LogEntry, Store};

/// What an acknowledged message did, as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Acked {
    Answer { index: i64, choice: Option<String> },
    Flag { index: i64, flagged: bool },
    Finish,
}

/// One acknowledgement a simulated candidate received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckRecord {
    /// Shared by every ack of a session: a closed loop records hundreds of thousands.
    pub session: Arc<str>,
    pub seq: i64,
    #[serde(flatten)]
    pub acked: Acked,
    /// When the ack arrived, in microseconds since the run started: the board-latency
    /// matcher and the steady-window throughput are computed from it.
    pub at_us: u64,
    /// Send → ack, in microseconds (from the last send when the message had to be resent).
    pub latency_us: u32,
}

/// Why one acknowledgement does not match the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub session: String,
    pub seq: i64,
    pub expected: Acked,
    /// The stored row, described (`answer 3 B`, `flag 7 true`, `finish`, …).
    pub stored: String,
}

/// The outcome of comparing acknowledgements with the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Distinct (session, seq) acknowledgements compared.
    pub acks_checked: usize,
    pub sessions: usize,
    /// Acknowledged but absent from the log.
    pub lost: Vec<(String, i64)>,
    /// Present, but with another position, choice or action.
    pub mismatched: Vec<Mismatch>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.lost.is_empty() && self.mismatched.is_empty()
    }
}

fn describe(e: &LogEntry) -> String {
    match e.action.as_str() {
        "answer" => format!(
            "answer {} {}",
            e.position.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            e.choice.as_deref().unwrap_or("null")
        ),
        "flag" => format!(
            "flag {} {}",
            e.position.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            e.flagged.map_or_else(|| "-".to_owned(), |f| f.to_string())
        ),
        other => other.to_owned(),
    }
}

fn matches(acked: &Acked, e: &LogEntry) -> bool {
    match acked {
        Acked::Answer { index, choice } => {
            e.action == "answer" && e.position == Some(*index) && e.choice.as_deref() == choice.as_deref()
        }
        Acked::Flag { index, flagged } => {
            e.action == "flag" && e.position == Some(*index) && e.flagged == Some(*flagged)
        }
        Acked::Finish => e.action == "finish",
    }
}

/// Compares acknowledgements with the logs of their sessions (session id → log).
///
/// A seq acknowledged twice (a replay after a reconnect) is checked once; two different
/// messages acknowledged under one seq cannot both match the single stored row, so the
/// second shows up as a mismatch.
pub fn check_against_logs(acks: &[AckRecord], logs: &HashMap<String, Vec<LogEntry>>) -> CheckReport {
    let mut seen: BTreeMap<(&str, i64), &Acked> = BTreeMap::new();
    let mut report = CheckReport::default();
    let empty = Vec::new();
    for a in acks {
        if let Some(previous) = seen.get(&(&*a.session, a.seq)) {
            if *previous != &a.acked {
                report.mismatched.push(Mismatch {
                    session: a.session.to_string(),
                    seq: a.seq,
                    expected: a.acked.clone(),
                    stored: "another message acknowledged under the same seq".into(),
                });
            }
            continue;
        }
        seen.insert((&*a.session, a.seq), &a.acked);
        report.acks_checked += 1;
        let log = logs.get(&*a.session).unwrap_or(&empty);
        match log.iter().find(|e| e.seq == a.seq) {
            None => report.lost.push((a.session.to_string(), a.seq)),
            Some(e) if !matches(&a.acked, e) => report.mismatched.push(Mismatch {
                session: a.session.to_string(),
                seq: a.seq,
                expected: a.acked.clone(),
                stored: describe(e),
            }),
            Some(_) => {}
        }
    }
    report.sessions = seen.keys().map(|(s, _)| *s).collect::<std::collections::BTreeSet<_>>().len();
    report
}

/// Reads the answer log of every session that got an acknowledgement and compares.
pub async fn verify_store(store: &Store, acks: &[AckRecord]) -> anyhow::Result<CheckReport> {
    let mut logs = HashMap::new();
    for a in acks {
        if !logs.contains_key(&*a.session) {
            let log = store.answer_log(&a.session).await?;
            logs.insert(a.session.to_string(), log);
        }
    }
    Ok(check_against_logs(acks, &logs))
}

/// What the database says about the sessions of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finished {
    /// Of the sessions asked about, how many the database holds, and how many as finished.
    pub stored: usize,
    pub finished: usize,
    /// Sessions the clients were told are finished (`finished` message or a welcome saying
    /// so) that the database does not hold as finished.
    pub contradicted: Vec<String>,
}

/// Reads the status of `sessions`, and compares with those the clients saw finish.
pub async fn finished_sessions(
    store: &Store,
    sessions: &[String],
    seen_finished: &[String],
) -> anyhow::Result<Finished> {
    let wanted: std::collections::HashSet<&str> = sessions.iter().map(String::as_str).collect();
    let rows = store.board_rows(None).await?;
    let finished_in_db: std::collections::HashSet<&str> =
        rows.iter().filter(|r| r.status == "finished").map(|r| r.session_id.as_str()).collect();
    Ok(Finished {
        stored: rows.iter().filter(|r| wanted.contains(r.session_id.as_str())).count(),
        finished: wanted.iter().filter(|s| finished_in_db.contains(*s)).count(),
        contradicted: seen_finished.iter().filter(|s| !finished_in_db.contains(s.as_str())).cloned().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(session: &str, seq: i64, acked: Acked) -> AckRecord {
        AckRecord { session: session.into(), seq, acked, at_us: 0, latency_us: 0 }
    }

    fn answer(index: i64, choice: &str) -> Acked {
        Acked::Answer { index, choice: Some(choice.into()) }
    }

    fn row(session: &str, seq: i64, action: &str, position: Option<i64>, choice: Option<&str>) -> LogEntry {
        LogEntry {
            session_id: session.into(),
            seq,
            position,
            action: action.into(),
            choice: choice.map(str::to_owned),
            flagged: (action == "flag").then_some(true),
            client_ts: None,
            server_ts: "2026-01-01T00:00:00.000Z".into(),
            used_ms: Some(seq * 1_000),
        }
    }

    fn logs(rows: Vec<LogEntry>) -> HashMap<String, Vec<LogEntry>> {
        let mut out: HashMap<String, Vec<LogEntry>> = HashMap::new();
        for r in rows {
            out.entry(r.session_id.clone()).or_default().push(r);
        }
        out
    }

    #[test]
    fn acknowledgements_that_match_the_log_pass() {
        let acks = vec![
            ack("s1", 1, answer(0, "B")),
            ack("s1", 2, Acked::Flag { index: 0, flagged: true }),
            ack("s1", 3, answer(0, "C")),
            ack("s2", 1, answer(4, "A")),
            ack("s1", 4, Acked::Finish),
        ];
        let log = logs(vec![
            row("s1", 1, "answer", Some(0), Some("B")),
            row("s1", 2, "flag", Some(0), None),
            row("s1", 3, "answer", Some(0), Some("C")),
            row("s1", 4, "finish", None, None),
            row("s2", 1, "answer", Some(4), Some("A")),
            // Stored but never acknowledged (the server died before the ack): allowed.
            row("s2", 2, "answer", Some(5), Some("D")),
        ]);
        let report = check_against_logs(&acks, &log);
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.acks_checked, 5);
        assert_eq!(report.sessions, 2);
    }

    #[test]
    fn a_missing_row_is_a_lost_answer() {
        let acks = vec![ack("s1", 1, answer(0, "B")), ack("s1", 2, answer(1, "C")), ack("s3", 1, answer(0, "A"))];
        let log = logs(vec![row("s1", 1, "answer", Some(0), Some("B"))]);
        let report = check_against_logs(&acks, &log);
        assert_eq!(report.lost, vec![("s1".to_owned(), 2), ("s3".to_owned(), 1)]);
        assert!(report.mismatched.is_empty());
        assert!(!report.ok());
    }

    #[test]
    fn a_row_with_another_choice_or_position_is_a_mismatch() {
        let acks = vec![ack("s1", 1, answer(0, "B")), ack("s1", 2, answer(1, "C")), ack("s1", 3, Acked::Finish)];
        let log = logs(vec![
            row("s1", 1, "answer", Some(0), Some("E")),
            row("s1", 2, "answer", Some(2), Some("C")),
            row("s1", 3, "answer", Some(3), Some("A")),
        ]);
        let report = check_against_logs(&acks, &log);
        assert!(report.lost.is_empty());
        let stored: Vec<&str> = report.mismatched.iter().map(|m| m.stored.as_str()).collect();
        assert_eq!(stored, ["answer 0 E", "answer 2 C", "answer 3 A"]);
    }

    #[test]
    fn a_replayed_ack_is_checked_once_but_a_conflicting_one_is_reported() {
        let acks = vec![ack("s1", 1, answer(0, "B")), ack("s1", 1, answer(0, "B")), ack("s1", 1, answer(0, "D"))];
        let log = logs(vec![row("s1", 1, "answer", Some(0), Some("B"))]);
        let report = check_against_logs(&acks, &log);
        assert_eq!(report.acks_checked, 1);
        assert_eq!(report.mismatched.len(), 1, "{report:?}");
    }

    #[test]
    fn a_cleared_answer_matches_a_null_choice() {
        let acks = vec![ack("s1", 1, Acked::Answer { index: 2, choice: None })];
        let report = check_against_logs(&acks, &logs(vec![row("s1", 1, "answer", Some(2), None)]));
        assert!(report.ok(), "{report:?}");
        let flag_false = Acked::Flag { index: 2, flagged: false };
        let report = check_against_logs(&[ack("s1", 1, flag_false)], &logs(vec![row("s1", 1, "flag", Some(2), None)]));
        assert_eq!(report.mismatched.len(), 1, "a stored true is not an acknowledged false");
    }
}
