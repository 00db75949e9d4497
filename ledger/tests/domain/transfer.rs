//! A volunteer's move to another community (记录转移接续): the record follows the
//! person, the new community numbers them, the old one is told, and the points follow
//! or stay by the old community's transfer rules.

use super::*;
use ledger::domain::community::SetTransferRules;
use ledger::domain::volunteer::TransferVolunteer;
use ledger::event::{PointsLeft, TransferRulesSet, VolunteerTransferred, VolunteerTransferredOut};

const C2: CommunityId = CommunityId(Uuid::from_u128(5));
const G2: GridId = GridId(Uuid::from_u128(6));
const S2: StairwellId = StairwellId(Uuid::from_u128(7));
const STAFF2: Uuid = Uuid::from_u128(98);

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn other_community() -> Vec<Event> {
    vec![
        Event::CommunityEstablished {
            community_id: C2,
            name: "和谐社区".into(),
        },
        Event::GridAdded {
            grid_id: G2,
            name: "第2网格".into(),
            parent: None,
        },
        Event::StairwellRegistered {
            stairwell_id: S2,
            grid_id: G2,
            building: "5号楼".into(),
            unit: "2单元".into(),
            households: 18,
        },
    ]
}

/// `V` registered in `C`, with a verified 2 h service (20 points) and a 5-point award.
fn history() -> Vec<Event> {
    vec![
        registered(V),
        logged(1, at(2025, 5, 1), 120, ServiceKind::Patrol),
        verified(1, 1, 120, 20),
        awarded(2, 5),
    ]
}

/// [`history`] and then the `VolunteerTransferred` of `written`.
fn history_then(written: Vec<Event>) -> Vec<Event> {
    let mut events = history();
    events.extend(
        written
            .into_iter()
            .filter(|e| matches!(e, Event::VolunteerTransferred(_))),
    );
    events
}

/// `V` of [`history`], in team `T`; `C2` beside it.
fn two_communities() -> Given {
    let mut events = history();
    if let Event::VolunteerRegistered { teams, .. } = &mut events[0] {
        teams.push(T);
    }
    world()
        .community(C2, other_community())
        .volunteer(V, events)
}

fn transfer() -> TransferVolunteer {
    TransferVolunteer {
        volunteer_id: V,
        to_community: C2,
        stairwell_id: S2,
        household: None,
        reason: "搬家到和谐社区".into(),
        id_number: None,
    }
}

fn moved(points_follow: bool, rule_version: u32, points_left: Option<PointsLeft>) -> Event {
    Event::VolunteerTransferred(VolunteerTransferred {
        volunteer_id: V,
        from_community: C,
        community_id: C2,
        volunteer_number: "TB-000001".into(),
        stairwell_id: S2,
        grid_id: G2,
        household: None,
        tags: vec!["党员".into()],
        teams_left: vec![T],
        rule_version,
        points_follow,
        points_left,
        reason: "搬家到和谐社区".into(),
        transferred_by: STAFF,
        verified_hours: Hours::from_minutes(120),
        star_points: Points::whole(25),
    })
}

#[test]
fn the_record_follows_the_person_and_the_new_community_numbers_them() {
    let then = two_communities().when(&staff(), transfer());
    let Outcome::TransferVolunteer(done) = then.outcome() else {
        panic!("not a transfer's outcome")
    };
    assert_eq!(done.volunteer_number, "TB-000001");
    assert_eq!(done.from_community, C);
    assert_eq!(done.points_left, Points::ZERO);
    let then = then
        .then_expect_stream(
            &community_stream(C),
            vec![Event::VolunteerTransferredOut(VolunteerTransferredOut {
                volunteer_id: V,
                to_community: C2,
            })],
        )
        .then_expect_stream(
            &community_stream(C2),
            vec![Event::VolunteerEnrolled {
                volunteer_id: V,
                volunteer_number: "TB-000001".into(),
            }],
        )
        .then_expect_stream(&volunteer_stream(V), vec![moved(true, 0, None)]);
    let v: VolunteerState = given(&history_then(then.events()));
    assert_eq!(v.community_id, Some(C2));
    assert_eq!(v.stairwell_id, Some(S2));
    assert!(v.teams.is_empty(), "the old community's teams are left");
    assert_eq!(v.points, Points::whole(25), "the points followed");
    assert_eq!(
        v.verified_hours,
        Hours::from_minutes(120),
        "so did the hours"
    );
}

