//! The points shop's monthly stock and redemption sheet (积分超市月度库存与兑换表),
//! pinned to a log position: per item, the stock at the month's start (China Standard
//! Time), what was added (listed or restocked), counted off, redeemed and returned by
//! cancellations in the month, the stock at its end and the points the month's
//! redemptions took net of those returned; then every redemption of the month with the
//! volunteer, the code and where it is as of the position.

use crate::error::ReportError;
use crate::fold;
use crate::labels::{local_midnight, next_month_start};
use crate::people;
use crate::table::{Cell, Section};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::amount::Points;
use ledger::event::Event;
use ledger::ids::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// Event types the sheet reads.
pub const WANTED: [&str; 9] = [
    "VolunteerRegistered",
    "VolunteerTransferred",
    "ShopItemListed",
    "ShopItemChanged",
    "ShopItemStockAdjusted",
    "ShopItemWithdrawn",
    "ShopItemRedeemed",
    "RedemptionCollected",
    "RedemptionCancelled",
];

/// One item's month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StockRow {
    pub name: String,
    pub price: Points,
    pub opening: i64,
    pub added: i64,
    pub counted_off: i64,
    pub redeemed: i64,
    pub returned: i64,
    pub closing: i64,
    /// Points the month's redemptions took, net of those returned in it.
    pub points: Points,
}

/// One redemption of the month, as of the position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RedemptionRow {
    pub redeemed_at: DateTime<Utc>,
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    pub name: String,
    pub item: String,
    pub points: Points,
    pub code: String,
    /// 待领取, 已领取 or 已取消.
    pub status: &'static str,
}

/// The sheet of one community's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShopSheet {
    pub community_id: CommunityId,
    pub year: i32,
    pub month: u32,
    pub position: u64,
    pub as_of: Option<DateTime<Utc>>,
    pub items: Vec<StockRow>,
    pub redemptions: Vec<RedemptionRow>,
}

/// The month's fold: its bounds, volunteer numbers, each item's row (and whether it
/// moved), the points of every redemption (a cancellation in the month gives back what
/// was paid, whenever), and the month's redemptions.
struct Fold {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    numbers: BTreeMap<VolunteerId, String>,
    items: BTreeMap<String, (StockRow, bool)>,
    paid: BTreeMap<RedemptionId, Points>,
    redemptions: BTreeMap<RedemptionId, RedemptionRow>,
}

impl Fold {
    fn visit(&mut self, e: fold::CommunityEvent) {
        let at = e.recorded_at;
        if at >= self.end {
            return;
        }
        let before = at < self.start;
        if let Event::VolunteerRegistered {
            volunteer_id,
            volunteer_number,
            ..
        } = &e.event
        {
            self.numbers.insert(*volunteer_id, volunteer_number.clone());
            return;
        }
        if let Event::VolunteerTransferred(t) = &e.event {
            self.numbers
                .insert(t.volunteer_id, t.volunteer_number.clone());
            return;
        }
        let item = &mut self.items.entry(e.stream_id.clone()).or_default().0;
        let name = item.name.clone();
        match e.event {
            Event::ShopItemListed {
                name, price, stock, ..
            } => {
                (item.name, item.price) = (name, price);
                self.moved(&e.stream_id, i64::from(stock), before, Kind::Added);
            }
            Event::ShopItemChanged { name, price, .. } => {
                (item.name, item.price) = (name, price);
            }
            Event::ShopItemStockAdjusted { change, .. } => {
                let kind = if change > 0 {
                    Kind::Added
                } else {
                    Kind::Counted
                };
                self.moved(&e.stream_id, change, before, kind);
            }
            Event::ShopItemRedeemed {
                redemption_id,
                volunteer_id,
                points,
                code,
                ..
            } => {
                self.moved(&e.stream_id, -1, before, Kind::Redeemed);
                self.paid.insert(redemption_id, points);
                if !before {
                    if let Some((row, _)) = self.items.get_mut(&e.stream_id) {
                        row.points = row.points.saturating_add(points);
                    }
                    let r = RedemptionRow {
                        redeemed_at: at,
                        volunteer_id,
                        volunteer_number: String::new(),
                        name: String::new(),
                        item: name,
                        points,
                        code,
                        status: "待领取",
                    };
                    self.redemptions.insert(redemption_id, r);
                }
            }
            Event::RedemptionCollected { redemption_id, .. } => {
                if let Some(r) = self.redemptions.get_mut(&redemption_id) {
                    r.status = "已领取";
                }
            }
            Event::RedemptionCancelled { redemption_id, .. } => {
                self.moved(&e.stream_id, 1, before, Kind::Returned);
                if let Some(r) = self.redemptions.get_mut(&redemption_id) {
                    r.status = "已取消";
                }
                // The points given back in the month come off the month's.
                let back = self
                    .paid
                    .get(&redemption_id)
                    .copied()
                    .unwrap_or(Points::ZERO);
                if let Some((row, _)) = self.items.get_mut(&e.stream_id).filter(|_| !before) {
                    row.points = row.points.saturating_sub(back);
                }
            }
            _ => {}
        }
    }

