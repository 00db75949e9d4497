//! 文明楼道 (civilised stairwell) scores: monthly scores, yearly standings and the
//! 流动红旗 (rotating red flag).
//!
//! Monthly score of a stairwell, for a month with an inspection:
//! - the rubric items of the month's inspection (every score key except
//!   `participation`, whose inspection value is replaced by the measured one below);
//! - plus 邻里互助 participation = `participation_max × min(1, participants ÷ (30% of
//!   households))`, where participants are the distinct households of the stairwell
//!   with a volunteer who has net verified service hours dated in that month (each
//!   volunteer in the stairwell and household attributed when their service was
//!   recorded; a volunteer with no household given counts as a household of their own);
//!   `participation_max` is the rubric's (20 by default), from the rubric in force on the
//!   first day of the month;
//! - minus the deductions of issues reported by the end of the month and not resolved
//!   by then (China Standard Time, by when they were recorded);
//! - clamped to 0–100 and rounded to hundredths.
//!
//! A month without an inspection has no score. The yearly score is the average of the
//! scored months; stairwells are ranked by it (dense ranks, ties share a rank). The red
//! flag is one physical flag: each month it goes to one stairwell, the top score, a tie
//! broken by building and unit as people read them (2栋 before 10栋) and then stairwell
//! id (as the 文明楼道 read model gives it).

use crate::labels::{local_midnight, next_month_start};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::domain::stairwell::{listing_cmp, natural_cmp};
use ledger::domain::CommunityState;
use ledger::ids::{GridId, StairwellId};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Share of households whose participation earns the full participation score.
pub const PARTICIPATION_SHARE_PERCENT: u32 = 30;

/// An issue with its deduction, open from `reported_at` until `resolved_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueSpan {
    pub reported_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub deduction: Decimal,
}

impl IssueSpan {
    /// Whether the issue is open at instant `t`.
    pub fn open_at(&self, t: DateTime<Utc>) -> bool {
        self.reported_at < t && !matches!(self.resolved_at, Some(r) if r < t)
    }
}

/// One month of one stairwell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StairwellMonth {
    pub month: u32,
    pub inspected: bool,
    /// Sum of the rubric items of the inspection (0 when not inspected).
    pub items: Decimal,
    /// Households of the stairwell with a volunteer who served in the month.
    pub participants: u64,
    pub participation: Decimal,
    /// Deductions of issues open at the end of the month.
    pub deductions: Decimal,
    /// The month's score; `None` when the month was not inspected.
    pub score: Option<Decimal>,
}

/// A stairwell's year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StairwellStanding {
    /// Dense rank by yearly average; `None` when no month was scored.
    pub rank: Option<u32>,
    pub stairwell_id: StairwellId,
    pub grid_id: GridId,
    pub grid_name: String,
    pub building: String,
    pub unit: String,
    pub households: u32,
    /// Months 1 to 12.
    pub months: Vec<StairwellMonth>,
    /// Average of the scored months, rounded to hundredths.
    pub average: Option<Decimal>,
    /// Months (1–12) in which the stairwell held the red flag.
    pub red_flag_months: Vec<u32>,
}

impl StairwellStanding {
    /// "3号楼 2单元".
    pub fn label(&self) -> String {
        format!("{} {}", self.building, self.unit)
    }
}

/// The 流动红旗 of one month: its one holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedFlagMonth {
    pub month: u32,
    pub score: Decimal,
    pub stairwell_id: StairwellId,
    /// "3号楼 2单元" of the holder.
    pub label: String,
}

/// The red flag's holder among `(score, building, unit, id)` candidates: the top score,
/// a tie broken by building and unit as people read them (2栋 before 10栋), then id.
pub fn red_flag_holder<'a>(
    candidates: impl IntoIterator<Item = (Decimal, &'a str, &'a str, StairwellId)>,
) -> Option<(Decimal, StairwellId)> {
    candidates
        .into_iter()
        .min_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| listing_cmp((a.1, a.2, a.3), (b.1, b.2, b.3)))
        })
        .map(|(score, _, _, id)| (score, id))
}

/// What the scores are computed from (collected by the annual fold).
#[derive(Debug, Default)]
pub struct StairwellFacts {
    /// Per stairwell: month (1–12 of the report year) → sum of the rubric items.
    pub inspections: HashMap<StairwellId, BTreeMap<u32, Decimal>>,
    pub issues: HashMap<StairwellId, Vec<IssueSpan>>,
    /// (stairwell, month) → households with a volunteer who served.
    pub participants: HashMap<(StairwellId, u32), u64>,
}

/// A household label as kept: trimmed, "" when none (or a blank one) was given.
pub fn household_key(household: Option<&str>) -> String {
    household.map(str::trim).unwrap_or_default().to_string()
}

/// The distinct households among `(volunteer, household)` pairs: a volunteer without a
/// household ("") is a household of their own.
pub fn households_served<'a, V: Eq + std::hash::Hash>(
    pairs: impl IntoIterator<Item = (V, &'a str)>,
) -> u64 {
    let set: std::collections::HashSet<(Option<V>, &str)> = pairs
        .into_iter()
        .map(|(v, h)| {
            if h.is_empty() {
                (Some(v), h)
            } else {
                (None, h)
            }
        })
        .collect();
    set.len() as u64
}

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `participation_max × min(1, participants ÷ (30% × households))`, to hundredths.
pub fn participation_score(
    participants: u64,
    households: u32,
    participation_max: Decimal,
) -> Decimal {
    if households == 0 {
        return Decimal::ZERO;
    }
    let ratio = (Decimal::from(participants) * Decimal::from(100))
        / (Decimal::from(households) * Decimal::from(PARTICIPATION_SHARE_PERCENT));
    round2(participation_max * ratio.min(Decimal::ONE))
}

