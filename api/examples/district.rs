//! District-scale benchmark on PostgreSQL (issue "Streets and districts"): a district of
//! `--streets` streets of `--communities` communities, growing to `--volunteers`
//! volunteers each, loaded by the bulk loader (`ledger::bulk`) to each of `--steps`
//! events in turn (1 M, 3 M and 10 M by default). At each step, once the server's read
//! models have caught up, every workload runs for `--seconds` with `--connections`
//! concurrent clients against the server in this process, side by side:
//!
//! - `{ __typename }`: the baseline (HTTP, auth, GraphQL, JSON);
//! - a street's ranking: `orgRanking(scope: "STREET:…", metric: HOURS)` of this year, top 20;
//! - a street's dashboard: `orgTable(scope: "STREET:…")` of this year, a line per community;
//! - a community's volunteer's balance: `volunteer(id) { balance { … } }`;
//! - an append: `awardPoints` to a random volunteer of the district, unique keys.
//!
//! Each row: requests/s, median and p99 latency, and requests/s as a share of the
//! baseline's; then how long the load and the read models' catch-up took, and the
//! process's memory (server and clients; VmRSS and its peak VmHWM). The database is a
//! fresh one on the server of `TIMEBANK_TEST_PG_URL` (as the tests make theirs).
//!
//! ```text
//! cargo build --release -p api --example district
//! target/release/examples/district [--steps 1000000,3000000,10000000] [--seconds 5] [--connections 16] [--streets 15] [--communities 20] [--volunteers 3000]
//! ```

use api::{AppState, Role, ServeConfig};
use chrono::Datelike;
use ledger::bulk::{self, BulkOptions};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (kb("VmRSS:") / 1024, kb("VmHWM:") / 1024)
}

/// A workload's request: the query and its variables, given a counter.
type Request = Arc<dyn Fn(u64) -> (String, Value) + Send + Sync>;

struct Row {
    name: &'static str,
    rps: f64,
    p50: f64,
    p99: f64,
}

async fn run(
    url: &str,
    token: &str,
    name: &'static str,
    req: Request,
    seconds: u64,
    conns: usize,
) -> Row {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .build()
        .unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (client, url, token, req, counter) = (
            client.clone(),
            url.to_string(),
            token.to_string(),
            req.clone(),
            counter.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let (query, variables) = req(counter.fetch_add(1, Ordering::Relaxed));
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "query": query, "variables": variables }))
                    .send()
                    .await
                    .expect("a response");
                let body: Value = r.json().await.expect("JSON");
                assert!(body.get("errors").is_none(), "{name}: {body}");
                lat.push(t.elapsed().as_micros() as u64);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    let q = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)] as f64 / 1000.0;
    Row {
        name,
        rps: all.len() as f64 / seconds as f64,
        p50: q(0.5),
        p99: q(0.99),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let steps: Vec<u64> = arg("--steps", "1000000,3000000,10000000".to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let (seconds, conns) = (arg("--seconds", 5u64), arg("--connections", 16usize));
    let opts = BulkOptions {
        streets: arg("--streets", 15),
        communities_per_street: arg("--communities", 20),
        volunteers: arg("--volunteers", 3000),
        events: 0,
        seed: 1,
    };
    let store = ledger::testing::postgres_store()
        .await
        .expect("PostgreSQL at TIMEBANK_TEST_PG_URL");
    let admin = api::issue_token(&store, Role::Admin, None, None, "district bench")
        .await
        .unwrap();
    let started = Instant::now();
    let mut district = bulk::setup(&store, &opts, |_| {}).await.unwrap();
    eprintln!(
        "district set up: {} communities in {} streets, {} events in {:.1} s",
        district.communities().len(),
        district.streets.len(),
        district.events(),
        started.elapsed().as_secs_f64()
    );
    let projections = projections::start(store.clone()).await;
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let state = AppState::with_projections(
        store.clone(),
        &ServeConfig::default(),
        rx,
        Some(projections.clone()),
    );
    let app = api::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let year = chrono::Utc::now().year().to_string();
    let street = format!("STREET:{}", district.streets[0]);
    println!("| events | workload | req/s | p50 ms | p99 ms | req/s vs baseline |");
    println!("|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for step in steps {
        let t = Instant::now();
        let before = district.events();
        bulk::grow(&store, &mut district, step, |_| {})
            .await
            .unwrap();
        let load = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let head = store.head().await.unwrap();
        projections
            .wait_for(head, Duration::from_secs(7200))
            .await
            .unwrap();
        let catch_up = t.elapsed().as_secs_f64();
        let volunteers: Vec<String> = (0..64)
            .filter_map(|n| district.volunteer_of(n % district.communities().len(), n * 37))
            .map(|v| v.to_string())
            .collect();
        let vols = Arc::new(volunteers);
        let (s1, s2, y1, y2) = (street.clone(), street.clone(), year.clone(), year.clone());
        let (v1, v2) = (vols.clone(), vols.clone());
        let workloads: Vec<(&'static str, Request)> = vec![
            (
                "{__typename}",
                Arc::new(|_| ("{ __typename }".to_string(), json!({}))),
            ),
            (
                "street ranking (top 20, this year)",
                Arc::new(move |_| {
                    (
                "query($s: String!, $p: String!) { orgRanking(scope: $s, metric: HOURS, period: $p, first: 20) { rows { rank volunteerNumber hours } } }".to_string(),
                json!({ "s": s1, "p": y1 }),
            )
                }),
            ),
            (
                "street dashboard (orgTable, this year)",
                Arc::new(move |_| {
                    (
                "query($s: String!, $p: String!) { orgTable(scope: $s, period: $p) { lines { name volunteers hours } total { hours } } }".to_string(),
                json!({ "s": s2, "p": y2 }),
            )
                }),
            ),
            (
                "a volunteer's balance",
                Arc::new(move |n| {
                    (
                        "query($v: ID!) { volunteer(id: $v) { balance { points hours stars } } }"
                            .to_string(),
                        json!({ "v": v1[n as usize % v1.len()] }),
                    )
                }),
            ),
            (
                "append (awardPoints)",
                Arc::new(move |n| {
                    (
                "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"1\", reason: \"基准\") { position } }".to_string(),
                json!({ "k": format!("bench-{step}-{n}"), "v": v2[n as usize % v2.len()] }),
            )
                }),
            ),
        ];
        let mut rows = Vec::new();
        for (name, req) in workloads {
            rows.push(run(&url, &admin, name, req, seconds, conns).await);
        }
        let base = rows[0].rps;
        for r in &rows {
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.0}% |",
                step,
                r.name,
                r.rps,
                r.p50,
                r.p99,
                100.0 * r.rps / base
            );
        }
        let (rss, hwm) = memory();
        notes.push(format!(
            "{step} events: loaded {} in {load:.0} s ({:.0} events/s), read models caught up in {catch_up:.0} s, {} volunteers; memory {rss} MB (peak {hwm} MB)",
            district.events() - before,
            (district.events() - before) as f64 / load.max(1e-9),
            district.volunteers()
        ));
    }
    println!();
    for n in notes {
        println!("- {n}");
    }
}
