//! 公示 and objections (`/console/notices`): the records in their notice, activity by
//! activity, with the objections raised against them; staff decide an objection
//! (dismiss it, correct the hours, or reject the record, always with a reason), raise
//! one for a resident who came to the desk, and make records final by hand once the
//! notice has passed (the server does it on its own within a minute).

use super::activities::get;
use super::{field, items, Desk};
use crate::gql::{i, s};
use crate::layout::{num, parse_time, when};
use crate::Form;
use axum::extract::Path;
use axum::response::Response;
use chrono::Duration;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::HashMap;

const NOTICES: &str = "query($c: ID!, $from: DateTime, $at: Int) {
  activities(communityId: $c, from: $from, status: APPROVED, first: 100, atLeast: $at) {
    id pending objections { open } } }";

/// One activity on the page: its records and objections.
const ACTIVITY: &str = "query($a: ID!) { activity(id: $a) { id title startsAt noticeUntil pending
    roster { volunteerId name hours points record }
    objections { id volunteerId reason open decision resolution raisedAt correctedHours } } }";

/// Most activities the page shows at once (the oldest notices first).
const SHOWN: usize = 20;

/// `/console/notices`.
pub async fn notices(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let from = desk.state.now() - Duration::days(90);
    let vars =
        json!({ "c": desk.c, "from": from.to_rfc3339(), "at": crate::gql::at_least(&desk.q) });
    let list = match desk.read(NOTICES, vars).await {
        Ok(d) => items(&d["activities"]),
        Err(r) => return r,
    };
    let mut shown: Vec<Value> = Vec::new();
    let due = |a: &&Value| {
        i(a, "pending") > 0 || items(&a["objections"]).iter().any(|o| o["open"] == true)
    };
    for a in list.iter().filter(due).take(SHOWN) {
        match desk.read(ACTIVITY, json!({ "a": s(a, "id") })).await {
            Ok(d) => shown.push(d["activity"].clone()),
            Err(r) => return r,
        }
    }
    let body = html! {
        p.sub { (t.notices_hint) }
        @if shown.is_empty() { p.sub { (t.nothing_on_notice) } }
        @for a in &shown { (activity(&desk, a)) }
    };
    desk.page(t.notices, body)
}

fn activity(desk: &Desk, a: &Value) -> Markup {
    let m = desk.m();
    let t = &m.console;
    let id = s(a, "id");
    let roster = items(&a["roster"]);
    let name_of = |v: &str| {
        roster
            .iter()
            .find(|p| s(p, "volunteerId") == v)
            .map(|p| s(p, "name").to_string())
            .unwrap_or_default()
    };
    let pending: Vec<&Value> = roster
        .iter()
        .filter(|p| s(p, "record") == "PENDING")
        .collect();
    let passed = parse_time(s(a, "noticeUntil")).is_some_and(|u| u <= desk.state.now());
    html! {
        section.box {
            h2 { a href=(desk.href(&format!("/console/activities/{id}"))) { (s(a, "title")) } }
            p.sub { (parse_time(s(a, "startsAt")).map(when).unwrap_or_default()) " · " (t.notice_until) " "
                (parse_time(s(a, "noticeUntil")).map(when).unwrap_or_default()) }
            table {
                thead { tr { th { (m.name) } th.num { (m.hours) } th.num { (m.points) } } }
                tbody {
                    @for p in &pending {
                        tr { td { (s(p, "name")) } td.num { (num(s(p, "hours"))) } td.num { (num(s(p, "points"))) } }
                    }
                }
            }
            @for o in items(&a["objections"]) {
                div.objection {
                    p { b { (name_of(s(&o, "volunteerId"))) } "：" (s(&o, "reason")) " "
                        span.sub { (parse_time(s(&o, "raisedAt")).map(when).unwrap_or_default()) } }
                    @if o["open"] == true {
                        (resolve_form(desk, id, &o))
                    } @else {
                        p.sub { (t.verdict(s(&o, "decision"))) @if !s(&o, "correctedHours").is_empty() { " " (num(s(&o, "correctedHours"))) " 小时" } "：" (s(&o, "resolution")) }
                    }
                }
            }
            @if !pending.is_empty() {
                details {
                    summary { (t.raise_objection) }
                    form.grid method="post" action=(desk.href(&format!("/console/notices/{id}/raise"))) {
                        (crate::form::hidden(&desk.session))
                        (field(m.name, &format!("r-v-{id}"), html! {
                            select id=(format!("r-v-{id}")) name="volunteer" {
                                @for p in &pending { option value=(s(p, "volunteerId")) { (s(p, "name")) } }
                            }
                        }))
                        (field(t.reason, &format!("r-r-{id}"), html! { input id=(format!("r-r-{id}")) name="reason" required maxlength="200"; }))
                        button.button type="submit" { (t.raise_objection) }
                    }
                }
            }
            @if passed && i(a, "pending") > 0 {
                form method="post" action=(desk.href(&format!("/console/notices/{id}/finalise"))) {
                    (crate::form::hidden(&desk.session))
                    button.button type="submit" { (t.finalise_now) }
                }
            }
        }
    }
}

