//! Property tests: random command sequences.
//!
//! - through the command handler on a real store (SQLite, and PostgreSQL when
//!   reachable): replaying the log (a fold of `Event::decode`) reproduces the balances
//!   the handler reported, no points or hours balance ever goes below zero except by a
//!   reversal, and while a balance is below zero (the account flagged) nothing is
//!   redeemed, gifted or spent from it;
//! - the same invariants on the pure decide/evolve functions, with more cases.

use chrono::{Duration, TimeZone, Utc};
use ledger::amount::{Hours, Points};
use ledger::command::*;
use ledger::domain::{Aggregate, VolunteerState};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Op {
    Award(usize, i64),
    Redeem(usize, i64),
    Log(usize, i64),
    Verify(usize),
    Reject(usize),
    Reverse(usize, usize),
    Gift(usize, usize, i64),
    Spend(usize, i64),
    RetryLast,
}

fn op() -> impl Strategy<Value = Op> {
    let v = 0usize..3;
    prop_oneof![
        (v.clone(), 1i64..50).prop_map(|(v, p)| Op::Award(v, p)),
        (v.clone(), 1i64..60).prop_map(|(v, p)| Op::Redeem(v, p)),
        (v.clone(), 1i64..32).prop_map(|(v, q)| Op::Log(v, q * 15)),
        v.clone().prop_map(Op::Verify),
        v.clone().prop_map(Op::Reject),
        (v.clone(), 0usize..8).prop_map(|(v, i)| Op::Reverse(v, i)),
        (v.clone(), v.clone(), 1i64..12).prop_map(|(a, b, q)| Op::Gift(a, b, q * 15)),
        (v.clone(), 1i64..12).prop_map(|(v, q)| Op::Spend(v, q * 15)),
        Just(Op::RetryLast),
    ]
}

fn minutes(m: i64) -> Decimal {
    Hours::from_minutes(m).to_decimal()
}

/// Checks a volunteer stream: balances drop below zero only by a reversal, and while
/// one is below zero nothing is taken from it; returns the folded state.
fn check_stream(events: &[Event]) -> VolunteerState {
    let mut s = VolunteerState::default();
    for e in events {
        let before = (s.points, s.hours);
        if before.0.is_negative() || before.1.is_negative() {
            assert!(
                !matches!(e, Event::PointsRedeemed { .. }),
                "redeemed from a flagged account: {e:?}"
            );
        }
        if before.1.is_negative() {
            assert!(
                !matches!(e, Event::HoursGifted { .. } | Event::HoursSpent { .. }),
                "hours taken from a negative balance: {e:?}"
            );
        }
        s.evolve(e);
        let dropped_below = |after: i64, before: i64| after < 0 && after < before;
        if dropped_below(s.points.hundredths(), before.0.hundredths())
            || dropped_below(s.hours.minutes(), before.1.minutes())
        {
            assert!(
                matches!(e, Event::EntryReversed { .. }),
                "balance went below zero by {e:?}"
            );
        }
    }
    s
}

