//! The running projections of a process as a handle: their positions, leadership and
//! builds, read-your-writes, rebuilds and shutdown; and rebuilds without a runner.

use super::task::{Runner, Slot, Writer};
use super::Options;
use crate::db::Db;
use crate::error::{ProjectionError, Result, Stale};
use crate::projection::Projection;
use crate::rebuild::{rebuild_timed, Limits, ProgressFn, Timings};
use ledger::Store;
use sqlx::sqlite::SqlitePoolOptions;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub(super) struct Inner {
    store: Store,
    db: Db,
    /// A hot standby the read models are queried on (`read_from`).
    pub(super) replica: std::sync::OnceLock<Db>,
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
    pub(super) inner: Arc<Inner>,
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
                replica: std::sync::OnceLock::new(),
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

    /// The database the read models are queried on: the replica when one is set
    /// ([`Projections::read_from`]), else the one they live in.
    pub fn db(&self) -> &Db {
        self.inner.replica.get().unwrap_or(&self.inner.db)
    }

    /// The database the runner writes the read models to (the primary).
    pub fn primary_db(&self) -> &Db {
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

    /// Read-your-writes: waits until every projection has applied `position` (and,
    /// reading from a replica, until the replica has it too), or fails with [`Stale`]
    /// after `timeout`.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), Stale> {
        let deadline = tokio::time::Instant::now() + timeout;
        for (name, _) in &self.inner.positions {
            self.wait_until(name, position, deadline).await?;
        }
        if !self.reads_from_replica() {
            return Ok(());
        }
        let names: Vec<&'static str> = self.inner.positions.iter().map(|(n, _)| *n).collect();
        self.wait_replica(&names, position, deadline).await
    }

    /// Read-your-writes for one projection.
    pub async fn wait_for_projection(
        &self,
        name: &str,
        position: u64,
        timeout: Duration,
    ) -> Result<(), Stale> {
        let deadline = tokio::time::Instant::now() + timeout;
        self.wait_until(name, position, deadline).await?;
        match self.inner.positions.iter().find(|(n, _)| *n == name) {
            Some((n, _)) => self.wait_replica(&[*n], position, deadline).await,
            None => Ok(()),
        }
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
