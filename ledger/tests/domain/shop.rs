//! The points shop (积分超市) given / when / then: staff list items, a redemption takes
//! one unit and the points in one decision and gives a code, never past the stock, the
//! balance, the item's date or the limit per person; the outlet collects once; a
//! redemption not yet collected can be cancelled, which gives the unit and the points
//! back.

use super::*;
use ledger::domain::shop::{redemption_code, RedemptionStage, ShopItemState};

const I: ShopItemId = ShopItemId(Uuid::from_u128(40));
const R: RedemptionId = RedemptionId(Uuid::from_u128(41));

fn listed(stock: u32, per_person: Option<u32>) -> Event {
    Event::ShopItemListed {
        item_id: I,
        community_id: C,
        name: "大米 5kg".into(),
        price: Points::whole(50),
        stock,
        collect_at: "社区服务站一楼".into(),
        valid_until: Some(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()),
        per_person,
        listed_by: STAFF,
    }
}

/// `V` redeemed one unit as redemption `R`, entry 7.
fn redeemed() -> Event {
    Event::ShopItemRedeemed {
        redemption_id: R,
        volunteer_id: V,
        entry_id: entry(7),
        points: Points::whole(50),
        code: redemption_code(R),
        redeemed_by: V.0,
    }
}

fn debited() -> Event {
    Event::PointsRedeemed {
        entry_id: entry(7),
        points: Points::whole(50),
        item: "大米 5kg".into(),
        redeemed_by: V.0,
    }
}

/// The community, `V` with 60 points and `V2` with 100, and the item with these events.
fn shop(item: impl IntoIterator<Item = Event>) -> Given {
    world()
        .volunteer(V, [registered(V), awarded(1, 60)])
        .volunteer(V2, [registered(V2), awarded(2, 100)])
        .shop_item(I, item)
}

fn redeem(v: VolunteerId) -> RedeemShopItem {
    RedeemShopItem {
        item_id: I,
        volunteer_id: v,
    }
}

fn list_cmd() -> ListShopItem {
    ListShopItem {
        community_id: C,
        name: " 大米 5kg ".into(),
        price: dec("50"),
        stock: 2,
        collect_at: "社区服务站一楼".into(),
        valid_until: Some(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()),
        per_person: None,
    }
}

#[test]
fn staff_list_an_item_with_its_price_stock_and_place() {
    let then = world().when(&staff(), list_cmd());
    let id = ShopItemId(then.id("shop-item"));
    let then = then.then_expect_stream(
        &shop_item_stream(id),
        vec![Event::ShopItemListed {
            item_id: id,
            community_id: C,
            name: "大米 5kg".into(),
            price: Points::whole(50),
            stock: 2,
            collect_at: "社区服务站一楼".into(),
            valid_until: Some(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()),
            per_person: None,
            listed_by: STAFF,
        }],
    );
    assert!(matches!(then.outcome(), Outcome::ListShopItem(r) if r.item_id == id && r.stock == 2));
    world()
        .when(&vol(V), list_cmd())
        .then_expect_error("FORBIDDEN");
    world()
        .when(
            &staff(),
            ListShopItem {
                price: dec("0"),
                ..list_cmd()
            },
        )
        .then_expect_error("INVALID_INPUT");
    world()
        .when(
            &staff(),
            ListShopItem {
                valid_until: Some(NaiveDate::from_ymd_opt(2025, 5, 31).unwrap()),
                ..list_cmd()
            },
        )
        .then_expect_error("INVALID_INPUT");
}

#[test]
fn a_redemption_takes_one_unit_and_the_points_and_gives_a_code() {
    let then = shop([listed(1, None)]).when(&vol(V), redeem(V));
    let r = RedemptionId(then.id("redemption"));
    let e = EntryId(then.id("entry"));
    let code = redemption_code(r);
    assert_eq!(code.len(), 8);
    let then = then
        .then_expect_stream(
            &shop_item_stream(I),
            vec![Event::ShopItemRedeemed {
                redemption_id: r,
                volunteer_id: V,
                entry_id: e,
                points: Points::whole(50),
                code: code.clone(),
                redeemed_by: V.0,
            }],
        )
        .then_expect_stream(
            &volunteer_stream(V),
            vec![Event::PointsRedeemed {
                entry_id: e,
                points: Points::whole(50),
                item: "大米 5kg".into(),
                redeemed_by: V.0,
            }],
        );
    let Outcome::RedeemShopItem(made) = then.outcome() else {
        panic!("not a redemption")
    };
    assert_eq!(
        (made.code, made.points_balance, made.stock),
        (code, Points::whole(10), 0)
    );
}

