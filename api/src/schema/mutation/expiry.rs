//! Mutations of points expiry (积分有效期): the versioned rule, and the expiry of one
//! account's points due today by hand (the server does it on its own every hour).

use super::account::EntryPayload;
use super::community::RulesPayload;
use super::{exec, parse_id, Res};
use crate::schema::types::ExpiryRounding;
use async_graphql::{Context, Object, ID};
use chrono::NaiveDate;
use ledger::command as cmd;
use ledger::ids::*;

#[derive(Default)]
pub struct ExpiryMutation;

#[Object]
impl ExpiryMutation {
    /// New points expiry (admin, 积分有效期) from `effectiveFrom`: points credited while
    /// it is in force expire `validMonths` after the day they were credited (0: they do
    /// not expire), on that day or at the end of its month or year (`rounding`). Hours
    /// never expire.
    async fn set_points_expiry(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        valid_months: u32,
        #[graphql(default_with = "ExpiryRounding::Day")] rounding: ExpiryRounding,
        effective_from: NaiveDate,
    ) -> Res<RulesPayload> {
        let c = cmd::SetPointsExpiry {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            valid_months,
            rounding: rounding.into(),
            effective_from,
        };
        RulesPayload::from_outcome(exec(ctx, &idempotency_key, c).await?)
    }

    /// Expires what is left of a volunteer's points whose validity ended by today
    /// (staff; NOTHING_DUE when none). The server does this on its own.
    async fn expire_points(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
    ) -> Res<EntryPayload> {
        let c = cmd::ExpirePoints {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }
}
