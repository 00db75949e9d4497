//! Activities at the desk: the month's list with its totals, posting one, changing or
//! cancelling it (with the reason its volunteers are told), and the organiser's
//! full-screen check-in code with its QR code. One activity's roster, approval and 补录
//! are in [`super::attendance`].

use super::today::activity_rows;
use super::{field, items, select, shell, Desk};
use crate::gql::{i, s};
use crate::layout::{self, page, parse_time, respond};
use crate::msg::error_text;
use crate::Form;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};
use maud::{html, Markup, PreEscaped};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The kinds of service an activity can be, as the API names them.
pub const KINDS: [&str; 5] = ["PATROL", "REPAIR", "ELDERLY_VISIT", "MEDIATION", "OTHER"];

/// A `datetime-local` value, read as Beijing time.
pub fn local(v: &str) -> Option<String> {
    let t = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M").ok()?;
    Some(
        layout::cst()
            .from_local_datetime(&t)
            .single()?
            .with_timezone(&Utc)
            .to_rfc3339(),
    )
}

/// A time of the API as a `datetime-local` value (Beijing time).
pub fn local_value(t: &str) -> String {
    parse_time(t)
        .map(|t| {
            t.with_timezone(&layout::cst())
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// The first day of the month `YYYY-MM` (or this month), and the months before and after.
fn month_of(v: &str, today: NaiveDate) -> (NaiveDate, NaiveDate, NaiveDate) {
    let first = NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d")
        .unwrap_or_else(|_| today.with_day(1).unwrap_or(today));
    let prev = first.checked_sub_months(Months::new(1)).unwrap_or(first);
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    (first, prev, next)
}

fn ym(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// `/console/activities?month=YYYY-MM&status=`: the month's activities and totals.
pub async fn list(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let today = desk.state.now().with_timezone(&layout::cst()).date_naive();
    let (first, prev, next) = month_of(desk.param("month"), today);
    let at = |d: NaiveDate| {
        layout::cst()
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map(|x| x.with_timezone(&Utc).to_rfc3339())
    };
    let status = desk.param("status");
    let query = "query($c: ID!, $from: DateTime, $to: DateTime, $st: ActivityStatus, $at: Int) {
      activities(communityId: $c, from: $from, to: $to, status: $st, first: 200, atLeast: $at) {
        id title place startsAt endsAt places taken checkedIn pending status } }";
    let vars = json!({ "c": desk.c, "from": at(first), "to": at(next),
        "st": (!status.is_empty()).then_some(status), "at": crate::gql::at_least(&desk.q) });
    let list = match desk.read(query, vars).await {
        Ok(d) => items(&d["activities"]),
        Err(r) => return r,
    };
    let refs: Vec<&Value> = list.iter().collect();
    let sum = |k: &str| list.iter().map(|a| i(a, k)).sum::<i64>();
    let month = ym(first);
    let statuses = [
        ("", t.all),
        ("OPEN", t.status_unapproved),
        ("APPROVED", t.status_approved),
        ("CANCELLED", t.status_cancelled),
    ];
    let body = html! {
        nav.filters {
            a.button href=(desk.href_with("/console/activities", &[("month", &ym(prev)), ("status", status)])) { "‹ " (ym(prev)) }
            strong { (first.year()) "年" (first.month()) "月" }
            a.button href=(desk.href_with("/console/activities", &[("month", &ym(next)), ("status", status)])) { (ym(next)) " ›" }
            @for (st, label) in statuses {
                @if st == status { span.tag.good { (label) } }
                @else { a.tag href=(desk.href_with("/console/activities", &[("month", &month), ("status", st)])) { (label) } }
            }
            a.button.primary href=(desk.href("/console/activities/new")) { (m.post_activity) }
        }
        @if list.is_empty() { p.sub { (m.no_activities) } }
        (activity_rows(&desk, &refs))
        p.totals {
            (t.total) " " (list.len()) " " (t.activities_unit) " · " (m.places) " " (sum("places"))
            " · " (m.signed) " " (sum("taken")) " · " (m.arrived) " " (sum("checkedIn")) " · " (t.pending_records) " " (sum("pending"))
        }
    };
    desk.page(m.activities, body)
}

/// `/console/activities/new`: the form.
pub async fn new(desk: Desk) -> Response {
    form_page(&desk, &HashMap::new())
}

/// The form, with what was typed (after a refusal) and why it was refused.
fn form_page(desk: &Desk, keep: &HashMap<String, String>) -> Response {
    let m = desk.m();
    let t = &m.console;
    let kinds: Vec<(String, String)> = KINDS
        .iter()
        .map(|k| (k.to_string(), t.kind(k).to_string()))
        .collect();
    let v = |k: &str| get(keep, k);
    let kind = Some(v("kind"))
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "PATROL".into());
    let places = Some(v("places"))
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "12".into());
    let body = html! {
        @if let Some(code) = keep.get("err") { p.notice.bad role="alert" { (crate::msg::error_text(code)) } }
        form.grid method="post" action=(desk.href("/console/activities")) {
            (crate::form::hidden(&desk.session))
            (field(m.title, "title", html! { input id="title" name="title" required maxlength="100" value=(v("title")); }))
            (field(m.kind, "kind", select("kind", &kinds, &kind)))
            (field(m.place, "place", html! { input id="place" name="place" required maxlength="100" value=(v("place")); }))
            (field(m.starts, "starts", html! { input id="starts" name="starts" type="datetime-local" required value=(v("starts")); }))
            (field(m.ends, "ends", html! { input id="ends" name="ends" type="datetime-local" required value=(v("ends")); }))
            (field(m.places, "places", html! { input id="places" name="places" type="number" min="1" max="500" value=(places) required; }))
            (field(m.signup_until, "deadline", html! { input id="deadline" name="deadline" type="datetime-local" value=(v("deadline")); }))
            (field(t.only_tag, "tag", html! { input id="tag" name="tag" maxlength="20" placeholder=(t.only_tag_hint) value=(v("tag")); }))
            (field(t.walk_ins, "walk_ins", html! { input id="walk_ins" name="walk_ins" type="checkbox" value="1" checked[v("walk_ins") == "1"]; }))
            button.button.primary type="submit" { (m.post_activity) }
        }
    };
    desk.page(m.post_activity, body)
}

/// Posts the activity; a refusal shows the form again with what was typed.
pub async fn post(desk: Desk, axum::Form(f): Form) -> Response {
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &f, "/console") {
        return r;
    }
    let g = |k: &str| get(&f, k);
    let again = |code: &str| {
        let mut keep = f.clone();
        keep.insert("err".into(), code.to_string());
        form_page(&desk, &keep)
    };
    let (Some(starts), Some(ends)) = (local(&g("starts")), local(&g("ends"))) else {
        return again("INVALID_INPUT");
    };
    if ends <= starts {
        return again("ENDS_BEFORE_STARTS");
    }
    let query = "mutation($c: ID!, $k: String!, $t: String!, $kind: ServiceKind!, $p: String!, $s: DateTime!, $e: DateTime!, $n: Int!, $d: DateTime, $tag: String, $w: Boolean!) {
      postActivity(communityId: $c, idempotencyKey: $k, title: $t, kind: $kind, place: $p, startsAt: $s, endsAt: $e, places: $n, signupDeadline: $d, tag: $tag, walkIns: $w) { activityId position } }";
    let tag = g("tag");
    let vars = json!({ "c": desk.c, "k": crate::form::key(&f), "t": g("title"), "kind": g("kind"), "p": g("place"),
        "s": starts, "e": ends, "n": g("places").parse::<i64>().unwrap_or(0), "d": local(&g("deadline")),
        "tag": (!tag.is_empty()).then_some(tag), "w": g("walk_ins") == "1" });
    match crate::gql::run(&desk.state, &desk.session, query, vars).await {
        Ok(d) => {
            let a = &d["postActivity"];
            let at = i(a, "position").to_string();
            let path = format!("/console/activities/{}", s(a, "activityId"));
            layout::redirect(&desk.href_with(&path, &[("ok", "1"), ("at", &at)]), &[])
        }
        Err(e) => again(&e.code),
    }
}