fn resolve_form(desk: &Desk, activity: &str, o: &Value) -> Markup {
    let t = &desk.m().console;
    let oid = s(o, "id");
    html! {
        form.inline method="post" action=(desk.href(&format!("/console/notices/{activity}/resolve"))) {
            (crate::form::hidden(&desk.session))
            input type="hidden" name="objection" value=(oid);
            select name="verdict" aria-label=(t.decision) {
                option value="DISMISS" { (t.verdict("DISMISSED")) }
                option value="CORRECT" { (t.verdict("CORRECTED")) }
                option value="REJECT" { (t.verdict("REJECTED")) }
            }
            input name="hours" inputmode="decimal" size="5" placeholder=(t.corrected_hours) aria-label=(t.corrected_hours);
            input name="reason" required maxlength="200" placeholder=(t.reason) aria-label=(t.reason);
            button.button type="submit" { (t.decide) }
        }
    }
}

/// What upholding an objection would change, and who the record is of.
const UPHOLD: &str = "query($a: ID!, $o: ID!, $v: ObjectionVerdict!, $h: Hours) {
  objectionImpact(activityId: $a, objectionId: $o, verdict: $v, hours: $h) {
    volunteerId detail points hours starsBefore starsAfter annualReportYear
    rankings { period metric before after passedBy } certificates { number } } }";

/// Decides an objection: a dismissal at once; upholding one (correcting or rejecting the
/// record) first shows what it would change, and the clerk confirms on that page.
pub async fn resolve(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let hours = get(&f, "hours");
    if get(&f, "verdict") != "DISMISS" && get(&f, "confirmed") != "1" {
        return uphold_preview(desk, &id, &f).await;
    }
    let query = "mutation($a: ID!, $o: ID!, $v: ObjectionVerdict!, $h: Hours, $r: String!, $k: String!) {
      resolveObjection(activityId: $a, objectionId: $o, verdict: $v, hours: $h, reason: $r, idempotencyKey: $k) { position } }";
    let vars = json!({ "a": id, "o": get(&f, "objection"), "v": get(&f, "verdict"),
        "h": (!hours.is_empty()).then_some(hours), "r": get(&f, "reason") });
    desk.submit(&f, query, vars, "resolveObjection", "/console/notices")
        .await
}

async fn uphold_preview(desk: Desk, id: &str, f: &HashMap<String, String>) -> Response {
    let m = desk.m();
    let (t, c) = (&m.console, m.correction);
    let hours = get(f, "hours");
    let vars = json!({ "a": id, "o": get(f, "objection"), "v": get(f, "verdict"),
        "h": (!hours.is_empty()).then_some(&hours) });
    let x = match desk.read(UPHOLD, vars).await {
        Ok(d) => d["objectionImpact"].clone(),
        Err(r) => return r,
    };
    let who = match desk
        .read(
            "query($v: ID!) { volunteer(id: $v) { name volunteerNumber } }",
            json!({ "v": s(&x, "volunteerId") }),
        )
        .await
    {
        Ok(d) => d["volunteer"].clone(),
        Err(r) => return r,
    };
    let verdict = match get(f, "verdict").as_str() {
        "CORRECT" => format!("{} {} 小时", t.verdict("CORRECTED"), num(&hours)),
        _ => t.verdict("REJECTED").to_string(),
    };
    let body = html! {
        p.sub { (s(&who, "name")) " · " (s(&who, "volunteerNumber")) }
        p { b { (t.decision) "：" (verdict) } "。" (t.reason) "：" (get(f, "reason")) }
        (super::correction::effects(&desk, &x, true))
        form.grid method="post" action=(desk.href(&format!("/console/notices/{id}/resolve"))) {
            (crate::form::hidden(&desk.session))
            @for k in ["objection", "verdict", "hours", "reason"] {
                input type="hidden" name=(k) value=(get(f, k));
            }
            input type="hidden" name="confirmed" value="1";
            button.button.primary type="submit" { (c.confirm_upheld) }
            a href=(desk.href("/console/notices")) { (c.cancel) }
        }
    };
    desk.page(c.upheld_title, body)
}

/// Raises an objection for a resident who came to the desk.
pub async fn raise(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let query = "mutation($a: ID!, $v: ID!, $r: String!, $k: String!) { raiseObjection(activityId: $a, volunteerId: $v, reason: $r, idempotencyKey: $k) { position } }";
    let vars = json!({ "a": id, "v": get(&f, "volunteer"), "r": get(&f, "reason") });
    desk.submit(&f, query, vars, "raiseObjection", "/console/notices")
        .await
}

/// Makes the records whose notice has passed final now.
pub async fn finalise(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let query = "mutation($a: ID!, $k: String!) { finaliseAttendance(activityId: $a, idempotencyKey: $k) { position } }";
    desk.submit(
        &f,
        query,
        json!({ "a": id }),
        "finaliseAttendance",
        "/console/notices",
    )
    .await
}