#[test]
fn the_last_unit_goes_once_and_never_past_the_balance_date_or_limit() {
    // The unit V took is gone for V2.
    shop([listed(1, None), redeemed()])
        .when(&vol(V2), redeem(V2))
        .then_expect_error("OUT_OF_STOCK");
    // V has 60 points: a second 50 is refused, and nothing is taken.
    let e = world()
        .volunteer(V, [registered(V), awarded(1, 60), debited()])
        .shop_item(I, [listed(5, None), redeemed()])
        .when(&vol(V), redeem(V))
        .then_expect_error("INSUFFICIENT_POINTS");
    assert_eq!(
        e,
        DomainError::InsufficientPoints {
            balance: Points::whole(10),
            requested: Points::whole(50)
        }
    );
    // One per person: V2 may, V who has one may not.
    shop([listed(5, Some(1)), redeemed()])
        .when(&vol(V), redeem(V))
        .then_expect_error("LIMIT_REACHED");
    assert_eq!(
        shop([listed(5, Some(1)), redeemed()])
            .when(&vol(V2), redeem(V2))
            .events()
            .len(),
        2
    );
    // Past its date, or withdrawn.
    shop([listed(5, None)])
        .at(at(2025, 7, 1))
        .when(&vol(V), redeem(V))
        .then_expect_error("ITEM_EXPIRED");
    let withdrawn = Event::ShopItemWithdrawn {
        reason: "过期".into(),
        withdrawn_by: STAFF,
    };
    shop([listed(5, None), withdrawn])
        .when(&vol(V), redeem(V))
        .then_expect_error("ITEM_WITHDRAWN");
    // A volunteer redeems for themself only; staff may for anyone.
    shop([listed(5, None)])
        .when(&vol(V), redeem(V2))
        .then_expect_error("FORBIDDEN");
    assert_eq!(
        shop([listed(5, None)])
            .when(&staff(), redeem(V2))
            .events()
            .len(),
        2
    );
}

#[test]
fn the_outlet_collects_once_and_a_collected_item_is_not_cancelled() {
    let collect = CollectRedemption {
        item_id: I,
        redemption_id: R,
    };
    let collected = Event::RedemptionCollected {
        redemption_id: R,
        collected_by: STAFF,
    };
    shop([listed(1, None), redeemed()])
        .when(&staff(), collect.clone())
        .then_expect_events(vec![collected.clone()]);
    shop([listed(1, None), redeemed()])
        .when(&vol(V), collect.clone())
        .then_expect_error("FORBIDDEN");
    shop([listed(1, None), redeemed(), collected.clone()])
        .when(&staff(), collect)
        .then_expect_error("ALREADY_COLLECTED");
    shop([listed(1, None), redeemed(), collected])
        .when(
            &vol(V),
            CancelRedemption {
                item_id: I,
                redemption_id: R,
                reason: String::new(),
            },
        )
        .then_expect_error("ALREADY_COLLECTED");
}

#[test]
fn a_cancelled_redemption_gives_the_unit_and_the_points_back_once() {
    let cancel = |reason: &str| CancelRedemption {
        item_id: I,
        redemption_id: R,
        reason: reason.into(),
    };
    let before = || {
        world()
            .volunteer(V, [registered(V), awarded(1, 60), debited()])
            .shop_item(I, [listed(1, None), redeemed()])
    };
    let then = before().when(&vol(V), cancel(""));
    let refund = EntryId(then.id("entry"));
    let item_events = vec![Event::RedemptionCancelled {
        redemption_id: R,
        refund,
        reason: String::new(),
        cancelled_by: V.0,
    }];
    let account_events = vec![Event::PointsRefunded {
        entry_id: refund,
        refunds: entry(7),
        points: Points::whole(50),
        item: "大米 5kg".into(),
        reason: String::new(),
        refunded_by: V.0,
    }];
    then.then_expect_stream(&shop_item_stream(I), item_events.clone())
        .then_expect_stream(&volunteer_stream(V), account_events.clone());
    // After it, the unit is in stock and the 60 points are back.
    let item: ShopItemState = given(
        &[listed(1, None), redeemed()]
            .into_iter()
            .chain(item_events.clone())
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        (item.stock, item.redemptions[&R].stage),
        (1, RedemptionStage::Cancelled)
    );
    let account: VolunteerState = given(
        &[registered(V), awarded(1, 60), debited()]
            .into_iter()
            .chain(account_events)
            .collect::<Vec<_>>(),
    );
    assert_eq!(account.points, Points::whole(60));
    // Once only; another volunteer cannot; staff say why.
    before()
        .shop_item(I, item_events)
        .when(&vol(V), cancel(""))
        .then_expect_error("REDEMPTION_CANCELLED");
    before()
        .when(&vol(V2), cancel(""))
        .then_expect_error("FORBIDDEN");
    before()
        .when(&staff(), cancel(" "))
        .then_expect_error("INVALID_INPUT");
    assert_eq!(before().when(&staff(), cancel("缺货")).events().len(), 2);
}

#[test]
fn stock_is_added_or_counted_down_but_never_below_zero() {
    let adjust = |change: i64| AdjustShopStock {
        item_id: I,
        change,
        reason: "盘点".into(),
    };
    let then = shop([listed(3, None)]).when(&staff(), adjust(-3));
    assert!(matches!(then.outcome(), Outcome::AdjustShopStock(r) if r.stock == 0));
    shop([listed(3, None)])
        .when(&staff(), adjust(-4))
        .then_expect_error("INVALID_INPUT");
    shop([listed(3, None)])
        .when(&staff(), adjust(0))
        .then_expect_error("INVALID_INPUT");
    let then = shop([listed(3, None)]).when(&staff(), adjust(10));
    assert!(matches!(then.outcome(), Outcome::AdjustShopStock(r) if r.stock == 13));
    shop([listed(3, None)])
        .when(&vol(V), adjust(10))
        .then_expect_error("FORBIDDEN");
}
