//! Annual reports: pinning, organisation as it was, the three formats read back, names
//! at render time, errors. On both backends.

mod common;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::NaiveDate;
use common::*;
use ledger::amount::{Hours, Points};
use ledger::event::ServiceKind;
use reports::table::annual_sections;
use reports::{annual_report, render_csv, render_html, render_xlsx, ReportError};
use std::io::Cursor;
use std::sync::Mutex;

fn serial(y: i32, m: u32, d: u32) -> f64 {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30).expect("date");
    (NaiveDate::from_ymd_opt(y, m, d).expect("date") - base).num_days() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_report_is_unchanged_by_a_later_reversal() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        scenario(&mut w).await;
        let before = annual_report(&store, w.community, 2025, None, |_, _| {})
            .await
            .expect("report");
        let p = before.position;
        assert_eq!(p, store.head().await.expect("head"));
        assert_eq!(
            before.totals.verified_hours,
            Hours::from_minutes(30 * 60 + 30),
            "{backend}"
        );

        // Correct 张三's 2025-01-10 patrol (3 h, 30 points).
        let entry = w.entries[0][0];
        assert!(w.reverse(0, entry).await);

        let pinned = annual_report(&store, w.community, 2025, Some(p), |_, _| {})
            .await
            .expect("report");
        assert_eq!(
            pinned, before,
            "{backend}: the pinned report is reproduced exactly"
        );
        assert_eq!(render_csv(&pinned), render_csv(&before));
        assert_eq!(render_html(&pinned), render_html(&before));

        let current = annual_report(&store, w.community, 2025, None, |_, _| {})
            .await
            .expect("report");
        assert!(current.position > p);
        assert_eq!(
            current.totals.verified_hours,
            Hours::from_minutes(before.totals.verified_hours.minutes() - 180)
        );
        assert_eq!(current.totals.services, before.totals.services - 1);
        assert_eq!(
            current.totals.service_points,
            Points::from_hundredths(before.totals.service_points.hundredths() - 3000)
        );
        assert_eq!(
            current.months[0].hours.minutes(),
            before.months[0].hours.minutes() - 180
        );
        let patrol = |r: &reports::AnnualReport| {
            r.services_by_kind
                .iter()
                .find(|k| k.kind == ServiceKind::Patrol)
                .map(|k| k.hours)
                .expect("patrol")
        };
        assert_eq!(patrol(&current).minutes(), patrol(&before).minutes() - 180);
        assert_ne!(current, before);
        // The 2026 report is not touched by a correction of a 2025 record.
        let y26_then = annual_report(&store, w.community, 2026, Some(p), |_, _| {})
            .await
            .expect("report");
        let y26_now = annual_report(&store, w.community, 2026, None, |_, _| {})
            .await
            .expect("report");
        assert_eq!(y26_then.totals, y26_now.totals);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_year_uses_the_organisation_as_it_was() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        // 周九 lives in stairwell 0 (grid 0) and is in team 0.
        let v = w.register("周九", 0, &[0], &[]).await;
        let _ = v;
        w.serve(0, ServiceKind::Patrol, ymd(2025, 3, 5), "4", true)
            .await
            .expect("served");
        // Moves to stairwell 2 (grid 1), leaves team 0 for team 1, serves in 2026.
        assert!(w.move_to(0, 2, None).await);
        let (volunteer_id, t0, t1) = (w.volunteers[0], w.teams[0], w.teams[1]);
        w.must(ledger::command::LeaveTeam {
            volunteer_id,
            team_id: t0,
        })
        .await;
        w.must(ledger::command::JoinTeam {
            volunteer_id,
            team_id: t1,
        })
        .await;
        w.serve(0, ServiceKind::Repair, ymd(2026, 3, 5), "2", true)
            .await
            .expect("served");
        assert!(w.inspect(0, "2025-03", 1).await);
        assert!(w.inspect(2, "2025-03", 1).await);

        let y25 = annual_report(&store, w.community, 2025, None, |_, _| {})
            .await
            .expect("report");
        let grid = |r: &reports::AnnualReport, g| {
            r.grids
                .iter()
                .find(|x| x.grid_id == g)
                .map(|x| x.totals.clone())
                .expect("grid")
        };
        let team = |r: &reports::AnnualReport, t| {
            r.teams
                .iter()
                .find(|x| x.team_id == t)
                .map(|x| x.totals.clone())
                .expect("team")
        };
        assert_eq!(grid(&y25, w.grids[0]).hours, Hours::whole(4), "{backend}");
        assert_eq!(grid(&y25, w.grids[1]).hours, Hours::ZERO);
        assert_eq!(team(&y25, t0).hours, Hours::whole(4));
        assert_eq!(team(&y25, t1).hours, Hours::ZERO);
        let stairwell = |r: &reports::AnnualReport, s| {
            r.stairwells
                .iter()
                .find(|x| x.stairwell_id == s)
                .cloned()
                .expect("stairwell")
        };
        let s0 = stairwell(&y25, w.stairwells[0]);
        let s2 = stairwell(&y25, w.stairwells[2]);
        assert_eq!(
            s0.months[2].participants, 1,
            "served from stairwell 0 in March 2025"
        );
        assert_eq!(s2.months[2].participants, 0);
        // 1 of 10 households: 20 × 1 / 3 = 6.67
        assert_eq!(s0.months[2].participation, "6.67".parse().expect("decimal"));

        let y26 = annual_report(&store, w.community, 2026, None, |_, _| {})
            .await
            .expect("report");
        assert_eq!(grid(&y26, w.grids[0]).hours, Hours::ZERO);
        assert_eq!(grid(&y26, w.grids[1]).hours, Hours::whole(2));
        assert_eq!(team(&y26, t0).hours, Hours::ZERO);
        assert_eq!(team(&y26, t1).hours, Hours::whole(2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_red_flag_a_month_even_on_a_tie() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        // 3号楼 1单元 (a micro-grid) and 2号楼 1单元 score the same in April 2025: the
        // flag goes to 2号楼 (building, unit, id), as on the boards.
        assert!(w.inspect(3, "2025-04", 7).await);
        assert!(w.inspect(2, "2025-04", 7).await);
        let r = annual_report(&store, w.community, 2025, None, |_, _| {})
            .await
            .expect("report");
        let april: Vec<_> = r.red_flags.iter().filter(|f| f.month == 4).collect();
        assert_eq!(april.len(), 1, "{backend}");
        assert_eq!(april[0].stairwell_id, w.stairwells[2], "{backend}");
        assert_eq!(april[0].label, "2号楼 1单元");
        let months = |s| {
            r.stairwells
                .iter()
                .find(|x| x.stairwell_id == s)
                .map(|x| x.red_flag_months.clone())
                .expect("stairwell")
        };
        assert_eq!(months(w.stairwells[2]), vec![4]);
        assert_eq!(months(w.stairwells[3]), Vec::<u32>::new());
        let scores: Vec<_> = r
            .stairwells
            .iter()
            .filter_map(|s| s.months[3].score)
            .collect();
        assert_eq!(scores.len(), 2);
        assert_eq!(scores[0], scores[1], "a tie");
        let p = projections::start(store.clone()).await;
        p.wait_for(
            store.head().await.expect("head"),
            std::time::Duration::from_secs(20),
        )
        .await
        .expect("caught up");
        let flags = projections::stairwells::red_flags(
            p.db(),
            w.community,
            projections::common::Period::Month(2025, 4),
        )
        .await
        .expect("red flags");
        assert_eq!(
            flags.iter().map(|f| f.stairwell_id).collect::<Vec<_>>(),
            vec![w.stairwells[2]]
        );
        p.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_is_read_back_with_calamine() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        scenario(&mut w).await;
        let r = annual_report(&store, w.community, 2025, None, |_, _| {})
            .await
            .expect("report");
        let bytes = render_xlsx(&r).expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("open xlsx");
        let sections = annual_sections(&r);
        assert_eq!(
            wb.sheet_names(),
            sections.iter().map(|s| s.title.clone()).collect::<Vec<_>>(),
            "{backend}"
        );

        // Totals: labels in column A, numbers as numbers in column B.
        let overview = wb.worksheet_range("总体情况").expect("sheet");
        let value = |label: &str| -> Data {
            overview
                .rows()
                .find(|row| row[0] == Data::String(label.into()))
                .map(|row| row[1].clone())
                .unwrap_or_else(|| panic!("row {label}"))
        };
        assert_eq!(value("服务时长"), Data::Float(30.5));
        assert_eq!(value("服务次数"), Data::Float(r.totals.services as f64));
        assert_eq!(value("活跃志愿者"), Data::Float(6.0));
        assert_eq!(value("兑换积分"), Data::Float(0.0));
        assert_eq!(value("日志位置"), Data::Float(r.position as f64));
        assert_eq!(value("社区"), Data::String("幸福里社区".into()));
        match value("数据截至") {
            Data::DateTime(dt) => assert!(dt.is_datetime()),
            other => panic!("数据截至 is {other:?}, not a date"),
        }

        // Months: dates in column A, figures as numbers.
        let months = wb.worksheet_range("月度统计").expect("sheet");
        let rows: Vec<&[Data]> = months.rows().collect();
        assert_eq!(rows.len(), 13);
        assert_eq!(rows[0][0], Data::String("月份".into()));
        for (i, row) in rows[1..].iter().enumerate() {
            let m = &r.months[i];
            match &row[0] {
                Data::DateTime(dt) => assert_eq!(dt.as_f64(), serial(2025, i as u32 + 1, 1)),
                other => panic!("month cell {other:?} is not a date"),
            }
            assert_eq!(row[1], Data::Float(m.active_volunteers as f64));
            assert_eq!(row[2], Data::Float(m.services as f64));
            assert_eq!(row[3], Data::Float(m.hours.minutes() as f64 / 60.0));
            assert_eq!(
                row[6],
                Data::Float(m.points_awarded.hundredths() as f64 / 100.0)
            );
        }
        let jan: f64 = 3.0 + 4.0 + 0.5;
        assert_eq!(rows[1][3], Data::Float(jan));

        // The hours ranking.
        let top = wb.worksheet_range("服务时长排行").expect("sheet");
        let rows: Vec<&[Data]> = top.rows().collect();
        assert_eq!(rows.len(), r.top_by_hours.len() + 1);
        assert_eq!(rows[1][2], Data::String("孙八".into()), "8 h tops the list");
        assert_eq!(rows[1][5], Data::Float(8.0));
        assert_eq!(rows[1][0], Data::Float(1.0));

        // Stairwell standings: scores as numbers, blanks where not inspected.
        let st = wb.worksheet_range("文明楼道评比").expect("sheet");
        let rows: Vec<&[Data]> = st.rows().collect();
        assert_eq!(rows.len(), r.stairwells.len() + 1);
        for (row, s) in rows[1..].iter().zip(&r.stairwells) {
            for (m, month) in s.months.iter().enumerate() {
                let cell = row.get(5 + m).cloned().unwrap_or(Data::Empty);
                match month.score {
                    Some(sc) => assert_eq!(cell, Data::Float(sc.to_string().parse().expect("f64"))),
                    None => assert_eq!(cell, Data::Empty),
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_has_a_bom_and_round_trips() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        scenario(&mut w).await;
        // A name that looks like a formula and one with a comma and quotes.
        let v = w.register("=HYPERLINK(\"x\")", 0, &[0], &[]).await;
        let _ = v;
        let n = w.volunteers.len() - 1;
        w.serve(n, ServiceKind::Patrol, ymd(2025, 7, 1), "7.5", true)
            .await
            .expect("served");
        let r = annual_report(&store, w.community, 2025, None, |_, _| {})
            .await
            .expect("report");
        let bytes = render_csv(&r);
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{backend}: UTF-8 BOM");
        let text = std::str::from_utf8(&bytes[3..]).expect("utf-8");
        assert!(text.contains("\r\n"));
        let parsed = parse_csv_sections(text);
        let sections = annual_sections(&r);
        assert_eq!(parsed.len(), sections.len());
        for ((title, rows), s) in parsed.iter().zip(&sections) {
            assert_eq!(title, &s.title);
            assert_eq!(rows[0], s.columns, "{title} header");
            assert_eq!(rows.len(), s.rows.len() + 1, "{title} rows");
            for (got, want) in rows[1..].iter().zip(&s.rows) {
                let want: Vec<String> = want.iter().map(|c| c.display()).collect();
                assert_eq!(got, &want, "{title}");
            }
        }
        let overview = &parsed[0].1;
        let hours = overview
            .iter()
            .find(|row| row[0] == "服务时长")
            .expect("hours row");
        assert_eq!(hours[1], "38");
        assert!(text.contains("'=HYPERLINK"), "formula-like text is defused");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_is_well_formed_with_charts_and_print_css() {
    let (store, _dir) = ledger::testing::sqlite_store().await;
    let mut w = World::new(store.clone()).await;
    scenario(&mut w).await;
    let r = annual_report(&store, w.community, 2025, None, |_, _| {})
        .await
        .expect("report");
    let html = render_html(&r);
    let counts = check_well_formed(&html);
    assert_eq!(counts.get("svg").copied(), Some(3), "three charts");
    assert_eq!(
        counts.get("table").copied(),
        Some(annual_sections(&r).len())
    );
    assert!(html.contains("@page { size: A4"));
    assert!(html.contains("文明楼道评比"));
    assert!(html.contains("张三"));
    assert!(!html.contains("110101"), "no ID numbers in the report");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_come_from_personal_data_at_render_time() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        scenario(&mut w).await;
        let before = annual_report(&store, w.community, 2025, None, |_, _| {})
            .await
            .expect("report");
        let top = before.top_by_hours[0].clone();
        assert_eq!(top.name, "孙八", "{backend}");
        assert!(store.erase_person(top.volunteer_id.0).await.expect("erase"));
        let after = annual_report(&store, w.community, 2025, Some(before.position), |_, _| {})
            .await
            .expect("report");
        assert_eq!(after.top_by_hours[0].name, reports::people::ERASED_NAME);
        assert_eq!(
            after.top_by_hours[0].hours, top.hours,
            "totals still add up"
        );
        assert_eq!(after.totals, before.totals);
        assert!(!String::from_utf8_lossy(&render_csv(&after)).contains("孙八"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_positions_and_errors() {
    let (store, _dir) = ledger::testing::sqlite_store().await;
    let mut w = World::new(store.clone()).await;
    scenario(&mut w).await;
    let head = store.head().await.expect("head");
    let seen = Mutex::new(Vec::new());
    let r = annual_report(&store, w.community, 2025, None, |done, total| {
        seen.lock().expect("lock").push((done, total));
    })
    .await
    .expect("report");
    let seen = seen.into_inner().expect("lock");
    assert_eq!(seen.last(), Some(&(head, head)));
    assert!(seen.windows(2).all(|p| p[0].0 <= p[1].0));
    assert!(r.as_of.is_some());

    let err = annual_report(&store, w.community, 2025, Some(head + 1), |_, _| {})
        .await
        .expect_err("beyond head");
    assert!(matches!(err, ReportError::PositionBeyondHead { .. }));
    let err = annual_report(
        &store,
        ledger::ids::CommunityId(uuid::Uuid::new_v4()),
        2025,
        None,
        |_, _| {},
    )
    .await
    .expect_err("unknown community");
    assert_eq!(err.code(), "NOT_FOUND");
    // Before the community existed.
    let err = annual_report(&store, w.community, 2025, Some(0), |_, _| {})
        .await
        .expect_err("empty log");
    assert!(matches!(err, ReportError::CommunityNotFound { .. }));
}

/// The API serves these from async-graphql resolvers, whose futures must be `Send`.
#[allow(dead_code, clippy::let_underscore_future)]
fn futures_are_send(store: ledger::store::Store) {
    fn send<T: Send>(_: T) {}
    let c = ledger::ids::CommunityId(uuid::Uuid::nil());
    let v = ledger::ids::VolunteerId(uuid::Uuid::nil());
    send(annual_report(&store, c, 2025, None, |_, _| {}));
    send(reports::issue_certificate(
        &store,
        v,
        uuid::Uuid::nil(),
        &Default::default(),
        None,
    ));
    send(reports::check_certificate(&store, "TB-2026-000001"));
    send(reports::get_certificate(&store, "TB-2026-000001"));
    send(reports::statement(&store, v, None));
}

/// An activity in 2025: one volunteer by check-in (07:55–09:40, 90 minutes counted),
/// one by 补录 (1 h); the year's report counts both per volunteer, per team and in all,
/// and their hours apart; the statement says which record is a 补录.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activities_count_in_the_report_with_their_hours_apart() {
    use chrono::{Duration, TimeZone, Utc};
    use ledger::command::*;
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        let a0 = w.register("钱一", 0, &[0], &[]).await;
        let a1 = w.register("孙二", 1, &[0], &[]).await;
        let start = Utc.with_ymd_and_hms(2025, 6, 7, 0, 0, 0).unwrap();
        let clock = std::sync::Arc::new(FixedClock::new(start - Duration::days(2)));
        let h = CommandHandler::with_clock(store.clone(), clock.clone());
        let staff = Actor::staff(uuid::Uuid::new_v4(), w.community);
        let post = PostActivity {
            community_id: w.community,
            title: "北门巡逻".into(),
            kind: ServiceKind::Patrol,
            place: "小区北门".into(),
            starts_at: start,
            ends_at: start + Duration::hours(2),
            places: 5,
            signup_deadline: None,
            eligibility: Default::default(),
            walk_ins: false,
        };
        let a = h
            .run(&staff, "post", post)
            .await
            .unwrap()
            .result
            .activity_id;
        h.run(
            &staff,
            "su",
            SignUp {
                activity_id: a,
                volunteer_id: a0,
                waitlist: false,
            },
        )
        .await
        .unwrap();
        clock.set(start - Duration::minutes(5));
        h.run(
            &staff,
            "in",
            CheckIn {
                activity_id: a,
                volunteer_id: a0,
                code: None,
            },
        )
        .await
        .unwrap();
        clock.set(start + Duration::minutes(100));
        h.run(
            &staff,
            "out",
            CheckOut {
                activity_id: a,
                volunteer_id: a0,
                code: None,
            },
        )
        .await
        .unwrap();
        clock.set(start + Duration::hours(3));
        h.run(
            &staff,
            "ok",
            ApproveAttendance {
                activity_id: a,
                adjustments: vec![],
                exclusions: vec![],
            },
        )
        .await
        .unwrap();
        let late = RecordLateAttendance {
            activity_id: a,
            volunteer_id: a1,
            hours: "1".parse().unwrap(),
            reason: "未带手机".into(),
        };
        h.run(&staff, "late", late).await.unwrap();

        let r = annual_report(&store, w.community, 2025, None, |_, _| {})
            .await
            .expect("report");
        assert_eq!(
            (
                r.totals.activity_attendances,
                r.totals.activity_hours,
                r.totals.late_hours
            ),
            (2, Hours::from_minutes(90), Hours::whole(1)),
            "{backend}"
        );
        assert_eq!(
            r.totals.verified_hours,
            Hours::from_minutes(150),
            "{backend}"
        );
        let line = |v| {
            r.top_by_hours
                .iter()
                .find(|l| l.volunteer_id == v)
                .expect("listed")
                .clone()
        };
        assert_eq!(
            (
                line(a0).activities,
                line(a0).activity_hours,
                line(a0).late_hours
            ),
            (1, Hours::from_minutes(90), Hours::ZERO)
        );
        assert_eq!(
            (
                line(a1).activities,
                line(a1).activity_hours,
                line(a1).late_hours
            ),
            (1, Hours::ZERO, Hours::whole(1))
        );
        let team = r
            .teams
            .iter()
            .find(|t| t.team_id == w.teams[0])
            .expect("team");
        assert_eq!(
            (
                team.totals.activities,
                team.totals.activity_hours,
                team.totals.late_hours
            ),
            (2, Hours::from_minutes(90), Hours::whole(1))
        );
        // The tables carry the new columns.
        let sections = annual_sections(&r);
        let by_hours = sections
            .iter()
            .find(|s| s.key == "top_by_hours")
            .expect("section");
        assert!(by_hours.columns.iter().any(|c| c.contains("补录")));
        // The volunteer's statement says which record is a 补录.
        let st = reports::statement(&store, a1, None)
            .await
            .expect("statement");
        assert!(
            st.entries
                .iter()
                .any(|e| e.description.contains("（补录）")),
            "{:?}",
            st.entries
        );
        let st = reports::statement(&store, a0, None)
            .await
            .expect("statement");
        assert!(st
            .entries
            .iter()
            .any(|e| e.description.contains("（活动签到）")));
    }
}
