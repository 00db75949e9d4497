//! One-time login links (`login_links`): made by admins and staff for the people they
//! serve (and printed as a QR code), redeemed once for a session, expired after
//! [`LINK_TTL`]. Only the SHA-256 of a link's code is stored; redeeming is one
//! conditional `UPDATE`, so two phones opening the same link cannot both get in.

use api::auth::Principal;
use api::Role;
use chrono::{DateTime, Utc};
use ledger::Store;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long a link stays good when it is not used.
pub const LINK_TTL: chrono::Duration = chrono::Duration::hours(24);

/// Whom a link logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub community: Option<Uuid>,
    pub volunteer: Option<Uuid>,
    /// A street office's street (街道办).
    pub street: Option<Uuid>,
    pub label: String,
}

/// Why a link cannot be made.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkRefused {
    /// The maker may not log this person in.
    Forbidden,
    /// The volunteer or community is not there (or they do not go together).
    Invalid(String),
}

/// Runs `$body` with `$pool` the store's pool, whichever backend it is (`sqlx` gives
/// each its own pool type); `$none` for a store with neither.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr, $none:expr) => {
        if let Some($pool) = $store.sqlite_pool() {
            $body
        } else if let Some($pool) = $store.postgres_pool() {
            $body
        } else {
            $none
        }
    };
}

fn hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

