//! How fast the pages render for a large community, beside the API's cheapest request.
//!
//! Generates the demo community with `--volunteers` volunteers (3,000 by default) and
//! `--events` events on a fresh SQLite file, adds this week around today (as
//! `serve --demo` does), serves the API and the pages in-process, signs in a staff
//! member, a volunteer and the hall display by one-time links, then requests each main
//! page with `--connections` concurrent keep-alive clients, `--requests` times a round,
//! for `--rounds` rounds (pages interleaved; the baseline `{ __typename }` over
//! `/graphql` with a bearer token in every round). Prints, per page, the median over the
//! rounds of its p50 and p99 latency, its p50 as a multiple of the baseline's p50 in the
//! same round, and the size of its HTML (budget: 100 KB before images; a page over it
//! is marked).
//!
//! ```text
//! cargo build --release -p web --example pages_bench
//! target/release/examples/pages_bench [--volunteers 3000] [--events 60000] [--connections 4] [--requests 200] [--rounds 3]
//! ```

use api::{AppState, Role, ServeConfig};
use ledger::command::{Actor, CommandHandler};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The page-size budget, before images.
const BUDGET: usize = 100 * 1024;

struct Args {
    volunteers: u64,
    events: u64,
    connections: usize,
    requests: usize,
    rounds: usize,
}