/// The forms that change or cancel an activity that has not started (its volunteers
/// are told, with the reason).
pub fn change_forms(desk: &Desk, a: &Value) -> Markup {
    let m = desk.m();
    let t = &m.console;
    let id = s(a, "id");
    html! {
        details.box {
            summary { (t.change_activity) }
            form.grid method="post" action=(desk.href(&format!("/console/activities/{id}/change"))) {
                (crate::form::hidden(&desk.session))
                (field(m.starts, "c-starts", html! { input id="c-starts" name="starts" type="datetime-local" value=(local_value(s(a, "startsAt"))); }))
                (field(m.ends, "c-ends", html! { input id="c-ends" name="ends" type="datetime-local" value=(local_value(s(a, "endsAt"))); }))
                (field(m.place, "c-place", html! { input id="c-place" name="place" value=(s(a, "place")) maxlength="100"; }))
                (field(m.places, "c-places", html! { input id="c-places" name="places" type="number" min="1" max="500" value=(i(a, "places")); }))
                (field(t.reason, "c-reason", html! { input id="c-reason" name="reason" required maxlength="200" placeholder=(t.reason_told); }))
                button.button type="submit" { (t.change_activity) }
            }
        }
        details.box {
            summary { (t.cancel_activity) }
            form.grid method="post" action=(desk.href(&format!("/console/activities/{id}/cancel"))) {
                (crate::form::hidden(&desk.session))
                (field(t.reason, "x-reason", html! { input id="x-reason" name="reason" required maxlength="200" placeholder=(t.reason_told); }))
                button.button type="submit" { (t.cancel_activity) }
            }
        }
    }
}

