//! The embedded default: SQLite in WAL mode with `synchronous=FULL`, so an acknowledged
//! event survives power loss. One writer connection owned by the group-commit task; a
//! pool of readers beside it.
//!
//! SQLite lets one connection write at a time. A writer that finds the file locked
//! waits in SQLite's busy handler, which sleeps in steps of up to 100 ms; under load
//! that sleep, not the work, sets the latency. So the writers of this process (the
//! group-commit task here, the projection runner) first queue on one in-process
//! [`WriteGate`], in order, and reach SQLite's lock only when it is free. The busy
//! timeout remains for other processes on the same file (the command line).

use super::types::*;
use super::writer::{plan_batch, wanted, BatchSink, Facts, Planned, Writer, Written};
use super::EventStore;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Mutex};
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: Writer,
    gate: WriteGate,
}

/// The queue of this process's writers to one SQLite file: hold it from `BEGIN
/// IMMEDIATE` to `COMMIT`.
pub type WriteGate = Arc<Mutex<()>>;

fn options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true))
}

impl SqliteStore {
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::Config(
                "an in-memory SQLite database cannot be shared by the writer and the readers; use a file".into(),
            ));
        }
        let opts = options(url)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(opts.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let conn = SqliteConnection::connect_with(&opts).await?;
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
            .fetch_one(&pool)
            .await?;
        let (head_tx, _) = watch::channel(head as u64);
        let gate = WriteGate::default();
        let writer = Writer::start(
            SqliteSink {
                conn: Mutex::new(conn),
                gate: gate.clone(),
            },
            Arc::new(head_tx),
        );
        Ok(SqliteStore { pool, writer, gate })
    }

    /// The in-process queue for writing to this file (see the module documentation).
    pub fn write_gate(&self) -> &WriteGate {
        &self.gate
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl EventStore for SqliteStore {
    async fn read_stream(
        &self,
        stream: &str,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, payload, metadata, community_id, recorded_at
             FROM events WHERE stream_id = ?1 AND stream_version > ?2 ORDER BY stream_version",
        )
        .bind(stream)
        .bind(after_version as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        // A page travels as one JSON array in one row: sqlx copies every value of every
        // row and hands each row across threads, which costs more than the read itself.
        let page: Option<String> = sqlx::query_scalar(
            "SELECT json_group_array(json_array(position, stream_id, stream_version, event_id, event_type,
                                                schema_version, json(payload), json(metadata), community_id, recorded_at))
             FROM (SELECT * FROM events WHERE position > ?1 ORDER BY position LIMIT ?2)",
        )
        .bind(after as i64)
        .bind(limit as i64)
        .fetch_one(&self.pool)
        .await?;
        let Some(page) = page else {
            return Ok(Vec::new());
        };
        type Row = (
            u64,
            String,
            u64,
            Uuid,
            String,
            u32,
            serde_json::Value,
            Metadata,
            Option<Uuid>,
            DateTime<Utc>,
        );
        let rows: Vec<Row> = serde_json::from_str(&page).map_err(|e| corrupt(after as i64, e))?;
        let mut events: Vec<RecordedEvent> = rows
            .into_iter()
            .map(
                |(
                    position,
                    stream_id,
                    stream_version,
                    event_id,
                    event_type,
                    schema_version,
                    payload,
                    metadata,
                    community_id,
                    recorded_at,
                )| RecordedEvent {
                    position,
                    stream_id,
                    stream_version,
                    event_id,
                    event_type,
                    schema_version,
                    payload,
                    metadata,
                    community_id,
                    recorded_at,
                },
            )
            .collect();
        // json_group_array keeps the subquery's order; make sure of it cheaply.
        if !events.is_sorted_by_key(|e| e.position) {
            events.sort_unstable_by_key(|e| e.position);
        }
        Ok(events)
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        let v: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = ?1",
        )
        .bind(stream)
        .fetch_one(&self.pool)
        .await?;
        Ok(v as u64)
    }

    async fn head(&self) -> Result<u64, StoreError> {
        let v: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(v as u64)
    }

    async fn command_record(&self, key: &str) -> Result<Option<CommandRecord>, StoreError> {
        let row = sqlx::query("SELECT idempotency_key, command, result, position FROM command_log WHERE idempotency_key = ?1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode_command).transpose()
    }

    async fn put_person(&self, p: &Person) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO persons (volunteer_id, name, phone, id_number, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (volunteer_id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
             id_number = excluded.id_number, updated_at = excluded.updated_at",
        )
        .bind(p.volunteer_id.to_string())
        .bind(&p.name)
        .bind(&p.phone)
        .bind(&p.id_number)
        .bind(Utc::now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_person(&self, id: Uuid) -> Result<Option<Person>, StoreError> {
        let row = sqlx::query("SELECT name, phone, id_number FROM persons WHERE volunteer_id = ?1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(Person {
                volunteer_id: id,
                name: r.try_get("name")?,
                phone: r.try_get("phone")?,
                id_number: r.try_get("id_number")?,
            }),
            None => None,
        })
    }

    async fn erase_person(&self, id: Uuid) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM persons WHERE volunteer_id = ?1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE command_log
             SET command = json_set(json_remove(command, '$.name', '$.phone', '$.id_number', '$.household'),
                                    '$.personal_data', 'erased')
             WHERE json_extract(command, '$.type') IN ('RegisterVolunteer', 'MoveVolunteer', 'CorrectPersonalData')
               AND json_extract(result, '$.volunteer_id') = ?1",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.writer.watch_head()
    }

    async fn append_request(&self, req: AppendRequest) -> Result<AppendOutcome, StoreError> {
        self.writer.submit(req).await
    }

    fn writer_stats(&self) -> WriterStats {
        self.writer.stats()
    }
}

