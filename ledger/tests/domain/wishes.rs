//! Wishes (小心愿): posting (texts, known community and stairwell, once), and the
//! lifecycle given / when / then: one claimer, only the claimer fulfils, release by the
//! claimer or staff, confirmation records the service on the claimer's account.

use super::*;

fn posted() -> Event {
    Event::WishPosted {
        wish_id: W,
        community_id: C,
        stairwell_id: S,
        category: "维修".into(),
        description: "水龙头漏水".into(),
        resident_label: "3单元独居老人".into(),
        posted_by: STAFF,
    }
}

fn post_cmd() -> PostWish {
    PostWish {
        community_id: C,
        stairwell_id: S,
        category: "维修".into(),
        description: "水龙头漏水".into(),
        resident_label: "3单元独居老人".into(),
    }
}

#[test]
fn posting_a_wish_records_it_open_in_its_stairwell() {
    let s = staff();
    let e = wish::post(
        &community(),
        &WishState::default(),
        &post_cmd(),
        W,
        &ctx(&s),
    )
    .unwrap();
    assert_eq!(e, vec![posted()]);
    let w: WishState = given(&e);
    assert_eq!(
        (w.require(W), w.stairwell_id, w.category.as_str(), w.status),
        (Ok(C), Some(S), "维修", wish::WishStatus::Open)
    );
    // Category and description are trimmed; the resident label may be empty.
    let padded = PostWish {
        category: " 维修 ".into(),
        description: " 水龙头漏水\n".into(),
        resident_label: String::new(),
        ..post_cmd()
    };
    let e = wish::post(&community(), &WishState::default(), &padded, W, &ctx(&s)).unwrap();
    assert!(
        matches!(&e[..], [Event::WishPosted { category, description, resident_label, posted_by, .. }]
        if category == "维修" && description == "水龙头漏水" && resident_label.is_empty() && *posted_by == STAFF)
    );
}

#[test]
fn a_wish_needs_a_known_community_and_stairwell_and_is_posted_once() {
    let s = staff();
    let unknown = StairwellId(Uuid::nil());
    let r = wish::post(
        &community(),
        &WishState::default(),
        &PostWish {
            stairwell_id: unknown,
            ..post_cmd()
        },
        W,
        &ctx(&s),
    );
    assert_eq!(
        r,
        Err(DomainError::NotFound {
            kind: "stairwell",
            id: unknown.to_string()
        })
    );
    assert_eq!(code(r), "NOT_FOUND");
    let r = wish::post(
        &community(),
        &WishState::default(),
        &PostWish {
            community_id: CommunityId(Uuid::nil()),
            ..post_cmd()
        },
        W,
        &ctx(&s),
    );
    assert_eq!(
        r,
        Err(DomainError::NotFound {
            kind: "community",
            id: Uuid::nil().to_string()
        })
    );
    let r = wish::post(&community(), &given(&[posted()]), &post_cmd(), W, &ctx(&s));
    assert_eq!(
        r,
        Err(DomainError::AlreadyExists {
            kind: "wish",
            id: W.to_string()
        })
    );
    assert_eq!(code(r), "ALREADY_EXISTS");
}

#[test]
fn wish_texts_are_required_and_bounded() {
    let s = staff();
    let post = |cmd: PostWish| wish::post(&community(), &WishState::default(), &cmd, W, &ctx(&s));
    let cases = [
        (
            PostWish {
                category: " ".into(),
                ..post_cmd()
            },
            DomainError::Required { field: "category" },
        ),
        (
            PostWish {
                category: "类".repeat(51),
                ..post_cmd()
            },
            DomainError::TextTooLong {
                field: "category",
                len: 51,
                max: 50,
            },
        ),
        (
            PostWish {
                description: String::new(),
                ..post_cmd()
            },
            DomainError::Required {
                field: "description",
            },
        ),
        (
            PostWish {
                description: "长".repeat(501),
                ..post_cmd()
            },
            DomainError::TextTooLong {
                field: "description",
                len: 501,
                max: 500,
            },
        ),
        (
            PostWish {
                resident_label: "老".repeat(101),
                ..post_cmd()
            },
            DomainError::TextTooLong {
                field: "resident_label",
                len: 101,
                max: 100,
            },
        ),
    ];
    for (cmd, error) in cases {
        let r = post(cmd);
        assert_eq!(r, Err(error));
        assert_eq!(code(r), "INVALID_INPUT");
    }
    // At the limits each is accepted as given.
    let longest = PostWish {
        category: "类".repeat(50),
        description: "长".repeat(500),
        resident_label: "老".repeat(100),
        ..post_cmd()
    };
    let e = post(longest.clone()).unwrap();
    assert_eq!(
        e,
        vec![Event::WishPosted {
            wish_id: W,
            community_id: C,
            stairwell_id: S,
            category: longest.category,
            description: longest.description,
            resident_label: longest.resident_label,
            posted_by: STAFF,
        }]
    );
}

