//! What-if replay (规则试算): a community's log replayed under proposed point rules and
//! star thresholds, **without writing anything**, beside what the rules in force gave.
//!
//! - Points: every verified service of the community is credited again as if the
//!   proposed point rules had been in force on its day (awards stay as they were; a
//!   reversed entry counts for neither). Points are those earned, net of reversals, as
//!   the rankings count them: in the period by the day an entry counts on (a service's
//!   day, an award's day of record, UTC+8).
//! - Stars: each volunteer's level today under the thresholds in force, on their
//!   verified hours and points earned as they are, against the proposed thresholds (or
//!   the ones in force, when none is proposed) on the points the proposal would give.
//! - The top 20 by points in the period, before and after (dense ranks).
//!
//! One scan of the community's events ([`crate::fold::scan_community`]). A proposed
//! 文明楼道 rubric is replayed in [`rubric`]: the stairwells' year and red flags.

pub mod rubric;

pub use rubric::{rubric_what_if, FlagChange, RubricProposal, RubricWhatIf, StairwellChange};

use crate::error::ReportError;
use crate::fold;
use crate::labels::local_date;
use chrono::{Datelike, NaiveDate};
use ledger::amount::{Hours, Points};
use ledger::domain::community::{CommunityState, PointRules, StarThresholds};
use ledger::domain::Aggregate;
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::store::Store;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Proposed rules; what is not proposed stays as in force.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Proposal {
    /// Points per verified hour and the coefficient per kind (1 when not said).
    pub point_rules: Option<(Points, BTreeMap<ServiceKind, Decimal>)>,
    /// Five star thresholds in hours, and optionally in points earned.
    pub stars: Option<(Vec<Hours>, Option<Vec<Points>>)>,
}

/// One volunteer's points in the period, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PointsChange {
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    pub before: Points,
    pub after: Points,
}

/// One place of a top list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub rank: u64,
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    pub points: Points,
}

/// What the proposal would change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub community_id: CommunityId,
    /// `None`: all time.
    pub year: Option<i32>,
    /// The log position replayed up to.
    pub position: u64,
    /// Volunteers whose points in the period would change, most changed first.
    pub changes: Vec<PointsChange>,
    pub points_before: Points,
    pub points_after: Points,
    /// Volunteers per star level 0–5 today, before and after.
    pub stars_before: [u32; 6],
    pub stars_after: [u32; 6],
    pub top_before: Vec<Place>,
    pub top_after: Vec<Place>,
}

/// Places in a top list.
pub const TOP: usize = 20;

const WANTED: [&str; 6] = [
    "VolunteerRegistered",
    "VolunteerTransferred",
    "ServiceLogged",
    "ServiceVerified",
    "PointsAwarded",
    "EntryReversed",
];

#[derive(Default)]
struct Account {
    number: String,
    /// Net verified minutes, all time.
    minutes: i64,
    /// Points earned net of reversals, all time: in force, and proposed.
    all: (i64, i64),
    /// The same in the period.
    period: (i64, i64),
}

/// An entry's part: volunteer, minutes, points in force and proposed, in the period.
type Part = (VolunteerId, i64, i64, i64, bool);

