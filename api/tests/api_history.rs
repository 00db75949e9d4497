//! A history import (历史导入) over HTTP on both backends: its rows, recorded by the
//! importer on the server's store, count for stars, rankings and statements (each line
//! saying which file and row); before the batch is reversed as one, the preview says
//! for each volunteer what it takes back, the stars before and after, the places in
//! the rankings with everyone in the batch falling together, and the certificates the
//! log would contradict; once reversed, the read models agree with it place by place,
//! and each volunteer's correction keeps its part of it.

mod common;

use common::*;
use ledger::command::*;
use ledger::event::ServiceKind;
use ledger::ids::*;
use serde_json::{json, Value};

const IMPACT: &str = "query($b: ID!, $p: Int) { importBatchImpact(batchId: $b, atLeast: $p) {
    file rows entries reversed points hours annualReportYears
    volunteers { detail hours starsBefore starsAfter annualReportYear
      rankings { period metric before after passedBy }
      certificates { number hoursStated hoursAfter } } } }";
const RANK: &str = "query($v: ID!, $m: RankMetric!, $per: String!, $p: Int) { myRank(volunteerId: $v, metric: $m, period: $per, atLeast: $p) { rank } }";

fn uuid(s: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_history_import_counts_and_its_reversal_is_what_its_preview_said() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        s.ok(&s.admin, "mutation($k: String!, $c: ID!) { setStarThresholds(idempotencyKey: $k, communityId: $c, thresholds: [\"1\", \"2\", \"3\", \"4\", \"5\"], effectiveFrom: \"2000-01-01\") { version } }", json!({"k": key(), "c": c.id}))
            .await;
        // The importer's rows: v1 3 h and 1 h in 2019, v2 1 h in 2019.
        let h = CommandHandler::new(s.store.clone());
        let clerk = Actor::staff(uuid::Uuid::new_v4(), CommunityId(uuid(&c.id)));
        let batch = ImportBatchId(uuid::Uuid::new_v4());
        let rows = [
            (2, &c.v1, (2019, 5, 1), "3"),
            (3, &c.v1, (2019, 6, 1), "1"),
            (4, &c.v2, (2019, 5, 2), "1"),
        ];
        for (row, v, (y, m, d), hours) in rows {
            let cmd = ImportHistoryRow {
                community_id: CommunityId(uuid(&c.id)),
                batch_id: batch,
                file: "2019台账.xlsx".into(),
                row,
                volunteer_id: VolunteerId(uuid(v)),
                kind: ServiceKind::Patrol,
                date: chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(),
                hours: hours.parse().unwrap(),
                note: "夜间巡逻".into(),
            };
            h.run(&clerk, &format!("row-{row}"), cmd).await.unwrap();
        }
        // v2 also served 2 h this year: v1 4 h, v2 3 h in all.
        let sid = s
            .ok(&c.vol2, "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2026-11-10T02:00:00Z\", hours: \"2\") { serviceId } }", json!({"k": key()}))
            .await["logService"]["serviceId"]
            .clone();
        s.ok(&c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId } }", json!({"k": key(), "v": c.v2, "s": sid}))
            .await;
        let cert = s
            .ok(&c.staff, "mutation($k: String!, $v: ID!) { issueCertificate(idempotencyKey: $k, volunteerId: $v, issuer: { organisation: \"海棠社区居民委员会\" }) { number checkCode } }", json!({"k": key(), "v": c.v1}))
            .await["issueCertificate"]
            .clone();
        let head = s.head().await;

        // Imported services count, and say where they came from.
        let v1 = s
            .ok(&c.staff, "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { volunteerNumber balance { stars } } statement(volunteerId: $v, atLeast: $p) { entries { description } } }", json!({"v": c.v1, "p": head}))
            .await;
        assert_eq!(v1["volunteer"]["balance"]["stars"], 4, "{v1}");
        let lines: Vec<&str> = v1["statement"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["description"].as_str())
            .collect();
        assert!(
            lines.contains(&"巡逻 夜间巡逻（历史导入 2019台账.xlsx 第2行）"),
            "{lines:?}"
        );
        let v2_number = s
            .ok(
                &c.staff,
                "query($v: ID!) { volunteer(id: $v) { volunteerNumber } }",
                json!({"v": c.v2}),
            )
            .await["volunteer"]["volunteerNumber"]
            .clone();

        // A street's table counts them by star level (v2 3★, v1 4★).
        let street = s
            .ok(&s.admin, "mutation($k: String!) { establishStreet(idempotencyKey: $k, name: \"和平街道\") { streetId } }", json!({"k": key()}))
            .await["establishStreet"]["streetId"]
            .clone();
        let joined = s
            .ok(&s.admin, "mutation($k: String!, $c: ID!, $s: ID!) { joinStreet(idempotencyKey: $k, communityId: $c, streetId: $s, from: \"2018-01-01\") { position } }", json!({"k": key(), "c": c.id, "s": street}))
            .await["joinStreet"]["position"]
            .as_u64();
        let table = s
            .ok(&s.admin, "query($s: String!, $a: Int) { orgTable(scope: $s, atLeast: $a) { total { stars } } }", json!({"s": format!("STREET:{}", street.as_str().unwrap()), "a": joined}))
            .await;
        assert_eq!(
            table["orgTable"]["total"]["stars"],
            json!([0, 0, 1, 1, 0]),
            "{table}"
        );

        // Only the community's staff see the preview.
        let b = batch.0.to_string();
        for token in [&c.vol1, &c.other_staff] {
            let (_, body) = s.gql(Some(token), IMPACT, json!({"b": b, "p": head})).await;
            assert_eq!(code(&body), "FORBIDDEN");
        }
        let i =
            s.ok(&c.staff, IMPACT, json!({"b": b, "p": head})).await["importBatchImpact"].clone();
        assert_eq!(
            (
                i["rows"].as_i64(),
                i["entries"].as_i64(),
                i["reversed"].as_bool()
            ),
            (Some(3), Some(3), Some(false)),
            "{i}"
        );
        assert_eq!(
            (i["hours"].as_str(), i["annualReportYears"].clone()),
            (Some("5.00"), json!([2019]))
        );
        let (p1, p2) = (&i["volunteers"][0], &i["volunteers"][1]);
        assert_eq!(
            (
                p1["hours"].as_str(),
                p1["starsBefore"].as_i64(),
                p1["starsAfter"].as_i64()
            ),
            (Some("4.00"), Some(4), Some(0)),
            "{p1}"
        );
        assert_eq!(
            (p2["starsBefore"].as_i64(), p2["starsAfter"].as_i64()),
            (Some(3), Some(2))
        );
        assert_eq!(
            p1["certificates"],
            json!([{"number": cert["number"], "hoursStated": "4.00", "hoursAfter": "0.00"}])
        );
        // All time by hours: v1 falls out, v2 (falling too) passes them and is first.
        let all = |p: &Value| -> Value {
            p["rankings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["period"] == "ALL" && m["metric"] == "HOURS")
                .cloned()
                .unwrap()
        };
        assert_eq!(
            (all(p1)["before"].as_i64(), all(p1)["after"].as_i64()),
            (Some(1), None)
        );
        assert_eq!(all(p1)["passedBy"], json!([v2_number]));
        assert_eq!(
            (all(p2)["before"].as_i64(), all(p2)["after"].as_i64()),
            (Some(2), Some(1))
        );

        // The reversal, as one; then every read model says what the preview said.
        let r = s
            .ok(&c.staff, "mutation($k: String!, $b: ID!) { reverseImportBatch(idempotencyKey: $k, batchId: $b, reason: \"导错了表\") { entries volunteers position } }", json!({"k": key(), "b": b}))
            .await["reverseImportBatch"]
            .clone();
        assert_eq!(
            (r["entries"].as_i64(), r["volunteers"].as_i64()),
            (Some(3), Some(2))
        );
        let p = r["position"].as_u64();
        for (v, preview) in [(&c.v1, p1), (&c.v2, p2)] {
            let stars = s
                .ok(&c.staff, "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { stars } } }", json!({"v": v, "p": p}))
                .await["volunteer"]["balance"]["stars"]
                .clone();
            assert_eq!(stars, preview["starsAfter"]);
            for m in preview["rankings"].as_array().unwrap() {
                let got = s
                    .ok(
                        &c.staff,
                        RANK,
                        json!({"v": v, "m": m["metric"], "per": m["period"], "p": p}),
                    )
                    .await;
                assert_eq!(got["myRank"]["rank"], m["after"], "{m} {got}");
            }
        }
        // Each volunteer's first correction keeps their part of the preview, and names
        // the batch.
        let events = s
            .ok(
                &s.admin,
                "query($a: Int!) { events(after: $a, first: 10) { eventType payload } }",
                json!({"a": head}),
            )
            .await["events"]
            .clone();
        let reversals: Vec<Value> = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["eventType"] == "EntryReversed")
            .map(|e| serde_json::from_str(e["payload"].as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(reversals.len(), 3);
        assert!(reversals.iter().all(|r| r["batch"] == json!(b)));
        let kept: Vec<&Value> = reversals.iter().filter_map(|r| r.get("impact")).collect();
        assert_eq!(kept.len(), 2, "one note per volunteer");
        assert!(kept
            .iter()
            .any(|k| k["stars_before"] == 4 && k["stars_after"] == 0));
        assert!(events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["eventType"] == "ImportBatchReversed"));
        // The community's imports list it, reversed; other staff do not see them.
        let list = s
            .ok(&c.staff, "query($c: ID!) { importBatches(communityId: $c) { batchId file rows volunteers reversed } }", json!({"c": c.id}))
            .await["importBatches"]
            .clone();
        assert_eq!(
            list,
            json!([{"batchId": b, "file": "2019台账.xlsx", "rows": 3, "volunteers": 2, "reversed": true}])
        );
        let (_, body) = s
            .gql(
                Some(&c.other_staff),
                "query($c: ID!) { importBatches(communityId: $c) { batchId } }",
                json!({"c": c.id}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        // Once only.
        let (_, body) = s
            .gql(Some(&c.staff), "mutation($k: String!, $b: ID!) { reverseImportBatch(idempotencyKey: $k, batchId: $b, reason: \"again\") { entries } }", json!({"k": key(), "b": b}))
            .await;
        assert_eq!(code(&body), "INVALID_STATE");
        s.stop().await;
    }
}
