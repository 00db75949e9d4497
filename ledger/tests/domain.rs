//! Domain rules as given events / when command / then events or error. Pure: no database.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ledger::amount::{AmountError, Hours, Points};
use ledger::command::*;
use ledger::domain::community::{self, CommunityState};
use ledger::domain::stairwell::{self, StairwellState};
use ledger::domain::volunteer::{self, VolunteerState};
use ledger::domain::wish::{self, WishState};
use ledger::domain::{Aggregate, Ctx, DomainError, IdSource};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 4, 0, 0).unwrap()
}
fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 0, 0).unwrap()
}
fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}
const C: CommunityId = CommunityId(Uuid::from_u128(1));
const G: GridId = GridId(Uuid::from_u128(2));
const S: StairwellId = StairwellId(Uuid::from_u128(3));
const T: TeamId = TeamId(Uuid::from_u128(4));
const V: VolunteerId = VolunteerId(Uuid::from_u128(10));
const V2: VolunteerId = VolunteerId(Uuid::from_u128(11));
const W: WishId = WishId(Uuid::from_u128(20));
const STAFF: Uuid = Uuid::from_u128(99);

fn staff() -> Actor {
    Actor::staff(STAFF, C)
}
fn vol(v: VolunteerId) -> Actor {
    Actor::volunteer(v, C)
}
fn ctx(actor: &Actor) -> Ctx<'_> {
    Ctx::new(now(), actor, IdSource::from_key("test"))
}
fn entry(n: u128) -> EntryId {
    EntryId(Uuid::from_u128(1000 + n))
}

fn community_events() -> Vec<Event> {
    vec![
        Event::CommunityEstablished {
            community_id: C,
            name: "幸福社区".into(),
        },
        Event::GridAdded {
            grid_id: G,
            name: "第1网格".into(),
            parent: None,
        },
        Event::StairwellRegistered {
            stairwell_id: S,
            grid_id: G,
            building: "1号楼".into(),
            unit: "1单元".into(),
            households: 24,
        },
        Event::TeamFormed {
            team_id: T,
            name: "邻里互助".into(),
        },
    ]
}

fn given<S: Aggregate>(events: &[Event]) -> S {
    S::from_events(events)
}

fn community() -> CommunityState {
    given(&community_events())
}

fn registered(v: VolunteerId) -> Event {
    Event::VolunteerRegistered {
        volunteer_id: v,
        community_id: C,
        volunteer_number: "TB-000001".into(),
        stairwell_id: S,
        grid_id: G,
        tags: vec!["党员".into()],
        teams: vec![],
        household: None,
    }
}

fn logged(service: u128, started: DateTime<Utc>, minutes: i64, kind: ServiceKind) -> Event {
    Event::ServiceLogged {
        service_id: ServiceId(Uuid::from_u128(service)),
        kind,
        started_at: started,
        hours: Hours::from_minutes(minutes),
        place: String::new(),
        note: String::new(),
        logged_by: V.0,
    }
}

fn awarded(n: u128, points: i64) -> Event {
    Event::PointsAwarded {
        entry_id: entry(n),
        points: Points::whole(points),
        reason: "r".into(),
        awarded_by: STAFF,
    }
}

fn verified(service: u128, n: u128, minutes: i64, points: i64) -> Event {
    Event::ServiceVerified {
        service_id: ServiceId(Uuid::from_u128(service)),
        entry_id: entry(n),
        hours: Hours::from_minutes(minutes),
        points: Points::whole(points),
        rule_version: 0,
        verified_by: STAFF,
    }
}

fn log_cmd(hours: &str, started_at: DateTime<Utc>) -> LogService {
    LogService {
        volunteer_id: V,
        kind: ServiceKind::Patrol,
        started_at,
        hours: dec(hours),
        place: "小区东门".into(),
        note: String::new(),
    }
}

fn log(state: &VolunteerState, cmd: &LogService) -> Result<Vec<Event>, DomainError> {
    volunteer::log_service(
        &community(),
        state,
        cmd,
        ServiceId(Uuid::from_u128(500)),
        &ctx(&vol(V)),
    )
}

fn hk() -> volunteer::HouseholdKey {
    volunteer::HouseholdKey::new("test key")
}

fn code<T: std::fmt::Debug>(r: Result<T, DomainError>) -> &'static str {
    r.expect_err("expected an error").code()
}

// ---- services ----

#[test]
fn log_service_records_hours_and_place() {
    let v: VolunteerState = given(&[registered(V)]);
    let events = log(&v, &log_cmd("1.5", at(2025, 5, 1))).unwrap();
    assert!(
        matches!(&events[..], [Event::ServiceLogged { hours, place, logged_by, .. }]
        if *hours == Hours::from_minutes(90) && place == "小区东门" && *logged_by == V.0)
    );
}

#[test]
fn hours_must_be_positive() {
    let v: VolunteerState = given(&[registered(V)]);
    assert_eq!(
        code(log(&v, &log_cmd("0", at(2025, 5, 1)))),
        "INVALID_INPUT"
    );
    assert!(matches!(
        log(&v, &log_cmd("-1", at(2025, 5, 1))),
        Err(DomainError::NotPositive { field: "hours" })
    ));
}

#[test]
fn hours_finer_than_a_minute_are_refused() {
    let v: VolunteerState = given(&[registered(V)]);
    assert!(matches!(
        log(&v, &log_cmd("1.01", at(2025, 5, 1))),
        Err(DomainError::InvalidAmount { field: "hours", .. })
    ));
}

