//! Two `timebank serve` processes on one PostgreSQL database, as a small cluster runs:
//! exactly one of them leads each read model (shown by `/healthz`), a write through one
//! is read (`atLeast`) through the other, and when the leader is killed (SIGKILL) the
//! other takes over and keeps the read models up to date.
//!
//! Skipped with a message when PostgreSQL is unreachable (a failure under `CI=true`).

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_timebank")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `timebank serve` process, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db: &str) -> Server {
        let port = free_port();
        let child = Command::new(bin())
            .args([
                "--database-url",
                db,
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start timebank serve");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn kill(&mut self) {
        // SIGKILL: no shutdown, no release of anything but what the OS closes.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn health(&self, client: &reqwest::Client) -> Option<Value> {
        let r = client
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json().await.ok()
    }

    /// Read model → whether this process leads it.
    async fn leads(&self, client: &reqwest::Client) -> Option<BTreeMap<String, bool>> {
        let h = self.health(client).await?;
        Some(
            h["projections"]
                .as_array()?
                .iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or_default().to_string(),
                        p["leader"].as_bool().unwrap_or(false),
                    )
                })
                .collect(),
        )
    }

    async fn gql(&self, client: &reqwest::Client, token: &str, query: &str, vars: Value) -> Value {
        let body: Value = client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": vars }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON body");
        assert!(body.get("errors").is_none(), "{query}: {body}");
        body["data"].clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `check` holds, or fails with `what`.
async fn until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const REGISTER: &str = "mutation($k: String!, $c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"王秀英\") { volunteerId position } }";
const LOG: &str = "mutation($k: String!, $v: ID!, $h: Hours!) { logService(idempotencyKey: $k, volunteerId: $v, kind: PATROL, startedAt: \"2025-03-01T02:00:00Z\", hours: $h) { serviceId position } }";
const VERIFY: &str = "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId position } }";
const BALANCE: &str = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { hours verifiedHours } } }";

/// Logs and verifies `hours` of service through `s`; returns the position.
async fn serve_hours(
    s: &Server,
    client: &reqwest::Client,
    token: &str,
    v: &str,
    key: &str,
    hours: &str,
) -> u64 {
    let d = s
        .gql(
            client,
            token,
            LOG,
            json!({"k": format!("{key}-log"), "v": v, "h": hours}),
        )
        .await;
    let service = d["logService"]["serviceId"].as_str().unwrap().to_string();
    let d = s
        .gql(
            client,
            token,
            VERIFY,
            json!({"k": format!("{key}-verify"), "v": v, "s": service}),
        )
        .await;
    d["verifyService"]["position"].as_u64().unwrap()
}

async fn hours_of(s: &Server, client: &reqwest::Client, token: &str, v: &str, at: u64) -> Value {
    s.gql(client, token, BALANCE, json!({"v": v, "p": at}))
        .await["volunteer"]["balance"]["hours"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_the_read_models_and_one_takes_over_from_a_killed_leader() {
    let Some(db) = ledger::testing::postgres_url().await else {
        return;
    };
    let started = Instant::now();
    let client = reqwest::Client::new();
    // Both start at once on the fresh database (migrations serialise on their lock).
    let mut servers = [Server::start(&db), Server::start(&db)];
    for s in &servers {
        until("a server comes up", Duration::from_secs(15), || async {
            s.health(&client).await.is_some()
        })
        .await;
    }
    let out = Command::new(bin())
        .args(["--database-url", &db, "token", "issue", "--role", "admin"])
        .output()
        .expect("token issue");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = String::from_utf8(out.stdout).unwrap().trim().to_string();

    // Exactly one of the two leads each read model.
    let deadline = Instant::now() + Duration::from_secs(10);
    let names: Vec<String> = loop {
        if let (Some(a), Some(b)) = (
            servers[0].leads(&client).await,
            servers[1].leads(&client).await,
        ) {
            if !a.is_empty() && a.keys().eq(b.keys()) && a.iter().all(|(n, l)| *l != b[n]) {
                break a.keys().cloned().collect();
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out: one leader per read model"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(names.len(), projections::all().len(), "{names:?}");

    // Write through one, read your writes through the other, both ways.
    let (w, r) = (&servers[0], &servers[1]);
    let d = w
        .gql(&client, &admin, "mutation { establishCommunity(idempotencyKey: \"c\", name: \"幸福社区\") { communityId } }", json!({}))
        .await;
    let c = d["establishCommunity"]["communityId"]
        .as_str()
        .unwrap()
        .to_string();
    let d = r
        .gql(&client, &admin, "mutation($c: ID!) { registerStairwell(idempotencyKey: \"s\", communityId: $c, building: \"3号楼\", unit: \"2单元\", households: 24) { stairwellId } }", json!({"c": c}))
        .await;
    let s = d["registerStairwell"]["stairwellId"]
        .as_str()
        .unwrap()
        .to_string();
    let d = w
        .gql(&client, &admin, REGISTER, json!({"k": "v", "c": c, "s": s}))
        .await;
    let v = d["registerVolunteer"]["volunteerId"]
        .as_str()
        .unwrap()
        .to_string();
    let at = serve_hours(w, &client, &admin, &v, "first", "2").await;
    assert_eq!(hours_of(r, &client, &admin, &v, at).await, "2.00");
    let at = serve_hours(r, &client, &admin, &v, "second", "1.5").await;
    assert_eq!(hours_of(w, &client, &admin, &v, at).await, "3.50");

    // Kill the leader of the balances (SIGKILL); the other takes over every read model.
    let leader = usize::from(!servers[0].leads(&client).await.unwrap()["balances"]);
    servers[leader].kill();
    let survivor = &servers[1 - leader];
    until(
        "the survivor leads every read model",
        Duration::from_secs(10),
        || async {
            survivor
                .leads(&client)
                .await
                .is_some_and(|l| l.len() == names.len() && l.values().all(|x| *x))
        },
    )
    .await;
    // It keeps projecting new writes, and reads agree with what was written.
    let at = serve_hours(survivor, &client, &admin, &v, "third", "0.5").await;
    let d = survivor
        .gql(&client, &admin, BALANCE, json!({"v": v, "p": at}))
        .await;
    assert_eq!(d["volunteer"]["balance"]["hours"], "4.00");
    assert_eq!(d["volunteer"]["balance"]["verifiedHours"], "4.00");
    let h = survivor.health(&client).await.expect("health");
    assert_eq!(h["projection_lag"], 0, "{h}");
    eprintln!(
        "cluster: {} read models, leader of balances killed, taken over, in {:?}",
        names.len(),
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}
