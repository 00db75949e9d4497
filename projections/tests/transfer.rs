//! A volunteer who moves to another community (记录转移接续), on both backends: the
//! account (balance, hours, number) follows them; rankings and the 文明楼道
//! participation keep what was done where it was done; each community counts its own
//! volunteers; points that stay leave the balance as one statement line; and
//! incremental catch-up equals a rebuild, table for table.

mod support;

use chrono::{TimeZone, Utc};
use ledger::amount::{Hours, Points};
use ledger::event::{
    Event, PointsLeft, ServiceKind, VolunteerTransferred, VolunteerTransferredOut,
};
use ledger::ids::*;
use ledger::Store;
use projections::common::Period;
use projections::rankings::{ranking, Metric, Scope};
use projections::rebuild::{Limits, Timings};
use projections::Options;
use rust_decimal::Decimal;
use std::time::Duration;
use support::{append, dump};
use uuid::Uuid;

fn u(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Community `c` with grid `g` and stairwell `s`.
fn community(c: u128, g: u128, s: u128, name: &str) -> Vec<(String, Event)> {
    let cs = community_stream(CommunityId(u(c)));
    vec![
        (
            cs.clone(),
            Event::CommunityEstablished {
                community_id: CommunityId(u(c)),
                name: name.into(),
            },
        ),
        (
            cs.clone(),
            Event::GridAdded {
                grid_id: GridId(u(g)),
                name: "网格".into(),
                parent: None,
            },
        ),
        (
            cs,
            Event::StairwellRegistered {
                stairwell_id: StairwellId(u(s)),
                grid_id: GridId(u(g)),
                building: "1栋".into(),
                unit: "1单元".into(),
                households: 20,
            },
        ),
    ]
}

fn registered(v: u128, c: u128, g: u128, s: u128, number: &str) -> (String, Event) {
    (
        volunteer_stream(VolunteerId(u(v))),
        Event::VolunteerRegistered {
            volunteer_id: VolunteerId(u(v)),
            community_id: CommunityId(u(c)),
            volunteer_number: number.into(),
            stairwell_id: StairwellId(u(s)),
            grid_id: GridId(u(g)),
            tags: vec!["党员".into()],
            teams: vec![],
            household: None,
        },
    )
}

/// A service of `minutes` in `month` of 2024, logged and verified for `points`.
fn served(v: u128, n: u128, month: u32, minutes: i64, points: i64) -> Vec<(String, Event)> {
    let vs = volunteer_stream(VolunteerId(u(v)));
    vec![
        (
            vs.clone(),
            Event::ServiceLogged {
                imported: None,
                service_id: ServiceId(u(n)),
                kind: ServiceKind::Patrol,
                started_at: Utc.with_ymd_and_hms(2024, month, 5, 1, 0, 0).unwrap(),
                hours: Hours::from_minutes(minutes),
                place: "小区".into(),
                note: String::new(),
                logged_by: u(99),
                activity: None,
            },
        ),
        (
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
        ),
    ]
}

/// `v` moves from community 1 to community 2 (stairwell 21), leaving `left` points.
fn moved(v: u128, hours: i64, star_points: i64, left: Option<i64>) -> Vec<(String, Event)> {
    vec![
        (
            community_stream(CommunityId(u(1))),
            Event::VolunteerTransferredOut(VolunteerTransferredOut {
                volunteer_id: VolunteerId(u(v)),
                to_community: CommunityId(u(2)),
            }),
        ),
        (
            community_stream(CommunityId(u(2))),
            Event::VolunteerEnrolled {
                volunteer_id: VolunteerId(u(v)),
                volunteer_number: "B001".into(),
            },
        ),
        (
            volunteer_stream(VolunteerId(u(v))),
            Event::VolunteerTransferred(VolunteerTransferred {
                volunteer_id: VolunteerId(u(v)),
                from_community: CommunityId(u(1)),
                community_id: CommunityId(u(2)),
                volunteer_number: "B001".into(),
                stairwell_id: StairwellId(u(21)),
                grid_id: GridId(u(20)),
                household: None,
                tags: vec!["党员".into()],
                teams_left: vec![],
                rule_version: u32::from(left.is_some()),
                points_follow: left.is_none(),
                points_left: left.map(|p| PointsLeft {
                    entry_id: EntryId(u(v + 5000)),
                    points: Points::whole(p),
                }),
                reason: "搬家".into(),
                transferred_by: u(99),
                verified_hours: Hours::from_minutes(hours),
                star_points: Points::whole(star_points),
            }),
        ),
    ]
}

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

async fn a_record_follows_the_person(store: Store) {
    let mut events = community(1, 10, 11, "海棠社区");
    events.extend(community(2, 20, 21, "枫林社区"));
    events.push(registered(100, 1, 10, 11, "A001"));
    events.push(registered(101, 1, 10, 11, "A002"));
    events.extend(served(100, 1000, 3, 180, 30));
    events.extend(served(101, 1010, 3, 60, 10));
    // Two who never move, with 4 h each: more than each part of 100's 5 h.
    events.push(registered(102, 1, 10, 11, "A003"));
    events.extend(served(102, 1030, 4, 240, 40));
    events.push(registered(103, 2, 20, 21, "C001"));
    events.extend(served(103, 1040, 4, 240, 40));
    events.extend(moved(100, 180, 30, None));
    events.extend(served(100, 1020, 8, 120, 20));
    // 101 moves too, under a rule that keeps its points in 海棠.
    let mut second = moved(101, 60, 10, Some(10));
    if let (
        _,
        Event::VolunteerEnrolled {
            volunteer_number, ..
        },
    ) = &mut second[1]
    {
        *volunteer_number = "B002".into();
    }
    if let (_, Event::VolunteerTransferred(t)) = &mut second[2] {
        t.volunteer_number = "B002".into();
    }
    events.extend(second);

    // Applied incrementally, a few events at a time, with every state flushed.
    let options = Options {
        batch_size: 3,
        rebuild_batch_size: 4,
        rebuild_limits: Limits {
            hold_bytes: 1,
            small_changes: 1,
            flush_at: Some(1),
        },
        poll_interval: Duration::from_millis(20),
        ..Options::default()
    };
    let p = projections::start_with(store.clone(), options).await;
    append(&store, &events, 3).await;
    let head = store.head().await.expect("head");
    p.wait_for(head, Duration::from_secs(30))
        .await
        .expect("caught up");
    let db = p.db();

    let b = projections::balances::balance(db, VolunteerId(u(100)))
        .await
        .expect("read")
        .expect("an account");
    assert_eq!(
        b.community_id,
        Some(CommunityId(u(2))),
        "the account follows the person"
    );
    assert_eq!(b.volunteer_number, "B001");
    assert_eq!((b.points_balance, b.verified_hours), (d("50"), d("5")));
    let b = projections::balances::balance(db, VolunteerId(u(101)))
        .await
        .expect("read")
        .expect("an account");
    assert_eq!(
        (b.points_balance, b.points_left, b.verified_hours),
        (d("0"), d("10"), d("1"))
    );
    let old = projections::balances::community_totals(db, CommunityId(u(1)))
        .await
        .expect("totals");
    let new = projections::balances::community_totals(db, CommunityId(u(2)))
        .await
        .expect("totals");
    assert_eq!(
        (old.volunteers, new.volunteers),
        (1, 3),
        "102 stays; 100 and 101 join 103"
    );

    // Rankings keep what was done where it was done.
    let year = Period::Year(2024);
    let mine = |c: u128| {
        let scope = Scope::Community(CommunityId(u(c)));
        async move {
            ranking(
                db,
                &scope,
                year,
                Metric::Hours,
                20,
                Some(VolunteerId(u(100))),
            )
            .await
            .expect("ranking")
            .me
            .map(|m| m.hours)
        }
    };
    assert_eq!(
        mine(1).await,
        Some(d("3")),
        "March's hours stay in 海棠's year"
    );
    assert_eq!(mine(2).await, Some(d("2")), "August's count in 枫林's");
    // A street of both ranks 100 first with both parts (5 h), though neither part is
    // the first of its community: the movers are added up.
    let both = [
        Scope::Community(CommunityId(u(1))),
        Scope::Community(CommunityId(u(2))),
    ];
    let both = &both;
    let across = |top: u32| async move {
        projections::rankings::ranking_across(db, both, year, Metric::Hours, top, None)
            .await
            .expect("across")
            .top
            .iter()
            .map(|e| (e.rank, e.volunteer_id.0, e.hours))
            .collect::<Vec<_>>()
    };
    assert_eq!(across(1).await, vec![(1, u(100), d("5"))]);
    assert_eq!(
        across(3).await,
        vec![
            (1, u(100), d("5")),
            (2, u(102), d("4")),
            (2, u(103), d("4"))
        ],
        "ties ranked densely, then by number"
    );
    let served: Vec<(String, String)> = db
        .fetch(
            "SELECT stairwell_id, month FROM pj_sw_served WHERE volunteer_id = ? ORDER BY month",
            &[u(100).to_string().into()],
        )
        .await
        .expect("served")
        .iter()
        .map(|r| (r.text(0).expect("s"), r.text(1).expect("m")))
        .collect();
    assert_eq!(
        served,
        vec![
            (u(11).to_string(), "2024-03".into()),
            (u(21).to_string(), "2024-08".into())
        ],
        "participation counts the stairwell lived in at the time"
    );
    let lines = projections::statement::statement(
        db,
        VolunteerId(u(101)),
        None,
        10,
        projections::statement::Order::NewestFirst,
    )
    .await
    .expect("statement");
    let last = lines.entries.first().expect("a line");
    assert_eq!(
        (last.kind.as_str(), last.points_delta),
        ("points_left", d("-10"))
    );

    // A rebuild from the log gives the same tables.
    let incremental = dump(db).await;
    p.rebuild_timed(None, None, &mut Timings::default())
        .await
        .expect("rebuild");
    let rebuilt = dump(p.db()).await;
    for (table, rows) in &incremental {
        assert_eq!(Some(rows), rebuilt.get(table), "table {table}");
    }
    p.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_follows_the_person_sqlite() {
    let (store, _dir) = ledger::testing::sqlite_store().await;
    a_record_follows_the_person(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_follows_the_person_postgres() {
    if let Some(store) = ledger::testing::postgres_store().await {
        a_record_follows_the_person(store).await;
    }
}
