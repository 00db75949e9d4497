//! The stable `extensions.code` of each domain refusal, over HTTP on each backend: the
//! case that causes it gets that code, and writes nothing.

mod common;

use common::*;
use serde_json::{json, Value};

fn id(d: &Value, path: &[&str]) -> String {
    let mut v = d;
    for p in path {
        v = &v[*p];
    }
    v.as_str()
        .unwrap_or_else(|| panic!("{path:?} in {d}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_refusal_has_its_code() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let award = "mutation($k: String!, $v: ID!, $p: Points!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: $p, reason: \"好人好事\") { entryId pointsBalance } }";
        let entry = id(
            &s.ok(&c.staff, award, json!({"k": key(), "v": c.v1, "p": "5.00"}))
                .await,
            &["awardPoints", "entryId"],
        );
        let reverse = "mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"录入错误\") { entryId } }";
        s.ok(
            &c.staff,
            reverse,
            json!({"k": key(), "v": c.v1, "e": entry}),
        )
        .await;
        s.ok(
            &c.staff,
            award,
            json!({"k": "twice", "v": c.v1, "p": "1.00"}),
        )
        .await;
        let post = "mutation($k: String!, $c: ID!, $s: ID!) { postWish(idempotencyKey: $k, communityId: $c, stairwellId: $s, category: \"维修\", description: \"换灯泡\", residentLabel: \"5楼\") { wishId } }";
        let wish = id(
            &s.ok(
                &c.staff,
                post,
                json!({"k": key(), "c": c.id, "s": c.stairwell}),
            )
            .await,
            &["postWish", "wishId"],
        );
        let claim = "mutation($k: String!, $w: ID!) { claimWish(idempotencyKey: $k, wishId: $w) { status } }";
        s.ok(&c.vol2, claim, json!({"k": key(), "w": wish})).await;

        let head = s.head().await;
        let cases: Vec<(&str, &str, &str, Value)> = vec![
            (
                "NOT_CLAIMER",
                &c.vol1,
                "mutation($k: String!, $w: ID!) { fulfilWish(idempotencyKey: $k, wishId: $w, hours: \"1\") { status } }",
                json!({"k": key(), "w": wish}),
            ),
            ("ALREADY_REVERSED", &c.staff, reverse, json!({"k": key(), "v": c.v1, "e": entry})),
            (
                "INSUFFICIENT_HOURS",
                &c.vol1,
                "mutation($k: String!) { spendHours(idempotencyKey: $k, hours: \"1\", description: \"理发\") { entryId } }",
                json!({"k": key()}),
            ),
            (
                "INSUFFICIENT_HOURS",
                &c.vol1,
                "mutation($k: String!, $t: ID!) { giftHours(idempotencyKey: $k, toVolunteerId: $t, hours: \"1\") { entryId } }",
                json!({"k": key(), "t": c.v2}),
            ),
            (
                "INSUFFICIENT_POINTS",
                &c.staff,
                "mutation($k: String!, $v: ID!) { redeemPoints(idempotencyKey: $k, volunteerId: $v, points: \"50.00\", item: \"电饭煲\") { entryId } }",
                json!({"k": key(), "v": c.v1}),
            ),
            ("WISH_ALREADY_CLAIMED", &c.vol1, claim, json!({"k": key(), "w": wish})),
            // The same key again, for another amount.
            ("IDEMPOTENCY_MISMATCH", &c.staff, award, json!({"k": "twice", "v": c.v1, "p": "2.00"})),
            ("NOT_FOUND", &c.staff, award, json!({"k": key(), "v": key(), "p": "1.00"})),
            (
                "NOT_FOUND",
                &c.vol1,
                "mutation($k: String!, $w: ID!) { claimWish(idempotencyKey: $k, wishId: $w) { status } }",
                json!({"k": key(), "w": key()}),
            ),
            ("NOT_FOUND", &s.admin, "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { id } }", json!({"v": key(), "p": head})),
            ("FORBIDDEN", &c.vol1, award, json!({"k": key(), "v": c.v1, "p": "1.00"})),
            ("FORBIDDEN", &c.other_staff, award, json!({"k": key(), "v": c.v1, "p": "1.00"})),
            ("FORBIDDEN", &c.display, "query($v: ID!) { statement(volunteerId: $v) { entries { kind } } }", json!({"v": c.v1})),
        ];
        let mut failures = Vec::new();
        for (expected, token, q, vars) in cases {
            let (status, body) = s.gql(Some(token), q, vars.clone()).await;
            let message = body["errors"][0]["message"].as_str().unwrap_or("");
            if status != 200 || code(&body) != expected || message.is_empty() {
                failures.push(format!(
                    "{expected} expected for {q} {vars}: {status} {body}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(s.head().await, head, "a refused command wrote events");
        // The balances the refusals spoke of are unchanged.
        let d = s
            .ok(
                &c.staff,
                "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { points hours } } }",
                json!({"v": c.v1, "p": head}),
            )
            .await;
        assert_eq!(
            d["volunteer"]["balance"],
            json!({"points": "1.00", "hours": "0.00"})
        );
        s.stop().await;
    }
}

/// Holds back the rebuild of every read model, after marking them as from an older
/// version: on SQLite another connection's write lock, on PostgreSQL another session
/// holding the leadership of each (as a process that leads but has not built them).
enum Hold {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Hold {
    async fn take(store: &ledger::Store) -> Hold {
        use sqlx::Connection as _;
        let outdate = "UPDATE projection_checkpoints SET version = 0";
        match store {
            ledger::Store::Sqlite(st) => {
                let mut c = st.pool().acquire().await.expect("conn").detach();
                sqlx::query(outdate).execute(&mut c).await.expect("outdate");
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut c)
                    .await
                    .expect("write lock");
                Hold::Sqlite(c)
            }
            ledger::Store::Postgres(st) => {
                let mut c = st.pool().acquire().await.expect("conn").detach();
                sqlx::query(outdate).execute(&mut c).await.expect("outdate");
                for p in projections::all() {
                    sqlx::query("SELECT pg_advisory_lock($1)")
                        .bind(projections::runner::leadership_key(p.name()))
                        .execute(&mut c)
                        .await
                        .expect("leadership");
                }
                let _ = c.ping().await;
                Hold::Postgres(c)
            }
        }
    }

    async fn release(self) {
        use sqlx::Connection as _;
        match self {
            Hold::Sqlite(mut c) => {
                sqlx::query("ROLLBACK")
                    .execute(&mut c)
                    .await
                    .expect("unlock");
                c.close().await.expect("close");
            }
            Hold::Postgres(c) => c.close().await.expect("close"),
        }
    }
}

/// While a read model is first built (a new database, or a new version of a read model
/// after an upgrade), reads wait for it, bounded, then answer READ_MODEL_NOT_READY
/// (never a raw database error from a missing or outdated table); /healthz says which
/// are not built; once built, the same read answers, and on PostgreSQL writes went
/// through meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_before_the_read_models_are_built_say_so() {
    let points = |d: &Value| -> rust_decimal::Decimal {
        d["volunteer"]["balance"]["points"]
            .as_str()
            .expect("points")
            .parse()
            .expect("decimal")
    };
    let read = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { points } } }";
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store.clone()).await;
        let c = seed(&s).await;
        let admin = s.admin.clone();
        let head = s.head().await;
        let before = points(&s.ok(&admin, read, json!({"v": c.v1, "p": head})).await);
        s.stop().await;

        let hold = Hold::take(&store).await;
        let config = api::ServeConfig::new(([127, 0, 0, 1], 0).into());
        let s = Server::start_as(store.clone(), config, admin.clone()).await;
        let started = std::time::Instant::now();
        let (status, body) = s.gql(Some(&admin), read, json!({"v": c.v1})).await;
        assert_eq!(code(&body), "READ_MODEL_NOT_READY", "{status} {body}");
        assert!(
            started.elapsed() >= std::time::Duration::from_secs(4),
            "the read waited for the build first"
        );
        let health: Value = s
            .http
            .get(s.url("/healthz"))
            .send()
            .await
            .expect("healthz")
            .json()
            .await
            .expect("json");
        let models = health["projections"].as_array().expect("read models");
        assert!(
            !models.is_empty() && models.iter().all(|m| m["built"] == false),
            "{health}"
        );
        assert_eq!(health["building"], true, "{health}");
        // Readiness for a load balancer: not ready while building.
        assert_eq!(s.status_of("/healthz?ready").await, 503);
        let mut expected = before;
        if backend == "postgres" {
            // Writes do not wait for the read models.
            let award = "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"3.00\", reason: \"好人好事\") { pointsBalance } }";
            s.ok(&c.staff, award, json!({"k": key(), "v": c.v1})).await;
            expected += rust_decimal::Decimal::from(3);
        }
        hold.release().await;
        let head = s.head().await;
        let mut answered = None;
        for _ in 0..6 {
            let (_, body) = s
                .gql(Some(&admin), read, json!({"v": c.v1, "p": head}))
                .await;
            if body.get("errors").is_none() {
                answered = Some(body);
                break;
            }
            assert!(
                ["READ_MODEL_NOT_READY", "STALE_READ"].contains(&code(&body).as_str()),
                "{body}"
            );
        }
        let body = answered.expect("the read models are built once released");
        assert_eq!(points(&body["data"]), expected, "{body}");
        assert_eq!(s.status_of("/healthz?ready").await, 200);
        s.stop().await;
    }
}
