//! Rebuild: replay the log from position 0 into shadow tables, then swap them in
//! atomically (drop + rename in one transaction that also writes the checkpoint), so
//! readers never see a half-built projection.

use crate::common::FxSet;
use crate::db::{Conn, Db, Tx, Val};
use crate::error::Result;
use crate::projection::{
    ensure_checkpoint_table, lock_checkpoint, read_envelopes, write_checkpoint, Checkpoint,
    Envelope, LogReader, Names, Projection, State, TableDef, SHADOW_MARK,
};
use ledger::Store;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

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

/// Events read (and decoded) per page when rebuilding.
pub const REBUILD_BATCH: u32 = 10_000;

/// Changes smaller than this are not worth a flush to make room.
const SMALL_CHANGES: usize = 4 << 20;
/// Rows held in memory by all the projections of a rebuild, in bytes (estimated): above
/// it, changes are written, caches forgotten, and at last whole states written and
/// forgotten (read back as needed), so memory stays bounded whatever the log's length.
const HOLD_BYTES: usize = 140 << 20;

/// The memory bounds of a rebuild (the defaults suit production; tests shrink them to
/// push small logs through flushes and evictions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Estimated bytes all the states may hold before changes are written, caches
    /// forgotten and whole states written and forgotten.
    pub hold_bytes: usize,
    /// Pending changes smaller than this (at least 1) are not flushed to make room.
    pub small_changes: usize,
    /// Pending bytes above which a state writes its changes; `None`: the state's own
    /// [`State::flush_at`].
    pub flush_at: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hold_bytes: HOLD_BYTES,
            small_changes: SMALL_CHANGES,
            flush_at: None,
        }
    }
}

