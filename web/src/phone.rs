//! The volunteer's phone page (`/m`, 360×640 in WeChat's browser): name, points,
//! hours, stars and the way to the next one, hours in 公示; the three things used most
//! first (check in, activities, wishes); sign-up and withdrawal; check-in by the six
//! digits or the organiser's QR link (`/checkin/{activity}?code=`); the statement.
//! Elder mode (长辈模式) is a cookie of the phone: larger type, higher contrast.

use crate::gql::{self, i, s};
use crate::layout::{
    self, num, page, parse_time, redirect, respond, star_marks, when, Kind, Shell,
};
use crate::msg::{error_text, Messages};
use crate::session::{self, Session};
use crate::{form, Form, Signed, WebState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::HashMap;

const HOME: &str = "query($at: Int) { me(atLeast: $at) { volunteer { id name volunteerNumber communityId
    balance { points hours stars verifiedHours } pending { hours points } totals { starThresholds } } } }";

const ACTIVITIES: &str = "query($c: ID!, $from: DateTime, $to: DateTime, $at: Int) {
    activities(communityId: $c, from: $from, to: $to, first: 30, atLeast: $at) {
      id title kind place startsAt endsAt places taken status signupDeadline
      me { signup waitingRank checkedInAt checkedOutAt record hours } } }";

/// A page of the phone family.
fn shell<'a>(m: &'static Messages, title: &'a str, headers: &HeaderMap) -> Shell<'a> {
    Shell {
        m,
        title,
        kind: Kind::Phone,
        elder: session::elder(headers),
        script: None,
        refresh: None,
    }
}

/// What the last action said (from the redirect's query).
fn flash(m: &Messages, q: &HashMap<String, String>) -> Markup {
    html! {
        @if let Some(code) = q.get("err") {
            p.notice.bad role="alert" { (error_text(code)) }
        } @else if let Some(ok) = q.get("ok") {
            p.notice.good role="status" { (match ok.as_str() {
                "in" => m.checked_in,
                "out" => m.checked_out,
                _ => m.done,
            }) }
        }
    }
}

/// The volunteer of the session, or a page saying this is for volunteers.
async fn me(
    state: &WebState,
    session: &Session,
    q: &HashMap<String, String>,
) -> Result<Value, Response> {
    let m = state.m;
    let data = gql::run(state, session, HOME, json!({ "at": gql::at_least(q) }))
        .await
        .map_err(|e| layout::error_page(m, StatusCode::OK, error_text(&e.code), "/"))?;
    match data["me"]["volunteer"].clone() {
        Value::Null => Err(layout::error_page(
            m,
            StatusCode::FORBIDDEN,
            m.forbidden,
            "/",
        )),
        v => Ok(v),
    }
}

/// The community of the session's volunteer (none for other logins).
fn community_of(session: &Session) -> Option<String> {
    let a = &session.principal.actor;
    a.volunteer_id.and(a.community_id).map(|c| c.0.to_string())
}

/// The page that says these pages are for volunteers.
fn for_volunteers(state: &WebState) -> Response {
    layout::error_page(state.m, StatusCode::FORBIDDEN, state.m.forbidden, "/")
}

