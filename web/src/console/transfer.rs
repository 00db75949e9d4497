//! A volunteer's record moved to this community at the desk (转移接续): offered when a
//! registration is refused because the person's ID number is registered in another
//! community (`DUPLICATE_PERSON`), with that ID number as the proof the receiving
//! community's staff give.

use super::activities::get;
use super::{field, Desk};
use crate::gql::{i, s};
use crate::layout;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::json;
use std::collections::HashMap;

/// The offer under a refused registration: the record `volunteer`'s move here, with
/// the ID number, stairwell and household typed in the registration form.
pub fn offer(
    desk: &Desk,
    volunteer: &str,
    keep: &HashMap<String, String>,
    stairwells: &[(String, String)],
) -> Markup {
    let t = desk.m().transfer;
    html! {
        section.card #transfer {
            h2 { (t.title) }
            p.sub { (t.explain) }
            form.grid method="post" action=(desk.href("/console/volunteers/transfer")) {
                (crate::form::hidden(&desk.session))
                input type="hidden" name="volunteer" value=(volunteer);
                input type="hidden" name="id_number" value=(get(keep, "id_number"));
                (field(t.stairwell, "transfer_stairwell", html! {
                    select id="transfer_stairwell" name="stairwell" required {
                        @for (v, l) in stairwells { option value=(v) selected[get(keep, "stairwell") == *v] { (l) } }
                    }
                }))
                (field(t.household, "transfer_household", html! {
                    input id="transfer_household" name="household" maxlength="30" placeholder="3-2-201" value=(get(keep, "household"));
                }))
                (field(t.reason, "transfer_reason", html! {
                    input id="transfer_reason" name="reason" required maxlength="200" value=(t.default_reason);
                }))
                button.button.primary type="submit" { (t.submit) }
            }
        }
    }
}

/// Moves the record here; then to the volunteer's page in this community.
pub async fn transfer_in(
    desk: Desk,
    axum::Form(f): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &f, "/console") {
        return r;
    }
    let t = desk.m().transfer;
    let opt = |k: &str| Some(get(&f, k)).filter(|v| !v.is_empty());
    let query = "mutation($k: String!, $v: ID!, $c: ID!, $s: ID!, $h: String, $r: String!, $i: String) {
      transferVolunteer(idempotencyKey: $k, volunteerId: $v, toCommunityId: $c, stairwellId: $s, household: $h, reason: $r, idNumber: $i) {
        volunteerId volunteerNumber pointsLeft position } }";
    let vars = json!({ "k": crate::form::key(&f), "v": get(&f, "volunteer"), "c": desk.c,
        "s": get(&f, "stairwell"), "h": opt("household"), "r": get(&f, "reason"), "i": opt("id_number") });
    match crate::gql::run(&desk.state, &desk.session, query, vars).await {
        Ok(d) => {
            let r = &d["transferVolunteer"];
            let path = format!("/console/volunteers/{}", s(r, "volunteerId"));
            let at = i(r, "position").to_string();
            let params = [
                ("ok", "1"),
                ("at", at.as_str()),
                ("moved", s(r, "volunteerNumber")),
                ("left", s(r, "pointsLeft")),
            ];
            layout::redirect(&desk.href_with(&path, &params), &[])
        }
        Err(e) => {
            let body = html! {
                p.notice.bad role="alert" { (t.failed) (crate::msg::error_text(&e.code)) }
                p { a.button href=(desk.href("/console/volunteers/new")) { (t.back) } }
            };
            desk.page(t.title, body)
        }
    }
}

/// The banner on the volunteer's page after a move here (`moved=` the new number,
/// `left=` points that stayed behind).
pub fn moved_banner(desk: &Desk) -> Option<Markup> {
    let t = desk.m().transfer;
    let number = desk.param("moved");
    if number.is_empty() {
        return None;
    }
    let left = layout::num(desk.param("left"));
    Some(html! {
        p.notice.good role="status" {
            (t.done) b { (number) }
            @if !left.is_empty() && left != "0" { "。" (t.points_left) b { (left) } }
        }
    })
}
