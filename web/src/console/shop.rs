//! The points shop at the desk (`/console/shop`, 积分超市): the code a volunteer shows
//! is typed in and the item handed over (or the redemption cancelled, with a reason);
//! the redemptions waiting; the catalogue with stock added or counted off and items
//! withdrawn; a new item listed; the month's stock and redemption sheet.

use super::activities::get;
use super::{field, items, Desk};
use crate::gql::{i, s};
use crate::layout::{num, parse_time, when};
use axum::extract::Path;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::collections::HashMap;

const READ: &str = "query($c: ID!, $m: String!, $at: Int) {
  shopItems(communityId: $c, withWithdrawn: true, atLeast: $at) { id name price stock redeemed collected collectAt validUntil perPerson withdrawn }
  waiting: redemptions(communityId: $c, status: REDEEMED, atLeast: $at) { id itemId itemName volunteerName code points redeemedAt }
  shopStock(communityId: $c, month: $m, atLeast: $at) { name opening added countedOff redeemed returned closing } }";

const BY_CODE: &str = "query($c: ID!, $code: String!) { redemptions(communityId: $c, code: $code) { id itemId itemName volunteerName code points status redeemedAt } }";

/// `/console/shop`.
pub async fn page(desk: Desk) -> Response {
    let t = desk.m().shop;
    let (month, _, _) = super::stairwells::months(&desk);
    let vars = json!({ "c": desk.c, "m": month, "at": crate::gql::at_least(&desk.q) });
    let d = match desk.read(READ, vars).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let code = desk.param("code").trim().to_string();
    let found = if code.is_empty() {
        None
    } else {
        match desk
            .read(BY_CODE, json!({ "c": desk.c, "code": code }))
            .await
        {
            Ok(f) => Some(items(&f["redemptions"])),
            Err(r) => return r,
        }
    };
    let body = html! {
        div.columns {
            section {
                h2 { (t.code_lookup) }
                form.grid method="get" action="/console/shop" {
                    @if desk.is_admin() { input type="hidden" name="c" value=(desk.c); }
                    (field(t.code, "code", html! { input.code id="code" name="code" required maxlength="12" autocomplete="off" value=(code); }))
                    button.button.primary type="submit" { (t.find) }
                }
                @if let Some(found) = &found {
                    @if found.is_empty() { p.notice.bad role="alert" { (t.code_not_found) } }
                    @for r in found { (redemption(&desk, r, true)) }
                }
                h2 { (t.waiting) }
                @let waiting = items(&d["waiting"]);
                @if waiting.is_empty() { p.sub { (t.none_waiting) } }
                @for r in &waiting { (redemption(&desk, r, false)) }
            }
            section {
                h2 { (t.list_item) }
                form.grid #list-item method="post" action=(desk.href("/console/shop")) {
                    (crate::form::hidden(&desk.session))
                    (field(t.item, "n", html! { input id="n" name="name" required maxlength="100" placeholder="大米 5kg"; }))
                    (field(t.price, "p", html! { input id="p" name="price" inputmode="decimal" required size="6"; }))
                    (field(t.stock, "s", html! { input id="s" name="stock" type="number" min="0" required size="6"; }))
                    (field(t.collect_at, "a", html! { input id="a" name="collectAt" required maxlength="200" placeholder="社区服务站一楼"; }))
                    (field(t.valid_until, "u", html! { input id="u" name="validUntil" type="date"; }))
                    (field(t.per_person, "pp", html! { input id="pp" name="perPerson" type="number" min="1" size="4" placeholder=(t.per_person_hint); }))
                    button.button.primary type="submit" { (t.list) }
                }
            }
        }
        h2 { (t.catalogue) }
        (catalogue(&desk, &items(&d["shopItems"])))
        h2 { (t.sheet) }
        form.inline method="get" action="/console/shop" {
            @if desk.is_admin() { input type="hidden" name="c" value=(desk.c); }
            label for="month" { (t.month) } " "
            input id="month" name="month" type="month" value=(month);
            " " button.button type="submit" { (t.show) }
            " " a.button href=(format!("/documents/shop-sheet?communityId={}&month={month}&format=xlsx", desk.c)) { (t.download) " XLSX" }
            " " a.button href=(format!("/documents/shop-sheet?communityId={}&month={month}&format=csv", desk.c)) { "CSV" }
        }
        (sheet(&desk, &items(&d["shopStock"])))
    };
    desk.page(t.title, body)
}

