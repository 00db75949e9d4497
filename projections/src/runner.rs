//! The runner: catches every projection up from its checkpoint in batches, then follows
//! the log's head; leadership on PostgreSQL; the [`Projections`] handle with
//! read-your-writes.
//!
//! - Each batch is read once, decoded once and offered to every projection this process
//!   leads, all in one transaction (one commit, one fsync on SQLite, per batch): each
//!   projection applies its part and locks, checks and advances its own checkpoint in
//!   it. A crash anywhere before the commit leaves the rows and the checkpoints as they
//!   were.
//! - On PostgreSQL each projection is led by the one process holding a session-level
//!   advisory lock (`pg_try_advisory_lock`) on a dedicated connection; the leader writes
//!   through that very connection, so if the connection dies the lock and the writes go
//!   together. Other processes retry the lock periodically (taking over when the leader
//!   dies) and follow the checkpoints to serve read-your-writes.
//! - A projection without a checkpoint, or whose checkpoint has another version, is
//!   rebuilt (shadow tables, atomic swap) when its leader takes it.

use crate::db::{Db, Tx};
use crate::error::{ProjectionError, Result, Stale};
use crate::projection::{
    ensure_checkpoint_table, lock_checkpoint, read_checkpoint, read_envelopes, write_checkpoint,
    Checkpoint, Envelope, Names, Projection,
};
use crate::rebuild::{rebuild_timed, Limits, ProgressFn, Timings, REBUILD_BATCH};
use ledger::Store;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Connection, PgConnection};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Called after a batch has been applied and before its checkpoint is written and
/// committed, with the projection's name and the batch's last position; returning
/// `true` makes the runner stop right there, as if the process had crashed.
pub type FaultHook = Arc<dyn Fn(&str, u64) -> bool + Send + Sync>;

/// How the runner works.
#[derive(Clone)]
pub struct Options {
    /// Events per transaction when catching up.
    pub batch_size: u32,
    /// Events per transaction when rebuilding.
    pub rebuild_batch_size: u32,
    /// Memory bounds when rebuilding.
    pub rebuild_limits: Limits,
    /// How often to retry leadership and, when idle, re-read followed checkpoints.
    pub poll_interval: Duration,
    /// Fault injection for crash tests.
    pub fault: Option<FaultHook>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_size: 5_000,
            rebuild_batch_size: REBUILD_BATCH,
            rebuild_limits: Limits::default(),
            poll_interval: Duration::from_millis(250),
            fault: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("batch_size", &self.batch_size)
            .field("rebuild_batch_size", &self.rebuild_batch_size)
            .field("rebuild_limits", &self.rebuild_limits)
            .field("poll_interval", &self.poll_interval)
            .field("fault", &self.fault.is_some())
            .finish()
    }
}

/// A stable 64-bit key for a projection's advisory lock (FNV-1a).
pub fn leadership_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "timebank.projection.".bytes().chain(name.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

struct Slot {
    projection: Arc<dyn Projection>,
    leading: bool,
    ready: bool,
    position: u64,
    position_tx: watch::Sender<u64>,
    leading_tx: watch::Sender<bool>,
    /// Set once its tables are built at this version (by this process or another).
    built_tx: watch::Sender<bool>,
}

impl Slot {
    /// Publishes a checkpoint at this projection's version (so its tables are built).
    fn publish(&mut self, position: u64) {
        self.built_tx
            .send_if_modified(|b| !std::mem::replace(b, true));
        self.position = position;
        self.position_tx.send_if_modified(|p| {
            if *p != position {
                *p = position;
                true
            } else {
                false
            }
        });
    }

    fn set_leading(&mut self, leading: bool) {
        self.leading = leading;
        if !leading {
            self.ready = false;
        }
        self.leading_tx.send_if_modified(|l| {
            let changed = *l != leading;
            *l = leading;
            changed
        });
    }
}

enum Writer {
    /// SQLite has one process: this one leads every projection. Its transactions queue
    /// with the log's writer on the store's write gate.
    Sqlite {
        db: Db,
        gate: ledger::store::WriteGate,
    },
    /// PostgreSQL: the dedicated connection holding the advisory locks.
    Postgres {
        options: Box<PgConnectOptions>,
        conn: Option<Box<PgConnection>>,
    },
}

impl Writer {
    /// A turn at the SQLite write gate, to hold until the transaction ends.
    async fn turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self {
            Writer::Sqlite { gate, .. } => Some(gate.clone().lock_owned().await),
            Writer::Postgres { .. } => None,
        }
    }

    async fn begin(&mut self) -> Result<Tx<'_>> {
        match self {
            Writer::Sqlite { db, .. } => db.begin().await,
            Writer::Postgres { options, conn } => {
                if conn.is_none() {
                    *conn = Some(Box::new(PgConnection::connect_with(options).await?));
                }
                match conn {
                    Some(c) => Ok(Tx::Postgres(c.begin().await?)),
                    None => Err(ProjectionError::Stopped),
                }
            }
        }
    }
}

