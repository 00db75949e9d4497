//! 文明楼道 at the desk (`/console/stairwells`): the month's scores of every stairwell
//! (inspected or still due), the 流动红旗; the monthly inspection of one stairwell by the
//! rubric in force; issues reported (deducted while open) and resolved.

use super::activities::get;
use super::{field, items, stairwell_name, Desk};
use crate::gql::{i, s};
use crate::layout;
use crate::Form;
use axum::response::Response;
use chrono::{Datelike, Months, NaiveDate};
use maud::html;
use serde_json::{json, Value};

/// The month asked for (`YYYY-MM`), or this month (UTC+8), and the months around it.
pub(super) fn months(desk: &Desk) -> (String, String, String) {
    let today = desk.state.now().with_timezone(&layout::cst()).date_naive();
    let first = NaiveDate::parse_from_str(&format!("{}-01", desk.param("month")), "%Y-%m-%d")
        .unwrap_or_else(|_| today.with_day(1).unwrap_or(today));
    let ym = |d: NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let prev = first.checked_sub_months(Months::new(1)).unwrap_or(first);
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    (ym(first), ym(prev), ym(next))
}

/// `/console/stairwells?month=`.
pub async fn scores(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let (month, prev, next) = months(&desk);
    let quarter = quarter_of(&month);
    let query = "query($c: ID!, $m: String!, $q: String!, $at: Int) {
      stairwellScores(communityId: $c, month: $m, atLeast: $at) { stairwellId building unit items participation deductions total rank redFlag }
      stairwellAverages(communityId: $c, period: $q, atLeast: $at) { building unit monthsScored average rank redFlag }
      community(id: $c, atLeast: $at) { stairwells { id building unit } openIssueCounts { stairwellId open } } }";
    let vars =
        json!({ "c": desk.c, "m": month, "q": quarter, "at": crate::gql::at_least(&desk.q) });
    let d = match desk.read(query, vars).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let averages = items(&d["stairwellAverages"]);
    let scores = items(&d["stairwellScores"]);
    let all = items(&d["community"]["stairwells"]);
    let score_of = |id: &str| scores.iter().find(|x| s(x, "stairwellId") == id).cloned();
    let counts = items(&d["community"]["openIssueCounts"]);
    let open_of = |id: &str| {
        counts
            .iter()
            .find(|x| s(x, "stairwellId") == id)
            .map_or(0, |x| i(x, "open"))
    };
    let flag = scores.iter().find(|x| x["redFlag"] == true);
    let mut rows: Vec<(Value, Option<Value>)> = all
        .iter()
        .map(|sw| (sw.clone(), score_of(s(sw, "id"))))
        .collect();
    rows.sort_by_key(|(_, sc)| sc.as_ref().map_or(i64::MAX, |x| i(x, "rank")));
    let inspected = scores.len();
    let body = html! {
        nav.filters {
            a.button href=(desk.href_with("/console/stairwells", &[("month", &prev)])) { "‹ " (prev) }
            strong { (month) }
            a.button href=(desk.href_with("/console/stairwells", &[("month", &next)])) { (next) " ›" }
        }
        @if let Some(f) = flag {
            p.flag { (layout::flag_icon()) " " (m.red_flag) "：" b { (s(f, "building")) (s(f, "unit")) } " " (layout::num(s(f, "total"))) " 分" }
        } @else { p.sub { (m.no_red_flag) } }
        p.totals { (t.inspected) " " (inspected) " / " (all.len()) }
        table {
            thead { tr { th.num { (t.rank) } th { (t.stairwell) } th.num { (t.items_score) } th.num { (t.participation) } th.num { (t.deductions) } th.num { (m.score) } th.num { (t.open_issues) } } }
            tbody {
                @for (sw, sc) in &rows {
                    tr {
                        td.num { @if let Some(x) = sc { (i(x, "rank")) @if x["redFlag"] == true { " " (layout::flag_icon()) } } }
                        td { a href=(desk.href_with("/console/stairwells/inspect", &[("s", s(sw, "id")), ("month", &month)])) { (stairwell_name(sw)) } }
                        @if let Some(x) = sc {
                            td.num { (layout::num(s(x, "items"))) } td.num { (layout::num(s(x, "participation"))) }
                            td.num { (layout::num(s(x, "deductions"))) } td.num { b { (layout::num(s(x, "total"))) } }
                        } @else {
                            td.sub colspan="4" { (t.not_inspected) }
                        }
                        td.num { @let n = open_of(s(sw, "id")); @if n > 0 { (n) } }
                    }
                }
            }
        }
        h2 { (t.quarter_averages) " " (quarter) }
        @if let Some(f) = averages.first() {
            p.flag { (layout::flag_icon()) " " (t.quarter_flag) "：" b { (s(f, "building")) (s(f, "unit")) } " " (layout::num(s(f, "average"))) " 分" }
            table {
                thead { tr { th.num { (t.rank) } th { (t.stairwell) } th.num { (t.months_scored) } th.num { (t.average) } } }
                tbody {
                    @for a in averages.iter().take(10) {
                        tr {
                            td.num { (i(a, "rank")) @if a["redFlag"] == true { " " (layout::flag_icon()) } }
                            td { (s(a, "building")) (s(a, "unit")) }
                            td.num { (i(a, "monthsScored")) }
                            td.num { b { (layout::num(s(a, "average"))) } }
                        }
                    }
                }
            }
        } @else { p.sub { (m.no_red_flag) } }
    };
    desk.page(t.stairwells, body)
}