fn corrupt(position: i64, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        position: position as u64,
        reason: reason.to_string(),
    }
}

fn decode(r: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let position: i64 = r.try_get("position")?;
    let event_id: String = r.try_get("event_id")?;
    let community_id: Option<String> = r.try_get("community_id")?;
    let payload: String = r.try_get("payload")?;
    let metadata: String = r.try_get("metadata")?;
    Ok(RecordedEvent {
        position: position as u64,
        stream_id: r.try_get("stream_id")?,
        stream_version: r.try_get::<i64, _>("stream_version")? as u64,
        event_id: Uuid::parse_str(&event_id).map_err(|e| corrupt(position, e))?,
        event_type: r.try_get("event_type")?,
        schema_version: r.try_get::<i64, _>("schema_version")? as u32,
        payload: serde_json::from_str(&payload).map_err(|e| corrupt(position, e))?,
        metadata: serde_json::from_str(&metadata).map_err(|e| corrupt(position, e))?,
        community_id: community_id
            .map(|c| Uuid::parse_str(&c))
            .transpose()
            .map_err(|e| corrupt(position, e))?,
        recorded_at: r.try_get::<DateTime<Utc>, _>("recorded_at")?,
    })
}

fn decode_command(r: &SqliteRow) -> Result<CommandRecord, StoreError> {
    let position: i64 = r.try_get("position")?;
    let command: String = r.try_get("command")?;
    let result: String = r.try_get("result")?;
    Ok(CommandRecord {
        idempotency_key: r.try_get("idempotency_key")?,
        command: serde_json::from_str(&command).map_err(|e| corrupt(position, e))?,
        result: serde_json::from_str(&result).map_err(|e| corrupt(position, e))?,
        position: position as u64,
    })
}

fn to_json(list: &[String]) -> String {
    serde_json::Value::from(list.to_vec()).to_string()
}

struct SqliteSink {
    conn: Mutex<SqliteConnection>,
    gate: WriteGate,
}

impl BatchSink for SqliteSink {
    /// SQLite plans inside its write transaction: one writer at a time, nothing to
    /// pipeline.
    async fn read_tip(&self) -> Result<(u64, Uuid), StoreError> {
        Err(StoreError::Config(
            "SQLite plans a batch inside its transaction".into(),
        ))
    }

