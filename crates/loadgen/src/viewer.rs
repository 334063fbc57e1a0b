//! Public board viewers: Server-Sent Events clients of a sitting's feed, and the matching of
//! board rows to acknowledgements that gives the ack → viewer latency.
//!
//! Board rows carry `answered`, the count of answered questions. For each candidate the
//! [`BoardTracker`] keeps the ack time of the answer that raised the count to k. When a
//! viewer receives a row with `answered = k`, the latency is now minus the ack time of the
//! earliest count this viewer had not seen yet (coalescing may fold several into one row,
//! and the oldest is the one that waited longest).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::watch;

/// Ack times per candidate: `acks[c][k - 1]` is when candidate `c`'s answered count became
/// `k`, in microseconds since the run started.
pub struct BoardTracker {
    index: HashMap<String, usize>,
    acks: Vec<Mutex<Vec<u64>>>,
}

impl BoardTracker {
    pub fn new(participants: &[String]) -> BoardTracker {
        BoardTracker {
            index: participants.iter().enumerate().map(|(i, p)| (p.clone(), i)).collect(),
            acks: participants.iter().map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    fn slot(&self, candidate: usize) -> Option<std::sync::MutexGuard<'_, Vec<u64>>> {
        self.acks.get(candidate).map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Candidate `candidate`'s answered count became `count` at `at_us`.
    pub fn record(&self, candidate: usize, count: usize, at_us: u64) {
        if let Some(mut acks) = self.slot(candidate) {
            // Counts only grow by one per acknowledged new answer; fill a gap (a resumed
            // session whose earlier answers were acked before a restart) with this time.
            while acks.len() < count {
                acks.push(at_us);
            }
        }
    }

    pub fn candidate(&self, participant: &str) -> Option<usize> {
        self.index.get(participant).copied()
    }

    pub fn candidates(&self) -> usize {
        self.acks.len()
    }

    /// The count each candidate reached, as acknowledged.
    pub fn acked_count(&self, candidate: usize) -> usize {
        self.slot(candidate).map_or(0, |a| a.len())
    }
}

/// What one row told a viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The row moved past counts this viewer had not seen: ack → receipt of the oldest.
    Latency(u32),
    /// The row shows a count whose ack the candidate has not received yet (the board tick
    /// fell between the server's update and the ack reaching the client).
    Early,
    /// Nothing new (or a participant this run does not know).
    Nothing,
}

/// One viewer's progress through every candidate's counts.
pub struct Matcher {
    seen: Vec<u32>,
}

impl Matcher {
    pub fn new(candidates: usize) -> Matcher {
        Matcher { seen: vec![0; candidates] }
    }

    pub fn observe(&mut self, tracker: &BoardTracker, participant: &str, answered: u32, now_us: u64) -> Observation {
        let Some(c) = tracker.candidate(participant) else { return Observation::Nothing };
        let seen = self.seen[c];
        if answered <= seen {
            return Observation::Nothing;
        }
        self.seen[c] = answered;
        let oldest = tracker.slot(c).and_then(|acks| acks.get(seen as usize).copied());
        match oldest {
            Some(at) => Observation::Latency(u32::try_from(now_us.saturating_sub(at)).unwrap_or(u32::MAX)),
            None => Observation::Early,
        }
    }

    /// Takes a row as the starting point: counts up to `answered` are not news.
    pub fn baseline(&mut self, tracker: &BoardTracker, participant: &str, answered: u32) {
        if let Some(c) = tracker.candidate(participant) {
            self.seen[c] = self.seen[c].max(answered);
        }
    }

