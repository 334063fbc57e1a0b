//! Sitting statuses and scheduled starts as this server last read or set them.
//!
//! A room's candidates connect at once and each needs its sitting's status (a paused room
//! starts its seats paused); a status changes only through this server's console, which
//! sets it here after storing it, so the store is read once per sitting.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use store::Store;

/// Where a sitting is in its day, as `sittings.status` stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SittingStatus {
    /// Papers drawn, not opened yet.
    Prepared,
    Open,
    /// The room is paused (a power cut): logins go on, clocks stand still.
    Paused,
    Closed,
}

impl SittingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SittingStatus::Prepared => "prepared",
            SittingStatus::Open => "open",
            SittingStatus::Paused => "paused",
            SittingStatus::Closed => "closed",
        }
    }

    /// Whether a candidate of the sitting may log in: while it is open or paused.
    pub fn accepts_logins(self) -> bool {
        matches!(self, SittingStatus::Open | SittingStatus::Paused)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sitting status {0:?}")]
pub struct UnknownSittingStatus(pub String);

impl FromStr for SittingStatus {
    type Err = UnknownSittingStatus;

    fn from_str(s: &str) -> Result<SittingStatus, UnknownSittingStatus> {
        Ok(match s {
            "prepared" => SittingStatus::Prepared,
            "open" => SittingStatus::Open,
            "paused" => SittingStatus::Paused,
            "closed" => SittingStatus::Closed,
            other => return Err(UnknownSittingStatus(other.to_owned())),
        })
    }
}

/// The statuses and starts of the sittings this server has read.
pub struct Sittings {
    store: Store,
    statuses: Mutex<HashMap<String, SittingStatus>>,
    /// Scheduled starts, read once each: a login's expiry counts from it.
    starts: Mutex<HashMap<String, DateTime<Utc>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps are consistent between statements; a panic elsewhere must not take them down.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sittings {
    pub fn new(store: Store) -> Sittings {
        Sittings { store, statuses: Mutex::new(HashMap::new()), starts: Mutex::new(HashMap::new()) }
    }

    /// The status as last read or set, without reading the store (`None`: not read yet).
    pub fn known(&self, id: &str) -> Option<SittingStatus> {
        lock(&self.statuses).get(id).copied()
    }

    /// A sitting's status (`None`: no such sitting), read from the store once. A stored
    /// status this server does not know is treated as no status: such a sitting accepts
    /// no login.
    pub async fn status(&self, id: &str) -> store::Result<Option<SittingStatus>> {
        if let Some(s) = self.known(id) {
            return Ok(Some(s));
        }
        let Some(row) = self.store.get_sitting(id).await? else { return Ok(None) };
        let status = match row.status.parse::<SittingStatus>() {
            Ok(status) => status,
            Err(e) => {
                tracing::warn!(sitting = %id, error = %e, "sitting has a status this server does not know");
                return Ok(None);
            }
        };
        // A status set while this read was under way is newer: keep it.
        Ok(Some(*lock(&self.statuses).entry(id.to_owned()).or_insert(status)))
    }

    /// Stores a sitting's new status, then makes it the one [`Sittings::status`] answers.
    pub async fn set(&self, id: &str, status: SittingStatus) -> store::Result<()> {
        self.store.set_sitting_status(id, status.as_str()).await?;
        lock(&self.statuses).insert(id.to_owned(), status);
        Ok(())
    }

    /// Takes a status in memory only, returning the one it replaces, for a change the
    /// caller stores next and puts back with [`Sittings::put_back`] if that fails.
    pub fn replace(&self, id: &str, status: SittingStatus) -> Option<SittingStatus> {
        lock(&self.statuses).insert(id.to_owned(), status)
    }

    /// Undoes [`Sittings::replace`].
    pub fn put_back(&self, id: &str, before: Option<SittingStatus>) {
        let mut statuses = lock(&self.statuses);
        match before {
            Some(status) => statuses.insert(id.to_owned(), status),
            None => statuses.remove(id),
        };
    }

    /// A sitting's scheduled start (`None`: no such sitting), read from the store once.
    pub async fn start(&self, id: &str) -> store::Result<Option<DateTime<Utc>>> {
        if let Some(t) = lock(&self.starts).get(id) {
            return Ok(Some(*t));
        }
        let Some(row) = self.store.get_sitting(id).await? else { return Ok(None) };
        let Some(start) = parse_ts(&row.starts_at) else { return Ok(None) };
        lock(&self.starts).insert(id.to_owned(), start);
        Ok(Some(start))
    }
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_as_it_is_written() {
        for s in [SittingStatus::Prepared, SittingStatus::Open, SittingStatus::Paused, SittingStatus::Closed] {
            assert_eq!(s.as_str().parse::<SittingStatus>(), Ok(s));
        }
        assert!("opened".parse::<SittingStatus>().is_err());
    }

    #[test]
    fn only_an_open_or_paused_sitting_accepts_logins() {
        let accepting: Vec<&str> =
            [SittingStatus::Prepared, SittingStatus::Open, SittingStatus::Paused, SittingStatus::Closed]
                .into_iter()
                .filter(|s| s.accepts_logins())
                .map(SittingStatus::as_str)
                .collect();
        assert_eq!(accepting, ["open", "paused"]);
    }
}
