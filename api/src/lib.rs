//! # api: timebank's GraphQL API
//!
//! An async-graphql schema served by axum: volunteer apps, community staff, public
//! displays and reports reach the ledger through it.
//!
//! ## Layout
//!
//! - [`state`]: [`AppState`], what every route shares (schema, services, limits, parsed
//!   queries), and `authenticate`, the caller of a request;
//! - [`http`]: the router and its layers; GraphQL over HTTP (`http/{media, params,
//!   graphql}`), WebSocket subscriptions (`http/ws`), `/healthz` and `/metrics`
//!   (`http/ops`);
//! - [`schema`]: the schema roots, limits and error codes; [`schema::query`] (one file
//!   per family of reads), [`schema::mutation`], [`schema::subscription`],
//!   [`schema::documents`], the output [`schema::types`] (one file per concept) and
//!   [`schema::args`] (what the resolvers share);
//! - [`documents`]: who may read reports and records, the annual report cache and the
//!   links to the files; [`documents::routes`]: the download routes (`/documents/...`:
//!   report XLSX/CSV/HTML, certificate pages, statement CSV/XLSX);
//! - [`auth`]: bearer tokens (hashed at rest), principals and roles, masking of
//!   personal data;
//! - [`reads`]: the read side queries use, with read-your-writes waits;
//! - [`replica`]: `serve --replica-url`, the read models queried on a streaming replica;
//! - [`cache`]: an exact cache of balances, invalidated per volunteer by following the log;
//! - [`inbox`]: how far each volunteer has read their inbox (kept beside the log);
//! - [`sessions`]: the pages' live sessions of a community, to list and revoke;
//! - [`scalars`]: `Points`, `Hours` and `Decimal`, exact decimal strings;
//! - [`errors`]: [`ApiError`] and the stable `extensions.code` of every error;
//! - [`expiry`]: the server's task that expires points on their day (积分到期);
//! - [`finality`]: the server's task that makes activity records final when their 公示
//!   notice has passed (in the process leading the `activities` read model);
//! - [`metrics`]: Prometheus counters and histograms.
//!
//! Imports go one way: each module imports only modules after it in `http`,
//! `documents::routes`, `state`, `schema`, `documents` (its `mod.rs`, which knows no
//! HTTP), `reads`, `inbox`, `sessions`, `auth`, `cache`, `errors`, `scalars`, `metrics` (and `state` the
//! crate root's [`ServeConfig`]). Nothing imports `http`; `schema` knows neither the
//! state nor the routes.
//!
//! ## To add a GraphQL field
//!
//! - A query: its resolver in the `#[Object]` of its family in
//!   `schema/query/<family>.rs` (accounts, boards, audit; a new family is a new file
//!   whose object is added to [`schema::query::Query`]'s `MergedObject`), or in
//!   `schema/documents/query.rs` for a document. It checks the caller with
//!   [`schema::principal`] and the [`auth::Principal`] rules (refusing with
//!   [`schema::args::forbidden`]) and waits for `atLeast`. Its
//!   `#[graphql(complexity = ...)]` charges the database read:
//!   [`schema::read_cost`] for one object, [`schema::page_cost`] for a page,
//!   [`schema::list_cost`] for a list; a list inside an object costs
//!   [`schema::rows_cost`]. New output objects go in `schema/types/<concept>.rs`,
//!   re-exported from `schema/types/mod.rs`. Every field needs a token but the public
//!   `certificate` check (`is_public` in `http/graphql.rs`).
//! - A mutation: its resolver in `schema/mutation/<family>.rs`, which builds the ledger
//!   command and runs it through `exec` (its idempotency key, on its own task, timed);
//!   who may run it is the ledger's `authorize` rule. Its payload carries `position`
//!   and `replayed`. Command mutations carry no complexity attribute: each is one
//!   command, and an operation has at most [`schema::MAX_ROOT_FIELDS`] root fields.
//! - Its `///` comment is its description in the schema. Regenerate the committed
//!   schema with `UPDATE_SCHEMA=1 cargo test -p api --test api_schema` and commit
//!   `schema.graphql` with the change.
//! - A row in `api/tests/api_roles.rs`: a mutation in `MUTATIONS`, its request in
//!   `Fx::request` and its roles in `allowed` (`the_matrix_covers_every_mutation` fails
//!   until it is listed); a query in `read_allowed` and the `queries` of
//!   `every_query_with_every_role` (no test enforces this one: add it). Document
//!   queries are tested in `api/tests/api_documents.rs`.
//!
//! ## To add a download route or a report page
//!
//! - The handler in `documents/routes.rs`: it authenticates the caller
//!   (`state::authenticate`), checks the [`auth::Principal`] rule, produces the file
//!   with the `reports` crate (pinned to a log position) and answers through `respond`
//!   and `file_response` (`X-Timebank-Position`, `Cache-Control: private, no-store`,
//!   errors as JSON with their code);
//! - its route in [`http::router`], under `/documents/`, beside the others (they share
//!   the request timeout);
//! - its link, a `*_url` function in `documents/mod.rs`, which the GraphQL answer
//!   carries as a [`schema::documents::Download`];
//! - a test in `api/tests/api_documents.rs` (the file, its position, who may read it).
//!
//! Entry points for the `timebank` binary: [`serve`], [`issue_token`],
//! [`revoke_token`], [`sdl`]; for tests: [`router`] and [`AppState::new`].

pub mod auth;
pub mod cache;
pub mod documents;
pub mod errors;
pub mod expiry;
pub mod finality;
pub mod http;
pub mod inbox;
pub mod metrics;
pub mod reads;
pub mod replica;
pub mod scalars;
pub mod schema;
pub mod sessions;
pub mod state;

