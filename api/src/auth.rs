//! Bearer tokens, the principal behind a request, and masking of personal data.
//!
//! A token is `tb_` followed by 64 hex digits (32 random bytes). Only its SHA-256 is
//! stored (`api_tokens`, migration 0200); the plaintext is returned once by
//! [`issue`]. Lookups are cached for [`CACHE_TTL`], and a revocation in this process
//! clears the cache at once (another process sees it within the TTL).
//!
//! Roles (issue "GraphQL API"): admin (every community), staff (one community,
//! optionally bound to the staff member's own volunteer account), volunteer (their own account in their community), display (read-only public
//! screens, optionally bound to a community).

use crate::errors::{ApiError, ApiResult};
use chrono::Utc;
use ledger::command::{Actor, Role};
use ledger::event::Event;
use ledger::ids::{volunteer_stream, CommunityId, VolunteerId};
use ledger::Store;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a token lookup is cached.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_LIMIT: usize = 10_000;
const TOKEN_PREFIX: &str = "tb_";

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: Uuid,
    pub actor: Actor,
    pub label: String,
}

impl Principal {
    pub fn role(&self) -> Role {
        self.actor.role
    }

    pub fn community(&self) -> Option<CommunityId> {
        self.actor.community_id
    }

    /// Whether this caller may read everything of `community` (admin, or its staff).
    pub fn manages(&self, community: CommunityId) -> bool {
        match self.actor.role {
            Role::Admin => true,
            Role::Staff => self.actor.community_id == Some(community),
            _ => false,
        }
    }

    /// Whether this caller may read the account and records (balance, statement,
    /// certificates) of volunteer `v` of `community`: admin, that community's staff, and
    /// the volunteer themselves.
    pub fn reads_account_of(&self, v: VolunteerId, community: Option<CommunityId>) -> bool {
        match self.actor.role {
            Role::Admin => true,
            Role::Staff => community.is_some() && self.actor.community_id == community,
            Role::Volunteer => self.actor.volunteer_id == Some(v),
            Role::Display => false,
        }
    }

    /// Whether this caller may read public boards (rankings, red flag, wishes) of
    /// `community`: admin, and staff, volunteers and displays bound to it (a display
    /// bound to no community reads every community's boards).
    pub fn reads_boards_of(&self, community: CommunityId) -> bool {
        match self.actor.role {
            Role::Admin => true,
            Role::Display => match self.actor.community_id {
                None => true,
                Some(c) => c == community,
            },
            Role::Staff | Role::Volunteer => self.actor.community_id == Some(community),
        }
    }

    /// Whether this caller sees the personal data (phone, ID number) of a person of
    /// `community` unmasked: only that community's staff.
    pub fn sees_personal_data_of(&self, community: Option<CommunityId>) -> bool {
        self.actor.role == Role::Staff
            && community.is_some()
            && self.actor.community_id == community
    }
}

/// A token as issued: the plaintext is shown once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token_id: Uuid,
    pub token: String,
}

/// SHA-256 of a token, hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

pub fn parse_role(s: &str) -> ApiResult<Role> {
    match s.trim().to_ascii_lowercase().as_str() {
        "admin" => Ok(Role::Admin),
        "staff" => Ok(Role::Staff),
        "volunteer" => Ok(Role::Volunteer),
        "display" => Ok(Role::Display),
        other => Err(ApiError::invalid(format!(
            "unknown role {other:?}: use admin, staff, volunteer or display"
        ))),
    }
}

/// The community a registered volunteer belongs to, from the first event of their
/// stream (one indexed row; current as soon as the registration is acknowledged).
pub async fn volunteer_community(store: &Store, volunteer: Uuid) -> ApiResult<Option<CommunityId>> {
    let stream = volunteer_stream(VolunteerId(volunteer));
    let first: Option<(String, u32, serde_json::Value)> = if let Some(pool) = store.sqlite_pool() {
        let row = sqlx::query(
                "SELECT event_type, schema_version, payload FROM events WHERE stream_id = ? AND stream_version = 1",
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
                "SELECT event_type, schema_version, payload FROM events WHERE stream_id = $1 AND stream_version = 1",
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
            "INSERT INTO api_tokens (token_id, token_hash, role, community_id, volunteer_id, label, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token_id.to_string())
        .bind(&hash)
        .bind(role.as_str())
        .bind(community.map(|c| c.to_string()))
        .bind(volunteer.map(|v| v.to_string()))
        .bind(label)
        .bind(Utc::now().to_rfc3339())
        .execute(pool)
        .await?;
    } else if let Some(pool) = store.postgres_pool() {
        sqlx::query(
            "INSERT INTO api_tokens (token_id, token_hash, role, community_id, volunteer_id, label) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_id)
        .bind(&hash)
        .bind(role.as_str())
        .bind(community)
        .bind(volunteer)
        .bind(label)
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

struct TokenRow {
    token_id: Uuid,
    role: String,
    community: Option<Uuid>,
    volunteer: Option<Uuid>,
    label: String,
}

async fn lookup(store: &Store, hash: &str) -> ApiResult<Option<TokenRow>> {
    let parse = |s: Option<String>| -> ApiResult<Option<Uuid>> {
        s.map(|s| Uuid::parse_str(&s))
            .transpose()
            .map_err(|e| ApiError::Internal(format!("stored token id: {e}")))
    };
    if let Some(pool) = store.sqlite_pool() {
        let row = sqlx::query(
            "SELECT token_id, role, community_id, volunteer_id, label FROM api_tokens \
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
            label: row.try_get("label")?,
        }))
    } else if let Some(pool) = store.postgres_pool() {
        let row = sqlx::query(
            "SELECT token_id, role, community_id, volunteer_id, label FROM api_tokens \
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
            label: row.try_get("label")?,
        }))
    } else {
        Ok(None)
    }
}

