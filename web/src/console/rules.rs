//! A community's rules at the desk, versioned: the point rules (积分规则), the star
//! thresholds (星级标准), the activity rules (活动规则), the hours rules, the points
//! expiry (积分有效期) and the 文明楼道 rubric (评分细则). Staff see the version in force; admins set a new version from a date
//! (earlier records keep the rules of their own date).

use super::activities::get;
use super::setup::coefficient_kinds;
use super::{field, items, Desk};
use crate::gql::{i, s};
use crate::layout::num;
use crate::Form;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

/// The rules in force, with the forms of a new version for admins.
pub fn forms(desk: &Desk, c: &Value) -> Markup {
    let m = desk.m();
    let t = &m.console;
    let p = &c["pointRules"];
    let st = &c["starThresholds"];
    let a = &c["activityRules"];
    let r = &c["rubric"];
    let h = &c["hoursRules"];
    let e = &c["pointsExpiry"];
    let x = m.expiry;
    let coef = |k: &str| {
        items(&p["coefficients"])
            .iter()
            .find(|x| s(x, "kind") == k)
            .map(|x| num(s(x, "value")))
            .unwrap_or_else(|| "1".into())
    };
    let admin = desk.is_admin();
    let today = crate::layout::date_value(desk.state.now());
    let from = |id: &str| {
        field(
            t.effective_from,
            id,
            html! { input id=(id) name="from" type="date" required value=(today); },
        )
    };
    html! {
        details.box open[!admin] {
            summary { (t.point_rules) " · v" (i(p, "version")) " · " (s(p, "effectiveFrom")) }
            form.grid method="post" action=(desk.href("/console/setup/points")) {
                (crate::form::hidden(&desk.session))
                (field(t.points_per_hour, "pph", html! { input id="pph" name="pph" inputmode="decimal" required value=(num(s(p, "pointsPerHour"))) disabled[!admin]; }))
                (field(t.max_hours, "maxh", html! { input id="maxh" name="maxh" inputmode="decimal" required value=(num(s(p, "maxHoursPerRecord"))) disabled[!admin]; }))
                @for k in coefficient_kinds() {
                    @let id = format!("coef_{k}");
                    (field(&format!("{} {}", t.coefficient, t.kind(k)), &id, html! { input id=(id) name=(id) inputmode="decimal" value=(coef(k)) disabled[!admin]; }))
                }
                @if admin { (from("pr-from")) button.button type="submit" { (t.new_version) } }
            }
        }
        p { a href=(desk.href("/console/setup/whatif")) { (m.whatif.link) } }
        details.box {
            summary { (t.star_thresholds) " · v" (i(st, "version")) }
            form.grid method="post" action=(desk.href("/console/setup/stars")) {
                (crate::form::hidden(&desk.session))
                @let points = items(&st["points"]);
                @for (n, h) in items(&st["thresholds"]).iter().enumerate() {
                    @let id = format!("star{}", n + 1);
                    @let pid = format!("starp{}", n + 1);
                    @let p = points.get(n).and_then(|p| p.as_str()).map(num).unwrap_or_default();
                    (field(&format!("{}★ {}", n + 1, t.star_hours), &id, html! { input id=(id) name="star" inputmode="decimal" required value=(num(h.as_str().unwrap_or(""))) disabled[!admin]; }))
                    (field(&format!("{}★ {}", n + 1, t.star_points), &pid, html! { input id=(pid) name="starpoints" inputmode="decimal" value=(p) placeholder=(t.star_points_hint) disabled[!admin]; }))
                }
                @if admin { (from("st-from")) button.button type="submit" { (t.new_version) } }
            }
        }
        details.box {
            summary { (t.activity_rules) " · v" (i(a, "version")) }
            form.grid method="post" action=(desk.href("/console/setup/activity")) {
                (crate::form::hidden(&desk.session))
                @for (name, label) in [("timeUnitMinutes", t.time_unit), ("lateRecordDays", t.late_days), ("noticeDays", t.notice_days),
                    ("checkinOpensMinutes", t.checkin_opens), ("codePeriodSeconds", t.code_period)] {
                    (field(label, name, html! { input id=(name) name=(name) type="number" min="0" required value=(i(a, name)) disabled[!admin]; }))
                }
                @if admin { (from("ar-from")) button.button type="submit" { (t.new_version) } }
            }
        }
        details.box {
            summary { (t.hours_rules) " · v" (i(h, "version")) }
            form.grid method="post" action=(desk.href("/console/setup/hours")) {
                (crate::form::hidden(&desk.session))
                label.check { input type="checkbox" name="relativesOnly" value="1" checked[h["giftsToRelativesOnly"] == true] disabled[!admin]; " " (t.gifts_relatives_only) }
                (field(t.stored_hours_cap, "cap", html! { input id="cap" name="cap" inputmode="decimal" size="8" value=(if h["storedHoursCap"].is_string() { num(s(h, "storedHoursCap")) } else { String::new() }) placeholder=(t.no_cap) disabled[!admin]; }))
                @if admin { (from("hr-from")) button.button type="submit" { (t.new_version) } }
            }
        }
        details.box {
            summary { (x.rule) " · v" (i(e, "version")) @if i(e, "validMonths") == 0 { " · " (x.never) } }
            form.grid method="post" action=(desk.href("/console/setup/expiry")) {
                (crate::form::hidden(&desk.session))
                (field(x.months, "ex-m", html! { input id="ex-m" name="months" type="number" min="0" max="120" required value=(i(e, "validMonths")) placeholder=(x.months_hint) disabled[!admin]; }))
                (field(x.rounding, "ex-r", html! {
                    select id="ex-r" name="rounding" disabled[!admin] {
                        @for (v, label) in x.roundings { option value=(v) selected[s(e, "rounding") == v] { (label) } }
                    }
                }))
                @if admin { (from("ex-from")) button.button type="submit" { (t.new_version) } }
            }
        }
        details.box {
            summary { (t.rubric) " · v" (i(r, "version")) }
            form.grid method="post" action=(desk.href("/console/setup/rubric")) {
                (crate::form::hidden(&desk.session))
                (rubric_inputs(desk, items(&r["items"]), admin))
                (field(t.participation, "pmax", html! { input id="pmax" name="pmax" inputmode="decimal" value=(num(s(r, "participationMax"))) disabled[!admin]; }))
                @if admin { (from("rb-from")) button.button type="submit" { (t.new_version) } }
            }
            p { a href=(desk.href("/console/setup/whatif/rubric")) { (m.whatif.rubric_link) } }
        }
    }
}

