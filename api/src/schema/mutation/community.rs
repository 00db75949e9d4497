//! Mutations of a community's setting: establish it (admin), grids, stairwells, teams,
//! and its versioned rules (admin).

use super::super::types::ServiceKind;
use super::{exec, id, non_negative, parse_id, payload, Res};
use crate::errors::gql_error;
use crate::scalars::{DecimalScalar, HoursScalar, PointsScalar};
use async_graphql::{Context, InputObject, Object, ID};
use chrono::NaiveDate;
use ledger::command::{self as cmd, CommandOutcome, RulesVersion};
use ledger::ids::*;
use std::collections::BTreeMap;

payload!(CommunityPayload { community_id: ID });
payload!(GridPayload { grid_id: ID });
payload!(StairwellPayload {
    stairwell_id: ID,
    grid_id: ID
});
payload!(TeamPayload { team_id: ID });
payload!(RulesPayload {
    /// The new version of the rules.
    version: i32
});

impl RulesPayload {
    pub(super) fn from_outcome(o: CommandOutcome<RulesVersion>) -> Res<RulesPayload> {
        Ok(RulesPayload {
            version: i32::try_from(o.result.version)
                .map_err(|_| gql_error("INTERNAL", "rules version out of range"))?,
            position: o.position,
            replayed: o.replayed,
        })
    }
}

#[derive(InputObject)]
pub struct CoefficientInput {
    pub kind: ServiceKind,
    pub coefficient: DecimalScalar,
}

#[derive(InputObject)]
pub struct RubricItemInput {
    pub key: String,
    pub name: String,
    pub max: DecimalScalar,
}

#[derive(Default)]
pub struct CommunityMutation;

#[Object]
impl CommunityMutation {
    /// 建立社区 (admin).
    async fn establish_community(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        name: String,
    ) -> Res<CommunityPayload> {
        let o = exec(ctx, &idempotency_key, cmd::EstablishCommunity { name }).await?;
        Ok(CommunityPayload {
            community_id: id(o.result.community_id),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Adds a grid (网格), or a micro-grid (微网格) under `parentId`.
    async fn add_grid(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        name: String,
        parent_id: Option<ID>,
    ) -> Res<GridPayload> {
        let parent = parent_id
            .as_ref()
            .map(|p| parse_id(p, "parentId").map(GridId))
            .transpose()?;
        let c = cmd::AddGrid {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            name,
            parent,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(GridPayload {
            grid_id: id(o.result.grid_id),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Registers a stairwell (楼道). Without `gridId` it goes in the community's
    /// default grid (默认网格), created on first use.
    #[allow(clippy::too_many_arguments)]
    async fn register_stairwell(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        grid_id: Option<ID>,
        building: String,
        unit: String,
        households: i32,
    ) -> Res<StairwellPayload> {
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        let households = non_negative(households, "households")?;
        let grid = match grid_id {
            Some(g) => GridId(parse_id(&g, "gridId")?),
            None => {
                let key = format!("timebank:default-grid:{}", community.0);
                let c = cmd::AddGrid {
                    community_id: community,
                    name: "默认网格".to_string(),
                    parent: None,
                };
                exec(ctx, &key, c).await?.result.grid_id
            }
        };
        let c = cmd::RegisterStairwell {
            community_id: community,
            grid_id: grid,
            building,
            unit,
            households,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(StairwellPayload {
            stairwell_id: id(o.result.stairwell_id),
            grid_id: id(grid),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Forms a volunteer team (志愿服务队).
    async fn form_team(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        name: String,
    ) -> Res<TeamPayload> {
        let c = cmd::FormTeam {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            name,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(TeamPayload {
            team_id: id(o.result.team_id),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// New point rules (admin): points per verified hour × a coefficient per kind.
    #[allow(clippy::too_many_arguments)]
    async fn set_point_rules(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        points_per_hour: PointsScalar,
        #[graphql(default)] coefficients: Vec<CoefficientInput>,
        max_hours_per_record: HoursScalar,
        effective_from: NaiveDate,
    ) -> Res<RulesPayload> {
        let mut map = BTreeMap::new();
        for c in coefficients {
            map.insert(c.kind.into(), c.coefficient.0);
        }
        let c = cmd::SetPointRules {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            points_per_hour: points_per_hour.decimal(),
            coefficients: map,
            max_hours_per_record: max_hours_per_record.decimal(),
            effective_from,
        };
        RulesPayload::from_outcome(exec(ctx, &idempotency_key, c).await?)
    }

    /// New star thresholds (admin): five ascending cumulative hours; with `points`,
    /// five ascending cumulative points earned too (net of reversals; spending does not
    /// lower them), and a star takes both.
    async fn set_star_thresholds(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        thresholds: Vec<HoursScalar>,
        effective_from: NaiveDate,
        points: Option<Vec<crate::scalars::PointsScalar>>,
    ) -> Res<RulesPayload> {
        let c = cmd::SetStarThresholds {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            thresholds: thresholds.into_iter().map(|h| h.decimal()).collect(),
            effective_from,
            points: points.map(|p| p.into_iter().map(|x| x.decimal()).collect()),
        };
        RulesPayload::from_outcome(exec(ctx, &idempotency_key, c).await?)
    }

    /// New stairwell rubric (admin).
    async fn set_rubric(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        items: Vec<RubricItemInput>,
        participation_max: DecimalScalar,
        effective_from: NaiveDate,
    ) -> Res<RulesPayload> {
        let c = cmd::SetRubric {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            items: items
                .into_iter()
                .map(|i| ledger::event::RubricItem {
                    key: i.key,
                    name: i.name,
                    max: i.max.0,
                })
                .collect(),
            participation_max: participation_max.0,
            effective_from,
        };
        RulesPayload::from_outcome(exec(ctx, &idempotency_key, c).await?)
    }
}