#[test]
fn hours_beyond_the_cap_in_force_on_the_service_date_are_refused() {
    let mut events = community_events();
    events.push(Event::PointRulesSet {
        version: 1,
        points_per_hour: Points::whole(10),
        coefficients: BTreeMap::new(),
        max_hours_per_record: Hours::whole(2),
        effective_from: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
    });
    let c: CommunityState = given(&events);
    let v: VolunteerState = given(&[registered(V)]);
    let actor = vol(V);
    let after = volunteer::log_service(
        &c,
        &v,
        &log_cmd("3", at(2025, 4, 1)),
        ServiceId(Uuid::nil()),
        &ctx(&actor),
    );
    assert!(matches!(
        after,
        Err(DomainError::HoursOverCap {
            rule_version: 1,
            ..
        })
    ));
    // before the rules took effect the default cap (8 h) applies
    let before = volunteer::log_service(
        &c,
        &v,
        &log_cmd("3", at(2025, 1, 1)),
        ServiceId(Uuid::nil()),
        &ctx(&actor),
    );
    assert!(before.is_ok());
    assert_eq!(
        code(log(&v, &log_cmd("8.5", at(2025, 1, 1)))),
        "INVALID_INPUT"
    );
}

#[test]
fn start_in_the_future_is_refused() {
    let v: VolunteerState = given(&[registered(V)]);
    assert!(matches!(
        log(&v, &log_cmd("1", now() + chrono::Duration::minutes(1))),
        Err(DomainError::InFuture { .. })
    ));
}

#[test]
fn a_service_that_has_not_ended_yet_is_refused() {
    let v: VolunteerState = given(&[registered(V)]);
    // Started an hour ago: one hour is fine, an hour and a half is not over yet.
    let started = now() - chrono::Duration::hours(1);
    assert!(log(&v, &log_cmd("1", started)).is_ok());
    assert!(matches!(
        log(&v, &log_cmd("1.5", started)),
        Err(DomainError::InFuture { at, .. }) if at == now() + chrono::Duration::minutes(30)
    ));
}

#[test]
fn unknown_volunteer_is_not_found() {
    let v = VolunteerState::default();
    assert_eq!(code(log(&v, &log_cmd("1", at(2025, 5, 1)))), "NOT_FOUND");
}

#[test]
fn over_long_text_is_refused() {
    let v: VolunteerState = given(&[registered(V)]);
    let mut cmd = log_cmd("1", at(2025, 5, 1));
    cmd.note = "长".repeat(501);
    assert!(matches!(
        log(&v, &cmd),
        Err(DomainError::TextTooLong {
            field: "note",
            len: 501,
            max: 500
        })
    ));
    let name = community::form_team(
        &community(),
        &FormTeam {
            community_id: C,
            name: "队".repeat(101),
        },
        TeamId(Uuid::nil()),
    );
    assert_eq!(code(name), "INVALID_INPUT");
}

#[test]
fn verify_uses_rules_in_force_on_the_service_date_and_rounds_half_away_from_zero() {
    let mut events = community_events();
    let mut coefficients = BTreeMap::new();
    coefficients.insert(ServiceKind::Repair, dec("1.25"));
    events.push(Event::PointRulesSet {
        version: 1,
        points_per_hour: Points::from_hundredths(1001),
        coefficients,
        max_hours_per_record: Hours::whole(8),
        effective_from: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
    });
    let c: CommunityState = given(&events);
    let v: VolunteerState = given(&[
        registered(V),
        logged(1, at(2025, 4, 1), 70, ServiceKind::Repair),
        logged(2, at(2025, 1, 1), 90, ServiceKind::Repair),
    ]);
    let actor = staff();
    let cmd = |s| VerifyService {
        volunteer_id: V,
        service_id: ServiceId(Uuid::from_u128(s)),
    };
    // 70 min × 10.01 × 1.25 = 14.597916… → 14.60
    let e = volunteer::verify_service(&c, &v, &cmd(1), entry(1), &ctx(&actor)).unwrap();
    assert!(
        matches!(&e[..], [Event::ServiceVerified { points, hours, rule_version: 1, verified_by, .. }]
        if *points == Points::from_hundredths(1460) && *hours == Hours::from_minutes(70) && *verified_by == STAFF)
    );
    // before v1: defaults (10 points/h, coefficient 1): 1.5 h → 15
    let e = volunteer::verify_service(&c, &v, &cmd(2), entry(2), &ctx(&actor)).unwrap();
    assert!(
        matches!(&e[..], [Event::ServiceVerified { points, rule_version: 0, .. }] if *points == Points::whole(15))
    );
}

#[test]
fn staff_cannot_verify_reject_or_award_their_own_account() {
    let v: VolunteerState = given(&[
        registered(V),
        logged(1, at(2025, 4, 1), 60, ServiceKind::Patrol),
    ]);
    let mut me = staff();
    me.volunteer_id = Some(V);
    let sid = ServiceId(Uuid::from_u128(1));
    let r = volunteer::verify_service(
        &community(),
        &v,
        &VerifyService {
            volunteer_id: V,
            service_id: sid,
        },
        entry(1),
        &ctx(&me),
    );
    assert!(matches!(r, Err(DomainError::SelfVerification { .. })));
    let r = volunteer::reject_service(
        &v,
        &RejectService {
            volunteer_id: V,
            service_id: sid,
            reason: "x".into(),
        },
        &ctx(&me),
    );
    assert_eq!(code(r), "SELF_VERIFICATION");
    let r = volunteer::award(
        &v,
        &AwardPoints {
            volunteer_id: V,
            points: dec("5"),
            reason: "自己".into(),
        },
        entry(2),
        &ctx(&me),
    );
    assert_eq!(code(r), "SELF_AWARD");
    // Nor move another volunteer's hours into their own account.
    let other: VolunteerState = given(&[
        registered(V2),
        logged(2, at(2025, 4, 1), 120, ServiceKind::Patrol),
        verified(2, 3, 120, 20),
    ]);
    let r = volunteer::gift(
        &other,
        &v,
        &GiftHours {
            from: V2,
            to: V,
            hours: dec("1"),
        },
        entry(4),
        &ctx(&me),
    );
    assert_eq!(code(r), "SELF_AWARD");
}

