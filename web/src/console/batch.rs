//! A history import's batch at the desk (导入批次): what reversing it as one would change
//! for each volunteer it credited (what it takes back, the stars, the ranking places
//! with everyone in it falling together, the certificates the log would contradict),
//! and the form that reverses it, with the reason.

use super::correction::effects;
use super::{field, items, Desk};
use crate::gql::{i, s};
use crate::layout::num;
use crate::Form;
use axum::extract::Path;
use axum::response::Response;
use maud::html;
use serde_json::json;

const IMPACT: &str = "query($b: ID!) { importBatchImpact(batchId: $b) {
    file rows entries reversed points hours annualReportYears
    volunteers { detail points hours starsBefore starsAfter annualReportYear
      rankings { period metric before after passedBy }
      certificates { number hoursStated hoursAfter } } } }";

const LIST: &str =
    "query($c: ID!) { importBatches(communityId: $c) { batchId file rows volunteers reversed } }";

/// `GET /console/imports`: the community's history imports, newest first.
pub async fn list(desk: Desk) -> Response {
    let t = desk.m().batch;
    let d = match desk.read(LIST, json!({ "c": desk.c })).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let batches = items(&d["importBatches"]);
    let body = html! {
        p { a.button.primary href=(desk.href("/console/volunteers/history")) { (desk.m().history.open) } }
        @if batches.is_empty() { p.sub { (t.none) } }
        @else {
            table {
                thead { tr { th { (t.file) } th { (t.rows) } th { (t.volunteers) } th {} } }
                tbody { @for b in &batches {
                    tr {
                        td { a href=(desk.href(&format!("/console/imports/{}", s(b, "batchId")))) { (s(b, "file")) } }
                        td { (i(b, "rows")) }
                        td { (i(b, "volunteers")) }
                        td { @if b["reversed"].as_bool() == Some(true) { span.tag.bad { (t.reversed_tag) } } }
                    }
                } }
            }
        }
    };
    desk.page(t.list_title, body)
}

/// `GET /console/imports/{batch}`: the batch, the preview of its reversal and the form.
pub async fn page(desk: Desk, Path(batch): Path<String>) -> Response {
    let t = desk.m().batch;
    let d = match desk.read(IMPACT, json!({ "b": batch })).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let x = &d["importBatchImpact"];
    let volunteers = items(&x["volunteers"]);
    let years: Vec<String> = items(&x["annualReportYears"])
        .iter()
        .map(|y| y.to_string())
        .collect();
    let body = html! {
        p.sub { (t.file) " " b { (s(x, "file")) } " · " (t.rows) " " (i(x, "rows")) }
        @if x["reversed"].as_bool() == Some(true) {
            p.notice role="status" { (t.reversed) }
        } @else if volunteers.is_empty() {
            p.notice role="status" { (t.nothing) }
        } @else {
            section.box {
                h2 { (t.takes_back) }
                p.big { "−" (num(s(x, "hours"))) " 小时 · −" (num(s(x, "points"))) " 积分" }
                p { (t.entries) " " b { (i(x, "entries")) } " · " (t.volunteers) " " b { (volunteers.len()) } }
                @if !years.is_empty() { p.sub { (years.join("、")) (t.reports) } }
            }
            form.grid method="post" action=(desk.href(&format!("/console/imports/{batch}"))) {
                (crate::form::hidden(&desk.session))
                (field(t.reason, "why", html! { input id="why" name="reason" required maxlength="200" placeholder=(t.reason_hint); }))
                button.button.primary type="submit" { (t.confirm) }
                a href=(desk.href("/console/volunteers")) { (t.cancel) }
            }
            h2 { (t.each) }
            @for (n, v) in volunteers.iter().enumerate() {
                details open[n == 0] {
                    summary {
                        (s(v, "detail")) "：−" (num(s(v, "hours"))) " 小时"
                        @if i(v, "starsBefore") != i(v, "starsAfter") {
                            " · " (i(v, "starsBefore")) "★ → " (i(v, "starsAfter")) "★"
                        }
                    }
                    (effects(&desk, v, false))
                }
            }
        }
    };
    desk.page(t.title, body)
}

/// `POST /console/imports/{batch}`: reverses it, with the reason.
pub async fn reverse(desk: Desk, Path(batch): Path<String>, axum::Form(f): Form) -> Response {
    let q = "mutation($b: ID!, $why: String!, $k: String!) { reverseImportBatch(batchId: $b, reason: $why, idempotencyKey: $k) { position } }";
    let vars = json!({ "b": batch, "why": super::activities::get(&f, "reason") });
    let back = format!("/console/imports/{batch}");
    desk.submit(&f, q, vars, "reverseImportBatch", &back).await
}
