//! 文明楼道 over a quarter and a year on both backends: each stairwell's average is the
//! mean of its monthly totals in the months it was scored in, ranked, the first holding
//! the period's red flag; a month is not a period of averages.

mod common;

use common::*;
use rust_decimal::Decimal;
use serde_json::json;
use std::str::FromStr;

const RECORD: &str = "mutation($k: String!, $c: ID!, $s: ID!, $m: String!, $a: String!, $b: String!, $f: String!) { recordInspection(idempotencyKey: $k, communityId: $c, stairwellId: $s, month: $m, scores: [{item: \"cleanliness\", score: $a}, {item: \"clutter\", score: $b}, {item: \"fire_safety\", score: $f}]) { position } }";

fn dec(v: &serde_json::Value) -> Decimal {
    Decimal::from_str(v.as_str().expect("a decimal string")).expect("a decimal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quarterly_averages_and_the_quarters_red_flag() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let other = s
            .ok(&c.staff, "mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"7栋\", unit: \"2单元\", households: 16) { stairwellId } }", json!({"k": key(), "c": c.id}))
            .await["registerStairwell"]["stairwellId"]
            .as_str()
            .unwrap()
            .to_string();
        // October: the new stairwell leads; November: the seed's by more.
        for (sw, month, a, b, f) in [
            (&c.stairwell, "2026-10", "25", "20", "20"),
            (&other, "2026-10", "28", "20", "25"),
            (&c.stairwell, "2026-11", "30", "25", "25"),
            (&other, "2026-11", "20", "20", "20"),
        ] {
            let vars = json!({"k": key(), "c": c.id, "s": sw, "m": month, "a": a, "b": b, "f": f});
            s.ok(&c.staff, RECORD, vars).await;
        }
        let head = s.head().await;
        let monthly = "query($c: ID!, $m: String!, $p: Int) { stairwellScores(communityId: $c, month: $m, atLeast: $p) { stairwellId total redFlag } }";
        let mut totals: std::collections::HashMap<String, Vec<Decimal>> = Default::default();
        for m in ["2026-10", "2026-11"] {
            let d = s
                .ok(&c.display, monthly, json!({"c": c.id, "m": m, "p": head}))
                .await;
            for row in d["stairwellScores"].as_array().unwrap() {
                totals
                    .entry(row["stairwellId"].as_str().unwrap().to_string())
                    .or_default()
                    .push(dec(&row["total"]));
            }
        }
        let q = "query($c: ID!, $pd: String!, $p: Int) { stairwellAverages(communityId: $c, period: $pd, atLeast: $p) { stairwellId building unit period monthsScored average rank redFlag } }";
        for period in ["2026-Q4", "2026"] {
            let d = s
                .ok(&c.display, q, json!({"c": c.id, "pd": period, "p": head}))
                .await;
            let rows = d["stairwellAverages"].as_array().unwrap().clone();
            assert_eq!(rows.len(), 2, "{rows:?}");
            for row in &rows {
                let mine = &totals[row["stairwellId"].as_str().unwrap()];
                let mean = (mine.iter().sum::<Decimal>() / Decimal::from(mine.len())).round_dp(2);
                assert_eq!(dec(&row["average"]), mean, "{row}");
                assert_eq!(row["monthsScored"], 2);
                assert_eq!(row["period"], period);
            }
            assert!(dec(&rows[0]["average"]) >= dec(&rows[1]["average"]));
            assert_eq!(
                (rows[0]["rank"].as_u64(), rows[0]["redFlag"].as_bool()),
                (Some(1), Some(true))
            );
            assert_eq!(rows[1]["redFlag"], false);
            // The seed's stairwell: 65 then 80, against 73 then 60.
            assert_eq!(rows[0]["stairwellId"], c.stairwell.as_str());
        }
        let d = s
            .ok(&c.vol1, q, json!({"c": c.id, "pd": "2026-Q3", "p": head}))
            .await;
        assert_eq!(d["stairwellAverages"], json!([]));
        let (_, bad) = s
            .gql(Some(&c.staff), q, json!({"c": c.id, "pd": "2026-10"}))
            .await;
        assert_eq!(code(&bad), "INVALID_INPUT");
        let (_, other_staff) = s
            .gql(Some(&c.other_staff), q, json!({"c": c.id, "pd": "2026-Q4"}))
            .await;
        assert_eq!(code(&other_staff), "FORBIDDEN");
        s.stop().await;
    }
}
