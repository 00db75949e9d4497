//! Every page with the demo community, in a real headless Chromium, as the people who
//! use them: staff at the desk go through each part of the console and do its work
//! (register a volunteer and correct their phone, award points to two ticked
//! volunteers at once, inspect a stairwell by the rubric, post and confirm wishes,
//! decide an objection, issue and print a certificate, open the annual report, end a
//! phone's session); an admin sets a new version of the rules; the volunteer reads
//! their inbox, certificates, statement and wishes on a phone; the hall shows the
//! award. Each page is checked for what its user needs to see and for no error, and
//! photographed (`target/screenshots/`, and `docs/screenshots/` with
//! `UPDATE_SCREENSHOTS=1`).

#[allow(dead_code)] // the browser client has more than the tour uses
mod support;

use api::{AppState, Role, ServeConfig};
use ledger::command::*;
use std::path::PathBuf;
use std::time::Duration;
use support::browser::{chromium, Browser};
use uuid::Uuid;

struct Demo {
    base: String,
    store: ledger::Store,
    community: Uuid,
    volunteer: Uuid,
    _dir: ledger::testing::TempDir,
}

/// The demo community (smaller than `serve --demo`'s) with its present around now,
/// served with the pages on a free port.
async fn demo() -> Demo {
    let (store, dir) = ledger::testing::sqlite_store().await;
    let handler = CommandHandler::new(store.clone());
    let opts = ledger::demo::DemoOptions {
        volunteers: 60,
        events: 2_500,
        activities: 4,
        ..Default::default()
    };
    ledger::demo::generate(&handler, opts, |_| {})
        .await
        .unwrap();
    let day = ledger::demo::present(&handler, chrono::Utc::now())
        .await
        .unwrap();
    let projections = projections::start(store.clone()).await;
    let head = store.head().await.unwrap();
    projections
        .wait_for(head, Duration::from_secs(60))
        .await
        .unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(_tx);
    let state = AppState::with_handler(handler, &ServeConfig::default(), rx, Some(projections));
    let app = api::router(state.clone()).merge(web::routes(state, web::WebConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Demo {
        base,
        store,
        community: day.community_id.0,
        volunteer: day.volunteer_id.0,
        _dir: dir,
    }
}

impl Demo {
    async fn link(&self, role: Role, volunteer: Option<Uuid>) -> String {
        let admin = api::auth::Principal {
            street_communities: Vec::new(),
            token_id: Uuid::new_v4(),
            actor: Actor::admin(Uuid::new_v4()),
            label: "test".into(),
        };
        let grant = web::links::Grant {
            street: None,
            role,
            community: (role != Role::Admin).then_some(self.community),
            volunteer,
            label: "测试".into(),
        };
        let now = chrono::Utc::now();
        let code = web::links::create(&self.store, &admin, grant, now)
            .await
            .unwrap();
        format!("{}/login/{code}", self.base)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn screenshot(b: &Browser, name: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    b.screenshot(&root.join("target/screenshots").join(name))
        .await;
    if std::env::var("UPDATE_SCREENSHOTS").is_ok() {
        b.screenshot(&root.join("docs/screenshots").join(name))
            .await;
    }
}

async fn log_in(b: &Browser, url: &str) {
    b.open(url).await;
    b.click("form button[type=submit]").await;
}

/// The page shows `want`, and no error.
async fn shows(b: &Browser, want: &[&str]) -> String {
    let text = b.text().await;
    for w in want {
        assert!(text.contains(w), "no {w:?} on the page:\n{text}");
    }
    for bad in ["操作未完成", "您没有权限", "没有找到", "请稍后重试"] {
        assert!(!text.contains(bad), "{bad:?} on the page:\n{text}");
    }
    text
}

/// Opens `path` and checks it as [`shows`] does.
async fn visit(b: &Browser, d: &Demo, path: &str, want: &[&str]) -> String {
    b.open(&d.url(path)).await;
    shows(b, want).await
}

/// Submits the form of the button `selector` and checks that it went through.
async fn submit(b: &Browser, selector: &str) -> String {
    b.click(selector).await;
    let text = shows(b, &[]).await;
    assert_eq!(
        b.eval("!!document.querySelector('.notice.good')").await,
        true,
        "{text}"
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_page_with_the_demo_community() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but Chromium is not installed"
        );
        eprintln!("browser tests SKIPPED: no chromium on this machine");
        return;
    };
    let d = demo().await;
    let staff = Browser::launch(&binary, 1366, 768, false).await;
    log_in(&staff, &d.link(Role::Staff, None).await).await;
    desk(&staff, &d).await;
    let phone = Browser::launch(&binary, 360, 640, true).await;
    log_in(&phone, &d.link(Role::Volunteer, Some(d.volunteer)).await).await;
    on_the_phone(&phone, &d).await;
    at_the_shop(&staff, &phone, &d).await;
    let hall = Browser::launch(&binary, 1920, 1080, false).await;
    log_in(&hall, &d.link(Role::Display, None).await).await;
    shows(&hall, &["本月流动红旗", "最新表扬", "北门治安巡逻"]).await;
    assert_eq!(
        hall.eval("!!document.querySelector('.flag .flag-icon')")
            .await,
        true
    );
    screenshot(&hall, "hall.png").await;
    // Staff end the phone's session: the phone is logged out at once.
    visit(&staff, &d, "/console/sessions", &["已登录的设备", "志愿者"]).await;
    screenshot(&staff, "console-sessions.png").await;
    staff
        .eval("[...document.querySelectorAll('tr')].find(r => r.innerText.includes('志愿者 ·')).querySelector('button').id = 'end-it'")
        .await;
    submit(&staff, "#end-it").await;
    phone.open(&d.url("/m")).await;
    assert!(phone
        .text()
        .await
        .contains("请打开社区工作人员发给您的登录链接"));
    // An admin sets a new version of the star thresholds.
    let admin = Browser::launch(&binary, 1366, 768, false).await;
    log_in(&admin, &d.link(Role::Admin, None).await).await;
    admin.click("main a.button").await;
    let c = d.community.to_string();
    visit(&admin, &d, &format!("/console/setup?c={c}"), &["星级标准"]).await;
    // Before changing a rule, try it on the log: nothing is written.
    let head = d.store.head().await.unwrap();
    admin.click("a[href*='/console/setup/whatif']").await;
    shows(&admin, &["规则试算", "每小时积分"]).await;
    admin.fill("#pph", "20").await;
    admin.fill("#h1", "10").await;
    admin.fill("#h2", "30").await;
    admin.fill("#h3", "60").await;
    admin.fill("#h4", "100").await;
    admin.fill("#h5", "150").await;
    admin.click("form.grid button.primary").await;
    shows(
        &admin,
        &[
            "试算结果",
            "积分合计",
            "星级人数",
            "积分前 20 名",
            "积分变化最大的志愿者",
        ],
    )
    .await;
    screenshot(&admin, "console-whatif.png").await;
    // A rubric tried on the year's inspections: who would hold the red flag.
    visit(
        &admin,
        &d,
        &format!("/console/setup/whatif/rubric?c={c}"),
        &["评分细则试算", "换算办法"],
    )
    .await;
    admin.fill("input[name=item_max_0]", "50").await;
    admin.fill("input[name=item_max_1]", "15").await;
    admin.fill("input[name=item_max_2]", "15").await;
    admin.click("form.grid button.primary").await;
    shows(&admin, &["流动红旗", "楼道年度平均分与名次", "月"]).await;
    screenshot(&admin, "console-whatif-rubric.png").await;
    assert_eq!(
        d.store.head().await.unwrap(),
        head,
        "a what-if writes nothing"
    );
    visit(&admin, &d, &format!("/console/setup?c={c}"), &["星级标准"]).await;
    admin.fill("#star1", "50").await;
    submit(&admin, "form[action*='/console/setup/stars'] button").await;
    assert_eq!(
        admin.eval("document.querySelector('#star1').value").await,
        "50"
    );
    // Then stars that take points earned as well: one box alone is refused, five go.
    admin.fill("#starp1", "100").await;
    admin
        .click("form[action*='/console/setup/stars'] button")
        .await;
    assert!(admin.text().await.contains("填写的内容有误"));
    visit(&admin, &d, &format!("/console/setup?c={c}"), &["星级标准"]).await;
    for (n, p) in ["1000", "2000", "3000", "4000", "5000"].iter().enumerate() {
        admin.fill(&format!("#starp{}", n + 1), p).await;
    }
    submit(&admin, "form[action*='/console/setup/stars'] button").await;
    assert_eq!(
        admin.eval("document.querySelector('#starp3').value").await,
        "3000"
    );
    // Points expire a month after their credit, on the day: an award from now on is
    // due within 90 days, and the phone says so.
    admin.fill("#ex-m", "1").await;
    submit(&admin, "form[action*='/console/setup/expiry'] button").await;
    shows(&admin, &["积分有效期 · v1"]).await;
    CommandHandler::new(d.store.clone())
        .run(
            &Actor::admin(Uuid::new_v4()),
            "tour: an award that expires",
            AwardPoints {
                volunteer_id: ledger::ids::VolunteerId(d.volunteer),
                points: 15.into(),
                reason: "社区议事".into(),
            },
        )
        .await
        .unwrap();
    // The volunteer's phone says what the next star still takes (hours and points),
    // and which points expire soon.
    let again = Browser::launch(&binary, 360, 640, true).await;
    log_in(&again, &d.link(Role::Volunteer, Some(d.volunteer)).await).await;
    let home = shows(&again, &["距下一星还差", "90 天内到期 15 分"]).await;
    assert!(home.contains(" 积分"), "{home}");
    screenshot(&again, "phone-star-points.png").await;
    // Hours go only to relatives from now on, and an account banks at most 1,500 h.
    admin
        .eval("document.querySelector('input[name=relativesOnly]').checked = true")
        .await;
    admin.fill("#cap", "1500").await;
    submit(&admin, "form[action*='/console/setup/hours'] button").await;
    shows(&admin, &["时间银行规则 · v1"]).await;
    assert_eq!(
        admin.eval("document.querySelector('#cap').value").await,
        "1500"
    );
    assert_eq!(
        admin
            .eval("document.querySelector('input[name=relativesOnly]').checked")
            .await,
        true
    );
}

/// Staff go through every part of the console and do its work.
async fn desk(b: &Browser, d: &Demo) {
    let text = shows(
        b,
        &[
            "今日待办",
            "今日活动",
            "待审核考勤",
            "待检查楼道",
            "北门治安巡逻",
        ],
    )
    .await;
    assert!(text.contains("楼道清理日"), "{text}");
    screenshot(b, "console.png").await;
    // Activities: the month's list, the activity under way with its check-ins.
    visit(b, d, "/console/activities", &["北门治安巡逻", "合计"]).await;
    b.click("table a[href*='/console/activities/']").await;
    shows(b, &["报名名单"]).await;
    // The one that ended yesterday: approval, with a row left out.
    visit(b, d, "/console", &[]).await;
    let approve = b
        .eval("[...document.querySelectorAll('a')].find(a => a.innerText === '敬老院探访').href")
        .await;
    b.open(approve.as_str().unwrap()).await;
    shows(b, &["考勤审核", "计入"]).await;
    b.eval("document.querySelector('table.approval input[type=checkbox]').checked = false")
        .await;
    screenshot(b, "console-approval.png").await;
    submit(b, "form[action*='/approve'] button.primary").await;
    shows(b, &["不计入", "公示中"]).await;
    // 公示 and objections: the objection on the repair day is upheld with a correction.
    visit(
        b,
        d,
        "/console/notices",
        &["家电义务维修", "当天只待了半小时就走了"],
    )
    .await;
    b.eval("document.querySelector('form.inline select[name=verdict]').value = 'CORRECT'")
        .await;
    b.fill("form.inline input[name=hours]", "0.5").await;
    b.fill("form.inline input[name=reason]", "核实只服务了半小时")
        .await;
    screenshot(b, "console-notices.png").await;
    b.click("form.inline button").await;
    // Upholding it first says what it changes, before the clerk confirms.
    shows(
        b,
        &[
            "处理异议前确认",
            "公示期满后将少计入",
            "社区排行榜的名次",
            "尚未计入",
        ],
    )
    .await;
    screenshot(b, "console-objection-impact.png").await;
    submit(b, "form input[name=confirmed] ~ button.primary").await;
    shows(b, &["更正时长", "核实只服务了半小时"]).await;
    volunteers(b, d).await;
    // Points: the latest awards list the two just made.
    visit(
        b,
        d,
        "/console/points",
        &["批量奖励积分", "最近的奖励", "社区议事"],
    )
    .await;
    // Stairwells: the red flag, and an inspection of one still due.
    visit(
        b,
        d,
        "/console/stairwells",
        &["本月流动红旗", "本月未检查", "季度平均分", "季度流动红旗"],
    )
    .await;
    screenshot(b, "console-stairwells.png").await;
    let inspect = b
        .eval("[...document.querySelectorAll('tr')].find(r => r.innerText.includes('本月未检查')).querySelector('a').href")
        .await;
    b.open(inspect.as_str().unwrap()).await;
    shows(b, &["楼道卫生", "消防安全"]).await;
    b.eval("document.querySelectorAll('form.grid input[type=number]').forEach(i => i.value = 20)")
        .await;
    submit(
        b,
        "form[action*='/console/stairwells/inspect'] button.primary",
    )
    .await;
    // Wishes: a resident's wish posted; the fulfilled one confirmed.
    visit(
        b,
        d,
        "/console/wishes?status=FULFILLED",
        &["想学用手机挂号", "确认完成"],
    )
    .await;
    submit(b, "form.inline button").await;
    visit(b, d, "/console/wishes", &["登记心愿"]).await;
    b.fill("#w-c", "维修").await;
    b.fill("#w-d", "楼道灯坏了").await;
    b.fill("#w-r", "4栋住户").await;
    submit(b, "form[action*='/console/wishes'] button.primary").await;
    shows(b, &["楼道灯坏了"]).await;
    screenshot(b, "console-wishes.png").await;
    // Reports: this year's figures and downloads; the HTML opens in the browser.
    let year = chrono::Utc::now().format("%Y").to_string();
    visit(
        b,
        d,
        "/console/reports",
        &["年度表彰报表", "服务时长排行", "下载 HTML"],
    )
    .await;
    screenshot(b, "console-reports.png").await;
    let html = b
        .eval("[...document.querySelectorAll('a')].find(a => a.innerText.includes('HTML')).href")
        .await;
    b.open(html.as_str().unwrap()).await;
    assert!(b.text().await.contains(&year), "{}", b.text().await);
    // An address that is no page: a page in Chinese that says so.
    b.open(&d.url("/console/nothing-here")).await;
    assert!(b.text().await.contains("没有这个页面"));
    // Setup: the organisation, and the rules (staff see them, admins change them).
    visit(
        b,
        d,
        "/console/setup",
        &["网格", "文明楼道评分细则", "规则由管理员设置"],
    )
    .await;
    assert_eq!(
        b.eval("document.querySelector('#pph').disabled").await,
        true
    );
}

/// The volunteers' part of the desk.
async fn volunteers(b: &Browser, d: &Demo) {
    visit(
        b,
        d,
        "/console/volunteers",
        &["全社区合计", "志愿者", "手机号"],
    )
    .await;
    screenshot(b, "console-volunteers.png").await;
    // Sorted by points, highest first.
    visit(b, d, "/console/volunteers?sort=points", &["积分 ▼"]).await;
    // Register a volunteer with a hostile name; correct the phone; find them by it.
    visit(b, d, "/console/volunteers/new", &["登记志愿者"]).await;
    b.fill("#name", "<script>window.__pwned=1</script>").await;
    b.fill("#phone", "13811112222").await;
    b.fill("#household", "3-2-201").await;
    b.eval("document.querySelector('#stairwell').selectedIndex = 1")
        .await;
    let text = submit(b, "form.grid button.primary").await;
    assert!(text.contains("13811112222"), "{text}");
    assert_eq!(b.eval("window.__pwned === undefined").await, true);
    b.fill("#e-p", "13933334444").await;
    submit(b, "form[action*='/correct'] button").await;
    let found = visit(b, d, "/console/volunteers?search=4444", &["13933334444"]).await;
    assert!(
        found.contains("<script>window.__pwned=1</script>"),
        "{found}"
    );
    // "Tick all on this page" needs no script.
    visit(b, d, "/console/volunteers", &["全选本页"]).await;
    b.click("a[href*='tick=all']").await;
    let ticked = b
        .eval("document.querySelectorAll('table.list input[type=checkbox]:checked').length")
        .await;
    assert!(ticked.as_u64().unwrap() >= 40, "{ticked}");
    // Tick two volunteers and award them at once.
    visit(b, d, "/console/volunteers", &[]).await;
    let tick = "document.querySelectorAll('table.list tr:not(.departed) input[type=checkbox]')";
    b.eval(&format!(
        "{tick}[0].checked = true; {tick}[1].checked = true"
    ))
    .await;
    b.fill("fieldset.bulk input[name=points]", "3").await;
    b.fill("fieldset.bulk input[name=reason]", "社区议事会服务")
        .await;
    submit(b, "fieldset.bulk button").await;
    let second = "[...document.querySelectorAll('table.list tbody tr:not(.departed)')].map(r => (r.innerText.match(/TB-\\d{6}/) || [])[0]).filter(Boolean)[1]";
    let relative = b.eval(second).await;
    let relative = relative
        .as_str()
        .expect("a second volunteer's number")
        .to_string();
    // A volunteer's page: award, certificate, login link.
    b.click("table.list tr:not(.departed) td a").await;
    shows(
        b,
        &["最近明细", "社区议事会服务", "开具服务证明", "未登记家属"],
    )
    .await;
    // A relative, linked with both sides' consent.
    b.fill("#rel-n", &relative).await;
    b.fill("#rel-r", "母亲").await;
    b.eval("document.querySelector('input[name=consent]').checked = true")
        .await;
    submit(b, "form[action*='/relatives'] button").await;
    shows(b, &["家属关系已登记", "（母亲）"]).await;
    // The service record: a training, a commendation on last year's annual report, a
    // resident's evaluation heard on a return call.
    b.fill("#tr-c", "应急救护培训").await;
    b.fill("#tr-h", "2").await;
    submit(b, "form[action*='/training'] button").await;
    shows(b, &["培训记录已登记", "应急救护培训 · 2 小时"]).await;
    let last_year = chrono::Datelike::year(&chrono::Utc::now()) - 1;
    b.fill("#cm-t", "社区平安建设先进个人").await;
    b.fill("#cm-y", &last_year.to_string()).await;
    submit(b, "form[action*='/commendation'] button").await;
    shows(
        b,
        &[
            "表彰已登记",
            &format!("社区平安建设先进个人 · 依据：{last_year}年度表彰报告"),
        ],
    )
    .await;
    b.eval("document.querySelector('form[action*=\"/evaluate/\"] select').value = '4'")
        .await;
    b.fill(
        "form[action*='/evaluate/'] input[name=comment]",
        "回访：老人说很满意",
    )
    .await;
    submit(b, "form[action*='/evaluate/'] button").await;
    shows(b, &["服务评价已登记", "★★★★☆", "回访：老人说很满意"]).await;
    b.eval("[...document.querySelectorAll('h2')].find(h => h.textContent == '服务档案').scrollIntoView()")
        .await;
    screenshot(b, "console-record.png").await;
    b.eval("window.scrollTo(0, 0)").await;
    screenshot(b, "console-volunteer.png").await;
    // A correction: the desk shows what reversing a line would change before the clerk
    // confirms it with a reason.
    b.click("a[href*='/reverse/']").await;
    shows(
        b,
        &[
            "冲正前确认",
            "将扣回",
            "星级",
            "社区排行榜的名次",
            "已出具的证明与报表",
        ],
    )
    .await;
    screenshot(b, "console-correction.png").await;
    b.fill("#why", "重复录入").await;
    submit(b, "form[action*='/reverse/'] button").await;
    shows(b, &["已冲正"]).await;
    b.fill("#o", "海棠社区居民委员会").await;
    b.click("form[action*='/certificate'] button").await;
    shows(b, &["志愿服务记录证明"]).await;
    screenshot(b, "certificate.png").await;
}

/// The points shop: the desk lists an item; the volunteer redeems it on the phone
/// (asked once more), sees the code of the towel waiting, and the clerk types that code
/// at the desk and hands the towel over; the phone then shows it collected.
async fn at_the_shop(desk: &Browser, phone: &Browser, d: &Demo) {
    visit(
        desk,
        d,
        "/console/shop",
        &[
            "积分超市",
            "兑换码核销",
            "待领取的兑换",
            "毛巾",
            "月度库存与兑换表",
            "取消退回",
        ],
    )
    .await;
    desk.fill("input[name=name]", "抽纸 一提").await;
    desk.fill("input[name=price]", "1").await;
    desk.fill("input[name=stock]", "10").await;
    desk.fill("input[name=collectAt]", "社区服务站一楼").await;
    submit(desk, "#list-item button").await;
    shows(desk, &["商品已上架", "抽纸 一提"]).await;
    screenshot(desk, "console-shop.png").await;
    visit(
        phone,
        d,
        "/m/shop",
        &[
            "积分超市",
            "我的积分",
            "领取时请出示兑换码",
            "毛巾",
            "抽纸 一提",
        ],
    )
    .await;
    screenshot(phone, "phone-shop.png").await;
    let code = phone
        .eval("document.querySelector('.code-big').innerText")
        .await;
    let code = code.as_str().expect("a code on the phone").to_string();
    assert_eq!(code.len(), 8, "{code}");
    let redeem = "[...document.querySelectorAll('article')].find(a => a.innerText.includes('抽纸')).querySelector('a.button').href";
    let href = phone.eval(redeem).await;
    phone.open(href.as_str().expect("a redeem button")).await;
    shows(phone, &["确认兑换", "抽纸 一提", "兑换后剩余积分"]).await;
    phone.click("form button.primary").await;
    shows(phone, &["兑换成功"]).await;
    // At the counter: the towel's code, typed as said aloud.
    desk.open(&d.url(&format!("/console/shop?code={}", code.to_lowercase())))
        .await;
    shows(desk, &["毛巾", &code]).await;
    let collect = "[...document.querySelectorAll('article')].find(a => a.innerText.includes('毛巾')).querySelector('button.primary')";
    desk.eval(&format!("{collect}.id = 'collect-this'")).await;
    desk.click("#collect-this").await;
    shows(desk, &["已核销"]).await;
    let mine = visit(phone, d, "/m/shop", &["积分超市"]).await;
    assert!(mine.contains("毛巾 · 已领取"), "{mine}");
}

/// The volunteer on a phone.
async fn on_the_phone(b: &Browser, d: &Demo) {
    let home = shows(b, &["积分", "服务时长", "星级", "消息", "我的证明"]).await;
    assert!(
        b.eval("!!document.querySelector('.badge')").await == true,
        "{home}"
    );
    screenshot(b, "phone.png").await;
    let inbox = visit(b, d, "/m/inbox", &["消息"]).await;
    assert!(inbox.contains("获得积分奖励 +5（楼道清扫日）"), "{inbox}");
    screenshot(b, "phone-inbox.png").await;
    // Read now: no badge on the home page.
    visit(b, d, "/m", &[]).await;
    assert_eq!(b.eval("!!document.querySelector('.badge')").await, false);
    visit(b, d, "/m/statement", &["积分明细"]).await;
    // Nothing to check into now: the volunteer signed up only for tomorrow.
    visit(b, d, "/m/checkin", &["现在没有可以签到的活动"]).await;
    // 公示: the records on notice, and an objection from the phone.
    visit(b, d, "/m/notices", &["公示", "敬老院探访"]).await;
    b.eval("document.querySelector('details').open = true")
        .await;
    b.fill("form.checkin input[name=reason]", "那天我在场，他没来")
        .await;
    b.click("form.checkin button").await;
    shows(b, &["操作成功"]).await;
    // The mother staff linked at the desk: an hour for her care later.
    visit(b, d, "/m/family", &["我的家属", "（母亲）", "时间银行余额"]).await;
    b.click("form.checkin button").await;
    shows(b, &["操作成功"]).await;
    // The service record: training, the commendation, and the haircut a neighbour gave
    // for an hour, rated with one tap.
    visit(
        b,
        d,
        "/m/record",
        &[
            "我的档案",
            "应急救护培训",
            "年度优秀志愿者",
            "上门理发",
            "非常满意",
        ],
    )
    .await;
    screenshot(b, "phone-record.png").await;
    b.click("div.rate button[value='5']").await;
    shows(b, &["谢谢您的评价", "★★★★★ 非常满意"]).await;
    assert_eq!(
        b.eval("!!document.querySelector('div.rate')").await,
        false,
        "rated once: no buttons left"
    );
    visit(b, d, "/m/certificates", &["我的证明"]).await;
    visit(b, d, "/m/wishes", &["小心愿"]).await;
    visit(b, d, "/m/activities", &["楼道清理日"]).await;
    screenshot(b, "phone-activities.png").await;
    // Withdrawing asks once more; then the place is given up.
    b.click("form input[value=withdraw] ~ button").await;
    shows(b, &["确定要取消报名吗"]).await;
    b.click("form button.primary").await;
    shows(b, &["操作成功"]).await;
    visit(b, d, "/m", &["您还没有报名活动"]).await;
    visit(b, d, "/m", &[]).await;
    b.click("footer form button").await;
    let size = b
        .eval("parseFloat(getComputedStyle(document.body).fontSize)")
        .await;
    assert!(size.as_f64().unwrap() >= 20.0, "{size}");
    screenshot(b, "phone-elder.png").await;
}
