//! The staff console (`/console`, 1366×768 and up), one module per part of the desk:
//!
//! - this file: [`Desk`] (who is at the desk, for which community), the frame with its
//!   menu, and today's work at a glance (`/console`);
//! - [`activities`]: the month's activities, posting, changing and cancelling one, the
//!   organiser's check-in code; [`attendance`]: one activity's roster, staff check-in,
//!   approval with per-row corrections, 补录;
//! - [`notices`]: 公示 and objections;
//! - [`volunteers`]: the list (search, sort, pages, totals, award to those ticked),
//!   registration; [`import`]: a roster (导入花名册) or a history of services (导入历史
//!   记录) uploaded, checked, then registered or recorded; [`batch`]: a history
//!   import's batch, and its reversal as one with what it would change shown first;
//!   [`volunteer`]: one volunteer's page (correct, tags, move, teams,
//!   depart, points, login link, certificate); [`family`]: relatives and hours spent;
//!   [`record`]: training, commendations and evaluations of services (服务档案);
//!   [`correction`]: a reversal (冲正), with what it would change shown first;
//! - [`points`]: points to one volunteer or to many at once, redemptions;
//! - [`shop`]: the points shop (积分超市): codes handed over, the catalogue, stock, the
//!   month's sheet;
//! - [`wishes`]: the wish board;
//! - [`stairwells`]: the monthly inspection by the rubric, scores, the red flag, issues;
//! - [`reports`]: the annual report and the certificates issued;
//! - [`setup`]: communities, grids, stairwells, teams; [`rules`]: the rules, versioned
//!   (set by admins); [`whatif`]: proposed rules tried on the log, writing nothing,
//!   and [`whatif_rubric`]: a proposed 文明楼道 rubric tried on a year's inspections;
//! - [`sessions`]: login links and the live sessions, revoked by staff.
//!
//! Every page reads and writes through GraphQL as the signed-in person
//! ([`crate::gql::run`]): the console shows and does what the API lets them. The imports
//! alone run the `import` crate on the command handler, as that person: each row is a
//! command the command layer authorizes as it does the API's.

pub mod activities;
pub mod attendance;
pub mod batch;
pub mod correction;
pub mod family;
pub mod import;
pub mod notices;
pub mod points;
pub mod record;
pub mod reports;
pub mod rules;
pub mod sessions;
pub mod setup;
pub mod shop;
pub mod stairwells;
pub mod transfer;
pub mod volunteer;
pub mod volunteers;
pub mod whatif;
pub mod whatif_rubric;
pub mod wishes;

mod today;
pub use today::today;

use crate::gql::{self, s};
use crate::layout::{self, page, respond, Kind, Shell};
use crate::msg::{error_text, Messages};
use crate::session::Session;
use crate::{form, Signed, WebState};
use api::Role;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// Who is at the desk, for which community (a staff member's own; an admin's `?c=`),
/// and the page's query.
pub struct Desk {
    pub state: WebState,
    pub session: Session,
    /// The community's id.
    pub c: String,
    pub q: HashMap<String, String>,
}

impl FromRequestParts<WebState> for Desk {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Desk, Response> {
        let Signed(session) = Signed::from_request_parts(parts, state).await?;
        let q: HashMap<String, String> = parts
            .uri
            .query()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        let c = match session.principal.role() {
            Role::Staff => session.principal.community().map(|c| c.0.to_string()),
            Role::Admin => q.get("c").filter(|c| Uuid::parse_str(c).is_ok()).cloned(),
            _ => {
                let m = state.m;
                return Err(layout::error_page(
                    m,
                    StatusCode::FORBIDDEN,
                    m.forbidden,
                    "/",
                ));
            }
        };
        match c {
            Some(c) => Ok(Desk {
                state: state.clone(),
                session,
                c,
                q,
            }),
            None => Err(setup::choose_community(state, &session).await),
        }
    }
}