#[test]
fn under_a_stay_rule_the_points_balance_stays_with_the_community_left() {
    let stay = Event::TransferRulesSet(TransferRulesSet {
        version: 1,
        points_follow: false,
        effective_from: day(2025, 1, 1),
    });
    let mut c = community_events();
    c.push(stay);
    let world = ledger::testing::given()
        .community(C, c)
        .community(C2, other_community())
        .volunteer(V, history());
    let then = world.when(&staff(), transfer());
    let left = PointsLeft {
        entry_id: EntryId(then.id("entry")),
        points: Points::whole(25),
    };
    let Outcome::TransferVolunteer(done) = then.outcome() else {
        panic!("not a transfer's outcome")
    };
    assert_eq!(done.points_left, Points::whole(25));
    let mut expected = moved(false, 1, Some(left));
    if let Event::VolunteerTransferred(t) = &mut expected {
        t.teams_left.clear();
    }
    then.then_expect_stream(&volunteer_stream(V), vec![expected.clone()]);
    let v: VolunteerState = given(&history_then(vec![expected]));
    assert_eq!(v.points, Points::ZERO, "the points stayed");
    assert_eq!(
        v.verified_hours,
        Hours::from_minutes(120),
        "the hours follow"
    );
    assert_eq!(v.entry(left.entry_id).unwrap().points, Points::whole(25));
}

#[test]
fn after_the_move_the_new_community_acts_on_the_record_and_the_old_one_no_longer_does() {
    let then = two_communities().when(&staff(), transfer());
    let events = history_then(then.events());
    let after = world()
        .community(C2, other_community())
        .volunteer(V, events);
    let award = AwardPoints {
        volunteer_id: V,
        points: dec("3"),
        reason: "楼道清扫".into(),
    };
    after
        .clone()
        .when(&staff(), award.clone())
        .then_expect_error("FORBIDDEN");
    let then = after.when(&Actor::staff(STAFF2, C2), award);
    assert_eq!(
        then.events().len(),
        1,
        "the new community's staff award points"
    );
}

#[test]
fn a_transfer_is_refused_to_the_same_community_with_services_waiting_or_after_departure() {
    let mut same = transfer();
    same.to_community = C;
    same.stairwell_id = S;
    two_communities()
        .when(&staff(), same)
        .then_expect_error("INVALID_STATE");
    world()
        .community(C2, other_community())
        .volunteer(
            V,
            vec![
                registered(V),
                logged(1, at(2025, 5, 1), 120, ServiceKind::Patrol),
            ],
        )
        .when(&staff(), transfer())
        .then_expect_error("INVALID_STATE");
    world()
        .community(C2, other_community())
        .volunteer(
            V,
            vec![
                registered(V),
                Event::VolunteerDeparted {
                    reason: "搬走".into(),
                },
            ],
        )
        .when(&staff(), transfer())
        .then_expect_error("INVALID_STATE");
    let mut elsewhere = transfer();
    elsewhere.stairwell_id = S;
    two_communities()
        .when(&staff(), elsewhere)
        .then_expect_error("NOT_FOUND");
}

#[test]
fn only_staff_of_the_community_left_or_with_the_id_number_may_move_a_record() {
    two_communities()
        .when(&vol(V), transfer())
        .then_expect_error("FORBIDDEN");
    // Without the person's ID number (and given events keep no personal data).
    let mut with_number = transfer();
    with_number.id_number = Some("11010119800101103X".into());
    two_communities()
        .when(&Actor::staff(STAFF2, C2), with_number)
        .then_expect_error("FORBIDDEN");
    let third = CommunityId(Uuid::from_u128(77));
    two_communities()
        .when(&Actor::staff(STAFF2, third), transfer())
        .then_expect_error("FORBIDDEN");
    let then = two_communities().when(&Actor::admin(STAFF), transfer());
    assert_eq!(then.events().len(), 3);
}

#[test]
fn transfer_rules_are_versioned_and_set_by_administrators() {
    let set = SetTransferRules {
        community_id: C,
        points_follow: false,
        effective_from: day(2026, 1, 1),
    };
    world()
        .when(&staff(), set.clone())
        .then_expect_error("FORBIDDEN");
    world()
        .when(&Actor::admin(STAFF), set)
        .then_expect_events(vec![Event::TransferRulesSet(TransferRulesSet {
            version: 1,
            points_follow: false,
            effective_from: day(2026, 1, 1),
        })]);
    let c: CommunityState = given(&community_events());
    let rules = c.transfer_rules_on(day(2026, 6, 1));
    assert!(rules.points_follow, "by default the points follow");
    assert_eq!(rules.version, 0);
}