/// Changes what differs from the activity as it is.
pub async fn change(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let g = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let current = "query($a: ID!) { activity(id: $a) { startsAt endsAt place places } }";
    let a = match desk.read(current, json!({ "a": id })).await {
        Ok(d) => d["activity"].clone(),
        Err(r) => return r,
    };
    let mut change = serde_json::Map::new();
    if let Some(v) = local(&g("starts")).filter(|_| g("starts") != local_value(s(&a, "startsAt"))) {
        change.insert("startsAt".into(), json!(v));
    }
    if let Some(v) = local(&g("ends")).filter(|_| g("ends") != local_value(s(&a, "endsAt"))) {
        change.insert("endsAt".into(), json!(v));
    }
    if !g("place").is_empty() && g("place") != s(&a, "place") {
        change.insert("place".into(), json!(g("place")));
    }
    if let Ok(n) = g("places").parse::<i64>() {
        if n != i(&a, "places") {
            change.insert("places".into(), json!(n));
        }
    }
    let query = "mutation($a: ID!, $k: String!, $ch: ActivityChangeInput!, $r: String!) { changeActivity(activityId: $a, idempotencyKey: $k, change: $ch, reason: $r) { position } }";
    let vars = json!({ "a": id, "ch": change, "r": g("reason") });
    desk.submit(
        &f,
        query,
        vars,
        "changeActivity",
        &format!("/console/activities/{id}"),
    )
    .await
}

/// Cancels the activity.
pub async fn cancel(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let query = "mutation($a: ID!, $k: String!, $r: String!) { cancelActivity(activityId: $a, idempotencyKey: $k, reason: $r) { position } }";
    let vars = json!({ "a": id, "r": f.get("reason").cloned().unwrap_or_default() });
    desk.submit(
        &f,
        query,
        vars,
        "cancelActivity",
        &format!("/console/activities/{id}"),
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
pub fn absolute(headers: &HeaderMap, path: &str) -> String {
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
pub async fn code(desk: Desk, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let m = desk.m();
    let query = "query($a: ID!) { activity(id: $a) { title checkedIn taken } activityCheckInCode(activityId: $a) { code changesAt link } }";
    let d = match crate::gql::run(&desk.state, &desk.session, query, json!({ "a": id })).await {
        Ok(d) => d,
        Err(e) => {
            return layout::error_page(
                m,
                StatusCode::OK,
                error_text(&e.code),
                &desk.href("/console"),
            )
        }
    };
    let code = &d["activityCheckInCode"];
    let secs = parse_time(s(code, "changesAt"))
        .map(|t| (t - desk.state.now()).num_seconds().clamp(1, 300) as u64)
        .unwrap_or(30);
    let digits = s(code, "code");
    let a = &d["activity"];
    let body = html! {
        main.codescreen {
            a.back href=(desk.href(&format!("/console/activities/{id}"))) { "‹ " (m.console.back_to_activity) }
            h1 { (s(a, "title")) }
            p.digits aria-label=(m.console.checkin_code) { (digits.get(..3).unwrap_or("")) " " (digits.get(3..).unwrap_or("")) }
            div.qr { (qr(&absolute(&headers, s(code, "link")))) }
            p.sub { (m.code_hint) }
            p.sub { (m.arrived) " " (i(a, "checkedIn")) " / " (i(a, "taken")) }
        }
    };
    let shell = layout::Shell {
        refresh: Some(secs),
        ..shell(m, m.show_code)
    };
    respond(StatusCode::OK, page(&shell, body))
}

/// The query of a form's field (empty when absent).
pub fn get(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|v| v.trim().to_string()).unwrap_or_default()
}
