//! Relatives (家属) over HTTP on both backends: under hours rules that allow gifts only
//! to relatives, a gift to anyone else is RELATIVE_LINK_REQUIRED; staff link two
//! volunteers with their consent and both accounts show it; the gift then goes; either
//! side ends the link. Hours spent on a service another volunteer gave name them, and
//! their service is credited (at once when staff record it, after verification when the
//! volunteer does). Under a stored-hours cap an account banks what fits, the statement
//! says what was over, and a gift above the cap is refused.

mod common;

use common::*;
use serde_json::{json, Value};

const GIFT: &str = "mutation($k: String!, $t: ID!) { giftHours(idempotencyKey: $k, toVolunteerId: $t, hours: \"0.5\") { hoursBalance position } }";
const LINK: &str = "mutation($k: String!, $v: ID!, $r: ID!, $yes: Boolean!) { linkRelative(idempotencyKey: $k, volunteerId: $v, relativeId: $r, relation: \"母亲\", consent: $yes) { position } }";
const RELATIVES: &str = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { relatives { volunteerId relation name } balance { points hours } } }";
const SPEND: &str = "mutation($k: String!, $v: ID, $pr: ID!) { spendHours(idempotencyKey: $k, volunteerId: $v, hours: \"0.5\", description: \"上门理发\", providerId: $pr, kind: OTHER) { hoursBalance position } }";

async fn bank(s: &Server, c: &Community, volunteer_token: &str, v: &str, hours: &str) {
    let sid = s
        .ok(volunteer_token, "mutation($k: String!, $h: Hours!) { logService(idempotencyKey: $k, kind: REPAIR, startedAt: \"2026-11-01T02:00:00Z\", hours: $h) { serviceId } }", json!({"k": key(), "h": hours}))
        .await["logService"]["serviceId"]
        .clone();
    s.ok(&c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { position } }", json!({"k": key(), "v": v, "s": sid}))
        .await;
}

