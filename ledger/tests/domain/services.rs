//! Service records: logging, the cap of the rules in force on the service date,
//! verification by those rules, rejection, and who may do which.

use super::*;

#[test]
fn log_service_records_hours_and_place() {
    let then = account([registered(V)]).when(&vol(V), log_cmd("1.5", at(2025, 5, 1)));
    let service_id = ServiceId(then.id("service"));
    then.then_expect_stream(
        &volunteer_stream(V),
        vec![Event::ServiceLogged {
            imported: None,
            service_id,
            kind: ServiceKind::Patrol,
            started_at: at(2025, 5, 1),
            hours: Hours::from_minutes(90),
            place: "小区东门".into(),
            note: String::new(),
            logged_by: V.0,
            activity: None,
        }],
    );
}

#[test]
fn hours_must_be_positive() {
    let when = |hours| account([registered(V)]).when(&vol(V), log_cmd(hours, at(2025, 5, 1)));
    when("0").then_expect_error("INVALID_INPUT");
    assert!(matches!(
        when("-1").then_expect_error("INVALID_INPUT"),
        DomainError::NotPositive { field: "hours" }
    ));
}

#[test]
fn hours_finer_than_a_minute_are_refused() {
    let e = account([registered(V)])
        .when(&vol(V), log_cmd("1.01", at(2025, 5, 1)))
        .then_expect_error("INVALID_INPUT");
    assert!(matches!(
        e,
        DomainError::InvalidAmount { field: "hours", .. }
    ));
}

#[test]
fn hours_beyond_the_cap_in_force_on_the_service_date_are_refused() {
    let rules = Event::PointRulesSet {
        version: 1,
        points_per_hour: Points::whole(10),
        coefficients: BTreeMap::new(),
        max_hours_per_record: Hours::whole(2),
        effective_from: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
    };
    let capped = || account([registered(V)]).community(C, [rules.clone()]);
    let e = capped()
        .when(&vol(V), log_cmd("3", at(2025, 4, 1)))
        .then_expect_error("INVALID_INPUT");
    assert!(matches!(
        e,
        DomainError::HoursOverCap {
            rule_version: 1,
            ..
        }
    ));
    // before the rules took effect the default cap (8 h) applies
    assert_eq!(
        capped()
            .when(&vol(V), log_cmd("3", at(2025, 1, 1)))
            .events()
            .len(),
        1
    );
    account([registered(V)])
        .when(&vol(V), log_cmd("8.5", at(2025, 1, 1)))
        .then_expect_error("INVALID_INPUT");
}

#[test]
fn start_in_the_future_is_refused() {
    let e = account([registered(V)])
        .when(&vol(V), log_cmd("1", now() + chrono::Duration::minutes(1)))
        .then_expect_error("INVALID_INPUT");
    assert!(matches!(e, DomainError::InFuture { .. }));
}

#[test]
fn a_service_that_has_not_ended_yet_is_refused() {
    // Started an hour ago: one hour is fine, an hour and a half is not over yet.
    let started = now() - chrono::Duration::hours(1);
    let when = |hours| account([registered(V)]).when(&vol(V), log_cmd(hours, started));
    assert_eq!(when("1").events().len(), 1);
    assert!(matches!(
        when("1.5").then_expect_error("INVALID_INPUT"),
        DomainError::InFuture { at, .. } if at == now() + chrono::Duration::minutes(30)
    ));
}

#[test]
fn unknown_volunteer_is_not_found() {
    world()
        .when(&staff(), log_cmd("1", at(2025, 5, 1)))
        .then_expect_error("NOT_FOUND");
}

#[test]
fn over_long_text_is_refused() {
    let mut cmd = log_cmd("1", at(2025, 5, 1));
    cmd.note = "长".repeat(501);
    assert!(matches!(
        account([registered(V)])
            .when(&vol(V), cmd)
            .then_expect_error("INVALID_INPUT"),
        DomainError::TextTooLong {
            field: "note",
            len: 501,
            max: 500
        }
    ));
    world()
        .when(
            &staff(),
            FormTeam {
                community_id: C,
                name: "队".repeat(101),
            },
        )
        .then_expect_error("INVALID_INPUT");
}

