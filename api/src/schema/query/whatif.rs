//! What-if replay (规则试算): `previewRules` replays a community's log under proposed
//! point rules and star thresholds without writing anything, and answers the
//! difference (see [`reports::whatif`]); `previewRubric` replays a year's 文明楼道
//! scores under a proposed rubric (see [`reports::whatif::rubric`]).

use crate::errors::gql_error;
use crate::scalars::{DecimalScalar, PointsScalar};
use crate::schema::args::{forbidden, id, parse_id};
use crate::schema::types::ServiceKind;
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, InputObject, Object, SimpleObject, ID};
use ledger::amount::{Hours, Points};
use ledger::ids::CommunityId;
use std::collections::BTreeMap;

type Res<T> = async_graphql::Result<T>;

/// A coefficient of a kind of service in a proposal.
#[derive(InputObject)]
pub struct ProposedCoefficient {
    pub kind: ServiceKind,
    pub coefficient: DecimalScalar,
}

/// One volunteer's points in the period, before and after.
#[derive(SimpleObject)]
pub struct PointsDifference {
    pub volunteer_id: ID,
    pub volunteer_number: String,
    pub before: PointsScalar,
    pub after: PointsScalar,
}

/// One place of a top list.
#[derive(SimpleObject)]
pub struct TopPlace {
    pub rank: u64,
    pub volunteer_id: ID,
    pub volunteer_number: String,
    pub points: PointsScalar,
}

/// What proposed rules would change.
#[derive(SimpleObject)]
pub struct RulesPreview {
    /// The log position replayed up to.
    pub position: u64,
    /// The year looked at; null: all time.
    pub year: Option<i32>,
    pub points_before: PointsScalar,
    pub points_after: PointsScalar,
    /// Volunteers whose points in the period would change, most changed first.
    pub changes: Vec<PointsDifference>,
    /// Volunteers per star level 0–5 today, before and after.
    pub stars_before: Vec<u32>,
    pub stars_after: Vec<u32>,
    /// The top 20 by points in the period, before and after.
    pub top_before: Vec<TopPlace>,
    pub top_after: Vec<TopPlace>,
}

/// A stairwell's year under the rubric in force and under the proposal.
#[derive(SimpleObject)]
pub struct StairwellDifference {
    pub stairwell_id: ID,
    /// "3号楼 2单元".
    pub label: String,
    pub average_before: Option<DecimalScalar>,
    pub average_after: Option<DecimalScalar>,
    pub rank_before: Option<u32>,
    pub rank_after: Option<u32>,
    pub red_flag_months_before: Vec<u32>,
    pub red_flag_months_after: Vec<u32>,
}

/// The 流动红旗 of one month under the rubric in force and under the proposal.
#[derive(SimpleObject)]
pub struct RedFlagDifference {
    pub month: u32,
    pub holder_before: Option<String>,
    pub score_before: Option<DecimalScalar>,
    pub holder_after: Option<String>,
    pub score_after: Option<DecimalScalar>,
    /// Another stairwell would hold it.
    pub changes_hands: bool,
}

/// What a proposed rubric would change in a year.
#[derive(SimpleObject)]
pub struct RubricPreview {
    pub position: u64,
    pub year: i32,
    /// Every stairwell, by rank under the proposal (unranked last).
    pub stairwells: Vec<StairwellDifference>,
    /// Every month with a red flag.
    pub red_flags: Vec<RedFlagDifference>,
}

#[derive(Default)]
pub struct WhatIfQuery;

