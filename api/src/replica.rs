//! `serve --replica-url`: the read models are queried on a PostgreSQL streaming replica
//! (a hot standby) while commands, the log and the read models' updates stay on the
//! primary. Reads that must reflect a write (`atLeast`, and every page after a form)
//! wait until the replica has replayed that log position, at most
//! [`crate::reads::READ_WAIT`], and are `STALE_READ` (saying how far it had got) past it.

use anyhow::{bail, Context};

/// Connections to the replica.
pub const REPLICA_CONNECTIONS: u32 = 16;

/// Points `projections`' queries at the replica at `url`, after checking that it
/// answers and is a standby (a primary given by mistake is only warned about: the
/// reads are then simply not offloaded).
pub async fn read_from(
    store: &ledger::Store,
    projections: &projections::Projections,
    url: &str,
) -> anyhow::Result<()> {
    if store.postgres_pool().is_none() {
        bail!("--replica-url needs the store on PostgreSQL (the replica streams from it)");
    }
    let db = projections::Db::postgres_replica(url, REPLICA_CONNECTIONS)
        .with_context(|| "parsing --replica-url")?;
    let standby = db
        .fetch_optional(
            "SELECT (CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END)::BIGINT",
            &[],
        )
        .await
        .with_context(|| "connecting to the replica")?
        .is_some_and(|r| r.int(0).unwrap_or(0) == 1);
    if !standby {
        tracing::warn!("--replica-url is not a standby (pg_is_in_recovery() is false)");
    }
    projections.read_from(db);
    tracing::info!("read models are queried on the replica; commands go to the primary");
    Ok(())
}
