//! Relatives (家属) given / when / then: staff link two volunteers with their consent, on
//! both accounts; either side or staff end it; under hours rules that say so, hours are
//! gifted only to a linked relative; hours spent on a volunteer's service name them and
//! record their service in the same append. Under a stored-hours cap an account banks
//! what fits, counts the rest for stars, and refuses gifts above it.

use super::*;
use ledger::event::Provider;

const V3: VolunteerId = VolunteerId(Uuid::from_u128(12));

fn banked() -> Vec<Event> {
    vec![
        registered(V),
        logged(1, at(2025, 4, 1), 120, ServiceKind::Patrol),
        verified(1, 1, 120, 20),
    ]
}

fn linked(relative: VolunteerId, relation: &str) -> Event {
    Event::RelativeLinked {
        relative,
        relation: relation.into(),
        linked_by: STAFF,
    }
}

/// V with 2 h banked, V2 and V3 registered; the community's hours rules `rules`.
fn family(rules: impl IntoIterator<Item = Event>, v: Vec<Event>, v2: Vec<Event>) -> Given {
    world()
        .community(C, rules)
        .volunteer(V, v)
        .volunteer(V2, v2)
        .volunteer(V3, [registered(V3)])
}

fn link(consent: bool) -> LinkRelative {
    LinkRelative {
        volunteer_id: V,
        relative_id: V2,
        relation: " 母亲 ".into(),
        consent,
    }
}

#[test]
fn staff_link_relatives_with_consent_on_both_accounts() {
    family([], banked(), vec![registered(V2)])
        .when(&staff(), link(true))
        .then_expect_stream(&volunteer_stream(V), vec![linked(V2, "母亲")])
        .then_expect_stream(&volunteer_stream(V2), vec![linked(V, "")]);
    family([], banked(), vec![registered(V2)])
        .when(&staff(), link(false))
        .then_expect_error("INVALID_INPUT");
    family([], banked(), vec![registered(V2)])
        .when(&vol(V), link(true))
        .then_expect_error("FORBIDDEN");
    family([], banked(), vec![registered(V2)])
        .when(
            &staff(),
            LinkRelative {
                relative_id: V,
                ..link(true)
            },
        )
        .then_expect_error("INVALID_INPUT");
    let mut v = banked();
    v.push(linked(V2, "母亲"));
    family([], v, vec![registered(V2), linked(V, "")])
        .when(&staff(), link(true))
        .then_expect_error("ALREADY_EXISTS");
}

#[test]
fn either_side_or_staff_end_a_link() {
    let unlink = UnlinkRelative {
        volunteer_id: V,
        relative_id: V2,
        reason: "搬走了".into(),
    };
    let ended = |relative| Event::RelativeUnlinked {
        relative,
        reason: "搬走了".into(),
        unlinked_by: V2.0,
    };
    let both = || {
        let mut v = banked();
        v.push(linked(V2, "母亲"));
        family([], v, vec![registered(V2), linked(V, "")])
    };
    both()
        .when(&vol(V2), unlink.clone())
        .then_expect_stream(&volunteer_stream(V), vec![ended(V2)])
        .then_expect_stream(&volunteer_stream(V2), vec![ended(V)]);
    assert_eq!(both().when(&vol(V), unlink.clone()).events().len(), 2);
    assert_eq!(both().when(&staff(), unlink.clone()).events().len(), 2);
    both()
        .when(&vol(V3), unlink.clone())
        .then_expect_error("FORBIDDEN");
    family([], banked(), vec![registered(V2)])
        .when(&staff(), unlink)
        .then_expect_error("NOT_FOUND");
    // After the end, the accounts have no relative.
    let mut v = banked();
    v.extend([linked(V2, "母亲"), ended(V2)]);
    let state: VolunteerState = given(&v);
    assert!(state.relatives.is_empty());
}

#[test]
fn where_the_rules_say_so_hours_go_only_to_a_linked_relative() {
    let rules = |from: NaiveDate| Event::HoursRulesSet {
        version: 1,
        gifts_to_relatives_only: true,
        effective_from: from,
        stored_hours_cap: None,
    };
    let gift = GiftHours {
        from: V,
        to: V2,
        hours: dec("1"),
    };
    let in_force = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let e = family([rules(in_force)], banked(), vec![registered(V2)])
        .when(&vol(V), gift.clone())
        .then_expect_error("RELATIVE_LINK_REQUIRED");
    assert_eq!(
        e,
        DomainError::RelativeLinkRequired {
            from: V,
            to: V2,
            rule_version: 1
        }
    );
    // Linked: the gift goes.
    let mut v = banked();
    v.push(linked(V2, "母亲"));
    let then = family([rules(in_force)], v, vec![registered(V2), linked(V, "")])
        .when(&vol(V), gift.clone());
    assert_eq!(then.events().len(), 2);
    // Before the rule's day, and without any rule, anyone of the community.
    let later = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let then = family([rules(later)], banked(), vec![registered(V2)]).when(&vol(V), gift.clone());
    assert_eq!(then.events().len(), 2);
    let then = family([], banked(), vec![registered(V2)]).when(&vol(V), gift);
    assert_eq!(then.events().len(), 2);
}

