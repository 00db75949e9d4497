//! The event log (admin audit): `events` after a position.

use super::page_size;
use crate::schema::args::forbidden;
use crate::schema::types::LedgerEvent;
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object};
use ledger::command::Role;

type Res<T> = async_graphql::Result<T>;

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The event log after `after` (admin audit), at most `first` events.
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] after: u64,
        first: Option<i32>,
        at_least: Option<u64>,
    ) -> Res<Vec<LedgerEvent>> {
        let p = principal(ctx)?;
        if p.role() != Role::Admin {
            return Err(forbidden("the audit log is for administrators"));
        }
        let n = page_size(first)?;
        let reads = &app(ctx).reads;
        if let Some(pos) = at_least {
            reads.wait_for_log(pos).await.map_err(|e| e.extend())?;
        }
        let events = reads.events(after, n as u32).await?;
        Ok(events.iter().map(LedgerEvent::from).collect())
    }
}
