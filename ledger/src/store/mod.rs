//! The event store: an append-only log of events on SQL, one implementation per backend.
//!
//! - [`EventStore`]: the trait both backends implement (append, read a stream, read
//!   after a position, the live head, command records, personal data), with the live
//!   subscription written once on top of it.
//! - `types`: what goes in and comes out (streams, expected versions, recorded events).
//! - `writer`: group commit, the single writer task shared by both backends.
//! - `sqlite`, `postgres`: the two implementations; [`Store`] picks one from a database
//!   URL and offers the same operations whichever it is.
//!
//! Guarantees, on both backends:
//! - positions are assigned in commit order with no holes visible to readers (appends are
//!   serialised: SQLite has one writer; PostgreSQL takes a transaction-scoped advisory lock
//!   before it reads the head, so a later position can never commit before an earlier one);
//! - an append is all-or-nothing across all the streams it writes, with its own
//!   expected-version checks, even when group commit puts it in a batch with others;
//! - events whose ids are already stored are a retry: nothing is written and the
//!   original positions are returned.

mod postgres;
mod sqlite;
mod types;
mod writer;

pub use postgres::PostgresStore;
pub use sqlite::{SqliteStore, WriteGate};
pub use types::*;

use chrono::{DateTime, Utc};
use futures::Stream;
use std::future::Future;
use tokio::sync::watch;

