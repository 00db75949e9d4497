//! Establishing a community, its grids, stairwells and teams, and its versioned rules
//! (point rules, star thresholds).

use super::*;

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
        points: None,
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

#[test]
fn a_star_rule_may_ask_for_points_earned_as_well() {
    let c = community();
    let cmd = |p: &[&str]| SetStarThresholds {
        community_id: C,
        thresholds: [10, 30, 60, 100, 150].map(Decimal::from).to_vec(),
        effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        points: Some(p.iter().map(|x| dec(x)).collect()),
    };
    // Given a community, when an admin sets five ascending points with the hours, then
    // the version carries both.
    let e =
        community::set_star_thresholds(&c, &cmd(&["100", "300", "600", "1000", "1500.5"])).unwrap();
    let Event::StarThresholdsSet {
        points: Some(points),
        ..
    } = &e[0]
    else {
        panic!("{e:?}")
    };
    assert_eq!(points[4], Points::from_hundredths(150_050));
    // Four, descending, zero or finer than a hundredth: refused.
    for bad in [
        &["100", "300", "600", "1000"][..],
        &["100", "300", "200", "1000", "1500"],
        &["0", "300", "600", "1000", "1500"],
        &["100.001", "300", "600", "1000", "1500"],
    ] {
        assert_eq!(
            code(community::set_star_thresholds(&c, &cmd(bad))),
            "INVALID_INPUT",
            "{bad:?}"
        );
    }
    // Then a star takes both: the hours without the points are not enough, and spending
    // is not counted (the rule is given points earned net of reversals).
    let state = CommunityState::from_events(&[community_events(), e].concat());
    let rule = state.star_thresholds_on(NaiveDate::from_ymd_opt(2025, 6, 1).unwrap());
    let h = Hours::whole;
    let p = Points::whole;
    assert_eq!(rule.level(h(200), p(99)), 0);
    assert_eq!(rule.level(h(200), p(300)), 2);
    assert_eq!(rule.level(h(40), p(5000)), 2);
    // Before the version's day, hours alone (the national default) count.
    let before = state.star_thresholds_on(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap());
    assert_eq!(before.level(h(300), p(0)), 2);
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
