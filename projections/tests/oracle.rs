//! Every read model against an independent fold of the log, over random histories, on
//! both backends; rebuild from scratch equals incremental catch-up, table for table.

mod support;

use ledger::Store;
use projections::Options;
use proptest::prelude::*;
use std::time::Duration;
use support::*;

async fn run_case(store: Store, seed: u64, ops: usize, batch: u32, chunk: usize) {
    let history = generate(seed, ops);
    let options = Options {
        batch_size: batch,
        poll_interval: Duration::from_millis(20),
        ..Options::default()
    };
    // Half of the history before the runner starts (catch-up), half while it follows.
    let half = history.events.len() / 2;
    append(&store, &history.events[..half], chunk).await;
    let p = projections::start_with(store.clone(), options).await;
    append(&store, &history.events[half..], chunk).await;
    let head = store.head().await.expect("head");
    p.wait_for(head, Duration::from_secs(30))
        .await
        .expect("caught up");
    let log = read_log(&store).await;
    let oracle = Oracle::fold(&log);
    oracle.check_all(p.db(), history.community).await;
    // Rebuild from scratch equals incremental catch-up, table for table.
    let before = dump(p.db()).await;
    p.rebuild(None, None).await.expect("rebuild");
    let after = dump(p.db()).await;
    for (table, rows) in &before {
        assert_eq!(Some(rows), after.get(table), "table {table} after rebuild");
    }
    oracle.check_all(p.db(), history.community).await;
    p.shutdown().await.expect("shutdown");
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The random histories reach what the oracle runs are there to check: over a sweep of
/// seeds, issues open at the end of an inspected month (deductions) and issues reported
/// and resolved inside one, legacy participation scores, threshold versions dated in
/// the future and out of order, volunteers sharing a household, and wishes in every
/// status.
#[test]
fn random_histories_exercise_every_rule() {
    use chrono::Utc;
    use ledger::event::Event;
    use std::collections::{BTreeSet, HashMap};
    let this_month = (Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m")
        .to_string();
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for seed in 0..40 {
        let h = generate(seed, 160);
        let mut inspected_now: BTreeSet<String> = BTreeSet::new();
        let mut issues: HashMap<uuid::Uuid, (String, bool)> = HashMap::new();
        let mut versions: Vec<(u32, chrono::NaiveDate)> = Vec::new();
        let mut homes: HashMap<(String, String), usize> = HashMap::new();
        for (stream, e) in &h.events {
            match e {
                Event::StairwellInspected { month, scores, .. } => {
                    if *month >= this_month {
                        inspected_now.insert(stream.clone());
                    }
                    if scores.contains_key("participation") {
                        seen.insert("legacy participation score");
                    }
                }
                Event::StairwellIssueReported { issue_id, .. } => {
                    issues.insert(issue_id.0, (stream.clone(), false));
                }
                Event::StairwellIssueResolved { issue_id, .. } => {
                    if let Some(i) = issues.get_mut(&issue_id.0) {
                        i.1 = true;
                    }
                }
                Event::StarThresholdsSet {
                    version,
                    effective_from,
                    points,
                    ..
                } => {
                    versions.push((*version, *effective_from));
                    if points.is_some() {
                        seen.insert("a star rule with points");
                    }
                }
                Event::VolunteerRegistered {
                    stairwell_id,
                    household: Some(room),
                    ..
                } => {
                    *homes
                        .entry((format!("{stairwell_id:?}"), room.clone()))
                        .or_default() += 1;
                }
                Event::WishClaimed { .. } => {
                    seen.insert("wish claimed");
                }
                Event::WishConfirmed { .. } => {
                    seen.insert("wish confirmed");
                }
                Event::WishCancelled { .. } => {
                    seen.insert("wish cancelled");
                }
                Event::SignedUp { waiting: true, .. } => {
                    seen.insert("activity waiting list");
                }
                Event::MovedUp { .. } => {
                    seen.insert("activity moved up");
                }
                Event::ActivityCancelled { .. } => {
                    seen.insert("activity cancelled");
                }
                Event::AttendanceApproved {
                    notice_until: Some(_),
                    ..
                } => {
                    seen.insert("activity notice");
                }
                Event::ObjectionResolved { decision, .. } => {
                    seen.insert(match decision {
                        ledger::event::ObjectionDecision::Dismissed => "objection dismissed",
                        ledger::event::ObjectionDecision::Corrected { .. } => "objection corrected",
                        ledger::event::ObjectionDecision::Rejected => "objection rejected",
                    });
                }
                Event::AttendanceFinalised { .. } => {
                    seen.insert("attendance final");
                }
                Event::ServiceVerified { over_cap, .. } if !over_cap.is_zero() => {
                    seen.insert("hours over the stored-hours cap");
                }
                Event::EntryReversed { over_cap, .. } if !over_cap.is_zero() => {
                    seen.insert("a capped service reversed");
                }
                _ => {}
            }
        }
        for (stream, resolved) in issues.values() {
            if inspected_now.contains(stream) {
                seen.insert(if *resolved {
                    "issue resolved inside an inspected month"
                } else {
                    "issue open at the end of an inspected month"
                });
            }
        }
        if versions.iter().any(|(_, d)| *d > today) {
            seen.insert("thresholds dated in the future");
        }
        if versions
            .iter()
            .any(|a| versions.iter().any(|b| b.0 > a.0 && b.1 < a.1))
        {
            seen.insert("thresholds dated out of order");
        }
        if homes.values().any(|n| *n > 1) {
            seen.insert("a shared household");
        }
    }
    let want: BTreeSet<&str> = [
        "legacy participation score",
        "issue resolved inside an inspected month",
        "issue open at the end of an inspected month",
        "thresholds dated in the future",
        "thresholds dated out of order",
        "a shared household",
        "wish claimed",
        "wish confirmed",
        "wish cancelled",
        "activity waiting list",
        "activity moved up",
        "activity cancelled",
        "activity notice",
        "objection dismissed",
        "objection corrected",
        "objection rejected",
        "attendance final",
        "hours over the stored-hours cap",
        "a capped service reversed",
        "a star rule with points",
    ]
    .into_iter()
    .collect();
    assert_eq!(seen, want);
}

/// (gap in tens of days, change of verified minutes) per entry; (day offset, minutes)
/// per version; the day read.
type StarCase = (Vec<(i64, i64)>, Vec<(i64, Vec<i64>)>, i64);

/// Random timelines over a few months and threshold versions dated in any order.
fn star_case() -> impl Strategy<Value = StarCase> {
    let timeline = proptest::collection::vec((0i64..4, -300i64..400), 0..12);
    let versions =
        proptest::collection::vec((0i64..120, proptest::collection::vec(1i64..400, 5)), 0..5);
    (timeline, versions, 0i64..130)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The balances' star evaluation equals the oracle's plain walk, with the ledger's
    /// own `star_thresholds_on`, on any day.
    #[test]
    fn stars_equal_the_oracle(case in star_case()) {
        use chrono::{Duration as Days, NaiveDate};
        use ledger::amount::Hours;
        use ledger::domain::community::StarThresholds;
        use ledger::domain::CommunityState;
        use projections::balances::{stars_on, ThresholdVersion};
        let (steps, versions, today) = case;
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
        let (mut day, mut minutes) = (start, 0i64);
        let mut timeline = Vec::new();
        for (gap, delta) in steps {
            day += Days::days(gap * 10);
            minutes = (minutes + delta).max(0);
            // Points move with the minutes here, a little ahead or behind.
            timeline.push((day, minutes, (minutes * 7 + delta * 3).max(0)));
        }
        let mut community = CommunityState::default();
        let mut read_model = Vec::new();
        for (i, (offset, mut t)) in versions.into_iter().enumerate() {
            t.sort_unstable();
            t.dedup();
            let from = start + Days::days(offset);
            // Every other version asks for points too: ten times the minutes.
            let points: Option<Vec<i64>> = (i % 2 == 1).then(|| t.iter().map(|m| m * 10).collect());
            community.star_thresholds.push(StarThresholds {
                version: i as u32 + 1,
                thresholds: t.iter().map(|m| Hours::from_minutes(*m)).collect(),
                effective_from: from,
                points: points.as_ref().map(|p| p.iter().map(|x| ledger::amount::Points::from_hundredths(*x)).collect()),
            });
            read_model.push(ThresholdVersion { version: i as u32 + 1, effective_from: from, minutes: t, points });
        }
        let today = start + Days::days(today);
        let timeline: Vec<_> = timeline.into_iter().filter(|(d, _, _)| *d <= today).collect();
        let switches: std::collections::BTreeSet<NaiveDate> =
            community.star_thresholds.iter().map(|t| t.effective_from).filter(|d| *d <= today).collect();
        let switches: Vec<NaiveDate> = switches.into_iter().collect();
        let (level, dates) = oracle_stars(&timeline, &switches, today, |d| community.star_thresholds_on(d));
        let got = stars_on(&timeline, &read_model, today);
        prop_assert_eq!(got.level as u32, level);
        prop_assert_eq!(got.dates, dates);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn read_models_equal_the_oracle_sqlite(seed in any::<u64>(), ops in 20usize..160, batch in 1u32..40, chunk in 1usize..30) {
        rt().block_on(async {
            let (store, _dir) = ledger::testing::sqlite_store().await;
            run_case(store, seed, ops, batch, chunk).await;
        });
    }

    #[test]
    fn read_models_equal_the_oracle_postgres(seed in any::<u64>(), ops in 20usize..160, batch in 1u32..40, chunk in 1usize..30) {
        rt().block_on(async {
            if let Some(store) = ledger::testing::postgres_store().await {
                run_case(store, seed, ops, batch, chunk).await;
            }
        });
    }
}
