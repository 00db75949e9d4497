//! The volunteer's service record on the phone (`/m/record`, 我的档案): training and its
//! hours, commendations, what residents said of their services (满意度), and the
//! services they received for their hours, each rated once with one tap (1–5).

use super::{flash, for_volunteers, shell};
use crate::gql::{self, i, s};
use crate::layout::{day, num, page, respond, star_marks};
use crate::{form, Form, Signed, WebState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde_json::json;
use std::collections::HashMap;

const RECORD: &str = "query($v: ID!, $at: Int) { volunteer(id: $v, atLeast: $at) { serviceRecord {
    trainingHours satisfaction evaluationCount
    trainings { course hours date withdrawnReason }
    commendations { title date withdrawnReason }
    evaluations { date kind satisfaction comment }
    received { serviceId providerId description hours satisfaction } } } }";

/// `/m/record`.
pub async fn record(
    State(state): State<WebState>,
    Signed(session): Signed,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    let t = m.record;
    let Some(me) = session.principal.actor.volunteer_id else {
        return for_volunteers(&state);
    };
    let vars = json!({ "v": me.0.to_string(), "at": gql::at_least(&q) });
    let d = gql::run(&state, &session, RECORD, vars)
        .await
        .unwrap_or_default();
    let r = &d["volunteer"]["serviceRecord"];
    let kept = |list: &serde_json::Value| -> Vec<serde_json::Value> {
        gql::items(list)
            .into_iter()
            .filter(|x| !x["withdrawnReason"].is_string())
            .collect()
    };
    let trainings = kept(&r["trainings"]);
    let commendations = kept(&r["commendations"]);
    let evaluations = gql::items(&r["evaluations"]);
    let received = gql::items(&r["received"]);
    let body = html! {
        header.top { a.back href="/m" { "‹ " (m.back_home) } h1 { (t.my_record) } }
        @if q.contains_key("ok") && !q.contains_key("err") { p.notice.good role="status" { (t.thanks) } }
        @else { (flash(m, &q)) }
        section.cards {
            div.card { span.label { (t.training_hours) } span.big { (num(s(r, "trainingHours"))) } span.unit { "小时" } }
            div.card { span.label { (t.mean) } span.big { @if r["satisfaction"].is_string() { (num(s(r, "satisfaction"))) } @else { "—" } } span.unit { (i(r, "evaluationCount")) " " (t.times) } }
        }
        section {
            h2 { (t.received) }
            @if received.is_empty() { p.sub { (t.no_received) } }
            @for x in &received {
                article.activity {
                    h3 { (s(x, "description")) " · " (num(s(x, "hours"))) " 小时" }
                    @if x["satisfaction"].is_number() {
                        p { span.starmarks { (star_marks(i(x, "satisfaction"))) } " " (t.level(i(x, "satisfaction"))) }
                    } @else {
                        form.rate method="post" action=(format!("/m/record/rate/{}/{}", s(x, "providerId"), s(x, "serviceId"))) {
                            (form::hidden(&session))
                            p.sub { (t.rate) }
                            div.rate {
                                @for n in (1..=5).rev() {
                                    button.button type="submit" name="satisfaction" value=(n) { small { (star_marks(n)) } (t.level(n)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { (t.commendations) }
            @if commendations.is_empty() { p.sub { (t.no_commendations) } }
            ul.lines { @for c in &commendations {
                li { span.what { span.tag.good { (t.commendation_tag) } (s(c, "title")) } span.when { (day(s(c, "date"))) } span.delta {} }
            } }
        }
        section {
            h2 { (t.trainings) }
            @if trainings.is_empty() { p.sub { (t.no_trainings) } }
            ul.lines { @for x in &trainings {
                li { span.what { (s(x, "course")) } span.when { (day(s(x, "date"))) } span.delta { (num(s(x, "hours"))) " 小时" } }
            } }
        }
        section {
            h2 { (t.evaluations) }
            @if evaluations.is_empty() { p.sub { (t.no_evaluations) } }
            ul.lines { @for e in evaluations.iter().take(20) {
                li {
                    span.what { (m.console.kind(s(e, "kind"))) " " span.starmarks aria-label=(format!("{}分", i(e, "satisfaction"))) { (star_marks(i(e, "satisfaction"))) } }
                    span.when { (day(s(e, "date"))) }
                    @if !s(e, "comment").is_empty() { span.delta { "“" (s(e, "comment")) "”" } }
                }
            } }
        }
    };
    respond(StatusCode::OK, page(&shell(m, t.my_record, &headers), body))
}

/// The volunteer's evaluation of a service they received.
pub async fn rate(
    State(state): State<WebState>,
    Signed(session): Signed,
    Path((provider, service)): Path<(String, String)>,
    axum::Form(f): Form,
) -> Response {
    let query = "mutation($v: ID!, $s: ID!, $n: Int!, $k: String!) { evaluateService(volunteerId: $v, serviceId: $s, satisfaction: $n, idempotencyKey: $k) { position } }";
    let n: i64 = f
        .get("satisfaction")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    form::submit(
        &state,
        &session,
        &f,
        query,
        json!({ "v": provider, "s": service, "n": n }),
        "evaluateService",
        "/m/record?ok=1",
        "/m/record?from=form",
    )
    .await
}
