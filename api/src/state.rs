//! What every route shares: [`AppState`] (the schema, the services resolvers reach,
//! the request limits, the shutdown signal, the cache of parsed queries) and
//! `authenticate`, the caller of a request. The router ([`crate::http`]) and the
//! download routes ([`crate::documents::routes`]) both use it.

use crate::auth::Principal;
use crate::errors::ApiError;
use crate::schema::{self, AppCtx, AppSchema};
use crate::{auth, metrics, reads, ServeConfig};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::ServerError;
use axum::http::{header, HeaderMap};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Everything the routes share.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<AppCtx>,
    pub schema: AppSchema,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest a `/graphql` or `/documents` request may take (408 beyond).
    pub request_timeout: Duration,
    /// Becomes `true` when the server shuts down (closes WebSockets).
    pub shutdown: watch::Receiver<bool>,
    /// Parsed queries by their text.
    pub parsed_queries: Arc<QueryCache>,
}

impl AppState {
    /// The state of a server on `store` without read models: queries of accounts,
    /// statements, rankings, boards and scores then answer READ_MODEL_ERROR (mutations,
    /// `me` and `events` work). `shutdown` becoming `true` closes WebSockets.
    pub fn new(
        store: ledger::Store,
        config: &ServeConfig,
        shutdown: watch::Receiver<bool>,
    ) -> AppState {
        AppState::with_projections(store, config, shutdown, None)
    }

    /// The state of a server on `store` reading the running `projections` (call it
    /// inside a Tokio runtime: a cache of balances starts following the log, until
    /// `shutdown` becomes `true`).
    pub fn with_projections(
        store: ledger::Store,
        config: &ServeConfig,
        shutdown: watch::Receiver<bool>,
        projections: Option<projections::Projections>,
    ) -> AppState {
        let handler = ledger::command::CommandHandler::new(store.clone());
        AppState::with_handler(handler, config, shutdown, projections)
    }

    /// Like [`AppState::with_projections`], running commands through `handler` (a test
    /// gives one with its own clock).
    pub fn with_handler(
        handler: ledger::command::CommandHandler,
        config: &ServeConfig,
        shutdown: watch::Receiver<bool>,
        projections: Option<projections::Projections>,
    ) -> AppState {
        let store = handler.store().clone();
        let app = Arc::new(AppCtx {
            handler,
            reads: reads::ReadSide::new(store.clone(), projections, shutdown.clone()),
            metrics: Arc::new(metrics::Metrics::default()),
            auth: Arc::new(auth::Authenticator::new(store.clone())),
            reports: Default::default(),
            store,
        });
        AppState {
            schema: schema::build(Some(app.clone())),
            app,
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_timeout,
            shutdown,
            parsed_queries: Arc::default(),
        }
    }
}

impl AppState {
    /// Runs a GraphQL operation as `principal`, the way `/graphql` runs it (the same
    /// schema, limits, loaders and error codes): what the server-rendered pages use, so
    /// that a page does exactly what its user could do through the API.
    pub async fn execute_as(
        &self,
        principal: Principal,
        query: &str,
        variables: serde_json::Value,
    ) -> async_graphql::Response {
        let mut request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        if let Ok(doc) = self.parsed_queries.parse(query) {
            request.set_parsed_query(doc);
        }
        let executed = Arc::new(schema::Executed::default());
        let (people, profiles) =
            schema::types::request_loaders(self.app.store.clone(), self.app.reads.clone());
        let request = request
            .data(principal)
            .data(executed.clone())
            .data(people)
            .data(profiles);
        let mut response = self.schema.execute(request).await;
        let ran = executed.0.load(std::sync::atomic::Ordering::Relaxed);
        schema::normalize_errors(&mut response.errors, ran);
        response
    }

    /// The principal of a token (a page session's), as a bearer token would give.
    pub async fn authenticate_token(&self, token: &str) -> Result<Principal, ApiError> {
        self.app.auth.authenticate(token).await
    }
}

/// The caller of a request, from its `Authorization` header.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    let h = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state.app.auth.authenticate_header(h).await
}

/// The cookie of a session of the pages (the `web` crate sets it: `HttpOnly`,
/// `SameSite=Lax`).
pub const SESSION_COOKIE: &str = "tb_session";

/// The caller of a download (`/documents/...`, GET only, nothing changed): its
/// `Authorization` header, or else the pages' session cookie, so that a person signed
/// in to the pages can open a report or print a certificate in the browser. Requests
/// that change something never accept the cookie (it would be a door for cross-site
/// requests).
pub(crate) async fn authenticate_download(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        return authenticate(state, headers).await;
    }
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v);
    match token {
        Some(t) => state.app.auth.authenticate(t).await,
        None => authenticate(state, headers).await,
    }
}

/// Longest query text whose parsed document is kept.
const CACHED_QUERY_MAX: usize = 8 * 1024;
/// Parsed queries kept before the cache starts over.
const CACHED_QUERIES: usize = 1_000;

/// Parsed queries by their text: clients send the same few operations over and over,
/// and parsing (a PEG parser) costs more than a clone of the parsed document. Only
/// queries that parse are kept; every request is still validated and checked against
/// the depth, complexity and directive limits.
#[derive(Default)]
pub struct QueryCache {
    map: std::sync::Mutex<HashMap<String, ExecutableDocument>>,
}

impl QueryCache {
    /// The parsed document of `query`, from the cache or parsed now.
    pub(crate) fn parse(&self, query: &str) -> Result<ExecutableDocument, ServerError> {
        if query.len() <= CACHED_QUERY_MAX {
            let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(doc) = map.get(query) {
                return Ok(doc.clone());
            }
        }
        let doc = async_graphql::parser::parse_query(query)?;
        if query.len() <= CACHED_QUERY_MAX {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() >= CACHED_QUERIES {
                map.clear();
            }
            map.insert(query.to_string(), doc.clone());
        }
        Ok(doc)
    }
}
