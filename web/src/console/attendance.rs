//! One activity at the desk: its roster (places in sign-up order, the waiting list,
//! check-in and check-out, who was checked in by staff), staff check-in for someone
//! without a phone, the approval of the attendance in one go with per-row corrections
//! (times changed or the row left out, each with its reason), 补录 after the approval,
//! and the records through their 公示 notice.

use super::activities::{change_forms, get, local, local_value};
use super::{field, items, Desk};
use crate::gql::{i, s};
use crate::layout::{clock, num, parse_time, when};
use crate::Form;
use axum::extract::Path;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

const ACTIVITY: &str = "query($a: ID!, $c: ID!, $at: Int) {
  community(id: $c) { activityRules { checkinOpensMinutes } }
  activity(id: $a, atLeast: $at) {
  id title kind place startsAt endsAt places taken waiting checkedIn pending status noticeUntil walkIns
  roster { volunteerId name signup waitingRank checkedInAt checkedOutAt checkedInByStaff checkoutMissing
    hours points record recordFrom recordUntil excluded adjusted source }
  objections { id volunteerId reason open decision resolution } } }";

/// `/console/activities/{id}`.
pub async fn activity(desk: Desk, Path(id): Path<String>) -> Response {
    let m = desk.m();
    let t = &m.console;
    let vars = json!({ "a": id, "c": desk.c, "at": crate::gql::at_least(&desk.q) });
    let (a, opens) = match desk.read(ACTIVITY, vars).await {
        Ok(d) => {
            let opens = i(&d["community"]["activityRules"], "checkinOpensMinutes");
            (d["activity"].clone(), chrono::Duration::minutes(opens))
        }
        Err(r) => return r,
    };
    let now = desk.state.now();
    let started = parse_time(s(&a, "startsAt")).is_some_and(|x| x <= now);
    let check_in_open = parse_time(s(&a, "startsAt")).is_some_and(|x| x - opens <= now);
    let ended = parse_time(s(&a, "endsAt")).is_some_and(|x| x < now);
    let open = s(&a, "status") == "OPEN";
    let roster = items(&a["roster"]);
    let body = html! {
        p { (t.kind(s(&a, "kind"))) " · " (parse_time(s(&a, "startsAt")).map(when).unwrap_or_default()) "–"
            (parse_time(s(&a, "endsAt")).map(clock).unwrap_or_default()) " · " (s(&a, "place")) " · " (t.activity_now(s(&a, "status"), started, ended)) }
        p { (m.signed) " " b { (i(&a, "taken")) } " / " (i(&a, "places")) " · " (t.waiting_count) " " (i(&a, "waiting")) " · "
            (m.arrived) " " b { (i(&a, "checkedIn")) } " · " (m.pending) " " (i(&a, "pending")) }
        @if let Some(u) = parse_time(s(&a, "noticeUntil")) { p.pending { (t.notice_until) " " (when(u)) } }
        @if open && !ended {
            p { a.button.primary href=(desk.href(&format!("/console/activities/{id}/code"))) { (m.show_code) } }
        }
        @if open && ended {
            (approval(&desk, &id, &roster))
        } @else {
            (roster_table(&desk, &id, &roster, open && !ended && check_in_open))
        }
        @if s(&a, "status") == "APPROVED" { (late_form(&desk, &id, &roster)) }
        @if open && !started { (change_forms(&desk, &a)) }
        @let objections = items(&a["objections"]);
        @if !objections.is_empty() {
            h2 { (m.open_objections) }
            p { a href=(desk.href("/console/notices")) { (t.notices) } }
        }
    };
    desk.page(s(&a, "title"), body)
}

fn signup_text(desk: &Desk, p: &Value, approved: bool) -> String {
    let m = desk.m();
    match s(p, "signup") {
        "PLACE" if approved && s(p, "record").is_empty() => m.console.absent.to_string(),
        "PLACE" => m.signed_up.to_string(),
        "WAITING" => format!("{}{}位", m.waiting, i(p, "waitingRank")),
        _ => "—".to_string(),
    }
}

fn record_text(desk: &Desk, p: &Value) -> String {
    let t = &desk.m().console;
    match s(p, "record") {
        "EXCLUDED" => format!("{}：{}", t.excluded, s(p, "excluded")),
        "PENDING" => t.record_pending.to_string(),
        "FINAL" => t.record_final.to_string(),
        "REJECTED" => t.record_rejected.to_string(),
        _ => String::new(),
    }
}