#[test]
fn verify_uses_rules_in_force_on_the_service_date_and_rounds_half_away_from_zero() {
    let mut coefficients = BTreeMap::new();
    coefficients.insert(ServiceKind::Repair, dec("1.25"));
    let history = || {
        account([
            registered(V),
            logged(1, at(2025, 4, 1), 70, ServiceKind::Repair),
            logged(2, at(2025, 1, 1), 90, ServiceKind::Repair),
        ])
        .community(
            C,
            [Event::PointRulesSet {
                version: 1,
                points_per_hour: Points::from_hundredths(1001),
                coefficients: coefficients.clone(),
                max_hours_per_record: Hours::whole(8),
                effective_from: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            }],
        )
    };
    let verify = |s| VerifyService {
        volunteer_id: V,
        service_id: ServiceId(Uuid::from_u128(s)),
    };
    // 70 min × 10.01 × 1.25 = 14.597916… → 14.60
    let then = history().when(&staff(), verify(1));
    let entry_id = EntryId(then.id("entry"));
    let then = then.then_expect_events(vec![Event::ServiceVerified {
        service_id: ServiceId(Uuid::from_u128(1)),
        entry_id,
        hours: Hours::from_minutes(70),
        points: Points::from_hundredths(1460),
        rule_version: 1,
        verified_by: STAFF,
        over_cap: Hours::ZERO,
        expires_on: None,
    }]);
    // the result says what was credited and the balances after it
    assert_eq!(
        then.outcome(),
        Outcome::VerifyService(Verification {
            entry_id,
            points: Points::from_hundredths(1460),
            hours: Hours::from_minutes(70),
            points_balance: Points::from_hundredths(1460),
            hours_balance: Hours::from_minutes(70),
        })
    );
    // before v1: defaults (10 points/h, coefficient 1): 1.5 h → 15
    let events = history().when(&staff(), verify(2)).events();
    assert!(
        matches!(&events[..], [Event::ServiceVerified { points, rule_version: 0, .. }] if *points == Points::whole(15))
    );
}

#[test]
fn staff_cannot_verify_reject_or_award_their_own_account() {
    let mut me = staff();
    me.volunteer_id = Some(V);
    let history = || {
        account([
            registered(V),
            logged(1, at(2025, 4, 1), 60, ServiceKind::Patrol),
        ])
    };
    let sid = ServiceId(Uuid::from_u128(1));
    let e = history()
        .when(
            &me,
            VerifyService {
                volunteer_id: V,
                service_id: sid,
            },
        )
        .then_expect_error("SELF_VERIFICATION");
    assert!(matches!(e, DomainError::SelfVerification { .. }));
    history()
        .when(
            &me,
            RejectService {
                impact: None,
                volunteer_id: V,
                service_id: sid,
                reason: "x".into(),
            },
        )
        .then_expect_error("SELF_VERIFICATION");
    history()
        .when(
            &me,
            AwardPoints {
                volunteer_id: V,
                points: dec("5"),
                reason: "自己".into(),
            },
        )
        .then_expect_error("SELF_AWARD");
    // Nor move another volunteer's hours into their own account.
    history()
        .volunteer(
            V2,
            [
                registered(V2),
                logged(2, at(2025, 4, 1), 120, ServiceKind::Patrol),
                verified(2, 3, 120, 20),
            ],
        )
        .when(
            &me,
            GiftHours {
                from: V2,
                to: V,
                hours: dec("1"),
            },
        )
        .then_expect_error("SELF_AWARD");
}

#[test]
fn a_service_is_verified_or_rejected_at_most_once() {
    let history = || {
        account([
            registered(V),
            logged(1, at(2025, 4, 1), 60, ServiceKind::Patrol),
            verified(1, 1, 60, 10),
        ])
    };
    let sid = ServiceId(Uuid::from_u128(1));
    history()
        .when(
            &staff(),
            VerifyService {
                volunteer_id: V,
                service_id: sid,
            },
        )
        .then_expect_error("ALREADY_VERIFIED");
    history()
        .when(
            &staff(),
            RejectService {
                impact: None,
                volunteer_id: V,
                service_id: sid,
                reason: "x".into(),
            },
        )
        .then_expect_error("ALREADY_VERIFIED");
}

#[test]
fn rejection_needs_a_reason() {
    let e = account([
        registered(V),
        logged(1, at(2025, 4, 1), 60, ServiceKind::Patrol),
    ])
    .when(
        &staff(),
        RejectService {
            impact: None,
            volunteer_id: V,
            service_id: ServiceId(Uuid::from_u128(1)),
            reason: " ".into(),
        },
    )
    .then_expect_error("INVALID_INPUT");
    assert!(matches!(e, DomainError::Required { field: "reason" }));
}

/// A correction's preview is kept on events from now on; the events of the log written
/// before it read as they did, and an event without a preview is written as before.
#[test]
fn events_written_before_previews_were_kept_read_and_write_as_before() {
    let old = r#"{"type":"ServiceRejected","service_id":"00000000-0000-0000-0000-000000000001","reason":"重复登记","rejected_by":"00000000-0000-0000-0000-000000000002"}"#;
    let e: Event = serde_json::from_str(old).unwrap();
    assert!(matches!(e, Event::ServiceRejected { impact: None, .. }));
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        serde_json::from_str::<serde_json::Value>(old).unwrap()
    );
}
