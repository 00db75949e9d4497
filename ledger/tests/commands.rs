//! The command handler against real stores: races, idempotency, multi-stream appends,
//! personal data, and a property test that replaying the log reproduces what the
//! handler saw. Runs on SQLite always and on PostgreSQL when reachable.

use chrono::{TimeZone, Utc};
use ledger::amount::{Hours, Points};
use ledger::command::*;
use ledger::domain::{Aggregate, VolunteerState};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::store::Store;
use rust_decimal::Decimal;
use std::sync::Arc;
use uuid::Uuid;

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2025, 6, 1, 4, 0, 0).unwrap(),
    ))
}

struct World {
    handler: CommandHandler,
    community: CommunityId,
    stairwell: StairwellId,
    staff: Actor,
}

async fn world(store: Store) -> World {
    let handler = CommandHandler::with_clock(store, clock());
    let admin = Actor::admin(Uuid::from_u128(1));
    let c = handler
        .run(
            &admin,
            "c",
            EstablishCommunity {
                name: "幸福社区".into(),
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
                name: "第1网格".into(),
                parent: None,
            },
        )
        .await
        .unwrap();
    let s = handler
        .run(
            &staff,
            "s",
            RegisterStairwell {
                community_id: community,
                grid_id: g.result.grid_id,
                building: "1号楼".into(),
                unit: "1单元".into(),
                households: 20,
            },
        )
        .await
        .unwrap();
    World {
        handler,
        community,
        stairwell: s.result.stairwell_id,
        staff,
    }
}

/// The ID number of the volunteer registered with `key`: each their own (one person,
/// one record).
fn id_number_of(key: &str) -> String {
    let h = key
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    let body = format!("1101011950{:07}", h % 10_000_000);
    let check = ledger::domain::volunteer::id_check_character(&body).unwrap();
    format!("{body}{check}")
}

impl World {
    async fn volunteer(&self, key: &str) -> VolunteerId {
        let r = self
            .handler
            .run(
                &self.staff,
                key,
                RegisterVolunteer {
                    community_id: self.community,
                    name: format!("志愿者{key}"),
                    phone: Some("13812345678".into()),
                    id_number: Some(id_number_of(key)),
                    stairwell_id: self.stairwell,
                    tags: vec!["党员".into()],
                    teams: vec![],
                    household: None,
                },
            )
            .await
            .unwrap();
        r.result.volunteer_id
    }

    async fn award(&self, v: VolunteerId, points: i64, key: &str) -> BalanceEntry {
        self.handler
            .run(
                &self.staff,
                key,
                AwardPoints {
                    volunteer_id: v,
                    points: Decimal::from(points),
                    reason: "表现突出".into(),
                },
            )
            .await
            .unwrap()
            .result
    }
}

/// The state of a volunteer stream, folded from the store.
async fn replay_volunteer(store: &Store, v: VolunteerId) -> VolunteerState {
    let events: Vec<Event> = store
        .read_stream(&volunteer_stream(v), 0)
        .await
        .unwrap()
        .iter()
        .map(|r| Event::decode(r).unwrap())
        .collect();
    VolunteerState::from_events(&events)
}

/// Four handlers on the store's database, with no locks or caches in common (on
/// PostgreSQL two of them on another store, as another process would be): so that a
/// race is settled by the store's version checks, not queued up in one handler.
async fn handlers(w: &World) -> Vec<CommandHandler> {
    let other = ledger::testing::another_store(w.handler.store()).await;
    vec![
        w.handler.clone(),
        CommandHandler::with_clock(w.handler.store().clone(), clock()),
        CommandHandler::with_clock(other.clone(), clock()),
        CommandHandler::with_clock(other, clock()),
    ]
}

