//! Documents over HTTP on each backend: the annual report (figures equal to the
//! projections' rankings, pinned and reproduced after a reversal, downloaded as XLSX,
//! CSV and HTML), certificates (issued by staff, idempotent, checked publicly without a
//! token, changed by a later reversal), statement exports, and who may read what.

mod common;

use common::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(
        v.as_str()
            .unwrap_or_else(|| panic!("not a decimal string: {v}")),
    )
    .expect("decimal")
}

struct File {
    status: u16,
    content_type: String,
    position: Option<u64>,
    disposition: String,
    bytes: Vec<u8>,
}

async fn download(s: &Server, token: Option<&str>, url: &str) -> File {
    let mut req = s.http.get(s.url(url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("send");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    File {
        status: resp.status().as_u16(),
        content_type: header("content-type"),
        position: header("x-timebank-position").parse().ok(),
        disposition: header("content-disposition"),
        bytes: resp.bytes().await.expect("body").to_vec(),
    }
}

const REPORT: &str =
    "query($c: ID!, $y: Int!, $at: Int) { annualReport(communityId: $c, year: $y, at: $at) {
    communityName year position
    totals { activeVolunteers services verifiedHours pointsAwarded pointsRedeemed }
    servicesByKind { kind label services hours }
    topByHours { rank volunteerId name hours points starLevel newStars }
    topByPoints { rank volunteerId hours points }
    months { month hours }
    downloads { url format contentType position } } }";

const CERT_CHECK: &str =
    "query($n: String!, $code: String!) { certificate(number: $n, checkCode: $code) {
    number position holderNameMasked changedSinceIssue currentPosition
    issuer { organisation }
    issued { totalHours services content volunteerNumber }
    current { totalHours services }
    corrections { reverses hours reason } } }";

