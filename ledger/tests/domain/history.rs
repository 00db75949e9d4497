//! History imports (历史导入): a past service from a sheet is logged and verified at once,
//! marked with its file and row, and recorded in its batch; a whole batch is reversed in
//! one append, each entry still standing by an `EntryReversed` naming the batch.

use super::*;
use ledger::domain::history::ImportBatchState;
use ledger::event::{HistoryRowImported, ImportBatchReversed, ImportedRow};

const B: ImportBatchId = ImportBatchId(Uuid::from_u128(900));
const C2: CommunityId = CommunityId(Uuid::from_u128(5));

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
fn row(n: u32, v: VolunteerId, date: NaiveDate, hours: &str) -> ImportHistoryRow {
    ImportHistoryRow {
        community_id: C,
        batch_id: B,
        file: "2019台账.xlsx".into(),
        row: n,
        volunteer_id: v,
        kind: ServiceKind::Patrol,
        date,
        hours: dec(hours),
        note: "夜间巡逻".into(),
    }
}
fn recorded(n: u32, v: VolunteerId, service: u128, e: u128) -> Event {
    Event::HistoryRowImported(HistoryRowImported {
        batch_id: B,
        community_id: C,
        file: "2019台账.xlsx".into(),
        row: n,
        volunteer_id: v,
        service_id: ServiceId(Uuid::from_u128(service)),
        entry_id: entry(e),
        imported_by: STAFF,
    })
}
/// The community, `V` and `V2` with a verified service each, imported as rows 2 and 3.
fn imported() -> ledger::testing::Given {
    world()
        .volunteer(
            V,
            vec![
                registered(V),
                logged(1, at(2019, 5, 1), 120, ServiceKind::Patrol),
                verified(1, 1, 120, 20),
            ],
        )
        .volunteer(
            V2,
            vec![
                registered(V2),
                logged(2, at(2019, 6, 1), 60, ServiceKind::Patrol),
                verified(2, 2, 60, 10),
            ],
        )
        .stream(
            import_stream(B),
            vec![recorded(2, V, 1, 1), recorded(3, V2, 2, 2)],
        )
}

#[test]
fn a_past_service_is_logged_and_verified_at_once_marked_with_its_file_and_row() {
    let then = account(vec![registered(V)]).when(&staff(), row(3, V, day(2019, 3, 5), "2.5"));
    let (service, e) = (ServiceId(then.id("service")), EntryId(then.id("entry")));
    let Outcome::ImportHistoryRow(done) = then.outcome() else {
        panic!("not an import's outcome")
    };
    assert_eq!(done.hours, Hours::from_minutes(150));
    assert!(
        done.points.is_positive(),
        "the point rules of its day credit it"
    );
    let started = ledger::domain::history::day_start(day(2019, 3, 5));
    assert_eq!(started, Utc.with_ymd_and_hms(2019, 3, 4, 16, 0, 0).unwrap());
    then.then_expect_stream(
        &volunteer_stream(V),
        vec![
            Event::ServiceLogged {
                service_id: service,
                kind: ServiceKind::Patrol,
                started_at: started,
                hours: Hours::from_minutes(150),
                place: String::new(),
                note: "夜间巡逻".into(),
                logged_by: STAFF,
                activity: None,
                imported: Some(ImportedRow {
                    batch_id: B,
                    file: "2019台账.xlsx".into(),
                    row: 3,
                }),
            },
            Event::ServiceVerified {
                service_id: service,
                entry_id: e,
                hours: Hours::from_minutes(150),
                points: done.points,
                rule_version: 0,
                verified_by: STAFF,
                over_cap: Hours::ZERO,
                expires_on: None,
            },
        ],
    )
    .then_expect_stream(
        &import_stream(B),
        vec![Event::HistoryRowImported(HistoryRowImported {
            batch_id: B,
            community_id: C,
            file: "2019台账.xlsx".into(),
            row: 3,
            volunteer_id: V,
            service_id: service,
            entry_id: e,
            imported_by: STAFF,
        })],
    );
}

#[test]
fn an_imported_service_counts_for_the_verified_hours_like_any_other() {
    let then = account(vec![registered(V)]).when(&staff(), row(3, V, day(2019, 3, 5), "2.5"));
    let mut events = vec![registered(V)];
    events.extend(
        then.events()
            .into_iter()
            .filter(|e| !matches!(e, Event::HistoryRowImported(_))),
    );
    let v: VolunteerState = given(&events);
    assert_eq!(v.verified_hours, Hours::from_minutes(150));
    assert_eq!(v.hours, Hours::from_minutes(150));
}

#[test]
fn a_row_is_refused_when_it_is_in_the_batch_already_or_the_batch_is_another_files() {
    let d = day(2019, 3, 5);
    imported()
        .when(&staff(), row(2, V, d, "1"))
        .then_expect_error("INVALID_STATE");
    let mut other = row(4, V, d, "1");
    other.file = "2020台账.xlsx".into();
    imported()
        .when(&staff(), other)
        .then_expect_error("INVALID_STATE");
    // A new row of the same file is the batch's next.
    imported().when(&staff(), row(4, V, d, "1"));
}