#[Object]
impl WhatIfQuery {
    /// Replays the community's log under proposed rules, writing nothing (staff of the
    /// community, admins): `pointsPerHour` with `coefficients` (1 for a kind not named)
    /// as if in force on every service's day; `starThresholds` (five hours) with
    /// `starPoints` (five points, optional) for today's star levels. What is not
    /// proposed stays as in force. `year`: the period of the points and the top places
    /// (all time when not given).
    #[allow(clippy::too_many_arguments)]
    async fn preview_rules(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        points_per_hour: Option<PointsScalar>,
        #[graphql(default)] coefficients: Vec<ProposedCoefficient>,
        star_thresholds: Option<Vec<crate::scalars::HoursScalar>>,
        star_points: Option<Vec<PointsScalar>>,
        year: Option<i32>,
    ) -> Res<RulesPreview> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.manages(community) {
            return Err(forbidden("rules are tried by the community's staff"));
        }
        let stars = match (star_thresholds, star_points) {
            (None, None) => None,
            (Some(h), points) => {
                if h.len() != 5 || points.as_ref().is_some_and(|p| p.len() != 5) {
                    return Err(gql_error(
                        "INVALID_INPUT",
                        "five star thresholds are needed",
                    ));
                }
                let hours: Vec<Hours> = h.into_iter().map(|x| x.0).collect();
                let points: Option<Vec<Points>> =
                    points.map(|p| p.into_iter().map(|x| x.0).collect());
                Some((hours, points))
            }
            (None, Some(_)) => {
                return Err(gql_error(
                    "INVALID_INPUT",
                    "starPoints go with starThresholds",
                ))
            }
        };
        let point_rules = points_per_hour.map(|rate| {
            let coef: BTreeMap<_, _> = coefficients
                .into_iter()
                .map(|c| (c.kind.into(), c.coefficient.0))
                .collect();
            (rate.0, coef)
        });
        if point_rules
            .as_ref()
            .is_some_and(|(r, c)| !r.is_positive() || c.values().any(|x| x.is_sign_negative()))
        {
            return Err(gql_error(
                "INVALID_INPUT",
                "points per hour and coefficients are positive",
            ));
        }
        let proposal = reports::Proposal { point_rules, stars };
        let app = app(ctx);
        let today = ledger::domain::local_date(app.handler.now());
        let w = reports::what_if(&app.store, community, &proposal, year, today)
            .await
            .map_err(|e| crate::documents::report_error(e).extend())?;
        let place = |p: reports::whatif::Place| TopPlace {
            rank: p.rank,
            volunteer_id: id(p.volunteer_id.0),
            volunteer_number: p.volunteer_number,
            points: PointsScalar(p.points),
        };
        Ok(RulesPreview {
            position: w.position,
            year: w.year,
            points_before: PointsScalar(w.points_before),
            points_after: PointsScalar(w.points_after),
            changes: w
                .changes
                .into_iter()
                .map(|c| PointsDifference {
                    volunteer_id: id(c.volunteer_id.0),
                    volunteer_number: c.volunteer_number,
                    before: PointsScalar(c.before),
                    after: PointsScalar(c.after),
                })
                .collect(),
            stars_before: w.stars_before.to_vec(),
            stars_after: w.stars_after.to_vec(),
            top_before: w.top_before.into_iter().map(place).collect(),
            top_after: w.top_after.into_iter().map(place).collect(),
        })
    }

    /// Replays a year's 文明楼道 scores under a proposed rubric, writing nothing (staff
    /// of the community, admins): each inspection rescaled by the stated rule (an item
    /// kept keeps the inspector's fraction of its maximum, a new item takes the
    /// inspection's overall fraction, a dropped one no longer counts; participation
    /// takes `participationMax`), then the yearly standings and the red flag of each
    /// month, beside the annual report's. `year`: this year when not given.
    async fn preview_rubric(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        items: Vec<crate::schema::mutation::community::RubricItemInput>,
        participation_max: DecimalScalar,
        year: Option<i32>,
    ) -> Res<RubricPreview> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.manages(community) {
            return Err(forbidden("rules are tried by the community's staff"));
        }
        let given: Vec<ledger::event::RubricItem> = items
            .into_iter()
            .map(|i| ledger::event::RubricItem {
                key: i.key,
                name: i.name,
                max: i.max.0,
            })
            .collect();
        let items = ledger::domain::community::checked_rubric(&given, participation_max.0)
            .map_err(|e| crate::errors::ApiError::Command(e.into()).extend())?;
        let proposal = reports::RubricProposal {
            items,
            participation_max: participation_max.0,
        };
        let app = app(ctx);
        let year = year.unwrap_or_else(|| {
            chrono::Datelike::year(&ledger::domain::local_date(app.handler.now()))
        });
        let w = reports::rubric_what_if(&app.store, community, &proposal, year)
            .await
            .map_err(|e| crate::documents::report_error(e).extend())?;
        Ok(RubricPreview {
            position: w.position,
            year: w.year,
            stairwells: w
                .stairwells
                .into_iter()
                .map(|s| StairwellDifference {
                    stairwell_id: id(s.stairwell_id.0),
                    label: s.label,
                    average_before: s.average_before.map(DecimalScalar),
                    average_after: s.average_after.map(DecimalScalar),
                    rank_before: s.rank_before,
                    rank_after: s.rank_after,
                    red_flag_months_before: s.red_flag_months_before,
                    red_flag_months_after: s.red_flag_months_after,
                })
                .collect(),
            red_flags: w
                .red_flags
                .into_iter()
                .map(|f| RedFlagDifference {
                    month: f.month,
                    holder_before: f.before.as_ref().map(|b| b.0.clone()),
                    score_before: f.before.map(|b| DecimalScalar(b.1)),
                    holder_after: f.after.as_ref().map(|a| a.0.clone()),
                    score_after: f.after.map(|a| DecimalScalar(a.1)),
                    changes_hands: f.changes_hands,
                })
                .collect(),
        })
    }
}
