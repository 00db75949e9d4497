//! Values that go into the log and come out of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What an append expects of its stream's current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version (number of events in it).
    Exact(u64),
}

impl ExpectedVersion {
    pub fn matches(self, actual: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exact(v) => v == actual,
        }
    }
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => write!(f, "any"),
            ExpectedVersion::NoStream => write!(f, "no stream"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

/// Who caused an event and why; stored as JSON beside the payload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The authenticated principal (a token's subject) that issued the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The conversation the event belongs to (for a command, the command's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<Uuid>,
    /// What caused the event: the id of the command that wrote it, the same for every
    /// event of one command, whichever streams they are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: serde_json::Value,
    pub metadata: Metadata,
    pub community_id: Option<Uuid>,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// Global position: commit order, starting at 1, no holes.
    pub position: u64,
    pub stream_id: String,
    /// 1 for the first event of a stream.
    pub stream_version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: serde_json::Value,
    pub metadata: Metadata,
    pub community_id: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
}

/// Events for one stream within an [`AppendRequest`].
#[derive(Debug, Clone)]
pub struct StreamWrite {
    pub stream_id: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// The stored result of a command, keyed by its client-generated idempotency key and
/// written in the same transaction as the command's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    pub idempotency_key: String,
    /// The command as submitted (canonical JSON), to tell a retry from a different command.
    pub command: serde_json::Value,
    /// What the command returned.
    pub result: serde_json::Value,
    /// Log position of the command's last event (0 if it wrote none).
    pub position: u64,
}

/// One atomic append: every write succeeds or none is stored.
#[derive(Debug, Clone, Default)]
pub struct AppendRequest {
    pub writes: Vec<StreamWrite>,
    /// If set and a command with this key is already stored, nothing is written and the
    /// stored record is returned in [`AppendOutcome::duplicate_of`].
    pub command: Option<(String, serde_json::Value, serde_json::Value)>,
}

impl AppendRequest {
    pub fn single(stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> Self {
        AppendRequest {
            writes: vec![StreamWrite {
                stream_id: stream.to_string(),
                expected,
                events,
            }],
            command: None,
        }
    }
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppendOutcome {
    /// Positions of the events, per write, in the request's order. On a retry (event
    /// ids already stored) these are the original positions.
    pub positions: Vec<Vec<u64>>,
    /// Position of the last event of this append (the log position to wait for).
    pub last_position: u64,
    /// The command with the same idempotency key that was already stored; nothing was written.
    pub duplicate_of: Option<CommandRecord>,
}

/// Personal data, kept outside the append-only log, keyed by volunteer id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub volunteer_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriterStats {
    pub batches: u64,
    pub appends: u64,
    pub events: u64,
}

/// Which phone a person found by name ([`super::Store::persons_named`]) must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneMatch<'a> {
    Any,
    /// This phone; `None`: no phone kept.
    Exactly(Option<&'a str>),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("version conflict on stream {stream}: expected {expected}, actual {actual}")]
    VersionConflict {
        stream: String,
        expected: ExpectedVersion,
        actual: u64,
    },
    #[error("event {event_id} is already stored at position {position} with different content or in another append")]
    EventIdReused { event_id: Uuid, position: u64 },
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    #[error("stored event at position {position} is corrupt: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error("configuration: {0}")]
    Config(String),
    #[error("the writer has stopped")]
    WriterStopped,
    #[error("another person's record holds this ID number")]
    IdNumberTaken,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
