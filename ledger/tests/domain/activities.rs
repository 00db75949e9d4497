//! Activities given / when / then: recruitment with places and a waiting list, check-in
//! and check-out with the rotating code, hours from attendance, the approval in one
//! command, 补录, and the 公示 notice with objections until the records are final.

use super::*;
use ledger::domain::activity::{period, CodeKey};
use ledger::event::{
    ActivityDetails, ActivityService, AttendanceRecord, Eligibility, Excluded, ObjectionDecision,
    RecordSource,
};

const A: ActivityId = ActivityId(Uuid::from_u128(30));
const V3: VolunteerId = VolunteerId(Uuid::from_u128(12));

/// Saturday 2025-06-07, 8:00–10:00 in China (00:00–02:00 UTC).
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 7, 0, 0, 0).unwrap()
}
fn end() -> DateTime<Utc> {
    start() + chrono::Duration::hours(2)
}
fn mins(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

fn posted(places: u32) -> Event {
    Event::ActivityPosted {
        activity_id: A,
        community_id: C,
        title: "北门巡逻".into(),
        kind: ServiceKind::Patrol,
        place: "小区北门".into(),
        starts_at: start(),
        ends_at: end(),
        places,
        signup_deadline: start() - chrono::Duration::days(1),
        eligibility: Eligibility::default(),
        walk_ins: false,
        posted_by: STAFF,
    }
}

fn signed(v: VolunteerId) -> Event {
    Event::SignedUp {
        volunteer_id: v,
        waiting: false,
        signed_up_by: v.0,
    }
}

fn checked_in(v: VolunteerId, at: DateTime<Utc>) -> Event {
    Event::CheckedIn {
        volunteer_id: v,
        at,
        walk_in: false,
        by_staff: None,
    }
}

fn checked_out(v: VolunteerId, at: DateTime<Utc>) -> Event {
    Event::CheckedOut {
        volunteer_id: v,
        at,
        by_staff: None,
    }
}

/// The community, three volunteers (V3 without the 党员 tag) and the activity's events.
fn activity(events: impl IntoIterator<Item = Event>) -> Given {
    let mut untagged = registered(V3);
    if let Event::VolunteerRegistered { tags, .. } = &mut untagged {
        tags.clear();
    }
    account([registered(V)])
        .volunteer(V2, [registered(V2)])
        .volunteer(V3, [untagged])
        .stream(activity_stream(A), events)
}

fn sign_up(v: VolunteerId, waitlist: bool) -> SignUp {
    SignUp {
        activity_id: A,
        volunteer_id: v,
        waitlist,
    }
}

fn code_at(t: DateTime<Utc>) -> String {
    CodeKey::new("given").code(A, period(t, 30))
}

fn check_in(v: VolunteerId, code: Option<String>) -> CheckIn {
    CheckIn {
        activity_id: A,
        volunteer_id: v,
        code,
    }
}

fn approve() -> ApproveAttendance {
    ApproveAttendance {
        activity_id: A,
        adjustments: vec![],
        exclusions: vec![],
    }
}

fn notice_rules(days: u32) -> Event {
    Event::ActivityRulesSet {
        version: 1,
        time_unit_minutes: 15,
        late_record_days: 30,
        notice_days: days,
        checkin_opens_minutes: 30,
        code_period_seconds: 30,
        effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
    }
}

// ---- recruitment ----

#[test]
fn staff_post_an_activity_and_sign_up_closes_at_its_start_by_default() {
    let then = world().when(
        &staff(),
        PostActivity {
            community_id: C,
            title: " 北门巡逻 ".into(),
            kind: ServiceKind::Patrol,
            place: "小区北门".into(),
            starts_at: start(),
            ends_at: end(),
            places: 12,
            signup_deadline: None,
            eligibility: Eligibility::default(),
            walk_ins: false,
        },
    );
    let id = ActivityId(then.id("activity"));
    let then = then.then_expect_stream(
        &activity_stream(id),
        vec![Event::ActivityPosted {
            activity_id: id,
            community_id: C,
            title: "北门巡逻".into(),
            kind: ServiceKind::Patrol,
            place: "小区北门".into(),
            starts_at: start(),
            ends_at: end(),
            places: 12,
            signup_deadline: start(),
            eligibility: Eligibility::default(),
            walk_ins: false,
            posted_by: STAFF,
        }],
    );
    assert_eq!(
        then.outcome(),
        Outcome::PostActivity(NewActivity { activity_id: id })
    );
}

#[test]
fn an_activity_needs_staff_times_in_order_places_and_known_teams() {
    let post = |f: &dyn Fn(&mut PostActivity)| {
        let mut c = PostActivity {
            community_id: C,
            title: "北门巡逻".into(),
            kind: ServiceKind::Patrol,
            place: "小区北门".into(),
            starts_at: start(),
            ends_at: end(),
            places: 12,
            signup_deadline: None,
            eligibility: Eligibility::default(),
            walk_ins: false,
        };
        f(&mut c);
        c
    };
    world()
        .volunteer(V, [registered(V)])
        .when(&vol(V), post(&|_| {}))
        .then_expect_error("FORBIDDEN");
    world()
        .when(&staff(), post(&|c| c.ends_at = c.starts_at))
        .then_expect_error("INVALID_INPUT");
    world()
        .when(
            &staff(),
            post(&|c| c.ends_at = c.starts_at + chrono::Duration::hours(25)),
        )
        .then_expect_error("INVALID_INPUT");
    world()
        .when(&staff(), post(&|c| c.places = 0))
        .then_expect_error("INVALID_INPUT");
    world()
        .when(
            &staff(),
            post(&|c| c.signup_deadline = Some(end() + mins(1))),
        )
        .then_expect_error("INVALID_INPUT");
    world()
        .when(&staff(), post(&|c| c.title = " ".into()))
        .then_expect_error("INVALID_INPUT");
    world()
        .when(
            &staff(),
            post(&|c| c.eligibility.team = Some(TeamId(Uuid::from_u128(404)))),
        )
        .then_expect_error("NOT_FOUND");
}

#[test]
fn the_last_place_goes_to_one_and_the_next_is_full_or_waits() {
    let full = || activity([posted(1), signed(V)]);
    assert_eq!(
        full()
            .when(&vol(V2), sign_up(V2, false))
            .then_expect_error("ACTIVITY_FULL"),
        DomainError::ActivityFull {
            activity_id: A,
            places: 1
        }
    );
    let then = full()
        .when(&vol(V2), sign_up(V2, true))
        .then_expect_events(vec![Event::SignedUp {
            volunteer_id: V2,
            waiting: true,
            signed_up_by: V2.0,
        }]);
    assert_eq!(
        then.outcome(),
        Outcome::SignUp(Signed {
            activity_id: A,
            volunteer_id: V2,
            waiting: Some(1)
        })
    );
    full()
        .when(&vol(V), sign_up(V, false))
        .then_expect_error("ALREADY_SIGNED_UP");
    activity([posted(1)])
        .when(&vol(V), sign_up(V, false))
        .then_expect_events(vec![signed(V)]);
}

#[test]
fn volunteers_sign_up_until_the_deadline_and_staff_until_the_end() {
    let late = start() - chrono::Duration::hours(1);
    activity([posted(5)])
        .at(late)
        .when(&vol(V), sign_up(V, false))
        .then_expect_error("SIGNUP_CLOSED");
    activity([posted(5)])
        .at(late)
        .when(&staff(), sign_up(V, false))
        .then_expect_events(vec![Event::SignedUp {
            volunteer_id: V,
            waiting: false,
            signed_up_by: STAFF,
        }]);
    activity([posted(5)])
        .at(end() + mins(1))
        .when(&staff(), sign_up(V, false))
        .then_expect_error("SIGNUP_CLOSED");
    // Someone else's sign-up is not a volunteer's to make.
    activity([posted(5)])
        .when(&vol(V), sign_up(V2, false))
        .then_expect_error("FORBIDDEN");
}

#[test]
fn only_those_the_activity_is_for_may_sign_up() {
    let mut for_members = posted(5);
    if let Event::ActivityPosted { eligibility, .. } = &mut for_members {
        eligibility.tag = Some("党员".into());
    }
    activity([for_members.clone()])
        .when(&vol(V), sign_up(V, false))
        .then_expect_events(vec![signed(V)]);
    let e = activity([for_members])
        .when(&vol(V3), sign_up(V3, false))
        .then_expect_error("NOT_ELIGIBLE");
    assert!(matches!(e, DomainError::NotEligible { reason, .. } if reason.contains("党员")));
}

#[test]
fn a_withdrawal_moves_the_first_waiting_volunteer_up() {
    let waiting = |v: VolunteerId| Event::SignedUp {
        volunteer_id: v,
        waiting: true,
        signed_up_by: v.0,
    };
    let then = activity([posted(1), signed(V), waiting(V2), waiting(V3)])
        .when(
            &vol(V),
            WithdrawSignUp {
                activity_id: A,
                volunteer_id: V,
                reason: String::new(),
            },
        )
        .then_expect_events(vec![
            Event::SignUpWithdrawn {
                volunteer_id: V,
                reason: String::new(),
                withdrawn_by: V.0,
            },
            Event::MovedUp { volunteer_id: V2 },
        ]);
    assert_eq!(
        then.outcome(),
        Outcome::WithdrawSignUp(ActivityChange {
            activity_id: A,
            moved_up: vec![V2]
        })
    );
    activity([posted(1)])
        .when(
            &vol(V),
            WithdrawSignUp {
                activity_id: A,
                volunteer_id: V,
                reason: String::new(),
            },
        )
        .then_expect_error("NOT_SIGNED_UP");
}

#[test]
fn a_change_names_what_changed_and_whom_to_tell_and_more_places_move_the_waiting_up() {
    let history = || {
        activity([
            posted(1),
            signed(V),
            Event::SignedUp {
                volunteer_id: V2,
                waiting: true,
                signed_up_by: V2.0,
            },
        ])
    };
    let change = |c: ActivityDetails| ChangeActivity {
        activity_id: A,
        change: c,
        reason: "下雨改期".into(),
    };
    history()
        .when(
            &staff(),
            change(ActivityDetails {
                places: Some(2),
                place: Some("小区北门".into()),
                ..Default::default()
            }),
        )
        .then_expect_events(vec![
            Event::ActivityChanged {
                change: ActivityDetails {
                    places: Some(2),
                    ..Default::default()
                },
                previous: ActivityDetails {
                    places: Some(1),
                    ..Default::default()
                },
                reason: "下雨改期".into(),
                changed_by: STAFF,
                notify: vec![V, V2],
            },
            Event::MovedUp { volunteer_id: V2 },
        ]);
    history()
        .when(
            &staff(),
            change(ActivityDetails {
                place: Some("小区北门".into()),
                ..Default::default()
            }),
        )
        .then_expect_error("INVALID_INPUT");
}

#[test]
fn a_cancelled_activity_takes_no_sign_up_and_no_check_in() {
    let cancelled = || {
        activity([
            posted(5),
            signed(V),
            Event::ActivityCancelled {
                reason: "天气".into(),
                cancelled_by: STAFF,
                notify: vec![V],
            },
        ])
    };
    cancelled()
        .when(&vol(V2), sign_up(V2, false))
        .then_expect_error("ACTIVITY_CANCELLED");
    cancelled()
        .at(start())
        .when(&vol(V), check_in(V, Some(code_at(start()))))
        .then_expect_error("ACTIVITY_CANCELLED");
}

// ---- check-in and check-out ----

#[test]
fn a_code_is_good_in_its_period_and_the_one_before_and_expired_after() {
    let t = start() + mins(5);
    let history = || activity([posted(5), signed(V)]).at(t);
    history()
        .when(&vol(V), check_in(V, Some(code_at(t))))
        .then_expect_events(vec![checked_in(V, t)]);
    history()
        .when(
            &vol(V),
            check_in(V, Some(code_at(t - chrono::Duration::seconds(30)))),
        )
        .then_expect_events(vec![checked_in(V, t)]);
    history()
        .when(
            &vol(V),
            check_in(V, Some(code_at(t - chrono::Duration::seconds(60)))),
        )
        .then_expect_error("CODE_EXPIRED");
    let wrong = if code_at(t) == "000000" {
        "000001"
    } else {
        "000000"
    };
    history()
        .when(&vol(V), check_in(V, Some(wrong.into())))
        .then_expect_error("WRONG_CODE");
    history()
        .when(&vol(V), check_in(V, Some("12a456".into())))
        .then_expect_error("WRONG_CODE");
}

#[test]
fn check_in_opens_half_an_hour_before_the_start_and_closes_at_the_end() {
    let at = |t: DateTime<Utc>| {
        activity([posted(5), signed(V)])
            .at(t)
            .when(&vol(V), check_in(V, Some(code_at(t))))
    };
    at(start() - mins(31)).then_expect_error("CHECKIN_CLOSED");
    at(start() - mins(30)).then_expect_events(vec![checked_in(V, start() - mins(30))]);
    at(end()).then_expect_events(vec![checked_in(V, end())]);
    at(end() + mins(1)).then_expect_error("CHECKIN_CLOSED");
}

#[test]
fn a_volunteer_checks_in_once_with_a_place_or_as_an_allowed_walk_in() {
    let t = start();
    activity([posted(5), signed(V), checked_in(V, t)])
        .at(t + mins(1))
        .when(&vol(V), check_in(V, Some(code_at(t + mins(1)))))
        .then_expect_error("ALREADY_CHECKED_IN");
    activity([posted(5)])
        .at(t)
        .when(&vol(V), check_in(V, Some(code_at(t))))
        .then_expect_error("NOT_SIGNED_UP");
    let mut open = posted(5);
    if let Event::ActivityPosted { walk_ins, .. } = &mut open {
        *walk_ins = true;
    }
    activity([open])
        .at(t)
        .when(&vol(V), check_in(V, Some(code_at(t))))
        .then_expect_events(vec![Event::CheckedIn {
            volunteer_id: V,
            at: t,
            walk_in: true,
            by_staff: None,
        }]);
}

#[test]
fn staff_check_in_a_volunteer_without_a_phone_and_a_volunteer_needs_the_code() {
    let t = start() + mins(10);
    activity([posted(5), signed(V)])
        .at(t)
        .when(&staff(), check_in(V, None))
        .then_expect_events(vec![Event::CheckedIn {
            volunteer_id: V,
            at: t,
            walk_in: false,
            by_staff: Some(STAFF),
        }]);
    let e = activity([posted(5), signed(V)])
        .at(t)
        .when(&vol(V), check_in(V, None))
        .then_expect_error("INVALID_INPUT");
    assert_eq!(e, DomainError::Required { field: "code" });
}

#[test]
fn check_out_follows_the_check_in_and_closes_half_an_hour_after_the_end() {
    let out = |t: DateTime<Utc>, history: Vec<Event>| {
        activity(history).at(t).when(
            &vol(V),
            CheckOut {
                activity_id: A,
                volunteer_id: V,
                code: Some(code_at(t)),
            },
        )
    };
    out(end(), vec![posted(5), signed(V)]).then_expect_error("NOT_CHECKED_IN");
    let ins = vec![posted(5), signed(V), checked_in(V, start())];
    out(end() + mins(30), ins.clone()).then_expect_events(vec![checked_out(V, end() + mins(30))]);
    out(end() + mins(31), ins.clone()).then_expect_error("CHECKIN_CLOSED");
    let mut twice = ins;
    twice.push(checked_out(V, end()));
    out(end() + mins(5), twice).then_expect_error("ALREADY_CHECKED_OUT");
}

// ---- approval ----

fn attended() -> Vec<Event> {
    vec![
        posted(5),
        signed(V),
        signed(V2),
        signed(V3),
        // 10 minutes early, out at 1 h 37 min: 97 minutes in the activity → 90
        checked_in(V, start() - mins(10)),
        checked_out(V, start() + mins(97)),
        // no check-out: the end counts
        checked_in(V2, start() + mins(30)),
        checked_in(V3, start()),
    ]
}

fn record(
    then: &ledger::testing::Then,
    v: VolunteerId,
    (from, until): (DateTime<Utc>, DateTime<Utc>),
    minutes: i64,
    missing: bool,
) -> AttendanceRecord {
    AttendanceRecord {
        volunteer_id: v,
        source: RecordSource::Attendance,
        from,
        until,
        checkout_missing: missing,
        hours: Hours::from_minutes(minutes),
        // 10 points an hour, coefficient 1 for a patrol (the built-in rules)
        points: Points::from_hundredths(minutes * 1000 / 60),
        rule_version: 0,
        adjusted: None,
        service_id: ServiceId(then.id(&format!("service-{v}"))),
        entry_id: EntryId(then.id(&format!("entry-{v}"))),
    }
}

#[test]
fn approval_counts_the_overlap_rounded_down_and_credits_at_once_without_a_notice() {
    let then = activity(attended()).at(end() + mins(60)).when(
        &staff(),
        ApproveAttendance {
            activity_id: A,
            adjustments: vec![],
            exclusions: vec![Exclusion {
                volunteer_id: V3,
                reason: "中途离开".into(),
            }],
        },
    );
    let rv = record(
        &then,
        V,
        (start() - mins(10), start() + mins(97)),
        90,
        false,
    );
    let rv2 = record(&then, V2, (start() + mins(30), end()), 90, true);
    let then = then.then_expect_stream(
        &activity_stream(A),
        vec![
            Event::AttendanceApproved {
                records: vec![rv.clone(), rv2.clone()],
                excluded: vec![Excluded {
                    volunteer_id: V3,
                    reason: "中途离开".into(),
                }],
                notice_until: None,
                approved_by: STAFF,
            },
            Event::AttendanceFinalised {
                volunteers: vec![V, V2],
                finalised_by: STAFF,
            },
        ],
    );
    let then = then.then_expect_stream(
        &volunteer_stream(V),
        vec![
            Event::ServiceLogged {
                imported: None,
                service_id: rv.service_id,
                kind: ServiceKind::Patrol,
                started_at: start(),
                hours: Hours::from_minutes(90),
                place: "小区北门".into(),
                note: "北门巡逻".into(),
                logged_by: STAFF,
                activity: Some(ActivityService {
                    activity_id: A,
                    source: RecordSource::Attendance,
                }),
            },
            Event::ServiceVerified {
                service_id: rv.service_id,
                entry_id: rv.entry_id,
                hours: Hours::from_minutes(90),
                points: Points::whole(15),
                rule_version: 0,
                verified_by: STAFF,
                over_cap: Hours::ZERO,
                expires_on: None,
            },
        ],
    );
    let Outcome::ApproveAttendance(o) = then.outcome() else {
        panic!("not an approval")
    };
    assert_eq!(
        (o.records, o.excluded, o.final_records, o.hours, o.points),
        (2, 1, 2, Hours::whole(3), Points::whole(30))
    );
}

#[test]
fn approval_waits_for_the_end_happens_once_and_never_for_staff_own_attendance() {
    activity(attended())
        .at(end() - mins(1))
        .when(&staff(), approve())
        .then_expect_error("ACTIVITY_NOT_ENDED");
    let mut approved = attended();
    approved.push(Event::AttendanceApproved {
        records: vec![],
        excluded: vec![],
        notice_until: None,
        approved_by: STAFF,
    });
    activity(approved)
        .at(end())
        .when(&staff(), approve())
        .then_expect_error("ALREADY_APPROVED");
    let mut me = staff();
    me.volunteer_id = Some(V);
    activity(attended())
        .at(end())
        .when(&me, approve())
        .then_expect_error("SELF_VERIFICATION");
    activity(attended())
        .at(end())
        .when(&vol(V), approve())
        .then_expect_error("FORBIDDEN");
}

#[test]
fn adjustments_set_times_and_say_why_and_the_point_rules_cap_the_hours() {
    let then = activity(attended())
        .community(
            C,
            [Event::PointRulesSet {
                version: 1,
                points_per_hour: Points::whole(10),
                coefficients: BTreeMap::new(),
                max_hours_per_record: Hours::whole(1),
                effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            }],
        )
        .at(end())
        .when(
            &staff(),
            ApproveAttendance {
                activity_id: A,
                adjustments: vec![AttendanceAdjustment {
                    volunteer_id: V3,
                    checked_in: None,
                    checked_out: Some(start() + mins(20)),
                    reason: "提前离开".into(),
                }],
                exclusions: vec![],
            },
        );
    let events = then.events();
    let Some(Event::AttendanceApproved { records, .. }) = events.first() else {
        panic!("no approval: {events:?}")
    };
    let hours: Vec<_> = records.iter().map(|r| (r.volunteer_id, r.hours)).collect();
    assert_eq!(
        hours,
        vec![
            (V, Hours::whole(1)),
            (V2, Hours::whole(1)),
            (V3, Hours::from_minutes(15))
        ]
    );
    assert_eq!(records[2].adjusted.as_deref(), Some("提前离开"));
    // An adjustment names someone who checked in: others get a 补录.
    activity(vec![posted(5), signed(V)])
        .at(end())
        .when(
            &staff(),
            ApproveAttendance {
                activity_id: A,
                adjustments: vec![AttendanceAdjustment {
                    volunteer_id: V,
                    checked_in: Some(start()),
                    checked_out: None,
                    reason: "忘记签到".into(),
                }],
                exclusions: vec![],
            },
        )
        .then_expect_error("INVALID_INPUT");
}

// ---- 补录 and 公示 ----

fn approved_with_notice() -> Given {
    let mut events = attended();
    let until = end() + chrono::Duration::days(3);
    let rec = |v: VolunteerId, minutes: i64| AttendanceRecord {
        volunteer_id: v,
        source: RecordSource::Attendance,
        from: start(),
        until: end(),
        checkout_missing: false,
        hours: Hours::from_minutes(minutes),
        points: Points::from_hundredths(minutes * 1000 / 60),
        rule_version: 0,
        adjusted: None,
        service_id: ServiceId(Uuid::from_u128(700 + v.0.as_u128())),
        entry_id: EntryId(Uuid::from_u128(800 + v.0.as_u128())),
    };
    events.push(Event::AttendanceApproved {
        records: vec![rec(V, 90), rec(V2, 90)],
        excluded: vec![],
        notice_until: Some(until),
        approved_by: STAFF,
    });
    activity(events).community(C, [notice_rules(3)])
}

#[test]
fn with_a_notice_records_wait_and_become_final_when_it_has_passed() {
    let then = activity(attended())
        .community(C, [notice_rules(3)])
        .at(end())
        .when(&staff(), approve());
    let events = then.events();
    assert!(
        matches!(&events[..], [Event::AttendanceApproved { notice_until: Some(t), .. }] if *t == end() + chrono::Duration::days(3)),
        "pending only, nothing credited: {events:?}"
    );
    let finalise = FinaliseAttendance { activity_id: A };
    approved_with_notice()
        .at(end() + chrono::Duration::days(3) - mins(1))
        .when(&staff(), finalise.clone())
        .then_expect_error("NOTHING_DUE");
    let then = approved_with_notice()
        .at(end() + chrono::Duration::days(3))
        .when(&staff(), finalise)
        .then_expect_stream(
            &activity_stream(A),
            vec![Event::AttendanceFinalised {
                volunteers: vec![V, V2],
                finalised_by: STAFF,
            }],
        );
    assert_eq!(
        then.events()
            .iter()
            .filter(|e| matches!(e, Event::ServiceVerified { .. }))
            .count(),
        2
    );
}

#[test]
fn an_open_objection_holds_its_record_and_is_upheld_or_dismissed() {
    let objection = ObjectionId(Uuid::from_u128(900));
    let raised = Event::ObjectionRaised {
        objection_id: objection,
        volunteer_id: V,
        reason: "他只待了半小时".into(),
        raised_by: V2.0,
    };
    // A volunteer of the community objects during the notice.
    let then = approved_with_notice().at(end() + mins(60)).when(
        &vol(V2),
        RaiseObjection {
            activity_id: A,
            volunteer_id: V,
            reason: "他只待了半小时".into(),
        },
    );
    let id = ObjectionId(then.id("objection"));
    then.then_expect_events(vec![Event::ObjectionRaised {
        objection_id: id,
        volunteer_id: V,
        reason: "他只待了半小时".into(),
        raised_by: V2.0,
    }]);
    // After the notice no objection is taken.
    approved_with_notice()
        .at(end() + chrono::Duration::days(3))
        .when(
            &vol(V2),
            RaiseObjection {
                activity_id: A,
                volunteer_id: V,
                reason: "x".into(),
            },
        )
        .then_expect_error("NOT_IN_NOTICE");
    // Finality passes over the record objected to.
    let finalise = || FinaliseAttendance { activity_id: A };
    approved_with_notice()
        .stream(activity_stream(A), [raised.clone()])
        .at(end() + chrono::Duration::days(4))
        .when(&staff(), finalise())
        .then_expect_stream(
            &activity_stream(A),
            vec![Event::AttendanceFinalised {
                volunteers: vec![V2],
                finalised_by: STAFF,
            }],
        );
    // Upheld: corrected to half an hour (5 points).
    let resolve = |verdict| ResolveObjection {
        impact: None,
        activity_id: A,
        objection_id: objection,
        verdict,
        reason: "核实签到记录".into(),
    };
    approved_with_notice()
        .stream(activity_stream(A), [raised.clone()])
        .at(end() + mins(90))
        .when(&staff(), resolve(Verdict::Correct { hours: dec("0.5") }))
        .then_expect_events(vec![Event::ObjectionResolved {
            impact: None,
            objection_id: objection,
            volunteer_id: V,
            decision: ObjectionDecision::Corrected {
                hours: Hours::from_minutes(30),
                points: Points::whole(5),
            },
            reason: "核实签到记录".into(),
            resolved_by: STAFF,
        }]);
    // Once resolved, the corrected record becomes final with what was corrected.
    let corrected = Event::ObjectionResolved {
        impact: None,
        objection_id: objection,
        volunteer_id: V,
        decision: ObjectionDecision::Corrected {
            hours: Hours::from_minutes(30),
            points: Points::whole(5),
        },
        reason: "核实签到记录".into(),
        resolved_by: STAFF,
    };
    let then = approved_with_notice()
        .stream(activity_stream(A), [raised.clone(), corrected.clone()])
        .at(end() + chrono::Duration::days(4))
        .when(&staff(), finalise());
    let credited: Vec<_> = then
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ServiceVerified { hours, points, .. } => Some((hours, points)),
            _ => None,
        })
        .collect();
    assert!(
        credited.contains(&(Hours::from_minutes(30), Points::whole(5))),
        "{credited:?}"
    );
    approved_with_notice()
        .stream(activity_stream(A), [raised.clone(), corrected])
        .at(end() + mins(95))
        .when(&staff(), resolve(Verdict::Dismiss))
        .then_expect_error("ALREADY_RESOLVED");
    // Dismissed: the record stands; rejected: it is never credited.
    for (verdict, decision) in [
        (Verdict::Dismiss, ObjectionDecision::Dismissed),
        (Verdict::Reject, ObjectionDecision::Rejected),
    ] {
        approved_with_notice()
            .stream(activity_stream(A), [raised.clone()])
            .at(end() + mins(90))
            .when(&staff(), resolve(verdict))
            .then_expect_events(vec![Event::ObjectionResolved {
                impact: None,
                objection_id: objection,
                volunteer_id: V,
                decision,
                reason: "核实签到记录".into(),
                resolved_by: STAFF,
            }]);
    }
    let rejected = Event::ObjectionResolved {
        impact: None,
        objection_id: objection,
        volunteer_id: V,
        decision: ObjectionDecision::Rejected,
        reason: "核实签到记录".into(),
        resolved_by: STAFF,
    };
    approved_with_notice()
        .stream(activity_stream(A), [raised, rejected])
        .at(end() + chrono::Duration::days(4))
        .when(&staff(), finalise())
        .then_expect_stream(
            &activity_stream(A),
            vec![Event::AttendanceFinalised {
                volunteers: vec![V2],
                finalised_by: STAFF,
            }],
        );
}

