//! A history import (历史导入) on both backends: a fixture workbook made with
//! rust_xlsxwriter (a date cell, days and hours as clerks write them, other header
//! names, and bad rows of every kind). The dry run writes nothing; the real run
//! records the valid rows on the volunteers' accounts (their verified hours, for
//! stars and totals) as one batch; the same file again adds nothing; a run killed
//! half-way and started again finishes without duplicates; the batch is reversed as
//! one, and its file then cannot be imported again.

use import::sheet::{self, REASON_HEADER};
use import::{import_history, Outcome, RowStatus};
use ledger::amount::Hours;
use ledger::command::*;
use ledger::ids::*;
use ledger::Store;
use std::path::Path;
use uuid::Uuid;

fn id(body: &str) -> String {
    let check = ledger::domain::volunteer::id_check_character(body).unwrap();
    format!("{body}{check}")
}

struct World {
    h: CommandHandler,
    admin: Actor,
    community: CommunityId,
    /// 王秀英 (by ID number) and 李建国 (by name).
    wang: VolunteerId,
    li: VolunteerId,
}

async fn world(store: &Store) -> World {
    let h = CommandHandler::new(store.clone());
    let admin = Actor::admin(Uuid::from_u128(7));
    let run_est = |name: &'static str, key: &'static str| {
        let (h, admin) = (&h, &admin);
        async move {
            let c = EstablishCommunity { name: name.into() };
            h.run(admin, key, c).await.unwrap().result.community_id
        }
    };
    let (community, other) = (
        run_est("海棠社区", "c").await,
        run_est("枫林社区", "o").await,
    );
    let mut stairwells = Vec::new();
    for (c, key) in [(community, "1"), (other, "2")] {
        let g = AddGrid {
            community_id: c,
            name: "一网格".into(),
            parent: None,
        };
        let g = h.run(&admin, &format!("g{key}"), g).await.unwrap();
        let s = RegisterStairwell {
            community_id: c,
            grid_id: g.result.grid_id,
            building: "3栋".into(),
            unit: "2单元".into(),
            households: 20,
        };
        let s = h.run(&admin, &format!("s{key}"), s).await.unwrap();
        stairwells.push(s.result.stairwell_id);
    }
    let register = |c: CommunityId, s: StairwellId, name: &str, id_number: Option<String>| {
        let (h, admin) = (h.clone(), admin.clone());
        let name = name.to_string();
        async move {
            let r = RegisterVolunteer {
                community_id: c,
                name: name.clone(),
                phone: None,
                id_number,
                stairwell_id: s,
                tags: vec![],
                teams: vec![],
                household: None,
            };
            let key = format!("r-{name}-{c}");
            h.run(&admin, &key, r).await.unwrap().result.volunteer_id
        }
    };
    let (s, os) = (stairwells[0], stairwells[1]);
    let wang = register(community, s, "王秀英", Some(id("11010119500101001"))).await;
    let li = register(community, s, "李建国", None).await;
    let r1 = RegisterVolunteer {
        community_id: community,
        name: "张伟".into(),
        phone: Some("13800000001".into()),
        id_number: None,
        stairwell_id: s,
        tags: vec![],
        teams: vec![],
        household: None,
    };
    let r2 = RegisterVolunteer {
        phone: Some("13800000002".into()),
        ..r1.clone()
    };
    h.run(&admin, "zw1", r1).await.unwrap();
    h.run(&admin, "zw2", r2).await.unwrap();
    register(other, os, "周八", Some(id("11010119600606666"))).await;
    World {
        h,
        admin,
        community,
        wang,
        li,
    }
}