/// A wish posted and claimed by `V`, with both volunteers registered.
fn claimed() -> Given {
    account([registered(V)])
        .volunteer(V2, [registered(V2)])
        .wish(W, [posted(), Event::WishClaimed { volunteer_id: V }])
}

fn fulfilled(hours: i64) -> Event {
    Event::WishFulfilled {
        volunteer_id: V,
        hours: Hours::whole(hours),
        note: String::new(),
        fulfilled_at: at(2025, 5, 1),
    }
}

#[test]
fn a_wish_is_claimed_by_exactly_one_volunteer() {
    let claim = ClaimWish {
        wish_id: W,
        volunteer_id: V2,
    };
    assert_eq!(
        claimed()
            .when(&vol(V2), claim.clone())
            .then_expect_error("WISH_ALREADY_CLAIMED"),
        DomainError::WishAlreadyClaimed {
            wish_id: W,
            claimed_by: V
        }
    );
    let then = world()
        .volunteer(V2, [registered(V2)])
        .wish(W, [posted()])
        .when(&vol(V2), claim.clone())
        .then_expect_stream(
            &wish_stream(W),
            vec![Event::WishClaimed { volunteer_id: V2 }],
        );
    assert_eq!(
        then.outcome(),
        Outcome::ClaimWish(WishChange {
            wish_id: W,
            status: wish::WishStage::Claimed
        })
    );
    world()
        .volunteer(V2, [registered(V2)])
        .when(&vol(V2), claim)
        .then_expect_error("NOT_FOUND");
}

#[test]
fn only_the_claimer_fulfils_a_wish() {
    let cmd = |v| FulfilWish {
        wish_id: W,
        volunteer_id: v,
        hours: dec("1"),
        note: String::new(),
        fulfilled_at: None,
    };
    claimed()
        .when(&vol(V2), cmd(V2))
        .then_expect_error("NOT_CLAIMER");
    claimed()
        .when(&vol(V), cmd(V))
        .then_expect_events(vec![Event::WishFulfilled {
            volunteer_id: V,
            hours: Hours::whole(1),
            note: String::new(),
            fulfilled_at: now(),
        }]);
}

#[test]
fn release_by_claimer_or_staff_only() {
    let release = ReleaseWish { wish_id: W };
    claimed()
        .when(&vol(V2), release.clone())
        .then_expect_error("NOT_CLAIMER");
    for actor in [vol(V), staff()] {
        claimed()
            .when(&actor, release.clone())
            .then_expect_events(vec![Event::WishReleased { volunteer_id: V }]);
    }
}

#[test]
fn confirmation_records_the_service_on_the_claimer_account() {
    let then = claimed()
        .wish(W, [fulfilled(2)])
        .when(&staff(), ConfirmWish { wish_id: W });
    let sid = ServiceId(then.id("service"));
    let we = then.then_expect_stream(
        &wish_stream(W),
        vec![Event::WishConfirmed {
            confirmed_by: STAFF,
            service_id: sid,
        }],
    );
    let ve: Vec<Event> = we
        .events()
        .into_iter()
        .filter(|e| !matches!(e, Event::WishConfirmed { .. }))
        .collect();
    assert!(matches!(&ve[..], [
        Event::ServiceLogged { kind: ServiceKind::Wish, hours, .. },
        Event::ServiceVerified { points, .. },
    ] if *hours == Hours::whole(2) && *points == Points::whole(20)));
    // the result names the service, the entry and the claimer's balances after it
    let Outcome::ConfirmWish(c) = we.outcome() else {
        panic!("not a confirmation")
    };
    assert_eq!(
        (
            c.volunteer_id,
            c.service_id,
            c.points,
            c.points_balance,
            c.hours_balance
        ),
        (
            V,
            sid,
            Points::whole(20),
            Points::whole(20),
            Hours::whole(2)
        )
    );
    // not before it is fulfilled
    claimed()
        .when(&staff(), ConfirmWish { wish_id: W })
        .then_expect_error("INVALID_STATE");
}

#[test]
fn a_confirmed_wish_cannot_be_cancelled() {
    let cancel = CancelWish {
        wish_id: W,
        reason: "x".into(),
    };
    claimed()
        .wish(
            W,
            [
                fulfilled(1),
                Event::WishConfirmed {
                    confirmed_by: STAFF,
                    service_id: ServiceId(Uuid::nil()),
                },
            ],
        )
        .when(&staff(), cancel.clone())
        .then_expect_error("INVALID_STATE");
    world()
        .wish(W, [posted()])
        .when(&staff(), cancel)
        .then_expect_events(vec![Event::WishCancelled {
            reason: "x".into(),
            cancelled_by: STAFF,
        }]);
}