/// A redemption with what the desk can do with it while it waits.
fn redemption(desk: &Desk, r: &Value, big: bool) -> Markup {
    let t = desk.m().shop;
    let path = |what: &str| {
        desk.href(&format!(
            "/console/shop/{}/{what}/{}",
            s(r, "itemId"),
            s(r, "id")
        ))
    };
    html! {
        article.activity {
            h3 { (s(r, "itemName")) " · " (num(s(r, "points"))) " 积分" }
            p { (t.who) "：" (s(r, "volunteerName")) " · " (t.code) " " strong { (s(r, "code")) } }
            p.sub { (t.when) " " (parse_time(s(r, "redeemedAt")).map(when).unwrap_or_default())
                @if !s(r, "status").is_empty() { " · " (t.status_text(s(r, "status"))) } }
            @if s(r, "status").is_empty() || s(r, "status") == "REDEEMED" {
                div.actions {
                    form.inline method="post" action=(path("collect")) {
                        (crate::form::hidden(&desk.session))
                        button.button.primary type="submit" { (t.collect) }
                    }
                    @if big {
                        form.inline method="post" action=(path("cancel")) {
                            (crate::form::hidden(&desk.session))
                            input name="reason" required maxlength="200" placeholder=(t.cancel_reason) aria-label=(t.cancel_reason);
                            " " button.button type="submit" { (t.cancel) }
                        }
                    }
                }
            }
        }
    }
}