/// The quarter ("YYYY-Qn") of a month ("YYYY-MM").
fn quarter_of(month: &str) -> String {
    let (y, m) = month.split_once('-').unwrap_or((month, "1"));
    let q = (m.parse::<u32>().unwrap_or(1).clamp(1, 12) - 1) / 3 + 1;
    format!("{y}-Q{q}")
}

/// `/console/stairwells/inspect?s=&month=`: the rubric's form, and the issues.
pub async fn inspect_page(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let (month, _, _) = months(&desk);
    let sid = desk.param("s").to_string();
    let query = "query($c: ID!, $s: ID!, $m: String!) {
      community(id: $c) { stairwell(id: $s) { id building unit households openIssues { id description deduction } }
        rubric { version items { key name max } participationMax } }
      stairwellScores(communityId: $c, month: $m) { stairwellId total } }";
    let d = match desk
        .read(query, json!({ "c": desk.c, "s": sid, "m": month }))
        .await
    {
        Ok(d) => d,
        Err(r) => return r,
    };
    let sw = d["community"]["stairwell"].clone();
    if !sw.is_object() {
        return desk.failed("NOT_FOUND");
    }
    let done = items(&d["stairwellScores"])
        .into_iter()
        .find(|x| s(x, "stairwellId") == sid);
    let rubric = &d["community"]["rubric"];
    let back = desk.href_with("/console/stairwells", &[("month", &month)]);
    let body = html! {
        p { a href=(back) { "‹ " (t.back_to_stairwells) } }
        p.sub { (t.households_of) " " (i(&sw, "households")) " " (t.households) " · " (month) }
        @if let Some(x) = &done {
            p.notice.good { (t.already_inspected) " " (layout::num(s(x, "total"))) " 分" }
        } @else {
            form.grid method="post" action=(desk.href("/console/stairwells/inspect")) {
                (crate::form::hidden(&desk.session))
                input type="hidden" name="s" value=(sid);
                input type="hidden" name="month" value=(month);
                @for it in items(&rubric["items"]) {
                    @let id = format!("score-{}", s(&it, "key"));
                    (field(&format!("{}（{}）", s(&it, "name"), layout::num(s(&it, "max"))), &id, html! {
                        input id=(id) name=(format!("item_{}", s(&it, "key"))) type="number" min="0" max=(s(&it, "max")) step="0.5" required;
                    }))
                }
                (field(t.note, "note", html! { input id="note" name="note" maxlength="200"; }))
                p.sub.wide { (t.participation_auto) " " (layout::num(s(rubric, "participationMax"))) " 分" }
                button.button.primary type="submit" { (t.save_inspection) }
            }
        }
        h2 { (t.open_issues) }
        @let issues = items(&sw["openIssues"]);
        @if issues.is_empty() { p.sub { (t.none) } }
        table { tbody { @for is in &issues {
            tr {
                td { (s(is, "description")) }
                td.num { "−" (layout::num(s(is, "deduction"))) " 分" }
                td { form.inline method="post" action=(desk.href("/console/stairwells/resolve")) {
                    (crate::form::hidden(&desk.session))
                    input type="hidden" name="s" value=(sid);
                    input type="hidden" name="issue" value=(s(is, "id"));
                    input name="note" maxlength="200" size="12" placeholder=(t.how_resolved) aria-label=(t.how_resolved);
                    button.button.small type="submit" { (t.resolve) }
                } }
            }
        } } }
        details.box {
            summary { (t.report_issue) }
            form.grid method="post" action=(desk.href("/console/stairwells/issue")) {
                (crate::form::hidden(&desk.session))
                input type="hidden" name="s" value=(sid);
                (field(t.issue, "i-d", html! { input id="i-d" name="description" required maxlength="200" placeholder=(t.issue_hint); }))
                (field(t.deduction, "i-x", html! { input id="i-x" name="deduction" type="number" min="0" max="100" step="0.5" required value="2"; }))
                button.button type="submit" { (t.report_issue) }
            }
        }
    };
    desk.page(&stairwell_name(&sw), body)
}