fn principal_of(row: TokenRow) -> ApiResult<Principal> {
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
        },
        _ => Actor {
            principal: row.token_id,
            role,
            community_id: community,
            volunteer_id: None,
        },
    };
    Ok(Principal {
        token_id: row.token_id,
        actor,
        label: row.label,
    })
}

/// A cached lookup.
struct Cached {
    principal: Option<Principal>,
    at: Instant,
    refreshing: bool,
}

/// Verifies bearer tokens, with a short-lived cache.
///
/// A lookup is served from the cache for at most [`CACHE_TTL`]; past half of it, the
/// first request to use the token starts one lookup in the background (the others keep
/// being served), so a token in steady use never expires from the cache and its
/// requests never wait for the database, while a revocation by another process is
/// still seen within the TTL.
pub struct Authenticator {
    store: Store,
    cache: Mutex<HashMap<String, Cached>>,
    /// Bumped by [`Authenticator::clear`]: a lookup begun before it is not cached.
    generation: AtomicU64,
}

impl Authenticator {
    pub fn new(store: Store) -> Authenticator {
        Authenticator {
            store,
            cache: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// The principal of an `Authorization` header value (`Bearer …`).
    pub async fn authenticate_header(
        self: &Arc<Self>,
        header: Option<&str>,
    ) -> ApiResult<Principal> {
        let token = header
            .and_then(|h| {
                let h = h.trim();
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
                    .map(str::trim)
            })
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthenticated)?;
        self.authenticate(token).await
    }

    /// The principal of a plaintext token.
    pub async fn authenticate(self: &Arc<Self>, token: &str) -> ApiResult<Principal> {
        if token.len() > 200 {
            return Err(ApiError::Unauthenticated);
        }
        let hash = hash_token(token);
        let refresh = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get_mut(&hash) {
                Some(c) if c.at.elapsed() < CACHE_TTL => {
                    let refresh = !c.refreshing && c.at.elapsed() >= CACHE_TTL / 2;
                    c.refreshing |= refresh;
                    let found = c.principal.clone().ok_or(ApiError::Unauthenticated);
                    Some((found, refresh))
                }
                _ => None,
            }
        };
        match refresh {
            Some((found, refresh)) => {
                if refresh {
                    let me = self.clone();
                    let hash = hash.clone();
                    tokio::spawn(async move {
                        if let Err(e) = me.refresh(hash.clone()).await {
                            tracing::warn!(error = %e, "refreshing a token lookup");
                            let mut cache = me.cache.lock().unwrap_or_else(|e| e.into_inner());
                            if let Some(c) = cache.get_mut(&hash) {
                                c.refreshing = false;
                            }
                        }
                    });
                }
                found
            }
            None => self.refresh(hash).await?.ok_or(ApiError::Unauthenticated),
        }
    }

    /// Looks a token up and caches the result.
    async fn refresh(&self, hash: String) -> ApiResult<Option<Principal>> {
        let generation = self.generation.load(Ordering::Acquire);
        let principal = match lookup(&self.store, &hash).await? {
            Some(row) => Some(principal_of(row)?),
            None => None,
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            // Cleared meanwhile (a revocation): this lookup may predate it.
            cache.remove(&hash);
            return Ok(principal);
        }
        if cache.len() >= CACHE_LIMIT && !cache.contains_key(&hash) {
            cache.clear();
        }
        cache.insert(
            hash,
            Cached {
                principal: principal.clone(),
                at: Instant::now(),
                refreshing: false,
            },
        );
        Ok(principal)
    }

    /// Forgets every cached lookup (after a revocation).
    pub fn clear(&self) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        cache.clear();
    }
}

/// 13812345678 → 138****5678; short values are masked entirely but for the last digit.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

/// 110101199001011234 → 1101**********1234.
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 4, 4)
}

fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= head + tail {
        let keep = n.min(1);
        let mut out = "*".repeat(n - keep);
        out.extend(&chars[n - keep..]);
        return out;
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// A name shortened for public displays: 张三丰 → 张**.
pub fn shorten_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            let mut out = first.to_string();
            out.push_str(&"*".repeat(rest.min(2)));
            out
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_id_number("110101199001011234"), "1101**********1234");
        assert_eq!(mask_phone("1234"), "***4");
        assert_eq!(shorten_name("张三丰"), "张**");
        assert_eq!(shorten_name("李四"), "李*");
        assert_eq!(shorten_name(""), "");
    }
}
