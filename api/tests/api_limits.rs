//! Limits a hostile client meets, end to end over HTTP on each backend: query cost
//! (pages count `first × selection`), the number of root fields, and that a refused
//! request never runs and leaves the server up.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Every field of a volunteer.
const VOLUNTEER_FIELDS: &str = "id volunteerNumber communityId stairwellId gridId tags teamIds departed name phone idNumber erased \
    balance { points hours verifiedHours flagged stars } \
    totals { pointsEarned pointsSpent pointsReversed hoursGifted hoursReceived hoursSpent hoursReversed starThresholds stars { level thresholdHours reachedOn } } \
    position";

/// `n` aliases of `field` in one query.
fn aliased(n: usize, field: &str) -> String {
    let mut q = String::from("query($c: ID!, $n: Int) {");
    for i in 0..n {
        q.push_str(&format!(" a{i}: {field}"));
    }
    q.push_str(" }");
    q
}

/// A request refused before it ran: 400 under application/graphql-response+json,
/// no `data`, the given code.
fn assert_refused(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert!(body.get("data").is_none(), "{what} ran: {body}");
    assert_eq!(code(body), "QUERY_TOO_COMPLEX", "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn costly_queries_are_refused_before_they_run() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let vars = json!({"c": c.id, "n": 100});

        // The example: a thousand aliases of a full ranking page.
        let hostile = aliased(
            1000,
            "ranking(communityId: $c, metric: POINTS, first: 100) { rows { name } }",
        );
        let started = Instant::now();
        let (status, body) = s.gql(Some(&c.staff), &hostile, vars.clone()).await;
        assert_refused(status, &body, "1000 aliased rankings");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "refusing took {:?}",
            started.elapsed()
        );
        // Under the root-field cap, still too costly: 20 full ranking pages…
        let (status, body) = s
            .gql(
                Some(&c.staff),
                &aliased(20, "ranking(communityId: $c, metric: POINTS, first: $n) { rows { rank volunteerId volunteerNumber name points hours } }"),
                vars.clone(),
            )
            .await;
        assert_refused(status, &body, "20 ranking pages of 100");
        // … and two full pages of volunteers with every field, `first` from a variable.
        let page = format!(
            "volunteers(communityId: $c, first: $n) {{ volunteers {{ {VOLUNTEER_FIELDS} }} hasNextPage endCursor }}"
        );
        let (status, body) = s
            .gql(Some(&c.staff), &aliased(2, &page), vars.clone())
            .await;
        assert_refused(status, &body, "two pages of 100 volunteers");
        // Fragments count as they expand.
        let spread = format!(
            "query($c: ID!, $n: Int) {{ ...A ...B }} fragment A on Query {{ a: {page} }} fragment B on Query {{ b: {page} }}"
        );
        let (status, body) = s.gql(Some(&c.staff), &spread, vars.clone()).await;
        assert_refused(status, &body, "two pages through fragments");
        let fields = (0..30)
            .map(|i| format!("m{i}: me {{ role }}"))
            .collect::<Vec<_>>()
            .join(" ");
        let (status, body) = s
            .gql(
                Some(&c.staff),
                &format!("query {{ ...F }} fragment F on Query {{ {fields} }}"),
                json!({}),
            )
            .await;
        assert_refused(status, &body, "30 root fields in a fragment");

        // A refused mutation batch writes nothing.
        let head = s.head().await;
        let mut batch = String::from("mutation($v: ID!) {");
        for i in 0..50 {
            batch.push_str(&format!(
                " a{i}: awardPoints(idempotencyKey: \"batch-{i}\", volunteerId: $v, points: \"1.00\", reason: \"r\") {{ position }}"
            ));
        }
        batch.push_str(" }");
        let (status, body) = s.gql(Some(&c.staff), &batch, json!({"v": c.v1})).await;
        assert_refused(status, &body, "50 aliased awards");
        assert_eq!(s.head().await, head, "a refused mutation wrote events");

        // What clients really ask stays within the limits.
        s.ok(
            &c.staff,
            "query($p: Int) { me(atLeast: $p) { role } }",
            json!({"p": head}),
        )
        .await;
        let (status, body) = s
            .gql(Some(&c.staff), &aliased(1, &page), vars.clone())
            .await;
        assert!(
            status == 200 && body.get("errors").is_none(),
            "a full page of volunteers: {body}"
        );
        assert_eq!(
            body["data"]["a0"]["volunteers"].as_array().map(Vec::len),
            Some(2)
        );
        let legit = [
            // api/examples/load.rs
            "query($v: ID!) { volunteer(id: $v) { balance { points hours verifiedHours stars flagged } } }".to_string(),
            "query($c: ID!) { ranking(communityId: $c, metric: POINTS, first: 20) { rows { rank volunteerId points } } }".to_string(),
            // a staff screen: dashboard, boards and a page of volunteers at once
            format!("query($c: ID!) {{ dashboard(communityId: $c) {{ month activeVolunteers openWishes thisMonth {{ hours points services byKind {{ kind hours }} }} }} \
                ranking(communityId: $c, metric: HOURS, first: 10) {{ rows {{ rank name hours }} }} \
                wishes(communityId: $c, first: 20) {{ wishes {{ id status description claimerName }} hasNextPage }} \
                stairwellScores(communityId: $c, month: \"2024-05\") {{ stairwellId building unit total rank redFlag }} \
                volunteers(communityId: $c, first: 20) {{ volunteers {{ {VOLUNTEER_FIELDS} }} }} }}"),
            "query($c: ID!, $n: Int) { ranking(communityId: $c, metric: POINTS, first: $n) { rows { rank volunteerId volunteerNumber name points hours } position } }".to_string(),
            "query($n: Int) { events(first: $n) { position streamId eventType payload metadata } }".to_string(),
        ];
        for q in legit {
            // Only the variables the query declares.
            let mut v = json!({});
            for (name, value) in [("c", json!(c.id)), ("n", json!(100)), ("v", json!(c.v1))] {
                if q.contains(&format!("${name}:")) {
                    v[name] = value;
                }
            }
            let (status, body) = s.gql(Some(&s.admin), &q, v).await;
            assert!(
                status == 200 && body.get("errors").is_none(),
                "{q}\n{status} {body}"
            );
        }
        // A page larger than allowed is still refused as bad input when it runs.
        let (_, body) = s
            .gql(
                Some(&c.staff),
                "query($c: ID!) { volunteers(communityId: $c, first: 100000) { hasNextPage } }",
                json!({"c": c.id}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "{body}");

        // The server is still up.
        assert_eq!(
            s.ok(&c.staff, "{ __typename }", json!({})).await["__typename"],
            "Query"
        );
        let health = s.http.get(s.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        s.stop().await;
    }
}

/// A second server on `store`, without read models, with `config`'s limits.
async fn bare_server(
    store: ledger::Store,
    config: api::ServeConfig,
) -> (String, tokio::sync::watch::Sender<bool>) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let state = api::AppState::new(store, &config, rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut stop = rx;
    tokio::spawn(async move {
        axum::serve(listener, api::router(state))
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|v| *v).await;
            })
            .await
            .unwrap();
    });
    (format!("http://{addr}"), tx)
}

