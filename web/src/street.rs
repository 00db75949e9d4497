//! The street office's desk (`/street`, 街道工作台; a street login, or an administrator
//! with `?street=`): its communities side by side for a period (this month, this year
//! or all time): a line per community with the total, the volunteers of all of them
//! ranked together, the teams ranked together, this month's 流动红旗 of each community
//! and the best stairwells across them; then the documents for the authorities (the
//! street's annual summary, the member list, hours per volunteer and the event log, as
//! Excel or CSV). Everything is read through the API as the signed-in person, so a
//! street office sees its own communities only, with phones and ID numbers masked.

use crate::gql::{self, i, items, s};
use crate::layout::{self, num, respond, star_marks, Kind, Shell};
use crate::session::Session;
use crate::{Signed, WebState};
use api::Role;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::HashMap;

const DESK: &str = "query($scope: String!, $period: String!, $month: String!) {
  orgTable(scope: $scope, period: $period) { name asOf position
    lines { communityId name volunteers activeVolunteers hours points services activities stars }
    total { name volunteers activeVolunteers hours points services activities stars } }
  byHours: orgRanking(scope: $scope, period: $period, metric: HOURS, first: 20) {
    rows { rank name volunteerNumber communityName hours points } }
  teams: orgTeams(scope: $scope, period: $period, metric: HOURS, first: 10) {
    rank teamName communityName volunteers hours points }
  orgStairwells(scope: $scope, month: $month, first: 10) {
    redFlags { communityName building unit total }
    best { rank communityName building unit total redFlag } } }";

/// The street to show: a street office's own; an administrator's choice (or the first).
async fn street_of(
    state: &WebState,
    session: &Session,
    q: &HashMap<String, String>,
) -> Result<(String, Vec<Value>), Response> {
    let m = state.m;
    let all = gql::run(state, session, "{ streets { streetId name } }", json!({}))
        .await
        .map(|d| items(&d["streets"]))
        .unwrap_or_default();
    let wanted = match session.principal.role() {
        Role::Street => session.principal.street().map(|s| s.0.to_string()),
        Role::Admin => q
            .get("street")
            .cloned()
            .or_else(|| all.first().map(|x| s(x, "streetId").to_string())),
        _ => return Err(layout::redirect("/", &[])),
    };
    match wanted {
        Some(w) => Ok((w, all)),
        None => Err(layout::error_page(
            m,
            StatusCode::NOT_FOUND,
            m.street.no_street,
            "/",
        )),
    }
}

fn stars(line: &Value) -> Markup {
    let counts = items(&line["stars"]);
    if counts.iter().all(|c| c.as_i64().unwrap_or(0) == 0) {
        return html! { span.sub { "—" } };
    }
    html! {
        @for (n, c) in counts.iter().enumerate() {
            @if c.as_i64().unwrap_or(0) > 0 {
                span.nowrap { (star_marks(n as i64 + 1)) "×" (c.as_i64().unwrap_or(0)) } " "
            }
        }
    }
}

