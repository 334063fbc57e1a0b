//! The supervisor's live seat monitor: events as they happen (connect, disconnect,
//! takeover, focus lost, one question tried option by option, answers during a pause,
//! supervisor actions, and one grouped irregularity per candidate updated as its evidence
//! grows), one broadcast channel per sitting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;

/// One thing that happened at a seat.
#[derive(Debug, Clone, Serialize)]
pub struct SeatEvent {
    pub session: String,
    pub participant_no: String,
    /// `connected`, `disconnected`, `taken_over`, `focus_lost`, `focus_gained`,
    /// `irregularity`, `answer_cycling`, `answer_while_paused`, `paused`, `resumed`,
    /// `extended`, `finished`, …
    pub kind: String,
    /// Who reports it: `server` (seen by the server itself) or `candidate` (the page's own
    /// report, one of `protocol::ClientEvent`; it cannot claim a server kind).
    pub by: &'static str,
    pub detail: String,
    pub at: String,
    /// With kind `irregularity` only: the candidate's grouped evidence so far. One such event
    /// per candidate is current: each new one replaces the last (docs/protocol.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irregularity: Option<Irregularity>,
}

/// What the live detectors counted at one seat since the server loaded it: the evidence of
/// the one grouped irregularity per candidate that the seat monitor shows, and never the
/// public board. None of it depends on the answer key: a fast answer is fast whether right
/// or wrong, so the monitor tells no one which option is keyed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Irregularity {
    /// Answers sooner after the previous one than the server's `fast_answer_ms`.
    pub fast_answers: u32,
    /// The shortest gap among them, in milliseconds.
    pub fastest_ms: u64,
    /// Questions answered with three or more different options within a minute.
    pub cycled_questions: u32,
    /// Answers counted since the seat was loaded (the share of fast ones is the telling part).
    pub answers: u32,
    /// What the console sorts and colours by: the irregular answers so far (fast answers
    /// plus questions cycled). A count, not a probability or a verdict.
    pub score: u32,
}

/// Per-sitting event channels. Sending to a sitting nobody watches costs a map lookup.
#[derive(Default)]
pub struct MonitorHub {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<SeatEvent>>>>,
}

impl MonitorHub {
    pub fn subscribe(&self, sitting: &str) -> broadcast::Receiver<Arc<SeatEvent>> {
        let mut map = self.channels.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(sitting.to_owned()).or_insert_with(|| broadcast::channel(256).0).subscribe()
    }

    /// Sends the event `make` builds to the sitting's watchers; builds nothing when no
    /// console is watching (most seats, most of the time).
    pub fn emit(&self, sitting: &str, make: impl FnOnce() -> SeatEvent) {
        let map = self.channels.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tx) = map.get(sitting)
            && tx.receiver_count() > 0
        {
            let _ = tx.send(Arc::new(make()));
        }
    }
}