    fn moved(&mut self, stream: &str, n: i64, before: bool, kind: Kind) {
        let Some((row, moved)) = self.items.get_mut(stream) else {
            return;
        };
        *moved = true;
        row.closing += n;
        if before {
            row.opening += n;
            return;
        }
        match kind {
            Kind::Added => row.added += n,
            Kind::Counted => row.counted_off -= n,
            Kind::Redeemed => row.redeemed += 1,
            Kind::Returned => row.returned += 1,
        }
    }
}

enum Kind {
    Added,
    Counted,
    Redeemed,
    Returned,
}

/// The sheet of `community`'s month (`year`, `month`) as of position `at` (the head
/// when `None`).
pub async fn shop_sheet(
    store: &ledger::Store,
    community: CommunityId,
    year: i32,
    month: u32,
    at: Option<u64>,
) -> Result<ShopSheet, ReportError> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| ReportError::InvalidInput(format!("{year}-{month:02} is not a month")))?;
    let position = fold::pin(store, at).await?;
    let mut acc = Fold {
        start: local_midnight(first),
        end: local_midnight(next_month_start(year, month)),
        numbers: BTreeMap::new(),
        items: BTreeMap::new(),
        paid: BTreeMap::new(),
        redemptions: BTreeMap::new(),
    };
    let progress = |_: u64, _: u64| {};
    fold::scan_community(store, community.0, &WANTED, position, &progress, |e| {
        acc.visit(e);
        Ok(())
    })
    .await?;
    let as_of = fold::recorded_at(store, position).await?;
    let mut redemptions: Vec<RedemptionRow> = acc.redemptions.into_values().collect();
    let names = people::display_names(store, redemptions.iter().map(|r| r.volunteer_id)).await?;
    for r in &mut redemptions {
        r.volunteer_number = acc
            .numbers
            .get(&r.volunteer_id)
            .cloned()
            .unwrap_or_default();
        r.name = names.get(&r.volunteer_id).cloned().unwrap_or_default();
    }
    redemptions.sort_by_key(|r| r.redeemed_at);
    let mut items: Vec<StockRow> = acc
        .items
        .into_values()
        .filter(|(_, moved)| *moved)
        .map(|(r, _)| r)
        .collect();
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ShopSheet {
        community_id: community,
        year,
        month,
        position,
        as_of,
        items,
        redemptions,
    })
}

/// The sheet as tables: the stock per item, and the month's redemptions.
pub fn shop_sections(s: &ShopSheet) -> Vec<Section> {
    let stock = Section {
        key: "stock",
        title: "库存".into(),
        columns: [
            "商品",
            "单价（积分）",
            "月初库存",
            "入库",
            "盘点减少",
            "兑换",
            "取消退回",
            "月末库存",
            "兑换积分（净）",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .items
            .iter()
            .map(|i| {
                vec![
                    Cell::text(&i.name),
                    Cell::Points(i.price),
                    Cell::Int(i.opening),
                    Cell::Int(i.added),
                    Cell::Int(i.counted_off),
                    Cell::Int(i.redeemed),
                    Cell::Int(i.returned),
                    Cell::Int(i.closing),
                    Cell::Points(i.points),
                ]
            })
            .collect(),
    };
    let list = Section {
        key: "redemptions",
        title: "兑换明细".into(),
        columns: [
            "兑换时间",
            "志愿者编号",
            "姓名",
            "商品",
            "积分",
            "兑换码",
            "状态",
        ]
        .map(String::from)
        .to_vec(),
        rows: s
            .redemptions
            .iter()
            .map(|r| {
                vec![
                    Cell::DateTime(r.redeemed_at),
                    Cell::text(&r.volunteer_number),
                    Cell::text(&r.name),
                    Cell::text(&r.item),
                    Cell::Points(r.points),
                    Cell::text(&r.code),
                    Cell::text(r.status),
                ]
            })
            .collect(),
    };
    vec![stock, list]
}