async fn relatives(s: &Server, token: &str, v: &str, p: Option<u64>) -> Value {
    s.ok(token, RELATIVES, json!({"v": v, "p": p})).await["volunteer"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gifts_only_to_relatives_where_the_rules_say_so() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        bank(&s, &c, &c.vol1, &c.v1, "2").await;
        // Without a rule: a gift to anyone of the community.
        s.ok(&c.vol1, GIFT, json!({"k": key(), "t": c.v2})).await;
        s.ok(&s.admin, "mutation($k: String!, $c: ID!) { setHoursRules(idempotencyKey: $k, communityId: $c, giftsToRelativesOnly: true, effectiveFrom: \"2000-01-01\") { version } }", json!({"k": key(), "c": c.id})).await;
        let rules = s
            .ok(&c.vol1, "query($c: ID!) { community(id: $c) { hoursRules { version giftsToRelativesOnly } } }", json!({"c": c.id}))
            .await;
        assert_eq!(
            rules["community"]["hoursRules"],
            json!({"version": 1, "giftsToRelativesOnly": true})
        );
        let (_, r) = s
            .gql(Some(&c.vol1), GIFT, json!({"k": key(), "t": c.v2}))
            .await;
        assert_eq!(code(&r), "RELATIVE_LINK_REQUIRED", "{r}");
        // Consent is required; staff link them; both accounts show it.
        let (_, r) = s
            .gql(
                Some(&c.staff),
                LINK,
                json!({"k": key(), "v": c.v1, "r": c.v2, "yes": false}),
            )
            .await;
        assert_eq!(code(&r), "INVALID_INPUT");
        let (_, r) = s
            .gql(
                Some(&c.vol1),
                LINK,
                json!({"k": key(), "v": c.v1, "r": c.v2, "yes": true}),
            )
            .await;
        assert_eq!(code(&r), "FORBIDDEN", "staff record links");
        let p = s
            .ok(
                &c.staff,
                LINK,
                json!({"k": key(), "v": c.v1, "r": c.v2, "yes": true}),
            )
            .await["linkRelative"]["position"]
            .as_u64();
        let one = relatives(&s, &c.staff, &c.v1, p).await;
        assert_eq!(
            one["relatives"],
            json!([{"volunteerId": c.v2, "relation": "母亲", "name": "李四"}])
        );
        let two = relatives(&s, &c.vol2, &c.v2, p).await;
        assert_eq!(
            two["relatives"],
            json!([{"volunteerId": c.v1, "relation": "", "name": "张三丰"}])
        );
        // The gift goes now.
        let g = s.ok(&c.vol1, GIFT, json!({"k": key(), "t": c.v2})).await;
        assert_eq!(g["giftHours"]["hoursBalance"], "1.00");
        // The relative ends it; the rule applies again.
        let p = s
            .ok(&c.vol2, "mutation($k: String!, $v: ID!, $r: ID!) { unlinkRelative(idempotencyKey: $k, volunteerId: $v, relativeId: $r, reason: \"不再同住\") { position } }", json!({"k": key(), "v": c.v1, "r": c.v2}))
            .await["unlinkRelative"]["position"]
            .as_u64();
        assert_eq!(
            relatives(&s, &c.staff, &c.v1, p).await["relatives"],
            json!([])
        );
        assert_eq!(
            relatives(&s, &c.staff, &c.v2, p).await["relatives"],
            json!([])
        );
        let (_, r) = s
            .gql(Some(&c.vol1), GIFT, json!({"k": key(), "t": c.v2}))
            .await;
        assert_eq!(code(&r), "RELATIVE_LINK_REQUIRED");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hours_spent_name_the_volunteer_who_gave_the_service() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        bank(&s, &c, &c.vol1, &c.v1, "2").await;
        let before = relatives(&s, &c.staff, &c.v2, Some(s.head().await)).await;
        assert_eq!(
            before["balance"],
            json!({"points": "0.00", "hours": "0.00"})
        );
        // Staff record it: v2's service is credited at once (10 points an hour).
        let p = s
            .ok(&c.staff, SPEND, json!({"k": key(), "v": c.v1, "pr": c.v2}))
            .await["spendHours"]["position"]
            .as_u64();
        let after = relatives(&s, &c.staff, &c.v2, p).await;
        assert_eq!(after["balance"], json!({"points": "5.00", "hours": "0.50"}));
        let st = "query($v: ID!, $p: Int) { statement(volunteerId: $v, atLeast: $p, newestFirst: true) { entries { kind hoursDelta description counterpart } } }";
        let payer = s.ok(&c.staff, st, json!({"v": c.v1, "p": p})).await;
        assert_eq!(
            payer["statement"]["entries"][0],
            json!({"kind": "HOURS_SPENT", "hoursDelta": "-0.50", "description": "上门理发", "counterpart": c.v2})
        );
        let giver = s.ok(&c.staff, st, json!({"v": c.v2, "p": p})).await;
        assert_eq!(giver["statement"]["entries"][0]["kind"], "SERVICE_VERIFIED");
        assert_eq!(
            giver["statement"]["entries"][0]["description"],
            "其他 上门理发"
        );
        // The volunteer records it: the service waits for staff.
        let p = s.ok(&c.vol1, SPEND, json!({"k": key(), "pr": c.v2})).await["spendHours"]
            ["position"]
            .as_u64();
        let waiting = relatives(&s, &c.staff, &c.v2, p).await;
        assert_eq!(
            waiting["balance"],
            json!({"points": "5.00", "hours": "0.50"})
        );
        // Not oneself.
        let (_, r) = s
            .gql(Some(&c.vol1), SPEND, json!({"k": key(), "pr": c.v1}))
            .await;
        assert_eq!(code(&r), "INVALID_INPUT");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_stored_hours_cap_keeps_the_balance_and_counts_every_hour() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        bank(&s, &c, &c.vol1, &c.v1, "2").await;
        bank(&s, &c, &c.vol2, &c.v2, "1").await;
        s.ok(&s.admin, "mutation($k: String!, $c: ID!) { setHoursRules(idempotencyKey: $k, communityId: $c, giftsToRelativesOnly: false, effectiveFrom: \"2000-01-01\", storedHoursCap: \"3\") { version } }", json!({"k": key(), "c": c.id})).await;
        let rules = s
            .ok(
                &c.staff,
                "query($c: ID!) { community(id: $c) { hoursRules { storedHoursCap } } }",
                json!({"c": c.id}),
            )
            .await;
        assert_eq!(rules["community"]["hoursRules"]["storedHoursCap"], "3.00");
        // Two more hours: one fits under the cap, the other counts for stars only.
        bank(&s, &c, &c.vol1, &c.v1, "2").await;
        let head = s.head().await;
        let b = s
            .ok(&c.staff, "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { hours verifiedHours } } }", json!({"v": c.v1, "p": head}))
            .await;
        assert_eq!(
            b["volunteer"]["balance"],
            json!({"hours": "3.00", "verifiedHours": "4.00"})
        );
        let st = s
            .ok(&c.staff, "query($v: ID!, $p: Int) { statement(volunteerId: $v, atLeast: $p, newestFirst: true) { entries { hoursDelta description } } }", json!({"v": c.v1, "p": head}))
            .await;
        let top = &st["statement"]["entries"][0];
        assert_eq!(top["hoursDelta"], "1.00");
        assert!(
            top["description"]
                .as_str()
                .unwrap()
                .contains("超出存储上限 1 小时，不计入余额"),
            "{top}"
        );
        // A gift that would take v1 above the cap is refused; v2 keeps the hour.
        let (_, r) = s
            .gql(Some(&c.vol2), GIFT, json!({"k": key(), "t": c.v1}))
            .await;
        assert_eq!(code(&r), "HOURS_CAP_REACHED", "{r}");
        let b2 = relatives(&s, &c.staff, &c.v2, Some(s.head().await)).await;
        assert_eq!(b2["balance"]["hours"], "1.00");
        // A 补录 final at once is capped too: v1 stays at 3 h, its half hour counted.
        let a = ended_activity(&s, &c, &c.v2).await;
        s.ok(&c.staff, "mutation($k: String!, $a: ID!) { approveAttendance(idempotencyKey: $k, activityId: $a) { position } }", json!({"k": key(), "a": a})).await;
        let late = s
            .ok(&c.staff, "mutation($k: String!, $a: ID!, $v: ID!) { recordLateAttendance(idempotencyKey: $k, activityId: $a, volunteerId: $v, hours: \"0.5\", reason: \"未带手机\") { position } }", json!({"k": key(), "a": a, "v": c.v1}))
            .await["recordLateAttendance"]["position"]
            .as_u64();
        let b = s
            .ok(&c.staff, "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { hours verifiedHours } } }", json!({"v": c.v1, "p": late}))
            .await;
        assert_eq!(
            b["volunteer"]["balance"],
            json!({"hours": "3.00", "verifiedHours": "4.50"})
        );
        s.stop().await;
    }
}
