//! The volunteer's relatives on the phone (`/m/family`, 家属): who is linked, the hours
//! in the time bank, and hours gifted to a relative (for a parent's care later, 为家人存
//! 时间); the link itself is recorded by staff with both sides' consent.

use super::{flash, for_volunteers, shell};
use crate::gql::{self, s};
use crate::layout::{num, page, respond};
use crate::{form, Form, Signed, WebState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde_json::json;
use std::collections::HashMap;

/// `/m/family`.
pub async fn family(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(me) = session.principal.actor.volunteer_id else {
        return for_volunteers(&state);
    };
    let query = "query($v: ID!, $at: Int) { volunteer(id: $v, atLeast: $at) { balance { hours } relatives { volunteerId relation name } } }";
    let d = gql::run(
        &state,
        &session,
        query,
        json!({ "v": me.0.to_string(), "at": gql::at_least(&q) }),
    )
    .await
    .unwrap_or_default();
    let v = &d["volunteer"];
    let relatives = gql::items(&v["relatives"]);
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.family) } }
        (flash(m, &q))
        section.cards {
            div.card { span.label { (m.bank_balance) } span.big { (num(s(&v["balance"], "hours"))) } span.unit { "小时" } }
        }
        @if relatives.is_empty() { p.sub { (m.no_family) } }
        @for r in &relatives {
            article.activity {
                h3 { (s(r, "name")) @if !s(r, "relation").is_empty() { "（" (s(r, "relation")) "）" } }
                form.checkin method="post" action=(format!("/m/family/{}", s(r, "volunteerId"))) {
                    (form::hidden(&session))
                    label for=(format!("g-{}", s(r, "volunteerId"))) { (m.gift_hours) }
                    input.code id=(format!("g-{}", s(r, "volunteerId"))) name="hours" inputmode="decimal" required value="1";
                    button.button.primary type="submit" { (m.gift) }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&shell(m, m.family, &headers), body))
}

/// Gift hours to a relative.
pub async fn gift(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path(to): Path<String>,
    axum::Form(f): Form,
) -> Response {
    let query = "mutation($t: ID!, $h: Hours!, $k: String!) { giftHours(toVolunteerId: $t, hours: $h, idempotencyKey: $k) { position } }";
    let hours = f
        .get("hours")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let (ok, err) = ("/m/family?ok=1", "/m/family?from=form");
    form::submit(
        &state,
        &session,
        &f,
        query,
        json!({ "t": to, "h": hours }),
        "giftHours",
        ok,
        err,
    )
    .await
}
