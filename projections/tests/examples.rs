//! Worked examples of the scoring rules, on both backends: dense ranking with ties, a
//! volunteer who moved stairwells mid-year, the 文明楼道 score with participation and
//! deductions, participation counted by household, the total clamped to 0–100, ties in
//! the stairwell ranking, the red flag, star levels, an activity's life, the points
//! shop and points expiry.

mod support;

use chrono::{DateTime, Datelike, Duration as Days, NaiveDate, TimeZone, Utc};
use ledger::amount::{Hours, Points};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::Store;
use projections::common::Period;
use projections::rankings::{ranking, Metric, Scope};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::time::Duration;
use support::{append, read_log, Oracle};
use uuid::Uuid;

fn u(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

struct World {
    c: Uuid,
    grids: [Uuid; 2],
    sws: [Uuid; 2],
    events: Vec<(String, Event)>,
}

impl World {
    fn new() -> World {
        let c = u(1);
        let grids = [u(10), u(11)];
        let sws = [u(20), u(21)];
        let cs = community_stream(CommunityId(c));
        let mut events = vec![(
            cs.clone(),
            Event::CommunityEstablished {
                community_id: CommunityId(c),
                name: "海棠社区".into(),
            },
        )];
        for g in grids {
            events.push((
                cs.clone(),
                Event::GridAdded {
                    grid_id: GridId(g),
                    name: "网格".into(),
                    parent: None,
                },
            ));
        }
        for (i, s) in sws.iter().enumerate() {
            events.push((
                cs.clone(),
                Event::StairwellRegistered {
                    stairwell_id: StairwellId(*s),
                    grid_id: GridId(grids[i]),
                    building: "1栋".into(),
                    unit: format!("{}单元", i + 1),
                    households: 20,
                },
            ));
        }
        World {
            c,
            grids,
            sws,
            events,
        }
    }

    fn register(&mut self, v: Uuid, number: &str, sw: usize, tags: &[&str]) {
        self.register_in(v, number, sw, tags, None);
    }

    /// [`World::register`] into a household (户) of the stairwell.
    fn register_in(
        &mut self,
        v: Uuid,
        number: &str,
        sw: usize,
        tags: &[&str],
        household: Option<&str>,
    ) {
        self.events.push((
            volunteer_stream(VolunteerId(v)),
            Event::VolunteerRegistered {
                volunteer_id: VolunteerId(v),
                community_id: CommunityId(self.c),
                volunteer_number: number.into(),
                stairwell_id: StairwellId(self.sws[sw]),
                grid_id: GridId(self.grids[sw]),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                teams: vec![],
                household: household.map(str::to_string),
            },
        ));
    }

    /// A service started at `at` (UTC), logged and verified.
    fn serve(&mut self, v: Uuid, n: u128, at: chrono::DateTime<Utc>, minutes: i64, points: i64) {
        let vs = volunteer_stream(VolunteerId(v));
        self.events.push((
            vs.clone(),
            Event::ServiceLogged {
                imported: None,
                service_id: ServiceId(u(n)),
                kind: ServiceKind::Patrol,
                started_at: at,
                hours: Hours::from_minutes(minutes),
                place: "小区".into(),
                note: String::new(),
                logged_by: u(99),
                activity: None,
            },
        ));
        self.events.push((
            vs,
            Event::ServiceVerified {
                service_id: ServiceId(u(n)),
                entry_id: EntryId(u(n + 1)),
                hours: Hours::from_minutes(minutes),
                points: Points::whole(points),
                rule_version: 0,
                verified_by: u(99),
                over_cap: Hours::ZERO,
                expires_on: None,
            },
        ));
    }

    fn mv(&mut self, v: Uuid, sw: usize) {
        self.mv_in(v, sw, None);
    }

    /// A move into a household (户) of stairwell `sw`.
    fn mv_in(&mut self, v: Uuid, sw: usize, household: Option<&str>) {
        self.events.push((
            volunteer_stream(VolunteerId(v)),
            Event::VolunteerMoved {
                stairwell_id: StairwellId(self.sws[sw]),
                grid_id: GridId(self.grids[sw]),
                household: household.map(str::to_string),
            },
        ));
    }

    /// Another stairwell of the community, in grid 0, with no volunteers of its own.
    fn add_stairwell(&mut self, s: Uuid, building: &str, unit: &str, households: u32) {
        self.events.push((
            community_stream(CommunityId(self.c)),
            Event::StairwellRegistered {
                stairwell_id: StairwellId(s),
                grid_id: GridId(self.grids[0]),
                building: building.into(),
                unit: unit.into(),
                households,
            },
        ));
    }

    /// Stairwell `sw`'s inspection of `month`, under rubric `version` (0: the built-in one).
    fn inspect(&mut self, sw: Uuid, month: &str, version: u32, scores: [(&str, &str); 3]) {
        self.events.push((
            stairwell_stream(StairwellId(sw)),
            Event::StairwellInspected {
                month: month.into(),
                scores: scores
                    .iter()
                    .map(|(k, v)| (k.to_string(), d(v)))
                    .collect::<BTreeMap<_, _>>(),
                inspector: u(99),
                note: String::new(),
                rubric_version: version,
            },
        ));
    }

    /// An issue of stairwell `sw`, dated when it is recorded (this month); resolved in
    /// the same month when `resolved`.
    fn issue(&mut self, sw: Uuid, issue: u128, deduction: &str, resolved: bool) {
        let s = stairwell_stream(StairwellId(sw));
        self.events.push((
            s.clone(),
            Event::StairwellIssueReported {
                issue_id: IssueId(u(issue)),
                description: "楼道堆物".into(),
                deduction: d(deduction),
                reported_by: u(99),
            },
        ));
        if resolved {
            self.events.push((
                s,
                Event::StairwellIssueResolved {
                    issue_id: IssueId(u(issue)),
                    note: "已清理".into(),
                    resolved_by: u(99),
                },
            ));
        }
    }
}

async fn build(store: &Store, w: &World) -> projections::Projections {
    append(store, &w.events, 5).await;
    let p = projections::start(store.clone()).await;
    let head = store.head().await.expect("head");
    p.wait_for(head, Duration::from_secs(20))
        .await
        .expect("caught up");
    p
}

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

async fn ranking_ties(store: Store) {
    let mut w = World::new();
    let (a, b, c, e) = (u(100), u(101), u(102), u(103));
    w.register(a, "V001", 0, &["党员"]);
    w.register(b, "V003", 0, &["党员"]);
    w.register(c, "V002", 1, &[]);
    w.register(e, "V004", 1, &["党员"]);
    let march = Utc.with_ymd_and_hms(2024, 3, 10, 2, 0, 0).unwrap();
    w.serve(a, 1000, march, 120, 50);
    w.serve(b, 1010, march, 60, 30);
    w.serve(c, 1020, march, 60, 30);
    w.serve(e, 1030, march, 30, 10);
    let p = build(&store, &w).await;
    let db = p.db();
    let scope = Scope::Community(CommunityId(w.c));
    let r = ranking(
        db,
        &scope,
        Period::Month(2024, 3),
        Metric::Points,
        20,
        Some(VolunteerId(c)),
    )
    .await
    .expect("ranking");
    let got: Vec<(u64, &str, Decimal)> = r
        .top
        .iter()
        .map(|e| (e.rank, e.volunteer_number.as_str(), e.points))
        .collect();
    // 50, 30, 30, 10: dense ranks 1, 2, 2, 3; the tie is shown by volunteer number.
    assert_eq!(
        got,
        vec![
            (1, "V001", d("50")),
            (2, "V002", d("30")),
            (2, "V003", d("30")),
            (3, "V004", d("10"))
        ]
    );
    assert_eq!(r.me.map(|m| m.rank), Some(2));
    // Top 2 only, and the 4th volunteer's own rank outside the top.
    let r = ranking(
        db,
        &scope,
        Period::Year(2024),
        Metric::Points,
        2,
        Some(VolunteerId(e)),
    )
    .await
    .expect("ranking");
    assert_eq!(r.top.len(), 2);
    assert_eq!(r.me.map(|m| (m.rank, m.points)), Some((3, d("10"))));
    // By hours: 2h, 1h, 1h, 0.5h.
    let r = ranking(
        db,
        &scope,
        Period::Quarter(2024, 1),
        Metric::Hours,
        20,
        None,
    )
    .await
    .expect("ranking");
    let hours: Vec<(u64, Decimal)> = r.top.iter().map(|e| (e.rank, e.hours)).collect();
    assert_eq!(
        hours,
        vec![(1, d("2")), (2, d("1")), (2, d("1")), (3, d("0.5"))]
    );
    // A tag scope: 党员 only (V001, V003, V004).
    let r = ranking(
        db,
        &Scope::Tag(CommunityId(w.c), "党员".into()),
        Period::AllTime,
        Metric::Points,
        20,
        None,
    )
    .await
    .expect("ranking");
    let nums: Vec<(u64, &str)> = r
        .top
        .iter()
        .map(|e| (e.rank, e.volunteer_number.as_str()))
        .collect();
    assert_eq!(nums, vec![(1, "V001"), (2, "V003"), (3, "V004")]);
    // Nothing in another month.
    let r = ranking(
        db,
        &scope,
        Period::Month(2024, 4),
        Metric::Points,
        20,
        Some(VolunteerId(a)),
    )
    .await
    .expect("ranking");
    assert!(r.top.is_empty() && r.me.is_none());
    p.shutdown().await.expect("shutdown");
}

async fn moved_mid_year(store: Store) {
    let mut w = World::new();
    let v = u(200);
    let other = u(201);
    w.register(v, "V010", 0, &[]);
    w.register(other, "V011", 1, &[]);
    // March, living in stairwell 0 (grid 0): 3 h.
    w.serve(
        v,
        2000,
        Utc.with_ymd_and_hms(2024, 3, 5, 1, 0, 0).unwrap(),
        180,
        30,
    );
    w.mv(v, 1);
    // August, living in stairwell 1 (grid 1): 2 h.
    w.serve(
        v,
        2010,
        Utc.with_ymd_and_hms(2024, 8, 5, 1, 0, 0).unwrap(),
        120,
        20,
    );
    w.serve(
        other,
        2020,
        Utc.with_ymd_and_hms(2024, 8, 6, 1, 0, 0).unwrap(),
        60,
        10,
    );
    let p = build(&store, &w).await;
    let db = p.db();
    let year = Period::Year(2024);
    let g0 = ranking(
        db,
        &Scope::Grid(GridId(w.grids[0])),
        year,
        Metric::Hours,
        20,
        Some(VolunteerId(v)),
    )
    .await
    .expect("grid 0");
    assert_eq!(
        g0.me.map(|m| m.hours),
        Some(d("3")),
        "last year's grid keeps the March hours"
    );
    let g1 = ranking(
        db,
        &Scope::Grid(GridId(w.grids[1])),
        year,
        Metric::Hours,
        20,
        Some(VolunteerId(v)),
    )
    .await
    .expect("grid 1");
    assert_eq!(g1.me.map(|m| (m.rank, m.hours)), Some((1, d("2"))));
    let all = ranking(
        db,
        &Scope::Community(CommunityId(w.c)),
        year,
        Metric::Hours,
        20,
        Some(VolunteerId(v)),
    )
    .await
    .expect("community");
    assert_eq!(all.me.map(|m| m.hours), Some(d("5")));
    // Participation counts the stairwell the volunteer lived in at the time.
    let march =
        projections::stairwells::scores_for_months(db, CommunityId(w.c), &["2024-03".into()])
            .await
            .expect("scores");
    assert!(march.is_empty(), "no inspection, no score");
    let served: Vec<(String, String, i64)> = db
        .fetch("SELECT stairwell_id, month, services FROM pj_sw_served WHERE volunteer_id = ? ORDER BY month", &[v.to_string().into()])
        .await
        .expect("served")
        .iter()
        .map(|r| (r.text(0).expect("s"), r.text(1).expect("m"), r.int(2).expect("n")))
        .collect();
    assert_eq!(
        served,
        vec![
            (w.sws[0].to_string(), "2024-03".to_string(), 1),
            (w.sws[1].to_string(), "2024-08".to_string(), 1)
        ]
    );
    p.shutdown().await.expect("shutdown");
}

/// An hour before `now`, or the start of the month (China Standard Time) if that is
/// later: a service of the current month whenever the test runs, even in a month's
/// first hour.
fn earlier_this_month(now: DateTime<Utc>) -> DateTime<Utc> {
    let month_start = (now + Days::hours(8))
        .date_naive()
        .with_day(1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("the first of the month");
    (now - Days::hours(1)).max(Utc.from_utc_datetime(&month_start) - Days::hours(8))
}

/// 邻里互助 counts households: two volunteers of room 3-2-201 are one household, a
/// volunteer who moved into 3-2-202 joins its household, a volunteer with no household
/// is one of their own.
async fn households(store: Store) {
    let mut w = World::new();
    let now = Utc::now();
    let month = (now + Days::hours(8))
        .date_naive()
        .format("%Y-%m")
        .to_string();
    let [a, b, c, e, f] = [u(600), u(601), u(602), u(603), u(604)];
    w.register_in(a, "V060", 0, &[], Some("3-2-201"));
    w.register_in(b, "V061", 0, &[], Some("3-2-201"));
    w.register_in(c, "V062", 0, &[], Some("3-2-202"));
    w.register(e, "V063", 0, &[]);
    w.register_in(f, "V064", 1, &[], Some("5-1-101"));
    w.mv_in(f, 0, Some("3-2-202"));
    for (i, v) in [a, b, c, e, f].into_iter().enumerate() {
        w.serve(v, 6000 + 10 * i as u128, earlier_this_month(now), 60, 10);
    }
    w.events.push((
        stairwell_stream(StairwellId(w.sws[0])),
        Event::StairwellInspected {
            month: month.clone(),
            scores: [
                ("cleanliness", "28"),
                ("clutter", "20"),
                ("fire_safety", "25"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), d(v)))
            .collect::<BTreeMap<_, _>>(),
            inspector: u(99),
            note: String::new(),
            rubric_version: 0,
        },
    ));
    let p = build(&store, &w).await;
    let scores = projections::stairwells::monthly_scores(p.db(), CommunityId(w.c), &month)
        .await
        .expect("scores");
    // Five volunteers served, in three households (3-2-201, 3-2-202, and the one of the
    // volunteer with none): 20 × min(1, 3 ÷ (30% × 20)) = 10, not 20 × 5 ÷ 6.
    let s = &scores[0];
    assert_eq!(
        (s.items, s.served, s.participation, s.total),
        (d("73"), 3, d("10"), d("83"))
    );
    p.shutdown().await.expect("shutdown");
}

async fn stairwell_score(store: Store) {
    let mut w = World::new();
    // The current month (issues are dated when reported).
    let now = Utc::now();
    let today = (now + Days::hours(8)).date_naive();
    let month = today.format("%Y-%m").to_string();
    let vols: Vec<Uuid> = (0..4).map(|i| u(300 + i)).collect();
    for (i, v) in vols.iter().enumerate() {
        w.register(*v, &format!("V02{i}"), 0, &[]);
    }
    // 3 volunteers of stairwell 0 (20 households) serve this month: participation
    // 20 × min(1, 3 ÷ 6) = 10. The 4th serves, but the service is reversed.
    let start = earlier_this_month(now);
    for (i, v) in vols.iter().enumerate() {
        w.serve(*v, 3000 + 10 * i as u128, start, 60, 10);
    }
    w.events.push((
        volunteer_stream(VolunteerId(vols[3])),
        Event::EntryReversed {
            batch: None,
            entry_id: EntryId(u(3999)),
            reverses: EntryId(u(3031)),
            points: Points::whole(10),
            hours: Hours::from_minutes(60),
            reason: "重复登记".into(),
            reversed_by: u(99),
            over_cap: Hours::ZERO,
            impact: None,
        },
    ));
    let inspect = |sw: Uuid, scores: [(&str, &str); 3]| {
        (
            stairwell_stream(StairwellId(sw)),
            Event::StairwellInspected {
                month: month.clone(),
                scores: scores
                    .iter()
                    .map(|(k, v)| (k.to_string(), d(v)))
                    .collect::<BTreeMap<_, _>>(),
                inspector: u(99),
                note: String::new(),
                rubric_version: 0,
            },
        )
    };
    w.events.push(inspect(
        w.sws[0],
        [
            ("cleanliness", "28"),
            ("clutter", "20"),
            ("fire_safety", "25"),
        ],
    ));
    w.events.push(inspect(
        w.sws[1],
        [
            ("cleanliness", "30"),
            ("clutter", "25"),
            ("fire_safety", "25"),
        ],
    ));
    let s0 = stairwell_stream(StairwellId(w.sws[0]));
    let s1 = stairwell_stream(StairwellId(w.sws[1]));
    // Stairwell 0: one issue open at month end (−5), one resolved within the month (no deduction).
    for (stream, issue, ded) in [(&s0, 400u128, "5"), (&s0, 401, "8"), (&s1, 402, "12.5")] {
        w.events.push((
            stream.clone(),
            Event::StairwellIssueReported {
                issue_id: IssueId(u(issue)),
                description: "楼道堆物".into(),
                deduction: d(ded),
                reported_by: u(99),
            },
        ));
    }
    w.events.push((
        s0.clone(),
        Event::StairwellIssueResolved {
            issue_id: IssueId(u(401)),
            note: "已清理".into(),
            resolved_by: u(99),
        },
    ));
    let p = build(&store, &w).await;
    let db = p.db();
    let scores = projections::stairwells::monthly_scores(db, CommunityId(w.c), &month)
        .await
        .expect("scores");
    assert_eq!(scores.len(), 2);
    // Stairwell 0: 73 + 10 − 5 = 78. Stairwell 1: 80 + 0 − 12.5 = 67.5.
    let s = &scores[0];
    assert_eq!(s.stairwell_id.0, w.sws[0]);
    assert_eq!(
        (s.items, s.served, s.participation, s.deductions, s.total),
        (d("73"), 3, d("10"), d("5"), d("78"))
    );
    assert!(s.red_flag && s.rank == 1);
    let s = &scores[1];
    assert_eq!(
        (s.items, s.served, s.participation, s.deductions, s.total),
        (d("80"), 0, d("0"), d("12.5"), d("67.5"))
    );
    assert!(!s.red_flag && s.rank == 2);
    let dash = projections::dashboard::dashboard(db, CommunityId(w.c), today)
        .await
        .expect("dashboard");
    assert_eq!(dash.red_flag.map(|r| r.stairwell_id.0), Some(w.sws[0]));
    assert_eq!(dash.active_volunteers, 4);
    assert_eq!(dash.this_month.hours, d("3"));
    assert_eq!(dash.this_month.points, d("30"));
    assert_eq!(dash.this_month.volunteers_served, 3);
    // Averages over the month's quarter equal the month (one scored month).
    let q = (today.format("%m").to_string().parse::<u32>().unwrap_or(1) - 1) / 3 + 1;
    let year: i32 = today.format("%Y").to_string().parse().unwrap_or(2024);
    let avg =
        projections::stairwells::average_scores(db, CommunityId(w.c), Period::Quarter(year, q))
            .await
            .expect("averages");
    assert_eq!(
        avg.iter().map(|a| a.average).collect::<Vec<_>>(),
        vec![d("78"), d("67.5")]
    );
    p.shutdown().await.expect("shutdown");
}

/// The month's total is clamped to 0–100 after the deductions. A community rubric whose
/// items are worth 100 (the domain bounds each item, not their sum) plus 20 for
/// participation makes a full-marks stairwell exceed 100 even with an issue open; open
/// issues worth more than a poor inspection take another below 0. The components are
/// shown as they are, unclamped.
async fn stairwell_clamped(store: Store) {
    let mut w = World::new();
    let now = Utc::now();
    let today = (now + Days::hours(8)).date_naive();
    let month = today.format("%Y-%m").to_string();
    w.events.push((
        community_stream(CommunityId(w.c)),
        Event::RubricSet {
            version: 1,
            items: [("cleanliness", 40), ("clutter", 30), ("fire_safety", 30)]
                .into_iter()
                .map(|(key, max)| ledger::event::RubricItem {
                    key: key.into(),
                    name: key.into(),
                    max: Decimal::from(max),
                })
                .collect(),
            participation_max: Decimal::from(20),
            effective_from: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
        },
    ));
    // Stairwell 0 (20 households): 6 households served this month, 30% of 20, so the
    // full 20 for participation.
    for i in 0..6u128 {
        let v = u(700 + i);
        let room = format!("1-10{}", i + 1);
        w.register_in(v, &format!("V07{i}"), 0, &[], Some(&room));
        w.serve(v, 7000 + 10 * i, now, 60, 10);
    }
    // Stairwell 1 (20 households): one volunteer with no household: 20 × 1 ÷ 6 = 3.33.
    w.register(u(710), "V080", 1, &[]);
    w.serve(u(710), 7100, now, 60, 10);
    let (s0, s1) = (w.sws[0], w.sws[1]);
    w.inspect(
        s0,
        &month,
        1,
        [
            ("cleanliness", "40"),
            ("clutter", "30"),
            ("fire_safety", "30"),
        ],
    );
    w.inspect(
        s1,
        &month,
        0,
        [
            ("cleanliness", "10"),
            ("clutter", "8"),
            ("fire_safety", "6.5"),
        ],
    );
    // Stairwell 0: one issue open (−5). Stairwell 1: two open (−12.5, −20), and one of
    // 50 resolved within the month, which deducts nothing.
    w.issue(s0, 7500, "5", false);
    w.issue(s1, 7510, "12.5", false);
    w.issue(s1, 7520, "20", false);
    w.issue(s1, 7530, "50", true);
    let p = build(&store, &w).await;
    let db = p.db();
    let scores = projections::stairwells::monthly_scores(db, CommunityId(w.c), &month)
        .await
        .expect("scores");
    let got: Vec<_> = scores
        .iter()
        .map(|s| {
            (
                s.stairwell_id.0,
                s.items,
                s.served,
                s.participation,
                s.deductions,
                s.total,
                s.rank,
                s.red_flag,
            )
        })
        .collect();
    // Stairwell 0: 100 + 20 − 5 = 115, shown as 100 (not 95: the clamp comes after the
    // deductions). Stairwell 1: 24.5 + 3.33 − 32.5 = −4.67, shown as 0.
    assert_eq!(
        got,
        vec![
            (s0, d("100"), 6, d("20"), d("5"), d("100"), 1, true),
            (s1, d("24.5"), 1, d("3.33"), d("32.5"), d("0"), 2, false),
        ]
    );
    // The averages of the month's quarter and year are of the clamped totals.
    let q = (today.format("%m").to_string().parse::<u32>().unwrap_or(1) - 1) / 3 + 1;
    let year: i32 = today.format("%Y").to_string().parse().unwrap_or(2024);
    for period in [Period::Quarter(year, q), Period::Year(year)] {
        let avg = projections::stairwells::average_scores(db, CommunityId(w.c), period)
            .await
            .expect("averages");
        assert_eq!(
            avg.iter()
                .map(|a| (a.stairwell_id.0, a.average, a.months_scored, a.rank))
                .collect::<Vec<_>>(),
            vec![(s0, d("100"), 1, 1), (s1, d("0"), 1, 2)],
            "{period:?}"
        );
    }
    let flag = projections::stairwells::current_red_flag(db, CommunityId(w.c), &month)
        .await
        .expect("red flag")
        .map(|f| (f.stairwell_id.0, f.total));
    assert_eq!(flag, Some((s0, d("100"))));
    // The oracle's plain fold agrees.
    Oracle::fold(&read_log(&store).await)
        .check_stairwells(db, w.c)
        .await;
    p.shutdown().await.expect("shutdown");
}

/// Ties in the month's ranking share a dense rank (the next total takes the next rank,
/// not the one after the tied places) and are shown by building, then unit (numbers by
/// value), then id;
/// the red flag goes to the first of the tied leaders in that order. Totals tie however
/// they are made up (items alone, or items and participation).
async fn stairwell_ties(store: Store) {
    let mut w = World::new();
    let month = "2024-03";
    // Ids run against the display order, so that only building, then unit, then id
    // gives it. The domain does not make addresses unique: 3栋1单元 is registered twice.
    // Buildings are read as numbers: 10栋 comes after 2栋 (as text it would come first,
    // and take the red flag from 1栋2单元).
    let (a, b) = (w.sws[0], w.sws[1]); // 1栋1单元, 1栋2单元 (ids 20, 21)
    let (c, e, f, g) = (u(18), u(17), u(16), u(15));
    w.add_stairwell(c, "2栋", "1单元", 20);
    w.add_stairwell(e, "1栋", "3单元", 20);
    w.add_stairwell(f, "3栋", "1单元", 20);
    w.add_stairwell(g, "3栋", "1单元", 20);
    let h = u(14);
    w.add_stairwell(h, "10栋", "1单元", 20);
    // 1栋2单元: 3 of its 20 households serve in March: 70 + 20 × 3 ÷ 6 = 80.
    for i in 0..3u128 {
        let v = u(800 + i);
        let room = format!("2-10{}", i + 1);
        w.register_in(v, &format!("V08{i}"), 1, &[], Some(&room));
        w.serve(
            v,
            8000 + 10 * i,
            Utc.with_ymd_and_hms(2024, 3, 12, 2, 0, 0).unwrap(),
            60,
            10,
        );
    }
    let items = |x: &'static str, y: &'static str, z: &'static str| {
        [("cleanliness", x), ("clutter", y), ("fire_safety", z)]
    };
    w.inspect(b, month, 0, items("28", "20", "22"));
    w.inspect(c, month, 0, items("30", "25", "25"));
    w.inspect(a, month, 0, items("25", "25", "25"));
    w.inspect(e, month, 0, items("30", "20", "25"));
    w.inspect(f, month, 0, items("20", "20", "20"));
    w.inspect(g, month, 0, items("25", "15", "20"));
    w.inspect(h, month, 0, items("30", "25", "25"));
    let p = build(&store, &w).await;
    let db = p.db();
    let community = CommunityId(w.c);
    let scores = projections::stairwells::monthly_scores(db, community, month)
        .await
        .expect("scores");
    let got: Vec<_> = scores
        .iter()
        .map(|s| {
            (
                s.rank,
                s.stairwell_id.0,
                format!("{}{}", s.building, s.unit),
                s.total,
                s.red_flag,
            )
        })
        .collect();
    let row = |rank: u64, id: Uuid, place: &str, total: &str, flag: bool| {
        (rank, id, place.to_string(), d(total), flag)
    };
    // 80, 80, 80, 75, 75, 60, 60: ranks 1, 1, 1, 2, 2, 3, 3 (not 1, 1, 1, 4, 4, 6, 6).
    assert_eq!(
        got,
        vec![
            row(1, b, "1栋2单元", "80", true),
            row(1, c, "2栋1单元", "80", false),
            row(1, h, "10栋1单元", "80", false),
            row(2, a, "1栋1单元", "75", false),
            row(2, e, "1栋3单元", "75", false),
            row(3, g, "3栋1单元", "60", false),
            row(3, f, "3栋1单元", "60", false),
        ]
    );
    let lead = &scores[0];
    assert_eq!(
        (lead.items, lead.served, lead.participation),
        (d("70"), 3, d("10"))
    );
    // The red flag of March, in the quarter's history and as the current holder in April.
    let flags = projections::stairwells::red_flags(db, community, Period::Quarter(2024, 1))
        .await
        .expect("red flags");
    assert_eq!(
        flags
            .iter()
            .map(|f| (f.month.as_str(), f.stairwell_id.0, f.total))
            .collect::<Vec<_>>(),
        vec![(month, b, d("80"))]
    );
    let current = projections::stairwells::current_red_flag(db, community, "2024-04")
        .await
        .expect("current red flag");
    assert_eq!(
        current.map(|f| (f.month, f.stairwell_id.0)),
        Some((month.into(), b))
    );
    // Quarterly averages (one scored month each) tie and rank the same way.
    let avg = projections::stairwells::average_scores(db, community, Period::Quarter(2024, 1))
        .await
        .expect("averages");
    assert_eq!(
        avg.iter()
            .map(|a| (a.rank, a.stairwell_id.0, a.average))
            .collect::<Vec<_>>(),
        vec![
            (1, b, d("80")),
            (1, c, d("80")),
            (1, h, d("80")),
            (2, a, d("75")),
            (2, e, d("75")),
            (3, g, d("60")),
            (3, f, d("60")),
        ]
    );
    // The oracle's plain ranks agree.
    Oracle::fold(&read_log(&store).await)
        .check_stairwells(db, w.c)
        .await;
    p.shutdown().await.expect("shutdown");
}

