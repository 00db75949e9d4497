//! A community's versioned rules — point rules (积分规则), star thresholds (星级标准), the
//! stairwell rubric (文明楼道评分标准), activity rules (活动规则) and hours rules
//! (时间银行规则) — their built-in
//! defaults (version 0), the version in force on a date, and the commands that set them.

use super::super::*;
use super::CommunityState;
use crate::event::{
    default_rubric_items, default_star_thresholds, RubricItem, ServiceKind,
    DEFAULT_PARTICIPATION_MAX,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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

/// New star thresholds version (admin): five ascending cumulative hours, and optionally
/// five ascending cumulative points earned (some districts require both for a star).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetStarThresholds {
    pub community_id: CommunityId,
    pub thresholds: Vec<Decimal>,
    pub effective_from: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<Decimal>>,
}

/// New stairwell rubric version (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetRubric {
    pub community_id: CommunityId,
    pub items: Vec<RubricItem>,
    pub participation_max: Decimal,
    pub effective_from: NaiveDate,
}

/// New activity rules version (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetActivityRules {
    pub community_id: CommunityId,
    pub time_unit_minutes: u32,
    pub late_record_days: u32,
    pub notice_days: u32,
    pub checkin_opens_minutes: u32,
    pub code_period_seconds: u32,
    pub effective_from: NaiveDate,
}

/// New hours rules version (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetHoursRules {
    pub community_id: CommunityId,
    pub gifts_to_relatives_only: bool,
    pub effective_from: NaiveDate,
    /// The most hours an account banks (存储上限, e.g. 1,500 h); none: no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_hours_cap: Option<Decimal>,
}

/// One version of the hours rules (时间银行规则).
#[derive(Debug, Clone, PartialEq)]
pub struct HoursRules {
    pub version: u32,
    /// Banked hours may be gifted only to a linked relative (家属).
    pub gifts_to_relatives_only: bool,
    pub effective_from: NaiveDate,
    /// The most hours an account banks; hours credited above it count for stars and
    /// totals but not in the balance.
    pub stored_hours_cap: Option<Hours>,
}

impl HoursRules {
    /// Gifts to anyone of the community.
    pub fn defaults() -> HoursRules {
        HoursRules {
            version: 0,
            gifts_to_relatives_only: false,
            effective_from: NaiveDate::MIN,
            stored_hours_cap: None,
        }
    }
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
    /// Points earned a star also takes, per level, when the rule says so.
    pub points: Option<Vec<Points>>,
}

impl StarThresholds {
    /// How many stars `hours` verified and `points` earned (net of reversals; spending
    /// does not lower it) reach: a level needs its hours and, when the version sets
    /// points, its points too.
    pub fn level(&self, hours: Hours, points: Points) -> u8 {
        let reached = (0..self.thresholds.len())
            .filter(|i| self.holds(*i, hours, points))
            .count();
        u8::try_from(reached).unwrap_or(u8::MAX)
    }

    /// Whether star `i` (0-based) is held with `hours` and `points`.
    pub fn holds(&self, i: usize, hours: Hours, points: Points) -> bool {
        let by_hours = self.thresholds.get(i).is_some_and(|t| hours >= *t);
        let by_points = match &self.points {
            Some(p) => p.get(i).is_some_and(|t| points >= *t),
            None => true,
        };
        by_hours && by_points
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rubric {
    pub version: u32,
    pub items: Vec<RubricItem>,
    pub participation_max: Decimal,
    pub effective_from: NaiveDate,
}

/// One version of the activity rules (活动规则).
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRules {
    pub version: u32,
    /// Hours from attendance are rounded down to this unit.
    pub time_unit_minutes: u32,
    /// A 补录 may be added up to this many days after the activity ends.
    pub late_record_days: u32,
    /// The 公示 notice period; 0: records are final at approval.
    pub notice_days: u32,
    /// Check-in opens this long before the start.
    pub checkin_opens_minutes: u32,
    /// The check-in code changes this often.
    pub code_period_seconds: u32,
    pub effective_from: NaiveDate,
}

impl ActivityRules {
    /// 15-minute units, 补录 within 30 days, no notice, check-in from 30 minutes before,
    /// a new code every 30 s.
    pub fn defaults() -> ActivityRules {
        ActivityRules {
            version: 0,
            time_unit_minutes: 15,
            late_record_days: 30,
            notice_days: 0,
            checkin_opens_minutes: 30,
            code_period_seconds: 30,
            effective_from: NaiveDate::MIN,
        }
    }
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

impl CommunityState {
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
            points: None,
        })
    }

    pub fn rubric_on(&self, date: NaiveDate) -> Rubric {
        in_force(&self.rubrics, date, |r| (r.effective_from, r.version))
            .cloned()
            .unwrap_or_else(Rubric::defaults)
    }

