//! One volunteer at the desk (`/console/volunteers/{id}`): their account (points, hours,
//! stars, what is in 公示), their latest statement lines and certificates, and what
//! staff do for them: correct their personal data, set their tags, move them, teams,
//! record that they left, award or redeem points, relatives and hours spent (in
//! `family`), training, commendations and evaluations (in `record`), issue a
//! certificate, hand them a login link as a QR code.

use super::activities::get;
use super::volunteers::{stairwell_options, tag_fields, tags_of};
use super::{field, items, select, Desk};
use crate::gql::{i, s};
use crate::layout::{date, num, parse_time, star_marks};
use crate::Form;
use axum::extract::Path;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};

const VOLUNTEER: &str = "query($v: ID!, $c: ID!, $at: Int) {
  volunteer(id: $v, atLeast: $at) { id name phone idNumber volunteerNumber stairwellId tags teamIds departed erased
    relatives { volunteerId relation name }
    SERVICE_RECORD
    balance { points hours verifiedHours stars flagged } pending { hours points } totals { starThresholds } }
  statement(volunteerId: $v, first: 10, newestFirst: true) { entries { entryId kind reversedBy description pointsDelta hoursDelta recordedAt } }
  certificates(volunteerId: $v) { number issuedAt page { url } }
  community(id: $c) { name stairwells { id building unit } teams { id name } } }";

/// `/console/volunteers/{id}`.
pub async fn page(desk: Desk, Path(id): Path<String>) -> Response {
    let m = desk.m();
    let t = &m.console;
    let vars = json!({ "v": id, "c": desk.c, "at": crate::gql::at_least(&desk.q) });
    let query = VOLUNTEER.replace("SERVICE_RECORD", super::record::FIELDS);
    let d = match desk.read(&query, vars).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let v = &d["volunteer"];
    let b = &v["balance"];
    let c = &d["community"];
    let stairwells = stairwell_options(c);
    let here = stairwells
        .iter()
        .find(|(sid, _)| sid == s(v, "stairwellId"))
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    let teams = items(&c["teams"]);
    let mine: Vec<String> = items(&v["teamIds"])
        .iter()
        .filter_map(|x| x.as_str().map(String::from))
        .collect();
    let tags: Vec<String> = items(&v["tags"])
        .iter()
        .filter_map(|x| x.as_str().map(String::from))
        .collect();
    let active = v["departed"] != true;
    let body = html! {
        @if let Some(banner) = super::transfer::moved_banner(&desk) { (banner) }
        p.sub { (m.number) " " (s(v, "volunteerNumber")) " · " (m.phone) " " (s(v, "phone")) " · " (t.id_number) " " (if s(v, "idNumber").is_empty() { t.not_given } else { s(v, "idNumber") })
            " · " (t.stairwell) " " (here) @if !active { " · " span.tag { (t.departed) } } @if v["erased"] == true { " · " span.tag { (t.erased) } } }
        p { @for tag in &tags { span.tag { (tag) } } @for team in teams.iter().filter(|x| mine.iter().any(|m| m == s(x, "id"))) { span.tag.good { (s(team, "name")) } } }
        section.tiles {
            div.tile { span.label { (m.points) } span.big { (num(s(b, "points"))) } }
            div.tile { span.label { (t.verified_hours) } span.big { (num(s(b, "verifiedHours"))) } }
            div.tile { span.label { (t.bank_hours) } span.big { (num(s(b, "hours"))) } }
            div.tile { span.label { (m.stars) } span.big.starmarks { (star_marks(i(b, "stars"))) } }
        }
        @if num(s(&v["pending"], "hours")) != "0" { p.pending { (m.pending) " " (num(s(&v["pending"], "hours"))) " 小时" } }
        @if b["flagged"] == true { p.notice.bad { (t.flagged) } }
        div.columns {
            section {
                h2 { (t.latest_lines) }
                (lines(&desk, &id, &d["statement"]["entries"]))
                h2 { (t.certificates) }
                ul.plain { @for cert in items(&d["certificates"]) {
                    li { a href=(s(&cert["page"], "url")) target="_blank" { (s(&cert, "number")) } " · " (parse_time(s(&cert, "issuedAt")).map(date).unwrap_or_default()) }
                } }
                @if active { (certificate_form(&desk, &id, s(c, "name"))) }
                (super::record::record_view(&desk, &id, &v["serviceRecord"]))
            }
            section {
                @if active {
                    (points_forms(&desk, &id))
                    (super::family::family_box(&desk, &id, &v["relatives"]))
                    (super::record::record_forms(&desk, &id, &v["serviceRecord"]))
                    (link_form(&desk, &id, s(v, "name")))
                    (edit_forms(&desk, &id, v, &stairwells, &tags))
                    (team_forms(&desk, &id, &teams, &mine))
                }
            }
        }
    };
    let title = if v["name"].is_string() {
        s(v, "name").to_string()
    } else {
        t.erased.to_string()
    };
    desk.page(&title, body)
}

