//! The [`Projection`] trait, the decoded events projections consume ([`Envelope`]),
//! table definitions with physical names (live or shadow), and checkpoints.

use crate::db::{Db, Tx, Val};
use crate::error::Result;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::{parse_stream, StreamKind};
use ledger::store::RecordedEvent;
use uuid::Uuid;

/// A stored event decoded once per batch and shared by every projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub position: u64,
    pub stream_kind: Option<StreamKind>,
    /// The id in the stream name (`volunteer-{id}` …), nil for unknown streams.
    pub stream_id: Uuid,
    pub event_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub event: Event,
}

impl Envelope {
    pub fn decode(recorded: &RecordedEvent) -> Result<Envelope> {
        let event = Event::decode(recorded)?;
        let (kind, id) = match parse_stream(&recorded.stream_id) {
            Some((k, id)) => (Some(k), id),
            None => (None, Uuid::nil()),
        };
        Ok(Envelope {
            position: recorded.position,
            stream_kind: kind,
            stream_id: id,
            event_id: recorded.event_id,
            recorded_at: recorded.recorded_at,
            event,
        })
    }

    /// The stream's id when the stream is of `kind`.
    pub fn stream_of(&self, kind: StreamKind) -> Option<Uuid> {
        (self.stream_kind == Some(kind)).then_some(self.stream_id)
    }
}

/// One table of a projection. `columns` is the body of `CREATE TABLE` (columns and the
/// primary key), using only BIGINT and TEXT; `indexes` are column lists such as
/// `"(period, scope, points DESC)"`, created after a rebuild has loaded the rows.
#[derive(Debug, Clone, Copy)]
pub struct TableDef {
    pub name: &'static str,
    pub columns: &'static str,
    pub indexes: &'static [&'static str],
}

/// A key/value state table: JSON values keyed by text.
pub const fn kv_table(name: &'static str) -> TableDef {
    TableDef {
        name,
        columns: "k TEXT NOT NULL PRIMARY KEY, v TEXT NOT NULL",
        indexes: &[],
    }
}

/// Physical table names: the live tables, or a rebuild's shadow tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    shadow: Option<String>,
}

impl Names {
    pub fn live() -> Names {
        Names { shadow: None }
    }

    pub fn shadow(generation: &str) -> Names {
        Names {
            shadow: Some(generation.to_string()),
        }
    }

    /// The physical name of the logical table `name`.
    pub fn t(&self, name: &str) -> String {
        match &self.shadow {
            None => name.to_string(),
            Some(g) => format!("{name}{SHADOW_MARK}{g}"),
        }
    }
}

/// Shadow tables are named `{table}__r{generation}`.
pub const SHADOW_MARK: &str = "__r";

/// A read model built from the log.
///
/// `apply` receives the events after the projection's checkpoint, in order, inside the
/// transaction that will also write the checkpoint; it must fold them and write its
/// rows with bulk statements through `tx`, into the tables named by `names`.
pub trait Projection: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// Bump when the tables or the fold change: the projection is rebuilt at start.
    fn version(&self) -> u32;
    fn tables(&self) -> &'static [TableDef];
    fn apply<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>>;
}

/// The checkpoint table, shared by every projection.
pub(crate) const CHECKPOINT_DDL: &str = "CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name TEXT NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL,
    position BIGINT NOT NULL
)";

/// A projection's checkpoint: the version of its fold and the last applied position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub version: u32,
    pub position: u64,
}

pub(crate) async fn ensure_checkpoint_table(db: &Db) -> Result<()> {
    let mut tx = db.begin().await?;
    if tx.is_postgres() {
        // Concurrent CREATE TABLE IF NOT EXISTS can collide on PostgreSQL.
        tx.exec("SELECT pg_advisory_xact_lock(7305417263550127031)", &[])
            .await?;
    }
    tx.exec_ddl(CHECKPOINT_DDL).await?;
    tx.commit().await
}

/// Reads (and on PostgreSQL locks, until the transaction ends) a checkpoint.
pub(crate) async fn lock_checkpoint(tx: &mut Tx<'_>, name: &str) -> Result<Option<Checkpoint>> {
    let sql = if tx.is_postgres() {
        "SELECT version, position FROM projection_checkpoints WHERE name = ? FOR UPDATE"
    } else {
        "SELECT version, position FROM projection_checkpoints WHERE name = ?"
    };
    let rows = tx.fetch(sql, &[name.into()]).await?;
    match rows.first() {
        None => Ok(None),
        Some(r) => Ok(Some(Checkpoint {
            version: r.int(0)? as u32,
            position: r.int(1)? as u64,
        })),
    }
}

pub(crate) async fn write_checkpoint(tx: &mut Tx<'_>, name: &str, cp: Checkpoint) -> Result<()> {
    tx.exec(
        "INSERT INTO projection_checkpoints (name, version, position) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position",
        &[
            name.into(),
            Val::from(cp.version as i64),
            Val::from(cp.position as i64),
        ],
    )
    .await?;
    Ok(())
}

/// Reads a checkpoint without locking (followers, status).
pub async fn read_checkpoint(db: &Db, name: &str) -> Result<Option<Checkpoint>> {
    let row = db
        .fetch_optional(
            "SELECT version, position FROM projection_checkpoints WHERE name = ?",
            &[name.into()],
        )
        .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(Checkpoint {
            version: r.int(0)? as u32,
            position: r.int(1)? as u64,
        })),
    }
}

/// Decodes a batch once for every projection.
pub fn decode_batch(events: &[RecordedEvent]) -> Result<Vec<Envelope>> {
    events.iter().map(Envelope::decode).collect()
}
