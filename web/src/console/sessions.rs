//! Logins at the desk (`/console/sessions`): one-time login links made for a
//! volunteer (from their page), a colleague or the hall's screen, shown once with
//! their QR code to print or send; the links still waiting to be used, cancelled if
//! need be; the live sessions of phones and screens, ended by staff (a lost phone).

use super::activities::{absolute, get, qr};
use super::{items, Desk};
use crate::gql::s;
use crate::layout::{self, when};
use crate::{links, Form};
use api::Role;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;
use serde_json::json;
use uuid::Uuid;

/// `/console/sessions`.
pub async fn page(desk: Desk) -> Response {
    let m = desk.m();
    let t = &m.console;
    let q = "query($c: ID!) { sessions(communityId: $c) { id role label name createdAt } }";
    let sessions = match desk.read(q, json!({ "c": desk.c })).await {
        Ok(d) => items(&d["sessions"]),
        Err(r) => return r,
    };
    let streets = if desk.session.principal.role() == Role::Admin {
        match desk.read("{ streets { streetId name } }", json!({})).await {
            Ok(d) => items(&d["streets"]),
            Err(r) => return r,
        }
    } else {
        Vec::new()
    };
    let community = Uuid::parse_str(&desk.c).unwrap_or_default();
    let open = links::open_of(&desk.state.api.app.store, community, desk.state.now())
        .await
        .unwrap_or_default();
    let role = |r: &str| t.role(r);
    let me = desk.session.principal.token_id.to_string();
    let body = html! {
        div.bar {
            form.inline method="post" action=(desk.href("/console/links")) {
                (crate::form::hidden(&desk.session))
                input type="hidden" name="display" value="1";
                button.button type="submit" { (m.link_for_display) }
            }
            form.inline method="post" action=(desk.href("/console/links")) {
                (crate::form::hidden(&desk.session))
                input type="hidden" name="staff" value="1";
                input name="name" required maxlength="30" placeholder=(t.staff_name) aria-label=(t.staff_name);
                button.button type="submit" { (t.link_for_staff) }
            }
            @if desk.session.principal.role() == Role::Admin && !streets.is_empty() {
                form.inline method="post" action=(desk.href("/console/links")) {
                    (crate::form::hidden(&desk.session))
                    select name="street" aria-label=(m.street.pick_street) {
                        @for st in &streets { option value=(s(st, "streetId")) { (s(st, "name")) } }
                    }
                    input name="name" maxlength="30" placeholder=(t.staff_name) aria-label=(t.staff_name);
                    button.button type="submit" { (m.street.link_for_street) }
                }
            }
            span.sub { (t.volunteer_link_hint) }
        }
        h2 { (t.open_links) " (" (open.len()) ")" }
        table {
            thead { tr { th { (t.for_whom) } th { (t.made_at) } th { (t.expires_at) } th {} } }
            tbody { @for l in &open {
                tr {
                    td { (role(l.role.as_str())) " · " (l.label) }
                    td { (when(l.created_at)) }
                    td { (when(l.expires_at)) }
                    td { form.inline method="post" action=(desk.href("/console/links/cancel")) {
                        (crate::form::hidden(&desk.session))
                        input type="hidden" name="link" value=(l.id);
                        button.button.small type="submit" { (t.cancel_link) }
                    } }
                }
            } }
        }
        h2 { (t.live_sessions) " (" (sessions.len()) ")" }
        table {
            thead { tr { th { (t.for_whom) } th { (m.name) } th { (t.since) } th {} } }
            tbody { @for x in &sessions {
                tr {
                    td { (role(&s(x, "role").to_ascii_lowercase())) " · " (s(x, "label")) }
                    td { (s(x, "name")) @if s(x, "id") == me { " " span.tag.good { (t.this_device) } } }
                    td { (layout::parse_time(s(x, "createdAt")).map(when).unwrap_or_default()) }
                    td { form.inline method="post" action=(desk.href("/console/sessions/revoke")) {
                        (crate::form::hidden(&desk.session))
                        input type="hidden" name="session" value=(s(x, "id"));
                        button.button.small type="submit" { (t.end_session) }
                    } }
                }
            } }
        }
    };
    desk.page(t.sessions, body)
}

