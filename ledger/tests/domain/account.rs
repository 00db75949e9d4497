//! Points and hours: awards need a reason, redemptions and spending never overdraw,
//! reversals always succeed (flagging an account below zero) and only once, gifts move
//! hours between accounts.

use super::*;

#[test]
fn award_needs_a_reason() {
    let v: VolunteerState = given(&[registered(V)]);
    let actor = staff();
    let r = volunteer::award(
        &v,
        &AwardPoints {
            volunteer_id: V,
            points: dec("5"),
            reason: "".into(),
        },
        entry(1),
        &ctx(&actor),
    );
    assert!(matches!(r, Err(DomainError::Required { field: "reason" })));
    let ok = volunteer::award(
        &v,
        &AwardPoints {
            volunteer_id: V,
            points: dec("5.5"),
            reason: "楼道清理".into(),
        },
        entry(1),
        &ctx(&actor),
    )
    .unwrap();
    assert!(
        matches!(&ok[..], [Event::PointsAwarded { points, .. }] if *points == Points::from_hundredths(550))
    );
}

#[test]
fn redemption_never_overdraws() {
    let v: VolunteerState = given(&[registered(V), awarded(1, 10)]);
    let actor = staff();
    let r = volunteer::redeem(
        &v,
        &RedeemPoints {
            volunteer_id: V,
            points: dec("10.01"),
            item: "大米".into(),
        },
        entry(2),
        &ctx(&actor),
    );
    assert_eq!(
        r,
        Err(DomainError::InsufficientPoints {
            balance: Points::whole(10),
            requested: Points::from_hundredths(1001)
        })
    );
    assert!(volunteer::redeem(
        &v,
        &RedeemPoints {
            volunteer_id: V,
            points: dec("10"),
            item: "大米".into()
        },
        entry(2),
        &ctx(&actor)
    )
    .is_ok());
}

#[test]
fn a_reversal_always_succeeds_and_flags_a_negative_account() {
    let v: VolunteerState = given(&[
        registered(V),
        awarded(1, 10),
        Event::PointsRedeemed {
            entry_id: entry(2),
            points: Points::whole(8),
            item: "油".into(),
            redeemed_by: STAFF,
        },
    ]);
    let actor = staff();
    let e = volunteer::reverse(
        &v,
        &ReverseEntry {
            volunteer_id: V,
            entry_id: entry(1),
            reason: "录入错误".into(),
            impact: None,
        },
        entry(3),
        &ctx(&actor),
    )
    .unwrap();
    assert!(
        matches!(&e[..], [Event::EntryReversed { reverses, points, .. }] if *reverses == entry(1) && *points == Points::whole(10))
    );
    let mut after = v.clone();
    after.evolve(&e[0]);
    assert_eq!(after.points, Points::whole(-8));
    assert!(after.flagged());
    // flagged: redemptions are refused
    let r = volunteer::redeem(
        &after,
        &RedeemPoints {
            volunteer_id: V,
            points: dec("1"),
            item: "x".into(),
        },
        entry(4),
        &ctx(&actor),
    );
    assert_eq!(code(r), "ACCOUNT_FLAGGED");
    // back above zero: allowed again
    after.evolve(&awarded(5, 9));
    assert!(!after.flagged());
    assert!(volunteer::redeem(
        &after,
        &RedeemPoints {
            volunteer_id: V,
            points: dec("1"),
            item: "x".into()
        },
        entry(6),
        &ctx(&actor)
    )
    .is_ok());
}

#[test]
fn an_entry_is_reversed_at_most_once() {
    let v: VolunteerState = given(&[
        registered(V),
        awarded(1, 10),
        Event::EntryReversed {
            batch: None,
            entry_id: entry(2),
            reverses: entry(1),
            points: Points::whole(10),
            hours: Hours::ZERO,
            reason: "x".into(),
            reversed_by: STAFF,
            over_cap: Hours::ZERO,
            impact: None,
        },
    ]);
    let actor = staff();
    let r = volunteer::reverse(
        &v,
        &ReverseEntry {
            volunteer_id: V,
            entry_id: entry(1),
            reason: "again".into(),
            impact: None,
        },
        entry(3),
        &ctx(&actor),
    );
    assert_eq!(
        r,
        Err(DomainError::AlreadyReversed {
            entry_id: entry(1),
            reversed_by: entry(2)
        })
    );
}

