//! What-if replay of a 文明楼道 rubric against a rebuild, on both backends: the same
//! inspections in two databases, one scored under the built-in rubric, one under the
//! proposed rubric from the start with every item rescaled by the stated rule; the
//! what-if of the first under the proposal must say the year's averages, ranks and red
//! flags that the second's annual report has, and the first's own as they are, and
//! must write nothing.

use chrono::{TimeZone, Utc};
use ledger::command::*;
use ledger::event::{RubricItem, ServiceKind};
use ledger::ids::*;
use ledger::Store;
use reports::whatif::{rubric_what_if, RubricProposal};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// 楼道卫生 50, 杂物清理 20, 消防安全 20 (from 30, 25, 25), participation 10 (from 20).
fn proposal() -> RubricProposal {
    let item = |key: &str, name: &str, max: &str| RubricItem {
        key: key.into(),
        name: name.into(),
        max: d(max),
    };
    RubricProposal {
        items: vec![
            item("cleanliness", "楼道卫生", "50"),
            item("clutter", "杂物清理", "20"),
            item("fire_safety", "消防安全", "20"),
        ],
        participation_max: d("10"),
    }
}

/// Stairwell A (2栋, strong on clutter and fire safety; cleaner in November) and B
/// (10栋, strong on cleanliness) inspected in September to November, C never; a
/// household of A served in October. Under the proposal from the start when
/// `proposed`, each score rescaled: cleanliness × 50/30, the others × 20/25.
async fn world(store: &Store, proposed: bool) -> (CommunityId, [StairwellId; 3]) {
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap(),
    ));
    let h = CommandHandler::with_clock(store.clone(), clock);
    let admin = Actor::admin(Uuid::from_u128(7));
    let c = h
        .run(
            &admin,
            "c",
            EstablishCommunity {
                name: "评分社区".into(),
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
    let mut sws = Vec::new();
    for (key, building, households) in [("a", "2栋", 10), ("b", "10栋", 10), ("cc", "3栋", 8)] {
        let s = h
            .run(
                &admin,
                key,
                RegisterStairwell {
                    community_id: c,
                    grid_id: g,
                    building: building.into(),
                    unit: "1单元".into(),
                    households,
                },
            )
            .await
            .unwrap()
            .result
            .stairwell_id;
        sws.push(s);
    }
    let p = proposal();
    if proposed {
        h.run(
            &admin,
            "rubric",
            SetRubric {
                community_id: c,
                items: p.items.clone(),
                participation_max: p.participation_max,
                effective_from: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            },
        )
        .await
        .unwrap();
    }
    let v = h
        .run(
            &admin,
            "v",
            RegisterVolunteer {
                community_id: c,
                name: "志愿者".into(),
                phone: None,
                id_number: None,
                stairwell_id: sws[0],
                tags: vec![],
                teams: vec![],
                household: Some("101".into()),
            },
        )
        .await
        .unwrap()
        .result
        .volunteer_id;
    let service = h
        .run(
            &admin,
            "log",
            LogService {
                volunteer_id: v,
                kind: ServiceKind::Patrol,
                started_at: Utc.with_ymd_and_hms(2026, 10, 8, 2, 0, 0).unwrap(),
                hours: d("2"),
                place: "小区".into(),
                note: String::new(),
            },
        )
        .await
        .unwrap()
        .result
        .service_id;
    h.run(
        &admin,
        "verify",
        VerifyService {
            volunteer_id: v,
            service_id: service,
        },
    )
    .await
    .unwrap();
    // (cleanliness, clutter, fire safety) under the built-in rubric.
    let a = |month| if month == "2026-11" { "24" } else { "18" };
    let rescale = |s: &str, from: &str, to: &str| (d(s) * d(to) / d(from)).round_dp(2);
    let keys = ["i9a", "i9b", "i10a", "i10b", "i11a", "i11b"];
    let mut key = keys.iter();
    for month in ["2026-09", "2026-10", "2026-11"] {
        let given = [
            (sws[0], (a(month), "25", "25")),
            (sws[1], ("30", "15", "15")),
        ];
        for (s, (clean, clutter, fire)) in given {
            let scores: BTreeMap<String, Decimal> = if proposed {
                [
                    ("cleanliness", rescale(clean, "30", "50")),
                    ("clutter", rescale(clutter, "25", "20")),
                    ("fire_safety", rescale(fire, "25", "20")),
                ]
            } else {
                [
                    ("cleanliness", d(clean)),
                    ("clutter", d(clutter)),
                    ("fire_safety", d(fire)),
                ]
            }
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            h.run(
                &admin,
                key.next().unwrap(),
                RecordInspection {
                    community_id: c,
                    stairwell_id: s,
                    month: month.into(),
                    scores,
                    note: String::new(),
                },
            )
            .await
            .unwrap();
        }
    }
    (c, [sws[0], sws[1], sws[2]])
}

async fn check(now: Store, rebuilt: Store) {
    let (c, sws) = world(&now, false).await;
    assert_eq!(
        (c, sws),
        world(&rebuilt, true).await,
        "the same ids in both"
    );
    let head = now.head().await.unwrap();
    let w = rubric_what_if(&now, c, &proposal(), 2026).await.unwrap();
    assert_eq!(now.head().await.unwrap(), head, "nothing written");
    let before = reports::annual_report(&now, c, 2026, None, |_, _| {})
        .await
        .unwrap();
    let after = reports::annual_report(&rebuilt, c, 2026, None, |_, _| {})
        .await
        .unwrap();
    // Every stairwell: before as the annual report is, after as the rebuild's is.
    assert_eq!(w.stairwells.len(), 3);
    for s in &w.stairwells {
        let b = before
            .stairwells
            .iter()
            .find(|x| x.stairwell_id == s.stairwell_id)
            .unwrap();
        let a = after
            .stairwells
            .iter()
            .find(|x| x.stairwell_id == s.stairwell_id)
            .unwrap();
        assert_eq!(
            (s.average_before, s.rank_before, &s.red_flag_months_before),
            (b.average, b.rank, &b.red_flag_months),
            "{s:?}"
        );
        assert_eq!(
            (s.average_after, s.rank_after, &s.red_flag_months_after),
            (a.average, a.rank, &a.red_flag_months),
            "{s:?}"
        );
    }
    // The flags: A held all three; under the proposal B takes September (60 → 74
    // against 68 → 70) and October (A's participation counts half as much), and A keeps
    // November (80 against 74).
    let holders: Vec<(u32, String, String, bool)> = w
        .red_flags
        .iter()
        .map(|f| {
            let name =
                |x: &Option<(String, Decimal)>| x.as_ref().map(|x| x.0.clone()).unwrap_or_default();
            (f.month, name(&f.before), name(&f.after), f.changes_hands)
        })
        .collect();
    let (a, b) = ("2栋 1单元".to_string(), "10栋 1单元".to_string());
    assert_eq!(
        holders,
        vec![
            (9, a.clone(), b.clone(), true),
            (10, a.clone(), b.clone(), true),
            (11, a.clone(), a.clone(), false),
        ]
    );
    for f in &w.red_flags {
        let month = after.red_flags.iter().find(|x| x.month == f.month).unwrap();
        assert_eq!(f.after.as_ref().map(|x| x.1), Some(month.score), "{f:?}");
    }
    // C was never inspected: unranked both ways, listed last.
    let last = w.stairwells.last().unwrap();
    assert_eq!(
        (last.stairwell_id, last.rank_before, last.rank_after),
        (sws[2], None, None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rubric_what_if_equals_a_rebuild_under_it_sqlite() {
    let (a, _da) = ledger::testing::sqlite_store().await;
    let (b, _db) = ledger::testing::sqlite_store().await;
    check(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rubric_what_if_equals_a_rebuild_under_it_postgres() {
    let Some(a) = ledger::testing::postgres_store().await else {
        return;
    };
    let Some(b) = ledger::testing::postgres_store().await else {
        return;
    };
    check(a, b).await;
}
