//! The production backend: PostgreSQL.
//!
//! **No reader may skip an event.** With a sequence, a transaction can take position 11,
//! commit, and be read before the transaction holding position 10 commits; a catch-up
//! reader that has moved past 11 never sees 10. Here positions are assigned only under a
//! transaction-scoped advisory lock, checked against the head read under that lock
//! (`timebank_append`, migration `0400_append_function`). The lock is held until commit
//! and released only after the commit is visible, so positions become visible strictly
//! in order, across processes too.
//!
//! Each commit sends `NOTIFY timebank_events` with the new head; every process listens and
//! wakes its readers (with a periodic poll as a fallback for a dropped listener).

use super::types::*;
use super::writer::{plan_batch, wanted, BatchSink, Facts, Plan, Planned, Writer, Written};
use super::EventStore;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPoolOptions, PgRow};
use sqlx::{Connection, PgPool, Row};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Advisory lock key that serialises appends to the log ("tbLOG").
const APPEND_LOCK: i64 = 0x74_624c_4f47;
/// The channel `timebank_append` notifies on.
const CHANNEL: &str = "timebank_events";

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    writer: Writer,
}

const COLUMNS: &str =
    "position, stream_id, stream_version, event_id, event_type, schema_version, payload, metadata, community_id, recorded_at";

impl PostgresStore {
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        // Two processes starting at once must not both migrate.
        MIGRATOR.run(&pool).await?;
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
            .fetch_one(&pool)
            .await?;
        let head_tx = Arc::new(watch::channel(head as u64).0);
        tokio::spawn(listen(pool.clone(), head_tx.clone()));
        // The writer's own connections (one per batch committing, one to look stream
        // versions up), without sqlx's ping before each use, which would cost a round
        // trip per batch. A dead connection fails its batch, which the writer retries,
        // and is replaced.
        let write_pool = PgPoolOptions::new()
            .max_connections(PIPELINE_DEPTH as u32 + 1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        let writer = Writer::start(PgSink { pool: write_pool }, head_tx);
        Ok(PostgresStore { pool, writer })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl EventStore for PostgresStore {
    async fn read_stream(
        &self,
        stream: &str,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version"
        ))
        .bind(stream)
        .bind(after_version as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2"
        ))
        .bind(after as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        let v: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(stream_version), 0) FROM events WHERE stream_id = $1",
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
        let row = sqlx::query("SELECT idempotency_key, command, result, position FROM command_log WHERE idempotency_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode_command).transpose()
    }

