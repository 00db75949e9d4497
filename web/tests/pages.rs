//! The pages end to end, in a real headless Chromium against the real server on a free
//! port (SQLite; the pages only run GraphQL, which the API's suites run on both
//! backends): a staff member posts an activity in the console; a volunteer on a
//! phone-sized window signs up and checks in with the code the console shows, while
//! the hall display shows the check-in live; staff approve; the notice passes; the
//! volunteer sees the hours, and their inbox told them each step. A form without its
//! CSRF token is refused, a used login link is refused, a hostile name shows as text. Screenshots of each page go to
//! `target/screenshots/` (and to `docs/screenshots/` with `UPDATE_SCREENSHOTS=1`).

mod support;

use api::{AppState, Role, ServeConfig};
use chrono::{Duration as Days, TimeZone, Utc};
use ledger::command::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use support::browser::{chromium, Browser};
use uuid::Uuid;

struct Server {
    base: String,
    store: ledger::Store,
    clock: Arc<FixedClock>,
    handler: CommandHandler,
    _dir: ledger::testing::TempDir,
}

async fn server(start: chrono::DateTime<Utc>) -> Server {
    let (store, dir) = ledger::testing::sqlite_store().await;
    let clock = Arc::new(FixedClock::new(start));
    let handler = CommandHandler::with_clock(store.clone(), clock.clone());
    let projections = projections::start(store.clone()).await;
    let (_tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(_tx);
    let state = AppState::with_handler(
        handler.clone(),
        &ServeConfig::default(),
        rx,
        Some(projections),
    );
    let app = api::router(state.clone()).merge(web::routes(state, web::WebConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        store,
        clock,
        handler,
        _dir: dir,
    }
}

fn shots(name: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = vec![root.join("target/screenshots").join(name)];
    if std::env::var("UPDATE_SCREENSHOTS").is_ok() {
        out.push(root.join("docs/screenshots").join(name));
    }
    out
}

async fn screenshot(b: &Browser, name: &str) {
    for p in shots(name) {
        b.screenshot(&p).await;
    }
}

/// A login link for `grant`, made as an admin would.
async fn link(s: &Server, role: Role, community: Uuid, volunteer: Option<Uuid>) -> String {
    let admin = api::auth::Principal {
        street_communities: Vec::new(),
        token_id: Uuid::new_v4(),
        actor: Actor::admin(Uuid::new_v4()),
        label: "test".into(),
    };
    let grant = web::links::Grant {
        street: None,
        role,
        community: Some(community),
        volunteer,
        label: "测试".into(),
    };
    let code = web::links::create(&s.store, &admin, grant, s.clock.now())
        .await
        .unwrap();
    format!("{}/login/{code}", s.base)
}

/// Opens a login link and confirms it.
async fn log_in(b: &Browser, url: &str) {
    b.open(url).await;
    b.click("form button[type=submit]").await;
}

fn local(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&web::layout::cst())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_activity_from_posting_to_hours_in_the_browser() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but Chromium is not installed"
        );
        eprintln!("browser tests SKIPPED: no chromium on this machine");
        return;
    };
    // The test's clock: 09:00 Beijing time today, so the activity is on the hall's
    // "today" whatever the hour the test runs (and its times are whole minutes).
    let today = Utc::now().with_timezone(&web::layout::cst()).date_naive();
    let t0 = web::layout::cst()
        .from_local_datetime(&today.and_hms_opt(9, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let s = server(t0).await;
    let h = &s.handler;
    let admin = Actor::admin(Uuid::new_v4());
    let c = h
        .run(
            &admin,
            "c",
            EstablishCommunity {
                name: "海棠社区".into(),
            },
        )
        .await
        .unwrap()
        .result
        .community_id;
    h.run(
        &admin,
        "rules",
        SetActivityRules {
            community_id: c,
            time_unit_minutes: 15,
            late_record_days: 30,
            notice_days: 1,
            checkin_opens_minutes: 30,
            code_period_seconds: 30,
            effective_from: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        },
    )
    .await
    .unwrap();
    let g = h
        .run(
            &admin,
            "g",
            AddGrid {
                community_id: c,
                name: "一网格".into(),
                parent: None,
            },
        )
        .await
        .unwrap()
        .result
        .grid_id;
    let sw = h
        .run(
            &admin,
            "s",
            RegisterStairwell {
                community_id: c,
                grid_id: g,
                building: "3栋".into(),
                unit: "2单元".into(),
                households: 12,
            },
        )
        .await
        .unwrap()
        .result
        .stairwell_id;
    let register = |key: &'static str, name: &'static str, phone: &'static str| RegisterVolunteer {
        community_id: c,
        name: name.into(),
        phone: Some(phone.into()),
        // 王秀英's ID number (the other has none).
        id_number: (key == "101").then(|| "110101195001011239".into()),
        stairwell_id: sw,
        tags: vec![],
        teams: vec![],
        household: Some(format!("3-2-{key}")),
    };
    let v = h
        .run(&admin, "v1", register("101", "王秀英", "13812345678"))
        .await
        .unwrap()
        .result
        .volunteer_id;
    h.run(
        &admin,
        "v2",
        register("102", "<script>window.__pwned=1</script>", "13900001111"),
    )
    .await
    .unwrap();

    let staff = Browser::launch(&binary, 1366, 768, false).await;
    let phone = Browser::launch(&binary, 360, 640, true).await;
    let hall = Browser::launch(&binary, 1920, 1080, false).await;
    let staff_link = link(&s, Role::Staff, c.0, None).await;
    log_in(&staff, &staff_link).await;
    assert!(
        staff.text().await.contains("今日待办"),
        "{}",
        staff.text().await
    );

    // A used link is refused, in another browser too.
    hall.open(&staff_link).await;
    assert!(
        hall.text().await.contains("已经用过或已过期"),
        "{}",
        hall.text().await
    );

    // Staff post the activity: it starts in 10 minutes, for an hour.
    staff
        .open(&format!("{}/console/activities/new", s.base))
        .await;
    staff.fill("#title", "北门巡逻").await;
    staff.fill("#place", "小区北门").await;
    staff.fill("#starts", &local(t0 + Days::minutes(10))).await;
    staff.fill("#ends", &local(t0 + Days::minutes(70))).await;
    staff.fill("#places", "12").await;
    staff.click("form.grid button[type=submit]").await;
    assert!(
        staff.text().await.contains("操作成功"),
        "{}",
        staff.text().await
    );
    let activity = staff
        .eval("location.pathname.split('/')[3]")
        .await
        .as_str()
        .unwrap()
        .to_string();

    // The hostile name is text, and ran nothing.
    staff.open(&format!("{}/console/volunteers", s.base)).await;
    assert!(staff
        .text()
        .await
        .contains("<script>window.__pwned=1</script>"));
    assert_eq!(staff.eval("window.__pwned === undefined").await, true);
    // Staff of the community see the phone whole (others get it masked, by the API).
    assert!(staff.text().await.contains("13812345678"));

    // One person, one record: registering 王秀英 again is refused, naming her record.
    staff
        .open(&format!("{}/console/volunteers/new", s.base))
        .await;
    staff.fill("#name", "王秀英").await;
    staff.fill("#id_number", "110101195001011239").await;
    staff
        .eval("document.querySelector('#stairwell').selectedIndex = 1")
        .await;
    staff.click("form.grid button[type=submit]").await;
    let text = staff.text().await;
    assert!(
        text.contains("这个身份证号已经登记过") && text.contains("已有档案：TB-000001"),
        "{text}"
    );
    screenshot(&staff, "console-duplicate-person.png").await;

    // 导入花名册: a CSV from Excel, checked first (王秀英 is here already, 9栋 is not),
    // then registered while the page shows how far it has got.
    let roster = std::env::temp_dir().join(format!("花名册-{}.csv", Uuid::new_v4()));
    std::fs::write(
        &roster,
        "\u{feff}姓名,手机号,身份证号,楼栋,单元\n李桂兰,13700002222,,3栋,2单元\n王秀英,,110101195001011239,3,2\n孙九,,,9栋,1单元\n",
    )
    .unwrap();
    staff.open(&format!("{}/console/volunteers", s.base)).await;
    staff.click("a[href^='/console/volunteers/import']").await;
    staff.choose_file("#file", &roster).await;
    staff.click("form.grid button[type=submit]").await;
    let text = staff.text().await;
    assert!(
        text.contains("可以登记 1") && text.contains("已在本社区 1") && text.contains("有问题 1"),
        "{text}"
    );
    assert!(
        text.contains("没有这个楼道：9栋 1单元") && text.contains("已登记，跳过 TB-000001"),
        "{text}"
    );
    screenshot(&staff, "console-import-check.png").await;
    staff.click("form[method=post] button.primary").await;
    staff
        .wait_for(
            "document.body.innerText.includes('导入完成')",
            Duration::from_secs(20),
        )
        .await;
    let text = staff.text().await;
    assert!(
        text.contains("已登记 1") && text.contains("李桂兰"),
        "{text}"
    );
    screenshot(&staff, "console-import-done.png").await;
    let rejected = staff
        .eval("fetch(document.querySelector('a[href*=\"/rejected\"]').href).then(r => r.text())")
        .await;
    let rejected = rejected.as_str().unwrap_or_default();
    assert!(
        rejected.contains("错误原因") && rejected.contains("孙九") && !rejected.contains("李桂兰"),
        "{rejected}"
    );
    std::fs::remove_file(&roster).ok();

    // 导入历史记录: last years' ledger, checked, recorded, then reversed as one.
    let history = std::env::temp_dir().join(format!("2019台账-{}.csv", Uuid::new_v4()));
    std::fs::write(
        &history,
        "\u{feff}姓名,日期,内容,时长,备注\n王秀英,2019-05-01,巡逻,3,夜间\n李桂兰,2019/6/1,走访独居老人,1.5小时,\n陈九,2019-06-01,维修,1,\n",
    )
    .unwrap();
    staff.open(&format!("{}/console/volunteers", s.base)).await;
    staff.click("a[href^='/console/volunteers/history']").await;
    staff.choose_file("#file", &history).await;
    staff.click("form.grid button[type=submit]").await;
    let text = staff.text().await;
    assert!(
        text.contains("可以记入 2") && text.contains("有问题 1") && text.contains("没有叫“陈九”"),
        "{text}"
    );
    staff.click("form[method=post] button.primary").await;
    staff
        .wait_for(
            "document.body.innerText.includes('导入完成')",
            Duration::from_secs(20),
        )
        .await;
    assert!(
        staff.text().await.contains("已记入 2"),
        "{}",
        staff.text().await
    );
    staff.click("a[href^='/console/imports/']").await;
    let text = staff.text().await;
    assert!(
        text.contains("整批撤销将扣回")
            && text.contains("−4.5 小时")
            && text.contains("涉及志愿者 2"),
        "{text}"
    );
    screenshot(&staff, "console-history-batch.png").await;
    staff.fill("#why", "导错了表格").await;
    staff.click("form.grid button[type=submit]").await;
    assert!(
        staff.text().await.contains("这一批已整批撤销"),
        "{}",
        staff.text().await
    );
    // The community's imports, found again later.
    staff.open(&format!("{}/console/imports", s.base)).await;
    let text = staff.text().await;
    assert!(
        text.contains("2019台账") && text.contains("已整批撤销"),
        "{text}"
    );
    std::fs::remove_file(&history).ok();
    // The year's event log, from the reports page: the import and its reversal linked.
    staff.open(&format!("{}/console/reports", s.base)).await;
    let log = staff
        .eval("fetch(document.querySelector('a[href*=\"export/event-log\"][href$=\"format=csv\"]').href).then(r => r.text())")
        .await;
    let log = log.as_str().unwrap_or_default();
    assert!(
        log.contains("历史导入")
            && log.contains("整批撤销导入")
            && log.contains("整批撤销导入批次"),
        "{log}"
    );

    // The volunteer signs up on the phone.
    log_in(&phone, &link(&s, Role::Volunteer, c.0, Some(v.0)).await).await;
    assert!(
        phone.text().await.contains("王秀英"),
        "{}",
        phone.text().await
    );
    phone.open(&format!("{}/m/activities", s.base)).await;
    phone.click("article.activity form button").await;
    assert!(
        phone.text().await.contains("已报名"),
        "{}",
        phone.text().await
    );

    // The hall display, open before the check-in.
    log_in(&hall, &link(&s, Role::Display, c.0, None).await).await;
    hall.wait_for(
        "document.querySelector('.arrived')",
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        hall.eval("document.querySelector('.arrived').innerText")
            .await,
        "0"
    );
    hall.eval("window.__same_page = 1").await;

    // Check-in opens 30 minutes before the start: the organiser's screen shows the code.
    s.clock.set(t0 + Days::minutes(15));
    staff
        .open(&format!("{}/console/activities/{activity}/code", s.base))
        .await;
    let digits = staff
        .eval("document.querySelector('.digits').innerText.replace(/\\D/g, '')")
        .await;
    let digits = digits.as_str().unwrap().to_string();
    assert_eq!(digits.len(), 6, "{digits}");
    assert_eq!(
        staff.eval("!!document.querySelector('.qr svg')").await,
        true
    );
    screenshot(&staff, "console-code.png").await;

    // A form without its CSRF token is refused, and checks nobody in.
    phone.open(&format!("{}/m/checkin", s.base)).await;
    phone.fill("input.code", &digits).await;
    phone
        .eval("document.querySelector('form.checkin input[name=csrf]').remove()")
        .await;
    phone.click("form.checkin button").await;
    assert!(
        phone.text().await.contains("页面已过期"),
        "{}",
        phone.text().await
    );

    // With it, the check-in goes through, and the hall shows it within 2 s, no reload.
    phone.open(&format!("{}/m/checkin", s.base)).await;
    phone.fill("input.code", &digits).await;
    phone.click("form.checkin button").await;
    assert!(
        phone.text().await.contains("签到成功"),
        "{}",
        phone.text().await
    );
    let took = hall
        .wait_for(
            "document.querySelector('.arrived') && document.querySelector('.arrived').innerText === '1'",
            Duration::from_secs(2),
        )
        .await;
    eprintln!("the hall showed the check-in after {took:?}");
    assert_eq!(
        hall.eval("window.__same_page").await,
        1,
        "the hall reloaded"
    );
    screenshot(&hall, "hall-live.png").await;

    // After the end, staff approve the attendance in one go.
    s.clock.set(t0 + Days::minutes(80));
    staff
        .open(&format!("{}/console/activities/{activity}", s.base))
        .await;
    staff.click("form button.primary").await;
    assert!(
        staff.text().await.contains("考勤已审核"),
        "{}",
        staff.text().await
    );
    screenshot(&staff, "console-activity.png").await;

    // During the notice the hours are pending on the phone.
    phone.open(&format!("{}/m", s.base)).await;
    assert!(
        phone.text().await.contains("公示中 0.75 小时"),
        "{}",
        phone.text().await
    );

    // The notice passes; the records become final (as the server's task would).
    s.clock
        .set(t0 + Days::minutes(80) + Days::days(1) + Days::minutes(1));
    let fin = h
        .run(
            &admin,
            "fin",
            FinaliseAttendance {
                activity_id: ledger::ids::ActivityId(Uuid::parse_str(&activity).unwrap()),
            },
        )
        .await
        .unwrap();
    phone
        .open(&format!("{}/m?at={}", s.base, fin.position))
        .await;
    let text = phone.text().await;
    assert!(text.contains("服务时长\n0.75"), "{text}");
    assert!(!text.contains("公示中"), "{text}");
    phone
        .open(&format!("{}/m/statement?at={}", s.base, fin.position))
        .await;
    assert!(
        phone
            .text()
            .await
            .contains("巡逻 小区北门 北门巡逻（活动签到）"),
        "{}",
        phone.text().await
    );

    screenshot(&phone, "phone-statement.png").await;
    // The inbox told them each step: signed up, on notice, then credited.
    phone.open(&format!("{}/m", s.base)).await;
    assert_eq!(phone.eval("!!document.querySelector('.badge')").await, true);
    phone.open(&format!("{}/m/inbox", s.base)).await;
    let inbox = phone.text().await;
    for said in [
        "服务已计入：巡逻 小区北门 北门巡逻（活动签到），时长 +0.75 小时",
        "“北门巡逻”考勤已审核：0.75 小时",
        "您已报名“北门巡逻”",
    ] {
        assert!(inbox.contains(said), "{said:?} not in\n{inbox}");
    }
    // Elder mode: larger type.
    phone.open(&format!("{}/m", s.base)).await;
    assert_eq!(
        phone.eval("!!document.querySelector('.badge')").await,
        false
    );
    phone.click("footer form button").await;
    let size = phone
        .eval("parseFloat(getComputedStyle(document.body).fontSize)")
        .await;
    assert!(size.as_f64().unwrap() >= 20.0, "{size}");
}
