//! Tokens in the store: issue one bound to its role's community, volunteer or street,
//! revoke it, and look one up into the [`Principal`] it stands for.

use super::{hash_token, new_token, parse_role, IssuedToken, Principal};
use crate::errors::{ApiError, ApiResult};
use chrono::Utc;
use ledger::command::{Actor, Role};
use ledger::event::Event;
use ledger::ids::{volunteer_stream, CommunityId, StreetId, VolunteerId};
use ledger::Store;
use sqlx::Row;
use uuid::Uuid;

/// The community a registered volunteer belongs to now: their registration's, or the
/// last move's (转移接续); one indexed row, current as soon as the command is
/// acknowledged.
pub async fn volunteer_community(store: &Store, volunteer: Uuid) -> ApiResult<Option<CommunityId>> {
    let stream = volunteer_stream(VolunteerId(volunteer));
    let first: Option<(String, u32, serde_json::Value)> = if let Some(pool) = store.sqlite_pool() {
        let row = sqlx::query(
                "SELECT event_type, schema_version, payload FROM events WHERE stream_id = ? AND event_type IN ('VolunteerRegistered', 'VolunteerTransferred') ORDER BY stream_version DESC LIMIT 1",
            )
            .bind(&stream)
            .fetch_optional(pool)
            .await?;
        match row {
            Some(r) => {
                let payload: String = r.try_get(2)?;
                Some((
                    r.try_get(0)?,
                    r.try_get::<i64, _>(1)? as u32,
                    serde_json::from_str(&payload)
                        .map_err(|e| ApiError::Internal(e.to_string()))?,
                ))
            }
            None => None,
        }
    } else if let Some(pool) = store.postgres_pool() {
        let row = sqlx::query(
                "SELECT event_type, schema_version, payload FROM events WHERE stream_id = $1 AND event_type IN ('VolunteerRegistered', 'VolunteerTransferred') ORDER BY stream_version DESC LIMIT 1",
            )
            .bind(&stream)
            .fetch_optional(pool)
            .await?;
        match row {
            Some(r) => Some((r.try_get(0)?, r.try_get::<i32, _>(1)? as u32, r.try_get(2)?)),
            None => None,
        }
    } else {
        None
    };
    Ok(first.and_then(
        |(ty, v, payload)| match Event::decode_parts(&ty, v, payload) {
            Ok(Event::VolunteerRegistered { community_id, .. }) => Some(community_id),
            Ok(Event::VolunteerTransferred(t)) => Some(t.community_id),
            _ => None,
        },
    ))
}

/// Issues a token and stores its hash. Staff need a community, and may be bound to
/// their own volunteer account (a volunteer of that community: the domain then refuses
/// them verifying their own service); volunteers need a registered volunteer (whose
/// community is used).
pub async fn issue(
    store: &Store,
    role: Role,
    community: Option<Uuid>,
    volunteer: Option<Uuid>,
    label: &str,
) -> ApiResult<IssuedToken> {
    issue_bound(store, role, community, volunteer, None, label).await
}

