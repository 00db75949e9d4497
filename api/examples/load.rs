//! Load generator for the GraphQL API: one server, five workloads, one run.
//!
//! Starts `timebank serve` in-process (with its projections) on a fresh SQLite file (or,
//! with `--postgres`, a fresh database on the server of `TIMEBANK_TEST_PG_URL`), seeds a
//! community of `--volunteers` volunteers with some points, then drives each workload with
//! `--connections` concurrent HTTP clients for `--seconds`, `--rounds` times (rounds
//! interleave the workloads; each workload starts once the read models have caught up):
//!
//! - `{ __typename }`: the baseline (HTTP, auth, GraphQL parse/validate/execute, JSON);
//! - a volunteer's balance: `volunteer(id) { balance { … } }`, each connection with its
//!   own volunteer token reading its own account;
//! - a ranking: `ranking(metric: POINTS, first: 20)` of the whole community;
//! - the `awardPoints` mutation, spread over every volunteer, unique idempotency keys;
//! - the balance reads again while 16 more connections award points to every volunteer
//!   (the readers' own accounts included), so cached balances keep being invalidated.
//!
//! To tell what the API costs from what the ledger costs, two rows follow that do not go
//! through HTTP at all, at the same concurrency and on the same database: the command
//! handler executing the same `AwardPoints` commands, and the store's raw append (one
//! event per append, one stream per writer, with a version check). Every row is the
//! median of the rounds (requests/s, median and p99 latency, and CPU time of the whole
//! process, server and clients, per request, each); "vs baseline" is the median of the
//! per-round ratios to the baseline.
//!
//! The clients run in the same process as the server and share its CPUs.
//!
//! ```text
//! cargo build --release -p api --example load
//! target/release/examples/load [--seconds 5] [--rounds 3] [--connections 64] [--volunteers 2000] [--postgres] [--no-ledger] [--only WORD,…]
//! target/release/examples/load --no-projections --only "awardpoints mutation,commandhandler,store::append"
//! ```
//!
//! `--no-projections` serves the API without its read models (reads then fail: use it
//! with `--only` and the write workloads), to tell what the read models' writes into the
//! same database cost the ledger's throughput. `--only` keeps the workloads whose names
//! contain one of the comma-separated words ("vs baseline" is then relative to the first).

use ledger::command::{Actor, AwardPoints, CommandHandler};
use ledger::event::Event;
use ledger::ids::{CommunityId, EntryId, VolunteerId};
use ledger::store::{ExpectedVersion, Metadata};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The allocator of the `timebank` binary, so that this measures what it runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Connections awarding points during the mixed workload.
const WRITERS: usize = 16;
const MIXED: &str = "volunteer balance, 16 more connections awarding points";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    /// `/graphql`, parsed once (not per request).
    graphql: reqwest::Url,
}

impl Client {
    async fn gql(&self, token: &str, query: &str, variables: Value) -> Result<Value, String> {
        let resp = self
            .http
            .post(self.graphql.clone())
            .bearer_auth(token)
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        if let Some(errors) = body.get("errors") {
            return Err(errors.to_string());
        }
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        Ok(body["data"].clone())
    }

