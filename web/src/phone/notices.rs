//! 公示 on the phone (`/m/notices`): the community's activity records in their notice
//! period — who, how many hours, until when — and an objection raised from the phone
//! (a volunteer of the community may object to any record on notice, saying why; the
//! record then waits for staff to decide).

use super::{community_of, flash, for_volunteers, shell};
use crate::gql::{self, i, items, s};
use crate::layout::{num, page, parse_time, respond, when};
use crate::{form, Form, Signed, WebState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde_json::{json, Value};
use std::collections::HashMap;

/// `/m/notices`.
pub async fn notices(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(c) = community_of(&session) else {
        return for_volunteers(&state);
    };
    let from = state.now() - chrono::Duration::days(30);
    let list = "query($c: ID!, $from: DateTime, $at: Int) { activities(communityId: $c, from: $from, status: APPROVED, first: 50, atLeast: $at) { id pending } }";
    let vars = json!({ "c": c, "from": from.to_rfc3339(), "at": gql::at_least(&q) });
    let ids: Vec<String> = gql::run(&state, &session, list, vars)
        .await
        .map(|d| items(&d["activities"]))
        .unwrap_or_default()
        .iter()
        .filter(|a| i(a, "pending") > 0)
        .map(|a| s(a, "id").to_string())
        .collect();
    let one = "query($a: ID!) { activity(id: $a) { id title startsAt noticeUntil roster { volunteerId name hours record } } }";
    let mut shown = Vec::new();
    for id in ids.iter().take(10) {
        if let Ok(d) = gql::run(&state, &session, one, json!({ "a": id })).await {
            shown.push(d["activity"].clone());
        }
    }
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.notices) } }
        (flash(m, &q))
        p.sub { (m.notices_hint) }
        @if shown.is_empty() { p.sub { (m.nothing_on_notice) } }
        @for a in &shown {
            @let pending: Vec<Value> = items(&a["roster"]).into_iter().filter(|p| s(p, "record") == "PENDING").collect();
            article.activity {
                h3 { (s(a, "title")) }
                p.sub { (parse_time(s(a, "startsAt")).map(when).unwrap_or_default()) " · " (m.notice_until) " "
                    (parse_time(s(a, "noticeUntil")).map(when).unwrap_or_default()) }
                ul.plain {
                    @for p in &pending { li { (s(p, "name")) " " (num(s(p, "hours"))) " 小时" } }
                }
                details {
                    summary { (m.object) }
                    form.checkin method="post" action=(format!("/m/notices/{}", s(a, "id"))) {
                        (form::hidden(&session))
                        label { (m.object_whom) " "
                            select name="volunteer" {
                                @for p in &pending { option value=(s(p, "volunteerId")) { (s(p, "name")) } }
                            }
                        }
                        label { (m.object_why) " " input name="reason" required maxlength="200"; }
                        button.button type="submit" { (m.object) }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&shell(m, m.notices, &headers), body))
}

/// Raises the objection.
pub async fn object(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    axum::Form(f): Form,
) -> Response {
    let query = "mutation($a: ID!, $v: ID!, $r: String!, $k: String!) { raiseObjection(activityId: $a, volunteerId: $v, reason: $r, idempotencyKey: $k) { position } }";
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let vars = json!({ "a": id, "v": get("volunteer"), "r": get("reason") });
    let (ok, err) = ("/m/notices?ok=1", "/m/notices?from=form");
    form::submit(&state, &session, &f, query, vars, "raiseObjection", ok, err).await
}
