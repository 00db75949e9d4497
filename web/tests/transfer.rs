//! A volunteer's record moved to this community at the desk (转移接续), in a real
//! headless Chromium: 王秀英 is registered in 海棠社区 with her points; she moves to
//! 枫林社区, whose clerk types her in; the registration is refused (one person, one
//! record) and the page offers to move her record here; one click moves it, and her
//! page shows the new number with her points and hours.

#[allow(dead_code)] // the browser client has more than this test uses
mod support;

use api::Role;
use ledger::command::*;
use ledger::ids::{CommunityId, StairwellId};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::time::Duration;
use support::browser::{chromium, Browser};
use uuid::Uuid;

async fn screenshot(b: &Browser, name: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    b.screenshot(&root.join("target/screenshots").join(name))
        .await;
}

/// A community with one grid and one stairwell, by the commands.
async fn community(
    h: &CommandHandler,
    admin: &Actor,
    name: &str,
    building: &str,
) -> (CommunityId, StairwellId) {
    let c = h
        .run(
            admin,
            &format!("c-{name}"),
            EstablishCommunity { name: name.into() },
        )
        .await
        .unwrap()
        .result
        .community_id;
    let g = h
        .run(
            admin,
            &format!("g-{name}"),
            AddGrid {
                community_id: c,
                name: "第一网格".into(),
                parent: None,
            },
        )
        .await
        .unwrap()
        .result
        .grid_id;
    let sw = RegisterStairwell {
        community_id: c,
        grid_id: g,
        building: building.into(),
        unit: "1单元".into(),
        households: 24,
    };
    let s = h
        .run(admin, &format!("s-{name}"), sw)
        .await
        .unwrap()
        .result
        .stairwell_id;
    (c, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_desk_moves_a_record_here_when_the_person_is_registered_elsewhere() {
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
    let admin = Actor::admin(Uuid::new_v4());
    let (old, old_sw) = community(&handler, &admin, "海棠社区", "3栋").await;
    let (new, _) = community(&handler, &admin, "枫林社区", "5栋").await;
    let register = RegisterVolunteer {
        community_id: old,
        name: "王秀英".into(),
        phone: Some("13812345678".into()),
        id_number: Some("110101195001011239".into()),
        stairwell_id: old_sw,
        tags: vec!["党员".into()],
        teams: vec![],
        household: None,
    };
    let v = handler
        .run(&admin, "r", register)
        .await
        .unwrap()
        .result
        .volunteer_id;
    let award = AwardPoints {
        volunteer_id: v,
        points: Decimal::from(20),
        reason: "楼道清扫".into(),
    };
    handler.run(&admin, "a", award).await.unwrap();
    let base = support::site::serve(handler).await;
    let login =
        support::site::login_link(&store, Role::Staff, Some(new.0), "枫林社区 网格员").await;

    // 枫林社区's clerk types her in.
    let desk = Browser::launch(&binary, 1366, 900, false).await;
    desk.open(&format!("{base}{login}")).await;
    desk.click("form button[type=submit]").await;
    desk.open(&format!("{base}/console/volunteers/new")).await;
    desk.fill("#name", "王秀英").await;
    desk.fill("#id_number", "110101195001011239").await;
    desk.eval("document.querySelector('#stairwell').selectedIndex = 1")
        .await;
    desk.fill("#household", "5-1-302").await;
    desk.click("form.grid button[type=submit]").await;
    let text = desk.text().await;
    assert!(text.contains("已有档案：TB-000001"), "{text}");
    assert!(
        text.contains("转移接续") && text.contains("转入本社区"),
        "the move is offered: {text}"
    );
    desk.eval("document.querySelector('#transfer').scrollIntoView()")
        .await;
    screenshot(&desk, "console-transfer-offer.png").await;

    // One click moves her record here.
    desk.click("#transfer button[type=submit]").await;
    desk.wait_for(
        "document.body.innerText.includes('已转入本社区')",
        Duration::from_secs(10),
    )
    .await;
    let text = desk.text().await;
    assert!(text.contains("已转入本社区，新编号：TB-000001"), "{text}");
    let points = desk
        .eval("document.querySelector('.tiles .big').innerText")
        .await;
    assert_eq!(points, "20", "her points followed: {text}");
    assert!(
        text.contains("13812345678"),
        "this community's staff see her phone whole now"
    );
    screenshot(&desk, "console-transfer-done.png").await;

    // Her old community's desk no longer lists her.
    let login =
        support::site::login_link(&store, Role::Staff, Some(old.0), "海棠社区 网格员").await;
    let other = Browser::launch(&binary, 1366, 768, false).await;
    other.open(&format!("{base}{login}")).await;
    other.click("form button[type=submit]").await;
    other.open(&format!("{base}/console/volunteers")).await;
    assert!(
        !other.text().await.contains("王秀英"),
        "{}",
        other.text().await
    );
}
