//! Sessions of the pages (a login link's API token, labelled `session: …`) as staff
//! see them: the live sessions of a community, to list and revoke (a phone lost, a
//! volunteer moved away). Only ids, roles, labels and times: never a token.

use crate::errors::ApiResult;
use chrono::{DateTime, Utc};
use ledger::command::Role;
use ledger::Store;
use sqlx::Row;
use uuid::Uuid;

/// The label prefix of a page session's token.
pub const SESSION_LABEL: &str = "session: ";

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub role: Role,
    pub community: Option<Uuid>,
    pub volunteer: Option<Uuid>,
    /// What the login link said (志愿者, 大屏, …), without the prefix.
    pub label: String,
    pub created_at: Option<DateTime<Utc>>,
}

fn uuid(s: Option<String>) -> Option<Uuid> {
    s.and_then(|s| Uuid::parse_str(&s).ok())
}

fn session(
    id: Uuid,
    role: &str,
    community: Option<Uuid>,
    volunteer: Option<Uuid>,
    label: String,
    created_at: Option<DateTime<Utc>>,
) -> Option<Session> {
    Some(Session {
        id,
        role: crate::auth::parse_role(role).ok()?,
        community,
        volunteer,
        label: label
            .strip_prefix(SESSION_LABEL)
            .unwrap_or(&label)
            .to_string(),
        created_at,
    })
}

/// The live sessions of `community` (or of every community for `None`), newest first,
/// or the one with id `only`.
pub async fn sessions(
    store: &Store,
    community: Option<Uuid>,
    only: Option<Uuid>,
) -> ApiResult<Vec<Session>> {
    let mut out = Vec::new();
    let like = format!("{SESSION_LABEL}%");
    if let Some(pool) = store.sqlite_pool() {
        let rows = sqlx::query(
            "SELECT token_id, role, community_id, volunteer_id, label, created_at FROM api_tokens \
             WHERE revoked_at IS NULL AND label LIKE ?1 AND (?2 IS NULL OR community_id = ?2) \
             AND (?3 IS NULL OR token_id = ?3) ORDER BY created_at DESC LIMIT 1000",
        )
        .bind(&like)
        .bind(community.map(|c| c.to_string()))
        .bind(only.map(|c| c.to_string()))
        .fetch_all(pool)
        .await?;
        for r in rows {
            let created: String = r.try_get(5)?;
            let id = uuid(Some(r.try_get(0)?)).unwrap_or_default();
            out.extend(session(
                id,
                &r.try_get::<String, _>(1)?,
                uuid(r.try_get(2)?),
                uuid(r.try_get(3)?),
                r.try_get(4)?,
                DateTime::parse_from_rfc3339(&created)
                    .ok()
                    .map(|t| t.with_timezone(&Utc)),
            ));
        }
    } else if let Some(pool) = store.postgres_pool() {
        let rows = sqlx::query(
            "SELECT token_id, role, community_id, volunteer_id, label, created_at FROM api_tokens \
             WHERE revoked_at IS NULL AND label LIKE $1 AND ($2::uuid IS NULL OR community_id = $2) \
             AND ($3::uuid IS NULL OR token_id = $3) ORDER BY created_at DESC LIMIT 1000",
        )
        .bind(&like)
        .bind(community)
        .bind(only)
        .fetch_all(pool)
        .await?;
        for r in rows {
            out.extend(session(
                r.try_get(0)?,
                &r.try_get::<String, _>(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
            ));
        }
    }
    Ok(out)
}
