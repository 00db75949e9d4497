//! The tally the annual report folds a community's events into: each volunteer's
//! organisation as it was when an event happened, and what every balance entry counted
//! for (period, kind, volunteer, organisation unit), so that its reversal takes it away.

use super::model::UnitTotal;
use super::HashMap;
use crate::fold::CommunityEvent;
use crate::labels::local_date;
use crate::stairwell::{self, IssueSpan, StairwellFacts};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::domain::community::PARTICIPATION_KEY;
use ledger::domain::{Aggregate, CommunityState};
use ledger::event::{Event, RecordSource, ServiceKind};
use ledger::ids::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A volunteer's organisation at one moment.
#[derive(Debug, PartialEq)]
pub(super) struct Org {
    pub(super) stairwell: StairwellId,
    /// The household (户) in the stairwell; "" when none was given.
    pub(super) household: String,
    pub(super) grid: GridId,
    pub(super) teams: Vec<TeamId>,
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Sums {
    pub(super) services: i64,
    pub(super) minutes: i64,
    pub(super) points: i64,
    /// Attendances of activities (参与活动人次).
    pub(super) activities: i64,
    /// Minutes from activities' attendance (签到签退).
    pub(super) activity_minutes: i64,
    /// Minutes from 补录.
    pub(super) late_minutes: i64,
}

impl Sums {
    fn add(&mut self, services: i64, minutes: i64, points: i64) {
        self.services += services;
        self.minutes += minutes;
        self.points += points;
    }

    /// Counts an activity's record (`sign` 1) or takes it away (−1).
    fn add_activity(&mut self, sign: i64, minutes: i64, source: RecordSource) {
        self.activities += sign;
        match source {
            RecordSource::Attendance => self.activity_minutes += minutes,
            RecordSource::Late => self.late_minutes += minutes,
        }
    }

