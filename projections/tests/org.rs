//! The organisation above communities on both backends: which communities a street or a
//! district had on a day, after joins, moves and departures recorded with past days;
//! a ranking across a street's communities; and a rebuild that answers the same.

// The support module shares the oracle, which this example does not use.
#[allow(unused_imports)]
mod support;

use chrono::NaiveDate;
use ledger::amount::Points;
use ledger::event::{self as ev, Event};
use ledger::ids::*;
use ledger::Store;
use projections::common::Period;
use projections::org::{org, Org, UnitKind};
use projections::rankings::{ranking_across, Metric, Scope};
use std::time::Duration;
use support::append;
use uuid::Uuid;

const C1: CommunityId = CommunityId(Uuid::from_u128(1));
const C2: CommunityId = CommunityId(Uuid::from_u128(2));
const C3: CommunityId = CommunityId(Uuid::from_u128(3));
const S1: StreetId = StreetId(Uuid::from_u128(10));
const S2: StreetId = StreetId(Uuid::from_u128(11));
const D: DistrictId = DistrictId(Uuid::from_u128(20));

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn history() -> Vec<(String, Event)> {
    let mut e = Vec::new();
    for (c, name) in [(C1, "海棠社区"), (C2, "枫林社区"), (C3, "远山社区")] {
        e.push((
            community_stream(c),
            Event::CommunityEstablished {
                community_id: c,
                name: name.into(),
            },
        ));
    }
    for (s, name) in [(S1, "和平街道"), (S2, "光明街道")] {
        e.push((
            street_stream(s),
            Event::StreetEstablished(ev::StreetEstablished {
                street_id: s,
                name: name.into(),
            }),
        ));
    }
    e.push((
        district_stream(D),
        Event::DistrictEstablished(ev::DistrictEstablished {
            district_id: D,
            name: "和平区".into(),
        }),
    ));
    let join = |c: CommunityId, s: StreetId, from| {
        (
            community_stream(c),
            Event::CommunityJoinedStreet(ev::CommunityJoinedStreet { street_id: s, from }),
        )
    };
    e.push(join(C1, S1, day(2024, 1, 1)));
    e.push(join(C2, S1, day(2025, 7, 1)));
    e.push(join(C2, S2, day(2026, 1, 1)));
    e.push(join(C3, S2, day(2024, 1, 1)));
    e.push((
        community_stream(C3),
        Event::CommunityLeftStreet(ev::CommunityLeftStreet {
            street_id: S2,
            from: day(2025, 3, 1),
        }),
    ));
    for (s, from) in [(S1, day(2024, 1, 1)), (S2, day(2025, 1, 1))] {
        e.push((
            street_stream(s),
            Event::StreetJoinedDistrict(ev::StreetJoinedDistrict {
                district_id: D,
                from,
            }),
        ));
    }
    e.push((
        street_stream(S1),
        Event::StreetRenamed(ev::StreetRenamed {
            name: "新和平街道".into(),
        }),
    ));
    // Three volunteers with points: two in 海棠, one in 枫林.
    for (n, c, points) in [(100u128, C1, 30), (101, C2, 20), (102, C1, 30)] {
        let v = VolunteerId(Uuid::from_u128(n));
        let vs = volunteer_stream(v);
        e.push((
            vs.clone(),
            Event::VolunteerRegistered {
                volunteer_id: v,
                community_id: c,
                volunteer_number: format!("TB-{n:06}"),
                stairwell_id: StairwellId(Uuid::from_u128(900)),
                grid_id: GridId(Uuid::from_u128(901)),
                tags: vec![],
                teams: vec![],
                household: None,
            },
        ));
        e.push((
            vs,
            Event::PointsAwarded {
                entry_id: EntryId(Uuid::from_u128(n + 1000)),
                points: Points::whole(points),
                reason: "巡逻".into(),
                awarded_by: Uuid::nil(),
                expires_on: None,
            },
        ));
    }
    e
}

fn names(units: Vec<&projections::org::Unit>) -> Vec<String> {
    units.into_iter().map(|u| u.name.clone()).collect()
}

fn check(o: &Org) {
    assert_eq!(o.unit(S1.0).map(|u| u.name.as_str()), Some("新和平街道"));
    assert_eq!(o.units(UnitKind::Street).len(), 2);
    assert_eq!(
        names(o.communities_of_street(S1, day(2024, 6, 1))),
        ["海棠社区"]
    );
    assert_eq!(
        names(o.communities_of_street(S1, day(2025, 8, 1))),
        ["枫林社区", "海棠社区"]
    );
    assert_eq!(
        names(o.communities_of_street(S1, day(2026, 2, 1))),
        ["海棠社区"]
    );
    assert_eq!(
        names(o.communities_of_street(S2, day(2026, 2, 1))),
        ["枫林社区"]
    );
    assert_eq!(
        names(o.communities_of_street(S2, day(2024, 6, 1))),
        ["远山社区"]
    );
    assert!(o.communities_of_street(S2, day(2025, 6, 1)).is_empty());
    // The district had only 和平 in 2024; 光明 from 2025 (远山 had left by then).
    assert_eq!(
        names(o.communities_of_district(D, day(2024, 6, 1))),
        ["海棠社区"]
    );
    assert_eq!(
        names(o.communities_of_district(D, day(2026, 2, 1))),
        ["枫林社区", "海棠社区"]
    );
    assert_eq!(o.street_of(C2, day(2025, 12, 31)), Some(S1));
    assert_eq!(o.street_of(C3, day(2025, 3, 1)), None);
}

async fn organisation(store: Store) {
    append(&store, &history(), 4).await;
    let p = projections::start(store.clone()).await;
    let head = store.head().await.expect("head");
    p.wait_for(head, Duration::from_secs(20))
        .await
        .expect("caught up");
    check(&org(p.db()).await.expect("org"));
    // 海棠 and 枫林 together: 30, 30, 20 — dense ranks 1, 1, 2; ties by number.
    let scopes = [Scope::Community(C1), Scope::Community(C2)];
    let me = VolunteerId(Uuid::from_u128(101));
    let r = ranking_across(
        p.db(),
        &scopes,
        Period::AllTime,
        Metric::Points,
        20,
        Some(me),
    )
    .await
    .expect("ranking");
    let got: Vec<(u64, &str)> = r
        .top
        .iter()
        .map(|e| (e.rank, e.volunteer_number.as_str()))
        .collect();
    assert_eq!(got, [(1, "TB-000100"), (1, "TB-000102"), (2, "TB-000101")]);
    assert_eq!(r.me.map(|m| m.rank), Some(2));
    let one = ranking_across(
        p.db(),
        &scopes[1..],
        Period::AllTime,
        Metric::Points,
        20,
        None,
    )
    .await
    .expect("ranking");
    assert_eq!(one.top.len(), 1);
    p.shutdown().await.expect("shutdown");
    // A rebuild from the log answers the same.
    projections::rebuild(&store, Some(projections::org::NAME), None)
        .await
        .expect("rebuild");
    let db = projections::Db::of_store(&store);
    check(&org(&db).await.expect("org after rebuild"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisation_on_a_day_sqlite() {
    let (store, _dir) = ledger::testing::sqlite_store().await;
    organisation(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisation_on_a_day_postgres() {
    if let Some(store) = ledger::testing::postgres_store().await {
        organisation(store).await;
    }
}
