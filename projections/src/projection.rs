//! The [`Projection`] trait, the decoded events projections consume ([`Envelope`]),
//! table definitions with physical names (live or shadow), and checkpoints.

use crate::db::{Db, Tx, Val};
use crate::error::Result;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use ledger::event::{current_schema_version, Event};
use ledger::ids::{parse_stream, StreamKind};
use ledger::store::RecordedEvent;
use ledger::Store;
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

    /// The projection's fold state in memory, for rebuilds: it folds many batches
    /// before writing, and writes each table once per flush. `fresh` says the tables
    /// are empty (nothing needs to be read back until the state has been evicted).
    /// Without one, a rebuild calls [`Projection::apply`] per batch.
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        let _ = fresh;
        None
    }

    /// Tables of earlier versions, dropped when a rebuild swaps the new ones in.
    fn retired_tables(&self) -> &'static [&'static str] {
        &[]
    }
}

/// A projection's rows in memory while folding: read in bulk, changed in memory,
/// written in bulk. A batch applied incrementally is `load`, `fold`, `flush` in one
/// transaction; a rebuild loads nothing while its tables are fresh, folds batch after
/// batch and flushes when the state grows, evicting it when it grows too large.
pub trait State: Send {
    /// Reads the stored rows `events` need that are not in memory (called only when
    /// [`State::needs_load`]).
    fn load<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>>;
    /// Folds `events` (after [`State::load`]).
    fn fold(&mut self, events: &[Envelope]) -> Result<()>;
    /// Writes every change since the last flush.
    fn flush<'a>(&'a mut self, tx: &'a mut Tx<'_>, names: &'a Names) -> BoxFuture<'a, Result<()>>;
    /// Writes changes to make room in memory (by default all of them, as [`State::flush`]).
    fn make_room<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
    ) -> BoxFuture<'a, Result<()>> {
        self.flush(tx, names)
    }
    /// Approximate bytes of changes waiting to be written.
    fn pending(&self) -> usize;
    /// Changes are written when [`State::pending`] exceeds this.
    fn flush_at(&self) -> usize {
        16 << 20
    }
    /// Approximate bytes of rows held in memory (written or not).
    fn held(&self) -> usize;
    /// Forgets the rows held (after a flush): later batches read back what they need.
    fn evict(&mut self);
    /// Forgets what is only a cache (never written), which is cheap to find again.
    fn shed(&mut self) {}
    /// Tells a fresh state which entries the log reverses (up to where the fold will
    /// stop), so that it keeps only those in memory.
    fn keep_entries(&mut self, reversed: std::sync::Arc<crate::common::FxSet<Uuid>>) {
        let _ = reversed;
    }
    /// Whether [`State::load`] has anything to read.
    fn needs_load(&self) -> bool;
}

/// Applies `events` through a projection's state: load, fold, flush.
pub async fn apply_with_state(
    mut state: Box<dyn State>,
    tx: &mut Tx<'_>,
    names: &Names,
    events: &[Envelope],
) -> Result<()> {
    if state.needs_load() {
        state.load(tx, names, events).await?;
    }
    state.fold(events)?;
    state.flush(tx, names).await
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

/// Reads and decodes up to `limit` events after position `after`: in one query and
/// one pass over its text where possible, else through the store (same events, or the
/// same error).
pub async fn read_envelopes(
    store: &Store,
    db: &Db,
    after: u64,
    limit: u32,
) -> Result<Vec<Envelope>> {
    if let Some(page) = read_fast(db, None, after, limit).await {
        return Ok(page);
    }
    let events = store.read_all(after, limit).await?;
    decode_batch(&events)
}

/// Reads the log page after page on a connection of its own (on SQLite; through the
/// pool on PostgreSQL), for a rebuild: one connection keeps the driver's buffers in one
/// place instead of one per pooled connection.
pub(crate) struct LogReader {
    store: Store,
    db: Db,
    conn: Option<sqlx::SqliteConnection>,
}

impl LogReader {
    pub(crate) async fn open(store: &Store, db: &Db) -> Result<LogReader> {
        use sqlx::Connection as _;
        let conn = match db {
            Db::Sqlite(pool) => {
                Some(sqlx::SqliteConnection::connect_with(&pool.connect_options()).await?)
            }
            Db::Postgres(_) => None,
        };
        Ok(LogReader {
            store: store.clone(),
            db: db.clone(),
            conn,
        })
    }

    pub(crate) async fn read(&mut self, after: u64, limit: u32) -> Result<Vec<Envelope>> {
        if let Some(page) = read_fast(&self.db, self.conn.as_mut(), after, limit).await {
            return Ok(page);
        }
        let events = self.store.read_all(after, limit).await?;
        decode_batch(&events)
    }

    pub(crate) async fn close(self) {
        use sqlx::Connection as _;
        if let Some(c) = self.conn {
            let _ = c.close().await;
        }
    }
}

/// A page of the log as one text: fields separated by U+001F, rows by U+001E (neither
/// can occur in JSON text, a stream name, a type or a timestamp), with the row count to
/// check the split against.
const SQLITE_PAGE: &str = "SELECT count(*), group_concat(position || char(31) || schema_version || char(31) || event_type || char(31)
        || stream_id || char(31) || event_id || char(31) || recorded_at || char(31) || payload, char(30) ORDER BY position)
    FROM (SELECT position, schema_version, event_type, stream_id, event_id, recorded_at, payload
          FROM events WHERE position > ?1 ORDER BY position LIMIT ?2)";

