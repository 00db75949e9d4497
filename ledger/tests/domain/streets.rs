//! Streets (街道) and districts (区): established by administrators, a community in one
//! street at a time and a street in one district, from a day, history only added to.

use super::*;
use ledger::domain::street::StreetState;
use ledger::event as ev;

const ST: StreetId = StreetId(Uuid::from_u128(700));
const ST2: StreetId = StreetId(Uuid::from_u128(701));
const D: DistrictId = DistrictId(Uuid::from_u128(800));

fn admin() -> Actor {
    Actor::admin(Uuid::from_u128(98))
}
fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
fn street_events(id: StreetId, name: &str) -> Vec<Event> {
    vec![Event::StreetEstablished(ev::StreetEstablished {
        street_id: id,
        name: name.into(),
    })]
}
/// The community of [`world`], and two streets.
fn streets() -> ledger::testing::Given {
    world()
        .stream(street_stream(ST), street_events(ST, "和平街道"))
        .stream(street_stream(ST2), street_events(ST2, "光明街道"))
}
fn joined(street_id: StreetId, from: NaiveDate) -> Event {
    Event::CommunityJoinedStreet(ev::CommunityJoinedStreet { street_id, from })
}
fn join(street_id: StreetId, from: NaiveDate) -> JoinStreet {
    JoinStreet {
        community_id: C,
        street_id,
        from,
    }
}

#[test]
fn an_administrator_establishes_a_street_with_its_trimmed_name() {
    let then = ledger::testing::given().when(
        &admin(),
        EstablishStreet {
            name: " 和平街道 ".into(),
        },
    );
    let id = StreetId(then.id("street"));
    then.then_expect_stream(&street_stream(id), street_events(id, "和平街道"));
    let then = ledger::testing::given().when(&admin(), EstablishDistrict { name: "".into() });
    assert_eq!(
        then.then_expect_error("INVALID_INPUT"),
        DomainError::Required { field: "name" }
    );
}

#[test]
fn staff_and_volunteers_cannot_shape_the_organisation() {
    for actor in [staff(), vol(V)] {
        streets()
            .when(&actor, join(ST, day(2025, 1, 1)))
            .then_expect_error("FORBIDDEN");
        ledger::testing::given()
            .when(
                &actor,
                EstablishStreet {
                    name: "街道".into(),
                },
            )
            .then_expect_error("FORBIDDEN");
    }
}

#[test]
fn a_community_joins_a_street_from_a_day_that_may_be_in_the_past() {
    streets()
        .when(&admin(), join(ST, day(2024, 1, 1)))
        .then_expect_stream(&community_stream(C), vec![joined(ST, day(2024, 1, 1))]);
    // The community's state tells its street on any day.
    let mut events = community_events();
    events.push(joined(ST, day(2024, 1, 1)));
    events.push(joined(ST2, day(2025, 7, 1)));
    let c: CommunityState = given(&events);
    assert_eq!(c.street.on(day(2023, 12, 31)), None);
    assert_eq!(c.street.on(day(2024, 1, 1)), Some(ST));
    assert_eq!(c.street.on(day(2025, 6, 30)), Some(ST));
    assert_eq!(c.street.on(day(2025, 7, 1)), Some(ST2));
    assert_eq!(c.street.latest(), Some(ST2));
}

#[test]
fn a_community_moves_streets_but_never_rewrites_what_was_before_its_last_change() {
    let given = || streets().community(C, vec![joined(ST, day(2025, 3, 1))]);
    // Moving to another street from a later day: one event, the old street is left.
    given()
        .when(&admin(), join(ST2, day(2025, 7, 1)))
        .then_expect_events(vec![joined(ST2, day(2025, 7, 1))]);
    // Before the last change: refused, nothing written.
    let e = given()
        .when(&admin(), join(ST2, day(2025, 2, 28)))
        .then_expect_error("INVALID_INPUT");
    assert!(e.to_string().contains("2025-03-01"), "{e}");
    // Joining the street it is in already.
    given()
        .when(&admin(), join(ST, day(2025, 7, 1)))
        .then_expect_error("INVALID_STATE");
    // Leaving names the street left.
    given()
        .when(
            &admin(),
            LeaveStreet {
                community_id: C,
                from: day(2026, 1, 1),
            },
        )
        .then_expect_events(vec![Event::CommunityLeftStreet(ev::CommunityLeftStreet {
            street_id: ST,
            from: day(2026, 1, 1),
        })]);
    streets()
        .when(
            &admin(),
            LeaveStreet {
                community_id: C,
                from: day(2026, 1, 1),
            },
        )
        .then_expect_error("INVALID_STATE");
}

#[test]
fn joining_needs_the_community_and_the_street() {
    let unknown = StreetId(Uuid::from_u128(9));
    streets()
        .when(&admin(), join(unknown, day(2025, 1, 1)))
        .then_expect_error("NOT_FOUND");
    ledger::testing::given()
        .stream(street_stream(ST), street_events(ST, "和平街道"))
        .when(&admin(), join(ST, day(2025, 1, 1)))
        .then_expect_error("NOT_FOUND");
}

#[test]
fn a_street_joins_a_district_and_its_office_renames_only_its_own_street() {
    let district = vec![Event::DistrictEstablished(ev::DistrictEstablished {
        district_id: D,
        name: "和平区".into(),
    })];
    let then = streets().stream(district_stream(D), district.clone()).when(
        &admin(),
        JoinDistrict {
            street_id: ST,
            district_id: D,
            from: day(2025, 1, 1),
        },
    );
    let joined = Event::StreetJoinedDistrict(ev::StreetJoinedDistrict {
        district_id: D,
        from: day(2025, 1, 1),
    });
    then.then_expect_stream(&street_stream(ST), vec![joined.clone()]);
    let mut events = street_events(ST, "和平街道");
    events.push(joined);
    let s: StreetState = given(&events);
    assert_eq!(
        (
            s.district.on(day(2024, 12, 31)),
            s.district.on(day(2025, 1, 1))
        ),
        (None, Some(D))
    );
    let office = Actor::street(Uuid::from_u128(97), ST);
    let rename = |street_id| RenameStreet {
        street_id,
        name: "新和平街道".into(),
    };
    streets()
        .when(&office, rename(ST))
        .then_expect_events(vec![Event::StreetRenamed(ev::StreetRenamed {
            name: "新和平街道".into(),
        })]);
    streets()
        .when(&office, rename(ST2))
        .then_expect_error("FORBIDDEN");
    // A street office acts inside no community.
    account(vec![registered(V)])
        .when(
            &office,
            AwardPoints {
                volunteer_id: V,
                points: dec("5"),
                reason: "巡逻".into(),
            },
        )
        .then_expect_error("FORBIDDEN");
}
