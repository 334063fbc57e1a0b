//! The answer log's digest: what a receipt vouches for.

use std::fmt::Write as _;

use ring::digest::{Context, SHA256};

use crate::LogEntry;

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
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a LogEntry>) -> String {
        let mut d = LogDigest::new();
        for e in entries {
            d.push_entry(e);
        }
        d.hex()
    }

    pub fn push_entry(&mut self, e: &LogEntry) {
        self.push(e.seq, e.position, &e.action, e.choice.as_deref(), e.flagged, &e.server_ts);
    }

    /// Adds the next line of the log.
    pub fn push(
        &mut self,
        seq: i64,
        position: Option<i64>,
        action: &str,
        choice: Option<&str>,
        flagged: Option<bool>,
        server_ts: &str,
    ) {
        self.line.clear();
        let _ = write!(self.line, "{seq}|");
        if let Some(p) = position {
            let _ = write!(self.line, "{p}");
        }
        let flagged = match flagged {
            Some(true) => "1",
            Some(false) => "0",
            None => "",
        };
        let _ = writeln!(self.line, "|{action}|{}|{flagged}|{server_ts}", choice.unwrap_or(""));
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

    fn entry(seq: i64, position: Option<i64>, action: &str, choice: Option<&str>, flagged: Option<bool>) -> LogEntry {
        LogEntry {
            session_id: "S".into(),
            seq,
            position,
            action: action.into(),
            choice: choice.map(str::to_owned),
            flagged,
            client_ts: Some("ignored".into()),
            server_ts: format!("2026-11-23T08:00:0{seq}.000Z"),
            used_ms: Some(seq * 1000),
        }
    }

    #[test]
    fn the_digest_is_sha256_of_the_documented_lines() {
        let log = [
            entry(1, Some(0), "answer", Some("C"), None),
            entry(2, Some(4), "flag", None, Some(true)),
            entry(3, Some(0), "answer", None, None),
            entry(4, None, "event", Some("blur"), None),
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
}