const PG_PAGE: &str =
    "SELECT position, schema_version, event_type, stream_id, event_id, recorded_at, payload::TEXT
    FROM events WHERE position > $1 ORDER BY position LIMIT $2";

/// The page decoded straight from the stored text, or `None` when anything is not
/// as expected (a timestamp in another format, an undecodable payload, a row count
/// that does not add up): the caller then reads the page through the store, which
/// gives the same events or the same error.
///
/// On SQLite the page comes back as one text (sqlx hands rows over one by one, which
/// costs more than reading them), split and decoded in one pass; on PostgreSQL the
/// payload is read as text. Either way a payload of the current schema version is
/// decoded straight into an [`Event`], without the store's intermediate JSON values
/// (and without its metadata, which projections do not use).
async fn read_fast(
    db: &Db,
    conn: Option<&mut sqlx::SqliteConnection>,
    after: u64,
    limit: u32,
) -> Option<Vec<Envelope>> {
    let page: Vec<Envelope> = match db {
        Db::Sqlite(pool) => {
            let q = sqlx::query_as(SQLITE_PAGE)
                .bind(after as i64)
                .bind(limit as i64);
            let (count, text): (i64, Option<String>) = match conn {
                Some(c) => q.fetch_one(c).await.ok()?,
                None => q.fetch_one(pool).await.ok()?,
            };
            let text = text.unwrap_or_default();
            let mut out = Vec::with_capacity(count.max(0) as usize);
            if count > 0 {
                for row in text.split('\u{1e}') {
                    out.push(decode_row(row)?);
                }
            }
            if out.len() as i64 != count {
                return None;
            }
            out
        }
        Db::Postgres(pool) => {
            use sqlx::Row as _;
            let rows = sqlx::query(PG_PAGE)
                .bind(after as i64)
                .bind(limit as i64)
                .fetch_all(pool)
                .await
                .ok()?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let position: i64 = r.try_get(0).ok()?;
                let schema_version: i32 = r.try_get(1).ok()?;
                let event_type: &str = r.try_get(2).ok()?;
                let stream: &str = r.try_get(3).ok()?;
                let event_id: Uuid = r.try_get(4).ok()?;
                let recorded_at: DateTime<Utc> = r.try_get(5).ok()?;
                let payload: &str = r.try_get(6).ok()?;
                let schema_version = u32::try_from(schema_version).ok()?;
                let event = decode_payload(event_type, schema_version, payload)?;
                out.push(envelope(
                    position as u64,
                    stream,
                    event_id,
                    recorded_at,
                    event,
                ));
            }
            out
        }
    };
    let ordered = page.windows(2).all(|w| w[0].position < w[1].position);
    let first_ok = page.first().map(|e| e.position > after).unwrap_or(true);
    (ordered && first_ok && page.len() <= limit as usize).then_some(page)
}

fn envelope(
    position: u64,
    stream: &str,
    event_id: Uuid,
    recorded_at: DateTime<Utc>,
    event: Event,
) -> Envelope {
    let (kind, id) = match parse_stream(stream) {
        Some((k, id)) => (Some(k), id),
        None => (None, Uuid::nil()),
    };
    Envelope {
        position,
        stream_kind: kind,
        stream_id: id,
        event_id,
        recorded_at,
        event,
    }
}

