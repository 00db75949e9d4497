//! Mutations of API tokens (admin): issue one (the plaintext shown once) and revoke it;
//! and of the pages' sessions: staff revoke those of their community.

use super::super::types::TokenRole;
use super::super::{app, principal};
use super::{id, parse_id, Res};
use crate::errors::ApiError;
use async_graphql::{Context, ErrorExtensions, Object, SimpleObject, ID};
use ledger::command::Role;

/// A token, shown once.
#[derive(SimpleObject)]
pub struct IssuedTokenPayload {
    pub token_id: ID,
    /// The bearer token. Only its hash is stored: it cannot be shown again.
    pub token: String,
}

#[derive(Default)]
pub struct TokenMutation;

#[Object]
impl TokenMutation {
    /// Issues an API token (admin). The plaintext is returned once. Staff tokens need
    /// `communityId`, and may name the staff member's own `volunteerId` in it (they then
    /// cannot verify their own service or confirm a wish they fulfilled); volunteer
    /// tokens need `volunteerId`; street tokens `streetId` (and nothing else).
    async fn issue_token(
        &self,
        ctx: &Context<'_>,
        role: TokenRole,
        community_id: Option<ID>,
        volunteer_id: Option<ID>,
        street_id: Option<ID>,
        #[graphql(default)] label: String,
    ) -> Res<IssuedTokenPayload> {
        let p = principal(ctx)?;
        if p.role() != Role::Admin {
            return Err(ApiError::forbidden("only administrators issue tokens").extend());
        }
        let community = community_id
            .as_ref()
            .map(|c| parse_id(c, "communityId"))
            .transpose()?;
        let volunteer = volunteer_id
            .as_ref()
            .map(|v| parse_id(v, "volunteerId"))
            .transpose()?;
        let street = street_id
            .as_ref()
            .map(|s| parse_id(s, "streetId"))
            .transpose()?;
        let t = crate::auth::issue_bound(
            &app(ctx).store,
            role.into(),
            community,
            volunteer,
            street,
            &label,
        )
        .await
        .map_err(|e| e.extend())?;
        Ok(IssuedTokenPayload {
            token_id: id(t.token_id),
            token: t.token,
        })
    }

    /// Ends a session of the pages (staff of its community, admin): the phone or
    /// screen it was on is logged out at once. False when there was no such live
    /// session; an admin's session only an admin ends.
    async fn revoke_session(&self, ctx: &Context<'_>, session_id: ID) -> Res<bool> {
        let p = principal(ctx)?;
        let app = app(ctx);
        let sid = parse_id(&session_id, "sessionId")?;
        let found = crate::sessions::sessions(&app.store, None, Some(sid))
            .await
            .map_err(|e| e.extend())?;
        let Some(s) = found.first() else {
            return Ok(false);
        };
        let allowed = match p.role() {
            Role::Admin => true,
            Role::Staff => {
                s.role != Role::Admin
                    && s.community.is_some()
                    && s.community == p.community().map(|c| c.0)
            }
            _ => false,
        };
        if !allowed {
            return Err(
                ApiError::forbidden("staff end only the sessions of their own community").extend(),
            );
        }
        let revoked = crate::auth::revoke(&app.store, &sid.to_string())
            .await
            .map_err(|e| e.extend())?;
        app.auth.clear();
        Ok(revoked)
    }

    /// Revokes an API token by id (admin).
    async fn revoke_token(&self, ctx: &Context<'_>, token_id: ID) -> Res<bool> {
        let p = principal(ctx)?;
        if p.role() != Role::Admin {
            return Err(ApiError::forbidden("only administrators revoke tokens").extend());
        }
        let app = app(ctx);
        let tid = parse_id(&token_id, "tokenId")?;
        let revoked = crate::auth::revoke(&app.store, &tid.to_string())
            .await
            .map_err(|e| e.extend())?;
        app.auth.clear();
        Ok(revoked)
    }
}
