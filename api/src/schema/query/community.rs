//! Reads of a community as a whole: the communities a caller may read, its organisation
//! and rules (`community`: its staff,
//! volunteers and displays, admins), what its accounts add up to (`volunteerTotals`)
//! and its pages' live sessions (`sessions`: staff of the community, admins).

use super::wait;
use crate::schema::args::{board_access, forbidden, not_found, parse_id};
use crate::schema::types::*;
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, SimpleObject, ID};
use ledger::ids::*;

type Res<T> = async_graphql::Result<T>;

/// What a community's accounts add up to.
#[derive(SimpleObject)]
pub struct VolunteerTotals {
    /// Volunteers registered (departed ones too).
    pub volunteers: u64,
    /// Points balances added up.
    pub points: crate::scalars::PointsScalar,
    /// Verified service hours added up.
    pub verified_hours: crate::scalars::HoursScalar,
}

/// A community's id and name.
#[derive(SimpleObject)]
pub struct CommunitySummary {
    pub id: ID,
    pub name: String,
}

#[derive(Default)]
pub struct CommunityQuery;

#[Object]
impl CommunityQuery {
    /// A community: its grids, stairwells, teams and rules (staff, volunteers and
    /// displays of the community, admins).
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn community(&self, ctx: &Context<'_>, id: ID, at_least: Option<u64>) -> Res<Community> {
        let p = principal(ctx)?;
        let c = CommunityId(parse_id(&id, "id")?);
        board_access(p, c)?;
        wait(ctx, at_least).await?;
        let app = app(ctx);
        let state = app
            .reads
            .community(c)
            .await
            .map_err(|e| e.extend())?
            .filter(|s| s.exists())
            .ok_or_else(|| not_found(format!("community {c}")))?;
        Ok(Community {
            state,
            today: ledger::domain::local_date(app.handler.now()),
        })
    }

    /// The communities the caller may read, by name: every one for admins, their own
    /// for others.
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    async fn communities(&self, ctx: &Context<'_>) -> Res<Vec<CommunitySummary>> {
        let p = principal(ctx)?;
        let all = app(ctx).reads.communities().await.map_err(|e| e.extend())?;
        Ok(all
            .into_iter()
            .filter(|(c, _)| p.role() == ledger::command::Role::Admin || p.community() == Some(*c))
            .map(|(c, name)| CommunitySummary {
                id: ID(c.0.to_string()),
                name,
            })
            .collect())
    }

    /// What a community's accounts add up to (staff of the community, admins).
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn volunteer_totals(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        at_least: Option<u64>,
    ) -> Res<VolunteerTotals> {
        let p = principal(ctx)?;
        let c = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.oversees(c) {
            return Err(forbidden(
                "only the community's staff and admins read its totals",
            ));
        }
        wait(ctx, at_least).await?;
        let t = app(ctx)
            .reads
            .community_totals(c)
            .await
            .map_err(|e| e.extend())?;
        Ok(VolunteerTotals {
            volunteers: t.volunteers,
            points: points_of(t.points_balance),
            verified_hours: hours_of(t.verified_hours),
        })
    }

    /// The live sessions of the pages in a community, newest first (staff of the
    /// community, admins): who is logged in on which phone or screen, to revoke one.
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    async fn sessions(&self, ctx: &Context<'_>, community_id: ID) -> Res<Vec<SessionInfo>> {
        let p = principal(ctx)?;
        let c = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.manages(c) {
            return Err(forbidden(
                "only the community's staff and admins list its sessions",
            ));
        }
        let list = crate::sessions::sessions(&app(ctx).store, Some(c.0), None)
            .await
            .map_err(|e| e.extend())?;
        let vis = Visibility::for_caller(p, Some(c));
        Ok(list.into_iter().map(|s| SessionInfo::new(s, vis)).collect())
    }
}