#[test]
fn a_service_is_verified_or_rejected_at_most_once() {
    let v: VolunteerState = given(&[
        registered(V),
        logged(1, at(2025, 4, 1), 60, ServiceKind::Patrol),
        verified(1, 1, 60, 10),
    ]);
    let sid = ServiceId(Uuid::from_u128(1));
    let actor = staff();
    let r = volunteer::verify_service(
        &community(),
        &v,
        &VerifyService {
            volunteer_id: V,
            service_id: sid,
        },
        entry(2),
        &ctx(&actor),
    );
    assert_eq!(code(r), "ALREADY_VERIFIED");
    let r = volunteer::reject_service(
        &v,
        &RejectService {
            volunteer_id: V,
            service_id: sid,
            reason: "x".into(),
        },
        &ctx(&actor),
    );
    assert_eq!(code(r), "ALREADY_VERIFIED");
}

#[test]
fn rejection_needs_a_reason() {
    let v: VolunteerState = given(&[
        registered(V),
        logged(1, at(2025, 4, 1), 60, ServiceKind::Patrol),
    ]);
    let actor = staff();
    let r = volunteer::reject_service(
        &v,
        &RejectService {
            volunteer_id: V,
            service_id: ServiceId(Uuid::from_u128(1)),
            reason: " ".into(),
        },
        &ctx(&actor),
    );
    assert!(matches!(r, Err(DomainError::Required { field: "reason" })));
}

// ---- points ----

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
            entry_id: entry(2),
            reverses: entry(1),
            points: Points::whole(10),
            hours: Hours::ZERO,
            reason: "x".into(),
            reversed_by: STAFF,
        },
    ]);
    let actor = staff();
    let r = volunteer::reverse(
        &v,
        &ReverseEntry {
            volunteer_id: V,
            entry_id: entry(1),
            reason: "again".into(),
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
        },
        entry(9),
        &ctx(&actor),
    );
    assert_eq!(code(r), "NOT_FOUND");
}

// ---- time bank ----

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
        },
        entry(2),
    );
    assert_eq!(code(r), "INSUFFICIENT_HOURS");
    assert!(volunteer::spend(
        &v,
        &SpendHours {
            volunteer_id: V,
            hours: dec("1"),
            description: "理发".into()
        },
        entry(2)
    )
    .is_ok());
}

// ---- registration and organisation ----

#[test]
fn registration_numbers_volunteers_and_checks_references() {
    let mut c = community();
    let cmd = RegisterVolunteer {
        community_id: C,
        name: "张三".into(),
        phone: Some("13800000000".into()),
        id_number: None,
        stairwell_id: S,
        tags: vec!["五老".into()],
        teams: vec![T],
        household: None,
    };
    let (ce, ve) = volunteer::register(&c, &VolunteerState::default(), &cmd, V, &hk()).unwrap();
    assert!(
        matches!(&ce[..], [Event::VolunteerEnrolled { volunteer_number, .. }] if volunteer_number == "TB-000001")
    );
    assert!(matches!(&ve[..], [Event::VolunteerRegistered { grid_id, .. }] if *grid_id == G));
    // no personal data in events
    let json = serde_json::to_string(&ve).unwrap();
    assert!(!json.contains("张三") && !json.contains("13800000000"));
    c.evolve(&ce[0]);
    let (ce2, _) = volunteer::register(&c, &VolunteerState::default(), &cmd, V2, &hk()).unwrap();
    assert!(
        matches!(&ce2[..], [Event::VolunteerEnrolled { volunteer_number, .. }] if volunteer_number == "TB-000002")
    );
    let bad_stairwell = RegisterVolunteer {
        stairwell_id: StairwellId(Uuid::nil()),
        ..cmd.clone()
    };
    assert_eq!(
        code(volunteer::register(
            &c,
            &VolunteerState::default(),
            &bad_stairwell,
            V2,
            &hk()
        )),
        "NOT_FOUND"
    );
    let bad_team = RegisterVolunteer {
        teams: vec![TeamId(Uuid::nil())],
        ..cmd.clone()
    };
    assert_eq!(
        code(volunteer::register(
            &c,
            &VolunteerState::default(),
            &bad_team,
            V2,
            &hk()
        )),
        "NOT_FOUND"
    );
    let unknown_community = RegisterVolunteer {
        community_id: CommunityId(Uuid::nil()),
        ..cmd
    };
    assert_eq!(
        code(volunteer::register(
            &c,
            &VolunteerState::default(),
            &unknown_community,
            V2,
            &hk()
        )),
        "NOT_FOUND"
    );
}

