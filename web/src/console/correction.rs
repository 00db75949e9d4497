//! A correction at the desk (冲正): from a line of a volunteer's statement, a page that
//! says what reversing it would change — what it takes back, the stars before and
//! after, the places in the community's rankings and who would pass them, the
//! certificates the log would then contradict — and asks for the reason before the
//! clerk confirms. The same account of a correction ([`effects`]) shows before an
//! objection is upheld (`notices`).

use super::activities::get;
use super::{field, items, Desk};
use crate::gql::{i, s};
use crate::layout::{num, star_marks};
use crate::Form;
use axum::extract::Path;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

const IMPACT: &str = "query($v: ID!, $e: ID!) { correctionImpact(volunteerId: $v, entryId: $e) {
    detail points hours starsBefore starsAfter annualReportYear
    rankings { period metric before after passedBy }
    certificates { number hoursStated hoursAfter } }
  volunteer(id: $v) { name volunteerNumber } }";

/// Whether a statement line may be reversed from the desk: a verified service or an
/// award not reversed yet.
pub fn reversible(kind: &str, reversed_by: &serde_json::Value) -> bool {
    matches!(kind, "SERVICE_VERIFIED" | "POINTS_AWARDED") && reversed_by.is_null()
}

/// `/console/volunteers/{id}/reverse/{entry}`: the preview and the form.
pub async fn preview(desk: Desk, Path((id, entry)): Path<(String, String)>) -> Response {
    let m = desk.m();
    let t = m.correction;
    let d = match desk.read(IMPACT, json!({ "v": id, "e": entry })).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let x = &d["correctionImpact"];
    let v = &d["volunteer"];
    let back = desk.href(&format!("/console/volunteers/{id}"));
    let body = html! {
        p.sub { (s(v, "name")) " · " (s(v, "volunteerNumber")) }
        (effects(&desk, x, false))
        form.grid method="post" action=(desk.href(&format!("/console/volunteers/{id}/reverse/{entry}"))) {
            (crate::form::hidden(&desk.session))
            (field(t.reason, "why", html! { input id="why" name="reason" required maxlength="200" placeholder=(t.reason_hint); }))
            button.button.primary type="submit" { (t.confirm) }
            a href=(back) { (t.cancel) }
        }
    };
    desk.page(t.title, body)
}

/// What a correction changes (a `CorrectionImpact`): what it takes back, the stars, the
/// ranking places, the documents; `pending`: of a record in its notice, not credited yet.
pub fn effects(desk: &Desk, x: &Value, pending: bool) -> Markup {
    let t = desk.m().correction;
    let rank = |r: &Value| match r.as_i64() {
        Some(n) => format!("第 {n} 名"),
        None => t.unranked.to_string(),
    };
    // What is taken back shows as −; a correction that gives more than was recorded, +.
    let signed = |v: &str| match v.strip_prefix('-') {
        Some(more) => format!("+{}", num(more)),
        None => format!("−{}", num(v)),
    };
    let adds = s(x, "points").starts_with('-') || s(x, "hours").starts_with('-');
    html! {
        section.box {
            h2 { (if adds { t.adds } else if pending { t.keeps_back } else { t.takes_back }) }
            p { (s(x, "detail")) }
            p.big { @if num(s(x, "points")) != "0" { (signed(s(x, "points"))) " 积分 " } @if num(s(x, "hours")) != "0" { (signed(s(x, "hours"))) " 小时" } }
            p { (t.stars) "：" span.starmarks { (star_marks(i(x, "starsBefore"))) } " → " span.starmarks { (star_marks(i(x, "starsAfter"))) }
                @if i(x, "starsBefore") != i(x, "starsAfter") { " " span.tag.bad { (t.stars_change) } } }
            @if pending { p.sub { (t.as_recorded) } }
        }
        section.box {
            h2 { (t.rankings) }
            @let moves = items(&x["rankings"]);
            @if moves.is_empty() { p.sub { (t.no_rankings) } }
            table { tbody { @for r in &moves {
                tr {
                    td { (t.period(s(r, "period"))) }
                    td { (if s(r, "metric") == "POINTS" { t.by_points } else { t.by_hours }) }
                    td { (rank(&r["before"])) " → " (rank(&r["after"])) }
                    td { @let by = items(&r["passedBy"]); @if !by.is_empty() { (t.passed_by) " " @for (n, p) in by.iter().enumerate() { @if n > 0 { "、" } (p.as_str().unwrap_or("")) } } }
                }
            } } }
        }
        @if pending { section.box { h2 { (t.documents) } p.sub { (t.not_credited) } } }
        @else { section.box {
            h2 { (t.documents) }
            @let certs = items(&x["certificates"]);
            @if certs.is_empty() { p.sub { (t.no_certificates) } }
            ul.plain { @for c in &certs {
                li { (t.certificate) " " (s(c, "number")) "：" (num(s(c, "hoursStated"))) " 小时 → " (num(s(c, "hoursAfter"))) " 小时" }
            } }
            p.sub { (i(x, "annualReportYear")) (t.annual_report) }
        } }
    }
}

/// Reverses the entry, with the reason.
pub async fn reverse(
    desk: Desk,
    Path((id, entry)): Path<(String, String)>,
    axum::Form(f): Form,
) -> Response {
    let q = "mutation($v: ID!, $e: ID!, $why: String!, $k: String!) { reverseEntry(volunteerId: $v, entryId: $e, reason: $why, idempotencyKey: $k) { position } }";
    let vars = json!({ "v": id, "e": entry, "why": get(&f, "reason") });
    let back = format!("/console/volunteers/{id}");
    desk.submit(&f, q, vars, "reverseEntry", &back).await
}
