//! A posted form that runs one command: refused without the session's CSRF token; its
//! `key` field is the command's idempotency key (a double-clicked button replays, never
//! repeats); the answer is a redirect to the page that shows what happened.

use crate::gql;
use crate::layout;
use crate::session::Session;
use crate::WebState;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::Value;
use std::collections::HashMap;

/// The hidden fields of a form that runs a command: the session's CSRF token and a
/// fresh idempotency key.
pub fn hidden(session: &Session) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(session.csrf());
        input type="hidden" name="key" value=(gql::form_key());
    }
}

/// The idempotency key of the command a form runs, from its `key` field.
pub fn key(form: &HashMap<String, String>) -> String {
    format!("web-{}", form.get("key").map(String::as_str).unwrap_or(""))
}

/// The refusal page when the form does not carry the session's CSRF token.
pub fn refused(
    state: &WebState,
    session: &Session,
    form: &HashMap<String, String>,
    back: &str,
) -> Option<Response> {
    if session.csrf_ok(form.get("csrf").map(String::as_str).unwrap_or("")) {
        None
    } else {
        Some(layout::error_page(
            state.m,
            StatusCode::FORBIDDEN,
            state.m.csrf_refused,
            back,
        ))
    }
}

/// Runs the mutation `query` with `vars` and `$k` (the form's idempotency key); then to
/// `ok` with the position written (`at=`, so the next page reads its own write), or to
/// `err` with the error code (`err=`). `ok` and `err` carry a query string already.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    state: &WebState,
    session: &Session,
    form: &HashMap<String, String>,
    query: &str,
    mut vars: Value,
    field: &str,
    ok: &str,
    err: &str,
) -> Response {
    if let Some(r) = refused(state, session, form, "/") {
        return r;
    }
    vars["k"] = Value::from(key(form));
    match gql::run(state, session, query, vars).await {
        Ok(d) => layout::redirect(&format!("{ok}&at={}", gql::i(&d[field], "position")), &[]),
        Err(e) => {
            // A volunteer number is letters, digits and a hyphen: safe in a query.
            let named = e
                .volunteer_number
                .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                .map(|n| format!("&err_number={n}"))
                .unwrap_or_default();
            layout::redirect(&format!("{err}&err={}{named}", e.code), &[])
        }
    }
}
