//! Test support: a generator of random but valid histories (appended straight to the
//! store), and an oracle: a plain, independent fold of the log into what every read
//! model must answer, compared with the projections' queries.
#![allow(dead_code, clippy::type_complexity)]

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use ledger::amount::{Hours, Points};
use ledger::domain::stairwell::natural_cmp;
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::store::{AppendRequest, ExpectedVersion, Metadata, RecordedEvent, StreamWrite};
use ledger::Store;
use projections::common::Period;
use projections::rankings::{Metric, Scope};
use projections::Db;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

pub fn id(rng: &mut SmallRng) -> Uuid {
    Uuid::from_u128(rng.gen())
}

struct Vol {
    id: Uuid,
    stairwell: usize,
    departed: bool,
    points: i64,
    banked: i64,
}

/// A community's random history, as (stream, event) pairs in log order.
pub struct History {
    pub community: Uuid,
    pub grids: Vec<Uuid>,
    pub stairwells: Vec<(Uuid, usize, u32)>,
    pub teams: Vec<Uuid>,
    pub events: Vec<(String, Event)>,
}

const SW_HOUSEHOLDS: [u32; 4] = [10, 5, 20, 3];

/// Rooms volunteers live in (often none, so that both kinds are counted; the same room
/// in two stairwells is two households).
fn household(rng: &mut SmallRng) -> Option<String> {
    const ROOMS: [&str; 3] = ["1-101", "1-102", "2-201"];
    rng.gen_bool(0.6)
        .then(|| ROOMS[rng.gen_range(0..ROOMS.len())].to_string())
}

