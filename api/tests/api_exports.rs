//! Exports for the authorities over HTTP on both backends: a community's event log of a
//! period (who, what, when, recorded and verified by whom, corrections linked both
//! ways), its member list (phones and ID numbers whole for its staff, masked for the
//! street office), and hours per volunteer for a period (a history import's past hours
//! included), as CSV and XLSX, streamed with their position and row count; a street's
//! exports cover its communities; others are refused.

mod common;

use common::*;
use ledger::command::*;
use ledger::ids::*;
use serde_json::{json, Value};

fn uuid(s: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(s).unwrap()
}

/// The rows of a CSV export (its BOM dropped), each a list of fields.
fn rows(csv: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in csv.trim_start_matches('\u{feff}').split("\r\n") {
        if line.is_empty() {
            continue;
        }
        // Fields here hold no quotes or commas but the ones the test looks for.
        out.push(
            line.split(',')
                .map(|f| f.trim_matches('"').to_string())
                .collect(),
        );
    }
    out
}

async fn get(s: &Server, token: &str, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = s
        .http
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.bytes().await.unwrap().to_vec())
}

async fn mutate(s: &Server, token: &str, q: &str, v: Value, field: &str) -> Value {
    s.ok(token, q, v).await[field].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exports_for_the_authorities() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        // v1 serves 2 h (verified by staff); an award to v2, reversed.
        let sid = mutate(&s, &c.vol1, "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2026-11-10T02:00:00Z\", hours: \"2\") { serviceId } }", json!({"k": key()}), "logService").await["serviceId"].clone();
        mutate(&s, &c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId } }", json!({"k": key(), "v": c.v1, "s": sid}), "verifyService").await;
        let award = mutate(&s, &c.staff, "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"5\", reason: \"楼道清理\") { entryId position } }", json!({"k": key(), "v": c.v2}), "awardPoints").await;
        mutate(&s, &c.staff, "mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"重复录入\") { position } }", json!({"k": key(), "v": c.v2, "e": award["entryId"]}), "reverseEntry").await;
        // v2's 2019 hours, from a history import.
        let h = CommandHandler::new(s.store.clone());
        let clerk = Actor::staff(uuid::Uuid::new_v4(), CommunityId(uuid(&c.id)));
        let row = ImportHistoryRow {
            community_id: CommunityId(uuid(&c.id)),
            batch_id: ImportBatchId(uuid::Uuid::new_v4()),
            file: "2019台账.xlsx".into(),
            row: 2,
            volunteer_id: VolunteerId(uuid(&c.v2)),
            kind: ledger::event::ServiceKind::Repair,
            date: chrono::NaiveDate::from_ymd_opt(2019, 4, 1).unwrap(),
            hours: 3.into(),
            note: String::new(),
        };
        h.run(&clerk, "row-2", row).await.unwrap();
        let numbers = s
            .ok(
                &c.staff,
                "query($c: ID!) { volunteers(communityId: $c) { volunteers { id volunteerNumber } } }",
                json!({"c": c.id}),
            )
            .await;
        let number = |v: &str| -> String {
            numbers["volunteers"]["volunteers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["id"] == v)
                .map(|n| n["volunteerNumber"].as_str().unwrap().to_string())
                .unwrap()
        };
        let (n1, n2) = (number(&c.v1), number(&c.v2));
        s.projections
            .wait_for(s.head().await, std::time::Duration::from_secs(10))
            .await
            .unwrap();

        // The event log of this year.
        let log = format!(
            "/documents/export/event-log?communityId={}&from=2026-01-01&to=2099-12-31",
            c.id
        );
        let (status, headers, body) = get(&s, &c.staff, &log).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert!(headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''"));
        let csv = String::from_utf8(body).unwrap();
        let all = rows(&csv);
        assert_eq!(all[0][..4], ["位置", "记录时间", "社区", "事件"]);
        let count: usize = headers["x-timebank-rows"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(count, all.len() - 1);
        let find = |what: &str| -> Vec<String> {
            all.iter()
                .find(|r| r[3] == what)
                .cloned()
                .unwrap_or_else(|| panic!("no {what} in {csv}"))
        };
        let verified = find("服务审核通过");
        assert_eq!(
            (verified[4].as_str(), verified[6].as_str()),
            (n1.as_str(), "2")
        );
        assert_eq!(verified[8], n1, "logged by the volunteer");
        assert!(
            verified[9].starts_with("工作人员 "),
            "verified by staff: {verified:?}"
        );
        let awarded = find("积分奖励");
        let reversal = find("冲正");
        assert!(
            awarded[11].contains(&format!("已被位置 {} 的冲正更正", reversal[0])),
            "{awarded:?}"
        );
        assert!(
            reversal[11].contains(&format!("（位置 {}）", awarded[0])),
            "{reversal:?}"
        );
        assert_eq!((reversal[6].as_str(), reversal[7].as_str()), ("", "-5.00"));
        assert!(find("历史导入")[5].contains("2019台账.xlsx 第2行"));
        // A period with nothing recorded: the header alone.
        let (_, _, empty) = get(
            &s,
            &c.staff,
            &format!(
                "/documents/export/event-log?communityId={}&from=2020-01-01&to=2020-12-31",
                c.id
            ),
        )
        .await;
        assert_eq!(rows(&String::from_utf8(empty).unwrap()).len(), 1);
        // The same as XLSX.
        let (status, headers, xlsx) = get(&s, &c.staff, &format!("{log}&format=xlsx")).await;
        assert_eq!(status, 200);
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml"));
        assert_eq!(&xlsx[..2], b"PK");
        assert_eq!(
            headers["x-timebank-rows"]
                .to_str()
                .unwrap()
                .parse::<usize>()
                .unwrap(),
            count
        );

        // Hours per volunteer in 2019: v2's imported hours.
        let hours = format!(
            "/documents/export/hours?communityId={}&from=2019-01-01&to=2019-12-31",
            c.id
        );
        let (_, _, body) = get(&s, &c.staff, &hours).await;
        let sheet = rows(&String::from_utf8(body).unwrap());
        assert_eq!(sheet.len(), 2, "{sheet:?}");
        assert_eq!(
            (
                sheet[1][0].as_str(),
                sheet[1][4].as_str(),
                sheet[1][5].as_str()
            ),
            (n2.as_str(), "3", "1")
        );
        assert_eq!(
            (sheet[1][7].as_str(), sheet[1][8].as_str()),
            ("2019-01-01", "2019-12-31")
        );

        // The member list: whole for the community's staff.
        let members = format!("/documents/export/members?communityId={}", c.id);
        let (_, _, body) = get(&s, &c.staff, &members).await;
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains("13812345678") && text.contains("张三丰"),
            "{text}"
        );

        // The street office: its communities' exports, masked; no other street's.
        let street = mutate(&s, &s.admin, "mutation($k: String!) { establishStreet(idempotencyKey: $k, name: \"和平街道\") { streetId } }", json!({"k": key()}), "establishStreet").await["streetId"].clone();
        mutate(&s, &s.admin, "mutation($k: String!, $c: ID!, $s: ID!) { joinStreet(idempotencyKey: $k, communityId: $c, streetId: $s, from: \"2020-01-01\") { from } }", json!({"k": key(), "c": c.id, "s": street}), "joinStreet").await;
        let office = mutate(&s, &s.admin, "mutation($s: ID!) { issueToken(role: STREET, streetId: $s, label: \"和平街道办\") { token } }", json!({"s": street}), "issueToken").await["token"].as_str().unwrap().to_string();
        s.projections
            .wait_for(s.head().await, std::time::Duration::from_secs(10))
            .await
            .unwrap();
        let by_street = format!(
            "/documents/export/members?streetId={}",
            street.as_str().unwrap()
        );
        let (status, _, body) = get(&s, &office, &by_street).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains("138****5678") && !text.contains("13812345678"),
            "{text}"
        );
        assert!(
            text.contains("海棠社区") && !text.contains("枫林社区"),
            "{text}"
        );
        let (status, _, _) = get(&s, &office, &members).await;
        assert_eq!(status, 200, "the street office reads its community's list");

        // Others are refused; a scope is needed.
        let (status, _, body) = get(&s, &c.other_staff, &members).await;
        assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
        let (status, _, _) = get(&s, &c.vol1, &members).await;
        assert_eq!(status, 403);
        let (status, _, _) = get(&s, &c.staff, &by_street).await;
        assert_eq!(status, 403);
        let (status, _, _) = get(&s, &c.staff, "/documents/export/members").await;
        assert_eq!(status, 400);
        let (status, _, _) = get(&s, &c.staff, &format!("{hours}&format=html")).await;
        assert_eq!(status, 400);
        s.stop().await;
    }
}
