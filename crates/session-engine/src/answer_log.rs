//! The answer log read back: the sheet a session's log replays to, and the digest a
//! receipt vouches for.
//!
//! The log is append-only and the sheet is its replay (docs/design-rules.md: resume is
//! exact): whoever stores the log hands its lines here in seq order, and gets back the
//! answers, flags, acknowledged seqs and time that a session resumes from.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ring::digest::{Context, SHA256};

/// One line of a session's answer log, as the replay and the digest read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    pub seq: i64,
    /// The paper index the line is about; `None` for lines about the session as a whole.
    pub position: Option<i64>,
    /// `answer`, `flag`, or another kind the replay passes over (it still counts for the
    /// digest and the acknowledged seqs).
    pub action: &'a str,
    /// The label chosen (shown label); `None` clears the answer.
    pub choice: Option<&'a str>,
    pub flagged: Option<bool>,
    pub server_ts: &'a str,
    /// The time charged to the session when the line was written, if the line carries it.
    pub used_ms: Option<i64>,
}

/// A session's answer log replayed in seq order: the current sheet, every acknowledged
/// seq, the digest so far and the most time any line charged.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The last answer per position (shown labels): the last word wins.
    pub answers: BTreeMap<i64, Option<String>>,
    pub flags: BTreeMap<i64, bool>,
    /// Every acknowledged seq with its position and server timestamp, to repeat acks.
    pub acks: BTreeMap<i64, (Option<i64>, String)>,
    pub digest: LogDigest,
    /// The largest `used_ms` a line carried.
    logged_used_ms: Option<i64>,
}

impl Replay {
    /// Adds the next line of the log (lines come in seq order).
    pub fn push(&mut self, line: LogLine<'_>) {
        self.digest.push_entry(line);
        match (line.action, line.position) {
            ("answer", Some(p)) => {
                self.answers.insert(p, line.choice.map(str::to_owned));
            }
            ("flag", Some(p)) => {
                self.flags.insert(p, line.flagged.unwrap_or(false));
            }
            _ => {}
        }
        if let Some(used) = line.used_ms {
            self.logged_used_ms = Some(self.logged_used_ms.map_or(used, |u| u.max(used)));
        }
        self.acks.insert(line.seq, (line.position, line.server_ts.to_owned()));
    }

    /// The time charged to a session whose stored row says `stored_used_ms`: answers carry
    /// the clock with them, so the row is not rewritten on every answer and the larger
    /// figure wins. A finished session's row is final; the log cannot add time to it.
    pub fn used_ms(&self, stored_used_ms: i64, finished: bool) -> i64 {
        match self.logged_used_ms {
            Some(used) if !finished => stored_used_ms.max(used),
            _ => stored_used_ms,
        }
    }
}

/// SHA-256 over a session's answer-log lines in seq order, each line written as
/// `seq|position|action|choice|flagged|server_ts` and a newline (an absent field empty,
/// `flagged` as `1` or `0`). The server keeps one running per live session, fed as lines
/// are accepted, so finishing a session reads nothing back; anyone holding the stored log
/// gets the same value with [`LogDigest::of`].
#[derive(Clone)]
pub struct LogDigest {
    ctx: Context,
    line: String,
}

impl LogDigest {
    pub fn new() -> LogDigest {
        LogDigest { ctx: Context::new(&SHA256), line: String::new() }
    }

    /// The digest of `entries`, taken in the order given (the log's seq order).
    pub fn of<'a, L: Into<LogLine<'a>>>(entries: impl IntoIterator<Item = L>) -> String {
        let mut d = LogDigest::new();
        for e in entries {
            d.push_entry(e);
        }
        d.hex()
    }

    /// Adds the next line of the log.
    pub fn push_entry<'a>(&mut self, entry: impl Into<LogLine<'a>>) {
        let e = entry.into();
        self.line.clear();
        let _ = write!(self.line, "{}|", e.seq);
        if let Some(p) = e.position {
            let _ = write!(self.line, "{p}");
        }
        let flagged = match e.flagged {
            Some(true) => "1",
            Some(false) => "0",
            None => "",
        };
        let _ = writeln!(self.line, "|{}|{}|{flagged}|{}", e.action, e.choice.unwrap_or(""), e.server_ts);
        self.ctx.update(self.line.as_bytes());
    }

    /// The digest of the lines so far, as lowercase hex; more lines may follow.
    pub fn hex(&self) -> String {
        hex(self.ctx.clone().finish().as_ref())
    }
}

impl Default for LogDigest {
    fn default() -> LogDigest {
        LogDigest::new()
    }
}

