//! A street's (or district's) boards beside its ranking of volunteers: its 文明楼道 of a
//! month (each community's red flag, the best stairwells across them) and its teams
//! ranked together.

use super::{communities_of, may_read, parse_org_scope, Res};
use crate::errors::{gql_error, ApiError};
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::id;
use crate::schema::query::{page_size, wait};
use crate::schema::types::{hours_of, points_of, RankMetric};
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, SimpleObject, ID};
use chrono::NaiveDate;
use ledger::ids::*;
use projections::common::Period;
use projections::org::{Org, Unit};
use projections::rankings::Scope;
use std::collections::HashMap;

/// A stairwell of one of a street's communities, scored in a month (文明楼道).
#[derive(SimpleObject, Clone)]
pub struct OrgStairwell {
    /// Dense rank across the street's (or district's) stairwells that month.
    pub rank: u64,
    pub community_id: ID,
    pub community_name: String,
    pub stairwell_id: ID,
    pub building: String,
    pub unit: String,
    pub total: crate::scalars::DecimalScalar,
    /// Its rank within its community.
    pub rank_in_community: u64,
    /// Its community's 流动红旗 that month.
    pub red_flag: bool,
}

/// A street's (or district's) 文明楼道 of a month: each community's red flag, and the
/// best stairwells across them.
#[derive(SimpleObject)]
pub struct OrgStairwells {
    pub scope: String,
    pub name: String,
    /// "YYYY-MM".
    pub month: String,
    pub as_of: NaiveDate,
    /// The 流动红旗 holder of each community that inspected that month, best first.
    pub red_flags: Vec<OrgStairwell>,
    /// The best `first` stairwells across the communities (ties with the last kept).
    pub best: Vec<OrgStairwell>,
    pub position: u64,
}

/// A team in a street's ranking of teams.
#[derive(SimpleObject)]
pub struct OrgTeamRow {
    /// Dense rank (ties share a rank).
    pub rank: u64,
    pub team_id: ID,
    pub team_name: String,
    pub community_id: ID,
    pub community_name: String,
    pub points: PointsScalar,
    pub hours: HoursScalar,
    /// Volunteers who earned something while in the team.
    pub volunteers: u64,
    #[graphql(skip)]
    pub value: rust_decimal::Decimal,
}

/// Dense ranks (1, 1, 2, …) of items already in order, by `value`.
fn dense_ranks<T>(
    items: &mut [T],
    value: impl Fn(&T) -> rust_decimal::Decimal,
    mut set: impl FnMut(&mut T, u64),
) {
    let (mut rank, mut last) = (0, None);
    for item in items {
        let v = value(item);
        if last != Some(v) {
            rank += 1;
            last = Some(v);
        }
        set(item, rank);
    }
}

#[derive(Default)]
pub struct StreetBoardQuery;

#[Object]
impl StreetBoardQuery {
    /// A street's or district's 文明楼道 of a month (scope STREET:<id> or DISTRICT:<id>,
    /// month YYYY-MM): the red flag of each of its communities then, and its best
    /// `first` stairwells (default 10) across them, by the month's total (each community
    /// scores by its own rubric).
    async fn org_stairwells(
        &self,
        ctx: &Context<'_>,
        scope: String,
        month: String,
        first: Option<i32>,
        at_least: Option<u64>,
    ) -> Res<OrgStairwells> {
        let p = principal(ctx)?;
        let org_scope = parse_org_scope(&scope)?;
        may_read(p, org_scope)?;
        let Period::Month(y, m) = crate::schema::query::parse_period(&month)? else {
            return Err(gql_error("INVALID_INPUT", "month: use YYYY-MM"));
        };
        let n = first.map_or(Ok(10), |_| page_size(first))?;
        wait(ctx, at_least).await?;
        let as_of = Org::day_of(Period::Month(y, m), projections::balances::today());
        let (_, name, communities) = communities_of(ctx, org_scope, as_of).await?;
        let reads = &app(ctx).reads;
        let position = reads.position().await.map_err(|e| e.extend())?;
        let key = format!("{y:04}-{m:02}");
        let mut all: Vec<OrgStairwell> = Vec::new();
        for c in &communities {
            for s in reads
                .monthly_scores(CommunityId(c.id), &key)
                .await
                .map_err(|e| e.extend())?
            {
                all.push(OrgStairwell {
                    rank: 0,
                    community_id: id(c.id),
                    community_name: c.name.clone(),
                    stairwell_id: id(s.stairwell_id.0),
                    building: s.building,
                    unit: s.unit,
                    total: crate::scalars::DecimalScalar(s.total),
                    rank_in_community: s.rank,
                    red_flag: s.red_flag,
                });
            }
        }
        all.sort_by(|a, b| {
            b.total
                .0
                .cmp(&a.total.0)
                .then_with(|| a.community_name.cmp(&b.community_name))
                .then_with(|| (&a.building, &a.unit).cmp(&(&b.building, &b.unit)))
        });
        dense_ranks(&mut all, |s| s.total.0, |s, r| s.rank = r);
        // The best `n`, and everyone tied with the last of them.
        let cut = match n {
            0 => 0,
            n => all.get(n - 1).map_or(u64::MAX, |s| s.rank),
        };
        let best = all.iter().filter(|s| s.rank <= cut).cloned().collect();
        let red_flags = all.into_iter().filter(|s| s.red_flag).collect();
        Ok(OrgStairwells {
            scope,
            name,
            month: key,
            as_of,
            red_flags,
            best,
            position,
        })
    }

