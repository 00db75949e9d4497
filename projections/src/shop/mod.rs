//! The points shop (积分超市): each community's catalogue (items with their price, units
//! left, where they are collected and until when), every redemption with its code and
//! where it is (`redeemed`, waiting at the outlet; `collected`; `cancelled`), and each
//! item's stock movements (listed, added or counted off, redeemed, returned by a
//! cancellation) for the monthly stock and redemption sheet.
//!
//! - this file: the tables, the projection and its state (load, fold, write);
//! - `query`: the catalogue, an item, redemptions of a volunteer or by code, and a
//!   month's movements.

mod query;

pub use query::*;

use crate::common::{key_strings, millis, uuid_col, Cached};
use crate::db::{Kind, OnConflict, Row, Tx, Upsert, Val, Writer};
use crate::error::Result;
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use futures::future::BoxFuture;
use ledger::domain::shop::RedemptionStage;
use ledger::event::Event;
use ledger::ids::StreamKind;
use std::collections::HashSet;
use uuid::Uuid;

pub const NAME: &str = "shop";

const TABLES: &[TableDef] = &[
    // Prices and points in hundredths; times epoch milliseconds; valid_until a day
    // (YYYY-MM-DD); withdrawn 0 or 1.
    TableDef {
        name: "pj_shop_items",
        columns: "item_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, name TEXT NOT NULL,
            price BIGINT NOT NULL, stock BIGINT NOT NULL, collect_at TEXT NOT NULL, valid_until TEXT,
            per_person BIGINT, withdrawn BIGINT NOT NULL, redeemed BIGINT NOT NULL,
            collected BIGINT NOT NULL, listed_at BIGINT NOT NULL, position BIGINT NOT NULL",
        indexes: &["(community_id, withdrawn, name)"],
    },
    TableDef {
        name: "pj_shop_redemptions",
        columns: "redemption_id TEXT NOT NULL PRIMARY KEY, item_id TEXT NOT NULL,
            community_id TEXT NOT NULL, volunteer_id TEXT NOT NULL, code TEXT NOT NULL,
            item_name TEXT NOT NULL, points BIGINT NOT NULL, status TEXT NOT NULL,
            redeemed_at BIGINT NOT NULL, collected_at BIGINT, cancelled_at BIGINT,
            reason TEXT NOT NULL, position BIGINT NOT NULL",
        indexes: &[
            "(volunteer_id, redeemed_at)",
            "(community_id, code)",
            "(community_id, redeemed_at)",
        ],
    },
    // kind: listed, added, counted (off), redeemed, returned.
    TableDef {
        name: "pj_shop_moves",
        columns: "item_id TEXT NOT NULL, position BIGINT NOT NULL, community_id TEXT NOT NULL,
            at BIGINT NOT NULL, kind TEXT NOT NULL, change BIGINT NOT NULL,
            PRIMARY KEY (item_id, position)",
        indexes: &["(community_id, at)"],
    },
];

/// An item as folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ItemRow {
    pub community_id: Uuid,
    pub name: String,
    pub price: i64,
    pub stock: i64,
    pub collect_at: String,
    pub valid_until: Option<String>,
    pub per_person: Option<i64>,
    pub withdrawn: bool,
    pub redeemed: i64,
    pub collected: i64,
    pub listed_at: i64,
    pub position: u64,
}

/// A redemption as folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RedemptionRow {
    pub item_id: Uuid,
    pub community_id: Uuid,
    pub volunteer_id: Uuid,
    pub code: String,
    pub item_name: String,
    pub points: i64,
    pub status: RedemptionStage,
    pub redeemed_at: i64,
    pub collected_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub reason: String,
    pub position: u64,
}

/// A stock movement.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Move {
    item_id: Uuid,
    position: u64,
    community_id: Uuid,
    at: i64,
    kind: &'static str,
    change: i64,
}

pub(crate) const ITEM_SELECT: &str = "item_id, community_id, name, price, stock, collect_at,
    valid_until, per_person, withdrawn, redeemed, collected, listed_at, position";

pub(crate) fn item_from_row(r: &Row) -> Result<(Uuid, ItemRow)> {
    Ok((
        uuid_col(NAME, r, 0)?,
        ItemRow {
            community_id: uuid_col(NAME, r, 1)?,
            name: r.text(2)?,
            price: r.int(3)?,
            stock: r.int(4)?,
            collect_at: r.text(5)?,
            valid_until: r.opt_text(6)?,
            per_person: r.opt_int(7)?,
            withdrawn: r.int(8)? != 0,
            redeemed: r.int(9)?,
            collected: r.int(10)?,
            listed_at: r.int(11)?,
            position: r.int(12)? as u64,
        },
    ))
}

pub(crate) const REDEMPTION_SELECT: &str = "redemption_id, item_id, community_id, volunteer_id,
    code, item_name, points, status, redeemed_at, collected_at, cancelled_at, reason, position";