/// Generates `ops` random operations after a fixed set-up.
pub fn generate(seed: u64, ops: usize) -> History {
    let mut rng = SmallRng::seed_from_u64(seed);
    let c = id(&mut rng);
    let cs = community_stream(CommunityId(c));
    let staff = id(&mut rng);
    let mut ev: Vec<(String, Event)> = vec![(
        cs.clone(),
        Event::CommunityEstablished {
            community_id: CommunityId(c),
            name: "测试社区".into(),
        },
    )];
    let grids: Vec<Uuid> = (0..2).map(|_| id(&mut rng)).collect();
    for g in &grids {
        ev.push((
            cs.clone(),
            Event::GridAdded {
                grid_id: GridId(*g),
                name: "网格".into(),
                parent: None,
            },
        ));
    }
    let mut stairwells = Vec::new();
    for (i, h) in SW_HOUSEHOLDS.iter().enumerate() {
        let s = id(&mut rng);
        stairwells.push((s, i % 2, *h));
        ev.push((
            cs.clone(),
            Event::StairwellRegistered {
                stairwell_id: StairwellId(s),
                grid_id: GridId(grids[i % 2]),
                building: format!("{}栋", i / 2 + 1),
                unit: format!("{}单元", i % 2 + 1),
                households: *h,
            },
        ));
    }
    let teams: Vec<Uuid> = (0..2).map(|_| id(&mut rng)).collect();
    for t in &teams {
        ev.push((
            cs.clone(),
            Event::TeamFormed {
                team_id: TeamId(*t),
                name: "队".into(),
            },
        ));
    }
    if rng.gen_bool(0.5) {
        ev.push((cs.clone(), thresholds_event(&mut rng, 1)));
    }
    if rng.gen_bool(0.5) {
        ev.push((
            cs.clone(),
            Event::RubricSet {
                version: 1,
                items: ledger::event::default_rubric_items(),
                participation_max: Decimal::from(10),
                effective_from: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            },
        ));
    }
    let mut vols: Vec<Vol> = Vec::new();
    let mut pending: Vec<(usize, Uuid, i64)> = Vec::new();
    let mut entries: Vec<(usize, Uuid, i64, i64, bool)> = Vec::new();
    // wish: id, state (0 open, 1 claimed, 2 fulfilled, 3 closed), claimer, minutes
    let mut wishes: Vec<(Uuid, u8, Option<usize>, i64)> = Vec::new();
    let mut issues: Vec<(usize, Uuid, bool)> = Vec::new();
    let mut inspected: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut threshold_version = 1;
    let this_month = cst_day(Utc::now());
    let next_month = this_month + Duration::days(32);
    let tags = ["党员", "五老", "青年"];
    let register = |rng: &mut SmallRng, vols: &mut Vec<Vol>, ev: &mut Vec<(String, Event)>| {
        let v = id(rng);
        let sw = rng.gen_range(0..4);
        let n = vols.len();
        let mut my_tags = vec![];
        for t in tags {
            if rng.gen_bool(0.4) {
                my_tags.push(t.to_string());
            }
        }
        let my_teams: Vec<TeamId> = teams
            .iter()
            .filter(|_| rng.gen_bool(0.5))
            .map(|t| TeamId(*t))
            .collect();
        ev.push((
            volunteer_stream(VolunteerId(v)),
            Event::VolunteerRegistered {
                volunteer_id: VolunteerId(v),
                community_id: CommunityId(c),
                // equal numbers never happen in practice; ties are broken by id then
                volunteer_number: format!("V{:04}", n),
                stairwell_id: StairwellId(stairwells[sw].0),
                grid_id: GridId(grids[stairwells[sw].1]),
                tags: my_tags,
                teams: my_teams,
                household: household(rng),
            },
        ));
        vols.push(Vol {
            id: v,
            stairwell: sw,
            departed: false,
            points: 0,
            banked: 0,
        });
    };
    for _ in 0..3 {
        register(&mut rng, &mut vols, &mut ev);
    }
    for _ in 0..ops {
        let active: Vec<usize> = (0..vols.len()).filter(|i| !vols[*i].departed).collect();
        if active.is_empty() {
            register(&mut rng, &mut vols, &mut ev);
            continue;
        }
        let vi = active[rng.gen_range(0..active.len())];
        let vs = volunteer_stream(VolunteerId(vols[vi].id));
        match rng.gen_range(0..100) {
            0..=4 if vols.len() < 9 => register(&mut rng, &mut vols, &mut ev),
            5..=7 => {
                let sw = rng.gen_range(0..4);
                vols[vi].stairwell = sw;
                ev.push((
                    vs,
                    Event::VolunteerMoved {
                        stairwell_id: StairwellId(stairwells[sw].0),
                        grid_id: GridId(grids[stairwells[sw].1]),
                        household: household(&mut rng),
                    },
                ));
            }
            8..=9 => {
                let t = TeamId(teams[rng.gen_range(0..2)]);
                let e = if rng.gen_bool(0.5) {
                    Event::TeamJoined { team_id: t }
                } else {
                    Event::TeamLeft { team_id: t }
                };
                ev.push((vs, e));
            }
            10 if active.len() > 2 => {
                vols[vi].departed = true;
                ev.push((
                    vs,
                    Event::VolunteerDeparted {
                        reason: "搬走".into(),
                    },
                ));
            }
            11..=30 => {
                let s = id(&mut rng);
                let minutes = rng.gen_range(1..=8) * 15;
                let kinds = ServiceKind::ALL;
                let day = rng.gen_range(0..180);
                let started = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
                    + Duration::days(day)
                    + Duration::hours(rng.gen_range(0..24));
                ev.push((
                    vs,
                    Event::ServiceLogged {
                        service_id: ServiceId(s),
                        kind: kinds[rng.gen_range(0..kinds.len())],
                        started_at: started,
                        hours: Hours::from_minutes(minutes),
                        place: String::new(),
                        note: String::new(),
                        logged_by: staff,
                    },
                ));
                pending.push((vi, s, minutes));
            }
            31..=50 if !pending.is_empty() => {
                let (pv, s, minutes) = pending.swap_remove(rng.gen_range(0..pending.len()));
                if rng.gen_bool(0.15) {
                    ev.push((
                        volunteer_stream(VolunteerId(vols[pv].id)),
                        Event::ServiceRejected {
                            service_id: ServiceId(s),
                            reason: "不实".into(),
                            rejected_by: staff,
                        },
                    ));
                } else {
                    let e = id(&mut rng);
                    let points = minutes * 100 / 60 * rng.gen_range(1..=3);
                    vols[pv].points += points;
                    vols[pv].banked += minutes;
                    entries.push((pv, e, points, minutes, false));
                    ev.push((
                        volunteer_stream(VolunteerId(vols[pv].id)),
                        Event::ServiceVerified {
                            service_id: ServiceId(s),
                            entry_id: EntryId(e),
                            hours: Hours::from_minutes(minutes),
                            points: Points::from_hundredths(points),
                            rule_version: 0,
                            verified_by: staff,
                        },
                    ));
                }
            }
            51..=57 => {
                let e = id(&mut rng);
                let points = rng.gen_range(1..=20) * 50;
                vols[vi].points += points;
                entries.push((vi, e, points, 0, false));
                ev.push((
                    vs,
                    Event::PointsAwarded {
                        entry_id: EntryId(e),
                        points: Points::from_hundredths(points),
                        reason: "好人好事".into(),
                        awarded_by: staff,
                    },
                ));
            }
            58..=62 if vols[vi].points > 0 => {
                let points = rng.gen_range(1..=vols[vi].points);
                vols[vi].points -= points;
                ev.push((
                    vs,
                    Event::PointsRedeemed {
                        entry_id: EntryId(id(&mut rng)),
                        points: Points::from_hundredths(points),
                        item: "大米".into(),
                        redeemed_by: staff,
                    },
                ));
            }
            63..=66 => {
                let open: Vec<usize> = (0..entries.len()).filter(|i| !entries[*i].4).collect();
                if let Some(&i) = open.get(rng.gen_range(0..open.len().max(1))) {
                    entries[i].4 = true;
                    let (ev_i, e, points, minutes, _) = entries[i];
                    vols[ev_i].points -= points;
                    vols[ev_i].banked -= minutes;
                    ev.push((
                        volunteer_stream(VolunteerId(vols[ev_i].id)),
                        Event::EntryReversed {
                            entry_id: EntryId(id(&mut rng)),
                            reverses: EntryId(e),
                            points: Points::from_hundredths(points),
                            hours: Hours::from_minutes(minutes),
                            reason: "记录有误".into(),
                            reversed_by: staff,
                        },
                    ));
                }
            }
            67..=69 if vols[vi].banked > 0 && vols.len() > 1 => {
                let to = (vi + 1) % vols.len();
                let minutes = rng.gen_range(1..=vols[vi].banked);
                vols[vi].banked -= minutes;
                vols[to].banked += minutes;
                ev.push((
                    vs,
                    Event::HoursGifted {
                        entry_id: EntryId(id(&mut rng)),
                        to: VolunteerId(vols[to].id),
                        hours: Hours::from_minutes(minutes),
                    },
                ));
                ev.push((
                    volunteer_stream(VolunteerId(vols[to].id)),
                    Event::HoursReceived {
                        entry_id: EntryId(id(&mut rng)),
                        from: VolunteerId(vols[vi].id),
                        hours: Hours::from_minutes(minutes),
                    },
                ));
            }
            70..=71 if vols[vi].banked > 0 => {
                let minutes = rng.gen_range(1..=vols[vi].banked);
                vols[vi].banked -= minutes;
                ev.push((
                    vs,
                    Event::HoursSpent {
                        entry_id: EntryId(id(&mut rng)),
                        hours: Hours::from_minutes(minutes),
                        description: "理发".into(),
                    },
                ));
            }
            72..=84 => {
                // wishes
                let open: Vec<usize> = (0..wishes.len()).filter(|i| wishes[*i].1 < 3).collect();
                if open.is_empty() || rng.gen_bool(0.3) {
                    let w = id(&mut rng);
                    wishes.push((w, 0, None, 0));
                    ev.push((
                        wish_stream(WishId(w)),
                        Event::WishPosted {
                            wish_id: WishId(w),
                            community_id: CommunityId(c),
                            stairwell_id: StairwellId(stairwells[rng.gen_range(0..4)].0),
                            category: "生活".into(),
                            description: "换灯泡".into(),
                            resident_label: "独居老人".into(),
                            posted_by: staff,
                        },
                    ));
                } else {
                    let wi = open[rng.gen_range(0..open.len())];
                    let (w, state, claimer, minutes) = wishes[wi];
                    let ws = wish_stream(WishId(w));
                    match (state, rng.gen_range(0..10)) {
                        (_, 0) => {
                            wishes[wi].1 = 3;
                            ev.push((
                                ws,
                                Event::WishCancelled {
                                    reason: "不需要了".into(),
                                    cancelled_by: staff,
                                },
                            ));
                        }
                        (0, _) => {
                            wishes[wi].1 = 1;
                            wishes[wi].2 = Some(vi);
                            ev.push((
                                ws,
                                Event::WishClaimed {
                                    volunteer_id: VolunteerId(vols[vi].id),
                                },
                            ));
                        }
                        (1, 1..=2) => {
                            wishes[wi].1 = 0;
                            let cl = claimer.unwrap_or(vi);
                            wishes[wi].2 = None;
                            ev.push((
                                ws,
                                Event::WishReleased {
                                    volunteer_id: VolunteerId(vols[cl].id),
                                },
                            ));
                        }
                        (1, _) => {
                            let m = rng.gen_range(1..=4) * 30;
                            wishes[wi].1 = 2;
                            wishes[wi].3 = m;
                            let cl = claimer.unwrap_or(vi);
                            ev.push((
                                ws,
                                Event::WishFulfilled {
                                    volunteer_id: VolunteerId(vols[cl].id),
                                    hours: Hours::from_minutes(m),
                                    note: String::new(),
                                    fulfilled_at: Utc::now(),
                                },
                            ));
                        }
                        (_, _) => {
                            // confirmed: the service goes to the claimer's account
                            wishes[wi].1 = 3;
                            let cl = claimer.unwrap_or(vi);
                            let s = id(&mut rng);
                            let e = id(&mut rng);
                            ev.push((
                                ws,
                                Event::WishConfirmed {
                                    confirmed_by: staff,
                                    service_id: ServiceId(s),
                                },
                            ));
                            let cvs = volunteer_stream(VolunteerId(vols[cl].id));
                            ev.push((
                                cvs.clone(),
                                Event::ServiceLogged {
                                    service_id: ServiceId(s),
                                    kind: ServiceKind::Wish,
                                    started_at: Utc::now() - Duration::hours(1),
                                    hours: Hours::from_minutes(minutes),
                                    place: String::new(),
                                    note: String::new(),
                                    logged_by: staff,
                                },
                            ));
                            let points = minutes * 100 / 60;
                            vols[cl].points += points;
                            vols[cl].banked += minutes;
                            entries.push((cl, e, points, minutes, false));
                            ev.push((
                                cvs,
                                Event::ServiceVerified {
                                    service_id: ServiceId(s),
                                    entry_id: EntryId(e),
                                    hours: Hours::from_minutes(minutes),
                                    points: Points::from_hundredths(points),
                                    rule_version: 0,
                                    verified_by: staff,
                                },
                            ));
                        }
                    }
                }
            }
            85..=91 => {
                let sw = rng.gen_range(0..4);
                // Months of 2024 (services are dated there), and this month and the
                // next (issues are dated when recorded, i.e. now: reported and resolved
                // inside inspected months, or still open at their end).
                let month = match rng.gen_range(0..8) {
                    6 => month_of(this_month),
                    7 => month_of(next_month),
                    m => format!("2024-{:02}", m + 1),
                };
                if inspected.insert((sw, month.clone())) {
                    let mut scores = BTreeMap::new();
                    for item in ledger::event::default_rubric_items() {
                        let max: i64 = item.max.try_into().unwrap_or(0);
                        scores.insert(item.key, Decimal::new(rng.gen_range(0..=max * 2) * 50, 2));
                    }
                    if rng.gen_bool(0.3) {
                        // A legacy hand-entered participation score: readers ignore it.
                        scores.insert(
                            ledger::domain::community::PARTICIPATION_KEY.to_string(),
                            Decimal::new(rng.gen_range(0..=40) * 50, 2),
                        );
                    }
                    ev.push((
                        stairwell_stream(StairwellId(stairwells[sw].0)),
                        Event::StairwellInspected {
                            month,
                            scores,
                            inspector: staff,
                            note: String::new(),
                            rubric_version: if rng.gen_bool(0.5) { 1 } else { 0 },
                        },
                    ));
                }
            }
            92..=94 => {
                let sw = rng.gen_range(0..4);
                let i = id(&mut rng);
                issues.push((sw, i, false));
                ev.push((
                    stairwell_stream(StairwellId(stairwells[sw].0)),
                    Event::StairwellIssueReported {
                        issue_id: IssueId(i),
                        description: "堆物".into(),
                        deduction: Decimal::new(rng.gen_range(1..=20) * 25, 2),
                        reported_by: staff,
                    },
                ));
            }
            95..=96 => {
                if let Some(x) = issues.iter_mut().find(|x| !x.2) {
                    x.2 = true;
                    ev.push((
                        stairwell_stream(StairwellId(stairwells[x.0].0)),
                        Event::StairwellIssueResolved {
                            issue_id: IssueId(x.1),
                            note: String::new(),
                            resolved_by: staff,
                        },
                    ));
                }
            }
            97 => {
                threshold_version += 1;
                ev.push((cs.clone(), thresholds_event(&mut rng, threshold_version)));
            }
            _ => {}
        }
    }
    History {
        community: c,
        grids,
        stairwells,
        teams,
        events: ev,
    }
}

