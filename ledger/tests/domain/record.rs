//! The service record beyond services, given / when / then: staff record training (its
//! hours apart from service hours) and commendations (resting on a pinned annual
//! report), withdraw either when recorded in error; a service gets one evaluation, by
//! staff or by the volunteer who received it for their hours.

use super::*;
use ledger::event::{Provider, ReportEvidence};

const V3: VolunteerId = VolunteerId(Uuid::from_u128(12));
const SVC: ServiceId = ServiceId(Uuid::from_u128(1));
const R: RecordId = RecordId(Uuid::from_u128(77));

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn training(course: &str, hours: &str, date: NaiveDate) -> RecordTraining {
    RecordTraining {
        volunteer_id: V,
        course: course.into(),
        hours: dec(hours),
        date,
    }
}

fn trained(minutes: i64) -> Event {
    Event::TrainingRecorded {
        record_id: R,
        course: "应急救护".into(),
        hours: Hours::from_minutes(minutes),
        date: day(2025, 5, 10),
        recorded_by: STAFF,
    }
}

#[test]
fn staff_record_training_which_banks_nothing_and_counts_for_no_star() {
    let then =
        account([registered(V)]).when(&staff(), training(" 应急救护 ", "3", day(2025, 5, 10)));
    let id = RecordId(then.id("record"));
    then.then_expect_events(vec![Event::TrainingRecorded {
        record_id: id,
        course: "应急救护".into(),
        hours: Hours::from_minutes(180),
        date: day(2025, 5, 10),
        recorded_by: STAFF,
    }]);
    let state: VolunteerState = given(&[registered(V), trained(180)]);
    assert_eq!(state.record.training_hours(), Hours::from_minutes(180));
    assert_eq!(
        (state.hours, state.verified_hours),
        (Hours::ZERO, Hours::ZERO)
    );

    for (bad, code) in [
        (training("", "3", day(2025, 5, 10)), "INVALID_INPUT"),
        (training("急救", "0", day(2025, 5, 10)), "INVALID_INPUT"),
        (training("急救", "201", day(2025, 5, 10)), "INVALID_INPUT"),
        (training("急救", "2", day(2025, 6, 2)), "INVALID_INPUT"),
    ] {
        account([registered(V)])
            .when(&staff(), bad)
            .then_expect_error(code);
    }
    account([registered(V)])
        .when(&vol(V), training("急救", "2", day(2025, 5, 10)))
        .then_expect_error("FORBIDDEN");
}

#[test]
fn a_record_in_error_is_withdrawn_once_with_a_reason() {
    let withdraw = |record_id| WithdrawRecord {
        volunteer_id: V,
        record_id,
        reason: "录错了人".into(),
    };
    let withdrawn = Event::RecordWithdrawn {
        record_id: R,
        reason: "录错了人".into(),
        withdrawn_by: STAFF,
    };
    account([registered(V), trained(180)])
        .when(&staff(), withdraw(R))
        .then_expect_events(vec![withdrawn.clone()]);
    account([registered(V), trained(180), withdrawn.clone()])
        .when(&staff(), withdraw(R))
        .then_expect_error("ALREADY_WITHDRAWN");
    account([registered(V), trained(180)])
        .when(&staff(), withdraw(RecordId(Uuid::from_u128(5))))
        .then_expect_error("NOT_FOUND");
    account([registered(V), trained(180)])
        .when(
            &staff(),
            WithdrawRecord {
                reason: " ".into(),
                ..withdraw(R)
            },
        )
        .then_expect_error("INVALID_INPUT");
    let state: VolunteerState = given(&[registered(V), trained(180), withdrawn]);
    assert_eq!(state.record.training_hours(), Hours::ZERO);
    assert_eq!(
        state.record.trainings[0].withdrawn.as_deref(),
        Some("录错了人")
    );
}

