//! # web: the pages people use
//!
//! Served by `timebank serve` beside the API, from the same binary: server-rendered
//! HTML (maud: templates are Rust, checked by the compiler, escaped by default), forms
//! that work without JavaScript, and one small script of our own where a page updates
//! live (the hall display). Stylesheet and script are embedded; nothing is loaded
//! from elsewhere.
//!
//! ## Layout
//!
//! - [`session`]: the session cookie, CSRF tokens, elder mode;
//! - [`links`]: one-time login links (`login_links`): made, redeemed once, expired;
//! - [`form`]: a posted form that runs one command (CSRF, idempotency key, redirect);
//! - [`gql`]: the pages' only way in: GraphQL run in-process as the signed-in person;
//! - [`layout`]: the page shell, security headers, dates and numbers as written in
//!   China;
//! - [`msg`]: every visible text (zh-CN), and what each API error code means;
//! - [`phone`]: the volunteer's phone page (`/m`, `/checkin/...`): home, activities and
//!   check-in, records (statement, certificates, inbox), wishes, the points shop,
//!   relatives, the service record (我的档案, rating a service received);
//! - [`console`]: the staff console (`/console`), one module per part of the desk;
//! - [`hall`]: the hall display (`/hall`), live by server-sent events;
//! - [`street`]: the street office's desk (`/street`): its communities side by side,
//!   rankings across them, red flags, and the documents for the authorities.
//!
//! ## To add a page
//!
//! A handler in the module of its family, taking [`Signed`] (the session) — or, in the
//! console, [`console::Desk`] (the session, its community, the query) and rendering
//! with `Desk::page` — and rendering with [`layout::page`]; what it reads or does is a GraphQL operation
//! through [`gql::run`] (never the store directly: the API's roles and masking apply);
//! a form carries `csrf` and `key` (the idempotency key) and runs its command
//! through [`form::submit`]; its texts go in [`msg::Messages`]. Then its route in [`routes`],
//! and a test in `web/tests/`.

// The GraphQL schema the pages run in-process is deep: the layout of its resolvers'
// futures needs more than the compiler's default query depth in release builds.
#![recursion_limit = "256"]

pub mod console;
pub mod form;
pub mod gql;
pub mod hall;
pub mod layout;
pub mod links;
pub mod msg;
pub mod phone;
pub mod session;
pub mod street;