/// A version of the star thresholds, dated in the past, today, or in the future (so
/// versions come into force out of order, and some only after the day the test runs).
fn thresholds_event(rng: &mut SmallRng, version: u32) -> Event {
    let base = rng.gen_range(1..=3);
    let today = cst_day(Utc::now());
    let effective_from = match rng.gen_range(0..6) {
        0 => NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
        1 => NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default(),
        2 => today - Duration::days(1),
        3 => today,
        4 => today + Duration::days(1),
        _ => today + Duration::days(30),
    };
    Event::StarThresholdsSet {
        version,
        thresholds: [1, 2, 4, 8, 16]
            .iter()
            .map(|h| Hours::whole(h * base))
            .collect(),
        effective_from,
    }
}

/// Appends a history in chunks (several appends, so group commit and batches vary);
/// a stream appears at most once per append, so a chunk is cut where one repeats.
pub async fn append(store: &Store, events: &[(String, Event)], chunk: usize) {
    let mut writes: Vec<StreamWrite> = Vec::new();
    let mut count = 0;
    for (stream, e) in events {
        let ne = e
            .to_new_event(Uuid::new_v4(), Metadata::default(), None)
            .expect("encode event");
        let last_same = writes
            .last()
            .map(|w| &w.stream_id == stream)
            .unwrap_or(false);
        if last_same {
            if let Some(w) = writes.last_mut() {
                w.events.push(ne);
            }
        } else {
            if count >= chunk.max(1) || writes.iter().any(|w| &w.stream_id == stream) {
                flush(store, std::mem::take(&mut writes)).await;
                count = 0;
            }
            writes.push(StreamWrite {
                stream_id: stream.clone(),
                expected: ExpectedVersion::Any,
                events: vec![ne],
            });
        }
        count += 1;
    }
    flush(store, writes).await;
}

async fn flush(store: &Store, writes: Vec<StreamWrite>) {
    if writes.is_empty() {
        return;
    }
    store
        .append_request(AppendRequest {
            writes,
            command: None,
        })
        .await
        .expect("append");
}

/// Every event of the log, decoded.
pub async fn read_log(store: &Store) -> Vec<(RecordedEvent, Event)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let batch = store.read_all(after, 1000).await.expect("read");
        if batch.is_empty() {
            break;
        }
        for r in batch {
            after = r.position;
            let e = Event::decode(&r).expect("decode");
            out.push((r, e));
        }
    }
    out
}

// ------------------------------------------------------------------ the oracle

fn cst_day(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(8)).date_naive()
}

fn month_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn periods(d: NaiveDate) -> Vec<String> {
    vec![
        "all".to_string(),
        format!("{:04}", d.year()),
        format!("{:04}-Q{}", d.year(), (d.month() - 1) / 3 + 1),
        month_of(d),
    ]
}

fn dec2(hundredths: i64) -> Decimal {
    Decimal::new(hundredths, 2)
}

