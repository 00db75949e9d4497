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