fn lines(desk: &Desk, id: &str, entries: &Value) -> Markup {
    let t = desk.m().correction;
    html! {
        table {
            tbody {
                @for e in items(entries) {
                    tr {
                        td { (parse_time(s(&e, "recordedAt")).map(date).unwrap_or_default()) }
                        td { (s(&e, "description")) }
                        td.num { @if num(s(&e, "pointsDelta")) != "0" { (num(s(&e, "pointsDelta"))) " 分" } }
                        td.num { @if num(s(&e, "hoursDelta")) != "0" { (num(s(&e, "hoursDelta"))) " 小时" } }
                        td { @if super::correction::reversible(s(&e, "kind"), &e["reversedBy"]) {
                            a href=(desk.href(&format!("/console/volunteers/{id}/reverse/{}", s(&e, "entryId")))) { (t.link) }
                        } }
                    }
                }
            }
        }
    }
}

fn points_forms(desk: &Desk, id: &str) -> Markup {
    let m = desk.m();
    let t = &m.console;
    let action = desk.href(&format!("/console/volunteers/{id}/points"));
    html! {
        details.box open {
            summary { (t.points) }
            form.grid method="post" action=(action) {
                (crate::form::hidden(&desk.session))
                input type="hidden" name="do" value="award";
                (field(t.award_points, "a-p", html! { input id="a-p" name="points" inputmode="decimal" required size="6"; }))
                (field(t.reason, "a-r", html! { input id="a-r" name="reason" required maxlength="200"; }))
                button.button.primary type="submit" { (t.award) }
            }
            form.grid method="post" action=(action) {
                (crate::form::hidden(&desk.session))
                input type="hidden" name="do" value="redeem";
                (field(t.redeem_points, "r-p", html! { input id="r-p" name="points" inputmode="decimal" required size="6"; }))
                (field(t.item, "r-i", html! { input id="r-i" name="item" required maxlength="50" placeholder=(t.item_hint); }))
                button.button type="submit" { (t.redeem) }
            }
        }
    }
}

fn link_form(desk: &Desk, id: &str, name: &str) -> Markup {
    let m = desk.m();
    html! {
        form method="post" action=(desk.href("/console/links")) {
            input type="hidden" name="csrf" value=(desk.session.csrf());
            input type="hidden" name="volunteer" value=(id);
            input type="hidden" name="name" value=(name);
            button.button type="submit" { (m.new_link) }
        }
    }
}

fn certificate_form(desk: &Desk, id: &str, community: &str) -> Markup {
    let t = &desk.m().console;
    html! {
        details.box {
            summary { (t.issue_certificate) }
            form.grid method="post" action=(desk.href(&format!("/console/volunteers/{id}/certificate"))) {
                (crate::form::hidden(&desk.session))
                (field(t.organisation, "o", html! { input id="o" name="organisation" required maxlength="100" placeholder=(t.organisation_hint) value=(format!("{community}居民委员会")); }))
                (field(t.person_in_charge, "pic", html! { input id="pic" name="person" maxlength="50"; }))
                (field(t.handler, "h", html! { input id="h" name="handler" maxlength="50"; }))
                (field(t.contact, "ct", html! { input id="ct" name="contact" maxlength="50"; }))
                button.button type="submit" { (t.issue_certificate) }
            }
        }
    }
}

