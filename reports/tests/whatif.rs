//! What-if replay against a rebuild, on both backends: the same commands run in two
//! databases, one under the rules in force (the built-in defaults), one under proposed
//! rules set from the start; the what-if of the first under the proposal must say, for
//! every volunteer, the points, the stars and the top places the second really has, and
//! must write nothing.

use chrono::{NaiveDate, TimeZone, Utc};
use ledger::amount::{Hours, Points};
use ledger::command::*;
use ledger::event::ServiceKind;
use ledger::ids::*;
use ledger::Store;
use projections::common::Period;
use projections::rankings::{Metric, Scope};
use reports::whatif::{what_if, Proposal};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// 15 points an hour, 上门探访 ×2; stars at 2, 4, 6, 8, 10 h and 40, 80, 120, 160, 200
/// points.
fn proposal() -> Proposal {
    Proposal {
        point_rules: Some((
            Points::whole(15),
            BTreeMap::from([(ServiceKind::ElderlyVisit, d("2"))]),
        )),
        stars: Some((
            [2, 4, 6, 8, 10].map(Hours::whole).to_vec(),
            Some([40, 80, 120, 160, 200].map(Points::whole).to_vec()),
        )),
    }
}

/// The community, three volunteers, their services, an award and a reversal; under the
/// proposal from the start when `proposed`. The same keys give the same ids in both.
async fn world(store: &Store, proposed: bool) -> (CommunityId, Vec<VolunteerId>) {
    let h = CommandHandler::new(store.clone());
    let admin = Actor::admin(Uuid::from_u128(7));
    let c = h
        .run(
            &admin,
            "c",
            EstablishCommunity {
                name: "试算社区".into(),
            },
        )
        .await
        .unwrap()
        .result
        .community_id;
    let g = h
        .run(
            &admin,
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
            &admin,
            "s",
            RegisterStairwell {
                community_id: c,
                grid_id: g,
                building: "1栋".into(),
                unit: "1单元".into(),
                households: 12,
            },
        )
        .await
        .unwrap()
        .result
        .stairwell_id;
    if proposed {
        let from = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        h.run(
            &admin,
            "rules",
            SetPointRules {
                community_id: c,
                points_per_hour: d("15"),
                coefficients: BTreeMap::from([(ServiceKind::ElderlyVisit, d("2"))]),
                max_hours_per_record: d("24"),
                effective_from: from,
            },
        )
        .await
        .unwrap();
        h.run(
            &admin,
            "stars",
            SetStarThresholds {
                community_id: c,
                thresholds: ["2", "4", "6", "8", "10"].map(d).to_vec(),
                effective_from: from,
                points: Some(["40", "80", "120", "160", "200"].map(d).to_vec()),
            },
        )
        .await
        .unwrap();
    }
    let mut vols = Vec::new();
    for key in ["v0", "v1", "v2"] {
        let v = h
            .run(
                &admin,
                key,
                RegisterVolunteer {
                    community_id: c,
                    name: "志愿者".into(),
                    phone: None,
                    id_number: None,
                    stairwell_id: s,
                    tags: vec![],
                    teams: vec![],
                    household: None,
                },
            )
            .await
            .unwrap()
            .result
            .volunteer_id;
        vols.push(v);
    }
    let services: [(&str, &str, usize, ServiceKind, &str, u32); 5] = [
        ("l0", "f0", 0, ServiceKind::Patrol, "3", 1),
        ("l1", "f1", 0, ServiceKind::ElderlyVisit, "2", 2),
        ("l2", "f2", 1, ServiceKind::Repair, "4", 3),
        ("l3", "f3", 2, ServiceKind::ElderlyVisit, "1.5", 4),
        ("l4", "f4", 1, ServiceKind::ElderlyVisit, "1", 5),
    ];
    let mut entries = Vec::new();
    for (log, verify, v, kind, hours, day) in services {
        let service_id = h
            .run(
                &admin,
                log,
                LogService {
                    volunteer_id: vols[v],
                    kind,
                    started_at: Utc.with_ymd_and_hms(2026, 10, day, 2, 0, 0).unwrap(),
                    hours: d(hours),
                    place: "小区".into(),
                    note: String::new(),
                },
            )
            .await
            .unwrap()
            .result
            .service_id;
        let entry = h
            .run(
                &admin,
                verify,
                VerifyService {
                    volunteer_id: vols[v],
                    service_id,
                },
            )
            .await
            .unwrap()
            .result
            .entry_id;
        entries.push(entry);
    }
    h.run(
        &admin,
        "award",
        AwardPoints {
            volunteer_id: vols[2],
            points: d("20"),
            reason: "好人好事".into(),
        },
    )
    .await
    .unwrap();
    h.run(
        &admin,
        "reverse",
        ReverseEntry {
            volunteer_id: vols[1],
            entry_id: entries[4],
            reason: "重复录入".into(),
            impact: None,
        },
    )
    .await
    .unwrap();
    (c, vols)
}