async fn stars(store: Store) {
    let mut w = World::new();
    let v = u(500);
    w.register(v, "V050", 0, &[]);
    // 99 h then 2 h: the first star (100 h, national default) is reached today.
    w.serve(
        v,
        5000,
        Utc.with_ymd_and_hms(2024, 1, 5, 1, 0, 0).unwrap(),
        99 * 60,
        990,
    );
    w.serve(
        v,
        5010,
        Utc.with_ymd_and_hms(2024, 2, 5, 1, 0, 0).unwrap(),
        120,
        20,
    );
    let p = build(&store, &w).await;
    let b = projections::balances::balance(p.db(), VolunteerId(v))
        .await
        .expect("balance")
        .expect("row");
    let today: NaiveDate = (Utc::now() + Days::hours(8)).date_naive();
    assert_eq!(b.verified_hours, d("101"));
    assert_eq!(b.star_level, 1);
    assert_eq!(
        b.stars
            .iter()
            .map(|s| (s.level, s.threshold_hours, s.reached_on))
            .collect::<Vec<_>>(),
        vec![(1, d("100"), today)]
    );
    p.shutdown().await.expect("shutdown");
    // Smaller thresholds (10/20/30/40/50 h) from 2024 apply to the whole history; a
    // later version dated tomorrow (200/400/… h) changes nothing today, and applies
    // from tomorrow with no new event; a version set after it but dated earlier (this
    // month: 50/100/… h) is in force until then.
    let cs = community_stream(CommunityId(w.c));
    let tomorrow = today + Days::days(1);
    let hours_of = |h: [i64; 5]| h.into_iter().map(Hours::whole).collect::<Vec<_>>();
    append(
        &store,
        &[
            (
                cs.clone(),
                Event::StarThresholdsSet {
                    version: 2,
                    thresholds: hours_of([10, 20, 30, 40, 50]),
                    effective_from: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
                    points: None,
                },
            ),
            (
                cs.clone(),
                Event::StarThresholdsSet {
                    version: 3,
                    thresholds: hours_of([200, 400, 600, 800, 1000]),
                    effective_from: tomorrow,
                    points: None,
                },
            ),
        ],
        1,
    )
    .await;
    let p = projections::start(store.clone()).await;
    p.wait_for(store.head().await.expect("head"), Duration::from_secs(20))
        .await
        .expect("caught up");
    let b = projections::balances::balance(p.db(), VolunteerId(v))
        .await
        .expect("balance")
        .expect("row");
    assert_eq!(b.star_level, 5);
    assert_eq!(
        b.stars
            .iter()
            .map(|s| (s.level, s.threshold_hours, s.reached_on))
            .collect::<Vec<_>>(),
        [10, 20, 30, 40, 50]
            .into_iter()
            .enumerate()
            .map(|(i, h)| (i as u32 + 1, Decimal::from(h), today))
            .collect::<Vec<_>>()
    );
    let later = projections::balances::balance_on(p.db(), VolunteerId(v), tomorrow)
        .await
        .expect("balance")
        .expect("row");
    assert_eq!((later.star_level, later.stars.len()), (0, 0));
    assert_eq!(later.star_thresholds[0], d("200"));
    append(
        &store,
        &[(
            cs,
            Event::StarThresholdsSet {
                version: 4,
                thresholds: hours_of([50, 100, 150, 200, 250]),
                effective_from: today - Days::days(1),
                points: None,
            },
        )],
        1,
    )
    .await;
    p.wait_for(store.head().await.expect("head"), Duration::from_secs(20))
        .await
        .expect("caught up");
    let b = projections::balances::balance(p.db(), VolunteerId(v))
        .await
        .expect("balance")
        .expect("row");
    // Version 4 has been in force since yesterday: today's entries (99 h, then 101 h)
    // crossed its first two thresholds.
    assert_eq!(
        b.stars
            .iter()
            .map(|s| (s.level, s.threshold_hours, s.reached_on))
            .collect::<Vec<_>>(),
        vec![(1, d("50"), today), (2, d("100"), today)]
    );
    assert_eq!(b.star_level, 2);
    let tomorrow_b = projections::balances::balance_on(p.db(), VolunteerId(v), tomorrow)
        .await
        .expect("balance")
        .expect("row");
    assert_eq!(
        tomorrow_b.star_level, 0,
        "version 3 is in force from tomorrow"
    );
    p.shutdown().await.expect("shutdown");
}