pub(crate) fn redemption_from_row(r: &Row) -> Result<(Uuid, RedemptionRow)> {
    let status = r.text(7)?;
    Ok((
        uuid_col(NAME, r, 0)?,
        RedemptionRow {
            item_id: uuid_col(NAME, r, 1)?,
            community_id: uuid_col(NAME, r, 2)?,
            volunteer_id: uuid_col(NAME, r, 3)?,
            code: r.text(4)?,
            item_name: r.text(5)?,
            points: r.int(6)?,
            status: RedemptionStage::parse(&status).ok_or_else(|| {
                crate::error::ProjectionError::corrupt(NAME, format!("status {status}"))
            })?,
            redeemed_at: r.int(8)?,
            collected_at: r.opt_int(9)?,
            cancelled_at: r.opt_int(10)?,
            reason: r.text(11)?,
            position: r.int(12)? as u64,
        },
    ))
}

/// The shop projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Shop;

impl Projection for Shop {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        1
    }
    fn tables(&self) -> &'static [TableDef] {
        TABLES
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(apply_with_state(
            Box::new(ShopState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(ShopState::new(fresh)))
    }
}

/// Items and redemptions in memory, and the movements of the batch.
struct ShopState {
    fresh: bool,
    items: Cached<Uuid, ItemRow>,
    redemptions: Cached<Uuid, RedemptionRow>,
    moves: Vec<Move>,
}

impl ShopState {
    fn new(fresh: bool) -> ShopState {
        ShopState {
            fresh,
            items: Cached::default(),
            redemptions: Cached::default(),
            moves: Vec::new(),
        }
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let items: HashSet<Uuid> = events
            .iter()
            .filter_map(|e| e.stream_of(StreamKind::ShopItem))
            .filter(|i| !self.items.contains(i))
            .collect();
        for r in tx
            .select_in(
                &names.t("pj_shop_items"),
                ITEM_SELECT,
                "item_id",
                &key_strings(&items),
            )
            .await?
        {
            let (id, row) = item_from_row(&r)?;
            self.items.loaded(id, row);
        }
        let redemptions: HashSet<Uuid> = events
            .iter()
            .filter_map(|e| match &e.event {
                Event::RedemptionCollected { redemption_id, .. }
                | Event::RedemptionCancelled { redemption_id, .. } => Some(redemption_id.0),
                _ => None,
            })
            .filter(|r| !self.redemptions.contains(r))
            .collect();
        for r in tx
            .select_in(
                &names.t("pj_shop_redemptions"),
                REDEMPTION_SELECT,
                "redemption_id",
                &key_strings(&redemptions),
            )
            .await?
        {
            let (id, row) = redemption_from_row(&r)?;
            self.redemptions.loaded(id, row);
        }
        Ok(())
    }

    fn fold_event(&mut self, ev: &Envelope) {
        let Some(item_id) = ev.stream_of(StreamKind::ShopItem) else {
            return;
        };
        let at = millis(ev.recorded_at);
        if let Event::ShopItemListed {
            community_id,
            name,
            price,
            stock,
            collect_at,
            valid_until,
            per_person,
            ..
        } = &ev.event
        {
            self.items.insert(
                item_id,
                ItemRow {
                    community_id: community_id.0,
                    name: name.clone(),
                    price: price.hundredths(),
                    stock: i64::from(*stock),
                    collect_at: collect_at.clone(),
                    valid_until: valid_until.map(crate::common::day_key),
                    per_person: per_person.map(i64::from),
                    listed_at: at,
                    position: ev.position,
                    ..ItemRow::default()
                },
            );
            self.moved(item_id, ev, community_id.0, "listed", i64::from(*stock));
            return;
        }
        let Some(item) = self.items.get_mut(&item_id) else {
            return;
        };
        item.position = ev.position;
        let community = item.community_id;
        let (kind, change) = match &ev.event {
            Event::ShopItemChanged {
                name,
                price,
                collect_at,
                valid_until,
                per_person,
                ..
            } => {
                item.name = name.clone();
                item.price = price.hundredths();
                item.collect_at = collect_at.clone();
                item.valid_until = valid_until.map(crate::common::day_key);
                item.per_person = per_person.map(i64::from);
                return;
            }
            Event::ShopItemWithdrawn { .. } => {
                item.withdrawn = true;
                return;
            }
            Event::ShopItemStockAdjusted { change, .. } => {
                item.stock += change;
                (if *change > 0 { "added" } else { "counted" }, *change)
            }
            Event::ShopItemRedeemed {
                redemption_id,
                volunteer_id,
                points,
                code,
                ..
            } => {
                item.stock -= 1;
                item.redeemed += 1;
                let row = RedemptionRow {
                    item_id,
                    community_id: community,
                    volunteer_id: volunteer_id.0,
                    code: code.clone(),
                    item_name: item.name.clone(),
                    points: points.hundredths(),
                    status: RedemptionStage::Redeemed,
                    redeemed_at: at,
                    collected_at: None,
                    cancelled_at: None,
                    reason: String::new(),
                    position: ev.position,
                };
                self.redemptions.insert(redemption_id.0, row);
                ("redeemed", -1)
            }
            Event::RedemptionCollected { redemption_id, .. } => {
                item.collected += 1;
                if let Some(r) = self.redemptions.get_mut(&redemption_id.0) {
                    r.status = RedemptionStage::Collected;
                    r.collected_at = Some(at);
                    r.position = ev.position;
                }
                return;
            }
            Event::RedemptionCancelled {
                redemption_id,
                reason,
                ..
            } => {
                item.stock += 1;
                item.redeemed -= 1;
                if let Some(r) = self.redemptions.get_mut(&redemption_id.0) {
                    r.status = RedemptionStage::Cancelled;
                    r.cancelled_at = Some(at);
                    r.reason = reason.clone();
                    r.position = ev.position;
                }
                ("returned", 1)
            }
            _ => return,
        };
        self.moved(item_id, ev, community, kind, change);
    }