    pub(super) fn unit(&self, active: u64) -> UnitTotal {
        UnitTotal {
            active_volunteers: active,
            services: self.services,
            hours: Hours::from_minutes(self.minutes),
            points: Points::from_hundredths(self.points),
            activities: self.activities,
            activity_hours: Hours::from_minutes(self.activity_minutes),
            late_hours: Hours::from_minutes(self.late_minutes),
        }
    }
}

#[derive(Debug)]
pub(super) struct Vol {
    pub(super) number: String,
    pub(super) tags: Vec<String>,
    pub(super) org: Arc<Org>,
    pub(super) registered_at: DateTime<Utc>,
    pub(super) departed_at: Option<DateTime<Utc>>,
    /// Logged, not yet verified: service → (kind, service date, the activity's record
    /// it is, if one).
    pub(super) pending: HashMap<ServiceId, (ServiceKind, NaiveDate, Option<RecordSource>)>,
    /// Net verified minutes dated before the year.
    pub(super) minutes_before: i64,
    /// Net points earned (services and awards) dated before the year: what a star rule
    /// with points counts, with the year's.
    pub(super) points_before: i64,
    pub(super) year: Sums,
}

impl Vol {
    /// A volunteer of the community from `at`, with nothing counted yet.
    fn new(number: String, tags: Vec<String>, org: Org, at: DateTime<Utc>) -> Vol {
        Vol {
            number,
            tags,
            org: Arc::new(org),
            registered_at: at,
            departed_at: None,
            pending: HashMap::default(),
            minutes_before: 0,
            points_before: 0,
            year: Sums::default(),
        }
    }
}

/// What a balance entry counted for, so that its reversal takes it away again.
#[derive(Debug)]
pub(super) struct EntryAttr {
    pub(super) volunteer: VolunteerId,
    pub(super) date: NaiveDate,
    /// `None` for an award.
    pub(super) kind: Option<ServiceKind>,
    pub(super) org: Arc<Org>,
    pub(super) minutes: i64,
    pub(super) points: i64,
    /// The activity record a service is (attendance or 补录).
    pub(super) activity: Option<RecordSource>,
}

#[derive(Debug, Default)]
pub(super) struct MonthAcc {
    pub(super) services: i64,
    pub(super) minutes: i64,
    pub(super) service_points: i64,
    pub(super) award_points: i64,
    pub(super) redeemed: i64,
}

#[derive(Debug)]
pub(super) struct WishTrack {
    pub(super) posted_at: DateTime<Utc>,
    pub(super) fulfilled_at: Option<DateTime<Utc>>,
    pub(super) confirmed: bool,
}

pub(super) struct Annual {
    pub(super) community_id: CommunityId,
    pub(super) year: i32,
    pub(super) community: CommunityState,
    pub(super) volunteers: HashMap<VolunteerId, Vol>,
    pub(super) entries: HashMap<EntryId, EntryAttr>,
    pub(super) months: Vec<MonthAcc>,
    /// (volunteer, month) → net minutes.
    pub(super) vol_month: HashMap<(VolunteerId, u32), i64>,
    pub(super) kinds: BTreeMap<ServiceKind, Sums>,
    pub(super) teams: HashMap<TeamId, Sums>,
    pub(super) team_vol: HashMap<(TeamId, VolunteerId), i64>,
    pub(super) grids: HashMap<GridId, Sums>,
    pub(super) grid_vol: HashMap<(GridId, VolunteerId), i64>,
    /// (stairwell, month) → (volunteer, household) → net minutes.
    pub(super) stairwell_vol: HashMap<(StairwellId, u32), HashMap<(VolunteerId, String), i64>>,
    pub(super) wishes: HashMap<WishId, WishTrack>,
    pub(super) stairwells: StairwellFacts,
    pub(super) issue_index: HashMap<IssueId, (StairwellId, usize)>,
    /// The community's activity records of the year (attendances, their hours, 补录).
    pub(super) total: Sums,
}

/// Event types the annual report reads; the others are not read.
pub const WANTED: [&str; 26] = [
    "CommunityEstablished",
    "GridAdded",
    "StairwellRegistered",
    "TeamFormed",
    "StarThresholdsSet",
    "RubricSet",
    "VolunteerRegistered",
    "VolunteerTransferred",
    "VolunteerTransferredOut",
    "VolunteerMoved",
    "TeamJoined",
    "TeamLeft",
    "VolunteerDeparted",
    "VolunteerTagsSet",
    "ServiceLogged",
    "ServiceVerified",
    "PointsAwarded",
    "PointsRedeemed",
    "PointsRefunded",
    "EntryReversed",
    "WishPosted",
    "WishFulfilled",
    "WishConfirmed",
    "StairwellInspected",
    "StairwellIssueReported",
    "StairwellIssueResolved",
];

impl Annual {
    pub(super) fn new(community_id: CommunityId, year: i32) -> Annual {
        Annual {
            community_id,
            year,
            community: CommunityState::default(),
            volunteers: HashMap::default(),
            entries: HashMap::default(),
            months: (0..12).map(|_| MonthAcc::default()).collect(),
            vol_month: HashMap::default(),
            kinds: BTreeMap::new(),
            teams: HashMap::default(),
            team_vol: HashMap::default(),
            grids: HashMap::default(),
            grid_vol: HashMap::default(),
            stairwell_vol: HashMap::default(),
            wishes: HashMap::default(),
            stairwells: StairwellFacts::default(),
            total: Sums::default(),
            issue_index: HashMap::default(),
        }
    }

    pub(super) fn visit(&mut self, e: CommunityEvent) {
        let at = e.recorded_at;
        let event = e.event;
        match parse_stream(&e.stream_id) {
            Some((StreamKind::Community, _)) => {
                // Moved to another community (转移接续): gone from here that day.
                if let Event::VolunteerTransferredOut(o) = &event {
                    if let Some(v) = self.volunteers.get_mut(&o.volunteer_id) {
                        v.departed_at = Some(at);
                    }
                }
                self.community.evolve(&event)
            }
            Some((StreamKind::Volunteer, id)) => self.volunteer_event(VolunteerId(id), at, event),
            Some((StreamKind::Wish, id)) => self.wish_event(WishId(id), at, event),
            Some((StreamKind::Stairwell, id)) => self.stairwell_event(StairwellId(id), at, event),
            // An activity's attendance counts once final, as the services it credits; the
            // points shop through the redemptions on the accounts, a history import
            // through the services it recorded. Streets and districts are not in a
            // community's log.
            Some((
                StreamKind::Activity
                | StreamKind::ShopItem
                | StreamKind::ImportBatch
                | StreamKind::Street
                | StreamKind::District,
                _,
            ))
            | None => {}
        }
    }

