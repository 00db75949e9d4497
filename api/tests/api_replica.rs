//! `serve --replica-url` against a real PostgreSQL streaming replica (a hot standby that
//! `.ci/run` sets up with pg_basebackup on port 5433): commands go to the primary, the
//! read models are queried on the replica, and a read after a write waits until the
//! replica has replayed it. With replay paused, such a read answers STALE_READ after
//! the wait, saying how far the replica had got, while a read without `atLeast` gets
//! the replica's older answer; once replay resumes, the read has the write.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const AWARD: &str = "mutation($k: String!, $v: ID!, $p: Points!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: $p, reason: \"巡逻\") { position } }";
const BALANCE: &str =
    "query($v: ID!, $a: Int) { volunteer(id: $v, atLeast: $a) { balance { points } } }";

/// The replica's URL without a database, or `None` (skipped, outside CI).
fn replica_base() -> Option<String> {
    match std::env::var("TIMEBANK_TEST_REPLICA_URL") {
        Ok(u) => Some(u),
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but TIMEBANK_TEST_REPLICA_URL is not set (.ci/run sets up the replica)"
            );
            eprintln!("replica tests SKIPPED: set TIMEBANK_TEST_REPLICA_URL to a streaming replica of the test server");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_come_from_the_replica_and_wait_for_the_writes_before_them() {
    let Some(base) = replica_base() else { return };
    let Some(primary) = ledger::testing::postgres_url().await else {
        return;
    };
    let name = primary.rsplit('/').next().unwrap().to_string();
    let url = format!("{base}/{name}");
    // The new database reaches the standby by streaming.
    let deadline = Instant::now() + Duration::from_secs(30);
    let replica = loop {
        match sqlx::PgPool::connect(&url).await {
            Ok(p) => break p,
            Err(e) if Instant::now() > deadline => panic!("the replica has no {name}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(&replica)
        .await
        .unwrap();
    assert!(standby, "{url} is a hot standby");

    let store = ledger::Store::open(&primary).await.unwrap();
    let mut config = api::ServeConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    config.replica_url = Some(url.clone());
    let s = Server::start_with(store, config).await;
    let c = seed(&s).await;

    // A write, then a read that must reflect it: served by the replica, with the write.
    let at = s
        .ok(&c.staff, AWARD, json!({"k": key(), "v": c.v1, "p": "7"}))
        .await["awardPoints"]["position"]
        .as_u64()
        .unwrap();
    let read = s.ok(&c.staff, BALANCE, json!({"v": c.v1, "a": at})).await;
    assert_eq!(read["volunteer"]["balance"]["points"], "7.00", "{read}");

    // Replay paused: the next write reaches the primary only.
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&replica)
        .await
        .unwrap();
    let at = s
        .ok(&c.staff, AWARD, json!({"k": key(), "v": c.v1, "p": "5"}))
        .await["awardPoints"]["position"]
        .as_u64()
        .unwrap();
    let started = Instant::now();
    let (_, waited) = s
        .gql(Some(&c.staff), BALANCE, json!({"v": c.v1, "a": at}))
        .await;
    let took = started.elapsed();
    let (_, older) = s.gql(Some(&c.staff), BALANCE, json!({"v": c.v1})).await;
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&replica)
        .await
        .unwrap();
    assert_eq!(code(&waited), "STALE_READ", "{waited}");
    assert!(
        took >= Duration::from_secs(4),
        "it waited for the replica first ({took:?})"
    );
    assert_eq!(
        older["data"]["volunteer"]["balance"]["points"], "7.00",
        "reads come from the replica, which has not replayed the second award: {older}"
    );

    // Replay resumed: the same read has the write.
    let read = s.ok(&c.staff, BALANCE, json!({"v": c.v1, "a": at})).await;
    assert_eq!(read["volunteer"]["balance"]["points"], "12.00", "{read}");
    s.stop().await;
}