#[test]
fn a_household_is_optional_short_and_not_blank() {
    let c = community();
    let cmd = RegisterVolunteer {
        community_id: C,
        name: "李四".into(),
        phone: None,
        id_number: None,
        stairwell_id: S,
        tags: vec![],
        teams: vec![],
        household: Some(" 3-2-201 ".into()),
    };
    let (_, ve) = volunteer::register(&c, &VolunteerState::default(), &cmd, V, &hk()).unwrap();
    // The log keeps a keyed pseudonym of the trimmed label in its stairwell, never the
    // room number itself; the same label is the same household, another key another.
    let pseudonym = hk().pseudonym(S, "3-2-201");
    assert!(
        pseudonym.starts_with("hh-") && pseudonym.len() == 27,
        "{pseudonym}"
    );
    assert!(
        matches!(&ve[..], [Event::VolunteerRegistered { household: Some(h), .. }] if *h == pseudonym)
    );
    assert!(!serde_json::to_string(&ve).unwrap().contains("3-2-201"));
    let (_, again) = volunteer::register(&c, &VolunteerState::default(), &cmd, V2, &hk()).unwrap();
    assert!(
        matches!(&again[..], [Event::VolunteerRegistered { household: Some(h), .. }] if *h == pseudonym)
    );
    let other_key = volunteer::HouseholdKey::new("another deployment");
    let (_, other) =
        volunteer::register(&c, &VolunteerState::default(), &cmd, V2, &other_key).unwrap();
    assert!(
        matches!(&other[..], [Event::VolunteerRegistered { household: Some(h), .. }] if *h != pseudonym)
    );
    assert_ne!(hk().pseudonym(S, "3-2-202"), pseudonym);
    for bad in ["   ", &"1".repeat(volunteer::MAX_HOUSEHOLD + 1)] {
        let cmd = RegisterVolunteer {
            household: Some(bad.to_string()),
            ..cmd.clone()
        };
        let r = volunteer::register(&c, &VolunteerState::default(), &cmd, V, &hk());
        assert_eq!(code(r), "INVALID_INPUT", "{bad:?}");
    }
    // A registration recorded before households were kept still decodes (no household).
    let old = serde_json::json!({
        "volunteer_id": V, "community_id": C, "volunteer_number": "TB-000001",
        "stairwell_id": S, "grid_id": G, "tags": [], "teams": [],
    });
    let e = Event::decode_parts("VolunteerRegistered", 1, old).unwrap();
    assert!(matches!(
        e,
        Event::VolunteerRegistered {
            household: None,
            ..
        }
    ));
    // Without a household the payload is what it was.
    let json = serde_json::to_value(registered(V)).unwrap();
    assert!(json.get("household").is_none());
}

#[test]
fn a_move_changes_the_stairwell_or_the_household() {
    let c = community();
    let v: VolunteerState = given(&[registered(V)]);
    let mv = |household: Option<&str>| MoveVolunteer {
        volunteer_id: V,
        stairwell_id: S,
        household: household.map(str::to_string),
    };
    // Same stairwell, same (no) household: nothing moves.
    assert_eq!(
        code(volunteer::move_volunteer(&c, &v, &mv(None), &hk())),
        "INVALID_STATE"
    );
    // Into a household of the same stairwell.
    let e = volunteer::move_volunteer(&c, &v, &mv(Some("3-2-201")), &hk()).unwrap();
    let pseudonym = hk().pseudonym(S, "3-2-201");
    assert!(
        matches!(&e[..], [Event::VolunteerMoved { household: Some(h), .. }] if *h == pseudonym)
    );
    let moved: VolunteerState = given(&[registered(V), e[0].clone()]);
    assert_eq!(moved.household.as_deref(), Some(pseudonym.as_str()));
    assert_eq!(
        code(volunteer::move_volunteer(
            &c,
            &moved,
            &mv(Some("3-2-201")),
            &hk()
        )),
        "INVALID_STATE"
    );
    assert_eq!(
        code(volunteer::move_volunteer(
            &c,
            &moved,
            &mv(Some(&"x".repeat(31))),
            &hk()
        )),
        "INVALID_INPUT"
    );
}

#[test]
fn establishing_a_community_records_its_trimmed_name() {
    let cmd = |name: &str| EstablishCommunity { name: name.into() };
    let e = community::establish(&CommunityState::default(), &cmd(" 幸福社区 "), C).unwrap();
    assert_eq!(
        e,
        vec![Event::CommunityEstablished {
            community_id: C,
            name: "幸福社区".into(),
        }]
    );
    let c: CommunityState = given(&e);
    assert_eq!((c.require(C), c.name.as_str()), (Ok(C), "幸福社区"));
    // The length is counted in characters after trimming: 100 are allowed.
    let longest = "社".repeat(100);
    let e = community::establish(
        &CommunityState::default(),
        &cmd(&format!("  {longest}  ")),
        C,
    )
    .unwrap();
    assert!(
        matches!(&e[..], [Event::CommunityEstablished { community_id, name }] if *community_id == C && *name == longest)
    );
}

#[test]
fn a_community_is_established_once() {
    let r = community::establish(
        &community(),
        &EstablishCommunity {
            name: "另一个社区".into(),
        },
        C,
    );
    assert_eq!(
        r,
        Err(DomainError::AlreadyExists {
            kind: "community",
            id: C.to_string()
        })
    );
    assert_eq!(code(r), "ALREADY_EXISTS");
}

#[test]
fn a_community_name_is_required_and_at_most_100_characters() {
    let establish = |name: String| {
        community::establish(&CommunityState::default(), &EstablishCommunity { name }, C)
    };
    for blank in ["", "   "] {
        let r = establish(blank.into());
        assert_eq!(r, Err(DomainError::Required { field: "name" }), "{blank:?}");
        assert_eq!(code(r), "INVALID_INPUT");
    }
    let r = establish("社".repeat(101));
    assert_eq!(
        r,
        Err(DomainError::TextTooLong {
            field: "name",
            len: 101,
            max: 100
        })
    );
    assert_eq!(code(r), "INVALID_INPUT");
}

#[test]
fn grids_stairwells_and_teams_need_known_parents() {
    let c = community();
    let r = community::register_stairwell(
        &c,
        &RegisterStairwell {
            community_id: C,
            grid_id: GridId(Uuid::nil()),
            building: "1".into(),
            unit: "1".into(),
            households: 10,
        },
        StairwellId(Uuid::nil()),
    );
    assert_eq!(code(r), "NOT_FOUND");
    let micro = community::add_grid(
        &c,
        &AddGrid {
            community_id: C,
            name: "微网格".into(),
            parent: Some(G),
        },
        GridId(Uuid::from_u128(77)),
    )
    .unwrap();
    assert!(matches!(&micro[..], [Event::GridAdded { parent: Some(p), .. }] if *p == G));
    let r = volunteer::join_team(
        &c,
        &given(&[registered(V)]),
        &JoinTeam {
            volunteer_id: V,
            team_id: TeamId(Uuid::nil()),
        },
    );
    assert_eq!(code(r), "NOT_FOUND");
}

