//! Benchmarks of activities (志愿活动), each against a reference in the same run.
//!
//! - **Muster**: `--volunteers` (default 500) volunteers, each with their own token,
//!   check in to one activity with the organiser's code within `--seconds` (default 60):
//!   one request every `seconds / volunteers`, over HTTP to the real server in-process.
//!   The same schedule of `{ __typename }` requests runs first as the baseline; both
//!   give their median and p99 latency.
//! - **Sign-up race**: 200 volunteers sign up at once for 30 places (staff's token for
//!   each): the time until all are answered, their median and p99, and how many won.
//! - **Bulk approval**: the muster's attendance approved in one command (the ledger's
//!   handler with a clock after the end): its time and the events of its one append.
//!
//! ```text
//! cargo build --release -p api --example activities
//! target/release/examples/activities [--volunteers 500] [--seconds 60] [--postgres]
//! ```

use ledger::command::{Actor, ApproveAttendance, CommandHandler, FixedClock};
use ledger::ids::ActivityId;
use serde_json::{json, Value};
use std::sync::Arc;
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

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: reqwest::Url,
}

impl Client {
    async fn gql(&self, token: &str, query: &str, variables: Value) -> Result<Value, String> {
        let body: Value = self
            .http
            .post(self.url.clone())
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match body.get("errors") {
            Some(e) => Err(e[0]["extensions"]["code"]
                .as_str()
                .unwrap_or("ERROR")
                .to_string()),
            None => Ok(body["data"].clone()),
        }
    }

    async fn must(&self, token: &str, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.gql(token, query, variables)
            .await
            .map_err(anyhow::Error::msg)
    }
}

