//! Mutations of the points shop (积分超市): list, change, restock or count, withdraw an
//! item (staff); redeem one unit (the volunteer, or staff for them), collect it at the
//! outlet (staff), cancel it before collection (the volunteer, or staff with a reason).

use super::super::types::RedemptionStatus;
use super::{acting_volunteer, exec, id, parse_id, payload, Res};
use crate::scalars::PointsScalar;
use async_graphql::{Context, Object, ID};
use chrono::NaiveDate;
use ledger::command::{self as cmd, CommandOutcome, RedemptionChange, ShopItemRef};
use ledger::ids::*;

payload!(ShopItemPayload {
    item_id: ID,
    /// Units left.
    stock: u32,
});
payload!(RedeemPayload {
    redemption_id: ID,
    item_id: ID,
    /// The 8-character code to show at the outlet.
    code: String,
    entry_id: ID,
    points: PointsScalar,
    points_balance: PointsScalar,
    /// Units left.
    stock: u32,
});
payload!(RedemptionPayload {
    redemption_id: ID,
    item_id: ID,
    status: RedemptionStatus,
    /// The entry that gave the points back, for a cancellation.
    refund_entry_id: Option<ID>,
    stock: u32,
});

impl From<CommandOutcome<ShopItemRef>> for ShopItemPayload {
    fn from(o: CommandOutcome<ShopItemRef>) -> ShopItemPayload {
        ShopItemPayload {
            item_id: id(o.result.item_id.0),
            stock: o.result.stock,
            position: o.position,
            replayed: o.replayed,
        }
    }
}

impl From<CommandOutcome<RedemptionChange>> for RedemptionPayload {
    fn from(o: CommandOutcome<RedemptionChange>) -> RedemptionPayload {
        let r = o.result;
        RedemptionPayload {
            redemption_id: id(r.redemption_id.0),
            item_id: id(r.item_id.0),
            status: r.stage.into(),
            refund_entry_id: r.refund.map(|e| id(e.0)),
            stock: r.stock,
            position: o.position,
            replayed: o.replayed,
        }
    }
}

fn item(i: &ID) -> Res<ShopItemId> {
    Ok(ShopItemId(parse_id(i, "itemId")?))
}

#[derive(Default)]
pub struct ShopMutation;

#[Object]
impl ShopMutation {
    /// Lists an item at the community's points shop (staff): its price in points, the
    /// units in stock, where it is collected, until when (optional) and at most how many
    /// per volunteer (optional).
    #[allow(clippy::too_many_arguments)]
    async fn list_shop_item(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        name: String,
        price: PointsScalar,
        stock: u32,
        collect_at: String,
        valid_until: Option<NaiveDate>,
        per_person: Option<u32>,
    ) -> Res<ShopItemPayload> {
        let c = cmd::ListShopItem {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            name,
            price: price.decimal(),
            stock,
            collect_at,
            valid_until,
            per_person,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// Sets an item's name, price, place, date and limit from now on (staff);
    /// redemptions made keep what they paid.
    #[allow(clippy::too_many_arguments)]
    async fn change_shop_item(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        item_id: ID,
        name: String,
        price: PointsScalar,
        collect_at: String,
        valid_until: Option<NaiveDate>,
        per_person: Option<u32>,
    ) -> Res<ShopItemPayload> {
        let c = cmd::ChangeShopItem {
            item_id: item(&item_id)?,
            name,
            price: price.decimal(),
            collect_at,
            valid_until,
            per_person,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// Adds stock (补货, `change` > 0) or takes it off after a count (盘点, < 0), with a
    /// reason (staff); never below zero.
    async fn adjust_shop_stock(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        item_id: ID,
        change: i32,
        reason: String,
    ) -> Res<ShopItemPayload> {
        let c = cmd::AdjustShopStock {
            item_id: item(&item_id)?,
            change: i64::from(change),
            reason,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// Stops offering an item (下架), with a reason (staff); redemptions made can still
    /// be collected or cancelled.
    async fn withdraw_shop_item(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        item_id: ID,
        reason: String,
    ) -> Res<ShopItemPayload> {
        let c = cmd::WithdrawShopItem {
            item_id: item(&item_id)?,
            reason,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// Redeems one unit of an item (兑换): the points are taken and a code given in the
    /// same step; the last unit goes to one buyer only (OUT_OF_STOCK for the other). A
    /// volunteer token redeems for itself; staff name the volunteer.
    async fn redeem_shop_item(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        item_id: ID,
        volunteer_id: Option<ID>,
    ) -> Res<RedeemPayload> {
        let c = cmd::RedeemShopItem {
            item_id: item(&item_id)?,
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        let r = o.result;
        Ok(RedeemPayload {
            redemption_id: id(r.redemption_id.0),
            item_id: id(r.item_id.0),
            code: r.code,
            entry_id: id(r.entry_id.0),
            points: PointsScalar(r.points),
            points_balance: PointsScalar(r.points_balance),
            stock: r.stock,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// The outlet hands a redeemed item over (staff); once only (ALREADY_COLLECTED).
    async fn collect_redemption(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        item_id: ID,
        redemption_id: ID,
    ) -> Res<RedemptionPayload> {
        let c = cmd::CollectRedemption {
            item_id: item(&item_id)?,
            redemption_id: RedemptionId(parse_id(&redemption_id, "redemptionId")?),
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }

    /// Cancels a redemption not yet collected (取消兑换): the unit goes back in stock and
    /// the points back on the account. The volunteer who made it may (a reason
    /// optional), or staff with a reason.
    async fn cancel_redemption(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        item_id: ID,
        redemption_id: ID,
        #[graphql(default)] reason: String,
    ) -> Res<RedemptionPayload> {
        let c = cmd::CancelRedemption {
            item_id: item(&item_id)?,
            redemption_id: RedemptionId(parse_id(&redemption_id, "redemptionId")?),
            reason,
        };
        Ok(exec(ctx, &idempotency_key, c).await?.into())
    }
}
