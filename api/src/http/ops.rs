//! Operations: `/healthz` (liveness, and readiness with `?ready` while read models are
//! built) and `/metrics` (Prometheus text, bearer token).

use super::media::{auth_failure, Media};
use crate::errors::ApiError;
use crate::state::{authenticate, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// `/healthz?ready` (readiness, for a load balancer): as `/healthz`, but 503 with status
/// `building` while a read model is still being built here or in the process leading it
/// (reads would wait, then answer READ_MODEL_NOT_READY).
#[derive(serde::Deserialize)]
pub(super) struct HealthParams {
    ready: Option<String>,
}

pub(super) async fn healthz(
    State(state): State<AppState>,
    axum::extract::Query(params): axum::extract::Query<HealthParams>,
) -> Response {
    state.app.metrics.request("healthz");
    let head = state.app.store.head().await;
    let projected = state.app.reads.position().await;
    // Each read model: where it is, and whether this process is the one updating it
    // (on PostgreSQL one process of a cluster leads each; the others follow).
    let models: Vec<Value> = state
        .app
        .reads
        .running()
        .map(|p| {
            p.positions()
                .into_iter()
                .map(|(name, position)| {
                    json!({
                        "name": name,
                        "position": position,
                        "leader": p.is_leader(name),
                        "built": p.is_built(name),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let building = models.iter().any(|m| m["built"] == false);
    let (ok, status) = match (params.ready.is_some(), building) {
        (true, true) => (StatusCode::SERVICE_UNAVAILABLE, "building"),
        _ => (StatusCode::OK, "ok"),
    };
    match (head, projected) {
        (Ok(head), Ok(pos)) => (
            ok,
            axum::Json(json!({
                "status": status,
                "building": building,
                "database": "reachable",
                "head": head,
                "projection_position": pos,
                "projection_lag": head.saturating_sub(pos),
                "projections": models,
            })),
        )
            .into_response(),
        (Err(e), _) | (_, Err(ApiError::Store(e))) => {
            state.app.metrics.http_error("healthz");
            tracing::warn!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
        (_, Err(e)) => {
            state.app.metrics.http_error("healthz");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "status": "unavailable", "read_side": e.public_message() })),
            )
                .into_response()
        }
    }
}

pub(super) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.app.metrics.request("metrics");
    if let Err(e) = authenticate(&state, &headers).await {
        return auth_failure(&state, Media::Json, e);
    }
    let stats = state.app.store.writer_stats();
    let head = state.app.store.head().await.unwrap_or(0);
    let pos = state.app.reads.position().await.unwrap_or(0);
    let text = state.app.metrics.render(&crate::metrics::Sampled {
        batches: stats.batches,
        appends: stats.appends,
        events: stats.events,
        head,
        projection_position: pos,
    });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