fn back(f: &std::collections::HashMap<String, String>) -> String {
    format!(
        "/console/stairwells/inspect?s={}&month={}",
        get(f, "s"),
        get(f, "month")
    )
}

/// Records the month's inspection.
pub async fn inspect(desk: Desk, axum::Form(f): Form) -> Response {
    let scores: Vec<Value> = f
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("item_")
                .map(|item| json!({ "item": item, "score": v.trim() }))
        })
        .collect();
    let query = "mutation($c: ID!, $s: ID!, $m: String!, $sc: [ScoreInput!]!, $n: String!, $k: String!) {
      recordInspection(communityId: $c, stairwellId: $s, month: $m, scores: $sc, note: $n, idempotencyKey: $k) { position } }";
    let vars = json!({ "c": desk.c, "s": get(&f, "s"), "m": get(&f, "month"), "sc": scores, "n": get(&f, "note") });
    let to = format!("/console/stairwells?month={}", get(&f, "month"));
    desk.submit(&f, query, vars, "recordInspection", &to).await
}

/// Reports an issue.
pub async fn issue(desk: Desk, axum::Form(f): Form) -> Response {
    let query = "mutation($c: ID!, $s: ID!, $d: String!, $x: Decimal!, $k: String!) {
      reportStairwellIssue(communityId: $c, stairwellId: $s, description: $d, deduction: $x, idempotencyKey: $k) { position } }";
    let vars = json!({ "c": desk.c, "s": get(&f, "s"), "d": get(&f, "description"), "x": get(&f, "deduction") });
    let to = back(&f);
    desk.submit(&f, query, vars, "reportStairwellIssue", &to)
        .await
}

/// Resolves an issue.
pub async fn resolve(desk: Desk, axum::Form(f): Form) -> Response {
    let query = "mutation($c: ID!, $s: ID!, $i: ID!, $n: String!, $k: String!) {
      resolveStairwellIssue(communityId: $c, stairwellId: $s, issueId: $i, note: $n, idempotencyKey: $k) { position } }";
    let vars =
        json!({ "c": desk.c, "s": get(&f, "s"), "i": get(&f, "issue"), "n": get(&f, "note") });
    let to = back(&f);
    desk.submit(&f, query, vars, "resolveStairwellIssue", &to)
        .await
}
