//! HTTP: the router, GraphQL over HTTP (POST and GET `/graphql`), WebSocket
//! subscriptions (`/ws`, graphql-transport-ws), GraphiQL, `/healthz` and `/metrics`.
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

use crate::auth::Principal;
use crate::errors::ApiError;
use crate::schema::{self, Executed};
use crate::state::{authenticate, AppState};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Data, ServerError, Variables};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const APPLICATION_JSON: &str = "application/json";

/// The router: `/graphql`, `/graphiql`, `/ws`, `/healthz`, `/metrics`, and the
/// document downloads under `/documents/`.
pub fn router(state: AppState) -> Router {
    let graphql = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
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
        .route("/graphiql", get(graphiql))
        .route("/ws", get(ws))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The negotiated response media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphQLResponse,
    Json,
}

impl Media {
    fn as_str(self) -> &'static str {
        match self {
            Media::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from `Accept` (by q-value, then order).
fn negotiate(headers: &HeaderMap) -> Option<Media> {
    // The common cases: one Accept header naming one media type.
    let mut values = headers.get_all(header::ACCEPT).iter();
    match (values.next().map(|v| v.as_bytes()), values.next()) {
        (None, _) => return Some(Media::Json),
        (Some(b"application/graphql-response+json"), None) => return Some(Media::GraphQLResponse),
        (Some(b"application/json"), None) => return Some(Media::Json),
        _ => {}
    }
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    if accept.trim().is_empty() {
        return Some(Media::Json);
    }
    let mut ranges: Vec<(f32, usize, Media)> = Vec::new();
    for (i, part) in accept.split(',').enumerate() {
        let mut pieces = part.split(';');
        let ty = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in pieces {
            if let Some(v) = p.trim().strip_prefix("q=") {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        if q <= 0.0 {
            continue;
        }
        let media = match ty.as_str() {
            GRAPHQL_RESPONSE_JSON => Media::GraphQLResponse,
            APPLICATION_JSON | "*/*" | "application/*" => Media::Json,
            _ => continue,
        };
        ranges.push((q, i, media));
    }
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.first().map(|r| r.2)
}

fn json_response(status: StatusCode, media: Media, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    resp
}

fn error_body(code: &str, message: &str) -> Value {
    json!({ "errors": [ { "message": message, "extensions": { "code": code } } ] })
}

/// A request error (before any GraphQL processing).
fn request_error(
    state: &AppState,
    status: StatusCode,
    media: Media,
    code: &str,
    message: &str,
) -> Response {
    state.app.metrics.http_error("graphql");
    state.app.metrics.graphql_error(code);
    json_response(status, media, &error_body(code, message))
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

fn auth_failure(state: &AppState, media: Media, e: ApiError) -> Response {
    let status = match &e {
        ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut resp = request_error(state, status, media, e.code(), &e.public_message());
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

/// GraphQL request parameters, checked.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Option<Map<String, Value>>,
}

fn params_from_json(v: Value) -> Result<Params, String> {
    let Value::Object(mut o) = v else {
        return Err("the request body must be a JSON object (batching is not supported)".into());
    };
    let query = match o.remove("query") {
        Some(Value::String(s)) => s,
        Some(_) => return Err("query must be a string".into()),
        None => return Err("query is required".into()),
    };
    let operation_name = match o.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err("operationName must be a string or null".into()),
    };
    let variables = match o.remove("variables") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err("variables must be an object or null".into()),
    };
    match o.remove("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err("extensions must be an object or null".into()),
    }
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

fn params_from_query_string(qs: &str) -> Result<Params, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(qs).map_err(|e| format!("malformed query string: {e}"))?;
    let mut obj = Map::new();
    for (k, v) in pairs {
        let value = match k.as_str() {
            "variables" | "extensions" if !v.is_empty() => {
                serde_json::from_str(&v).map_err(|e| format!("{k} is not valid JSON: {e}"))?
            }
            "variables" | "extensions" => Value::Null,
            _ => Value::String(v),
        };
        obj.insert(k, value);
    }
    params_from_json(Value::Object(obj))
}

fn is_json_content_type(headers: &HeaderMap) -> Result<(), String> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Err("Content-Type is required: send application/json".into());
    };
    let ct = ct
        .to_str()
        .map_err(|_| "unreadable Content-Type".to_string())?;
    let mut parts = ct.split(';');
    let ty = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if ty != APPLICATION_JSON {
        return Err(format!(
            "unsupported Content-Type {ty:?}: send application/json"
        ));
    }
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            if k.trim().eq_ignore_ascii_case("charset")
                && !v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            {
                return Err("only the utf-8 charset is supported".into());
            }
        }
    }
    Ok(())
}

