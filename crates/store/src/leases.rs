//! Sitting leases: which node of a cluster owns a sitting, and the epoch (fencing token)
//! that every group commit of the sitting checks in its own transaction
//! (docs/cluster.md). PostgreSQL only: its `now()` is the one clock all nodes share, and a
//! single node on SQLite needs no lease.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Row as _};

use crate::connection::{Backend, Store};
use crate::error::{Result, StoreError};

/// A sitting owned by a node, at an epoch. Only [`Store::take_lease`] makes one, so a
/// lease in hand was once really held; whether it still is, only a group commit that
/// carries it as a fence ([`crate::Batch::fenced`]) can tell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    sitting: String,
    node: String,
    epoch: i64,
}

impl Lease {
    pub fn sitting(&self) -> &str {
        &self.sitting
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// Grows by one each time the sitting changes owner, never otherwise.
    pub fn epoch(&self) -> i64 {
        self.epoch
    }
}

/// A stored lease as [`Store::leases`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub lease: Lease,
    /// RFC 3339 UTC, in the database's time.
    pub expires_at: String,
    /// Expired by the database's clock at the time of the listing: any node may take it.
    pub expired: bool,
}

/// Take or renew in one statement. A free sitting gets epoch 1; a lease held by `$2`
/// is renewed at its epoch; an expired one of another node changes owner and epoch + 1.
/// A live lease of another node is left alone and nothing comes back. The row lock this
/// takes waits for any group commit holding the sitting's fence (`FOR SHARE`), and the
/// condition is checked again on the row as that commit left it.
const TAKE: &str = "INSERT INTO sitting_leases (sitting_id, node_id, epoch, expires_at)
     VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
     ON CONFLICT (sitting_id) DO UPDATE
     SET node_id = EXCLUDED.node_id,
         epoch = sitting_leases.epoch + CASE WHEN sitting_leases.node_id = EXCLUDED.node_id THEN 0 ELSE 1 END,
         expires_at = EXCLUDED.expires_at
     WHERE sitting_leases.node_id = EXCLUDED.node_id OR sitting_leases.expires_at <= now()
     RETURNING epoch";

impl Store {
    /// Takes the lease of `sitting` for `node` until `ttl` from now by the database's
    /// clock, or renews it when `node` holds it already. `None`: another node holds it.
    pub async fn take_lease(&self, sitting: &str, node: &str, ttl: Duration) -> Result<Option<Lease>> {
        self.leases_backend()?;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let epoch: Option<i64> =
            sqlx::query_scalar(TAKE).bind(sitting).bind(node).bind(ttl_ms).fetch_optional(&self.pool).await?;
        Ok(epoch.map(|epoch| Lease { sitting: sitting.to_owned(), node: node.to_owned(), epoch }))
    }

    /// Gives `lease` up: it expires now, so any node may take the sitting (at the next
    /// epoch). The row stays, so the epoch never goes back. `false`: it was no longer
    /// held (another node took it).
    pub async fn release_lease(&self, lease: &Lease) -> Result<bool> {
        self.leases_backend()?;
        let done = sqlx::query(
            "UPDATE sitting_leases SET expires_at = now()
             WHERE sitting_id = $1 AND node_id = $2 AND epoch = $3",
        )
        .bind(lease.sitting.as_str())
        .bind(lease.node.as_str())
        .bind(lease.epoch)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every stored lease, live or expired, by sitting.
    pub async fn leases(&self) -> Result<Vec<LeaseRow>> {
        self.leases_backend()?;
        let rows = sqlx::query(
            "SELECT sitting_id, node_id, epoch,
                    to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS expires_at,
                    expires_at <= now() AS expired
             FROM sitting_leases ORDER BY sitting_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LeaseRow {
                    lease: Lease {
                        sitting: r.try_get("sitting_id")?,
                        node: r.try_get("node_id")?,
                        epoch: r.try_get("epoch")?,
                    },
                    expires_at: r.try_get("expires_at")?,
                    expired: r.try_get("expired")?,
                })
            })
            .collect()
    }

    /// Ends the lease of `sitting` now whoever holds it, as if its holder had stopped
    /// renewing: tests take a sitting over without waiting for a TTL.
    #[cfg(feature = "test-support")]
    pub async fn expire_lease(&self, sitting: &str) -> Result<()> {
        self.leases_backend()?;
        sqlx::query("UPDATE sitting_leases SET expires_at = now() WHERE sitting_id = $1")
            .bind(sitting)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn leases_backend(&self) -> Result<()> {
        match self.backend {
            Backend::Postgres => Ok(()),
            Backend::Sqlite => Err(StoreError::LeasesNeedPostgres),
        }
    }
}

/// The fences of a group commit, checked inside its transaction: the sittings of
/// `fences` whose lease is no longer held at that epoch by that node, in order. The
/// leases that do hold stay locked (`FOR SHARE`) until the transaction ends, so no node
/// takes one over between this check and the commit: its `UPDATE` waits.
pub(crate) async fn broken_fences(conn: &mut sqlx::AnyConnection, fences: &[Lease]) -> Result<Vec<String>> {
    let mut fences: Vec<&Lease> = fences.iter().collect();
    fences.sort_by(|a, b| (&a.sitting, &a.node, a.epoch).cmp(&(&b.sitting, &b.node, b.epoch)));
    fences.dedup();
    let values: Vec<String> =
        (0..fences.len()).map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3)).collect();
    // Locked in sitting order, as every commit does, so two commits never wait on each other.
    let sql = format!(
        "SELECT sitting_id, node_id, epoch FROM sitting_leases
         WHERE (sitting_id, node_id, epoch) IN (VALUES {})
         ORDER BY sitting_id FOR SHARE",
        values.join(", ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for f in &fences {
        q = q.bind(f.sitting.as_str()).bind(f.node.as_str()).bind(f.epoch);
    }
    let held = q.fetch_all(&mut *conn).await?;
    let held: Vec<(String, String, i64)> = held
        .iter()
        .map(|r| Ok((r.try_get("sitting_id")?, r.try_get("node_id")?, r.try_get("epoch")?)))
        .collect::<Result<_>>()?;
    let mut broken: Vec<String> = fences
        .iter()
        .filter(|f| !held.iter().any(|(s, n, e)| *s == f.sitting && *n == f.node && *e == f.epoch))
        .map(|f| f.sitting.clone())
        .collect();
    broken.dedup();
    Ok(broken)
}
