//! Activities over HTTP, on both backends: the race for the last places; a volunteer
//! signing up, checking in with the organiser's code and being throttled after wrong
//! ones; what the roster shows to staff, the volunteer and the hall display; an
//! approval under a 公示 notice with the pending hours on the volunteer and an
//! objection upheld by a correction.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::Arc;

const POST: &str = "mutation($k: String!, $c: ID!, $s: DateTime!, $e: DateTime!, $n: Int!) { postActivity(idempotencyKey: $k, communityId: $c, title: \"北门巡逻\", kind: PATROL, place: \"小区北门\", startsAt: $s, endsAt: $e, places: $n) { activityId position } }";
const REGISTER: &str = "mutation($k: String!, $c: ID!, $s: ID!, $n: String!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n, phone: \"13812345678\") { volunteerId } }";

/// An activity starting in `start_min` minutes, lasting an hour.
async fn post(s: &Server, c: &Community, start_min: i64, places: i64) -> String {
    let start = chrono::Utc::now() + chrono::Duration::minutes(start_min);
    s.ok(
        &c.staff,
        POST,
        json!({"k": key(), "c": c.id, "s": start.to_rfc3339(), "e": (start + chrono::Duration::hours(1)).to_rfc3339(), "n": places}),
    )
    .await["postActivity"]["activityId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eighty_sign_ups_for_thirty_places_over_http() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Arc::new(Server::start(store).await);
        let c = seed(&s).await;
        let mut volunteers = Vec::new();
        for i in 0..80 {
            let d = s
                .ok(
                    &c.staff,
                    REGISTER,
                    json!({"k": key(), "c": c.id, "s": c.stairwell, "n": format!("志愿者{i}")}),
                )
                .await;
            volunteers.push(
                d["registerVolunteer"]["volunteerId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        let a = post(&s, &c, 60 * 24, 30).await;
        let sign = "mutation($k: String!, $a: ID!, $v: ID) { signUp(idempotencyKey: $k, activityId: $a, volunteerId: $v) { waitingRank position } }";
        let tasks: Vec<_> = volunteers
            .iter()
            .map(|v| {
                let (s, staff, vars) = (
                    s.clone(),
                    c.staff.clone(),
                    json!({"k": key(), "a": a, "v": v}),
                );
                tokio::spawn(async move { s.gql(Some(&staff), sign, vars).await })
            })
            .collect();
        let (mut won, mut full) = (0, 0);
        for t in tasks {
            let (status, body) = t.await.unwrap();
            assert_eq!(status, 200);
            match code(&body).as_str() {
                "" => won += 1,
                "ACTIVITY_FULL" => full += 1,
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!((won, full), (30, 50));
        let head = s.head().await;
        let d = s
            .ok(&c.staff, "query($a: ID!, $p: Int) { activity(id: $a, atLeast: $p) { taken waiting roster { signup } } }", json!({"a": a, "p": head}))
            .await;
        assert_eq!(d["activity"]["taken"], 30);
        assert_eq!(d["activity"]["roster"].as_array().unwrap().len(), 30);
        if let Ok(s) = Arc::try_unwrap(s) {
            s.stop().await;
        }
    }
}

fn roster_of(d: &Value) -> &Vec<Value> {
    d["activity"]["roster"].as_array().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_volunteer_signs_up_and_checks_in_with_the_code() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let a = post(&s, &c, 10, 5).await;
        // The volunteer signs up for themself.
        let d = s
            .ok(&c.vol1, "mutation($k: String!, $a: ID!) { signUp(idempotencyKey: $k, activityId: $a) { volunteerId waitingRank } }", json!({"k": key(), "a": a}))
            .await;
        assert_eq!(d["signUp"]["volunteerId"], c.v1.as_str());
        assert_eq!(d["signUp"]["waitingRank"], Value::Null);
        // Only staff see the code.
        let (_, body) = s
            .gql(
                Some(&c.vol1),
                "query($a: ID!) { activityCheckInCode(activityId: $a) { code } }",
                json!({"a": a}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        let shown = s
            .ok(
                &c.staff,
                "query($a: ID!) { activityCheckInCode(activityId: $a) { code changesAt link } }",
                json!({"a": a}),
            )
            .await;
        let the_code = shown["activityCheckInCode"]["code"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(the_code.len(), 6);
        assert!(shown["activityCheckInCode"]["link"]
            .as_str()
            .unwrap()
            .ends_with(&format!("code={the_code}")));
        let check_in = "mutation($k: String!, $a: ID!, $code: String) { checkIn(idempotencyKey: $k, activityId: $a, code: $code) { at walkIn } }";
        // A volunteer without the code is told what is missing.
        let (_, body) = s
            .gql(Some(&c.vol1), check_in, json!({"k": key(), "a": a}))
            .await;
        assert_eq!(code(&body), "INVALID_INPUT");
        let wrong = if the_code == "000000" {
            "000001"
        } else {
            "000000"
        };
        for _ in 0..5 {
            let (_, body) = s
                .gql(
                    Some(&c.vol2),
                    check_in,
                    json!({"k": key(), "a": a, "code": wrong}),
                )
                .await;
            assert_eq!(code(&body), "WRONG_CODE", "{body}");
        }
        let (_, body) = s
            .gql(
                Some(&c.vol2),
                check_in,
                json!({"k": key(), "a": a, "code": the_code}),
            )
            .await;
        assert_eq!(
            code(&body),
            "TOO_MANY_ATTEMPTS",
            "throttled, the right code too"
        );
        let d = s
            .ok(
                &c.vol1,
                check_in,
                json!({"k": key(), "a": a, "code": the_code}),
            )
            .await;
        assert_eq!(d["checkIn"]["walkIn"], false);
        let (_, body) = s
            .gql(
                Some(&c.vol1),
                check_in,
                json!({"k": key(), "a": a, "code": the_code}),
            )
            .await;
        assert_eq!(code(&body), "ALREADY_CHECKED_IN");
        // What each sees of the roster.
        let head = s.head().await;
        let q = "query($a: ID!, $p: Int) { activity(id: $a, atLeast: $p) { checkedIn me { signup checkedInAt } roster { volunteerId name signup checkedInAt } } }";
        let staff = s.ok(&c.staff, q, json!({"a": a, "p": head})).await;
        assert_eq!(staff["activity"]["checkedIn"], 1);
        assert_eq!(
            staff["activity"]["me"],
            Value::Null,
            "staff have no place of their own"
        );
        let name = roster_of(&staff)[0]["name"].as_str().unwrap().to_string();
        let mine = s.ok(&c.vol1, q, json!({"a": a, "p": head})).await;
        assert_eq!(mine["activity"]["me"]["signup"], "PLACE");
        assert!(mine["activity"]["me"]["checkedInAt"].is_string());
        let hall = s.ok(&c.display, q, json!({"a": a, "p": head})).await;
        let shown_name = roster_of(&hall)[0]["name"].as_str().unwrap();
        assert_ne!(shown_name, name, "the hall display shortens names");
        assert!(name.starts_with(shown_name.chars().next().unwrap()));
        let (_, body) = s
            .gql(Some(&c.other_staff), q, json!({"a": a, "p": head}))
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        // The community's activities of the day.
        let list = s
            .ok(&c.vol1, "query($c: ID!, $p: Int) { activities(communityId: $c, atLeast: $p) { id title status taken } }", json!({"c": c.id, "p": head}))
            .await;
        assert_eq!(list["activities"][0]["id"], a.as_str());
        assert_eq!(list["activities"][0]["status"], "OPEN");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_under_a_notice_shows_pending_hours_and_takes_objections() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        s.ok(&s.admin, "mutation($k: String!, $c: ID!) { setActivityRules(idempotencyKey: $k, communityId: $c, timeUnitMinutes: 30, lateRecordDays: 30, noticeDays: 3, effectiveFrom: \"2000-01-01\") { version } }", json!({"k": key(), "c": c.id})).await;
        let a = ended_activity(&s, &c, &c.v1).await;
        // Checked in 5 minutes after the start, no check-out: 55 minutes → 30.
        let d = s
            .ok(&c.staff, "mutation($k: String!, $a: ID!) { approveAttendance(idempotencyKey: $k, activityId: $a) { records finalRecords hours points noticeUntil position } }", json!({"k": key(), "a": a}))
            .await;
        let approval = &d["approveAttendance"];
        assert_eq!(
            (
                approval["records"].clone(),
                approval["finalRecords"].clone()
            ),
            (json!(1), json!(0))
        );
        assert_eq!(
            (approval["hours"].clone(), approval["points"].clone()),
            (json!("0.50"), json!("5.00"))
        );
        assert!(approval["noticeUntil"].is_string());
        let p = approval["position"].as_u64().unwrap();
        let mine = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { hours points } pending { hours points } } }";
        let v = s.ok(&c.vol1, mine, json!({"v": c.v1, "p": p})).await;
        assert_eq!(
            v["volunteer"]["pending"],
            json!({"hours": "0.50", "points": "5.00"})
        );
        assert_eq!(
            v["volunteer"]["balance"],
            json!({"hours": "0.00", "points": "0.00"}),
            "not spendable before final"
        );
        // A neighbour objects; staff uphold it by correcting the record.
        let o = s
            .ok(&c.vol2, "mutation($k: String!, $a: ID!, $v: ID!) { raiseObjection(idempotencyKey: $k, activityId: $a, volunteerId: $v, reason: \"时长不实\") { objectionId } }", json!({"k": key(), "a": a, "v": c.v1}))
            .await["raiseObjection"]["objectionId"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, body) = s
            .gql(Some(&c.staff), "mutation($k: String!, $a: ID!, $o: ID!) { resolveObjection(idempotencyKey: $k, activityId: $a, objectionId: $o, verdict: CORRECT, reason: \"核实\") { position } }", json!({"k": key(), "a": a, "o": o}))
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "a correction names the hours");
        let r = s
            .ok(&c.staff, "mutation($k: String!, $a: ID!, $o: ID!) { resolveObjection(idempotencyKey: $k, activityId: $a, objectionId: $o, verdict: CORRECT, hours: \"0.25\", reason: \"核实签到\") { position } }", json!({"k": key(), "a": a, "o": o}))
            .await;
        let p = r["resolveObjection"]["position"].as_u64().unwrap();
        let d = s
            .ok(&c.staff, "query($a: ID!, $p: Int) { activity(id: $a, atLeast: $p) { status pending noticeUntil objections { open decision correctedHours resolution } roster { record source hours points checkoutMissing } } }", json!({"a": a, "p": p}))
            .await;
        let act = &d["activity"];
        assert_eq!(
            (act["status"].clone(), act["pending"].clone()),
            (json!("APPROVED"), json!(1))
        );
        assert_eq!(
            act["objections"][0],
            json!({"open": false, "decision": "CORRECTED", "correctedHours": "0.25", "resolution": "核实签到"})
        );
        assert_eq!(
            act["roster"][0],
            json!({"record": "PENDING", "source": "ATTENDANCE", "hours": "0.25", "points": "2.50", "checkoutMissing": true})
        );
        // Nothing is due before the notice has passed.
        let (_, body) = s
            .gql(Some(&c.staff), "mutation($k: String!, $a: ID!) { finaliseAttendance(idempotencyKey: $k, activityId: $a) { finalRecords } }", json!({"k": key(), "a": a}))
            .await;
        assert_eq!(code(&body), "NOTHING_DUE");
        s.stop().await;
    }
}

/// The server's finality task: after the notice, records no open objection holds are
/// made final and credited; two processes trying at once make them final once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_makes_records_final_when_their_notice_has_passed() {
    use ledger::command::*;
    use ledger::ids::*;
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let start = chrono::Utc::now() - chrono::Duration::days(10);
        let clock = Arc::new(FixedClock::new(start - chrono::Duration::days(1)));
        let h = CommandHandler::with_clock(store.clone(), clock.clone());
        let admin = Actor::admin(uuid::Uuid::new_v4());
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
                effective_from: chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            },
        )
        .await
        .unwrap();
        let mut v = Vec::new();
        for i in 0..2 {
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
                h.run(&admin, &format!("v{i}"), r)
                    .await
                    .unwrap()
                    .result
                    .volunteer_id,
            );
        }
        let post = PostActivity {
            community_id: c,
            title: "巡逻".into(),
            kind: ledger::event::ServiceKind::Patrol,
            place: "北门".into(),
            starts_at: start,
            ends_at: start + chrono::Duration::hours(1),
            places: 5,
            signup_deadline: None,
            eligibility: Default::default(),
            walk_ins: true,
        };
        let a = h.run(&admin, "a", post).await.unwrap().result.activity_id;
        clock.set(start);
        for (i, vi) in v.iter().enumerate() {
            h.run(
                &admin,
                &format!("in{i}"),
                CheckIn {
                    activity_id: a,
                    volunteer_id: *vi,
                    code: None,
                },
            )
            .await
            .unwrap();
        }
        clock.set(start + chrono::Duration::hours(2));
        h.run(
            &admin,
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
            &admin,
            "obj",
            RaiseObjection {
                activity_id: a,
                volunteer_id: v[1],
                reason: "时长不实".into(),
            },
        )
        .await
        .unwrap();
        let p = projections::start(store.clone()).await;
        let caught_up = || {
            let (p, store) = (p.clone(), store.clone());
            async move {
                let head = store.head().await.unwrap();
                p.wait_for(head, std::time::Duration::from_secs(20))
                    .await
                    .unwrap();
            }
        };
        caught_up().await;
        // Before the end of the notice nothing is due.
        assert!(api::finality::finalise_due(&h, &p)
            .await
            .unwrap()
            .is_empty());
        // After it, two processes at once: v0's record is made final once; v1's waits
        // for its objection.
        clock.set(start + chrono::Duration::days(3) + chrono::Duration::hours(3));
        let other_store = ledger::testing::another_store(&store).await;
        let other = CommandHandler::with_clock(other_store, clock.clone());
        let (x, y) = tokio::join!(
            api::finality::finalise_due(&h, &p),
            api::finality::finalise_due(&other, &p)
        );
        let made: u32 = x
            .unwrap()
            .iter()
            .chain(y.unwrap().iter())
            .map(|(_, n)| n)
            .sum();
        assert_eq!(made, 1);
        let finals = store
            .read_stream(&activity_stream(a), 0)
            .await
            .unwrap()
            .iter()
            .filter(|r| r.event_type == "AttendanceFinalised")
            .count();
        assert_eq!(finals, 1);
        caught_up().await;
        assert!(api::finality::finalise_due(&h, &p)
            .await
            .unwrap()
            .is_empty());
        let b = projections::balances::balance(p.db(), v[0])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.verified_hours, rust_decimal::Decimal::ONE);
        let b = projections::balances::balance(p.db(), v[1])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.verified_hours, rust_decimal::Decimal::ZERO);
        p.shutdown().await.unwrap();
    }
}