#[test]
fn a_commendation_rests_on_an_annual_report_already_in_the_log() {
    let commend = |evidence| GiveCommendation {
        volunteer_id: V,
        title: "2024年度优秀志愿者".into(),
        date: day(2025, 1, 15),
        evidence,
    };
    // The given log holds the community's 4 events and V's one.
    let then = account([registered(V)]).when(
        &staff(),
        commend(Some(ReportEvidence {
            year: 2024,
            position: 5,
        })),
    );
    let id = RecordId(then.id("record"));
    then.then_expect_events(vec![Event::CommendationGiven {
        record_id: id,
        title: "2024年度优秀志愿者".into(),
        date: day(2025, 1, 15),
        evidence: Some(ReportEvidence {
            year: 2024,
            position: 5,
        }),
        given_by: STAFF,
    }]);
    for evidence in [
        ReportEvidence {
            year: 2024,
            position: 6,
        },
        ReportEvidence {
            year: 2026,
            position: 2,
        },
    ] {
        account([registered(V)])
            .when(&staff(), commend(Some(evidence)))
            .then_expect_error("INVALID_INPUT");
    }
    assert_eq!(
        account([registered(V)])
            .when(&staff(), commend(None))
            .events()
            .len(),
        1
    );
}

/// V gave service 1 (2 h, verified); V2 received it for their hours; V3 did not.
fn served() -> Given {
    let paid = Event::HoursSpent {
        entry_id: entry(50),
        hours: Hours::from_minutes(120),
        description: "上门理发".into(),
        provider: Some(Provider {
            volunteer_id: V,
            service_id: SVC,
        }),
    };
    world()
        .volunteer(
            V,
            [
                registered(V),
                logged(1, at(2025, 5, 1), 120, ServiceKind::Other),
                verified(1, 1, 120, 20),
            ],
        )
        .volunteer(V2, [registered(V2), paid])
        .volunteer(V3, [registered(V3)])
}

fn evaluate(satisfaction: u8) -> EvaluateService {
    EvaluateService {
        volunteer_id: V,
        service_id: SVC,
        satisfaction,
        comment: " 很耐心 ".into(),
    }
}

fn evaluated(by_resident: bool, by: Uuid) -> Event {
    Event::ServiceEvaluated {
        service_id: SVC,
        satisfaction: 5,
        comment: "很耐心".into(),
        by_resident,
        evaluated_by: by,
    }
}

#[test]
fn a_service_is_evaluated_once_by_staff_or_by_who_received_it() {
    served()
        .when(&staff(), evaluate(5))
        .then_expect_stream(&volunteer_stream(V), vec![evaluated(false, STAFF)]);
    served()
        .when(&vol(V2), evaluate(5))
        .then_expect_stream(&volunteer_stream(V), vec![evaluated(true, V2.0)]);
    served()
        .when(&vol(V3), evaluate(5))
        .then_expect_error("FORBIDDEN");
    served()
        .when(&vol(V), evaluate(5))
        .then_expect_error("FORBIDDEN");
    for bad in [0, 6] {
        served()
            .when(&staff(), evaluate(bad))
            .then_expect_error("INVALID_INPUT");
    }
    let twice = served()
        .volunteer(
            V,
            [
                registered(V),
                logged(1, at(2025, 5, 1), 120, ServiceKind::Other),
                verified(1, 1, 120, 20),
                evaluated(false, STAFF),
            ],
        )
        .when(&vol(V2), evaluate(4))
        .then_expect_error("ALREADY_EVALUATED");
    assert_eq!(twice, DomainError::AlreadyEvaluated { service_id: SVC });
    served()
        .when(
            &staff(),
            EvaluateService {
                service_id: ServiceId(Uuid::from_u128(9)),
                ..evaluate(5)
            },
        )
        .then_expect_error("NOT_FOUND");
    let rejected = Event::ServiceRejected {
        impact: None,
        service_id: SVC,
        reason: "重复".into(),
        rejected_by: STAFF,
    };
    account([
        registered(V),
        logged(1, at(2025, 5, 1), 120, ServiceKind::Other),
        rejected,
    ])
    .when(&staff(), evaluate(5))
    .then_expect_error("INVALID_STATE");
}

#[test]
fn the_record_says_the_mean_satisfaction() {
    let mut e = vec![registered(V)];
    for (n, s) in [(1u128, 5u8), (2, 4), (3, 4)] {
        e.push(logged(n, at(2025, 5, 1), 60, ServiceKind::Patrol));
        e.push(Event::ServiceEvaluated {
            service_id: ServiceId(Uuid::from_u128(n)),
            satisfaction: s,
            comment: String::new(),
            by_resident: false,
            evaluated_by: STAFF,
        });
    }
    let state: VolunteerState = given(&e);
    assert_eq!(state.record.satisfaction(), Some((dec("4.33"), 3)));
    let none: VolunteerState = given(&[registered(V)]);
    assert_eq!(none.record.satisfaction(), None);
}
