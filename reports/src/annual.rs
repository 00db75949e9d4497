//! The annual commendation report (年度表彰报告) of one community for one calendar year
//! (China Standard Time), pinned to a log position.
//!
//! [`annual_report`] folds the log from position 0 to `P` once, keeping only the
//! community's events, and returns an [`AnnualReport`]: totals, services by kind, top
//! volunteers by hours and by points with their star level and the stars newly reached
//! in the year, team totals, grid totals, the 文明楼道 standings with the red-flag
//! months, and month-by-month figures. See the crate documentation for the attribution
//! rules (service date, reversals net against what they reverse, organisation as it was).
//!
//! Definitions:
//! - *active volunteer*: net verified service hours dated in the year above zero;
//! - *registered volunteers*: registered by the end of the year and not departed by then;
//! - *points awarded* = points of verified services + 积分奖励 awards, net of
//!   reversals; *points redeemed*: redemptions at the points shop recorded in the year;
//! - *star level*: cumulative net verified hours (all service dates up to the end of the
//!   year) against the star thresholds in force at `P` (on the date `P` was recorded);
//!   *new stars* are the levels above the one held on 1 January;
//! - *wishes posted*: posted in the year; *fulfilled*: confirmed by staff, with a
//!   fulfilment date in the year; *days to fulfil*: from posting to fulfilment.

use crate::error::ReportError;
use crate::fold::{self, CommunityEvent};
use crate::labels::{kind_label, local_date, local_midnight, star_level};
use crate::people;
use crate::stairwell::{self, IssueSpan, RedFlagMonth, StairwellFacts, StairwellStanding};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::domain::community::PARTICIPATION_KEY;
use ledger::domain::{Aggregate, CommunityState};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::store::Store;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The fold touches several maps per event: a fast hasher (seeded per process).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::Arc;

/// Length of the top-volunteer lists.
pub const TOP_N: usize = 20;

/// The star thresholds a document used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StarRule {
    /// 0 for the built-in defaults.
    pub version: u32,
    pub thresholds: Vec<Hours>,
    pub effective_from: NaiveDate,
}

/// 总体情况.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub registered_volunteers: u64,
    pub active_volunteers: u64,
    pub services: i64,
    pub verified_hours: Hours,
    pub service_points: Points,
    pub award_points: Points,
    pub points_awarded: Points,
    pub points_redeemed: Points,
    pub wishes_posted: u64,
    pub wishes_fulfilled: u64,
    /// Median days from posting to fulfilment, to one decimal.
    pub median_days_to_fulfil: Option<Decimal>,
}

/// One service kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindTotal {
    pub kind: ServiceKind,
    pub label: String,
    pub services: i64,
    pub hours: Hours,
    pub points: Points,
}

/// A volunteer in a list of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolunteerLine {
    /// Dense rank in the list (ties share a rank).
    pub rank: u32,
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    /// From the personal-data table when the report was produced.
    pub name: String,
    pub tags: Vec<String>,
    pub services: i64,
    pub hours: Hours,
    pub points: Points,
    /// Cumulative net verified hours at the end of the year.
    pub cumulative_hours: Hours,
    pub star_level: u8,
    pub star_level_at_start: u8,
    /// Star levels newly reached in the year (e.g. `[2, 3]`).
    pub new_stars: Vec<u8>,
}

/// A team (志愿服务队) or a grid (网格): what its members did in the year.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitTotal {
    pub active_volunteers: u64,
    pub services: i64,
    pub hours: Hours,
    pub points: Points,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamTotal {
    pub team_id: TeamId,
    pub name: String,
    #[serde(flatten)]
    pub totals: UnitTotal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridTotal {
    pub grid_id: GridId,
    pub name: String,
    /// The grid a micro-grid (微网格) belongs to.
    pub parent_name: Option<String>,
    pub stairwells: u64,
    #[serde(flatten)]
    pub totals: UnitTotal,
}

/// One month of the year.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonthTotal {
    pub month: u32,
    pub active_volunteers: u64,
    pub services: i64,
    pub hours: Hours,
    pub service_points: Points,
    pub award_points: Points,
    pub points_awarded: Points,
    pub points_redeemed: Points,
}

