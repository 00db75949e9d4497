//! Subscriptions over WebSocket (`/ws`, graphql-transport-ws and graphql-ws): the
//! token comes in the upgrade request or in `connection_init`; each connection gets
//! DataLoaders that keep nothing, and closes when the server shuts down.

use super::media::{auth_failure, Media};
use crate::schema;
use crate::state::{authenticate, AppState};
use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use serde_json::Value;

/// The token of a `connection_init` payload: `{"Authorization": "Bearer …"}`,
/// `{"authorization": …}`, `{"token": …}` or `{"authToken": …}`.
fn token_from_init(payload: &Value) -> Option<String> {
    let o = payload.as_object()?;
    for k in ["Authorization", "authorization", "token", "authToken"] {
        if let Some(Value::String(s)) = o.get(k) {
            let t = s.trim();
            let t = t
                .strip_prefix("Bearer ")
                .or_else(|| t.strip_prefix("bearer "))
                .unwrap_or(t)
                .trim();
            if !t.is_empty() {
                return Some(t.to_string());
            }
        }
    }
    o.get("headers").and_then(token_from_init)
}

pub(super) async fn ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    state.app.metrics.request("ws");
    // A token in the upgrade request is checked now; otherwise in connection_init.
    let from_header = match headers.get(header::AUTHORIZATION) {
        Some(_) => match authenticate(&state, &headers).await {
            Ok(p) => Some(p),
            Err(e) => return auth_failure(&state, Media::Json, e),
        },
        None => None,
    };
    let schema = state.schema.clone();
    let app = state.app.clone();
    let mut shutdown = state.shutdown.clone();
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| async move {
            let auth = app.auth.clone();
            let store = app.store.clone();
            let reads = app.reads.clone();
            let socket = GraphQLWebSocket::new(stream, schema, protocol).on_connection_init(
                move |payload| async move {
                    let principal = match from_header {
                        Some(p) => p,
                        None => {
                            let token = token_from_init(&payload).ok_or_else(|| {
                                async_graphql::Error::new("UNAUTHENTICATED: send {\"Authorization\": \"Bearer <token>\"} in connection_init")
                            })?;
                            auth.authenticate(&token)
                                .await
                                .map_err(|e| async_graphql::Error::new(format!("{}: {}", e.code(), e.public_message())))?
                        }
                    };
                    let mut data = Data::default();
                    data.insert(principal);
                    let (people, profiles) = schema::types::connection_loaders(store, reads);
                    data.insert(people);
                    data.insert(profiles);
                    Ok(data)
                },
            );
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                _ = socket.serve() => {}
                _ = shutdown.changed() => {}
            }
        })
}
