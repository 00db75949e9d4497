//! Correction impact (更正影响) of records not yet credited, over HTTP on both backends:
//! upholding an objection to a record in its 公示 and rejecting a logged service. The
//! preview says the stars and ranking places the record would give as recorded and as
//! corrected; once the correction is made (and the record final), the read models say
//! what the preview said, and the correction's event keeps it. Taking the other road (a
//! service verified instead of rejected) gives what the preview said of "as recorded".

mod common;

use common::*;
use serde_json::{json, Value};

const IMPACT: &str = "query($a: ID!, $o: ID!, $v: ObjectionVerdict!, $h: Hours, $p: Int) {
  objectionImpact(activityId: $a, objectionId: $o, verdict: $v, hours: $h, atLeast: $p) {
    volunteerId detail points hours starsBefore starsAfter annualReportYear
    rankings { period metric before after passedBy } certificates { number } } }";
const REJECTION: &str = "query($v: ID!, $s: ID!, $p: Int) { rejectionImpact(volunteerId: $v, serviceId: $s, atLeast: $p) {
    detail points hours starsBefore starsAfter rankings { period metric before after passedBy } } }";
const RANK: &str = "query($v: ID!, $m: RankMetric!, $per: String!, $p: Int) { myRank(volunteerId: $v, metric: $m, period: $per, atLeast: $p) { rank } }";
const STARS: &str = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { volunteerNumber balance { stars } } }";