#[test]
fn star_thresholds_must_be_five_ascending() {
    let c = community();
    let cmd = |t: &[i64]| SetStarThresholds {
        community_id: C,
        thresholds: t.iter().map(|x| Decimal::from(*x)).collect(),
        effective_from: NaiveDate::MIN,
    };
    assert_eq!(
        code(community::set_star_thresholds(
            &c,
            &cmd(&[100, 300, 200, 1000, 1500])
        )),
        "INVALID_INPUT"
    );
    assert_eq!(
        code(community::set_star_thresholds(&c, &cmd(&[100, 300]))),
        "INVALID_INPUT"
    );
    let e = community::set_star_thresholds(&c, &cmd(&[100, 200, 500, 800, 1000])).unwrap();
    assert!(matches!(
        &e[..],
        [Event::StarThresholdsSet { version: 1, .. }]
    ));
}

fn rules_cmd(
    points_per_hour: &str,
    max_hours: &str,
    coefficients: &[(ServiceKind, &str)],
) -> SetPointRules {
    SetPointRules {
        community_id: C,
        points_per_hour: dec(points_per_hour),
        coefficients: coefficients.iter().map(|(k, c)| (*k, dec(c))).collect(),
        max_hours_per_record: dec(max_hours),
        effective_from: NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
    }
}

#[test]
fn point_rules_need_a_known_community() {
    for c in [CommunityState::default(), community()] {
        let r = community::set_point_rules(
            &c,
            &SetPointRules {
                community_id: CommunityId(Uuid::nil()),
                ..rules_cmd("10", "8", &[])
            },
        );
        assert_eq!(
            r,
            Err(DomainError::NotFound {
                kind: "community",
                id: Uuid::nil().to_string()
            })
        );
        assert_eq!(code(r), "NOT_FOUND");
    }
}

#[test]
fn point_rules_need_a_positive_rate_in_hundredths() {
    let c = community();
    for rate in ["0", "-10"] {
        let r = community::set_point_rules(&c, &rules_cmd(rate, "8", &[]));
        assert_eq!(
            r,
            Err(DomainError::NotPositive {
                field: "points_per_hour"
            }),
            "{rate}"
        );
        assert_eq!(code(r), "INVALID_INPUT");
    }
    let r = community::set_point_rules(&c, &rules_cmd("10.005", "8", &[]));
    assert_eq!(
        r,
        Err(DomainError::InvalidAmount {
            field: "points_per_hour",
            source: AmountError::PointsTooPrecise {
                value: dec("10.005")
            }
        })
    );
    assert_eq!(code(r), "INVALID_INPUT");
    let e = community::set_point_rules(&c, &rules_cmd("0.01", "8", &[])).unwrap();
    assert!(
        matches!(&e[..], [Event::PointRulesSet { points_per_hour, .. }] if *points_per_hour == Points::from_hundredths(1))
    );
}

#[test]
fn point_rules_cap_is_positive_whole_minutes_and_at_most_24_hours() {
    let c = community();
    for cap in ["0", "-1"] {
        let r = community::set_point_rules(&c, &rules_cmd("10", cap, &[]));
        assert_eq!(
            r,
            Err(DomainError::NotPositive {
                field: "max_hours_per_record"
            }),
            "{cap}"
        );
        assert_eq!(code(r), "INVALID_INPUT");
    }
    let r = community::set_point_rules(&c, &rules_cmd("10", "1.01", &[]));
    assert_eq!(
        r,
        Err(DomainError::InvalidAmount {
            field: "max_hours_per_record",
            source: AmountError::HoursNotWholeMinutes { value: dec("1.01") }
        })
    );
    assert_eq!(code(r), "INVALID_INPUT");
    // 24 h 3 min is over the cap; 24 h exactly is not.
    for cap in ["24.05", "25"] {
        let r = community::set_point_rules(&c, &rules_cmd("10", cap, &[]));
        assert_eq!(
            r,
            Err(DomainError::InvalidInput {
                field: "max_hours_per_record",
                reason: "at most 24 h".into()
            }),
            "{cap}"
        );
        assert_eq!(code(r), "INVALID_INPUT");
    }
    let e = community::set_point_rules(&c, &rules_cmd("10", "24", &[])).unwrap();
    assert!(
        matches!(&e[..], [Event::PointRulesSet { max_hours_per_record, .. }] if *max_hours_per_record == Hours::whole(24))
    );
}

#[test]
fn point_rules_coefficients_are_within_0_and_100() {
    let c = community();
    let r = community::set_point_rules(
        &c,
        &rules_cmd(
            "10",
            "8",
            &[(ServiceKind::Patrol, "1"), (ServiceKind::Repair, "-0.01")],
        ),
    );
    assert_eq!(
        r,
        Err(DomainError::InvalidInput {
            field: "coefficients",
            reason: "coefficient -0.01 of repair is outside 0..=100".into()
        })
    );
    assert_eq!(code(r), "INVALID_INPUT");
    let r = community::set_point_rules(
        &c,
        &rules_cmd("10", "8", &[(ServiceKind::ElderlyVisit, "100.01")]),
    );
    assert_eq!(
        r,
        Err(DomainError::InvalidInput {
            field: "coefficients",
            reason: "coefficient 100.01 of elderly_visit is outside 0..=100".into()
        })
    );
    assert_eq!(code(r), "INVALID_INPUT");
    // Both bounds are allowed.
    let e = community::set_point_rules(
        &c,
        &rules_cmd(
            "10",
            "8",
            &[(ServiceKind::Other, "0"), (ServiceKind::Mediation, "100")],
        ),
    )
    .unwrap();
    assert!(matches!(&e[..], [Event::PointRulesSet { coefficients, .. }]
        if *coefficients == BTreeMap::from([(ServiceKind::Other, dec("0")), (ServiceKind::Mediation, dec("100"))])));
}

