//! The inbox's one mutation: a volunteer marks their messages read up to a position
//! (never moving back). Not a command: reading is kept beside the log.

use super::super::{app, principal};
use super::Res;
use crate::errors::ApiError;
use async_graphql::{Context, ErrorExtensions, Object};

#[derive(Default)]
pub struct InboxMutation;

#[Object]
impl InboxMutation {
    /// Marks the caller's messages up to `upTo` (a message's `position`, or the page's
    /// `newest`) as read (volunteer tokens); answers how many remain unread.
    async fn mark_inbox_read(&self, ctx: &Context<'_>, up_to: u64) -> Res<u64> {
        let p = principal(ctx)?;
        let Some(v) = p.actor.volunteer_id else {
            return Err(ApiError::forbidden("the inbox is a volunteer's own".to_string()).extend());
        };
        let app = app(ctx);
        crate::inbox::mark_seen(&app.store, v, up_to)
            .await
            .map_err(|e| e.extend())?;
        let seen = crate::inbox::seen(&app.store, v)
            .await
            .map_err(|e| e.extend())?;
        let (unread, _) = app
            .reads
            .inbox_counts(v, seen)
            .await
            .map_err(|e| e.extend())?;
        Ok(unread)
    }
}
