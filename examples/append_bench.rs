//! Durable append throughput, group commit against a raw baseline, in one run.
//!
//! For 1, 16 and 64 concurrent writers, each writer appends one event per append to its
//! own stream with an exact expected-version check, for a fixed time. In the same run, the
//! baseline does one plain single-row INSERT and COMMIT per event through sqlx on the same
//! database with the same number of writers. Each cell is the median of `--rounds` runs.
//!
//! ```text
//! cargo run --release --example append_bench -- [--seconds 3] [--rounds 3] [--postgres URL]
//!     [--only sqlite|postgres] [--stores N]
//! ```
//! SQLite runs in a temporary file (WAL, synchronous=FULL); PostgreSQL runs in a fresh
//! database on the given server (default postgres://postgres@127.0.0.1:5432/test).
//! `--stores N` (PostgreSQL) spreads the writers over N stores on the one database, each
//! with its own writer, as N server processes would be.

use ledger::store::*;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The allocator of the `timebank` binary, so that this measures what it runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn event(i: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "PointsAwarded".into(),
        schema_version: 1,
        payload: serde_json::json!({ "entry_id": Uuid::new_v4(), "points": "10.00", "reason": format!("bench {i}") }),
        metadata: Metadata {
            actor: Some(Uuid::nil()),
            role: Some("staff".into()),
            ..Metadata::default()
        },
        community_id: Some(Uuid::nil()),
    }
}

async fn store_run(stores: &[Store], writers: usize, secs: f64, round: usize) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = stores[w % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            let stream = format!("bench-{round}-{writers}-{w}");
            let mut n = 0u64;
            while Instant::now() < deadline {
                store
                    .append(&stream, ExpectedVersion::Exact(n), vec![event(n)])
                    .await
                    .expect("append");
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("writer");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

async fn raw_run(raw: &Raw, writers: usize, secs: f64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let raw = match raw {
            Raw::Sqlite(p) => Raw::Sqlite(p.clone()),
            Raw::Postgres(p) => Raw::Postgres(p.clone()),
        };
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let payload = event(n).payload.to_string();
                match &raw {
                    Raw::Sqlite(p) => {
                        let mut tx = p.begin().await.expect("begin");
                        sqlx::query("INSERT INTO raw_bench (id, payload) VALUES (?1, ?2)")
                            .bind(Uuid::new_v4().to_string())
                            .bind(payload)
                            .execute(&mut *tx)
                            .await
                            .expect("insert");
                        tx.commit().await.expect("commit");
                    }
                    Raw::Postgres(p) => {
                        let mut tx = p.begin().await.expect("begin");
                        sqlx::query("INSERT INTO raw_bench (id, payload) VALUES ($1, $2::jsonb)")
                            .bind(Uuid::new_v4())
                            .bind(payload)
                            .execute(&mut *tx)
                            .await
                            .expect("insert");
                        tx.commit().await.expect("commit");
                    }
                }
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("writer");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

async fn bench(name: &str, stores: Vec<Store>, raw: Raw, secs: f64, rounds: usize) {
    let store = stores[0].clone();
    println!("\n{name}");
    println!("| writers | store events/s (median) | raw INSERT+COMMIT events/s (median) | ratio | events per batch |");
    println!("|---:|---:|---:|---:|---:|");
    for writers in [1usize, 16, 64] {
        let mut s = Vec::new();
        let mut r = Vec::new();
        let before = store.writer_stats();
        // Interleave store and raw rounds so machine noise hits both alike.
        for round in 0..rounds {
            s.push(store_run(&stores, writers, secs, round).await);
            r.push(raw_run(&raw, writers, secs).await);
        }
        let after = store.writer_stats();
        let per_batch =
            (after.events - before.events) as f64 / (after.batches - before.batches).max(1) as f64;
        let (s, r) = (median(s), median(r));
        println!(
            "| {writers} | {s:.0} | {r:.0} | {:.1}x | {per_batch:.1} |",
            s / r
        );
    }
}

#[tokio::main]
async fn main() {
    let secs: f64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let rounds: usize = arg("--rounds").and_then(|s| s.parse().ok()).unwrap_or(3);
    let only = arg("--only");
    let runs = |backend: &str| only.as_deref().is_none_or(|o| o == backend);
    println!("append_bench: {secs}s per cell, median of {rounds} rounds, one event per append");

    if runs("sqlite") {
        sqlite(secs, rounds).await;
    }
    if runs("postgres") {
        postgres(secs, rounds).await;
    }
}

async fn sqlite(secs: f64, rounds: usize) {
    let dir = ledger::testing::TempDir::new();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::open(&url).await.expect("sqlite");
    let pool = store.sqlite_pool().expect("sqlite pool").clone();
    sqlx::query("CREATE TABLE raw_bench (id TEXT PRIMARY KEY, payload TEXT NOT NULL)")
        .execute(&pool)
        .await
        .expect("raw table");
    bench(
        "SQLite (WAL, synchronous=FULL)",
        vec![store],
        Raw::Sqlite(pool),
        secs,
        rounds,
    )
    .await;
}

async fn postgres(secs: f64, rounds: usize) {
    let admin = arg("--postgres").unwrap_or_else(|| ledger::testing::DEFAULT_PG_URL.to_string());
    std::env::set_var("TIMEBANK_TEST_PG_URL", &admin);
    match ledger::testing::postgres_url().await {
        Some(url) => {
            let store = Store::open(&url).await.expect("postgres");
            let pool = store.postgres_pool().expect("pg pool").clone();
            sqlx::query("CREATE TABLE raw_bench (id UUID PRIMARY KEY, payload JSONB NOT NULL)")
                .execute(&pool)
                .await
                .expect("raw table");
            let raw = sqlx::postgres::PgPoolOptions::new()
                .max_connections(64)
                .connect(&url)
                .await
                .expect("raw pool");
            let n: usize = arg("--stores")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1)
                .max(1);
            let mut stores = vec![store];
            for _ in 1..n {
                stores.push(Store::open(&url).await.expect("postgres"));
            }
            let name = if n == 1 {
                "PostgreSQL (synchronous_commit=on)".to_string()
            } else {
                format!("PostgreSQL (synchronous_commit=on), writers spread over {n} stores")
            };
            bench(&name, stores, Raw::Postgres(raw), secs, rounds).await;
        }
        None => println!("\nPostgreSQL: skipped (no server)"),
    }
}