/// The annual report, pinned to `position`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnualReport {
    pub community_id: CommunityId,
    pub community_name: String,
    pub year: i32,
    /// The log position the report was computed at.
    pub position: u64,
    /// When the event at `position` was recorded.
    pub as_of: Option<DateTime<Utc>>,
    pub star_rule: StarRule,
    pub totals: Totals,
    pub services_by_kind: Vec<KindTotal>,
    pub top_by_hours: Vec<VolunteerLine>,
    pub top_by_points: Vec<VolunteerLine>,
    pub new_stars: Vec<VolunteerLine>,
    pub teams: Vec<TeamTotal>,
    pub grids: Vec<GridTotal>,
    pub stairwells: Vec<StairwellStanding>,
    pub red_flags: Vec<RedFlagMonth>,
    pub months: Vec<MonthTotal>,
}

/// Computes the annual report of `community_id` for `year` at position `at` (the head
/// when `None`). `progress(done, total)` is called as the log is read (positions).
pub async fn annual_report(
    store: &Store,
    community_id: CommunityId,
    year: i32,
    at: Option<u64>,
    progress: impl Fn(u64, u64) + Send + Sync,
) -> Result<AnnualReport, ReportError> {
    if !(2000..=9999).contains(&year) {
        return Err(ReportError::InvalidInput(format!(
            "year {year} is outside 2000..=9999"
        )));
    }
    let position = fold::pin(store, at).await?;
    let mut acc = Annual::new(community_id, year);
    fold::scan_community(store, community_id.0, &WANTED, position, &progress, |e| {
        acc.visit(e);
        Ok(())
    })
    .await?;
    let as_of = fold::recorded_at(store, position).await?;
    let mut report = acc.finish(position, as_of)?;
    let names = people::display_names(
        store,
        report
            .top_by_hours
            .iter()
            .chain(&report.top_by_points)
            .chain(&report.new_stars)
            .map(|l| l.volunteer_id),
    )
    .await?;
    for line in report
        .top_by_hours
        .iter_mut()
        .chain(report.top_by_points.iter_mut())
        .chain(report.new_stars.iter_mut())
    {
        if let Some(n) = names.get(&line.volunteer_id) {
            line.name.clone_from(n);
        }
    }
    Ok(report)
}

/// A volunteer's organisation at one moment.
#[derive(Debug, PartialEq)]
struct Org {
    stairwell: StairwellId,
    /// The household (户) in the stairwell; "" when none was given.
    household: String,
    grid: GridId,
    teams: Vec<TeamId>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    services: i64,
    minutes: i64,
    points: i64,
}

impl Sums {
    fn add(&mut self, services: i64, minutes: i64, points: i64) {
        self.services += services;
        self.minutes += minutes;
        self.points += points;
    }

    fn unit(&self, active: u64) -> UnitTotal {
        UnitTotal {
            active_volunteers: active,
            services: self.services,
            hours: Hours::from_minutes(self.minutes),
            points: Points::from_hundredths(self.points),
        }
    }
}

#[derive(Debug)]
struct Vol {
    number: String,
    tags: Vec<String>,
    org: Arc<Org>,
    registered_at: DateTime<Utc>,
    departed_at: Option<DateTime<Utc>>,
    /// Logged, not yet verified: service → (kind, service date).
    pending: HashMap<ServiceId, (ServiceKind, NaiveDate)>,
    /// Net verified minutes dated before the year.
    minutes_before: i64,
    year: Sums,
}

/// What a balance entry counted for, so that its reversal takes it away again.
#[derive(Debug)]
struct EntryAttr {
    volunteer: VolunteerId,
    date: NaiveDate,
    /// `None` for an award.
    kind: Option<ServiceKind>,
    org: Arc<Org>,
    minutes: i64,
    points: i64,
}

#[derive(Debug, Default)]
struct MonthAcc {
    services: i64,
    minutes: i64,
    service_points: i64,
    award_points: i64,
    redeemed: i64,
}

#[derive(Debug)]
struct WishTrack {
    posted_at: DateTime<Utc>,
    fulfilled_at: Option<DateTime<Utc>>,
    confirmed: bool,
}