macro_rules! both {
    ($name:ident, $sqlite:ident, $pg:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let (store, _dir) = ledger::testing::sqlite_store().await;
            $name(store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $pg() {
            if let Some(store) = ledger::testing::postgres_store().await {
                $name(store).await;
            }
        }
    };
}

both!(
    ranking_ties,
    ranking_ties_are_dense_sqlite,
    ranking_ties_are_dense_postgres
);
both!(
    moved_mid_year,
    moved_mid_year_sqlite,
    moved_mid_year_postgres
);
both!(
    stairwell_score,
    stairwell_score_sqlite,
    stairwell_score_postgres
);
both!(stars, stars_sqlite, stars_postgres);
both!(households, households_sqlite, households_postgres);
both!(
    stairwell_clamped,
    stairwell_clamped_sqlite,
    stairwell_clamped_postgres
);
both!(
    stairwell_ties,
    stairwell_ties_sqlite,
    stairwell_ties_postgres
);

/// An activity through its whole life by the command handler: a place freed and taken
/// from the waiting list, a check-in by code and one by staff, a 3-day notice with an
/// objection, finality; the roster, the counts, the pending hours and the records due
/// as the read model gives them, and the same tables after a rebuild.
async fn activity_lifecycle(store: Store) {
    use ledger::command::*;
    use projections::activities;
    let start = Utc.with_ymd_and_hms(2025, 6, 7, 0, 0, 0).unwrap();
    let clock = std::sync::Arc::new(FixedClock::new(start - Days::days(7)));
    let h = CommandHandler::with_clock(store.clone(), clock.clone());
    let admin = Actor::admin(u(1));
    let c = h
        .run(
            &admin,
            "c",
            EstablishCommunity {
                name: "海棠社区".into(),
            },
        )
        .await
        .unwrap()
        .result
        .community_id;
    let staff = Actor::staff(u(2), c);
    let g = h
        .run(
            &staff,
            "g",
            AddGrid {
                community_id: c,
                name: "一网格".into(),
                parent: None,
            },
        )
        .await
        .unwrap()
        .result
        .grid_id;
    let s = h
        .run(
            &staff,
            "s",
            RegisterStairwell {
                community_id: c,
                grid_id: g,
                building: "1栋".into(),
                unit: "1单元".into(),
                households: 10,
            },
        )
        .await
        .unwrap()
        .result
        .stairwell_id;
    h.run(
        &admin,
        "rules",
        SetActivityRules {
            community_id: c,
            time_unit_minutes: 15,
            late_record_days: 30,
            notice_days: 3,
            checkin_opens_minutes: 30,
            code_period_seconds: 30,
            effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        },
    )
    .await
    .unwrap();
    // Low star thresholds, so that one activity earns the first star.
    h.run(
        &admin,
        "stars",
        SetStarThresholds {
            community_id: c,
            thresholds: ["1", "2", "3", "4", "5"].map(d).to_vec(),
            effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            points: None,
        },
    )
    .await
    .unwrap();
    let mut v = Vec::new();
    for i in 0..4 {
        let r = RegisterVolunteer {
            community_id: c,
            name: format!("志愿者{i}"),
            phone: None,
            id_number: None,
            stairwell_id: s,
            tags: vec![],
            teams: vec![],
            household: None,
        };
        v.push(
            h.run(&staff, &format!("v{i}"), r)
                .await
                .unwrap()
                .result
                .volunteer_id,
        );
    }
    let a = h
        .run(
            &staff,
            "a",
            PostActivity {
                community_id: c,
                title: "北门巡逻".into(),
                kind: ServiceKind::Patrol,
                place: "小区北门".into(),
                starts_at: start,
                ends_at: start + Days::hours(2),
                places: 2,
                signup_deadline: None,
                eligibility: Default::default(),
                walk_ins: false,
            },
        )
        .await
        .unwrap()
        .result
        .activity_id;
    let me = |i: usize| Actor::volunteer(v[i], c);
    for (i, vi) in v.iter().take(3).enumerate() {
        h.run(
            &me(i),
            &format!("su{i}"),
            SignUp {
                activity_id: a,
                volunteer_id: *vi,
                waitlist: true,
            },
        )
        .await
        .unwrap();
    }
    h.run(
        &me(1),
        "wd",
        WithdrawSignUp {
            activity_id: a,
            volunteer_id: v[1],
            reason: "有事".into(),
        },
    )
    .await
    .unwrap();
    clock.set(start + Days::minutes(5));
    let code = h.check_in_code(a).await.unwrap().0.code;
    h.run(
        &me(0),
        "in0",
        CheckIn {
            activity_id: a,
            volunteer_id: v[0],
            code: Some(code),
        },
    )
    .await
    .unwrap();
    h.run(
        &staff,
        "in2",
        CheckIn {
            activity_id: a,
            volunteer_id: v[2],
            code: None,
        },
    )
    .await
    .unwrap();
    clock.set(start + Days::minutes(95));
    let code = h.check_in_code(a).await.unwrap().0.code;
    h.run(
        &me(0),
        "out0",
        CheckOut {
            activity_id: a,
            volunteer_id: v[0],
            code: Some(code),
        },
    )
    .await
    .unwrap();
    clock.set(start + Days::hours(3));
    h.run(
        &staff,
        "ok",
        ApproveAttendance {
            activity_id: a,
            adjustments: vec![],
            exclusions: vec![],
        },
    )
    .await
    .unwrap();
    h.run(
        &me(3),
        "obj",
        RaiseObjection {
            activity_id: a,
            volunteer_id: v[0],
            reason: "时长不实".into(),
        },
    )
    .await
    .unwrap();

    let p = projections::start(store.clone()).await;
    let caught_up = |p: &projections::Projections| {
        let store = store.clone();
        let p = p.clone();
        async move {
            let head = store.head().await.expect("head");
            p.wait_for(head, Duration::from_secs(20))
                .await
                .expect("caught up");
        }
    };
    caught_up(&p).await;
    let db = projections::Db::of_store(&store);
    let act = activities::activity(&db, a).await.unwrap().unwrap();
    assert_eq!(
        (
            act.status.as_str(),
            act.taken,
            act.waiting,
            act.checked_in,
            act.pending
        ),
        ("approved", 2, 0, 2, 2)
    );
    assert_eq!(
        act.notice_until,
        Some(start + Days::hours(3) + Days::days(3))
    );
    let roster = activities::roster(&db, a).await.unwrap();
    let who: Vec<_> = roster
        .iter()
        .map(|r| (r.volunteer_id, r.signup.as_str()))
        .collect();
    assert_eq!(who, vec![(v[0], "place"), (v[2], "place"), (v[1], "none")]);
    // v0: in at 5 min, out at 95 min → 90 min; v2: checked in by staff, no check-out:
    // 5 min to the end → 115 min, rounded down to 105.
    let r0 = &roster[0];
    assert_eq!(
        (
            r0.record.as_deref(),
            r0.hours,
            r0.points,
            r0.checkout_missing
        ),
        (Some("pending"), Some(d("1.5")), Some(d("15")), false)
    );
    let r2 = &roster[1];
    assert_eq!(
        (r2.hours, r2.by_staff, r2.checkout_missing),
        (Some(d("1.75")), true, true)
    );
    assert_eq!(
        activities::pending_of(&db, v[0]).await.unwrap(),
        (d("1.5"), d("15"))
    );
    let objections = activities::objections(&db, a).await.unwrap();
    assert_eq!(objections.len(), 1);
    assert!(objections[0].open);
    let listed = activities::activities(
        &db,
        c,
        Some(start - Days::days(1)),
        Some(start + Days::days(1)),
        None,
        50,
    )
    .await
    .unwrap();
    assert_eq!(
        listed.iter().map(|x| x.activity_id).collect::<Vec<_>>(),
        vec![a]
    );
    // While pending (公示中) the hours are in no ranking and earn no star.
    let by_hours = |db: projections::Db| async move {
        let r = ranking(
            &db,
            &Scope::Community(c),
            Period::AllTime,
            Metric::Hours,
            10,
            None,
        )
        .await
        .unwrap();
        r.top
            .iter()
            .map(|e| (e.volunteer_id, e.hours))
            .collect::<Vec<_>>()
    };
    let stars = |db: projections::Db, vol: VolunteerId| async move {
        projections::balances::balance(&db, vol)
            .await
            .unwrap()
            .unwrap()
            .star_level
    };
    assert_eq!(by_hours(db.clone()).await, vec![]);
    assert_eq!(
        (stars(db.clone(), v[0]).await, stars(db.clone(), v[2]).await),
        (0, 0)
    );
    // When the notice has passed, v2's record is due; v0's is held by the objection.
    let after = start + Days::hours(3) + Days::days(3);
    assert_eq!(
        activities::due_for_finality(&db, after - Days::minutes(1))
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        activities::due_for_finality(&db, after).await.unwrap(),
        vec![a]
    );
    clock.set(after);
    h.run(&staff, "fin", FinaliseAttendance { activity_id: a })
        .await
        .unwrap();
    caught_up(&p).await;
    assert_eq!(
        activities::due_for_finality(&db, after).await.unwrap(),
        vec![]
    );
    let roster = activities::roster(&db, a).await.unwrap();
    assert_eq!(roster[1].record.as_deref(), Some("final"));
    assert_eq!(
        activities::activity(&db, a).await.unwrap().unwrap().pending,
        1
    );
    assert_eq!(
        activities::pending_of(&db, v[2]).await.unwrap(),
        (Decimal::ZERO, Decimal::ZERO)
    );
    // The credited service counts in the balance like any verified service.
    let b = projections::balances::balance(&db, v[2])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.verified_hours, b.points_balance), (d("1.75"), d("17.5")));
    // v2's statement line says what the service was, and that it came by check-in.
    let page = projections::statement::statement(
        &db,
        v[2],
        None,
        10,
        projections::statement::Order::OldestFirst,
    )
    .await
    .unwrap();
    let lines: Vec<_> = page
        .entries
        .iter()
        .map(|e| (e.kind.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![("service_verified", "巡逻 小区北门 北门巡逻（活动签到）")]
    );
    // Final, v2's hours rank and earn the first star; v0's, still held, do neither.
    assert_eq!(by_hours(db.clone()).await, vec![(v[2], d("1.75"))]);
    assert_eq!(
        (stars(db.clone(), v[0]).await, stars(db.clone(), v[2]).await),
        (0, 1)
    );
    // The inboxes, newest first. v2: welcome, on the waiting list (third of two
    // places), moved up when v1 withdrew, on notice (1.75 h), then credited; v0: the
    // objection raised against the record too.
    use projections::inbox::{self, Kind};
    let told = |db: projections::Db, vol: VolunteerId| async move {
        inbox::messages(&db, vol, None, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.kind, m.subject, m.minutes))
            .collect::<Vec<_>>()
    };
    let title = || "北门巡逻".to_string();
    assert_eq!(
        told(db.clone(), v[2]).await,
        vec![
            (
                Kind::ServiceCredited,
                "巡逻 小区北门 北门巡逻（活动签到）".to_string(),
                Some(105)
            ),
            (Kind::OnNotice, title(), Some(105)),
            (Kind::MovedUp, title(), None),
            (Kind::Waitlisted, title(), None),
            (Kind::Welcome, "TB-000003".to_string(), None),
        ]
    );
    let v0: Vec<_> = told(db.clone(), v[0]).await;
    assert_eq!(
        v0.iter().map(|m| m.0).collect::<Vec<_>>(),
        vec![
            Kind::ObjectionRaised,
            Kind::OnNotice,
            Kind::SignedUp,
            Kind::Welcome
        ]
    );
    let all = inbox::messages(&db, v[2], None, 50).await.unwrap();
    assert_eq!(inbox::unread(&db, v[2], 0).await.unwrap(), all.len() as u64);
    let newest = inbox::newest(&db, v[2]).await.unwrap();
    assert_eq!(inbox::unread(&db, v[2], newest).await.unwrap(), 0);
    // The community's recent awards: v2's credited hours.
    let recent = inbox::recent(&db, c, &[Kind::PointsAwarded, Kind::ServiceCredited], 10)
        .await
        .unwrap();
    assert_eq!(
        recent
            .iter()
            .map(|m| (m.volunteer, m.hundredths))
            .collect::<Vec<_>>(),
        vec![(v[2].0, Some(1750))]
    );
    // The same tables from a rebuild of the log.
    let before = support::dump(&db).await;
    p.shutdown().await.expect("shutdown");
    projections::rebuild(&store, None, None)
        .await
        .expect("rebuild");
    assert_eq!(support::dump(&db).await, before);
}