#[test]
fn reversing_a_verified_service_removes_its_hours_and_points() {
    let v: VolunteerState = given(&[
        registered(V),
        logged(1, at(2025, 4, 1), 120, ServiceKind::Patrol),
        verified(1, 1, 120, 20),
    ]);
    let actor = staff();
    let e = volunteer::reverse(
        &v,
        &ReverseEntry {
            volunteer_id: V,
            entry_id: entry(1),
            reason: "重复录入".into(),
            impact: None,
        },
        entry(2),
        &ctx(&actor),
    )
    .unwrap();
    let after = given::<VolunteerState>(&[
        registered(V),
        logged(1, at(2025, 4, 1), 120, ServiceKind::Patrol),
        verified(1, 1, 120, 20),
        e[0].clone(),
    ]);
    assert_eq!(
        (after.points, after.hours, after.verified_hours),
        (Points::ZERO, Hours::ZERO, Hours::ZERO)
    );
}

#[test]
fn a_reversal_that_leaves_the_hours_below_zero_flags_the_account_too() {
    // 2 h banked with 20 points, 1.5 h gifted to a relative, then the service reversed:
    // hours −1.5 while points are back to 0.
    let mut v: VolunteerState = given(&[
        registered(V),
        logged(1, at(2025, 4, 1), 120, ServiceKind::Patrol),
        verified(1, 1, 120, 20),
        awarded(2, 5),
        Event::HoursGifted {
            entry_id: entry(3),
            to: V2,
            hours: Hours::from_minutes(90),
        },
    ]);
    let actor = staff();
    let e = volunteer::reverse(
        &v,
        &ReverseEntry {
            volunteer_id: V,
            entry_id: entry(1),
            reason: "重复录入".into(),
            impact: None,
        },
        entry(4),
        &ctx(&actor),
    )
    .unwrap();
    v.evolve(&e[0]);
    assert_eq!(
        (v.points, v.hours),
        (Points::whole(5), Hours::from_minutes(-90))
    );
    assert!(v.flagged());
    let redeem = RedeemPoints {
        volunteer_id: V,
        points: dec("1"),
        item: "x".into(),
    };
    assert_eq!(
        volunteer::redeem(&v, &redeem, entry(5), &ctx(&actor)),
        Err(DomainError::AccountFlagged {
            points: Points::whole(5),
            hours: Hours::from_minutes(-90)
        })
    );
    // Hours received back from the relative bring it to zero: redemptions resume.
    v.evolve(&Event::HoursReceived {
        entry_id: entry(6),
        from: V2,
        hours: Hours::from_minutes(90),
    });
    assert!(!v.flagged());
    assert!(volunteer::redeem(&v, &redeem, entry(7), &ctx(&actor)).is_ok());
}

#[test]
fn redemptions_and_gifts_are_not_reversible() {
    let v: VolunteerState = given(&[
        registered(V),
        awarded(1, 10),
        Event::PointsRedeemed {
            entry_id: entry(2),
            points: Points::whole(5),
            item: "油".into(),
            redeemed_by: STAFF,
        },
        Event::HoursReceived {
            entry_id: entry(3),
            from: V2,
            hours: Hours::whole(1),
        },
    ]);
    let actor = staff();
    for e in [entry(2), entry(3)] {
        let r = volunteer::reverse(
            &v,
            &ReverseEntry {
                volunteer_id: V,
                entry_id: e,
                reason: "x".into(),
                impact: None,
            },
            entry(9),
            &ctx(&actor),
        );
        assert_eq!(code(r), "NOT_REVERSIBLE");
    }
    let r = volunteer::reverse(
        &v,
        &ReverseEntry {
            volunteer_id: V,
            entry_id: entry(7),
            reason: "x".into(),
            impact: None,
        },
        entry(9),
        &ctx(&actor),
    );
    assert_eq!(code(r), "NOT_FOUND");
}