pub(crate) async fn create_tables(
    tx: &mut Tx<'_>,
    names: &Names,
    tables: &[TableDef],
) -> Result<()> {
    for t in tables {
        // On SQLite a table keyed by its primary key alone (no rowid, no second
        // B-tree for the key) is smaller and faster to fill. On PostgreSQL a shadow
        // table is filled without write-ahead logging (a crash only loses the rebuild,
        // which is redone), then logged once, whole, before the swap.
        let pg = tx.is_postgres();
        let clustered = !pg && t.columns.to_ascii_uppercase().contains("PRIMARY KEY");
        let unlogged = if pg { "UNLOGGED " } else { "" };
        let options = if clustered { " WITHOUT ROWID" } else { "" };
        tx.exec_ddl(&format!(
            "CREATE {unlogged}TABLE {} ({}){options}",
            names.t(t.name),
            t.columns
        ))
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

/// Where the time of a rebuild went (for benchmarks).
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Events replayed.
    pub events: u64,
    /// Reading and decoding the log, in the reader task (overlaps the folds).
    pub read: Duration,
    /// Time the folds waited for the reader.
    pub read_wait: Duration,
    /// Per projection, in order.
    pub projections: Vec<ProjectionTimings>,
    /// The most memory the projections' states held at once (estimated bytes).
    pub peak_state_bytes: usize,
    /// Creating the secondary indexes after the load.
    pub indexes: Duration,
    /// The swap transaction.
    pub swap: Duration,
    /// Events the swap applied to catch the shadow tables up with live tables that
    /// had moved on while the log was replayed.
    pub swap_events: u64,
    pub total: Duration,
}

/// Where one projection's time went during a rebuild.
#[derive(Debug, Clone, Default)]
pub struct ProjectionTimings {
    pub name: &'static str,
    /// Reading stored rows back (only after an eviction).
    pub load: Duration,
    /// Folding in memory (or applying batch by batch, for a projection without a state).
    pub fold: Duration,
    /// Writing rows.
    pub flush: Duration,
    pub flushes: u32,
    pub evictions: u32,
    /// The most the state held, and had waiting to be written (estimated bytes).
    pub peak_held: usize,
    pub peak_pending: usize,
}

impl ProjectionTimings {
    pub fn total(&self) -> Duration {
        self.load + self.fold + self.flush
    }
}

/// Replays the log once into fresh tables for every projection in `projections`
/// (each event is read and decoded once and offered to all of them), then swaps all
/// of them in, in one transaction.
///
/// The log is read in pages by a task of its own while the projections fold the
/// previous page. A projection with a [`State`] folds in memory and writes each table
/// in bulk when its changes grow large (and at the end); the others apply page by
/// page. The shadow tables have no secondary indexes until they are loaded.
pub async fn rebuild_projections(
    store: &Store,
    db: &Db,
    projections: &[&dyn Projection],
    batch: u32,
    progress: Option<ProgressFn<'_>>,
) -> Result<u64> {
    let mut timings = Timings::default();
    rebuild_timed(
        store,
        db,
        projections,
        batch,
        Limits::default(),
        progress,
        &mut timings,
    )
    .await
}

/// [`rebuild_projections`] within `limits`, recording where the time went. Returns the
/// position the swapped-in tables are at (the furthest, when the swap caught some of
/// them up with live tables that had moved on).
pub async fn rebuild_timed(
    store: &Store,
    db: &Db,
    projections: &[&dyn Projection],
    batch: u32,
    limits: Limits,
    progress: Option<ProgressFn<'_>>,
    timings: &mut Timings,
) -> Result<u64> {
    let started = Instant::now();
    timings.projections = projections
        .iter()
        .map(|p| ProjectionTimings {
            name: p.name(),
            ..ProjectionTimings::default()
        })
        .collect();
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
    let mut conn = Conn::open(db).await?;
    {
        let mut tx = conn.begin().await?;
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
    let position = replay(
        store,
        db,
        &mut conn,
        projections,
        &names,
        head,
        batch,
        limits,
        &report,
        timings,
    )
    .await;
    let position = match position {
        Ok(p) => p,
        Err(e) => {
            let _ = conn.close().await;
            return Err(e);
        }
    };
    let t = Instant::now();
    {
        let mut tx = conn.begin().await?;
        for p in projections {
            create_indexes(&mut tx, &names, p.tables()).await?;
            if tx.is_postgres() {
                // Logged from now on (written whole, once), with fresh statistics so
                // that the first queries are planned well.
                for t in p.tables() {
                    let phys = names.t(t.name);
                    tx.exec_ddl(&format!("ALTER TABLE {phys} SET LOGGED"))
                        .await?;
                    tx.exec_ddl(&format!("ANALYZE {phys}")).await?;
                }
            }
        }
        tx.commit().await?;
    }
    conn.close().await?;
    timings.indexes = t.elapsed();
    let t = Instant::now();
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
            let envelopes = read_envelopes(store, db, at, n).await?;
            let Some(last) = envelopes.last() else { break };
            let last = last.position;
            p.apply(&mut tx, &names, &envelopes).await?;
            timings.swap_events += envelopes.len() as u64;
            at = last;
        }
        for t in p.retired_tables() {
            tx.exec_ddl(&format!("DROP TABLE IF EXISTS {t}")).await?;
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
    timings.swap = t.elapsed();
    timings.total = started.elapsed();
    report(last_position, true);
    tracing::info!(
        projection = label,
        position = last_position,
        "projections rebuilt"
    );
    Ok(last_position)
}

/// Folds the log up to `head` into the shadow tables; returns the last position.
#[allow(clippy::too_many_arguments)]
async fn replay(
    store: &Store,
    db: &Db,
    conn: &mut Conn,
    projections: &[&dyn Projection],
    names: &Names,
    head: u64,
    batch: u32,
    limits: Limits,
    report: &(dyn Fn(u64, bool) + Send + Sync),
    timings: &mut Timings,
) -> Result<u64> {
    let hold_bytes = limits.hold_bytes;
    let small_changes = limits.small_changes.max(1);
    let mut states: Vec<Option<Box<dyn State>>> =
        projections.iter().map(|p| p.state(true)).collect();
    if let Some(reversed) = reversed_entries(db, head).await? {
        let reversed = std::sync::Arc::new(reversed);
        for s in states.iter_mut().flatten() {
            s.keep_entries(reversed.clone());
        }
    }
    // The reader runs ahead by a page or two.
    let (pages, mut rx) = mpsc::channel::<(Result<Vec<Envelope>>, Duration)>(2);
    let mut log = LogReader::open(store, db).await?;
    let reader = {
        tokio::spawn(async move {
            let mut position = 0u64;
            while position < head {
                let t = Instant::now();
                // Up to the head the rebuild started at: the swap catches up on the rest.
                let page = log.read(position, batch.max(1)).await.map(|mut p| {
                    p.retain(|e| e.position <= head);
                    p
                });
                let took = t.elapsed();
                let last = match &page {
                    Ok(p) => p.last().map(|e| e.position),
                    Err(_) => None,
                };
                let failed = page.is_err();
                if pages.send((page, took)).await.is_err() || failed {
                    break;
                }
                match last {
                    Some(l) => position = l,
                    None => break,
                }
            }
            log.close().await;
        })
    };
    let result = async {
        let mut position = 0u64;
        loop {
            let waited = Instant::now();
            let Some((page, took)) = rx.recv().await else {
                break;
            };
            timings.read_wait += waited.elapsed();
            timings.read += took;
            let page = page?;
            let Some(last) = page.last().map(|e| e.position) else {
                break;
            };
            timings.events += page.len() as u64;
            for ((p, state), pt) in projections
                .iter()
                .zip(states.iter_mut())
                .zip(timings.projections.iter_mut())
            {
                match state {
                    Some(s) => {
                        if s.needs_load() {
                            let t = Instant::now();
                            let mut tx = conn.begin().await?;
                            s.load(&mut tx, names, &page).await?;
                            tx.commit().await?;
                            pt.load += t.elapsed();
                        }
                        let t = Instant::now();
                        s.fold(&page)?;
                        pt.fold += t.elapsed();
                        pt.peak_held = pt.peak_held.max(s.held());
                        pt.peak_pending = pt.peak_pending.max(s.pending());
                        if s.pending() > limits.flush_at.unwrap_or_else(|| s.flush_at()) {
                            let t = Instant::now();
                            make_room(conn, s.as_mut(), names).await?;
                            pt.flush += t.elapsed();
                            pt.flushes += 1;
                        }
                    }
                    None => {
                        let t = Instant::now();
                        let mut tx = conn.begin().await?;
                        p.apply(&mut tx, names, &page).await?;
                        tx.commit().await?;
                        pt.fold += t.elapsed();
                    }
                }
            }
            // Bounded memory: forget caches, then write and forget the largest states.
            let held = |states: &[Option<Box<dyn State>>]| -> usize {
                states
                    .iter()
                    .flatten()
                    .map(|s| s.held() + s.pending())
                    .sum()
            };
            timings.peak_state_bytes = timings.peak_state_bytes.max(held(&states));
            // First write the largest changes (they have to be written anyway)…
            while held(&states) > hold_bytes {
                let Some((largest, pt)) = states
                    .iter_mut()
                    .zip(timings.projections.iter_mut())
                    .filter_map(|(s, pt)| s.as_mut().map(|s| (s, pt)))
                    .max_by_key(|(s, _)| s.pending())
                else {
                    break;
                };
                let before = largest.pending();
                if before < small_changes {
                    break;
                }
                let t = Instant::now();
                make_room(conn, largest.as_mut(), names).await?;
                pt.flush += t.elapsed();
                pt.flushes += 1;
                if largest.pending() >= before {
                    // Nothing more to write (what is left is the maps' capacity).
                    break;
                }
            }
            // … then forget caches, then whole states.
            if held(&states) > hold_bytes {
                for s in states.iter_mut().flatten() {
                    s.shed();
                }
            }
            // The largest first, each at most once a page.
            let mut order: Vec<(usize, usize)> = states
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.as_ref().map(|s| (s.held() + s.pending(), i)))
                .collect();
            order.sort_unstable_by(|a, b| b.cmp(a));
            for (_, i) in order {
                if held(&states) <= hold_bytes {
                    break;
                }
                let (Some(largest), Some(pt)) = (&mut states[i], timings.projections.get_mut(i))
                else {
                    continue;
                };
                let t = Instant::now();
                flush(conn, largest.as_mut(), names).await?;
                largest.evict();
                pt.flush += t.elapsed();
                pt.flushes += 1;
                pt.evictions += 1;
            }
            position = last;
            report(position, false);
        }
        for (s, pt) in states.iter_mut().zip(timings.projections.iter_mut()) {
            if let Some(s) = s {
                let t = Instant::now();
                flush(conn, s.as_mut(), names).await?;
                pt.flush += t.elapsed();
                pt.flushes += 1;
            }
        }
        Ok(position)
    }
    .await;
    drop(rx);
    reader.abort();
    let _ = reader.await;
    result
}

/// The entries reversed up to `head`, from the reversals' payloads (`None` if any of
/// them is unreadable: the states then keep every entry).
async fn reversed_entries(db: &Db, head: u64) -> Result<Option<FxSet<uuid::Uuid>>> {
    let sql = match db {
        Db::Sqlite(_) => {
            "SELECT json_extract(payload, '$.reverses') FROM events WHERE event_type = 'EntryReversed' AND position <= ?"
        }
        Db::Postgres(_) => {
            "SELECT payload->>'reverses' FROM events WHERE event_type = 'EntryReversed' AND position <= ?"
        }
    };
    let mut out = FxSet::default();
    for r in db.fetch(sql, &[Val::from(head as i64)]).await? {
        match r
            .opt_text(0)
            .ok()
            .flatten()
            .map(|s| uuid::Uuid::parse_str(&s))
        {
            Some(Ok(id)) => {
                out.insert(id);
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(out))
}

async fn make_room(conn: &mut Conn, state: &mut dyn State, names: &Names) -> Result<()> {
    let mut tx = conn.begin().await?;
    state.make_room(&mut tx, names).await?;
    tx.commit().await
}

async fn flush(conn: &mut Conn, state: &mut dyn State, names: &Names) -> Result<()> {
    let mut tx = conn.begin().await?;
    state.flush(&mut tx, names).await?;
    tx.commit().await
}
