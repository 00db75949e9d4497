//! A GraphQL request as sent: its parameters (`query`, `operationName`, `variables`,
//! `extensions`) from a JSON body or a query string, checked; the body's content type;
//! and the body itself, read within the size limit.

use super::media::{request_error, Media};
use super::APPLICATION_JSON;
use crate::state::AppState;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};
use std::time::Duration;

/// GraphQL request parameters, checked.
pub(super) struct Params {
    pub(super) query: String,
    pub(super) operation_name: Option<String>,
    pub(super) variables: Option<Map<String, Value>>,
}

pub(super) fn params_from_json(v: Value) -> Result<Params, String> {
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

pub(super) fn params_from_query_string(qs: &str) -> Result<Params, String> {
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

pub(super) fn is_json_content_type(headers: &HeaderMap) -> Result<(), String> {
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
pub(super) async fn read_body(
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
