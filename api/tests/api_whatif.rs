//! `previewRules` over HTTP on both backends: the community's staff try proposed point
//! rules and star thresholds on the log as it is and see the difference; nothing is
//! written; other communities' staff and volunteers may not. (That the replay equals a
//! rebuild under the proposal is `reports/tests/whatif.rs`.)

mod common;

use common::*;
use serde_json::json;

const PREVIEW: &str = "query($c: ID!) { previewRules(communityId: $c, pointsPerHour: \"20\", coefficients: [{kind: PATROL, coefficient: \"1.5\"}], starThresholds: [\"1\", \"2\", \"3\", \"4\", \"5\"], year: 2026) {
    position year pointsBefore pointsAfter changes { volunteerNumber before after } starsBefore starsAfter
    topBefore { rank volunteerNumber points } topAfter { rank volunteerNumber points } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_try_rules_on_the_log_and_nothing_is_written() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let sid = s
            .ok(&c.vol1, "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2026-11-01T02:00:00Z\", hours: \"2\") { serviceId } }", json!({"k": key()}))
            .await["logService"]["serviceId"]
            .clone();
        s.ok(&c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { points } }", json!({"k": key(), "v": c.v1, "s": sid}))
            .await;
        let head = s.head().await;
        let p = s.ok(&c.staff, PREVIEW, json!({"c": c.id})).await["previewRules"].clone();
        assert_eq!(s.head().await, head, "nothing written");
        // 2 h of patrol: 20 points at the built-in 10 an hour; 60 at 20 × 1.5.
        assert_eq!(p["changes"][0]["before"], "20.00", "{p}");
        assert_eq!(p["changes"][0]["after"], "60.00", "{p}");
        assert_eq!(p["topAfter"][0]["points"], "60.00");
        // Stars at 1, 2, 3, 4, 5 h: two for the 2 h; none under the national 100 h.
        assert!(p["starsBefore"][0].as_u64().unwrap() >= 1);
        assert_eq!(p["starsAfter"][2], 1, "{p}");
        for token in [&c.vol1, &c.other_staff] {
            let (_, body) = s.gql(Some(token), PREVIEW, json!({"c": c.id})).await;
            assert_eq!(code(&body), "FORBIDDEN");
        }
        s.stop().await;
    }
}

const RUBRIC: &str = "query($c: ID!, $i: [RubricItemInput!]!) { previewRubric(communityId: $c, items: $i, participationMax: \"20\", year: 2026) {
    position year redFlags { month holderBefore scoreBefore holderAfter scoreAfter changesHands }
    stairwells { label averageBefore averageAfter rankBefore rankAfter } } }";
const INSPECT: &str = "mutation($k: String!, $c: ID!, $s: ID!) { recordInspection(idempotencyKey: $k, communityId: $c, stairwellId: $s, month: \"2026-11\", scores: [{item: \"cleanliness\", score: \"27\"}, {item: \"clutter\", score: \"10\"}, {item: \"fire_safety\", score: \"15\"}]) { position } }";

/// A rubric tried on the year's inspections: the month's score before and after, by the
/// stated rule; nothing written; a rubric that could not be set is refused the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_try_a_rubric_on_the_years_inspections() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        s.ok(
            &c.staff,
            INSPECT,
            json!({"k": key(), "c": c.id, "s": c.stairwell}),
        )
        .await;
        let head = s.head().await;
        // 楼道卫生 30 → 60 (27 → 54), 杂物清理 25 → 10 (10 → 4), 消防安全 dropped.
        let items = json!([
            {"key": "cleanliness", "name": "楼道卫生", "max": "60"},
            {"key": "clutter", "name": "杂物清理", "max": "10"},
        ]);
        let p =
            s.ok(&c.staff, RUBRIC, json!({"c": c.id, "i": items})).await["previewRubric"].clone();
        assert_eq!(s.head().await, head, "nothing written");
        assert_eq!(p["redFlags"].as_array().map(Vec::len), Some(1), "{p}");
        let f = &p["redFlags"][0];
        assert_eq!(
            (f["month"].as_u64(), f["changesHands"].as_bool()),
            (Some(11), Some(false))
        );
        // Nobody served: no participation either way.
        assert_eq!(
            (f["scoreBefore"].as_str(), f["scoreAfter"].as_str()),
            (Some("52"), Some("58")),
            "{p}"
        );
        assert_eq!(p["stairwells"][0]["rankAfter"], 1);
        let (_, body) = s
            .gql(
                Some(&c.staff),
                RUBRIC,
                json!({"c": c.id, "i": [{"key": "participation", "name": "x", "max": "1"}]}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT");
        for token in [&c.vol1, &c.other_staff] {
            let (_, body) = s
                .gql(Some(token), RUBRIC, json!({"c": c.id, "i": items}))
                .await;
            assert_eq!(code(&body), "FORBIDDEN");
        }
        s.stop().await;
    }
}