async fn built(store: &Store) -> projections::Projections {
    let p = projections::start(store.clone()).await;
    p.wait_for(store.head().await.unwrap(), Duration::from_secs(30))
        .await
        .unwrap();
    p
}

async fn check(now: Store, rebuilt: Store) {
    let (c, vols) = world(&now, false).await;
    let (c2, vols2) = world(&rebuilt, true).await;
    assert_eq!((c, &vols), (c2, &vols2), "the same ids in both databases");
    let head = now.head().await.unwrap();
    let today = ledger::domain::local_date(Utc::now());
    let w = what_if(&now, c, &proposal(), None, today).await.unwrap();
    assert_eq!(now.head().await.unwrap(), head, "nothing written");
    let (p_now, p_new) = (built(&now).await, built(&rebuilt).await);
    // Every volunteer: the points before as they are, after as the rebuild has them.
    assert_eq!(w.changes.len(), 3, "{w:?}");
    for ch in &w.changes {
        let before = projections::balances::balance(p_now.db(), ch.volunteer_id)
            .await
            .unwrap()
            .unwrap();
        let after = projections::balances::balance(p_new.db(), ch.volunteer_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ch.before.to_decimal(), before.star_points, "{ch:?}");
        assert_eq!(ch.after.to_decimal(), after.star_points, "{ch:?}");
    }
    // Stars per level, as the rebuild's balances have them.
    let mut levels = [0u32; 6];
    for v in &vols {
        let b = projections::balances::balance(p_new.db(), *v)
            .await
            .unwrap()
            .unwrap();
        levels[b.star_level as usize] += 1;
    }
    assert_eq!(w.stars_after, levels);
    // The top by points, as the rebuild's ranking has it.
    let r = projections::rankings::ranking(
        p_new.db(),
        &Scope::Community(c),
        Period::AllTime,
        Metric::Points,
        20,
        None,
    )
    .await
    .unwrap();
    let ranked: Vec<(u64, VolunteerId, Decimal)> = r
        .top
        .iter()
        .map(|e| (e.rank, e.volunteer_id, e.points))
        .collect();
    let said: Vec<(u64, VolunteerId, Decimal)> = w
        .top_after
        .iter()
        .map(|p| (p.rank, p.volunteer_id, p.points.to_decimal()))
        .collect();
    assert_eq!(said, ranked);
    // A year with nothing in it changes nothing.
    let empty = what_if(&now, c, &proposal(), Some(2019), today)
        .await
        .unwrap();
    assert!(empty.changes.is_empty() && empty.top_after.is_empty());
    p_now.shutdown().await.unwrap();
    p_new.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_equals_a_rebuild_under_the_proposal_sqlite() {
    let (a, _da) = ledger::testing::sqlite_store().await;
    let (b, _db) = ledger::testing::sqlite_store().await;
    check(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_equals_a_rebuild_under_the_proposal_postgres() {
    let Some(a) = ledger::testing::postgres_store().await else {
        return;
    };
    let Some(b) = ledger::testing::postgres_store().await else {
        return;
    };
    check(a, b).await;
}
