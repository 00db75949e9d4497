//! A volunteer's family and time bank at the desk, on their page: the linked relatives
//! (家属) with the link ended by a click, a relative linked by their volunteer number
//! with both sides' consent, and hours spent on a service received (时间银行), naming
//! the volunteer who gave it when one did (their service is credited at once).

use super::activities::get;
use super::attendance::volunteer_by_number;
use super::{field, items, Desk};
use crate::gql::s;
use crate::layout;
use crate::Form;
use axum::extract::Path;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

/// The box on a volunteer's page: relatives, a new link, hours spent.
pub fn family_box(desk: &Desk, id: &str, relatives: &Value) -> Markup {
    let t = &desk.m().console;
    let base = format!("/console/volunteers/{id}");
    html! {
        details.box open {
            summary { (t.family) }
            @let list = items(relatives);
            @if list.is_empty() { p.sub { (t.no_relatives) } }
            ul.plain {
                @for r in &list {
                    li {
                        a href=(desk.href(&format!("/console/volunteers/{}", s(r, "volunteerId")))) { (s(r, "name")) }
                        @if !s(r, "relation").is_empty() { " （" (s(r, "relation")) "）" }
                        " "
                        form.inline method="post" action=(desk.href(&format!("{base}/relatives/{}/unlink", s(r, "volunteerId")))) {
                            (crate::form::hidden(&desk.session))
                            button.link type="submit" { (t.unlink) }
                        }
                    }
                }
            }
            form.grid method="post" action=(desk.href(&format!("{base}/relatives"))) {
                (crate::form::hidden(&desk.session))
                (field(t.relative_number, "rel-n", html! { input id="rel-n" name="number" required placeholder="TB-000002"; }))
                (field(t.relation, "rel-r", html! { input id="rel-r" name="relation" required maxlength="20" placeholder="母亲"; }))
                label.check { input type="checkbox" name="consent" value="1" required; " " (t.consent) }
                button.button type="submit" { (t.link_relative) }
            }
            h3 { (t.spend_title) }
            form.grid method="post" action=(desk.href(&format!("{base}/spend"))) {
                (crate::form::hidden(&desk.session))
                (field(t.spend_hours, "sp-h", html! { input id="sp-h" name="hours" inputmode="decimal" required size="6"; }))
                (field(t.spend_what, "sp-d", html! { input id="sp-d" name="description" required maxlength="200" placeholder="上门理发"; }))
                (field(t.provider_number, "sp-p", html! { input id="sp-p" name="provider" placeholder=(t.provider_hint); }))
                button.button type="submit" { (t.spend) }
            }
        }
    }
}

/// Links a relative by their volunteer number.
pub async fn link(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let back = format!("/console/volunteers/{id}");
    let Some(relative) = volunteer_by_number(&desk, &get(&f, "number")).await else {
        return layout::redirect(&desk.href_with(&back, &[("err", "NUMBER_NOT_FOUND")]), &[]);
    };
    let q = "mutation($v: ID!, $r: ID!, $rel: String!, $yes: Boolean!, $k: String!) { linkRelative(volunteerId: $v, relativeId: $r, relation: $rel, consent: $yes, idempotencyKey: $k) { position } }";
    let vars = json!({ "v": id, "r": relative, "rel": get(&f, "relation"), "yes": get(&f, "consent") == "1" });
    desk.submit(&f, q, vars, "linkRelative", &back).await
}

/// Ends a link.
pub async fn unlink(
    desk: Desk,
    Path((id, relative)): Path<(String, String)>,
    axum::Form(f): Form,
) -> Response {
    let q = "mutation($v: ID!, $r: ID!, $k: String!) { unlinkRelative(volunteerId: $v, relativeId: $r, idempotencyKey: $k) { position } }";
    let back = format!("/console/volunteers/{id}");
    desk.submit(
        &f,
        q,
        json!({ "v": id, "r": relative }),
        "unlinkRelative",
        &back,
    )
    .await
}

/// Hours spent on a service received, naming its provider by number when given.
pub async fn spend(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let back = format!("/console/volunteers/{id}");
    let number = get(&f, "provider");
    let provider = if number.is_empty() {
        Value::Null
    } else {
        match volunteer_by_number(&desk, &number).await {
            Some(p) => json!(p),
            None => {
                return layout::redirect(
                    &desk.href_with(&back, &[("err", "NUMBER_NOT_FOUND")]),
                    &[],
                )
            }
        }
    };
    let q = "mutation($v: ID!, $h: Hours!, $d: String!, $p: ID, $k: String!) { spendHours(volunteerId: $v, hours: $h, description: $d, providerId: $p, idempotencyKey: $k) { position } }";
    let vars =
        json!({ "v": id, "h": get(&f, "hours"), "d": get(&f, "description"), "p": provider });
    desk.submit(&f, q, vars, "spendHours", &back).await
}