    fn volunteer_event(&mut self, id: VolunteerId, at: DateTime<Utc>, event: Event) {
        // Moved in from another community: a volunteer here from that day, with the
        // verified hours and points the record carries (for the stars).
        if let Event::VolunteerTransferred(t) = event {
            let org = Org {
                stairwell: t.stairwell_id,
                household: stairwell::household_key(t.household.as_deref()),
                grid: t.grid_id,
                teams: Vec::new(),
            };
            let mut vol = Vol::new(t.volunteer_number, t.tags, org, at);
            vol.minutes_before = t.verified_hours.minutes();
            vol.points_before = t.star_points.hundredths();
            self.volunteers.insert(id, vol);
            return;
        }
        if let Event::VolunteerRegistered {
            volunteer_number,
            stairwell_id,
            grid_id,
            tags,
            teams,
            household,
            ..
        } = event
        {
            let mut teams = teams;
            teams.sort();
            teams.dedup();
            let org = Org {
                stairwell: stairwell_id,
                household: stairwell::household_key(household.as_deref()),
                grid: grid_id,
                teams,
            };
            self.volunteers
                .insert(id, Vol::new(volunteer_number, tags, org, at));
            return;
        }
        let Some(vol) = self.volunteers.get_mut(&id) else {
            return;
        };
        match event {
            Event::VolunteerMoved {
                stairwell_id,
                grid_id,
                household,
            } => {
                vol.org = Arc::new(Org {
                    stairwell: stairwell_id,
                    household: stairwell::household_key(household.as_deref()),
                    grid: grid_id,
                    teams: vol.org.teams.clone(),
                });
            }
            Event::TeamJoined { team_id } => {
                let mut teams = vol.org.teams.clone();
                if let Err(i) = teams.binary_search(&team_id) {
                    teams.insert(i, team_id);
                }
                vol.org = Arc::new(Org {
                    stairwell: vol.org.stairwell,
                    household: vol.org.household.clone(),
                    grid: vol.org.grid,
                    teams,
                });
            }
            Event::TeamLeft { team_id } => {
                let mut teams = vol.org.teams.clone();
                teams.retain(|t| *t != team_id);
                vol.org = Arc::new(Org {
                    stairwell: vol.org.stairwell,
                    household: vol.org.household.clone(),
                    grid: vol.org.grid,
                    teams,
                });
            }
            Event::VolunteerDeparted { .. } => vol.departed_at = Some(at),
            Event::VolunteerTagsSet { tags } => vol.tags = tags,
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                activity,
                ..
            } => {
                vol.pending.insert(
                    service_id,
                    (kind, local_date(started_at), activity.map(|a| a.source)),
                );
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                hours,
                points,
                ..
            } => {
                let Some((kind, date, activity)) = vol.pending.remove(&service_id) else {
                    return;
                };
                let attr = EntryAttr {
                    volunteer: id,
                    date,
                    kind: Some(kind),
                    org: vol.org.clone(),
                    minutes: hours.minutes(),
                    points: points.hundredths(),
                    activity,
                };
                self.apply(&attr, 1);
                self.entries.insert(entry_id, attr);
            }
            Event::PointsAwarded {
                entry_id, points, ..
            } => {
                let attr = EntryAttr {
                    volunteer: id,
                    date: local_date(at),
                    kind: None,
                    org: vol.org.clone(),
                    minutes: 0,
                    points: points.hundredths(),
                    activity: None,
                };
                self.apply(&attr, 1);
                self.entries.insert(entry_id, attr);
            }
            Event::PointsRedeemed { points, .. } => {
                let date = local_date(at);
                if date.year() == self.year {
                    self.months[date.month0() as usize].redeemed += points.hundredths();
                }
            }
            // A redemption cancelled: net of it in the month of the cancellation.
            Event::PointsRefunded { points, .. } => {
                let date = local_date(at);
                if date.year() == self.year {
                    self.months[date.month0() as usize].redeemed -= points.hundredths();
                }
            }
            Event::EntryReversed { reverses, .. } => {
                if let Some(attr) = self.entries.remove(&reverses) {
                    self.apply(&attr, -1);
                }
            }
            _ => {}
        }
    }