#[test]
fn a_late_record_is_marked_comes_after_the_approval_within_its_days_and_fits_the_activity() {
    let late = |hours: &str| RecordLateAttendance {
        activity_id: A,
        volunteer_id: V3,
        hours: dec(hours),
        reason: "老人未带手机，现场参加".into(),
    };
    let approved = || {
        let mut events = attended();
        events.push(Event::AttendanceApproved {
            records: vec![],
            excluded: vec![],
            notice_until: None,
            approved_by: STAFF,
        });
        activity(events)
    };
    activity(attended())
        .at(end())
        .when(&staff(), late("1"))
        .then_expect_error("NOT_APPROVED");
    approved()
        .at(end() + chrono::Duration::days(31))
        .when(&staff(), late("1"))
        .then_expect_error("LATE_RECORD_CLOSED");
    approved()
        .at(end())
        .when(&staff(), late("2.5"))
        .then_expect_error("INVALID_INPUT");
    let then = approved()
        .at(end() + chrono::Duration::days(30))
        .when(&staff(), late("1.5"));
    let events = then.events();
    assert!(
        matches!(&events[..], [
            Event::LateAttendanceRecorded { record, notice_until: None, .. },
            Event::AttendanceFinalised { .. },
            Event::ServiceLogged { activity: Some(ActivityService { source: RecordSource::Late, .. }), .. },
            Event::ServiceVerified { .. },
        ] if record.source == RecordSource::Late && record.hours == Hours::from_minutes(90)),
        "{events:?}"
    );
}

#[test]
fn staff_check_in_closes_at_the_end_too_and_a_late_one_is_a_late_record() {
    activity([posted(5), signed(V)])
        .at(end() + mins(1))
        .when(&staff(), check_in(V, None))
        .then_expect_error("CHECKIN_CLOSED");
}
