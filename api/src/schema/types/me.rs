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
