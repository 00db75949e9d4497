#![allow(dead_code)] // each test binary uses what it needs
//! The product served for a browser test: the API and the pages on a free port, with the
//! read models caught up, and one-time login links made as an administrator would.

use api::{AppState, Role, ServeConfig};
use ledger::command::{Actor, CommandHandler};
use std::time::Duration;
use uuid::Uuid;

/// Serves the API and the pages on `handler`'s store once its read models have caught
/// up with the log; the base URL (`http://127.0.0.1:PORT`).
pub async fn serve(handler: CommandHandler) -> String {
    let store = handler.store().clone();
    let projections = projections::start(store.clone()).await;
    let head = store.head().await.unwrap();
    projections
        .wait_for(head, Duration::from_secs(60))
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(tx);
    let state = AppState::with_handler(handler, &ServeConfig::default(), rx, Some(projections));
    let app = api::router(state.clone()).merge(web::routes(state, web::WebConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// A one-time login link (`/login/CODE`) for `role`, bound to `community` if given.
pub async fn login_link(
    store: &ledger::Store,
    role: Role,
    community: Option<Uuid>,
    label: &str,
) -> String {
    let maker = api::auth::Principal {
        street_communities: Vec::new(),
        token_id: Uuid::new_v4(),
        actor: Actor::admin(Uuid::new_v4()),
        label: "test".into(),
    };
    let grant = web::links::Grant {
        street: None,
        role,
        community,
        volunteer: None,
        label: label.into(),
    };
    let code = web::links::create(store, &maker, grant, chrono::Utc::now())
        .await
        .unwrap();
    format!("/login/{code}")
}
