//! Errors of the projection engine and its queries.

use ledger::event::DecodeError;
use ledger::store::StoreError;

/// Why a projection could not be updated, rebuilt or read.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("projection {name}: stored state is corrupt: {reason}")]
    Corrupt { name: String, reason: String },
    #[error("unknown projection {0:?}")]
    UnknownProjection(String),
    #[error("injected fault in projection {name} at batch ending at position {position}")]
    InjectedFault { name: String, position: u64 },
    #[error("stale read: wanted position {wanted}, projections have reached {reached}")]
    Stale { wanted: u64, reached: u64 },
    #[error("the projection runner has stopped")]
    Stopped,
    #[error("invalid query: {0}")]
    InvalidQuery(String),
}

impl ProjectionError {
    pub(crate) fn corrupt(name: &str, reason: impl std::fmt::Display) -> ProjectionError {
        ProjectionError::Corrupt {
            name: name.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// A read asked for a log position the projections have not reached in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stale read: wanted position {wanted}, projections have reached {reached}")]
pub struct Stale {
    pub wanted: u64,
    pub reached: u64,
}

impl From<Stale> for ProjectionError {
    fn from(s: Stale) -> Self {
        ProjectionError::Stale {
            wanted: s.wanted,
            reached: s.reached,
        }
    }
}

pub type Result<T, E = ProjectionError> = std::result::Result<T, E>;