    /// Waits until the read models have applied everything in the log; returns the lag
    /// seen first.
    async fn settle(&self) -> u64 {
        let mut first = None;
        loop {
            let h: Value = match self.http.get(format!("{}/healthz", self.base)).send().await {
                Ok(r) => r.json().await.unwrap_or(Value::Null),
                Err(_) => Value::Null,
            };
            let lag = h["projection_lag"].as_u64().unwrap_or(u64::MAX);
            let first = *first.get_or_insert(lag);
            if lag == 0 {
                return first;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

struct Outcome {
    requests: u64,
    errors: u64,
    secs: f64,
    latencies_us: Vec<u64>,
    /// CPU time of this process (server and clients) per request, if known.
    cpu_us: Option<f64>,
}

/// CPU time used by this process so far, in seconds (Linux: /proc/self/stat, whose
/// utime and stime are in clock ticks of 1/100 s).
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
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

type Fut = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Make = Arc<dyn Fn(u64, usize) -> Fut + Send + Sync>;

/// Runs `make(i, connection)` from `connections` clients for `secs` seconds.
async fn drive(connections: usize, secs: f64, make: Make) -> Outcome {
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let cpu_start = process_cpu_secs();
    let mut tasks = Vec::new();
    for conn in 0..connections {
        let (make, counter, errors, first_error) = (
            make.clone(),
            counter.clone(),
            errors.clone(),
            first_error.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                match make(i, conn).await {
                    Ok(()) => lat.push(t.elapsed().as_micros() as u64),
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
    let cpu = cpu_start.zip(process_cpu_secs()).map(|(a, b)| b - a);
    latencies_us.sort_unstable();
    if let Some(e) = first_error.lock().expect("lock").take() {
        eprintln!("  first error: {}", &e[..e.len().min(300)]);
    }
    let requests = latencies_us.len() as u64;
    Outcome {
        requests,
        errors: errors.load(Ordering::Relaxed),
        secs,
        latencies_us,
        cpu_us: cpu.map(|c| c * 1e6 / requests.max(1) as f64),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs: f64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let rounds: usize = arg("--rounds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let connections: usize = arg("--connections")
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let volunteers: usize = arg("--volunteers")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000)
        .max(1);

    let dir = ledger::testing::TempDir::new();
    let (store, backend) = if flag("--postgres") {
        let url = ledger::testing::postgres_url()
            .await
            .ok_or_else(|| anyhow::anyhow!("no PostgreSQL"))?;
        (ledger::Store::open(&url).await?, "PostgreSQL")
    } else {
        let url = format!("sqlite://{}", dir.path().join("load.db").display());
        (ledger::Store::open(&url).await?, "SQLite")
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let admin = api::issue_token(&store, api::Role::Admin, None, None, "load-admin").await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let no_projections = flag("--no-projections");
    let server = if no_projections {
        // The API without read models: only mutations (and `events`) work. To tell the
        // cost of the read models' writes from the ledger's own.
        let (tx, rx) = tokio::sync::watch::channel(false);
        let config = api::ServeConfig::new(listen);
        let state = api::AppState::new(store.clone(), &config, rx);
        let listener = tokio::net::TcpListener::bind(listen).await?;
        tokio::spawn(async move {
            axum::serve(listener, api::router(state))
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                    let _ = tx.send(true);
                })
                .await
                .map_err(anyhow::Error::from)
        })
    } else {
        tokio::spawn(api::serve(
            store.clone(),
            api::ServeConfig::new(listen),
            async move {
                let _ = stop_rx.await;
            },
        ))
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    let client = Client {
        http,
        base: format!("http://{listen}"),
        graphql: reqwest::Url::parse(&format!("http://{listen}/graphql"))?,
    };

    // Seed: a community, a stairwell, volunteers with some points.
    let d = client
        .gql(
            &admin,
            "mutation { establishCommunity(idempotencyKey: \"c\", name: \"负载社区\") { communityId } }",
            json!({}),
        )
        .await
        .map_err(anyhow::Error::msg)?;
    let community = d["establishCommunity"]["communityId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let community_id = CommunityId(Uuid::parse_str(&community)?);
    let d = client
        .gql(&admin, "mutation($c: ID!) { registerStairwell(idempotencyKey: \"s\", communityId: $c, building: \"1\", unit: \"1\", households: 60) { stairwellId } }", json!({ "c": community }))
        .await
        .map_err(anyhow::Error::msg)?;
    let stairwell = d["registerStairwell"]["stairwellId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let staff = api::issue_token(
        &store,
        api::Role::Staff,
        Some(community_id.0),
        None,
        "load-staff",
    )
    .await?;
    let seeded = Instant::now();
    let mut ids = Vec::new();
    for chunk in (0..volunteers).collect::<Vec<_>>().chunks(64) {
        let mut tasks = Vec::new();
        for &i in chunk {
            let (client, staff, community, stairwell) = (
                client.clone(),
                staff.clone(),
                community.clone(),
                stairwell.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let d = client
                    .gql(&staff, "mutation($k: String!, $c: ID!, $s: ID!, $n: String!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n) { volunteerId } }",
                        json!({ "k": format!("v{i}"), "c": community, "s": stairwell, "n": format!("志愿者{i}") }))
                    .await?;
                let id = d["registerVolunteer"]["volunteerId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
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
    // One token per connection, each a volunteer reading their own balance.
    let mut readers = Vec::new();
    for id in ids.iter().take(connections.min(ids.len())) {
        let token = api::issue_token(
            &store,
            api::Role::Volunteer,
            Some(community_id.0),
            Uuid::parse_str(id).ok(),
            "load-volunteer",
        )
        .await?;
        readers.push((token, id.clone()));
    }
    let seed_secs = seeded.elapsed().as_secs_f64();
    let lag = client.settle().await;
    println!(
        "timebank API load, {backend}: {volunteers} volunteers seeded in {seed_secs:.1}s (projection lag then {lag} events); \
         {connections} connections, {secs}s per workload, median of {rounds} rounds"
    );
    let ids = Arc::new(ids);
    let readers = Arc::new(readers);

    let mut workloads: Vec<(&str, Make)> = Vec::new();
    {
        let (c, t) = (client.clone(), admin.clone());
        workloads.push((
            "{ __typename } (baseline)",
            Arc::new(move |_, _| {
                let (c, t) = (c.clone(), t.clone());
                Box::pin(async move { c.gql(&t, "{ __typename }", json!({})).await.map(drop) })
            }),
        ));
    }
    {
        let (c, readers) = (client.clone(), readers.clone());
        workloads.push((
            "volunteer balance (own token)",
            Arc::new(move |_, conn| {
                let c = c.clone();
                let (t, id) = readers[conn % readers.len()].clone();
                Box::pin(async move {
                    c.gql(&t, "query($id: ID!) { volunteer(id: $id) { balance { points hours verifiedHours stars flagged } } }", json!({ "id": id }))
                        .await
                        .map(drop)
                })
            }),
        ));
    }
    {
        let (c, t, cid) = (client.clone(), staff.clone(), community.clone());
        workloads.push((
            "ranking top 20 (points, all time)",
            Arc::new(move |_, _| {
                let (c, t, cid) = (c.clone(), t.clone(), cid.clone());
                Box::pin(async move {
                    let d = c.gql(&t, "query($c: ID!) { ranking(communityId: $c, metric: POINTS, first: 20) { rows { rank volunteerId points } } }", json!({ "c": cid })).await?;
                    match d["ranking"]["rows"].as_array().map(Vec::len) {
                        Some(20) => Ok(()),
                        n => Err(format!("ranking has {n:?} rows")),
                    }
                })
            }),
        ));
    }
    let award: Make = {
        let run = Uuid::new_v4();
        let (c, t, vs) = (client.clone(), staff.clone(), ids.clone());
        Arc::new(move |i, _| {
            let (c, t, v) = (c.clone(), t.clone(), vs[i as usize % vs.len()].clone());
            Box::pin(async move {
                c.gql(&t, "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", reason: \"负载\") { position } }",
                    json!({ "k": format!("{run}-{i}"), "v": v })).await.map(drop)
            })
        })
    };
    workloads.push(("awardPoints mutation", award.clone()));
    // Balances read while awards land on every volunteer (the readers' own included):
    // the reads of this row, with WRITERS more connections awarding points meanwhile.
    let balance = workloads[1].1.clone();
    workloads.push((MIXED, balance));
    let mixed_writers = Some(award);
    if !flag("--no-ledger") {
        // The command handler alone: same commands, same concurrency, no HTTP/GraphQL.
        let handler = CommandHandler::new(store.clone());
        let actor = Actor::staff(Uuid::new_v4(), community_id);
        let vs: Arc<Vec<VolunteerId>> = Arc::new(
            ids.iter()
                .filter_map(|s| Uuid::parse_str(s).ok().map(VolunteerId))
                .collect(),
        );
        let run = Uuid::new_v4();
        workloads.push((
            "ledger only: CommandHandler AwardPoints",
            Arc::new(move |i, _| {
                let (h, a, v) = (handler.clone(), actor.clone(), vs[i as usize % vs.len()]);
                Box::pin(async move {
                    let c = AwardPoints {
                        volunteer_id: v,
                        points: rust_decimal::Decimal::new(100, 2),
                        reason: "负载".into(),
                    };
                    h.execute(&a, &format!("h-{run}-{i}"), c.into())
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string())
                })
            }),
        ));
        // The store alone: one well-formed event per append, one stream per writer.
        let st = store.clone();
        let versions: Arc<Vec<AtomicU64>> =
            Arc::new((0..connections).map(|_| AtomicU64::new(0)).collect());
        let run = Uuid::new_v4();
        workloads.push((
            "ledger only: Store::append (1 event)",
            Arc::new(move |i, conn| {
                let (st, versions) = (st.clone(), versions.clone());
                Box::pin(async move {
                    let e = Event::PointsAwarded {
                        entry_id: EntryId(Uuid::new_v4()),
                        points: ledger::amount::Points::from_hundredths(100),
                        reason: format!("append {i}"),
                        awarded_by: Uuid::nil(),
                    }
                    .to_new_event(Uuid::new_v4(), Metadata::default(), None)
                    .map_err(|e| e.to_string())?;
                    let v = versions[conn].load(Ordering::Relaxed);
                    st.append(
                        &format!("load-{run}-{conn}"),
                        ExpectedVersion::Exact(v),
                        vec![e],
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    versions[conn].store(v + 1, Ordering::Relaxed);
                    Ok(())
                })
            }),
        ));
    }

    // `--only a,b`: just the workloads whose names contain one of these words.
    if let Some(only) = arg("--only") {
        let words: Vec<String> = only.split(',').map(str::to_lowercase).collect();
        workloads.retain(|(name, _)| {
            let name = name.to_lowercase();
            words.iter().any(|w| name.contains(w.as_str()))
        });
    }
    let mut results: Vec<Vec<Outcome>> = workloads.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        for (w, (name, make)) in workloads.iter().enumerate() {
            client.settle().await;
            let o = match (&mixed_writers, *name == MIXED) {
                (Some(writers), true) => {
                    let w = tokio::spawn(drive(WRITERS, secs, writers.clone()));
                    let o = drive(connections, secs, make.clone()).await;
                    let w = w.await?;
                    eprintln!("  meanwhile {:.0} awardPoints/s", w.rps());
                    o
                }
                _ => drive(connections, secs, make.clone()).await,
            };
            let behind = client.settle().await;
            eprintln!(
                "round {}: {name}: {:.0}/s, median {:.2} ms, p99 {:.2} ms, {:.0} µs CPU/request, {} errors; projections then {behind} events behind",
                round + 1,
                o.rps(),
                o.pct(0.5),
                o.pct(0.99),
                o.cpu_us.unwrap_or(f64::NAN),
                o.errors
            );
            results[w].push(o);
        }
    }

    // "vs baseline": the median over rounds of this round's rate over the baseline's
    // rate in the same round (the machine's load changes less within a round).
    println!(
        "| workload | requests/s | vs baseline | median ms | p99 ms | CPU µs/request | errors |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for ((name, _), outcomes) in workloads.iter().zip(&results) {
        let rps = median(outcomes.iter().map(Outcome::rps).collect());
        let vs = median(
            outcomes
                .iter()
                .zip(&results[0])
                .map(|(o, b)| o.rps() / b.rps())
                .collect(),
        );
        println!(
            "| {name} | {rps:.0} | {:.0}% | {:.2} | {:.2} | {:.0} | {} |",
            100.0 * vs,
            median(outcomes.iter().map(|o| o.pct(0.5)).collect()),
            median(outcomes.iter().map(|o| o.pct(0.99)).collect()),
            median(
                outcomes
                    .iter()
                    .map(|o| o.cpu_us.unwrap_or(f64::NAN))
                    .collect()
            ),
            outcomes.iter().map(|o| o.errors).sum::<u64>()
        );
    }
    let stats = store.writer_stats();
    println!(
        "group commit over the run: {} batches, {} appends, {:.1} appends per batch",
        stats.batches,
        stats.appends,
        stats.appends as f64 / stats.batches.max(1) as f64
    );
    let _ = stop_tx.send(());
    let _ = server.await;
    Ok(())
}
