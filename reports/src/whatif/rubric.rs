//! What-if replay of a 文明楼道 rubric (评分细则试算): the year's stairwell scores, the
//! yearly standings and the 流动红旗 of each month again under a proposed rubric,
//! **without writing anything**, beside the annual report's (the rubric in force).
//!
//! An inspection was scored against the rubric it was recorded under; the proposal is
//! applied to it by one stated rule, the same for every inspection:
//! - an item kept (same key) keeps the inspector's fraction: `score × new max ÷ old max`;
//! - an item new in the proposal was not inspected: it gets the inspection's overall
//!   fraction (the items it scored ÷ their maxima) of its new maximum;
//! - an item the proposal drops no longer counts;
//! - each rescaled item is rounded to hundredths (half away from zero);
//! - 邻里互助 participation takes the proposal's maximum, on the same households served;
//!   deductions of open issues are unchanged; the month's total is clamped to 0–100.
//!
//! The averages, ranks and red flags then follow as in the annual report
//! ([`crate::stairwell::rank_and_flag`]): one flag a month, to the top score, a tie
//! broken by building and unit as people read them.

use crate::annual::annual_report;
use crate::error::ReportError;
use crate::fold;
use crate::stairwell::{month_total, participation_score, rank_and_flag, StairwellStanding};
use chrono::Datelike;
use ledger::domain::community::{CommunityState, Rubric, PARTICIPATION_KEY};
use ledger::domain::Aggregate;
use ledger::event::{Event, RubricItem};
use ledger::ids::*;
use ledger::store::Store;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A proposed rubric: its items and the participation maximum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RubricProposal {
    pub items: Vec<RubricItem>,
    pub participation_max: Decimal,
}

/// One stairwell's year, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StairwellChange {
    pub stairwell_id: StairwellId,
    /// "3号楼 2单元".
    pub label: String,
    pub average_before: Option<Decimal>,
    pub average_after: Option<Decimal>,
    pub rank_before: Option<u32>,
    pub rank_after: Option<u32>,
    pub red_flag_months_before: Vec<u32>,
    pub red_flag_months_after: Vec<u32>,
}

/// The red flag of one month, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagChange {
    pub month: u32,
    /// (label, score) of the holder.
    pub before: Option<(String, Decimal)>,
    pub after: Option<(String, Decimal)>,
    /// Whether another stairwell would hold it.
    pub changes_hands: bool,
}

/// What the proposed rubric would change in a year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RubricWhatIf {
    pub community_id: CommunityId,
    pub year: i32,
    pub position: u64,
    /// Every stairwell, by rank after (unranked last).
    pub stairwells: Vec<StairwellChange>,
    /// Every month with a red flag before or after.
    pub red_flags: Vec<FlagChange>,
}

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The sum of an inspection's items under `proposal`, scored under `old` (the rule in
/// the module's documentation).
pub fn rescaled_items(
    scores: &BTreeMap<String, Decimal>,
    old: &[RubricItem],
    proposal: &RubricProposal,
) -> Decimal {
    let old_max: HashMap<&str, Decimal> = old.iter().map(|i| (i.key.as_str(), i.max)).collect();
    let scored: Vec<(&String, Decimal, Decimal)> = scores
        .iter()
        .filter(|(k, _)| k.as_str() != PARTICIPATION_KEY)
        .filter_map(|(k, v)| old_max.get(k.as_str()).map(|m| (k, *v, *m)))
        .collect();
    let (got, of): (Decimal, Decimal) = scored
        .iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(g, o), (_, v, m)| {
            (g + v, o + m)
        });
    let overall = if of.is_zero() {
        Decimal::ZERO
    } else {
        got / of
    };
    proposal
        .items
        .iter()
        .map(|item| {
            let fraction = match scored.iter().find(|(k, _, _)| **k == item.key) {
                Some((_, v, m)) if !m.is_zero() => *v / *m,
                Some(_) => Decimal::ZERO,
                None => overall,
            };
            round2(item.max * fraction)
        })
        .sum()
}

