//! The runner task: a slot per projection (led or followed, ready, its position), the
//! connection it writes through (the SQLite write gate, or the PostgreSQL connection
//! holding the advisory locks), and the loop that takes leadership, builds stale
//! projections, applies batches and follows checkpoints led elsewhere.

use super::{leadership_key, Options};
use crate::db::{Db, Tx};
use crate::error::{ProjectionError, Result};
use crate::projection::{
    ensure_checkpoint_table, lock_checkpoint, read_checkpoint, read_envelopes, write_checkpoint,
    Checkpoint, Envelope, Names, Projection,
};
use crate::rebuild::{rebuild_timed, Timings};
use ledger::Store;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub(super) struct Slot {
    pub(super) projection: Arc<dyn Projection>,
    pub(super) leading: bool,
    pub(super) ready: bool,
    pub(super) position: u64,
    pub(super) position_tx: watch::Sender<u64>,
    pub(super) leading_tx: watch::Sender<bool>,
    /// Set once its tables are built at this version (by this process or another).
    pub(super) built_tx: watch::Sender<bool>,
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

pub(super) enum Writer {
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

pub(super) struct Runner {
    pub(super) store: Store,
    pub(super) db: Db,
    pub(super) writer: Writer,
    pub(super) slots: Vec<Slot>,
    pub(super) options: Options,
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

    pub(super) async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
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