struct Runner {
    store: Store,
    db: Db,
    writer: Writer,
    slots: Vec<Slot>,
    options: Options,
}

impl Runner {
    /// Takes the leadership of every projection it can.
    async fn acquire(&mut self) -> Result<()> {
        match &mut self.writer {
            Writer::Sqlite { .. } => {
                for s in &mut self.slots {
                    if !s.leading {
                        s.set_leading(true);
                    }
                }
            }
            Writer::Postgres { options, conn } => {
                if conn.is_none() {
                    *conn = Some(Box::new(PgConnection::connect_with(options).await?));
                }
                let Some(c) = conn.as_mut() else {
                    return Ok(());
                };
                for s in &mut self.slots {
                    if s.leading {
                        continue;
                    }
                    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                        .bind(leadership_key(s.projection.name()))
                        .fetch_one(&mut **c)
                        .await?;
                    if got {
                        tracing::info!(projection = s.projection.name(), "leading projection");
                        s.set_leading(true);
                    }
                }
            }
        }
        Ok(())
    }

    /// Drops every leadership (the connection holding the locks is closed).
    fn resign(&mut self) {
        if let Writer::Postgres { conn, .. } = &mut self.writer {
            *conn = None;
            for s in &mut self.slots {
                s.set_leading(false);
            }
        }
    }

    /// Builds led projections that have no checkpoint or an outdated version (all of
    /// them in one replay of the log).
    async fn prepare(&mut self) -> Result<()> {
        let mut stale: Vec<usize> = Vec::new();
        for i in 0..self.slots.len() {
            if !self.slots[i].leading || self.slots[i].ready {
                continue;
            }
            let p = self.slots[i].projection.clone();
            match read_checkpoint(&self.db, p.name()).await? {
                Some(c) if c.version == p.version() => {
                    self.slots[i].ready = true;
                    self.slots[i].publish(c.position);
                }
                other => {
                    tracing::info!(
                        projection = p.name(),
                        stored_version = other.map(|c| c.version),
                        version = p.version(),
                        "rebuilding projection"
                    );
                    stale.push(i);
                }
            }
        }
        if stale.is_empty() {
            return Ok(());
        }
        let list: Vec<Arc<dyn Projection>> = stale
            .iter()
            .map(|i| self.slots[*i].projection.clone())
            .collect();
        let refs: Vec<&dyn Projection> = list.iter().map(|p| p.as_ref()).collect();
        rebuild_timed(
            &self.store,
            &self.db,
            &refs,
            self.options.rebuild_batch_size,
            self.options.rebuild_limits,
            None,
            &mut Timings::default(),
        )
        .await?;
        for i in stale {
            let name = self.slots[i].projection.name();
            if let Some(c) = read_checkpoint(&self.db, name).await? {
                self.slots[i].ready = true;
                self.slots[i].publish(c.position);
            }
        }
        Ok(())
    }

