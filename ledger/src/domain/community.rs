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
//! - rubric: 楼道卫生 30, 杂物清理 25, 消防安全 25, participation 20.

use super::*;
use crate::event::{
    default_rubric_items, default_star_thresholds, RubricItem, ServiceKind,
    DEFAULT_PARTICIPATION_MAX,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

/// New point rules version (admin). Kinds without a coefficient use 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetPointRules {
    pub community_id: CommunityId,
    pub points_per_hour: Decimal,
    #[serde(default)]
    pub coefficients: BTreeMap<ServiceKind, Decimal>,
    pub max_hours_per_record: Decimal,
    pub effective_from: NaiveDate,
}

/// New star thresholds version (admin): five ascending cumulative hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetStarThresholds {
    pub community_id: CommunityId,
    pub thresholds: Vec<Decimal>,
    pub effective_from: NaiveDate,
}

/// New stairwell rubric version (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetRubric {
    pub community_id: CommunityId,
    pub items: Vec<RubricItem>,
    pub participation_max: Decimal,
    pub effective_from: NaiveDate,
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

/// One version of the point rules.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRules {
    /// 0 for the built-in defaults.
    pub version: u32,
    pub points_per_hour: Points,
    pub coefficients: BTreeMap<ServiceKind, Decimal>,
    pub max_hours_per_record: Hours,
    pub effective_from: NaiveDate,
}

impl PointRules {
    /// 10 points per hour, coefficient 1, cap 8 h.
    pub fn defaults() -> PointRules {
        PointRules {
            version: 0,
            points_per_hour: Points::whole(10),
            coefficients: BTreeMap::new(),
            max_hours_per_record: Hours::whole(8),
            effective_from: NaiveDate::MIN,
        }
    }

    /// The coefficient of a kind (1 when the rules do not name it).
    pub fn coefficient(&self, kind: ServiceKind) -> Decimal {
        self.coefficients
            .get(&kind)
            .copied()
            .unwrap_or(Decimal::ONE)
    }