fn edit_forms(
    desk: &Desk,
    id: &str,
    v: &Value,
    stairwells: &[(String, String)],
    tags: &[String],
) -> Markup {
    let m = desk.m();
    let t = &m.console;
    let base = format!("/console/volunteers/{id}");
    html! {
        details.box {
            summary { (t.correct_data) }
            form.grid method="post" action=(desk.href(&format!("{base}/correct"))) {
                (crate::form::hidden(&desk.session))
                (field(m.name, "e-n", html! { input id="e-n" name="name" required maxlength="50" value=(s(v, "name")); }))
                (field(m.phone, "e-p", html! { input id="e-p" name="phone" inputmode="tel" maxlength="20" value=(s(v, "phone")); }))
                @let idn = s(v, "idNumber");
                @let masked = idn.contains('*');
                (field(t.id_number, "e-i", html! { input id="e-i" name="id_number" maxlength="18" value=(if masked { "" } else { idn }) placeholder=(if masked { t.id_number_again } else { "" }); }))
                p.sub.wide { (t.correct_note) }
                button.button type="submit" { (t.save) }
            }
        }
        details.box {
            summary { (t.tags) }
            form.grid method="post" action=(desk.href(&format!("{base}/tags"))) {
                (crate::form::hidden(&desk.session))
                (field(t.tags, "tags", tag_fields(desk, tags)))
                button.button type="submit" { (t.save) }
            }
        }
        details.box {
            summary { (t.move_to) }
            form.grid method="post" action=(desk.href(&format!("{base}/move"))) {
                (crate::form::hidden(&desk.session))
                (field(t.stairwell, "stairwell", select("stairwell", stairwells, s(v, "stairwellId"))))
                (field(t.household, "m-h", html! { input id="m-h" name="household" maxlength="30" placeholder="3-2-201"; }))
                button.button type="submit" { (t.move_to) }
            }
        }
        details.box {
            summary { (t.depart) }
            form.grid method="post" action=(desk.href(&format!("{base}/depart"))) {
                (crate::form::hidden(&desk.session))
                (field(t.reason, "d-r", html! { input id="d-r" name="reason" required maxlength="200" placeholder=(t.depart_hint); }))
                button.button type="submit" { (t.depart) }
            }
        }
    }
}

fn team_forms(desk: &Desk, id: &str, teams: &[Value], mine: &[String]) -> Markup {
    let t = &desk.m().console;
    html! {
        @if !teams.is_empty() {
            details.box {
                summary { (t.teams) }
                @for team in teams {
                    @let member = mine.iter().any(|x| x == s(team, "id"));
                    form.inline method="post" action=(desk.href(&format!("/console/volunteers/{id}/team"))) {
                        (crate::form::hidden(&desk.session))
                        input type="hidden" name="team" value=(s(team, "id"));
                        input type="hidden" name="do" value=(if member { "leave" } else { "join" });
                        span { (s(team, "name")) " " }
                        button.button.small type="submit" { (if member { t.leave_team } else { t.join_team }) }
                    }
                }
            }
        }
    }
}

/// Awards or redeems points.
pub async fn points(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let back = format!("/console/volunteers/{id}");
    if get(&f, "do") == "redeem" {
        let q = "mutation($v: ID!, $p: Points!, $i: String!, $k: String!) { redeemPoints(volunteerId: $v, points: $p, item: $i, idempotencyKey: $k) { position } }";
        let vars = json!({ "v": id, "p": get(&f, "points"), "i": get(&f, "item") });
        return desk.submit(&f, q, vars, "redeemPoints", &back).await;
    }
    let q = "mutation($v: ID!, $p: Points!, $r: String!, $k: String!) { awardPoints(volunteerId: $v, points: $p, reason: $r, idempotencyKey: $k) { position } }";
    let vars = json!({ "v": id, "p": get(&f, "points"), "r": get(&f, "reason") });
    desk.submit(&f, q, vars, "awardPoints", &back).await
}

