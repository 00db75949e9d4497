//! `/graphql` over HTTP: the POST and GET handlers, the public certificate check (the
//! one operation without a token), execution with the request's DataLoaders, and the
//! status codes of the GraphQL-over-HTTP specification; and the GraphiQL page.

use super::media::{auth_failure, bytes_response, json_response, negotiate, request_error, Media};
use super::params::{
    is_json_content_type, params_from_json, params_from_query_string, read_body, Params,
};
use crate::auth::Principal;
use crate::errors::ApiError;
use crate::schema::{self, Executed};
use crate::state::{authenticate, AppState};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{ServerError, Variables};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) async fn graphql_post(
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

pub(super) async fn graphql_get(
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

pub(super) async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/ws")
            .title("timebank GraphiQL")
            .finish(),
    )
}
