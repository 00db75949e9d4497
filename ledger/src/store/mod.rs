//! The event store: an append-only log of events on SQL, one implementation per backend.
//!
//! - `types`: what goes in and comes out (streams, expected versions, recorded events).
//! - `writer`: group commit, the single writer task shared by both backends.
//! - `sqlite`, `postgres`: the two backends; [`Store`] picks one from a database URL.
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

use futures::Stream;
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
        dispatch!(self, s => s.writer().submit(req).await)
    }

    /// Appends `events` to one stream if its version matches `expected`.
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<u64>, StoreError> {
        let outcome = self
            .append_request(AppendRequest::single(stream, expected, events))
            .await?;
        Ok(outcome.positions.into_iter().next().unwrap_or_default())
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

    /// A receiver of the head position, updated on every commit (on PostgreSQL also on
    /// commits by other processes, through LISTEN/NOTIFY).
    pub fn watch_head(&self) -> watch::Receiver<u64> {
        dispatch!(self, s => s.writer().watch_head())
    }

    /// The stored outcome of the command with this idempotency key, if any.
    pub async fn command_record(&self, key: &str) -> Result<Option<CommandRecord>, StoreError> {
        dispatch!(self, s => s.command_record(key).await)
    }

    /// Personal data kept outside the log.
    pub async fn put_person(&self, person: &Person) -> Result<(), StoreError> {
        dispatch!(self, s => s.put_person(person).await)
    }

    pub async fn get_person(&self, id: uuid::Uuid) -> Result<Option<Person>, StoreError> {
        dispatch!(self, s => s.get_person(id).await)
    }

    /// Removes a person's personal data, and what the records of their registration
    /// command keep of it (salted hashes, for telling a retry from another command);
    /// returns whether there was any. Events are untouched. (Use the command
    /// `ErasePersonalData`, which also records the erasure in the log.)
    pub async fn erase_person(&self, id: uuid::Uuid) -> Result<bool, StoreError> {
        dispatch!(self, s => s.erase_person(id).await)
    }

    /// Every event after `after`, then every event committed later, forever, in order.
    pub fn subscribe_all(
        &self,
        after: u64,
        batch: u32,
    ) -> impl Stream<Item = Result<RecordedEvent, StoreError>> + Send + 'static {
        let store = self.clone();
        let head = self.watch_head();
        let state = (store, head, after, std::collections::VecDeque::new());
        futures::stream::unfold(
            state,
            move |(store, mut head, mut after, mut buf)| async move {
                loop {
                    if let Some(ev) = buf.pop_front() {
                        let ev: RecordedEvent = ev;
                        after = ev.position;
                        return Some((Ok(ev), (store, head, after, buf)));
                    }
                    // Mark the current head as seen *before* reading, so a commit that lands
                    // between the read and the wait still wakes us.
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
        dispatch!(self, s => s.writer().stats())
    }
}