/// Corrects the personal data (the ID number only when one is typed again).
pub async fn correct(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let back = format!("/console/volunteers/{id}");
    let mut idn = get(&f, "id_number");
    if idn.is_empty() {
        // Staff see the ID number masked: keep the one on file.
        let q = "query($v: ID!) { volunteer(id: $v) { idNumber } }";
        if let Ok(d) = desk.read(q, json!({ "v": id })).await {
            if s(&d["volunteer"], "idNumber").contains('*') {
                return crate::layout::redirect(
                    &desk.href_with(&back, &[("err", "ID_NUMBER_AGAIN")]),
                    &[],
                );
            }
            idn = s(&d["volunteer"], "idNumber").to_string();
        }
    }
    let q = "mutation($v: ID!, $n: String!, $p: String, $i: String, $k: String!) { correctPersonalData(volunteerId: $v, name: $n, phone: $p, idNumber: $i, idempotencyKey: $k) { position } }";
    let vars = json!({ "v": id, "n": get(&f, "name"), "p": get(&f, "phone"), "i": idn });
    desk.submit(&f, q, vars, "correctPersonalData", &back).await
}

/// Sets the tags.
pub async fn tags(
    desk: Desk,
    Path(id): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f: std::collections::HashMap<String, String> = pairs.iter().cloned().collect();
    let q = "mutation($v: ID!, $t: [String!]!, $k: String!) { setVolunteerTags(volunteerId: $v, tags: $t, idempotencyKey: $k) { position } }";
    let vars = json!({ "v": id, "t": tags_of(&pairs) });
    desk.submit(
        &f,
        q,
        vars,
        "setVolunteerTags",
        &format!("/console/volunteers/{id}"),
    )
    .await
}

/// Moves them to another stairwell or household.
pub async fn move_to(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let h = get(&f, "household");
    let q = "mutation($v: ID!, $s: ID!, $h: String, $k: String!) { moveVolunteer(volunteerId: $v, stairwellId: $s, household: $h, idempotencyKey: $k) { position } }";
    let vars = json!({ "v": id, "s": get(&f, "stairwell"), "h": (!h.is_empty()).then_some(h) });
    desk.submit(
        &f,
        q,
        vars,
        "moveVolunteer",
        &format!("/console/volunteers/{id}"),
    )
    .await
}

/// Joins or leaves a team.
pub async fn team(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let (q, field) = if get(&f, "do") == "leave" {
        ("mutation($v: ID!, $t: ID!, $k: String!) { leaveTeam(volunteerId: $v, teamId: $t, idempotencyKey: $k) { position } }", "leaveTeam")
    } else {
        ("mutation($v: ID!, $t: ID!, $k: String!) { joinTeam(volunteerId: $v, teamId: $t, idempotencyKey: $k) { position } }", "joinTeam")
    };
    let vars = json!({ "v": id, "t": get(&f, "team") });
    desk.submit(&f, q, vars, field, &format!("/console/volunteers/{id}"))
        .await
}

/// Records that they left.
pub async fn depart(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    let q = "mutation($v: ID!, $r: String!, $k: String!) { departVolunteer(volunteerId: $v, reason: $r, idempotencyKey: $k) { position } }";
    let vars = json!({ "v": id, "r": get(&f, "reason") });
    desk.submit(
        &f,
        q,
        vars,
        "departVolunteer",
        &format!("/console/volunteers/{id}"),
    )
    .await
}

/// Issues a certificate (志愿服务记录证明); then to its printable page.
pub async fn certificate(desk: Desk, Path(id): Path<String>, axum::Form(f): Form) -> Response {
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &f, "/console") {
        return r;
    }
    let q = "mutation($v: ID!, $i: CertificateIssuerInput!, $k: String!) { issueCertificate(volunteerId: $v, issuer: $i, idempotencyKey: $k) { number page { url } } }";
    let issuer = json!({ "organisation": get(&f, "organisation"), "personInCharge": get(&f, "person"),
        "handler": get(&f, "handler"), "contact": get(&f, "contact") });
    let vars = json!({ "v": id, "i": issuer, "k": crate::form::key(&f) });
    let back = format!("/console/volunteers/{id}");
    match crate::gql::run(&desk.state, &desk.session, q, vars).await {
        Ok(d) => crate::layout::redirect(s(&d["issueCertificate"]["page"], "url"), &[]),
        Err(e) => crate::layout::redirect(&desk.href_with(&back, &[("err", &e.code)]), &[]),
    }
}
