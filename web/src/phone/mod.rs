//! The volunteer's phone page (`/m`, 360×640 in WeChat's browser): name, points,
//! hours, stars and the way to the next one, hours in 公示, messages not yet read; the
//! three things used most first (check in, activities, wishes). Elder mode (长辈模式) is
//! a cookie of the phone: larger type, higher contrast.
//!
//! - [`activities`]: sign-up and withdrawal; check-in by the six digits or the
//!   organiser's QR link (`/checkin/{activity}?code=`);
//! - [`notices`]: the community's records on 公示, and an objection from the phone;
//! - [`records`]: the statement, the certificates, the inbox;
//! - [`wishes`]: the wish board, claiming, and the volunteer's own wishes fulfilled;
//! - [`shop`]: the points shop (积分超市): redeem, the code to show, cancel;
//! - [`family`]: the volunteer's relatives (家属), and hours gifted to them;
//! - [`record`]: training, commendations, evaluations, and rating a service received.

pub mod activities;
pub mod family;
pub mod notices;
pub mod record;
pub mod records;
pub mod shop;
pub mod wishes;

use crate::gql::{self, i, s};
use crate::layout::{self, num, page, redirect, respond, star_marks, Kind, Shell};
use crate::msg::{error_text, Messages};
use crate::session::{self, Session};
use crate::{form, Form, Signed, WebState};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::HashMap;

const HOME: &str = "query($at: Int) { me(atLeast: $at) { volunteer { id name volunteerNumber communityId
    balance { points hours stars verifiedHours } pending { hours points } totals { starThresholds starPointsThresholds starPoints }
    pointsExpiring(days: 90) { total days { on points } } } }
    inbox(first: 0) { unread } }";

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
    if session.principal.actor.volunteer_id.is_none() {
        return Err(for_volunteers(state));
    }
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
        mut v => {
            v["inbox"] = data["inbox"].clone();
            Ok(v)
        }
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
    // The `i`th threshold of a list of the totals (hours, or points), as a number.
    let threshold = |list: &str, i: Option<i64>| {
        v["totals"][list]
            .as_array()
            .and_then(|t| t.get(i? as usize))
            .and_then(Value::as_str)
            .and_then(|x| x.parse::<f64>().ok())
    };
    let next = threshold("starThresholds", Some(stars));
    // Under a star rule with points, the points the next star takes, and those still
    // missing.
    let star_points: f64 = s(&v["totals"], "starPoints").parse().unwrap_or(0.0);
    let next_points = threshold("starPointsThresholds", Some(stars));
    let points_short = next_points
        .map(|p| p - star_points)
        .filter(|short| *short > 0.0);
    let pending = num(s(&v["pending"], "hours"));
    let unread = i(&v["inbox"], "unread");
    let mine = activities::mine(&state, &session, &v, &q).await;
    let progress = next.filter(|_| stars < 5).map(|n| {
        let from = threshold("starThresholds", stars.checked_sub(1)).unwrap_or(0.0);
        let by_hours = ((verified - from) / (n - from).max(0.01)).clamp(0.0, 1.0);
        // Under a star rule with points, the bar is as full as the shorter of the two.
        let by_points = match (points_short, next_points) {
            (Some(_), Some(need)) => (star_points / need.max(0.01)).clamp(0.0, 1.0),
            _ => 1.0,
        };
        (by_hours.min(by_points) * 100.0) as u32
    });
    let elder = session::elder(&headers);
    let big3 = html! {
        nav.big3 {
            a.button.primary href="/m/checkin" { (m.check_in) }
            a.button href="/m/activities" { (m.activities) }
            a.button href="/m/wishes" { (m.wishes) }
        }
    };
    let body = html! {
        header.top {
            h1 { (s(&v, "name")) }
            p.sub { (m.number) " " (s(&v, "volunteerNumber")) }
        }
        (flash(m, &q))
        // In elder mode the three things used most come first, on the first screen.
        @if elder { (big3) }
        section.cards {
            div.card {
                span.label { (m.points) } span.big { (num(s(b, "points"))) }
                @let soon = &v["pointsExpiring"];
                @if num(s(soon, "total")) != "0" {
                    span.label.soon {
                        (m.expiry.soon) " " (num(s(soon, "total"))) " 分，" (m.expiry.soon_first) " "
                        (layout::day(s(&soon["days"][0], "on")))
                    }
                }
            }
            div.card {
                span.label { (m.hours) } span.big { (num(s(b, "verifiedHours"))) } span.unit { "小时" }
                @if num(s(b, "hours")) != num(s(b, "verifiedHours")) {
                    span.label { (m.bank_balance) " " (num(s(b, "hours"))) " 小时" }
                }
            }
        }
        section.stars {
            span.label { (m.stars) }
            span.marks aria-label=(format!("{stars}星")) { (star_marks(stars)) }
            @if let Some(p) = progress { progress max="100" value=(p) aria-label=(m.to_next_star) { (p) "%" } }
            @match next {
                Some(n) if stars < 5 => p.sub {
                    (m.to_next_star)
                    @if n > verified { " " (num(&format!("{:.2}", n - verified))) " 小时" }
                    @if let Some(short) = points_short {
                        @if n > verified { "、" } @else { " " }
                        (num(&format!("{short:.2}"))) " 积分"
                    }
                },
                _ if stars >= 5 => p.sub { (m.top_star) },
                _ => p.sub { (m.no_star_yet) },
            }
            @if pending != "0" {
                p.pending { (m.pending) " " (pending) " 小时（公示期满后计入）" }
            }
        }
        @if !elder { (big3) }
        section {
            h2 { (m.my_activities) }
            (mine)
        }
        nav.more {
            a href="/m/inbox" { (m.inbox) @if unread > 0 { " " span.badge aria-label=(m.unread) { (unread) } } }
            a href="/m/shop" { (m.shop.title) }
            a href="/m/family" { (m.family) }
            a href="/m/record" { (m.record.my_record) }
            a href="/m/statement" { (m.statement) }
            a href="/m/certificates" { (m.certificates) }
            a href="/m/notices" { (m.notices) }
        }
        footer.links {
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