/// Replays the community's log up to its head under `proposal`.
pub async fn what_if(
    store: &Store,
    community_id: CommunityId,
    proposal: &Proposal,
    year: Option<i32>,
    today: NaiveDate,
) -> Result<WhatIf, ReportError> {
    let position = fold::pin(store, None).await?;
    let mut community = CommunityState::default();
    for rec in store
        .read_stream(&community_stream(community_id), 0)
        .await?
    {
        community.evolve(&Event::decode(&rec)?);
    }
    let proposed_rules = proposal
        .point_rules
        .as_ref()
        .map(|(rate, coef)| PointRules {
            version: 0,
            points_per_hour: *rate,
            coefficients: coef.clone(),
            max_hours_per_record: Hours::whole(24),
            effective_from: NaiveDate::MIN,
        });
    let in_period = |d: NaiveDate| year.is_none_or(|y| d.year() == y);
    let mut accounts: HashMap<VolunteerId, Account> = HashMap::new();
    let mut logged: HashMap<ServiceId, (ServiceKind, NaiveDate)> = HashMap::new();
    let mut parts: HashMap<EntryId, Part> = HashMap::new();
    fold::scan_community(store, community_id.0, &WANTED, position, &|_, _| {}, |e| {
        let vid = match parse_stream(&e.stream_id) {
            Some((StreamKind::Volunteer, id)) => VolunteerId(id),
            _ => return Ok(()),
        };
        match e.event {
            Event::VolunteerRegistered {
                volunteer_number, ..
            } => accounts.entry(vid).or_default().number = volunteer_number,
            Event::VolunteerTransferred(t) => {
                accounts.entry(vid).or_default().number = t.volunteer_number
            }
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                ..
            } => {
                logged.insert(service_id, (kind, local_date(started_at)));
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                hours,
                points,
                ..
            } => {
                let (kind, day) = logged
                    .get(&service_id)
                    .copied()
                    .unwrap_or((ServiceKind::Other, local_date(e.recorded_at)));
                let proposed = match &proposed_rules {
                    Some(r) => r.points_for(hours, kind).unwrap_or(points),
                    None => points,
                };
                let part = (
                    vid,
                    hours.minutes(),
                    points.hundredths(),
                    proposed.hundredths(),
                    in_period(day),
                );
                apply(&mut accounts, &part, 1);
                parts.insert(entry_id, part);
            }
            Event::PointsAwarded {
                entry_id, points, ..
            } => {
                let p = points.hundredths();
                let part = (vid, 0, p, p, in_period(local_date(e.recorded_at)));
                apply(&mut accounts, &part, 1);
                parts.insert(entry_id, part);
            }
            Event::EntryReversed { reverses, .. } => {
                if let Some(part) = parts.remove(&reverses) {
                    apply(&mut accounts, &part, -1);
                }
            }
            _ => {}
        }
        Ok(())
    })
    .await?;

    let rule_now = community.star_thresholds_on(today);
    let rule_after = match &proposal.stars {
        Some((hours, points)) => StarThresholds {
            version: 0,
            thresholds: hours.clone(),
            effective_from: NaiveDate::MIN,
            points: points.clone(),
        },
        None => rule_now.clone(),
    };
    let mut out = WhatIf {
        community_id,
        year,
        position,
        changes: Vec::new(),
        points_before: Points::ZERO,
        points_after: Points::ZERO,
        stars_before: [0; 6],
        stars_after: [0; 6],
        top_before: Vec::new(),
        top_after: Vec::new(),
    };
    let mut ids: Vec<&VolunteerId> = accounts.keys().collect();
    ids.sort_by_key(|v| (&accounts[v].number, v.0));
    for v in ids {
        let a = &accounts[v];
        let hours = Hours::from_minutes(a.minutes);
        let before = rule_now.level(hours, Points::from_hundredths(a.all.0));
        let after = rule_after.level(hours, Points::from_hundredths(a.all.1));
        out.stars_before[usize::from(before.min(5))] += 1;
        out.stars_after[usize::from(after.min(5))] += 1;
        out.points_before = out
            .points_before
            .saturating_add(Points::from_hundredths(a.period.0));
        out.points_after = out
            .points_after
            .saturating_add(Points::from_hundredths(a.period.1));
        if a.period.0 != a.period.1 {
            out.changes.push(PointsChange {
                volunteer_id: *v,
                volunteer_number: a.number.clone(),
                before: Points::from_hundredths(a.period.0),
                after: Points::from_hundredths(a.period.1),
            });
        }
    }
    out.changes.sort_by_key(|c| {
        (
            std::cmp::Reverse((c.after.hundredths() - c.before.hundredths()).abs()),
            c.volunteer_number.clone(),
        )
    });
    out.top_before = top(&accounts, |a| a.period.0);
    out.top_after = top(&accounts, |a| a.period.1);
    Ok(out)
}

/// Adds (`sign` 1) or takes away (−1) what an entry counts for.
fn apply(accounts: &mut HashMap<VolunteerId, Account>, p: &Part, sign: i64) {
    let a = accounts.entry(p.0).or_default();
    a.minutes += sign * p.1;
    a.all.0 += sign * p.2;
    a.all.1 += sign * p.3;
    if p.4 {
        a.period.0 += sign * p.2;
        a.period.1 += sign * p.3;
    }
}

/// The top [`TOP`] by `value` (positive only), dense ranks, ties by volunteer number,
/// with everyone tied with the last.
fn top(accounts: &HashMap<VolunteerId, Account>, value: impl Fn(&Account) -> i64) -> Vec<Place> {
    let mut all: Vec<(&VolunteerId, &Account)> =
        accounts.iter().filter(|(_, a)| value(a) > 0).collect();
    all.sort_by(|x, y| {
        value(y.1)
            .cmp(&value(x.1))
            .then(x.1.number.cmp(&y.1.number))
    });
    let mut out: Vec<Place> = Vec::new();
    let mut rank = 0;
    let mut last = None;
    for (v, a) in all {
        let p = value(a);
        if last != Some(p) {
            if out.len() >= TOP {
                break;
            }
            rank += 1;
            last = Some(p);
        }
        out.push(Place {
            rank,
            volunteer_id: *v,
            volunteer_number: a.number.clone(),
            points: Points::from_hundredths(p),
        });
    }
    out
}
