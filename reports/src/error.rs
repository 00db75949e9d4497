//! Errors of report, certificate and statement production.

use ledger::event::DecodeError;
use ledger::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("position {at} is beyond the head of the log ({head})")]
    PositionBeyondHead { at: u64, head: u64 },
    #[error("community {community_id} does not exist at position {position}")]
    CommunityNotFound {
        community_id: uuid::Uuid,
        position: u64,
    },
    #[error("volunteer {volunteer_id} does not exist at position {position}")]
    VolunteerNotFound {
        volunteer_id: uuid::Uuid,
        position: u64,
    },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("idempotency key {0:?} was already used for a different request")]
    IdempotencyMismatch(String),
    #[error("the read-ahead task failed: {0}")]
    Task(String),
}

impl ReportError {
    /// A stable, machine-readable code (for the API).
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::PositionBeyondHead { .. } | ReportError::InvalidInput(_) => {
                "INVALID_INPUT"
            }
            ReportError::CommunityNotFound { .. } | ReportError::VolunteerNotFound { .. } => {
                "NOT_FOUND"
            }
            ReportError::IdempotencyMismatch(_) => "IDEMPOTENCY_MISMATCH",
            ReportError::Decode(_) => "CORRUPT_EVENT",
            ReportError::Store(_) | ReportError::Database(_) => "STORE_ERROR",
            ReportError::Xlsx(_) | ReportError::Json(_) | ReportError::Task(_) => "INTERNAL",
        }
    }
}