async fn claim_race(store: Store) {
    let w = world(store).await;
    let mut volunteers = Vec::new();
    for i in 0..64 {
        volunteers.push(w.volunteer(&format!("v{i}")).await);
    }
    let posted = w
        .handler
        .run(
            &w.staff,
            "wish",
            PostWish {
                community_id: w.community,
                stairwell_id: w.stairwell,
                category: "维修".into(),
                description: "修水龙头".into(),
                resident_label: "独居老人".into(),
            },
        )
        .await
        .unwrap();
    let wish: WishId = posted.result.wish_id;
    let handlers = handlers(&w).await;
    let mut tasks = Vec::new();
    for (i, v) in volunteers.iter().copied().enumerate() {
        let h = handlers[i % handlers.len()].clone();
        let actor = Actor::volunteer(v, w.community);
        tasks.push(tokio::spawn(async move {
            h.execute(
                &actor,
                &format!("claim-{i}"),
                ClaimWish {
                    wish_id: wish,
                    volunteer_id: v,
                }
                .into(),
            )
            .await
        }));
    }
    let mut won = 0;
    let mut lost = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => {
                assert_eq!(e.code(), "WISH_ALREADY_CLAIMED", "{e}");
                lost += 1;
            }
        }
    }
    assert_eq!((won, lost), (1, 63));
    let claims = w
        .handler
        .store()
        .read_stream(&wish_stream(wish), 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event_type == "WishClaimed")
        .count();
    assert_eq!(claims, 1);
}

async fn redeem_race(store: Store) {
    let w = world(store).await;
    let v = w.volunteer("v").await;
    w.award(v, 100, "award").await;
    let handlers = handlers(&w).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let h = handlers[i % handlers.len()].clone();
        let staff = w.staff.clone();
        tasks.push(tokio::spawn(async move {
            h.execute(
                &staff,
                &format!("redeem-{i}"),
                RedeemPoints {
                    volunteer_id: v,
                    points: Decimal::from(10),
                    item: "大米".into(),
                }
                .into(),
            )
            .await
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.code(), "INSUFFICIENT_POINTS", "{e}");
                refused += 1;
            }
        }
    }
    assert_eq!((ok, refused), (10, 54));
    let state = replay_volunteer(w.handler.store(), v).await;
    assert_eq!(state.points, Points::ZERO);
}

async fn idempotency(store: Store) {
    let w = world(store).await;
    let v = w.volunteer("v").await;
    let cmd = AwardPoints {
        volunteer_id: v,
        points: Decimal::new(1250, 2),
        reason: "楼道清理".into(),
    };
    let first = w.handler.run(&w.staff, "k1", cmd.clone()).await.unwrap();
    assert!(!first.replayed);
    assert_eq!(first.result.points_balance.to_string(), "12.50");
    let head = w.handler.store().head().await.unwrap();
    // a retry, also through a fresh handler (another process), returns the same result
    let again = w.handler.run(&w.staff, "k1", cmd.clone()).await.unwrap();
    let other = CommandHandler::with_clock(w.handler.store().clone(), clock());
    let again2 = other.run(&w.staff, "k1", cmd).await.unwrap();
    for r in [&again, &again2] {
        assert!(r.replayed);
        assert_eq!(r.result, first.result);
        assert_eq!(r.position, first.position);
    }
    assert_eq!(
        w.handler.store().head().await.unwrap(),
        head,
        "a retry writes nothing"
    );
    let different: Command = AwardPoints {
        volunteer_id: v,
        points: Decimal::from(13),
        reason: "楼道清理".into(),
    }
    .into();
    let err = w
        .handler
        .execute(&w.staff, "k1", different)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_MISMATCH");
    assert_eq!(w.handler.store().head().await.unwrap(), head);
    // A key is its caller's own: someone else repeating the command with the same key
    // is refused as they would be without it, and never sees the stored result…
    let stranger = Actor::staff(Uuid::from_u128(77), CommunityId(Uuid::from_u128(78)));
    let err = w
        .handler
        .run(&stranger, "k1", cmd_again(v))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    // … and another member of staff may use the same key for a command of their own.
    let colleague = Actor::staff(Uuid::from_u128(79), w.community);
    let theirs = w.handler.run(&colleague, "k1", cmd_again(v)).await.unwrap();
    assert!(!theirs.replayed);
    assert_eq!(theirs.result.points_balance.to_string(), "25.00");
}

fn cmd_again(v: VolunteerId) -> AwardPoints {
    AwardPoints {
        volunteer_id: v,
        points: Decimal::new(1250, 2),
        reason: "楼道清理".into(),
    }
}