both!(
    activity_lifecycle,
    an_activity_read_model_follows_its_life_sqlite,
    an_activity_read_model_follows_its_life_postgres
);

/// The points shop (积分超市): an item of two units, both redeemed (one by each
/// volunteer), the first cancelled (the unit and the 5 points back), the second
/// collected, three more added, the item withdrawn: the catalogue, each redemption by
/// volunteer and by code, the balances and statement, and the month's movements.
async fn shop(store: Store) {
    use ledger::domain::shop::{redemption_code, RedemptionStage};
    use projections::shop;
    let mut w = World::new();
    let (v1, v2) = (u(100), u(101));
    w.register(v1, "TB-000001", 0, &[]);
    w.register(v2, "TB-000002", 1, &[]);
    let now = Utc::now();
    w.serve(v1, 200, now, 60, 10);
    w.serve(v2, 210, now, 60, 10);
    let item = ShopItemId(u(300));
    let is = shop_item_stream(item);
    let (r1, r2) = (RedemptionId(u(301)), RedemptionId(u(302)));
    let (e1, e2, refund) = (EntryId(u(303)), EntryId(u(304)), EntryId(u(305)));
    w.events.push((
        is.clone(),
        Event::ShopItemListed {
            item_id: item,
            community_id: CommunityId(w.c),
            name: "大米 5kg".into(),
            price: Points::whole(5),
            stock: 2,
            collect_at: "服务站".into(),
            valid_until: None,
            per_person: None,
            listed_by: u(99),
        },
    ));
    for (r, v, e) in [(r1, v1, e1), (r2, v2, e2)] {
        w.events.push((
            is.clone(),
            Event::ShopItemRedeemed {
                redemption_id: r,
                volunteer_id: VolunteerId(v),
                entry_id: e,
                points: Points::whole(5),
                code: redemption_code(r),
                redeemed_by: v,
            },
        ));
        w.events.push((
            volunteer_stream(VolunteerId(v)),
            Event::PointsRedeemed {
                entry_id: e,
                points: Points::whole(5),
                item: "大米 5kg".into(),
                redeemed_by: v,
            },
        ));
    }
    w.events.push((
        is.clone(),
        Event::RedemptionCancelled {
            redemption_id: r1,
            refund,
            reason: "不要了".into(),
            cancelled_by: v1,
        },
    ));
    w.events.push((
        volunteer_stream(VolunteerId(v1)),
        Event::PointsRefunded {
            entry_id: refund,
            refunds: e1,
            points: Points::whole(5),
            item: "大米 5kg".into(),
            reason: "不要了".into(),
            refunded_by: v1,
        },
    ));
    w.events.push((
        is.clone(),
        Event::RedemptionCollected {
            redemption_id: r2,
            collected_by: u(99),
        },
    ));
    w.events.push((
        is.clone(),
        Event::ShopItemStockAdjusted {
            change: 3,
            reason: "补货".into(),
            adjusted_by: u(99),
        },
    ));
    w.events.push((
        is,
        Event::ShopItemWithdrawn {
            reason: "换季".into(),
            withdrawn_by: u(99),
        },
    ));
    let p = build(&store, &w).await;
    let db = p.db();
    let c = CommunityId(w.c);
    assert!(shop::shop_items(db, c, false)
        .await
        .expect("items")
        .is_empty());
    let all = shop::shop_items(db, c, true).await.expect("items");
    assert_eq!(
        (
            all[0].stock,
            all[0].redeemed,
            all[0].collected,
            all[0].withdrawn
        ),
        (4, 1, 1, true)
    );
    let mine = shop::redemptions_of(db, VolunteerId(v1))
        .await
        .expect("mine");
    assert_eq!(mine[0].status, RedemptionStage::Cancelled);
    assert_eq!(mine[0].reason, "不要了");
    let found = shop::redemptions_by_code(db, c, &redemption_code(r2).to_lowercase())
        .await
        .expect("by code");
    assert_eq!(
        (found[0].volunteer_id.0, found[0].status),
        (v2, RedemptionStage::Collected)
    );
    let b1 = projections::balances::balance(db, VolunteerId(v1))
        .await
        .expect("balance")
        .expect("v1");
    let b2 = projections::balances::balance(db, VolunteerId(v2))
        .await
        .expect("balance")
        .expect("v2");
    assert_eq!((b1.points_balance, b2.points_balance), (d("10"), d("5")));
    let month = projections::common::local_date(Utc::now());
    let lines = shop::stock_month(db, c, month).await.expect("month");
    assert_eq!(
        (
            lines[0].opening,
            lines[0].added,
            lines[0].counted_off,
            lines[0].redeemed,
            lines[0].returned,
            lines[0].closing
        ),
        (0, 5, 0, 2, 1, 4)
    );
    // The oracle's plain fold agrees, statements included.
    let o = Oracle::fold(&read_log(&store).await);
    o.check_shop(db, w.c).await;
    o.check_statements(db).await;
    p.shutdown().await.expect("shutdown");
}

