//! Rebuild: replay the log from position 0 into shadow tables, then swap them in
//! atomically (drop + rename in one transaction that also writes the checkpoint), so
//! readers never see a half-built projection.

use crate::db::{Db, Tx};
use crate::error::Result;
use crate::projection::{
    decode_batch, ensure_checkpoint_table, lock_checkpoint, write_checkpoint, Checkpoint, Names,
    Projection, TableDef, SHADOW_MARK,
};
use ledger::Store;

/// Progress of a rebuild, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub projection: &'static str,
    /// Last position replayed into the shadow tables.
    pub position: u64,
    /// The log's head when the rebuild started (the bar's length).
    pub head: u64,
    /// Set on the last call, after the swap.
    pub done: bool,
}

/// A progress callback.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// Events per transaction when rebuilding.
pub const REBUILD_BATCH: u32 = 10_000;

pub(crate) async fn create_tables(
    tx: &mut Tx<'_>,
    names: &Names,
    tables: &[TableDef],
) -> Result<()> {
    for t in tables {
        tx.exec_ddl(&format!("CREATE TABLE {} ({})", names.t(t.name), t.columns))
            .await?;
    }
    Ok(())
}

pub(crate) async fn create_indexes(
    tx: &mut Tx<'_>,
    names: &Names,
    tables: &[TableDef],
) -> Result<()> {
    for t in tables {
        let phys = names.t(t.name);
        for (i, cols) in t.indexes.iter().enumerate() {
            tx.exec_ddl(&format!("CREATE INDEX {phys}_i{i} ON {phys} {cols}"))
                .await?;
        }
    }
    Ok(())
}

async fn drop_stale_shadows(db: &Db, tables: &[TableDef]) -> Result<()> {
    for t in tables {
        for name in db
            .tables_with_prefix(&format!("{}{SHADOW_MARK}", t.name))
            .await?
        {
            let mut tx = db.begin().await?;
            tx.exec_ddl(&format!("DROP TABLE IF EXISTS {name}")).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Replays the whole log into fresh tables for `projection` and swaps them in.
/// Returns the position the swapped-in tables are at.
pub async fn rebuild_projection(
    store: &Store,
    db: &Db,
    projection: &dyn Projection,
    batch: u32,
    progress: Option<ProgressFn<'_>>,
) -> Result<u64> {
    rebuild_projections(store, db, &[projection], batch, progress).await
}

/// Replays the log once into fresh tables for every projection in `projections`
/// (each event is read and decoded once and offered to all of them, one transaction
/// per batch), then swaps all of them in, in one transaction.
pub async fn rebuild_projections(
    store: &Store,
    db: &Db,
    projections: &[&dyn Projection],
    batch: u32,
    progress: Option<ProgressFn<'_>>,
) -> Result<u64> {
    ensure_checkpoint_table(db).await?;
    for p in projections {
        drop_stale_shadows(db, p.tables()).await?;
    }
    let generation = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let names = Names::shadow(&generation);
    let label = match projections {
        [one] => one.name(),
        _ => "all",
    };
    {
        let mut tx = db.begin().await?;
        for p in projections {
            create_tables(&mut tx, &names, p.tables()).await?;
        }
        tx.commit().await?;
    }
    let head = store.head().await?;
    let report = |position: u64, done: bool| {
        if let Some(p) = progress {
            p(Progress {
                projection: label,
                position,
                head: head.max(position),
                done,
            })
        }
    };
    report(0, false);
    let mut position = 0u64;
    while position < head {
        let events = store.read_all(position, batch.max(1)).await?;
        let Some(last) = events.last() else { break };
        let last = last.position;
        let envelopes = decode_batch(&events)?;
        drop(events);
        let mut tx = db.begin().await?;
        for p in projections {
            p.apply(&mut tx, &names, &envelopes).await?;
        }
        tx.commit().await?;
        position = last;
        report(position, false);
    }
    {
        let mut tx = db.begin().await?;
        for p in projections {
            create_indexes(&mut tx, &names, p.tables()).await?;
        }
        tx.commit().await?;
    }
    // The swap: lock the checkpoints (serialising with the live runner), catch each
    // shadow up to wherever its live tables are, so positions never go backwards, then
    // drop and rename, all in one transaction.
    let mut tx = db.begin().await?;
    let mut last_position = position;
    for p in projections {
        let live = lock_checkpoint(&mut tx, p.name()).await?;
        let live_position = live.map(|c| c.position).unwrap_or(0);
        let mut at = position;
        while at < live_position {
            let n = batch
                .max(1)
                .min((live_position - at).min(u32::MAX as u64) as u32);
            let events = store.read_all(at, n).await?;
            let Some(last) = events.last() else { break };
            let last = last.position;
            let envelopes = decode_batch(&events)?;
            p.apply(&mut tx, &names, &envelopes).await?;
            at = last;
        }
        for t in p.tables() {
            tx.exec_ddl(&format!("DROP TABLE IF EXISTS {}", t.name))
                .await?;
            tx.exec_ddl(&format!(
                "ALTER TABLE {} RENAME TO {}",
                names.t(t.name),
                t.name
            ))
            .await?;
        }
        write_checkpoint(
            &mut tx,
            p.name(),
            Checkpoint {
                version: p.version(),
                position: at,
            },
        )
        .await?;
        last_position = last_position.max(at);
    }
    tx.commit().await?;
    report(last_position, true);
    tracing::info!(projection = label, position, "projections rebuilt");
    Ok(position)
}