    async fn put_person(&self, p: &Person) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO persons (volunteer_id, name, phone, id_number, updated_at) VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (volunteer_id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
             id_number = excluded.id_number, updated_at = excluded.updated_at",
        )
        .bind(p.volunteer_id)
        .bind(&p.name)
        .bind(&p.phone)
        .bind(&p.id_number)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_person(&self, id: Uuid) -> Result<Option<Person>, StoreError> {
        let row = sqlx::query("SELECT name, phone, id_number FROM persons WHERE volunteer_id = $1")
            .bind(id)
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
        let done = sqlx::query("DELETE FROM persons WHERE volunteer_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE command_log
             SET command = (command - 'name' - 'phone' - 'id_number' - 'household') || '{\"personal_data\": \"erased\"}'::jsonb
             WHERE command->>'type' IN ('RegisterVolunteer', 'MoveVolunteer', 'CorrectPersonalData') AND result->>'volunteer_id' = $1",
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

fn decode(r: &PgRow) -> Result<RecordedEvent, StoreError> {
    let position: i64 = r.try_get("position")?;
    let metadata: serde_json::Value = r.try_get("metadata")?;
    Ok(RecordedEvent {
        position: position as u64,
        stream_id: r.try_get("stream_id")?,
        stream_version: r.try_get::<i64, _>("stream_version")? as u64,
        event_id: r.try_get("event_id")?,
        event_type: r.try_get("event_type")?,
        schema_version: r.try_get::<i32, _>("schema_version")? as u32,
        payload: r.try_get("payload")?,
        metadata: serde_json::from_value(metadata).map_err(|e| corrupt(position, e))?,
        community_id: r.try_get("community_id")?,
        recorded_at: r.try_get("recorded_at")?,
    })
}

fn decode_command(r: &PgRow) -> Result<CommandRecord, StoreError> {
    Ok(CommandRecord {
        idempotency_key: r.try_get("idempotency_key")?,
        command: r.try_get("command")?,
        result: r.try_get("result")?,
        position: r.try_get::<i64, _>("position")? as u64,
    })
}

/// Follows commits of every process on this database and raises the head.
async fn listen(pool: PgPool, head_tx: Arc<watch::Sender<u64>>) {
    let raise = |head: u64| {
        head_tx.send_if_modified(|h| {
            if head > *h {
                *h = head;
                true
            } else {
                false
            }
        })
    };
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for commits; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        loop {
            // A notification may be lost while the listener reconnects, so poll the head
            // once a second as well.
            match tokio::time::timeout(Duration::from_secs(1), listener.try_recv()).await {
                Ok(Ok(Some(n))) => {
                    if let Ok(head) = n.payload().parse::<u64>() {
                        raise(head);
                    }
                }
                Ok(Ok(None)) | Err(_) => {
                    if head_tx.receiver_count() == 0 && Arc::strong_count(&head_tx) == 1 {
                        return; // the store is gone
                    }
                    match sqlx::query_scalar::<_, i64>(
                        "SELECT COALESCE(MAX(position), 0) FROM events",
                    )
                    .fetch_one(&pool)
                    .await
                    {
                        Ok(head) => {
                            raise(head as u64);
                        }
                        Err(e) => tracing::debug!(error = %e, "head poll failed"),
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

struct PgSink {
    pool: PgPool,
}

/// Batches committing at once: one holds the append lock and commits while the next,
/// planned ahead, waits for the lock in the server, so the lock passes on with no round
/// trip in between.
const PIPELINE_DEPTH: usize = 2;

/// BEGIN and the append lock in one round trip (the simple-query protocol runs both).
const BEGIN_LOCKED: &str = "BEGIN; SELECT pg_advisory_xact_lock(499865374535)";
const _: () = assert!(APPEND_LOCK == 499_865_374_535);

/// The head and the token of the batch that wrote it, in one snapshot.
const TIP: &str = "SELECT (SELECT COALESCE(MAX(position), 0) FROM events),
                           COALESCE((SELECT token FROM log_tip), '00000000-0000-0000-0000-000000000000')";

/// Stream versions as of a position: the newest version at or below it.
const VERSIONS_AT: &str = "
    SELECT s.id, (SELECT stream_version FROM events WHERE stream_id = s.id AND position <= $2
                  ORDER BY stream_version DESC LIMIT 1)
    FROM UNNEST($1::text[]) AS s(id)";

/// Every fact a batch is checked against, in one statement, so in one snapshot: the head
/// and its token, and everything the batch's checks need as of that head. Each id is
/// looked up on its own through its unique index (a correlated subquery, or a LATERAL
/// one that `LIMIT` keeps from being flattened into a join): a cached generic plan for
/// `= ANY($n)`, made while the log was small, scanned the whole log on every batch once
/// it had grown.
const FACTS: &str = "
    SELECT 'h' AS k, NULL::text AS id, COALESCE(MAX(position), 0) AS v, NULL::jsonb AS c, NULL::jsonb AS r FROM events
    UNION ALL
    SELECT 't', COALESCE((SELECT token FROM log_tip), '00000000-0000-0000-0000-000000000000')::text, NULL, NULL, NULL
    UNION ALL
    SELECT 's', s.id, (SELECT stream_version FROM events WHERE stream_id = s.id
                       ORDER BY stream_version DESC LIMIT 1), NULL, NULL
    FROM UNNEST($1::text[]) AS s(id)
    UNION ALL
    SELECT 'e', i.id::text, (SELECT position FROM events WHERE event_id = i.id), NULL, NULL
    FROM UNNEST($2::uuid[]) AS i(id)
    UNION ALL
    SELECT 'c', c.idempotency_key, c.position, c.command, c.result
    FROM UNNEST($3::text[]) AS q(key)
    CROSS JOIN LATERAL (SELECT * FROM command_log WHERE idempotency_key = q.key LIMIT 1) AS c";

/// Inserts a planned batch if the head and the token of its last batch are still the
/// ones it was planned on (migration `0410_log_tip`): events, command records, the new
/// token and the commit notification. Answers 1 (written), 0 (moved on) or 2 (not there
/// yet).
const APPEND_IF_TIP: &str = "SELECT timebank_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)";

impl BatchSink for PgSink {
    fn pipeline_depth(&self) -> usize {
        PIPELINE_DEPTH
    }

    async fn read_tip(&self) -> Result<(u64, Uuid), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let (head, token): (i64, Uuid) = sqlx::query_as(TIP).fetch_one(&mut *conn).await?;
        Ok((head as u64, token))
    }

    async fn stream_versions(
        &self,
        streams: &[String],
        head: u64,
    ) -> Result<HashMap<String, u64>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<(String, Option<i64>)> = sqlx::query_as(VERSIONS_AT)
            .bind(streams)
            .bind(head as i64)
            .fetch_all(&mut *conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(s, v)| (s, v.unwrap_or(0) as u64))
            .collect())
    }

    /// The common case costs one round trip: the plan made ahead is inserted and
    /// committed by one call that checks, under the append lock, that the head and the
    /// token of the last batch are the ones it was planned on (see the migration). A
    /// batch not planned ahead reads its facts first, without the lock. Only if another
    /// process appended in between, or an event id or command key of the batch is
    /// stored already (a retry), is the batch planned again inside a transaction that
    /// holds the lock from the start.
    async fn write_batch(
        &self,
        batch: &[AppendRequest],
        ahead: Option<Planned>,
        recorded_at: DateTime<Utc>,
    ) -> Result<Written, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let (planned, as_planned) = match ahead {
            Some(p) => (p, true),
            None => (plan_unlocked(&mut conn, batch).await?, false),
        };
        let Planned {
            plan,
            planned_on,
            token_on,
            token,
            after,
        } = planned;
        if plan.events.is_empty() && plan.commands.is_empty() && !as_planned {
            // Nothing to write: duplicates and refusals only, as of a committed head.
            return Ok(Written {
                plan,
                as_planned: false,
                tip: Some((planned_on, token_on)),
            });
        }
        let on = (planned_on, token_on);
        let after_token = after.as_ref().map(|a| a.token_on);
        let mut outcome =
            append_if_tip(&mut conn, &plan, on, after_token, token, recorded_at).await;
        if let (Ok(Appended::Early), Some(mut after)) = (&outcome, after) {
            // The batch this one follows has not reached the log yet.
            let _ = after.done.wait_for(|done| *done).await;
            outcome = append_if_tip(&mut conn, &plan, on, None, token, recorded_at).await;
        }
        match outcome {
            Ok(Appended::Written) => {
                let head = plan.head;
                return Ok(Written {
                    plan,
                    as_planned,
                    tip: Some((head, token)),
                });
            }
            Ok(Appended::Moved | Appended::Early) => {}
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {}
            Err(e) => return Err(e),
        }
        let mut tx = conn.begin_with(BEGIN_LOCKED).await?;
        let facts = read_facts(&mut tx, batch).await?;
        let on = (facts.head, facts.token);
        let plan = plan_batch(batch, facts);
        if plan.events.is_empty() && plan.commands.is_empty() {
            tx.rollback().await?;
            return Ok(Written {
                plan,
                as_planned: false,
                tip: Some(on),
            });
        }
        let token = Uuid::new_v4();
        if append_if_tip(&mut tx, &plan, on, None, token, recorded_at).await? != Appended::Written {
            return Err(StoreError::Corrupt {
                position: on.0,
                reason: "the log's head or tip moved while the append lock was held".into(),
            });
        }
        tx.commit().await?;
        let head = plan.head;
        Ok(Written {
            plan,
            as_planned: false,
            tip: Some((head, token)),
        })
    }
}

/// Reads the facts without the append lock and plans `batch` on them.
async fn plan_unlocked(
    conn: &mut sqlx::PgConnection,
    batch: &[AppendRequest],
) -> Result<Planned, StoreError> {
    let facts = read_facts(conn, batch).await?;
    let (planned_on, token_on) = (facts.head, facts.token);
    Ok(Planned {
        plan: plan_batch(batch, facts),
        planned_on,
        token_on,
        token: Uuid::new_v4(),
        after: None,
    })
}

async fn read_facts(
    conn: &mut sqlx::PgConnection,
    batch: &[AppendRequest],
) -> Result<Facts, StoreError> {
    let (streams, ids, keys) = wanted(batch);
    let mut facts = Facts::default();
    for r in sqlx::query(FACTS)
        .bind(&streams)
        .bind(&ids)
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?
    {
        let kind: &str = r.try_get("k")?;
        let v: Option<i64> = r.try_get("v")?;
        let id: Option<String> = r.try_get("id")?;
        let id = id.unwrap_or_default();
        let (kind, v) = match (kind, v) {
            ("e", None) => continue, // an id not stored yet
            (kind, v) => (kind, v.unwrap_or(0)),
        };
        match kind {
            "h" => facts.head = v as u64,
            "t" => facts.token = Uuid::parse_str(&id).map_err(|e| corrupt(0, e))?,
            "s" => {
                facts.versions.insert(id, v as u64);
            }
            "e" => {
                let event_id = Uuid::parse_str(&id).map_err(|e| corrupt(v, e))?;
                facts.event_positions.insert(event_id, v as u64);
            }
            _ => {
                let record = CommandRecord {
                    idempotency_key: id.clone(),
                    command: r.try_get("c")?,
                    result: r.try_get("r")?,
                    position: v as u64,
                };
                facts.commands.insert(id, record);
            }
        }
    }
    Ok(facts)
}

/// What `timebank_append` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Appended {
    /// Nothing: the head or the token of the last batch are no longer the planned ones.
    Moved,
    /// The batch.
    Written,
    /// Nothing: the head is still below the one planned on.
    Early,
}

/// Calls `timebank_append` with a plan's rows, if the head and the token of the last
/// batch are still `on`; `after_token` is the token the batch this one follows was
/// planned on (while the tip still has it, that batch has not been written).
async fn append_if_tip(
    conn: &mut sqlx::PgConnection,
    plan: &Plan,
    on: (u64, Uuid),
    after_token: Option<Uuid>,
    token: Uuid,
    recorded_at: DateTime<Utc>,
) -> Result<Appended, StoreError> {
    let n = plan.events.len();
    let mut pos = Vec::with_capacity(n);
    let mut sid = Vec::with_capacity(n);
    let mut ver = Vec::with_capacity(n);
    let mut eid = Vec::with_capacity(n);
    let mut ety = Vec::with_capacity(n);
    let mut sv = Vec::with_capacity(n);
    let mut payload = Vec::with_capacity(n);
    let mut meta = Vec::with_capacity(n);
    let mut cid = Vec::with_capacity(n);
    for row in &plan.events {
        let e = &row.event;
        pos.push(row.position as i64);
        sid.push(row.stream_id.as_str());
        ver.push(row.stream_version as i64);
        eid.push(e.event_id);
        ety.push(e.event_type.as_str());
        sv.push(e.schema_version as i32);
        payload.push(e.payload.to_string());
        meta.push(
            serde_json::to_string(&e.metadata)
                .map_err(|err| StoreError::InvalidAppend(err.to_string()))?,
        );
        cid.push(e.community_id);
    }
    let keys: Vec<&str> = plan
        .commands
        .iter()
        .map(|c| c.idempotency_key.as_str())
        .collect();
    let cmds: Vec<String> = plan
        .commands
        .iter()
        .map(|c| c.command.to_string())
        .collect();
    let results: Vec<String> = plan.commands.iter().map(|c| c.result.to_string()).collect();
    let positions: Vec<i64> = plan.commands.iter().map(|c| c.position as i64).collect();
    let code: i32 = sqlx::query_scalar(APPEND_IF_TIP)
        .bind(on.0 as i64)
        .bind(on.1)
        .bind(after_token)
        .bind(token)
        .bind(&pos)
        .bind(&sid)
        .bind(&ver)
        .bind(&eid)
        .bind(&ety)
        .bind(&sv)
        .bind(&payload)
        .bind(&meta)
        .bind(&cid)
        .bind(recorded_at)
        .bind(&keys)
        .bind(&cmds)
        .bind(&results)
        .bind(&positions)
        .bind(plan.head as i64)
        .fetch_one(&mut *conn)
        .await?;
    match code {
        0 => Ok(Appended::Moved),
        1 => Ok(Appended::Written),
        2 => Ok(Appended::Early),
        other => Err(StoreError::Corrupt {
            position: on.0,
            reason: format!("timebank_append answered {other}"),
        }),
    }
}