    /// One batch for every led projection, in one transaction; whether anything was
    /// applied.
    async fn apply_once(&mut self) -> Result<bool> {
        let from = self
            .slots
            .iter()
            .filter(|s| s.leading && s.ready)
            .map(|s| s.position)
            .min();
        let Some(from) = from else { return Ok(false) };
        let envelopes =
            read_envelopes(&self.store, &self.db, from, self.options.batch_size.max(1)).await?;
        if envelopes.is_empty() {
            return Ok(false);
        }
        let _turn = self.writer.turn().await;
        let mut tx = self.writer.begin().await?;
        let mut applied = Vec::new();
        let mut progressed = false;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if !(slot.leading && slot.ready) {
                continue;
            }
            match apply_slot(&mut tx, slot, &envelopes, &self.options).await? {
                Applied::Nothing => {}
                Applied::Moved => progressed = true,
                Applied::Upto(last) => applied.push((i, last)),
            }
        }
        if applied.is_empty() {
            tx.rollback().await?;
            return Ok(progressed);
        }
        tx.commit().await?;
        for (i, last) in applied {
            self.slots[i].publish(last);
        }
        Ok(true)
    }

    /// Publishes the checkpoints of projections led elsewhere.
    async fn follow(&mut self) -> Result<()> {
        for s in self.slots.iter_mut().filter(|s| !s.leading) {
            if let Some(cp) = read_checkpoint(&self.db, s.projection.name()).await? {
                if cp.version == s.projection.version() {
                    s.publish(cp.position);
                }
            }
        }
        Ok(())
    }

    async fn step(&mut self) -> Result<bool> {
        self.acquire().await?;
        self.prepare().await?;
        let progressed = self.apply_once().await?;
        self.follow().await?;
        Ok(progressed)
    }

    async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let mut head = self.store.watch_head();
        let mut backoff = Duration::from_millis(100);
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            head.borrow_and_update();
            let result = match ensure_checkpoint_table(&self.db).await {
                Ok(()) => self.step().await,
                Err(e) => Err(e),
            };
            let progressed = match result {
                Ok(p) => {
                    backoff = Duration::from_millis(100);
                    p
                }
                Err(e @ ProjectionError::InjectedFault { .. }) => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, "projection runner error; retrying");
                    self.resign();
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            if progressed {
                tokio::task::yield_now().await;
                continue;
            }
            let current_head = *head.borrow();
            let behind = self.slots.iter().any(|s| s.position < current_head);
            let wait = if behind && self.slots.iter().any(|s| !s.leading) {
                Duration::from_millis(20)
            } else {
                self.options.poll_interval
            };
            tokio::select! {
                _ = head.changed() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// What one projection did with a batch.
enum Applied {
    /// The batch holds nothing after its checkpoint (or starts past it).
    Nothing,
    /// Its checkpoint was moved by someone else (a rebuild swapped tables in); re-read.
    Moved,
    /// Applied up to this position, checkpoint written (not yet committed).
    Upto(u64),
}

/// Applies a projection's part of a batch and advances its checkpoint inside `tx`.
async fn apply_slot(
    tx: &mut Tx<'_>,
    slot: &mut Slot,
    envelopes: &[Envelope],
    options: &Options,
) -> Result<Applied> {
    let cp = slot.position;
    let start = envelopes.partition_point(|e| e.position <= cp);
    let part = &envelopes[start..];
    let Some(last) = part.last().map(|e| e.position) else {
        return Ok(Applied::Nothing);
    };
    if part[0].position != cp + 1 {
        return Ok(Applied::Nothing);
    }
    let p = slot.projection.clone();
    match lock_checkpoint(tx, p.name()).await? {
        Some(c) if c.version == p.version() && c.position == cp => {}
        Some(c) if c.version == p.version() => {
            slot.publish(c.position);
            return Ok(Applied::Moved);
        }
        _ => {
            slot.ready = false;
            return Ok(Applied::Moved);
        }
    }
    p.apply(tx, &Names::live(), part).await?;
    if let Some(fault) = &options.fault {
        if fault(p.name(), last) {
            return Err(ProjectionError::InjectedFault {
                name: p.name().to_string(),
                position: last,
            });
        }
    }
    write_checkpoint(
        tx,
        p.name(),
        Checkpoint {
            version: p.version(),
            position: last,
        },
    )
    .await?;
    Ok(Applied::Upto(last))
}

struct Inner {
    store: Store,
    db: Db,
    projections: Vec<Arc<dyn Projection>>,
    positions: Vec<(&'static str, watch::Receiver<u64>)>,
    leading: Vec<(&'static str, watch::Receiver<bool>)>,
    built: Vec<(&'static str, watch::Receiver<bool>)>,
    shutdown: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<Result<()>>>>,
    options: Options,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Ok(mut t) = self.task.lock() {
            if let Some(t) = t.take() {
                t.abort();
            }
        }
    }
}

/// The running projections of this process, and the reads they serve. Cheap to clone.
#[derive(Clone)]
pub struct Projections {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Projections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projections")
            .field("positions", &self.positions())
            .finish()
    }
}

impl Projections {
    /// Starts the runner for `projections` on `store`'s database.
    pub async fn start_with(
        store: Store,
        projections: Vec<Arc<dyn Projection>>,
        options: Options,
    ) -> Projections {
        let db = Db::of_store(&store);
        let writer = match &store {
            Store::Sqlite(s) => {
                let opts = (*s.pool().connect_options()).clone();
                let write_pool = SqlitePoolOptions::new()
                    .max_connections(2)
                    .connect_lazy_with(opts);
                Writer::Sqlite {
                    db: Db::Sqlite(write_pool),
                    gate: s.write_gate().clone(),
                }
            }
            Store::Postgres(s) => Writer::Postgres {
                options: Box::new((*s.pool().connect_options()).clone()),
                conn: None,
            },
        };
        let mut slots = Vec::new();
        let mut positions = Vec::new();
        let mut leading = Vec::new();
        let mut built = Vec::new();
        for p in &projections {
            let (position_tx, position_rx) = watch::channel(0u64);
            let (leading_tx, leading_rx) = watch::channel(false);
            let (built_tx, built_rx) = watch::channel(false);
            positions.push((p.name(), position_rx));
            leading.push((p.name(), leading_rx));
            built.push((p.name(), built_rx));
            slots.push(Slot {
                projection: p.clone(),
                leading: false,
                ready: false,
                position: 0,
                position_tx,
                leading_tx,
                built_tx,
            });
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        let runner = Runner {
            store: store.clone(),
            db: db.clone(),
            writer,
            slots,
            options: options.clone(),
        };
        let task = tokio::spawn(async move {
            let result = runner.run(shutdown_rx).await;
            if let Err(e) = &result {
                tracing::error!(error = %e, "projection runner stopped");
            }
            result
        });
        Projections {
            inner: Arc::new(Inner {
                store,
                db,
                projections,
                positions,
                leading,
                built,
                shutdown,
                task: Mutex::new(Some(task)),
                options,
            }),
        }
    }

    /// The database the read models live in.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Names of the projections, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.inner.projections.iter().map(|p| p.name()).collect()
    }

    /// Applied position of each projection (as led here or followed from its checkpoint).
    pub fn positions(&self) -> Vec<(&'static str, u64)> {
        self.inner
            .positions
            .iter()
            .map(|(n, rx)| (*n, *rx.borrow()))
            .collect()
    }

    /// Applied position of one projection.
    pub fn position(&self, name: &str) -> Option<u64> {
        self.inner
            .positions
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, rx)| *rx.borrow())
    }

    /// The lowest applied position over all projections.
    pub fn min_position(&self) -> u64 {
        self.positions()
            .into_iter()
            .map(|(_, p)| p)
            .min()
            .unwrap_or(0)
    }

    /// Whether this process currently updates projection `name`.
    pub fn is_leader(&self, name: &str) -> bool {
        self.inner
            .leading
            .iter()
            .any(|(n, rx)| *n == name && *rx.borrow())
    }

    /// Whether projection `name`'s tables are built at its current version (false while
    /// the first build after start or after a version change runs, here or in the process
    /// leading it).
    pub fn is_built(&self, name: &str) -> bool {
        self.inner
            .built
            .iter()
            .any(|(n, rx)| *n == name && *rx.borrow())
    }

    /// Waits, at most `timeout`, until every projection's tables are built at its
    /// current version (immediate once they are: they stay built); the first that is
    /// not, after `timeout`.
    pub async fn wait_built(&self, timeout: Duration) -> Result<(), &'static str> {
        if self.inner.built.iter().all(|(_, rx)| *rx.borrow()) {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + timeout;
        for (name, rx) in &self.inner.built {
            let mut rx = rx.clone();
            let built = tokio::time::timeout_at(deadline, rx.wait_for(|b| *b)).await;
            if !matches!(built, Ok(Ok(_))) {
                return Err(name);
            }
        }
        Ok(())
    }

    /// Read-your-writes: waits until every projection has applied `position`, or fails
    /// with [`Stale`] after `timeout`.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), Stale> {
        let deadline = tokio::time::Instant::now() + timeout;
        for (name, _) in &self.inner.positions {
            self.wait_until(name, position, deadline).await?;
        }
        Ok(())
    }

    /// Read-your-writes for one projection.
    pub async fn wait_for_projection(
        &self,
        name: &str,
        position: u64,
        timeout: Duration,
    ) -> Result<(), Stale> {
        self.wait_until(name, position, tokio::time::Instant::now() + timeout)
            .await
    }

    async fn wait_until(
        &self,
        name: &str,
        position: u64,
        deadline: tokio::time::Instant,
    ) -> Result<(), Stale> {
        let Some(mut rx) = self
            .inner
            .positions
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, rx)| rx.clone())
        else {
            return Err(Stale {
                wanted: position,
                reached: 0,
            });
        };
        let reached_in_time = matches!(
            tokio::time::timeout_at(deadline, rx.wait_for(|p| *p >= position)).await,
            Ok(Ok(_))
        );
        match reached_in_time {
            true => Ok(()),
            false => Err(Stale {
                wanted: position,
                reached: *rx.borrow(),
            }),
        }
    }

    /// Rebuilds one projection (or all, with `None`) from position 0 into shadow tables
    /// and swaps them in; the runner continues from the swapped-in checkpoint. Returns
    /// the position the swapped-in tables are at.
    pub async fn rebuild(
        &self,
        name: Option<&str>,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<u64> {
        self.rebuild_timed(name, progress, &mut Timings::default())
            .await
    }

    /// [`Projections::rebuild`], recording where the time went (and how much the swap
    /// had to catch up).
    pub async fn rebuild_timed(
        &self,
        name: Option<&str>,
        progress: Option<ProgressFn<'_>>,
        timings: &mut Timings,
    ) -> Result<u64> {
        rebuild_selected(
            &self.inner.store,
            &self.inner.projections,
            name,
            self.inner.options.rebuild_batch_size,
            self.inner.options.rebuild_limits,
            progress,
            timings,
        )
        .await
    }

    /// If the runner has stopped (an injected fault), why.
    pub fn has_stopped(&self) -> bool {
        self.inner
            .task
            .lock()
            .map(|t| t.as_ref().map(|h| h.is_finished()).unwrap_or(true))
            .unwrap_or(true)
    }

    /// Stops the runner and waits for it; on PostgreSQL its leaderships are released.
    pub async fn shutdown(&self) -> Result<()> {
        let _ = self.inner.shutdown.send(true);
        let task = self.inner.task.lock().ok().and_then(|mut t| t.take());
        match task {
            Some(t) => match t.await {
                Ok(r) => r,
                Err(_) => Err(ProjectionError::Stopped),
            },
            None => Ok(()),
        }
    }

    /// Waits for the runner to end (it only ends on shutdown or an injected fault).
    pub async fn join(&self) -> Result<()> {
        let task = self.inner.task.lock().ok().and_then(|mut t| t.take());
        match task {
            Some(t) => match t.await {
                Ok(r) => r,
                Err(_) => Err(ProjectionError::Stopped),
            },
            None => Ok(()),
        }
    }
}

