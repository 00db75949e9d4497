//! The staff console (`/console`, 1366×768 and up): today's work at a glance, the
//! activities (post one; its roster; the organiser's full-screen check-in code with its
//! QR code; approval of the attendance in one go), the volunteers (search by name or
//! the last digits of the phone, masked as the API masks them) and their one-time
//! login links, printed as a QR code.

use crate::gql::{self, i, s};
use crate::layout::{self, clock, num, page, parse_time, redirect, respond, when, Kind, Shell};
use crate::msg::{error_text, Messages};
use crate::session::Session;
use crate::{form, links, Form, Signed, WebState};
use api::Role;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{NaiveDateTime, TimeZone, Utc};
use maud::{html, Markup, PreEscaped};
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

fn shell<'a>(m: &'static Messages, title: &'a str) -> Shell<'a> {
    Shell {
        m,
        title,
        kind: Kind::Console,
        elder: false,
        script: None,
        refresh: None,
    }
}

/// The community the console works on: the staff member's own, or `?c=` for an admin.
fn community(session: &Session, q: &HashMap<String, String>) -> Option<String> {
    match session.principal.role() {
        Role::Staff => session.principal.community().map(|c| c.0.to_string()),
        Role::Admin => q.get("c").filter(|c| Uuid::parse_str(c).is_ok()).cloned(),
        _ => None,
    }
}

fn logout_form(m: &Messages, csrf: &str) -> Markup {
    html! {
        form method="post" action="/logout" {
            input type="hidden" name="csrf" value=(csrf);
            button.link type="submit" { (m.logout) }
        }
    }
}

fn frame(
    m: &'static Messages,
    session: &Session,
    c: &str,
    title: &str,
    q: &HashMap<String, String>,
    body: Markup,
) -> Response {
    let cq = format!("?c={c}");
    let html = html! {
        nav.side {
            p.brand { (m.console) }
            a href=(format!("/console{cq}")) { (m.today_work) }
            a href=(format!("/console/activities/new{cq}")) { (m.post_activity) }
            a href=(format!("/console/volunteers{cq}")) { (m.volunteers) }
            a href=(format!("/hall{cq}")) { (m.hall_title) }
            (logout_form(m, &session.csrf()))
        }
        main.work {
            h1 { (title) }
            @if let Some(code) = q.get("err") { p.notice.bad role="alert" { (error_text(code)) } }
            @if q.contains_key("ok") { p.notice.good role="status" { (m.done) } }
            (body)
        }
    };
    respond(StatusCode::OK, page(&shell(m, title), html))
}

fn need_community(m: &'static Messages) -> Response {
    let body = html! {
        main.narrow {
            h1 { (m.console) }
            form method="get" action="/console" {
                label for="c" { "社区编号（community ID）" }
                input id="c" name="c" required;
                button.button.primary type="submit" { "进入" }
            }
        }
    };
    respond(StatusCode::OK, page(&shell(m, m.console), body))
}

