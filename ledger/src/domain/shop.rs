//! The points shop (积分超市): a community's catalogue of items that volunteers redeem
//! with their points. One stream per item: listed, changed, restocked or counted
//! (盘点), withdrawn (下架); each redemption takes one unit of stock and, in the same
//! append, the points from the volunteer's account, and gives an 8-character code that
//! the outlet marks collected once. A redemption cancelled before collection puts the
//! unit back and gives the points back (`PointsRefunded`).
//!
//! Two buyers of the last unit both decide on the same version of the item's stream:
//! the append of one of them fails its expected version, decides again, and is refused
//! `OUT_OF_STOCK`.

use super::community::CommunityState;
use super::volunteer::{self, RedeemPoints, VolunteerState};
use super::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Most units of one item in stock.
pub const MAX_STOCK: u32 = 100_000;

/// Lists an item at the community's points shop (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListShopItem {
    pub community_id: CommunityId,
    pub name: String,
    pub price: Decimal,
    pub stock: u32,
    /// Where the item is collected (领取地点), e.g. 社区服务站一楼.
    pub collect_at: String,
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    #[serde(default)]
    pub per_person: Option<u32>,
}

/// Sets an item's details from now on (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeShopItem {
    pub item_id: ShopItemId,
    pub name: String,
    pub price: Decimal,
    pub collect_at: String,
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    #[serde(default)]
    pub per_person: Option<u32>,
}

/// Adds stock (补货, `change` > 0) or takes it off after a count (盘点, < 0), with a
/// reason (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdjustShopStock {
    pub item_id: ShopItemId,
    pub change: i64,
    pub reason: String,
}

/// Stops offering an item (下架), with a reason (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithdrawShopItem {
    pub item_id: ShopItemId,
    pub reason: String,
}

/// Redeems one unit of an item for a volunteer (the volunteer, or staff for them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedeemShopItem {
    pub item_id: ShopItemId,
    pub volunteer_id: VolunteerId,
}

/// The outlet hands the item over (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectRedemption {
    pub item_id: ShopItemId,
    pub redemption_id: RedemptionId,
}

/// Cancels a redemption not yet collected (the volunteer who made it, or staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelRedemption {
    pub item_id: ShopItemId,
    pub redemption_id: RedemptionId,
    #[serde(default)]
    pub reason: String,
}

/// Where a redemption is: waiting at the outlet, collected, or cancelled. The one table
/// of the names the API and the read model use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedemptionStage {
    Redeemed,
    Collected,
    Cancelled,
}