/// Rebuilds the named projection (or all) without a runner: `timebank rebuild`.
/// Returns the position the swapped-in tables are at.
pub async fn rebuild_with(
    store: &Store,
    projections: &[Arc<dyn Projection>],
    name: Option<&str>,
    batch: u32,
    progress: Option<ProgressFn<'_>>,
) -> Result<u64> {
    rebuild_selected(
        store,
        projections,
        name,
        batch,
        Limits::default(),
        progress,
        &mut Timings::default(),
    )
    .await
}

async fn rebuild_selected(
    store: &Store,
    projections: &[Arc<dyn Projection>],
    name: Option<&str>,
    batch: u32,
    limits: Limits,
    progress: Option<ProgressFn<'_>>,
    timings: &mut Timings,
) -> Result<u64> {
    let db = Db::of_store(store);
    let selected: Vec<&Arc<dyn Projection>> = match name {
        None => projections.iter().collect(),
        Some(n) => {
            let found: Vec<_> = projections.iter().filter(|p| p.name() == n).collect();
            if found.is_empty() {
                return Err(ProjectionError::UnknownProjection(n.to_string()));
            }
            found
        }
    };
    let refs: Vec<&dyn Projection> = selected.iter().map(|p| p.as_ref()).collect();
    rebuild_timed(store, &db, &refs, batch, limits, progress, timings).await
}
