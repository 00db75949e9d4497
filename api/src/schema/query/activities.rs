//! Reads of activities (志愿活动): one activity, a community's activities between two
//! times, and the check-in code its organiser shows. Who reads: admin, staff and
//! volunteers of the community, and displays (names shortened); the code only staff of
//! the community and admin.
// The resolvers' arguments are the operation's GraphQL arguments.
#![allow(clippy::too_many_arguments)]

use super::wait;
use crate::schema::args::{board_access, forbidden, not_found, parse_id};
use crate::schema::types::*;
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, ID};
use chrono::{DateTime, Utc};
use ledger::ids::*;

type Res<T> = async_graphql::Result<T>;

/// Most activities one query lists.
const MAX_ACTIVITIES: i32 = 200;

#[derive(Default)]
pub struct ActivityQuery;

#[Object]
impl ActivityQuery {
    /// An activity with its roster and objections.
    #[graphql(complexity = "crate::schema::READ_COST + child_complexity")]
    async fn activity(&self, ctx: &Context<'_>, id: ID, at_least: Option<u64>) -> Res<Activity> {
        let p = principal(ctx)?;
        let aid = ActivityId(parse_id(&id, "id")?);
        wait(ctx, at_least).await?;
        let a = app(ctx)
            .reads
            .activity(aid)
            .await
            .map_err(|e| e.extend())?
            .ok_or_else(|| not_found(format!("activity {aid}")))?;
        board_access(p, a.community_id)?;
        let vis = Visibility::for_caller(p, Some(a.community_id));
        Ok(Activity::new(a, vis, p.actor.volunteer_id))
    }

    /// A community's activities starting from `from` (inclusive) to `to` (exclusive),
    /// optionally of one status, by start time (at most 200).
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        status: Option<ActivityStatus>,
        first: Option<i32>,
        at_least: Option<u64>,
    ) -> Res<Vec<Activity>> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        board_access(p, community)?;
        let n = first.unwrap_or(50);
        if !(1..=MAX_ACTIVITIES).contains(&n) {
            return Err(crate::errors::gql_error(
                "INVALID_INPUT",
                format!("first must be between 1 and {MAX_ACTIVITIES}, got {n}"),
            ));
        }
        wait(ctx, at_least).await?;
        let list = app(ctx)
            .reads
            .activities(
                community,
                from,
                to,
                status.map(ActivityStatus::as_str),
                n as u32,
            )
            .await
            .map_err(|e| e.extend())?;
        let vis = Visibility::for_caller(p, Some(community));
        Ok(list
            .into_iter()
            .map(|a| Activity::new(a, vis, p.actor.volunteer_id))
            .collect())
    }

    /// The check-in code an activity's organiser shows now (staff of the community,
    /// admin): put it on a screen, or its link in a QR code.
    #[graphql(complexity = "crate::schema::READ_COST + child_complexity")]
    async fn activity_check_in_code(&self, ctx: &Context<'_>, activity_id: ID) -> Res<CheckInCode> {
        let p = principal(ctx)?;
        let aid = ActivityId(parse_id(&activity_id, "activityId")?);
        let (shown, community) = app(ctx)
            .handler
            .check_in_code(aid)
            .await
            .map_err(|e| crate::errors::ApiError::Command(e).extend())?;
        if !p.manages(community) {
            return Err(forbidden(
                "only staff of the community show an activity's check-in code",
            ));
        }
        Ok(CheckInCode {
            activity_id,
            link: format!("/checkin/{}?code={}", aid.0, shown.code),
            code: shown.code,
            changes_at: shown.changes_at,
        })
    }
}
