//! The community aggregate (社区): its grids (网格, 微网格), stairwells (楼道), teams, and
//! versioned rules — point rules (积分规则), star thresholds (星级标准) and the stairwell
//! rubric (文明楼道评分标准) — plus the count of enrolled volunteers that numbers them.
//!
//! Rules are versioned data: the version in force on a date is the one with the latest
//! `effective_from` on or before that date (ties: the higher version). Until a community
//! sets its own, built-in defaults apply (version 0):
//! - point rules: 10 points per verified hour, coefficient 1 for every kind, at most 8 h
//!   per record;
//! - star thresholds: 100/300/600/1000/1500 h;
//! - rubric: 楼道卫生 30, 杂物清理 25, 消防安全 25, participation 20;
//! - activity rules: hours in units of 15 minutes, 补录 within 30 days, no 公示 notice
//!   (final at approval), check-in from 30 minutes before the start, a new check-in code
//!   every 30 s;
//! - hours rules: hours may be gifted to anyone of the community, and no stored-hours
//!   cap;
//! - points expiry: points do not expire;
//! - transfer rules: a departing volunteer's points follow them.
//!
//! The rules, their defaults and the commands that set them are in `rules` (the points
//! expiry in `expiry`, the transfer rules in `transfer`).

mod expiry;
mod rules;
mod transfer;

pub use expiry::*;
pub use rules::*;
pub use transfer::*;

use super::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// 建立社区 (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstablishCommunity {
    pub name: String,
}

/// Adds a grid (网格), or a micro-grid (微网格) under `parent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddGrid {
    pub community_id: CommunityId,
    pub name: String,
    #[serde(default)]
    pub parent: Option<GridId>,
}

/// Registers a stairwell (楼道): building (楼栋) and unit (单元) in a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterStairwell {
    pub community_id: CommunityId,
    pub grid_id: GridId,
    pub building: String,
    pub unit: String,
    pub households: u32,
}