async fn run_ops(store: ledger::Store, ops: Vec<Op>) {
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 4, 0, 0).unwrap();
    let handler = CommandHandler::with_clock(store.clone(), Arc::new(FixedClock::new(now)));
    let admin = Actor::admin(Uuid::from_u128(1));
    let c = handler
        .run(
            &admin,
            "c",
            EstablishCommunity {
                name: "社区".into(),
            },
        )
        .await
        .unwrap();
    let community: CommunityId = c.result.community_id;
    let staff = Actor::staff(Uuid::from_u128(2), community);
    let g = handler
        .run(
            &staff,
            "g",
            AddGrid {
                community_id: community,
                name: "网格".into(),
                parent: None,
            },
        )
        .await
        .unwrap();
    let grid_id = g.result.grid_id;
    let s = handler
        .run(
            &staff,
            "s",
            RegisterStairwell {
                community_id: community,
                grid_id,
                building: "1".into(),
                unit: "1".into(),
                households: 10,
            },
        )
        .await
        .unwrap();
    let stairwell_id = s.result.stairwell_id;
    let mut vols = Vec::new();
    for i in 0..3 {
        let r = handler
            .run(
                &staff,
                &format!("v{i}"),
                RegisterVolunteer {
                    community_id: community,
                    name: format!("v{i}"),
                    phone: None,
                    id_number: None,
                    stairwell_id,
                    tags: vec![],
                    teams: vec![],
                    household: None,
                },
            )
            .await
            .unwrap();
        vols.push(r.result.volunteer_id);
    }
    let mut pending: Vec<Vec<ServiceId>> = vec![vec![]; 3];
    let mut entries: Vec<Vec<EntryId>> = vec![vec![]; 3];
    // balances the handler reported, per volunteer
    let mut seen: BTreeMap<VolunteerId, (Points, Hours)> = vols
        .iter()
        .map(|v| (*v, (Points::ZERO, Hours::ZERO)))
        .collect();
    let mut last: Option<(String, Actor, Command, CommandOutcome)> = None;
    for (i, op) in ops.into_iter().enumerate() {
        let key = format!("op{i}");
        let (actor, cmd, who): (Actor, Command, Option<usize>) = match op {
            Op::Award(v, p) => (
                staff.clone(),
                AwardPoints {
                    volunteer_id: vols[v],
                    points: Decimal::from(p),
                    reason: "r".into(),
                }
                .into(),
                Some(v),
            ),
            Op::Redeem(v, p) => (
                staff.clone(),
                RedeemPoints {
                    volunteer_id: vols[v],
                    points: Decimal::from(p),
                    item: "i".into(),
                }
                .into(),
                Some(v),
            ),
            Op::Log(v, m) => (
                Actor::volunteer(vols[v], community),
                LogService {
                    volunteer_id: vols[v],
                    kind: ServiceKind::Repair,
                    started_at: now - Duration::days(3),
                    hours: minutes(m),
                    place: String::new(),
                    note: String::new(),
                }
                .into(),
                Some(v),
            ),
            Op::Verify(v) | Op::Reject(v) if pending[v].is_empty() => continue,
            Op::Verify(v) => (
                staff.clone(),
                VerifyService {
                    volunteer_id: vols[v],
                    service_id: pending[v].remove(0),
                }
                .into(),
                Some(v),
            ),
            Op::Reject(v) => (
                staff.clone(),
                RejectService {
                    impact: None,
                    volunteer_id: vols[v],
                    service_id: pending[v].remove(0),
                    reason: "x".into(),
                }
                .into(),
                Some(v),
            ),
            Op::Reverse(v, _) if entries[v].is_empty() => continue,
            Op::Reverse(v, k) => {
                let e = entries[v][k % entries[v].len()];
                (
                    staff.clone(),
                    ReverseEntry {
                        volunteer_id: vols[v],
                        entry_id: e,
                        reason: "x".into(),
                        impact: None,
                    }
                    .into(),
                    Some(v),
                )
            }
            Op::Gift(a, b, m) => (
                Actor::volunteer(vols[a], community),
                GiftHours {
                    from: vols[a],
                    to: vols[b],
                    hours: minutes(m),
                }
                .into(),
                Some(a),
            ),
            Op::Spend(v, m) => (
                Actor::volunteer(vols[v], community),
                SpendHours {
                    volunteer_id: vols[v],
                    hours: minutes(m),
                    description: "d".into(),
                    provider: None,
                    kind: None,
                }
                .into(),
                Some(v),
            ),
            Op::RetryLast => {
                if let Some((k, a, c, out)) = &last {
                    let head = store.head().await.unwrap();
                    let again = handler.execute(a, k, c.clone()).await.unwrap();
                    assert!(again.replayed);
                    assert_eq!(again.result, out.result);
                    assert_eq!(store.head().await.unwrap(), head);
                }
                continue;
            }
        };
        match handler.execute(&actor, &key, cmd.clone()).await {
            Ok(out) => {
                let v = who.unwrap();
                if let Some(sid) = out.result.service_id() {
                    if matches!(cmd, Command::LogService(_)) {
                        pending[v].push(sid);
                    }
                }
                if let Some(e) = out.result.entry_id() {
                    entries[v].push(e);
                }
                let (p, h) = out.result.balances();
                let entry = seen.get_mut(&vols[v]).unwrap();
                if let Some(p) = p {
                    entry.0 = p;
                }
                if let Some(h) = h {
                    entry.1 = h;
                }
                if let Command::GiftHours(g) = &cmd {
                    let to = seen.get_mut(&g.to).unwrap();
                    to.1 =
                        to.1.checked_add(Hours::from_decimal(g.hours).unwrap())
                            .unwrap();
                }
                last = Some((key, actor, cmd, out));
            }
            Err(e) => assert!(
                matches!(
                    e.code(),
                    "INSUFFICIENT_POINTS"
                        | "INSUFFICIENT_HOURS"
                        | "ACCOUNT_FLAGGED"
                        | "ALREADY_REVERSED"
                        | "NOT_REVERSIBLE"
                        | "INVALID_INPUT"
                ),
                "unexpected {e}"
            ),
        }
    }
    // replay the whole log and compare with what the handler reported
    let all = store.read_all(0, 1_000_000).await.unwrap();
    let mut streams: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for r in &all {
        streams
            .entry(r.stream_id.clone())
            .or_default()
            .push(Event::decode(r).unwrap());
    }
    for v in &vols {
        let state = check_stream(
            streams
                .get(&volunteer_stream(*v))
                .map(|e| &e[..])
                .unwrap_or(&[]),
        );
        assert_eq!((state.points, state.hours), seen[v], "volunteer {v}");
        // reading the stream alone gives the same state
        let alone: Vec<Event> = store
            .read_stream(&volunteer_stream(*v), 0)
            .await
            .unwrap()
            .iter()
            .map(|r| Event::decode(r).unwrap())
            .collect();
        assert_eq!(VolunteerState::from_events(&alone), state);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn replaying_the_log_reproduces_the_handler_states(ops in proptest::collection::vec(op(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (store, _dir) = ledger::testing::sqlite_store().await;
            run_ops(store, ops).await
        });
    }
}

