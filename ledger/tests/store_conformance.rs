//! The event store's conformance suite: every test runs unchanged on SQLite and on
//! PostgreSQL (skipped with a message when no server is reachable, a failure under CI).

use futures::StreamExt;
use ledger::store::*;
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

fn ev(kind: &str) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: kind.to_string(),
        schema_version: 1,
        payload: serde_json::json!({ "kind": kind, "points": "12.50" }),
        metadata: Metadata {
            actor: Some(Uuid::new_v4()),
            role: Some("staff".into()),
            idempotency_key: Some("k-1".into()),
            ..Metadata::default()
        },
        community_id: Some(Uuid::from_u128(42)),
    }
}

/// Declares one test per backend from one body.
macro_rules! conformance {
    ($($name:ident => |$store:ident| $body:block)*) => {
        mod sqlite {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let ($store, _dir) = ledger::testing::sqlite_store().await;
                $body
            })*
        }
        mod postgres {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some($store) = ledger::testing::postgres_store().await else { return };
                $body
            })*
        }
    };
}

conformance! {
    appended_events_read_back_with_every_field => |store| {
        let a = ev("A");
        let b = ev("B");
        let positions = store.append("s-1", ExpectedVersion::NoStream, vec![a.clone(), b.clone()]).await.unwrap();
        assert_eq!(positions, vec![1, 2]);
        let read = store.read_stream("s-1", 0).await.unwrap();
        assert_eq!(read.len(), 2);
        for (r, e) in read.iter().zip([&a, &b]) {
            assert_eq!(r.event_id, e.event_id);
            assert_eq!(r.event_type, e.event_type);
            assert_eq!(r.schema_version, 1);
            assert_eq!(r.payload, e.payload);
            assert_eq!(r.metadata, e.metadata);
            assert_eq!(r.community_id, e.community_id);
            assert_eq!(r.stream_id, "s-1");
            assert!((chrono::Utc::now() - r.recorded_at).num_seconds().abs() < 60);
        }
        assert_eq!((read[0].position, read[0].stream_version), (1, 1));
        assert_eq!((read[1].position, read[1].stream_version), (2, 2));
        assert_eq!(store.stream_version("s-1").await.unwrap(), 2);
        assert_eq!(store.stream_version("nothing").await.unwrap(), 0);
        assert_eq!(store.head().await.unwrap(), 2);
        assert_eq!(store.read_stream("s-1", 1).await.unwrap()[0].event_id, b.event_id);
    }

    a_version_conflict_names_both_versions_and_writes_nothing => |store| {
        store.append("s", ExpectedVersion::NoStream, vec![ev("A")]).await.unwrap();
        let err = store.append("s", ExpectedVersion::Exact(3), vec![ev("B")]).await.unwrap_err();
        match err {
            StoreError::VersionConflict { stream, expected, actual } => {
                assert_eq!(stream, "s");
                assert_eq!(expected, ExpectedVersion::Exact(3));
                assert_eq!(actual, 1);
            }
            other => panic!("expected a version conflict, got {other:?}"),
        }
        assert!(err_text(store.append("s", ExpectedVersion::NoStream, vec![ev("C")]).await).contains("expected no stream, actual 1"));
        assert_eq!(store.head().await.unwrap(), 1);
        store.append("s", ExpectedVersion::Exact(1), vec![ev("D")]).await.unwrap();
        store.append("s", ExpectedVersion::Any, vec![ev("E")]).await.unwrap();
        assert_eq!(store.stream_version("s").await.unwrap(), 3);
    }

    a_retry_with_stored_event_ids_returns_the_original_positions => |store| {
        let batch = vec![ev("A"), ev("B")];
        store.append("other", ExpectedVersion::Any, vec![ev("X")]).await.unwrap();
        let first = store.append("s", ExpectedVersion::NoStream, batch.clone()).await.unwrap();
        store.append("other", ExpectedVersion::Any, vec![ev("Y")]).await.unwrap();
        let again = store.append("s", ExpectedVersion::NoStream, batch.clone()).await.unwrap();
        assert_eq!(first, vec![2, 3]);
        assert_eq!(again, first);
        assert_eq!(store.head().await.unwrap(), 4);
        // Reusing one stored id beside a new event is refused, and writes nothing.
        let err = store.append("s", ExpectedVersion::Any, vec![batch[0].clone(), ev("C")]).await.unwrap_err();
        assert!(matches!(err, StoreError::EventIdReused { position: 2, .. }), "{err:?}");
        assert_eq!(store.head().await.unwrap(), 4);
    }

    a_multi_stream_append_is_all_or_nothing => |store| {
        store.append("b", ExpectedVersion::NoStream, vec![ev("B1")]).await.unwrap();
        let req = AppendRequest {
            writes: vec![
                StreamWrite { stream_id: "a".into(), expected: ExpectedVersion::NoStream, events: vec![ev("A1")] },
                StreamWrite { stream_id: "b".into(), expected: ExpectedVersion::NoStream, events: vec![ev("B2")] },
            ],
            command: None,
        };
        assert!(matches!(store.append_request(req).await, Err(StoreError::VersionConflict { ref stream, .. }) if stream == "b"));
        assert_eq!(store.stream_version("a").await.unwrap(), 0);
        let req = AppendRequest {
            writes: vec![
                StreamWrite { stream_id: "a".into(), expected: ExpectedVersion::NoStream, events: vec![ev("A1")] },
                StreamWrite { stream_id: "b".into(), expected: ExpectedVersion::Exact(1), events: vec![ev("B2"), ev("B3")] },
            ],
            command: None,
        };
        let out = store.append_request(req).await.unwrap();
        assert_eq!(out.positions, vec![vec![2], vec![3, 4]]);
        assert_eq!(out.last_position, 4);
    }

    invalid_appends_are_refused_with_a_reason => |store| {
        let e = ev("A");
        assert!(matches!(store.append("s", ExpectedVersion::Any, vec![e.clone(), e]).await, Err(StoreError::InvalidAppend(_))));
        assert!(matches!(store.append("", ExpectedVersion::Any, vec![ev("A")]).await, Err(StoreError::InvalidAppend(_))));
        assert!(matches!(store.append_request(AppendRequest::default()).await, Err(StoreError::InvalidAppend(_))));
        assert_eq!(store.head().await.unwrap(), 0);
    }

    a_command_record_is_stored_with_its_events_and_answers_retries => |store| {
        let cmd = serde_json::json!({"AwardPoints": {"points": "5.00"}});
        let req = |events| AppendRequest {
            writes: vec![StreamWrite { stream_id: "v".into(), expected: ExpectedVersion::Any, events }],
            command: Some(("key-1".into(), cmd.clone(), serde_json::json!({"entry": 1}))),
        };
        let out = store.append_request(req(vec![ev("A")])).await.unwrap();
        assert_eq!(out.duplicate_of, None);
        let again = store.append_request(req(vec![ev("A")])).await.unwrap();
        let dup = again.duplicate_of.expect("a duplicate");
        assert_eq!(dup.position, out.last_position);
        assert_eq!(dup.result, serde_json::json!({"entry": 1}));
        assert_eq!(store.head().await.unwrap(), 1);
        let rec = store.command_record("key-1").await.unwrap().unwrap();
        assert_eq!(rec.command, cmd);
        assert!(store.command_record("key-2").await.unwrap().is_none());
    }

    concurrent_appends_are_group_committed_and_each_keeps_its_own_check => |store| {
        let mut tasks = Vec::new();
        for i in 0..200 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                // Every fourth append races three others for the same new stream.
                store.append(&format!("s-{}", i / 4), ExpectedVersion::NoStream, vec![ev("A")]).await
            }));
        }
        let mut ok = 0;
        let mut conflicts = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::VersionConflict { actual: 1, .. }) => conflicts += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!((ok, conflicts), (50, 150));
        let stats = store.writer_stats();
        assert_eq!(stats.events, 50);
        assert!(stats.batches < stats.appends, "no batching: {stats:?}");
        let all = store.read_all(0, 1000).await.unwrap();
        assert_eq!(all.iter().map(|e| e.position).collect::<Vec<_>>(), (1..=50).collect::<Vec<_>>());
    }

    read_all_pages_through_the_log_in_order => |store| {
        for i in 0..25 {
            store.append(&format!("s-{}", i % 3), ExpectedVersion::Any, vec![ev("A"), ev("B")]).await.unwrap();
        }
        let mut after = 0;
        let mut seen = Vec::new();
        loop {
            let page = store.read_all(after, 7).await.unwrap();
            if page.is_empty() { break; }
            assert!(page.len() <= 7);
            after = page.last().unwrap().position;
            seen.extend(page.into_iter().map(|e| e.position));
        }
        assert_eq!(seen, (1..=50).collect::<Vec<_>>());
    }

    a_subscriber_is_woken_by_commits => |store| {
        let sub = store.subscribe_all(0, 10);
        let writer = store.clone();
        tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                writer.append("s", ExpectedVersion::Any, vec![ev("A")]).await.unwrap();
            }
        });
        let got: Vec<u64> = tokio::time::timeout(Duration::from_secs(10), sub.take(3).map(|e| e.unwrap().position).collect())
            .await
            .expect("subscriber woken");
        assert_eq!(got, vec![1, 2, 3]);
    }

    no_reader_ever_skips_an_event_under_concurrent_writers => |store| {
        // Several independent stores on one database stand for several processes: each
        // has its own writer, so their transactions really overlap.
        let url = url_of(&store).await;
        let writers = 4u64;
        let per_writer = 150u64;
        let total = writers * per_writer;
        let reader = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut after = 0;
                while (seen.len() as u64) < total {
                    let page = store.read_all(after, 13).await.unwrap();
                    for e in &page { after = e.position; seen.push(e.position); }
                    if page.is_empty() { tokio::task::yield_now().await; }
                }
                seen
            })
        };
        let live = {
            let sub = store.subscribe_all(0, 50);
            tokio::spawn(async move { sub.take(total as usize).map(|e| e.unwrap().event_id).collect::<Vec<_>>().await })
        };
        let mut tasks = Vec::new();
        let mut written = HashSet::new();
        for w in 0..writers {
            let s = match &url { Some(u) => Store::open(u).await.unwrap(), None => store.clone() };
            for t in 0..3 {
                let s = s.clone();
                let events: Vec<NewEvent> = (0..per_writer / 3).map(|_| ev("A")).collect();
                written.extend(events.iter().map(|e| e.event_id));
                tasks.push(tokio::spawn(async move {
                    for e in events { s.append(&format!("w{w}-{t}"), ExpectedVersion::Any, vec![e]).await.unwrap(); }
                }));
            }
        }
        for t in tasks { t.await.unwrap(); }
        let seen = tokio::time::timeout(Duration::from_secs(60), reader).await.expect("reader finished").unwrap();
        assert_eq!(seen, (1..=total).collect::<Vec<_>>(), "a reader skipped or repeated an event");
        let live = tokio::time::timeout(Duration::from_secs(60), live).await.expect("subscriber finished").unwrap();
        assert_eq!(live.iter().copied().collect::<HashSet<_>>(), written);
        assert_eq!(live.len() as u64, total);
    }

    version_checked_appends_racing_from_several_stores_each_win_once => |store| {
        // Several writers (on PostgreSQL several stores, as several processes would be)
        // race version-checked appends on the same streams, so batches are planned
        // while others commit and against heads that other stores have moved. Every
        // version must be won exactly once, with no hole, and every acknowledged event
        // stored once.
        let url = url_of(&store).await;
        let streams = 3u64;
        let per_task = 20u64;
        let mut tasks = Vec::new();
        for w in 0..3 {
            let s = match &url { Some(u) => Store::open(u).await.unwrap(), None => store.clone() };
            for t in 0..6u64 {
                let s = s.clone();
                tasks.push(tokio::spawn(async move {
                    let stream = format!("race-{}", (w + t) % streams);
                    let mut won = Vec::new();
                    while (won.len() as u64) < per_task {
                        let version = s.stream_version(&stream).await.unwrap();
                        let e = ev("Raced");
                        match s.append(&stream, ExpectedVersion::Exact(version), vec![e.clone()]).await {
                            Ok(_) => won.push((stream.clone(), version + 1, e.event_id)),
                            Err(StoreError::VersionConflict { .. }) => {}
                            Err(other) => panic!("unexpected error: {other}"),
                        }
                    }
                    won
                }));
            }
        }
        let mut won = Vec::new();
        for t in tasks { won.extend(t.await.unwrap()); }
        let mut stored = Vec::new();
        for i in 0..streams {
            let events = store.read_stream(&format!("race-{i}"), 0).await.unwrap();
            let versions: Vec<u64> = events.iter().map(|e| e.stream_version).collect();
            assert_eq!(versions, (1..=events.len() as u64).collect::<Vec<_>>(), "a hole or a repeat in race-{i}");
            stored.extend(events.iter().map(|e| (e.stream_id.clone(), e.stream_version, e.event_id)));
        }
        won.sort();
        stored.sort();
        assert_eq!(won, stored, "acknowledged appends and stored events differ");
        let all = store.read_all(0, 10_000).await.unwrap();
        let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
        assert_eq!(positions, (1..=all.len() as u64).collect::<Vec<_>>());
    }

    retries_keys_and_races_mixed_under_load_stay_exact => |store| {
        // Many writers at once, so batches are planned ahead while others commit (on
        // PostgreSQL from two stores, as two processes would): fresh appends, retries of
        // acknowledged appends (same event ids), repeated command keys, and version
        // races on shared streams, all in the same batches. Every retry must get the
        // original positions, every repeated key the original record, every version be
        // won once, and the log hold exactly the acknowledged events, with no hole.
        let url = url_of(&store).await;
        let mut stores = vec![store.clone()];
        if let Some(u) = &url { stores.push(Store::open(u).await.unwrap()); }
        let mut tasks = Vec::new();
        for w in 0..24u64 {
            let s = stores[w as usize % stores.len()].clone();
            tasks.push(tokio::spawn(async move {
                let own = format!("own-{w}");
                let shared = format!("shared-{}", w % 3);
                let mut acked: Vec<(Uuid, u64)> = Vec::new();
                for i in 0..30u64 {
                    let events = vec![ev("A"), ev("B")];
                    let first = s.append(&own, ExpectedVersion::Exact(2 * i), events.clone()).await.unwrap();
                    acked.extend(events.iter().map(|e| e.event_id).zip(first.iter().copied()));
                    if i % 3 == 0 {
                        let again = s.append(&own, ExpectedVersion::Exact(2 * i), events).await.unwrap();
                        assert_eq!(again, first, "a retry got other positions");
                    }
                    if i % 5 == 0 {
                        let key = format!("key-{w}-{i}");
                        let e = ev("C");
                        let req = |e: NewEvent| AppendRequest {
                            writes: vec![StreamWrite { stream_id: format!("keyed-{w}"), expected: ExpectedVersion::Any, events: vec![e] }],
                            command: Some((key.clone(), serde_json::json!({"i": i}), serde_json::json!({"w": w}))),
                        };
                        let out = s.append_request(req(e.clone())).await.unwrap();
                        assert_eq!(out.duplicate_of, None);
                        acked.push((e.event_id, out.last_position));
                        let dup = s.append_request(req(ev("C"))).await.unwrap().duplicate_of.expect("a duplicate");
                        assert_eq!((dup.position, dup.result), (out.last_position, serde_json::json!({"w": w})));
                    }
                    if i % 7 == 3 {
                        // A check without events: the expected version must hold.
                        let req = |expected| AppendRequest {
                            writes: vec![
                                StreamWrite { stream_id: own.clone(), expected, events: vec![] },
                                StreamWrite { stream_id: format!("checked-{w}"), expected: ExpectedVersion::Any, events: vec![] },
                            ],
                            command: Some((format!("check-{w}-{i}"), serde_json::json!({"i": i}), serde_json::json!({}))),
                        };
                        let stale = s.append_request(req(ExpectedVersion::Exact(2 * i))).await;
                        assert!(matches!(stale, Err(StoreError::VersionConflict { actual, .. }) if actual == 2 * i + 2), "{stale:?}");
                        let out = s.append_request(req(ExpectedVersion::Exact(2 * i + 2))).await.unwrap();
                        assert_eq!(out.duplicate_of, None);
                        assert!(s.command_record(&format!("check-{w}-{i}")).await.unwrap().is_some());
                    }
                    let version = s.stream_version(&shared).await.unwrap();
                    let e = ev("S");
                    match s.append(&shared, ExpectedVersion::Exact(version), vec![e.clone()]).await {
                        Ok(p) => acked.push((e.event_id, p[0])),
                        Err(StoreError::VersionConflict { .. }) => {}
                        Err(other) => panic!("unexpected error: {other}"),
                    }
                }
                acked
            }));
        }
        let mut acked = Vec::new();
        for t in tasks { acked.extend(t.await.unwrap()); }
        let all = store.read_all(0, 100_000).await.unwrap();
        let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
        assert_eq!(positions, (1..=all.len() as u64).collect::<Vec<_>>(), "a hole in the log");
        let mut stored: Vec<(Uuid, u64)> = all.iter().map(|e| (e.event_id, e.position)).collect();
        stored.sort();
        acked.sort();
        assert_eq!(stored, acked, "acknowledged and stored events differ");
        let mut streams: std::collections::HashMap<&str, Vec<u64>> = Default::default();
        for e in &all { streams.entry(e.stream_id.as_str()).or_default().push(e.stream_version); }
        for (stream, versions) in streams {
            assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>(), "versions of {stream}");
        }
    }

    durability_settings_are_the_promised_ones => |store| {
        match &store {
            // WAL with synchronous=FULL: an acknowledged event survives power loss.
            Store::Sqlite(s) => {
                let mut conn = s.pool().acquire().await.unwrap();
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await.unwrap();
                let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *conn).await.unwrap();
                let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&mut *conn).await.unwrap();
                assert_eq!((mode.as_str(), sync), ("wal", 2), "journal mode and synchronous=FULL");
                assert!(busy >= 1000, "busy timeout {busy} ms");
            }
            // A commit is acknowledged once it is flushed.
            Store::Postgres(s) => {
                let sync: String = sqlx::query_scalar("SHOW synchronous_commit").fetch_one(s.pool()).await.unwrap();
                let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(s.pool()).await.unwrap();
                assert!(sync != "off" && fsync == "on", "synchronous_commit={sync} fsync={fsync}");
            }
        }
    }

    other_processes_commits_wake_readers_at_once => |store| {
        // On PostgreSQL a commit by another process reaches this one by NOTIFY, not by
        // the once-a-second poll that backs it up: the median wake-up must be far
        // below a second (a poll alone would give about half a second).
        let Some(url) = url_of(&store).await else { return };
        let other = Store::open(&url).await.unwrap();
        let mut head = store.watch_head();
        let mut waits = Vec::new();
        for _ in 0..9 {
            tokio::time::sleep(Duration::from_millis(30)).await;
            let p = other.append("elsewhere", ExpectedVersion::Any, vec![ev("A")]).await.unwrap()[0];
            let t = std::time::Instant::now();
            tokio::time::timeout(Duration::from_secs(5), head.wait_for(|h| *h >= p)).await.expect("woken").unwrap();
            waits.push(t.elapsed());
        }
        waits.sort();
        assert!(waits[4] < Duration::from_millis(150), "median wake-up {:?} ({waits:?})", waits[4]);
    }

    personal_data_lives_beside_the_log_and_can_be_erased => |store| {
        let id = Uuid::new_v4();
        let p = Person { volunteer_id: id, name: "王芳".into(), phone: Some("13812345678".into()), id_number: None };
        store.put_person(&p).await.unwrap();
        store.append(&format!("volunteer-{id}"), ExpectedVersion::NoStream, vec![ev("VolunteerRegistered")]).await.unwrap();
        assert_eq!(store.get_person(id).await.unwrap(), Some(p));
        assert!(store.erase_person(id).await.unwrap());
        assert!(!store.erase_person(id).await.unwrap());
        assert_eq!(store.get_person(id).await.unwrap(), None);
        assert_eq!(store.read_stream(&format!("volunteer-{id}"), 0).await.unwrap().len(), 1);
    }

    an_id_number_belongs_to_one_person_until_erased => |store| {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let person = |id, n: &str| Person { volunteer_id: id, name: "赵六".into(), phone: None, id_number: Some(n.into()) };
        store.put_person(&person(a, "11010119800101123X")).await.unwrap();
        assert!(matches!(store.put_person(&person(b, "11010119800101123X")).await, Err(StoreError::IdNumberTaken)));
        assert_eq!(store.get_person(b).await.unwrap(), None, "nothing of the second is kept");
        assert_eq!(store.person_with_id_number("11010119800101123X").await.unwrap(), Some(a));
        // The same person may be stored again; others without a number any time.
        store.put_person(&person(a, "11010119800101123X")).await.unwrap();
        store.put_person(&Person { id_number: None, ..person(b, "") }).await.unwrap();
        assert!(store.erase_person(a).await.unwrap());
        assert_eq!(store.person_with_id_number("11010119800101123X").await.unwrap(), None);
        store.put_person(&person(b, "11010119800101123X")).await.unwrap();
    }

    stored_events_cannot_be_updated_or_deleted => |store| {
        store.append("s", ExpectedVersion::Any, vec![ev("A")]).await.unwrap();
        let refused = match &store {
            Store::Sqlite(s) => sqlx::query("DELETE FROM events").execute(s.pool()).await.is_err()
                && sqlx::query("UPDATE events SET event_type = 'B'").execute(s.pool()).await.is_err(),
            Store::Postgres(s) => sqlx::query("DELETE FROM events").execute(s.pool()).await.is_err()
                && sqlx::query("UPDATE events SET event_type = 'B'").execute(s.pool()).await.is_err(),
        };
        assert!(refused);
        assert_eq!(store.read_all(0, 10).await.unwrap()[0].event_type, "A");
    }
}

fn err_text<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    r.unwrap_err().to_string()
}

/// The PostgreSQL URL of a store's database, to open more stores on it (SQLite shares
/// the one store, whose writer is the single writer anyway).
async fn url_of(store: &Store) -> Option<String> {
    match store {
        Store::Sqlite(_) => None,
        Store::Postgres(s) => {
            let db: String = sqlx::query_scalar("SELECT current_database()")
                .fetch_one(s.pool())
                .await
                .unwrap();
            let admin = std::env::var("TIMEBANK_TEST_PG_URL")
                .unwrap_or_else(|_| ledger::testing::DEFAULT_PG_URL.to_string());
            Some(format!("{}/{db}", admin.rsplit_once('/').unwrap().0))
        }
    }
}
