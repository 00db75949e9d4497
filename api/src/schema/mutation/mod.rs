//! Mutations: one per command, by family (one file each, merged into one root). Each
//! takes a client-generated `idempotencyKey` (a retry with the same key returns the
//! original result and writes nothing) and returns what it changed plus the log
//! `position` to pass as `atLeast` to later reads. A resolver builds the command from its
//! arguments, runs it with `exec` and reads the command's typed result.

mod account;
pub(crate) mod activity;
pub(crate) mod community;
mod expiry;
mod history;
mod inbox;
mod record;
mod shop;
mod stairwell;
mod street;
mod tokens;
mod transfer;
mod volunteer;
mod wish;

pub(crate) use super::args::{acting_volunteer, id, non_negative, parse_id};
use super::{app, principal};
use crate::errors::{gql_error, ApiError};
use async_graphql::{Context, ErrorExtensions, MergedObject};
use ledger::command::{CommandOutcome, CommandPayload};
use std::time::Instant;

type Res<T> = async_graphql::Result<T>;

/// Every mutation of the API.
#[derive(MergedObject, Default)]
#[graphql(name = "CommandMutation")]
pub struct Mutation(
    community::CommunityMutation,
    volunteer::VolunteerMutation,
    account::AccountMutation,
    wish::WishMutation,
    stairwell::StairwellMutation,
    tokens::TokenMutation,
    activity::ActivityMutation,
    inbox::InboxMutation,
    shop::ShopMutation,
    record::RecordMutation,
    expiry::ExpiryMutation,
    street::StreetMutation,
    history::HistoryMutation,
    transfer::TransferMutation,
);

/// Runs a command as the caller, recording its latency; answers the command's own
/// result type.
async fn exec<C>(ctx: &Context<'_>, key: &str, command: C) -> Res<CommandOutcome<C::Output>>
where
    C: CommandPayload + Send + 'static,
    C::Output: Send + 'static,
{
    let p = principal(ctx)?;
    let app = app(ctx);
    let started = Instant::now();
    // Run on its own task: a client that disconnects or times out cannot cancel a
    // command half-way (its retry with the same key gets the stored result).
    let handler = app.handler.clone();
    let actor = p.actor.clone();
    let key = key.to_string();
    let result = tokio::spawn(async move { handler.run(&actor, &key, command).await })
        .await
        .map_err(|e| gql_error("INTERNAL", format!("command task failed: {e}")))?;
    app.metrics
        .command(C::NAME, result.is_ok(), started.elapsed());
    result.map_err(|e| ApiError::Command(e).extend())
}

/// A mutation's answer: its own fields, the log position and whether it was replayed.
macro_rules! payload {
    ($(#[$doc:meta])* $name:ident { $( $(#[$fdoc:meta])* $field:ident : $ty:ty ),* $(,)? }) => {
        $(#[$doc])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            /// Log position of the command's last event: pass it as `atLeast`.
            pub position: u64,
            /// True when this is the stored result of an earlier call with the same key.
            pub replayed: bool,
            $( $(#[$fdoc])* pub $field: $ty, )*
        }
    };
}
use payload;
