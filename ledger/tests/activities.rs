//! Activities through the command handler on real stores (SQLite, and PostgreSQL when
//! reachable): the race for the last places, the waiting list, the rotating code with
//! its throttle, the approval of 500 attendees in one append, and the 公示 notice with an
//! objection upheld and one dismissed until the records are final.

use chrono::{DateTime, Duration, TimeZone, Utc};
use ledger::amount::{Hours, Points};
use ledger::command::*;
use ledger::domain::{Aggregate, VolunteerState};
use ledger::event::{Eligibility, Event, ServiceKind};
use ledger::ids::*;
use ledger::store::Store;
use rust_decimal::Decimal;
use std::sync::Arc;
use uuid::Uuid;

/// Saturday 2025-06-07 8:00–10:00 in China; the clock starts a week before.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 7, 0, 0, 0).unwrap()
}

struct World {
    handler: CommandHandler,
    clock: Arc<FixedClock>,
    admin: Actor,
    staff: Actor,
    community: CommunityId,
    stairwell: StairwellId,
}

async fn world(store: Store) -> World {
    let clock = Arc::new(FixedClock::new(start() - Duration::days(7)));
    let handler = CommandHandler::with_clock(store, clock.clone());
    let admin = Actor::admin(Uuid::from_u128(1));
    let community = handler
        .run(
            &admin,
            "c",
            EstablishCommunity {
                name: "幸福社区".into(),
            },
        )
        .await
        .unwrap()
        .result
        .community_id;
    let staff = Actor::staff(Uuid::from_u128(2), community);
    let grid = handler
        .run(
            &staff,
            "g",
            AddGrid {
                community_id: community,
                name: "第1网格".into(),
                parent: None,
            },
        )
        .await
        .unwrap()
        .result
        .grid_id;
    let stairwell = handler
        .run(
            &staff,
            "s",
            RegisterStairwell {
                community_id: community,
                grid_id: grid,
                building: "1号楼".into(),
                unit: "1单元".into(),
                households: 20,
            },
        )
        .await
        .unwrap()
        .result
        .stairwell_id;
    World {
        handler,
        clock,
        admin,
        staff,
        community,
        stairwell,
    }
}

impl World {
    /// `n` volunteers, registered concurrently.
    async fn volunteers(&self, n: usize) -> Vec<VolunteerId> {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let (h, staff, c, s) = (
                    self.handler.clone(),
                    self.staff.clone(),
                    self.community,
                    self.stairwell,
                );
                tokio::spawn(async move {
                    h.run(
                        &staff,
                        &format!("v{i}"),
                        RegisterVolunteer {
                            community_id: c,
                            name: format!("志愿者{i}"),
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
                    .volunteer_id
                })
            })
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids
    }

    async fn post(&self, places: u32) -> ActivityId {
        self.handler
            .run(
                &self.staff,
                &format!("post-{places}-{}", Uuid::new_v4()),
                PostActivity {
                    community_id: self.community,
                    title: "北门巡逻".into(),
                    kind: ServiceKind::Patrol,
                    place: "小区北门".into(),
                    starts_at: start(),
                    ends_at: start() + Duration::hours(2),
                    places,
                    signup_deadline: None,
                    eligibility: Eligibility::default(),
                    walk_ins: false,
                },
            )
            .await
            .unwrap()
            .result
            .activity_id
    }