/// `/m`: the volunteer's first screen.
pub async fn home(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let v = match me(&state, &session, &q).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let b = &v["balance"];
    let stars = i(b, "stars");
    let verified: f64 = s(b, "verifiedHours").parse().unwrap_or(0.0);
    let next = v["totals"]["starThresholds"]
        .as_array()
        .and_then(|t| t.get(stars as usize))
        .and_then(Value::as_str)
        .and_then(|h| h.parse::<f64>().ok());
    let pending = num(s(&v["pending"], "hours"));
    let mine = my_activities(&state, &session, &v, &q).await;
    let body = html! {
        header.top {
            h1 { (s(&v, "name")) }
            p.sub { (m.number) " " (s(&v, "volunteerNumber")) }
        }
        (flash(m, &q))
        section.cards {
            div.card { span.label { (m.points) } span.big { (num(s(b, "points"))) } }
            div.card { span.label { (m.hours) } span.big { (num(s(b, "hours"))) } span.unit { "小时" } }
        }
        section.stars {
            span.label { (m.stars) }
            span.marks aria-label=(format!("{stars}星")) { (star_marks(stars)) }
            @match next {
                Some(n) if stars < 5 => p.sub { (m.to_next_star) " " (num(&format!("{:.2}", (n - verified).max(0.0)))) " 小时" },
                _ if stars >= 5 => p.sub { (m.top_star) },
                _ => p.sub { (m.no_star_yet) },
            }
            @if pending != "0" {
                p.pending { (m.pending) " " (pending) " 小时（公示期满后计入）" }
            }
        }
        nav.big3 {
            a.button.primary href="/m/checkin" { (m.check_in) }
            a.button href="/m/activities" { (m.activities) }
            a.button href="/m/wishes" { (m.wishes) }
        }
        section {
            h2 { (m.my_activities) }
            (mine)
        }
        footer.links {
            a href="/m/statement" { (m.statement) }
            form method="post" action="/m/elder" {
                input type="hidden" name="csrf" value=(session.csrf());
                @if session::elder(&headers) {
                    input type="hidden" name="on" value="0";
                    button.link type="submit" { (m.elder_off) }
                } @else {
                    input type="hidden" name="on" value="1";
                    button.link type="submit" { (m.elder_on) }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&shell(m, m.product, &headers), body))
}

/// The activities of the coming weeks, the volunteer's own first.
async fn activities_of(
    state: &WebState,
    session: &Session,
    community: &str,
    q: &HashMap<String, String>,
) -> Vec<Value> {
    let now = state.now();
    let vars = json!({
        "c": community,
        "from": (now - chrono::Duration::days(1)).to_rfc3339(),
        "to": (now + chrono::Duration::days(45)).to_rfc3339(),
        "at": gql::at_least(q),
    });
    gql::run(state, session, ACTIVITIES, vars)
        .await
        .ok()
        .and_then(|d| d["activities"].as_array().cloned())
        .unwrap_or_default()
}

fn signed_up(a: &Value) -> bool {
    matches!(s(&a["me"], "signup"), "PLACE" | "WAITING")
}

async fn my_activities(
    state: &WebState,
    session: &Session,
    v: &Value,
    q: &HashMap<String, String>,
) -> Markup {
    let list: Vec<Value> = activities_of(state, session, s(v, "communityId"), q)
        .await
        .into_iter()
        .filter(signed_up)
        .collect();
    html! {
        @if list.is_empty() {
            p.sub { (state.m.no_activities) }
        }
        @for a in &list { (activity_card(state.m, session, a)) }
    }
}

fn activity_card(m: &Messages, session: &Session, a: &Value) -> Markup {
    let id = s(a, "id");
    let left = i(a, "places") - i(a, "taken");
    let me = &a["me"];
    let status = s(a, "status");
    html! {
        article.activity {
            h3 { (s(a, "title")) }
            p { (parse_time(s(a, "startsAt")).map(when).unwrap_or_default()) " – "
                (parse_time(s(a, "endsAt")).map(layout::clock).unwrap_or_default()) }
            p.sub { (s(a, "place")) }
            @match (status, s(me, "signup")) {
                ("CANCELLED", _) => p.notice.bad { "活动已取消" },
                (_, "PLACE") => {
                    p.tag.good { (m.signed_up) }
                    @if me["checkedInAt"].is_string() { p.tag { (m.checked_in) } }
                }
                (_, "WAITING") => p.tag { (m.waiting) (i(me, "waitingRank")) "位" },
                _ => p.sub { (m.places_left) " " (left.max(0)) " / " (i(a, "places")) },
            }
            @if status == "OPEN" {
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
    let list = activities_of(&state, &session, &c, &q).await;
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.activities) } }
        (flash(m, &q))
        @if list.is_empty() { p.sub { (m.no_activities) } }
        @for a in &list { (activity_card(m, &session, a)) }
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
    Path(id): Path<String>,
    axum::Form(f): Form,
) -> Response {
    let (query, field) = match f.get("do").map(String::as_str) {
        Some("withdraw") => (
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
    let list: Vec<Value> = activities_of(&state, &session, &c, &q)
        .await
        .into_iter()
        .filter(|a| s(a, "status") == "OPEN")
        .filter(|a| fixed.as_deref().is_none_or(|f| s(a, "id") == f))
        .collect();
    let code = q.get("code").cloned().unwrap_or_default();
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.check_in) } }
        (flash(m, &q))
        @if list.is_empty() { p.sub { (m.no_activities) } }
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

/// `/m/statement`: the latest lines of the account.
pub async fn statement(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    // The newest 50 lines, newest first: the statement reads oldest first, by pages.
    let query =
        "query($at: Int, $after: String) { statement(first: 100, after: $after, atLeast: $at) {
        entries { kind description pointsDelta hoursDelta recordedAt } hasNextPage endCursor } }";
    let mut entries: Vec<Value> = Vec::new();
    let mut after = Value::Null;
    let mut failed = None;
    for _ in 0..50 {
        match gql::run(
            &state,
            &session,
            query,
            json!({ "at": gql::at_least(&q), "after": after }),
        )
        .await
        {
            Ok(d) => {
                let page = &d["statement"];
                entries.extend(page["entries"].as_array().cloned().unwrap_or_default());
                if entries.len() > 50 {
                    entries.drain(..entries.len() - 50);
                }
                if page["hasNextPage"] != true {
                    break;
                }
                after = page["endCursor"].clone();
            }
            Err(e) => {
                failed = Some(e.code);
                break;
            }
        }
    }
    entries.reverse();
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.statement) } }
        (flash(m, &q))
        @if let Some(code) = &failed { p.notice.bad role="alert" { (error_text(code)) } }
        @else if entries.is_empty() { p.sub { (m.no_statement) } }
        ul.lines {
            @for e in &entries {
                li {
                    span.what { (s(e, "description")) }
                    span.when { (parse_time(s(e, "recordedAt")).map(layout::date).unwrap_or_default()) }
                    span.delta {
                        @let p = num(s(e, "pointsDelta"));
                        @let h = num(s(e, "hoursDelta"));
                        @if p != "0" { (signed(&p)) " 分 " }
                        @if h != "0" { (signed(&h)) " 小时" }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&shell(m, m.statement, &headers), body))
}

fn signed(n: &str) -> String {
    if n.starts_with('-') {
        n.to_string()
    } else {
        format!("+{n}")
    }
}

/// `/m/wishes`: open wishes of the community, to claim.
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
    let query = "query($c: ID!, $at: Int) { wishes(communityId: $c, status: OPEN, first: 30, atLeast: $at) { wishes { id category description residentLabel postedAt } } }";
    let list = gql::run(
        &state,
        &session,
        query,
        json!({ "c": c, "at": gql::at_least(&q) }),
    )
    .await
    .ok()
    .and_then(|d| d["wishes"]["wishes"].as_array().cloned())
    .unwrap_or_default();
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.wishes) } }
        (flash(m, &q))
        @if list.is_empty() { p.sub { (m.no_wishes) } }
        @for w in &list {
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

/// Claim a wish (of two claiming at once, one wins; the other hears why).
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

/// Elder mode on or off, on this phone.
pub async fn elder(
    State(state): State<WebState>,
    Signed(session): Signed,
    axum::Form(f): Form,
) -> Response {
    if let Some(r) = form::refused(&state, &session, &f, "/m") {
        return r;
    }
    let on = f.get("on").map(String::as_str) == Some("1");
    redirect("/m", &[session::elder_cookie(on)])
}