/// `GET /street[?street=&period=]`.
pub async fn page(
    State(state): State<WebState>,
    Signed(session): Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let t = m.street;
    let (street, all) = match street_of(&state, &session, &q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = state.now().with_timezone(&layout::cst());
    let month = format!("{:04}-{:02}", now.year(), now.month());
    let year = format!("{:04}", now.year());
    let period = q.get("period").cloned().unwrap_or_else(|| year.clone());
    let vars = json!({ "scope": format!("STREET:{street}"), "period": period, "month": month });
    let d = match gql::run(&state, &session, DESK, vars).await {
        Ok(d) => d,
        Err(e) => {
            return layout::error_page(
                m,
                StatusCode::FORBIDDEN,
                crate::msg::error_text(&e.code),
                "/",
            )
        }
    };
    let table = &d["orgTable"];
    let href = |p: &str| {
        let mut u = format!("/street?period={p}");
        if session.principal.role() == Role::Admin {
            u.push_str(&format!("&street={street}"));
        }
        u
    };
    let periods = [
        (month.clone(), t.this_month),
        (year.clone(), t.this_year),
        ("ALL".to_string(), t.all_time),
    ];
    let export = |path: &str, query: &str| {
        html! {
            a.button.small href=(format!("/documents/{path}?streetId={street}{query}&format=xlsx")) { "Excel" } " "
            a.button.small href=(format!("/documents/{path}?streetId={street}{query}&format=csv")) { "CSV" }
        }
    };
    let span = format!("&from={year}-01-01&to={year}-12-31");
    let body = html! {
        nav.side aria-label=(t.title) {
            p.brand { (t.title) }
            a href="#communities" { (t.communities) }
            a href="#ranking" { (t.ranking) }
            a href="#stairwells" { (t.stairwells) }
            a href="#teams" { (t.teams) }
            a href="#documents" { (t.documents) }
            @if all.len() > 1 && session.principal.role() == Role::Admin {
                @for st in &all {
                    a href=(format!("/street?street={}", s(st, "streetId"))) { (s(st, "name")) }
                }
            }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(session.csrf());
                button.link type="submit" { (m.logout) }
            }
        }
        main.work {
            h1 { (s(table, "name")) " · " (t.title) }
            nav.filters {
                @for (p, label) in &periods {
                    @if *p == period { strong { (label) } } @else { a.button href=(href(p)) { (label) } }
                }
                span.sub { (t.as_of) " " (s(table, "asOf")) }
            }
            section #communities {
                h2 { (t.communities) }
                table {
                    thead { tr { th { (t.community) } th.num { (t.volunteers) } th.num { (t.active) } th.num { (m.hours) } th.num { (m.points) } th.num { (t.services) } th.num { (t.activities) } th { (m.stars) } } }
                    tbody {
                        @for l in items(&table["lines"]) {
                            tr { td { (s(&l, "name")) } td.num { (i(&l, "volunteers")) } td.num { (i(&l, "activeVolunteers")) }
                                 td.num { (num(s(&l, "hours"))) } td.num { (num(s(&l, "points"))) } td.num { (i(&l, "services")) }
                                 td.num { (i(&l, "activities")) } td { (stars(&l)) } }
                        }
                        @let tot = &table["total"];
                        tr.total { td { b { (t.total) } } td.num { b { (i(tot, "volunteers")) } } td.num { b { (i(tot, "activeVolunteers")) } }
                             td.num { b { (num(s(tot, "hours"))) } } td.num { b { (num(s(tot, "points"))) } } td.num { b { (i(tot, "services")) } }
                             td.num { b { (i(tot, "activities")) } } td { (stars(tot)) } }
                    }
                }
            }
            div.columns {
                section #ranking {
                    h2 { (t.ranking) }
                    table {
                        thead { tr { th.num { (t.rank) } th { (m.name) } th { (t.community) } th.num { (m.hours) } th.num { (m.points) } } }
                        tbody { @for r in items(&d["byHours"]["rows"]) {
                            tr { td.num { (i(&r, "rank")) } td { (s(&r, "name")) " " span.sub { (s(&r, "volunteerNumber")) } }
                                 td { (s(&r, "communityName")) } td.num { (num(s(&r, "hours"))) } td.num { (num(s(&r, "points"))) } }
                        } }
                    }
                }
                section #stairwells {
                    h2 { (t.stairwells) " · " (month) }
                    @let flags = items(&d["orgStairwells"]["redFlags"]);
                    @if flags.is_empty() { p.sub { (t.no_inspections) } }
                    ul.plain { @for f in &flags {
                        li { (layout::flag_icon()) " " (s(f, "communityName")) "：" (s(f, "building")) " " (s(f, "unit")) " " (num(s(f, "total"))) " 分" }
                    } }
                    h3 { (t.best_stairwells) }
                    table { tbody { @for b in items(&d["orgStairwells"]["best"]) {
                        tr { td.num { (i(&b, "rank")) } td { (s(&b, "communityName")) } td { (s(&b, "building")) " " (s(&b, "unit")) } td.num { (num(s(&b, "total"))) } }
                    } } }
                    h2 #teams { (t.teams) }
                    table {
                        thead { tr { th.num { (t.rank) } th { (t.team) } th { (t.community) } th.num { (t.volunteers) } th.num { (m.hours) } } }
                        tbody { @for r in items(&d["teams"]) {
                            tr { td.num { (i(&r, "rank")) } td { (s(&r, "teamName")) } td { (s(&r, "communityName")) }
                                 td.num { (i(&r, "volunteers")) } td.num { (num(s(&r, "hours"))) } }
                        } }
                    }
                }
            }
            section.box #documents {
                h2 { (t.documents) }
                p.sub { (t.documents_hint) }
                p { (t.annual) " (" (year) ")：" (export("street-annual-report", &format!("&year={year}"))) }
                p { (t.members) "：" (export("export/members", "")) }
                p { (t.hours_sheet) " (" (year) ")：" (export("export/hours", &span)) }
                p { (t.event_log) " (" (year) ")：" (export("export/event-log", &span)) }
            }
        }
    };
    let shell = Shell {
        m,
        title: t.title,
        kind: Kind::Console,
        elder: false,
        script: None,
        refresh: None,
    };
    respond(StatusCode::OK, layout::page(&shell, body))
}