    /// Every command of `commands`, each by its volunteer, concurrently through `handlers`.
    async fn all<C>(
        &self,
        handlers: &[CommandHandler],
        commands: Vec<(VolunteerId, C)>,
    ) -> Vec<Result<CommandOutcome<C::Output>, CommandError>>
    where
        C: CommandPayload + Send + 'static,
        C::Output: Send + 'static,
    {
        let tasks: Vec<_> = commands
            .into_iter()
            .enumerate()
            .map(|(i, (v, c))| {
                let h = handlers[i % handlers.len()].clone();
                let me = Actor::volunteer(v, self.community);
                tokio::spawn(
                    async move { h.run(&me, &format!("cmd-{i}-{}", Uuid::new_v4()), c).await },
                )
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }
}

/// Handlers with no locks or caches in common (on PostgreSQL two on another store, as
/// another process would be): a race is settled by the store's version checks.
async fn handlers(w: &World) -> Vec<CommandHandler> {
    let other = ledger::testing::another_store(w.handler.store()).await;
    let clock: Arc<dyn Clock> = w.clock.clone();
    vec![
        w.handler.clone(),
        CommandHandler::with_clock(w.handler.store().clone(), clock.clone()),
        CommandHandler::with_clock(other.clone(), clock.clone()),
        CommandHandler::with_clock(other, clock),
    ]
}

async fn place_race(store: Store) {
    let w = world(store).await;
    let people = w.volunteers(200).await;
    let a = w.post(30).await;
    let sign_ups = people
        .iter()
        .map(|v| {
            (
                *v,
                SignUp {
                    activity_id: a,
                    volunteer_id: *v,
                    waitlist: false,
                },
            )
        })
        .collect();
    let results = w.all(&handlers(&w).await, sign_ups).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let full: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(won, 30);
    assert_eq!(full.len(), 170);
    assert!(full.iter().all(|e| e.code() == "ACTIVITY_FULL"), "{full:?}");
    let signed = w
        .handler
        .store()
        .read_stream(&activity_stream(a), 0)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.event_type == "SignedUp")
        .count();
    assert_eq!(signed, 30, "the log holds exactly the places given");
}

async fn waiting_list(store: Store) {
    let w = world(store).await;
    let p = w.volunteers(3).await;
    let a = w.post(1).await;
    let sign = |v: VolunteerId| SignUp {
        activity_id: a,
        volunteer_id: v,
        waitlist: true,
    };
    let me = |v| Actor::volunteer(v, w.community);
    let first = w.handler.run(&me(p[0]), "s0", sign(p[0])).await.unwrap();
    let second = w.handler.run(&me(p[1]), "s1", sign(p[1])).await.unwrap();
    let third = w.handler.run(&me(p[2]), "s2", sign(p[2])).await.unwrap();
    assert_eq!(
        [
            first.result.waiting,
            second.result.waiting,
            third.result.waiting
        ],
        [None, Some(1), Some(2)]
    );
    let out = w
        .handler
        .run(
            &me(p[0]),
            "w0",
            WithdrawSignUp {
                activity_id: a,
                volunteer_id: p[0],
                reason: "临时有事".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(out.result.moved_up, vec![p[1]]);
    // the one moved up now holds the place: the third still waits, first in line
    let again = w
        .handler
        .run(&me(p[0]), "s0-again", sign(p[0]))
        .await
        .unwrap();
    assert_eq!(again.result.waiting, Some(2));
}

async fn codes_and_throttle(store: Store) {
    let w = world(store).await;
    let p = w.volunteers(2).await;
    let a = w.post(5).await;
    for (i, v) in p.iter().enumerate() {
        w.handler
            .run(
                &Actor::volunteer(*v, w.community),
                &format!("s{i}"),
                SignUp {
                    activity_id: a,
                    volunteer_id: *v,
                    waitlist: false,
                },
            )
            .await
            .unwrap();
    }
    w.clock.set(start() - Duration::minutes(5));
    let (shown, _) = w.handler.check_in_code(a).await.unwrap();
    assert_eq!(shown.code.len(), 6);
    assert!(shown.changes_at > w.handler.now());
    let wrong = if shown.code == "000000" {
        "000001"
    } else {
        "000000"
    };
    let check_in = |v: VolunteerId, code: &str| CheckIn {
        activity_id: a,
        volunteer_id: v,
        code: Some(code.to_string()),
    };
    let me = Actor::volunteer(p[0], w.community);
    for i in 0..MAX_WRONG_CODES {
        let e = w
            .handler
            .run(&me, &format!("wrong-{i}"), check_in(p[0], wrong))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "WRONG_CODE");
    }
    // Throttled now, the right code too; another volunteer is not.
    let e = w
        .handler
        .run(&me, "right-too-soon", check_in(p[0], &shown.code))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "TOO_MANY_ATTEMPTS");
    let other = Actor::volunteer(p[1], w.community);
    let ok = w
        .handler
        .run(&other, "other", check_in(p[1], &shown.code))
        .await
        .unwrap();
    assert!(!ok.result.walk_in);
    // A minute later the right code of that time goes through; a retry answers the same.
    w.clock.advance(Duration::seconds(61));
    let (now, _) = w.handler.check_in_code(a).await.unwrap();
    let done = w
        .handler
        .run(&me, "right", check_in(p[0], &now.code))
        .await
        .unwrap();
    assert_eq!(done.result.at, w.handler.now());
    let retry = w
        .handler
        .run(&me, "right", check_in(p[0], &now.code))
        .await
        .unwrap();
    assert!(retry.replayed);
    let e = w
        .handler
        .run(&me, "twice", check_in(p[0], &now.code))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ALREADY_CHECKED_IN");
}

/// `n` signed up and checked in at the start; the first `early` check out after 61
/// minutes, the rest are settled at the end.
async fn muster(w: &World, n: usize, early: usize) -> (ActivityId, Vec<VolunteerId>) {
    let p = w.volunteers(n).await;
    let a = w.post(n as u32).await;
    let handlers = [w.handler.clone()];
    let sign_ups = p
        .iter()
        .map(|v| {
            (
                *v,
                SignUp {
                    activity_id: a,
                    volunteer_id: *v,
                    waitlist: false,
                },
            )
        })
        .collect();
    assert!(w.all(&handlers, sign_ups).await.iter().all(|r| r.is_ok()));
    w.clock.set(start());
    let code = w.handler.check_in_code(a).await.unwrap().0.code;
    let ins = p
        .iter()
        .map(|v| {
            (
                *v,
                CheckIn {
                    activity_id: a,
                    volunteer_id: *v,
                    code: Some(code.clone()),
                },
            )
        })
        .collect();
    assert!(w.all(&handlers, ins).await.iter().all(|r| r.is_ok()));
    w.clock.set(start() + Duration::minutes(61));
    let code = w.handler.check_in_code(a).await.unwrap().0.code;
    let outs = p[..early]
        .iter()
        .map(|v| {
            (
                *v,
                CheckOut {
                    activity_id: a,
                    volunteer_id: *v,
                    code: Some(code.clone()),
                },
            )
        })
        .collect();
    assert!(w.all(&handlers, outs).await.iter().all(|r| r.is_ok()));
    (a, p)
}

async fn bulk_approval(store: Store) {
    let w = world(store).await;
    let (a, p) = muster(&w, 500, 20).await;
    w.clock.set(start() + Duration::hours(3));
    let store = w.handler.store().clone();
    let head = store.head().await.unwrap();
    // A refusal writes nothing.
    let e = w
        .handler
        .run(
            &w.staff,
            "bad",
            ApproveAttendance {
                activity_id: a,
                adjustments: vec![],
                exclusions: vec![Exclusion {
                    volunteer_id: VolunteerId(Uuid::nil()),
                    reason: "x".into(),
                }],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_INPUT");
    assert_eq!(store.head().await.unwrap(), head);
    let done = w
        .handler
        .run(
            &w.staff,
            "approve",
            ApproveAttendance {
                activity_id: a,
                adjustments: vec![],
                exclusions: vec![Exclusion {
                    volunteer_id: p[499],
                    reason: "未到岗".into(),
                }],
            },
        )
        .await
        .unwrap();
    let o = done.result;
    // 20 × 1 h (out at 61 min, rounded down) + 479 × 2 h (no check-out: the end)
    assert_eq!((o.records, o.excluded, o.final_records), (499, 1, 499));
    assert_eq!(o.hours, Hours::whole(20 + 479 * 2));
    assert_eq!(o.points, Points::whole(10 * (20 + 479 * 2)));
    // One append: the approval, its finality and two events in each of 499 accounts.
    assert_eq!(done.events, 2 + 2 * 499);
    let written = store.read_all(head, 10_000).await.unwrap();
    assert_eq!(written.len(), 2 + 2 * 499);
    let correlation = written[0].metadata.correlation_id;
    assert!(written
        .iter()
        .all(|r| r.metadata.correlation_id == correlation));
    let events: Vec<Event> = store
        .read_stream(&volunteer_stream(p[0]), 0)
        .await
        .unwrap()
        .iter()
        .map(|r| Event::decode(r).unwrap())
        .collect();
    let account = VolunteerState::from_events(&events);
    assert_eq!(
        (account.hours, account.points),
        (Hours::whole(1), Points::whole(10))
    );
}

async fn notice_flow(store: Store) {
    let w = world(store).await;
    w.handler
        .run(
            &w.admin,
            "rules",
            SetActivityRules {
                community_id: w.community,
                time_unit_minutes: 30,
                late_record_days: 30,
                notice_days: 3,
                checkin_opens_minutes: 30,
                code_period_seconds: 30,
                effective_from: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            },
        )
        .await
        .unwrap();
    let (a, p) = muster(&w, 3, 3).await;
    w.clock.set(start() + Duration::hours(2));
    let approved = w
        .handler
        .run(
            &w.staff,
            "approve",
            ApproveAttendance {
                activity_id: a,
                adjustments: vec![],
                exclusions: vec![],
            },
        )
        .await
        .unwrap();
    assert_eq!(approved.result.final_records, 0);
    let until = approved.result.notice_until.unwrap();
    assert_eq!(until, w.handler.now() + Duration::days(3));
    let balance = |v: VolunteerId| {
        let store = w.handler.store().clone();
        async move {
            let events: Vec<Event> = store
                .read_stream(&volunteer_stream(v), 0)
                .await
                .unwrap()
                .iter()
                .map(|r| Event::decode(r).unwrap())
                .collect();
            let s = VolunteerState::from_events(&events);
            (s.hours, s.points)
        }
    };
    assert_eq!(
        balance(p[0]).await,
        (Hours::ZERO, Points::ZERO),
        "pending is not credited"
    );
    // Two objections from a neighbour: one upheld (corrected to 0.5 h), one dismissed.
    let neighbour = Actor::volunteer(p[2], w.community);
    let object = |v: VolunteerId, key: &'static str| {
        let h = w.handler.clone();
        let neighbour = neighbour.clone();
        async move {
            h.run(
                &neighbour,
                key,
                RaiseObjection {
                    activity_id: a,
                    volunteer_id: v,
                    reason: "时长不实".into(),
                },
            )
            .await
            .unwrap()
            .result
            .objection_id
        }
    };
    let o1 = object(p[0], "o1").await;
    let o2 = object(p[1], "o2").await;
    let resolve = |o: ObjectionId, verdict: Verdict, key: &'static str| {
        let h = w.handler.clone();
        let staff = w.staff.clone();
        async move {
            h.run(
                &staff,
                key,
                ResolveObjection {
                    impact: None,
                    activity_id: a,
                    objection_id: o,
                    verdict,
                    reason: "核实".into(),
                },
            )
            .await
            .unwrap()
        }
    };
    resolve(o2, Verdict::Dismiss, "r2").await;
    // At the end of the notice: p[1] and p[2] are final; p[0] still has an open objection.
    w.clock.set(until);
    let fin = w
        .handler
        .run(&w.staff, "f1", FinaliseAttendance { activity_id: a })
        .await
        .unwrap();
    assert_eq!(fin.result.final_records, 2);
    assert_eq!(
        balance(p[1]).await,
        (Hours::from_minutes(60), Points::whole(10))
    );
    assert_eq!(balance(p[0]).await, (Hours::ZERO, Points::ZERO));
    let e = w
        .handler
        .run(&w.staff, "f2", FinaliseAttendance { activity_id: a })
        .await
        .unwrap_err();
    assert_eq!(e.code(), "NOTHING_DUE");
    resolve(
        o1,
        Verdict::Correct {
            hours: Decimal::new(5, 1),
        },
        "r1",
    )
    .await;
    let fin = w
        .handler
        .run(&w.staff, "f3", FinaliseAttendance { activity_id: a })
        .await
        .unwrap();
    assert_eq!(fin.result.final_records, 1);
    assert_eq!(
        balance(p[0]).await,
        (Hours::from_minutes(30), Points::whole(5))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_sign_ups_for_thirty_places_give_thirty() {
    ledger::for_each_backend!(|store| place_race(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_withdrawal_moves_the_waiting_list_up() {
    ledger::for_each_backend!(|store| waiting_list(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_codes_are_throttled_per_volunteer() {
    ledger::for_each_backend!(|store| codes_and_throttle(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_attendees_are_approved_in_one_append() {
    ledger::for_each_backend!(|store| bulk_approval(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn records_become_final_after_the_notice_unless_objected() {
    ledger::for_each_backend!(|store| notice_flow(store).await);
}