/// The fixture as a workbook; row 2's day is a date cell.
fn workbook(path: &Path) {
    let wang = id("11010119500101001");
    let zhou = id("11010119600606666");
    let rows: Vec<[&str; 6]> = vec![
        ["王秀英", &wang, "", "巡逻", "2", "夜间"],
        ["李建国", "", "2019/6/1", "走访独居老人", "1.5小时", ""],
        ["张伟", "", "2019-07-01", "维修", "1", ""],
        ["陈九", "", "2019-07-01", "维修", "1", ""],
        ["周八", &zhou, "2019-07-01", "维修", "1", ""],
        ["王秀英", "", "昨天", "巡逻", "1", ""],
        ["王秀英", "", "2019-08-01", "巡逻", "30", ""],
        ["王秀英", "", "2099-01-01", "巡逻", "1", ""],
        ["李建国", "", "2020年1月10日", "修理水管", "90分钟", "三楼"],
    ];
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let headers = [
        "姓名",
        "身份证号",
        "服务日期",
        "服务内容",
        "时长（小时）",
        "备注",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            if c == 2 && i == 0 {
                let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2019, 3, 5).unwrap();
                ws.write_datetime_with_format(r, 2, &d, &date).unwrap();
            } else if !v.is_empty() {
                ws.write_string(r, c as u16, *v).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

fn statuses(o: &Outcome) -> Vec<(usize, &'static str)> {
    o.rows
        .iter()
        .map(|r| {
            let s = match r.status {
                RowStatus::Recorded { .. } => "recorded",
                RowStatus::AlreadyImported { .. } => "imported before",
                RowStatus::Rejected { .. } => "rejected",
                _ => "other",
            };
            (r.row, s)
        })
        .collect()
}

fn reason(o: &Outcome, row: usize) -> String {
    match &o.rows.iter().find(|r| r.row == row).unwrap().status {
        RowStatus::Rejected { reason } => reason.clone(),
        other => panic!("row {row}: {other:?}"),
    }
}

async fn verified(w: &World, v: VolunteerId) -> Hours {
    w.h.volunteer_state(v).await.unwrap().verified_hours
}

fn fixture() -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tb-history-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("2019台账.xlsx");
    workbook(&file);
    (dir, file)
}

async fn go(w: &World, sheet: &import::Sheet, dry: bool) -> Result<Outcome, import::ImportError> {
    let mut quiet = |_: usize, _: usize| {};
    import_history(
        &w.h,
        &w.admin,
        w.community,
        "2019台账.xlsx",
        sheet,
        &[],
        dry,
        &mut quiet,
    )
    .await
}

async fn history(store: Store) {
    let w = world(&store).await;
    let (dir, file) = fixture();
    let sheet = sheet::read(&file).unwrap();
    assert_eq!(
        sheet.rows[0].1[2], "2019-03-05",
        "a date cell reads as its day"
    );
    let run = |dry: bool| go(&w, &sheet, dry);

    let head = store.head().await.unwrap();
    let dry = run(true).await.unwrap();
    assert_eq!(
        store.head().await.unwrap(),
        head,
        "a dry run writes nothing"
    );
    let expected = vec![
        (2, "recorded"),
        (3, "recorded"),
        (4, "rejected"),
        (5, "rejected"),
        (6, "rejected"),
        (7, "rejected"),
        (8, "rejected"),
        (9, "rejected"),
        (10, "recorded"),
    ];
    assert_eq!(statuses(&dry), expected);
    assert!(
        reason(&dry, 4).contains("2位志愿者叫“张伟”"),
        "{}",
        reason(&dry, 4)
    );
    assert!(reason(&dry, 5).contains("没有叫“陈九”"));
    assert!(reason(&dry, 6).contains("其他社区"));
    assert!(reason(&dry, 7).contains("日期看不懂"));
    assert!(reason(&dry, 8).contains("上限"));
    assert!(reason(&dry, 9).contains("过去"));

    let done = run(false).await.unwrap();
    assert_eq!(done.counts(), (3, 0, 6));
    let batch = done.batch.expect("a batch");
    assert_eq!(verified(&w, w.wang).await, Hours::whole(2));
    assert_eq!(
        verified(&w, w.li).await,
        Hours::whole(3),
        "1.5 h and 90 minutes"
    );
    let li = w.h.volunteer_state(w.li).await.unwrap();
    assert!(
        li.hours > Hours::ZERO && li.points.is_positive(),
        "banked and credited"
    );

    // The same file again adds nothing.
    let head = store.head().await.unwrap();
    let again = run(false).await.unwrap();
    assert_eq!(again.counts(), (0, 3, 6));
    assert_eq!(store.head().await.unwrap(), head);

    // The rejected rows come back with their reasons.
    let out = dir.join("rejected.xlsx");
    sheet::write_rejected(&sheet, &done.rejected(&sheet), &out).unwrap();
    let back = sheet::read(&out).unwrap();
    assert_eq!(back.headers.last().map(String::as_str), Some(REASON_HEADER));
    assert_eq!(back.rows.len(), 6);

    // The batch reversed as one: every entry taken back, linked to the batch.
    let reverse = |reason: &str| ReverseImportBatch {
        batch_id: batch,
        reason: reason.into(),
        impacts: vec![],
    };
    let r = w.h.run(&w.admin, "rev", reverse("导错了表")).await.unwrap();
    assert_eq!((r.result.entries, r.result.volunteers), (3, 2));
    assert_eq!(verified(&w, w.wang).await, Hours::ZERO);
    assert_eq!(verified(&w, w.li).await, Hours::ZERO);
    let e =
        w.h.run(&w.admin, "rev2", reverse("again"))
            .await
            .unwrap_err();
    assert_eq!(e.code(), "INVALID_STATE");
    assert!(
        run(false).await.is_err(),
        "a reversed file is not imported again"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A run killed after its first row, started again: it finishes, nothing twice.
async fn killed_and_started_again(store: Store) {
    let w = world(&store).await;
    let (dir, file) = fixture();
    let sheet = sheet::read(&file).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let (h, admin, community, s) = (w.h.clone(), w.admin.clone(), w.community, sheet.clone());
    let task = tokio::spawn(async move {
        let mut first = move |done: usize, _: usize| {
            if done == 1 {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
            }
        };
        import_history(
            &h,
            &admin,
            community,
            "2019台账.xlsx",
            &s,
            &[],
            false,
            &mut first,
        )
        .await
    });
    rx.await.unwrap();
    task.abort();
    let _ = task.await;
    let again = import_history(
        &w.h,
        &w.admin,
        w.community,
        "2019台账.xlsx",
        &sheet,
        &[],
        false,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let (new, earlier, rejected) = again.counts();
    assert_eq!((new + earlier, rejected), (3, 6));
    assert!(earlier >= 1, "the first row went in before the kill");
    assert_eq!(verified(&w, w.wang).await, Hours::whole(2));
    assert_eq!(verified(&w, w.li).await, Hours::whole(3));
    std::fs::remove_dir_all(&dir).ok();
}

macro_rules! both {
    ($name:ident, $sqlite:ident, $pg:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let (store, _dir) = ledger::testing::sqlite_store().await;
            $name(store).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $pg() {
            if let Some(store) = ledger::testing::postgres_store().await {
                $name(store).await;
            }
        }
    };
}

both!(
    history,
    a_history_is_checked_then_recorded_once_and_reversed_as_one_sqlite,
    a_history_is_checked_then_recorded_once_and_reversed_as_one_postgres
);
both!(
    killed_and_started_again,
    a_killed_history_import_finishes_without_duplicates_sqlite,
    a_killed_history_import_finishes_without_duplicates_postgres
);
