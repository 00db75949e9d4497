//! Reads from a streaming replica (`serve --replica-url`): the read models are written
//! on the primary by the runner, reach a PostgreSQL hot standby by streaming
//! replication, and are queried there. Read-your-writes goes by log position: a read
//! that must reflect position P first waits for this process's runner, then for the
//! replica's copy of the checkpoints to reach P, within the caller's limit; past it the
//! read is `Stale`, saying how far the replica had got.

use super::handle::Projections;
use crate::db::{Db, Val};
use crate::error::Stale;
use std::time::Duration;

/// First pause between two looks at the replica's checkpoints (doubling up to
/// [`MAX_POLL`]): replay usually takes milliseconds.
const FIRST_POLL: Duration = Duration::from_millis(2);
const MAX_POLL: Duration = Duration::from_millis(50);

impl Projections {
    /// Serves the read models' queries from `replica` (a hot standby of the primary
    /// this runner writes to) from now on; [`Projections::db`] is then the replica.
    /// A second call is ignored.
    pub fn read_from(&self, replica: Db) {
        let _ = self.inner.replica.set(replica);
    }

    /// Whether queries go to a replica.
    pub fn reads_from_replica(&self) -> bool {
        self.inner.replica.get().is_some()
    }

    /// The log position every query reflects: the slowest read model's, on the replica
    /// when queries go there (0 when it cannot be read).
    pub async fn read_position(&self) -> u64 {
        match self.inner.replica.get() {
            Some(r) => replica_position(r, &self.names()).await.unwrap_or(0),
            None => self.min_position(),
        }
    }

    /// Waits until the replica's checkpoints of `names` reach `position`, or `deadline`.
    pub(super) async fn wait_replica(
        &self,
        names: &[&'static str],
        position: u64,
        deadline: tokio::time::Instant,
    ) -> Result<(), Stale> {
        let Some(replica) = self.inner.replica.get() else {
            return Ok(());
        };
        let mut pause = FIRST_POLL;
        loop {
            let reached = replica_position(replica, names).await.unwrap_or(0);
            if reached >= position {
                return Ok(());
            }
            if tokio::time::Instant::now() + pause > deadline {
                return Err(Stale {
                    wanted: position,
                    reached,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }
}

/// The lowest checkpoint of `names` on `db` (0 when one has none yet).
async fn replica_position(db: &Db, names: &[&'static str]) -> crate::Result<u64> {
    if names.is_empty() {
        return Ok(u64::MAX);
    }
    let marks = vec!["?"; names.len()].join(", ");
    let vals: Vec<Val> = names.iter().map(|n| Val::from(n.to_string())).collect();
    let rows = db
        .fetch(
            &format!("SELECT position FROM projection_checkpoints WHERE name IN ({marks})"),
            &vals,
        )
        .await?;
    if rows.len() < names.len() {
        return Ok(0);
    }
    let mut lowest = u64::MAX;
    for r in rows {
        lowest = lowest.min(r.int(0)?.max(0) as u64);
    }
    Ok(lowest)
}
