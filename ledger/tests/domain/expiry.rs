//! Points expiry (积分有效期) given / when / then: a versioned rule dates each credit;
//! points are spent oldest first; what is left of a credit on its day is expired by an
//! event (NOTHING_DUE otherwise); a cancelled redemption gives back to the credits it
//! took from (expired again if their day has passed); a reversal of a credit partly
//! expired takes back only what had not expired. Hours never expire.

use super::*;
use ledger::domain::community::SetPointsExpiry;
use ledger::event::{ExpiredLot, ExpiryRounding};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn rule(months: u32, rounding: ExpiryRounding) -> Event {
    Event::PointsExpiryRulesSet {
        version: 1,
        valid_months: months,
        rounding,
        effective_from: day(2024, 1, 1),
    }
}

/// An award of `points` on entry `n` valid until `until`.
fn award(n: u128, points: i64, until: NaiveDate) -> Event {
    Event::PointsAwarded {
        entry_id: entry(n),
        points: Points::whole(points),
        reason: "r".into(),
        awarded_by: STAFF,
        expires_on: Some(until),
    }
}

fn redeem(n: u128, points: i64) -> Event {
    Event::PointsRedeemed {
        entry_id: entry(n),
        points: Points::whole(points),
        item: "大米".into(),
        redeemed_by: STAFF,
    }
}

fn expired(n: u128, lots: &[(u128, i64)]) -> Event {
    Event::PointsExpired {
        entry_id: entry(n),
        points: Points::whole(lots.iter().map(|(_, p)| p).sum()),
        lots: lots
            .iter()
            .map(|(e, p)| ExpiredLot {
                entry: entry(*e),
                points: Points::whole(*p),
            })
            .collect(),
        expired_by: STAFF,
    }
}

/// A (100, due 1 May 2025) and B (50, due 1 Dec 2025); 30 spent (from A, the older).
fn history() -> Vec<Event> {
    vec![
        registered(V),
        award(1, 100, day(2025, 5, 1)),
        award(2, 50, day(2025, 12, 1)),
        redeem(3, 30),
    ]
}

fn expire() -> ExpirePoints {
    ExpirePoints { volunteer_id: V }
}

#[test]
fn a_credit_is_dated_by_the_rule_in_force_the_day_it_is_credited() {
    // Given three years to the end of the year, when staff award on 1 June 2025, then
    // the points are valid until the end of 2028.
    let then = world()
        .community(
            C,
            [community_events(), vec![rule(36, ExpiryRounding::YearEnd)]].concat(),
        )
        .volunteer(V, [registered(V)])
        .when(
            &staff(),
            AwardPoints {
                volunteer_id: V,
                points: dec("20"),
                reason: "楼道清扫".into(),
            },
        );
    let entry_id = EntryId(then.id("entry"));
    then.then_expect_events(vec![Event::PointsAwarded {
        entry_id,
        points: Points::whole(20),
        reason: "楼道清扫".into(),
        awarded_by: STAFF,
        expires_on: Some(day(2029, 1, 1)),
    }]);
    // Without a rule, nothing expires.
    let plain = account([registered(V)]).when(
        &staff(),
        AwardPoints {
            volunteer_id: V,
            points: dec("20"),
            reason: "楼道清扫".into(),
        },
    );
    assert!(matches!(
        plain.events()[..],
        [Event::PointsAwarded {
            expires_on: None,
            ..
        }]
    ));
    // The rule: administrators, at most ten years.
    let set = |months| SetPointsExpiry {
        community_id: C,
        valid_months: months,
        rounding: ExpiryRounding::MonthEnd,
        effective_from: day(2025, 1, 1),
    };
    world()
        .when(&staff(), set(36))
        .then_expect_error("FORBIDDEN");
    world()
        .when(&Actor::admin(STAFF), set(121))
        .then_expect_error("INVALID_INPUT");
    assert_eq!(
        world().when(&Actor::admin(STAFF), set(36)).events().len(),
        1
    );
}

#[test]
fn what_is_left_of_a_credit_expires_on_its_day_oldest_spent_first() {
    // Given A partly spent, when the server runs on 1 June 2025, then A's 70 expire and
    // B's 50 stay.
    let then = account(history()).when(&staff(), expire());
    let entry_id = EntryId(then.id("entry"));
    then.then_expect_events(vec![Event::PointsExpired {
        entry_id,
        points: Points::whole(70),
        lots: vec![ExpiredLot {
            entry: entry(1),
            points: Points::whole(70),
        }],
        expired_by: STAFF,
    }]);
    let mut after = history();
    after.push(expired(4, &[(1, 70)]));
    let state: VolunteerState = given(&after);
    assert_eq!(state.points, Points::whole(50));
    // Then nothing more is due until B's day.
    account(after.clone())
        .when(&staff(), expire())
        .then_expect_error("NOTHING_DUE");
    assert_eq!(
        state.expiring(day(2025, 6, 1), day(2025, 12, 31)),
        vec![(day(2025, 12, 1), Points::whole(50))]
    );
    // A redemption cancelled gives its 30 back to A, whose day has passed: they expire
    // at the next run.
    after.push(Event::PointsRefunded {
        entry_id: entry(5),
        refunds: entry(3),
        points: Points::whole(30),
        item: "大米".into(),
        reason: "不要了".into(),
        refunded_by: STAFF,
    });
    let state: VolunteerState = given(&after);
    assert_eq!(state.points, Points::whole(80));
    assert_eq!(
        state.due_on(day(2025, 6, 1)),
        vec![ExpiredLot {
            entry: entry(1),
            points: Points::whole(30)
        }]
    );
}

#[test]
fn a_reversal_of_a_credit_partly_expired_takes_back_what_had_not_expired() {
    // Given A: 30 spent, 70 expired; when A is reversed, then the reversal takes 30
    // (spent in good faith, now owed), not the 100 awarded: from B, the oldest left.
    let mut h = history();
    h.push(expired(4, &[(1, 70)]));
    let then = account(h.clone()).when(
        &staff(),
        ReverseEntry {
            volunteer_id: V,
            entry_id: entry(1),
            reason: "重复录入".into(),
            impact: None,
        },
    );
    let Event::EntryReversed { points, .. } = &then.events()[0] else {
        panic!("{:?}", then.events())
    };
    assert_eq!(*points, Points::whole(30));
    h.extend(then.events());
    let state: VolunteerState = given(&h);
    assert_eq!(state.points, Points::whole(20));
    // B now holds 20, and that is what will expire on its day.
    assert_eq!(
        state.due_on(day(2025, 12, 1)),
        vec![ExpiredLot {
            entry: entry(2),
            points: Points::whole(20)
        }]
    );
    // Hours are untouched by any of it.
    assert_eq!(state.hours, Hours::ZERO);
}