fn hours(minutes: i64) -> Decimal {
    Hours::from_minutes(minutes).to_decimal()
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OAccount {
    pub community: Option<Uuid>,
    pub number: String,
    pub earned: i64,
    pub spent: i64,
    pub reversed: i64,
    pub banked: i64,
    pub gifted: i64,
    pub received: i64,
    pub hours_spent: i64,
    pub verified: i64,
    /// (day, verified minutes after) per change.
    pub timeline: Vec<(NaiveDate, i64)>,
    /// (kind, points delta, minutes delta, entry, reverses, position)
    pub lines: Vec<(String, i64, i64, Uuid, Option<Uuid>, u64)>,
}

#[derive(Debug, Clone)]
struct OVol {
    community: Uuid,
    number: String,
    stairwell: Uuid,
    grid: Uuid,
    teams: BTreeSet<Uuid>,
    tags: Vec<String>,
    departed: bool,
    household: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct OWish {
    pub status: String,
    pub claimer: Option<Uuid>,
    pub posted: i64,
    pub claimed: Option<i64>,
    pub fulfilled: Option<i64>,
    pub confirmed: Option<i64>,
    pub cancelled: Option<i64>,
}

/// What the read models must say, computed plainly from the log.
#[derive(Default)]
pub struct Oracle {
    pub accounts: BTreeMap<Uuid, OAccount>,
    /// Each community's rules (its star threshold versions), folded by the ledger's own
    /// aggregate: `star_thresholds_on` is what the documents use.
    pub communities: HashMap<Uuid, ledger::domain::CommunityState>,
    /// (period, scope) -> volunteer -> (number, points, minutes)
    pub cells: BTreeMap<(String, String), BTreeMap<Uuid, (String, i64, i64)>>,
    pub wishes: BTreeMap<Uuid, OWish>,
    /// (stairwell, month) -> (items hundredths, rubric version)
    pub inspections: BTreeMap<(Uuid, String), (i64, u32)>,
    /// (stairwell, month, volunteer) -> verified unreversed services
    /// (stairwell, month, volunteer, household) -> verified unreversed services
    pub served: HashMap<(Uuid, String, Uuid, Option<String>), i64>,
    /// issue -> (stairwell, reported month, resolved month, deduction)
    pub issues: BTreeMap<Uuid, (Uuid, String, Option<String>, i64)>,
    pub stairwells: BTreeMap<Uuid, (Uuid, String, String, u32)>,
    pub rubrics: HashMap<(Uuid, u32), i64>,
    pub active: HashMap<Uuid, i64>,
    /// community -> month -> (points, minutes, services)
    pub months: HashMap<(Uuid, String), (i64, i64, i64)>,
    pub kinds: HashMap<(Uuid, String, String), (i64, i64)>,
    pub dash_served: HashMap<(Uuid, String, Uuid), i64>,
    pub head: u64,
}

impl Oracle {
    pub fn fold(log: &[(RecordedEvent, Event)]) -> Oracle {
        let mut o = Oracle::default();
        let mut vols: HashMap<Uuid, OVol> = HashMap::new();
        // service -> (volunteer, day, attribution at logging, kind)
        let mut services: HashMap<Uuid, (NaiveDate, OVol, ServiceKind)> = HashMap::new();
        // entry -> (volunteer, day, attribution, kind, is service)
        let mut counted: HashMap<Uuid, (Uuid, NaiveDate, OVol, Option<ServiceKind>)> =
            HashMap::new();
        for (r, e) in log {
            o.head = r.position;
            let (kind, sid) = parse_stream(&r.stream_id).expect("stream");
            let day = cst_day(r.recorded_at);
            let ms = r.recorded_at.timestamp_millis();
            match kind {
                StreamKind::Community => match e {
                    Event::StarThresholdsSet { .. } => {
                        use ledger::domain::Aggregate;
                        o.communities.entry(sid).or_default().evolve(e);
                    }
                    Event::RubricSet {
                        version,
                        participation_max,
                        ..
                    } => {
                        o.rubrics.insert(
                            (sid, *version),
                            (participation_max * Decimal::ONE_HUNDRED)
                                .try_into()
                                .unwrap_or(0),
                        );
                    }
                    Event::StairwellRegistered {
                        stairwell_id,
                        building,
                        unit,
                        households,
                        ..
                    } => {
                        o.stairwells.insert(
                            stairwell_id.0,
                            (sid, building.clone(), unit.clone(), *households),
                        );
                    }
                    _ => {}
                },
                StreamKind::Stairwell => match e {
                    Event::StairwellInspected {
                        month,
                        scores,
                        rubric_version,
                        ..
                    } => {
                        // A legacy participation score is not an item.
                        let items: Decimal = scores
                            .iter()
                            .filter(|(k, _)| {
                                k.as_str() != ledger::domain::community::PARTICIPATION_KEY
                            })
                            .map(|(_, v)| *v)
                            .sum();
                        o.inspections.insert(
                            (sid, month.clone()),
                            (
                                (items * Decimal::ONE_HUNDRED).try_into().unwrap_or(0),
                                *rubric_version,
                            ),
                        );
                    }
                    Event::StairwellIssueReported {
                        issue_id,
                        deduction,
                        ..
                    } => {
                        o.issues.insert(
                            issue_id.0,
                            (
                                sid,
                                month_of(day),
                                None,
                                (deduction * Decimal::ONE_HUNDRED).try_into().unwrap_or(0),
                            ),
                        );
                    }
                    Event::StairwellIssueResolved { issue_id, .. } => {
                        if let Some(i) = o.issues.get_mut(&issue_id.0) {
                            i.2 = Some(month_of(day));
                        }
                    }
                    _ => {}
                },
                StreamKind::Wish => {
                    let w = o.wishes.entry(sid).or_default();
                    let (before_open, before_prog) = (
                        w.status == "open",
                        w.status == "claimed" || w.status == "fulfilled",
                    );
                    let mut community = None;
                    match e {
                        Event::WishPosted { community_id, .. } => {
                            *w = OWish {
                                status: "open".into(),
                                posted: ms,
                                ..Default::default()
                            };
                            community = Some(community_id.0);
                        }
                        Event::WishClaimed { volunteer_id } => {
                            w.status = "claimed".into();
                            w.claimer = Some(volunteer_id.0);
                            w.claimed = Some(ms);
                        }
                        Event::WishReleased { .. } => {
                            w.status = "open".into();
                            w.claimer = None;
                            w.claimed = None;
                        }
                        Event::WishFulfilled { fulfilled_at, .. } => {
                            w.status = "fulfilled".into();
                            w.fulfilled = Some(fulfilled_at.timestamp_millis());
                        }
                        Event::WishConfirmed { .. } => {
                            w.status = "confirmed".into();
                            w.confirmed = Some(ms);
                        }
                        Event::WishCancelled { .. } => {
                            w.status = "cancelled".into();
                            w.cancelled = Some(ms);
                        }
                        _ => {}
                    }
                    let _ = (before_open, before_prog, community);
                }
                StreamKind::Volunteer => {
                    let acc = o.accounts.entry(sid).or_default();
                    let before = acc.verified;
                    let line = |acc: &mut OAccount,
                                k: &str,
                                p: i64,
                                m: i64,
                                en: Uuid,
                                rev: Option<Uuid>| {
                        acc.lines.push((k.to_string(), p, m, en, rev, r.position));
                    };
                    match e {
                        Event::VolunteerRegistered {
                            community_id,
                            volunteer_number,
                            stairwell_id,
                            grid_id,
                            tags,
                            teams,
                            household,
                            ..
                        } => {
                            acc.community = Some(community_id.0);
                            acc.number = volunteer_number.clone();
                            vols.insert(
                                sid,
                                OVol {
                                    community: community_id.0,
                                    number: volunteer_number.clone(),
                                    stairwell: stairwell_id.0,
                                    grid: grid_id.0,
                                    teams: teams.iter().map(|t| t.0).collect(),
                                    tags: tags.clone(),
                                    departed: false,
                                    household: household.clone(),
                                },
                            );
                            *o.active.entry(community_id.0).or_default() += 1;
                        }
                        Event::VolunteerMoved {
                            stairwell_id,
                            grid_id,
                            household,
                        } => {
                            if let Some(v) = vols.get_mut(&sid) {
                                v.stairwell = stairwell_id.0;
                                v.grid = grid_id.0;
                                v.household = household.clone();
                            }
                        }
                        Event::TeamJoined { team_id } => {
                            if let Some(v) = vols.get_mut(&sid) {
                                v.teams.insert(team_id.0);
                            }
                        }
                        Event::TeamLeft { team_id } => {
                            if let Some(v) = vols.get_mut(&sid) {
                                v.teams.remove(&team_id.0);
                            }
                        }
                        Event::VolunteerDeparted { .. } => {
                            if let Some(v) = vols.get_mut(&sid) {
                                if !v.departed {
                                    v.departed = true;
                                    *o.active.entry(v.community).or_default() -= 1;
                                }
                            }
                        }
                        Event::ServiceLogged {
                            service_id,
                            started_at,
                            kind,
                            ..
                        } => {
                            if let Some(v) = vols.get(&sid) {
                                services
                                    .insert(service_id.0, (cst_day(*started_at), v.clone(), *kind));
                            }
                        }
                        Event::ServiceVerified {
                            service_id,
                            entry_id,
                            hours,
                            points,
                            ..
                        } => {
                            acc.earned += points.hundredths();
                            acc.banked += hours.minutes();
                            acc.verified += hours.minutes();
                            line(
                                acc,
                                "service_verified",
                                points.hundredths(),
                                hours.minutes(),
                                entry_id.0,
                                None,
                            );
                            if let Some((sday, v, k)) = services.get(&service_id.0).cloned() {
                                counted.insert(entry_id.0, (sid, sday, v.clone(), Some(k)));
                                o.count(
                                    sid,
                                    sday,
                                    &v,
                                    Some(k),
                                    points.hundredths(),
                                    hours.minutes(),
                                    1,
                                );
                            }
                        }
                        Event::PointsAwarded {
                            entry_id, points, ..
                        } => {
                            acc.earned += points.hundredths();
                            line(
                                acc,
                                "points_awarded",
                                points.hundredths(),
                                0,
                                entry_id.0,
                                None,
                            );
                            if let Some(v) = vols.get(&sid).cloned() {
                                counted.insert(entry_id.0, (sid, day, v.clone(), None));
                                o.count(sid, day, &v, None, points.hundredths(), 0, 1);
                            }
                        }
                        Event::PointsRedeemed {
                            entry_id, points, ..
                        } => {
                            acc.spent += points.hundredths();
                            line(
                                acc,
                                "points_redeemed",
                                -points.hundredths(),
                                0,
                                entry_id.0,
                                None,
                            );
                        }
                        Event::EntryReversed {
                            entry_id,
                            reverses,
                            points,
                            hours,
                            ..
                        } => {
                            acc.reversed += points.hundredths();
                            acc.banked -= hours.minutes();
                            acc.verified -= hours.minutes();
                            line(
                                acc,
                                "entry_reversed",
                                -points.hundredths(),
                                -hours.minutes(),
                                entry_id.0,
                                Some(reverses.0),
                            );
                            if let Some((vid, d, v, k)) = counted.get(&reverses.0).cloned() {
                                o.count(vid, d, &v, k, -points.hundredths(), -hours.minutes(), -1);
                            }
                        }
                        Event::HoursGifted {
                            entry_id, hours, ..
                        } => {
                            acc.gifted += hours.minutes();
                            acc.banked -= hours.minutes();
                            line(acc, "hours_gifted", 0, -hours.minutes(), entry_id.0, None);
                        }
                        Event::HoursReceived {
                            entry_id, hours, ..
                        } => {
                            acc.received += hours.minutes();
                            acc.banked += hours.minutes();
                            line(acc, "hours_received", 0, hours.minutes(), entry_id.0, None);
                        }
                        Event::HoursSpent {
                            entry_id, hours, ..
                        } => {
                            acc.hours_spent += hours.minutes();
                            acc.banked -= hours.minutes();
                            line(acc, "hours_spent", 0, -hours.minutes(), entry_id.0, None);
                        }
                        _ => {}
                    }
                    let acc = o.accounts.entry(sid).or_default();
                    if acc.verified != before {
                        acc.timeline.push((day, acc.verified));
                    }
                }
            }
        }
        o
    }

    #[allow(clippy::too_many_arguments)]
    fn count(
        &mut self,
        vid: Uuid,
        day: NaiveDate,
        v: &OVol,
        kind: Option<ServiceKind>,
        p: i64,
        m: i64,
        sign: i64,
    ) {
        let mut scopes = vec![format!("c:{}", v.community), format!("g:{}", v.grid)];
        scopes.extend(v.teams.iter().map(|t| format!("t:{t}")));
        scopes.extend(v.tags.iter().map(|t| format!("tag:{}:{t}", v.community)));
        scopes.sort();
        scopes.dedup();
        for period in periods(day) {
            for s in &scopes {
                let cell = self
                    .cells
                    .entry((period.clone(), s.clone()))
                    .or_default()
                    .entry(vid)
                    .or_insert((v.number.clone(), 0, 0));
                cell.1 += p;
                cell.2 += m;
            }
        }
        let month = month_of(day);
        let mo = self.months.entry((v.community, month.clone())).or_default();
        mo.0 += p;
        mo.1 += m;
        if let Some(k) = kind {
            mo.2 += sign;
            let kk = self
                .kinds
                .entry((v.community, month.clone(), k.as_str().to_string()))
                .or_default();
            kk.0 += sign;
            kk.1 += m;
            *self
                .served
                .entry((v.stairwell, month.clone(), vid, v.household.clone()))
                .or_default() += sign;
            *self
                .dash_served
                .entry((v.community, month, vid))
                .or_default() += sign;
        }
    }

    /// The thresholds (minutes) in force in a community on `day`.
    fn thresholds_on(&self, c: Option<Uuid>, day: NaiveDate) -> Vec<i64> {
        c.and_then(|c| self.communities.get(&c))
            .cloned()
            .unwrap_or_default()
            .star_thresholds_on(day)
            .thresholds
            .iter()
            .map(|h| h.minutes())
            .collect()
    }

    /// Star level and dates on `today`.
    pub fn stars_on(&self, acc: &OAccount, today: NaiveDate) -> (u32, Vec<Option<NaiveDate>>) {
        let switches: BTreeSet<NaiveDate> = acc
            .community
            .and_then(|c| self.communities.get(&c))
            .map(|c| c.star_thresholds.iter().map(|t| t.effective_from).collect())
            .unwrap_or_default();
        let switches: Vec<NaiveDate> = switches.into_iter().filter(|d| *d <= today).collect();
        oracle_stars(&acc.timeline, &switches, today, |d| {
            self.thresholds_on(acc.community, d)
        })
    }

    /// Balances with their stars as of today, and as of days to come (when versions
    /// dated in the future come into force, with no new event).
    pub async fn check_balances(&self, db: &Db) {
        let today = cst_day(Utc::now());
        for day in [today, today + Duration::days(1), today + Duration::days(40)] {
            self.check_balances_on(db, day).await;
        }
    }

    pub async fn check_balances_on(&self, db: &Db, today: NaiveDate) {
        for (vid, acc) in &self.accounts {
            if acc.community.is_none() {
                continue;
            }
            let b = projections::balances::balance_on(db, VolunteerId(*vid), today)
                .await
                .expect("balance query")
                .expect("balance row");
            let ctx = format!("volunteer {vid} on {today}");
            assert_eq!(b.points_earned, dec2(acc.earned), "{ctx}");
            assert_eq!(b.points_spent, dec2(acc.spent), "{ctx}");
            assert_eq!(b.points_reversed, dec2(acc.reversed), "{ctx}");
            assert_eq!(
                b.points_balance,
                dec2(acc.earned - acc.spent - acc.reversed),
                "{ctx}"
            );
            assert_eq!(
                b.negative,
                acc.earned - acc.spent - acc.reversed < 0 || acc.banked < 0,
                "{ctx}"
            );
            assert_eq!(b.hours_banked, hours(acc.banked), "{ctx}");
            assert_eq!(b.hours_gifted, hours(acc.gifted), "{ctx}");
            assert_eq!(b.hours_received, hours(acc.received), "{ctx}");
            assert_eq!(b.hours_spent, hours(acc.hours_spent), "{ctx}");
            assert_eq!(b.verified_hours, hours(acc.verified), "{ctx}");
            let t = self.thresholds_on(acc.community, today);
            assert_eq!(
                b.star_thresholds,
                t.iter().map(|m| hours(*m)).collect::<Vec<_>>(),
                "{ctx}"
            );
            let (level, dates) = self.stars_on(acc, today);
            assert_eq!(b.star_level, level, "{ctx}");
            let want: Vec<(u32, Decimal, NaiveDate)> = dates
                .into_iter()
                .enumerate()
                .filter_map(|(i, d)| d.map(|d| (i as u32 + 1, hours(t[i]), d)))
                .collect();
            let got: Vec<(u32, Decimal, NaiveDate)> = b
                .stars
                .iter()
                .map(|s| (s.level, s.threshold_hours, s.reached_on))
                .collect();
            assert_eq!(got, want, "{ctx} stars");
        }
    }

    pub async fn check_statements(&self, db: &Db) {
        use projections::statement::{statement, Order};
        let reversed_by: HashMap<Uuid, Uuid> = self
            .accounts
            .values()
            .flat_map(|a| a.lines.iter())
            .filter_map(|l| l.4.map(|r| (r, l.3)))
            .collect();
        for (vid, acc) in &self.accounts {
            // page through in pages of 3
            let mut got = Vec::new();
            let mut cursor = None;
            loop {
                let page = statement(db, VolunteerId(*vid), cursor, 3, Order::OldestFirst)
                    .await
                    .expect("statement");
                got.extend(page.entries);
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            assert_eq!(
                got.len(),
                acc.lines.len(),
                "volunteer {vid} statement length"
            );
            let (mut p, mut m) = (0, 0);
            for (i, (g, w)) in got.iter().zip(&acc.lines).enumerate() {
                p += w.1;
                m += w.2;
                assert_eq!(g.seq, i as u64 + 1);
                assert_eq!(g.kind, w.0);
                assert_eq!(g.points_delta, dec2(w.1));
                assert_eq!(g.hours_delta, hours(w.2));
                assert_eq!(g.points_balance, dec2(p));
                assert_eq!(g.hours_balance, hours(m));
                assert_eq!(g.entry_id.0, w.3);
                assert_eq!(g.reverses.map(|r| r.0), w.4);
                assert_eq!(g.position, w.5);
                assert_eq!(g.reversed_by.map(|r| r.0), reversed_by.get(&w.3).copied());
            }
            let newest = statement(db, VolunteerId(*vid), None, 2, Order::NewestFirst)
                .await
                .expect("statement");
            let want: Vec<u64> = (1..=acc.lines.len() as u64).rev().take(2).collect();
            assert_eq!(
                newest.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
                want
            );
        }
    }

    pub async fn check_rankings(&self, db: &Db) {
        use projections::rankings::ranking;
        for ((period_key, scope_key), cells) in &self.cells {
            let period = parse_period(period_key);
            let scope = parse_scope(scope_key);
            for metric in [Metric::Points, Metric::Hours] {
                let value =
                    |c: &(String, i64, i64)| if metric == Metric::Points { c.1 } else { c.2 };
                let mut list: Vec<(Uuid, &(String, i64, i64))> = cells
                    .iter()
                    .filter(|(_, c)| value(c) > 0)
                    .map(|(v, c)| (*v, c))
                    .collect();
                list.sort_by(|a, b| {
                    value(b.1)
                        .cmp(&value(a.1))
                        .then(a.1 .0.cmp(&b.1 .0))
                        .then(a.0.to_string().cmp(&b.0.to_string()))
                });
                let mut want = Vec::new();
                let mut distinct: Vec<i64> = Vec::new();
                for (v, c) in &list {
                    if distinct.last() != Some(&value(c)) {
                        distinct.push(value(c));
                    }
                    want.push((distinct.len() as u64, *v, dec2(c.1), hours(c.2)));
                }
                let me = list
                    .first()
                    .map(|(v, _)| *v)
                    .or(cells.keys().next().copied());
                let got = ranking(db, &scope, period, metric, 1000, me.map(VolunteerId))
                    .await
                    .expect("ranking");
                let got_list: Vec<_> = got
                    .top
                    .iter()
                    .map(|e| (e.rank, e.volunteer_id.0, e.points, e.hours))
                    .collect();
                assert_eq!(
                    got_list, want,
                    "ranking {period_key} {scope_key} {metric:?}"
                );
                // every volunteer's own rank
                for (rank, v, _, _) in &want {
                    let r = ranking(db, &scope, period, metric, 0, Some(VolunteerId(*v)))
                        .await
                        .expect("own rank");
                    assert_eq!(r.me.map(|m| m.rank), Some(*rank), "own rank {v}");
                }
            }
        }
    }

    fn participation_max(&self, community: Uuid, version: u32) -> i64 {
        self.rubrics
            .get(&(community, version))
            .copied()
            .unwrap_or(2000)
    }

    /// Expected (stairwell, total hundredths, served) per month, in ranking order.
    pub fn stairwell_month(&self, community: Uuid, month: &str) -> Vec<(Uuid, i64, u32)> {
        let mut out = Vec::new();
        for ((sw, m), (items, version)) in &self.inspections {
            if m != month {
                continue;
            }
            let Some((c, _, _, households)) = self.stairwells.get(sw) else {
                continue;
            };
            if *c != community {
                continue;
            }
            // Distinct households; a volunteer without one is a household of their own.
            let served = self
                .served
                .iter()
                .filter(|((s, mm, _, _), n)| s == sw && mm == month && **n > 0)
                .map(|((_, _, v, h), _)| h.clone().ok_or(*v))
                .collect::<BTreeSet<Result<String, Uuid>>>()
                .len() as u32;
            let pmax = Decimal::new(self.participation_max(community, *version), 2);
            let part = if *households == 0 {
                Decimal::ZERO
            } else {
                let ratio =
                    Decimal::from(served) / (Decimal::new(3, 1) * Decimal::from(*households));
                (pmax * ratio.min(Decimal::ONE))
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
            };
            let ded: i64 = self
                .issues
                .values()
                .filter(|(s, rep, res, _)| {
                    s == sw
                        && rep.as_str() <= month
                        && res.as_ref().map(|r| r.as_str() > month).unwrap_or(true)
                })
                .map(|x| x.3)
                .sum();
            let total = (Decimal::new(*items, 2) + part - Decimal::new(ded, 2))
                .max(Decimal::ZERO)
                .min(Decimal::from(100));
            let total: i64 = (total * Decimal::ONE_HUNDRED).try_into().unwrap_or(0);
            out.push((*sw, total, served));
        }
        out.sort_by(|a, b| {
            let (sa, sb) = (&self.stairwells[&a.0], &self.stairwells[&b.0]);
            b.1.cmp(&a.1)
                .then(natural_cmp(&sa.1, &sb.1))
                .then(natural_cmp(&sa.2, &sb.2))
                .then(a.0.cmp(&b.0))
        });
        out
    }

    /// Expected (stairwell, total hundredths, served, rank, red flag) per month, in
    /// ranking order. Ranks are dense: a stairwell's rank is 1 + the number of distinct
    /// totals above its own, so ties share a rank and the next total takes the next one.
    /// The red flag goes to one stairwell: of those with the month's highest total, the
    /// first by building, unit and id.
    pub fn stairwell_ranked(
        &self,
        community: Uuid,
        month: &str,
    ) -> Vec<(Uuid, i64, u32, u64, bool)> {
        let list = self.stairwell_month(community, month);
        let totals: BTreeSet<i64> = list.iter().map(|x| x.1).collect();
        let top = totals.last().copied();
        let holder = list
            .iter()
            .filter(|x| Some(x.1) == top)
            .min_by(|a, b| {
                let (sa, sb) = (&self.stairwells[&a.0], &self.stairwells[&b.0]);
                natural_cmp(&sa.1, &sb.1)
                    .then(natural_cmp(&sa.2, &sb.2))
                    .then(a.0.cmp(&b.0))
            })
            .map(|x| x.0);
        list.into_iter()
            .map(|(sw, total, served)| {
                let rank = 1 + totals.range(total + 1..).count() as u64;
                (sw, total, served, rank, Some(sw) == holder)
            })
            .collect()
    }

    pub async fn check_stairwells(&self, db: &Db, community: Uuid) {
        let months: BTreeSet<String> = self.inspections.keys().map(|(_, m)| m.clone()).collect();
        for month in &months {
            let want = self.stairwell_ranked(community, month);
            let got: Vec<(Uuid, i64, u32, u64, bool)> =
                projections::stairwells::monthly_scores(db, CommunityId(community), month)
                    .await
                    .expect("scores")
                    .iter()
                    .map(|s| {
                        (
                            s.stairwell_id.0,
                            (s.total * Decimal::ONE_HUNDRED).try_into().unwrap_or(-1),
                            s.served,
                            s.rank,
                            s.red_flag,
                        )
                    })
                    .collect();
            assert_eq!(got, want, "stairwell scores, ranks and red flag {month}");
        }
        // Averages and the 流动红旗 history over quarters and years: 2024 (where
        // services are dated) and this month's quarter and year (where issues are).
        let today = cst_day(Utc::now());
        let next = today + Duration::days(32);
        let mut periods = vec![
            Period::Quarter(2024, 1),
            Period::Quarter(2024, 2),
            Period::Year(2024),
        ];
        for d in [today, next] {
            periods.push(Period::Quarter(d.year(), (d.month() - 1) / 3 + 1));
            periods.push(Period::Year(d.year()));
        }
        for period in periods {
            self.check_period(db, community, period).await;
        }
    }

    /// Averages (values, order, dense ranks) and red-flag holders of a period.
    async fn check_period(&self, db: &Db, community: Uuid, period: Period) {
        let mut sums: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
        let mut flags = Vec::new();
        for m in period.months() {
            let month = self.stairwell_month(community, &m);
            if let Some((sw, total, _)) = month.first() {
                flags.push((m.clone(), *sw, *total));
            }
            for (sw, total, _) in month {
                let e = sums.entry(sw).or_default();
                e.0 += total;
                e.1 += 1;
            }
        }
        let got: Vec<(String, Uuid, i64)> =
            projections::stairwells::red_flags(db, CommunityId(community), period)
                .await
                .expect("red flags")
                .into_iter()
                .map(|f| {
                    let total = (f.total * Decimal::ONE_HUNDRED).try_into().unwrap_or(-1);
                    (f.month, f.stairwell_id.0, total)
                })
                .collect();
        assert_eq!(got, flags, "red flags of {period:?}");
        let mut want: Vec<(Uuid, Decimal, u32)> = sums
            .iter()
            .map(|(sw, (sum, n))| {
                let avg = (Decimal::new(*sum, 2) / Decimal::from(*n))
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                (*sw, avg, *n as u32)
            })
            .collect();
        want.sort_by(|a, b| {
            let (sa, sb) = (&self.stairwells[&a.0], &self.stairwells[&b.0]);
            b.1.cmp(&a.1)
                .then(natural_cmp(&sa.1, &sb.1))
                .then(natural_cmp(&sa.2, &sb.2))
                .then(a.0.cmp(&b.0))
        });
        let mut ranks = Vec::new();
        for (i, w) in want.iter().enumerate() {
            let rank = match i {
                0 => 1,
                _ if want[i - 1].1 == w.1 => ranks[i - 1],
                _ => ranks[i - 1] + 1,
            };
            ranks.push(rank);
        }
        let got: Vec<(Uuid, Decimal, u32, u64)> =
            projections::stairwells::average_scores(db, CommunityId(community), period)
                .await
                .expect("averages")
                .into_iter()
                .map(|a| (a.stairwell_id.0, a.average, a.months_scored, a.rank))
                .collect();
        let want: Vec<(Uuid, Decimal, u32, u64)> = want
            .into_iter()
            .zip(ranks)
            .map(|((sw, avg, n), rank)| (sw, avg, n, rank))
            .collect();
        assert_eq!(got, want, "averages of {period:?}");
    }

    pub async fn check_wishes(&self, db: &Db, community: Uuid) {
        self.check_wish_board(db, community).await;
        for (wid, w) in &self.wishes {
            let g = projections::wishes::wish(db, WishId(*wid))
                .await
                .expect("wish")
                .expect("wish row");
            assert_eq!(g.status, w.status, "wish {wid}");
            assert_eq!(g.claimer.map(|c| c.0), w.claimer);
            assert_eq!(g.posted_at.timestamp_millis(), w.posted);
            assert_eq!(g.claimed_at.map(|t| t.timestamp_millis()), w.claimed);
            assert_eq!(g.fulfilled_at.map(|t| t.timestamp_millis()), w.fulfilled);
            assert_eq!(g.confirmed_at.map(|t| t.timestamp_millis()), w.confirmed);
            assert_eq!(g.cancelled_at.map(|t| t.timestamp_millis()), w.cancelled);
            assert_eq!(g.seconds_to_claim, w.claimed.map(|c| (c - w.posted) / 1000));
            assert_eq!(
                g.seconds_to_fulfil,
                w.fulfilled.map(|f| (f - w.posted) / 1000)
            );
        }
    }

    /// The wish board: every status and none, newest first (posted at, then id), whole
    /// and before the median posting time.
    async fn check_wish_board(&self, db: &Db, community: Uuid) {
        let mut times: Vec<i64> = self.wishes.values().map(|w| w.posted).collect();
        times.sort_unstable();
        let median = times.get(times.len() / 2).copied();
        for status in [
            None,
            Some("open"),
            Some("claimed"),
            Some("fulfilled"),
            Some("confirmed"),
            Some("cancelled"),
        ] {
            for before in [None, median] {
                let mut want: Vec<(i64, Uuid)> = self
                    .wishes
                    .iter()
                    .filter(|(_, w)| status.is_none_or(|s| w.status == s))
                    .filter(|(_, w)| before.is_none_or(|b| w.posted < b))
                    .map(|(id, w)| (w.posted, *id))
                    .collect();
                want.sort_unstable_by(|a, b| b.cmp(a));
                let got: Vec<(i64, Uuid)> = projections::wishes::wishes(
                    db,
                    CommunityId(community),
                    status,
                    before.and_then(chrono::DateTime::<Utc>::from_timestamp_millis),
                    500,
                )
                .await
                .expect("wish board")
                .into_iter()
                .map(|w| (w.posted_at.timestamp_millis(), w.wish_id.0))
                .collect();
                assert_eq!(got, want, "wish board {status:?} before {before:?}");
            }
        }
    }

    pub async fn check_dashboard(&self, db: &Db, community: Uuid) {
        for today in [
            NaiveDate::from_ymd_opt(2024, 3, 15).unwrap_or_default(),
            cst_day(Utc::now()),
        ] {
            let d = projections::dashboard::dashboard(db, CommunityId(community), today)
                .await
                .expect("dashboard");
            assert_eq!(
                d.active_volunteers as i64,
                self.active.get(&community).copied().unwrap_or(0)
            );
            let open = self.wishes.values().filter(|w| w.status == "open").count() as u64;
            let prog = self
                .wishes
                .values()
                .filter(|w| w.status == "claimed" || w.status == "fulfilled")
                .count() as u64;
            assert_eq!(d.open_wishes, open);
            assert_eq!(d.wishes_in_progress, prog);
            let month = month_of(today);
            let year = format!("{:04}", today.year());
            for (totals, keep) in [
                (
                    &d.this_month,
                    Box::new(|m: &str| m == month) as Box<dyn Fn(&str) -> bool>,
                ),
                (&d.this_year, Box::new(|m: &str| m.starts_with(&year))),
            ] {
                let (mut p, mut mi, mut s) = (0, 0, 0);
                for ((c, m), v) in &self.months {
                    if *c == community && keep(m) {
                        p += v.0;
                        mi += v.1;
                        s += v.2;
                    }
                }
                assert_eq!(totals.points, dec2(p), "points {month}");
                assert_eq!(totals.hours, hours(mi));
                assert_eq!(totals.services as i64, s);
                let mut kinds: BTreeMap<String, (i64, i64)> = BTreeMap::new();
                for ((c, m, k), v) in &self.kinds {
                    if *c == community && keep(m) {
                        let e = kinds.entry(k.clone()).or_default();
                        e.0 += v.0;
                        e.1 += v.1;
                    }
                }
                let want: Vec<(String, u64, Decimal)> = kinds
                    .into_iter()
                    .filter(|(_, v)| v.0 > 0)
                    .map(|(k, v)| (k, v.0 as u64, hours(v.1)))
                    .collect();
                let got: Vec<(String, u64, Decimal)> = totals
                    .by_kind
                    .iter()
                    .map(|k| (k.kind.clone(), k.services, k.hours))
                    .collect();
                assert_eq!(got, want);
                let served: BTreeSet<Uuid> = self
                    .dash_served
                    .iter()
                    .filter(|((c, m, _), n)| *c == community && keep(m) && **n > 0)
                    .map(|((_, _, v), _)| *v)
                    .collect();
                assert_eq!(totals.volunteers_served, served.len() as u64);
            }
            let flag = self
                .inspections
                .keys()
                .filter(|(sw, m)| {
                    self.stairwells.get(sw).map(|s| s.0) == Some(community)
                        && m.as_str() <= month.as_str()
                })
                .map(|(_, m)| m.clone())
                .max()
                .and_then(|m| self.stairwell_month(community, &m).first().map(|x| x.0));
            assert_eq!(d.red_flag.map(|r| r.stairwell_id.0), flag);
        }
    }

    pub async fn check_all(&self, db: &Db, community: Uuid) {
        self.check_balances(db).await;
        self.check_statements(db).await;
        self.check_rankings(db).await;
        self.check_stairwells(db, community).await;
        self.check_wishes(db, community).await;
        self.check_dashboard(db, community).await;
    }
}

/// Star level and dates on `today`, plainly: walk the moments (a version coming into
/// force on each of `switches`, before that day's entries; then each entry of the
/// timeline), decide at each whether each star is held under the thresholds in force
/// that day, and date a star by the last moment it went from not held to held.
pub fn oracle_stars(
    timeline: &[(NaiveDate, i64)],
    switches: &[NaiveDate],
    today: NaiveDate,
    thresholds_on: impl Fn(NaiveDate) -> Vec<i64>,
) -> (u32, Vec<Option<NaiveDate>>) {
    // (day, 0 for a switch / 1 for an entry, index) in order; entries keep theirs.
    let mut moments: Vec<(NaiveDate, u8, usize)> = switches.iter().map(|d| (*d, 0, 0)).collect();
    moments.extend(timeline.iter().enumerate().map(|(i, (d, _))| (*d, 1, i)));
    moments.sort();
    let now = thresholds_on(today);
    let mut held = [false; 8];
    let mut dates: [Option<NaiveDate>; 8] = [None; 8];
    let mut minutes = 0;
    for (day, kind, i) in moments {
        if kind == 1 {
            minutes = timeline[i].1;
        }
        let t = thresholds_on(day);
        for s in 0..held.len() {
            let h = t.get(s).is_some_and(|x| minutes >= *x);
            if h && !held[s] {
                dates[s] = Some(day);
            }
            held[s] = h;
        }
    }
    let level = now.iter().filter(|x| minutes >= **x).count() as u32;
    let dates = (0..now.len())
        .map(|s| if minutes >= now[s] { dates[s] } else { None })
        .collect();
    (level, dates)
}

pub fn parse_period(k: &str) -> Period {
    if k == "all" {
        return Period::AllTime;
    }
    let y: i32 = k[..4].parse().expect("year");
    if k.len() == 4 {
        Period::Year(y)
    } else if let Some(q) = k.strip_prefix(&format!("{y:04}-Q")) {
        Period::Quarter(y, q.parse().expect("quarter"))
    } else {
        Period::Month(y, k[5..].parse().expect("month"))
    }
}

pub fn parse_scope(k: &str) -> Scope {
    let u = |s: &str| Uuid::parse_str(s).expect("uuid");
    if let Some(r) = k.strip_prefix("c:") {
        Scope::Community(CommunityId(u(r)))
    } else if let Some(r) = k.strip_prefix("g:") {
        Scope::Grid(GridId(u(r)))
    } else if let Some(r) = k.strip_prefix("t:") {
        Scope::Team(TeamId(u(r)))
    } else {
        let r = k.strip_prefix("tag:").expect("tag scope");
        let (c, tag) = r.split_at(36);
        Scope::Tag(CommunityId(u(c)), tag[1..].to_string())
    }
}

/// Every row of every projection table, sorted, for table-for-table comparisons.
pub async fn dump(db: &Db) -> BTreeMap<String, Vec<Vec<projections::db::Val>>> {
    let mut out = BTreeMap::new();
    for p in projections::all() {
        for t in p.tables() {
            let additive = [
                "pj_rank_activity",
                "pj_sw_served",
                "pj_dash_communities",
                "pj_dash_months",
                "pj_dash_kinds",
                "pj_dash_served",
            ]
            .contains(&t.name);
            let rows = projections::db::dump_table(db, t.name, additive)
                .await
                .expect("dump");
            out.insert(t.name.to_string(), rows);
        }
    }
    out
}