/// Issues a token bound as [`issue`] says, or, for a street office, to `street` (an
/// established street, and nothing else).
pub async fn issue_bound(
    store: &Store,
    role: Role,
    community: Option<Uuid>,
    volunteer: Option<Uuid>,
    street: Option<Uuid>,
    label: &str,
) -> ApiResult<IssuedToken> {
    if street.is_some() && role != Role::Street {
        return Err(ApiError::invalid(
            "only a street office's token is bound to a street",
        ));
    }
    if label.chars().count() > 200 {
        return Err(ApiError::invalid("label is longer than 200 characters"));
    }
    let (community, volunteer) = match role {
        Role::Admin => {
            if community.is_some() || volunteer.is_some() {
                return Err(ApiError::invalid(
                    "an admin token is not bound to a community or a volunteer",
                ));
            }
            (None, None)
        }
        Role::Staff => {
            let c =
                community.ok_or_else(|| ApiError::invalid("a staff token needs a community"))?;
            // A staff member who is also a volunteer of the community: their own
            // account, so that they cannot verify their own service.
            if let Some(v) = volunteer {
                let own = volunteer_community(store, v)
                    .await?
                    .ok_or_else(|| ApiError::NotFound(format!("volunteer {v}")))?;
                if own.0 != c {
                    return Err(ApiError::invalid(format!(
                        "volunteer {v} belongs to community {own}, not {c}: a staff token is bound only to a volunteer of its own community"
                    )));
                }
            }
            (Some(c), volunteer)
        }
        Role::Volunteer => {
            let v = volunteer
                .ok_or_else(|| ApiError::invalid("a volunteer token needs a volunteer id"))?;
            let c = volunteer_community(store, v)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("volunteer {v}")))?;
            if community.is_some_and(|given| given != c.0) {
                return Err(ApiError::invalid(format!(
                    "volunteer {v} belongs to community {c}, not {}",
                    community.unwrap_or_default()
                )));
            }
            (Some(c.0), Some(v))
        }
        Role::Street => {
            let s = street.ok_or_else(|| ApiError::invalid("a street token needs a street"))?;
            if community.is_some() || volunteer.is_some() {
                return Err(ApiError::invalid(
                    "a street token is bound to its street, not to a community or a volunteer",
                ));
            }
            if store
                .read_stream(&ledger::ids::street_stream(StreetId(s)), 0)
                .await?
                .is_empty()
            {
                return Err(ApiError::NotFound(format!("street {s}")));
            }
            (None, None)
        }
        Role::Display => {
            if volunteer.is_some() {
                return Err(ApiError::invalid(
                    "a display token is not bound to a volunteer",
                ));
            }
            (community, None)
        }
    };
    let token = new_token();
    let token_id = Uuid::new_v4();
    let hash = hash_token(&token);
    if let Some(pool) = store.sqlite_pool() {
        sqlx::query(
            "INSERT INTO api_tokens (token_id, token_hash, role, community_id, volunteer_id, label, created_at, street_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token_id.to_string())
        .bind(&hash)
        .bind(role.as_str())
        .bind(community.map(|c| c.to_string()))
        .bind(volunteer.map(|v| v.to_string()))
        .bind(label)
        .bind(Utc::now().to_rfc3339())
        .bind(street.map(|s| s.to_string()))
        .execute(pool)
        .await?;
    } else if let Some(pool) = store.postgres_pool() {
        sqlx::query(
            "INSERT INTO api_tokens (token_id, token_hash, role, community_id, volunteer_id, label, street_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_id)
        .bind(&hash)
        .bind(role.as_str())
        .bind(community)
        .bind(volunteer)
        .bind(label)
        .bind(street)
        .execute(pool)
        .await?;
    }
    Ok(IssuedToken { token_id, token })
}

/// Revokes a token given its id or its plaintext; returns whether an active token was
/// revoked.
pub async fn revoke(store: &Store, token_id_or_token: &str) -> ApiResult<bool> {
    let given = token_id_or_token.trim();
    let by_id = Uuid::parse_str(given).ok();
    let hash = hash_token(given);
    let rows = if let Some(pool) = store.sqlite_pool() {
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND (token_id = ? OR token_hash = ?)",
        )
        .bind(Utc::now().to_rfc3339())
        .bind(by_id.map(|u| u.to_string()).unwrap_or_default())
        .bind(&hash)
        .execute(pool)
        .await?
        .rows_affected()
    } else if let Some(pool) = store.postgres_pool() {
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND (token_id = $1 OR token_hash = $2)",
        )
        .bind(by_id.unwrap_or(Uuid::nil()))
        .bind(&hash)
        .execute(pool)
        .await?
        .rows_affected()
    } else {
        0
    };
    Ok(rows > 0)
}