/// v1 (张三丰) patrols 3 h in March 2025; v2 (李四) repairs 1.5 h in July 2025 and is
/// awarded 10 points, then redeems 4. Returns v1's verified entry.
async fn history(s: &Server, c: &Community) -> String {
    let log = "mutation($k: String!, $v: ID!, $kind: ServiceKind!, $at: DateTime!, $h: Hours!) {
        logService(idempotencyKey: $k, volunteerId: $v, kind: $kind, startedAt: $at, hours: $h) { serviceId } }";
    let verify = "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId } }";
    let mut entry = String::new();
    for (v, kind, at, h) in [
        (&c.v1, "PATROL", "2025-03-10T09:00:00+08:00", "3.00"),
        (&c.v2, "REPAIR", "2025-07-02T14:00:00+08:00", "1.50"),
    ] {
        let d = s
            .ok(
                &c.staff,
                log,
                json!({"k": key(), "v": v, "kind": kind, "at": at, "h": h}),
            )
            .await;
        let sid = d["logService"]["serviceId"].as_str().unwrap().to_string();
        let d = s
            .ok(&c.staff, verify, json!({"k": key(), "v": v, "s": sid}))
            .await;
        if v == &c.v1 {
            entry = d["verifyService"]["entryId"].as_str().unwrap().to_string();
        }
    }
    s.ok(
        &c.staff,
        "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"10.00\", reason: \"楼道清理\") { entryId } }",
        json!({"k": key(), "v": c.v2}),
    )
    .await;
    s.ok(
        &c.staff,
        "mutation($k: String!, $v: ID!) { redeemPoints(idempotencyKey: $k, volunteerId: $v, points: \"4.00\", item: \"洗衣液\") { entryId } }",
        json!({"k": key(), "v": c.v2}),
    )
    .await;
    entry
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_certificates_and_exports() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let v1_entry = history(&s, &c).await;
        let head = s.head().await;

        // The annual report, as the community's staff.
        let vars = json!({"c": c.id, "y": 2025});
        let r = s.ok(&c.staff, REPORT, vars.clone()).await["annualReport"].clone();
        assert_eq!(r["communityName"], "海棠社区");
        assert_eq!(
            r["position"].as_u64(),
            Some(head),
            "{backend}: pinned at the head"
        );
        assert_eq!(r["totals"]["activeVolunteers"], 2);
        assert_eq!(r["totals"]["services"], 2);
        assert_eq!(dec(&r["totals"]["verifiedHours"]), Decimal::new(45, 1));
        // Awards and redemptions count when recorded (this year), not in 2025.
        assert_eq!(dec(&r["totals"]["pointsRedeemed"]), Decimal::ZERO);
        let this_year = {
            use chrono::Datelike;
            (chrono::Utc::now() + chrono::Duration::hours(8)).year()
        };
        let t = s
            .ok(&c.staff, REPORT, json!({"c": c.id, "y": this_year}))
            .await["annualReport"]["totals"]
            .clone();
        assert_eq!(dec(&t["pointsAwarded"]), Decimal::from(10), "{t}");
        assert_eq!(dec(&t["pointsRedeemed"]), Decimal::from(4), "{t}");
        let kinds: Vec<(String, String)> = r["servicesByKind"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["services"].as_i64() != Some(0))
            .map(|k| {
                (
                    k["kind"].as_str().unwrap().into(),
                    k["label"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert!(
            kinds.contains(&("PATROL".into(), "巡逻".into())),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&("REPAIR".into(), "维修".into())),
            "{kinds:?}"
        );
        let top = &r["topByHours"][0];
        assert_eq!(top["volunteerId"], c.v1.as_str());
        assert_eq!(top["name"], "张三丰");
        assert_eq!(dec(&top["hours"]), Decimal::from(3));
        assert_eq!(r["months"][2]["month"], 3);
        assert_eq!(dec(&r["months"][2]["hours"]), Decimal::from(3));
        assert_eq!(dec(&r["months"][6]["hours"]), Decimal::new(15, 1));

        // The report's figures equal the projections' (the year's ranking).
        for (metric, list, field) in [
            ("HOURS", "topByHours", "hours"),
            ("POINTS", "topByPoints", "points"),
        ] {
            let ranking = s
                .ok(
                    &c.staff,
                    "query($c: ID!, $m: RankMetric!, $at: Int) { ranking(communityId: $c, metric: $m, period: \"2025\", atLeast: $at, first: 20) { rows { volunteerId hours points rank } } }",
                    json!({"c": c.id, "m": metric, "at": head}),
                )
                .await["ranking"]["rows"]
                .clone();
            let from_ranking: Vec<(String, Decimal, Decimal)> = ranking
                .as_array()
                .unwrap()
                .iter()
                .filter(|row| dec(&row[field]) != Decimal::ZERO)
                .map(|row| {
                    (
                        row["volunteerId"].as_str().unwrap().to_string(),
                        dec(&row["hours"]),
                        dec(&row["points"]),
                    )
                })
                .collect();
            let from_report: Vec<(String, Decimal, Decimal)> = r[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| {
                    (
                        row["volunteerId"].as_str().unwrap().to_string(),
                        dec(&row["hours"]),
                        dec(&row["points"]),
                    )
                })
                .collect();
            assert_eq!(from_report, from_ranking, "{backend}: {metric}");
        }

        // Who may read it.
        for (who, token) in [
            ("volunteer", &c.vol1),
            ("display", &c.display),
            ("other staff", &c.other_staff),
        ] {
            let (_, body) = s.gql(Some(token), REPORT, vars.clone()).await;
            assert_eq!(code(&body), "FORBIDDEN", "{who}: {body}");
        }
        s.ok(&s.admin, REPORT, vars.clone()).await;
        let (_, body) = s
            .gql(
                Some(&c.staff),
                REPORT,
                json!({"c": c.id, "y": 2025, "at": head + 1000}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "{body}");

        // The files it links to.
        let links = r["downloads"].as_array().unwrap().clone();
        assert_eq!(links.len(), 3);
        let mut files = std::collections::HashMap::new();
        for l in &links {
            assert_eq!(l["position"].as_u64(), Some(head));
            let url = l["url"].as_str().unwrap();
            let f = download(&s, Some(&c.staff), url).await;
            assert_eq!(
                f.status,
                200,
                "{url}: {}",
                String::from_utf8_lossy(&f.bytes)
            );
            assert_eq!(f.position, Some(head));
            assert_eq!(f.content_type, l["contentType"].as_str().unwrap());
            files.insert(
                l["format"].as_str().unwrap().to_string(),
                (url.to_string(), f),
            );
        }
        let (_, xlsx) = &files["XLSX"];
        assert!(xlsx.bytes.starts_with(b"PK"), "a zip container");
        assert!(
            xlsx.disposition.contains("filename*=UTF-8''"),
            "{}",
            xlsx.disposition
        );
        let (csv_url, csv) = &files["CSV"];
        assert!(csv.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
        let csv_text = String::from_utf8(csv.bytes.clone()).expect("utf-8");
        assert!(csv_text.contains("张三丰"));
        let (_, html) = &files["HTML"];
        let html_text = String::from_utf8(html.bytes.clone()).expect("utf-8");
        assert!(html_text.contains("<svg"), "charts");
        assert!(html_text.contains("海棠社区"));
        // Downloads need the community's staff (or admin).
        assert_eq!(download(&s, None, csv_url).await.status, 401);
        assert_eq!(download(&s, Some(&c.vol1), csv_url).await.status, 403);
        assert_eq!(
            download(&s, Some(&c.other_staff), csv_url).await.status,
            403
        );
        assert_eq!(download(&s, Some(&s.admin), csv_url).await.status, 200);
        let bad = format!(
            "/documents/annual-report?communityId={}&year=2025&format=pdf",
            c.id
        );
        let f = download(&s, Some(&c.staff), &bad).await;
        assert_eq!(f.status, 400);
        assert!(String::from_utf8_lossy(&f.bytes).contains("INVALID_INPUT"));

        // A certificate, issued by staff before a correction.
        let issue = "mutation($k: String!, $v: ID!) { issueCertificate(idempotencyKey: $k, volunteerId: $v,
            issuer: { organisation: \"海棠社区居民委员会\", personInCharge: \"王书记\", handler: \"李干事\", contact: \"010-1234\" }) {
            number position holderName checkCode record { totalHours services content } page { url } } }";
        let k = key();
        let cert =
            s.ok(&c.staff, issue, json!({"k": k, "v": c.v1})).await["issueCertificate"].clone();
        let number = cert["number"].as_str().unwrap().to_string();
        assert!(number.starts_with("TB-"), "{number}");
        let check_code = cert["checkCode"].as_str().unwrap().to_string();
        assert!(
            check_code.len() == 9 && check_code.as_bytes()[4] == b'-',
            "{check_code}"
        );
        assert_eq!(cert["position"].as_u64(), Some(head));
        assert_eq!(cert["holderName"], "张三丰");
        assert_eq!(dec(&cert["record"]["totalHours"]), Decimal::from(3));
        assert!(cert["record"]["content"]
            .as_str()
            .unwrap()
            .contains("巡逻 1 次 3 小时"));
        let again =
            s.ok(&c.staff, issue, json!({"k": k, "v": c.v1})).await["issueCertificate"].clone();
        assert_eq!(
            again["number"],
            number.as_str(),
            "a retry issues nothing new"
        );
        let (_, body) = s
            .gql(Some(&c.staff), issue, json!({"k": k, "v": c.v2}))
            .await;
        assert_eq!(code(&body), "IDEMPOTENCY_MISMATCH", "{body}");
        for (who, token) in [("volunteer", &c.vol1), ("other staff", &c.other_staff)] {
            let (_, body) = s
                .gql(Some(token), issue, json!({"k": key(), "v": c.v1}))
                .await;
            assert_eq!(code(&body), "FORBIDDEN", "{who}: {body}");
        }
        let list = s
            .ok(&c.vol1, "{ certificates { number checkCode } }", json!({}))
            .await;
        assert_eq!(
            list["certificates"],
            json!([{"number": number, "checkCode": check_code}])
        );
        // Its printable page: for the volunteer and the community's staff.
        let page_url = cert["page"]["url"].as_str().unwrap().to_string();
        let page = download(&s, Some(&c.vol1), &page_url).await;
        assert_eq!(page.status, 200);
        let page_text = String::from_utf8(page.bytes).expect("utf-8");
        assert!(page_text.contains("志愿服务记录证明") && page_text.contains(&number));
        assert!(page_text.contains(&check_code), "the code is printed on it");
        assert_eq!(download(&s, Some(&c.vol2), &page_url).await.status, 403);
        assert_eq!(download(&s, None, &page_url).await.status, 401);

        // The public check needs no token, but the code printed on the certificate
        // (typed in any case, without its dash).
        let typed = check_code.replace('-', "").to_lowercase();
        let (status, body) = s
            .gql(None, CERT_CHECK, json!({"n": number, "code": typed}))
            .await;
        assert_eq!(status, 200, "{body}");
        let check = &body["data"]["certificate"];
        assert_eq!(check["changedSinceIssue"], false);
        assert_eq!(check["holderNameMasked"], "张**");
        assert_eq!(check["issuer"]["organisation"], "海棠社区居民委员会");
        // A wrong code, or an unknown number, tells nothing: walking the sequential
        // numbers reads no one's name or hours.
        let wrong = if check_code.starts_with('0') {
            "1111-1111"
        } else {
            "0000-0000"
        };
        for (n, code_given) in [
            (number.as_str(), wrong),
            ("TB-1999-000001", check_code.as_str()),
        ] {
            let (status, body) = s
                .gql(None, CERT_CHECK, json!({"n": n, "code": code_given}))
                .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["data"]["certificate"], Value::Null, "{body}");
        }
        let (_, body) = s
            .gql(
                None,
                "query($n: String!) { certificate(number: $n, checkCode: \"\") { number } }",
                json!({"n": number}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "{body}");
        let (_, body) = s
            .gql(
                None,
                "query($n: String!) { certificate(number: $n) { number } }",
                json!({"n": number}),
            )
            .await;
        assert!(body.get("data").is_none(), "the code is required: {body}");
        // Nothing else runs without a token.
        for q in [
            "{ me { role } }",
            "{ certificate(number: \"x\", checkCode: \"y\") { number } me { role } }",
            "mutation { __typename }",
            "{ ...F } fragment F on Query { certificate(number: \"x\", checkCode: \"y\") { number } }",
            "not graphql",
        ] {
            let (status, body) = s.gql(None, q, json!({})).await;
            assert_eq!(status, 401, "{q}: {body}");
            assert_eq!(code(&body), "UNAUTHENTICATED");
        }

        // A statement export, for the volunteer.
        let exp = s
            .ok(
                &c.vol1,
                "{ statementExport(format: XLSX) { url position contentType } }",
                json!({}),
            )
            .await["statementExport"]
            .clone();
        let f = download(&s, Some(&c.vol1), exp["url"].as_str().unwrap()).await;
        assert_eq!(f.status, 200);
        assert!(f.bytes.starts_with(b"PK"));
        let exp = s
            .ok(
                &c.staff,
                "query($v: ID!) { statementExport(volunteerId: $v, format: CSV) { url } }",
                json!({"v": c.v2}),
            )
            .await["statementExport"]
            .clone();
        let f = download(&s, Some(&c.staff), exp["url"].as_str().unwrap()).await;
        assert_eq!(f.status, 200);
        let text = String::from_utf8(f.bytes).expect("utf-8");
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("洗衣液"), "{text}");
        let (_, body) = s
            .gql(
                Some(&c.vol1),
                "query($v: ID!) { statementExport(volunteerId: $v) { url } }",
                json!({"v": c.v2}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        assert_eq!(
            download(&s, Some(&c.vol1), exp["url"].as_str().unwrap())
                .await
                .status,
            403
        );

        // A correction after issuing: the pinned report and certificate stand, the
        // current ones change.
        s.ok(
            &c.staff,
            "mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"重复登记\") { entryId } }",
            json!({"k": key(), "v": c.v1, "e": v1_entry}),
        )
        .await;
        let pinned = s
            .ok(&c.staff, REPORT, json!({"c": c.id, "y": 2025, "at": head}))
            .await["annualReport"]
            .clone();
        assert_eq!(pinned, r, "{backend}: the pinned report is unchanged");
        let now = s.ok(&c.staff, REPORT, vars.clone()).await["annualReport"].clone();
        assert!(now["position"].as_u64().unwrap() > head);
        assert_eq!(dec(&now["totals"]["verifiedHours"]), Decimal::new(15, 1));
        let again = download(&s, Some(&c.staff), csv_url).await;
        assert_eq!(
            again.bytes, csv.bytes,
            "{backend}: the pinned CSV is reproduced exactly"
        );
        let (_, body) = s
            .gql(None, CERT_CHECK, json!({"n": number, "code": check_code}))
            .await;
        let check = &body["data"]["certificate"];
        assert_eq!(check["changedSinceIssue"], true, "{body}");
        assert_eq!(dec(&check["issued"]["totalHours"]), Decimal::from(3));
        assert_eq!(dec(&check["current"]["totalHours"]), Decimal::ZERO);
        assert_eq!(check["corrections"][0]["reverses"], v1_entry.as_str());
        assert_eq!(check["corrections"][0]["reason"], "重复登记");

        s.stop().await;
    }
}