/// `/console`: today's work.
pub async fn today(
    State(state): State<WebState>,
    Signed(session): Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(c) = community(&session, &q) else {
        return need_community(m);
    };
    let now = state.now();
    let query = "query($c: ID!, $from: DateTime, $to: DateTime, $at: Int) {
      dashboard(communityId: $c, atLeast: $at) { activeVolunteers openWishes wishesInProgress }
      activities(communityId: $c, from: $from, to: $to, first: 50) { id title place startsAt endsAt places taken checkedIn pending status objections { open } }
      wishes(communityId: $c, status: FULFILLED, first: 20) { wishes { id description } } }";
    let vars = json!({ "c": c, "from": (now - chrono::Duration::days(14)).to_rfc3339(),
        "to": (now + chrono::Duration::days(30)).to_rfc3339(), "at": gql::at_least(&q) });
    let d = match gql::run(&state, &session, query, vars).await {
        Ok(d) => d,
        Err(e) => return layout::error_page(m, StatusCode::OK, error_text(&e.code), "/console"),
    };
    let acts = d["activities"].as_array().cloned().unwrap_or_default();
    let ended = |a: &Value| parse_time(s(a, "endsAt")).is_some_and(|t| t < now);
    let to_approve: Vec<&Value> = acts
        .iter()
        .filter(|a| s(a, "status") == "OPEN" && ended(a))
        .collect();
    let objections: usize = acts
        .iter()
        .map(|a| {
            a["objections"]
                .as_array()
                .map_or(0, |o| o.iter().filter(|x| x["open"] == true).count())
        })
        .sum();
    let upcoming: Vec<&Value> = acts
        .iter()
        .filter(|a| !ended(a) && s(a, "status") != "CANCELLED")
        .collect();
    let fulfilled = d["wishes"]["wishes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let body = html! {
        section.tiles {
            div.tile { span.label { (m.to_approve) } span.big { (to_approve.len()) } }
            div.tile { span.label { (m.open_objections) } span.big { (objections) } }
            div.tile { span.label { (m.wishes_to_confirm) } span.big { (fulfilled.len()) } }
            div.tile { span.label { "活跃志愿者" } span.big { (i(&d["dashboard"], "activeVolunteers")) } }
        }
        h2 { (m.activities) }
        table {
            thead { tr { th { (m.title) } th { (m.starts) } th { (m.place) } th { (m.places) } th { (m.arrived) } th {} } }
            tbody {
                @for a in upcoming.iter().chain(to_approve.iter()) {
                    tr {
                        td { a href=(format!("/console/activities/{}?c={c}", s(a, "id"))) { (s(a, "title")) } }
                        td { (parse_time(s(a, "startsAt")).map(when).unwrap_or_default()) }
                        td { (s(a, "place")) }
                        td.num { (i(a, "taken")) " / " (i(a, "places")) }
                        td.num { (i(a, "checkedIn")) }
                        td { a.button href=(format!("/console/activities/{}/code?c={c}", s(a, "id"))) { (m.show_code) } }
                    }
                }
            }
        }
    };
    frame(m, &session, &c, m.today_work, &q, body)
}

/// `/console/activities/new`: the form.
pub async fn new_activity(
    State(state): State<WebState>,
    Signed(session): Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(c) = community(&session, &q) else {
        return need_community(m);
    };
    let kinds = [
        ("PATROL", "巡逻"),
        ("REPAIR", "维修"),
        ("ELDERLY_VISIT", "上门探访"),
        ("MEDIATION", "调解"),
        ("OTHER", "其他"),
    ];
    let body = html! {
        form.grid method="post" action=(format!("/console/activities?c={c}")) {
            (form::hidden(&session))
            label for="title" { (m.title) } input id="title" name="title" required maxlength="100";
            label for="kind" { (m.kind) }
            select id="kind" name="kind" { @for (k, l) in kinds { option value=(k) { (l) } } }
            label for="place" { (m.place) } input id="place" name="place" required maxlength="100";
            label for="starts" { (m.starts) } input id="starts" name="starts" type="datetime-local" required;
            label for="ends" { (m.ends) } input id="ends" name="ends" type="datetime-local" required;
            label for="places" { (m.places) } input id="places" name="places" type="number" min="1" max="500" value="12" required;
            button.button.primary type="submit" { (m.post_activity) }
        }
    };
    frame(m, &session, &c, m.post_activity, &q, body)
}

/// A `datetime-local` value, read as Beijing time.
fn local(v: &str) -> Option<String> {
    let t = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M").ok()?;
    Some(
        layout::cst()
            .from_local_datetime(&t)
            .single()?
            .with_timezone(&Utc)
            .to_rfc3339(),
    )
}

/// Posts the activity.
pub async fn post_activity(
    State(state): State<WebState>,
    Signed(session): Signed,
    Query(q): Query<HashMap<String, String>>,
    axum::Form(f): Form,
) -> Response {
    let m = state.m;
    let Some(c) = community(&session, &q) else {
        return need_community(m);
    };
    if let Some(r) = form::refused(&state, &session, &f, "/console") {
        return r;
    }
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (Some(starts), Some(ends)) = (local(&g("starts")), local(&g("ends"))) else {
        return redirect(
            &format!("/console/activities/new?c={c}&err=INVALID_INPUT"),
            &[],
        );
    };
    let query = "mutation($c: ID!, $k: String!, $t: String!, $kind: ServiceKind!, $p: String!, $s: DateTime!, $e: DateTime!, $n: Int!) {
      postActivity(communityId: $c, idempotencyKey: $k, title: $t, kind: $kind, place: $p, startsAt: $s, endsAt: $e, places: $n) { activityId position } }";
    let vars = json!({ "c": c, "k": form::key(&f), "t": g("title"), "kind": g("kind"), "p": g("place"),
        "s": starts, "e": ends, "n": g("places").parse::<i64>().unwrap_or(0) });
    match gql::run(&state, &session, query, vars).await {
        Ok(d) => redirect(
            &format!(
                "/console/activities/{}?c={c}&ok=1&at={}",
                s(&d["postActivity"], "activityId"),
                i(&d["postActivity"], "position")
            ),
            &[],
        ),
        Err(e) => redirect(
            &format!("/console/activities/new?c={c}&err={}", e.code),
            &[],
        ),
    }
}

