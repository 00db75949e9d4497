//! An independent, plain fold of the log: every figure of the annual report computed
//! the obvious way (collect every record, drop the reversed ones, filter and sum).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::store::Store;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

fn cst_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("offset"))
        .date_naive()
}

fn cst_midnight(d: NaiveDate) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .expect("offset")
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

fn r2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[derive(Debug, Clone)]
struct Rec {
    entry: EntryId,
    vol: VolunteerId,
    date: NaiveDate,
    kind: Option<ServiceKind>,
    stairwell: StairwellId,
    /// The volunteer's household in the stairwell, when given.
    household: Option<String>,
    grid: GridId,
    teams: BTreeSet<TeamId>,
    minutes: i64,
    points: i64,
}

/// (active volunteers, services, minutes, points).
pub type Unit = (u64, i64, i64, i64);

/// (number, services, minutes, points, cumulative minutes, level at start, level at end)
pub type VolunteerFigures = (String, i64, i64, i64, i64, u8, u8);

#[derive(Debug, Default)]
pub struct Expected {
    pub community_name: String,
    pub star_thresholds: Vec<i64>,
    /// Points each star also takes (hundredths), when the rule asks for them.
    pub star_points: Option<Vec<i64>>,
    pub registered: u64,
    pub active: u64,
    pub services: i64,
    pub minutes: i64,
    pub service_points: i64,
    pub award_points: i64,
    pub redeemed: i64,
    pub wishes_posted: u64,
    pub wishes_fulfilled: u64,
    pub median_days: Option<Decimal>,
    /// kind → (services, minutes, points)
    pub kinds: BTreeMap<ServiceKind, (i64, i64, i64)>,
    /// month → (active, services, minutes, service points, award points, redeemed)
    pub months: BTreeMap<u32, (u64, i64, i64, i64, i64, i64)>,
    /// volunteer → (number, services, minutes, points, cumulative minutes, level at start, level at end)
    pub volunteers: BTreeMap<VolunteerId, VolunteerFigures>,
    pub teams: BTreeMap<TeamId, Unit>,
    pub grids: BTreeMap<GridId, Unit>,
    /// (stairwell, month) → score
    pub scores: BTreeMap<(StairwellId, u32), Option<Decimal>>,
    pub averages: BTreeMap<StairwellId, Option<Decimal>>,
    /// month → (top score, the one holder: a tie broken by building, unit, id)
    pub red_flags: BTreeMap<u32, (Decimal, StairwellId)>,
}

