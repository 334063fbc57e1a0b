//! The registry's timers: the deadline sweep, which finishes sessions whose time is up
//! whether or not their candidates are connected, and the clock checkpoint.

use std::sync::Arc;
use std::time::Duration;

use session_engine::Status;
use store::{Batch, SessionWrite};

use super::Registry;
use super::seat::lock;

/// The oldest a running clock's stored figure may get. Every stored answer carries the
/// clock; a session with nothing stored for this long gets a checkpoint. After a crash at
/// most this much time is lost to the candidate's advantage (never charged), which is the
/// right side to err on.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);
/// How often the checkpoint looks for clocks that are getting old. Each pass writes only
/// those, so the writes spread over the interval instead of arriving as one burst.
const CHECKPOINT_TICK: Duration = Duration::from_secs(1);
/// How often the deadline sweep looks for sessions whose time is up.
const SWEEP_EVERY: Duration = Duration::from_millis(250);

impl Registry {
    /// Finishes every active session whose deadline has passed.
    /// Also takes each running score of an interval board at its mark.
    pub async fn sweep_deadlines(&self) {
        let now = self.clock.tick();
        let utc_ms = self.clock.utc().timestamp_millis();
        for seat in self.every_seat() {
            let (due, marked) = {
                let mut s = lock(&seat);
                let marked = s.at_interval_mark(utc_ms);
                (s.session.deadline().is_some_and(|d| d <= now).then(|| s.id.clone()), marked)
            };
            if marked {
                self.publish(&seat);
            }
            if let Some(id) = due
                && let Err(e) = self.expire(&id).await
            {
                e.log_dropped("cannot finish session at its deadline", &id);
            }
        }
    }

    /// Writes down the running clocks that would otherwise be older than
    /// [`CHECKPOINT_EVERY`] by the next pass (or all of them, with `all`), in one request
    /// to the writer, so downtime after a crash is never charged beyond that.
    pub async fn checkpoint(&self, all: bool) {
        let now = self.clock.tick();
        let utc = self.clock.utc();
        let due_after = (CHECKPOINT_EVERY - CHECKPOINT_TICK).as_millis() as u64;
        let sessions: Vec<SessionWrite> = self
            .every_seat()
            .into_iter()
            .filter_map(|seat| {
                let mut s = lock(&seat);
                let due = all || now.saturating_sub(s.clock_written) >= due_after;
                (due && s.session.status() == Status::Active).then(|| {
                    let mut w = s.session_write(now, utc, false);
                    w.status = None;
                    w
                })
            })
            .collect();
        if sessions.is_empty() {
            return;
        }
        if let Err(e) = self.writer.write(Batch { sessions, ..Batch::default() }).await {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }

    /// Runs the deadline sweep and the checkpoints until `shutdown` turns true.
    pub async fn run_timers(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        let mut checkpoint = tokio::time::interval(CHECKPOINT_TICK);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        checkpoint.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = sweep.tick() => self.sweep_deadlines().await,
                () = self.sweep_now.notified() => self.sweep_deadlines().await,
                _ = checkpoint.tick() => self.checkpoint(false).await,
                () = crate::shutdown::stopped(&mut shutdown) => {
                    self.checkpoint(true).await;
                    return;
                }
            }
        }
    }
}
