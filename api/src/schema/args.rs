//! What the resolvers share: reading ids from their arguments, ids as GraphQL `ID`s, and
//! the common refusals and lookups (FORBIDDEN, NOT_FOUND, a volunteer's community).

use super::app;
use crate::errors::{gql_error, ApiError};
use async_graphql::{Context, ErrorExtensions, ID};
use ledger::ids::{CommunityId, VolunteerId};
use uuid::Uuid;

type Res<T> = async_graphql::Result<T>;

/// The UUID of an `ID` argument, or INVALID_INPUT naming the argument.
pub fn parse_id(id: &ID, field: &str) -> Res<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| {
        gql_error(
            "INVALID_INPUT",
            format!("{field}: {:?} is not a UUID", truncate(id.as_str())),
        )
    })
}

/// The first 64 characters of what a client sent, to quote it in an error.
fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// An id (a UUID, or a typed id of the ledger) as a GraphQL `ID`.
pub fn id(u: impl Into<Uuid>) -> ID {
    ID(u.into().to_string())
}

/// FORBIDDEN, saying why.
pub fn forbidden(msg: &str) -> async_graphql::Error {
    ApiError::forbidden(msg.to_string()).extend()
}

/// A count or a duration of the API (GraphQL `Int`) that must not be negative.
pub fn non_negative(n: i32, field: &str) -> Res<u32> {
    u32::try_from(n)
        .map_err(|_| gql_error("INVALID_INPUT", format!("{field} must not be negative")))
}

/// FORBIDDEN unless the caller may read `community`'s boards and activities (its staff,
/// its volunteers and displays, admins).
pub fn board_access(p: &crate::auth::Principal, community: CommunityId) -> Res<()> {
    if p.reads_boards_of(community) {
        Ok(())
    } else {
        Err(forbidden("this token cannot read that community"))
    }
}

/// NOT_FOUND, saying what.
pub fn not_found(what: String) -> async_graphql::Error {
    ApiError::NotFound(what).extend()
}

/// The community of a registered volunteer, or NOT_FOUND.
pub async fn community_of(ctx: &Context<'_>, v: VolunteerId) -> Res<CommunityId> {
    app(ctx)
        .reads
        .volunteer_community(v)
        .await
        .map_err(|e| e.extend())?
        .ok_or_else(|| not_found(format!("volunteer {v}")))
}

/// The volunteer a volunteer token acts for, or the one named.
pub fn acting_volunteer(ctx: &Context<'_>, given: Option<&ID>) -> Res<VolunteerId> {
    match given {
        Some(v) => Ok(VolunteerId(parse_id(v, "volunteerId")?)),
        None => super::principal(ctx)?
            .actor
            .volunteer_id
            .ok_or_else(|| gql_error("INVALID_INPUT", "volunteerId is required")),
    }
}
