//! Crash safety: a child process appends under load and is killed with SIGKILL; after a
//! restart every acknowledged event is present and the log is intact.
//!
//! The child is this same test binary, re-run with `TIMEBANK_CRASH_CHILD` set: it appends
//! from many tasks and prints `ack <event id> <position>` after each append returns.
//! Some tasks append in the shape of a bulk approval (`ApproveAttendance`): one request of
//! 200 events over an activity stream and 100 account streams. After the kill each such
//! batch is in the log whole or not at all.

use ledger::store::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use uuid::Uuid;

const CHILD_ENV: &str = "TIMEBANK_CRASH_CHILD";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_child() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(&url).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0u64.. {
                let req = approval_shaped(t, i);
                let first = req.writes[0].events[0].event_id;
                let out = store.append_request(req).await.unwrap();
                println!("ack {first} {}", out.positions[0][0]);
            }
        }));
    }
    for t in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0u64.. {
                let e = NewEvent {
                    event_id: Uuid::new_v4(),
                    event_type: "Tested".into(),
                    schema_version: 1,
                    payload: serde_json::json!({ "task": t, "i": i }),
                    metadata: Metadata::default(),
                    community_id: None,
                };
                let id = e.event_id;
                let expected = ExpectedVersion::Exact(i);
                let pos = store
                    .append(&format!("task-{t}"), expected, vec![e])
                    .await
                    .unwrap();
                println!("ack {id} {}", pos[0]);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

const BATCH: usize = 200;

/// One request like a bulk approval: the activity's stream and 100 accounts, two events
/// each, every event saying which batch it belongs to.
fn approval_shaped(task: u64, i: u64) -> AppendRequest {
    let batch = format!("{task}-{i}");
    let event = |n: usize| NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "Tested".into(),
        schema_version: 1,
        payload: serde_json::json!({ "batch": batch, "n": n }),
        metadata: Metadata::default(),
        community_id: None,
    };
    let mut writes = vec![StreamWrite {
        stream_id: format!("activity-{task}"),
        expected: ExpectedVersion::Any,
        events: vec![event(0), event(1)],
    }];
    for a in 1..BATCH / 2 {
        writes.push(StreamWrite {
            stream_id: format!("account-{task}-{}", (i as usize * 7 + a) % 400),
            expected: ExpectedVersion::Any,
            events: vec![event(2 * a), event(2 * a + 1)],
        });
    }
    AppendRequest {
        writes,
        command: None,
    }
}

fn run_and_kill(url: &str) -> HashMap<Uuid, u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = HashMap::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acked.len() < 3000 {
        let line = lines.next().expect("child stopped early").unwrap();
        if let Some(rest) = line.strip_prefix("ack ") {
            let (id, pos) = rest.split_once(' ').unwrap();
            acked.insert(Uuid::parse_str(id).unwrap(), pos.parse().unwrap());
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    acked
}

async fn check_intact(url: &str, acked: HashMap<Uuid, u64>) {
    let store = Store::open(url).await.unwrap();
    let all = store.read_all(0, u32::MAX).await.unwrap();
    assert!(all.len() >= acked.len());
    let by_id: HashMap<Uuid, u64> = all.iter().map(|e| (e.event_id, e.position)).collect();
    for (id, pos) in &acked {
        assert_eq!(
            by_id.get(id),
            Some(pos),
            "acknowledged event {id} lost or moved"
        );
    }
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=all.len() as u64).collect::<Vec<_>>(),
        "holes in the log"
    );
    let mut versions: HashMap<&str, u64> = HashMap::new();
    for e in &all {
        let v = versions.entry(&e.stream_id).or_default();
        *v += 1;
        assert_eq!(
            e.stream_version, *v,
            "stream {} is not contiguous",
            e.stream_id
        );
    }
    // Every approval-shaped batch is whole: all its events, or none of them.
    let mut batches: HashMap<&str, usize> = HashMap::new();
    for e in &all {
        if let Some(b) = e.payload.get("batch").and_then(|b| b.as_str()) {
            *batches.entry(b).or_default() += 1;
        }
    }
    assert!(!batches.is_empty(), "no approval-shaped batch was written");
    for (b, n) in &batches {
        assert_eq!(*n, BATCH, "batch {b} is partly in the log");
    }
    // And the log takes appends again after the crash.
    let next = store
        .append(
            "after-crash",
            ExpectedVersion::NoStream,
            vec![NewEvent {
                event_id: Uuid::new_v4(),
                event_type: "Tested".into(),
                schema_version: 1,
                payload: serde_json::json!({}),
                metadata: Metadata::default(),
                community_id: None,
            }],
        )
        .await
        .unwrap();
    assert_eq!(next, vec![all.len() as u64 + 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_acknowledged_event_after_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = ledger::testing::TempDir::new();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    Store::open(&url).await.unwrap(); // migrate before the child starts
    let acked = tokio::task::spawn_blocking({
        let url = url.clone();
        move || run_and_kill(&url)
    })
    .await
    .unwrap();
    check_intact(&url, acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_acknowledged_event_after_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let Some(url) = ledger::testing::postgres_url().await else {
        return;
    };
    Store::open(&url).await.unwrap();
    let acked = tokio::task::spawn_blocking({
        let url = url.clone();
        move || run_and_kill(&url)
    })
    .await
    .unwrap();
    check_intact(&url, acked).await;
}