fn new_code() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether `maker` may hand out a login for `grant`: admins for anyone (a street office
/// too); staff for the volunteers, staff and displays of their own community.
pub fn may_grant(maker: &Principal, grant: &Grant) -> bool {
    match maker.role() {
        Role::Admin => true,
        Role::Staff => {
            grant.role != Role::Admin
                && grant.community.is_some()
                && grant.community == maker.community().map(|c| c.0)
        }
        _ => false,
    }
}

/// Checks a grant against the volunteers of the log, then stores a new link; returns
/// its code (the only copy).
pub async fn create(
    store: &Store,
    maker: &Principal,
    mut grant: Grant,
    now: DateTime<Utc>,
) -> Result<String, LinkRefused> {
    if let Some(v) = grant.volunteer {
        let c = api::auth::volunteer_community(store, v)
            .await
            .map_err(|e| LinkRefused::Invalid(e.to_string()))?
            .ok_or_else(|| LinkRefused::Invalid(format!("volunteer {v}")))?;
        match grant.community {
            Some(given) if given != c.0 => {
                return Err(LinkRefused::Invalid(format!(
                    "volunteer {v} is not of community {given}"
                )))
            }
            _ => grant.community = Some(c.0),
        }
    }
    if grant.role == Role::Volunteer && grant.volunteer.is_none() {
        return Err(LinkRefused::Invalid(
            "a volunteer link names the volunteer".into(),
        ));
    }
    if (grant.role == Role::Street) != grant.street.is_some() {
        return Err(LinkRefused::Invalid(
            "a street office's link names its street, and only it does".into(),
        ));
    }
    if let Some(s) = grant.street {
        let stream = ledger::ids::street_stream(ledger::ids::StreetId(s));
        let known = store
            .stream_version(&stream)
            .await
            .map_err(|e| LinkRefused::Invalid(e.to_string()))?;
        if known == 0 {
            return Err(LinkRefused::Invalid(format!("street {s}")));
        }
    }
    if !may_grant(maker, &grant) {
        return Err(LinkRefused::Forbidden);
    }
    let code = new_code();
    insert(store, &code, &grant, &maker.token_id.to_string(), now)
        .await
        .map_err(|e| LinkRefused::Invalid(e.to_string()))?;
    Ok(code)
}

/// The first admin's link, made by the server itself on an empty database.
pub async fn create_first_admin(store: &Store, now: DateTime<Utc>) -> sqlx::Result<String> {
    let code = new_code();
    let grant = Grant {
        role: Role::Admin,
        community: None,
        volunteer: None,
        street: None,
        label: "首位管理员".into(),
    };
    insert(store, &code, &grant, "server", now).await?;
    Ok(code)
}

async fn insert(
    store: &Store,
    code: &str,
    g: &Grant,
    by: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let sql = "INSERT INTO login_links (link_hash, role, community_id, volunteer_id, label, created_by, created_at, expires_at, street_id) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let expires = (now + LINK_TTL).timestamp_millis();
    on_pool!(store, pool => sqlx::query(sql)
        .bind(hash(code))
        .bind(g.role.as_str())
        .bind(g.community.map(|c| c.to_string()))
        .bind(g.volunteer.map(|v| v.to_string()))
        .bind(&g.label)
        .bind(by)
        .bind(now.timestamp_millis())
        .bind(expires)
        .bind(g.street.map(|s| s.to_string()))
        .execute(pool)
        .await
        .map(|_| ()), Ok(()))
}

/// Whether any link is still waiting to be used (so that a restart does not print a
/// new first-admin link while one is out).
pub async fn any_open(store: &Store, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let sql = "SELECT COUNT(*) FROM login_links WHERE used_at IS NULL AND expires_at > $1";
    let n: i64 = on_pool!(store, pool => sqlx::query_scalar(sql)
        .bind(now.timestamp_millis())
        .fetch_one(pool)
        .await?, 0);
    Ok(n > 0)
}

type GrantRow = (
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
);

/// Uses a link: the grant it carried, once; `None` for a code that is unknown, used or
/// expired.
pub async fn redeem(store: &Store, code: &str, now: DateTime<Utc>) -> sqlx::Result<Option<Grant>> {
    let sql = "UPDATE login_links SET used_at = $1 \
               WHERE link_hash = $2 AND used_at IS NULL AND expires_at > $1 \
               RETURNING role, community_id, volunteer_id, label, street_id";
    let row: Option<GrantRow> = on_pool!(store, pool => sqlx::query_as(sql)
        .bind(now.timestamp_millis())
        .bind(hash(code))
        .fetch_optional(pool)
        .await?, None);
    Ok(row.and_then(|(role, c, v, label, s)| {
        Some(Grant {
            role: api::parse_role(&role).ok()?,
            community: c.and_then(|c| Uuid::parse_str(&c).ok()),
            volunteer: v.and_then(|v| Uuid::parse_str(&v).ok()),
            street: s.and_then(|s| Uuid::parse_str(&s).ok()),
            label,
        })
    }))
}

/// Whether a code is a link that can still be used (for the page that asks to confirm).
pub async fn is_open(store: &Store, code: &str, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let sql = "SELECT COUNT(*) FROM login_links WHERE link_hash = $1 AND used_at IS NULL AND expires_at > $2";
    let n: i64 = on_pool!(store, pool => sqlx::query_scalar(sql)
        .bind(hash(code))
        .bind(now.timestamp_millis())
        .fetch_one(pool)
        .await?, 0);
    Ok(n > 0)
}

/// A link not yet used nor expired, as staff see it (never its code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLink {
    /// The SHA-256 of its code: names it for cancelling, and logs no one in.
    pub id: String,
    pub role: Role,
    pub volunteer: Option<Uuid>,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

type OpenRow = (String, String, Option<String>, String, i64, i64);

/// The links of `community` still waiting to be used, newest first.
pub async fn open_of(
    store: &Store,
    community: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<OpenLink>> {
    let sql = "SELECT link_hash, role, volunteer_id, label, created_at, expires_at FROM login_links \
               WHERE community_id = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 200";
    let rows: Vec<OpenRow> = on_pool!(store, pool => sqlx::query_as(sql)
        .bind(community.to_string())
        .bind(now.timestamp_millis())
        .fetch_all(pool)
        .await?, Vec::new());
    let at = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter_map(|(id, role, v, label, created, expires)| {
            Some(OpenLink {
                id,
                role: api::parse_role(&role).ok()?,
                volunteer: v.and_then(|v| Uuid::parse_str(&v).ok()),
                label,
                created_at: at(created),
                expires_at: at(expires),
            })
        })
        .collect())
}

/// Cancels a link of `community` not yet used (it expires now); whether one was.
pub async fn cancel(
    store: &Store,
    id: &str,
    community: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let sql = "UPDATE login_links SET expires_at = $1 WHERE link_hash = $2 AND community_id = $3 \
               AND used_at IS NULL AND expires_at > $1";
    let n = on_pool!(store, pool => sqlx::query(sql)
        .bind(now.timestamp_millis())
        .bind(id)
        .bind(community.to_string())
        .execute(pool)
        .await?
        .rows_affected(), 0);
    Ok(n > 0)
}