/// The catalogue: every item, with stock changed and withdrawal inline.
fn catalogue(desk: &Desk, list: &[Value]) -> Markup {
    let t = desk.m().shop;
    html! {
        @if list.is_empty() { p.sub { (t.empty) } }
        @else {
            table {
                thead { tr {
                    th { (t.item) } th.num { (t.price) } th.num { (t.stock) } th.num { (t.redeemed) }
                    th.num { (t.collected) } th { (t.collect_at) } th { (t.valid_until) } th { (t.change) } th {}
                } }
                tbody {
                    @for it in list {
                        @let base = format!("/console/shop/{}", s(it, "id"));
                        tr {
                            td { (s(it, "name")) @if it["perPerson"].is_number() { span.sub { " (" (t.per_person) " " (i(it, "perPerson")) ")" } } }
                            td.num { (num(s(it, "price"))) }
                            td.num { (i(it, "stock")) }
                            td.num { (i(it, "redeemed")) }
                            td.num { (i(it, "collected")) }
                            td { (s(it, "collectAt")) }
                            td { (s(it, "validUntil")) }
                            @if it["withdrawn"].as_bool().unwrap_or(false) {
                                td { span.tag { (t.withdrawn) } } td {}
                            } @else {
                                td {
                                    form.inline method="post" action=(desk.href(&format!("{base}/stock"))) {
                                        (crate::form::hidden(&desk.session))
                                        input name="change" type="number" required size="4" aria-label=(t.change_hint) title=(t.change_hint);
                                        input name="reason" value=(t.restock_reason) required maxlength="100" size="6" aria-label=(t.reason);
                                        " " button.button type="submit" { (t.change) }
                                    }
                                }
                                td {
                                    form.inline method="post" action=(desk.href(&format!("{base}/withdraw"))) {
                                        (crate::form::hidden(&desk.session))
                                        input name="reason" required maxlength="200" size="6" placeholder=(t.withdraw_reason) aria-label=(t.withdraw_reason);
                                        " " button.button type="submit" { (t.withdraw) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The month's stock and redemption sheet.
fn sheet(desk: &Desk, lines: &[Value]) -> Markup {
    let t = desk.m().shop;
    html! {
        @if lines.is_empty() { p.sub { (t.no_movement) } }
        @else {
            table {
                thead { tr {
                    th { (t.item) } th.num { (t.opening) } th.num { (t.added) } th.num { (t.counted_off) }
                    th.num { (t.redeemed) } th.num { (t.returned) } th.num { (t.closing) }
                } }
                tbody {
                    @for l in lines {
                        tr {
                            td { (s(l, "name")) }
                            @for k in ["opening", "added", "countedOff", "redeemed", "returned", "closing"] {
                                td.num { (i(l, k)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

type FormData = axum::Form<HashMap<String, String>>;

/// Lists a new item.
pub async fn list(desk: Desk, axum::Form(f): FormData) -> Response {
    let query = "mutation($c: ID!, $n: String!, $p: Points!, $s: Int!, $a: String!, $u: NaiveDate, $pp: Int, $k: String!) {
      listShopItem(communityId: $c, name: $n, price: $p, stock: $s, collectAt: $a, validUntil: $u, perPerson: $pp, idempotencyKey: $k) { position } }";
    let opt = |k: &str| match get(&f, k).trim() {
        "" => Value::Null,
        v => json!(v),
    };
    let int = |k: &str| match get(&f, k).trim().parse::<i64>() {
        Ok(n) => json!(n),
        Err(_) => Value::Null,
    };
    let vars = json!({ "c": desk.c, "n": get(&f, "name"), "p": get(&f, "price").trim(), "s": int("stock"),
        "a": get(&f, "collectAt"), "u": opt("validUntil"), "pp": int("perPerson") });
    desk.submit(&f, query, vars, "listShopItem", "/console/shop")
        .await
}

/// Adds stock or counts it off.
pub async fn stock(desk: Desk, Path(item): Path<String>, axum::Form(f): FormData) -> Response {
    let query = "mutation($i: ID!, $n: Int!, $r: String!, $k: String!) { adjustShopStock(itemId: $i, change: $n, reason: $r, idempotencyKey: $k) { position } }";
    let change = get(&f, "change")
        .trim()
        .parse::<i64>()
        .map(|n| json!(n))
        .unwrap_or(Value::Null);
    let vars = json!({ "i": item, "n": change, "r": get(&f, "reason") });
    desk.submit(&f, query, vars, "adjustShopStock", "/console/shop")
        .await
}

/// Withdraws an item.
pub async fn withdraw(desk: Desk, Path(item): Path<String>, axum::Form(f): FormData) -> Response {
    let query = "mutation($i: ID!, $r: String!, $k: String!) { withdrawShopItem(itemId: $i, reason: $r, idempotencyKey: $k) { position } }";
    let vars = json!({ "i": item, "r": get(&f, "reason") });
    desk.submit(&f, query, vars, "withdrawShopItem", "/console/shop")
        .await
}

/// Hands a redeemed item over, or cancels the redemption with a reason.
pub async fn act(
    desk: Desk,
    Path((item, what, redemption)): Path<(String, String, String)>,
    axum::Form(f): FormData,
) -> Response {
    let vars = json!({ "i": item, "r": redemption, "why": get(&f, "reason") });
    match what.as_str() {
        "collect" => {
            let query = "mutation($i: ID!, $r: ID!, $k: String!) { collectRedemption(itemId: $i, redemptionId: $r, idempotencyKey: $k) { position } }";
            desk.submit(&f, query, vars, "collectRedemption", "/console/shop")
                .await
        }
        _ => {
            let query = "mutation($i: ID!, $r: ID!, $why: String!, $k: String!) { cancelRedemption(itemId: $i, redemptionId: $r, reason: $why, idempotencyKey: $k) { position } }";
            desk.submit(&f, query, vars, "cancelRedemption", "/console/shop")
                .await
        }
    }
}