/// The log, on whichever backend the database URL names.
#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// Opens (creating if missing, for SQLite) the database at `url` and applies the
    /// embedded migrations. `sqlite://path`, `sqlite::memory:` or `postgres://…`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(PostgresStore::open(url).await?))
        } else if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(SqliteStore::open(url).await?))
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL {url:?}: use sqlite://FILE or postgres://…"
            )))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Appends atomically to one or more streams. See [`AppendRequest`].
    pub async fn append_request(&self, req: AppendRequest) -> Result<AppendOutcome, StoreError> {
        dispatch!(self, s => s.append_request(req).await)
    }

    /// Appends `events` to one stream if its version matches `expected`.
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<u64>, StoreError> {
        dispatch!(self, s => s.append(stream, expected, events).await)
    }

    /// Events of one stream with version > `after_version`, in order.
    pub async fn read_stream(
        &self,
        stream: &str,
        after_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        dispatch!(self, s => s.read_stream(stream, after_version).await)
    }

    /// Up to `limit` events with position > `after`, in position order.
    pub async fn read_all(&self, after: u64, limit: u32) -> Result<Vec<RecordedEvent>, StoreError> {
        dispatch!(self, s => s.read_all(after, limit).await)
    }

    /// Current version of a stream (0 when it has no events).
    pub async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        dispatch!(self, s => s.stream_version(stream).await)
    }

    /// Position of the last committed event (0 for an empty log).
    pub async fn head(&self) -> Result<u64, StoreError> {
        dispatch!(self, s => s.head().await)
    }

    /// See [`EventStore::watch_head`].
    pub fn watch_head(&self) -> watch::Receiver<u64> {
        dispatch!(self, s => s.watch_head())
    }

    /// The stored outcome of the command with this idempotency key, if any.
    pub async fn command_record(&self, key: &str) -> Result<Option<CommandRecord>, StoreError> {
        dispatch!(self, s => s.command_record(key).await)
    }

    /// Personal data kept outside the log. An ID number another person's row holds is
    /// [`StoreError::IdNumberTaken`] (one person, one record).
    pub async fn put_person(&self, person: &Person) -> Result<(), StoreError> {
        let put: Result<(), StoreError> = dispatch!(self, s => s.put_person(person).await);
        match put {
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                Err(StoreError::IdNumberTaken)
            }
            other => other,
        }
    }

    /// The streams named `prefix…` a community's events were written to, newest first
    /// (by their first event's position), with that position: a community's history
    /// imports (`import-`), say. Read through the log's index by community.
    pub async fn community_streams(
        &self,
        community: uuid::Uuid,
        prefix: &str,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let like = format!("{prefix}%");
        let rows: Vec<(String, i64)> = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(
                    "SELECT stream_id, MIN(position) FROM events
                     WHERE community_id = ?1 AND stream_id LIKE ?2
                     GROUP BY stream_id ORDER BY MIN(position) DESC",
                )
                .bind(community.to_string())
                .bind(like)
                .fetch_all(s.pool())
                .await?
            }
            Store::Postgres(s) => {
                sqlx::query_as(
                    "SELECT stream_id, MIN(position) FROM events
                     WHERE community_id = $1 AND stream_id LIKE $2
                     GROUP BY stream_id ORDER BY MIN(position) DESC",
                )
                .bind(community)
                .bind(like)
                .fetch_all(s.pool())
                .await?
            }
        };
        Ok(rows.into_iter().map(|(s, p)| (s, p as u64)).collect())
    }

    /// The volunteers whose personal data has this name and, as `phone` says, this
    /// phone (`Exactly(None)`: none kept) or any: for telling a person without an ID
    /// number again, or finding whose a name is.
    pub async fn persons_named(
        &self,
        name: &str,
        phone: PhoneMatch<'_>,
    ) -> Result<Vec<uuid::Uuid>, StoreError> {
        let (any, phone) = match phone {
            PhoneMatch::Any => (true, ""),
            PhoneMatch::Exactly(p) => (false, p.unwrap_or("")),
        };
        Ok(match self {
            Store::Sqlite(s) => {
                let sql = "SELECT volunteer_id FROM persons WHERE name = ?1 \
                           AND (?2 OR COALESCE(phone, '') = ?3)";
                let ids: Vec<String> = sqlx::query_scalar(sql)
                    .bind(name)
                    .bind(any)
                    .bind(phone)
                    .fetch_all(s.pool())
                    .await?;
                ids.iter()
                    .filter_map(|i| uuid::Uuid::parse_str(i).ok())
                    .collect()
            }
            Store::Postgres(s) => {
                let sql = "SELECT volunteer_id FROM persons WHERE name = $1 \
                           AND ($2 OR COALESCE(phone, '') = $3)";
                sqlx::query_scalar(sql)
                    .bind(name)
                    .bind(any)
                    .bind(phone)
                    .fetch_all(s.pool())
                    .await?
            }
        })
    }

    /// Erases the personal data holding `id_number` when it is a registration's that
    /// never went through (its volunteer has no events) and was written more than
    /// `older_than` ago: a process stopped between the two writes of a registration.
    /// Whether it did.
    pub async fn clear_abandoned_person(
        &self,
        id_number: &str,
        older_than: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let Some(holder) = self.person_with_id_number(id_number).await? else {
            return Ok(false);
        };
        let stream = crate::ids::volunteer_stream(crate::ids::VolunteerId(holder));
        if self.stream_version(&stream).await? > 0 {
            return Ok(false);
        }
        let written: Option<DateTime<Utc>> = match self {
            Store::Sqlite(s) => {
                sqlx::query_scalar("SELECT updated_at FROM persons WHERE volunteer_id = ?1")
                    .bind(holder.to_string())
                    .fetch_optional(s.pool())
                    .await?
            }
            Store::Postgres(s) => {
                sqlx::query_scalar("SELECT updated_at FROM persons WHERE volunteer_id = $1")
                    .bind(holder)
                    .fetch_optional(s.pool())
                    .await?
            }
        };
        match written {
            Some(at) if at < Utc::now() - older_than => self.erase_person(holder).await,
            _ => Ok(false),
        }
    }

    /// The volunteer whose personal data holds this ID number, if any.
    pub async fn person_with_id_number(
        &self,
        id_number: &str,
    ) -> Result<Option<uuid::Uuid>, StoreError> {
        Ok(match self {
            Store::Sqlite(s) => {
                let id: Option<String> =
                    sqlx::query_scalar("SELECT volunteer_id FROM persons WHERE id_number = ?1")
                        .bind(id_number)
                        .fetch_optional(s.pool())
                        .await?;
                id.and_then(|i| uuid::Uuid::parse_str(&i).ok())
            }
            Store::Postgres(s) => {
                sqlx::query_scalar("SELECT volunteer_id FROM persons WHERE id_number = $1")
                    .bind(id_number)
                    .fetch_optional(s.pool())
                    .await?
            }
        })
    }

    pub async fn get_person(&self, id: uuid::Uuid) -> Result<Option<Person>, StoreError> {
        dispatch!(self, s => s.get_person(id).await)
    }

    /// A key of this deployment, kept beside the log and never in it (table
    /// `deployment_keys`, made by migration 0420): `household` keys the pseudonyms of
    /// households in events.
    pub async fn deployment_key(&self, name: &str) -> Result<String, StoreError> {
        let key: Option<String> = match self {
            Store::Sqlite(s) => {
                sqlx::query_scalar("SELECT key FROM deployment_keys WHERE name = ?1")
                    .bind(name)
                    .fetch_optional(s.pool())
                    .await?
            }
            Store::Postgres(s) => {
                sqlx::query_scalar("SELECT key FROM deployment_keys WHERE name = $1")
                    .bind(name)
                    .fetch_optional(s.pool())
                    .await?
            }
        };
        key.ok_or_else(|| StoreError::Config(format!("no deployment key {name:?}")))
    }

    /// See [`EventStore::erase_person`]. (Use the command `ErasePersonalData`, which
    /// also records the erasure in the log.)
    pub async fn erase_person(&self, id: uuid::Uuid) -> Result<bool, StoreError> {
        dispatch!(self, s => s.erase_person(id).await)
    }

    /// See [`EventStore::subscribe_all`].
    pub fn subscribe_all(
        &self,
        after: u64,
        batch: u32,
    ) -> std::pin::Pin<Box<dyn Stream<Item = Result<RecordedEvent, StoreError>> + Send + 'static>>
    {
        dispatch!(self, s => Box::pin(s.clone().subscribe_all(after, batch)))
    }

    /// The SQLite pool, for read models that keep their tables beside the log.
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match self {
            Store::Sqlite(s) => Some(s.pool()),
            Store::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, for read models that keep their tables beside the log.
    pub fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        match self {
            Store::Postgres(s) => Some(s.pool()),
            Store::Sqlite(_) => None,
        }
    }

    /// Statistics of the group-commit writer (batches and events), for metrics and benchmarks.
    pub fn writer_stats(&self) -> WriterStats {
        dispatch!(self, s => s.writer_stats())
    }
}

