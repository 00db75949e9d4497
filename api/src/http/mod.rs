//! HTTP: the router, GraphQL over HTTP (POST and GET `/graphql`), WebSocket
//! subscriptions (`/ws`, graphql-transport-ws), GraphiQL, `/healthz` and `/metrics`.
//!
//! - [`router`] (here): every route and its layers, and the request timeout;
//! - `media`: the response media type negotiated from `Accept`, and the JSON errors
//!   of requests refused before GraphQL runs;
//! - `params`: a GraphQL request's parameters from a JSON body or a query string,
//!   and its body read within the size limit;
//! - `graphql`: the `/graphql` handlers (the public certificate check, execution,
//!   status codes) and GraphiQL;
//! - `ws`: subscriptions over WebSocket, authenticated in `connection_init`;
//! - `ops`: `/healthz` and `/metrics`.
//!
//! The `/graphql` handler follows the GraphQL-over-HTTP specification:
//! - the response media type is negotiated from `Accept`:
//!   `application/graphql-response+json` when the client lists it first,
//!   `application/json` for `application/json`, `*/*` or no `Accept`, else 406;
//! - POST bodies must be `application/json` (415 otherwise); a body that is not
//!   JSON, or parameters of the wrong type, are 400;
//! - GET must not run mutations (405, `Allow: POST`);
//! - a request that fails before execution (document parse or validation errors)
//!   is answered 400 without a `data` entry under `application/graphql-response+json`,
//!   200 under `application/json`; executed requests are 200.
//!
//! Every route but `/healthz` and the static GraphiQL page needs a bearer token, with
//! one exception: a `/graphql` query that selects only `certificate` (the public check
//! of a certificate number) runs without one.

mod graphql;
mod media;
mod ops;
mod params;
mod ws;

use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use media::{error_body, json_response, negotiate, Media};

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const APPLICATION_JSON: &str = "application/json";

/// The router: `/graphql`, `/graphiql`, `/ws`, `/healthz`, `/metrics`, and the
/// document downloads under `/documents/`.
pub fn router(state: AppState) -> Router {
    let graphql = Router::new()
        .route(
            "/graphql",
            get(graphql::graphql_get).post(graphql::graphql_post),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ))
        // The POST handler reads its body itself (`read_body`); the limit here bounds
        // any extractor that reads one.
        .layer(DefaultBodyLimit::max(state.max_body_bytes));
    let documents = Router::new()
        .route(
            "/documents/annual-report",
            get(crate::documents::routes::annual_report_file),
        )
        .route(
            "/documents/statement",
            get(crate::documents::routes::statement_file),
        )
        .route(
            "/documents/street-annual-report",
            get(crate::documents::routes::street_annual_report_file),
        )
        .route(
            "/documents/shop-sheet",
            get(crate::documents::routes::shop_sheet_file),
        )
        .route(
            "/documents/certificates/{number}",
            get(crate::documents::routes::certificate_page),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ));
    Router::new()
        .merge(graphql)
        .merge(documents)
        .route(
            "/documents/export/event-log",
            get(crate::documents::exports::event_log_file),
        )
        .route(
            "/documents/export/members",
            get(crate::documents::exports::members_file),
        )
        .route(
            "/documents/export/hours",
            get(crate::documents::exports::hours_file),
        )
        .route("/graphiql", get(graphql::graphiql))
        .route("/ws", get(ws::ws))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Bounds a request (reading its body included) by `request_timeout`: past it, the
/// request is answered 408 with a JSON error `REQUEST_TIMEOUT` in the negotiated media
/// type, and the connection is closed (the body may be unread). A command already
/// running finishes on its own task, and a retry with its key gets its result.
async fn request_timeout(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let media = negotiate(request.headers()).unwrap_or(Media::Json);
    let route = if request.uri().path().starts_with("/documents") {
        "documents"
    } else {
        "graphql"
    };
    let limit = state.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            state.app.metrics.http_error(route);
            state.app.metrics.graphql_error("REQUEST_TIMEOUT");
            let mut resp = json_response(
                StatusCode::REQUEST_TIMEOUT,
                media,
                &error_body(
                    "REQUEST_TIMEOUT",
                    &format!(
                        "the request took longer than {:.1} s; a command it ran completes, and a retry with the same idempotencyKey returns its result",
                        limit.as_secs_f64()
                    ),
                ),
            );
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}
