//! A volunteer's service record at the desk, on their page (服务档案): training with its
//! hours, commendations with the annual report they rest on, each withdrawn with a
//! reason when recorded in error; and the residents' evaluations of their services
//! (群众评事), recorded by staff after a return visit or call, one per service.

use super::activities::get;
use super::{field, items, Desk};
use crate::gql::{i, s};
use crate::layout::{self, num, star_marks};
use crate::Form;
use axum::extract::Path;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

/// The fields of `volunteer { serviceRecord }` the box shows.
pub const FIELDS: &str = "serviceRecord { trainingHours satisfaction evaluationCount
      trainings { recordId course hours date withdrawnReason }
      commendations { recordId title date reportYear reportPosition withdrawnReason }
      evaluations { serviceId kind date hours satisfaction comment byResident }
      awaitingEvaluation { serviceId kind date hours } }";

/// The record as read, on the left of the page.
pub fn record_view(desk: &Desk, id: &str, r: &Value) -> Markup {
    let m = desk.m();
    let t = m.record;
    let base = format!("/console/volunteers/{id}");
    let withdraw = |record: &str| {
        html! {
            form.inline method="post" action=(desk.href(&format!("{base}/record/{record}/withdraw"))) {
                (crate::form::hidden(&desk.session))
                input name="reason" required maxlength="200" size="8" placeholder=(t.withdraw_reason) aria-label=(t.withdraw_reason);
                " " button.link type="submit" { (t.withdraw) }
            }
        }
    };
    html! {
        h2 { (t.title) }
        h3 { (t.trainings) " · " (t.training_hours) " " (num(s(r, "trainingHours"))) " 小时" }
        @let trainings = items(&r["trainings"]);
        @if trainings.is_empty() { p.sub { (t.no_trainings) } }
        ul.plain { @for x in &trainings {
            li {
                (s(x, "date")) " " (s(x, "course")) " · " (num(s(x, "hours"))) " 小时"
                @if x["withdrawnReason"].is_string() { " " span.tag { (t.withdrawn) "：" (s(x, "withdrawnReason")) } }
                @else { " " (withdraw(s(x, "recordId"))) }
            }
        } }
        h3 { (t.commendations) }
        @let commendations = items(&r["commendations"]);
        @if commendations.is_empty() { p.sub { (t.no_commendations) } }
        ul.plain { @for x in &commendations {
            li {
                (s(x, "date")) " " b { (s(x, "title")) }
                @if x["reportYear"].is_number() {
                    " · " (t.evidence) "：" (i(x, "reportYear")) "年度表彰报告"
                }
                @if x["withdrawnReason"].is_string() { " " span.tag { (t.withdrawn) "：" (s(x, "withdrawnReason")) } }
                @else { " " (withdraw(s(x, "recordId"))) }
            }
        } }
        h3 { (t.evaluations)
            @if r["satisfaction"].is_string() { " · " (t.mean) " " (num(s(r, "satisfaction"))) "（" (i(r, "evaluationCount")) " " (t.times) "）" } }
        @let evaluations = items(&r["evaluations"]);
        @if evaluations.is_empty() { p.sub { (t.no_evaluations) } }
        table { tbody { @for e in evaluations.iter().take(10) {
            tr {
                td { (s(e, "date")) }
                td { (m.console.kind(s(e, "kind"))) " " (num(s(e, "hours"))) " 小时" }
                td { span.starmarks { (star_marks(i(e, "satisfaction"))) } " " (t.level(i(e, "satisfaction"))) }
                td { (s(e, "comment")) @if e["byResident"] == true { " " span.tag { (t.by_resident) } } }
            }
        } } }
    }
}

