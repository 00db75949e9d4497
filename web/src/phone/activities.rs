//! Activities on the phone: what the community offers in the coming weeks, the
//! volunteer's own first; sign-up, the waiting list and withdrawal; check-in and
//! check-out by the six digits the organiser shows, or by opening the QR link
//! (`/checkin/{activity}?code=`), which only asks to confirm.

use super::{community_of, flash, for_volunteers, shell};
use crate::gql::{self, i, s};
use crate::layout::{self, page, parse_time, respond, when};
use crate::msg::Messages;
use crate::session::Session;
use crate::{form, Form, Signed, WebState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::HashMap;

const ACTIVITIES: &str = "query($c: ID!, $from: DateTime, $to: DateTime, $at: Int) {
    activities(communityId: $c, from: $from, to: $to, first: 30, atLeast: $at) {
      id title kind place startsAt endsAt places taken status signupDeadline walkIns
      me { signup waitingRank checkedInAt checkedOutAt record hours } }
    community(id: $c) { activityRules { checkinOpensMinutes } } }";

/// The community's activities of the coming weeks, and how long before its start an
/// activity's check-in opens.
struct Offer {
    list: Vec<Value>,
    opens: chrono::Duration,
}

impl Offer {
    /// Whether check-in is open now for the volunteer (signed up, or walk-ins allowed).
    fn checking_in(&self, a: &Value, now: DateTime<Utc>) -> bool {
        let (Some(start), Some(end)) = (parse_time(s(a, "startsAt")), parse_time(s(a, "endsAt")))
        else {
            return false;
        };
        let mine = s(&a["me"], "signup") == "PLACE" || a["walkIns"] == true;
        s(a, "status") == "OPEN" && mine && start - self.opens <= now && now <= end
    }
}

/// The activities of the coming weeks.
async fn activities_of(
    state: &WebState,
    session: &Session,
    community: &str,
    q: &HashMap<String, String>,
) -> Offer {
    let now = state.now();
    let vars = json!({
        "c": community,
        "from": (now - chrono::Duration::days(1)).to_rfc3339(),
        "to": (now + chrono::Duration::days(45)).to_rfc3339(),
        "at": gql::at_least(q),
    });
    let d = gql::run(state, session, ACTIVITIES, vars)
        .await
        .unwrap_or_default();
    Offer {
        list: d["activities"].as_array().cloned().unwrap_or_default(),
        opens: chrono::Duration::minutes(i(
            &d["community"]["activityRules"],
            "checkinOpensMinutes",
        )),
    }
}

fn signed_up(a: &Value) -> bool {
    matches!(s(&a["me"], "signup"), "PLACE" | "WAITING")
}

pub(super) async fn mine(
    state: &WebState,
    session: &Session,
    v: &Value,
    q: &HashMap<String, String>,
) -> Markup {
    let list: Vec<Value> = activities_of(state, session, s(v, "communityId"), q)
        .await
        .list
        .into_iter()
        .filter(signed_up)
        .collect();
    let now = state.now();
    html! {
        @if list.is_empty() {
            p.sub { (state.m.none_signed_up) " " a href="/m/activities" { (state.m.see_activities) } }
        }
        @for a in &list { (activity_card(state.m, session, a, now)) }
    }
}

fn activity_card(m: &Messages, session: &Session, a: &Value, now: DateTime<Utc>) -> Markup {
    let id = s(a, "id");
    let left = i(a, "places") - i(a, "taken");
    let me = &a["me"];
    let status = s(a, "status");
    let started = parse_time(s(a, "startsAt")).is_none_or(|t| t <= now);
    let closed = started || parse_time(s(a, "signupDeadline")).is_some_and(|t| t <= now);
    html! {
        article.activity {
            h3 { (s(a, "title")) }
            p { (parse_time(s(a, "startsAt")).map(when).unwrap_or_default()) " – "
                (parse_time(s(a, "endsAt")).map(layout::clock).unwrap_or_default()) }
            p.sub { (s(a, "place")) }
            @match (status, s(me, "signup")) {
                ("CANCELLED", _) => p.notice.bad { (m.cancelled) },
                (_, "PLACE") => {
                    p.tag.good { (m.signed_up) }
                    @if me["checkedInAt"].is_string() { p.tag { (m.checked_in) } }
                }
                (_, "WAITING") => p.tag { (m.waiting) (i(me, "waitingRank")) "位" },
                _ if closed => p.sub { (m.signup_closed) },
                _ => p.sub { (m.places_left) " " (left.max(0)) " / " (i(a, "places")) },
            }
            @if status == "OPEN" && !started && (signed_up(a) || !closed) {
                form method="post" action=(format!("/m/activities/{id}")) {
                    (form::hidden(session))
                    @if signed_up(a) {
                        input type="hidden" name="do" value="withdraw";
                        button.button type="submit" { (m.withdraw) }
                    } @else if left > 0 {
                        input type="hidden" name="do" value="signup";
                        button.button.primary type="submit" { (m.sign_up) }
                    } @else {
                        input type="hidden" name="do" value="waitlist";
                        button.button type="submit" { (m.join_waitlist) }
                    }
                }
            }
        }
    }
}

