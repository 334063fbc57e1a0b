//! A node's leases, kept: taken when the node opens a sitting, renewed every third of
//! their TTL on a connection of the keeper's own (a busy writer or a full pool never
//! starves a renewal), and given out as fences only while the node can be sure it still
//! holds them (docs/cluster.md).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::connection::{READER_CACHE_KIB, Store, connect, stopped};
use crate::error::Result;
use crate::leases::Lease;

/// The leases one node holds.
pub struct LeaseKeeper {
    /// A pool of one connection of the keeper's own.
    own: Store,
    node: String,
    ttl: Duration,
    held: Mutex<HashMap<String, Held>>,
}

struct Held {
    lease: Lease,
    /// When the node must assume the lease is gone: the TTL counted from before the
    /// statement that took or renewed it was sent, by this process's monotonic clock.
    /// The database counts the same TTL from its `now()` at the statement, which is
    /// later, so the node stops first.
    trusted_until: Instant,
}

impl LeaseKeeper {
    /// A keeper for `node` with a connection of its own to the database `store` is on.
    pub async fn open(store: &Store, node: &str, ttl: Duration) -> Result<LeaseKeeper> {
        let pool = connect(&store.url, store.backend, 1, READER_CACHE_KIB).await?;
        Ok(LeaseKeeper {
            own: Store { pool, backend: store.backend, url: store.url.clone() },
            node: node.to_owned(),
            ttl,
            held: Mutex::new(HashMap::new()),
        })
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// Takes (or renews) the lease of `sitting`; `None` when another node holds it.
    pub async fn take(&self, sitting: &str) -> Result<Option<Lease>> {
        let sent = Instant::now();
        let taken = self.own.take_lease(sitting, &self.node, self.ttl).await?;
        let mut held = self.held.lock().expect("lease map");
        match &taken {
            Some(lease) => {
                held.insert(sitting.to_owned(), Held { lease: lease.clone(), trusted_until: sent + self.ttl });
            }
            None => {
                held.remove(sitting);
            }
        }
        Ok(taken)
    }

    /// The fence for a write to `sitting` at `now`: `None` when the node does not hold
    /// its lease or can no longer be sure it does (its last renewal is a TTL old). The
    /// node must then not accept a write for the sitting.
    pub fn fence(&self, sitting: &str, now: Instant) -> Option<Lease> {
        let held = self.held.lock().expect("lease map");
        held.get(sitting).filter(|h| now < h.trusted_until).map(|h| h.lease.clone())
    }

    /// Forgets `sitting` (a commit found its fence broken, or the node let it go).
    pub fn forget(&self, sitting: &str) {
        self.held.lock().expect("lease map").remove(sitting);
    }

    /// Gives every lease up (a node draining or stopping), so another node may take its
    /// sittings at once instead of after the TTL.
    pub async fn release_all(&self) -> Result<()> {
        let leases: Vec<Lease> = self.held.lock().expect("lease map").drain().map(|(_, h)| h.lease).collect();
        for lease in &leases {
            self.own.release_lease(lease).await?;
        }
        Ok(())
    }

    /// Renews every lease held once; a lease another node took meanwhile is dropped.
    /// Returns the sittings lost.
    pub async fn renew(&self) -> Result<Vec<String>> {
        let sittings: Vec<String> = self.held.lock().expect("lease map").keys().cloned().collect();
        let mut lost = Vec::new();
        for sitting in sittings {
            if self.take(&sitting).await?.is_none() {
                lost.push(sitting);
            }
        }
        Ok(lost)
    }

    /// Renews every TTL/3 until `shutdown` turns true. A renewal that fails (the
    /// database unreachable) is tried again at the next tick; meanwhile [`fence`] stops
    /// giving out a lease once its TTL has run out.
    ///
    /// [`fence`]: LeaseKeeper::fence
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let mut every = tokio::time::interval(self.ttl / 3);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => match self.renew().await {
                    Ok(lost) if !lost.is_empty() => tracing::warn!(sittings = ?lost, "another node took these sittings"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "renewing the leases failed; trying again next tick"),
                },
                () = stopped(&mut shutdown) => break,
            }
        }
    }

    pub async fn close(&self) {
        self.own.close().await;
    }
}