/// One row of a SQLite page (`position, schema_version, event_type, stream_id,
/// event_id, recorded_at, payload` separated by U+001F), decoded as the store and
/// [`Event::decode`] would; `None` if anything is unexpected.
fn decode_row(row: &str) -> Option<Envelope> {
    let mut f = row.splitn(7, '\u{1f}');
    let position: u64 = f.next()?.parse().ok()?;
    let schema_version: u32 = f.next()?.parse().ok()?;
    let event_type = f.next()?;
    let stream = f.next()?;
    let event_id = Uuid::parse_str(f.next()?).ok()?;
    let recorded_at = DateTime::parse_from_rfc3339(f.next()?)
        .ok()?
        .with_timezone(&Utc);
    let payload = f.next()?;
    let event = decode_payload(event_type, schema_version, payload)?;
    Some(envelope(position, stream, event_id, recorded_at, event))
}

/// A payload decoded as [`Event::decode`] does: straight from the text when it is of the
/// current schema version and names its own type, else through a JSON value (upcasting).
fn decode_payload(event_type: &str, schema_version: u32, payload: &str) -> Option<Event> {
    if schema_version == current_schema_version(event_type) {
        if let Ok(e) = serde_json::from_str::<Event>(payload) {
            if e.event_type() == event_type {
                return Some(e);
            }
        }
    }
    let value: serde_json::Value = serde_json::from_str(payload).ok()?;
    Event::decode_parts(event_type, schema_version, value).ok()
}

/// Every event of these volunteers' streams, in log order, decoded: for a fold that must
/// find the entry a reversal names when it no longer holds it.
pub(crate) async fn volunteer_histories(
    tx: &mut Tx<'_>,
    volunteers: impl IntoIterator<Item = &Uuid>,
) -> Result<Vec<Envelope>> {
    let streams: Vec<String> = volunteers
        .into_iter()
        .map(|v| ledger::ids::volunteer_stream(ledger::ids::VolunteerId(*v)))
        .collect();
    read_streams(tx, &streams).await
}

/// Every event of the given streams, in log order, decoded.
async fn read_streams(tx: &mut Tx<'_>, streams: &[String]) -> Result<Vec<Envelope>> {
    use sqlx::Row as _;
    let mut out = Vec::new();
    if streams.is_empty() {
        return Ok(out);
    }
    let is_pg = tx.is_postgres();
    let cols = if is_pg {
        "position, schema_version::BIGINT, event_type, stream_id, event_id::TEXT, recorded_at, payload::TEXT"
    } else {
        "position, schema_version, event_type, stream_id, event_id, recorded_at, payload"
    };
    let rows = tx.select_in("events", cols, "stream_id", streams).await?;
    for r in rows {
        let (position, schema_version, event_type, stream, event_id, recorded_at, payload): (
            i64,
            i64,
            String,
            String,
            String,
            DateTime<Utc>,
            String,
        ) = match &r {
            crate::db::Row::Sqlite(r) => (
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
                r.try_get(6)?,
            ),
            crate::db::Row::Postgres(r) => (
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
                r.try_get(6)?,
            ),
        };
        let corrupt = |reason: String| ledger::event::DecodeError {
            position: position as u64,
            event_type: event_type.clone(),
            schema_version: schema_version as u32,
            reason,
        };
        let fast = (schema_version as u32 == current_schema_version(&event_type))
            .then(|| serde_json::from_str::<Event>(&payload).ok())
            .flatten()
            .filter(|e| e.event_type() == event_type);
        let event = match fast {
            Some(e) => e,
            None => {
                let value: serde_json::Value =
                    serde_json::from_str(&payload).map_err(|e| corrupt(e.to_string()))?;
                Event::decode_parts(&event_type, schema_version as u32, value).map_err(corrupt)?
            }
        };
        let event_id = Uuid::parse_str(&event_id).map_err(|e| corrupt(e.to_string()))?;
        out.push(envelope(
            position as u64,
            &stream,
            event_id,
            recorded_at,
            event,
        ));
    }
    out.sort_by_key(|e| e.position);
    Ok(out)
}
