//! The service hall's big screen (`/hall`, 1920×1080, a display login): this month's
//! 流动红旗 and the stairwell scores, the month's and the year's best volunteers (names
//! shortened, as the API gives them to displays), today's activities with their
//! sign-ups and check-ins, and the latest awards (积分奖励 and services credited). It
//! follows the log live: `/hall/events` (server-sent
//! events) says when the log moved, and `/static/hall.js` fetches `/hall/live` (the
//! same content) and puts it in place; the browser's EventSource reconnects by itself
//! when the server restarts.

use crate::gql::{self, i, items, s};
use crate::layout::{self, clock, num, page, respond, Kind, Shell};
use crate::msg::Messages;
use crate::session::Session;
use crate::{Signed, WebState};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Utc};
use futures::stream::{self, Stream};
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

const BOARD: &str = "query($c: ID!, $month: String!, $year: String!, $from: DateTime, $to: DateTime, $at: Int) {
  stairwellScores(communityId: $c, month: $month, atLeast: $at) { building unit total rank redFlag }
  month: ranking(communityId: $c, metric: HOURS, period: $month, first: 5) { rows { rank name hours } }
  year: ranking(communityId: $c, metric: HOURS, period: $year, first: 3) { rows { rank name hours } }
  activities(communityId: $c, from: $from, to: $to, first: 12) { id title place startsAt endsAt places taken checkedIn status }
  recentAwards(communityId: $c, first: 5) { name kind subject detail points hours }
}";

/// The community a display shows: its own, or `?c=` for an admin.
fn community(session: &Session, q: &HashMap<String, String>) -> Option<String> {
    session
        .principal
        .community()
        .map(|c| c.0.to_string())
        .or_else(|| q.get("c").cloned())
}

/// The content of the screen, as of position `at` or later.
async fn board(state: &WebState, session: &Session, c: &str, at: Option<i64>) -> Markup {
    let m = state.m;
    let now = state.now().with_timezone(&layout::cst());
    let start = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|d| d.and_local_timezone(layout::cst()).single())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    let vars = json!({
        "c": c,
        "month": format!("{:04}-{:02}", now.year(), now.month()),
        "year": format!("{:04}", now.year()),
        "from": start.to_rfc3339(),
        "to": (start + chrono::Duration::days(1)).to_rfc3339(),
        "at": at,
    });
    let d = match gql::run(state, session, BOARD, vars).await {
        Ok(d) => d,
        Err(e) => return html! { p.notice.bad { (crate::msg::error_text(&e.code)) } },
    };
    render(m, &d, now.month())
}

fn names(rows: &Value) -> Vec<Value> {
    items(&rows["rows"])
}

fn render(m: &Messages, d: &Value, month: u32) -> Markup {
    let scores = items(&d["stairwellScores"]);
    let flag = scores
        .iter()
        .find(|x| x["redFlag"] == true)
        .cloned()
        .unwrap_or_default();
    let flag = &flag;
    let acts = items(&d["activities"]);
    html! {
        section.flag {
            h2 { (month) "月 · " (m.red_flag) }
            @if flag.is_object() {
                p.flagname { (layout::flag_icon()) " " (s(flag, "building")) (s(flag, "unit")) }
                p.big { (num(s(flag, "total"))) " " span.unit { "分" } }
            } @else {
                p.sub { (m.no_red_flag) }
            }
            ol.scores {
                @for sc in scores.iter().take(6) {
                    li { span { (s(sc, "building")) (s(sc, "unit")) } span.num { (num(s(sc, "total"))) } }
                }
            }
        }
        section.best {
            h2 { (m.month_best) }
            (rank_list(m, &names(&d["month"])))
            h2 { (m.year_best) }
            (rank_list(m, &names(&d["year"])))
            h2 { (m.recent_awards) }
            @let awards = items(&d["recentAwards"]);
            @if awards.is_empty() { p.sub { (m.no_ranking) } }
            ul.awards {
                @for a in &awards {
                    li {
                        span.name { (short(a)) }
                        span.what { @if s(a, "kind") == "POINTS_AWARDED" { (s(a, "detail")) } @else { (s(a, "subject")) } }
                        span.num { "+" (num(s(a, "points"))) " 分" }
                    }
                }
            }
        }
        section.today {
            h2 { (m.today) }
            @if acts.is_empty() { p.sub { (m.nothing_today) } }
            @for a in &acts {
                article.activity data-activity=(s(a, "id")) {
                    h3 { (s(a, "title")) }
                    p.sub { (layout::parse_time(s(a, "startsAt")).map(clock).unwrap_or_default()) "–"
                        (layout::parse_time(s(a, "endsAt")).map(clock).unwrap_or_default()) " · " (s(a, "place")) }
                    p.counts {
                        span { (m.signed) " " b.taken { (i(a, "taken")) } " / " (i(a, "places")) }
                        span { (m.arrived) " " b.arrived { (i(a, "checkedIn")) } }
                    }
                }
            }
        }
    }
}

/// A name as the big screen shows it, whoever is signed in (a clerk may put the hall on
/// a projector from the console): shortened, 王**.
fn short(v: &Value) -> String {
    api::auth::shorten_name(s(v, "name"))
}

fn rank_list(m: &Messages, rows: &[Value]) -> Markup {
    html! {
        @if rows.is_empty() { p.sub { (m.no_ranking) } }
        ol.ranks {
            @for r in rows {
                li { span.rank { (i(r, "rank")) } span.name { (short(r)) } span.num { (num(s(r, "hours"))) " 小时" } }
            }
        }
    }
}

/// `/hall`.
pub async fn hall(
    State(state): State<WebState>,
    Signed(session): Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let Some(c) = community(&session, &q) else {
        return layout::error_page(m, StatusCode::BAD_REQUEST, m.not_found, "/");
    };
    let content = board(&state, &session, &c, None).await;
    let shell = Shell {
        m,
        title: m.hall_title,
        kind: Kind::Hall,
        elder: false,
        script: Some("/static/hall.js"),
        refresh: None,
    };
    let body = html! {
        header.hallhead {
            h1 { (m.product) " · " (m.hall_title) }
            span.live id="live" data-community=(c) { (m.live) }
        }
        main id="board" { (content) }
    };
    respond(StatusCode::OK, page(&shell, body))
}

/// `/hall/live?at=`: the screen's content alone, for the script to put in place.
pub async fn live(
    State(state): State<WebState>,
    Signed(session): Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(c) = community(&session, &q) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let at = q.get("at").and_then(|a| a.parse().ok());
    respond(StatusCode::OK, board(&state, &session, &c, at).await)
}

/// `/hall/events`: the log's position each time it moves (at most every 300 ms).
pub async fn events(
    State(state): State<WebState>,
    Signed(_session): Signed,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.api.app.store.watch_head();
    let first = *rx.borrow();
    let stream = stream::unfold((rx, first, true), |(mut rx, last, first_time)| async move {
        if first_time {
            // Tells the page the position it starts from, and how soon to come back.
            let ev = Event::default()
                .retry(Duration::from_secs(1))
                .event("position")
                .data(last.to_string());
            return Some((Ok(ev), (rx, last, false)));
        }
        loop {
            rx.changed().await.ok()?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = *rx.borrow_and_update();
            if now != last {
                let ev = Event::default().event("position").data(now.to_string());
                return Some((Ok(ev), (rx, now, false)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
