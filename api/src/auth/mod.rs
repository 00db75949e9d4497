//! Bearer tokens, the principal behind a request, and masking of personal data.
//!
//! A token is `tb_` followed by 64 hex digits (32 random bytes). Only its SHA-256 is
//! stored (`api_tokens`, migration 0200); the plaintext is returned once by
//! [`issue`]. Lookups are cached for [`CACHE_TTL`], and a revocation in this process
//! clears the cache at once (another process sees it within the TTL).
//!
//! Roles (issue "GraphQL API"): admin (every community), staff (one community,
//! optionally bound to the staff member's own volunteer account), volunteer (their own account in their community), display (read-only public
//! screens, optionally bound to a community), street (a street office: reads the boards and
//! documents of the communities of its street, masked as for staff of another community).

mod mask;
mod tokens;

pub use mask::{mask_id_number, mask_phone, shorten_name};
pub use tokens::{active_tokens, issue, issue_bound, revoke, volunteer_community};
use tokens::{lookup, principal_of};

use crate::errors::{ApiError, ApiResult};
use ledger::command::{Actor, Role};
use ledger::ids::{CommunityId, StreetId, VolunteerId};
use ledger::Store;
use rand::RngCore;
use sha2::{Digest, Sha256};
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
    /// A street office's communities today (read when the token is looked up, so a
    /// community joining or leaving the street counts within [`CACHE_TTL`]).
    pub street_communities: Vec<CommunityId>,
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

    /// Whether this caller may read everything of `community` without acting in it:
    /// [`Principal::manages`], or the office of the street it is in (personal data
    /// masked, as for staff of another community).
    pub fn oversees(&self, community: CommunityId) -> bool {
        self.manages(community)
            || (self.actor.role == Role::Street && self.street_communities.contains(&community))
    }

    /// Whether this caller may read the account and records (balance, statement,
    /// certificates) of volunteer `v` of `community`: admin, that community's staff, and
    /// the volunteer themselves.
    pub fn reads_account_of(&self, v: VolunteerId, community: Option<CommunityId>) -> bool {
        match self.actor.role {
            Role::Admin => true,
            Role::Staff => community.is_some() && self.actor.community_id == community,
            Role::Volunteer => self.actor.volunteer_id == Some(v),
            Role::Display | Role::Street => false,
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
            Role::Street => self.street_communities.contains(&community),
        }
    }

    /// The street a street office's login is bound to.
    pub fn street(&self) -> Option<StreetId> {
        self.actor.street_id
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
        "street" => Ok(Role::Street),
        other => Err(ApiError::invalid(format!(
            "unknown role {other:?}: use admin, staff, volunteer or display"
        ))),
    }
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
            Some(row) => {
                let mut p = principal_of(row)?;
                // A volunteer acts in the community their record is in now (it
                // follows them when they move: 转移接续).
                if let (Role::Volunteer, Some(v)) = (p.actor.role, p.actor.volunteer_id) {
                    if let Some(c) = tokens::volunteer_community(&self.store, v.0).await? {
                        p.actor.community_id = Some(c);
                    }
                }
                if let Some(s) = p.street() {
                    p.street_communities = tokens::street_communities(&self.store, s).await;
                }
                Some(p)
            }
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