/// Most bytes of an oversized body read and thrown away before the 413 is sent.
const DRAIN_MAX_BYTES: usize = 16 * 1024 * 1024;
/// Longest an oversized body is drained before the 413 is sent.
const DRAIN_MAX_TIME: Duration = Duration::from_secs(5);

/// Reads a request body of at most `limit` bytes. A larger body is answered 413
/// `PAYLOAD_TOO_LARGE` with `Connection: close`, after the rest of it has been read and
/// thrown away (up to [`DRAIN_MAX_BYTES`] or [`DRAIN_MAX_TIME`]): a server that closes
/// the connection with unread bytes in its socket resets it, and a client still
/// sending then sees a broken connection instead of the 413, or reuses a connection the
/// server is about to close.
async fn read_body(
    state: &AppState,
    media: Media,
    body: axum::body::Body,
) -> Result<Bytes, Response> {
    use futures::StreamExt;
    let limit = state.max_body_bytes;
    let mut stream = body.into_data_stream();
    // Most bodies arrive as one chunk, kept as it is; more are copied together.
    let mut first: Option<Bytes> = None;
    let mut buf = Vec::new();
    let mut oversized = false;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            request_error(
                state,
                StatusCode::BAD_REQUEST,
                media,
                "BAD_REQUEST",
                &format!("the request body could not be read: {e}"),
            )
        })?;
        let held = first.as_ref().map_or(0, Bytes::len) + buf.len();
        if held + chunk.len() > limit {
            oversized = true;
            break;
        }
        match first.take() {
            None if buf.is_empty() => first = Some(chunk),
            held => {
                if let Some(f) = held {
                    buf.extend_from_slice(&f);
                }
                buf.extend_from_slice(&chunk);
            }
        }
    }
    if !oversized {
        return Ok(first.unwrap_or_else(|| Bytes::from(buf)));
    }
    let drain = async {
        let mut drained = 0usize;
        while let Some(Ok(chunk)) = stream.next().await {
            drained += chunk.len();
            if drained > DRAIN_MAX_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_MAX_TIME, drain).await;
    let mut resp = request_error(
        state,
        StatusCode::PAYLOAD_TOO_LARGE,
        media,
        "PAYLOAD_TOO_LARGE",
        &format!("the request body is larger than {limit} bytes"),
    );
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    Err(resp)
}

async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    state.app.metrics.request("graphql");
    let Some(media) = negotiate(&headers) else {
        return request_error(
            &state,
            StatusCode::NOT_ACCEPTABLE,
            Media::Json,
            "NOT_ACCEPTABLE",
            "Accept must allow application/graphql-response+json or application/json",
        );
    };
    // The body is read before anything is answered, so that no answer leaves unread
    // bytes on the connection.
    let body = match read_body(&state, media, body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let principal = match authenticate(&state, &headers).await {
        Ok(p) => Some(p),
        // Without a token only the public certificate check may run (decided once
        // the document is parsed).
        Err(ApiError::Unauthenticated) if !headers.contains_key(header::AUTHORIZATION) => None,
        Err(e) => return auth_failure(&state, media, e),
    };
    if let Err(m) = is_json_content_type(&headers) {
        return request_error(
            &state,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "UNSUPPORTED_MEDIA_TYPE",
            &m,
        );
    }
    if body.is_empty() {
        return request_error(
            &state,
            StatusCode::BAD_REQUEST,
            media,
            "BAD_REQUEST",
            "the request body is empty",
        );
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return request_error(
                &state,
                StatusCode::BAD_REQUEST,
                media,
                "BAD_REQUEST",
                &format!("the request body is not valid JSON: {e}"),
            )
        }
    };
    let params = match params_from_json(value) {
        Ok(p) => p,
        Err(m) => return request_error(&state, StatusCode::BAD_REQUEST, media, "BAD_REQUEST", &m),
    };
    execute(&state, principal, params, media, Method::POST).await
}

