//! Certificates (numbered, registered, pinned, checked) and statements, on both backends.

mod common;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use chrono::Datelike;
use common::*;
use ledger::amount::{Hours, Points};
use ledger::event::ServiceKind;
use reports::certificate::{display_check_code, format_number};
use reports::statement::statement_sections;
use reports::{
    certificate_html, check_certificate, get_certificate, issue_certificate, list_certificates,
    statement, statement_csv, statement_xlsx, verify_certificate, IssuingOrganisation,
};
use std::io::Cursor;
use uuid::Uuid;

fn issuer() -> IssuingOrganisation {
    IssuingOrganisation {
        organisation: "幸福里社区居民委员会".into(),
        person_in_charge: "王书记".into(),
        handler: "李网格员".into(),
        contact: "010-12345678".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_numbered_pinned_and_checked() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        scenario(&mut w).await;
        let staff = Uuid::new_v4();
        let v = w.volunteers[0]; // 张三: 3 + 2.5 + 1.5 (2025) + 2 (2026) = 9 h
        let cert = issue_certificate(&store, v, staff, &issuer(), None)
            .await
            .expect("issue");
        let year = reports::labels::local_date(cert.issued_at).year();
        assert_eq!(cert.number, format_number(year, 1), "{backend}");
        assert!(cert.number.starts_with(&format!("TB-{year}-")));
        assert_eq!(cert.position, store.head().await.expect("head"));
        assert_eq!(cert.facts.total_hours, Hours::whole(9));
        assert_eq!(cert.facts.services, 4);
        assert_eq!(cert.facts.volunteer_number, "TB-000001");
        assert_eq!(cert.facts.community_name, "幸福里社区");
        assert_eq!(
            cert.facts.star_level, 2,
            "5 h ≤ 9 h < 10 h under 2/5/10/20/40"
        );
        assert_eq!(cert.holder_name, "张三");
        assert_eq!(cert.id_number_masked.as_deref(), Some("110***********1000"));
        assert!(cert.facts.content_text().contains("巡逻 2 次 5 小时"));

        let html = certificate_html(&cert);
        check_well_formed(&html);
        for needle in [
            "志愿服务记录证明",
            "张三",
            "TB-000001",
            "110***********1000",
            "9 小时",
            "幸福里社区居民委员会",
            "王书记",
            "李网格员",
            "010-12345678",
            cert.number.as_str(),
            "@page { size: A4",
        ] {
            assert!(html.contains(needle), "certificate shows {needle}");
        }
        assert!(
            !html.contains(&id_number_ending("1000")),
            "the ID number is masked"
        );

        // Numbers are sequential; the registry keeps them.
        let second = issue_certificate(&store, w.volunteers[1], staff, &issuer(), None)
            .await
            .expect("issue");
        assert_eq!(second.number, format_number(year, 2));
        let listed = list_certificates(&store, v).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].facts, cert.facts);
        let got = get_certificate(&store, &cert.number)
            .await
            .expect("get")
            .expect("registered");
        assert_eq!(got.facts, cert.facts);
        assert_eq!(got.issuer, cert.issuer);
        assert_eq!(got.position, cert.position);
        assert_eq!(got.issued_by, staff);
        assert!(get_certificate(&store, "TB-1999-000001")
            .await
            .expect("get")
            .is_none());
        assert!(check_certificate(&store, "nope")
            .await
            .expect("check")
            .is_none());

        let check = check_certificate(&store, &cert.number)
            .await
            .expect("check")
            .expect("found");
        assert!(!check.changed_since_issue);
        assert_eq!(check.holder_name_masked, "张*");
        assert_eq!(check.issued, cert.facts);

        // The public check needs the code printed on the certificate (as typed: any
        // case, dashes and spaces ignored); a wrong one tells nothing.
        assert_eq!(cert.check_code.len(), 8, "{backend}");
        assert_eq!(got.check_code, cert.check_code, "the code is archived");
        let printed = display_check_code(&cert.check_code);
        assert!(html.contains(&printed), "the code is printed");
        let typed = format!(" {} ", printed.to_lowercase());
        let verified = verify_certificate(&store, &cert.number, &typed)
            .await
            .expect("verify")
            .expect("the right code");
        assert_eq!(verified, check);
        let mut wrong = cert.check_code.clone().into_bytes();
        wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
        for code in [
            String::from_utf8(wrong).unwrap(),
            String::new(),
            "X".repeat(40),
        ] {
            assert!(verify_certificate(&store, &cert.number, &code)
                .await
                .expect("verify")
                .is_none());
        }
        assert!(
            verify_certificate(&store, "TB-1999-000001", &cert.check_code)
                .await
                .expect("verify")
                .is_none()
        );
        let other = issue_certificate(&store, w.volunteers[1], staff, &issuer(), None)
            .await
            .expect("issue");
        assert_ne!(other.check_code, cert.check_code, "codes are random");
        assert!(verify_certificate(&store, &other.number, &cert.check_code)
            .await
            .expect("verify")
            .is_none());

        // New service after issue is not a change of what the certificate states.
        w.serve(0, ServiceKind::Repair, ymd(2026, 7, 1), "2", true)
            .await
            .expect("served");
        let check = check_certificate(&store, &cert.number)
            .await
            .expect("check")
            .expect("found");
        assert!(
            !check.changed_since_issue,
            "{backend}: new service is not a correction"
        );
        assert!(check.corrections.is_empty());

        // A correction of a covered record is.
        let entry = w.entries[0][1]; // the 2.5 h repair
        assert!(w.reverse(0, entry).await);
        let check = check_certificate(&store, &cert.number)
            .await
            .expect("check")
            .expect("found");
        assert!(
            check.changed_since_issue,
            "{backend}: the reversal changed the certificate"
        );
        assert_eq!(
            check.issued.total_hours,
            Hours::whole(9),
            "facts as issued are kept"
        );
        assert_eq!(check.current.total_hours, Hours::from_minutes(6 * 60 + 30));
        assert_eq!(check.current.services, 3);
        assert_eq!(check.corrections.len(), 1);
        assert_eq!(check.corrections[0].reverses, entry);
        assert_eq!(check.corrections[0].hours, Hours::from_minutes(150));
        assert_eq!(check.corrections[0].reason, "记录有误");
        assert!(check.current_position > check.position);
        // Re-printing shows the certificate as issued.
        let again = get_certificate(&store, &cert.number)
            .await
            .expect("get")
            .expect("registered");
        assert_eq!(again.facts, cert.facts);
        assert_eq!(certificate_html(&again), certificate_html(&cert));

        // The registry is an archive.
        let tamper = match (store.sqlite_pool(), store.postgres_pool()) {
            (Some(pool), _) => sqlx::query("UPDATE certificates SET position = 0")
                .execute(pool)
                .await
                .map(|_| ()),
            (_, Some(pool)) => sqlx::query("DELETE FROM certificates")
                .execute(pool)
                .await
                .map(|_| ()),
            _ => unreachable!(),
        };
        assert!(tamper.is_err(), "{backend}: certificates cannot be changed");

        // An erased holder: the certificate still checks, without personal data.
        assert!(store.erase_person(v.0).await.expect("erase"));
        let erased = get_certificate(&store, &cert.number)
            .await
            .expect("get")
            .expect("registered");
        assert_eq!(erased.holder_name, reports::people::ERASED_NAME);
        assert_eq!(erased.id_number_masked, None);
        let check = check_certificate(&store, &cert.number)
            .await
            .expect("check")
            .expect("found");
        assert_eq!(check.holder_name_masked, reports::people::ERASED_NAME);

        // Refusals.
        let err = issue_certificate(
            &store,
            ledger::ids::VolunteerId(Uuid::new_v4()),
            staff,
            &issuer(),
            None,
        )
        .await
        .expect_err("unknown volunteer");
        assert_eq!(err.code(), "NOT_FOUND");
        let err = issue_certificate(&store, v, staff, &IssuingOrganisation::default(), None)
            .await
            .expect_err("no organisation");
        assert_eq!(err.code(), "INVALID_INPUT");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_issues_get_distinct_sequential_numbers() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        scenario(&mut w).await;
        let mut tasks = Vec::new();
        for i in 0..12 {
            let store = store.clone();
            let v = w.volunteers[i % w.volunteers.len()];
            tasks.push(tokio::spawn(async move {
                issue_certificate(&store, v, Uuid::new_v4(), &issuer(), None)
                    .await
                    .map(|c| c.number)
            }));
        }
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.push(t.await.expect("join").expect("issue"));
        }
        numbers.sort();
        let year = reports::labels::local_date(chrono::Utc::now()).year();
        let want: Vec<String> = (1..=12).map(|s| format_number(year, s)).collect();
        assert_eq!(numbers, want, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_have_running_balances_and_export() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        scenario(&mut w).await;
        let v = w.volunteers[1]; // 李四: 4 h, 2 h, 3 h services; +15 award; −20 redeemed
        let s = statement(&store, v, None).await.expect("statement");
        assert_eq!(s.name, "李四", "{backend}");
        assert_eq!(s.id_number_masked.as_deref(), Some("110***********1001"));
        assert_eq!(s.phone_masked.as_deref(), Some("138****0001"));
        assert_eq!(s.entries.len(), 5);
        assert_eq!(s.verified_hours, Hours::whole(9));
        assert_eq!(s.points_balance, Points::whole(90 + 15 - 20));
        assert_eq!(s.hours_balance, Hours::whole(9));
        let mut points = 0;
        let mut hours = 0;
        for e in &s.entries {
            points += e.points.hundredths();
            hours += e.hours.minutes();
            assert_eq!(e.points_balance.hundredths(), points);
            assert_eq!(e.hours_balance.minutes(), hours);
        }
        assert!(s.entries.windows(2).all(|p| p[0].position < p[1].position));
        assert_eq!(
            s.entries[0].service_date,
            Some(chrono::NaiveDate::from_ymd_opt(2025, 1, 20).expect("date"))
        );

        // Pinned: a later reversal is not in the statement at the old position.
        let p = s.position;
        let award = w.entries[1]
            .iter()
            .copied()
            .find(|e| {
                s.entries
                    .iter()
                    .any(|x| x.entry_id == *e && x.label == "积分奖励")
            })
            .expect("award");
        assert!(w.reverse(1, award).await);
        let pinned = statement(&store, v, Some(p)).await.expect("statement");
        assert_eq!(pinned, s);
        let now = statement(&store, v, None).await.expect("statement");
        assert_eq!(now.entries.len(), 6);
        assert_eq!(now.points_balance, Points::whole(90 - 20));
        let last = now.entries.last().expect("entry");
        assert_eq!(last.reverses, Some(award));
        assert_eq!(last.points, Points::whole(-15));
        let reversed = now
            .entries
            .iter()
            .find(|e| e.entry_id == award)
            .expect("award entry");
        assert_eq!(reversed.reversed_by, Some(last.entry_id));

        // CSV: BOM, and the cells round-trip.
        let csv = statement_csv(&now);
        assert!(csv.starts_with(b"\xEF\xBB\xBF"));
        let parsed = parse_csv_sections(std::str::from_utf8(&csv[3..]).expect("utf-8"));
        let sections = statement_sections(&now);
        assert_eq!(parsed.len(), 2);
        for ((title, rows), sec) in parsed.iter().zip(&sections) {
            assert_eq!(title, &sec.title);
            assert_eq!(rows[0], sec.columns);
            let want: Vec<Vec<String>> = sec
                .rows
                .iter()
                .map(|r| r.iter().map(|c| c.display()).collect())
                .collect();
            assert_eq!(&rows[1..], &want[..]);
        }

        // XLSX read back: the balances are numbers.
        let bytes = statement_xlsx(&now).expect("xlsx");
        let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("open");
        assert_eq!(
            wb.sheet_names(),
            vec!["志愿者信息".to_string(), "账户明细".to_string()]
        );
        let range = wb.worksheet_range("账户明细").expect("sheet");
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows.len(), 7);
        for (row, e) in rows[1..].iter().zip(&now.entries) {
            assert_eq!(row[1], Data::Float(e.position as f64));
            assert!(matches!(&row[2], Data::DateTime(dt) if dt.is_datetime()));
            assert_eq!(row[6], Data::Float(e.points.hundredths() as f64 / 100.0));
            assert_eq!(
                row[9],
                Data::Float(e.points_balance.hundredths() as f64 / 100.0)
            );
            assert_eq!(
                row[10],
                Data::Float(e.hours_balance.minutes() as f64 / 60.0)
            );
        }

        let err = statement(&store, ledger::ids::VolunteerId(Uuid::new_v4()), None)
            .await
            .expect_err("unknown volunteer");
        assert_eq!(err.code(), "NOT_FOUND");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_issues_one_certificate() {
    for (backend, store, _dir) in stores().await {
        let mut w = World::new(store.clone()).await;
        scenario(&mut w).await;
        let v = w.volunteers[0];
        // Eight concurrent retries of one request: one number between them.
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                issue_certificate(&store, v, Uuid::new_v4(), &issuer(), Some("req-1"))
                    .await
                    .map(|c| c.number)
            }));
        }
        let mut numbers = std::collections::BTreeSet::new();
        for t in tasks {
            numbers.insert(t.await.expect("join").expect("issue"));
        }
        assert_eq!(numbers.len(), 1, "{backend}: {numbers:?}");
        let first = numbers.into_iter().next().expect("one");
        assert_eq!(
            list_certificates(&store, v).await.expect("list").len(),
            1,
            "{backend}: one certificate registered"
        );
        // A later retry gets the same certificate, as issued.
        let again = issue_certificate(&store, v, Uuid::new_v4(), &issuer(), Some("req-1"))
            .await
            .expect("retry");
        assert_eq!(again.number, first);
        // The key reused for another request is refused, and issues nothing.
        let mut other = issuer();
        other.handler = "赵干事".into();
        let err = issue_certificate(&store, v, Uuid::new_v4(), &other, Some("req-1"))
            .await
            .expect_err("mismatch");
        assert_eq!(err.code(), "IDEMPOTENCY_MISMATCH", "{backend}");
        let err = issue_certificate(
            &store,
            w.volunteers[1],
            Uuid::new_v4(),
            &issuer(),
            Some("req-1"),
        )
        .await
        .expect_err("mismatch");
        assert_eq!(err.code(), "IDEMPOTENCY_MISMATCH", "{backend}");
        assert_eq!(list_certificates(&store, v).await.expect("list").len(), 1);
        // A new key issues the next number.
        let next = issue_certificate(&store, v, Uuid::new_v4(), &issuer(), Some("req-2"))
            .await
            .expect("new key");
        assert_ne!(next.number, first);
    }
}
