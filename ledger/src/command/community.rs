//! Plans of the community's commands (社区): establish it, add grids, stairwells and
//! teams, and set versioned rules. The rules themselves are in
//! [`crate::domain::community`]; here the states are loaded and the result is said.

use super::decision::{Decision, Plan, PlanResult};
use crate::domain::community::{self, *};
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// A new community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCommunity {
    pub community_id: CommunityId,
}

/// A new grid or micro-grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGrid {
    pub grid_id: GridId,
}

/// A new stairwell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStairwell {
    pub stairwell_id: StairwellId,
}

/// A new team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTeam {
    pub team_id: TeamId,
}

/// The version a rules command created (point rules, star thresholds or rubric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesVersion {
    pub version: u32,
}

impl EstablishCommunity {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewCommunity> {
        d.authorize(None)?;
        let id = CommunityId(d.id("community"));
        let l = d.community(id).await?;
        let events = community::establish(&l.state, self, id)?;
        Ok(Plan::new(
            vec![l.write(events, Some(id)).0],
            NewCommunity { community_id: id },
        ))
    }
}

impl AddGrid {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewGrid> {
        let l = d.community(self.community_id).await?;
        let id = GridId(d.id("grid"));
        let events = community::add_grid(&l.state, self, id)?;
        Ok(Plan::new(
            vec![l.write(events, Some(self.community_id)).0],
            NewGrid { grid_id: id },
        ))
    }
}

impl RegisterStairwell {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewStairwell> {
        let l = d.community(self.community_id).await?;
        let id = StairwellId(d.id("stairwell"));
        let events = community::register_stairwell(&l.state, self, id)?;
        Ok(Plan::new(
            vec![l.write(events, Some(self.community_id)).0],
            NewStairwell { stairwell_id: id },
        ))
    }
}

impl FormTeam {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewTeam> {
        let l = d.community(self.community_id).await?;
        let id = TeamId(d.id("team"));
        let events = community::form_team(&l.state, self, id)?;
        Ok(Plan::new(
            vec![l.write(events, Some(self.community_id)).0],
            NewTeam { team_id: id },
        ))
    }
}

/// A rules command: `decide` on the community, and the number of versions it had.
pub(super) async fn rules_plan(
    d: &Decision<'_>,
    community_id: CommunityId,
    decide: impl FnOnce(&CommunityState) -> crate::domain::DomainResult<Vec<crate::event::Event>>,
    versions: impl FnOnce(&CommunityState) -> usize,
) -> PlanResult<RulesVersion> {
    let l = d.community(community_id).await?;
    let events = decide(&l.state)?;
    let version = versions(&l.state) as u32 + 1;
    Ok(Plan::new(
        vec![l.write(events, Some(community_id)).0],
        RulesVersion { version },
    ))
}

impl SetPointRules {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RulesVersion> {
        rules_plan(
            d,
            self.community_id,
            |s| community::set_point_rules(s, self),
            |s| s.point_rules.len(),
        )
        .await
    }
}

impl SetStarThresholds {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RulesVersion> {
        rules_plan(
            d,
            self.community_id,
            |s| community::set_star_thresholds(s, self),
            |s| s.star_thresholds.len(),
        )
        .await
    }
}

impl SetRubric {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RulesVersion> {
        rules_plan(
            d,
            self.community_id,
            |s| community::set_rubric(s, self),
            |s| s.rubrics.len(),
        )
        .await
    }
}

impl SetActivityRules {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RulesVersion> {
        rules_plan(
            d,
            self.community_id,
            |s| community::set_activity_rules(s, self),
            |s| s.activity_rules.len(),
        )
        .await
    }
}

impl SetPointsExpiry {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RulesVersion> {
        rules_plan(
            d,
            self.community_id,
            |s| community::set_points_expiry(s, self),
            |s| s.points_expiry.len(),
        )
        .await
    }
}

impl SetHoursRules {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RulesVersion> {
        rules_plan(
            d,
            self.community_id,
            |s| community::set_hours_rules(s, self),
            |s| s.hours_rules.len(),
        )
        .await
    }
}
