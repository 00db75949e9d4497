//! Report figures equal an independent plain fold of the events and the read models
//! (projections) the API serves, on random histories generated through the command
//! layer, on both backends.

mod common;

use common::oracle::{expected, Expected, VolunteerFigures};
use common::*;
use ledger::amount::{Hours, Points};
use proptest::prelude::*;
use reports::{annual_report, AnnualReport, TOP_N};
use std::collections::{BTreeMap, HashMap};

/// Compares every figure of the report with the oracle.
pub fn assert_report_matches(r: &AnnualReport, e: &Expected) {
    assert_eq!(r.community_name, e.community_name);
    assert_eq!(
        r.star_rule
            .thresholds
            .iter()
            .map(|h| h.minutes())
            .collect::<Vec<_>>(),
        e.star_thresholds
    );
    assert_eq!(
        r.star_rule
            .points
            .as_ref()
            .map(|p| p.iter().map(|x| x.hundredths()).collect::<Vec<_>>()),
        e.star_points
    );
    let t = &r.totals;
    assert_eq!(
        t.registered_volunteers, e.registered,
        "registered volunteers"
    );
    assert_eq!(t.active_volunteers, e.active, "active volunteers");
    assert_eq!(t.services, e.services, "services");
    assert_eq!(
        t.verified_hours,
        Hours::from_minutes(e.minutes),
        "verified hours"
    );
    assert_eq!(t.service_points, Points::from_hundredths(e.service_points));
    assert_eq!(t.award_points, Points::from_hundredths(e.award_points));
    assert_eq!(
        t.points_awarded,
        Points::from_hundredths(e.service_points + e.award_points)
    );
    assert_eq!(
        t.points_redeemed,
        Points::from_hundredths(e.redeemed),
        "redeemed"
    );
    assert_eq!(t.wishes_posted, e.wishes_posted, "wishes posted");
    assert_eq!(t.wishes_fulfilled, e.wishes_fulfilled, "wishes fulfilled");
    assert_eq!(t.median_days_to_fulfil, e.median_days, "median days");

    for k in &r.services_by_kind {
        let (n, m, p) = e.kinds[&k.kind];
        assert_eq!(
            (k.services, k.hours.minutes(), k.points.hundredths()),
            (n, m, p),
            "{:?}",
            k.kind
        );
    }
    assert_eq!(r.months.len(), 12);
    for m in &r.months {
        let x = e.months[&m.month];
        assert_eq!(
            (
                m.active_volunteers,
                m.services,
                m.hours.minutes(),
                m.service_points.hundredths(),
                m.award_points.hundredths(),
                m.points_redeemed.hundredths()
            ),
            x,
            "month {}",
            m.month
        );
        assert_eq!(m.points_awarded.hundredths(), x.3 + x.4);
    }

    // Top lists: the oracle's order (value desc, volunteer number, id), first TOP_N.
    let ranked = |key: &dyn Fn(&VolunteerFigures) -> i64| {
        let mut v: Vec<_> = e
            .volunteers
            .iter()
            .filter(|(_, x)| key(x) > 0)
            .map(|(id, x)| (*id, x.clone()))
            .collect();
        v.sort_by(|a, b| {
            key(&b.1)
                .cmp(&key(&a.1))
                .then(a.1 .0.cmp(&b.1 .0))
                .then(a.0.cmp(&b.0))
        });
        v.truncate(TOP_N);
        v
    };
    let by_hours = ranked(&|x| x.2);
    assert_eq!(r.top_by_hours.len(), by_hours.len());
    for (line, (id, x)) in r.top_by_hours.iter().zip(&by_hours) {
        assert_eq!(line.volunteer_id, *id);
        assert_eq!(line.volunteer_number, x.0);
        assert_eq!(
            (
                line.services,
                line.hours.minutes(),
                line.points.hundredths(),
                line.cumulative_hours.minutes()
            ),
            (x.1, x.2, x.3, x.4)
        );
        assert_eq!((line.star_level_at_start, line.star_level), (x.5, x.6));
    }
    let mut rank = 0;
    let mut last = None;
    for line in &r.top_by_hours {
        if last != Some(line.hours) {
            rank += 1;
            last = Some(line.hours);
        }
        assert_eq!(line.rank, rank, "dense ranks");
    }
    let by_points = ranked(&|x| x.3);
    assert_eq!(
        r.top_by_points
            .iter()
            .map(|l| (l.volunteer_id, l.points.hundredths()))
            .collect::<Vec<_>>(),
        by_points
            .iter()
            .map(|(id, x)| (*id, x.3))
            .collect::<Vec<_>>()
    );
    let mut new_stars: Vec<_> = e
        .volunteers
        .iter()
        .filter(|(_, x)| x.6 > x.5)
        .map(|(id, x)| (*id, (x.5 + 1..=x.6).collect::<Vec<u8>>()))
        .collect();
    new_stars.sort();
    let mut got: Vec<_> = r
        .new_stars
        .iter()
        .map(|l| (l.volunteer_id, l.new_stars.clone()))
        .collect();
    got.sort();
    assert_eq!(got, new_stars, "new stars");

    let teams: BTreeMap<_, _> = r
        .teams
        .iter()
        .map(|t| {
            (
                t.team_id,
                (
                    t.totals.active_volunteers,
                    t.totals.services,
                    t.totals.hours.minutes(),
                    t.totals.points.hundredths(),
                ),
            )
        })
        .collect();
    assert_eq!(teams, e.teams, "team totals");
    let grids: BTreeMap<_, _> = r
        .grids
        .iter()
        .map(|g| {
            (
                g.grid_id,
                (
                    g.totals.active_volunteers,
                    g.totals.services,
                    g.totals.hours.minutes(),
                    g.totals.points.hundredths(),
                ),
            )
        })
        .collect();
    assert_eq!(grids, e.grids, "grid totals");

    let mut scores = BTreeMap::new();
    let mut averages = BTreeMap::new();
    for s in &r.stairwells {
        for m in &s.months {
            scores.insert((s.stairwell_id, m.month), m.score);
        }
        averages.insert(s.stairwell_id, s.average);
    }
    assert_eq!(scores, e.scores, "stairwell monthly scores");
    assert_eq!(averages, e.averages, "stairwell yearly averages");
    let flags: BTreeMap<_, _> = r
        .red_flags
        .iter()
        .map(|f| (f.month, (f.score, f.stairwell_id)))
        .collect();
    assert_eq!(flags, e.red_flags, "red flags");
    for s in &r.stairwells {
        let held: Vec<u32> = e
            .red_flags
            .iter()
            .filter(|(_, (_, holder))| *holder == s.stairwell_id)
            .map(|(m, _)| *m)
            .collect();
        assert_eq!(s.red_flag_months, held);
    }
}