impl RedemptionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            RedemptionStage::Redeemed => "redeemed",
            RedemptionStage::Collected => "collected",
            RedemptionStage::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RedemptionStage> {
        [Self::Redeemed, Self::Collected, Self::Cancelled]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// One redemption of the item.
#[derive(Debug, Clone, PartialEq)]
pub struct Redemption {
    pub volunteer_id: VolunteerId,
    pub entry_id: EntryId,
    pub points: Points,
    pub code: String,
    pub stage: RedemptionStage,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShopItemState {
    pub item_id: Option<ShopItemId>,
    pub community_id: Option<CommunityId>,
    pub name: String,
    pub price: Points,
    pub collect_at: String,
    pub valid_until: Option<NaiveDate>,
    pub per_person: Option<u32>,
    /// Units left.
    pub stock: u32,
    pub withdrawn: bool,
    pub redemptions: BTreeMap<RedemptionId, Redemption>,
}

impl ShopItemState {
    /// The community of a listed item, or NOT_FOUND.
    pub fn require(&self, id: ShopItemId) -> DomainResult<CommunityId> {
        match (self.item_id, self.community_id) {
            (Some(i), Some(c)) if i == id => Ok(c),
            _ => Err(DomainError::not_found("shop item", id)),
        }
    }

    /// A redemption of the item, or NOT_FOUND.
    pub fn redemption(&self, id: RedemptionId) -> DomainResult<&Redemption> {
        self.redemptions
            .get(&id)
            .ok_or_else(|| DomainError::not_found("redemption", id))
    }

    /// Redemptions of one volunteer that were not cancelled.
    pub fn redeemed_by(&self, v: VolunteerId) -> u32 {
        let n = self
            .redemptions
            .values()
            .filter(|r| r.volunteer_id == v && r.stage != RedemptionStage::Cancelled)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

impl Aggregate for ShopItemState {
    fn evolve(&mut self, event: &Event) {
        match event {
            Event::ShopItemListed {
                item_id,
                community_id,
                name,
                price,
                stock,
                collect_at,
                valid_until,
                per_person,
                ..
            } => {
                self.item_id = Some(*item_id);
                self.community_id = Some(*community_id);
                self.name = name.clone();
                self.price = *price;
                self.stock = *stock;
                self.collect_at = collect_at.clone();
                self.valid_until = *valid_until;
                self.per_person = *per_person;
            }
            Event::ShopItemChanged {
                name,
                price,
                collect_at,
                valid_until,
                per_person,
                ..
            } => {
                self.name = name.clone();
                self.price = *price;
                self.collect_at = collect_at.clone();
                self.valid_until = *valid_until;
                self.per_person = *per_person;
            }
            Event::ShopItemStockAdjusted { change, .. } => {
                let stock = i64::from(self.stock).saturating_add(*change).max(0);
                self.stock = u32::try_from(stock).unwrap_or(u32::MAX);
            }
            Event::ShopItemWithdrawn { .. } => self.withdrawn = true,
            Event::ShopItemRedeemed {
                redemption_id,
                volunteer_id,
                entry_id,
                points,
                code,
                ..
            } => {
                self.stock = self.stock.saturating_sub(1);
                self.redemptions.insert(
                    *redemption_id,
                    Redemption {
                        volunteer_id: *volunteer_id,
                        entry_id: *entry_id,
                        points: *points,
                        code: code.clone(),
                        stage: RedemptionStage::Redeemed,
                    },
                );
            }
            Event::RedemptionCollected { redemption_id, .. } => {
                if let Some(r) = self.redemptions.get_mut(redemption_id) {
                    r.stage = RedemptionStage::Collected;
                }
            }
            Event::RedemptionCancelled { redemption_id, .. } => {
                if let Some(r) = self.redemptions.get_mut(redemption_id) {
                    r.stage = RedemptionStage::Cancelled;
                    self.stock = self.stock.saturating_add(1);
                }
            }
            _ => {}
        }
    }
}

/// The 8-character code of a redemption, shown to the outlet: 40 bits of a digest of
/// its id in an alphabet without 0/O and 1/I, so it reads aloud and types without doubt.
pub fn redemption_code(id: RedemptionId) -> String {
    const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let digest = Sha256::digest(id.0.as_bytes());
    let mut bits = digest[..5]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut code = [0u8; 8];
    for c in code.iter_mut().rev() {
        *c = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    code.iter().map(|b| char::from(*b)).collect()
}

/// The details an item is listed or changed with, checked.
struct Details {
    name: String,
    price: Points,
    collect_at: String,
    valid_until: Option<NaiveDate>,
    per_person: Option<u32>,
}

fn details(
    name: &str,
    price: Decimal,
    collect_at: &str,
    valid_until: Option<NaiveDate>,
    per_person: Option<u32>,
    ctx: &Ctx,
) -> DomainResult<Details> {
    if let Some(until) = valid_until {
        if until < local_date(ctx.now) {
            return Err(DomainError::InvalidInput {
                field: "valid_until",
                reason: format!("{until} has passed"),
            });
        }
    }
    if per_person == Some(0) {
        return Err(DomainError::NotPositive {
            field: "per_person",
        });
    }
    Ok(Details {
        name: required_text("name", name, MAX_NAME)?,
        price: positive_points("price", price)?,
        collect_at: required_text("collect_at", collect_at, MAX_PLACE)?,
        valid_until,
        per_person,
    })
}

fn stock(field: &'static str, n: i64) -> DomainResult<u32> {
    match u32::try_from(n) {
        Ok(s) if s <= MAX_STOCK => Ok(s),
        _ => Err(DomainError::InvalidInput {
            field,
            reason: format!("stock would be {n}; it is 0 to {MAX_STOCK}"),
        }),
    }
}

pub fn list(
    community: &CommunityState,
    item: &ShopItemState,
    cmd: &ListShopItem,
    item_id: ShopItemId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    require_staff(ctx.actor)?;
    community.require(cmd.community_id)?;
    if item.item_id.is_some() {
        return Err(DomainError::AlreadyExists {
            kind: "shop item",
            id: item_id.to_string(),
        });
    }
    let d = details(
        &cmd.name,
        cmd.price,
        &cmd.collect_at,
        cmd.valid_until,
        cmd.per_person,
        ctx,
    )?;
    Ok(vec![Event::ShopItemListed {
        item_id,
        community_id: cmd.community_id,
        name: d.name,
        price: d.price,
        stock: stock("stock", i64::from(cmd.stock))?,
        collect_at: d.collect_at,
        valid_until: d.valid_until,
        per_person: d.per_person,
        listed_by: ctx.principal(),
    }])
}

pub fn change(item: &ShopItemState, cmd: &ChangeShopItem, ctx: &Ctx) -> DomainResult<Vec<Event>> {
    require_staff(ctx.actor)?;
    item.require(cmd.item_id)?;
    let d = details(
        &cmd.name,
        cmd.price,
        &cmd.collect_at,
        cmd.valid_until,
        cmd.per_person,
        ctx,
    )?;
    Ok(vec![Event::ShopItemChanged {
        name: d.name,
        price: d.price,
        collect_at: d.collect_at,
        valid_until: d.valid_until,
        per_person: d.per_person,
        changed_by: ctx.principal(),
    }])
}

pub fn adjust_stock(
    item: &ShopItemState,
    cmd: &AdjustShopStock,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    require_staff(ctx.actor)?;
    item.require(cmd.item_id)?;
    if cmd.change == 0 {
        return Err(DomainError::InvalidInput {
            field: "change",
            reason: "a change of 0 changes nothing".into(),
        });
    }
    let reason = required_text("reason", &cmd.reason, MAX_TEXT)?;
    stock("change", i64::from(item.stock).saturating_add(cmd.change))?;
    Ok(vec![Event::ShopItemStockAdjusted {
        change: cmd.change,
        reason,
        adjusted_by: ctx.principal(),
    }])
}

pub fn withdraw(
    item: &ShopItemState,
    cmd: &WithdrawShopItem,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    require_staff(ctx.actor)?;
    item.require(cmd.item_id)?;
    if item.withdrawn {
        return Err(DomainError::ItemWithdrawn {
            item_id: cmd.item_id,
        });
    }
    Ok(vec![Event::ShopItemWithdrawn {
        reason: required_text("reason", &cmd.reason, MAX_TEXT)?,
        withdrawn_by: ctx.principal(),
    }])
}

/// A redemption: `(item events, account events)`, one entry id on the account.
pub fn redeem(
    item: &ShopItemState,
    account: &VolunteerState,
    cmd: &RedeemShopItem,
    ids: (RedemptionId, EntryId),
    ctx: &Ctx,
) -> DomainResult<(Vec<Event>, Vec<Event>)> {
    let (redemption_id, entry_id) = ids;
    let community = item.require(cmd.item_id)?;
    if account.require(cmd.volunteer_id)? != community {
        return Err(DomainError::forbidden(
            "a volunteer redeems only at their own community's shop",
        ));
    }
    if item.withdrawn {
        return Err(DomainError::ItemWithdrawn {
            item_id: cmd.item_id,
        });
    }
    if let Some(valid_until) = item.valid_until.filter(|u| *u < local_date(ctx.now)) {
        return Err(DomainError::ItemExpired {
            item_id: cmd.item_id,
            valid_until,
        });
    }
    if item.stock == 0 {
        return Err(DomainError::OutOfStock {
            item_id: cmd.item_id,
        });
    }
    if let Some(limit) = item
        .per_person
        .filter(|l| item.redeemed_by(cmd.volunteer_id) >= *l)
    {
        return Err(DomainError::LimitReached {
            item_id: cmd.item_id,
            volunteer_id: cmd.volunteer_id,
            limit,
        });
    }
    let debit = RedeemPoints {
        volunteer_id: cmd.volunteer_id,
        points: item.price.to_decimal(),
        item: item.name.clone(),
    };
    let account_events = volunteer::redeem(account, &debit, entry_id, ctx)?;
    Ok((
        vec![Event::ShopItemRedeemed {
            redemption_id,
            volunteer_id: cmd.volunteer_id,
            entry_id,
            points: item.price,
            code: redemption_code(redemption_id),
            redeemed_by: ctx.principal(),
        }],
        account_events,
    ))
}

/// A redemption still waiting at the outlet, or why not.
fn waiting(item: &ShopItemState, id: RedemptionId) -> DomainResult<&Redemption> {
    let r = item.redemption(id)?;
    match r.stage {
        RedemptionStage::Redeemed => Ok(r),
        RedemptionStage::Collected => Err(DomainError::AlreadyCollected { redemption_id: id }),
        RedemptionStage::Cancelled => Err(DomainError::RedemptionCancelled { redemption_id: id }),
    }
}

pub fn collect(
    item: &ShopItemState,
    cmd: &CollectRedemption,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    require_staff(ctx.actor)?;
    item.require(cmd.item_id)?;
    waiting(item, cmd.redemption_id)?;
    Ok(vec![Event::RedemptionCollected {
        redemption_id: cmd.redemption_id,
        collected_by: ctx.principal(),
    }])
}

/// A cancellation: `(item events, account events)`; the refund's entry id is `refund`.
pub fn cancel(
    item: &ShopItemState,
    cmd: &CancelRedemption,
    refund: EntryId,
    ctx: &Ctx,
) -> DomainResult<(Vec<Event>, Vec<Event>)> {
    item.require(cmd.item_id)?;
    let r = waiting(item, cmd.redemption_id)?;
    let staff = ctx.actor.is_staff_or_admin();
    if !staff && ctx.actor.volunteer_id != Some(r.volunteer_id) {
        return Err(DomainError::forbidden(
            "a volunteer cancels only their own redemption",
        ));
    }
    let reason = if staff {
        required_text("reason", &cmd.reason, MAX_TEXT)?
    } else {
        text("reason", cmd.reason.trim(), MAX_TEXT)?
    };
    Ok((
        vec![Event::RedemptionCancelled {
            redemption_id: cmd.redemption_id,
            refund,
            reason: reason.clone(),
            cancelled_by: ctx.principal(),
        }],
        vec![Event::PointsRefunded {
            entry_id: refund,
            refunds: r.entry_id,
            points: r.points,
            item: item.name.clone(),
            reason,
            refunded_by: ctx.principal(),
        }],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_unambiguous_characters_and_differ() {
        let a = redemption_code(RedemptionId(Uuid::from_u128(1)));
        let b = redemption_code(RedemptionId(Uuid::from_u128(2)));
        assert_eq!(a.len(), 8);
        assert_ne!(a, b);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        assert!(!a.contains(['0', '1', 'I', 'O']));
        assert_eq!(a, redemption_code(RedemptionId(Uuid::from_u128(1))));
    }
}
