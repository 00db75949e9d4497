//! Reads of the points shop: a community's catalogue, one item, redemptions (a
//! volunteer's, a community's by status, or by code at the outlet), and a month's stock
//! movements per item.

use super::{
    item_from_row, redemption_from_row, ItemRow, RedemptionRow, ITEM_SELECT, REDEMPTION_SELECT,
};
use crate::common::{day_start_millis, from_millis, parse_day, points_dec};
use crate::db::{Db, Val};
use crate::error::Result;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::domain::shop::RedemptionStage;
use ledger::ids::{CommunityId, RedemptionId, ShopItemId, VolunteerId};
use rust_decimal::Decimal;
use uuid::Uuid;

/// An item of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShopItem {
    pub item_id: ShopItemId,
    pub community_id: CommunityId,
    pub name: String,
    pub price: Decimal,
    /// Units left.
    pub stock: u32,
    pub collect_at: String,
    pub valid_until: Option<NaiveDate>,
    pub per_person: Option<u32>,
    pub withdrawn: bool,
    /// Redemptions not cancelled, and of them collected.
    pub redeemed: u32,
    pub collected: u32,
    pub listed_at: DateTime<Utc>,
    pub position: u64,
}

fn to_item(id: Uuid, r: ItemRow) -> ShopItem {
    let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    ShopItem {
        item_id: ShopItemId(id),
        community_id: CommunityId(r.community_id),
        name: r.name,
        price: points_dec(r.price),
        stock: count(r.stock),
        collect_at: r.collect_at,
        valid_until: r.valid_until.as_deref().and_then(parse_day),
        per_person: r.per_person.map(count),
        withdrawn: r.withdrawn,
        redeemed: count(r.redeemed),
        collected: count(r.collected),
        listed_at: from_millis(r.listed_at),
        position: r.position,
    }
}

/// A redemption.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShopRedemption {
    pub redemption_id: RedemptionId,
    pub item_id: ShopItemId,
    pub community_id: CommunityId,
    pub volunteer_id: VolunteerId,
    pub code: String,
    /// The item's name when it was redeemed.
    pub item_name: String,
    pub points: Decimal,
    pub status: RedemptionStage,
    pub redeemed_at: DateTime<Utc>,
    pub collected_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it was cancelled (may be empty).
    pub reason: String,
    pub position: u64,
}

fn to_redemption(id: Uuid, r: RedemptionRow) -> ShopRedemption {
    ShopRedemption {
        redemption_id: RedemptionId(id),
        item_id: ShopItemId(r.item_id),
        community_id: CommunityId(r.community_id),
        volunteer_id: VolunteerId(r.volunteer_id),
        code: r.code,
        item_name: r.item_name,
        points: points_dec(r.points),
        status: r.status,
        redeemed_at: from_millis(r.redeemed_at),
        collected_at: r.collected_at.map(from_millis),
        cancelled_at: r.cancelled_at.map(from_millis),
        reason: r.reason,
        position: r.position,
    }
}

/// A community's items by name, those still offered first (withdrawn ones only when
/// asked for).
pub async fn shop_items(
    db: &Db,
    community: CommunityId,
    with_withdrawn: bool,
) -> Result<Vec<ShopItem>> {
    let mut sql = format!("SELECT {ITEM_SELECT} FROM pj_shop_items WHERE community_id = ?");
    if !with_withdrawn {
        sql.push_str(" AND withdrawn = 0");
    }
    sql.push_str(" ORDER BY withdrawn, name, item_id");
    db.fetch(&sql, &[Val::from(community.0.to_string())])
        .await?
        .iter()
        .map(|r| item_from_row(r).map(|(id, i)| to_item(id, i)))
        .collect()
}

/// One item.
pub async fn shop_item(db: &Db, id: ShopItemId) -> Result<Option<ShopItem>> {
    db.fetch_optional(
        &format!("SELECT {ITEM_SELECT} FROM pj_shop_items WHERE item_id = ?"),
        &[Val::from(id.0.to_string())],
    )
    .await?
    .map(|r| item_from_row(&r).map(|(id, i)| to_item(id, i)))
    .transpose()
}

