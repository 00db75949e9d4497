//! Reads of messages: a volunteer's own inbox (消息, volunteer tokens) with the unread
//! count, and a community's recent awards (its boards' readers: the hall display shows
//! them with names shortened).

use super::{page_size, wait};
use crate::errors::gql_error;
use crate::schema::args::{board_access, forbidden, parse_id};
use crate::schema::types::*;
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, ID};
use ledger::ids::*;

type Res<T> = async_graphql::Result<T>;

#[derive(Default)]
pub struct InboxQuery;

#[Object]
impl InboxQuery {
    /// The caller's inbox, newest first (volunteer tokens): `before` a position from
    /// an earlier page's `endCursor`.
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    async fn inbox(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        before: Option<u64>,
        at_least: Option<u64>,
    ) -> Res<InboxPage> {
        let p = principal(ctx)?;
        let Some(v) = p.actor.volunteer_id else {
            return Err(forbidden("the inbox is a volunteer's own"));
        };
        let n = page_size(first)?;
        wait(ctx, at_least).await?;
        let app = app(ctx);
        let seen = crate::inbox::seen(&app.store, v)
            .await
            .map_err(|e| e.extend())?;
        let mut list = app
            .reads
            .inbox(v, before, n as u32 + 1)
            .await
            .map_err(|e| e.extend())?;
        let has_next = list.len() > n;
        list.truncate(n);
        let (unread, newest) = app
            .reads
            .inbox_counts(v, seen)
            .await
            .map_err(|e| e.extend())?;
        let vis = Visibility::for_caller(p, p.community());
        Ok(InboxPage {
            end_cursor: list.last().map(|m| m.position),
            messages: list
                .into_iter()
                .map(|m| InboxMessage::new(m, seen, vis))
                .collect(),
            unread,
            newest,
            has_next_page: has_next,
        })
    }

    /// A community's latest awards, newest first: points awarded and services
    /// credited (its boards' readers; names shortened on displays).
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    async fn recent_awards(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        first: Option<i32>,
        at_least: Option<u64>,
    ) -> Res<Vec<InboxMessage>> {
        let p = principal(ctx)?;
        let c = CommunityId(parse_id(&community_id, "communityId")?);
        board_access(p, c)?;
        let n = first.unwrap_or(10);
        if !(1..=50).contains(&n) {
            return Err(gql_error("INVALID_INPUT", "first must be between 1 and 50"));
        }
        wait(ctx, at_least).await?;
        let list = app(ctx)
            .reads
            .recent_awards(c, n as u32)
            .await
            .map_err(|e| e.extend())?;
        // What a board shows of a person: the shortened name (staff see it whole).
        let vis = if p.sees_personal_data_of(Some(c)) {
            Visibility::Full
        } else {
            Visibility::Public
        };
        Ok(list
            .into_iter()
            .map(|m| InboxMessage::new(m, u64::MAX, vis))
            .collect())
    }
}