#[test]
fn a_row_is_refused_for_a_future_day_too_many_hours_or_another_communitys_volunteer() {
    let tomorrow = ledger::domain::local_date(now()).succ_opt().unwrap();
    account(vec![registered(V)])
        .when(&staff(), row(1, V, tomorrow, "1"))
        .then_expect_error("INVALID_INPUT");
    account(vec![registered(V)])
        .when(&staff(), row(1, V, day(2019, 3, 5), "0"))
        .then_expect_error("INVALID_INPUT");
    let mut elsewhere = row(1, V, day(2019, 3, 5), "1");
    elsewhere.community_id = C2;
    world()
        .community(
            C2,
            vec![Event::CommunityEstablished {
                community_id: C2,
                name: "光明社区".into(),
            }],
        )
        .volunteer(V, vec![registered(V)])
        .when(&Actor::staff(STAFF, C2), elsewhere)
        .then_expect_error("NOT_FOUND");
}

#[test]
fn only_the_communitys_staff_import_history_or_reverse_it() {
    account(vec![registered(V)])
        .when(&vol(V), row(1, V, day(2019, 3, 5), "1"))
        .then_expect_error("FORBIDDEN");
    imported()
        .when(
            &Actor::staff(STAFF, C2),
            ReverseImportBatch {
                batch_id: B,
                reason: "导错了".into(),
                impacts: vec![],
            },
        )
        .then_expect_error("FORBIDDEN");
}

#[test]
fn a_batch_is_reversed_as_one_each_entry_still_standing_linked_to_the_batch() {
    let given = imported().volunteer(
        V2,
        vec![Event::EntryReversed {
            entry_id: entry(50),
            reverses: entry(2),
            points: Points::whole(10),
            hours: Hours::from_minutes(60),
            reason: "单独冲正".into(),
            reversed_by: STAFF,
            over_cap: Hours::ZERO,
            impact: None,
            batch: None,
        }],
    );
    let then = given.when(
        &staff(),
        ReverseImportBatch {
            batch_id: B,
            reason: "表格导错了".into(),
            impacts: vec![],
        },
    );
    let Outcome::ReverseImportBatch(done) = then.outcome() else {
        panic!("not a reversal's outcome")
    };
    assert_eq!((done.entries, done.volunteers), (1, 1));
    let reversal = then.events()[0].entry_id().expect("an entry");
    then.then_expect_stream(
        &volunteer_stream(V),
        vec![Event::EntryReversed {
            entry_id: reversal,
            reverses: entry(1),
            points: Points::whole(20),
            hours: Hours::from_minutes(120),
            reason: "表格导错了".into(),
            reversed_by: STAFF,
            over_cap: Hours::ZERO,
            impact: None,
            batch: Some(B),
        }],
    )
    .then_expect_stream(&volunteer_stream(V2), vec![])
    .then_expect_stream(
        &import_stream(B),
        vec![Event::ImportBatchReversed(ImportBatchReversed {
            reason: "表格导错了".into(),
            entries: 1,
            volunteers: 1,
            reversed_by: STAFF,
        })],
    );
}

#[test]
fn a_batch_is_reversed_once_with_a_reason_and_takes_no_more_rows() {
    let reverse = |reason: &str| ReverseImportBatch {
        batch_id: B,
        reason: reason.into(),
        impacts: vec![],
    };
    assert_eq!(
        imported()
            .when(&staff(), reverse(" "))
            .then_expect_error("INVALID_INPUT"),
        DomainError::Required { field: "reason" }
    );
    let done = imported().stream(
        import_stream(B),
        vec![Event::ImportBatchReversed(ImportBatchReversed {
            reason: "r".into(),
            entries: 2,
            volunteers: 2,
            reversed_by: STAFF,
        })],
    );
    let state: ImportBatchState = given(&[
        recorded(2, V, 1, 1),
        Event::ImportBatchReversed(ImportBatchReversed {
            reason: "r".into(),
            entries: 2,
            volunteers: 2,
            reversed_by: STAFF,
        }),
    ]);
    assert!(state.reversed);
    done.when(&staff(), reverse("again"))
        .then_expect_error("INVALID_STATE");
    imported()
        .stream(
            import_stream(B),
            vec![Event::ImportBatchReversed(ImportBatchReversed {
                reason: "r".into(),
                entries: 2,
                volunteers: 2,
                reversed_by: STAFF,
            })],
        )
        .when(&staff(), row(9, V, day(2019, 3, 5), "1"))
        .then_expect_error("INVALID_STATE");
    imported()
        .when(
            &staff(),
            ReverseImportBatch {
                batch_id: ImportBatchId(Uuid::from_u128(901)),
                reason: "r".into(),
                impacts: vec![],
            },
        )
        .then_expect_error("NOT_FOUND");
}
