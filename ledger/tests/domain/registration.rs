//! Registration (numbers, references, households), moves, teams, departure and erasure.

use super::*;

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

#[test]
fn staff_correct_personal_data_and_the_log_keeps_no_value_of_it() {
    let fix = |name: &str, phone: Option<&str>| CorrectPersonalData {
        volunteer_id: V,
        name: name.into(),
        phone: phone.map(String::from),
        id_number: None,
    };
    // Given a registered volunteer, when staff correct the phone, then the log says
    // only that a correction was made.
    let then = account([registered(V)])
        .when(&staff(), fix("王秀英", Some("13912345678")))
        .then_expect_events(vec![Event::PersonalDataCorrected {}]);
    assert!(!format!("{:?}", then.events()).contains("13912345678"));
    // A name is required, a phone is at most 20 characters.
    account([registered(V)])
        .when(&staff(), fix(" ", None))
        .then_expect_error("INVALID_INPUT");
    account([registered(V)])
        .when(&staff(), fix("王秀英", Some("1".repeat(21).as_str())))
        .then_expect_error("INVALID_INPUT");
    // Once erased, the data is not written again; a volunteer cannot correct it.
    account([registered(V), Event::PersonalDataErased {}])
        .when(&staff(), fix("王秀英", None))
        .then_expect_error("INVALID_STATE");
    account([registered(V)])
        .when(&vol(V), fix("王秀英", None))
        .then_expect_error("FORBIDDEN");
    // Staff of another community cannot.
    account([registered(V)])
        .when(
            &Actor::staff(STAFF, CommunityId(Uuid::from_u128(77))),
            fix("王秀英", None),
        )
        .then_expect_error("FORBIDDEN");
}

#[test]
fn tags_are_set_as_a_whole_list_each_once() {
    let set = |tags: &[&str]| SetVolunteerTags {
        volunteer_id: V,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    };
    // Given 党员, when staff set 党员 and 五老 (五老 twice, padded), then both, once.
    account([registered(V)])
        .when(&staff(), set(&["党员", " 五老 ", "五老"]))
        .then_expect_events(vec![Event::VolunteerTagsSet {
            tags: vec!["党员".into(), "五老".into()],
        }]);
    // Clearing them is a change too; the same list again is not.
    account([registered(V)])
        .when(&staff(), set(&[]))
        .then_expect_events(vec![Event::VolunteerTagsSet { tags: vec![] }]);
    account([registered(V)])
        .when(&staff(), set(&["党员"]))
        .then_expect_error("INVALID_STATE");
    account([registered(V)])
        .when(&staff(), set(&["a"; 11]))
        .then_expect_error("INVALID_INPUT");
    account([
        registered(V),
        Event::VolunteerDeparted {
            reason: "搬走".into(),
        },
    ])
    .when(&staff(), set(&["青年"]))
    .then_expect_error("INVALID_STATE");
    // The state follows: an activity for 五老 now takes them.
    let v: VolunteerState = given(&[
        registered(V),
        Event::VolunteerTagsSet {
            tags: vec!["五老".into()],
        },
    ]);
    assert_eq!(v.tags, vec!["五老".to_string()]);
}

#[test]
fn an_id_number_is_checked_by_its_check_character() {
    let reg = |n: &str| RegisterVolunteer {
        community_id: C,
        name: "赵六".into(),
        phone: None,
        id_number: Some(n.into()),
        stairwell_id: S,
        tags: vec![],
        teams: vec![],
        household: None,
    };
    // 11010519491231002X is GB 11643's own example; spaces and a lower-case x are how
    // people type it.
    for good in ["11010519491231002X", " 11010519491231002x ", " "] {
        assert!(
            !world().when(&staff(), reg(good)).events().is_empty(),
            "{good:?}"
        );
    }
    for (bad, why) in [
        ("110105194912310021", "check character"),
        ("1101051949123100", "17 digits"),
        ("11010519491231002Y", "17 digits"),
    ] {
        let e = world()
            .when(&staff(), reg(bad))
            .then_expect_error("INVALID_INPUT");
        assert!(
            matches!(&e, DomainError::InvalidInput { field: "id_number", reason } if reason.contains(why)),
            "{bad}: {e}"
        );
    }
}
