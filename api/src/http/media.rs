//! The response media type, negotiated from `Accept` (GraphQL over HTTP), and the JSON
//! errors of requests refused before GraphQL runs (bad requests, failed authentication,
//! timeouts).

use super::{APPLICATION_JSON, GRAPHQL_RESPONSE_JSON};
use crate::errors::ApiError;
use crate::state::AppState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The negotiated response media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Media {
    GraphQLResponse,
    Json,
}

impl Media {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Media::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from `Accept` (by q-value, then order).
pub(super) fn negotiate(headers: &HeaderMap) -> Option<Media> {
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

pub(super) fn json_response(status: StatusCode, media: Media, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    resp
}

pub(super) fn bytes_response(status: StatusCode, media: Media, body: Vec<u8>) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    resp
}

pub(super) fn error_body(code: &str, message: &str) -> Value {
    json!({ "errors": [ { "message": message, "extensions": { "code": code } } ] })
}

/// A request error (before any GraphQL processing).
pub(super) fn request_error(
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

pub(super) fn auth_failure(state: &AppState, media: Media, e: ApiError) -> Response {
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