both!(
    shop,
    the_shop_read_model_follows_its_items_sqlite,
    the_shop_read_model_follows_its_items_postgres
);

/// Points expiry: an award due ten days ago (A, 100) and one due next month (B, 50);
/// 30 spent from A, the older; the server expired the 70 left of A; then A was reversed,
/// taking back only the 30 that had not expired (from B). The balances, the statement
/// and the inbox, by figures and by the oracle.
async fn expiry(store: Store) {
    use ledger::event::ExpiredLot;
    let mut w = World::new();
    let v = u(100);
    w.register(v, "TB-000001", 0, &[]);
    let vs = volunteer_stream(VolunteerId(v));
    let today = projections::common::local_date(Utc::now());
    let (a, b) = (EntryId(u(201)), EntryId(u(202)));
    let award = |entry, points, expires_on| Event::PointsAwarded {
        entry_id: entry,
        points: Points::whole(points),
        reason: "社区议事".into(),
        awarded_by: u(99),
        expires_on: Some(expires_on),
    };
    for e in [
        award(a, 100, today - Days::days(10)),
        award(b, 50, today + Days::days(30)),
        Event::PointsRedeemed {
            entry_id: EntryId(u(203)),
            points: Points::whole(30),
            item: "大米".into(),
            redeemed_by: u(99),
        },
        Event::PointsExpired {
            entry_id: EntryId(u(204)),
            points: Points::whole(70),
            lots: vec![ExpiredLot {
                entry: a,
                points: Points::whole(70),
            }],
            expired_by: u(99),
        },
        Event::EntryReversed {
            batch: None,
            entry_id: EntryId(u(205)),
            reverses: a,
            points: Points::whole(30),
            hours: Hours::ZERO,
            reason: "重复录入".into(),
            reversed_by: u(99),
            over_cap: Hours::ZERO,
            impact: None,
        },
    ] {
        w.events.push((vs.clone(), e));
    }
    let p = build(&store, &w).await;
    let db = p.db();
    let bal = projections::balances::balance(db, VolunteerId(v))
        .await
        .expect("balance")
        .expect("an account");
    assert_eq!(
        (
            bal.points_balance,
            bal.points_expired,
            bal.points_reversed,
            bal.points_spent
        ),
        (d("20"), d("70"), d("30"), d("30"))
    );
    // Expiry and spending keep the stars' points; the reversal does not.
    assert_eq!(bal.star_points, d("120"));
    let lines = projections::statement::statement(
        db,
        VolunteerId(v),
        None,
        10,
        projections::statement::Order::NewestFirst,
    )
    .await
    .expect("statement");
    let expired = &lines.entries[1];
    assert_eq!(
        (
            expired.kind.as_str(),
            expired.points_delta,
            expired.points_balance
        ),
        ("points_expired", d("-70"), d("50"))
    );
    let o = Oracle::fold(&read_log(&store).await);
    o.check_balances(db).await;
    o.check_statements(db).await;
    p.shutdown().await.expect("shutdown");
}

both!(
    expiry,
    points_expire_in_the_read_models_sqlite,
    points_expire_in_the_read_models_postgres
);