async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(qs): RawQuery,
) -> Response {
    state.app.metrics.request("graphql");
    let Some(media) = negotiate(&headers) else {
        return request_error(
            &state,
            StatusCode::NOT_ACCEPTABLE,
            Media::Json,
            "NOT_ACCEPTABLE",
            "Accept must allow application/graphql-response+json or application/json",
        );
    };
    let principal = match authenticate(&state, &headers).await {
        Ok(p) => Some(p),
        // Without a token only the public certificate check may run (decided once
        // the document is parsed).
        Err(ApiError::Unauthenticated) if !headers.contains_key(header::AUTHORIZATION) => None,
        Err(e) => return auth_failure(&state, media, e),
    };
    let params = match params_from_query_string(qs.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(m) => return request_error(&state, StatusCode::BAD_REQUEST, media, "BAD_REQUEST", &m),
    };
    execute(&state, principal, params, media, Method::GET).await
}

fn server_errors_json(errors: &[ServerError]) -> Value {
    serde_json::to_value(errors).unwrap_or(Value::Array(vec![]))
}

/// Root fields anyone may query without a token: the public certificate check.
const PUBLIC_FIELDS: [&str; 2] = ["certificate", "__typename"];

/// Whether the operation to run is a query of the public check (with `__typename` at
/// most beside it, no fragments).
fn is_public(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    use async_graphql::parser::types::Selection;
    let op = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(n)) => match ops.get(n) {
            Some(op) => op,
            None => return false,
        },
        (DocumentOperations::Multiple(_), None) => return false,
    };
    let items = &op.node.selection_set.node.items;
    fn name(s: &async_graphql::Positioned<Selection>) -> Option<&str> {
        match &s.node {
            Selection::Field(f) => Some(f.node.name.node.as_str()),
            _ => None,
        }
    }
    op.node.ty == OperationType::Query
        && items.iter().any(|s| name(s) == Some("certificate"))
        && items
            .iter()
            .all(|s| name(s).is_some_and(|n| PUBLIC_FIELDS.contains(&n)))
}

