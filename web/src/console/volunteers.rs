//! The volunteers at the desk: the list (search by name, number or the last digits of
//! the phone; sorted by number, points or hours; page by page; the community's totals;
//! tick several and award them points at once), and registration. One volunteer's page
//! is in [`super::volunteer`].

use super::activities::get;
use super::{field, items, stairwell_name, Desk};
use crate::gql::{i, s};
use crate::layout::{self, num, star_marks};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

const LIST: &str = "query($c: ID!, $q: String, $o: VolunteerOrder, $after: String, $at: Int) {
  volunteers(communityId: $c, search: $q, orderBy: $o, first: 50, after: $after, atLeast: $at) {
    volunteers { id name phone volunteerNumber stairwellId tags departed balance { points verifiedHours stars } }
    hasNextPage endCursor }
  volunteerTotals(communityId: $c) { volunteers points verifiedHours }
  community(id: $c) { stairwells { id building unit } } }";

/// `/console/volunteers?search=&sort=number|points|hours&after=`.
pub async fn list(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let search = desk.param("search").to_string();
    let sort = match desk.param("sort") {
        "points" => "POINTS",
        "hours" => "HOURS",
        _ => "NUMBER",
    };
    let after = desk.param("after").to_string();
    let vars = json!({ "c": desk.c, "q": (!search.is_empty()).then_some(&search), "o": sort,
        "after": (!after.is_empty()).then_some(&after), "at": crate::gql::at_least(&desk.q) });
    let d = match desk.read(LIST, vars).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let page = &d["volunteers"];
    let list = items(&page["volunteers"]);
    let stairwells = items(&d["community"]["stairwells"]);
    let where_ = |id: &str| {
        stairwells
            .iter()
            .find(|sw| s(sw, "id") == id)
            .map(stairwell_name)
            .unwrap_or_default()
    };
    let totals = &d["volunteerTotals"];
    let sort_key = desk.param("sort").to_string();
    let head = |label: &str, key: &str| {
        let on = sort_key == key || (key.is_empty() && sort_key.is_empty());
        html! {
            a.sort.on[on] href=(desk.href_with("/console/volunteers", &[("search", &search), ("sort", key)])) { (label) @if on { " ▼" } }
        }
    };
    let next = (page["hasNextPage"] == true).then(|| s(page, "endCursor").to_string());
    // "Tick all on this page" is a link (no script): the same page with every box ticked.
    let tick_all = desk.param("tick") == "all";
    let keep: Vec<(&str, &str)> = [
        ("search", search.as_str()),
        ("sort", sort_key.as_str()),
        ("after", after.as_str()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let mut keep_all = keep.clone();
    keep_all.push(("tick", "all"));
    let body = html! {
        div.bar {
            form.search method="get" action="/console/volunteers" {
                input type="hidden" name="c" value=(desk.c);
                input type="hidden" name="sort" value=(sort_key);
                input name="search" value=(search) placeholder=(t.search_hint) aria-label=(m.search);
                button.button type="submit" { (m.search) }
            }
            a.button.primary href=(desk.href("/console/volunteers/new")) { (t.register) }
            " "
            a.button href=(desk.href("/console/volunteers/import")) { (m.import.open) }
            " "
            a.button href=(desk.href("/console/volunteers/history")) { (m.history.open) }
        }
        p.totals { (t.community_total) " " (i(totals, "volunteers")) " " (t.people) " · " (m.points) " " (num(s(totals, "points")))
            " · " (t.verified_hours) " " (num(s(totals, "verifiedHours"))) " 小时" }
        form method="post" action=(desk.href("/console/points/many")) {
            (crate::form::hidden(&desk.session))
            fieldset.bulk {
                legend { (t.award_selected) }
                label { (m.points) " " input name="points" inputmode="decimal" size="6" required; }
                label { (t.reason) " " input name="reason" required maxlength="200" size="30"; }
                button.button.primary type="submit" { (t.award) }
            }
            p {
                @if tick_all { a href=(desk.href_with("/console/volunteers", &keep)) { (m.tick_none) } }
                @else { a href=(desk.href_with("/console/volunteers", &keep_all)) { (m.tick_all) } }
            }
            table.list {
                thead { tr {
                    th { span.sr { (t.choose) } }
                    th { (head(m.number, "")) } th { (m.name) } th { (m.phone) } th { (t.stairwell) } th { (t.tags) }
                    th.num { (head(m.points, "points")) } th.num { (head(t.verified_hours, "hours")) } th { (m.stars) }
                } }
                tbody {
                    @for v in &list {
                        tr.departed[v["departed"] == true] {
                            td { @if v["departed"] != true { input type="checkbox" name="v" value=(s(v, "id")) aria-label=(s(v, "name")) checked[tick_all]; } }
                            td { (s(v, "volunteerNumber")) }
                            td { a href=(desk.href(&format!("/console/volunteers/{}", s(v, "id")))) { (s(v, "name")) }
                                 @if v["departed"] == true { " " span.tag { (t.departed) } } }
                            td { (s(v, "phone")) }
                            td { (where_(s(v, "stairwellId"))) }
                            td { @for tag in items(&v["tags"]) { span.tag { (tag.as_str().unwrap_or("")) } } }
                            td.num { (num(s(&v["balance"], "points"))) }
                            td.num { (num(s(&v["balance"], "verifiedHours"))) }
                            td.starmarks { (star_marks(i(&v["balance"], "stars"))) }
                        }
                    }
                }
            }
            @if list.is_empty() { p.sub { (t.none) } }
            (desk.pager("/console/volunteers", &[("search", &search), ("sort", &sort_key)], next.as_deref()))
        }
    };
    desk.page(m.volunteers, body)
}

/// The tags staff most often give (any other can be typed).
pub const COMMON_TAGS: [&str; 5] = ["党员", "五老", "青年", "银发先锋", "退役军人"];

/// Tags as a form gave them: ticked common ones and the typed others (、 , or spaces).
pub fn tags_of(f: &[(String, String)]) -> Vec<String> {
    let mut tags: Vec<String> = f
        .iter()
        .filter(|(k, _)| k == "tag")
        .map(|(_, v)| v.trim().to_string())
        .collect();
    for (k, v) in f.iter().filter(|(k, _)| k == "more_tags") {
        let _ = k;
        tags.extend(
            v.split(['、', ',', '，', ' '])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from),
        );
    }
    tags.retain(|t| !t.is_empty());
    tags
}

/// Tick boxes of the common tags and a field for others, with `current` ticked.
pub fn tag_fields(desk: &Desk, current: &[String]) -> Markup {
    let t = &desk.m().console;
    let others: Vec<&str> = current
        .iter()
        .map(String::as_str)
        .filter(|c| !COMMON_TAGS.contains(c))
        .collect();
    html! {
        span.checks {
            @for tag in COMMON_TAGS {
                label { input type="checkbox" name="tag" value=(tag) checked[current.iter().any(|c| c == tag)]; " " (tag) }
            }
            input name="more_tags" value=(others.join("、")) placeholder=(t.other_tags) aria-label=(t.other_tags);
        }
    }
}

/// The stairwells of the community as options ("3栋2单元").
pub fn stairwell_options(community: &Value) -> Vec<(String, String)> {
    items(&community["stairwells"])
        .iter()
        .map(|sw| (s(sw, "id").to_string(), stairwell_name(sw)))
        .collect()
}

/// A mobile phone (11 digits) or a landline with its area code.
pub const PHONE: &str = r"1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}";
/// An ID number (居民身份证): 17 digits and a digit or X.
pub const ID_NUMBER: &str = "[0-9]{17}[0-9Xx]";

/// `/console/volunteers/new`: registration.
pub async fn new(desk: Desk) -> Response {
    form_page(&desk, &std::collections::HashMap::new()).await
}

/// The registration form, with what was typed (after a refusal) and why it was refused.
async fn form_page(desk: &Desk, keep: &std::collections::HashMap<String, String>) -> Response {
    let m = desk.m();
    let t = &m.console;
    let query = "query($c: ID!) { community(id: $c) { stairwells { id building unit } teams { id name } } }";
    let c = match desk.read(query, json!({ "c": desk.c })).await {
        Ok(d) => d["community"].clone(),
        Err(r) => return r,
    };
    let stairwells = stairwell_options(&c);
    let body = html! {
        @if let Some(code) = keep.get("err") {
            p.notice.bad role="alert" { (crate::msg::error_text(code)) @if let Some(n) = keep.get("err_number") { " " (crate::msg::EXISTING_RECORD) b { (n) } } }
        }
        @if let Some(v) = keep.get("record") {
            (super::transfer::offer(desk, v, keep, &stairwells))
        }
        @if stairwells.is_empty() {
            p.notice.bad { (t.no_stairwells) " " a href=(desk.href("/console/setup")) { (t.setup) } }
        }
        form.grid method="post" action=(desk.href("/console/volunteers")) {
            (crate::form::hidden(&desk.session))
            (field(m.name, "name", html! { input id="name" name="name" required maxlength="50" value=(get(keep, "name")); }))
            (field(m.phone, "phone", html! { input id="phone" name="phone" inputmode="tel" maxlength="20" value=(get(keep, "phone"))
                pattern=(PHONE) title=(t.phone_title); }))
            (field(t.id_number, "id_number", html! { input id="id_number" name="id_number" maxlength="18" value=(get(keep, "id_number"))
                pattern=(ID_NUMBER) title=(t.id_title); }))
            (field(t.stairwell, "stairwell", html! {
                select id="stairwell" name="stairwell" required {
                    option value="" { (t.stairwell_choose) }
                    @for (v, l) in &stairwells { option value=(v) selected[get(keep, "stairwell") == *v] { (l) } }
                }
            }))
            (field(t.household, "household", html! { input id="household" name="household" maxlength="30" placeholder="3-2-201" value=(get(keep, "household")); }))
            p.sub.wide { (t.household_hint) }
            (field(t.tags, "tags", tag_fields(desk, &[])))
            @let teams = items(&c["teams"]);
            @if !teams.is_empty() {
                (field(t.teams, "teams", html! { span.checks { @for team in &teams {
                    label { input type="checkbox" name="team" value=(s(team, "id")); " " (s(team, "name")) }
                } } }))
            }
            p.sub.wide { (t.privacy_note) }
            button.button.primary type="submit" { (t.register) }
        }
    };
    desk.page(t.register, body)
}

/// Registers the volunteer; then to their page.
pub async fn register(
    desk: Desk,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f: std::collections::HashMap<String, String> = pairs.iter().cloned().collect();
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &f, "/console") {
        return r;
    }
    let opt = |k: &str| Some(get(&f, k)).filter(|v| !v.is_empty());
    let teams: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == "team")
        .map(|(_, v)| v)
        .collect();
    let query = "mutation($k: String!, $c: ID!, $s: ID!, $n: String!, $p: String, $i: String, $h: String, $t: [String!]!, $teams: [ID!]!) {
      registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n, phone: $p, idNumber: $i, household: $h, tags: $t, teamIds: $teams) { volunteerId position } }";
    let vars = json!({ "k": crate::form::key(&f), "c": desk.c, "s": get(&f, "stairwell"), "n": get(&f, "name"),
        "p": opt("phone"), "i": opt("id_number"), "h": opt("household"), "t": tags_of(&pairs), "teams": teams });
    match crate::gql::run(&desk.state, &desk.session, query, vars).await {
        Ok(d) => {
            let r = &d["registerVolunteer"];
            let path = format!("/console/volunteers/{}", s(r, "volunteerId"));
            let at = i(r, "position").to_string();
            layout::redirect(&desk.href_with(&path, &[("ok", "1"), ("at", &at)]), &[])
        }
        Err(e) => {
            let mut keep = f.clone();
            keep.insert("err".into(), e.code);
            if let Some(n) = e.volunteer_number {
                keep.insert("err_number".into(), n);
            }
            // The person's record is in another community: offer to move it here.
            if let Some((v, c)) = e.record.filter(|(_, c)| *c != desk.c) {
                keep.insert("record".into(), v);
                keep.insert("record_community".into(), c);
            }
            form_page(&desk, &keep).await
        }
    }
}
