//! Mutations of the wish board (小心愿): post, claim, release, fulfil, confirm, cancel.

use super::super::types::WishStatus;
use super::{acting_volunteer, exec, id, parse_id, payload, Res};
use crate::scalars::{HoursScalar, PointsScalar};
use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};
use ledger::command::{self as cmd, CommandOutcome, WishChange};
use ledger::ids::*;

payload!(WishPayload {
    wish_id: ID,
    status: WishStatus
});
payload!(ConfirmWishPayload {
    wish_id: ID,
    volunteer_id: ID,
    service_id: ID,
    entry_id: ID,
    points: PointsScalar,
});

impl From<CommandOutcome<WishChange>> for WishPayload {
    fn from(o: CommandOutcome<WishChange>) -> WishPayload {
        WishPayload {
            wish_id: id(o.result.wish_id),
            status: o.result.status.into(),
            position: o.position,
            replayed: o.replayed,
        }
    }
}

#[derive(Default)]
pub struct WishMutation;

#[Object]
impl WishMutation {
    /// Posts a resident's small wish (小心愿) to the wish board (staff).
    #[allow(clippy::too_many_arguments)]
    async fn post_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        category: String,
        description: String,
        resident_label: String,
    ) -> Res<WishPayload> {
        let c = cmd::PostWish {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            category,
            description,
            resident_label,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(WishPayload {
            wish_id: id(o.result.wish_id),
            status: WishStatus::Open,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Claims a wish (认领); exactly one volunteer wins. A volunteer token claims for
    /// itself; staff name the volunteer.
    async fn claim_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
        volunteer_id: Option<ID>,
    ) -> Res<WishPayload> {
        let c = cmd::ClaimWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// Releases a claimed wish (its claimer, or staff).
    async fn release_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
    ) -> Res<WishPayload> {
        let c = cmd::ReleaseWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// The claimer reports a wish fulfilled.
    #[allow(clippy::too_many_arguments)]
    async fn fulfil_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
        volunteer_id: Option<ID>,
        hours: HoursScalar,
        #[graphql(default)] note: String,
        fulfilled_at: Option<DateTime<Utc>>,
    ) -> Res<WishPayload> {
        let c = cmd::FulfilWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
            hours: hours.decimal(),
            note,
            fulfilled_at,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// Staff confirm a fulfilled wish; the service is recorded on the claimer's account.
    async fn confirm_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
    ) -> Res<ConfirmWishPayload> {
        let c = cmd::ConfirmWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(ConfirmWishPayload {
            wish_id,
            volunteer_id: id(o.result.volunteer_id),
            service_id: id(o.result.service_id),
            entry_id: id(o.result.entry_id),
            points: PointsScalar(o.result.points),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Cancels a wish (staff).
    async fn cancel_wish(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        wish_id: ID,
        reason: String,
    ) -> Res<WishPayload> {
        let c = cmd::CancelWish {
            wish_id: WishId(parse_id(&wish_id, "wishId")?),
            reason,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }
}
