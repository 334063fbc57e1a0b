//! Seats loaded in bulk: every unfinished session after a restart, an open sitting's room
//! before its logins, and the board's rows at start.

use store::SessionRecord;

use super::Registry;
use super::records::{is_running, stored_score};
use super::seat::Seat;
use crate::board::RowUpdate;
use crate::error::WireError;

impl Registry {
    /// Loads every unfinished session, so the deadline sweep sees them after a restart
    /// whether or not their candidates come back.
    pub async fn load_unfinished(&self) -> anyhow::Result<usize> {
        let generation = self.generation();
        let recs = self.store.load_unfinished_sessions().await?;
        Ok(self.keep(recs, generation).await)
    }

    /// Brings every session of an open sitting that has not started into memory, so that
    /// a room logging in at once finds its sessions there instead of loading them one by
    /// one. Sessions already in memory are kept as they are.
    pub async fn load_sitting(&self, sitting_id: &str) -> anyhow::Result<usize> {
        let generation = self.generation();
        let recs = self.store.load_sitting_sessions(sitting_id).await?;
        Ok(self.keep(recs, generation).await)
    }

    /// Builds and registers loaded sessions (unless already live); returns how many. If a
    /// session was evicted since `generation`, none is registered: they load on demand.
    async fn keep(&self, recs: Vec<SessionRecord>, generation: u64) -> usize {
        let count = recs.len();
        let now = self.clock.tick();
        for rec in recs {
            let id = rec.id.clone();
            let built = match self.exams.get(&rec.exam_code).await {
                Ok(exam) => Seat::from_record(rec, exam, now, self.fast_answer_ms),
                Err(e) => Err(e.into()),
            };
            match built {
                Ok(seat) => {
                    if self.install(&id, seat, generation).is_none() {
                        tracing::info!("a session was evicted while loading; the rest load on demand");
                        return count;
                    }
                }
                Err(e) => {
                    WireError::from(e).log_dropped("cannot load session", &id);
                }
            }
        }
        count
    }

    /// Fills the board with every stored session: running scores for those in memory,
    /// stored results for finished ones, zero for those not started.
    pub async fn load_board(&self) -> anyhow::Result<()> {
        for row in self.store.board_rows(None).await? {
            let ctx = match self.exams.get(&row.exam_code).await {
                Ok(c) => c,
                Err(e) => {
                    WireError::from(super::Error::from(e)).log_dropped("board: cannot load exam", &row.exam_code);
                    continue;
                }
            };
            if is_running(&row.status) {
                match self.get(&row.session_id).await {
                    Ok(seat) => {
                        self.publish(&seat);
                        continue;
                    }
                    Err(e) => WireError::from(e).log_dropped("board: cannot load running session", &row.session_id),
                }
            }
            let (scored, answered) = stored_score(&row.status, row.result.as_deref(), &ctx);
            self.board.update(RowUpdate {
                id: row.session_id,
                participant_no: row.participant_no,
                name: row.name,
                sitting: row.sitting_id,
                venue: row.venue,
                exam: ctx.board.clone(),
                scored,
                answered,
                status: row.status,
                reason: row.finish_reason,
                sitting_ends_ms: None,
            });
        }
        Ok(())
    }
}