/// `/console/activities/{id}`: the roster, and approval once it has ended.
pub async fn activity(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(c) = community(&session, &q) else {
        return need_community(m);
    };
    let query = "query($a: ID!, $at: Int) { activity(id: $a, atLeast: $at) { id title place startsAt endsAt places taken checkedIn status noticeUntil
      roster { volunteerId name signup waitingRank checkedInAt checkedOutAt checkedInByStaff hours record } } }";
    let a = match gql::run(
        &state,
        &session,
        query,
        json!({ "a": id, "at": gql::at_least(&q) }),
    )
    .await
    {
        Ok(d) => d["activity"].clone(),
        Err(e) => return layout::error_page(m, StatusCode::OK, error_text(&e.code), "/console"),
    };
    let ended = parse_time(s(&a, "endsAt")).is_some_and(|t| t < state.now());
    let body = html! {
        p { (parse_time(s(&a, "startsAt")).map(when).unwrap_or_default()) "–" (parse_time(s(&a, "endsAt")).map(clock).unwrap_or_default()) " · " (s(&a, "place")) }
        p { (m.signed) " " (i(&a, "taken")) " / " (i(&a, "places")) " · " (m.arrived) " " (i(&a, "checkedIn")) }
        p { a.button href=(format!("/console/activities/{id}/code?c={c}")) { (m.show_code) } }
        h2 { (m.roster) }
        table {
            thead { tr { th { (m.name) } th { (m.status) } th { "签到" } th { "签退" } th { (m.hours) } } }
            tbody {
                @for p in a["roster"].as_array().into_iter().flatten() {
                    tr {
                        td { (s(p, "name")) }
                        td { (match s(p, "signup") { "PLACE" => "已报名".to_string(), "WAITING" => format!("候补第{}位", i(p, "waitingRank")), _ => "—".to_string() }) }
                        td { (parse_time(s(p, "checkedInAt")).map(clock).unwrap_or_default()) @if p["checkedInByStaff"] == true { "（代签）" } }
                        td { (parse_time(s(p, "checkedOutAt")).map(clock).unwrap_or_default()) }
                        td.num { (num(s(p, "hours"))) }
                    }
                }
            }
        }
        @if ended && s(&a, "status") == "OPEN" {
            form method="post" action=(format!("/console/activities/{id}/approve?c={c}")) {
                (form::hidden(&session))
                button.button.primary type="submit" { (m.approve) }
            }
        }
    };
    frame(m, &session, &c, s(&a, "title"), &q, body)
}

/// Approves the whole attendance in one command.
pub async fn approve(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    axum::Form(f): Form,
) -> Response {
    let Some(c) = community(&session, &q) else {
        return need_community(state.m);
    };
    let query = "mutation($a: ID!, $k: String!) { approveAttendance(activityId: $a, idempotencyKey: $k) { position } }";
    let back = format!("/console/activities/{id}?c={c}");
    let ok = format!("{back}&ok=1");
    form::submit(
        &state,
        &session,
        &f,
        query,
        json!({ "a": id }),
        "approveAttendance",
        &ok,
        &back,
    )
    .await
}

/// An SVG QR code of `text`.
pub fn qr(text: &str) -> Markup {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => PreEscaped(
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build(),
        ),
        Err(_) => html! {},
    }
}

/// The absolute address of `path` as the browser reached us.
fn absolute(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}{path}")
}

/// `/console/activities/{id}/code`: the six digits, large, with the QR of the check-in
/// link; the page reloads itself when the code changes (no script).
pub async fn code(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let m = state.m;
    let query = "query($a: ID!) { activity(id: $a) { title } activityCheckInCode(activityId: $a) { code changesAt link } }";
    let d = match gql::run(&state, &session, query, json!({ "a": id })).await {
        Ok(d) => d,
        Err(e) => return layout::error_page(m, StatusCode::OK, error_text(&e.code), "/console"),
    };
    let code = &d["activityCheckInCode"];
    let secs = parse_time(s(code, "changesAt"))
        .map(|t| (t - state.now()).num_seconds().clamp(1, 300) as u64)
        .unwrap_or(30);
    let digits = s(code, "code");
    let body = html! {
        main.codescreen {
            h1 { (s(&d["activity"], "title")) }
            p.digits aria-label="签到码" { (digits.get(..3).unwrap_or("")) " " (digits.get(3..).unwrap_or("")) }
            div.qr { (qr(&absolute(&headers, s(code, "link")))) }
            p.sub { (m.code_hint) }
        }
    };
    let shell = Shell {
        refresh: Some(secs),
        ..shell(m, m.show_code)
    };
    respond(StatusCode::OK, page(&shell, body))
}

