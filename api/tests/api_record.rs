//! The service record beyond services over HTTP on both backends: staff record training
//! (its hours apart: the balance and the stars do not move) and a commendation resting
//! on the pinned annual report, withdraw a record in error once; a service is evaluated
//! once, by staff or by the volunteer who received it for hours (two racing, one wins);
//! the record shows on the volunteer, their statement export and their certificate.

mod common;

use common::*;
use serde_json::{json, Value};

const RECORD: &str = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) {
    balance { hours verifiedHours stars }
    serviceRecord { trainingHours satisfaction evaluationCount
      trainings { recordId course hours date withdrawnReason }
      commendations { recordId title date reportYear reportPosition withdrawnReason }
      evaluations { serviceId kind hours satisfaction comment byResident }
      awaitingEvaluation { serviceId }
      received { serviceId providerId description satisfaction } } } }";
const TRAINING: &str = "mutation($k: String!, $v: ID!, $h: Hours!) { recordTraining(idempotencyKey: $k, volunteerId: $v, course: \"应急救护培训\", hours: $h, date: \"2026-11-20\") { recordId position } }";
const COMMEND: &str = "mutation($k: String!, $v: ID!, $y: Int, $p: Int) { giveCommendation(idempotencyKey: $k, volunteerId: $v, title: \"2026年度优秀志愿者\", date: \"2026-12-01\", reportYear: $y, reportPosition: $p) { recordId position } }";
const WITHDRAW: &str = "mutation($k: String!, $v: ID!, $r: ID!) { withdrawRecord(idempotencyKey: $k, volunteerId: $v, recordId: $r, reason: \"录错了人\") { position } }";
const EVALUATE: &str = "mutation($k: String!, $v: ID!, $s: ID!, $n: Int!) { evaluateService(idempotencyKey: $k, volunteerId: $v, serviceId: $s, satisfaction: $n, comment: \"很耐心\") { satisfaction position } }";

async fn record(s: &Server, token: &str, v: &str, p: Option<u64>) -> Value {
    s.ok(token, RECORD, json!({"v": v, "p": p})).await["volunteer"].clone()
}