    /// Counts acknowledged but never seen by this viewer.
    pub fn missed(&self, tracker: &BoardTracker) -> u64 {
        (0..tracker.candidates()).map(|c| tracker.acked_count(c).saturating_sub(self.seen[c] as usize) as u64).sum()
    }
}

/// The two fields of a board row this client needs; serde skips the rest.
#[derive(Debug, Deserialize)]
struct RowLite {
    participant_no: String,
    #[serde(default)]
    answered: u32,
}

#[derive(Debug, Deserialize)]
struct FrameLite {
    #[serde(default)]
    rows: Vec<RowLite>,
}

/// What one viewer saw.
#[derive(Debug, Default)]
pub struct ViewerResult {
    pub latencies_us: Vec<u32>,
    pub snapshots: u64,
    pub deltas: u64,
    pub bytes: u64,
    pub early: u64,
    pub missed: u64,
    pub reconnects: u64,
    pub errors: crate::stats::ErrorCounts,
    pub measured: bool,
    /// When the first snapshot arrived (the run starts candidates after every viewer has one).
    pub connected: bool,
}

/// Finds complete SSE events in `buf` and hands (event name, data) to `f`, keeping the rest.
pub fn drain_events(buf: &mut String, mut f: impl FnMut(&str, &str)) {
    let mut consumed = 0;
    while let Some(end) = buf[consumed..].find("\n\n") {
        let block = &buf[consumed..consumed + end];
        let mut event = "message";
        let mut data: Option<&str> = None;
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                event = v.trim();
            } else if let Some(v) = line.strip_prefix("data:") {
                // The server writes every frame as one line of JSON.
                data = Some(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if let Some(data) = data {
            f(event, data);
        }
        consumed += end + 2;
    }
    buf.drain(..consumed);
}

/// Counts whole snapshot events in the raw feed, for viewers that do not parse (a snapshot
/// after the first means the viewer lagged and the server sent the whole board again).
/// SSE is lines: a snapshot starts at the line `event: snapshot` and ends at the next blank
/// line (its JSON holds no line breaks). Chunks may split a line anywhere.
#[derive(Default)]
struct SnapshotScan {
    /// The current line's first bytes (enough to tell the marker) and its length so far.
    line: Vec<u8>,
    len: usize,
    /// Inside a snapshot, before its blank line.
    open: bool,
}

impl SnapshotScan {
    const MARK: &'static [u8] = b"event: snapshot";

    /// How many snapshot events ended in `chunk`.
    fn feed(&mut self, chunk: &[u8]) -> u64 {
        let mut ended = 0;
        let mut parts = chunk.split(|b| *b == b'\n').peekable();
        while let Some(part) = parts.next() {
            let room = (Self::MARK.len() + 1).saturating_sub(self.line.len());
            self.line.extend_from_slice(&part[..part.len().min(room)]);
            self.len += part.len();
            if parts.peek().is_none() {
                break; // the line goes on in the next chunk
            }
            if self.len == 0 && self.open {
                ended += 1;
                self.open = false;
            } else if self.line == Self::MARK {
                self.open = true;
            }
            self.line.clear();
            self.len = 0;
        }
        ended
    }
}

/// Runs one viewer until `stop` turns true, reconnecting when the feed ends (a restart).
/// `ready` is told once the first snapshot arrived.
pub async fn run_viewer(
    http: reqwest::Client,
    url: String,
    tracker: std::sync::Arc<BoardTracker>,
    measured: bool,
    t0: Instant,
    mut stop: watch::Receiver<bool>,
    ready: tokio::sync::mpsc::Sender<()>,
) -> ViewerResult {
    let mut out = ViewerResult { measured, ..ViewerResult::default() };
    let mut matcher = Matcher::new(tracker.candidates());
    let mut first = true;
    let mut attempt: u32 = 0;
    while !*stop.borrow() {
        let resp = tokio::select! {
            r = http.get(&url).send() => r,
            _ = stop.wait_for(|s| *s) => break,
        };
        let mut resp = match resp {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => {
                out.errors.add(&format!("feed_http_{}", r.status().as_u16()));
                backoff(&mut attempt, &mut stop).await;
                continue;
            }
            Err(_) => {
                out.errors.add("feed_connect");
                backoff(&mut attempt, &mut stop).await;
                continue;
            }
        };
        if !first {
            out.reconnects += 1;
        }
        attempt = 0;
        let mut buf = String::new();
        let mut scan = SnapshotScan::default();
        loop {
            let chunk = tokio::select! {
                c = resp.chunk() => c,
                _ = stop.wait_for(|s| *s) => break,
            };
            let chunk = match chunk {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(_) => {
                    out.errors.add("feed_read");
                    break;
                }
            };
            out.bytes += chunk.len() as u64;
            if !measured {
                // Ready once the whole first snapshot is in, as for a viewer that parses.
                let snaps = scan.feed(&chunk);
                out.snapshots += snaps;
                if first && snaps > 0 {
                    first = false;
                    out.connected = true;
                    let _ = ready.try_send(());
                }
                continue;
            }
            buf.push_str(&String::from_utf8_lossy(&chunk));
            let now_us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
            let mut got_snapshot = false;
            drain_events(&mut buf, |event, data| {
                // The viewer's very first snapshot is where it starts from (answers from
                // before this run), not news; later snapshots (after a lag or a
                // restart) are news like any delta.
                let baseline = event == "snapshot" && first && !got_snapshot;
                match event {
                    "snapshot" => {
                        out.snapshots += 1;
                        got_snapshot = true;
                    }
                    _ => out.deltas += 1,
                }
                let Ok(frame) = serde_json::from_str::<FrameLite>(data) else {
                    out.errors.add("feed_json");
                    return;
                };
                for row in &frame.rows {
                    if baseline {
                        matcher.baseline(&tracker, &row.participant_no, row.answered);
                        continue;
                    }
                    match matcher.observe(&tracker, &row.participant_no, row.answered, now_us) {
                        Observation::Latency(us) => out.latencies_us.push(us),
                        Observation::Early => out.early += 1,
                        Observation::Nothing => {}
                    }
                }
            });
            if first && got_snapshot {
                first = false;
                out.connected = true;
                let _ = ready.try_send(());
            }
        }
    }
    if measured {
        out.missed = matcher.missed(&tracker);
    }
    out
}

/// Waits 100 ms to 2 s (growing, jittered) before the next attempt, or until stopped.
async fn backoff(attempt: &mut u32, stop: &mut watch::Receiver<bool>) {
    *attempt = attempt.saturating_add(1);
    let base = 100u64.saturating_mul(1 << (*attempt).min(4)).min(2_000);
    let jitter = rand::random_range(0..=base / 2);
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(base / 2 + jitter)) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker() -> BoardTracker {
        BoardTracker::new(&["P1".to_owned(), "P2".to_owned()])
    }

    #[test]
    fn a_row_is_matched_to_the_oldest_unseen_ack() {
        let t = tracker();
        t.record(0, 1, 1_000);
        t.record(0, 2, 2_000);
        t.record(0, 3, 3_000);
        let mut m = Matcher::new(2);
        // Coalesced: one row jumps from 0 to 2; the oldest unseen ack (count 1) waited longest.
        assert_eq!(m.observe(&t, "P1", 2, 10_000), Observation::Latency(9_000));
        assert_eq!(m.observe(&t, "P1", 2, 11_000), Observation::Nothing, "a repeated row adds nothing");
        assert_eq!(m.observe(&t, "P1", 3, 12_000), Observation::Latency(9_000));
        assert_eq!(m.missed(&t), 0);
    }

    #[test]
    fn a_row_ahead_of_its_ack_is_early_and_unseen_counts_are_missed() {
        let t = tracker();
        let mut m = Matcher::new(2);
        assert_eq!(m.observe(&t, "P2", 1, 500), Observation::Early);
        t.record(0, 1, 100);
        t.record(0, 2, 200);
        t.record(1, 1, 300);
        assert_eq!(m.missed(&t), 2, "P1's two counts were never seen");
        assert_eq!(m.observe(&t, "NOBODY", 5, 900), Observation::Nothing);
    }

    #[test]
    fn a_starting_snapshot_is_not_news() {
        let t = tracker();
        let mut m = Matcher::new(2);
        m.baseline(&t, "P1", 2);
        // The candidate resumes with two answers and acks a third.
        t.record(0, 3, 5_000);
        assert_eq!(m.observe(&t, "P1", 2, 6_000), Observation::Nothing);
        assert_eq!(m.observe(&t, "P1", 3, 6_000), Observation::Latency(1_000));
        assert_eq!(m.missed(&t), 0);
    }

    #[test]
    fn a_gap_in_counts_is_filled_with_the_later_time() {
        let t = tracker();
        t.record(1, 3, 700);
        assert_eq!(t.acked_count(1), 3);
        let mut m = Matcher::new(2);
        assert_eq!(m.observe(&t, "P2", 1, 1_700), Observation::Latency(1_000));
    }

    #[test]
    fn sse_events_are_split_on_blank_lines_and_partial_ones_are_kept() {
        let mut buf = String::from(
            "event: snapshot\ndata: {\"rows\":[]}\n\n:\n\nevent: delta\ndata: {\"rows\":[1]}\n\nevent: delta\ndata: {\"ro",
        );
        let mut got = Vec::new();
        drain_events(&mut buf, |e, d| got.push((e.to_owned(), d.to_owned())));
        assert_eq!(got, [("snapshot".into(), "{\"rows\":[]}".into()), ("delta".into(), "{\"rows\":[1]}".into())]);
        assert_eq!(buf, "event: delta\ndata: {\"ro");
    }

    #[test]
    fn a_snapshot_counts_once_it_has_ended_wherever_the_chunks_split_it() {
        let feed: &[u8] =
            b"event: snapshot\ndata: {\"rows\":[]}\n\n:\n\nevent: delta\ndata: {}\n\nevent: snapshot\ndata: {}\n\nevent: snap";
        let ends = [feed.windows(2).position(|w| w == b"\n\n").expect("end") + 2, 87];
        assert_eq!(&feed[ends[1] - 4..ends[1]], b"{}\n\n", "the second snapshot ends at 87");
        for cut in 0..=feed.len() {
            let mut scan = SnapshotScan::default();
            let first = scan.feed(&feed[..cut]);
            let second = scan.feed(&feed[cut..]);
            assert_eq!(first, ends.iter().filter(|e| **e <= cut).count() as u64, "cut at {cut}");
            assert_eq!(first + second, 2, "cut at {cut}");
        }
        let mut scan = SnapshotScan::default();
        let counted: u64 = feed.iter().map(|b| scan.feed(std::slice::from_ref(b))).sum();
        assert_eq!(counted, 2, "one byte at a time");
        assert_eq!(SnapshotScan::default().feed(b"event: snapshots\ndata: {}\n\n"), 0, "not the marker");
    }

    #[test]
    fn board_rows_parse_with_only_the_fields_needed() {
        let frame: FrameLite = serde_json::from_str(
            r#"{"type":"delta","version":3,"rows":[{"id":"S.P1","participant_no":"P1","answered":4,"total":10}]}"#,
        )
        .expect("frame");
        assert_eq!(frame.rows[0].participant_no, "P1");
        assert_eq!(frame.rows[0].answered, 4);
    }
}
