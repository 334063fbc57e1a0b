//! What a login and the supervisor's console ask of the registry: a sitting's status and
//! start, closing it, which login holds a seat, and a seat's images.

use session_engine::Status;

use super::Registry;
use super::seat::lock;
use crate::error::WireError;
use crate::sittings::SittingStatus;

impl Registry {
    /// A sitting's status (`None`: no such sitting), read from the store once.
    pub async fn sitting_status(&self, id: &str) -> store::Result<Option<SittingStatus>> {
        self.sittings.status(id).await
    }

    /// Stores a sitting's new status, then makes it the one `sitting_status` answers.
    pub async fn set_sitting_status(&self, id: &str, status: SittingStatus) -> store::Result<()> {
        self.sittings.set(id, status).await
    }

    /// A sitting's scheduled start (`None`: no such sitting), read from the store once.
    pub async fn sitting_start(&self, id: &str) -> store::Result<Option<chrono::DateTime<chrono::Utc>>> {
        self.sittings.start(id).await
    }

    /// Closes a sitting: no session of it starts from now on, and the logins of those that
    /// have not started end (`sitting_closed`) with the status, in one transaction. A
    /// session whose start is applied in memory but may not be stored yet keeps its login.
    /// Returns the sessions whose logins ended.
    pub async fn close_sitting(&self, id: &str) -> store::Result<Vec<String>> {
        // Closed here first: a connect decides a start under its seat's lock against the
        // sittings' statuses, so once every seat's lock has been taken below, no start
        // that read the sitting open is still undecided.
        let before = self.sittings.replace(id, SittingStatus::Closed);
        let started: Vec<String> = self
            .every_seat()
            .iter()
            .filter_map(|seat| {
                let s = lock(seat);
                (s.sitting == id && s.session.status() != Status::Ready).then(|| s.id.clone())
            })
            .collect();
        let ended = self.store.close_sitting(id, &started, &store::ts(self.clock.utc())).await;
        if ended.is_err() {
            self.sittings.put_back(id, before);
        }
        ended
    }

    /// A session's status if it is in memory (and not evicted).
    pub fn status_of(&self, id: &str) -> Option<Status> {
        let seat = lock(&self.seats).get(id).cloned()?;
        let s = lock(&seat);
        (!s.stale).then(|| s.session.status())
    }

    /// Whether a session is in memory and not started (what a login from memory needs:
    /// anything else is decided against the store).
    pub fn not_started(&self, id: &str) -> bool {
        self.status_of(id) == Some(Status::Ready)
    }

    /// What a new login of a session needs to know for its expiry: the session's exam
    /// time (duration and extensions) and the exam's grace, in milliseconds.
    pub async fn login_terms(&self, id: &str) -> Result<(u64, u64), WireError> {
        let seat = self.get(id).await?;
        let s = lock(&seat);
        Ok((s.session.allowed(), u64::from(s.exam.exam.token_grace_minutes()) * 60_000))
    }

    /// The code of a session's exam.
    pub async fn exam_code(&self, id: &str) -> Result<String, WireError> {
        let seat = self.get(id).await?;
        let code = lock(&seat).exam.exam.code().to_owned();
        Ok(code)
    }

    /// Gives a started session's seat to another login (a supervisor allowed a move).
    pub fn hand_seat(&self, id: &str, token_hash: &str) {
        if let Some(seat) = lock(&self.seats).get(id).cloned() {
            lock(&seat).holder = Some(token_hash.to_owned());
        }
    }

    /// An item image of a candidate's own paper, while the session runs: a question's
    /// images are part of the question, so they are served only when it could be. `None`
    /// when the image is not on this paper.
    pub async fn paper_asset(&self, id: &str, bank_hash: &str, name: &str) -> Result<Option<Vec<u8>>, WireError> {
        let seat = self.get(id).await?;
        let s = lock(&seat);
        s.check_running()?;
        if s.exam.bank_hash != bank_hash {
            return Ok(None);
        }
        let items = s.exam.bank.items();
        let on_paper = s.entries.iter().any(|(_, idx)| {
            let item = &items[*idx];
            item.image() == Some(name) || item.options().iter().any(|o| o.image() == Some(name))
        });
        Ok(on_paper.then(|| s.exam.bank.asset(name).map(<[u8]>::to_vec)).flatten())
    }
}