/// The roster, with a staff check-in for each volunteer signed up and not yet in.
fn roster_table(desk: &Desk, id: &str, roster: &[Value], checking_in: bool) -> Markup {
    let m = desk.m();
    let approved = roster.iter().any(|p| !s(p, "record").is_empty());
    let t = &m.console;
    html! {
        h2 { (m.roster) " (" (roster.len()) ")" }
        table {
            thead { tr { th { "#" } th { (m.name) } th { (m.status) } th { (t.check_in_at) } th { (t.check_out_at) } th.num { (m.hours) } th.num { (m.points) } th { (t.record) } th {} } }
            tbody {
                @for (n, p) in roster.iter().enumerate() {
                    tr {
                        td.num { (n + 1) }
                        td { (s(p, "name")) }
                        td { (signup_text(desk, p, approved)) }
                        td { (parse_time(s(p, "checkedInAt")).map(clock).unwrap_or_default()) @if p["checkedInByStaff"] == true { (t.by_staff) } }
                        td { (parse_time(s(p, "checkedOutAt")).map(clock).unwrap_or_default()) @if p["checkoutMissing"] == true { (t.checkout_missing) } }
                        td.num { (num(s(p, "hours"))) }
                        td.num { (num(s(p, "points"))) }
                        td { (record_text(desk, p)) }
                        td {
                            @if checking_in && s(p, "signup") == "PLACE" && !p["checkedInAt"].is_string() {
                                (staff_button(desk, id, p, "in", t.check_in_for))
                            }
                            @if checking_in && p["checkedInAt"].is_string() && !p["checkedOutAt"].is_string() {
                                (staff_button(desk, id, p, "out", t.check_out_for))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The approval form: every checked-in volunteer counted unless unticked; times that
/// differ from the check-in and check-out are adjustments; each change with its reason.
fn approval(desk: &Desk, id: &str, roster: &[Value]) -> Markup {
    let m = desk.m();
    let t = &m.console;
    let present: Vec<&Value> = roster
        .iter()
        .filter(|p| p["checkedInAt"].is_string())
        .collect();
    let absent: Vec<&Value> = roster
        .iter()
        .filter(|p| s(p, "signup") == "PLACE" && !p["checkedInAt"].is_string())
        .collect();
    html! {
        h2 { (t.approval) }
        p.sub { (t.approval_hint) }
        form method="post" action=(desk.href(&format!("/console/activities/{id}/approve"))) {
            (crate::form::hidden(&desk.session))
            table.approval {
                thead { tr { th { (t.count_it) } th { (m.name) } th { (t.check_in_at) } th { (t.check_out_at) } th { (t.reason) } } }
                tbody {
                    @for p in &present {
                        @let v = s(p, "volunteerId");
                        @let until = if p["checkedOutAt"].is_string() { s(p, "checkedOutAt") } else { "" };
                        tr {
                            td { input type="checkbox" name=(format!("in_{v}")) value="1" checked aria-label=(t.count_it); }
                            td { (s(p, "name")) @if p["checkedInByStaff"] == true { (t.by_staff) } }
                            td { input type="datetime-local" name=(format!("from_{v}")) value=(local_value(s(p, "checkedInAt"))); }
                            td { input type="datetime-local" name=(format!("until_{v}")) value=(local_value(until));
                                 @if until.is_empty() { br; span.sub { (t.checkout_missing) } } }
                            td { input name=(format!("why_{v}")) maxlength="200" placeholder=(t.reason_if_changed); }
                        }
                    }
                }
            }
            p.totals {
                (m.arrived) " " (present.len()) " · " (t.absent) " " (absent.len())
                @if !absent.is_empty() {
                    "（" (absent.iter().map(|p| s(p, "name")).collect::<Vec<_>>().join("、")) "）"
                }
            }
            button.button.primary type="submit" { (m.approve) }
        }
    }
}

/// Approves the attendance as the form says.
pub async fn approve(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let t = &desk.m().console;
    let a = match desk.read(ACTIVITY, json!({ "a": id, "c": desk.c })).await {
        Ok(d) => d["activity"].clone(),
        Err(r) => return r,
    };
    let mut adjustments = Vec::new();
    let mut exclusions = Vec::new();
    for p in items(&a["roster"])
        .iter()
        .filter(|p| p["checkedInAt"].is_string())
    {
        let v = s(p, "volunteerId");
        let why = get(&f, &format!("why_{v}"));
        if get(&f, &format!("in_{v}")) != "1" {
            let reason = if why.is_empty() {
                t.left_out.to_string()
            } else {
                why
            };
            exclusions.push(json!({ "volunteerId": v, "reason": reason }));
            continue;
        }
        let from = get(&f, &format!("from_{v}"));
        let until = get(&f, &format!("until_{v}"));
        let was_until = if p["checkedOutAt"].is_string() {
            local_value(s(p, "checkedOutAt"))
        } else {
            String::new()
        };
        let moved_in = !from.is_empty() && from != local_value(s(p, "checkedInAt"));
        let moved_out = !until.is_empty() && until != was_until;
        if moved_in || moved_out {
            let reason = if why.is_empty() {
                t.checked_by_staff.to_string()
            } else {
                why
            };
            adjustments.push(json!({ "volunteerId": v, "reason": reason,
                "checkedInAt": if moved_in { local(&from) } else { None },
                "checkedOutAt": if moved_out { local(&until) } else { None } }));
        }
    }
    let query = "mutation($a: ID!, $k: String!, $adj: [AdjustmentInput!]!, $ex: [ExclusionInput!]!) {
      approveAttendance(activityId: $a, idempotencyKey: $k, adjustments: $adj, exclusions: $ex) { position } }";
    let vars = json!({ "a": id, "adj": adjustments, "ex": exclusions });
    desk.submit(
        &f,
        query,
        vars,
        "approveAttendance",
        &format!("/console/activities/{id}"),
    )
    .await
}

/// A staff check-in or check-out button of a roster row.
fn staff_button(desk: &Desk, id: &str, p: &Value, what: &str, label: &str) -> Markup {
    html! {
        form method="post" action=(desk.href(&format!("/console/activities/{id}/checkin"))) {
            (crate::form::hidden(&desk.session))
            input type="hidden" name="volunteer" value=(s(p, "volunteerId"));
            input type="hidden" name="do" value=(what);
            button.button.small type="submit" { (label) }
        }
    }
}

/// Staff check in (代签到) or out (代签退) a volunteer who has no phone.
pub async fn check_in(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let (query, field) = if get(&f, "do") == "out" {
        ("mutation($a: ID!, $v: ID!, $k: String!) { checkOut(activityId: $a, volunteerId: $v, idempotencyKey: $k) { position } }", "checkOut")
    } else {
        ("mutation($a: ID!, $v: ID!, $k: String!) { checkIn(activityId: $a, volunteerId: $v, idempotencyKey: $k) { position } }", "checkIn")
    };
    let vars = json!({ "a": id, "v": get(&f, "volunteer") });
    desk.submit(&f, query, vars, field, &format!("/console/activities/{id}"))
        .await
}

/// 补录: the form, for a volunteer signed up who did not check in, or any by number.
fn late_form(desk: &Desk, id: &str, roster: &[Value]) -> Markup {
    let m = desk.m();
    let t = &m.console;
    let missing: Vec<&Value> = roster
        .iter()
        .filter(|p| s(p, "record").is_empty() && s(p, "excluded").is_empty())
        .collect();
    html! {
        details.box {
            summary { (t.late_record) }
            p.sub { (t.late_hint) }
            form.grid method="post" action=(desk.href(&format!("/console/activities/{id}/late"))) {
                (crate::form::hidden(&desk.session))
                (field(m.name, "l-v", html! {
                    select id="l-v" name="volunteer" {
                        option value="" { (t.by_number_below) }
                        @for p in &missing { option value=(s(p, "volunteerId")) { (s(p, "name")) } }
                    }
                }))
                (field(m.number, "l-n", html! { input id="l-n" name="number" placeholder="TB-000123"; }))
                (field(m.hours, "l-h", html! { input id="l-h" name="hours" inputmode="decimal" required placeholder="1.5"; }))
                (field(t.reason, "l-r", html! { input id="l-r" name="reason" required maxlength="200"; }))
                button.button type="submit" { (t.late_record) }
            }
        }
    }
}

/// The id of the volunteer numbered `number` (TB-000123) in the desk's community.
pub async fn volunteer_by_number(desk: &Desk, number: &str) -> Option<String> {
    let query = "query($c: ID!, $q: String) { volunteers(communityId: $c, search: $q, first: 5) { volunteers { id volunteerNumber } } }";
    let d = desk
        .read(query, json!({ "c": desk.c, "q": number }))
        .await
        .ok()?;
    items(&d["volunteers"]["volunteers"])
        .into_iter()
        .find(|v| s(v, "volunteerNumber").eq_ignore_ascii_case(number.trim()))
        .map(|v| s(&v, "id").to_string())
}

/// Records the 补录.
pub async fn late(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let back = format!("/console/activities/{id}");
    let mut v = get(&f, "volunteer");
    if v.is_empty() {
        match volunteer_by_number(&desk, &get(&f, "number")).await {
            Some(found) => v = found,
            None => {
                return crate::layout::redirect(
                    &desk.href_with(&back, &[("err", "NOT_FOUND")]),
                    &[],
                )
            }
        }
    }
    let query = "mutation($a: ID!, $v: ID!, $h: Hours!, $r: String!, $k: String!) { recordLateAttendance(activityId: $a, volunteerId: $v, hours: $h, reason: $r, idempotencyKey: $k) { position } }";
    let vars = json!({ "a": id, "v": v, "h": get(&f, "hours"), "r": get(&f, "reason") });
    desk.submit(&f, query, vars, "recordLateAttendance", &back)
        .await
}
