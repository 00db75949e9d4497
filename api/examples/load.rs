//! Load generator for the GraphQL API: one server, four workloads, one run.
//!
//! Starts `timebank serve` in-process on a fresh SQLite file (or `--postgres URL`, a server
//! database to create a fresh database on), seeds a community, then drives each workload
//! with `--connections` concurrent clients for `--seconds`:
//! `{ __typename }` (the baseline), a volunteer's balance, a ranking (top 20), and the
//! `awardPoints` mutation. Prints requests per second, median and p99 latency.
//!
//! ```text
//! cargo run --release -p api --example load -- [--seconds 5] [--connections 64] [--volunteers 500] [--postgres]
//! ```

use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn gql(&self, token: &str, query: &str, variables: Value) -> Result<Value, String> {
        let resp = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        if let Some(errors) = body.get("errors") {
            return Err(errors.to_string());
        }
        Ok(body["data"].clone())
    }
}

struct Outcome {
    requests: u64,
    errors: u64,
    secs: f64,
    latencies_us: Vec<u64>,
}

impl Outcome {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.secs
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

/// Runs `make(i)` requests from `connections` clients for `secs` seconds.
async fn drive<F, Fut>(connections: usize, secs: f64, make: F) -> Outcome
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Value, String>> + Send,
{
    let make = Arc::new(make);
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (make, counter, errors, first_error) = (make.clone(), counter.clone(), errors.clone(), first_error.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                match make(i).await {
                    Ok(_) => lat.push(t.elapsed().as_micros() as u64),
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().expect("lock").get_or_insert(e);
                    }
                }
            }
            lat
        }));
    }
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.expect("client task"));
    }
    let secs = start.elapsed().as_secs_f64();
    latencies_us.sort_unstable();
    if let Some(e) = first_error.lock().expect("lock").take() {
        eprintln!("  first error: {}", &e[..e.len().min(300)]);
    }
    Outcome {
        requests: latencies_us.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        secs,
        latencies_us,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs: f64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let connections: usize = arg("--connections").and_then(|s| s.parse().ok()).unwrap_or(64);
    let volunteers: usize = arg("--volunteers").and_then(|s| s.parse().ok()).unwrap_or(500);

    let dir = ledger::testing::TempDir::new();
    let (store, backend) = if flag("--postgres") {
        let url = ledger::testing::postgres_url().await.ok_or_else(|| anyhow::anyhow!("no PostgreSQL"))?;
        (ledger::Store::open(&url).await?, "PostgreSQL")
    } else {
        let url = format!("sqlite://{}", dir.path().join("load.db").display());
        (ledger::Store::open(&url).await?, "SQLite")
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let admin = api::issue_token(&store, api::Role::Admin, None, None, "load-admin").await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(store.clone(), api::ServeConfig::new(listen), async move {
        let _ = stop_rx.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(connections).build()?;
    let client = Client { http, url: format!("http://{listen}/graphql") };

    // Seed: a community, a stairwell, volunteers with some points.
    let d = client.gql(&admin, "mutation { establishCommunity(idempotencyKey: \"c\", name: \"负载社区\") { communityId } }", json!({})).await.map_err(anyhow::Error::msg)?;
    let community = d["establishCommunity"]["communityId"].as_str().unwrap_or_default().to_string();
    let d = client
        .gql(&admin, "mutation($c: ID!) { registerStairwell(idempotencyKey: \"s\", communityId: $c, building: \"1\", unit: \"1\", households: 60) { stairwellId } }", json!({ "c": community }))
        .await
        .map_err(anyhow::Error::msg)?;
    let stairwell = d["registerStairwell"]["stairwellId"].as_str().unwrap_or_default().to_string();
    let staff = api::issue_token(&store, api::Role::Staff, uuid::Uuid::parse_str(&community).ok(), None, "load-staff").await?;
    let seeded = Instant::now();
    let mut ids = Vec::new();
    for chunk in (0..volunteers).collect::<Vec<_>>().chunks(64) {
        let mut tasks = Vec::new();
        for &i in chunk {
            let (client, staff, community, stairwell) = (client.clone(), staff.clone(), community.clone(), stairwell.clone());
            tasks.push(tokio::spawn(async move {
                let d = client
                    .gql(&staff, "mutation($k: String!, $c: ID!, $s: ID!, $n: String!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n) { volunteerId } }",
                        json!({ "k": format!("v{i}"), "c": community, "s": stairwell, "n": format!("志愿者{i}") }))
                    .await?;
                let id = d["registerVolunteer"]["volunteerId"].as_str().unwrap_or_default().to_string();
                client
                    .gql(&staff, "mutation($k: String!, $v: ID!, $p: Points!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: $p, reason: \"种子\") { position } }",
                        json!({ "k": format!("a{i}"), "v": id, "p": format!("{}.00", 1 + i % 97) }))
                    .await?;
                Ok::<_, String>(id)
            }));
        }
        for t in tasks {
            ids.push(t.await?.map_err(anyhow::Error::msg)?);
        }
    }
    let volunteer_token = api::issue_token(&store, api::Role::Volunteer, uuid::Uuid::parse_str(&community).ok(), uuid::Uuid::parse_str(&ids[0]).ok(), "load-volunteer").await?;
    println!("timebank API load, {backend}: {volunteers} volunteers seeded in {:.1}s; {connections} connections, {secs}s per workload", seeded.elapsed().as_secs_f64());
    let ids = Arc::new(ids);

    let mut rows = Vec::new();
    let c = client.clone();
    let t = admin.clone();
    rows.push(("{ __typename } (baseline)", drive(connections, secs, move |_| { let (c, t) = (c.clone(), t.clone()); async move { c.gql(&t, "{ __typename }", json!({})).await } }).await));
    let c = client.clone();
    let t = volunteer_token.clone();
    let me = ids[0].clone();
    rows.push(("volunteer balance", drive(connections, secs, move |_| {
        let (c, t, me) = (c.clone(), t.clone(), me.clone());
        async move { c.gql(&t, "query($id: ID!) { volunteer(id: $id) { balance { points hours verifiedHours stars flagged } } }", json!({ "id": me })).await }
    }).await));
    let c = client.clone();
    let t = staff.clone();
    let cid = community.clone();
    rows.push(("ranking top 20 (points, all time)", drive(connections, secs, move |_| {
        let (c, t, cid) = (c.clone(), t.clone(), cid.clone());
        async move { c.gql(&t, "query($c: ID!) { ranking(communityId: $c, metric: POINTS, first: 20) { rows { rank volunteerId points } } }", json!({ "c": cid })).await }
    }).await));
    let c = client.clone();
    let t = staff.clone();
    let vs = ids.clone();
    let run = uuid::Uuid::new_v4();
    rows.push(("awardPoints mutation", drive(connections, secs, move |i| {
        let (c, t, v) = (c.clone(), t.clone(), vs[i as usize % vs.len()].clone());
        async move {
            c.gql(&t, "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", reason: \"负载\") { position } }",
                json!({ "k": format!("{run}-{i}"), "v": v })).await
        }
    }).await));

    let baseline = rows[0].1.rps();
    println!("| workload | requests/s | vs baseline | median ms | p99 ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, o) in &rows {
        println!("| {name} | {:.0} | {:.0}% | {:.2} | {:.2} | {} |", o.rps(), 100.0 * o.rps() / baseline, o.pct(0.5), o.pct(0.99), o.errors);
    }
    let _ = stop_tx.send(());
    let _ = server.await;
    Ok(())
}
