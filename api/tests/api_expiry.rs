//! Points expiry (积分有效期) on both backends: an administrator sets the rule over
//! HTTP; points credited (here by a handler whose clock stood weeks ago) are dated by
//! it; the server's expiry pass, run by two processes at once on the real "today",
//! expires what is left of the credit due (oldest spent first) once; the balance, the
//! statement, the inbox and the 90-day preview say so; a second pass finds nothing.

mod common;

use common::*;
use ledger::command::*;
use ledger::ids::VolunteerId;
use serde_json::json;
use std::sync::Arc;

const ACCOUNT: &str = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) {
    balance { points hours } totals { pointsExpired }
    pointsExpiring(days: 90) { total days { on points } } }
    statement(volunteerId: $v, first: 10, newestFirst: true, atLeast: $p) { entries { kind pointsDelta } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn points_expire_on_their_day_once_and_every_view_says_so() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store.clone()).await;
        let c = seed(&s).await;
        // The rule: one month, on the day (staff may not set it).
        let set = "mutation($k: String!, $c: ID!) { setPointsExpiry(idempotencyKey: $k, communityId: $c, validMonths: 1, rounding: DAY, effectiveFrom: \"2000-01-01\") { version } }";
        let (_, body) = s
            .gql(Some(&c.staff), set, json!({"k": key(), "c": c.id}))
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        s.ok(&s.admin, set, json!({"k": key(), "c": c.id})).await;
        let rule = s
            .ok(&c.staff, "query($c: ID!) { community(id: $c) { pointsExpiry { version validMonths rounding } } }", json!({"c": c.id}))
            .await;
        assert_eq!(
            rule["community"]["pointsExpiry"],
            json!({"version": 1, "validMonths": 1, "rounding": "DAY"})
        );

        // Credits of weeks ago, through a handler whose clock stood then.
        let now = chrono::Utc::now();
        let clock = Arc::new(FixedClock::new(now - chrono::Duration::days(40)));
        let h = CommandHandler::with_clock(store.clone(), clock.clone());
        let staff = Actor::admin(uuid::Uuid::new_v4());
        let v = VolunteerId(c.v1.parse().unwrap());
        let award = |points: i64| AwardPoints {
            volunteer_id: v,
            points: points.into(),
            reason: "社区议事".into(),
        };
        h.run(&staff, "a100", award(100)).await.unwrap();
        clock.set(now - chrono::Duration::days(39));
        h.run(
            &staff,
            "r30",
            RedeemPoints {
                volunteer_id: v,
                points: 30.into(),
                item: "大米".into(),
            },
        )
        .await
        .unwrap();
        clock.set(now - chrono::Duration::days(3));
        h.run(&staff, "a50", award(50)).await.unwrap();

        // Today: two processes run the pass at once; the 70 left of the first award
        // expire once.
        clock.set(now);
        s.projections
            .wait_for(s.head().await, std::time::Duration::from_secs(20))
            .await
            .unwrap();
        let other =
            CommandHandler::with_clock(ledger::testing::another_store(&store).await, clock.clone());
        let (x, y) = tokio::join!(
            api::expiry::expire_due(&h, &s.projections),
            api::expiry::expire_due(&other, &s.projections)
        );
        let done: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0], (v, ledger::amount::Points::whole(70)));
        let written = store
            .read_stream(&ledger::ids::volunteer_stream(v), 0)
            .await
            .unwrap()
            .iter()
            .filter(|r| r.event_type == "PointsExpired")
            .count();
        assert_eq!(written, 1);

        let head = s.head().await;
        let a = s.ok(&c.staff, ACCOUNT, json!({"v": c.v1, "p": head})).await;
        let vol = &a["volunteer"];
        assert_eq!(vol["balance"]["points"], "50.00", "{a}");
        assert_eq!(vol["totals"]["pointsExpired"], "70.00");
        // What is left expires in about four weeks: the 90-day preview shows it.
        assert_eq!(vol["pointsExpiring"]["total"], "50.00", "{a}");
        assert_eq!(vol["pointsExpiring"]["days"].as_array().unwrap().len(), 1);
        let first = &a["statement"]["entries"][0];
        assert_eq!(
            (first["kind"].as_str(), first["pointsDelta"].as_str()),
            (Some("POINTS_EXPIRED"), Some("-70.00")),
            "{a}"
        );
        let inbox = s
            .ok(
                &c.vol1,
                "query($p: Int) { inbox(atLeast: $p, first: 5) { messages { kind } } }",
                json!({"p": head}),
            )
            .await;
        assert_eq!(
            inbox["inbox"]["messages"][0]["kind"], "POINTS_EXPIRED",
            "{inbox}"
        );
        // A second pass, or staff by hand: nothing is due.
        assert!(api::expiry::expire_due(&h, &s.projections)
            .await
            .unwrap()
            .is_empty());
        let (_, body) = s
            .gql(
                Some(&c.staff),
                "mutation($k: String!, $v: ID!) { expirePoints(idempotencyKey: $k, volunteerId: $v) { entryId } }",
                json!({"k": key(), "v": c.v1}),
            )
            .await;
        assert_eq!(code(&body), "NOTHING_DUE");
        s.stop().await;
    }
}