/// A service of `hours` the volunteer `token` logs today: its id.
async fn logged(s: &Server, token: &str, hours: &str) -> String {
    let at = (chrono::Utc::now() - chrono::Duration::hours(3)).to_rfc3339();
    s.ok(token, "mutation($k: String!, $h: Hours!, $at: DateTime!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: $at, hours: $h) { serviceId } }", json!({"k": key(), "h": hours, "at": at}))
        .await["logService"]["serviceId"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn verify(s: &Server, c: &Community, v: &str, sid: &str) -> u64 {
    s.ok(&c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { position } }", json!({"k": key(), "v": v, "s": sid}))
        .await["verifyService"]["position"]
        .as_u64()
        .unwrap()
}

/// Each move's side (`before` or `after`) is the volunteer's rank in the read models at `p`.
async fn ranks_are(s: &Server, c: &Community, v: &str, moves: &[Value], side: &str, p: u64) {
    for m in moves {
        let r = s
            .ok(
                &c.staff,
                RANK,
                json!({"v": v, "m": m["metric"], "per": m["period"], "p": p}),
            )
            .await;
        let rank = r["myRank"]
            .as_object()
            .map_or(Value::Null, |o| o["rank"].clone());
        assert_eq!(rank, m[side], "{side} of {m}: {r}");
    }
}

/// The payload of the event at position `p`, which must be of type `kind`.
async fn event_at(s: &Server, p: u64, kind: &str) -> Value {
    let q = "query($a: Int!) { events(after: $a, first: 1) { eventType payload } }";
    let event = s.ok(&s.admin, q, json!({"a": p - 1})).await["events"][0].clone();
    assert_eq!(event["eventType"], kind);
    serde_json::from_str(event["payload"].as_str().unwrap()).unwrap()
}

async fn stars(s: &Server, c: &Community, v: &str, p: u64) -> Value {
    s.ok(&c.staff, STARS, json!({"v": v, "p": p})).await["volunteer"]["balance"]["stars"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upholding_an_objection_does_what_its_preview_said() {
    use ledger::command::*;
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        s.ok(&s.admin, "mutation($k: String!, $c: ID!) { setActivityRules(idempotencyKey: $k, communityId: $c, timeUnitMinutes: 15, lateRecordDays: 30, noticeDays: 3, effectiveFrom: \"2000-01-01\") { version } }", json!({"k": key(), "c": c.id})).await;
        s.ok(&s.admin, "mutation($k: String!, $c: ID!) { setStarThresholds(idempotencyKey: $k, communityId: $c, thresholds: [\"0.25\", \"0.5\", \"10\", \"20\", \"30\"], effectiveFrom: \"2000-01-01\") { version } }", json!({"k": key(), "c": c.id})).await;
        // v2 has 0.4 h credited today; v1 a record of 0.75 h in its notice (checked in
        // 5 minutes after the start, no check-out: 55 minutes, counted in quarters).
        let sid = logged(&s, &c.vol2, "0.4").await;
        verify(&s, &c, &c.v2, &sid).await;
        let a = ended_activity(&s, &c, &c.v1).await;
        s.ok(&c.staff, "mutation($k: String!, $a: ID!) { approveAttendance(idempotencyKey: $k, activityId: $a) { records } }", json!({"k": key(), "a": a}))
            .await;
        let o = s
            .ok(&c.vol2, "mutation($k: String!, $a: ID!, $v: ID!) { raiseObjection(idempotencyKey: $k, activityId: $a, volunteerId: $v, reason: \"时长不实\") { objectionId } }", json!({"k": key(), "a": a, "v": c.v1}))
            .await["raiseObjection"]["objectionId"]
            .as_str()
            .unwrap()
            .to_string();
        let head = s.head().await;
        // A volunteer and another community's staff do not see it; bad hours are
        // refused as the resolution would refuse them.
        for token in [&c.vol1, &c.other_staff] {
            let (_, body) = s
                .gql(
                    Some(token),
                    IMPACT,
                    json!({"a": a, "o": o, "v": "REJECT", "p": head}),
                )
                .await;
            assert_eq!(code(&body), "FORBIDDEN");
        }
        let (_, body) = s
            .gql(
                Some(&c.staff),
                IMPACT,
                json!({"a": a, "o": o, "v": "CORRECT", "p": head}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT");
        let i = s
            .ok(
                &c.staff,
                IMPACT,
                json!({"a": a, "o": o, "v": "CORRECT", "h": "0.25", "p": head}),
            )
            .await["objectionImpact"]
            .clone();
        assert_eq!(i["volunteerId"], c.v1.as_str());
        assert_eq!(
            (i["hours"].as_str(), i["points"].as_str()),
            (Some("0.50"), Some("5.00")),
            "{i}"
        );
        assert_eq!(
            (i["starsBefore"].as_i64(), i["starsAfter"].as_i64()),
            (Some(2), Some(1)),
            "{i}"
        );
        assert_eq!(
            i["certificates"],
            json!([]),
            "nothing credited, no certificate differs"
        );
        let moves = i["rankings"].as_array().unwrap().clone();
        assert_eq!(moves.len(), 8, "{i}");
        let v2_number =
            s.ok(&c.staff, STARS, json!({"v": c.v2})).await["volunteer"]["volunteerNumber"].clone();
        for m in &moves {
            // First with 0.75 h, second (behind v2's 0.4 h) with 0.25 h.
            assert_eq!(
                (m["before"].as_i64(), m["after"].as_i64()),
                (Some(1), Some(2)),
                "{m}"
            );
            assert_eq!(m["passedBy"], json!([v2_number.clone()]), "{m}");
        }
        // Resolved as previewed; made final once the notice has passed.
        let p = s
            .ok(&c.staff, "mutation($k: String!, $a: ID!, $o: ID!) { resolveObjection(idempotencyKey: $k, activityId: $a, objectionId: $o, verdict: CORRECT, hours: \"0.25\", reason: \"核实签到\") { position } }", json!({"k": key(), "a": a, "o": o}))
            .await["resolveObjection"]["position"]
            .as_u64()
            .unwrap();
        let payload = event_at(&s, p, "ObjectionResolved").await;
        assert_eq!(
            (
                payload["impact"]["stars_before"].as_i64(),
                payload["impact"]["stars_after"].as_i64()
            ),
            (Some(2), Some(1)),
            "{payload}"
        );
        assert_eq!(
            payload["impact"]["rankings"].as_array().map(Vec::len),
            Some(8)
        );
        let later = chrono::Utc::now() + chrono::Duration::days(4);
        let h = CommandHandler::with_clock(
            s.store.clone(),
            std::sync::Arc::new(FixedClock::new(later)),
        );
        let activity_id = ledger::ids::ActivityId(a.parse().unwrap());
        let p = h
            .run(
                &Actor::admin(uuid::Uuid::new_v4()),
                &key(),
                FinaliseAttendance { activity_id },
            )
            .await
            .expect("final")
            .position;
        assert_eq!(stars(&s, &c, &c.v1, p).await, i["starsAfter"]);
        ranks_are(&s, &c, &c.v1, &moves, "after", p).await;
        // Resolved: the preview answers as the resolution would.
        let (_, body) = s
            .gql(
                Some(&c.staff),
                IMPACT,
                json!({"a": a, "o": o, "v": "REJECT"}),
            )
            .await;
        assert_eq!(code(&body), "ALREADY_RESOLVED");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rejection_keeps_back_what_verifying_would_have_given() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        s.ok(&s.admin, "mutation($k: String!, $c: ID!) { setStarThresholds(idempotencyKey: $k, communityId: $c, thresholds: [\"1\", \"2\", \"3\", \"4\", \"5\"], effectiveFrom: \"2000-01-01\") { version } }", json!({"k": key(), "c": c.id})).await;
        let sid = logged(&s, &c.vol2, "2").await;
        verify(&s, &c, &c.v2, &sid).await;
        let first = logged(&s, &c.vol1, "1").await;
        verify(&s, &c, &c.v1, &first).await;
        let (a, b) = (
            logged(&s, &c.vol1, "2").await,
            logged(&s, &c.vol1, "2").await,
        );
        let head = s.head().await;
        let (_, body) = s
            .gql(
                Some(&c.other_staff),
                REJECTION,
                json!({"v": c.v1, "s": a, "p": head}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        let i = s
            .ok(&c.staff, REJECTION, json!({"v": c.v1, "s": a, "p": head}))
            .await["rejectionImpact"]
            .clone();
        assert_eq!(
            (
                i["hours"].as_str(),
                i["starsBefore"].as_i64(),
                i["starsAfter"].as_i64()
            ),
            (Some("2.00"), Some(3), Some(1)),
            "{i}"
        );
        let moves = i["rankings"].as_array().unwrap().clone();
        assert!(!moves.is_empty(), "{i}");
        for m in &moves {
            // 3 h as recorded is first; 1 h stays behind v2's 2 h.
            assert_eq!(
                (m["before"].as_i64(), m["after"].as_i64()),
                (Some(1), Some(2)),
                "{m}"
            );
        }
        // `b` logs the same 2 h: its preview is the same. Rejecting it, nothing moves, as
        // its preview's "after" says.
        let ib = s
            .ok(&c.staff, REJECTION, json!({"v": c.v1, "s": b, "p": head}))
            .await["rejectionImpact"]
            .clone();
        assert_eq!(ib["rankings"], i["rankings"]);
        assert_eq!(ib["starsAfter"], i["starsAfter"]);
        let p = s
            .ok(&c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { rejectService(idempotencyKey: $k, volunteerId: $v, serviceId: $s, reason: \"重复登记\") { position } }", json!({"k": key(), "v": c.v1, "s": b}))
            .await["rejectService"]["position"]
            .as_u64()
            .unwrap();
        assert_eq!(stars(&s, &c, &c.v1, p).await, ib["starsAfter"]);
        let moves_b = ib["rankings"].as_array().unwrap().clone();
        ranks_are(&s, &c, &c.v1, &moves_b, "after", p).await;
        let payload = event_at(&s, p, "ServiceRejected").await;
        assert_eq!(payload["impact"]["stars_before"], 3, "{payload}");
        // Verifying `a` instead: the read models say what the preview's "before" said.
        let p = verify(&s, &c, &c.v1, &a).await;
        assert_eq!(stars(&s, &c, &c.v1, p).await, i["starsBefore"]);
        ranks_are(&s, &c, &c.v1, &moves, "before", p).await;
        let (_, body) = s
            .gql(Some(&c.staff), REJECTION, json!({"v": c.v1, "s": a}))
            .await;
        assert_eq!(code(&body), "ALREADY_VERIFIED");
        s.stop().await;
    }
}