    /// The hours rules in force on `date` (the defaults when none is).
    pub fn hours_rules_on(&self, date: NaiveDate) -> HoursRules {
        in_force(&self.hours_rules, date, |r| (r.effective_from, r.version))
            .cloned()
            .unwrap_or_else(HoursRules::defaults)
    }

    /// The activity rules in force on `date` (the defaults when none is).
    pub fn activity_rules_on(&self, date: NaiveDate) -> ActivityRules {
        in_force(&self.activity_rules, date, |r| {
            (r.effective_from, r.version)
        })
        .cloned()
        .unwrap_or_else(ActivityRules::defaults)
    }
}

pub(super) fn in_force<T>(
    versions: &[T],
    date: NaiveDate,
    key: impl Fn(&T) -> (NaiveDate, u32),
) -> Option<&T> {
    versions
        .iter()
        .filter(|v| key(v).0 <= date)
        .max_by_key(|v| key(v))
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
    let points = match &cmd.points {
        None => None,
        Some(p) if p.len() != 5 => {
            return Err(DomainError::InvalidInput {
                field: "points",
                reason: format!("five points thresholds are needed, got {}", p.len()),
            })
        }
        Some(p) => {
            let p = p
                .iter()
                .map(|t| positive_points("points", *t))
                .collect::<DomainResult<Vec<Points>>>()?;
            if p.windows(2).any(|w| w[0] >= w[1]) {
                return Err(DomainError::InvalidInput {
                    field: "points",
                    reason: "points thresholds must be strictly ascending".into(),
                });
            }
            Some(p)
        }
    };
    Ok(vec![Event::StarThresholdsSet {
        version: state.star_thresholds.len() as u32 + 1,
        thresholds,
        effective_from: cmd.effective_from,
        points,
    }])
}

pub fn set_rubric(state: &CommunityState, cmd: &SetRubric) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    let items = checked_rubric(&cmd.items, cmd.participation_max)?;
    Ok(vec![Event::RubricSet {
        version: state.rubrics.len() as u32 + 1,
        items,
        participation_max: cmd.participation_max,
        effective_from: cmd.effective_from,
    }])
}

/// A rubric's items as kept, checked (1 to 20 items, distinct keys other than
/// `participation`, positive maxima, names given; a participation maximum not
/// negative): for a new version, and for a rubric tried in the what-if replay.
pub fn checked_rubric(
    given: &[RubricItem],
    participation_max: Decimal,
) -> DomainResult<Vec<RubricItem>> {
    if given.is_empty() || given.len() > 20 {
        return Err(DomainError::InvalidInput {
            field: "items",
            reason: format!("1 to 20 items are needed, got {}", given.len()),
        });
    }
    let mut keys = BTreeSet::new();
    let mut items = Vec::with_capacity(given.len());
    for item in given {
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
    if participation_max < Decimal::ZERO {
        return Err(DomainError::InvalidInput {
            field: "participation_max",
            reason: "must not be negative".into(),
        });
    }
    Ok(items)
}

pub fn set_activity_rules(
    state: &CommunityState,
    cmd: &SetActivityRules,
) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    let within = |field: &'static str, v: u32, lo: u32, hi: u32| {
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(DomainError::InvalidInput {
                field,
                reason: format!("{v} is outside {lo}..={hi}"),
            })
        }
    };
    let unit = within("time_unit_minutes", cmd.time_unit_minutes, 1, 60)?;
    if 60 % unit != 0 {
        return Err(DomainError::InvalidInput {
            field: "time_unit_minutes",
            reason: format!("{unit} does not divide an hour"),
        });
    }
    Ok(vec![Event::ActivityRulesSet {
        version: state.activity_rules.len() as u32 + 1,
        time_unit_minutes: unit,
        late_record_days: within("late_record_days", cmd.late_record_days, 0, 365)?,
        notice_days: within("notice_days", cmd.notice_days, 0, 30)?,
        checkin_opens_minutes: within("checkin_opens_minutes", cmd.checkin_opens_minutes, 0, 240)?,
        code_period_seconds: within("code_period_seconds", cmd.code_period_seconds, 10, 600)?,
        effective_from: cmd.effective_from,
    }])
}

pub fn set_hours_rules(state: &CommunityState, cmd: &SetHoursRules) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    let cap = cmd
        .stored_hours_cap
        .map(|c| positive_hours("stored_hours_cap", c))
        .transpose()?;
    if cap.is_some_and(|c| c > Hours::whole(100_000)) {
        return Err(DomainError::InvalidInput {
            field: "stored_hours_cap",
            reason: "at most 100000 h".into(),
        });
    }
    Ok(vec![Event::HoursRulesSet {
        version: state.hours_rules.len() as u32 + 1,
        gifts_to_relatives_only: cmd.gifts_to_relatives_only,
        effective_from: cmd.effective_from,
        stored_hours_cap: cap,
    }])
}