/// `/console/volunteers?search=`: find a volunteer; make their login link.
pub async fn volunteers(
    State(state): State<WebState>,
    Signed(session): Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(c) = community(&session, &q) else {
        return need_community(m);
    };
    let search = q.get("search").cloned().unwrap_or_default();
    let query = "query($c: ID!, $q: String) { volunteers(communityId: $c, search: $q, first: 50) { volunteers { id name phone volunteerNumber balance { points hours stars } } } }";
    let list = gql::run(
        &state,
        &session,
        query,
        json!({ "c": c, "q": (!search.is_empty()).then_some(&search) }),
    )
    .await
    .ok()
    .and_then(|d| d["volunteers"]["volunteers"].as_array().cloned())
    .unwrap_or_default();
    let body = html! {
        form.search method="get" action="/console/volunteers" {
            input type="hidden" name="c" value=(c);
            input name="search" value=(search) placeholder="姓名或手机号后四位" aria-label=(m.search);
            button.button type="submit" { (m.search) }
        }
        table {
            thead { tr { th { (m.number) } th { (m.name) } th { (m.phone) } th { (m.points) } th { (m.hours) } th { (m.stars) } th {} } }
            tbody {
                @for v in &list {
                    tr {
                        td { (s(v, "volunteerNumber")) }
                        td { (s(v, "name")) }
                        td { (s(v, "phone")) }
                        td.num { (num(s(&v["balance"], "points"))) }
                        td.num { (num(s(&v["balance"], "hours"))) }
                        td.num { (i(&v["balance"], "stars")) }
                        td {
                            form method="post" action=(format!("/console/links?c={c}")) {
                                input type="hidden" name="csrf" value=(session.csrf());
                                input type="hidden" name="volunteer" value=(s(v, "id"));
                                button.button type="submit" { (m.new_link) }
                            }
                        }
                    }
                }
            }
        }
        form method="post" action=(format!("/console/links?c={c}")) {
            input type="hidden" name="csrf" value=(session.csrf());
            input type="hidden" name="display" value="1";
            button.button type="submit" { (m.link_for_display) }
        }
    };
    frame(m, &session, &c, m.volunteers, &q, body)
}

/// Makes a one-time login link (a volunteer's, or the hall display's) and shows it
/// with its QR code, once.
pub async fn make_link(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    axum::Form(f): Form,
) -> Response {
    let m = state.m;
    let Some(c) = community(&session, &q) else {
        return need_community(m);
    };
    if let Some(r) = form::refused(&state, &session, &f, "/console") {
        return r;
    }
    let volunteer = f.get("volunteer").and_then(|v| Uuid::parse_str(v).ok());
    let grant = links::Grant {
        role: if volunteer.is_some() {
            Role::Volunteer
        } else {
            Role::Display
        },
        community: Uuid::parse_str(&c).ok(),
        volunteer,
        label: if volunteer.is_some() {
            "志愿者".into()
        } else {
            "大屏".into()
        },
    };
    let title = if volunteer.is_some() {
        m.link_for_volunteer
    } else {
        m.link_for_display
    };
    match links::create(&state.api.app.store, &session.principal, grant, state.now()).await {
        Ok(code) => {
            let url = absolute(&headers, &format!("/login/{code}"));
            let body = html! {
                div.qr { (qr(&url)) }
                p { code.link { (url) } }
                p.sub { (m.link_once) }
            };
            frame(m, &session, &c, title, &q, body)
        }
        Err(links::LinkRefused::Forbidden) => {
            layout::error_page(m, StatusCode::FORBIDDEN, m.forbidden, "/console")
        }
        Err(links::LinkRefused::Invalid(_)) => layout::error_page(
            m,
            StatusCode::BAD_REQUEST,
            error_text("INVALID_INPUT"),
            "/console",
        ),
    }
}
