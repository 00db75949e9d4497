//! Wishes on the phone (小心愿): the community's open wishes, to claim (of two claiming
//! at once, one wins and the other hears why); the wishes the volunteer claimed, to say
//! they are done and how long it took (staff then confirm it, and the hours count).

use super::{community_of, flash, for_volunteers, shell};
use crate::gql::{self, s};
use crate::layout::{page, respond};
use crate::{form, Form, Signed, WebState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde_json::{json, Value};
use std::collections::HashMap;

fn list(d: &Value, k: &str) -> Vec<Value> {
    d[k]["wishes"].as_array().cloned().unwrap_or_default()
}

/// `/m/wishes`: open wishes to claim, and the volunteer's own.
pub async fn wishes(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(c) = community_of(&session) else {
        return for_volunteers(&state);
    };
    let me = session
        .principal
        .actor
        .volunteer_id
        .map(|v| v.0.to_string())
        .unwrap_or_default();
    let query = "query($c: ID!, $at: Int) {
      open: wishes(communityId: $c, status: OPEN, first: 30, atLeast: $at) { wishes { id category description residentLabel } }
      claimed: wishes(communityId: $c, status: CLAIMED, first: 100, atLeast: $at) { wishes { id category description residentLabel claimedBy } }
      done: wishes(communityId: $c, status: FULFILLED, first: 100, atLeast: $at) { wishes { id description claimedBy } } }";
    let d = gql::run(
        &state,
        &session,
        query,
        json!({ "c": c, "at": gql::at_least(&q) }),
    )
    .await
    .unwrap_or_default();
    let open = list(&d, "open");
    let mine: Vec<Value> = list(&d, "claimed")
        .into_iter()
        .filter(|w| s(w, "claimedBy") == me)
        .collect();
    let waiting: Vec<Value> = list(&d, "done")
        .into_iter()
        .filter(|w| s(w, "claimedBy") == me)
        .collect();
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.wishes) } }
        @for w in &waiting {
            p.notice.good { (m.wish_waiting) "：" (s(w, "description")) }
        }
        (flash(m, &q))
        @if !mine.is_empty() {
            h2 { (m.my_wishes) }
            @for w in &mine {
                article.activity {
                    h3 { (s(w, "description")) }
                    p.sub { (s(w, "category")) " · " (s(w, "residentLabel")) }
                    form.checkin method="post" action=(format!("/m/wishes/{}/done", s(w, "id"))) {
                        (form::hidden(&session))
                        label for=(format!("h-{}", s(w, "id"))) { (m.wish_hours) }
                        input.code id=(format!("h-{}", s(w, "id"))) name="hours" inputmode="decimal" required value="1";
                        button.button.primary type="submit" { (m.wish_done) }
                    }
                    form method="post" action=(format!("/m/wishes/{}/release", s(w, "id"))) {
                        (form::hidden(&session))
                        button.button type="submit" { (m.give_up_wish) }
                    }
                }
            }
            h2 { (m.open_wishes) }
        }
        @if open.is_empty() { p.sub { (m.no_wishes) } }
        @for w in &open {
            article.activity {
                h3 { (s(w, "description")) }
                p.sub { (s(w, "category")) " · " (s(w, "residentLabel")) }
                form method="post" action=(format!("/m/wishes/{}", s(w, "id"))) {
                    (form::hidden(&session))
                    button.button.primary type="submit" { (m.claim) }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&shell(m, m.wishes, &headers), body))
}

/// Claim a wish.
pub async fn claim(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    axum::Form(f): Form,
) -> Response {
    let query =
        "mutation($w: ID!, $k: String!) { claimWish(wishId: $w, idempotencyKey: $k) { position } }";
    let (ok, err) = ("/m/wishes?ok=1", "/m/wishes?from=form");
    form::submit(
        &state,
        &session,
        &f,
        query,
        json!({ "w": id }),
        "claimWish",
        ok,
        err,
    )
    .await
}

/// Give a claimed wish up (it is open again for someone else).
pub async fn release(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    axum::Form(f): Form,
) -> Response {
    let query = "mutation($w: ID!, $k: String!) { releaseWish(wishId: $w, idempotencyKey: $k) { position } }";
    let (ok, err) = ("/m/wishes?ok=1", "/m/wishes?from=form");
    form::submit(
        &state,
        &session,
        &f,
        query,
        json!({ "w": id }),
        "releaseWish",
        ok,
        err,
    )
    .await
}

/// Say a claimed wish is done, with the hours it took.
pub async fn done(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    axum::Form(f): Form,
) -> Response {
    let query = "mutation($w: ID!, $h: Hours!, $k: String!) { fulfilWish(wishId: $w, hours: $h, idempotencyKey: $k) { position } }";
    let hours = f
        .get("hours")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let (ok, err) = ("/m/wishes?ok=1", "/m/wishes?from=form");
    form::submit(
        &state,
        &session,
        &f,
        query,
        json!({ "w": id, "h": hours }),
        "fulfilWish",
        ok,
        err,
    )
    .await
}
