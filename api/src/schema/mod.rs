//! The GraphQL schema: roots, shared context, limits and error normalisation.
//!
//! - [`query`]: reads (me, volunteers, statements, rankings, boards, audit log);
//! - [`mutation`]: every command, each with an idempotency key, returning what it
//!   changed and its log `position`;
//! - [`subscription`]: live ledger events, balance and ranking changes;
//! - [`documents`]: the annual report, certificates and statement exports (queries and
//!   the `issueCertificate` mutation), merged into the roots;
//! - [`types`]: output objects and enums shared by the roots;
//! - [`args`]: what the resolvers share: ids of arguments, refusals, a volunteer's
//!   community.

pub mod args;
pub mod documents;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use crate::auth::{Authenticator, Principal};
use crate::errors::ApiError;
use crate::metrics::Metrics;
use crate::reads::ReadSide;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextSubscribe,
};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Context, Response, Schema, ServerError, Value};
use ledger::command::{CommandError, CommandHandler};
use ledger::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Deepest selection accepted.
pub const MAX_DEPTH: usize = 12;
/// Highest complexity accepted. A field costs 1 plus its selection; a root field that
/// reads the database [`READ_COST`] plus its selection; a page or list costs its rows
/// (`first`, or the most it returns) times its selection: see [`page_cost`] and
/// [`list_cost`]. A full page of 100 volunteers with every field is about 3,500.
pub const MAX_COMPLEXITY: usize = 5_000;
/// Most root fields (aliases included, fragments expanded) one operation may select:
/// each root field of a query is at least one database read, each of a mutation a
/// command.
pub const MAX_ROOT_FIELDS: usize = 20;
/// What a root field costs for reading the database, before what it returns.
pub const READ_COST: usize = 10;
/// What computing an annual report costs (a fold of the community's log, then cached).
pub const REPORT_COST: usize = 500;
/// Rows counted for a list that has no `first` (stairwells of a community, a report's
/// lists): the most a community usually has.
pub const LIST_ROWS: usize = 100;
/// Deepest nesting of the document itself (lists, objects, selections).
pub const MAX_RECURSIVE_DEPTH: usize = 32;
/// Largest page (`first`).
pub const MAX_PAGE: i32 = 100;
/// Default page size.
pub const DEFAULT_PAGE: i32 = 20;

/// The cost of a root field answering a page of `first` rows (default
/// [`DEFAULT_PAGE`]): [`READ_COST`] plus `first × child`. A `first` beyond
/// [`MAX_PAGE`] counts as [`MAX_PAGE`]: the field refuses it with INVALID_INPUT when it
/// runs.
pub fn page_cost(first: Option<i32>, child: usize) -> usize {
    let rows = first.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize;
    READ_COST.saturating_add(rows.saturating_mul(child))
}

/// The cost of a root field answering a list of at most `rows` rows.
pub fn list_cost(rows: usize, child: usize) -> usize {
    READ_COST.saturating_add(rows.saturating_mul(child))
}

/// The cost of a root field answering one object.
pub fn read_cost(child: usize) -> usize {
    READ_COST.saturating_add(child)
}

/// The cost of a list inside an object (already read): `rows × child`.
pub fn rows_cost(rows: usize, child: usize) -> usize {
    rows.saturating_mul(child).max(1)
}

/// The query root: reads of the read models, and documents.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(query::Query, documents::DocumentQuery);

/// The mutation root: commands, and certificate issuing.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(mutation::Mutation, documents::DocumentMutation);

pub type AppSchema = Schema<QueryRoot, MutationRoot, subscription::Subscription>;

/// What every resolver can reach.
pub struct AppCtx {
    pub store: Store,
    pub handler: CommandHandler,
    pub reads: ReadSide,
    pub metrics: Arc<Metrics>,
    pub auth: Arc<Authenticator>,
    /// Annual reports recently computed (pinned, so never stale).
    pub reports: crate::documents::ReportCache,
}

pub fn app<'a>(ctx: &Context<'a>) -> &'a Arc<AppCtx> {
    ctx.data_unchecked::<Arc<AppCtx>>()
}

/// The caller; every operation requires one.
pub fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, async_graphql::Error> {
    ctx.data_opt::<Principal>().ok_or_else(|| {
        crate::errors::gql_error("UNAUTHENTICATED", ApiError::Unauthenticated.to_string())
    })
}

/// Set by [`ExecutionMarker`] when a request got past parsing and validation.
#[derive(Default)]
pub struct Executed(pub AtomicBool);

/// Marks requests that reached execution (so the HTTP layer can tell a request error,
/// answered with 400 under `application/graphql-response+json`, from a field error).
pub struct ExecutionMarker;

