//! The supervisor's live seat monitor: events as they happen (connect, disconnect,
//! takeover, focus lost, implausibly fast answers, one question tried option by option,
//! answers during a pause, supervisor actions), one broadcast channel per sitting.

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
    /// `fast_answer`, `answer_cycling`, `answer_while_paused`, `paused`, `resumed`,
    /// `extended`, `finished`, …
    pub kind: String,
    /// Who reports it: `server` (seen by the server itself) or `candidate` (the page's own
    /// report, one of `protocol::ClientEvent`; it cannot claim a server kind).
    pub by: &'static str,
    pub detail: String,
    pub at: String,
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