async fn wish_lifecycle_and_personal_data(store: Store) {
    let w = world(store).await;
    let v = w.volunteer("v").await;
    let person = w.handler.store().get_person(v.0).await.unwrap().unwrap();
    assert_eq!(person.name, "志愿者v");
    let me = Actor::volunteer(v, w.community);
    let posted = w
        .handler
        .run(
            &w.staff,
            "wish",
            PostWish {
                community_id: w.community,
                stairwell_id: w.stairwell,
                category: "陪伴".into(),
                description: "陪老人聊天".into(),
                resident_label: "5单元".into(),
            },
        )
        .await
        .unwrap();
    let wish: WishId = posted.result.wish_id;
    w.handler
        .execute(
            &me,
            "claim",
            ClaimWish {
                wish_id: wish,
                volunteer_id: v,
            }
            .into(),
        )
        .await
        .unwrap();
    w.handler
        .execute(
            &me,
            "fulfil",
            FulfilWish {
                wish_id: wish,
                volunteer_id: v,
                hours: Decimal::new(15, 1),
                note: String::new(),
                fulfilled_at: None,
            }
            .into(),
        )
        .await
        .unwrap();
    // a volunteer cannot confirm
    assert_eq!(
        w.handler
            .execute(&me, "confirm-me", ConfirmWish { wish_id: wish }.into())
            .await
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
    let confirmed = w
        .handler
        .run(&w.staff, "confirm", ConfirmWish { wish_id: wish })
        .await
        .unwrap();
    assert_eq!(confirmed.events, 3);
    assert_eq!(confirmed.result.points.to_string(), "15.00");
    // One command, three events in two streams: one cause, named in each.
    let last = w
        .handler
        .store()
        .read_all(confirmed.position - 3, 10)
        .await
        .unwrap();
    assert_eq!(last.len(), 3);
    let cause = last[0].metadata.causation_id.expect("a cause");
    assert!(last.iter().all(|e| e.metadata.causation_id == Some(cause)
        && e.metadata.idempotency_key.as_deref() == Some("confirm")
        && e.metadata.actor == Some(w.staff.principal)));
    assert_ne!(last[0].stream_id, last[2].stream_id);
    let state = replay_volunteer(w.handler.store(), v).await;
    assert_eq!(
        (state.points, state.hours),
        (Points::whole(15), Hours::from_minutes(90))
    );
    // the log holds no personal data
    let all = w.handler.store().read_all(0, 10_000).await.unwrap();
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains("志愿者v")
            && !text.contains("13812345678")
            && !text.contains(&id_number_of("v"))
    );
    // unknown references are NOT_FOUND, and nothing is written
    let head = w.handler.store().head().await.unwrap();
    let err = w
        .handler
        .execute(
            &w.staff,
            "nf",
            ClaimWish {
                wish_id: WishId(Uuid::nil()),
                volunteer_id: v,
            }
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    let err = w
        .handler
        .execute(
            &me,
            "future",
            LogService {
                volunteer_id: v,
                kind: ServiceKind::Patrol,
                started_at: Utc::now() + chrono::Duration::days(400),
                hours: Decimal::ONE,
                place: String::new(),
                note: String::new(),
            }
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(w.handler.store().head().await.unwrap(), head);
}

/// The text of the command records (what the idempotency table keeps).
async fn command_log_text(store: &Store) -> String {
    let rows: Vec<String> = match store {
        Store::Sqlite(s) => sqlx::query_scalar("SELECT command FROM command_log")
            .fetch_all(s.pool())
            .await
            .unwrap(),
        Store::Postgres(s) => sqlx::query_scalar("SELECT command::text FROM command_log")
            .fetch_all(s.pool())
            .await
            .unwrap(),
    };
    rows.join("\n")
}

async fn erasure(store: Store) {
    let w = world(store).await;
    let v = w.volunteer("v").await;
    let other = w.volunteer("w").await;
    w.award(v, 30, "a1").await;
    w.handler
        .execute(
            &w.staff,
            "mv",
            MoveVolunteer {
                volunteer_id: v,
                stairwell_id: w.stairwell,
                household: Some("5-1-101".into()),
            }
            .into(),
        )
        .await
        .unwrap();
    let store = w.handler.store().clone();
    let before = command_log_text(&store).await;
    assert!(!before.contains("5-1-101"), "{before}");
    assert_eq!(before.matches("sha256:").count(), 7, "{before}");
    let erase = |v| ErasePersonalData { volunteer_id: v };
    // Only admin and the community's staff erase.
    for actor in [
        Actor::volunteer(v, w.community),
        Actor::display(Uuid::from_u128(90)),
        Actor::staff(Uuid::from_u128(91), CommunityId(Uuid::from_u128(92))),
    ] {
        let err = w.handler.run(&actor, "e", erase(v)).await.unwrap_err();
        assert_eq!(err.code(), "FORBIDDEN");
    }
    assert!(store.get_person(v.0).await.unwrap().is_some());
    let head = store.head().await.unwrap();
    let done = w.handler.run(&w.staff, "e", erase(v)).await.unwrap();
    assert!(done.result.erased);
    assert_eq!(done.events, 1);
    assert_eq!(done.position, head + 1);
    // The person is gone, and so are the salted hashes of their name, phone, ID number
    // and household that their registration's and move's command records kept; the
    // other volunteer's stay.
    assert!(store.get_person(v.0).await.unwrap().is_none());
    assert!(store.get_person(other.0).await.unwrap().is_some());
    let after = command_log_text(&store).await;
    assert_eq!(after.matches("sha256:").count(), 3, "{after}");
    // The erasure is in the log, naming nobody; the account is intact.
    let last = store.read_all(head, 10).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].event_type, "PersonalDataErased");
    assert_eq!(last[0].stream_id, volunteer_stream(v));
    let state = replay_volunteer(&store, v).await;
    assert!(state.personal_data_erased);
    assert_eq!(state.points, Points::whole(30));
    // A retry answers the same; erasing again writes nothing.
    let again = w.handler.run(&w.staff, "e", erase(v)).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.position, done.position);
    let twice = w.handler.run(&w.staff, "e2", erase(v)).await.unwrap();
    assert!(!twice.result.erased);
    assert_eq!(twice.events, 0);
    assert_eq!(store.head().await.unwrap(), head + 1);
    // An unknown volunteer is NOT_FOUND.
    let err = w
        .handler
        .run(&w.staff, "e3", erase(VolunteerId(Uuid::nil())))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
}