    fn moved(
        &mut self,
        item_id: Uuid,
        ev: &Envelope,
        community: Uuid,
        kind: &'static str,
        change: i64,
    ) {
        self.moves.push(Move {
            item_id,
            position: ev.position,
            community_id: community,
            at: millis(ev.recorded_at),
            kind,
            change,
        });
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let t = names.t("pj_shop_items");
        let cols = [
            "item_id",
            "community_id",
            "name",
            "price",
            "stock",
            "collect_at",
            "valid_until",
            "per_person",
            "withdrawn",
            "redeemed",
            "collected",
            "listed_at",
            "position",
        ];
        let mut kinds = vec![Kind::Text, Kind::Text, Kind::Text, Kind::Int, Kind::Int];
        kinds.extend([Kind::Text, Kind::Text]);
        kinds.extend([Kind::Int; 6]);
        let mut w = Writer::new(upsert(&t, &cols, &["item_id"]), &kinds[..]);
        for (id, i) in self.items.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(i.community_id.to_string()),
                Val::from(i.name.clone()),
                i.price.into(),
                i.stock.into(),
                Val::from(i.collect_at.clone()),
                Val::from(i.valid_until.clone()),
                Val::from(i.per_person),
                i64::from(i.withdrawn).into(),
                i.redeemed.into(),
                i.collected.into(),
                i.listed_at.into(),
                (i.position as i64).into(),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        self.write_redemptions(tx, names).await?;
        self.write_moves(tx, names).await
    }

    async fn write_redemptions(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let t = names.t("pj_shop_redemptions");
        let cols = [
            "redemption_id",
            "item_id",
            "community_id",
            "volunteer_id",
            "code",
            "item_name",
            "points",
            "status",
            "redeemed_at",
            "collected_at",
            "cancelled_at",
            "reason",
            "position",
        ];
        let mut kinds = vec![Kind::Text; 6];
        kinds.extend([Kind::Int, Kind::Text, Kind::Int, Kind::Int, Kind::Int]);
        kinds.extend([Kind::Text, Kind::Int]);
        let mut w = Writer::new(upsert(&t, &cols, &["redemption_id"]), &kinds[..]);
        for (id, r) in self.redemptions.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(r.item_id.to_string()),
                Val::from(r.community_id.to_string()),
                Val::from(r.volunteer_id.to_string()),
                Val::from(r.code.clone()),
                Val::from(r.item_name.clone()),
                r.points.into(),
                Val::from(r.status.as_str()),
                r.redeemed_at.into(),
                Val::from(r.collected_at),
                Val::from(r.cancelled_at),
                Val::from(r.reason.clone()),
                (r.position as i64).into(),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await
    }

    async fn write_moves(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let t = names.t("pj_shop_moves");
        let cols = [
            "item_id",
            "position",
            "community_id",
            "at",
            "kind",
            "change",
        ];
        let kinds = [
            Kind::Text,
            Kind::Int,
            Kind::Text,
            Kind::Int,
            Kind::Text,
            Kind::Int,
        ];
        let mut w = Writer::new(upsert(&t, &cols, &["item_id", "position"]), &kinds);
        for m in self.moves.drain(..) {
            let row = [
                Val::from(m.item_id.to_string()),
                (m.position as i64).into(),
                Val::from(m.community_id.to_string()),
                m.at.into(),
                Val::from(m.kind),
                m.change.into(),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await
    }
}

fn upsert<'a>(table: &'a str, cols: &'a [&'a str], key: &'a [&'a str]) -> Upsert<'a> {
    Upsert {
        table,
        cols,
        key,
        on_conflict: OnConflict::Replace,
    }
}

impl State for ShopState {
    fn load<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.load_rows(tx, names, events))
    }
    fn fold(&mut self, events: &[Envelope]) -> Result<()> {
        for ev in events {
            self.fold_event(ev);
        }
        Ok(())
    }
    fn flush<'a>(&'a mut self, tx: &'a mut Tx<'_>, names: &'a Names) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write(tx, names))
    }
    fn pending(&self) -> usize {
        self.moves.len() * 96
    }
    fn held(&self) -> usize {
        self.items.bytes(120) + self.redemptions.bytes(120) + self.moves.len() * 96
    }
    fn evict(&mut self) {
        self.items.evict();
        self.redemptions.evict();
        self.fresh = false;
    }
    fn needs_load(&self) -> bool {
        !self.fresh
    }
}