#[test]
fn valid_point_rules_are_the_next_version_with_the_values_given() {
    let july = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let cmd = rules_cmd(
        "12.5",
        "4.5",
        &[
            (ServiceKind::Repair, "1.5"),
            (ServiceKind::ElderlyVisit, "2"),
        ],
    );
    let first = community::set_point_rules(&community(), &cmd).unwrap();
    let expected = |version, effective_from| Event::PointRulesSet {
        version,
        points_per_hour: Points::from_hundredths(1250),
        coefficients: BTreeMap::from([
            (ServiceKind::Repair, dec("1.5")),
            (ServiceKind::ElderlyVisit, dec("2")),
        ]),
        max_hours_per_record: Hours::from_minutes(270),
        effective_from,
    };
    assert_eq!(first, vec![expected(1, july)]);
    let mut events = community_events();
    events.extend(first);
    let c: CommunityState = given(&events);
    // In force from its date; the defaults before.
    let rules = c.point_rules_on(july);
    assert_eq!(
        (
            rules.version,
            rules.coefficient(ServiceKind::Repair),
            rules.coefficient(ServiceKind::Patrol)
        ),
        (1, dec("1.5"), Decimal::ONE)
    );
    assert_eq!(c.point_rules_on(july.pred_opt().unwrap()).version, 0);
    // A second set is version 2, whatever its date: effective_from is taken as given.
    let january = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let earlier = SetPointRules {
        effective_from: january,
        ..cmd
    };
    let second = community::set_point_rules(&c, &earlier).unwrap();
    assert_eq!(second, vec![expected(2, january)]);
}

// ---- wishes ----

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

#[test]
fn a_wish_is_claimed_by_exactly_one_volunteer() {
    let w: WishState = given(&[posted(), Event::WishClaimed { volunteer_id: V }]);
    let r = wish::claim(
        &w,
        &given(&[registered(V2)]),
        &ClaimWish {
            wish_id: W,
            volunteer_id: V2,
        },
    );
    assert_eq!(
        r,
        Err(DomainError::WishAlreadyClaimed {
            wish_id: W,
            claimed_by: V
        })
    );
    let open: WishState = given(&[posted()]);
    assert!(wish::claim(
        &open,
        &given(&[registered(V2)]),
        &ClaimWish {
            wish_id: W,
            volunteer_id: V2
        }
    )
    .is_ok());
    let r = wish::claim(
        &WishState::default(),
        &given(&[registered(V2)]),
        &ClaimWish {
            wish_id: W,
            volunteer_id: V2,
        },
    );
    assert_eq!(code(r), "NOT_FOUND");
}

#[test]
fn only_the_claimer_fulfils_a_wish() {
    let w: WishState = given(&[posted(), Event::WishClaimed { volunteer_id: V }]);
    let actor = vol(V2);
    let cmd = |v| FulfilWish {
        wish_id: W,
        volunteer_id: v,
        hours: dec("1"),
        note: String::new(),
        fulfilled_at: None,
    };
    assert_eq!(
        code(wish::fulfil(&community(), &w, &cmd(V2), &ctx(&actor))),
        "NOT_CLAIMER"
    );
    let me = vol(V);
    let e = wish::fulfil(&community(), &w, &cmd(V), &ctx(&me)).unwrap();
    assert!(
        matches!(&e[..], [Event::WishFulfilled { volunteer_id, fulfilled_at, .. }] if *volunteer_id == V && *fulfilled_at == now())
    );
}

#[test]
fn release_by_claimer_or_staff_only() {
    let w: WishState = given(&[posted(), Event::WishClaimed { volunteer_id: V }]);
    let other = vol(V2);
    assert_eq!(
        code(wish::release(&w, &ReleaseWish { wish_id: W }, &ctx(&other))),
        "NOT_CLAIMER"
    );
    let me = vol(V);
    assert!(wish::release(&w, &ReleaseWish { wish_id: W }, &ctx(&me)).is_ok());
    let s = staff();
    assert!(wish::release(&w, &ReleaseWish { wish_id: W }, &ctx(&s)).is_ok());
}

#[test]
fn confirmation_records_the_service_on_the_claimer_account() {
    let w: WishState = given(&[
        posted(),
        Event::WishClaimed { volunteer_id: V },
        Event::WishFulfilled {
            volunteer_id: V,
            hours: Hours::whole(2),
            note: String::new(),
            fulfilled_at: at(2025, 5, 1),
        },
    ]);
    let s = staff();
    let sid = ServiceId(Uuid::from_u128(600));
    let (we, ve) = wish::confirm(
        &community(),
        &w,
        &given(&[registered(V)]),
        &ConfirmWish { wish_id: W },
        sid,
        entry(1),
        &ctx(&s),
    )
    .unwrap();
    assert!(matches!(&we[..], [Event::WishConfirmed { service_id, .. }] if *service_id == sid));
    assert!(matches!(&ve[..], [
        Event::ServiceLogged { kind: ServiceKind::Wish, hours, .. },
        Event::ServiceVerified { points, .. },
    ] if *hours == Hours::whole(2) && *points == Points::whole(20)));
    // not before it is fulfilled
    let claimed: WishState = given(&[posted(), Event::WishClaimed { volunteer_id: V }]);
    let r = wish::confirm(
        &community(),
        &claimed,
        &given(&[registered(V)]),
        &ConfirmWish { wish_id: W },
        sid,
        entry(1),
        &ctx(&s),
    );
    assert_eq!(code(r), "INVALID_STATE");
}

