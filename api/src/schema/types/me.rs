//! The caller (`me`): their token, role, community and own volunteer account; and the
//! roles of tokens.

use super::person::Visibility;
use super::volunteer::Volunteer;
use crate::auth::Principal;
use async_graphql::{Context, Enum, Object, ID};

/// Role of a token.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ledger::command::Role")]
pub enum TokenRole {
    Admin,
    Staff,
    Volunteer,
    Display,
    /// A street office (街道): reads its communities, masked as for another community.
    Street,
}

/// Who the caller is.
pub struct Me {
    pub principal: Principal,
}

#[Object]
impl Me {
    async fn token_id(&self) -> ID {
        ID(self.principal.token_id.to_string())
    }
    async fn role(&self) -> TokenRole {
        self.principal.role().into()
    }
    async fn community_id(&self) -> Option<ID> {
        self.principal.community().map(|c| ID(c.0.to_string()))
    }
    /// The street a street office's token is bound to.
    async fn street_id(&self) -> Option<ID> {
        self.principal.street().map(|s| ID(s.0.to_string()))
    }
    async fn label(&self) -> &str {
        &self.principal.label
    }
    /// The caller's own volunteer account (volunteer tokens, and staff tokens bound to
    /// the staff member's account).
    async fn volunteer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Volunteer>> {
        let Some(v) = self.principal.actor.volunteer_id else {
            return Ok(None);
        };
        let app = crate::schema::app(ctx);
        let Some(b) = app.reads.balance(v).await? else {
            return Ok(None);
        };
        let vis = Visibility::for_caller(&self.principal, b.community_id);
        Ok(Some(Volunteer::new(b, vis)))
    }
}

/// A live session of the pages (a phone or a screen logged in by a one-time link).
#[derive(async_graphql::SimpleObject, Clone)]
#[graphql(complex)]
pub struct SessionInfo {
    pub id: ID,
    pub role: TokenRole,
    pub volunteer_id: Option<ID>,
    /// What the login link was for (志愿者, 大屏, …).
    pub label: String,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    #[graphql(skip)]
    pub volunteer: Option<uuid::Uuid>,
    #[graphql(skip)]
    pub vis: Visibility,
}

impl SessionInfo {
    pub fn new(s: crate::sessions::Session, vis: Visibility) -> SessionInfo {
        SessionInfo {
            id: ID(s.id.to_string()),
            role: s.role.into(),
            volunteer_id: s.volunteer.map(|v| ID(v.to_string())),
            label: s.label,
            created_at: s.created_at,
            volunteer: s.volunteer,
            vis,
        }
    }
}

#[async_graphql::ComplexObject]
impl SessionInfo {
    /// The volunteer's name, for a volunteer's session.
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(v) = self.volunteer else {
            return Ok(None);
        };
        let p = super::person::person_fields(ctx, v).await?;
        Ok(super::person::show_name(&p, self.vis))
    }
}
