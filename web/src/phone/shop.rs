//! The points shop on the phone (积分超市): the volunteer's points, the items they can
//! redeem (a second page asks once more, with the points left after), and their
//! redemptions with the code to show and where to collect, cancelled from here while
//! waiting.

use super::{community_of, for_volunteers, shell};
use crate::gql::{self, i, s};
use crate::layout::{num, page, parse_time, respond, when};
use crate::msg::error_text;
use crate::{form, Form, Signed, WebState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde_json::{json, Value};
use std::collections::HashMap;

const SHOP: &str = "query($c: ID!, $at: Int) {
  me { volunteer { balance { points } } }
  shopItems(communityId: $c, atLeast: $at) { id name price stock collectAt validUntil perPerson available }
  redemptions(atLeast: $at) { id itemId itemName code points status redeemedAt } }";

fn points(d: &Value) -> f64 {
    s(&d["me"]["volunteer"]["balance"], "points")
        .parse()
        .unwrap_or(0.0)
}

/// `/m/shop`: points, items, and the volunteer's redemptions.
pub async fn shop(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (m, t) = (state.m, state.m.shop);
    let Some(c) = community_of(&session) else {
        return for_volunteers(&state);
    };
    let d = gql::run(
        &state,
        &session,
        SHOP,
        json!({ "c": c, "at": gql::at_least(&q) }),
    )
    .await
    .unwrap_or_default();
    let have = points(&d);
    let items = gql::items(&d["shopItems"]);
    let mine = gql::items(&d["redemptions"]);
    let place: HashMap<&str, &str> = items
        .iter()
        .map(|i| (s(i, "id"), s(i, "collectAt")))
        .collect();
    let waiting: Vec<&Value> = mine
        .iter()
        .filter(|r| s(r, "status") == "REDEEMED")
        .collect();
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (t.title) } }
        @if let Some(code) = q.get("err") { p.notice.bad role="alert" { (error_text(code)) } }
        @match q.get("ok").map(String::as_str) {
            Some("cancelled") => p.notice.good role="status" { (m.console.done("cancelRedemption").unwrap_or(m.done)) },
            Some(_) => p.notice.good role="status" { (t.redeemed_ok) },
            None => {},
        }
        section.cards {
            div.card { span.label { (t.my_points) } span.big { (num(s(&d["me"]["volunteer"]["balance"], "points"))) } }
        }
        @if !waiting.is_empty() {
            h2 { (t.mine) }
            @for r in &waiting {
                article.activity.redemption {
                    h3 { (s(r, "itemName")) }
                    p.sub { (t.show_code) }
                    p.code-big aria-label=(t.code) { (s(r, "code")) }
                    p { (t.go_collect) "：" (place.get(s(r, "itemId")).copied().unwrap_or("")) }
                    form method="post" action=(format!("/m/shop/{}/cancel/{}", s(r, "itemId"), s(r, "id"))) {
                        (form::hidden(&session))
                        button.button type="submit" { (t.cancel_mine) }
                    }
                }
            }
        }
        h2 { (t.catalogue) }
        @if items.is_empty() { p.sub { (t.empty) } }
        @for it in &items {
            @let price: f64 = s(it, "price").parse().unwrap_or(f64::MAX);
            article.activity {
                h3 { (s(it, "name")) }
                p.sub {
                    (num(s(it, "price"))) " 积分 · " (t.units_left) " " (i(it, "stock"))
                    @if it["perPerson"].is_number() { " · " (t.limit) " " (i(it, "perPerson")) }
                }
                p.sub { (t.collect_at) "：" (s(it, "collectAt")) }
                @if !it["available"].as_bool().unwrap_or(false) {
                    p.sub { (if i(it, "stock") > 0 { t.expired } else { t.sold_out }) }
                } @else if price > have {
                    p.sub { (t.not_enough) }
                } @else {
                    a.button.primary href=(format!("/m/shop/{}", s(it, "id"))) { (t.redeem) }
                }
            }
        }
        @let done: Vec<&Value> = mine.iter().filter(|r| s(r, "status") != "REDEEMED").collect();
        @if !done.is_empty() {
            h2 { (t.mine) }
            ul.lines {
                @for r in done {
                    li {
                        span { (s(r, "itemName")) " · " (t.status_text(s(r, "status"))) }
                        span.sub { (parse_time(s(r, "redeemedAt")).map(when).unwrap_or_default()) }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, page(&shell(m, t.title, &headers), body))
}

/// `/m/shop/{item}`: asks once more, with the points left after.
pub async fn confirm(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Path(item): Path<String>,
) -> Response {
    let (m, t) = (state.m, state.m.shop);
    if community_of(&session).is_none() {
        return for_volunteers(&state);
    }
    let query = "query($i: ID!) { me { volunteer { balance { points } } } shopItem(id: $i) { id name price collectAt available } }";
    let d = match gql::run(&state, &session, query, json!({ "i": item })).await {
        Ok(d) => d,
        Err(e) => return crate::layout::redirect(&format!("/m/shop?err={}", e.code), &[]),
    };
    let it = &d["shopItem"];
    let price: f64 = s(it, "price").parse().unwrap_or(0.0);
    let left = points(&d) - price;
    let body = html! {
        header.top { a.back href="/m/shop" { "‹ " (t.title) } h1 { (t.confirm_title) } }
        article.activity {
            h3 { (s(it, "name")) }
            p.big { (num(s(it, "price"))) " 积分" }
            p { (t.after) "：" (num(&format!("{left:.2}"))) }
            p.sub { (t.collect_at) "：" (s(it, "collectAt")) }
            form method="post" action=(format!("/m/shop/{}", s(it, "id"))) {
                (form::hidden(&session))
                button.button.primary type="submit" { (t.confirm_redeem) }
            }
            a.button href="/m/shop" { (m.back_home) }
        }
    };
    respond(
        StatusCode::OK,
        page(&shell(m, t.confirm_title, &headers), body),
    )
}

/// Redeem one unit for oneself.
pub async fn redeem(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path(item): Path<String>,
    axum::Form(f): Form,
) -> Response {
    let query = "mutation($i: ID!, $k: String!) { redeemShopItem(itemId: $i, idempotencyKey: $k) { position } }";
    let vars = json!({ "i": item });
    form::submit(
        &state,
        &session,
        &f,
        query,
        vars,
        "redeemShopItem",
        "/m/shop?ok=1",
        "/m/shop?from=form",
    )
    .await
}

/// Cancel one's own redemption while it waits.
pub async fn cancel(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path((item, redemption)): Path<(String, String)>,
    axum::Form(f): Form,
) -> Response {
    let query = "mutation($i: ID!, $r: ID!, $k: String!) { cancelRedemption(itemId: $i, redemptionId: $r, idempotencyKey: $k) { position } }";
    let vars = json!({ "i": item, "r": redemption });
    form::submit(
        &state,
        &session,
        &f,
        query,
        vars,
        "cancelRedemption",
        "/m/shop?ok=cancelled",
        "/m/shop?from=form",
    )
    .await
}
