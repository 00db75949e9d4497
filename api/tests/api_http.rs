//! End-to-end over HTTP on each backend: auth, content negotiation and status codes,
//! a service flow with read-your-writes, exact amounts, masking, and bad input.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_end_to_end() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        auth_and_routes(&s).await;
        negotiation(&s).await;
        let c = seed(&s).await;
        flow(&s, &c).await;
        masking(&s, &c).await;
        bad_input(&s, &c).await;
        // still up
        assert_eq!(
            s.ok(&s.admin, "{ __typename }", json!({})).await["__typename"],
            "Query"
        );
        s.stop().await;
    }
}

async fn auth_and_routes(s: &Server) {
    let health = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let h: Value = health.json().await.unwrap();
    assert_eq!(h["status"], "ok");
    assert!(h["projection_lag"].is_u64());

    let (status, body) = s.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(code(&body), "UNAUTHENTICATED");
    let (status, body) = s
        .gql(Some("tb_not-a-token"), "{ __typename }", json!({}))
        .await;
    assert_eq!(status, 401, "{body}");
    let m = s.http.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(m.status(), 401);
    let get = s
        .http
        .get(s.url("/graphql?query=%7B__typename%7D"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 401);

    let m = s
        .http
        .get(s.url("/metrics"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(m.status(), 200);
    let text = m.text().await.unwrap();
    for metric in [
        "timebank_http_requests_total",
        "timebank_command_duration_seconds_bucket",
        "timebank_append_batches_total",
        "timebank_projection_lag_events",
    ] {
        assert!(text.contains(metric), "metrics lack {metric}:\n{text}");
    }
    let g = s.http.get(s.url("/graphiql")).send().await.unwrap();
    assert_eq!(g.status(), 200);
    assert!(g.text().await.unwrap().contains("graphiql"));

    // revoked tokens stop working
    let (id, token) = api::issue_token_with_id(&s.store, api::Role::Admin, None, None, "temp")
        .await
        .unwrap();
    assert_eq!(
        s.gql(Some(&token), "{ __typename }", json!({})).await.0,
        200
    );
    assert!(api::revoke_token(&s.store, &id.to_string()).await.unwrap());
    let revoke = s
        .ok(
            &s.admin,
            "mutation($t: ID!) { revokeToken(tokenId: $t) }",
            json!({"t": id.to_string()}),
        )
        .await;
    assert_eq!(revoke["revokeToken"], false, "already revoked");
    assert_eq!(
        s.gql(Some(&token), "{ __typename }", json!({})).await.0,
        401
    );
}

async fn raw(
    s: &Server,
    method: &str,
    path: &str,
    ct: Option<&str>,
    accept: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    let mut r = match method {
        "GET" => s.http.get(s.url(path)),
        _ => s.http.post(s.url(path)).body(body.to_string()),
    }
    .bearer_auth(&s.admin);
    if let Some(ct) = ct {
        r = r.header("content-type", ct);
    }
    if let Some(a) = accept {
        r = r.header("accept", a);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

async fn negotiation(s: &Server) {
    let q = r#"{"query":"{ __typename }"}"#;
    let (st, ct, _) = raw(
        s,
        "POST",
        "/graphql",
        Some("application/json"),
        Some("application/graphql-response+json"),
        q,
    )
    .await;
    assert_eq!(
        (st, ct.starts_with("application/graphql-response+json")),
        (200, true)
    );
    let (st, ct, _) = raw(
        s,
        "POST",
        "/graphql",
        Some("application/json"),
        Some("application/json"),
        q,
    )
    .await;
    assert_eq!((st, ct.starts_with("application/json")), (200, true));
    let (st, ct, _) = raw(s, "POST", "/graphql", Some("application/json"), None, q).await;
    assert_eq!((st, ct.starts_with("application/json")), (200, true));
    let (st, _, _) = raw(
        s,
        "POST",
        "/graphql",
        Some("application/json"),
        Some("text/html"),
        q,
    )
    .await;
    assert_eq!(st, 406);
    // 415 for non-JSON bodies
    let (st, _, _) = raw(s, "POST", "/graphql", Some("text/plain"), None, q).await;
    assert_eq!(st, 415);
    let (st, _, _) = raw(s, "POST", "/graphql", None, None, q).await;
    assert_eq!(st, 415);
    // malformed JSON
    let (st, _, body) = raw(
        s,
        "POST",
        "/graphql",
        Some("application/json"),
        None,
        "{ \"not a JSON",
    )
    .await;
    assert_eq!(st, 400);
    assert!(body.contains("BAD_REQUEST"), "{body}");
    // 405 for mutations over GET
    let (st, _, body) = raw(
        s,
        "GET",
        "/graphql?query=mutation%7B__typename%7D",
        None,
        Some("application/graphql-response+json"),
        "",
    )
    .await;
    assert_eq!(st, 405, "{body}");
    // GET queries work
    let (st, _, body) = raw(s, "GET", "/graphql?query=%7B__typename%7D", None, None, "").await;
    assert_eq!(st, 200, "{body}");
    // validation failure: 400 without data under graphql-response+json, 200 under json
    let bad = r#"{"query":"{ noSuchField }"}"#;
    let (st, _, body) = raw(
        s,
        "POST",
        "/graphql",
        Some("application/json"),
        Some("application/graphql-response+json"),
        bad,
    )
    .await;
    assert_eq!(st, 400);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v.get("data").is_none());
    assert_eq!(code(&v), "GRAPHQL_VALIDATION_FAILED");
    let (st, _, _) = raw(
        s,
        "POST",
        "/graphql",
        Some("application/json"),
        Some("application/json"),
        bad,
    )
    .await;
    assert_eq!(st, 200);
    let (st, _, body) = raw(
        s,
        "POST",
        "/graphql",
        Some("application/json"),
        Some("application/graphql-response+json"),
        r#"{"query":"{"}"#,
    )
    .await;
    assert_eq!(st, 400);
    assert_eq!(
        code(&serde_json::from_str(&body).unwrap()),
        "GRAPHQL_PARSE_FAILED"
    );
}

async fn flow(s: &Server, c: &Community) {
    // a volunteer logs service, staff verify it, award and redeem points
    let log = s
        .ok(
            &c.vol1,
            "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2024-03-01T08:00:00Z\", hours: \"1.5\", place: \"3栋\") { serviceId position } }",
            json!({"k": key()}),
        )
        .await;
    let service = log["logService"]["serviceId"].as_str().unwrap().to_string();
    let v = s
        .ok(
            &c.staff,
            "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { hours points pointsBalance hoursBalance position } }",
            json!({"k": key(), "v": c.v1, "s": service}),
        )
        .await;
    assert_eq!(v["verifyService"]["hours"], "1.50");
    let award_key = key();
    let award = "mutation($k: String!, $v: ID!, $p: Points!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: $p, reason: \"楼道清理\") { entryId pointsBalance position replayed } }";
    let a = s
        .ok(
            &c.staff,
            award,
            json!({"k": award_key, "v": c.v1, "p": "12.50"}),
        )
        .await;
    assert_eq!(a["awardPoints"]["replayed"], false);
    let retry = s
        .ok(
            &c.staff,
            award,
            json!({"k": award_key, "v": c.v1, "p": "12.50"}),
        )
        .await;
    assert_eq!(retry["awardPoints"]["replayed"], true);
    assert_eq!(retry["awardPoints"]["entryId"], a["awardPoints"]["entryId"]);
    assert_eq!(
        retry["awardPoints"]["position"],
        a["awardPoints"]["position"]
    );
    let (_, mismatch) = s
        .gql(
            Some(&c.staff),
            award,
            json!({"k": award_key, "v": c.v1, "p": "13.00"}),
        )
        .await;
    assert_eq!(code(&mismatch), "IDEMPOTENCY_MISMATCH");
    let pos = a["awardPoints"]["position"].as_u64().unwrap();
    let redeem = "mutation($k: String!, $v: ID!, $p: Points!) { redeemPoints(idempotencyKey: $k, volunteerId: $v, points: $p, item: \"洗衣液\") { pointsBalance position } }";
    let (_, over) = s
        .gql(
            Some(&c.staff),
            redeem,
            json!({"k": key(), "v": c.v1, "p": "100000.00"}),
        )
        .await;
    assert_eq!(code(&over), "INSUFFICIENT_POINTS", "{over}");

    // read your writes
    let me = s
        .ok(
            &c.vol1,
            "query($p: Int) { me(atLeast: $p) { role volunteer { id name balance { points hours verifiedHours stars } } } }",
            json!({"p": pos}),
        )
        .await;
    assert_eq!(me["me"]["role"], "VOLUNTEER");
    let balance = &me["me"]["volunteer"]["balance"];
    assert_eq!(balance["hours"], "1.50");
    let pts = balance["points"].as_str().unwrap().to_string();
    let st = s
        .ok(
            &c.vol1,
            "query($v: ID!, $p: Int) { statement(volunteerId: $v, first: 10, atLeast: $p) { entries { kind pointsDelta pointsBalance hoursBalance } hasNextPage } }",
            json!({"v": c.v1, "p": pos}),
        )
        .await;
    let entries = st["statement"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["kind"], "POINTS_AWARDED");
    assert_eq!(entries[1]["pointsBalance"], pts.as_str());
    // a position far ahead is a stale read
    let (_, stale) = s
        .gql(
            Some(&c.vol1),
            "query { me(atLeast: 999999999) { role } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&stale), "STALE_READ", "{stale}");

    // rankings and wishes for the board (from the read models: read at least the
    // position of the last write)
    let a2 = s
        .ok(&c.staff, award, json!({"k": key(), "v": c.v2, "p": "2.00"}))
        .await;
    let pos2 = a2["awardPoints"]["position"].as_u64().unwrap();
    let r = s
        .ok(
            &c.display,
            "query($c: ID!, $p: Int) { ranking(communityId: $c, metric: POINTS, first: 5, atLeast: $p) { rows { rank name points } position } }",
            json!({"c": c.id, "p": pos2}),
        )
        .await;
    let rows = r["ranking"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{r}");
    assert_eq!(rows[0]["rank"], 1);
    assert_eq!(rows[0]["name"], "张**", "names are shortened on displays");
    assert_eq!(rows[1]["points"], "2.00");
    assert!(r["ranking"]["position"].as_u64().unwrap() >= pos2);
    let my = s
        .ok(
            &c.vol2,
            "query($p: Int) { myRank(metric: POINTS, atLeast: $p) { rank points name } }",
            json!({"p": pos2}),
        )
        .await;
    assert_eq!(my["myRank"]["rank"], 2);
    assert_eq!(my["myRank"]["points"], "2.00");
    assert_eq!(my["myRank"]["name"], "李四");
    // nothing to rank by yet in another period
    let my = s
        .ok(
            &c.vol2,
            "query($p: Int) { myRank(metric: HOURS, period: \"2024\", atLeast: $p) { rank } }",
            json!({"p": pos2}),
        )
        .await;
    assert!(my["myRank"].is_null(), "{my}");
    let (_, forbidden) = s
        .gql(
            Some(&c.vol2),
            "query($v: ID!) { volunteer(id: $v) { name } }",
            json!({"v": c.v1}),
        )
        .await;
    assert_eq!(code(&forbidden), "FORBIDDEN");
    let (_, forbidden) = s
        .gql(
            Some(&c.other_staff),
            "query($c: ID!) { volunteers(communityId: $c) { volunteers { id } } }",
            json!({"c": c.id}),
        )
        .await;
    assert_eq!(code(&forbidden), "FORBIDDEN");
    let ev = s
        .ok(
            &s.admin,
            "{ events(after: 0, first: 3) { position eventType } }",
            json!({}),
        )
        .await;
    assert_eq!(ev["events"].as_array().unwrap().len(), 3);
    let (_, forbidden) = s
        .gql(Some(&c.staff), "{ events { position } }", json!({}))
        .await;
    assert_eq!(code(&forbidden), "FORBIDDEN");
}

async fn masking(s: &Server, c: &Community) {
    let head = s.head().await;
    let q = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { name phone erased } }";
    let staff = s.ok(&c.staff, q, json!({"v": c.v1, "p": head})).await;
    assert_eq!(staff["volunteer"]["phone"], "13812345678");
    let admin = s.ok(&s.admin, q, json!({"v": c.v1, "p": head})).await;
    assert_eq!(admin["volunteer"]["phone"], "138****5678");
    let own = s.ok(&c.vol1, q, json!({"v": c.v1, "p": head})).await;
    assert_eq!(own["volunteer"]["phone"], "138****5678");
    let list = s
        .ok(
            &c.staff,
            "query($c: ID!, $p: Int) { volunteers(communityId: $c, search: \"李\", atLeast: $p) { volunteers { name phone } } }",
            json!({"c": c.id, "p": head}),
        )
        .await;
    assert_eq!(list["volunteers"]["volunteers"][0]["phone"], "13987654321");
    // erasure: the person shows as erased, totals stay
    let e = s
        .ok(
            &c.staff,
            "mutation($k: String!, $v: ID!) { eraseVolunteerPersonalData(idempotencyKey: $k, volunteerId: $v) { erased } }",
            json!({"k": key(), "v": c.v2}),
        )
        .await;
    assert_eq!(e["eraseVolunteerPersonalData"]["erased"], true);
    let after = s.ok(&c.staff, q, json!({"v": c.v2, "p": head})).await;
    assert_eq!(
        after["volunteer"],
        json!({"name": null, "phone": null, "erased": true})
    );
}

async fn bad_input(s: &Server, c: &Community) {
    let award = "mutation($k: String!, $v: ID!, $p: Points!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: $p, reason: \"r\") { pointsBalance } }";
    for bad in [
        json!(12.5),
        json!(12),
        json!("12.505"),
        json!("1e3"),
        json!("abc"),
        json!(null),
    ] {
        let (status, body) = s
            .gql(
                Some(&c.staff),
                award,
                json!({"k": key(), "v": c.v1, "p": bad}),
            )
            .await;
        assert!(status == 200 || status == 400, "{status}");
        assert_eq!(code(&body), "INVALID_INPUT", "points {bad}: {body}");
    }
    // literal numbers in the document too
    let (_, body) = s
        .gql(Some(&c.staff), &format!("mutation {{ awardPoints(idempotencyKey: \"x\", volunteerId: \"{}\", points: 12.5, reason: \"r\") {{ position }} }}", c.v1), json!({}))
        .await;
    assert_eq!(code(&body), "INVALID_INPUT", "{body}");
    // wrong id
    let (_, body) = s
        .gql(
            Some(&c.staff),
            award,
            json!({"k": key(), "v": "not-a-uuid", "p": "1.00"}),
        )
        .await;
    assert_eq!(code(&body), "INVALID_INPUT");
    let (_, body) = s
        .gql(
            Some(&c.staff),
            award,
            json!({"k": key(), "v": uuid::Uuid::new_v4().to_string(), "p": "1.00"}),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // hours finer than a minute
    let (_, body) = s
        .gql(Some(&c.vol1), "mutation { logService(idempotencyKey: \"h\", kind: REPAIR, startedAt: \"2024-03-01T08:00:00Z\", hours: \"0.01\") { serviceId } }", json!({}))
        .await;
    assert_eq!(code(&body), "INVALID_INPUT", "{body}");
    // over-long text (domain limit), huge strings (body limit)
    let long = "长".repeat(600);
    let (_, body) = s
        .gql(
            Some(&c.staff),
            award.replace("\\\"r\\\"", "$r").as_str(),
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_some());
    let (_, body) = s
        .gql(
            Some(&c.staff),
            "mutation($k: String!, $v: ID!, $r: String!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", reason: $r) { position } }",
            json!({"k": key(), "v": c.v1, "r": long}),
        )
        .await;
    assert_eq!(code(&body), "INVALID_INPUT", "{body}");
    let huge = "x".repeat(2 * 1024 * 1024);
    // Answered in full, never a broken connection, however often it is tried; the
    // connection is closed behind the answer, and the next requests go through.
    for _ in 0..5 {
        let (status, body) = s
            .gql(
                Some(&c.staff),
                "query($x: String) { __typename }",
                json!({"x": huge}),
            )
            .await;
        assert_eq!(status, 413);
        assert_eq!(code(&body), "PAYLOAD_TOO_LARGE", "{body}");
        assert_eq!(
            s.ok(&c.staff, "{ __typename }", json!({})).await["__typename"],
            "Query"
        );
    }
    // deep and complex queries are refused before they run
    let mut deep = format!(
        "{{ __schema {{ types {{ fields {{ type {}{{ name }}{} }} }} }} }} }}",
        "{ ofType ".repeat(9),
        " }".repeat(8)
    );
    let (status, body) = s.gql(Some(&c.staff), &deep, json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    deep = "{ a: __typename b: __typename }".to_string();
    assert_eq!(s.gql(Some(&c.staff), &deep, json!({})).await.0, 200);
    let nested = format!("{}{}", "{ __typename ".repeat(500), "}".repeat(500));
    let (status, _) = s.gql(Some(&c.staff), &nested, json!({})).await;
    assert_eq!(status, 400);
    let (_, body) = s
        .gql(
            Some(&c.staff),
            "query($c: ID!) { volunteers(communityId: $c, first: 100000) { hasNextPage } }",
            json!({"c": c.id}),
        )
        .await;
    assert_eq!(code(&body), "INVALID_INPUT");
    // wrong variable types
    let (status, body) = s
        .gql(
            Some(&c.staff),
            "query($c: ID!) { volunteers(communityId: $c) { hasNextPage } }",
            json!({"c": {"x": 1}}),
        )
        .await;
    assert!(status == 400 || status == 200);
    assert!(!code(&body).is_empty(), "{body}");
}

/// Stairwell scores, the red flag and the dashboard come from the read models.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn boards_from_read_models() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let month = "2024-05";
        let ins = s
            .ok(
                &c.staff,
                "mutation($k: String!, $c: ID!, $s: ID!, $m: String!) { recordInspection(idempotencyKey: $k, communityId: $c, stairwellId: $s, month: $m, scores: [{item: \"cleanliness\", score: \"28\"}, {item: \"clutter\", score: \"20\"}, {item: \"fire_safety\", score: \"25\"}]) { total position } }",
                json!({"k": key(), "c": c.id, "s": c.stairwell, "m": month}),
            )
            .await;
        let pos = ins["recordInspection"]["position"].as_u64().unwrap();
        let scores = s
            .ok(
                &c.display,
                "query($c: ID!, $m: String!, $p: Int) { stairwellScores(communityId: $c, month: $m, atLeast: $p) { stairwellId total rank redFlag } redFlag(communityId: $c, month: $m, atLeast: $p) { stairwellId } }",
                json!({"c": c.id, "m": month, "p": pos}),
            )
            .await;
        let rows = scores["stairwellScores"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{scores}");
        assert_eq!(rows[0]["stairwellId"], c.stairwell.as_str());
        assert_eq!(rows[0]["rank"], 1);
        assert_eq!(scores["redFlag"]["stairwellId"], c.stairwell.as_str());
        let d = s
            .ok(
                &c.staff,
                "query($c: ID!, $p: Int) { dashboard(communityId: $c, atLeast: $p) { activeVolunteers openWishes month thisYear { services } position } }",
                json!({"c": c.id, "p": pos}),
            )
            .await;
        assert!(d["dashboard"]["position"].as_u64().unwrap() >= pos);
        let (_, body) = s
            .gql(
                Some(&c.display),
                "query($c: ID!) { dashboard(communityId: $c) { month } }",
                json!({"c": c.id}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        let (_, body) = s
            .gql(
                Some(&c.staff),
                "query($c: ID!) { stairwellScores(communityId: $c, month: \"2024-13\") { total } }",
                json!({"c": c.id}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT");
        s.stop().await;
    }
}