#[test]
fn gifts_move_hours_and_never_overdraw() {
    let from: VolunteerState = given(&[
        registered(V),
        logged(1, at(2025, 4, 1), 120, ServiceKind::Patrol),
        verified(1, 1, 120, 20),
    ]);
    let to: VolunteerState = given(&[registered(V2)]);
    let cmd = |h: &str| GiftHours {
        from: V,
        to: V2,
        hours: dec(h),
    };
    let r = volunteer::gift(&from, &to, &cmd("2.5"), entry(2), &ctx(&staff()));
    assert_eq!(
        r,
        Err(DomainError::InsufficientHours {
            balance: Hours::whole(2),
            requested: Hours::from_minutes(150)
        })
    );
    let (fe, te) = volunteer::gift(&from, &to, &cmd("1.5"), entry(2), &ctx(&staff())).unwrap();
    assert!(
        matches!(&fe[..], [Event::HoursGifted { to: t, hours, .. }] if *t == V2 && *hours == Hours::from_minutes(90))
    );
    assert!(matches!(&te[..], [Event::HoursReceived { from: f, .. }] if *f == V));
    let r = volunteer::gift(
        &from,
        &VolunteerState::default(),
        &cmd("1"),
        entry(2),
        &ctx(&staff()),
    );
    assert_eq!(code(r), "NOT_FOUND");
}

#[test]
fn spending_hours_never_overdraws() {
    let v: VolunteerState = given(&[
        registered(V),
        Event::HoursReceived {
            entry_id: entry(1),
            from: V2,
            hours: Hours::whole(1),
        },
    ]);
    let r = volunteer::spend(
        &v,
        &SpendHours {
            volunteer_id: V,
            hours: dec("1.05"),
            description: "理发".into(),
            provider: None,
            kind: None,
        },
        entry(2),
        None,
    );
    assert_eq!(code(r), "INSUFFICIENT_HOURS");
    assert!(volunteer::spend(
        &v,
        &SpendHours {
            volunteer_id: V,
            hours: dec("1"),
            description: "理发".into(),
            provider: None,
            kind: None,
        },
        entry(2),
        None
    )
    .is_ok());
}

#[test]
fn an_award_to_many_writes_every_award_or_none() {
    let award = |ids: Vec<VolunteerId>, points: &str, reason: &str| AwardPointsToMany {
        volunteer_ids: ids,
        points: dec(points),
        reason: reason.into(),
    };
    let two = || account([registered(V)]).volunteer(V2, [registered(V2)]);
    // Given two volunteers, when staff award both 5 points for one reason, then each
    // account gets its own entry with that reason.
    let then = two().when(&staff(), award(vec![V, V2], "5", "楼道清扫"));
    let (e0, e1) = (EntryId(then.id("entry-0")), EntryId(then.id("entry-1")));
    let then = then
        .then_expect_stream(
            &volunteer_stream(V),
            vec![Event::PointsAwarded {
                entry_id: e0,
                points: Points::whole(5),
                reason: "楼道清扫".into(),
                awarded_by: STAFF,
                expires_on: None,
            }],
        )
        .then_expect_stream(
            &volunteer_stream(V2),
            vec![Event::PointsAwarded {
                entry_id: e1,
                points: Points::whole(5),
                reason: "楼道清扫".into(),
                awarded_by: STAFF,
                expires_on: None,
            }],
        );
    let Outcome::AwardPointsToMany(made) = then.outcome() else {
        panic!("another outcome")
    };
    assert_eq!(made.awards.len(), 2);
    assert_eq!(made.awards[1].volunteer_id, V2);
    assert_eq!(made.points, Points::whole(5));
    // One departed volunteer refuses the whole award.
    account([registered(V)])
        .volunteer(
            V2,
            [
                registered(V2),
                Event::VolunteerDeparted {
                    reason: "搬走".into(),
                },
            ],
        )
        .when(&staff(), award(vec![V, V2], "5", "楼道清扫"))
        .then_expect_error("INVALID_STATE");
    // A volunteer named twice, nobody, no reason, or nothing to award: refused.
    two()
        .when(&staff(), award(vec![V, V], "5", "x"))
        .then_expect_error("INVALID_INPUT");
    two()
        .when(&staff(), award(vec![], "5", "x"))
        .then_expect_error("INVALID_INPUT");
    two()
        .when(&staff(), award(vec![V, V2], "5", " "))
        .then_expect_error("INVALID_INPUT");
    two()
        .when(&staff(), award(vec![V, V2], "0", "x"))
        .then_expect_error("INVALID_INPUT");
    // Staff of another community, or a volunteer: forbidden.
    two()
        .when(
            &Actor::staff(STAFF, CommunityId(Uuid::from_u128(77))),
            award(vec![V, V2], "5", "x"),
        )
        .then_expect_error("FORBIDDEN");
    two()
        .when(&vol(V), award(vec![V2], "5", "x"))
        .then_expect_error("FORBIDDEN");
}