/// Median and p99 of latencies in microseconds, as milliseconds.
fn quantiles(mut us: Vec<u64>) -> (f64, f64) {
    us.sort_unstable();
    let at = |q: f64| {
        us.get(((us.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    (at(0.5) as f64 / 1000.0, at(0.99) as f64 / 1000.0)
}

/// Sends `n` requests on a fixed schedule over `span`, the `i`th as `make(i)` gives it
/// (token, variables) when its time comes; the latency of each and the error codes.
async fn scheduled(
    client: &Client,
    query: &'static str,
    n: usize,
    make: impl Fn(usize) -> (String, Value),
    span: Duration,
) -> (Vec<u64>, Vec<String>) {
    let gap = span / n.max(1) as u32;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        tokio::time::sleep_until((start + gap * i as u32).into()).await;
        let (token, vars) = make(i);
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = client.gql(&token, query, vars).await;
            (t.elapsed().as_micros() as u64, r.err())
        }));
    }
    let (mut lat, mut errors) = (Vec::new(), Vec::new());
    for t in tasks {
        if let Ok((us, err)) = t.await {
            lat.push(us);
            errors.extend(err);
        }
    }
    (lat, errors)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = arg("--volunteers")
        .and_then(|s| s.parse().ok())
        .unwrap_or(500)
        .max(30);
    let secs: f64 = arg("--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let dir = ledger::testing::TempDir::new();
    let (store, backend) = if std::env::args().any(|a| a == "--postgres") {
        let url = ledger::testing::postgres_url()
            .await
            .ok_or_else(|| anyhow::anyhow!("no PostgreSQL"))?;
        (ledger::Store::open(&url).await?, "PostgreSQL")
    } else {
        let url = format!("sqlite://{}", dir.path().join("activities.db").display());
        (ledger::Store::open(&url).await?, "SQLite")
    };
    let listen = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let admin = api::issue_token(&store, api::Role::Admin, None, None, "bench-admin").await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(
        store.clone(),
        api::ServeConfig::new(listen),
        async move {
            let _ = stop_rx.await;
        },
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?,
        url: reqwest::Url::parse(&format!("http://{listen}/graphql"))?,
    };

    // A community with `n` volunteers, each with a token of their own.
    let c = client
        .must(&admin, "mutation { establishCommunity(idempotencyKey: \"c\", name: \"活动社区\") { communityId } }", json!({}))
        .await?["establishCommunity"]["communityId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let community = ledger::ids::CommunityId(Uuid::parse_str(&c)?);
    let s = client
        .must(&admin, "mutation($c: ID!) { registerStairwell(idempotencyKey: \"s\", communityId: $c, building: \"1栋\", unit: \"1单元\", households: 99) { stairwellId } }", json!({"c": c}))
        .await?["registerStairwell"]["stairwellId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let staff = api::issue_token(
        &store,
        api::Role::Staff,
        Some(community.0),
        None,
        "bench-staff",
    )
    .await?;
    let mut people = Vec::with_capacity(n);
    for i in 0..n {
        let v = client
            .must(&staff, "mutation($k: String!, $c: ID!, $s: ID!, $n: String!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n) { volunteerId } }", json!({"k": format!("v{i}"), "c": c, "s": s, "n": format!("志愿者{i}")}))
            .await?["registerVolunteer"]["volunteerId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let token = api::issue_token(
            &store,
            api::Role::Volunteer,
            Some(community.0),
            Some(Uuid::parse_str(&v)?),
            "bench",
        )
        .await?;
        people.push((v, token));
    }
    let post = "mutation($k: String!, $c: ID!, $s: DateTime!, $e: DateTime!, $n: Int!) { postActivity(idempotencyKey: $k, communityId: $c, title: \"集合\", kind: PATROL, place: \"广场\", startsAt: $s, endsAt: $e, places: $n) { activityId } }";
    let starts = chrono::Utc::now() + chrono::Duration::minutes(10);
    let ends = starts + chrono::Duration::hours(2);
    let a = client
        .must(&staff, post, json!({"k": "muster", "c": c, "s": starts.to_rfc3339(), "e": ends.to_rfc3339(), "n": n}))
        .await?["postActivity"]["activityId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let sign = "mutation($k: String!, $a: ID!, $v: ID) { signUp(idempotencyKey: $k, activityId: $a, volunteerId: $v) { position } }";
    for (v, _) in &people {
        client
            .must(
                &staff,
                sign,
                json!({"k": format!("su-{v}"), "a": a, "v": v}),
            )
            .await?;
    }
    // The organiser's screen: the code shown now, read again every second (it changes
    // every 30 s); each volunteer types the one on the screen when their turn comes.
    let shown = Arc::new(std::sync::RwLock::new(String::new()));
    let screen = {
        let (client, staff, shown) = (client.clone(), staff.clone(), shown.clone());
        let a = a.clone();
        tokio::spawn(async move {
            loop {
                let q = "query($a: ID!) { activityCheckInCode(activityId: $a) { code } }";
                if let Ok(d) = client.gql(&staff, q, json!({"a": a})).await {
                    let code = d["activityCheckInCode"]["code"]
                        .as_str()
                        .unwrap_or_default();
                    *shown.write().unwrap() = code.to_string();
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    while shown.read().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Muster: the baseline on the same schedule first, then the check-ins.
    let span = Duration::from_secs_f64(secs);
    let (base_lat, base_err) = scheduled(
        &client,
        "{ __typename }",
        people.len(),
        |i| (people[i].1.clone(), json!({})),
        span,
    )
    .await;
    let check_in = "mutation($k: String!, $a: ID!, $code: String) { checkIn(idempotencyKey: $k, activityId: $a, code: $code) { at } }";
    let (lat, err) = scheduled(
        &client,
        check_in,
        people.len(),
        |i| {
            let (v, t) = &people[i];
            let code = shown.read().unwrap().clone();
            (
                t.clone(),
                json!({"k": format!("in-{v}"), "a": a, "code": code}),
            )
        },
        span,
    )
    .await;
    screen.abort();
    if !err.is_empty() {
        let mut codes: Vec<&String> = err.iter().collect();
        codes.sort();
        codes.dedup();
        println!("check-in errors: {} ({codes:?})", err.len());
    }
    let (b50, b99) = quantiles(base_lat);
    let (c50, c99) = quantiles(lat);
    println!("timebank activities, {backend}: {n} volunteers");
    println!("| muster ({n} in {secs} s) | median ms | p99 ms | errors |");
    println!("|---|---:|---:|---:|");
    println!(
        "| {{ __typename }} (baseline) | {b50:.2} | {b99:.2} | {} |",
        base_err.len()
    );
    println!(
        "| checkIn with the code | {c50:.2} | {c99:.2} | {} |",
        err.len()
    );
    println!(
        "checkIn ÷ baseline: median {:.1}×, p99 {:.1}×",
        c50 / b50.max(0.001),
        c99 / b99.max(0.001)
    );

    // Sign-up race: 200 at once for 30 places.
    let race = client
        .must(&staff, post, json!({"k": "race", "c": c, "s": (starts + chrono::Duration::days(1)).to_rfc3339(), "e": (ends + chrono::Duration::days(1)).to_rfc3339(), "n": 30}))
        .await?["postActivity"]["activityId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let t = Instant::now();
    let tasks: Vec<_> = people
        .iter()
        .take(200)
        .map(|(v, _)| {
            let (client, staff, vars) = (
                client.clone(),
                staff.clone(),
                json!({"k": format!("race-{v}"), "a": race, "v": v}),
            );
            tokio::spawn(async move {
                let t = Instant::now();
                let r = client.gql(&staff, sign, vars).await;
                (t.elapsed().as_micros() as u64, r.err())
            })
        })
        .collect();
    let (mut lat, mut won, mut full) = (Vec::new(), 0, 0);
    for task in tasks {
        let (us, err) = task.await?;
        lat.push(us);
        match err.as_deref() {
            None => won += 1,
            Some("ACTIVITY_FULL") => full += 1,
            Some(other) => anyhow::bail!("sign-up failed: {other}"),
        }
    }
    let all = t.elapsed();
    let (r50, r99) = quantiles(lat);
    println!("sign-up race: 200 for 30 places in {:.0} ms: {won} signed up, {full} ACTIVITY_FULL; median {r50:.2} ms, p99 {r99:.2} ms", all.as_secs_f64() * 1000.0);

    // Bulk approval, after the end (a handler whose clock is past it).
    let _ = stop_tx.send(());
    let _ = server.await;
    let clock = Arc::new(FixedClock::new(ends + chrono::Duration::minutes(1)));
    let handler = CommandHandler::with_clock(store.clone(), clock);
    let approve = ApproveAttendance {
        activity_id: ActivityId(Uuid::parse_str(&a)?),
        adjustments: vec![],
        exclusions: vec![],
    };
    let t = Instant::now();
    let done = handler
        .run(&Actor::admin(Uuid::new_v4()), "approve", approve)
        .await?;
    let took = t.elapsed();
    println!(
        "bulk approval: {} records in one append of {} events in {:.0} ms",
        done.result.records,
        done.events,
        took.as_secs_f64() * 1000.0
    );
    Ok(())
}
