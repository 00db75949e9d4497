//! Correction impact (更正影响) over HTTP on both backends: before a reversal, the preview
//! says what it takes back, the star level before and after, the volunteer's places in
//! the community's rankings of the periods the entry counts in and who would pass them,
//! and the certificates the log would then contradict; once the reversal is made, the
//! read models agree with the preview, place by place, and the correction's event keeps
//! it.

mod common;

use common::*;
use serde_json::{json, Value};

const IMPACT: &str = "query($v: ID!, $e: ID!, $p: Int) { correctionImpact(volunteerId: $v, entryId: $e, atLeast: $p) {
    detail points hours starsBefore starsAfter annualReportYear
    rankings { period metric before after passedBy }
    certificates { number hoursStated hoursAfter } } }";
const RANK: &str = "query($c: ID!, $v: ID!, $m: RankMetric!, $per: String!, $p: Int) { myRank(volunteerId: $v, metric: $m, period: $per, atLeast: $p) { rank } community(id: $c) { id } }";

/// A service of `hours` of the volunteer `token` logs, verified by staff: its entry.
async fn served(s: &Server, c: &Community, token: &str, v: &str, hours: &str) -> String {
    let sid = s
        .ok(token, "mutation($k: String!, $h: Hours!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2026-11-10T02:00:00Z\", hours: $h) { serviceId } }", json!({"k": key(), "h": hours}))
        .await["logService"]["serviceId"]
        .clone();
    s.ok(&c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId } }", json!({"k": key(), "v": v, "s": sid}))
        .await["verifyService"]["entryId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_preview_of_a_reversal_is_what_the_reversal_does() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        s.ok(&s.admin, "mutation($k: String!, $c: ID!) { setStarThresholds(idempotencyKey: $k, communityId: $c, thresholds: [\"1\", \"2\", \"3\", \"4\", \"5\"], effectiveFrom: \"2000-01-01\") { version } }", json!({"k": key(), "c": c.id}))
            .await;
        // v1: 3 h and 1 h (four stars, first); v2: 2 h.
        let big = served(&s, &c, &c.vol1, &c.v1, "3").await;
        served(&s, &c, &c.vol1, &c.v1, "1").await;
        served(&s, &c, &c.vol2, &c.v2, "2").await;
        let cert = s
            .ok(&c.staff, "mutation($k: String!, $v: ID!) { issueCertificate(idempotencyKey: $k, volunteerId: $v, issuer: { organisation: \"海棠社区居民委员会\" }) { number checkCode } }", json!({"k": key(), "v": c.v1}))
            .await["issueCertificate"]
            .clone();
        // Read once the read models hold what was written (the account is a read model).
        let written = s.head().await;
        let v2_number = s
            .ok(
                &c.staff,
                "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { volunteerNumber } }",
                json!({"v": c.v2, "p": written}),
            )
            .await["volunteer"]["volunteerNumber"]
            .clone();
        let head = s.head().await;
        // Volunteers and other communities' staff do not see it.
        for token in [&c.vol1, &c.other_staff] {
            let (_, body) = s
                .gql(Some(token), IMPACT, json!({"v": c.v1, "e": big, "p": head}))
                .await;
            assert_eq!(code(&body), "FORBIDDEN");
        }
        let i = s
            .ok(&c.staff, IMPACT, json!({"v": c.v1, "e": big, "p": head}))
            .await["correctionImpact"]
            .clone();
        assert_eq!(
            (
                i["hours"].as_str(),
                i["starsBefore"].as_i64(),
                i["starsAfter"].as_i64()
            ),
            (Some("3.00"), Some(4), Some(1)),
            "{i}"
        );
        assert_eq!(i["annualReportYear"], 2026);
        assert_eq!(
            i["certificates"],
            json!([{"number": cert["number"], "hoursStated": "4.00", "hoursAfter": "1.00"}])
        );
        let moves = i["rankings"].as_array().unwrap().clone();
        // Points and hours, in the four periods of the service's day.
        assert_eq!(moves.len(), 8, "{i}");
        for m in &moves {
            assert_eq!(
                (m["before"].as_i64(), m["after"].as_i64()),
                (Some(1), Some(2)),
                "{m}"
            );
            assert_eq!(m["passedBy"], json!([v2_number.clone()]), "{m}");
        }

        // The reversal; then every read model says what the preview said.
        let p = s
            .ok(&c.staff, "mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"重复录入\") { position } }", json!({"k": key(), "v": c.v1, "e": big}))
            .await["reverseEntry"]["position"]
            .as_u64();
        let stars = s
            .ok(
                &c.staff,
                "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { stars } } }",
                json!({"v": c.v1, "p": p}),
            )
            .await["volunteer"]["balance"]["stars"]
            .clone();
        assert_eq!(stars, i["starsAfter"]);
        for m in &moves {
            let r = s
                .ok(
                    &c.staff,
                    RANK,
                    json!({"c": c.id, "v": c.v1, "m": m["metric"], "per": m["period"], "p": p}),
                )
                .await;
            assert_eq!(r["myRank"]["rank"], m["after"], "{m} {r}");
            let theirs = s
                .ok(
                    &c.staff,
                    RANK,
                    json!({"c": c.id, "v": c.v2, "m": m["metric"], "per": m["period"], "p": p}),
                )
                .await;
            assert_eq!(theirs["myRank"]["rank"], 1, "{m}");
        }
        let check: Value = s
            .ok(&c.vol1, "query($n: String!, $k: String!) { certificate(number: $n, checkCode: $k) { changedSinceIssue current { totalHours } } }", json!({"n": cert["number"], "k": cert["checkCode"]}))
            .await["certificate"]
            .clone();
        assert_eq!(check["changedSinceIssue"], true, "{check}");
        assert_eq!(
            check["current"]["totalHours"],
            i["certificates"][0]["hoursAfter"]
        );
        // The correction keeps what the clerk was shown.
        let events = s
            .ok(
                &s.admin,
                "query($a: Int!) { events(after: $a, first: 1) { eventType payload } }",
                json!({"a": p.unwrap() - 1}),
            )
            .await["events"][0]
            .clone();
        assert_eq!(events["eventType"], "EntryReversed");
        let payload: Value = serde_json::from_str(events["payload"].as_str().unwrap()).unwrap();
        let kept = &payload["impact"];
        assert_eq!(
            (kept["stars_before"].as_i64(), kept["stars_after"].as_i64()),
            (Some(4), Some(1)),
            "{payload}"
        );
        assert_eq!(kept["rankings"].as_array().map(Vec::len), Some(8));
        assert_eq!(kept["rankings"][0]["passed_by"], json!([v2_number.clone()]));
        assert_eq!(kept["certificates"], json!([cert["number"]]));
        // Reversed: the preview now answers as the reversal would.
        let (_, body) = s
            .gql(Some(&c.staff), IMPACT, json!({"v": c.v1, "e": big}))
            .await;
        assert_eq!(code(&body), "ALREADY_REVERSED");
        s.stop().await;
    }
}
