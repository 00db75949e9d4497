//! Test support: a real server on a free port, a GraphQL client, and a seeded community.
#![allow(dead_code)]

use api::{AppState, Role, ServeConfig};
use ledger::testing::TempDir;
use ledger::Store;
use serde_json::{json, Value};
use std::net::SocketAddr;
use tokio::sync::watch;

/// The stores to run a test on: SQLite always, PostgreSQL when reachable.
pub async fn backends() -> Vec<(&'static str, Store, Option<TempDir>)> {
    let mut out = Vec::new();
    let (s, dir) = ledger::testing::sqlite_store().await;
    out.push(("sqlite", s, Some(dir)));
    if let Some(pg) = ledger::testing::postgres_store().await {
        out.push(("postgres", pg, None));
    }
    out
}

pub struct Server {
    pub addr: SocketAddr,
    pub store: Store,
    pub admin: String,
    pub http: reqwest::Client,
    pub projections: projections::Projections,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start(store: Store) -> Server {
        Server::start_with(
            store,
            ServeConfig::new(SocketAddr::from(([127, 0, 0, 1], 0))),
        )
        .await
    }

    pub async fn start_with(store: Store, config: ServeConfig) -> Server {
        let admin = api::issue_token(&store, Role::Admin, None, None, "test admin")
            .await
            .expect("admin token");
        Server::start_as(store, config, admin).await
    }

    /// A server whose admin token is `admin` (issued earlier: nothing is written here).
    pub async fn start_as(store: Store, config: ServeConfig, admin: String) -> Server {
        let (tx, rx) = watch::channel(false);
        let projections = projections::start(store.clone()).await;
        if let Some(url) = &config.replica_url {
            api::replica::read_from(&store, &projections, url)
                .await
                .expect("the replica");
        }
        let state = AppState::with_projections(
            store.clone(),
            &config,
            rx.clone(),
            Some(projections.clone()),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut stop = rx;
        let task = tokio::spawn(async move {
            axum::serve(listener, api::router(state))
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|v| *v).await;
                })
                .await
                .expect("serve");
        });
        Server {
            addr,
            store,
            admin,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
            projections,
            shutdown: tx,
            task,
        }
    }

    /// The log's head: pass it as `atLeast` to read everything written so far.
    pub async fn head(&self) -> u64 {
        self.store.head().await.expect("head")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The HTTP status of a GET of `path`.
    pub async fn status_of(&self, path: &str) -> u16 {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("GET")
            .status()
            .as_u16()
    }

    /// POSTs a GraphQL request; returns (status, body).
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(json!({ "query": query, "variables": variables }).to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// Runs a query as `token` and returns `data`, panicking on errors.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql(Some(token), query, variables).await;
        assert!(
            status == 200 && body.get("errors").is_none(),
            "query failed ({status}): {body}\nquery: {query}"
        );
        body["data"].clone()
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        let _ = self.projections.shutdown().await;
    }
}

/// The first error code of a response.
pub fn code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

pub fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An ID number: these 17 digits and their check character (GB 11643).
pub fn id_number(digits: &str) -> String {
    let check = ledger::domain::volunteer::id_check_character(digits).expect("17 digits");
    format!("{digits}{check}")
}

/// A community with a stairwell, two volunteers, and a token of every role.
pub struct Community {
    pub id: String,
    pub stairwell: String,
    pub v1: String,
    pub v2: String,
    pub staff: String,
    pub vol1: String,
    pub vol2: String,
    pub display: String,
    /// Staff of another community.
    pub other_staff: String,
    pub other_id: String,
}

