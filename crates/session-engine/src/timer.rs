//! Timer arithmetic. The server owns time: it passes a monotonic [`Tick`] in, and the
//! timer never looks at a clock.
//!
//! A timer is `allowed` (duration plus extensions), `used` (time charged up to the last
//! fold) and, while running, the tick it started running at. Persisting `used` regularly is
//! what keeps server downtime off the candidate's clock: after a restart the timer resumes
//! from the stored `used`, and time while the server was down was never charged.

/// Milliseconds on the server's monotonic clock.
pub type Tick = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    allowed_ms: u64,
    used_ms: u64,
    running_since: Option<Tick>,
}

impl Timer {
    /// A stopped timer with `allowed_ms` to spend and `used_ms` already spent.
    pub fn new(allowed_ms: u64, used_ms: u64) -> Timer {
        Timer { allowed_ms, used_ms, running_since: None }
    }

    pub fn is_running(&self) -> bool {
        self.running_since.is_some()
    }

    /// Starts or resumes counting at `now`. Running already: nothing changes.
    pub fn run(&mut self, now: Tick) {
        if self.running_since.is_none() {
            self.running_since = Some(now);
        }
    }

    /// Stops counting at `now`, charging the time since it ran.
    pub fn stop(&mut self, now: Tick) {
        self.fold(now);
        self.running_since = None;
    }

    /// Charges the time run so far into `used`, so that `used` can be persisted.
    pub fn fold(&mut self, now: Tick) {
        if let Some(since) = self.running_since {
            self.used_ms = self.used_ms.saturating_add(now.saturating_sub(since)).min(self.allowed_ms);
            self.running_since = Some(now.max(since));
        }
    }

    pub fn extend(&mut self, ms: u64) {
        self.allowed_ms = self.allowed_ms.saturating_add(ms);
    }

    /// Time charged as of `now`, never more than allowed.
    pub fn used(&self, now: Tick) -> u64 {
        let running = self.running_since.map_or(0, |since| now.saturating_sub(since));
        self.used_ms.saturating_add(running).min(self.allowed_ms)
    }

    pub fn remaining(&self, now: Tick) -> u64 {
        self.allowed_ms - self.used(now)
    }

    pub fn is_expired(&self, now: Tick) -> bool {
        self.remaining(now) == 0
    }

    pub fn allowed(&self) -> u64 {
        self.allowed_ms
    }

    /// The tick at which the time runs out if nothing stops the timer; `None` when stopped.
    pub fn deadline(&self) -> Option<Tick> {
        self.running_since.map(|since| since + (self.allowed_ms - self.used_ms.min(self.allowed_ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_timer_counts_down_and_stops_at_zero() {
        let mut t = Timer::new(60_000, 0);
        assert_eq!(t.remaining(1_000), 60_000, "not running yet");
        t.run(1_000);
        assert_eq!(t.remaining(11_000), 50_000);
        assert_eq!(t.deadline(), Some(61_000));
        assert!(!t.is_expired(60_999));
        assert!(t.is_expired(61_000));
        assert_eq!(t.remaining(999_999), 0);
    }

    #[test]
    fn a_pause_is_not_charged() {
        let mut t = Timer::new(60_000, 0);
        t.run(0);
        t.stop(10_000);
        assert_eq!(t.remaining(500_000), 50_000);
        t.run(500_000);
        assert_eq!(t.remaining(510_000), 40_000);
    }

    #[test]
    fn an_extension_adds_time_even_after_folding() {
        let mut t = Timer::new(60_000, 0);
        t.run(0);
        t.fold(30_000);
        t.extend(15_000);
        assert_eq!(t.remaining(30_000), 45_000);
        assert_eq!(t.deadline(), Some(75_000));
    }

    #[test]
    fn a_restart_resumes_from_the_persisted_used_time() {
        let mut before = Timer::new(100 * 60_000, 0);
        before.run(0);
        before.fold(20 * 60_000);
        let persisted = before.used(20 * 60_000);
        // The server was down for an hour; the new process's clock starts anew.
        let mut after = Timer::new(100 * 60_000, persisted);
        after.run(5);
        assert_eq!(after.remaining(5), 80 * 60_000);
    }

    #[test]
    fn a_clock_that_goes_backwards_charges_nothing() {
        let mut t = Timer::new(10_000, 0);
        t.run(5_000);
        assert_eq!(t.remaining(4_000), 10_000);
        t.fold(4_000);
        assert_eq!(t.remaining(5_000), 10_000);
    }
}