/// A request past the timeout is answered 408 with a JSON error REQUEST_TIMEOUT in the
/// negotiated media type, on /graphql and on the document downloads; the body limit is
/// the configured one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timeouts_and_body_limits_answer_json_errors() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store.clone()).await;
        let c = seed(&s).await;
        let mut config = api::ServeConfig::new(s.addr);
        config.request_timeout = Duration::from_millis(300);
        config.max_body_bytes = 4096;
        let (base, stop) = bare_server(store.clone(), config).await;
        let http = reqwest::Client::new();
        // Waiting for a position the log has not reached takes longer than 300 ms.
        let ahead = s.head().await + 1_000;
        let body = json!({"query": "query($p: Int) { events(first: 1, atLeast: $p) { position } }", "variables": {"p": ahead}}).to_string();
        for (accept, media) in [
            (
                "application/graphql-response+json",
                "application/graphql-response+json",
            ),
            ("application/json", "application/json"),
        ] {
            let started = Instant::now();
            let r = http
                .post(format!("{base}/graphql"))
                .bearer_auth(&s.admin)
                .header("content-type", "application/json")
                .header("accept", accept)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 408);
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{:?}",
                started.elapsed()
            );
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            assert!(ct.starts_with(media), "{ct}");
            let b: Value = serde_json::from_str(&r.text().await.unwrap()).expect("a JSON body");
            assert_eq!(code(&b), "REQUEST_TIMEOUT", "{b}");
            assert!(b.get("data").is_none(), "{b}");
        }
        // A body over the configured limit (4 KiB here, 256 KiB by default).
        let r = http
            .post(format!("{base}/graphql"))
            .bearer_auth(&s.admin)
            .header("content-type", "application/json")
            .body(
                json!({"query": "{ __typename }", "variables": {"x": "x".repeat(8 * 1024)}})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
        let b: Value = r.json().await.unwrap();
        assert_eq!(code(&b), "PAYLOAD_TOO_LARGE", "{b}");
        let r = http
            .post(format!("{base}/graphql"))
            .bearer_auth(&s.admin)
            .header("content-type", "application/json")
            .body(
                json!({"query": "{ __typename }", "variables": {"x": "x".repeat(2 * 1024)}})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);

        // The downloads are bounded too: with a 1 ms limit, rendering the annual
        // report as XLSX does not make it.
        let mut config = api::ServeConfig::new(s.addr);
        config.request_timeout = Duration::from_millis(1);
        let (fast, stop_fast) = bare_server(store.clone(), config).await;
        let mut timed_out = 0;
        for _ in 0..5 {
            let r = http
                .get(format!(
                    "{fast}/documents/annual-report?communityId={}&year=2024&format=xlsx",
                    c.id
                ))
                .bearer_auth(&s.admin)
                .send()
                .await
                .unwrap();
            if r.status() == 408 {
                let ct = r.headers()["content-type"].to_str().unwrap().to_string();
                assert!(ct.starts_with("application/json"), "{ct}");
                let b: Value = r.json().await.unwrap();
                assert_eq!(code(&b), "REQUEST_TIMEOUT", "{b}");
                timed_out += 1;
            } else {
                assert_eq!(r.status(), 200);
            }
        }
        assert!(timed_out > 0, "no download was cut off by a 1 ms timeout");
        let _ = stop_fast.send(true);
        let _ = stop.send(true);
        s.stop().await;
    }
}
