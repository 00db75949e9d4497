//! `/console`: today's work at a glance — activities today and coming, attendance to
//! approve, open objections, wishes to confirm, stairwells not yet inspected this
//! month — each tile a link to where the work is done.

use super::{items, stairwell_name, Desk};
use crate::gql::{self, i, s};
use crate::layout::{self, clock, parse_time, when};
use axum::response::Response;
use chrono::{Datelike, Duration};
use maud::html;
use serde_json::{json, Value};

const TODAY: &str = "query($c: ID!, $from: DateTime, $to: DateTime, $month: String!, $at: Int) {
  dashboard(communityId: $c, atLeast: $at) { activeVolunteers openWishes wishesInProgress }
  activities(communityId: $c, from: $from, to: $to, first: 200) { id title place startsAt endsAt places taken checkedIn pending status objections { open } }
  wishes(communityId: $c, status: FULFILLED, first: 20) { wishes { id description claimerName } }
  community(id: $c) { name stairwells { id building unit } inspectedStairwells(month: $month) } }";

/// `/console`.
pub async fn today(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let now = desk.state.now();
    let local = now.with_timezone(&layout::cst());
    let month = format!("{:04}-{:02}", local.year(), local.month());
    let vars = json!({ "c": desk.c, "from": (now - Duration::days(30)).to_rfc3339(),
        "to": (now + Duration::days(30)).to_rfc3339(), "month": month, "at": gql::at_least(&desk.q) });
    let d = match desk.read(TODAY, vars).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let acts = items(&d["activities"]);
    let ended = |a: &Value| parse_time(s(a, "endsAt")).is_some_and(|t| t < now);
    let is_today = |a: &Value| {
        parse_time(s(a, "startsAt"))
            .is_some_and(|t| t.with_timezone(&layout::cst()).date_naive() == local.date_naive())
    };
    let today: Vec<&Value> = acts
        .iter()
        .filter(|a| is_today(a) && s(a, "status") != "CANCELLED")
        .collect();
    let to_approve: Vec<&Value> = acts
        .iter()
        .filter(|a| s(a, "status") == "OPEN" && ended(a))
        .collect();
    let coming: Vec<&Value> = acts
        .iter()
        .filter(|a| !ended(a) && !is_today(a) && s(a, "status") == "OPEN")
        .take(8)
        .collect();
    let objections: usize = acts
        .iter()
        .map(|a| {
            items(&a["objections"])
                .iter()
                .filter(|x| x["open"] == true)
                .count()
        })
        .sum();
    let fulfilled = items(&d["wishes"]["wishes"]);
    let inspected: Vec<String> = items(&d["community"]["inspectedStairwells"])
        .iter()
        .filter_map(|x| x.as_str().map(String::from))
        .collect();
    let due: Vec<Value> = items(&d["community"]["stairwells"])
        .into_iter()
        .filter(|sw| !inspected.iter().any(|i| i == s(sw, "id")))
        .collect();
    let tile = |label: &str, n: usize, href: String| {
        html! { a.tile href=(href) { span.label { (label) } span.big { (n) } } }
    };
    let body = html! {
        p.sub { (s(&d["community"], "name")) " · " (layout::date(now)) " · " (t.active_volunteers) " " (i(&d["dashboard"], "activeVolunteers")) }
        section.tiles.five {
            (tile(t.activities_today, today.len(), desk.href("/console/activities")))
            (tile(m.to_approve, to_approve.len(), desk.href("/console/activities")))
            (tile(m.open_objections, objections, desk.href("/console/notices")))
            (tile(m.wishes_to_confirm, fulfilled.len(), desk.href_with("/console/wishes", &[("status", "FULFILLED")])))
            (tile(t.inspections_due, due.len(), desk.href("/console/stairwells")))
        }
        div.columns {
            section {
                h2 { (t.activities_today) }
                @if today.is_empty() { p.sub { (m.nothing_today) } }
                (activity_rows(&desk, &today))
                @if !to_approve.is_empty() {
                    h2 { (m.to_approve) }
                    (activity_rows(&desk, &to_approve))
                }
                h2 { (t.coming) }
                @if coming.is_empty() { p.sub { (m.no_activities) } }
                (activity_rows(&desk, &coming))
                p { a.button.primary href=(desk.href("/console/activities/new")) { (m.post_activity) } }
            }
            section {
                h2 { (m.wishes_to_confirm) }
                @if fulfilled.is_empty() { p.sub { (t.none) } }
                ul.plain {
                    @for w in &fulfilled {
                        li { a href=(desk.href_with("/console/wishes", &[("status", "FULFILLED")])) { (s(w, "description")) } " · " (s(w, "claimerName")) }
                    }
                }
                h2 { (t.inspections_due) " (" (month) ")" }
                @if due.is_empty() { p.sub { (t.all_inspected) } }
                ul.plain {
                    @for sw in due.iter().take(12) {
                        li { a href=(desk.href_with("/console/stairwells/inspect", &[("s", s(sw, "id")), ("month", &month)])) { (stairwell_name(sw)) } }
                    }
                }
            }
        }
    };
    desk.page(m.today_work, body)
}

/// Rows of activities, each a link to its page, with its counts.
pub fn activity_rows(desk: &Desk, list: &[&Value]) -> maud::Markup {
    let m = desk.m();
    let now = desk.state.now();
    let started = |a: &Value| parse_time(s(a, "startsAt")).is_some_and(|t| t <= now);
    let ended = |a: &Value| parse_time(s(a, "endsAt")).is_some_and(|t| t < now);
    html! {
        @if !list.is_empty() {
            table {
                thead { tr { th { (m.title) } th { (m.starts) } th { (m.place) } th.num { (m.places) } th.num { (m.arrived) } th { (m.status) } } }
                tbody {
                    @for a in list {
                        tr {
                            td { a href=(desk.href(&format!("/console/activities/{}", s(a, "id")))) { (s(a, "title")) } }
                            td { (parse_time(s(a, "startsAt")).map(when).unwrap_or_default()) "–" (parse_time(s(a, "endsAt")).map(clock).unwrap_or_default()) }
                            td { (s(a, "place")) }
                            td.num { (i(a, "taken")) " / " (i(a, "places")) }
                            td.num { (i(a, "checkedIn")) }
                            td { (m.console.activity_now(s(a, "status"), started(a), ended(a))) }
                        }
                    }
                }
            }
        }
    }
}