impl Desk {
    pub fn m(&self) -> &'static Messages {
        self.state.m
    }

    pub fn is_admin(&self) -> bool {
        self.session.principal.role() == Role::Admin
    }

    /// `path` within this community (`?c=` carried for admins).
    pub fn href(&self, path: &str) -> String {
        self.href_with(path, &[])
    }

    /// `path` within this community, with more query parameters.
    pub fn href_with(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut all = vec![("c", self.c.as_str())];
        all.extend_from_slice(params);
        let query = serde_urlencoded::to_string(&all).unwrap_or_default();
        format!("{path}?{query}")
    }

    /// A query parameter of the page ("" when absent).
    pub fn param(&self, k: &str) -> &str {
        self.q.get(k).map(String::as_str).unwrap_or("")
    }

    /// Runs a read as the person at the desk.
    pub async fn read(&self, query: &str, vars: Value) -> Result<Value, Response> {
        gql::run(&self.state, &self.session, query, vars)
            .await
            .map_err(|e| self.failed(&e.code))
    }

    /// The page that says a read was refused or failed.
    pub fn failed(&self, code: &str) -> Response {
        let m = self.m();
        let back = self.href("/console");
        layout::error_page_coded(m, StatusCode::OK, error_text(code), Some(code), &back)
    }

    /// Runs the command of a posted form; then to `back` (a page of this community,
    /// with or without a query) with `ok=1` and the position written, or with the
    /// error's code.
    pub async fn submit(
        &self,
        f: &HashMap<String, String>,
        query: &str,
        vars: Value,
        field: &str,
        back: &str,
    ) -> Response {
        let to = match back.split_once('?') {
            Some((path, query)) => format!("{}&{query}", self.href(path)),
            None => self.href(back),
        };
        let ok = format!("{to}&ok={field}");
        form::submit(&self.state, &self.session, f, query, vars, field, &ok, &to).await
    }

    /// A console page: the menu, the title, what the last action said, the body.
    pub fn page(&self, title: &str, body: Markup) -> Response {
        let m = self.m();
        let t = &m.console;
        let nav: [(&str, &str); 11] = [
            ("/console", m.today_work),
            ("/console/volunteers", m.volunteers),
            ("/console/activities", m.activities),
            ("/console/notices", t.notices),
            ("/console/wishes", m.wishes),
            ("/console/points", t.points),
            ("/console/shop", m.shop.title),
            ("/console/stairwells", t.stairwells),
            ("/console/reports", t.reports),
            ("/console/setup", t.setup),
            ("/console/sessions", t.sessions),
        ];
        let html = html! {
            nav.side aria-label=(m.console_title) {
                p.brand { (m.console_title) }
                @for (path, label) in nav {
                    a href=(self.href(path)) { (label) }
                }
                a href=(self.href("/hall")) { (m.hall_title) }
                form method="post" action="/logout" {
                    input type="hidden" name="csrf" value=(self.session.csrf());
                    button.link type="submit" { (m.logout) }
                }
            }
            main.work {
                h1 { (title) }
                @if let Some(code) = self.q.get("err") {
                    p.notice.bad role="alert" {
                        (error_text(code))
                        @if let Some(n) = self.q.get("err_number") { " " (crate::msg::EXISTING_RECORD) b { (n) } }
                    }
                }
                @if let Some(ok) = self.q.get("ok") {
                    p.notice.good role="status" { (m.console.done(ok).unwrap_or(m.done)) }
                }
                (body)
            }
        };
        respond(StatusCode::OK, page(&shell(m, title), html))
    }

    /// Links to the first and the next page of a list (`after` cursors), keeping
    /// the list's other parameters.
    pub fn pager(&self, path: &str, keep: &[(&str, &str)], next: Option<&str>) -> Markup {
        let m = self.m();
        let first: Vec<(&str, &str)> = keep
            .iter()
            .copied()
            .filter(|(k, _)| *k != "after")
            .collect();
        let next_href = next.map(|n| {
            let mut with = first.clone();
            with.push(("after", n));
            self.href_with(path, &with)
        });
        html! {
            nav.pager {
                @if self.q.contains_key("after") {
                    a.button href=(self.href_with(path, &first)) { (m.console.first_page) }
                }
                @if let Some(h) = next_href {
                    a.button href=(h) { (m.console.next_page) }
                }
            }
        }
    }
}

/// The shell of a console page.
pub fn shell<'a>(m: &'static Messages, title: &'a str) -> Shell<'a> {
    Shell {
        m,
        title,
        kind: Kind::Console,
        elder: false,
        script: None,
        refresh: None,
    }
}

pub use crate::gql::items;

/// A label and its field on one row of a form.
pub fn field(label: &str, id: &str, input: Markup) -> Markup {
    html! {
        label for=(id) { (label) }
        (input)
    }
}

/// A `<select>` of `options` (value, label), `selected` chosen.
pub fn select(name: &str, options: &[(String, String)], selected: &str) -> Markup {
    html! {
        select id=(name) name=(name) {
            @for (v, l) in options {
                option value=(v) selected[v == selected] { (l) }
            }
        }
    }
}

/// A stairwell's name as people say it: "3栋2单元".
pub fn stairwell_name(sw: &Value) -> String {
    format!("{}{}", s(sw, "building"), s(sw, "unit"))
}