#[test]
fn a_confirmed_wish_cannot_be_cancelled() {
    let w: WishState = given(&[
        posted(),
        Event::WishClaimed { volunteer_id: V },
        Event::WishFulfilled {
            volunteer_id: V,
            hours: Hours::whole(1),
            note: String::new(),
            fulfilled_at: at(2025, 5, 1),
        },
        Event::WishConfirmed {
            confirmed_by: STAFF,
            service_id: ServiceId(Uuid::nil()),
        },
    ]);
    let s = staff();
    assert_eq!(
        code(wish::cancel(
            &w,
            &CancelWish {
                wish_id: W,
                reason: "x".into()
            },
            &ctx(&s)
        )),
        "INVALID_STATE"
    );
    let open: WishState = given(&[posted()]);
    assert!(wish::cancel(
        &open,
        &CancelWish {
            wish_id: W,
            reason: "x".into()
        },
        &ctx(&s)
    )
    .is_ok());
}

// ---- stairwells ----

fn scores(clean: i64) -> BTreeMap<String, Decimal> {
    [("cleanliness", clean), ("clutter", 20), ("fire_safety", 25)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Decimal::from(v)))
        .collect()
}

fn inspection(month: &str, s: BTreeMap<String, Decimal>) -> RecordInspection {
    RecordInspection {
        community_id: C,
        stairwell_id: S,
        month: month.into(),
        scores: s,
        note: String::new(),
    }
}

#[test]
fn one_inspection_per_stairwell_per_month() {
    let st = StairwellState::default();
    let a = staff();
    let e = stairwell::inspect(
        &community(),
        &st,
        &inspection("2025-04", scores(28)),
        &ctx(&a),
    )
    .unwrap();
    let after: StairwellState = given(&e);
    let r = stairwell::inspect(
        &community(),
        &after,
        &inspection("2025-04", scores(30)),
        &ctx(&a),
    );
    assert_eq!(code(r), "ALREADY_INSPECTED");
    assert!(stairwell::inspect(
        &community(),
        &after,
        &inspection("2025-05", scores(30)),
        &ctx(&a)
    )
    .is_ok());
    assert_eq!(
        code(stairwell::inspect(
            &community(),
            &after,
            &inspection("2025-07", scores(30)),
            &ctx(&a)
        )),
        "INVALID_INPUT"
    );
}

#[test]
fn scores_stay_within_the_rubric() {
    let a = staff();
    let st = StairwellState::default();
    assert_eq!(
        code(stairwell::inspect(
            &community(),
            &st,
            &inspection("2025-04", scores(31)),
            &ctx(&a)
        )),
        "INVALID_INPUT"
    );
    let mut missing = scores(20);
    missing.remove("fire_safety");
    assert_eq!(
        code(stairwell::inspect(
            &community(),
            &st,
            &inspection("2025-04", missing),
            &ctx(&a)
        )),
        "INVALID_INPUT"
    );
    // Participation is computed, not scored.
    let mut scored = scores(20);
    scored.insert("participation".into(), Decimal::from(15));
    assert_eq!(
        code(stairwell::inspect(
            &community(),
            &st,
            &inspection("2025-04", scored),
            &ctx(&a)
        )),
        "INVALID_INPUT"
    );
    let mut unknown = scores(20);
    unknown.insert("garden".into(), Decimal::ONE);
    assert_eq!(
        code(stairwell::inspect(
            &community(),
            &st,
            &inspection("2025-04", unknown),
            &ctx(&a)
        )),
        "INVALID_INPUT"
    );
    assert_eq!(
        code(stairwell::inspect(
            &community(),
            &st,
            &RecordInspection {
                stairwell_id: StairwellId(Uuid::nil()),
                ..inspection("2025-04", scores(20))
            },
            &ctx(&a)
        )),
        "NOT_FOUND"
    );
}

#[test]
fn an_issue_is_resolved_once() {
    let a = staff();
    let issue = IssueId(Uuid::from_u128(70));
    let e = stairwell::report_issue(
        &community(),
        &ReportStairwellIssue {
            community_id: C,
            stairwell_id: S,
            description: "堆放杂物".into(),
            deduction: dec("5"),
        },
        issue,
        &ctx(&a),
    )
    .unwrap();
    let mut st: StairwellState = given(&e);
    let resolve = ResolveStairwellIssue {
        community_id: C,
        stairwell_id: S,
        issue_id: issue,
        note: "已清理".into(),
    };
    let r = stairwell::resolve_issue(&st, &resolve, &ctx(&a)).unwrap();
    st.evolve(&r[0]);
    assert_eq!(
        code(stairwell::resolve_issue(&st, &resolve, &ctx(&a))),
        "ALREADY_RESOLVED"
    );
    let bad = ReportStairwellIssue {
        community_id: C,
        stairwell_id: S,
        description: "x".into(),
        deduction: dec("0"),
    };
    assert_eq!(
        code(stairwell::report_issue(&community(), &bad, issue, &ctx(&a))),
        "INVALID_INPUT"
    );
}

// ---- rubric versions, moves, teams, departure, erasure ----

fn rubric_cmd(items: &[(&str, i64)], effective_from: NaiveDate) -> SetRubric {
    SetRubric {
        community_id: C,
        items: items
            .iter()
            .map(|(k, max)| ledger::event::RubricItem {
                key: k.to_string(),
                name: format!("项目{k}"),
                max: Decimal::from(*max),
            })
            .collect(),
        participation_max: Decimal::from(40),
        effective_from,
    }
}

