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
//! The clients run in the same process as the server and share its CPUs. They speak
//! HTTP/1.1 on keep-alive connections through a lean client of their own (a prepared
//! POST, the answer read by its `Content-Length`, a 200 without `errors` checked), so that
//! they take little of that CPU, as wrk would; the seeding uses reqwest.
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
/// The bearer token and the JSON body of request `i` on connection `c`.
type MakeRequest = Arc<dyn Fn(u64, usize) -> (String, String) + Send + Sync>;
/// Checks a 200 answer's body (which has no `errors`).
type Check = fn(&str) -> Result<(), String>;

/// What a workload's clients do.
#[derive(Clone)]
enum Work {
    /// GraphQL requests over HTTP/1.1 keep-alive connections, one per client, by the
    /// lean client below.
    Http(MakeRequest, Check),
    /// Anything else (the ledger-only rows), as futures.
    Direct(Make),
}

fn any_data(_: &str) -> Result<(), String> {
    Ok(())
}

/// A minimal HTTP/1.1 client on one keep-alive connection: it writes a prepared POST and
/// reads the answer by its `Content-Length`, no more. A general client (reqwest) costs
/// about as much CPU per request as the server's `{ __typename }`, and the clients
/// share the server's CPUs here, so a lean one measures the server, as wrk would.
struct RawConn {
    stream: tokio::net::TcpStream,
    addr: std::net::SocketAddr,
    out: Vec<u8>,
    buf: Vec<u8>,
}

impl RawConn {
    async fn connect(addr: std::net::SocketAddr) -> Result<RawConn, String> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(RawConn {
            stream,
            addr,
            out: Vec::with_capacity(1024),
            buf: Vec::with_capacity(4096),
        })
    }

    /// POSTs `body` to /graphql as `token`; the status and the body of the answer.
    async fn post(&mut self, token: &str, body: &str) -> Result<(u16, String), String> {
        use std::io::Write;
        use tokio::io::AsyncWriteExt;
        self.out.clear();
        let _ = write!(
            self.out,
            "POST /graphql HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\naccept: application/graphql-response+json\r\ncontent-length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        self.out.extend_from_slice(body.as_bytes());
        self.stream
            .write_all(&self.out)
            .await
            .map_err(|e| e.to_string())?;
        self.buf.clear();
        let (head_end, status, length) = loop {
            self.read_more().await?;
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).map_err(|e| e.to_string())?;
                let status: u16 = head
                    .get(9..12)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("bad status line: {head:.60}"))?;
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())
                            .flatten()
                    })
                    .ok_or("no content-length in the answer")?;
                break (end + 4, status, length);
            }
        };
        while self.buf.len() < head_end + length {
            self.read_more().await?;
        }
        let body = String::from_utf8_lossy(&self.buf[head_end..head_end + length]).into_owned();
        Ok((status, body))
    }

    /// Appends what the connection has to the buffer (at least a byte).
    async fn read_more(&mut self) -> Result<(), String> {
        use tokio::io::AsyncReadExt;
        let mut chunk = [0u8; 8192];
        let n = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// One request of an HTTP workload on a client's connection (reconnecting if needed).
async fn http_request(
    conn: &mut Option<RawConn>,
    addr: std::net::SocketAddr,
    make: &MakeRequest,
    check: Check,
    i: u64,
    c: usize,
) -> Result<(), String> {
    if conn.is_none() {
        *conn = Some(RawConn::connect(addr).await?);
    }
    let (token, body) = make(i, c);
    let answer = match conn.as_mut() {
        Some(raw) => raw.post(&token, &body).await,
        None => return Err("no connection".into()),
    };
    let (status, body) = answer.inspect_err(|_| *conn = None)?;
    if status != 200 || body.contains("\"errors\"") {
        return Err(format!("HTTP {status}: {body:.300}"));
    }
    check(&body)
}

/// Runs `work` from `connections` clients for `secs` seconds.
async fn drive(connections: usize, secs: f64, work: Work, addr: std::net::SocketAddr) -> Outcome {
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let cpu_start = process_cpu_secs();
    let mut tasks = Vec::new();
    for conn in 0..connections {
        let (work, counter, errors, first_error) = (
            work.clone(),
            counter.clone(),
            errors.clone(),
            first_error.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut raw: Option<RawConn> = None;
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let done = match &work {
                    Work::Http(make, check) => {
                        http_request(&mut raw, addr, make, *check, i, conn).await
                    }
                    Work::Direct(make) => make(i, conn).await,
                };
                match done {
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

    let gql = |query: &str, variables: Value| {
        json!({ "query": query, "variables": variables }).to_string()
    };
    let mut workloads: Vec<(&str, Work)> = Vec::new();
    {
        let (t, body) = (admin.clone(), gql("{ __typename }", json!({})));
        workloads.push((
            "{ __typename } (baseline)",
            Work::Http(Arc::new(move |_, _| (t.clone(), body.clone())), any_data),
        ));
    }
    {
        let bodies: Arc<Vec<(String, String)>> = Arc::new(
            readers
                .iter()
                .map(|(t, id)| {
                    (t.clone(), gql("query($id: ID!) { volunteer(id: $id) { balance { points hours verifiedHours stars flagged } } }", json!({ "id": id })))
                })
                .collect(),
        );
        workloads.push((
            "volunteer balance (own token)",
            Work::Http(
                Arc::new(move |_, conn| bodies[conn % bodies.len()].clone()),
                any_data,
            ),
        ));
    }
    {
        let (t, body) = (
            staff.clone(),
            gql("query($c: ID!) { ranking(communityId: $c, metric: POINTS, first: 20) { rows { rank volunteerId points } } }", json!({ "c": community })),
        );
        fn twenty_rows(body: &str) -> Result<(), String> {
            match body.matches("\"rank\"").count() {
                20 => Ok(()),
                n => Err(format!("ranking has {n} rows")),
            }
        }
        workloads.push((
            "ranking top 20 (points, all time)",
            Work::Http(Arc::new(move |_, _| (t.clone(), body.clone())), twenty_rows),
        ));
    }
    let award = {
        let run = Uuid::new_v4();
        let (t, vs) = (staff.clone(), ids.clone());
        Work::Http(
            Arc::new(move |i, _| {
                let v = &vs[i as usize % vs.len()];
                (
                    t.clone(),
                    gql("mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", reason: \"负载\") { position } }",
                        json!({ "k": format!("{run}-{i}"), "v": v })),
                )
            }),
            any_data,
        )
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
            Work::Direct(Arc::new(move |i, _| {
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
            })),
        ));
        // The store alone: one well-formed event per append, one stream per writer.
        let st = store.clone();
        let versions: Arc<Vec<AtomicU64>> =
            Arc::new((0..connections).map(|_| AtomicU64::new(0)).collect());
        let run = Uuid::new_v4();
        workloads.push((
            "ledger only: Store::append (1 event)",
            Work::Direct(Arc::new(move |i, conn| {
                let (st, versions) = (st.clone(), versions.clone());
                Box::pin(async move {
                    let e = Event::PointsAwarded {
                        entry_id: EntryId(Uuid::new_v4()),
                        points: ledger::amount::Points::from_hundredths(100),
                        reason: format!("append {i}"),
                        awarded_by: Uuid::nil(),
                        expires_on: None,
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
            })),
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
                    let w = tokio::spawn(drive(WRITERS, secs, writers.clone(), listen));
                    let o = drive(connections, secs, make.clone(), listen).await;
                    let w = w.await?;
                    eprintln!("  meanwhile {:.0} awardPoints/s", w.rps());
                    o
                }
                _ => drive(connections, secs, make.clone(), listen).await,
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