/// Number of tokens that are not revoked.
pub async fn active_tokens(store: &Store) -> ApiResult<i64> {
    let sql = "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL";
    if let Some(pool) = store.sqlite_pool() {
        Ok(sqlx::query(sql)
            .fetch_one(pool)
            .await?
            .try_get::<i64, _>(0)?)
    } else if let Some(pool) = store.postgres_pool() {
        Ok(sqlx::query(sql)
            .fetch_one(pool)
            .await?
            .try_get::<i64, _>(0)?)
    } else {
        Ok(0)
    }
}

pub(super) struct TokenRow {
    token_id: Uuid,
    role: String,
    community: Option<Uuid>,
    volunteer: Option<Uuid>,
    street: Option<Uuid>,
    label: String,
}

pub(super) async fn lookup(store: &Store, hash: &str) -> ApiResult<Option<TokenRow>> {
    let parse = |s: Option<String>| -> ApiResult<Option<Uuid>> {
        s.map(|s| Uuid::parse_str(&s))
            .transpose()
            .map_err(|e| ApiError::Internal(format!("stored token id: {e}")))
    };
    if let Some(pool) = store.sqlite_pool() {
        let row = sqlx::query(
            "SELECT token_id, role, community_id, volunteer_id, label, street_id FROM api_tokens \
             WHERE token_hash = ? AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TokenRow {
            token_id: parse(Some(row.try_get("token_id")?))?.unwrap_or_default(),
            role: row.try_get("role")?,
            community: parse(row.try_get("community_id")?)?,
            volunteer: parse(row.try_get("volunteer_id")?)?,
            street: parse(row.try_get("street_id")?)?,
            label: row.try_get("label")?,
        }))
    } else if let Some(pool) = store.postgres_pool() {
        let row = sqlx::query(
            "SELECT token_id, role, community_id, volunteer_id, label, street_id FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TokenRow {
            token_id: row.try_get("token_id")?,
            role: row.try_get("role")?,
            community: row.try_get("community_id")?,
            volunteer: row.try_get("volunteer_id")?,
            street: row.try_get("street_id")?,
            label: row.try_get("label")?,
        }))
    } else {
        Ok(None)
    }
}

pub(super) fn principal_of(row: TokenRow) -> ApiResult<Principal> {
    let role = parse_role(&row.role)?;
    let community = row.community.map(CommunityId);
    let actor = match role {
        Role::Volunteer => {
            let v = row
                .volunteer
                .ok_or_else(|| ApiError::Internal("volunteer token without a volunteer".into()))?;
            let c = community
                .ok_or_else(|| ApiError::Internal("volunteer token without a community".into()))?;
            Actor::volunteer(VolunteerId(v), c)
        }
        // Staff may be bound to their own volunteer account.
        Role::Staff => Actor {
            principal: row.token_id,
            role,
            community_id: community,
            volunteer_id: row.volunteer.map(VolunteerId),
            street_id: None,
        },
        Role::Street => {
            let s = row
                .street
                .ok_or_else(|| ApiError::Internal("street token without a street".into()))?;
            Actor::street(row.token_id, StreetId(s))
        }
        _ => Actor {
            principal: row.token_id,
            role,
            community_id: community,
            volunteer_id: None,
            street_id: None,
        },
    };
    Ok(Principal {
        token_id: row.token_id,
        actor,
        label: row.label,
        street_communities: Vec::new(),
    })
}

/// The communities of a street office's street today (UTC+8), from the organisation's
/// read model: none while it has not caught up.
pub(super) async fn street_communities(store: &Store, street: StreetId) -> Vec<CommunityId> {
    let db = projections::db::Db::of_store(store);
    match projections::org::org(&db).await {
        Ok(org) => org
            .communities_of_street(street, projections::balances::today())
            .iter()
            .map(|u| CommunityId(u.id))
            .collect(),
        Err(_) => Vec::new(),
    }
}
