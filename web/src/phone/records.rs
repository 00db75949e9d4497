//! The volunteer's own records on the phone: the statement (积分明细, newest first, page
//! by page), the certificates issued to them (printable), and the inbox (消息), worded
//! from the facts of each message; opening the inbox marks it read.

use super::{flash, shell};
use crate::gql::{self, i, items, s};
use crate::layout::{self, date, num, page, parse_time, respond};
use crate::msg::error_text;
use crate::{Signed, WebState};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde_json::json;
use std::collections::HashMap;

fn signed(n: &str) -> String {
    if n.starts_with('-') {
        n.to_string()
    } else {
        format!("+{n}")
    }
}

/// `/m/statement?after=`: the account's lines, newest first, 30 a page.
pub async fn statement(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let query = "query($at: Int, $after: String) { statement(first: 30, after: $after, newestFirst: true, atLeast: $at) {
        entries { description pointsDelta hoursDelta recordedAt } hasNextPage endCursor } }";
    let after = q.get("after").cloned();
    let vars = json!({ "at": gql::at_least(&q), "after": after });
    let (entries, next, failed) = match gql::run(&state, &session, query, vars).await {
        Ok(d) => {
            let p = &d["statement"];
            let next = (p["hasNextPage"] == true).then(|| s(p, "endCursor").to_string());
            (items(&p["entries"]), next, None)
        }
        Err(e) => (Vec::new(), None, Some(e.code)),
    };
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.statement) } }
        (flash(m, &q))
        @if let Some(code) = &failed { p.notice.bad role="alert" { (error_text(code)) } }
        @else if entries.is_empty() { p.sub { (m.no_statement) } }
        ul.lines {
            @for e in &entries {
                li {
                    span.what { (s(e, "description")) }
                    span.when { (parse_time(s(e, "recordedAt")).map(layout::date).unwrap_or_default()) }
                    span.delta {
                        @let p = num(s(e, "pointsDelta"));
                        @let h = num(s(e, "hoursDelta"));
                        @if p != "0" { (signed(&p)) " 分 " }
                        @if h != "0" { (signed(&h)) " 小时" }
                    }
                }
            }
        }
        @if let Some(n) = next { p { a.button href=(format!("/m/statement?after={n}")) { (m.older) } } }
    };
    respond(StatusCode::OK, page(&shell(m, m.statement, &headers), body))
}

/// `/m/certificates`: the certificates issued to the volunteer, each printable.
pub async fn certificates(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let query = "query { certificates { number issuedAt checkCode record { totalHours services } page { url } } }";
    let list = match gql::run(&state, &session, query, json!({})).await {
        Ok(d) => items(&d["certificates"]),
        Err(e) => return layout::error_page(m, StatusCode::OK, error_text(&e.code), "/m"),
    };
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.certificates) } }
        (flash(m, &q))
        @if list.is_empty() { p.sub { (m.no_certificates) } }
        @for c in list.iter().rev() {
            article.activity {
                h3 { (m.certificate_title) }
                p { (s(c, "number")) " · " (parse_time(s(c, "issuedAt")).map(date).unwrap_or_default()) }
                p.sub { (m.hours) " " (num(s(&c["record"], "totalHours"))) " 小时 · " (m.check_code) " " (s(c, "checkCode")) }
                a.button href=(s(&c["page"], "url")) { (m.open_certificate) }
            }
        }
    };
    respond(
        StatusCode::OK,
        page(&shell(m, m.certificates, &headers), body),
    )
}

/// `/m/inbox?before=`: messages newest first; the newest is marked read on opening.
pub async fn inbox(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let before = q.get("before").and_then(|b| b.parse::<u64>().ok());
    let query = "query($before: Int, $at: Int) { inbox(first: 30, before: $before, atLeast: $at) {
        unread newest hasNextPage endCursor
        messages { kind subject hours points detail until at unread otherName } } }";
    let d = match gql::run(
        &state,
        &session,
        query,
        json!({ "before": before, "at": gql::at_least(&q) }),
    )
    .await
    {
        Ok(d) => d["inbox"].clone(),
        Err(e) => return layout::error_page(m, StatusCode::OK, error_text(&e.code), "/m"),
    };
    if i(&d, "unread") > 0 {
        let mark = "mutation($n: Int!) { markInboxRead(upTo: $n) }";
        let _ = gql::run(&state, &session, mark, json!({ "n": d["newest"] })).await;
    }
    let list = items(&d["messages"]);
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (m.inbox) } }
        @if list.is_empty() { p.sub { (m.no_messages) } }
        ul.inbox {
            @for msg in &list {
                li.unread[msg["unread"] == true] {
                    span.what { (m.inbox_text(msg)) }
                    span.when { (parse_time(s(msg, "at")).map(layout::when_dated).unwrap_or_default()) }
                }
            }
        }
        @if d["hasNextPage"] == true { p { a.button href=(format!("/m/inbox?before={}", i(&d, "endCursor"))) { (m.older) } } }
    };
    respond(StatusCode::OK, page(&shell(m, m.inbox, &headers), body))
}