pub use errors::{ApiError, ApiResult};
pub use http::router;
pub use ledger::command::Role;
pub use state::AppState;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// How `timebank serve` runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Longest a `/graphql` or `/documents` request may take before 408
    /// `REQUEST_TIMEOUT`.
    pub request_timeout: Duration,
    /// Largest request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// A PostgreSQL streaming replica (hot standby) of the store's database: the read
    /// models are queried there, commands and the log stay on the primary.
    pub replica_url: Option<String>,
}

/// Default request timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default largest request body, in bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

impl ServeConfig {
    pub fn new(listen: SocketAddr) -> ServeConfig {
        ServeConfig {
            listen,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            replica_url: None,
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig::new(SocketAddr::from(([127, 0, 0, 1], 8080)))
    }
}

/// Serves the API on `config.listen` until `shutdown` resolves; then, for
/// [`SHUTDOWN_DRAIN`], requests already sent are still accepted and answered (with
/// `Connection: close`), in-flight requests finish, WebSockets are closed. With no tokens yet, prints how to create the first
/// admin token.
pub async fn serve(
    store: ledger::Store,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(store, config, |_| axum::Router::new(), shutdown).await
}

/// Like [`serve`], with more routes beside the API's: `pages` makes them from the
/// server's state (the `web` crate's pages, in the `timebank` binary).
pub async fn serve_with(
    store: ledger::Store,
    config: ServeConfig,
    pages: impl FnOnce(AppState) -> axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if auth::active_tokens(&store).await? == 0 {
        println!(
            "For API clients (GraphQL): no API token exists yet. Create an admin token with:\n\n    timebank token issue --role admin --label first-admin\n\n\
             (it is printed once; send it as `Authorization: Bearer <token>`). People use the pages: open a login link."
        );
    }
    let (tx, rx) = watch::channel(false);
    let projections = projections::start(store.clone()).await;
    if let Some(url) = &config.replica_url {
        replica::read_from(&store, &projections, url).await?;
    }
    let state = AppState::with_projections(store, &config, rx.clone(), Some(projections.clone()));
    finality::spawn(
        state.app.handler.clone(),
        projections.clone(),
        finality::FINALITY_EVERY,
        rx.clone(),
    );
    expiry::spawn(
        state.app.handler.clone(),
        projections.clone(),
        expiry::EXPIRY_EVERY,
        rx,
    );
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "timebank API listening: POST/GET /graphql, /graphiql, /ws, /healthz, /metrics");
    println!("timebank API on http://{addr}/graphql (GraphiQL at http://{addr}/graphiql)");
    let draining = Arc::new(AtomicBool::new(false));
    let app = router(state.clone())
        .merge(pages(state))
        .layer(axum::middleware::from_fn({
            let draining = draining.clone();
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let draining = draining.clone();
                async move { close_when_draining(&draining, request, next).await }
            }
        }));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Requests already sent may still sit in the listener's backlog or, on an
            // idle keep-alive connection, in its socket, where a graceful shutdown would
            // drop them: for a short while, accept and answer them (with
            // `Connection: close`), then finish what is in flight.
            tracing::info!(
                "shutting down: answering requests already sent, then finishing in-flight ones"
            );
            draining.store(true, Ordering::Release);
            tokio::time::sleep(SHUTDOWN_DRAIN).await;
            let _ = tx.send(true);
        })
        .await?;
    if let Err(e) = projections.shutdown().await {
        tracing::warn!(error = %e, "stopping the projections");
    }
    Ok(())
}

/// How long a shutting-down server still accepts connections and reads requests, so
/// that none sent before the signal is dropped unanswered.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_millis(500);

/// Once the server is draining, tells HTTP/1 clients that the connection closes after
/// this response (so that they send nothing more on it).
async fn close_when_draining(
    draining: &AtomicBool,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let http1 = request.version() <= axum::http::Version::HTTP_11;
    let mut response = next.run(request).await;
    let upgrade = response.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS;
    if http1 && !upgrade && draining.load(Ordering::Acquire) {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Issues a token and returns its plaintext (shown once; only its SHA-256 is stored).
/// Staff tokens need a community (and may name the staff member's own volunteer
/// account in it); volunteer tokens a registered volunteer.
pub async fn issue_token(
    store: &ledger::Store,
    role: Role,
    community: Option<Uuid>,
    volunteer: Option<Uuid>,
    label: &str,
) -> ApiResult<String> {
    Ok(auth::issue(store, role, community, volunteer, label)
        .await?
        .token)
}

/// Like [`issue_token`], also returning the token id (for revocation).
pub async fn issue_token_with_id(
    store: &ledger::Store,
    role: Role,
    community: Option<Uuid>,
    volunteer: Option<Uuid>,
    label: &str,
) -> ApiResult<(Uuid, String)> {
    let t = auth::issue(store, role, community, volunteer, label).await?;
    Ok((t.token_id, t.token))
}

/// Revokes a token by its id or its plaintext; `true` if an active token was revoked.
/// Servers in other processes stop accepting it within [`auth::CACHE_TTL`].
pub async fn revoke_token(store: &ledger::Store, token_id_or_token: &str) -> ApiResult<bool> {
    auth::revoke(store, token_id_or_token).await
}

/// Parses a role name (admin, staff, volunteer, display, street).
pub fn parse_role(s: &str) -> ApiResult<Role> {
    auth::parse_role(s)
}

/// The schema as SDL, exactly as served (and as committed in `schema.graphql`).
pub fn sdl() -> String {
    schema::sdl()
}
