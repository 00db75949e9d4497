//! Star criteria with points over HTTP on both backends: an administrator sets a star
//! rule that asks for hours and points earned together (some districts require both);
//! a volunteer with the hours but not the points has no star; awards bring the stars;
//! spending points does not take one away, a reversal does; the balance, the
//! certificate and the annual report all judge by the same rule.

mod common;

use common::*;
use serde_json::{json, Value};

const SET: &str = "mutation($k: String!, $c: ID!, $p: [Points!]) { setStarThresholds(idempotencyKey: $k, communityId: $c, thresholds: [\"1\", \"2\", \"30\", \"40\", \"50\"], effectiveFrom: \"2000-01-01\", points: $p) { version position } }";
const STARS: &str = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { stars verifiedHours }
    totals { starThresholds starPointsThresholds starPoints stars { level thresholdHours thresholdPoints } } } }";
const AWARD: &str = "mutation($k: String!, $v: ID!, $n: Points!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: $n, reason: \"社区议事\") { entryId position } }";

async fn stars(s: &Server, c: &Community, p: Option<u64>) -> Value {
    s.ok(&c.staff, STARS, json!({"v": c.v1, "p": p})).await["volunteer"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_star_rule_with_points_takes_hours_and_points_together() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        // Five points thresholds of the wrong shape are refused.
        let (_, body) = s
            .gql(
                Some(&s.admin),
                SET,
                json!({"k": key(), "c": c.id, "p": ["1000", "500", "3000", "4000", "5000"]}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "{body}");
        let (_, body) = s
            .gql(
                Some(&c.staff),
                SET,
                json!({"k": key(), "c": c.id, "p": ["1000", "2000", "3000", "4000", "5000"]}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "rules are for administrators");
        s.ok(
            &s.admin,
            SET,
            json!({"k": key(), "c": c.id, "p": ["1000", "2000", "3000", "4000", "5000"]}),
        )
        .await;
        let rule = s
            .ok(
                &c.staff,
                "query($c: ID!) { community(id: $c) { starThresholds { version points } } }",
                json!({"c": c.id}),
            )
            .await["community"]["starThresholds"]
            .clone();
        assert_eq!(
            rule["points"],
            json!(["1000.00", "2000.00", "3000.00", "4000.00", "5000.00"])
        );
        // 2.5 verified hours: both hours thresholds, but far from the points.
        let sid = s
            .ok(&c.vol1, "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2026-11-01T02:00:00Z\", hours: \"2.5\") { serviceId } }", json!({"k": key()}))
            .await["logService"]["serviceId"]
            .clone();
        let p = s
            .ok(&c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { position } }", json!({"k": key(), "v": c.v1, "s": sid}))
            .await["verifyService"]["position"]
            .as_u64();
        let v = stars(&s, &c, p).await;
        assert_eq!(v["balance"]["stars"], 0, "{v}");
        assert_eq!(v["totals"]["starPointsThresholds"][0], "1000.00", "{v}");
        let earned: f64 = v["totals"]["starPoints"].as_str().unwrap().parse().unwrap();
        assert!(earned > 0.0 && earned < 1000.0, "{v}");
        // An award of 1,000 points: the first star (the second's hours are there, its
        // points are not).
        let first = s
            .ok(&c.staff, AWARD, json!({"k": key(), "v": c.v1, "n": "1000"}))
            .await["awardPoints"]
            .clone();
        let v = stars(&s, &c, first["position"].as_u64()).await;
        assert_eq!(v["balance"]["stars"], 1, "{v}");
        assert_eq!(v["totals"]["stars"][0]["thresholdPoints"], "1000.00");
        // Another 1,000: two stars; redeeming points does not take one away.
        let second = s
            .ok(&c.staff, AWARD, json!({"k": key(), "v": c.v1, "n": "1000"}))
            .await["awardPoints"]
            .clone();
        let p = s
            .ok(&c.staff, "mutation($k: String!, $v: ID!) { redeemPoints(idempotencyKey: $k, volunteerId: $v, points: \"500\", item: \"大米\") { position } }", json!({"k": key(), "v": c.v1}))
            .await["redeemPoints"]["position"]
            .as_u64();
        let v = stars(&s, &c, p).await;
        assert_eq!(v["balance"]["stars"], 2, "spending keeps the stars: {v}");
        // The certificate and this year's annual report judge by the same rule.
        let cert = s
            .ok(&c.staff, "mutation($k: String!, $v: ID!) { issueCertificate(idempotencyKey: $k, volunteerId: $v, issuer: { organisation: \"海棠社区居民委员会\" }) { record { starLevel } } }", json!({"k": key(), "v": c.v1}))
            .await;
        assert_eq!(cert["issueCertificate"]["record"]["starLevel"], 2);
        let line = |r: &Value| {
            r["annualReport"]["topByPoints"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["volunteerId"] == c.v1.as_str())
                .cloned()
                .unwrap()
        };
        let report = s
            .ok(&c.staff, "query($c: ID!) { annualReport(communityId: $c, year: 2026) { topByPoints { volunteerId starLevel } } }", json!({"c": c.id}))
            .await;
        assert_eq!(line(&report)["starLevel"], 2, "{report}");
        // A reversal of the second award takes the second star away.
        let p = s
            .ok(&c.staff, "mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"重复录入\") { position } }", json!({"k": key(), "v": c.v1, "e": second["entryId"]}))
            .await["reverseEntry"]["position"]
            .as_u64();
        let v = stars(&s, &c, p).await;
        assert_eq!(v["balance"]["stars"], 1, "{v}");
        s.stop().await;
    }
}
