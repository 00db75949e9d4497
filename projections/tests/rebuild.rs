//! Rebuilds on both backends: through the bounded-memory path (every page flushed and
//! every state evicted, then read back) equal to incremental catch-up, table for table;
//! while a live runner keeps applying new events, so that the swap catches the shadow
//! tables up, equal to a fold of the log; readers during a rebuild see the live tables
//! whole, never the shadow ones; and events stored at an old schema version are upcast
//! by every reader of the log (the store's and the projections' own).

mod support;

use ledger::event::Event;
use ledger::store::{AppendRequest, ExpectedVersion, Metadata, StreamWrite};
use ledger::Store;
use projections::rebuild::{Limits, Timings};
use projections::{Options, Progress};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;
use uuid::Uuid;

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

/// Reads every live table over and over while a rebuild replays the log (no new events
/// come, so the rebuilt tables must equal the live ones): every read, before, during and
/// after the swap, sees the live tables whole.
async fn readers_during_rebuild(store: Store) {
    let history = generate(13, 200);
    let p = projections::start_with(store.clone(), options(Limits::default())).await;
    append(&store, &history.events, 9).await;
    let head = store.head().await.expect("head");
    p.wait_for(head, WAIT).await.expect("caught up");
    let before = Arc::new(dump(p.db()).await);
    assert!(
        before.values().map(Vec::len).sum::<usize>() > 100,
        "the read models hold rows"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let reader = {
        let (db, before, stop, reads) =
            (p.db().clone(), before.clone(), stop.clone(), reads.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let now = dump(&db).await;
                for (table, rows) in before.iter() {
                    assert_eq!(Some(rows), now.get(table), "table {table} while rebuilding");
                }
                reads.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Halfway through the replay (the shadow tables partly written), wait for two
    // whole reads, so that at least one of them ran while the rebuild was under way.
    let pages = AtomicU64::new(0);
    let read_during = AtomicU64::new(0);
    let progress = |pr: Progress| {
        if pr.done || pr.position < pr.head / 2 || pages.fetch_add(1, Ordering::SeqCst) > 0 {
            return;
        }
        tokio::task::block_in_place(|| {
            let from = reads.load(Ordering::SeqCst);
            let t = std::time::Instant::now();
            while reads.load(Ordering::SeqCst) < from + 2 && t.elapsed() < WAIT {
                std::thread::sleep(Duration::from_millis(2));
            }
            read_during.store(reads.load(Ordering::SeqCst) - from, Ordering::SeqCst);
        });
    };
    let mut timings = Timings::default();
    let at = p
        .rebuild_timed(None, Some(&progress), &mut timings)
        .await
        .expect("rebuild");
    assert_eq!(at, head);
    assert!(
        read_during.load(Ordering::SeqCst) >= 2,
        "reads while the shadow tables were half written"
    );
    // And reads go on through the swap and after it.
    let after_swap = reads.load(Ordering::SeqCst);
    let t = std::time::Instant::now();
    while reads.load(Ordering::SeqCst) < after_swap + 2 && t.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::SeqCst);
    reader.await.expect("every read saw the live tables whole");
    assert_eq!(
        *before,
        dump(p.db()).await,
        "rebuilt tables equal the live ones"
    );
    p.shutdown().await.expect("shutdown");
}

/// Stores every `ServiceLogged` of a history at schema version 1 (whole `minutes`, no
/// `place`), as an older release wrote them; the store's reader and the projections'
/// own page reader must both upcast them, incrementally and in a rebuild.
async fn old_schema_upcast(store: Store) {
    let history = generate(17, 160);
    let mut v1 = 0;
    let mut originals = Vec::new();
    for (stream, e) in &history.events {
        let mut ne = e
            .to_new_event(Uuid::new_v4(), Metadata::default(), None)
            .expect("encode");
        if let Event::ServiceLogged { hours, .. } = e {
            let obj = ne.payload.as_object_mut().expect("object");
            obj.remove("hours");
            obj.remove("place");
            obj.insert("minutes".into(), hours.minutes().into());
            ne.schema_version = 1;
            v1 += 1;
            originals.push(*hours);
        }
        store
            .append_request(AppendRequest {
                writes: vec![StreamWrite {
                    stream_id: stream.clone(),
                    expected: ExpectedVersion::Any,
                    events: vec![ne],
                }],
                command: None,
            })
            .await
            .expect("append");
    }
    assert!(v1 >= 10, "the history logs services ({v1})");
    let log = read_log(&store).await;
    let stored_v1 = log
        .iter()
        .filter(|(r, _)| r.event_type == "ServiceLogged" && r.schema_version == 1)
        .count();
    assert_eq!(stored_v1, v1, "stored at version 1");
    let upcast: Vec<_> = log
        .iter()
        .filter_map(|(_, e)| match e {
            Event::ServiceLogged { hours, place, .. } => Some((*hours, place.clone())),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = originals.iter().map(|h| (*h, String::new())).collect();
    assert_eq!(upcast, expected, "hours kept, place empty");
    let oracle = Oracle::fold(&log);
    let p = projections::start_with(store.clone(), options(Limits::default())).await;
    let head = store.head().await.expect("head");
    p.wait_for(head, WAIT).await.expect("caught up");
    oracle.check_all(p.db(), history.community).await;
    let mut timings = Timings::default();
    p.rebuild_timed(None, None, &mut timings)
        .await
        .expect("rebuild");
    oracle.check_all(p.db(), history.community).await;
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
both!(
    readers_during_rebuild,
    readers_see_the_live_tables_whole_during_a_rebuild_sqlite,
    readers_see_the_live_tables_whole_during_a_rebuild_postgres
);
both!(
    old_schema_upcast,
    events_of_an_old_schema_version_are_upcast_by_every_reader_sqlite,
    events_of_an_old_schema_version_are_upcast_by_every_reader_postgres
);