pub async fn expected(store: &Store, community: CommunityId, year: i32, at: u64) -> Expected {
    // Every event up to `at`.
    let mut recorded = Vec::new();
    let mut after = 0;
    while after < at {
        let batch = store.read_all(after, 500).await.expect("read");
        if batch.is_empty() {
            break;
        }
        after = batch.last().map(|e| e.position).unwrap_or(at);
        recorded.extend(batch.into_iter().filter(|e| e.position <= at));
    }
    let as_of = recorded.last().map(|e| e.recorded_at).expect("events");

    let mut out = Expected::default();
    let mut star_sets: Vec<(NaiveDate, u32, Vec<i64>, Option<Vec<i64>>)> = vec![];
    let mut rubrics: Vec<(NaiveDate, u32, Decimal)> = vec![];
    let mut stairwells: BTreeMap<StairwellId, (GridId, u32)> = BTreeMap::new();
    let mut places: HashMap<StairwellId, (String, String)> = HashMap::new();
    let mut teams_known: BTreeSet<TeamId> = BTreeSet::new();
    let mut grids_known: BTreeSet<GridId> = BTreeSet::new();
    // volunteer → (stairwell, grid, teams, household)
    #[allow(clippy::type_complexity)]
    let mut org: HashMap<VolunteerId, (StairwellId, GridId, BTreeSet<TeamId>, Option<String>)> =
        HashMap::new();
    let mut numbers: HashMap<VolunteerId, String> = HashMap::new();
    let mut registered_at: HashMap<VolunteerId, DateTime<Utc>> = HashMap::new();
    let mut departed_at: HashMap<VolunteerId, DateTime<Utc>> = HashMap::new();
    let mut logged: HashMap<ServiceId, (ServiceKind, NaiveDate)> = HashMap::new();
    let mut recs: Vec<Rec> = vec![];
    let mut reversed: HashSet<EntryId> = HashSet::new();
    let mut redemptions: Vec<(NaiveDate, i64)> = vec![];
    let mut wishes: HashMap<WishId, (DateTime<Utc>, Option<DateTime<Utc>>, bool)> = HashMap::new();
    let mut inspections: Vec<(StairwellId, String, Decimal)> = vec![];
    let mut issues: Vec<(IssueId, StairwellId, DateTime<Utc>, Decimal)> = vec![];
    let mut resolved: HashMap<IssueId, DateTime<Utc>> = HashMap::new();

    for r in &recorded {
        if r.community_id != Some(community.0) {
            continue;
        }
        let (kind, sid) = parse_stream(&r.stream_id).expect("stream");
        let ev = Event::decode(r).expect("decode");
        let vid = VolunteerId(sid);
        match ev {
            Event::CommunityEstablished { name, .. } => out.community_name = name,
            Event::GridAdded { grid_id, .. } => {
                grids_known.insert(grid_id);
            }
            Event::TeamFormed { team_id, .. } => {
                teams_known.insert(team_id);
            }
            Event::StairwellRegistered {
                stairwell_id,
                grid_id,
                households,
                building,
                unit,
            } => {
                stairwells.insert(stairwell_id, (grid_id, households));
                places.insert(stairwell_id, (building, unit));
            }
            Event::StarThresholdsSet {
                version,
                thresholds,
                effective_from,
                points,
            } => star_sets.push((
                effective_from,
                version,
                thresholds.iter().map(|h| h.minutes()).collect(),
                points.map(|p| p.iter().map(|x| x.hundredths()).collect()),
            )),
            Event::RubricSet {
                version,
                participation_max,
                effective_from,
                ..
            } => rubrics.push((effective_from, version, participation_max)),
            Event::VolunteerRegistered {
                volunteer_number,
                stairwell_id,
                grid_id,
                teams,
                household,
                ..
            } => {
                org.insert(
                    vid,
                    (
                        stairwell_id,
                        grid_id,
                        teams.into_iter().collect(),
                        household,
                    ),
                );
                numbers.insert(vid, volunteer_number);
                registered_at.insert(vid, r.recorded_at);
            }
            Event::VolunteerMoved {
                stairwell_id,
                grid_id,
                household,
            } => {
                let o = org.get_mut(&vid).expect("registered");
                o.0 = stairwell_id;
                o.1 = grid_id;
                o.3 = household;
            }
            Event::TeamJoined { team_id } => {
                org.get_mut(&vid).expect("registered").2.insert(team_id);
            }
            Event::TeamLeft { team_id } => {
                org.get_mut(&vid).expect("registered").2.remove(&team_id);
            }
            Event::VolunteerDeparted { .. } => {
                departed_at.insert(vid, r.recorded_at);
            }
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                ..
            } => {
                logged.insert(service_id, (kind, cst_date(started_at)));
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                hours,
                points,
                ..
            } => {
                let (k, d) = logged[&service_id];
                let o = org[&vid].clone();
                recs.push(Rec {
                    entry: entry_id,
                    vol: vid,
                    date: d,
                    kind: Some(k),
                    stairwell: o.0,
                    household: o.3,
                    grid: o.1,
                    teams: o.2,
                    minutes: hours.minutes(),
                    points: points.hundredths(),
                });
            }
            Event::PointsAwarded {
                entry_id, points, ..
            } => {
                let o = org[&vid].clone();
                recs.push(Rec {
                    entry: entry_id,
                    vol: vid,
                    date: cst_date(r.recorded_at),
                    kind: None,
                    stairwell: o.0,
                    household: o.3,
                    grid: o.1,
                    teams: o.2,
                    minutes: 0,
                    points: points.hundredths(),
                });
            }
            Event::PointsRedeemed { points, .. } => {
                redemptions.push((cst_date(r.recorded_at), points.hundredths()))
            }
            Event::EntryReversed { reverses, .. } => {
                reversed.insert(reverses);
            }
            Event::WishPosted { .. } => {
                wishes.insert(WishId(sid), (r.recorded_at, None, false));
            }
            Event::WishFulfilled { fulfilled_at, .. } => {
                wishes.get_mut(&WishId(sid)).expect("wish").1 = Some(fulfilled_at);
            }
            Event::WishConfirmed { .. } => {
                wishes.get_mut(&WishId(sid)).expect("wish").2 = true;
            }
            Event::StairwellInspected { month, scores, .. } => {
                let items = scores
                    .iter()
                    .filter(|(k, _)| *k != "participation")
                    .map(|(_, v)| *v)
                    .sum();
                inspections.push((StairwellId(sid), month, items));
            }
            Event::StairwellIssueReported {
                issue_id,
                deduction,
                ..
            } => issues.push((issue_id, StairwellId(sid), r.recorded_at, deduction)),
            Event::StairwellIssueResolved { issue_id, .. } => {
                resolved.entry(issue_id).or_insert(r.recorded_at);
            }
            _ => {}
        }
        let _ = kind;
    }

    // Rules in force.
    let p_date = cst_date(as_of);
    (out.star_thresholds, out.star_points) = star_sets
        .iter()
        .filter(|s| s.0 <= p_date)
        .max_by_key(|s| (s.0, s.1))
        .map(|s| (s.2.clone(), s.3.clone()))
        .unwrap_or_else(|| (vec![6000, 18000, 36000, 60000, 90000], None));
    // A star is held when the minutes reach its threshold and, under a rule with
    // points, the points earned (net of reversals) reach its points.
    let level = |minutes: i64, points: i64| {
        (0..out.star_thresholds.len())
            .filter(|i| {
                minutes >= out.star_thresholds[*i]
                    && out.star_points.as_ref().is_none_or(|p| points >= p[*i])
            })
            .count() as u8
    };

    let live: Vec<&Rec> = recs
        .iter()
        .filter(|r| !reversed.contains(&r.entry))
        .collect();
    let in_year: Vec<&Rec> = live
        .iter()
        .copied()
        .filter(|r| r.date.year() == year)
        .collect();
    let services: Vec<&Rec> = in_year
        .iter()
        .copied()
        .filter(|r| r.kind.is_some())
        .collect();

    let year_end = cst_midnight(NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("date"));
    out.registered = registered_at
        .iter()
        .filter(|(v, t)| **t < year_end && departed_at.get(v).is_none_or(|d| *d >= year_end))
        .count() as u64;
    let served = |filter: &dyn Fn(&Rec) -> bool| -> u64 {
        let mut per: HashMap<VolunteerId, i64> = HashMap::new();
        for r in services.iter().filter(|r| filter(r)) {
            *per.entry(r.vol).or_default() += r.minutes;
        }
        per.values().filter(|m| **m > 0).count() as u64
    };
    out.active = served(&|_| true);
    out.services = services.len() as i64;
    out.minutes = services.iter().map(|r| r.minutes).sum();
    out.service_points = services.iter().map(|r| r.points).sum();
    out.award_points = in_year
        .iter()
        .filter(|r| r.kind.is_none())
        .map(|r| r.points)
        .sum();
    out.redeemed = redemptions
        .iter()
        .filter(|(d, _)| d.year() == year)
        .map(|(_, p)| p)
        .sum();

    for k in ServiceKind::ALL {
        let of: Vec<&&Rec> = services.iter().filter(|r| r.kind == Some(k)).collect();
        out.kinds.insert(
            k,
            (
                of.len() as i64,
                of.iter().map(|r| r.minutes).sum(),
                of.iter().map(|r| r.points).sum(),
            ),
        );
    }
    for m in 1..=12u32 {
        let ms: Vec<&&Rec> = services.iter().filter(|r| r.date.month() == m).collect();
        out.months.insert(
            m,
            (
                served(&|r: &Rec| r.date.month() == m),
                ms.len() as i64,
                ms.iter().map(|r| r.minutes).sum(),
                ms.iter().map(|r| r.points).sum(),
                in_year
                    .iter()
                    .filter(|r| r.kind.is_none() && r.date.month() == m)
                    .map(|r| r.points)
                    .sum(),
                redemptions
                    .iter()
                    .filter(|(d, _)| d.year() == year && d.month() == m)
                    .map(|(_, p)| p)
                    .sum(),
            ),
        );
    }
    for (v, number) in &numbers {
        let mine: Vec<&&Rec> = in_year.iter().filter(|r| r.vol == *v).collect();
        let before: i64 = live
            .iter()
            .filter(|r| r.vol == *v && r.kind.is_some() && r.date.year() < year)
            .map(|r| r.minutes)
            .sum();
        let points_before: i64 = live
            .iter()
            .filter(|r| r.vol == *v && r.date.year() < year)
            .map(|r| r.points)
            .sum();
        let points_year: i64 = mine.iter().map(|r| r.points).sum();
        let minutes: i64 = mine
            .iter()
            .filter(|r| r.kind.is_some())
            .map(|r| r.minutes)
            .sum();
        out.volunteers.insert(
            *v,
            (
                number.clone(),
                mine.iter().filter(|r| r.kind.is_some()).count() as i64,
                minutes,
                mine.iter().map(|r| r.points).sum(),
                before + minutes,
                level(before, points_before),
                level(before + minutes, points_before + points_year),
            ),
        );
    }
    for t in &teams_known {
        let of: Vec<&&Rec> = in_year.iter().filter(|r| r.teams.contains(t)).collect();
        out.teams.insert(
            *t,
            (
                served(&|r: &Rec| r.teams.contains(t)),
                of.iter().filter(|r| r.kind.is_some()).count() as i64,
                of.iter().map(|r| r.minutes).sum(),
                of.iter().map(|r| r.points).sum(),
            ),
        );
    }
    for g in &grids_known {
        let of: Vec<&&Rec> = in_year.iter().filter(|r| r.grid == *g).collect();
        out.grids.insert(
            *g,
            (
                served(&|r: &Rec| r.grid == *g),
                of.iter().filter(|r| r.kind.is_some()).count() as i64,
                of.iter().map(|r| r.minutes).sum(),
                of.iter().map(|r| r.points).sum(),
            ),
        );
    }

    // Wishes.
    out.wishes_posted = wishes
        .values()
        .filter(|w| cst_date(w.0).year() == year)
        .count() as u64;
    let mut days: Vec<Decimal> = wishes
        .values()
        .filter(|w| w.2 && w.1.is_some_and(|f| cst_date(f).year() == year))
        .map(|w| {
            let secs = (w.1.expect("fulfilled") - w.0).num_seconds().max(0);
            Decimal::from(secs) / Decimal::from(86_400)
        })
        .collect();
    days.sort();
    out.wishes_fulfilled = days.len() as u64;
    out.median_days = if days.is_empty() {
        None
    } else if days.len() % 2 == 1 {
        Some(days[days.len() / 2])
    } else {
        Some((days[days.len() / 2 - 1] + days[days.len() / 2]) / Decimal::from(2))
    }
    .map(|d| d.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero));

    // Stairwells.
    for (s, (_, households)) in &stairwells {
        let mut scored = vec![];
        for m in 1..=12u32 {
            let month = format!("{year}-{m:02}");
            let first = NaiveDate::from_ymd_opt(year, m, 1).expect("date");
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(year + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(year, m + 1, 1)
            };
            let end = cst_midnight(next.expect("date"));
            let items = inspections
                .iter()
                .find(|(x, mo, _)| x == s && *mo == month)
                .map(|(_, _, i)| *i);
            let score = items.map(|items| {
                let pmax = rubrics
                    .iter()
                    .filter(|r| r.0 <= first)
                    .max_by_key(|r| (r.0, r.1))
                    .map(|r| r.2)
                    .unwrap_or(Decimal::from(20));
                // Households with a volunteer whose net minutes there that month are
                // positive; a volunteer without a household is one of their own.
                let mut per: HashMap<(VolunteerId, Option<String>), i64> = HashMap::new();
                for r in services
                    .iter()
                    .filter(|r| r.stairwell == *s && r.date.month() == m)
                {
                    *per.entry((r.vol, r.household.clone())).or_default() += r.minutes;
                }
                let homes: HashSet<Result<String, VolunteerId>> = per
                    .into_iter()
                    .filter(|(_, minutes)| *minutes > 0)
                    .map(|((v, h), _)| h.ok_or(v))
                    .collect();
                let n = homes.len() as u64;
                let ratio = (Decimal::from(n) / (Decimal::from(*households) * Decimal::new(3, 1)))
                    .min(Decimal::ONE);
                let participation = r2(pmax * ratio);
                let deductions: Decimal = issues
                    .iter()
                    .filter(|(id, x, at, _)| {
                        x == s && *at < end && resolved.get(id).is_none_or(|t| *t >= end)
                    })
                    .map(|(_, _, _, d)| *d)
                    .sum();
                r2((items + participation - deductions).clamp(Decimal::ZERO, Decimal::ONE_HUNDRED))
            });
            if let Some(sc) = score {
                scored.push(sc);
            }
            out.scores.insert((*s, m), score);
        }
        out.averages.insert(
            *s,
            if scored.is_empty() {
                None
            } else {
                Some(r2(
                    scored.iter().sum::<Decimal>() / Decimal::from(scored.len())
                ))
            },
        );
    }
    for m in 1..=12u32 {
        let month: Vec<(StairwellId, Decimal)> = out
            .scores
            .iter()
            .filter(|((_, mm), sc)| *mm == m && sc.is_some())
            .map(|((s, _), sc)| (*s, sc.expect("score")))
            .collect();
        if let Some(top) = month.iter().map(|(_, s)| *s).max() {
            let mut tied: Vec<(&String, &String, StairwellId)> = month
                .iter()
                .filter(|(_, s)| *s == top)
                .map(|(s, _)| (&places[s].0, &places[s].1, *s))
                .collect();
            tied.sort();
            out.red_flags.insert(m, (top, tied[0].2));
        }
    }
    out
}
