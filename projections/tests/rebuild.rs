//! Rebuilds on both backends: through the bounded-memory path (every page flushed and
//! every state evicted, then read back) equal to incremental catch-up, table for table;
//! and while a live runner keeps applying new events, so that the swap catches the
//! shadow tables up, equal to a fold of the log.

mod support;

use ledger::Store;
use projections::rebuild::{Limits, Timings};
use projections::{Options, Progress};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(30);

fn options(limits: Limits) -> Options {
    Options {
        batch_size: 11,
        rebuild_batch_size: 9,
        rebuild_limits: limits,
        poll_interval: Duration::from_millis(20),
        ..Options::default()
    }
}

/// Limits that write every change and forget every state after each page.
fn tiny() -> Limits {
    Limits {
        hold_bytes: 1,
        small_changes: 1,
        flush_at: Some(1),
    }
}

async fn bounded_memory(store: Store) {
    let history = generate(7, 160);
    // Started on an empty log: everything is applied incrementally.
    let p = projections::start_with(store.clone(), options(tiny())).await;
    append(&store, &history.events, 9).await;
    let head = store.head().await.expect("head");
    p.wait_for(head, WAIT).await.expect("caught up");
    let incremental = dump(p.db()).await;
    let mut timings = Timings::default();
    let at = p
        .rebuild_timed(None, None, &mut timings)
        .await
        .expect("rebuild");
    assert_eq!(at, head);
    // Every projection with a state went through flushes and evictions.
    for (pt, projection) in timings.projections.iter().zip(projections::all()) {
        if projection.state(true).is_some() {
            assert!(
                pt.flushes > 1 && pt.evictions > 0,
                "{}: {} flushes, {} evictions",
                pt.name,
                pt.flushes,
                pt.evictions
            );
        }
    }
    let rebuilt = dump(p.db()).await;
    for (table, rows) in &incremental {
        assert_eq!(Some(rows), rebuilt.get(table), "table {table}");
    }
    Oracle::fold(&read_log(&store).await)
        .check_all(p.db(), history.community)
        .await;
    p.shutdown().await.expect("shutdown");
}

async fn while_live(store: Store) {
    let history = generate(11, 240);
    let n = history.events.len();
    let (first, rest) = history.events.split_at(n / 2);
    let (during, after) = rest.split_at(rest.len() / 2);
    let p = projections::start_with(store.clone(), options(Limits::default())).await;
    append(&store, first, 9).await;
    let started_at = store.head().await.expect("head");
    p.wait_for(started_at, WAIT).await.expect("caught up");
    // Once the rebuild has fixed the head it replays to, more events come and the live
    // runner applies them: the swap has to catch up.
    let once = AtomicBool::new(false);
    let progress = |pr: Progress| {
        if !pr.done && !once.swap(true, Ordering::SeqCst) {
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    append(&store, during, 9).await;
                    let head = store.head().await.expect("head");
                    p.wait_for(head, WAIT).await.expect("live runner caught up");
                })
            });
        }
    };
    let mut timings = Timings::default();
    let at = p
        .rebuild_timed(None, Some(&progress), &mut timings)
        .await
        .expect("rebuild");
    let live_head = store.head().await.expect("head");
    assert!(live_head > started_at);
    assert_eq!(at, live_head, "swapped in at the live position");
    // Each projection's swap applied what the live runner had applied since.
    assert_eq!(
        timings.swap_events,
        (live_head - started_at) * projections::all().len() as u64,
        "the swap caught up"
    );
    assert_eq!(timings.events, started_at);
    let log = read_log(&store).await;
    Oracle::fold(&log)
        .check_all(p.db(), history.community)
        .await;
    // The runner goes on from the swapped-in checkpoints.
    append(&store, after, 9).await;
    let head = store.head().await.expect("head");
    p.wait_for(head, WAIT)
        .await
        .expect("caught up after the swap");
    Oracle::fold(&read_log(&store).await)
        .check_all(p.db(), history.community)
        .await;
    p.shutdown().await.expect("shutdown");
}

macro_rules! both {
    ($name:ident, $sqlite:ident, $pg:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $sqlite() {
            let (store, _dir) = ledger::testing::sqlite_store().await;
            $name(store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $pg() {
            if let Some(store) = ledger::testing::postgres_store().await {
                $name(store).await;
            }
        }
    };
}

both!(
    bounded_memory,
    bounded_memory_rebuild_equals_catch_up_sqlite,
    bounded_memory_rebuild_equals_catch_up_postgres
);
both!(
    while_live,
    rebuild_while_the_runner_applies_new_events_sqlite,
    rebuild_while_the_runner_applies_new_events_postgres
);