/// Ends a session.
pub async fn revoke(desk: Desk, axum::Form(f): Form) -> Response {
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &f, "/console") {
        return r;
    }
    let q = "mutation($s: ID!) { revokeSession(sessionId: $s) }";
    let code = match crate::gql::run(
        &desk.state,
        &desk.session,
        q,
        json!({ "s": get(&f, "session") }),
    )
    .await
    {
        Ok(d) if d["revokeSession"] == true => None,
        Ok(_) => Some("NOT_FOUND".to_string()),
        Err(e) => Some(e.code),
    };
    let back = match &code {
        None => desk.href_with("/console/sessions", &[("ok", "1")]),
        Some(c) => desk.href_with("/console/sessions", &[("err", c)]),
    };
    layout::redirect(&back, &[])
}

/// Cancels a link not yet used.
pub async fn cancel_link(desk: Desk, axum::Form(f): Form) -> Response {
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &f, "/console") {
        return r;
    }
    let community = Uuid::parse_str(&desk.c).unwrap_or_default();
    let done = links::cancel(
        &desk.state.api.app.store,
        &get(&f, "link"),
        community,
        desk.state.now(),
    )
    .await
    .unwrap_or(false);
    let param = if done {
        ("ok", "1")
    } else {
        ("err", "NOT_FOUND")
    };
    layout::redirect(&desk.href_with("/console/sessions", &[param]), &[])
}

/// Makes a one-time login link (a volunteer's, a colleague's, or the hall display's)
/// and shows it with its QR code, once.
pub async fn make_link(desk: Desk, headers: HeaderMap, axum::Form(f): Form) -> Response {
    let m = desk.m();
    let t = &m.console;
    if let Some(r) = crate::form::refused(&desk.state, &desk.session, &f, "/console") {
        return r;
    }
    let volunteer = f.get("volunteer").and_then(|v| Uuid::parse_str(v).ok());
    let street = f.get("street").and_then(|v| Uuid::parse_str(v).ok());
    // A link says whom it is for: the volunteer's or colleague's name, or the screen.
    let name = get(&f, "name");
    let (role, title) = match (volunteer, street, f.contains_key("staff")) {
        (Some(_), _, _) => (Role::Volunteer, m.link_for_volunteer),
        (None, Some(_), _) => (Role::Street, m.street.link_for_street),
        (None, None, true) => (Role::Staff, t.link_for_staff),
        (None, None, false) => (Role::Display, m.link_for_display),
    };
    let whom = if name.is_empty() {
        t.role(role.as_str()).to_string()
    } else {
        name
    };
    let grant = links::Grant {
        street,
        role,
        community: Uuid::parse_str(&desk.c).ok().filter(|_| street.is_none()),
        volunteer,
        // A volunteer's name is not kept with the link (the session list finds it by
        // the volunteer, and erasure removes it); a colleague's role name is.
        label: if role == Role::Volunteer {
            t.role("volunteer").to_string()
        } else {
            whom.clone()
        },
    };
    match links::create(
        &desk.state.api.app.store,
        &desk.session.principal,
        grant,
        desk.state.now(),
    )
    .await
    {
        Ok(code) => {
            let url = absolute(&headers, &format!("/login/{code}"));
            let body = html! {
                div.printable {
                    h2 { (t.link_for) " " (whom) }
                    div.qr { (qr(&url)) }
                    p { code.link { (url) } }
                    p.sub { (m.link_once) }
                    p.sub { (t.link_print_hint) }
                }
            };
            desk.page(title, body)
        }
        Err(links::LinkRefused::Forbidden) => desk.failed("FORBIDDEN"),
        Err(links::LinkRefused::Invalid(_)) => desk.failed("INVALID_INPUT"),
    }
}