/// A new version of the point rules.
pub async fn points(desk: Desk, axum::Form(f): Form) -> Response {
    let coefficients: Vec<Value> = coefficient_kinds()
        .into_iter()
        .filter_map(|k| {
            let v = get(&f, &format!("coef_{k}"));
            (!v.is_empty()).then(|| json!({ "kind": k, "coefficient": v }))
        })
        .collect();
    let q = "mutation($c: ID!, $p: Points!, $h: Hours!, $co: [CoefficientInput!]!, $f: NaiveDate!, $k: String!) {
      setPointRules(communityId: $c, pointsPerHour: $p, maxHoursPerRecord: $h, coefficients: $co, effectiveFrom: $f, idempotencyKey: $k) { position } }";
    let vars = json!({ "c": desk.c, "p": get(&f, "pph"), "h": get(&f, "maxh"), "co": coefficients, "f": get(&f, "from") });
    desk.submit(&f, q, vars, "setPointRules", "/console/setup")
        .await
}

/// A new version of the star thresholds.
pub async fn stars(desk: Desk, axum::Form(pairs): axum::Form<Vec<(String, String)>>) -> Response {
    let f: std::collections::HashMap<String, String> = pairs.iter().cloned().collect();
    let thresholds: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "star")
        .map(|(_, v)| v.trim())
        .collect();
    // Points only when some are given (all five then, or the API says what is wrong).
    let points: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "starpoints")
        .map(|(_, v)| v.trim())
        .collect();
    let points = if points.iter().all(|p| p.is_empty()) {
        Value::Null
    } else {
        json!(points)
    };
    let q = "mutation($c: ID!, $t: [Hours!]!, $f: NaiveDate!, $p: [Points!], $k: String!) {
      setStarThresholds(communityId: $c, thresholds: $t, effectiveFrom: $f, points: $p, idempotencyKey: $k) { position } }";
    let vars = json!({ "c": desk.c, "t": thresholds, "f": get(&f, "from"), "p": points });
    desk.submit(&f, q, vars, "setStarThresholds", "/console/setup")
        .await
}

