//! Setting a community up (`/console/setup`): for an admin, the communities and a new
//! one; in a community, its grids (网格), stairwells (楼道) and teams (服务队), added by
//! staff; and its rules — point rules, star thresholds, activity rules and the 文明楼道
//! rubric — shown to staff and set by admins as new versions from a date.

use super::activities::{get, KINDS};
use super::{items, select, shell, stairwell_name, Desk};
use crate::gql::{self, i, s};
use crate::layout::{self, num, respond};
use crate::session::Session;
use crate::{Form, WebState};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

/// The page an admin sees before choosing a community: every community, and a form to
/// establish one.
pub async fn choose_community(state: &WebState, session: &Session) -> Response {
    let m = state.m;
    let t = &m.console;
    let list = gql::run(
        state,
        session,
        "query { communities { id name } }",
        json!({}),
    )
    .await
    .map(|d| items(&d["communities"]))
    .unwrap_or_default();
    let body = html! {
        main.narrow {
            h1 { (m.console_title) }
            h2 { (t.communities) }
            @if list.is_empty() { p.sub { (t.no_community_yet) } }
            ul.plain { @for c in &list { li { a.button href=(format!("/console?c={}", s(c, "id"))) { (s(c, "name")) } } } }
            h2 { (t.establish) }
            form method="post" action="/console/communities" {
                (crate::form::hidden(session))
                label for="name" { (t.community_name) }
                " " input id="name" name="name" required maxlength="50" placeholder="海棠社区";
                " " button.button.primary type="submit" { (t.establish) }
            }
        }
    };
    respond(
        StatusCode::OK,
        layout::page(&shell(m, m.console_title), body),
    )
}

/// Establishes a community (admins); then to its console.
pub async fn establish(
    axum::extract::State(state): axum::extract::State<WebState>,
    crate::Signed(session): crate::Signed,
    axum::Form(f): Form,
) -> Response {
    if let Some(r) = crate::form::refused(&state, &session, &f, "/console") {
        return r;
    }
    let q = "mutation($n: String!, $k: String!) { establishCommunity(name: $n, idempotencyKey: $k) { communityId position } }";
    let vars = json!({ "n": get(&f, "name"), "k": crate::form::key(&f) });
    match gql::run(&state, &session, q, vars).await {
        Ok(d) => {
            let c = &d["establishCommunity"];
            layout::redirect(
                &format!(
                    "/console/setup?c={}&ok=1&at={}",
                    s(c, "communityId"),
                    i(c, "position")
                ),
                &[],
            )
        }
        Err(e) => layout::redirect(&format!("/console?err={}", e.code), &[]),
    }
}

const SETUP: &str = "query($c: ID!) { community(id: $c) { name
  grids { id name parentId } stairwells { id gridId building unit households } teams { id name }
  pointRules { version pointsPerHour maxHoursPerRecord effectiveFrom coefficients { kind value } }
  starThresholds { version thresholds effectiveFrom points }
  activityRules { version timeUnitMinutes lateRecordDays noticeDays checkinOpensMinutes codePeriodSeconds effectiveFrom }
  hoursRules { version giftsToRelativesOnly effectiveFrom storedHoursCap }
  pointsExpiry { version validMonths rounding effectiveFrom }
  rubric { version items { key name max } participationMax effectiveFrom } } }";

