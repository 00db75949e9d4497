//! Reports at the desk (`/console/reports?year=`): the annual commendation report
//! (年度表彰) previewed — the year's totals, month by month, the best volunteers by
//! hours, new stars, red flags — with its downloads (XLSX, CSV, printable HTML, pinned
//! to a log position), the exports for the authorities (the year's event log and hours
//! per volunteer, the member list, as Excel or CSV), and the certificates the community
//! issued that year, to print again.

use super::{items, Desk};
use crate::gql::{i, s};
use crate::layout::{self, date, num, parse_time};
use axum::response::Response;
use chrono::Datelike;
use maud::html;
use serde_json::json;

const REPORT: &str = "query($c: ID!, $y: Int!) {
  annualReport(communityId: $c, year: $y) { communityName position asOf downloads { format url }
    totals { registeredVolunteers activeVolunteers services verifiedHours activityHours lateHours pointsAwarded pointsRedeemed wishesPosted wishesFulfilled }
    months { month services hours activeVolunteers pointsAwarded }
    topByHours { rank name volunteerNumber hours services activities starLevel }
    newStars { name volunteerNumber starLevel }
    redFlags { month label score } }
  communityCertificates(communityId: $c, year: $y) { number holderName issuedAt page { url } } }";

/// `/console/reports?year=`.
pub async fn page(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let this_year = desk.state.now().with_timezone(&layout::cst()).year();
    let year = desk.param("year").parse::<i32>().unwrap_or(this_year);
    let d = match desk.read(REPORT, json!({ "c": desk.c, "y": year })).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let r = &d["annualReport"];
    let tot = &r["totals"];
    let y = |n: i32| n.to_string();
    let body = html! {
        nav.filters {
            a.button href=(desk.href_with("/console/reports", &[("year", &y(year - 1))])) { "‹ " (year - 1) }
            strong { (year) "年" }
            @if year < this_year { a.button href=(desk.href_with("/console/reports", &[("year", &y(year + 1))])) { (year + 1) " ›" } }
        }
        h2 { (t.annual_report) }
        p.sub { (s(r, "communityName")) " · " (t.report_hint) " "
            (parse_time(s(r, "asOf")).map(crate::layout::when_dated).unwrap_or_default()) }
        p {
            @for dl in items(&r["downloads"]) {
                a.button href=(s(&dl, "url")) target="_blank" { (t.download) " " (s(&dl, "format")) } " "
            }
        }
        section.tiles.five {
            div.tile { span.label { (t.registered) } span.big { (i(tot, "registeredVolunteers")) } }
            div.tile { span.label { (t.active_volunteers) } span.big { (i(tot, "activeVolunteers")) } }
            div.tile { span.label { (t.services) } span.big { (i(tot, "services")) } }
            div.tile { span.label { (t.verified_hours) } span.big { (num(s(tot, "verifiedHours"))) } }
            div.tile { span.label { (t.wishes_done) } span.big { (i(tot, "wishesFulfilled")) " / " (i(tot, "wishesPosted")) } }
        }
        div.columns {
            section {
                h2 { (t.by_month) }
                table {
                    thead { tr { th { (t.month) } th.num { (t.services) } th.num { (m.hours) } th.num { (t.active_volunteers) } th.num { (t.points_awarded) } } }
                    tbody { @for mo in items(&r["months"]) {
                        tr { td { (i(&mo, "month")) "月" } td.num { (i(&mo, "services")) } td.num { (num(s(&mo, "hours"))) }
                             td.num { (i(&mo, "activeVolunteers")) } td.num { (num(s(&mo, "pointsAwarded"))) } }
                    } }
                }
                h2 { (m.red_flag) }
                ul.plain { @for f in items(&r["redFlags"]) {
                    li { (i(&f, "month")) "月 " (layout::flag_icon()) " " (s(&f, "label")) " " (num(s(&f, "score"))) " 分" }
                } }
            }
            section {
                h2 { (t.top_by_hours) }
                table {
                    thead { tr { th.num { (t.rank) } th { (m.name) } th { (m.number) } th.num { (m.hours) } th.num { (t.activities_count) } th.num { (m.stars) } } }
                    tbody { @for v in items(&r["topByHours"]).iter().take(20) {
                        tr { td.num { (i(v, "rank")) } td { (s(v, "name")) } td { (s(v, "volunteerNumber")) } td.num { (num(s(v, "hours"))) }
                             td.num { (i(v, "activities")) } td.num { (i(v, "starLevel")) } }
                    } }
                }
                h2 { (t.new_stars) }
                ul.plain { @for v in items(&r["newStars"]).iter().take(30) {
                    li { (s(v, "name")) " " (s(v, "volunteerNumber")) " → " (layout::star_marks(i(v, "starLevel"))) }
                } }
            }
        }
        section.box {
            h2 { (m.export.title) }
            p.sub { (m.export.hint) }
            @let span = format!("communityId={}&from={year}-01-01&to={year}-12-31", desk.c);
            @for (what, path, query) in [
                (m.export.event_log, "event-log", span.clone()),
                (m.export.hours, "hours", span.clone()),
                (m.export.members, "members", format!("communityId={}", desk.c)),
            ] {
                p { (what) "："
                    a.button.small href=(format!("/documents/export/{path}?{query}&format=xlsx")) { "Excel" } " "
                    a.button.small href=(format!("/documents/export/{path}?{query}&format=csv")) { "CSV" } }
            }
        }
        h2 { (t.certificates) " (" (year) ")" }
        p.sub { (t.certificates_hint) }
        table {
            thead { tr { th { (t.cert_number) } th { (m.name) } th { (t.issued_on) } th {} } }
            tbody { @for c in items(&d["communityCertificates"]) {
                tr { td { (s(&c, "number")) } td { (s(&c, "holderName")) } td { (parse_time(s(&c, "issuedAt")).map(date).unwrap_or_default()) }
                     td { a.button.small href=(s(&c["page"], "url")) target="_blank" { (t.print) } } }
            } }
        }
    };
    desk.page(t.reports, body)
}