/// A new version of the activity rules.
pub async fn activity(desk: Desk, axum::Form(f): Form) -> Response {
    let n = |k: &str| get(&f, k).parse::<i64>().unwrap_or(-1);
    let q = "mutation($c: ID!, $u: Int!, $l: Int!, $n: Int!, $o: Int!, $p: Int!, $f: NaiveDate!, $k: String!) {
      setActivityRules(communityId: $c, timeUnitMinutes: $u, lateRecordDays: $l, noticeDays: $n, checkinOpensMinutes: $o,
        codePeriodSeconds: $p, effectiveFrom: $f, idempotencyKey: $k) { position } }";
    let vars = json!({ "c": desk.c, "u": n("timeUnitMinutes"), "l": n("lateRecordDays"), "n": n("noticeDays"),
        "o": n("checkinOpensMinutes"), "p": n("codePeriodSeconds"), "f": get(&f, "from") });
    desk.submit(&f, q, vars, "setActivityRules", "/console/setup")
        .await
}

/// A new version of the hours rules.
pub async fn hours(desk: Desk, axum::Form(f): Form) -> Response {
    let q = "mutation($c: ID!, $r: Boolean!, $f: NaiveDate!, $cap: Hours, $k: String!) {
      setHoursRules(communityId: $c, giftsToRelativesOnly: $r, effectiveFrom: $f, storedHoursCap: $cap, idempotencyKey: $k) { position } }";
    let cap = match get(&f, "cap") {
        c if c.is_empty() => Value::Null,
        c => json!(c),
    };
    let vars = json!({ "c": desk.c, "r": get(&f, "relativesOnly") == "1", "f": get(&f, "from"), "cap": cap });
    desk.submit(&f, q, vars, "setHoursRules", "/console/setup")
        .await
}

/// A new version of the points expiry.
pub async fn expiry(desk: Desk, axum::Form(f): Form) -> Response {
    let q = "mutation($c: ID!, $m: Int!, $r: ExpiryRounding!, $f: NaiveDate!, $k: String!) {
      setPointsExpiry(communityId: $c, validMonths: $m, rounding: $r, effectiveFrom: $f, idempotencyKey: $k) { position } }";
    let months: i64 = get(&f, "months").parse().unwrap_or(-1);
    let vars = json!({ "c": desk.c, "m": months, "r": get(&f, "rounding"), "f": get(&f, "from") });
    desk.submit(&f, q, vars, "setPointsExpiry", "/console/setup")
        .await
}

/// The rubric's rows of a form: those with a name (a new row gets a key from its place).
pub fn rubric_rows(f: &std::collections::HashMap<String, String>) -> Vec<Value> {
    let mut list = Vec::new();
    // A rubric holds up to 20 items; the form has two blank rows beyond them.
    for n in 0..22 {
        let name = get(f, &format!("item_name_{n}"));
        if name.is_empty() {
            continue;
        }
        let key = Some(get(f, &format!("item_key_{n}")))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| format!("item{}", n + 1));
        list.push(json!({ "key": key, "name": name, "max": get(f, &format!("item_max_{n}")) }));
    }
    list
}

/// The rubric's rows as inputs (the items given, then two blank rows for new ones).
pub fn rubric_inputs(desk: &Desk, items_now: Vec<Value>, enabled: bool) -> Markup {
    let t = &desk.m().console;
    let rows = [items_now, vec![Value::Null, Value::Null]].concat();
    html! {
        @for (n, it) in rows.iter().enumerate() {
            @let id = format!("item_name_{n}");
            (field(&format!("{} {}", t.rubric_item, n + 1), &id, html! {
                span.inline {
                    input type="hidden" name=(format!("item_key_{n}")) value=(s(it, "key"));
                    input id=(id) name=(id) maxlength="20" value=(s(it, "name")) disabled[!enabled];
                    input name=(format!("item_max_{n}")) inputmode="decimal" size="4" value=(num(s(it, "max"))) aria-label=(t.max_score) disabled[!enabled];
                }
            }))
        }
    }
}

/// A new version of the rubric: the rows with a name (a new row gets a key from its
/// place).
pub async fn rubric(desk: Desk, axum::Form(f): Form) -> Response {
    let list = rubric_rows(&f);
    let q = "mutation($c: ID!, $i: [RubricItemInput!]!, $p: Decimal!, $f: NaiveDate!, $k: String!) {
      setRubric(communityId: $c, items: $i, participationMax: $p, effectiveFrom: $f, idempotencyKey: $k) { position } }";
    let vars = json!({ "c": desk.c, "i": list, "p": get(&f, "pmax"), "f": get(&f, "from") });
    desk.submit(&f, q, vars, "setRubric", "/console/setup")
        .await
}
