//! Plans of the points shop (积分超市): list, change, restock or count, withdraw an item;
//! redeem one unit (the item's stream and the volunteer's account in one append),
//! collect it at the outlet, or cancel it before (the unit and the points back). The
//! rules are in [`crate::domain::shop`].

use super::decision::{Decision, Loaded, Plan, PlanResult};
use crate::amount::Points;
use crate::domain::shop::{self, *};
use crate::domain::VolunteerState;
use crate::event::Event;
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// An item after the command, and the units left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopItemRef {
    pub item_id: ShopItemId,
    pub stock: u32,
}

/// A redemption made: its code for the outlet, the points taken (the account's entry)
/// and the balance after, and the units left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionMade {
    pub item_id: ShopItemId,
    pub redemption_id: RedemptionId,
    pub code: String,
    pub entry_id: EntryId,
    pub points: Points,
    pub points_balance: Points,
    pub stock: u32,
}

/// A redemption collected or cancelled (with the refund's entry), and the units left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedemptionChange {
    pub item_id: ShopItemId,
    pub redemption_id: RedemptionId,
    pub stage: RedemptionStage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<EntryId>,
    pub stock: u32,
}

/// The item of `id` and its community, after authorization in that community.
async fn load_item(
    d: &Decision<'_>,
    id: ShopItemId,
) -> Result<(Loaded<ShopItemState>, CommunityId), super::CommandError> {
    let i = d.shop_item(id).await?;
    let cid = i.state.require(id)?;
    d.authorize(Some(cid))?;
    Ok((i, cid))
}

/// The write of `events` to the item, and the item after them.
fn item_plan(
    i: &Loaded<ShopItemState>,
    id: ShopItemId,
    events: Vec<Event>,
    community: CommunityId,
) -> Plan<ShopItemRef> {
    let (w, post) = i.write(events, Some(community));
    Plan::new(
        vec![w],
        ShopItemRef {
            item_id: id,
            stock: post.stock,
        },
    )
}

fn item_locks(id: ShopItemId) -> Vec<String> {
    vec![shop_item_stream(id)]
}

impl ListShopItem {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ShopItemRef> {
        let comm = d.community(self.community_id).await?;
        let id = ShopItemId(d.id("shop-item"));
        let i = d.shop_item(id).await?;
        let events = shop::list(&comm.state, &i.state, self, id, d.ctx())?;
        Ok(item_plan(&i, id, events, self.community_id))
    }
}

impl ChangeShopItem {
    pub(super) fn locks(&self) -> Vec<String> {
        item_locks(self.item_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ShopItemRef> {
        let (i, cid) = load_item(d, self.item_id).await?;
        let events = shop::change(&i.state, self, d.ctx())?;
        Ok(item_plan(&i, self.item_id, events, cid))
    }
}

impl AdjustShopStock {
    pub(super) fn locks(&self) -> Vec<String> {
        item_locks(self.item_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ShopItemRef> {
        let (i, cid) = load_item(d, self.item_id).await?;
        let events = shop::adjust_stock(&i.state, self, d.ctx())?;
        Ok(item_plan(&i, self.item_id, events, cid))
    }
}

impl WithdrawShopItem {
    pub(super) fn locks(&self) -> Vec<String> {
        item_locks(self.item_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ShopItemRef> {
        let (i, cid) = load_item(d, self.item_id).await?;
        let events = shop::withdraw(&i.state, self, d.ctx())?;
        Ok(item_plan(&i, self.item_id, events, cid))
    }
}

impl RedeemShopItem {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![
            shop_item_stream(self.item_id),
            volunteer_stream(self.volunteer_id),
        ]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RedemptionMade> {
        let (i, cid) = load_item(d, self.item_id).await?;
        let v: Loaded<VolunteerState> = d.volunteer(self.volunteer_id).await?;
        let redemption_id = RedemptionId(d.id("redemption"));
        let entry_id = EntryId(d.id("entry"));
        let (item_events, account_events) =
            shop::redeem(&i.state, &v.state, self, (redemption_id, entry_id), d.ctx())?;
        let (wi, item) = i.write(item_events, Some(cid));
        let (wv, account) = v.write(account_events, Some(cid));
        Ok(Plan::new(
            vec![wi, wv],
            RedemptionMade {
                item_id: self.item_id,
                redemption_id,
                code: redemption_code(redemption_id),
                entry_id,
                points: i.state.price,
                points_balance: account.points,
                stock: item.stock,
            },
        ))
    }
}

impl CollectRedemption {
    pub(super) fn locks(&self) -> Vec<String> {
        item_locks(self.item_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RedemptionChange> {
        let (i, cid) = load_item(d, self.item_id).await?;
        let events = shop::collect(&i.state, self, d.ctx())?;
        let (w, post) = i.write(events, Some(cid));
        Ok(Plan::new(
            vec![w],
            RedemptionChange {
                item_id: self.item_id,
                redemption_id: self.redemption_id,
                stage: RedemptionStage::Collected,
                refund: None,
                stock: post.stock,
            },
        ))
    }
}

impl CancelRedemption {
    pub(super) fn locks(&self) -> Vec<String> {
        item_locks(self.item_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RedemptionChange> {
        let (i, cid) = load_item(d, self.item_id).await?;
        let volunteer_id = i.state.redemption(self.redemption_id)?.volunteer_id;
        let v = d.volunteer(volunteer_id).await?;
        let refund = EntryId(d.id("entry"));
        let (item_events, account_events) = shop::cancel(&i.state, self, refund, d.ctx())?;
        let (wi, item) = i.write(item_events, Some(cid));
        let (wv, _) = v.write(account_events, Some(cid));
        Ok(Plan::new(
            vec![wi, wv],
            RedemptionChange {
                item_id: self.item_id,
                redemption_id: self.redemption_id,
                stage: RedemptionStage::Cancelled,
                refund: Some(refund),
                stock: item.stock,
            },
        ))
    }
}