/// Forms a volunteer team (志愿服务队).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormTeam {
    pub community_id: CommunityId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub name: String,
    pub parent: Option<GridId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stairwell {
    pub grid_id: GridId,
    pub building: String,
    pub unit: String,
    pub households: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommunityState {
    pub community_id: Option<CommunityId>,
    pub name: String,
    pub grids: BTreeMap<GridId, Grid>,
    pub stairwells: BTreeMap<StairwellId, Stairwell>,
    pub teams: BTreeMap<TeamId, String>,
    pub point_rules: Vec<PointRules>,
    pub star_thresholds: Vec<StarThresholds>,
    pub rubrics: Vec<Rubric>,
    pub activity_rules: Vec<ActivityRules>,
    pub hours_rules: Vec<HoursRules>,
    pub points_expiry: Vec<ExpiryRule>,
    /// Transfer rules versions (转移接续规则).
    pub transfer_rules: Vec<crate::event::TransferRulesSet>,
    pub volunteers_enrolled: u64,
    /// The street (街道) the community belongs to over time.
    pub street: super::street::Membership<StreetId>,
}

impl CommunityState {
    pub fn exists(&self) -> bool {
        self.community_id.is_some()
    }

    /// The community's id, or NOT_FOUND.
    pub fn require(&self, id: CommunityId) -> DomainResult<CommunityId> {
        match self.community_id {
            Some(c) if c == id => Ok(c),
            _ => Err(DomainError::not_found("community", id)),
        }
    }

    pub fn stairwell(&self, id: StairwellId) -> DomainResult<&Stairwell> {
        self.stairwells
            .get(&id)
            .ok_or_else(|| DomainError::not_found("stairwell", id))
    }

    pub fn require_team(&self, id: TeamId) -> DomainResult<()> {
        if self.teams.contains_key(&id) {
            Ok(())
        } else {
            Err(DomainError::not_found("team", id))
        }
    }

    /// The next volunteer number, e.g. `TB-000123`.
    pub fn next_volunteer_number(&self) -> String {
        format!("TB-{:06}", self.volunteers_enrolled + 1)
    }
}

impl Aggregate for CommunityState {
    fn evolve(&mut self, event: &Event) {
        match event {
            Event::CommunityEstablished { community_id, name } => {
                self.community_id = Some(*community_id);
                self.name = name.clone();
            }
            Event::GridAdded {
                grid_id,
                name,
                parent,
            } => {
                self.grids.insert(
                    *grid_id,
                    Grid {
                        name: name.clone(),
                        parent: *parent,
                    },
                );
            }
            Event::StairwellRegistered {
                stairwell_id,
                grid_id,
                building,
                unit,
                households,
            } => {
                self.stairwells.insert(
                    *stairwell_id,
                    Stairwell {
                        grid_id: *grid_id,
                        building: building.clone(),
                        unit: unit.clone(),
                        households: *households,
                    },
                );
            }
            Event::TeamFormed { team_id, name } => {
                self.teams.insert(*team_id, name.clone());
            }
            Event::PointRulesSet {
                version,
                points_per_hour,
                coefficients,
                max_hours_per_record,
                effective_from,
            } => self.point_rules.push(PointRules {
                version: *version,
                points_per_hour: *points_per_hour,
                coefficients: coefficients.clone(),
                max_hours_per_record: *max_hours_per_record,
                effective_from: *effective_from,
            }),
            Event::StarThresholdsSet {
                version,
                thresholds,
                effective_from,
                points,
            } => self.star_thresholds.push(StarThresholds {
                version: *version,
                thresholds: thresholds.clone(),
                effective_from: *effective_from,
                points: points.clone(),
            }),
            Event::RubricSet {
                version,
                items,
                participation_max,
                effective_from,
            } => self.rubrics.push(Rubric {
                version: *version,
                items: items.clone(),
                participation_max: *participation_max,
                effective_from: *effective_from,
            }),
            Event::ActivityRulesSet {
                version,
                time_unit_minutes,
                late_record_days,
                notice_days,
                checkin_opens_minutes,
                code_period_seconds,
                effective_from,
            } => self.activity_rules.push(ActivityRules {
                version: *version,
                time_unit_minutes: *time_unit_minutes,
                late_record_days: *late_record_days,
                notice_days: *notice_days,
                checkin_opens_minutes: *checkin_opens_minutes,
                code_period_seconds: *code_period_seconds,
                effective_from: *effective_from,
            }),
            Event::HoursRulesSet {
                version,
                gifts_to_relatives_only,
                effective_from,
                stored_hours_cap,
            } => self.hours_rules.push(HoursRules {
                version: *version,
                gifts_to_relatives_only: *gifts_to_relatives_only,
                effective_from: *effective_from,
                stored_hours_cap: *stored_hours_cap,
            }),
            Event::PointsExpiryRulesSet {
                version,
                valid_months,
                rounding,
                effective_from,
            } => self.points_expiry.push(ExpiryRule {
                version: *version,
                valid_months: *valid_months,
                rounding: *rounding,
                effective_from: *effective_from,
            }),
            Event::VolunteerEnrolled { .. } => self.volunteers_enrolled += 1,
            Event::TransferRulesSet(r) => self.transfer_rules.push(*r),
            e => super::street::evolve_community_street(&mut self.street, e),
        }
    }
}

pub fn establish(
    state: &CommunityState,
    cmd: &EstablishCommunity,
    community_id: CommunityId,
) -> DomainResult<Vec<Event>> {
    if state.exists() {
        return Err(DomainError::AlreadyExists {
            kind: "community",
            id: community_id.to_string(),
        });
    }
    Ok(vec![Event::CommunityEstablished {
        community_id,
        name: required_text("name", &cmd.name, MAX_NAME)?,
    }])
}

pub fn add_grid(
    state: &CommunityState,
    cmd: &AddGrid,
    grid_id: GridId,
) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    let name = required_text("name", &cmd.name, MAX_NAME)?;
    if let Some(parent) = cmd.parent {
        let p = state
            .grids
            .get(&parent)
            .ok_or_else(|| DomainError::not_found("grid", parent))?;
        if p.parent.is_some() {
            return Err(DomainError::InvalidInput {
                field: "parent",
                reason: "a micro-grid cannot contain another micro-grid".into(),
            });
        }
    }
    Ok(vec![Event::GridAdded {
        grid_id,
        name,
        parent: cmd.parent,
    }])
}

pub fn register_stairwell(
    state: &CommunityState,
    cmd: &RegisterStairwell,
    stairwell_id: StairwellId,
) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    if !state.grids.contains_key(&cmd.grid_id) {
        return Err(DomainError::not_found("grid", cmd.grid_id));
    }
    if cmd.households == 0 || cmd.households > 10_000 {
        return Err(DomainError::InvalidInput {
            field: "households",
            reason: format!("{} is outside 1..=10000", cmd.households),
        });
    }
    Ok(vec![Event::StairwellRegistered {
        stairwell_id,
        grid_id: cmd.grid_id,
        building: required_text("building", &cmd.building, 50)?,
        unit: required_text("unit", &cmd.unit, 50)?,
        households: cmd.households,
    }])
}

pub fn form_team(
    state: &CommunityState,
    cmd: &FormTeam,
    team_id: TeamId,
) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    let name = required_text("name", &cmd.name, MAX_NAME)?;
    if state.teams.values().any(|n| *n == name) {
        return Err(DomainError::AlreadyExists {
            kind: "team",
            id: name,
        });
    }
    Ok(vec![Event::TeamFormed { team_id, name }])
}
