//! A 文明楼道 rubric tried on a year's inspections at the desk (评分细则试算,
//! `/console/setup/whatif/rubric`): the rubric in force as the starting form (items,
//! their maxima, two blank rows for new ones, the participation maximum), replayed
//! without writing anything; the page shows who holds the red flag each month before
//! and after (易手 where it changes hands) and every stairwell's yearly average and
//! rank, before an admin adopts the rubric on 社区设置.

use super::rules::{rubric_inputs, rubric_rows};
use super::{field, items, Desk};
use crate::gql::{i, s};
use crate::layout::num;
use axum::response::Response;
use chrono::Datelike;
use maud::{html, Markup};
use serde_json::{json, Value};

const NOW: &str =
    "query($c: ID!) { community(id: $c) { rubric { items { key name max } participationMax } } }";

const PREVIEW: &str = "query($c: ID!, $i: [RubricItemInput!]!, $p: Decimal!, $y: Int) {
  previewRubric(communityId: $c, items: $i, participationMax: $p, year: $y) {
    position year
    redFlags { month holderBefore scoreBefore holderAfter scoreAfter changesHands }
    stairwells { label averageBefore averageAfter rankBefore rankAfter } } }";

/// `/console/setup/whatif/rubric`: the form, and the difference once it is filled.
pub async fn page(desk: Desk) -> Response {
    let m = desk.m();
    let t = m.whatif;
    let q = desk.q.clone();
    let value = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let year = value("year")
        .parse::<i32>()
        .unwrap_or_else(|_| ledger::domain::local_date(desk.state.now()).year());
    let tried = q.contains_key("try");
    let (rows, pmax) = if tried {
        (rubric_rows(&q), value("pmax"))
    } else {
        match desk.read(NOW, json!({ "c": desk.c })).await {
            Ok(d) => {
                let r = &d["community"]["rubric"];
                (items(&r["items"]), num(s(r, "participationMax")))
            }
            Err(r) => return r,
        }
    };
    let result = if tried {
        let vars = json!({ "c": desk.c, "i": rows, "p": pmax, "y": year });
        match desk.read(PREVIEW, vars).await {
            Ok(d) => Some(d["previewRubric"].clone()),
            Err(r) => return r,
        }
    } else {
        None
    };
    let form = html! {
        form.grid method="get" action="/console/setup/whatif/rubric" {
            input type="hidden" name="c" value=(desk.c);
            input type="hidden" name="try" value="1";
            (rubric_inputs(&desk, rows.clone(), true))
            (field(m.console.participation, "pmax", html! { input id="pmax" name="pmax" inputmode="decimal" value=(pmax); }))
            (field(t.year, "year", html! { input id="year" name="year" inputmode="numeric" size="6" value=(year); }))
            button.button.primary type="submit" { (t.run) }
        }
    };
    let body = html! {
        p.sub { (t.rubric_hint) }
        p.sub { (t.rubric_rule) }
        @if let Some(r) = &result {
            (difference(&desk, r))
            details.box { summary { (t.again) } (form) }
        } @else {
            (form)
        }
    };
    desk.page(t.rubric_title, body)
}

fn difference(desk: &Desk, r: &Value) -> Markup {
    let t = desk.m().whatif;
    let flags = items(&r["redFlags"]);
    let score = |x: &Value, k: &str| {
        x[k].as_str()
            .map(|v| format!("（{}）", num(v)))
            .unwrap_or_default()
    };
    let rank = |x: &Value, k: &str| match x[k].as_i64() {
        Some(n) => format!("第 {n} 名"),
        None => t.unranked.to_string(),
    };
    let average = |x: &Value, k: &str| x[k].as_str().map(num).unwrap_or_else(|| "—".into());
    html! {
        section.box {
            h2 { (t.flags) " · " (i(r, "year")) "年 · " (t.replayed) " " (i(r, "position")) }
            @if flags.is_empty() { p.sub { (t.no_inspections) } }
            table.flags { thead { tr { th { (t.month) } th { (t.before) } th { (t.after) } th {} } }
                tbody { @for f in &flags {
                    tr {
                        td { (i(f, "month")) "月" }
                        td { (s(f, "holderBefore")) (score(f, "scoreBefore")) }
                        td { b { (s(f, "holderAfter")) } (score(f, "scoreAfter")) }
                        td { @if f["changesHands"] == true { span.tag.bad { (t.changes_hands) } } @else { span.sub { (t.keeps) } } }
                    }
                } }
            }
        }
        section.box {
            h2 { (t.standings) }
            table { thead { tr { th { (t.stairwell) } th.num { (t.average) } th { (t.rank) } } }
                tbody { @for x in items(&r["stairwells"]) {
                    tr {
                        td { (s(&x, "label")) }
                        td.num { (average(&x, "averageBefore")) " → " b { (average(&x, "averageAfter")) } }
                        td { (rank(&x, "rankBefore")) " → " (rank(&x, "rankAfter")) }
                    }
                } }
            }
        }
    }
}