    /// The teams (志愿服务队) of a street's or district's communities ranked together by
    /// points or hours for a period: what each team's volunteers earned while in it, and
    /// how many of them; dense ranks, ties by community and team name.
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    async fn org_teams(
        &self,
        ctx: &Context<'_>,
        scope: String,
        metric: RankMetric,
        #[graphql(default_with = "String::from(\"ALL\")")] period: String,
        first: Option<i32>,
        at_least: Option<u64>,
    ) -> Res<Vec<OrgTeamRow>> {
        let p = principal(ctx)?;
        let org_scope = parse_org_scope(&scope)?;
        may_read(p, org_scope)?;
        let window = crate::schema::query::parse_period(&period)?;
        let n = page_size(first)?;
        wait(ctx, at_least).await?;
        let as_of = Org::day_of(window, projections::balances::today());
        let (_, _, communities) = communities_of(ctx, org_scope, as_of).await?;
        let reads = &app(ctx).reads;
        // Each team with its community's name.
        let mut teams: HashMap<TeamId, (&Unit, String)> = HashMap::new();
        for c in &communities {
            if let Some(state) = reads
                .community(CommunityId(c.id))
                .await
                .map_err(|e| e.extend())?
            {
                for (t, name) in &state.teams {
                    teams.insert(*t, (c, name.clone()));
                }
            }
        }
        let scopes: Vec<Scope> = teams.keys().map(|t| Scope::Team(*t)).collect();
        let db = reads.db().await.map_err(|e| e.extend())?;
        let totals = projections::rankings::scope_totals(db, &scopes, window)
            .await
            .map_err(|e| ApiError::from(e).extend())?;
        let value = |t: &projections::rankings::ScopeTotal| match metric {
            RankMetric::Points => t.points,
            RankMetric::Hours => t.hours,
        };
        let mut rows: Vec<OrgTeamRow> = totals
            .iter()
            .filter(|t| value(t) > rust_decimal::Decimal::ZERO)
            .filter_map(|t| {
                let Scope::Team(team) = t.scope else {
                    return None;
                };
                let (c, name) = teams.get(&team)?;
                Some(OrgTeamRow {
                    rank: 0,
                    team_id: id(team.0),
                    team_name: name.clone(),
                    community_id: id(c.id),
                    community_name: c.name.clone(),
                    points: points_of(t.points),
                    hours: hours_of(t.hours),
                    volunteers: t.volunteers,
                    value: value(t),
                })
            })
            .collect();
        rows.sort_by(|a, b| {
            b.value
                .cmp(&a.value)
                .then_with(|| a.community_name.cmp(&b.community_name))
                .then_with(|| a.team_name.cmp(&b.team_name))
        });
        dense_ranks(&mut rows, |r| r.value, |r, rank| r.rank = rank);
        rows.truncate(n);
        Ok(rows)
    }
}
