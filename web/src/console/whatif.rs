//! Rules tried on the log at the desk (规则试算, `/console/setup/whatif`): proposed points
//! per hour with a coefficient per kind and star thresholds (hours, and points when
//! given), replayed over the community's log without writing anything; the page shows
//! the points before and after, the volunteers per star level, the top 20 and who
//! changes most, before an admin adopts the rule on 社区设置.

use super::activities::KINDS;
use super::{field, items, Desk};
use crate::gql::{i, s};
use crate::layout::num;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

const PREVIEW: &str = "query($c: ID!, $pph: Points, $coef: [ProposedCoefficient!]!, $t: [Hours!], $p: [Points!], $y: Int) {
  previewRules(communityId: $c, pointsPerHour: $pph, coefficients: $coef, starThresholds: $t, starPoints: $p, year: $y) {
    position year pointsBefore pointsAfter starsBefore starsAfter
    changes { volunteerNumber before after }
    topBefore { rank volunteerNumber points } topAfter { rank volunteerNumber points } } }";

fn list(q: &std::collections::HashMap<String, String>, prefix: &str) -> Option<Vec<String>> {
    let v: Vec<String> = (1..=5)
        .map(|n| {
            q.get(&format!("{prefix}{n}"))
                .map(|x| x.trim().to_string())
                .unwrap_or_default()
        })
        .collect();
    (!v.iter().all(String::is_empty)).then_some(v)
}

/// `/console/setup/whatif`: the form, and the difference once it is filled.
pub async fn page(desk: Desk) -> Response {
    let m = desk.m();
    let t = m.whatif;
    let q = desk.q.clone();
    let value = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let tried = q.contains_key("try");
    let result = if tried {
        let pph = Some(value("pph")).filter(|v| !v.is_empty());
        let coef: Vec<Value> = KINDS
            .iter()
            .filter_map(|k| {
                let v = value(&format!("k_{k}"));
                (!v.is_empty()).then(|| json!({ "kind": k, "coefficient": v }))
            })
            .collect();
        let year = value("year").parse::<i32>().ok();
        let vars = json!({ "c": desk.c, "pph": pph, "coef": coef, "t": list(&q, "h"), "p": list(&q, "p"), "y": year });
        match desk.read(PREVIEW, vars).await {
            Ok(d) => Some(d["previewRules"].clone()),
            Err(r) => return r,
        }
    } else {
        None
    };
    let form = html! {
        form.grid method="get" action="/console/setup/whatif" {
            input type="hidden" name="c" value=(desk.c);
            input type="hidden" name="try" value="1";
            (field(t.points_per_hour, "pph", html! { input id="pph" name="pph" inputmode="decimal" size="6" value=(value("pph")) placeholder=(t.unchanged); }))
            @for k in KINDS {
                @let id = format!("k_{k}");
                (field(&format!("{} {}", t.coefficient, m.console.kind(k)), &id, html! { input id=(id) name=(id) inputmode="decimal" size="4" value=(value(&id)) placeholder="1"; }))
            }
            @for n in 1..=5 {
                @let h = format!("h{n}");
                @let p = format!("p{n}");
                (field(&format!("{n}★ {}", m.console.star_hours), &h, html! { input id=(h) name=(h) inputmode="decimal" size="6" value=(value(&h)) placeholder=(t.unchanged); }))
                (field(&format!("{n}★ {}", m.console.star_points), &p, html! { input id=(p) name=(p) inputmode="decimal" size="6" value=(value(&p)); }))
            }
            (field(t.year, "year", html! { input id="year" name="year" inputmode="numeric" size="6" value=(value("year")) placeholder=(t.all_time); }))
            button.button.primary type="submit" { (t.run) }
        }
    };
    // Once tried, the difference first and the proposal below it, to change and try again.
    let body = html! {
        p.sub { (t.hint) }
        @if let Some(r) = &result {
            (difference(&desk, r))
            details.box { summary { (t.again) } (form) }
        } @else {
            (form)
        }
    };
    desk.page(t.title, body)
}

fn difference(desk: &Desk, r: &Value) -> Markup {
    let t = desk.m().whatif;
    let levels = |k: &str| {
        items(&r[k])
            .iter()
            .map(|x| x.as_i64().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    let (sb, sa) = (levels("starsBefore"), levels("starsAfter"));
    let top = |k: &str| items(&r[k]);
    let (tb, ta) = (top("topBefore"), top("topAfter"));
    html! {
        section.box {
            h2 { (t.result) " · " (t.replayed) " " (i(r, "position")) }
            p { (t.points_total) "：" (num(s(r, "pointsBefore"))) " → " b { (num(s(r, "pointsAfter"))) } }
            table { thead { tr { th { (t.level) } @for n in 0..6 { th { (n) "★" } } } }
                tbody {
                    tr { td { (t.before) } @for x in &sb { td.num { (x) } } }
                    tr { td { (t.after) } @for x in &sa { td.num { (x) } } }
                }
            }
        }
        div.columns {
            section {
                h2 { (t.top) }
                table { thead { tr { th { (t.before) } th {} th { (t.after) } th {} } }
                    tbody { @for n in 0..tb.len().max(ta.len()).min(30) {
                        tr {
                            td { @if let Some(x) = tb.get(n) { (i(x, "rank")) ". " (s(x, "volunteerNumber")) } }
                            td.num { @if let Some(x) = tb.get(n) { (num(s(x, "points"))) } }
                            td { @if let Some(x) = ta.get(n) { (i(x, "rank")) ". " (s(x, "volunteerNumber")) } }
                            td.num { @if let Some(x) = ta.get(n) { (num(s(x, "points"))) } }
                        }
                    } }
                }
            }
            section {
                h2 { (t.changes) }
                @let changes = items(&r["changes"]);
                @if changes.is_empty() { p.sub { (t.no_change) } }
                table { tbody { @for c in changes.iter().take(50) {
                    tr { td { (s(c, "volunteerNumber")) } td.num { (num(s(c, "before"))) " → " (num(s(c, "after"))) } }
                } } }
            }
        }
    }
}
