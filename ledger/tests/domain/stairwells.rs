//! 文明楼道: one inspection per stairwell a month, scores within the rubric in force,
//! rubric versions, and issues resolved once.

use super::*;

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