#[test]
fn hours_spent_on_a_volunteers_service_name_them_and_credit_it() {
    let spend = SpendHours {
        volunteer_id: V,
        hours: dec("1.5"),
        description: "上门理发".into(),
        provider: Some(V2),
        kind: Some(ServiceKind::Other),
    };
    // Recorded by staff: the provider's service is logged and verified at once.
    let then = family([], banked(), vec![registered(V2)]).when(&staff(), spend.clone());
    let service = ServiceId(then.id("service"));
    let provider_entry = EntryId(then.id("provider-entry"));
    let entry = EntryId(then.id("entry"));
    let then = then
        .then_expect_stream(
            &volunteer_stream(V),
            vec![Event::HoursSpent {
                entry_id: entry,
                hours: Hours::from_minutes(90),
                description: "上门理发".into(),
                provider: Some(Provider {
                    volunteer_id: V2,
                    service_id: service,
                }),
            }],
        )
        .then_expect_stream(
            &volunteer_stream(V2),
            vec![
                Event::ServiceLogged {
                    imported: None,
                    service_id: service,
                    kind: ServiceKind::Other,
                    started_at: now(),
                    hours: Hours::from_minutes(90),
                    place: String::new(),
                    note: "上门理发".into(),
                    logged_by: STAFF,
                    activity: None,
                },
                Event::ServiceVerified {
                    service_id: service,
                    entry_id: provider_entry,
                    hours: Hours::from_minutes(90),
                    points: Points::whole(15),
                    rule_version: 0,
                    verified_by: STAFF,
                    over_cap: Hours::ZERO,
                    expires_on: None,
                },
            ],
        );
    assert!(
        matches!(then.outcome(), Outcome::SpendHours(b) if b.hours_balance == Hours::from_minutes(30))
    );
    // Recorded by the volunteer: the service waits for staff.
    let then = family([], banked(), vec![registered(V2)]).when(&vol(V), spend.clone());
    let on_provider: Vec<&str> = then
        .events()
        .iter()
        .skip(1)
        .map(|e| e.event_type())
        .collect();
    assert_eq!(on_provider, vec!["ServiceLogged"]);
    // Not oneself, and never past the balance (nothing credited then).
    family([], banked(), vec![registered(V2)])
        .when(
            &staff(),
            SpendHours {
                provider: Some(V),
                ..spend.clone()
            },
        )
        .then_expect_error("INVALID_INPUT");
    family([], banked(), vec![registered(V2)])
        .when(
            &staff(),
            SpendHours {
                hours: dec("3"),
                ..spend
            },
        )
        .then_expect_error("INSUFFICIENT_HOURS");
}

fn capped_at(hours: i64) -> Event {
    Event::HoursRulesSet {
        version: 1,
        gifts_to_relatives_only: false,
        effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        stored_hours_cap: Some(Hours::whole(hours)),
    }
}

#[test]
fn the_stored_hours_cap_banks_what_fits_and_counts_the_rest_for_stars() {
    // V has 2 h banked and logs another 2 h; the cap is 3 h.
    let mut v = banked();
    v.push(logged(2, at(2025, 5, 1), 120, ServiceKind::Repair));
    let then = family([capped_at(3)], v.clone(), vec![registered(V2)]).when(
        &staff(),
        VerifyService {
            volunteer_id: V,
            service_id: ServiceId(Uuid::from_u128(2)),
        },
    );
    let verified = then.events();
    assert!(
        matches!(&verified[..], [Event::ServiceVerified { hours, over_cap, .. }]
            if *hours == Hours::whole(2) && *over_cap == Hours::whole(1)),
        "{verified:?}"
    );
    v.extend(verified);
    let state: VolunteerState = given(&v);
    assert_eq!(
        (state.hours, state.verified_hours),
        (Hours::whole(3), Hours::whole(4))
    );
    // A gift that would take V above the cap is refused; the giver keeps the hours.
    let mut giver = vec![registered(V2)];
    giver.extend([
        logged(3, at(2025, 4, 1), 60, ServiceKind::Patrol),
        Event::ServiceVerified {
            service_id: ServiceId(Uuid::from_u128(3)),
            entry_id: entry(3),
            hours: Hours::whole(1),
            points: Points::whole(10),
            rule_version: 0,
            verified_by: STAFF,
            over_cap: Hours::ZERO,
            expires_on: None,
        },
    ]);
    family([capped_at(3)], v.clone(), giver)
        .when(
            &vol(V2),
            GiftHours {
                from: V2,
                to: V,
                hours: dec("0.5"),
            },
        )
        .then_expect_error("HOURS_CAP_REACHED");
    // Reversing the capped service takes back the hour it banked, and its 2 h from the
    // verified hours.
    let entry_id = state
        .entries
        .iter()
        .find(|(_, e)| !e.over_cap.is_zero())
        .map(|(id, _)| *id)
        .expect("the capped entry");
    let then = family([capped_at(3)], v.clone(), vec![registered(V2)]).when(
        &staff(),
        ReverseEntry {
            volunteer_id: V,
            entry_id,
            reason: "重复登记".into(),
            impact: None,
        },
    );
    v.extend(then.events());
    let after: VolunteerState = given(&v);
    assert_eq!(
        (after.hours, after.verified_hours),
        (Hours::whole(2), Hours::whole(2))
    );
    // Without a cap, all of it is banked.
    let mut plain = banked();
    plain.push(logged(2, at(2025, 5, 1), 120, ServiceKind::Repair));
    let then = family([], plain, vec![registered(V2)]).when(
        &staff(),
        VerifyService {
            volunteer_id: V,
            service_id: ServiceId(Uuid::from_u128(2)),
        },
    );
    assert!(
        matches!(&then.events()[..], [Event::ServiceVerified { over_cap, .. }] if over_cap.is_zero())
    );
}
