//! Every read model against an independent fold of the log, over random histories, on
//! both backends; rebuild from scratch equals incremental catch-up, table for table.

mod support;

use ledger::Store;
use projections::Options;
use proptest::prelude::*;
use std::time::Duration;
use support::*;

async fn run_case(store: Store, seed: u64, ops: usize, batch: u32, chunk: usize) {
    let history = generate(seed, ops);
    let options = Options {
        batch_size: batch,
        poll_interval: Duration::from_millis(20),
        ..Options::default()
    };
    // Half of the history before the runner starts (catch-up), half while it follows.
    let half = history.events.len() / 2;
    append(&store, &history.events[..half], chunk).await;
    let p = projections::start_with(store.clone(), options).await;
    append(&store, &history.events[half..], chunk).await;
    let head = store.head().await.expect("head");
    p.wait_for(head, Duration::from_secs(30))
        .await
        .expect("caught up");
    let log = read_log(&store).await;
    let oracle = Oracle::fold(&log);
    oracle.check_all(p.db(), history.community).await;
    // Rebuild from scratch equals incremental catch-up, table for table.
    let before = dump(p.db()).await;
    p.rebuild(None, None).await.expect("rebuild");
    let after = dump(p.db()).await;
    for (table, rows) in &before {
        assert_eq!(Some(rows), after.get(table), "table {table} after rebuild");
    }
    oracle.check_all(p.db(), history.community).await;
    p.shutdown().await.expect("shutdown");
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn read_models_equal_the_oracle_sqlite(seed in any::<u64>(), ops in 20usize..160, batch in 1u32..40, chunk in 1usize..30) {
        rt().block_on(async {
            let (store, _dir) = ledger::testing::sqlite_store().await;
            run_case(store, seed, ops, batch, chunk).await;
        });
    }

    #[test]
    fn read_models_equal_the_oracle_postgres(seed in any::<u64>(), ops in 20usize..160, batch in 1u32..40, chunk in 1usize..30) {
        rt().block_on(async {
            if let Some(store) = ledger::testing::postgres_store().await {
                run_case(store, seed, ops, batch, chunk).await;
            }
        });
    }
}