/// The event store: what each backend implements, and what [`Store`] offers whichever
/// backend it is on. The guarantees in the module documentation are this trait's
/// contract, and `ledger/tests/store_conformance.rs` runs unchanged against both
/// implementations.
pub trait EventStore: Clone + Send + Sync + 'static {
    /// Appends atomically to one or more streams, each with its expected version and
    /// the command record if any (see [`AppendRequest`]); through group commit.
    fn append_request(
        &self,
        req: AppendRequest,
    ) -> impl Future<Output = Result<AppendOutcome, StoreError>> + Send;

    /// Events of one stream with version > `after_version`, in order.
    fn read_stream(
        &self,
        stream: &str,
        after_version: u64,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Up to `limit` events with position > `after`, in position order, with no holes.
    fn read_all(
        &self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;

    /// Current version of a stream (0 when it has no events).
    fn stream_version(&self, stream: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Position of the last committed event (0 for an empty log).
    fn head(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// A receiver of the head position, raised on every commit (on PostgreSQL also on
    /// commits by other processes, through LISTEN/NOTIFY).
    fn watch_head(&self) -> watch::Receiver<u64>;

    /// The stored outcome of the command with this idempotency key, if any.
    fn command_record(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<CommandRecord>, StoreError>> + Send;

    /// Stores (or replaces) a person's personal data, beside the log.
    fn put_person(&self, p: &Person) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_person(
        &self,
        id: uuid::Uuid,
    ) -> impl Future<Output = Result<Option<Person>, StoreError>> + Send;

    /// Removes a person's personal data, and what the records of their registration and
    /// move commands keep of it (salted hashes, for telling a retry from another command);
    /// returns whether there was any. Events are untouched.
    fn erase_person(&self, id: uuid::Uuid)
        -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Statistics of the group-commit writer (batches and events).
    fn writer_stats(&self) -> WriterStats;

    /// Appends `events` to one stream if its version matches `expected`; their
    /// positions.
    fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send {
        let req = AppendRequest::single(stream, expected, events);
        async move {
            let outcome = self.append_request(req).await?;
            Ok(outcome.positions.into_iter().next().unwrap_or_default())
        }
    }

    /// Every event after `after`, then every event committed later, forever, in order.
    fn subscribe_all(
        self,
        after: u64,
        batch: u32,
    ) -> impl Stream<Item = Result<RecordedEvent, StoreError>> + Send + 'static {
        let head = self.watch_head();
        let state = (self, head, after, std::collections::VecDeque::new());
        futures::stream::unfold(
            state,
            move |(store, mut head, mut after, mut buf)| async move {
                loop {
                    if let Some(ev) = buf.pop_front() {
                        let ev: RecordedEvent = ev;
                        after = ev.position;
                        return Some((Ok(ev), (store, head, after, buf)));
                    }
                    // Mark the current head as seen *before* reading, so a commit that
                    // lands between the read and the wait still wakes us.
                    head.borrow_and_update();
                    match store.read_all(after, batch).await {
                        Ok(events) if !events.is_empty() => buf.extend(events),
                        Ok(_) => {
                            if head.changed().await.is_err() {
                                return None;
                            }
                        }
                        Err(e) => return Some((Err(e), (store, head, after, buf))),
                    }
                }
            },
        )
    }
}