    /// Adds (`sign` 1) or takes away (`sign` −1) what an entry counts for.
    fn apply(&mut self, attr: &EntryAttr, sign: i64) {
        let minutes = sign * attr.minutes;
        let points = sign * attr.points;
        let services = if attr.kind.is_some() { sign } else { 0 };
        let vol = self.volunteers.get_mut(&attr.volunteer);
        if attr.date.year() < self.year {
            if let Some(v) = vol {
                v.minutes_before += minutes;
                v.points_before += points;
            }
            return;
        }
        if attr.date.year() > self.year {
            return;
        }
        if let Some(v) = vol {
            v.year.add(services, minutes, points);
            if let Some(source) = attr.activity {
                v.year.add_activity(sign, minutes, source);
            }
        }
        if let Some(source) = attr.activity {
            self.total.add_activity(sign, minutes, source);
        }
        let m = attr.date.month();
        let month = &mut self.months[attr.date.month0() as usize];
        month.services += services;
        month.minutes += minutes;
        if attr.kind.is_some() {
            month.service_points += points;
        } else {
            month.award_points += points;
        }
        if let Some(kind) = attr.kind {
            self.kinds
                .entry(kind)
                .or_default()
                .add(services, minutes, points);
            *self.vol_month.entry((attr.volunteer, m)).or_default() += minutes;
            *self
                .stairwell_vol
                .entry((attr.org.stairwell, m))
                .or_default()
                .entry((attr.volunteer, attr.org.household.clone()))
                .or_default() += minutes;
            *self
                .grid_vol
                .entry((attr.org.grid, attr.volunteer))
                .or_default() += minutes;
            for t in &attr.org.teams {
                *self.team_vol.entry((*t, attr.volunteer)).or_default() += minutes;
            }
        }
        let grid = self.grids.entry(attr.org.grid).or_default();
        grid.add(services, minutes, points);
        if let Some(source) = attr.activity {
            grid.add_activity(sign, minutes, source);
        }
        for t in &attr.org.teams {
            let team = self.teams.entry(*t).or_default();
            team.add(services, minutes, points);
            if let Some(source) = attr.activity {
                team.add_activity(sign, minutes, source);
            }
        }
    }

    fn wish_event(&mut self, id: WishId, at: DateTime<Utc>, event: Event) {
        match event {
            Event::WishPosted { .. } => {
                self.wishes.insert(
                    id,
                    WishTrack {
                        posted_at: at,
                        fulfilled_at: None,
                        confirmed: false,
                    },
                );
            }
            Event::WishFulfilled { fulfilled_at, .. } => {
                if let Some(w) = self.wishes.get_mut(&id) {
                    w.fulfilled_at = Some(fulfilled_at);
                }
            }
            Event::WishConfirmed { .. } => {
                if let Some(w) = self.wishes.get_mut(&id) {
                    w.confirmed = true;
                }
            }
            _ => {}
        }
    }

    fn stairwell_event(&mut self, id: StairwellId, at: DateTime<Utc>, event: Event) {
        match event {
            Event::StairwellInspected { month, scores, .. } => {
                let Ok(first) = ledger::domain::stairwell::parse_month(&month) else {
                    return;
                };
                if first.year() != self.year {
                    return;
                }
                let items: Decimal = scores
                    .iter()
                    .filter(|(k, _)| k.as_str() != PARTICIPATION_KEY)
                    .map(|(_, v)| *v)
                    .sum();
                self.stairwells
                    .inspections
                    .entry(id)
                    .or_default()
                    .insert(first.month(), items);
            }
            Event::StairwellIssueReported {
                issue_id,
                deduction,
                ..
            } => {
                let issues = self.stairwells.issues.entry(id).or_default();
                self.issue_index.insert(issue_id, (id, issues.len()));
                issues.push(IssueSpan {
                    reported_at: at,
                    resolved_at: None,
                    deduction,
                });
            }
            Event::StairwellIssueResolved { issue_id, .. } => {
                if let Some((s, i)) = self.issue_index.get(&issue_id) {
                    if let Some(issue) = self
                        .stairwells
                        .issues
                        .get_mut(s)
                        .and_then(|v| v.get_mut(*i))
                    {
                        issue.resolved_at.get_or_insert(at);
                    }
                }
            }
            _ => {}
        }
    }
}
