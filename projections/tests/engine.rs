//! The engine: crash between a batch and its checkpoint, read-your-writes, automatic
//! rebuild on a version change, and leadership on PostgreSQL.

mod support;

use futures::future::BoxFuture;
use ledger::Store;
use projections::db::{OnConflict, Tx, Upsert, Val};
use projections::{Envelope, FaultHook, Names, Options, Projection, ProjectionError, TableDef};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;

fn fast() -> Options {
    Options {
        batch_size: 7,
        poll_interval: Duration::from_millis(20),
        ..Options::default()
    }
}

/// Builds the projections over a first part of the log, so the crash happens in the
/// incremental catch-up (not in the initial rebuild), in `victim`'s part of a batch.
async fn crash_in_catch_up(store: Store, victim: &'static str) {
    let history = generate(43, 200);
    let (first, rest) = history.events.split_at(history.events.len() / 3);
    append(&store, first, 10).await;
    let p = projections::start_with(store.clone(), fast()).await;
    let h1 = store.head().await.expect("head");
    p.wait_for(h1, Duration::from_secs(30))
        .await
        .expect("built");
    p.shutdown().await.expect("shutdown");
    drop(p);
    append(&store, rest, 10).await;
    let head = store.head().await.expect("head");
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let fault: FaultHook =
        Arc::new(move |name: &str, _| name == victim && c.fetch_add(1, Ordering::SeqCst) == 2);
    let p = projections::start_with(
        store.clone(),
        Options {
            fault: Some(fault),
            ..fast()
        },
    )
    .await;
    let err = p.join().await.expect_err("fault");
    assert!(
        matches!(err, ProjectionError::InjectedFault { .. }),
        "{err:?}"
    );
    let cp = projections::projection::read_checkpoint(p.db(), victim)
        .await
        .expect("checkpoint")
        .expect("exists");
    assert!(
        cp.position > h1 && cp.position < head,
        "{} not in ({h1}, {head})",
        cp.position
    );
    drop(p);
    let p = projections::start_with(store.clone(), fast()).await;
    p.wait_for(head, Duration::from_secs(30))
        .await
        .expect("caught up");
    let oracle = Oracle::fold(&read_log(&store).await);
    oracle.check_all(p.db(), history.community).await;
    p.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_between_batch_and_checkpoint_sqlite() {
    for victim in ["statement", "rankings"] {
        let (store, _dir) = ledger::testing::sqlite_store().await;
        crash_in_catch_up(store, victim).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_between_batch_and_checkpoint_postgres() {
    for victim in ["statement", "rankings"] {
        if let Some(store) = ledger::testing::postgres_store().await {
            crash_in_catch_up(store, victim).await;
        }
    }
}

async fn stale_case(store: Store) {
    let history = generate(5, 30);
    append(&store, &history.events, 10).await;
    let head = store.head().await.expect("head");
    let p = projections::start_with(store.clone(), fast()).await;
    p.wait_for(head, Duration::from_secs(30))
        .await
        .expect("caught up");
    let err = p
        .wait_for(head + 100, Duration::from_millis(100))
        .await
        .expect_err("stale");
    assert_eq!(err.wanted, head + 100);
    assert_eq!(err.reached, head);
    // A write, then a read of its own position.
    append(&store, &generate(6, 5).events, 100).await;
    let head2 = store.head().await.expect("head");
    p.wait_for(head2, Duration::from_secs(10))
        .await
        .expect("read your writes");
    p.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_read_and_read_your_writes_sqlite() {
    let (store, _dir) = ledger::testing::sqlite_store().await;
    stale_case(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_read_and_read_your_writes_postgres() {
    if let Some(store) = ledger::testing::postgres_store().await {
        stale_case(store).await;
    }
}

/// A small projection counting events, whose version the test changes.
struct Counter(u32);

const COUNTER_TABLES: &[TableDef] = &[TableDef {
    name: "pj_test_counter",
    columns: "k TEXT NOT NULL PRIMARY KEY, n BIGINT NOT NULL, version BIGINT NOT NULL",
    indexes: &[],
}];

impl Projection for Counter {
    fn name(&self) -> &'static str {
        "test_counter"
    }
    fn version(&self) -> u32 {
        self.0
    }
    fn tables(&self) -> &'static [TableDef] {
        COUNTER_TABLES
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, projections::Result<()>> {
        Box::pin(async move {
            let table = names.t("pj_test_counter");
            tx.upsert(
                &Upsert {
                    table: &table,
                    cols: &["k", "n", "version"],
                    key: &["k"],
                    on_conflict: OnConflict::Add(&["n"]),
                },
                vec![vec![
                    Val::from("events"),
                    Val::from(events.len() as i64),
                    Val::from(self.0 as i64),
                ]],
            )
            .await
        })
    }
}

async fn counter(db: &projections::Db) -> (i64, i64) {
    let r = db
        .fetch_optional(
            "SELECT n, version FROM pj_test_counter WHERE k = 'events'",
            &[],
        )
        .await
        .expect("count")
        .expect("row");
    (r.int(0).expect("n"), r.int(1).expect("version"))
}

async fn version_case(store: Store) {
    append(&store, &generate(9, 40).events, 10).await;
    let head = store.head().await.expect("head") as i64;
    let p = projections::Projections::start_with(store.clone(), vec![Arc::new(Counter(1))], fast())
        .await;
    p.wait_for(head as u64, Duration::from_secs(20))
        .await
        .expect("built");
    assert_eq!(counter(p.db()).await, (head, 1));
    p.shutdown().await.expect("shutdown");
    drop(p);
    // Same version: continues from the checkpoint (no double count).
    let p = projections::Projections::start_with(store.clone(), vec![Arc::new(Counter(1))], fast())
        .await;
    p.wait_for(head as u64, Duration::from_secs(20))
        .await
        .expect("resumed");
    assert_eq!(counter(p.db()).await, (head, 1));
    p.shutdown().await.expect("shutdown");
    drop(p);
    // New version: rebuilt from position 0 into fresh tables.
    let p = projections::Projections::start_with(store.clone(), vec![Arc::new(Counter(2))], fast())
        .await;
    p.wait_for(head as u64, Duration::from_secs(20))
        .await
        .expect("rebuilt");
    assert_eq!(counter(p.db()).await, (head, 2));
    let cp = projections::projection::read_checkpoint(p.db(), "test_counter")
        .await
        .expect("cp")
        .expect("exists");
    assert_eq!((cp.version, cp.position), (2, head as u64));
    // And an explicit rebuild with a progress callback.
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |pr: projections::Progress| {
        if let Ok(mut s) = seen.lock() {
            s.push((pr.position, pr.head, pr.done));
        }
    };
    p.rebuild(Some("test_counter"), Some(&progress))
        .await
        .expect("rebuild");
    let seen = seen.into_inner().expect("progress");
    assert_eq!(seen.first(), Some(&(0, head as u64, false)));
    assert_eq!(seen.last(), Some(&(head as u64, head as u64, true)));
    assert_eq!(counter(p.db()).await, (head, 2));
    assert!(matches!(
        p.rebuild(Some("nope"), None).await,
        Err(ProjectionError::UnknownProjection(_))
    ));
    p.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_change_rebuilds_sqlite() {
    let (store, _dir) = ledger::testing::sqlite_store().await;
    version_case(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_change_rebuilds_postgres() {
    if let Some(store) = ledger::testing::postgres_store().await {
        version_case(store).await;
    }
}

async fn until(mut f: impl FnMut() -> bool, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_on_postgres_one_leads_the_other_takes_over() {
    let Some(url) = ledger::testing::postgres_url().await else {
        return;
    };
    // Two "processes": two stores (pools, LISTEN connections) on one database.
    let s1 = Store::open(&url).await.expect("store 1");
    let s2 = Store::open(&url).await.expect("store 2");
    let history = generate(77, 120);
    let (first, rest) = history.events.split_at(history.events.len() / 2);
    append(&s1, first, 10).await;
    let p1 = projections::start_with(s1.clone(), fast()).await;
    let names = p1.names();
    assert!(
        until(
            || names.iter().all(|n| p1.is_leader(n)),
            Duration::from_secs(10)
        )
        .await
    );
    let p2 = projections::start_with(s2.clone(), fast()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(names.iter().all(|n| !p2.is_leader(n)), "only one leader");
    // Writes through the second process are read back through it (as a follower).
    append(&s2, &rest[..rest.len() / 2], 10).await;
    let h = s2.head().await.expect("head");
    p2.wait_for(h, Duration::from_secs(10))
        .await
        .expect("follower reads its writes");
    assert!(names.iter().all(|n| p1.is_leader(n) && !p2.is_leader(n)));
    // The leader dies: the other takes over.
    p1.shutdown().await.expect("shutdown");
    drop(p1);
    assert!(
        until(
            || names.iter().all(|n| p2.is_leader(n)),
            Duration::from_secs(10)
        )
        .await,
        "takeover"
    );
    append(&s2, &rest[rest.len() / 2..], 10).await;
    let head = s2.head().await.expect("head");
    p2.wait_for(head, Duration::from_secs(10))
        .await
        .expect("new leader applies");
    let oracle = Oracle::fold(&read_log(&s2).await);
    oracle.check_all(p2.db(), history.community).await;
    p2.shutdown().await.expect("shutdown");
}