async fn redemptions_where(db: &Db, filter: &str, vals: Vec<Val>) -> Result<Vec<ShopRedemption>> {
    db.fetch(
        &format!(
            "SELECT {REDEMPTION_SELECT} FROM pj_shop_redemptions WHERE {filter}
             ORDER BY redeemed_at DESC, redemption_id LIMIT 200"
        ),
        &vals,
    )
    .await?
    .iter()
    .map(|r| redemption_from_row(r).map(|(id, x)| to_redemption(id, x)))
    .collect()
}

/// A volunteer's redemptions, newest first (at most 200).
pub async fn redemptions_of(db: &Db, volunteer: VolunteerId) -> Result<Vec<ShopRedemption>> {
    redemptions_where(
        db,
        "volunteer_id = ?",
        vec![Val::from(volunteer.0.to_string())],
    )
    .await
}

/// A community's redemptions, of one status if given, newest first (at most 200).
pub async fn community_redemptions(
    db: &Db,
    community: CommunityId,
    status: Option<RedemptionStage>,
) -> Result<Vec<ShopRedemption>> {
    let mut vals = vec![Val::from(community.0.to_string())];
    let filter = match status {
        Some(s) => {
            vals.push(Val::from(s.as_str()));
            "community_id = ? AND status = ?"
        }
        None => "community_id = ?",
    };
    redemptions_where(db, filter, vals).await
}

/// The redemptions of a community with this code (spaces and case ignored): what the
/// outlet looks up when a volunteer shows it.
pub async fn redemptions_by_code(
    db: &Db,
    community: CommunityId,
    code: &str,
) -> Result<Vec<ShopRedemption>> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_uppercase();
    redemptions_where(
        db,
        "community_id = ? AND code = ?",
        vec![Val::from(community.0.to_string()), Val::from(code)],
    )
    .await
}

/// One item's stock through a month: at its start, added (listed or restocked),
/// counted off, redeemed and returned by cancellations in it, and at its end; the
/// points of the month's redemptions net of those cancelled.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StockLine {
    pub item_id: ShopItemId,
    pub name: String,
    pub opening: i64,
    pub added: i64,
    pub counted_off: i64,
    pub redeemed: i64,
    pub returned: i64,
    pub closing: i64,
}

/// Every item of a community with a movement up to the month's end: its stock line for
/// the month (China Standard Time) that starts on `month`'s first day.
pub async fn stock_month(
    db: &Db,
    community: CommunityId,
    month: NaiveDate,
) -> Result<Vec<StockLine>> {
    let first = month.with_day(1).unwrap_or(month);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let (start, end) = (day_start_millis(first), day_start_millis(next));
    let rows = db
        .fetch(
            "SELECT m.item_id, i.name,
                CAST(SUM(CASE WHEN m.at < ? THEN m.change ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN m.at >= ? AND m.kind IN ('listed', 'added') THEN m.change ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN m.at >= ? AND m.kind = 'counted' THEN -m.change ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN m.at >= ? AND m.kind = 'redeemed' THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN m.at >= ? AND m.kind = 'returned' THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(m.change) AS BIGINT)
             FROM pj_shop_moves m JOIN pj_shop_items i ON i.item_id = m.item_id
             WHERE m.community_id = ? AND m.at < ?
             GROUP BY m.item_id, i.name ORDER BY i.name, m.item_id",
            &[
                Val::from(start),
                Val::from(start),
                Val::from(start),
                Val::from(start),
                Val::from(start),
                Val::from(community.0.to_string()),
                Val::from(end),
            ],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(StockLine {
                item_id: ShopItemId(crate::common::uuid_col(super::NAME, r, 0)?),
                name: r.text(1)?,
                opening: r.int(2)?,
                added: r.int(3)?,
                counted_off: r.int(4)?,
                redeemed: r.int(5)?,
                returned: r.int(6)?,
                closing: r.int(7)?,
            })
        })
        .collect()
}