impl std::fmt::Debug for LogDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LogDigest").field(&self.hex()).finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line at second `seq` of the exam, charging `seq` seconds.
    struct Line {
        seq: i64,
        position: Option<i64>,
        action: &'static str,
        choice: Option<&'static str>,
        flagged: Option<bool>,
        server_ts: String,
    }

    impl<'a> From<&'a Line> for LogLine<'a> {
        fn from(l: &'a Line) -> LogLine<'a> {
            LogLine {
                seq: l.seq,
                position: l.position,
                action: l.action,
                choice: l.choice,
                flagged: l.flagged,
                server_ts: &l.server_ts,
                used_ms: Some(l.seq * 1000),
            }
        }
    }

    fn line(
        seq: i64,
        position: Option<i64>,
        action: &'static str,
        choice: Option<&'static str>,
        flagged: Option<bool>,
    ) -> Line {
        Line { seq, position, action, choice, flagged, server_ts: format!("2026-11-23T08:00:0{seq}.000Z") }
    }

    #[test]
    fn the_digest_is_sha256_of_the_documented_lines() {
        let log = [
            line(1, Some(0), "answer", Some("C"), None),
            line(2, Some(4), "flag", None, Some(true)),
            line(3, Some(0), "answer", None, None),
            line(4, None, "event", Some("blur"), None),
        ];
        let text = "1|0|answer|C||2026-11-23T08:00:01.000Z\n\
                    2|4|flag||1|2026-11-23T08:00:02.000Z\n\
                    3|0|answer|||2026-11-23T08:00:03.000Z\n\
                    4||event|blur||2026-11-23T08:00:04.000Z\n";
        let expected = hex(ring::digest::digest(&SHA256, text.as_bytes()).as_ref());
        assert_eq!(LogDigest::of(&log), expected);
        // Running: the same value line by line, and reading it does not end it.
        let mut d = LogDigest::new();
        d.push_entry(&log[0]);
        d.push_entry(&log[1]);
        assert_eq!(d.hex(), LogDigest::of(&log[..2]));
        d.push_entry(&log[2]);
        d.push_entry(&log[3]);
        assert_eq!(d.hex(), expected);
        assert_eq!(
            LogDigest::new().hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "SHA-256 of nothing"
        );
    }

    #[track_caller]
    fn check(log: &[Line], answers: &[(i64, Option<&str>)], flags: &[(i64, bool)]) -> Replay {
        let mut replay = Replay::default();
        for l in log {
            replay.push(l.into());
        }
        let want: BTreeMap<i64, Option<String>> = answers.iter().map(|(p, c)| (*p, c.map(str::to_owned))).collect();
        assert_eq!(replay.answers, want, "answers");
        assert_eq!(replay.flags, flags.iter().copied().collect::<BTreeMap<_, _>>(), "flags");
        let acks: Vec<(i64, Option<i64>, String)> =
            log.iter().map(|l| (l.seq, l.position, l.server_ts.clone())).collect();
        let got: Vec<(i64, Option<i64>, String)> = replay.acks.iter().map(|(s, (p, t))| (*s, *p, t.clone())).collect();
        assert_eq!(got, acks, "every line is an acknowledged seq");
        assert_eq!(replay.digest.hex(), LogDigest::of(log), "the running digest is the log's");
        replay
    }

    #[test]
    fn the_last_word_per_position_wins_and_other_lines_change_no_answer() {
        check(&[], &[], &[]);
        check(
            &[
                line(1, Some(0), "answer", Some("C"), None),
                line(2, Some(1), "answer", Some("A"), None),
                line(3, Some(0), "answer", Some("B"), None),
                line(4, None, "event", Some("blur"), None),
                line(5, Some(1), "answer", None, None),
            ],
            &[(0, Some("B")), (1, None)],
            &[],
        );
        check(
            &[
                line(1, Some(2), "flag", None, Some(true)),
                line(2, Some(3), "flag", None, Some(true)),
                line(3, Some(2), "flag", None, Some(false)),
                line(4, Some(3), "flag", None, None),
                line(5, None, "flag", None, Some(true)),
            ],
            &[],
            &[(2, false), (3, false)],
        );
    }

    #[test]
    fn the_larger_of_the_row_and_the_log_is_charged_unless_the_session_is_finished() {
        let log = [line(1, Some(0), "answer", Some("C"), None), line(3, Some(0), "answer", Some("D"), None)];
        let replay = check(&log, &[(0, Some("D"))], &[]);
        assert_eq!(replay.used_ms(1_000, false), 3_000);
        assert_eq!(replay.used_ms(9_000, false), 9_000);
        assert_eq!(replay.used_ms(1_000, true), 1_000, "a finished session's row is final");
        assert_eq!(Replay::default().used_ms(1_000, false), 1_000, "no line, the row's figure");
    }
}