async fn failed_registration_leaves_no_personal_data(store: Store) {
    let w = world(store).await;
    // Personal data is stored before the append; an attempt that then failed (a crash,
    // or a refusal on a retry) must not leave it behind.
    let key = "reg";
    let id = VolunteerId(CommandHandler::ids_for(&w.staff, key).id("volunteer"));
    let person = ledger::store::Person {
        volunteer_id: id.0,
        name: "李四".into(),
        phone: Some("13900001111".into()),
        id_number: None,
    };
    w.handler.store().put_person(&person).await.unwrap();
    let err = w
        .handler
        .execute(
            &w.staff,
            key,
            RegisterVolunteer {
                community_id: w.community,
                name: "李四".into(),
                phone: Some("13900001111".into()),
                id_number: None,
                stairwell_id: StairwellId(Uuid::nil()),
                tags: vec![],
                teams: vec![],
                household: None,
            }
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    assert!(w.handler.store().get_person(id.0).await.unwrap().is_none());
    // A registered volunteer's data is never touched by a refused retry.
    let v = w.volunteer("v").await;
    let err = w
        .handler
        .execute(
            &w.staff,
            "v",
            RegisterVolunteer {
                community_id: w.community,
                name: "别人".into(),
                phone: None,
                id_number: None,
                stairwell_id: w.stairwell,
                tags: vec![],
                teams: vec![],
                household: None,
            }
            .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_MISMATCH");
    assert!(w.handler.store().get_person(v.0).await.unwrap().is_some());
    // A registration whose process stopped after storing the person, ten minutes ago,
    // does not hold its ID number for ever: the next registration of it goes through.
    let store = w.handler.store();
    let (orphan, n) = (Uuid::new_v4(), id_number_of("orphan"));
    let person = ledger::store::Person {
        volunteer_id: orphan,
        name: "王五".into(),
        phone: None,
        id_number: Some(n.clone()),
    };
    store.put_person(&person).await.unwrap();
    let ten_minutes_ago = chrono::Utc::now() - chrono::Duration::minutes(10);
    match store {
        Store::Sqlite(s) => {
            sqlx::query("UPDATE persons SET updated_at = ?1 WHERE volunteer_id = ?2")
                .bind(ten_minutes_ago)
                .bind(orphan.to_string())
                .execute(s.pool())
                .await
                .unwrap()
                .rows_affected()
        }
        Store::Postgres(s) => {
            sqlx::query("UPDATE persons SET updated_at = $1 WHERE volunteer_id = $2")
                .bind(ten_minutes_ago)
                .bind(orphan)
                .execute(s.pool())
                .await
                .unwrap()
                .rows_affected()
        }
    };
    let registered = w
        .handler
        .run(
            &w.staff,
            "after-an-abandoned-one",
            RegisterVolunteer {
                community_id: w.community,
                name: "王五".into(),
                phone: None,
                id_number: Some(n.clone()),
                stairwell_id: w.stairwell,
                tags: vec![],
                teams: vec![],
                household: None,
            },
        )
        .await
        .unwrap();
    assert!(store.get_person(orphan).await.unwrap().is_none());
    assert_eq!(
        store.person_with_id_number(&n).await.unwrap(),
        Some(registered.result.volunteer_id.0)
    );
}

/// Households: the log carries a pseudonym keyed by the deployment key (kept beside the
/// log, the same for every handler and process on the database), never the room number;
/// the same label in the same stairwell is the same household, in a move too.
async fn households_are_pseudonymous(store: Store) {
    let w = world(store.clone()).await;
    let register = |key: &'static str, household: &'static str| RegisterVolunteer {
        community_id: w.community,
        name: format!("住户{key}"),
        phone: None,
        id_number: None,
        stairwell_id: w.stairwell,
        tags: vec![],
        teams: vec![],
        household: Some(household.into()),
    };
    let mut ids = Vec::new();
    for (key, h) in [("h1", "3-2-201"), ("h2", " 3-2-201"), ("h3", "3-2-202")] {
        let r = w
            .handler
            .run(&w.staff, key, register(key, h))
            .await
            .unwrap();
        ids.push(r.result.volunteer_id);
    }
    // Another handler (on PostgreSQL another store, as another process) moves the third
    // into the first one's household.
    let other = CommandHandler::with_clock(ledger::testing::another_store(&store).await, clock());
    other
        .execute(
            &w.staff,
            "mv",
            MoveVolunteer {
                volunteer_id: ids[2],
                stairwell_id: w.stairwell,
                household: Some("3-2-201".into()),
            }
            .into(),
        )
        .await
        .unwrap();
    let households: Vec<Option<String>> = {
        let mut out = Vec::new();
        for v in &ids {
            out.push(replay_volunteer(&store, *v).await.household);
        }
        out
    };
    let first = households[0].clone().expect("a household");
    assert!(first.starts_with("hh-"), "{first}");
    assert_eq!(households, vec![Some(first.clone()); 3]);
    let key = store.deployment_key("household").await.unwrap();
    assert!(key.len() >= 64, "a 256-bit key");
    assert_eq!(
        ledger::domain::volunteer::HouseholdKey::new(&key).pseudonym(w.stairwell, "3-2-201"),
        first
    );
    let log = serde_json::to_string(&store.read_all(0, 10_000).await.unwrap()).unwrap();
    assert!(!log.contains("3-2-20"), "a room number in the log");
    assert!(!log.contains(&key), "the key in the log");
}

async fn corrections(store: Store) {
    let w = world(store).await;
    let v = w.volunteer("v").await;
    let store = w.handler.store().clone();
    let fix = |phone: &str| CorrectPersonalData {
        volunteer_id: v,
        name: "王秀英".into(),
        phone: Some(phone.into()),
        id_number: Some(" ".into()),
    };
    let head = store.head().await.unwrap();
    let first = w
        .handler
        .run(&w.staff, "fix1", fix("13900000001"))
        .await
        .unwrap();
    assert_eq!(first.position, head + 1);
    let p = store.get_person(v.0).await.unwrap().unwrap();
    assert_eq!(
        (p.name.as_str(), p.phone.as_deref(), p.id_number.as_deref()),
        ("王秀英", Some("13900000001"), None)
    );
    // The log and the command records keep no value of it.
    let log = serde_json::to_string(&store.read_all(head, 10).await.unwrap()).unwrap();
    assert!(
        log.contains("PersonalDataCorrected") && !log.contains("13900000001"),
        "{log}"
    );
    assert!(!command_log_text(&store).await.contains("13900000001"));
    // A later correction, then a retry of the first: the retry replays and does not
    // write the older data back.
    w.handler
        .run(&w.staff, "fix2", fix("13900000002"))
        .await
        .unwrap();
    let again = w
        .handler
        .run(&w.staff, "fix1", fix("13900000001"))
        .await
        .unwrap();
    assert!(again.replayed);
    let p = store.get_person(v.0).await.unwrap().unwrap();
    assert_eq!(p.phone.as_deref(), Some("13900000002"));
    // A correction refused by the rules leaves the data as it was.
    let err = w
        .handler
        .run(
            &w.staff,
            "fix3",
            CorrectPersonalData {
                volunteer_id: v,
                name: "王秀英".into(),
                phone: Some("1".repeat(30)),
                id_number: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(
        store
            .get_person(v.0)
            .await
            .unwrap()
            .unwrap()
            .phone
            .as_deref(),
        Some("13900000002")
    );
    // Erased: the salted hashes of the corrections go too, and no correction brings
    // the data back.
    w.handler
        .run(&w.staff, "erase", ErasePersonalData { volunteer_id: v })
        .await
        .unwrap();
    assert!(!command_log_text(&store).await.contains("sha256:"));
    let err = w
        .handler
        .run(&w.staff, "fix4", fix("13900000004"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_STATE");
    assert!(store.get_person(v.0).await.unwrap().is_none());
}

async fn award_to_many(store: Store) {
    let w = world(store).await;
    let vs = [
        w.volunteer("a").await,
        w.volunteer("b").await,
        w.volunteer("c").await,
    ];
    let store = w.handler.store().clone();
    let head = store.head().await.unwrap();
    let cmd = AwardPointsToMany {
        volunteer_ids: vs.to_vec(),
        points: Decimal::from(5),
        reason: "楼道清扫".into(),
    };
    let done = w.handler.run(&w.staff, "many", cmd.clone()).await.unwrap();
    // One append: three events, consecutive positions, one per account.
    assert_eq!(done.events, 3);
    assert_eq!(done.position, head + 3);
    assert_eq!(done.result.awards.len(), 3);
    for v in vs {
        assert_eq!(replay_volunteer(&store, v).await.points, Points::whole(5));
    }
    let again = w.handler.run(&w.staff, "many", cmd).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.result, done.result);
    assert_eq!(store.head().await.unwrap(), head + 3);
    // One departed volunteer: nobody gets the award.
    w.handler
        .run(
            &w.staff,
            "dep",
            DepartVolunteer {
                volunteer_id: vs[2],
                reason: "搬走".into(),
            },
        )
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    let err = w
        .handler
        .run(
            &w.staff,
            "many2",
            AwardPointsToMany {
                volunteer_ids: vs.to_vec(),
                points: Decimal::from(5),
                reason: "再次".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_STATE");
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(
        replay_volunteer(&store, vs[0]).await.points,
        Points::whole(5)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corrections_of_personal_data_stay_beside_the_log() {
    ledger::for_each_backend!(|store| corrections(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_award_to_many_is_one_append() {
    ledger::for_each_backend!(|store| award_to_many(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn households_are_pseudonyms_in_the_log() {
    ledger::for_each_backend!(|store| households_are_pseudonymous(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn erasing_personal_data_is_recorded_and_leaves_nothing_behind() {
    ledger::for_each_backend!(|store| erasure(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_registration_leaves_no_personal_data() {
    ledger::for_each_backend!(|store| failed_registration_leaves_no_personal_data(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_claims_one_winner() {
    ledger::for_each_backend!(|store| claim_race(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_redemptions_never_overdraw() {
    ledger::for_each_backend!(|store| redeem_race(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_are_idempotent() {
    ledger::for_each_backend!(|store| idempotency(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wish_confirmation_records_service_atomically() {
    ledger::for_each_backend!(|store| wish_lifecycle_and_personal_data(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_handlers_on_one_store_do_not_overdraw() {
    // two handlers (as two processes would) share no locks: conflicts are retried
    ledger::for_each_backend!(|store| {
        let w = world(store).await;
        let v = w.volunteer("v").await;
        w.award(v, 50, "award").await;
        let other = CommandHandler::with_clock(w.handler.store().clone(), clock());
        let mut tasks = Vec::new();
        for i in 0..20 {
            let h = if i % 2 == 0 {
                w.handler.clone()
            } else {
                other.clone()
            };
            let staff = w.staff.clone();
            tasks.push(tokio::spawn(async move {
                h.execute(
                    &staff,
                    &format!("r{i}"),
                    RedeemPoints {
                        volunteer_id: v,
                        points: Decimal::from(10),
                        item: "油".into(),
                    }
                    .into(),
                )
                .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 5);
        assert_eq!(
            replay_volunteer(w.handler.store(), v).await.points,
            Points::ZERO
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_is_deterministic_and_replayable() {
    let (store, _dir) = ledger::testing::sqlite_store().await;
    let handler = CommandHandler::with_clock(store.clone(), clock());
    let opts = ledger::demo::DemoOptions {
        volunteers: 30,
        events: 1500,
        seed: 7,
        communities: 1,
        concurrency: 16,
        activities: 4,
    };
    let summary = ledger::demo::generate(&handler, opts.clone(), |_| {})
        .await
        .unwrap();
    assert!(summary.events_written >= 1500);
    let head = store.head().await.unwrap();
    assert_eq!(head, summary.events_written);
    let types: std::collections::BTreeSet<String> = store
        .read_all(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event_type)
        .collect();
    for t in [
        "ServiceVerified",
        "ServiceRejected",
        "PointsRedeemed",
        "WishConfirmed",
        "StairwellInspected",
        "HoursSpent",
        "PointRulesSet",
    ] {
        assert!(types.contains(t), "demo wrote no {t}: {types:?}");
    }
    // the same seed again: everything replays, nothing is written
    let again = ledger::demo::generate(
        &CommandHandler::with_clock(store.clone(), clock()),
        opts.clone(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(again.community_ids, summary.community_ids);
    assert_eq!(store.head().await.unwrap(), head);
    // the same seed on another database: the same streams with the same events
    let (store2, _dir2) = ledger::testing::sqlite_store().await;
    let other = ledger::demo::generate(
        &CommandHandler::with_clock(store2.clone(), clock()),
        opts,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(other.community_ids, summary.community_ids);
    let by_stream = |events: Vec<ledger::store::RecordedEvent>| {
        let mut m: std::collections::BTreeMap<(String, u64), (Uuid, serde_json::Value)> =
            Default::default();
        for r in events {
            m.insert((r.stream_id, r.stream_version), (r.event_id, r.payload));
        }
        m
    };
    assert_eq!(
        by_stream(store.read_all(0, 100_000).await.unwrap()),
        by_stream(store2.read_all(0, 100_000).await.unwrap())
    );
}

/// The database of the release before typed command results (see
/// `tests/fixtures/release-0.1` at the workspace root): every command record it kept
/// reads as its command's typed result and writes back as the same JSON, every command
/// is among them, and its demo history, generated again with the same options, replays
/// every command and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_of_the_earlier_release_read_as_typed_results() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/release-0.1");
    let dir = ledger::testing::TempDir::new();
    let path = dir.path().join("timebank.db");
    std::fs::copy(fixture.join("timebank.db"), &path).unwrap();
    let replies: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("replies.json")).unwrap())
            .unwrap();
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let pool = store.sqlite_pool().unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT command, result FROM command_log")
        .fetch_all(pool)
        .await
        .unwrap();
    let mut names = std::collections::BTreeSet::new();
    for (command, result) in &rows {
        let command: serde_json::Value = serde_json::from_str(command).unwrap();
        let result: serde_json::Value = serde_json::from_str(result).unwrap();
        let name = command["type"].as_str().unwrap();
        let outcome = Outcome::from_json(name, result.clone())
            .unwrap_or_else(|e| panic!("{name}: {e} in {result}"))
            .unwrap_or_else(|| panic!("{name} is no command"));
        assert_eq!(outcome.command_name(), name);
        assert_eq!(outcome.to_json().unwrap(), result, "{name}");
        names.insert(name.to_string());
    }
    assert_eq!(names.len(), 30, "{names:?}");
    let head = store.head().await.unwrap();
    let demo = &replies["demo"];
    let opts = ledger::demo::DemoOptions {
        volunteers: demo["volunteers"].as_u64().unwrap(),
        events: demo["events"].as_u64().unwrap(),
        seed: demo["seed"].as_u64().unwrap(),
        communities: demo["communities"].as_u64().unwrap(),
        concurrency: 16,
        // that release had no activities
        activities: 0,
    };
    let summary = ledger::demo::generate(&CommandHandler::new(store.clone()), opts, |_| {})
        .await
        .unwrap();
    assert!(summary.events_written >= 800);
    assert_eq!(store.head().await.unwrap(), head, "the demo replays");
}