pub async fn seed(s: &Server) -> Community {
    let est = "mutation($k: String!, $n: String!) { establishCommunity(idempotencyKey: $k, name: $n) { communityId position } }";
    let c = s
        .ok(&s.admin, est, json!({"k": key(), "n": "海棠社区"}))
        .await;
    let id = c["establishCommunity"]["communityId"]
        .as_str()
        .unwrap()
        .to_string();
    let o = s
        .ok(&s.admin, est, json!({"k": key(), "n": "枫林社区"}))
        .await;
    let other_id = o["establishCommunity"]["communityId"]
        .as_str()
        .unwrap()
        .to_string();
    let sw = s
        .ok(
            &s.admin,
            "mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"3栋\", unit: \"2单元\", households: 24) { stairwellId gridId } }",
            json!({"k": key(), "c": id}),
        )
        .await;
    let stairwell = sw["registerStairwell"]["stairwellId"]
        .as_str()
        .unwrap()
        .to_string();
    let reg = "mutation($k: String!, $c: ID!, $s: ID!, $n: String!, $p: String) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n, phone: $p, tags: [\"党员\"]) { volunteerId volunteerNumber } }";
    let v1 = s
        .ok(
            &s.admin,
            reg,
            json!({"k": key(), "c": id, "s": stairwell, "n": "张三丰", "p": "13812345678"}),
        )
        .await["registerVolunteer"]["volunteerId"]
        .as_str()
        .unwrap()
        .to_string();
    let v2 = s
        .ok(
            &s.admin,
            reg,
            json!({"k": key(), "c": id, "s": stairwell, "n": "李四", "p": "13987654321"}),
        )
        .await["registerVolunteer"]["volunteerId"]
        .as_str()
        .unwrap()
        .to_string();
    let uuid = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    let staff = api::issue_token(&s.store, Role::Staff, Some(uuid(&id)), None, "staff")
        .await
        .unwrap();
    let other_staff = api::issue_token(
        &s.store,
        Role::Staff,
        Some(uuid(&other_id)),
        None,
        "other staff",
    )
    .await
    .unwrap();
    let vol1 = api::issue_token(&s.store, Role::Volunteer, None, Some(uuid(&v1)), "v1")
        .await
        .unwrap();
    let vol2 = api::issue_token(&s.store, Role::Volunteer, None, Some(uuid(&v2)), "v2")
        .await
        .unwrap();
    let display = api::issue_token(
        &s.store,
        Role::Display,
        Some(uuid(&id)),
        None,
        "hall screen",
    )
    .await
    .unwrap();
    Community {
        id,
        stairwell,
        v1,
        v2,
        staff,
        vol1,
        vol2,
        display,
        other_staff,
        other_id,
    }
}

/// An activity of `c` that ended an hour ago, with volunteer `v` checked in by staff
/// during it (by a handler on the server's store whose clock stood then), not yet
/// approved.
pub async fn ended_activity(s: &Server, c: &Community, v: &str) -> String {
    use ledger::command::*;
    let then = chrono::Utc::now() - chrono::Duration::hours(2);
    let clock = std::sync::Arc::new(FixedClock::new(then));
    let h = CommandHandler::with_clock(s.store.clone(), clock.clone());
    let admin = Actor::admin(uuid::Uuid::new_v4());
    let community = ledger::ids::CommunityId(c.id.parse().expect("community id"));
    let a = h
        .run(
            &admin,
            &key(),
            PostActivity {
                community_id: community,
                title: "巡逻".into(),
                kind: ledger::event::ServiceKind::Patrol,
                place: "北门".into(),
                starts_at: then + chrono::Duration::minutes(5),
                ends_at: then + chrono::Duration::minutes(65),
                places: 10,
                signup_deadline: None,
                eligibility: Default::default(),
                walk_ins: true,
            },
        )
        .await
        .expect("post")
        .result
        .activity_id;
    clock.advance(chrono::Duration::minutes(10));
    let volunteer_id = ledger::ids::VolunteerId(v.parse().expect("volunteer id"));
    h.run(
        &admin,
        &key(),
        CheckIn {
            activity_id: a,
            volunteer_id,
            code: None,
        },
    )
    .await
    .expect("check in");
    a.0.to_string()
}