    /// `hours × points_per_hour × coefficient(kind)`, rounded half away from zero to
    /// hundredths.
    pub fn points_for(&self, hours: Hours, kind: ServiceKind) -> Option<Points> {
        crate::amount::points_for_hours(hours, self.points_per_hour, self.coefficient(kind))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StarThresholds {
    pub version: u32,
    pub thresholds: Vec<Hours>,
    pub effective_from: NaiveDate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rubric {
    pub version: u32,
    pub items: Vec<RubricItem>,
    pub participation_max: Decimal,
    pub effective_from: NaiveDate,
}

/// The key of the participation score in an inspection.
pub const PARTICIPATION_KEY: &str = "participation";

impl Rubric {
    pub fn defaults() -> Rubric {
        Rubric {
            version: 0,
            items: default_rubric_items(),
            participation_max: Decimal::from(DEFAULT_PARTICIPATION_MAX),
            effective_from: NaiveDate::MIN,
        }
    }

    /// The maximum of each score key (items and participation).
    pub fn maxima(&self) -> BTreeMap<String, Decimal> {
        let mut m: BTreeMap<String, Decimal> =
            self.items.iter().map(|i| (i.key.clone(), i.max)).collect();
        m.insert(PARTICIPATION_KEY.to_string(), self.participation_max);
        m
    }
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
    pub volunteers_enrolled: u64,
}

fn in_force<T>(
    versions: &[T],
    date: NaiveDate,
    key: impl Fn(&T) -> (NaiveDate, u32),
) -> Option<&T> {
    versions
        .iter()
        .filter(|v| key(v).0 <= date)
        .max_by_key(|v| key(v))
}

impl CommunityState {
    pub fn exists(&self) -> bool {
        self.community_id.is_some()
    }

    /// The point rules in force on `date` (the defaults when none is).
    pub fn point_rules_on(&self, date: NaiveDate) -> PointRules {
        in_force(&self.point_rules, date, |r| (r.effective_from, r.version))
            .cloned()
            .unwrap_or_else(PointRules::defaults)
    }

    pub fn star_thresholds_on(&self, date: NaiveDate) -> StarThresholds {
        in_force(&self.star_thresholds, date, |r| {
            (r.effective_from, r.version)
        })
        .cloned()
        .unwrap_or_else(|| StarThresholds {
            version: 0,
            thresholds: default_star_thresholds(),
            effective_from: NaiveDate::MIN,
        })
    }

    pub fn rubric_on(&self, date: NaiveDate) -> Rubric {
        in_force(&self.rubrics, date, |r| (r.effective_from, r.version))
            .cloned()
            .unwrap_or_else(Rubric::defaults)
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
            } => self.star_thresholds.push(StarThresholds {
                version: *version,
                thresholds: thresholds.clone(),
                effective_from: *effective_from,
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
            Event::VolunteerEnrolled { .. } => self.volunteers_enrolled += 1,
            _ => {}
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

pub fn set_point_rules(state: &CommunityState, cmd: &SetPointRules) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    let points_per_hour = positive_points("points_per_hour", cmd.points_per_hour)?;
    let max_hours_per_record = positive_hours("max_hours_per_record", cmd.max_hours_per_record)?;
    if max_hours_per_record > Hours::whole(24) {
        return Err(DomainError::InvalidInput {
            field: "max_hours_per_record",
            reason: "at most 24 h".into(),
        });
    }
    for (kind, c) in &cmd.coefficients {
        if *c < Decimal::ZERO || *c > Decimal::from(100) {
            return Err(DomainError::InvalidInput {
                field: "coefficients",
                reason: format!("coefficient {c} of {} is outside 0..=100", kind.as_str()),
            });
        }
    }
    Ok(vec![Event::PointRulesSet {
        version: state.point_rules.len() as u32 + 1,
        points_per_hour,
        coefficients: cmd.coefficients.clone(),
        max_hours_per_record,
        effective_from: cmd.effective_from,
    }])
}

pub fn set_star_thresholds(
    state: &CommunityState,
    cmd: &SetStarThresholds,
) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    if cmd.thresholds.len() != 5 {
        return Err(DomainError::InvalidInput {
            field: "thresholds",
            reason: format!("five thresholds are needed, got {}", cmd.thresholds.len()),
        });
    }
    let thresholds = cmd
        .thresholds
        .iter()
        .map(|t| positive_hours("thresholds", *t))
        .collect::<DomainResult<Vec<Hours>>>()?;
    if thresholds.windows(2).any(|w| w[0] >= w[1]) {
        return Err(DomainError::InvalidInput {
            field: "thresholds",
            reason: "thresholds must be strictly ascending".into(),
        });
    }
    Ok(vec![Event::StarThresholdsSet {
        version: state.star_thresholds.len() as u32 + 1,
        thresholds,
        effective_from: cmd.effective_from,
    }])
}

pub fn set_rubric(state: &CommunityState, cmd: &SetRubric) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    if cmd.items.is_empty() || cmd.items.len() > 20 {
        return Err(DomainError::InvalidInput {
            field: "items",
            reason: format!("1 to 20 items are needed, got {}", cmd.items.len()),
        });
    }
    let mut keys = BTreeSet::new();
    let mut items = Vec::with_capacity(cmd.items.len());
    for item in &cmd.items {
        let key = required_text("items.key", &item.key, 50)?;
        if key == PARTICIPATION_KEY || !keys.insert(key.clone()) {
            return Err(DomainError::InvalidInput {
                field: "items.key",
                reason: format!("duplicate or reserved key {key:?}"),
            });
        }
        if item.max <= Decimal::ZERO {
            return Err(DomainError::NotPositive { field: "items.max" });
        }
        items.push(RubricItem {
            key,
            name: required_text("items.name", &item.name, MAX_NAME)?,
            max: item.max,
        });
    }
    if cmd.participation_max < Decimal::ZERO {
        return Err(DomainError::InvalidInput {
            field: "participation_max",
            reason: "must not be negative".into(),
        });
    }
    Ok(vec![Event::RubricSet {
        version: state.rubrics.len() as u32 + 1,
        items,
        participation_max: cmd.participation_max,
        effective_from: cmd.effective_from,
    }])
}