    async fn stream_versions(
        &self,
        _streams: &[String],
        _head: u64,
    ) -> Result<HashMap<String, u64>, StoreError> {
        Err(StoreError::Config(
            "SQLite plans a batch inside its transaction".into(),
        ))
    }

    async fn write_batch(
        &self,
        batch: &[AppendRequest],
        _ahead: Option<Planned>,
        recorded_at: DateTime<Utc>,
    ) -> Result<Written, StoreError> {
        let mut conn = self.conn.lock().await;
        let _turn = self.gate.lock().await;
        // IMMEDIATE takes the write lock now, so the facts read below cannot change
        // under us, even if another process opens the same file.
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        // A handful of statements per batch, whatever its size: the lists travel as JSON.
        let (streams, ids, keys) = wanted(batch);
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut facts = Facts {
            head: sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(position), 0) FROM events")
                .fetch_one(&mut *tx)
                .await? as u64,
            ..Facts::default()
        };
        for r in sqlx::query(
            "SELECT j.value AS stream_id,
                    (SELECT MAX(stream_version) FROM events WHERE stream_id = j.value) AS v
             FROM json_each(?1) AS j",
        )
        .bind(to_json(&streams))
        .fetch_all(&mut *tx)
        .await?
        {
            let v: Option<i64> = r.try_get("v")?;
            facts
                .versions
                .insert(r.try_get("stream_id")?, v.unwrap_or(0) as u64);
        }
        for r in sqlx::query("SELECT event_id, position FROM events WHERE event_id IN (SELECT value FROM json_each(?1))")
            .bind(to_json(&ids))
            .fetch_all(&mut *tx)
            .await?
        {
            let id: String = r.try_get("event_id")?;
            let position: i64 = r.try_get("position")?;
            facts
                .event_positions
                .insert(Uuid::parse_str(&id).map_err(|e| corrupt(position, e))?, position as u64);
        }
        if !keys.is_empty() {
            for r in sqlx::query(
                "SELECT idempotency_key, command, result, position FROM command_log
                 WHERE idempotency_key IN (SELECT value FROM json_each(?1))",
            )
            .bind(to_json(&keys))
            .fetch_all(&mut *tx)
            .await?
            {
                let c = decode_command(&r)?;
                facts.commands.insert(c.idempotency_key.clone(), c);
            }
        }
        let plan = plan_batch(batch, facts);
        if !plan.events.is_empty() {
            let mut rows = Vec::with_capacity(plan.events.len());
            for row in &plan.events {
                let e = &row.event;
                rows.push(serde_json::json!({
                    "p": row.position,
                    "s": row.stream_id,
                    "v": row.stream_version,
                    "e": e.event_id.to_string(),
                    "t": e.event_type,
                    "sv": e.schema_version,
                    "pl": e.payload.to_string(),
                    "m": serde_json::to_string(&e.metadata).map_err(|err| StoreError::InvalidAppend(err.to_string()))?,
                    "c": e.community_id.map(|c| c.to_string()),
                }));
            }
            sqlx::query(
                "INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, payload, metadata, community_id, recorded_at)
                 SELECT value ->> 'p', value ->> 's', value ->> 'v', value ->> 'e', value ->> 't', value ->> 'sv',
                        value ->> 'pl', value ->> 'm', value ->> 'c', ?2
                 FROM json_each(?1)",
            )
            .bind(serde_json::Value::Array(rows).to_string())
            .bind(recorded_at)
            .execute(&mut *tx)
            .await?;
        }
        if !plan.commands.is_empty() {
            let rows: Vec<serde_json::Value> = plan
                .commands
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "k": c.idempotency_key,
                        "c": c.command.to_string(),
                        "r": c.result.to_string(),
                        "p": c.position,
                    })
                })
                .collect();
            sqlx::query(
                "INSERT INTO command_log (idempotency_key, command, result, position, recorded_at)
                 SELECT value ->> 'k', value ->> 'c', value ->> 'r', value ->> 'p', ?2 FROM json_each(?1)",
            )
            .bind(serde_json::Value::Array(rows).to_string())
            .bind(recorded_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Written {
            plan,
            as_planned: false,
            tip: None,
        })
    }
}
