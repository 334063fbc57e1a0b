//! The server's clock. Time is injected so that tests can move it (docs/design-rules.md,
//! "The server owns time": a monotonic clock for durations, UTC for timestamps).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use session_engine::Tick;

pub trait Clock: Send + Sync + 'static {
    /// Milliseconds on a monotonic clock, from an arbitrary origin (the process start).
    fn tick(&self) -> Tick;
    /// Wall-clock time, for timestamps only, never for durations.
    fn utc(&self) -> DateTime<Utc>;
}

/// The real clock: `Instant` for ticks, the system clock for timestamps.
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn tick(&self) -> Tick {
        self.origin.elapsed().as_millis() as Tick
    }
    fn utc(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to, for tests of deadlines and pauses.
pub struct ManualClock {
    tick: AtomicU64,
    utc_origin: DateTime<Utc>,
}

impl ManualClock {
    pub fn new(utc_origin: DateTime<Utc>) -> ManualClock {
        ManualClock { tick: AtomicU64::new(0), utc_origin }
    }

    pub fn advance(&self, ms: u64) {
        self.tick.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn tick(&self) -> Tick {
        self.tick.load(Ordering::SeqCst)
    }
    fn utc(&self) -> DateTime<Utc> {
        self.utc_origin + chrono::Duration::milliseconds(self.tick() as i64)
    }
}