use api::{AppState, Role};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use msg::Messages;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How the pages are served.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure`: always (`Some(true)`), never, or when the proxy in front
    /// says the request came over HTTPS (`None`).
    pub secure_cookies: Option<bool>,
}

/// What the pages share.
#[derive(Clone)]
pub struct WebState {
    pub api: AppState,
    pub config: WebConfig,
    pub m: &'static Messages,
    /// Failed login-link attempts this minute (a guessed link is refused quickly).
    failures: Arc<(AtomicU64, AtomicU64)>,
    /// Rosters uploaded at the desk, checked or being imported.
    pub(crate) imports: console::import::Jobs,
}

/// Failed login attempts allowed per minute before the login page refuses all.
const FAILURES_PER_MINUTE: u64 = 30;

/// Largest roster uploaded at the desk (a few thousand rows are well under).
const IMPORT_LIMIT: usize = 10 * 1024 * 1024;

impl WebState {
    pub fn new(api: AppState, config: WebConfig) -> WebState {
        WebState {
            api,
            config,
            m: &msg::ZH_CN,
            failures: Arc::default(),
            imports: Arc::default(),
        }
    }

    /// The time of the command layer (a test's clock in tests).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.api.app.handler.now()
    }

    /// Counts a failed attempt; whether attempts are still allowed.
    fn failure_allowed(&self, count: bool) -> bool {
        let minute = self.now().timestamp() as u64 / 60;
        let (at, n) = &*self.failures;
        if at.swap(minute, Ordering::Relaxed) != minute {
            n.store(0, Ordering::Relaxed);
        }
        let before = if count {
            n.fetch_add(1, Ordering::Relaxed)
        } else {
            n.load(Ordering::Relaxed)
        };
        before < FAILURES_PER_MINUTE
    }
}

/// The session of a page request; without one, the browser is sent to the login
/// notice.
pub struct Signed(pub session::Session);

impl FromRequestParts<WebState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        match session::of_request(state, &parts.headers).await {
            Some(s) => Ok(Signed(s)),
            None => Err(layout::redirect("/", &[])),
        }
    }
}

/// A posted form's fields.
pub type Form = axum::Form<HashMap<String, String>>;

/// The pages' routes, for [`api::serve_with`].
pub fn routes(api: AppState, config: WebConfig) -> Router {
    let state = WebState::new(api, config);
    Router::new()
        .route("/", get(index))
        .route("/login/{code}", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/static/app.css", get(css))
        .route("/static/hall.js", get(hall_js))
        .route("/street", get(street::page))
        .route("/m", get(phone::home))
        .route("/m/activities", get(phone::activities::activities))
        .route(
            "/m/activities/{id}",
            post(phone::activities::activity_action),
        )
        .route("/m/checkin", get(phone::activities::checkin_page))
        .route("/m/checkin/{id}", post(phone::activities::checkin))
        .route("/checkin/{id}", get(phone::activities::checkin_page))
        .route("/m/statement", get(phone::records::statement))
        .route("/m/certificates", get(phone::records::certificates))
        .route("/m/inbox", get(phone::records::inbox))
        .route("/m/notices", get(phone::notices::notices))
        .route("/m/notices/{id}", post(phone::notices::object))
        .route("/m/wishes", get(phone::wishes::wishes))
        .route("/m/wishes/{id}", post(phone::wishes::claim))
        .route("/m/wishes/{id}/done", post(phone::wishes::done))
        .route("/m/wishes/{id}/release", post(phone::wishes::release))
        .route("/m/family", get(phone::family::family))
        .route("/m/family/{to}", post(phone::family::gift))
        .route("/m/record", get(phone::record::record))
        .route(
            "/m/record/rate/{provider}/{service}",
            post(phone::record::rate),
        )
        .route("/m/shop", get(phone::shop::shop))
        .route(
            "/m/shop/{item}",
            get(phone::shop::confirm).post(phone::shop::redeem),
        )
        .route(
            "/m/shop/{item}/cancel/{redemption}",
            post(phone::shop::cancel),
        )
        .route("/m/elder", post(phone::elder))
        .merge(console_routes())
        .route("/hall", get(hall::hall))
        .route("/hall/live", get(hall::live))
        .route("/hall/events", get(hall::events))
        .fallback(missing)
        .with_state(state)
}

/// The staff console's routes.
fn console_routes() -> Router<WebState> {
    use console::*;
    Router::new()
        .route("/console", get(today))
        .route("/console/communities", post(setup::establish))
        .route(
            "/console/activities",
            get(activities::list).post(activities::post),
        )
        .route("/console/activities/new", get(activities::new))
        .route("/console/activities/{id}", get(attendance::activity))
        .route(
            "/console/activities/{id}/approve",
            post(attendance::approve),
        )
        .route(
            "/console/activities/{id}/checkin",
            post(attendance::check_in),
        )
        .route("/console/activities/{id}/late", post(attendance::late))
        .route("/console/activities/{id}/change", post(activities::change))
        .route("/console/activities/{id}/cancel", post(activities::cancel))
        .route("/console/activities/{id}/code", get(activities::code))
        .route("/console/notices", get(notices::notices))
        .route("/console/notices/{id}/resolve", post(notices::resolve))
        .route("/console/notices/{id}/raise", post(notices::raise))
        .route("/console/notices/{id}/finalise", post(notices::finalise))
        .route(
            "/console/volunteers",
            get(volunteers::list).post(volunteers::register),
        )
        .route("/console/volunteers/new", get(volunteers::new))
        .route("/console/volunteers/transfer", post(transfer::transfer_in))
        .route(
            "/console/volunteers/import",
            get(import::form)
                .post(import::upload)
                .layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route(
            "/console/volunteers/history",
            get(import::history_form)
                .post(import::upload_history)
                .layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route(
            "/console/volunteers/import/{token}",
            get(import::job).post(import::confirm),
        )
        .route(
            "/console/volunteers/import/{token}/rejected",
            get(import::rejected),
        )
        .route("/console/imports", get(batch::list))
        .route(
            "/console/imports/{batch}",
            get(batch::page).post(batch::reverse),
        )
        .route("/console/volunteers/{id}", get(volunteer::page))
        .route("/console/volunteers/{id}/points", post(volunteer::points))
        .route("/console/volunteers/{id}/relatives", post(family::link))
        .route(
            "/console/volunteers/{id}/relatives/{relative}/unlink",
            post(family::unlink),
        )
        .route("/console/volunteers/{id}/spend", post(family::spend))
        .route("/console/volunteers/{id}/training", post(record::training))
        .route(
            "/console/volunteers/{id}/reverse/{entry}",
            get(correction::preview).post(correction::reverse),
        )
        .route(
            "/console/volunteers/{id}/commendation",
            post(record::commendation),
        )
        .route(
            "/console/volunteers/{id}/record/{record}/withdraw",
            post(record::withdraw),
        )
        .route(
            "/console/volunteers/{id}/evaluate/{service}",
            post(record::evaluate),
        )
        .route("/console/setup/hours", post(rules::hours))
        .route("/console/setup/expiry", post(rules::expiry))
        .route("/console/setup/whatif", get(whatif::page))
        .route("/console/setup/whatif/rubric", get(whatif_rubric::page))
        .route("/console/volunteers/{id}/correct", post(volunteer::correct))
        .route("/console/volunteers/{id}/tags", post(volunteer::tags))
        .route("/console/volunteers/{id}/move", post(volunteer::move_to))
        .route("/console/volunteers/{id}/team", post(volunteer::team))
        .route("/console/volunteers/{id}/depart", post(volunteer::depart))
        .route(
            "/console/volunteers/{id}/certificate",
            post(volunteer::certificate),
        )
        .route("/console/points", get(points::page))
        .route("/console/points/many", post(points::many))
        .route("/console/shop", get(shop::page).post(shop::list))
        .route("/console/shop/{item}/stock", post(shop::stock))
        .route("/console/shop/{item}/withdraw", post(shop::withdraw))
        .route("/console/shop/{item}/{what}/{redemption}", post(shop::act))
        .route("/console/wishes", get(wishes::board).post(wishes::post))
        .route("/console/wishes/{id}", post(wishes::act))
        .route("/console/stairwells", get(stairwells::scores))
        .route(
            "/console/stairwells/inspect",
            get(stairwells::inspect_page).post(stairwells::inspect),
        )
        .route("/console/stairwells/issue", post(stairwells::issue))
        .route("/console/stairwells/resolve", post(stairwells::resolve))
        .route("/console/reports", get(reports::page))
        .route("/console/setup", get(setup::page))
        .route("/console/setup/grid", post(setup::grid))
        .route("/console/setup/stairwell", post(setup::stairwell))
        .route("/console/setup/team", post(setup::team))
        .route("/console/setup/points", post(rules::points))
        .route("/console/setup/stars", post(rules::stars))
        .route("/console/setup/activity", post(rules::activity))
        .route("/console/setup/rubric", post(rules::rubric))
        .route("/console/sessions", get(sessions::page))
        .route("/console/sessions/revoke", post(sessions::revoke))
        .route("/console/links", post(sessions::make_link))
        .route("/console/links/cancel", post(sessions::cancel_link))
}

/// `/`: each person to their page; without a session, how to get one.
async fn index(
    State(state): State<WebState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let m = state.m;
    match session::of_request(&state, &headers).await {
        Some(s) => layout::redirect(
            match s.principal.role() {
                Role::Volunteer => "/m",
                Role::Display => "/hall",
                Role::Street => "/street",
                Role::Staff | Role::Admin => "/console",
            },
            &[],
        ),
        None => {
            let shell = phone_shell(m, m.login_title);
            layout::respond(
                StatusCode::OK,
                layout::page(
                    &shell,
                    html! { main.narrow {
                        h1 { (m.product) }
                        @if q.contains_key("out") { p.notice.good { (m.logged_out) } }
                        p.big-text { (m.login_needed) }
                    } },
                ),
            )
        }
    }
}

fn phone_shell<'a>(m: &'static Messages, title: &'a str) -> layout::Shell<'a> {
    layout::Shell {
        m,
        title,
        kind: layout::Kind::Phone,
        elder: true,
        script: None,
        refresh: None,
    }
}

/// `GET /login/{code}`: asks to confirm, so that a link preview (WeChat fetches links
/// it is sent) does not use the link up.
async fn login_page(State(state): State<WebState>, Path(code): Path<String>) -> Response {
    let m = state.m;
    let open = links::is_open(&state.api.app.store, &code, state.now())
        .await
        .unwrap_or(false);
    if !open {
        state.failure_allowed(true);
        return layout::error_page(m, StatusCode::NOT_FOUND, m.login_link_invalid, "/");
    }
    let body = html! {
        main.narrow {
            h1 { (m.product) }
            p.big-text { (m.login_hint) }
            form method="post" action=(format!("/login/{code}")) {
                button.button.primary.huge type="submit" { (m.login_button) }
            }
        }
    };
    layout::respond(
        StatusCode::OK,
        layout::page(&phone_shell(m, m.login_title), body),
    )
}

/// `POST /login/{code}`: uses the link (once) and starts a session on this browser.
async fn login(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let m = state.m;
    if !state.failure_allowed(false) {
        return layout::error_page(m, StatusCode::TOO_MANY_REQUESTS, m.try_again, "/");
    }
    let store = &state.api.app.store;
    let grant = match links::redeem(store, &code, state.now()).await {
        Ok(Some(g)) => g,
        Ok(None) => {
            state.failure_allowed(true);
            return layout::error_page(m, StatusCode::NOT_FOUND, m.login_link_invalid, "/");
        }
        Err(e) => {
            tracing::warn!(error = %e, "redeeming a login link");
            return layout::error_page(m, StatusCode::SERVICE_UNAVAILABLE, m.try_again, "/");
        }
    };
    let label = format!("session: {}", grant.label);
    let issued = api::auth::issue_bound(
        store,
        grant.role,
        grant.community,
        grant.volunteer,
        grant.street,
        &label,
    )
    .await;
    match issued.map(|t| t.token) {
        Ok(token) => layout::redirect(
            "/",
            &[session::set_cookie(
                &token,
                session::is_https(&state, &headers),
            )],
        ),
        Err(e) => {
            tracing::warn!(error = %e, "starting a session");
            layout::error_page(m, StatusCode::BAD_REQUEST, m.login_link_invalid, "/")
        }
    }
}

/// Ends the session on this browser (and revokes its token).
async fn logout(
    State(state): State<WebState>,
    headers: HeaderMap,
    axum::Form(f): Form,
) -> Response {
    let Some(s) = session::of_request(&state, &headers).await else {
        return layout::redirect("/", &[session::clear_cookie()]);
    };
    if let Some(r) = form::refused(&state, &s, &f, "/") {
        return r;
    }
    if let Some(token) = session::cookie(&headers, session::COOKIE) {
        let _ = api::revoke_token(&state.api.app.store, token).await;
    }
    layout::redirect("/?out=1", &[session::clear_cookie()])
}

/// Any other address: a page that says so, in Chinese, with the way home.
async fn missing(State(state): State<WebState>) -> Response {
    let m = state.m;
    layout::error_page(m, StatusCode::NOT_FOUND, m.page_missing, "/")
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

async fn css() -> Response {
    asset(include_str!("../static/app.css"), "text/css; charset=utf-8")
}

async fn hall_js() -> Response {
    asset(
        include_str!("../static/hall.js"),
        "text/javascript; charset=utf-8",
    )
}