struct Annual {
    community_id: CommunityId,
    year: i32,
    community: CommunityState,
    volunteers: HashMap<VolunteerId, Vol>,
    entries: HashMap<EntryId, EntryAttr>,
    months: Vec<MonthAcc>,
    /// (volunteer, month) → net minutes.
    vol_month: HashMap<(VolunteerId, u32), i64>,
    kinds: BTreeMap<ServiceKind, Sums>,
    teams: HashMap<TeamId, Sums>,
    team_vol: HashMap<(TeamId, VolunteerId), i64>,
    grids: HashMap<GridId, Sums>,
    grid_vol: HashMap<(GridId, VolunteerId), i64>,
    /// (stairwell, month) → (volunteer, household) → net minutes.
    stairwell_vol: HashMap<(StairwellId, u32), HashMap<(VolunteerId, String), i64>>,
    wishes: HashMap<WishId, WishTrack>,
    stairwells: StairwellFacts,
    issue_index: HashMap<IssueId, (StairwellId, usize)>,
}

/// Event types the annual report reads; the others are not read.
pub const WANTED: [&str; 22] = [
    "CommunityEstablished",
    "GridAdded",
    "StairwellRegistered",
    "TeamFormed",
    "StarThresholdsSet",
    "RubricSet",
    "VolunteerRegistered",
    "VolunteerMoved",
    "TeamJoined",
    "TeamLeft",
    "VolunteerDeparted",
    "ServiceLogged",
    "ServiceVerified",
    "PointsAwarded",
    "PointsRedeemed",
    "EntryReversed",
    "WishPosted",
    "WishFulfilled",
    "WishConfirmed",
    "StairwellInspected",
    "StairwellIssueReported",
    "StairwellIssueResolved",
];