fn args() -> Args {
    let mut a = Args {
        volunteers: 3_000,
        events: 60_000,
        connections: 4,
        requests: 200,
        rounds: 3,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair.get(1).map(String::as_str).unwrap_or("");
        match pair[0].as_str() {
            "--volunteers" => a.volunteers = v.parse().expect("--volunteers N"),
            "--events" => a.events = v.parse().expect("--events N"),
            "--connections" => a.connections = v.parse().expect("--connections N"),
            "--requests" => a.requests = v.parse().expect("--requests N"),
            "--rounds" => a.rounds = v.parse().expect("--rounds N"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// One request of a workload: a page with a cookie, or the GraphQL baseline.
#[derive(Clone)]
enum Req {
    Page { path: String, cookie: String },
    Baseline { token: String },
}

impl Req {
    async fn send(&self, client: &reqwest::Client, base: &str) -> usize {
        let r = match self {
            Req::Page { path, cookie } => client
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .expect("page"),
            Req::Baseline { token } => client
                .post(format!("{base}/graphql"))
                .bearer_auth(token)
                .json(&serde_json::json!({ "query": "{ __typename }" }))
                .send()
                .await
                .expect("baseline"),
        };
        assert_eq!(r.status(), 200, "{}", self.name());
        let body = r.bytes().await.expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("操作未完成") && !text.contains("\"errors\""),
            "{} failed: {text}",
            self.name()
        );
        body.len()
    }

    fn name(&self) -> String {
        match self {
            Req::Page { path, .. } => path.clone(),
            Req::Baseline { .. } => "{ __typename } (baseline)".into(),
        }
    }
}

/// `n` requests over `c` connections: the latencies (µs, sorted) and the body size.
async fn run(
    client: &reqwest::Client,
    base: &str,
    req: &Req,
    n: usize,
    c: usize,
) -> (Vec<u64>, usize) {
    let each = n.div_ceil(c);
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (client, base, req) = (client.clone(), base.to_string(), req.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(each);
            let mut size = 0;
            for _ in 0..each {
                let t = Instant::now();
                size = req.send(&client, &base).await;
                lat.push(t.elapsed().as_micros() as u64);
            }
            (lat, size)
        }));
    }
    let mut all = Vec::new();
    let mut size = 0;
    for t in tasks {
        let (lat, s) = t.await.expect("client");
        all.extend(lat);
        size = s;
    }
    all.sort_unstable();
    (all, size)
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A session cookie for `role` by a one-time link.
async fn session(
    client: &reqwest::Client,
    base: &str,
    store: &ledger::Store,
    grant: web::links::Grant,
) -> String {
    let maker = api::auth::Principal {
        street_communities: Vec::new(),
        token_id: Uuid::new_v4(),
        actor: Actor::admin(Uuid::new_v4()),
        label: "bench".into(),
    };
    let code = web::links::create(store, &maker, grant, chrono::Utc::now())
        .await
        .expect("link");
    let r = client
        .post(format!("{base}/login/{code}"))
        .send()
        .await
        .expect("login");
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie");
    cookie.split(';').next().expect("cookie").to_string()
}

#[tokio::main]
async fn main() {
    let a = args();
    let dir = ledger::testing::TempDir::new();
    let url = format!("sqlite://{}/pages.db", dir.path().display());
    let store = ledger::Store::open(&url).await.expect("store");
    let handler = CommandHandler::new(store.clone());
    let t = Instant::now();
    let opts = ledger::demo::DemoOptions {
        volunteers: a.volunteers,
        events: a.events,
        ..Default::default()
    };
    ledger::demo::generate(&handler, opts, |_| {})
        .await
        .expect("demo");
    let day = ledger::demo::present(&handler, chrono::Utc::now())
        .await
        .expect("present");
    let projections = projections::start(store.clone()).await;
    let head = store.head().await.expect("head");
    projections
        .wait_for(head, Duration::from_secs(600))
        .await
        .expect("caught up");
    eprintln!(
        "{} volunteers, {head} events, ready in {:.1} s",
        a.volunteers,
        t.elapsed().as_secs_f64()
    );
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let state = AppState::with_handler(handler, &ServeConfig::default(), rx, Some(projections));
    let app = api::router(state.clone()).merge(web::routes(state, web::WebConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let c = Some(day.community_id.0);
    let grant = |role, volunteer| web::links::Grant {
        street: None,
        role,
        community: c,
        volunteer,
        label: "bench".into(),
    };
    let staff = session(&client, &base, &store, grant(Role::Staff, None)).await;
    let phone = session(
        &client,
        &base,
        &store,
        grant(Role::Volunteer, Some(day.volunteer_id.0)),
    )
    .await;
    let hall = session(&client, &base, &store, grant(Role::Display, None)).await;
    let token = api::issue_token(&store, Role::Staff, c, None, "bench")
        .await
        .expect("token");
    let page = |path: &str, cookie: &str| Req::Page {
        path: path.into(),
        cookie: cookie.into(),
    };
    let mut work = vec![Req::Baseline { token }];
    for p in [
        "/console",
        "/console/volunteers",
        "/console/volunteers?sort=points",
        "/console/volunteers?search=0001",
        "/console/activities",
        "/console/notices",
        "/console/stairwells",
        "/console/wishes",
        "/console/points",
        "/console/shop",
        "/console/reports",
    ] {
        work.push(page(p, &staff));
    }
    for p in [
        "/m",
        "/m/activities",
        "/m/inbox",
        "/m/statement",
        "/m/shop",
        "/m/family",
    ] {
        work.push(page(p, &phone));
    }
    work.push(page("/hall", &hall));
    let results = Arc::new(std::sync::Mutex::new(vec![
        (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            0usize
        );
        work.len()
    ]));
    for _ in 0..a.rounds {
        let mut base_p50 = 0.0;
        for (i, req) in work.iter().enumerate() {
            let (lat, size) = run(&client, &base, req, a.requests, a.connections).await;
            let (p50, p99) = (pct(&lat, 0.5), pct(&lat, 0.99));
            if i == 0 {
                base_p50 = p50;
            }
            let mut r = results.lock().expect("results");
            r[i].0.push(p50);
            r[i].1.push(p99);
            r[i].2.push(p50 / base_p50);
            r[i].3 = size;
        }
    }
    println!("| page | p50 ms | p99 ms | p50 ÷ baseline p50 | HTML |");
    println!("|---|---:|---:|---:|---:|");
    let r = results.lock().expect("results");
    for (req, (p50, p99, ratio, size)) in work.iter().zip(r.iter()) {
        let over = if *size > BUDGET && matches!(req, Req::Page { .. }) {
            " (over 100 KB)"
        } else {
            ""
        };
        println!(
            "| `{}` | {:.2} | {:.2} | {:.1}× | {:.1} KB{over} |",
            req.name(),
            median(p50.clone()),
            median(p99.clone()),
            median(ratio.clone()),
            *size as f64 / 1024.0
        );
    }
}
