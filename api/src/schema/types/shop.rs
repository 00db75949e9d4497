//! The points shop (积分超市): an item of the catalogue, a redemption with its code and
//! where it is, and a month's stock line per item.

use super::person::{person_fields, show_name, Visibility};
use super::points_of;
use crate::scalars::PointsScalar;
use crate::schema::args::id;
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// Where a redemption is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ledger::domain::shop::RedemptionStage")]
pub enum RedemptionStatus {
    /// Waiting at the outlet (待领取).
    Redeemed,
    /// Handed over (已领取).
    Collected,
    /// Cancelled before collection, the points given back (已取消).
    Cancelled,
}

/// An item of a community's points shop.
#[derive(SimpleObject, Clone)]
pub struct ShopItem {
    pub id: ID,
    pub community_id: ID,
    pub name: String,
    /// Points one unit costs.
    pub price: PointsScalar,
    /// Units left.
    pub stock: u32,
    /// Where it is collected (领取地点).
    pub collect_at: String,
    /// Last day it can be redeemed (China Standard Time), if any.
    pub valid_until: Option<NaiveDate>,
    /// At most this many per volunteer (not counting cancelled ones), if limited.
    pub per_person: Option<u32>,
    /// No longer offered (下架).
    pub withdrawn: bool,
    /// Whether it can be redeemed today: offered, in stock and within its date.
    pub available: bool,
    /// Units redeemed and not cancelled, and of them collected.
    pub redeemed: u32,
    pub collected: u32,
    pub listed_at: DateTime<Utc>,
    /// Log position of the item's last event.
    pub position: u64,
}

impl ShopItem {
    pub fn new(i: projections::shop::ShopItem, today: NaiveDate) -> ShopItem {
        let in_date = i.valid_until.is_none_or(|u| u >= today);
        ShopItem {
            id: id(i.item_id.0),
            community_id: id(i.community_id.0),
            available: !i.withdrawn && i.stock > 0 && in_date,
            name: i.name,
            price: points_of(i.price),
            stock: i.stock,
            collect_at: i.collect_at,
            valid_until: i.valid_until,
            per_person: i.per_person,
            withdrawn: i.withdrawn,
            redeemed: i.redeemed,
            collected: i.collected,
            listed_at: i.listed_at,
            position: i.position,
        }
    }
}

/// A redemption (兑换) of a shop item.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Redemption {
    pub id: ID,
    pub item_id: ID,
    /// The item's name when it was redeemed.
    pub item_name: String,
    pub volunteer_id: ID,
    /// The 8-character code the volunteer shows at the outlet.
    pub code: String,
    pub points: PointsScalar,
    pub status: RedemptionStatus,
    pub redeemed_at: DateTime<Utc>,
    pub collected_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it was cancelled (may be empty).
    pub reason: String,
    pub position: u64,
    #[graphql(skip)]
    pub volunteer: Uuid,
    #[graphql(skip)]
    pub vis: Visibility,
}

impl Redemption {
    pub fn new(r: projections::shop::ShopRedemption, vis: Visibility) -> Redemption {
        Redemption {
            id: id(r.redemption_id.0),
            item_id: id(r.item_id.0),
            item_name: r.item_name,
            volunteer_id: id(r.volunteer_id.0),
            code: r.code,
            points: points_of(r.points),
            status: r.status.into(),
            redeemed_at: r.redeemed_at,
            collected_at: r.collected_at,
            cancelled_at: r.cancelled_at,
            reason: r.reason,
            position: r.position,
            volunteer: r.volunteer_id.0,
            vis,
        }
    }
}

#[ComplexObject]
impl Redemption {
    /// Name of the volunteer who redeemed it; null once erased.
    async fn volunteer_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let p = person_fields(ctx, self.volunteer).await?;
        Ok(show_name(&p, self.vis))
    }
}

/// One item's stock through a month (the monthly stock and redemption sheet): at its
/// start, added (listed or restocked), counted off, redeemed, returned by
/// cancellations, and at its end.
#[derive(SimpleObject, Clone)]
pub struct StockLine {
    pub item_id: ID,
    pub name: String,
    pub opening: i64,
    pub added: i64,
    pub counted_off: i64,
    pub redeemed: i64,
    pub returned: i64,
    pub closing: i64,
}

impl From<projections::shop::StockLine> for StockLine {
    fn from(l: projections::shop::StockLine) -> StockLine {
        StockLine {
            item_id: id(l.item_id.0),
            name: l.name,
            opening: l.opening,
            added: l.added,
            counted_off: l.counted_off,
            redeemed: l.redeemed,
            returned: l.returned,
            closing: l.closing,
        }
    }
}