/// `items + participation − deductions`, clamped to 0–100, to hundredths.
pub fn month_total(items: Decimal, participation: Decimal, deductions: Decimal) -> Decimal {
    round2((items + participation - deductions).clamp(Decimal::ZERO, Decimal::ONE_HUNDRED))
}

/// Standings of every stairwell of the community (sorted by rank, unranked last, then
/// by grid, building and unit) and the red flag of each month that has scores.
pub fn standings(
    year: i32,
    community: &CommunityState,
    facts: &StairwellFacts,
) -> (Vec<StairwellStanding>, Vec<RedFlagMonth>) {
    let month_ends: Vec<DateTime<Utc>> = (1..=12)
        .map(|m| local_midnight(next_month_start(year, m)))
        .collect();
    let participation_max: Vec<Decimal> = (1..=12)
        .map(|m| {
            let first = NaiveDate::from_ymd_opt(year, m, 1).unwrap_or(NaiveDate::MIN);
            community.rubric_on(first).participation_max
        })
        .collect();
    let empty_inspections = BTreeMap::new();
    let rows: Vec<StairwellStanding> = community
        .stairwells
        .iter()
        .map(|(id, s)| {
            let inspections = facts.inspections.get(id).unwrap_or(&empty_inspections);
            let issues = facts.issues.get(id).map(Vec::as_slice).unwrap_or(&[]);
            let months: Vec<StairwellMonth> = (1..=12u32)
                .map(|m| {
                    let idx = (m - 1) as usize;
                    let participants = facts.participants.get(&(*id, m)).copied().unwrap_or(0);
                    let participation =
                        participation_score(participants, s.households, participation_max[idx]);
                    let deductions: Decimal = issues
                        .iter()
                        .filter(|i| i.open_at(month_ends[idx]))
                        .map(|i| i.deduction)
                        .sum();
                    let items = inspections.get(&m).copied();
                    StairwellMonth {
                        month: m,
                        inspected: items.is_some(),
                        items: items.unwrap_or(Decimal::ZERO),
                        participants,
                        participation,
                        deductions,
                        score: items.map(|items| month_total(items, participation, deductions)),
                    }
                })
                .collect();
            StairwellStanding {
                rank: None,
                stairwell_id: *id,
                grid_id: s.grid_id,
                grid_name: community
                    .grids
                    .get(&s.grid_id)
                    .map(|g| g.name.clone())
                    .unwrap_or_default(),
                building: s.building.clone(),
                unit: s.unit.clone(),
                households: s.households,
                months,
                average: None,
                red_flag_months: Vec::new(),
            }
        })
        .collect();
    rank_and_flag(rows)
}

/// The averages, ranks and red flags of standings whose months are scored (what
/// [`standings`] does once the months are; the what-if replay of a rubric does it again
/// on months scored under the proposal).
pub fn rank_and_flag(
    mut rows: Vec<StairwellStanding>,
) -> (Vec<StairwellStanding>, Vec<RedFlagMonth>) {
    for r in rows.iter_mut() {
        let scored: Vec<Decimal> = r.months.iter().filter_map(|m| m.score).collect();
        r.average = (!scored.is_empty())
            .then(|| round2(scored.iter().copied().sum::<Decimal>() / Decimal::from(scored.len())));
        r.red_flag_months.clear();
        r.rank = None;
    }
    let mut flags = Vec::new();
    for m in 1..=12u32 {
        let idx = (m - 1) as usize;
        let Some((score, holder)) = red_flag_holder(rows.iter().filter_map(|r| {
            r.months[idx]
                .score
                .map(|s| (s, r.building.as_str(), r.unit.as_str(), r.stairwell_id))
        })) else {
            continue;
        };
        let Some(r) = rows.iter_mut().find(|r| r.stairwell_id == holder) else {
            continue;
        };
        r.red_flag_months.push(m);
        flags.push(RedFlagMonth {
            month: m,
            score,
            stairwell_id: holder,
            label: r.label(),
        });
    }

    rows.sort_by(|a, b| {
        b.average
            .cmp(&a.average)
            .then_with(|| natural_cmp(&a.grid_name, &b.grid_name))
            .then_with(|| {
                listing_cmp(
                    (&a.building, &a.unit, a.stairwell_id),
                    (&b.building, &b.unit, b.stairwell_id),
                )
            })
    });
    let mut rank = 0u32;
    let mut last: Option<Decimal> = None;
    for r in rows.iter_mut() {
        if let Some(avg) = r.average {
            if last != Some(avg) {
                rank += 1;
                last = Some(avg);
            }
            r.rank = Some(rank);
        }
    }
    (rows, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example() {
        // 40 households: 30% is 12; 6 participants → 20 × 0.5 = 10.
        assert_eq!(
            participation_score(6, 40, Decimal::from(20)),
            Decimal::from(10)
        );
        assert_eq!(
            participation_score(13, 40, Decimal::from(20)),
            Decimal::from(20)
        );
        assert_eq!(participation_score(1, 0, Decimal::from(20)), Decimal::ZERO);
        // 1 of 10 households: 1 / 3 × 20 = 6.666… → 6.67
        assert_eq!(
            participation_score(1, 10, Decimal::from(20)),
            Decimal::new(667, 2)
        );
        assert_eq!(
            month_total(Decimal::from(70), Decimal::from(10), Decimal::from(5)),
            Decimal::from(75)
        );
        assert_eq!(
            month_total(Decimal::from(5), Decimal::ZERO, Decimal::from(20)),
            Decimal::ZERO
        );
        assert_eq!(
            month_total(Decimal::from(95), Decimal::from(20), Decimal::ZERO),
            Decimal::ONE_HUNDRED
        );
    }
}