#[test]
fn a_rubric_version_applies_to_months_from_its_date() {
    let march = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    let set = community::set_rubric(&community(), &rubric_cmd(&[("tidy", 60)], march)).unwrap();
    assert!(matches!(&set[..], [Event::RubricSet { version: 1, .. }]));
    let mut events = community_events();
    events.extend(set);
    let c: CommunityState = given(&events);
    let a = staff();
    let st = StairwellState::default();
    let tidy = |v: i64| BTreeMap::from([("tidy".to_string(), Decimal::from(v))]);
    // February still has the default rubric; March the new one, with its own maxima.
    assert!(stairwell::inspect(&c, &st, &inspection("2025-02", scores(28)), &ctx(&a)).is_ok());
    assert_eq!(
        code(stairwell::inspect(
            &c,
            &st,
            &inspection("2025-03", scores(28)),
            &ctx(&a)
        )),
        "INVALID_INPUT"
    );
    assert!(stairwell::inspect(&c, &st, &inspection("2025-03", tidy(55)), &ctx(&a)).is_ok());
    assert_eq!(
        code(stairwell::inspect(
            &c,
            &st,
            &inspection("2025-03", tidy(61)),
            &ctx(&a)
        )),
        "INVALID_INPUT"
    );
    // A later version has the next number; participation and duplicate keys are refused.
    let v2 = community::set_rubric(&c, &rubric_cmd(&[("tidy", 50), ("safe", 50)], march)).unwrap();
    assert!(matches!(&v2[..], [Event::RubricSet { version: 2, .. }]));
    for bad in [
        &[("participation", 20)][..],
        &[("tidy", 20), ("tidy", 30)][..],
        &[][..],
    ] {
        assert_eq!(
            code(community::set_rubric(&c, &rubric_cmd(bad, march))),
            "INVALID_INPUT"
        );
    }
}

#[test]
fn a_move_changes_stairwell_and_grid() {
    let g2 = GridId(Uuid::from_u128(5));
    let s2 = StairwellId(Uuid::from_u128(6));
    let mut events = community_events();
    events.push(Event::GridAdded {
        grid_id: g2,
        name: "第2网格".into(),
        parent: None,
    });
    events.push(Event::StairwellRegistered {
        stairwell_id: s2,
        grid_id: g2,
        building: "2号楼".into(),
        unit: "1单元".into(),
        households: 12,
    });
    let c: CommunityState = given(&events);
    let v: VolunteerState = given(&[registered(V)]);
    let mv = |stairwell_id| MoveVolunteer {
        volunteer_id: V,
        stairwell_id,
        household: None,
    };
    let moved = volunteer::move_volunteer(&c, &v, &mv(s2), &hk()).unwrap();
    assert!(
        matches!(&moved[..], [Event::VolunteerMoved { stairwell_id, grid_id, .. }] if *stairwell_id == s2 && *grid_id == g2)
    );
    assert_eq!(
        code(volunteer::move_volunteer(&c, &v, &mv(S), &hk())),
        "INVALID_STATE"
    );
    assert_eq!(
        code(volunteer::move_volunteer(
            &c,
            &v,
            &mv(StairwellId(Uuid::nil())),
            &hk()
        )),
        "NOT_FOUND"
    );
    let after: VolunteerState = given(&[registered(V), moved[0].clone()]);
    assert_eq!((after.stairwell_id, after.grid_id), (Some(s2), Some(g2)));
}

#[test]
fn joining_and_leaving_a_team_need_the_right_membership() {
    let c = community();
    let v: VolunteerState = given(&[registered(V)]);
    let join = JoinTeam {
        volunteer_id: V,
        team_id: T,
    };
    let leave = LeaveTeam {
        volunteer_id: V,
        team_id: T,
    };
    assert_eq!(code(volunteer::leave_team(&v, &leave)), "NOT_FOUND");
    let joined = volunteer::join_team(&c, &v, &join).unwrap();
    let member: VolunteerState = given(&[registered(V), joined[0].clone()]);
    assert!(member.teams.contains(&T));
    assert_eq!(
        code(volunteer::join_team(&c, &member, &join)),
        "INVALID_STATE"
    );
    let unknown = JoinTeam {
        volunteer_id: V,
        team_id: TeamId(Uuid::nil()),
    };
    assert_eq!(code(volunteer::join_team(&c, &v, &unknown)), "NOT_FOUND");
    let left = volunteer::leave_team(&member, &leave).unwrap();
    let after: VolunteerState = given(&[registered(V), joined[0].clone(), left[0].clone()]);
    assert!(!after.teams.contains(&T));
}

#[test]
fn a_departed_volunteer_acts_no_more_but_can_be_erased() {
    let c = community();
    let v: VolunteerState = given(&[registered(V)]);
    let reason = |r: &str| DepartVolunteer {
        volunteer_id: V,
        reason: r.into(),
    };
    assert_eq!(code(volunteer::depart(&v, &reason(" "))), "INVALID_INPUT");
    let departed = volunteer::depart(&v, &reason("搬离社区")).unwrap();
    let gone: VolunteerState = given(&[registered(V), departed[0].clone()]);
    assert!(gone.departed);
    assert_eq!(
        code(volunteer::depart(&gone, &reason("again"))),
        "INVALID_STATE"
    );
    assert_eq!(
        code(log(&gone, &log_cmd("1", at(2025, 5, 1)))),
        "INVALID_STATE"
    );
    let join = JoinTeam {
        volunteer_id: V,
        team_id: T,
    };
    assert_eq!(
        code(volunteer::join_team(&c, &gone, &join)),
        "INVALID_STATE"
    );
    // Erasure is recorded once; a repeat writes nothing.
    let erase = ErasePersonalData { volunteer_id: V };
    let erased = volunteer::erase_personal_data(&gone, &erase).unwrap();
    assert!(matches!(&erased[..], [Event::PersonalDataErased {}]));
    let after: VolunteerState = given(&[registered(V), departed[0].clone(), erased[0].clone()]);
    assert!(after.personal_data_erased);
    assert!(volunteer::erase_personal_data(&after, &erase)
        .unwrap()
        .is_empty());
    assert_eq!(
        code(volunteer::erase_personal_data(
            &VolunteerState::default(),
            &erase
        )),
        "NOT_FOUND"
    );
}
