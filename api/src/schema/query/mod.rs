//! Queries, one `#[Object]` per family of reads, merged into [`Query`] in the order
//! the fields were declared. Every read accepts `atLeast: position` (read-your-writes):
//! it waits, bounded, until the read models reflect that log position, or fails with
//! STALE_READ.
//!
//! Reads come from the read models of the `projections` crate (see [`crate::reads`]):
//! one indexed query per read; the related objects of lists (names, profiles) loaded
//! for the whole page in one query each ([`prefetch`]), which the rows' fields then
//! read from their request's DataLoaders.
//!
//! Who reads what: admin everything; staff everything of their community; volunteers
//! their own account and the boards (rankings, wishes) of their community; displays
//! only the boards, with names shortened.
//!
//! - [`accounts`]: `me`, a volunteer, the volunteers of a community, a statement;
//! - [`boards`]: rankings, the wish board, 文明楼道 scores and the red flag, the
//!   dashboard;
//! - [`audit`]: the event log (admin);
//! - [`activities`]: activities with their rosters, and the organiser's check-in code;
//! - [`community`]: a community's organisation and rules, its accounts' totals, its
//!   pages' live sessions;
//! - [`inbox`]: a volunteer's messages, a community's recent awards;
//! - [`shop`]: the points shop's catalogue, redemptions and monthly stock sheet;
//! - [`impact`]: what a correction would change, before it is made (a reversal, an
//!   objection upheld, a service rejected, a history import reversed as one);
//! - [`imports`]: a community's history imports;
//! - [`whatif`]: proposed point rules, star thresholds or a rubric replayed on the log;
//! - [`street`]: streets and districts, and their roll-ups (a ranking, a table).
//!
//! [`prefetch`]: crate::schema::types::prefetch

pub mod accounts;
pub mod activities;
pub mod audit;
pub mod boards;
pub mod community;
pub mod impact;
pub mod imports;
pub mod inbox;
pub mod shop;
pub mod street;
pub mod whatif;

pub use boards::parse_period;

use super::{app, DEFAULT_PAGE, MAX_PAGE};
use crate::errors::gql_error;
use async_graphql::{Context, ErrorExtensions};

type Res<T> = async_graphql::Result<T>;

/// The reads, merged into the query root (with the documents' queries).
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "ReadQuery")]
pub struct Query(
    accounts::AccountQuery,
    boards::BoardQuery,
    audit::AuditQuery,
    activities::ActivityQuery,
    community::CommunityQuery,
    inbox::InboxQuery,
    shop::ShopQuery,
    impact::ImpactQuery,
    imports::ImportQuery,
    whatif::WhatIfQuery,
    street::StreetQuery,
    street::StreetBoardQuery,
);

/// Page size: default 20, at most [`MAX_PAGE`].
pub fn page_size(first: Option<i32>) -> Res<usize> {
    let n = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&n) {
        return Err(gql_error(
            "INVALID_INPUT",
            format!("first must be between 0 and {MAX_PAGE}, got {n}"),
        ));
    }
    Ok(n as usize)
}

pub(super) fn bad_cursor() -> async_graphql::Error {
    gql_error("INVALID_INPUT", "after: not a cursor from this API")
}

pub(super) async fn wait(ctx: &Context<'_>, at_least: Option<u64>) -> Res<()> {
    if let Some(p) = at_least {
        app(ctx).reads.wait_for(p).await.map_err(|e| e.extend())?;
    }
    Ok(())
}
