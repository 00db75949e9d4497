//! API errors and their stable `extensions.code`.
//!
//! Every error a client sees carries a machine-readable code: the domain's own codes
//! (INVALID_INPUT, NOT_FOUND, FORBIDDEN, WISH_ALREADY_CLAIMED, …, from
//! [`ledger::domain::DomainError::code`]) and the API's (UNAUTHENTICATED, STALE_READ,
//! GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, QUERY_TOO_DEEP, QUERY_TOO_COMPLEX,
//! INTERNAL). Internal details (SQL errors) are logged, not returned.

use async_graphql::ErrorExtensions;
use ledger::command::CommandError;
use ledger::store::StoreError;

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required: send `Authorization: Bearer <token>`")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("stale read: wanted position {wanted}, the read models have reached {reached}")]
    StaleRead { wanted: u64, reached: u64 },
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("storage error")]
    Store(#[from] StoreError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("read model error: {0}")]
    Projection(String),
    #[error("the read model {0} is still being built (after a start on a new database or a new version); retry shortly")]
    NotReady(&'static str),
    #[error("{0}")]
    IdempotencyMismatch(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::InvalidInput(_) => "INVALID_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::StaleRead { .. } => "STALE_READ",
            ApiError::Command(e) => e.code(),
            ApiError::Store(_) | ApiError::Database(_) => "STORE_ERROR",
            ApiError::Projection(_) => "READ_MODEL_ERROR",
            ApiError::NotReady(_) => "READ_MODEL_NOT_READY",
            ApiError::IdempotencyMismatch(_) => "IDEMPOTENCY_MISMATCH",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    pub fn forbidden(reason: impl Into<String>) -> ApiError {
        ApiError::Forbidden(reason.into())
    }

    pub fn invalid(reason: impl Into<String>) -> ApiError {
        ApiError::InvalidInput(reason.into())
    }

    /// The message shown to clients (internal details stay in the logs).
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Command(CommandError::Store(_)) => "storage error".to_string(),
            other => other.to_string(),
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        if matches!(
            self,
            ApiError::Store(_)
                | ApiError::Database(_)
                | ApiError::Internal(_)
                | ApiError::Projection(_)
                | ApiError::Command(CommandError::Store(_))
        ) {
            tracing::error!(error = %self, "request failed");
        }
        let code = self.code();
        let err = async_graphql::Error::new(self.public_message())
            .extend_with(|_, e| e.set("code", code));
        match self {
            // The record the person already has, for the desk to open instead.
            ApiError::Command(CommandError::Domain(
                ledger::domain::DomainError::DuplicatePerson {
                    volunteer_id,
                    volunteer_number,
                    community_id,
                },
            )) => err.extend_with(|_, e| {
                e.set("volunteerId", volunteer_id.to_string());
                e.set("volunteerNumber", volunteer_number.clone());
                e.set("communityId", community_id.to_string());
                // What the desk is offered instead: the record moved here.
                e.set("offer", "transferVolunteer");
            }),
            _ => err,
        }
    }
}

impl From<ledger::domain::DomainError> for ApiError {
    fn from(e: ledger::domain::DomainError) -> Self {
        ApiError::Command(CommandError::Domain(e))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A GraphQL error with a code, for places that build errors by hand.
pub fn gql_error(code: &'static str, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message.into()).extend_with(|_, e| e.set("code", code))
}
