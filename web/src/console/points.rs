//! Points at the desk (`/console/points`): award points (积分奖励) to one volunteer or to
//! many at once with one reason — by their numbers typed or pasted, or ticked in the
//! volunteer list — and the community's latest awards.

use super::activities::get;
use super::attendance::volunteer_by_number;
use super::{field, items, Desk};
use crate::gql::s;
use crate::layout::{self, num, parse_time, when};
use axum::response::Response;
use maud::html;
use serde_json::json;
use std::collections::HashMap;

/// `/console/points`.
pub async fn page(desk: Desk) -> Response {
    page_with(&desk, &HashMap::new()).await
}

/// The page, with what was typed (after a refusal) and why it was refused.
async fn page_with(desk: &Desk, keep: &HashMap<String, String>) -> Response {
    let m = desk.m();
    let t = &m.console;
    let query = "query($c: ID!, $at: Int) { recentAwards(communityId: $c, first: 20, atLeast: $at) { name kind subject points hours detail at } }";
    let recent = match desk
        .read(
            query,
            json!({ "c": desk.c, "at": crate::gql::at_least(&desk.q) }),
        )
        .await
    {
        Ok(d) => items(&d["recentAwards"]),
        Err(r) => return r,
    };
    let body = html! {
        div.columns {
            section {
                h2 { (t.award_many) }
                @if let Some(code) = keep.get("err") {
                    p.notice.bad role="alert" { (crate::msg::error_text(code)) " " (get(keep, "what")) }
                }
                p.sub { (t.award_many_hint) }
                form.grid method="post" action=(desk.href("/console/points/many")) {
                    (crate::form::hidden(&desk.session))
                    (field(t.numbers, "numbers", html! { textarea id="numbers" name="numbers" rows="5" required placeholder="TB-000001 TB-000002" { (get(keep, "numbers")) } }))
                    (field(m.points, "p", html! { input id="p" name="points" inputmode="decimal" required size="6" value=(get(keep, "points")); }))
                    (field(t.reason, "r", html! { input id="r" name="reason" required maxlength="200" value=(get(keep, "reason")); }))
                    button.button.primary type="submit" { (t.award) }
                }
                p.sub { (t.or_tick) " " a href=(desk.href("/console/volunteers")) { (m.volunteers) } }
            }
            section {
                h2 { (t.recent_awards) }
                table {
                    tbody {
                        @for a in &recent {
                            tr {
                                td { (parse_time(s(a, "at")).map(when).unwrap_or_default()) }
                                td { (s(a, "name")) }
                                td { @if s(a, "kind") == "POINTS_AWARDED" { (s(a, "detail")) } @else { (s(a, "subject")) } }
                                td.num { "+" (num(s(a, "points"))) " 分" }
                            }
                        }
                    }
                }
            }
        }
    };
    desk.page(t.points, body)
}

/// Awards the volunteers ticked (`v`) or numbered (`numbers`) the same points for one
/// reason, in one command: every award or none.
pub async fn many(desk: Desk, axum::Form(pairs): axum::Form<Vec<(String, String)>>) -> Response {
    let f: HashMap<String, String> = pairs.iter().cloned().collect();
    let mut ids: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "v" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    let numbers = get(&f, "numbers");
    let back = if numbers.is_empty() {
        "/console/volunteers"
    } else {
        "/console/points"
    };
    let again = |code: &str, what: &str| {
        let mut keep = f.clone();
        keep.insert("err".into(), code.to_string());
        keep.insert("what".into(), what.to_string());
        keep
    };
    for n in numbers
        .split(|c: char| c.is_whitespace() || ",，、;；".contains(c))
        .filter(|n| !n.is_empty())
    {
        match volunteer_by_number(&desk, n).await {
            Some(id) if !ids.contains(&id) => ids.push(id),
            Some(_) => {}
            None => return page_with(&desk, &again("NUMBER_NOT_FOUND", n)).await,
        }
    }
    if ids.is_empty() {
        return layout::redirect(&desk.href_with(back, &[("err", "NONE_CHOSEN")]), &[]);
    }
    let query = "mutation($v: [ID!]!, $p: Points!, $r: String!, $k: String!) { awardPointsToMany(volunteerIds: $v, points: $p, reason: $r, idempotencyKey: $k) { position } }";
    let vars = json!({ "v": ids, "p": get(&f, "points"), "r": get(&f, "reason") });
    if numbers.is_empty() {
        return desk
            .submit(&f, query, vars, "awardPointsToMany", back)
            .await;
    }
    // Typed numbers: a refusal shows them again, to correct.
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &f, "/console") {
        return r;
    }
    let mut vars = vars;
    vars["k"] = json!(crate::form::key(&f));
    match crate::gql::run(&desk.state, &desk.session, query, vars).await {
        Ok(d) => {
            let at = crate::gql::i(&d["awardPointsToMany"], "position").to_string();
            let ok = [("ok", "awardPointsToMany"), ("at", at.as_str())];
            layout::redirect(&desk.href_with(back, &ok), &[])
        }
        Err(e) => page_with(&desk, &again(&e.code, "")).await,
    }
}