/// Runs a checked request and shapes the response.
async fn execute(
    state: &AppState,
    principal: Option<Principal>,
    params: Params,
    media: Media,
    method: Method,
) -> Response {
    // Parse first: a syntax error is a request error, and GET must not mutate.
    let parsed = state.parsed_queries.parse(&params.query);
    let mut request = async_graphql::Request::new(params.query);
    if let Some(name) = params.operation_name.clone() {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        request = request.variables(Variables::from_json(Value::Object(vars)));
    }
    if let Ok(doc) = parsed {
        request.set_parsed_query(doc);
    }
    if principal.is_none() {
        let public = match request.parsed_query() {
            Ok(doc) => is_public(doc, params.operation_name.as_deref()),
            Err(_) => false,
        };
        if !public {
            return auth_failure(state, media, ApiError::Unauthenticated);
        }
    }
    let op_type = match request.parsed_query() {
        Err(e) => {
            let mut errors = vec![e];
            for e in errors.iter_mut() {
                e.extensions
                    .get_or_insert_with(Default::default)
                    .set("code", "GRAPHQL_PARSE_FAILED");
            }
            return pre_execution_failure(state, media, &errors);
        }
        Ok(doc) => match &doc.operations {
            DocumentOperations::Single(op) => Some(op.node.ty),
            DocumentOperations::Multiple(ops) => match &params.operation_name {
                Some(n) => ops.get(n.as_str()).map(|op| op.node.ty),
                None if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
                None => None,
            },
        },
    };
    match op_type {
        Some(OperationType::Mutation) if method == Method::GET => {
            let mut resp = request_error(
                state,
                StatusCode::METHOD_NOT_ALLOWED,
                media,
                "METHOD_NOT_ALLOWED",
                "mutations are not allowed over GET: use POST",
            );
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return resp;
        }
        Some(OperationType::Subscription) => {
            let errors = vec![{
                let mut e = ServerError::new(
                    "subscriptions are served over WebSocket at /ws (graphql-transport-ws)",
                    None,
                );
                e.extensions
                    .get_or_insert_with(Default::default)
                    .set("code", "BAD_REQUEST");
                e
            }];
            return pre_execution_failure(state, media, &errors);
        }
        _ => {}
    }
    let executed = Arc::new(Executed::default());
    let mut request = request;
    if let Some(p) = principal {
        request = request.data(p);
    }
    let (people, profiles) =
        schema::types::request_loaders(state.app.store.clone(), state.app.reads.clone());
    let request = request.data(executed.clone()).data(people).data(profiles);
    let mut response = state.schema.execute(request).await;
    let ran = executed.0.load(std::sync::atomic::Ordering::Relaxed);
    schema::normalize_errors(&mut response.errors, ran);
    if !ran {
        return pre_execution_failure(state, media, &response.errors);
    }
    if !response.errors.is_empty() {
        state.app.metrics.http_error("graphql");
        for e in &response.errors {
            state.app.metrics.graphql_error(error_code(e));
        }
    }
    let body = ResponseBody {
        data: &response.data,
        errors: &response.errors,
        extensions: &response.extensions,
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => bytes_response(StatusCode::OK, media, bytes),
        Err(e) => {
            tracing::error!(error = %e, "serializing a response");
            request_error(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                "INTERNAL",
                "the response could not be serialized",
            )
        }
    }
}

/// An executed request's response, serialized as is (no intermediate JSON tree).
#[derive(serde::Serialize)]
struct ResponseBody<'a> {
    data: &'a async_graphql::Value,
    #[serde(skip_serializing_if = "<[ServerError]>::is_empty")]
    errors: &'a [ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

fn bytes_response(status: StatusCode, media: Media, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    resp
}

fn error_code(e: &ServerError) -> &str {
    match e.extensions.as_ref().and_then(|x| x.get("code")) {
        Some(async_graphql::Value::String(s)) => s.as_str(),
        _ => "UNKNOWN",
    }
}

/// A request that failed before execution: no `data` entry; 400 under
/// `application/graphql-response+json`, 200 under `application/json`.
fn pre_execution_failure(state: &AppState, media: Media, errors: &[ServerError]) -> Response {
    state.app.metrics.http_error("graphql");
    for e in errors {
        state.app.metrics.graphql_error(error_code(e));
    }
    let status = match media {
        Media::GraphQLResponse => StatusCode::BAD_REQUEST,
        Media::Json => StatusCode::OK,
    };
    json_response(
        status,
        media,
        &json!({ "errors": server_errors_json(errors) }),
    )
}

async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/ws")
            .title("timebank GraphiQL")
            .finish(),
    )
}

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

async fn ws(
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

/// `/healthz?ready` (readiness, for a load balancer): as `/healthz`, but 503 with status
/// `building` while a read model is still being built here or in the process leading it
/// (reads would wait, then answer READ_MODEL_NOT_READY).
#[derive(serde::Deserialize)]
struct HealthParams {
    ready: Option<String>,
}

async fn healthz(
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

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
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