/// `/console/setup`.
pub async fn page(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let c = match desk.read(SETUP, json!({ "c": desk.c })).await {
        Ok(d) => d["community"].clone(),
        Err(r) => return r,
    };
    let grids: Vec<(String, String)> = items(&c["grids"])
        .iter()
        .map(|g| (s(g, "id").to_string(), s(g, "name").to_string()))
        .collect();
    let grid_name = |id: &str| {
        grids
            .iter()
            .find(|g| g.0 == id)
            .map(|g| g.1.clone())
            .unwrap_or_default()
    };
    let body = html! {
        p.sub { (s(&c, "name")) }
        div.columns {
            section {
                h2 { (t.grids) }
                ul.plain { @for g in &grids { li { (g.1) } } }
                form.inline method="post" action=(desk.href("/console/setup/grid")) {
                    (crate::form::hidden(&desk.session))
                    input name="name" required maxlength="50" placeholder=(t.grid_name) aria-label=(t.grid_name);
                    button.button.small type="submit" { (t.add) }
                }
                h2 { (t.stairwells) " (" (items(&c["stairwells"]).len()) ")" }
                table { tbody { @for sw in items(&c["stairwells"]) {
                    tr { td { (stairwell_name(&sw)) } td { (grid_name(s(&sw, "gridId"))) } td.num { (i(&sw, "households")) " " (t.households) } }
                } } }
                form.inline method="post" action=(desk.href("/console/setup/stairwell")) {
                    (crate::form::hidden(&desk.session))
                    @if !grids.is_empty() { (select("grid", &grids, "")) }
                    input name="building" required maxlength="20" size="6" placeholder="3号楼" aria-label=(t.building);
                    input name="unit" required maxlength="20" size="6" placeholder="2单元" aria-label=(t.unit);
                    input name="households" type="number" min="1" max="999" value="24" aria-label=(t.households);
                    button.button.small type="submit" { (t.add) }
                }
                h2 { (t.teams) }
                ul.plain { @for team in items(&c["teams"]) { li { (s(&team, "name")) } } }
                form.inline method="post" action=(desk.href("/console/setup/team")) {
                    (crate::form::hidden(&desk.session))
                    input name="name" required maxlength="50" placeholder=(t.team_name) aria-label=(t.team_name);
                    button.button.small type="submit" { (t.add) }
                }
            }
            section {
                h2 { (t.rules) }
                @if !desk.is_admin() { p.sub { (t.rules_admin_only) } }
                (super::rules::forms(&desk, &c))
            }
        }
    };
    desk.page(t.setup, body)
}

/// Adds a grid.
pub async fn grid(desk: Desk, axum::Form(f): Form) -> Response {
    let q = "mutation($c: ID!, $n: String!, $k: String!) { addGrid(communityId: $c, name: $n, idempotencyKey: $k) { position } }";
    desk.submit(
        &f,
        q,
        json!({ "c": desk.c, "n": get(&f, "name") }),
        "addGrid",
        "/console/setup",
    )
    .await
}

/// Registers a stairwell.
pub async fn stairwell(desk: Desk, axum::Form(f): Form) -> Response {
    let g = get(&f, "grid");
    let q = "mutation($c: ID!, $g: ID, $b: String!, $u: String!, $h: Int!, $k: String!) {
      registerStairwell(communityId: $c, gridId: $g, building: $b, unit: $u, households: $h, idempotencyKey: $k) { position } }";
    let vars = json!({ "c": desk.c, "g": (!g.is_empty()).then_some(g), "b": get(&f, "building"), "u": get(&f, "unit"),
        "h": get(&f, "households").parse::<i64>().unwrap_or(0) });
    desk.submit(&f, q, vars, "registerStairwell", "/console/setup")
        .await
}

/// Forms a team.
pub async fn team(desk: Desk, axum::Form(f): Form) -> Response {
    let q = "mutation($c: ID!, $n: String!, $k: String!) { formTeam(communityId: $c, name: $n, idempotencyKey: $k) { position } }";
    desk.submit(
        &f,
        q,
        json!({ "c": desk.c, "n": get(&f, "name") }),
        "formTeam",
        "/console/setup",
    )
    .await
}

/// The kinds of service with a point coefficient.
pub fn coefficient_kinds() -> Vec<&'static str> {
    let mut k: Vec<&str> = KINDS.to_vec();
    k.insert(3, "WISH");
    k
}

/// A rule's value shown to staff (who cannot change it).
pub fn shown(label: &str, value: impl Into<String>) -> Markup {
    html! { p { span.sub { (label) } " " b { (value.into()) } } }
}

/// A decimal of a form field ("" when blank), as the API takes it.
pub fn decimal(v: &Value) -> String {
    num(v.as_str().unwrap_or(""))
}