proptest! {
    // Each case makes a database of its own on the server: fewer cases.
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn replaying_the_log_reproduces_the_handler_states_on_postgres(ops in proptest::collection::vec(op(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            if let Some(store) = ledger::testing::postgres_store().await {
                run_ops(store, ops).await
            }
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, .. ProptestConfig::default() })]

    /// The pure functions alone: balances never drop below zero except by reversal.
    #[test]
    fn pure_decisions_keep_balances_non_negative(ops in proptest::collection::vec(op(), 1..60)) {
        use ledger::domain::{volunteer, Ctx, IdSource};
        let c: ledger::domain::CommunityState = Aggregate::from_events(&[Event::CommunityEstablished { community_id: CommunityId(Uuid::nil()), name: "c".into() }]);
        let now = Utc.with_ymd_and_hms(2025, 6, 1, 4, 0, 0).unwrap();
        let vols: Vec<VolunteerId> = (0..3).map(|i| VolunteerId(Uuid::from_u128(i + 1))).collect();
        let mut streams: Vec<Vec<Event>> = vols.iter().map(|v| vec![Event::VolunteerRegistered {
            volunteer_id: *v, community_id: CommunityId(Uuid::nil()), volunteer_number: "TB-1".into(),
            stairwell_id: StairwellId(Uuid::nil()), grid_id: GridId(Uuid::nil()), tags: vec![], teams: vec![],
            household: None,
        }]).collect();
        let staff = Actor::staff(Uuid::from_u128(99), CommunityId(Uuid::nil()));
        for (i, op) in ops.into_iter().enumerate() {
            let ids = IdSource::from_key(&format!("k{i}"));
            let ctx = Ctx::new(now, &staff, ids);
            let entry = EntryId(ids.id("entry"));
            let state = |s: &Vec<Event>| VolunteerState::from_events(s);
            let r: Result<Vec<(usize, Vec<Event>)>, _> = match op {
                Op::Award(v, p) => volunteer::award(&state(&streams[v]), &AwardPoints { volunteer_id: vols[v], points: Decimal::from(p), reason: "r".into() }, entry, &ctx).map(|e| vec![(v, e)]),
                Op::Redeem(v, p) => volunteer::redeem(&state(&streams[v]), &RedeemPoints { volunteer_id: vols[v], points: Decimal::from(p), item: "i".into() }, entry, &ctx).map(|e| vec![(v, e)]),
                Op::Log(v, m) => {
                    let st = state(&streams[v]);
                    let sid = ServiceId(ids.id("service"));
                    volunteer::log_service(&c, &st, &LogService { volunteer_id: vols[v], kind: ServiceKind::Patrol, started_at: now, hours: minutes(m), place: String::new(), note: String::new() }, sid, &ctx)
                        .and_then(|mut e| { let mut s2 = st.clone(); s2.evolve(&e[0]); let v2 = volunteer::verify_service(&c, &s2, &VerifyService { volunteer_id: vols[v], service_id: sid }, entry, &ctx)?; e.extend(v2); Ok(vec![(v, e)]) })
                }
                Op::Reverse(v, k) => {
                    let st = state(&streams[v]);
                    let keys: Vec<EntryId> = st.entries.keys().copied().collect();
                    if keys.is_empty() { continue; }
                    volunteer::reverse(&st, &ReverseEntry { volunteer_id: vols[v], entry_id: keys[k % keys.len()], reason: "x".into(), impact: None }, entry, &ctx).map(|e| vec![(v, e)])
                }
                Op::Gift(a, b, m) => volunteer::gift(&state(&streams[a]), &state(&streams[b]), &GiftHours { from: vols[a], to: vols[b], hours: minutes(m) }, entry, &ctx).map(|(x, y)| vec![(a, x), (b, y)]),
                Op::Spend(v, m) => volunteer::spend(&state(&streams[v]), &SpendHours { volunteer_id: vols[v], hours: minutes(m), description: "d".into(), provider: None, kind: None }, entry, None).map(|e| vec![(v, e)]),
                _ => continue,
            };
            if let Ok(writes) = r {
                for (v, events) in writes {
                    streams[v].extend(events);
                }
            }
        }
        for s in &streams {
            check_stream(s);
        }
    }
}
