//! The wish board at the desk (`/console/wishes`): wishes by status, page by page; a
//! resident's wish posted by staff; a fulfilled wish confirmed (the claimer's service is
//! recorded then); a claim released; a wish cancelled with its reason.

use super::activities::get;
use super::volunteers::stairwell_options;
use super::{field, items, select, Desk};
use crate::gql::s;
use crate::layout::{self, num, parse_time, when};
use crate::Form;
use axum::extract::Path;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

const STATUSES: [&str; 5] = ["OPEN", "CLAIMED", "FULFILLED", "CONFIRMED", "CANCELLED"];

/// `/console/wishes?status=&after=`.
pub async fn board(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let status = Some(desk.param("status")).filter(|x| STATUSES.contains(x));
    let after = desk.param("after");
    let query = "query($c: ID!, $st: WishStatus, $after: String, $at: Int) {
      wishes(communityId: $c, status: $st, first: 30, after: $after, atLeast: $at) {
        wishes { id category description residentLabel status claimerName postedAt fulfilledAt hours } hasNextPage endCursor }
      community(id: $c) { stairwells { id building unit } wishCounts { status count } } }";
    let vars = json!({ "c": desk.c, "st": status, "after": (!after.is_empty()).then_some(after),
        "at": crate::gql::at_least(&desk.q) });
    let d = match desk.read(query, vars).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let page = &d["wishes"];
    let list = items(&page["wishes"]);
    let st = status.unwrap_or("");
    let next = (page["hasNextPage"] == true).then(|| s(page, "endCursor").to_string());
    let body = html! {
        nav.filters {
            @if st.is_empty() { span.tag.good { (t.all) } } @else { a.tag href=(desk.href("/console/wishes")) { (t.all) } }
            @for x in STATUSES {
                @if x == st { span.tag.good { (t.wish_status(x)) } }
                @else { a.tag href=(desk.href_with("/console/wishes", &[("status", x)])) { (t.wish_status(x)) } }
            }
        }
        p.totals {
            @for (n, c) in items(&d["community"]["wishCounts"]).iter().enumerate() {
                @if n > 0 { " · " }
                (t.wish_status(s(c, "status"))) " " (crate::gql::i(c, "count"))
            }
        }
        table {
            thead { tr { th { (t.posted) } th { (t.category) } th { (t.wish) } th { (t.resident) } th { (m.status) } th { (t.claimer) } th {} } }
            tbody {
                @for w in &list {
                    tr {
                        td { (parse_time(s(w, "postedAt")).map(when).unwrap_or_default()) }
                        td { (s(w, "category")) }
                        td { (s(w, "description")) }
                        td { (s(w, "residentLabel")) }
                        td { (t.wish_status(s(w, "status"))) @if s(w, "status") == "FULFILLED" { " " (num(s(w, "hours"))) " 小时" } }
                        td { (s(w, "claimerName")) }
                        td { (actions(&desk, w)) }
                    }
                }
            }
        }
        @if list.is_empty() { p.sub { (m.no_wishes) } }
        (desk.pager("/console/wishes", &[("status", st)], next.as_deref()))
        (post_form(&desk, &d["community"]))
    };
    desk.page(m.wishes, body)
}

fn actions(desk: &Desk, w: &Value) -> Markup {
    let t = &desk.m().console;
    let action = desk.href(&format!("/console/wishes/{}", s(w, "id")));
    let button = |what: &str, label: &str| {
        html! {
            form.inline method="post" action=(action) {
                (crate::form::hidden(&desk.session))
                input type="hidden" name="do" value=(what);
                button.button.small type="submit" { (label) }
            }
        }
    };
    html! {
        @match s(w, "status") {
            "FULFILLED" => (button("confirm", t.confirm_wish)),
            "CLAIMED" => (button("release", t.release_wish)),
            _ => {}
        }
        @if matches!(s(w, "status"), "OPEN" | "CLAIMED") {
            form.inline method="post" action=(action) {
                (crate::form::hidden(&desk.session))
                input type="hidden" name="do" value="cancel";
                input name="reason" required maxlength="200" size="10" placeholder=(t.reason) aria-label=(t.reason);
                button.button.small type="submit" { (t.cancel_wish) }
            }
        }
    }
}

fn post_form(desk: &Desk, community: &Value) -> Markup {
    let t = &desk.m().console;
    html! {
        details.box {
            summary { (t.post_wish) }
            form.grid method="post" action=(desk.href("/console/wishes")) {
                (crate::form::hidden(&desk.session))
                (field(t.stairwell, "stairwell", select("stairwell", &stairwell_options(community), "")))
                (field(t.category, "w-c", html! { input id="w-c" name="category" required maxlength="20" placeholder=(t.category_hint); }))
                (field(t.wish, "w-d", html! { input id="w-d" name="description" required maxlength="200"; }))
                (field(t.resident, "w-r", html! { input id="w-r" name="resident" required maxlength="50" placeholder=(t.resident_hint); }))
                button.button.primary type="submit" { (t.post_wish) }
            }
        }
    }
}

/// Posts a resident's wish.
pub async fn post(desk: Desk, axum::Form(f): Form) -> Response {
    let query = "mutation($c: ID!, $s: ID!, $cat: String!, $d: String!, $r: String!, $k: String!) {
      postWish(communityId: $c, stairwellId: $s, category: $cat, description: $d, residentLabel: $r, idempotencyKey: $k) { position } }";
    let vars = json!({ "c": desk.c, "s": get(&f, "stairwell"), "cat": get(&f, "category"),
        "d": get(&f, "description"), "r": get(&f, "resident") });
    desk.submit(&f, query, vars, "postWish", "/console/wishes")
        .await
}

/// Confirms, releases or cancels a wish.
pub async fn act(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let (query, field, vars) = match get(&f, "do").as_str() {
        "confirm" => (
            "mutation($w: ID!, $k: String!) { confirmWish(wishId: $w, idempotencyKey: $k) { position } }",
            "confirmWish",
            json!({ "w": id }),
        ),
        "release" => (
            "mutation($w: ID!, $k: String!) { releaseWish(wishId: $w, idempotencyKey: $k) { position } }",
            "releaseWish",
            json!({ "w": id }),
        ),
        "cancel" => (
            "mutation($w: ID!, $r: String!, $k: String!) { cancelWish(wishId: $w, reason: $r, idempotencyKey: $k) { position } }",
            "cancelWish",
            json!({ "w": id, "r": get(&f, "reason") }),
        ),
        _ => return layout::redirect(&desk.href_with("/console/wishes", &[("err", "INVALID_INPUT")]), &[]),
    };
    desk.submit(&f, query, vars, field, "/console/wishes").await
}