impl Annual {
    fn new(community_id: CommunityId, year: i32) -> Annual {
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
            issue_index: HashMap::default(),
        }
    }

    fn visit(&mut self, e: CommunityEvent) {
        let at = e.recorded_at;
        let event = e.event;
        match parse_stream(&e.stream_id) {
            Some((StreamKind::Community, _)) => self.community.evolve(&event),
            Some((StreamKind::Volunteer, id)) => self.volunteer_event(VolunteerId(id), at, event),
            Some((StreamKind::Wish, id)) => self.wish_event(WishId(id), at, event),
            Some((StreamKind::Stairwell, id)) => self.stairwell_event(StairwellId(id), at, event),
            None => {}
        }
    }

    fn volunteer_event(&mut self, id: VolunteerId, at: DateTime<Utc>, event: Event) {
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
            self.volunteers.insert(
                id,
                Vol {
                    number: volunteer_number,
                    tags,
                    org: Arc::new(Org {
                        stairwell: stairwell_id,
                        household: stairwell::household_key(household.as_deref()),
                        grid: grid_id,
                        teams,
                    }),
                    registered_at: at,
                    departed_at: None,
                    pending: HashMap::default(),
                    minutes_before: 0,
                    year: Sums::default(),
                },
            );
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
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                ..
            } => {
                vol.pending
                    .insert(service_id, (kind, local_date(started_at)));
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                hours,
                points,
                ..
            } => {
                let Some((kind, date)) = vol.pending.remove(&service_id) else {
                    return;
                };
                let attr = EntryAttr {
                    volunteer: id,
                    date,
                    kind: Some(kind),
                    org: vol.org.clone(),
                    minutes: hours.minutes(),
                    points: points.hundredths(),
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
            }
            return;
        }
        if attr.date.year() > self.year {
            return;
        }
        if let Some(v) = vol {
            v.year.add(services, minutes, points);
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
        self.grids
            .entry(attr.org.grid)
            .or_default()
            .add(services, minutes, points);
        for t in &attr.org.teams {
            self.teams
                .entry(*t)
                .or_default()
                .add(services, minutes, points);
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

    fn finish(
        mut self,
        position: u64,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<AnnualReport, ReportError> {
        if self.community.community_id != Some(self.community_id) {
            return Err(ReportError::CommunityNotFound {
                community_id: self.community_id.0,
                position,
            });
        }
        let year = self.year;
        let year_end =
            local_midnight(NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap_or(NaiveDate::MAX));
        let rule_date = as_of.map(local_date).unwrap_or(NaiveDate::MIN);
        let rule = self.community.star_thresholds_on(rule_date);
        let thresholds = rule.thresholds.clone();

        // Volunteers.
        let mut lines: Vec<VolunteerLine> = self
            .volunteers
            .iter()
            .map(|(id, v)| {
                let cumulative = Hours::from_minutes(v.minutes_before + v.year.minutes);
                let start = star_level(Hours::from_minutes(v.minutes_before), &thresholds);
                let end = star_level(cumulative, &thresholds);
                VolunteerLine {
                    rank: 0,
                    volunteer_id: *id,
                    volunteer_number: v.number.clone(),
                    name: people::ERASED_NAME.to_string(),
                    tags: v.tags.clone(),
                    services: v.year.services,
                    hours: Hours::from_minutes(v.year.minutes),
                    points: Points::from_hundredths(v.year.points),
                    cumulative_hours: cumulative,
                    star_level: end,
                    star_level_at_start: start,
                    new_stars: (start.saturating_add(1)..=end).collect(),
                }
            })
            .collect();
        lines.sort_by(|a, b| {
            a.volunteer_number
                .cmp(&b.volunteer_number)
                .then(a.volunteer_id.cmp(&b.volunteer_id))
        });
        let top_by_hours = top(&lines, |l| l.hours.minutes());
        let top_by_points = top(&lines, |l| l.points.hundredths());
        let mut new_stars: Vec<VolunteerLine> = lines
            .iter()
            .filter(|l| !l.new_stars.is_empty())
            .cloned()
            .collect();
        new_stars.sort_by(|a, b| {
            b.star_level
                .cmp(&a.star_level)
                .then(b.hours.cmp(&a.hours))
                .then_with(|| a.volunteer_number.cmp(&b.volunteer_number))
                .then(a.volunteer_id.cmp(&b.volunteer_id))
        });
        dense_rank(&mut new_stars, |l| (l.star_level, 0));

        let registered_volunteers = self
            .volunteers
            .values()
            .filter(|v| v.registered_at < year_end && v.departed_at.is_none_or_after(year_end))
            .count() as u64;
        let active_volunteers = lines.iter().filter(|l| l.hours.is_positive()).count() as u64;

        // Wishes.
        let wishes_posted = self
            .wishes
            .values()
            .filter(|w| local_date(w.posted_at).year() == year)
            .count() as u64;
        let mut days: Vec<Decimal> = self
            .wishes
            .values()
            .filter(|w| w.confirmed)
            .filter_map(|w| {
                let f = w.fulfilled_at?;
                (local_date(f).year() == year).then(|| {
                    let secs = (f - w.posted_at).num_seconds().max(0);
                    Decimal::from(secs) / Decimal::from(86_400)
                })
            })
            .collect();
        days.sort();
        let median_days_to_fulfil = median(&days)
            .map(|d| d.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero));

        // Months.
        let mut month_active = [0u64; 12];
        for ((_, m), minutes) in &self.vol_month {
            if *minutes > 0 {
                month_active[(*m - 1) as usize] += 1;
            }
        }
        let months: Vec<MonthTotal> = self
            .months
            .iter()
            .enumerate()
            .map(|(i, m)| MonthTotal {
                month: i as u32 + 1,
                active_volunteers: month_active[i],
                services: m.services,
                hours: Hours::from_minutes(m.minutes),
                service_points: Points::from_hundredths(m.service_points),
                award_points: Points::from_hundredths(m.award_points),
                points_awarded: Points::from_hundredths(m.service_points + m.award_points),
                points_redeemed: Points::from_hundredths(m.redeemed),
            })
            .collect();

        let sum = |f: fn(&MonthAcc) -> i64| self.months.iter().map(f).sum::<i64>();
        let service_points = sum(|m| m.service_points);
        let award_points = sum(|m| m.award_points);
        let totals = Totals {
            registered_volunteers,
            active_volunteers,
            services: sum(|m| m.services),
            verified_hours: Hours::from_minutes(sum(|m| m.minutes)),
            service_points: Points::from_hundredths(service_points),
            award_points: Points::from_hundredths(award_points),
            points_awarded: Points::from_hundredths(service_points + award_points),
            points_redeemed: Points::from_hundredths(sum(|m| m.redeemed)),
            wishes_posted,
            wishes_fulfilled: days.len() as u64,
            median_days_to_fulfil,
        };

        let services_by_kind = ServiceKind::ALL
            .iter()
            .map(|k| {
                let s = self.kinds.get(k).copied().unwrap_or_default();
                KindTotal {
                    kind: *k,
                    label: kind_label(*k).to_string(),
                    services: s.services,
                    hours: Hours::from_minutes(s.minutes),
                    points: Points::from_hundredths(s.points),
                }
            })
            .collect();

        // Teams and grids.
        let mut team_active: HashMap<TeamId, u64> = HashMap::default();
        for ((t, _), minutes) in &self.team_vol {
            if *minutes > 0 {
                *team_active.entry(*t).or_default() += 1;
            }
        }
        let mut teams: Vec<TeamTotal> = self
            .community
            .teams
            .iter()
            .map(|(id, name)| TeamTotal {
                team_id: *id,
                name: name.clone(),
                totals: self
                    .teams
                    .get(id)
                    .copied()
                    .unwrap_or_default()
                    .unit(team_active.get(id).copied().unwrap_or(0)),
            })
            .collect();
        teams.sort_by(|a, b| {
            b.totals
                .hours
                .cmp(&a.totals.hours)
                .then_with(|| a.name.cmp(&b.name))
                .then(a.team_id.cmp(&b.team_id))
        });
        let mut grid_active: HashMap<GridId, u64> = HashMap::default();
        for ((g, _), minutes) in &self.grid_vol {
            if *minutes > 0 {
                *grid_active.entry(*g).or_default() += 1;
            }
        }
        let mut grids: Vec<GridTotal> = self
            .community
            .grids
            .iter()
            .map(|(id, g)| GridTotal {
                grid_id: *id,
                name: g.name.clone(),
                parent_name: g
                    .parent
                    .and_then(|p| self.community.grids.get(&p))
                    .map(|p| p.name.clone()),
                stairwells: self
                    .community
                    .stairwells
                    .values()
                    .filter(|s| s.grid_id == *id)
                    .count() as u64,
                totals: self
                    .grids
                    .get(id)
                    .copied()
                    .unwrap_or_default()
                    .unit(grid_active.get(id).copied().unwrap_or(0)),
            })
            .collect();
        grids.sort_by(|a, b| {
            b.totals
                .hours
                .cmp(&a.totals.hours)
                .then_with(|| a.name.cmp(&b.name))
                .then(a.grid_id.cmp(&b.grid_id))
        });

        // Stairwells.
        for (key, vols) in &self.stairwell_vol {
            let n = stairwell::households_served(
                vols.iter()
                    .filter(|(_, m)| **m > 0)
                    .map(|((v, h), _)| (*v, h.as_str())),
            );
            self.stairwells.participants.insert(*key, n);
        }
        let (stairwells, red_flags) = stairwell::standings(year, &self.community, &self.stairwells);

        Ok(AnnualReport {
            community_id: self.community_id,
            community_name: self.community.name.clone(),
            year,
            position,
            as_of,
            star_rule: StarRule {
                version: rule.version,
                thresholds: rule.thresholds,
                effective_from: rule.effective_from,
            },
            totals,
            services_by_kind,
            top_by_hours,
            top_by_points,
            new_stars,
            teams,
            grids,
            stairwells,
            red_flags,
            months,
        })
    }
}

trait DepartedBy {
    fn is_none_or_after(&self, t: DateTime<Utc>) -> bool;
}

impl DepartedBy for Option<DateTime<Utc>> {
    /// Not departed before `t`.
    fn is_none_or_after(&self, t: DateTime<Utc>) -> bool {
        !matches!(self, Some(d) if *d < t)
    }
}

/// The first [`TOP_N`] lines with a positive `key`, by `key` descending (the input is
/// sorted by volunteer number, which breaks ties), with dense ranks.
fn top(lines: &[VolunteerLine], key: impl Fn(&VolunteerLine) -> i64) -> Vec<VolunteerLine> {
    let mut out: Vec<VolunteerLine> = lines.iter().filter(|l| key(l) > 0).cloned().collect();
    out.sort_by_key(|l| std::cmp::Reverse(key(l)));
    out.truncate(TOP_N);
    dense_rank(&mut out, |l| (0, key(l)));
    out
}

fn dense_rank<K: PartialEq>(lines: &mut [VolunteerLine], key: impl Fn(&VolunteerLine) -> K) {
    let mut rank = 0u32;
    let mut last: Option<K> = None;
    for l in lines.iter_mut() {
        let k = key(l);
        if last.as_ref() != Some(&k) {
            rank += 1;
        }
        l.rank = rank;
        last = Some(k);
    }
}

/// Median of sorted values.
fn median(sorted: &[Decimal]) -> Option<Decimal> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        Some(sorted[n / 2])
    } else {
        Some((sorted[n / 2 - 1] + sorted[n / 2]) / Decimal::TWO)
    }
}