impl ExtensionFactory for ExecutionMarker {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ExecutionMarker)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ExecutionMarker {
    /// Refuses an operation with more than [`MAX_ROOT_FIELDS`] root fields before it is
    /// validated or run.
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &async_graphql::Variables,
        next: NextParseQuery<'_>,
    ) -> async_graphql::ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let n = root_fields(&doc);
        if n > MAX_ROOT_FIELDS {
            let mut e = ServerError::new(
                format!(
                    "Query is too complex: an operation selects {n} root fields (aliases included), at most {MAX_ROOT_FIELDS}"
                ),
                None,
            );
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", "QUERY_TOO_COMPLEX");
            return Err(e);
        }
        Ok(doc)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(flag) = ctx.data_opt::<Arc<Executed>>() {
            flag.0.store(true, Ordering::Relaxed);
        }
        next.run(ctx, operation_name).await
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        use async_graphql::futures_util::StreamExt;
        next.run(ctx, stream)
            .map(|mut r| {
                normalize_errors(&mut r.errors, true);
                r
            })
            .boxed()
    }
}

/// The most root fields any operation of `doc` selects, with its fragments expanded
/// (each fragment counted once: a cycle, refused later by validation, counts nothing).
pub fn root_fields(doc: &ExecutableDocument) -> usize {
    use async_graphql::parser::types::{DocumentOperations, Selection, SelectionSet};
    use std::collections::HashMap;
    fn count<'a>(
        set: &'a SelectionSet,
        doc: &'a ExecutableDocument,
        memo: &mut HashMap<&'a str, usize>,
    ) -> usize {
        let mut n = 0usize;
        for item in &set.items {
            n = n.saturating_add(match &item.node {
                Selection::Field(_) => 1,
                Selection::InlineFragment(f) => count(&f.node.selection_set.node, doc, memo),
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    match memo.get(name) {
                        Some(&n) => n,
                        None => match doc.fragments.get(&s.node.fragment_name.node) {
                            Some(f) => {
                                memo.insert(name, 0);
                                let n = count(&f.node.selection_set.node, doc, memo);
                                memo.insert(name, n);
                                n
                            }
                            None => 0,
                        },
                    }
                }
            });
        }
        n
    }
    let sets: Vec<&SelectionSet> = match &doc.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => {
            ops.values().map(|op| &op.node.selection_set.node).collect()
        }
    };
    let mut memo = HashMap::new();
    sets.into_iter()
        .map(|set| count(set, doc, &mut memo))
        .max()
        .unwrap_or(0)
}

/// Builds the schema with its limits.
pub fn build(app: Option<Arc<AppCtx>>) -> AppSchema {
    let mut b = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        subscription::Subscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
    .limit_directives(20)
    .extension(ExecutionMarker);
    if let Some(app) = app {
        b = b.data(app);
    }
    b.finish()
}

/// Gives every error a stable `extensions.code` and hides internal details.
///
/// `executed` tells errors raised while resolving fields from errors of parsing and
/// validation.
pub fn normalize_errors(errors: &mut [ServerError], executed: bool) {
    for e in errors.iter_mut() {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if has_code {
            continue;
        }
        let (code, message) = if let Some(api) = e.source::<ApiError>() {
            (api.code(), Some(api.public_message()))
        } else if let Some(cmd) = e.source::<CommandError>() {
            let m = match cmd {
                CommandError::Store(_) => "storage error".to_string(),
                other => other.to_string(),
            };
            (cmd.code(), Some(m))
        } else {
            (classify(&e.message, executed), None)
        };
        if let Some(m) = message {
            e.message = m;
        }
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", Value::String(code.to_string()));
    }
}

fn classify(message: &str, executed: bool) -> &'static str {
    let m = message;
    if m.contains("nested too deep") || m.contains("recursion") {
        "QUERY_TOO_DEEP"
    } else if m.contains("too complex") || m.contains("directives") {
        "QUERY_TOO_COMPLEX"
    } else if m.contains("Failed to parse")
        || m.contains("Invalid value")
        || m.contains("invalid value")
        || m.contains("Expected input type")
        || m.contains("expected type")
        || m.contains("must be a decimal")
        || m.contains("Variable")
    {
        "INVALID_INPUT"
    } else if m.starts_with(" --> ") || m.contains("expected ") && !executed {
        "GRAPHQL_PARSE_FAILED"
    } else if !executed {
        "GRAPHQL_VALIDATION_FAILED"
    } else {
        "INTERNAL"
    }
}

/// The schema in SDL, as served (types sorted, stable).
pub fn sdl() -> String {
    let schema = build(None);
    let opts = async_graphql::SDLExportOptions::new()
        .sorted_fields()
        .sorted_arguments()
        .sorted_enum_items();
    schema.sdl_with_options(opts)
}
