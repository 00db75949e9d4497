//! The hall display through a server restart, in a real headless Chromium: the screen
//! stays open while the server goes away (its runtime dropped, every connection cut)
//! and comes back on the same address and database; the browser reconnects by itself
//! and shows an award made after the restart, without anyone touching it.

#[allow(dead_code)] // the browser client has more than this test uses
mod support;

use api::{AppState, Role, ServeConfig};
use ledger::command::*;
use std::net::SocketAddr;
use std::time::Duration;
use support::browser::{chromium, Browser};
use uuid::Uuid;

/// A server on `addr` over the database at `url`, on a runtime of its own (dropping
/// the runtime stops the server and cuts its connections, as a restart would).
fn start(url: String, addr: SocketAddr) -> tokio::runtime::Runtime {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = ledger::Store::open(&url).await.unwrap();
        let handler = CommandHandler::new(store.clone());
        let projections = projections::start(store.clone()).await;
        let (_tx, rx) = tokio::sync::watch::channel(false);
        std::mem::forget(_tx);
        let state = AppState::with_handler(handler, &ServeConfig::default(), rx, Some(projections));
        let app = api::router(state.clone()).merge(web::routes(state, web::WebConfig::default()));
        let listener = loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    });
    rt
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hall_reconnects_by_itself_after_a_restart() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but Chromium is not installed"
        );
        eprintln!("browser tests SKIPPED: no chromium on this machine");
        return;
    };
    let dir = ledger::testing::TempDir::new();
    let url = format!("sqlite://{}", dir.path().join("hall.db").display());
    // A community with a volunteer, written before the server starts.
    let store = ledger::Store::open(&url).await.unwrap();
    let h = CommandHandler::new(store.clone());
    let admin = Actor::admin(Uuid::new_v4());
    let c = h
        .run(
            &admin,
            "c",
            EstablishCommunity {
                name: "海棠社区".into(),
            },
        )
        .await
        .unwrap()
        .result
        .community_id;
    let g = h
        .run(
            &admin,
            "g",
            AddGrid {
                community_id: c,
                name: "一网格".into(),
                parent: None,
            },
        )
        .await
        .unwrap()
        .result
        .grid_id;
    let s = h
        .run(
            &admin,
            "s",
            RegisterStairwell {
                community_id: c,
                grid_id: g,
                building: "1号楼".into(),
                unit: "1单元".into(),
                households: 10,
            },
        )
        .await
        .unwrap()
        .result
        .stairwell_id;
    let v = h
        .run(
            &admin,
            "v",
            RegisterVolunteer {
                community_id: c,
                name: "王秀英".into(),
                phone: None,
                id_number: None,
                stairwell_id: s,
                tags: vec![],
                teams: vec![],
                household: None,
            },
        )
        .await
        .unwrap()
        .result
        .volunteer_id;
    let maker = api::auth::Principal {
        street_communities: Vec::new(),
        token_id: Uuid::new_v4(),
        actor: Actor::admin(Uuid::new_v4()),
        label: "test".into(),
    };
    let grant = web::links::Grant {
        street: None,
        role: Role::Display,
        community: Some(c.0),
        volunteer: None,
        label: "大屏".into(),
    };
    let code = web::links::create(&store, &maker, grant, chrono::Utc::now())
        .await
        .unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let first = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || start(url, addr))
            .await
            .unwrap()
    };
    let hall = Browser::launch(&binary, 1920, 1080, false).await;
    hall.open(&format!("http://{addr}/login/{code}")).await;
    hall.click("form button[type=submit]").await;
    hall.wait_for("document.querySelector('#live')", Duration::from_secs(10))
        .await;
    hall.eval("window.__same_page = 1").await;
    // The server goes away, and comes back on the same address a little later.
    tokio::task::spawn_blocking(move || drop(first))
        .await
        .unwrap();
    hall.wait_for(
        "document.querySelector('#live').classList.contains('off')",
        Duration::from_secs(10),
    )
    .await;
    let second = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || start(url, addr))
            .await
            .unwrap()
    };
    // An award after the restart, through the new server, reaches the open screen by
    // itself.
    let token = api::issue_token(&store, Role::Staff, Some(c.0), None, "staff")
        .await
        .unwrap();
    let award = "mutation($v: ID!) { awardPoints(idempotencyKey: \"after\", volunteerId: $v, points: \"20\", reason: \"见义勇为\") { position } }";
    let r: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "query": award, "variables": { "v": v.0 } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["errors"].is_null(), "{r}");
    let took = hall
        .wait_for(
            "document.querySelector('ul.awards') && document.querySelector('ul.awards').innerText.includes('见义勇为')",
            Duration::from_secs(15),
        )
        .await;
    eprintln!("the hall showed the award {took:?} after it was made, across a restart");
    assert_eq!(
        hall.eval("window.__same_page").await,
        1,
        "the hall reloaded"
    );
    assert_eq!(
        hall.eval("document.querySelector('#live').classList.contains('off')")
            .await,
        false
    );
    tokio::task::spawn_blocking(move || drop(second))
        .await
        .unwrap();
}