/// Compares the report (at the head) with the read models the API serves: the year's
/// rankings by hours and by points (same values and dense ranks for every volunteer
/// listed, the same values in the same order), each scored month of every stairwell,
/// the red-flag holders, and the star levels of the balances.
pub async fn assert_report_matches_projections(r: &AnnualReport, db: &projections::Db) {
    use projections::common::Period;
    use projections::rankings::{ranking, Metric, Scope};
    use rust_decimal::Decimal;
    let minutes = |h: Decimal| {
        (h * Decimal::from(60))
            .round()
            .to_string()
            .parse::<i64>()
            .unwrap()
    };
    let hundredths = |p: Decimal| {
        (p * Decimal::ONE_HUNDRED)
            .round()
            .to_string()
            .parse::<i64>()
            .unwrap()
    };
    let scope = Scope::Community(r.community_id);
    for (metric, lines) in [
        (Metric::Hours, &r.top_by_hours),
        (Metric::Points, &r.top_by_points),
    ] {
        let rk = ranking(db, &scope, Period::Year(r.year), metric, 1000, None)
            .await
            .expect("ranking");
        let value = |hours: i64, points: i64| match metric {
            Metric::Hours => hours,
            Metric::Points => points,
        };
        let by_id: HashMap<_, _> = rk
            .top
            .iter()
            .map(|e| {
                (
                    e.volunteer_id,
                    (minutes(e.hours), hundredths(e.points), e.rank),
                )
            })
            .collect();
        for line in lines.iter() {
            let (m, p, rank) = by_id
                .get(&line.volunteer_id)
                .unwrap_or_else(|| panic!("{metric:?}: {} not ranked", line.volunteer_number));
            assert_eq!(
                (line.hours.minutes(), line.points.hundredths()),
                (*m, *p),
                "{metric:?} {}: report and ranking disagree",
                line.volunteer_number
            );
            assert_eq!(u64::from(line.rank), *rank, "{metric:?} dense rank");
        }
        let from_ranking: Vec<i64> = rk
            .top
            .iter()
            .map(|e| value(minutes(e.hours), hundredths(e.points)))
            .filter(|v| *v > 0)
            .take(TOP_N)
            .collect();
        let from_report: Vec<i64> = lines
            .iter()
            .map(|l| value(l.hours.minutes(), l.points.hundredths()))
            .collect();
        assert_eq!(from_report, from_ranking, "{metric:?}: the same top values");
    }
    let total: i64 = ranking(db, &scope, Period::Year(r.year), Metric::Hours, 1000, None)
        .await
        .expect("ranking")
        .top
        .iter()
        .map(|e| minutes(e.hours))
        .sum();
    assert_eq!(total, r.totals.verified_hours.minutes(), "the year's hours");

    for s in &r.stairwells {
        for m in &s.months {
            let month = format!("{}-{:02}", r.year, m.month);
            let scores = projections::stairwells::monthly_scores(db, r.community_id, &month)
                .await
                .expect("scores");
            let got = scores.iter().find(|x| x.stairwell_id == s.stairwell_id);
            assert_eq!(
                got.map(|x| x.total),
                m.score,
                "stairwell {} {month}: projection {got:?}, report {m:?}",
                s.label()
            );
            if let Some(x) = got {
                // One flag, one holder: the same stairwell in the report and on the
                // boards (ties broken by building, unit and id in both).
                let holder = r
                    .red_flags
                    .iter()
                    .find(|f| f.month == m.month)
                    .map(|f| f.stairwell_id);
                assert_eq!(
                    x.red_flag,
                    holder == Some(s.stairwell_id),
                    "red flag {month} of {}",
                    s.label()
                );
                assert_eq!(s.red_flag_months.contains(&m.month), x.red_flag);
            }
        }
    }

    // The year's red flags: one holder a month, the same on the boards.
    let boards: Vec<(String, ledger::ids::StairwellId)> =
        projections::stairwells::red_flags(db, r.community_id, Period::Year(r.year))
            .await
            .expect("red flags")
            .into_iter()
            .map(|f| (f.month, f.stairwell_id))
            .collect();
    let report: Vec<(String, ledger::ids::StairwellId)> = r
        .red_flags
        .iter()
        .map(|f| (format!("{}-{:02}", r.year, f.month), f.stairwell_id))
        .collect();
    assert_eq!(report, boards, "red-flag holders");

    // Star levels (the balances use the thresholds in force now, the report those at
    // its position: the same at the head), for volunteers with no service after the year.
    let rule = ledger::domain::community::StarThresholds {
        version: r.star_rule.version,
        thresholds: r.star_rule.thresholds.clone(),
        effective_from: r.star_rule.effective_from,
        points: r.star_rule.points.clone(),
    };
    for line in r.top_by_hours.iter().chain(&r.top_by_points) {
        let b = projections::balances::balance(db, line.volunteer_id)
            .await
            .expect("balance")
            .expect("an account");
        // The balances' own evaluation agrees with the rule's, on the balances' totals.
        let points = ledger::amount::Points::from_decimal(b.star_points).expect("points");
        let hours = ledger::amount::Hours::from_decimal(b.verified_hours).expect("hours");
        assert_eq!(b.star_level, u32::from(rule.level(hours, points)));
        if minutes(b.verified_hours) == line.cumulative_hours.minutes() {
            assert_eq!(
                b.star_level,
                u32::from(line.star_level),
                "stars of {}",
                line.volunteer_number
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 20, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn report_equals_plain_fold(ops in proptest::collection::vec(op_strategy(), 60..160)) {
        let rt = runtime();
        rt.block_on(async {
            for (backend, store, _dir) in stores().await {
                let mut w = World::new(store.clone()).await;
                w.apply(&ops).await;
                let head = store.head().await.expect("head");
                for year in [2025, 2026] {
                    let r = annual_report(&store, w.community, year, None, |_, _| {}).await.expect("report");
                    assert_eq!(r.position, head, "{backend}");
                    let e = expected(&store, w.community, year, head).await;
                    assert_report_matches(&r, &e);
                    let p = projections::start(store.clone()).await;
                    p.wait_for(head, std::time::Duration::from_secs(30)).await.expect("caught up");
                    assert_report_matches_projections(&r, p.db()).await;
                    p.shutdown().await.expect("shutdown");
                    eprintln!(
                        "{backend} {year}: head {head}, {} services, {} h, {} scored months, {} flags, {} new stars, {} wishes fulfilled, redeemed {}",
                        r.totals.services,
                        r.totals.verified_hours,
                        r.stairwells.iter().flat_map(|s| &s.months).filter(|m| m.score.is_some()).count(),
                        r.red_flags.len(),
                        r.new_stars.len(),
                        r.totals.wishes_fulfilled,
                        r.totals.points_redeemed,
                    );
                    // And at an earlier position.
                    let mid = head * 2 / 3;
                    let r = annual_report(&store, w.community, year, Some(mid), |_, _| {}).await.expect("report");
                    let e = expected(&store, w.community, year, mid).await;
                    assert_report_matches(&r, &e);
                }
            }
        });
    }
}