/// A service of `v` (logged by the volunteer, verified by staff): its id.
async fn served(s: &Server, c: &Community, token: &str, v: &str, hours: &str) -> String {
    let sid = s
        .ok(token, "mutation($k: String!, $h: Hours!) { logService(idempotencyKey: $k, kind: ELDERLY_VISIT, startedAt: \"2026-11-01T02:00:00Z\", hours: $h) { serviceId } }", json!({"k": key(), "h": hours}))
        .await["logService"]["serviceId"]
        .as_str()
        .unwrap()
        .to_string();
    s.ok(&c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { position } }", json!({"k": key(), "v": v, "s": sid}))
        .await;
    sid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn training_and_commendations_go_on_the_record_apart_from_service_hours() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        served(&s, &c, &c.vol1, &c.v1, "2").await;
        let before = record(&s, &c.staff, &c.v1, Some(s.head().await)).await;
        let t = s
            .ok(&c.staff, TRAINING, json!({"k": key(), "v": c.v1, "h": "3"}))
            .await["recordTraining"]
            .clone();
        let after = record(&s, &c.staff, &c.v1, t["position"].as_u64()).await;
        let r = &after["serviceRecord"];
        assert_eq!(r["trainingHours"], "3.00", "{r}");
        assert_eq!(r["trainings"][0]["course"], "应急救护培训");
        assert_eq!(
            after["balance"], before["balance"],
            "training banks nothing and moves no star"
        );
        // A volunteer does not record their own training.
        let (_, body) = s
            .gql(
                Some(&c.vol1),
                TRAINING,
                json!({"k": key(), "v": c.v1, "h": "1"}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        // Withdrawn once, with the reason; its hours no longer count.
        let w = json!({"k": key(), "v": c.v1, "r": t["recordId"]});
        let p = s.ok(&c.staff, WITHDRAW, w.clone()).await["withdrawRecord"]["position"].as_u64();
        let (_, body) = s
            .gql(
                Some(&c.staff),
                WITHDRAW,
                json!({"k": key(), "v": c.v1, "r": t["recordId"]}),
            )
            .await;
        assert_eq!(code(&body), "ALREADY_WITHDRAWN");
        let r = record(&s, &c.staff, &c.v1, p).await["serviceRecord"].clone();
        assert_eq!(r["trainingHours"], "0.00");
        assert_eq!(r["trainings"][0]["withdrawnReason"], "录错了人");

        // A commendation rests on the annual report as pinned now; a position not yet
        // in the log is refused, and so is half of the evidence.
        let head = s.head().await;
        let (_, body) = s
            .gql(
                Some(&c.staff),
                COMMEND,
                json!({"k": key(), "v": c.v1, "y": 2026, "p": head + 1000}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "{body}");
        let (_, body) = s
            .gql(
                Some(&c.staff),
                COMMEND,
                json!({"k": key(), "v": c.v1, "y": 2026}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "{body}");
        let report = s
            .ok(
                &c.staff,
                "query($c: ID!) { annualReport(communityId: $c, year: 2026) { position } }",
                json!({"c": c.id}),
            )
            .await["annualReport"]["position"]
            .as_u64()
            .unwrap();
        let p = s
            .ok(
                &c.staff,
                COMMEND,
                json!({"k": key(), "v": c.v1, "y": 2026, "p": report}),
            )
            .await["giveCommendation"]["position"]
            .as_u64();
        s.ok(
            &c.staff,
            TRAINING,
            json!({"k": key(), "v": c.v1, "h": "1.5"}),
        )
        .await;
        let r = record(&s, &c.vol1, &c.v1, p).await["serviceRecord"].clone();
        assert_eq!(
            (
                &r["commendations"][0]["title"],
                &r["commendations"][0]["reportYear"],
                r["commendations"][0]["reportPosition"].as_u64()
            ),
            (&json!("2026年度优秀志愿者"), &json!(2026), Some(report)),
            "the volunteer sees their own record"
        );
        // The certificate states the training and the commendation.
        let cert = s
            .ok(&c.staff, "mutation($k: String!, $v: ID!) { issueCertificate(idempotencyKey: $k, volunteerId: $v, issuer: { organisation: \"海棠社区居民委员会\" }) { record { trainingHours commendations } page { url } } }", json!({"k": key(), "v": c.v1}))
            .await["issueCertificate"]
            .clone();
        assert_eq!(cert["record"]["trainingHours"], "1.50");
        assert_eq!(
            cert["record"]["commendations"],
            json!(["2026年度优秀志愿者（2026年12月1日）"])
        );
        let html = s
            .http
            .get(s.url(cert["page"]["url"].as_str().unwrap()))
            .bearer_auth(&c.staff)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("参加培训") && html.contains("1.5 小时"),
            "{html}"
        );
        assert!(html.contains("2026年度优秀志愿者"), "{html}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_service_is_evaluated_once_by_staff_or_by_who_received_it() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let visit = served(&s, &c, &c.vol1, &c.v1, "2").await;
        served(&s, &c, &c.vol2, &c.v2, "2").await;
        // v2 spends hours on a haircut v1 gave: v1's service is recorded and verified.
        s.ok(&c.staff, "mutation($k: String!, $v: ID!, $pr: ID!) { spendHours(idempotencyKey: $k, volunteerId: $v, hours: \"0.5\", description: \"上门理发\", providerId: $pr, kind: OTHER) { position } }", json!({"k": key(), "v": c.v2, "pr": c.v1}))
            .await;
        let mine = record(&s, &c.vol2, &c.v2, Some(s.head().await)).await["serviceRecord"].clone();
        let haircut = mine["received"][0]["serviceId"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(mine["received"][0]["description"], "上门理发");
        assert_eq!(mine["received"][0]["satisfaction"], Value::Null);
        // v1 does not rate their own service; v2 rates it; staff then cannot again.
        let (_, body) = s
            .gql(
                Some(&c.vol1),
                EVALUATE,
                json!({"k": key(), "v": c.v1, "s": haircut, "n": 5}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        // v2 did not receive the elderly visit: they cannot rate it.
        let (_, body) = s
            .gql(
                Some(&c.vol2),
                EVALUATE,
                json!({"k": key(), "v": c.v1, "s": visit, "n": 5}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        let (_, body) = s
            .gql(
                Some(&c.vol2),
                EVALUATE,
                json!({"k": key(), "v": c.v1, "s": haircut, "n": 6}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT");
        let p = s
            .ok(
                &c.vol2,
                EVALUATE,
                json!({"k": key(), "v": c.v1, "s": haircut, "n": 4}),
            )
            .await["evaluateService"]["position"]
            .as_u64();
        let (_, body) = s
            .gql(
                Some(&c.staff),
                EVALUATE,
                json!({"k": key(), "v": c.v1, "s": haircut, "n": 5}),
            )
            .await;
        assert_eq!(code(&body), "ALREADY_EVALUATED");
        let mine = record(&s, &c.vol2, &c.v2, p).await["serviceRecord"].clone();
        assert_eq!(mine["received"][0]["satisfaction"], 4);

        // Two staff racing to record the visit's evaluation: one wins.
        let race = |n: i64| {
            let (http, url, token) = (s.http.clone(), s.url("/graphql"), c.staff.clone());
            let vars = json!({"k": key(), "v": c.v1, "s": visit, "n": n});
            tokio::spawn(async move {
                let r: Value = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"query": EVALUATE, "variables": vars}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                r
            })
        };
        let (a, b) = (race(5), race(3));
        let answers = [a.await.unwrap(), b.await.unwrap()];
        let won: Vec<&Value> = answers.iter().filter(|r| r["errors"].is_null()).collect();
        assert_eq!(won.len(), 1, "{answers:?}");
        let lost = answers.iter().find(|r| !r["errors"].is_null()).unwrap();
        assert_eq!(code(lost), "ALREADY_EVALUATED");
        let kept = won[0]["data"]["evaluateService"]["satisfaction"]
            .as_i64()
            .unwrap();
        let p = won[0]["data"]["evaluateService"]["position"].as_u64();

        let r = record(&s, &c.staff, &c.v1, p).await["serviceRecord"].clone();
        assert_eq!(r["evaluationCount"], 2);
        let mean = (4 + kept) as f64 / 2.0;
        assert_eq!(
            r["satisfaction"].as_str().unwrap().parse::<f64>().unwrap(),
            mean
        );
        assert_eq!(r["awaitingEvaluation"], json!([]), "{r}");
        let by_resident: Vec<bool> = r["evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["byResident"].as_bool().unwrap())
            .collect();
        assert!(by_resident.contains(&true) && by_resident.contains(&false));

        // The statement export lists the evaluations in its 服务档案 section.
        let url = s
            .ok(
                &c.staff,
                "query($v: ID!) { statementExport(volunteerId: $v, format: CSV) { url } }",
                json!({"v": c.v1}),
            )
            .await["statementExport"]["url"]
            .as_str()
            .unwrap()
            .to_string();
        let csv = s
            .http
            .get(s.url(&url))
            .bearer_auth(&c.staff)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(csv.contains("服务档案"), "{csv}");
        assert!(
            csv.contains("满意度 4 分") && csv.contains("服务对象评价：很耐心"),
            "{csv}"
        );
        // Public displays see no record.
        let (_, body) = s.gql(Some(&c.display), RECORD, json!({"v": c.v1})).await;
        assert!(
            body["data"]["volunteer"]["serviceRecord"].is_null(),
            "{body}"
        );
        s.stop().await;
    }
}
