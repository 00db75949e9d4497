//! The street office's desk in a real headless Chromium: two demo communities in one
//! street; an administrator makes the street office's login link at 登录管理, the
//! office opens it and lands on `/street`: a line per community and the total, the
//! volunteers of both ranked together, the documents for the authorities; its member
//! list comes with phones masked. Staff of a community are sent away from it.

#[allow(dead_code)] // the browser client has more than this test uses
mod support;

use api::Role;
use ledger::command::*;
use std::path::PathBuf;
use std::time::Duration;
use support::browser::{chromium, Browser};
use uuid::Uuid;

async fn screenshot(b: &Browser, name: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    b.screenshot(&root.join("target/screenshots").join(name))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_street_office_sees_its_communities_side_by_side() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but Chromium is not installed"
        );
        eprintln!("browser tests SKIPPED: no chromium on this machine");
        return;
    };
    let (store, _dir) = ledger::testing::sqlite_store().await;
    let handler = CommandHandler::new(store.clone());
    let opts = ledger::demo::DemoOptions {
        volunteers: 40,
        events: 3_000,
        communities: 2,
        activities: 2,
        ..Default::default()
    };
    let demo = ledger::demo::generate(&handler, opts, |_| {})
        .await
        .unwrap();
    let admin = Actor::admin(Uuid::new_v4());
    let street = handler
        .run(
            &admin,
            "st",
            EstablishStreet {
                name: "和平街道".into(),
            },
        )
        .await
        .unwrap()
        .result
        .street_id;
    for (i, c) in demo.community_ids.iter().enumerate() {
        let join = JoinStreet {
            community_id: *c,
            street_id: street,
            from: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        };
        handler.run(&admin, &format!("j{i}"), join).await.unwrap();
    }
    let base = support::site::serve(handler).await;
    let link = |role: Role, community: Option<Uuid>| {
        let store = store.clone();
        async move { support::site::login_link(&store, role, community, "测试").await }
    };

    // The administrator makes the street office's link at 登录管理.
    let desk = Browser::launch(&binary, 1366, 768, false).await;
    desk.open(&format!("{base}{}", link(Role::Admin, None).await))
        .await;
    desk.click("form button[type=submit]").await;
    desk.open(&format!(
        "{base}/console/sessions?c={}",
        demo.community_ids[0].0
    ))
    .await;
    desk.fill("select[name=street] + input[name=name]", "张主任")
        .await;
    desk.click("select[name=street] ~ button[type=submit]")
        .await;
    let made = desk
        .eval("document.querySelector('code.link').innerText")
        .await;
    let made = made.as_str().unwrap_or_default().to_string();
    assert!(made.contains("/login/"), "{}", desk.text().await);

    // The street office opens it.
    let office = Browser::launch(&binary, 1366, 768, false).await;
    office.open(&made).await;
    office.click("form button[type=submit]").await;
    office
        .wait_for("location.pathname == '/street'", Duration::from_secs(10))
        .await;
    let text = office.text().await;
    assert!(text.contains("和平街道 · 街道工作台"), "{text}");
    assert!(
        text.contains("合计") && text.contains("志愿者排行"),
        "{text}"
    );
    // All time: the demo's history is of the years before.
    office.click("a[href*='period=ALL']").await;
    let lines = office
        .eval("document.querySelectorAll('#communities tbody tr').length")
        .await;
    assert_eq!(lines, 3, "two communities and the total");
    let ranked = office
        .eval("document.querySelectorAll('#ranking tbody tr').length")
        .await;
    assert_eq!(ranked, 20, "the volunteers of both, ranked together");
    screenshot(&office, "street-office.png").await;
    let members = office
        .eval("fetch(document.querySelector('a[href*=\"export/members\"][href$=\"format=csv\"]').href).then(r => r.text())")
        .await;
    let members = members.as_str().unwrap_or_default();
    assert!(
        members.contains("志愿者编号") && members.contains("****"),
        "{members}"
    );

    // A community's staff is not a street office.
    let staff = Browser::launch(&binary, 1366, 768, false).await;
    staff
        .open(&format!(
            "{base}{}",
            link(Role::Staff, Some(demo.community_ids[0].0)).await
        ))
        .await;
    staff.click("form button[type=submit]").await;
    staff.open(&format!("{base}/street")).await;
    staff
        .wait_for("location.pathname != '/street'", Duration::from_secs(10))
        .await;
}