/// Replays the year's 文明楼道 scores of the community under `proposal`, up to the log's
/// head.
pub async fn rubric_what_if(
    store: &Store,
    community_id: CommunityId,
    proposal: &RubricProposal,
    year: i32,
) -> Result<RubricWhatIf, ReportError> {
    let position = fold::pin(store, None).await?;
    let report = annual_report(store, community_id, year, Some(position), |_, _| {}).await?;
    let mut community = CommunityState::default();
    for rec in store
        .read_stream(&community_stream(community_id), 0)
        .await?
    {
        if rec.position > position {
            break;
        }
        community.evolve(&Event::decode(&rec)?);
    }
    // (stairwell, month) → the inspection's scores and the rubric it was scored under.
    let mut inspected: HashMap<(StairwellId, u32), (BTreeMap<String, Decimal>, u32)> =
        HashMap::new();
    let wanted = ["StairwellInspected"];
    fold::scan_community(store, community_id.0, &wanted, position, &|_, _| {}, |e| {
        let (
            Some((StreamKind::Stairwell, id)),
            Event::StairwellInspected {
                month,
                scores,
                rubric_version,
                ..
            },
        ) = (parse_stream(&e.stream_id), e.event)
        else {
            return Ok(());
        };
        if let Ok(first) = ledger::domain::stairwell::parse_month(&month) {
            if first.year() == year {
                inspected.insert((StairwellId(id), first.month()), (scores, rubric_version));
            }
        }
        Ok(())
    })
    .await?;
    let rubric_of = |version: u32| -> Rubric {
        community
            .rubrics
            .iter()
            .find(|r| r.version == version)
            .cloned()
            .unwrap_or_else(Rubric::defaults)
    };
    let mut rows: Vec<StairwellStanding> = report.stairwells.clone();
    for r in rows.iter_mut() {
        for m in r.months.iter_mut() {
            let Some((scores, version)) = inspected.get(&(r.stairwell_id, m.month)) else {
                continue;
            };
            m.items = rescaled_items(scores, &rubric_of(*version).items, proposal);
            m.participation =
                participation_score(m.participants, r.households, proposal.participation_max);
            m.score = Some(month_total(m.items, m.participation, m.deductions));
        }
    }
    let (after, flags_after) = rank_and_flag(rows);
    let before: HashMap<StairwellId, &StairwellStanding> = report
        .stairwells
        .iter()
        .map(|s| (s.stairwell_id, s))
        .collect();
    let stairwells = after
        .iter()
        .map(|a| {
            let b = before.get(&a.stairwell_id);
            StairwellChange {
                stairwell_id: a.stairwell_id,
                label: a.label(),
                average_before: b.and_then(|b| b.average),
                average_after: a.average,
                rank_before: b.and_then(|b| b.rank),
                rank_after: a.rank,
                red_flag_months_before: b.map(|b| b.red_flag_months.clone()).unwrap_or_default(),
                red_flag_months_after: a.red_flag_months.clone(),
            }
        })
        .collect();
    let mut red_flags = Vec::new();
    for month in 1..=12u32 {
        let b = report.red_flags.iter().find(|f| f.month == month);
        let a = flags_after.iter().find(|f| f.month == month);
        if b.is_none() && a.is_none() {
            continue;
        }
        red_flags.push(FlagChange {
            month,
            before: b.map(|f| (f.label.clone(), f.score)),
            after: a.map(|f| (f.label.clone(), f.score)),
            changes_hands: b.map(|f| f.stairwell_id) != a.map(|f| f.stairwell_id),
        });
    }
    Ok(RubricWhatIf {
        community_id,
        year,
        position,
        stairwells,
        red_flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, max: i64) -> RubricItem {
        RubricItem {
            key: key.into(),
            name: key.into(),
            max: Decimal::from(max),
        }
    }

    #[test]
    fn kept_items_keep_their_fraction_and_new_ones_take_the_overall_one() {
        let old = [item("clean", 30), item("clutter", 25), item("fire", 25)];
        let scores: BTreeMap<String, Decimal> = [("clean", 27), ("clutter", 20), ("fire", 25)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Decimal::from(v)))
            .collect();
        // Clean 30 → 40 (27/30 = 0.9 → 36); fire dropped; garden new (72/80 = 0.9 → 9).
        let proposal = RubricProposal {
            items: vec![item("clean", 40), item("clutter", 30), item("garden", 10)],
            participation_max: Decimal::from(20),
        };
        // 36 + 20/25 × 30 = 24 + 9 = 69.
        assert_eq!(rescaled_items(&scores, &old, &proposal), Decimal::from(69));
        // The same rubric gives the same sum.
        let same = RubricProposal {
            items: old.to_vec(),
            participation_max: Decimal::from(20),
        };
        assert_eq!(rescaled_items(&scores, &old, &same), Decimal::from(72));
    }

    #[test]
    fn a_rescaled_item_is_rounded_half_away_from_zero() {
        // 1 of 8 on a maximum of 1: 0.125 → 0.13 (banker's rounding would give 0.12).
        let scores = BTreeMap::from([("clean".to_string(), Decimal::ONE)]);
        let proposal = RubricProposal {
            items: vec![item("clean", 1)],
            participation_max: Decimal::ZERO,
        };
        assert_eq!(
            rescaled_items(&scores, &[item("clean", 8)], &proposal),
            Decimal::new(13, 2)
        );
    }
}