/// `/m/activities`: what the community offers, with sign-up.
pub async fn activities(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(c) = community_of(&session) else {
        return for_volunteers(&state);
    };
    let list = activities_of(&state, &session, &c, &q).await.list;
    let now = state.now();
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.activities) } }
        (flash(m, &q))
        @if list.is_empty() { p.sub { (m.no_activities) } }
        @for a in &list { (activity_card(m, &session, a, now)) }
    };
    respond(
        StatusCode::OK,
        page(&shell(m, m.activities, &headers), body),
    )
}

/// Sign up, join the waiting list, or withdraw.
pub async fn activity_action(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(f): Form,
) -> Response {
    // Withdrawing asks once more (one tap by mistake would lose the place).
    if f.get("do").map(String::as_str) == Some("withdraw") {
        if let Some(r) = form::refused(&state, &session, &f, "/m/activities") {
            return r;
        }
        let m = state.m;
        let q = "query($a: ID!) { activity(id: $a) { title startsAt } }";
        let a = gql::run(&state, &session, q, json!({ "a": id }))
            .await
            .map(|d| d["activity"].clone())
            .unwrap_or_default();
        let body = html! {
            header.top { a.back href="/m/activities" { "‹ " (m.activities) } h1 { (m.withdraw) } }
            article.activity {
                h3 { (s(&a, "title")) }
                p { (parse_time(s(&a, "startsAt")).map(when).unwrap_or_default()) }
                p { (m.withdraw_sure) }
                form method="post" action=(format!("/m/activities/{id}")) {
                    (form::hidden(&session))
                    input type="hidden" name="do" value="withdraw_confirmed";
                    button.button.primary.huge type="submit" { (m.withdraw_yes) }
                }
                p { a.button.huge href="/m/activities" { (m.withdraw_no) } }
            }
        };
        return respond(StatusCode::OK, page(&shell(m, m.withdraw, &headers), body));
    }
    let (query, field) = match f.get("do").map(String::as_str) {
        Some("withdraw_confirmed") => (
            "mutation($a: ID!, $k: String!) { withdrawSignUp(activityId: $a, idempotencyKey: $k) { position } }",
            "withdrawSignUp",
        ),
        Some("waitlist") => (
            "mutation($a: ID!, $k: String!) { signUp(activityId: $a, idempotencyKey: $k, waitlist: true) { position } }",
            "signUp",
        ),
        _ => (
            "mutation($a: ID!, $k: String!) { signUp(activityId: $a, idempotencyKey: $k) { position } }",
            "signUp",
        ),
    };
    let (ok, err) = ("/m/activities?ok=1", "/m/activities?from=form");
    form::submit(
        &state,
        &session,
        &f,
        query,
        json!({ "a": id }),
        field,
        ok,
        err,
    )
    .await
}

/// `/m/checkin`: type the six digits; `/checkin/{activity}?code=`: the QR link, which
/// asks only to confirm.
pub async fn checkin_page(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    activity: Option<Path<String>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(c) = community_of(&session) else {
        return for_volunteers(&state);
    };
    let fixed = activity.map(|Path(a)| a);
    // Only what can be checked into now: signed up (or open to walk-ins), from when
    // check-in opens until the end.
    let offer = activities_of(&state, &session, &c, &q).await;
    let now = state.now();
    let list: Vec<Value> = offer
        .list
        .iter()
        .filter(|a| offer.checking_in(a, now))
        .filter(|a| fixed.as_deref().is_none_or(|f| s(a, "id") == f))
        .cloned()
        .collect();
    let code = q.get("code").cloned().unwrap_or_default();
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.check_in) } }
        (flash(m, &q))
        @if list.is_empty() { p.sub { (m.nothing_to_check_in) } }
        @for a in &list {
            article.activity {
                h3 { (s(a, "title")) }
                p { (parse_time(s(a, "startsAt")).map(when).unwrap_or_default()) " · " (s(a, "place")) }
                @let me = &a["me"];
                form.checkin method="post" action=(format!("/m/checkin/{}", s(a, "id"))) {
                    (form::hidden(&session))
                    label for=(format!("code-{}", s(a, "id"))) { (m.check_in_hint) }
                    input.code id=(format!("code-{}", s(a, "id"))) name="code" inputmode="numeric"
                        pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required value=(code);
                    @if me["checkedInAt"].is_string() && !me["checkedOutAt"].is_string() {
                        input type="hidden" name="do" value="out";
                        button.button.primary type="submit" { (m.check_out_button) }
                    } @else {
                        input type="hidden" name="do" value="in";
                        button.button.primary type="submit" { (m.check_in_button) }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&shell(m, m.check_in, &headers), body))
}

/// Check in (or out) with the code.
pub async fn checkin(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    axum::Form(f): Form,
) -> Response {
    let code: String = f
        .get("code")
        .map(|c| c.chars().filter(char::is_ascii_digit).collect())
        .unwrap_or_default();
    let (query, field, ok) = if f.get("do").map(String::as_str) == Some("out") {
        ("mutation($a: ID!, $c: String, $k: String!) { checkOut(activityId: $a, code: $c, idempotencyKey: $k) { position } }", "checkOut", "/m?ok=out")
    } else {
        ("mutation($a: ID!, $c: String, $k: String!) { checkIn(activityId: $a, code: $c, idempotencyKey: $k) { position } }", "checkIn", "/m?ok=in")
    };
    let vars = json!({ "a": id, "c": code });
    form::submit(
        &state,
        &session,
        &f,
        query,
        vars,
        field,
        ok,
        "/m/checkin?from=form",
    )
    .await
}