/// The forms, on the right of the page: training, commendation, evaluations due.
pub fn record_forms(desk: &Desk, id: &str, r: &Value) -> Markup {
    let m = desk.m();
    let t = m.record;
    let base = format!("/console/volunteers/{id}");
    let today = desk
        .state
        .now()
        .with_timezone(&layout::cst())
        .date_naive()
        .to_string();
    let levels: Vec<(String, String)> = (1..=5)
        .rev()
        .map(|n| (n.to_string(), format!("{n} {}", t.level(n))))
        .collect();
    html! {
        details.box open {
            summary { (t.title) }
            form.grid method="post" action=(desk.href(&format!("{base}/training"))) {
                (crate::form::hidden(&desk.session))
                (field(t.course, "tr-c", html! { input id="tr-c" name="course" required maxlength="100" placeholder=(t.course_hint); }))
                (field(t.hours, "tr-h", html! { input id="tr-h" name="hours" inputmode="decimal" required size="6"; }))
                (field(t.date, "tr-d", html! { input id="tr-d" name="date" type="date" required value=(today) max=(today); }))
                button.button type="submit" { (t.record_training) }
            }
            form.grid method="post" action=(desk.href(&format!("{base}/commendation"))) {
                (crate::form::hidden(&desk.session))
                (field(t.commendation_title, "cm-t", html! { input id="cm-t" name="title" required maxlength="100" placeholder=(t.commendation_hint); }))
                (field(t.date, "cm-d", html! { input id="cm-d" name="date" type="date" required value=(today) max=(today); }))
                (field(t.report_year, "cm-y", html! { input id="cm-y" name="year" inputmode="numeric" size="6" placeholder=(t.report_year_hint); }))
                button.button type="submit" { (t.give_commendation) }
            }
            @let due = items(&r["awaitingEvaluation"]);
            @if !due.is_empty() {
                h3 { (t.awaiting) }
                @for e in due.iter().take(5) {
                    form.grid method="post" action=(desk.href(&format!("{base}/evaluate/{}", s(e, "serviceId")))) {
                        (crate::form::hidden(&desk.session))
                        p { (s(e, "date")) " " (m.console.kind(s(e, "kind"))) " " (num(s(e, "hours"))) " 小时" }
                        (field(t.satisfaction, &format!("ev-s-{}", s(e, "serviceId")), super::select("satisfaction", &levels, "5")))
                        (field(t.comment, &format!("ev-c-{}", s(e, "serviceId")), html! { input id=(format!("ev-c-{}", s(e, "serviceId"))) name="comment" maxlength="200"; }))
                        button.button type="submit" { (t.save_evaluation) }
                    }
                }
            }
        }
    }
}

/// Records a training.
pub async fn training(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let q = "mutation($v: ID!, $c: String!, $h: Hours!, $d: NaiveDate!, $k: String!) { recordTraining(volunteerId: $v, course: $c, hours: $h, date: $d, idempotencyKey: $k) { position } }";
    let vars =
        json!({ "v": id, "c": get(&f, "course"), "h": get(&f, "hours"), "d": get(&f, "date") });
    let back = format!("/console/volunteers/{id}");
    desk.submit(&f, q, vars, "recordTraining", &back).await
}

/// Records a commendation; with a year, resting on that year's annual report as it
/// reads now (pinned to the current position).
pub async fn commendation(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let back = format!("/console/volunteers/{id}");
    let year = get(&f, "year");
    let (year, position) = if year.trim().is_empty() {
        (Value::Null, Value::Null)
    } else {
        let Ok(y) = year.trim().parse::<i32>() else {
            return layout::redirect(&desk.href_with(&back, &[("err", "INVALID_INPUT")]), &[]);
        };
        let report =
            "query($c: ID!, $y: Int!) { annualReport(communityId: $c, year: $y) { position } }";
        match desk.read(report, json!({ "c": desk.c, "y": y })).await {
            Ok(d) => (json!(y), d["annualReport"]["position"].clone()),
            Err(r) => return r,
        }
    };
    let q = "mutation($v: ID!, $t: String!, $d: NaiveDate!, $y: Int, $p: Int, $k: String!) { giveCommendation(volunteerId: $v, title: $t, date: $d, reportYear: $y, reportPosition: $p, idempotencyKey: $k) { position } }";
    let vars =
        json!({ "v": id, "t": get(&f, "title"), "d": get(&f, "date"), "y": year, "p": position });
    desk.submit(&f, q, vars, "giveCommendation", &back).await
}

/// Withdraws a training or a commendation, with the reason.
pub async fn withdraw(
    desk: Desk,
    Path((id, record)): Path<(String, String)>,
    axum::Form(f): Form,
) -> Response {
    let q = "mutation($v: ID!, $r: ID!, $why: String!, $k: String!) { withdrawRecord(volunteerId: $v, recordId: $r, reason: $why, idempotencyKey: $k) { position } }";
    let vars = json!({ "v": id, "r": record, "why": get(&f, "reason") });
    let back = format!("/console/volunteers/{id}");
    desk.submit(&f, q, vars, "withdrawRecord", &back).await
}

/// Records a resident's evaluation of one service.
pub async fn evaluate(
    desk: Desk,
    Path((id, service)): Path<(String, String)>,
    axum::Form(f): Form,
) -> Response {
    let q = "mutation($v: ID!, $s: ID!, $n: Int!, $c: String!, $k: String!) { evaluateService(volunteerId: $v, serviceId: $s, satisfaction: $n, comment: $c, idempotencyKey: $k) { position } }";
    let n: i64 = get(&f, "satisfaction").parse().unwrap_or(0);
    let vars = json!({ "v": id, "s": service, "n": n, "c": get(&f, "comment") });
    let back = format!("/console/volunteers/{id}");
    desk.submit(&f, q, vars, "evaluateService", &back).await
}
