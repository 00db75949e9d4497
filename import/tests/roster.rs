//! Importing a roster on both backends: a fixture workbook made with rust_xlsxwriter
//! (columns in another order, other header names, extra columns, a phone typed as a
//! number, a blank row, and bad rows of every kind); the dry run writes nothing and
//! says what would happen; the real run registers the valid rows and gives the rejected
//! ones back with a 错误原因 column; the same file again adds nothing; a run killed
//! half-way and started again finishes without duplicates; a CSV saved from Excel too.

use import::sheet::{self, REASON_HEADER};
use import::{import_roster, Outcome, RowStatus};
use ledger::command::*;
use ledger::ids::*;
use ledger::Store;
use std::path::Path;
use uuid::Uuid;

/// An ID number with its check character (GB 11643).
fn id(body: &str) -> String {
    let check = ledger::domain::volunteer::id_check_character(body).unwrap();
    format!("{body}{check}")
}

struct World {
    h: CommandHandler,
    admin: Actor,
    community: CommunityId,
    /// The number of a volunteer of another community whose ID number is in the sheet.
    elsewhere: String,
}

async fn world(store: &Store) -> World {
    let h = CommandHandler::new(store.clone());
    let admin = Actor::admin(Uuid::from_u128(7));
    let est = |name: &str| EstablishCommunity { name: name.into() };
    let community = h
        .run(&admin, "c", est("海棠社区"))
        .await
        .unwrap()
        .result
        .community_id;
    let other = h
        .run(&admin, "o", est("枫林社区"))
        .await
        .unwrap()
        .result
        .community_id;
    let grid = |c, key| {
        let (h, admin) = (&h, &admin);
        async move {
            let g = AddGrid {
                community_id: c,
                name: "一网格".into(),
                parent: None,
            };
            h.run(admin, key, g).await.unwrap().result.grid_id
        }
    };
    let (g, og) = (grid(community, "g").await, grid(other, "og").await);
    let stairwell = |c, g, key, building: &str, unit: &str| {
        let (h, admin) = (&h, &admin);
        let (building, unit) = (building.to_string(), unit.to_string());
        async move {
            let s = RegisterStairwell {
                community_id: c,
                grid_id: g,
                building,
                unit,
                households: 20,
            };
            h.run(admin, key, s).await.unwrap().result.stairwell_id
        }
    };
    stairwell(community, g, "s1", "3栋", "2单元").await;
    stairwell(community, g, "s2", "5栋", "1单元").await;
    let os = stairwell(other, og, "s3", "1栋", "1单元").await;
    let team = FormTeam {
        community_id: community,
        name: "红管家服务队".into(),
    };
    h.run(&admin, "t", team).await.unwrap();
    let reg = RegisterVolunteer {
        community_id: other,
        name: "周八".into(),
        phone: None,
        id_number: Some(id("11010119600606666")),
        stairwell_id: os,
        tags: vec![],
        teams: vec![],
        household: None,
    };
    let elsewhere = h
        .run(&admin, "v", reg)
        .await
        .unwrap()
        .result
        .volunteer_number;
    World {
        h,
        admin,
        community,
        elsewhere,
    }
}

const HEADERS: [&str; 10] = [
    "序号",
    "姓名",
    "联系电话",
    "身份证号",
    "楼号",
    "单元",
    "网格",
    "服务队",
    "政治面貌",
    "备注",
];

/// The fixture rows: (name, phone, ID number, building, unit, grid, team, 政治面貌).
fn rows() -> Vec<[String; 8]> {
    let r = |cells: [&str; 8]| cells.map(String::from);
    let good = id("11010119500101001");
    vec![
        r([
            "王秀英",
            "13812345678",
            &good,
            "3",
            "2",
            "一网格",
            "红管家服务队",
            "中共党员",
        ]),
        r(["李建国", "", "", "5栋", "1单元", "", "", "群众"]),
        r(["赵六", "1381234", "", "3", "2", "", "", ""]),
        r(["钱七", "", "110101195001010010", "3", "2", "", "", ""]),
        r(["孙九", "", "", "9栋", "1单元", "", "", ""]),
        r(["王秀英", "", &good, "3", "2", "", "", ""]),
        r(["周八", "", &id("11010119600606666"), "3", "2", "", "", ""]),
        r(["吴十", "", "", "3", "2", "", "蓝天队", ""]),
        r(["", "13900001111", "", "3", "2", "", "", ""]),
        r(["", "", "", "", "", "", "", ""]),
        r([
            "张三",
            "",
            &id("11010119700303003"),
            "3号楼",
            "2",
            "一网格",
            "",
            "党员、楼长",
        ]),
    ]
}

/// The fixture as a workbook: a title-less sheet, its header on row 1; the first
/// phone typed as a number.
fn workbook(path: &Path) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, row) in rows().iter().enumerate() {
        let r = i as u32 + 1;
        if row.iter().all(String::is_empty) {
            continue;
        }
        ws.write_number(r, 0, (i + 1) as f64).unwrap();
        for (c, v) in row.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            if c == 1 && i == 0 {
                ws.write_number(r, 2, v.parse::<f64>().unwrap()).unwrap();
            } else {
                ws.write_string(r, c as u16 + 1, v).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

fn by_row(o: &Outcome) -> Vec<(usize, String, &'static str)> {
    o.rows
        .iter()
        .map(|r| {
            let s = match r.status {
                RowStatus::Registered { .. } => "registered",
                RowStatus::AlreadyImported { .. } => "imported before",
                RowStatus::AlreadyRegistered { .. } => "registered before",
                RowStatus::Rejected { .. } => "rejected",
                RowStatus::Recorded { .. } => "recorded",
            };
            (r.row, r.name.clone(), s)
        })
        .collect()
}

fn reason(o: &Outcome, row: usize) -> String {
    match &o.rows.iter().find(|r| r.row == row).unwrap().status {
        RowStatus::Rejected { reason } => reason.clone(),
        other => panic!("row {row}: {other:?}"),
    }
}

async fn roster(store: Store) {
    let w = world(&store).await;
    let dir = std::env::temp_dir().join(format!("tb-import-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("花名册.xlsx");
    workbook(&file);
    let sheet = sheet::read(&file).unwrap();
    assert_eq!(sheet.rows.len(), 10, "the blank row is skipped");
    let mut seen = Vec::new();
    let mut progress = |done: usize, total: usize| seen.push((done, total));

    // The dry run: what would happen, and nothing written.
    let head = store.head().await.unwrap();
    let dry = import_roster(
        &w.h,
        &w.admin,
        w.community,
        &sheet,
        &[],
        true,
        &mut progress,
    )
    .await
    .unwrap();
    assert_eq!(
        store.head().await.unwrap(),
        head,
        "a dry run writes nothing"
    );
    assert_eq!(dry.counts(), (3, 0, 7));
    let expected = [
        (2, "王秀英", "registered"),
        (3, "李建国", "registered"),
        (4, "赵六", "rejected"),
        (5, "钱七", "rejected"),
        (6, "孙九", "rejected"),
        (7, "王秀英", "rejected"),
        (8, "周八", "rejected"),
        (9, "吴十", "rejected"),
        (10, "", "rejected"),
        (12, "张三", "registered"),
    ];
    let got = by_row(&dry);
    assert_eq!(
        got.iter()
            .map(|(r, n, s)| (*r, n.as_str(), *s))
            .collect::<Vec<_>>(),
        expected
    );
    assert!(reason(&dry, 4).contains("手机号格式不对"));
    assert!(reason(&dry, 5).contains("校验位"));
    assert!(reason(&dry, 6).contains("没有这个楼道：9栋 1单元"));
    assert_eq!(reason(&dry, 7), "身份证号与第2行重复");
    assert!(reason(&dry, 8).contains(&w.elsewhere) && reason(&dry, 8).contains("转移"));
    assert_eq!(reason(&dry, 9), "没有这个队伍：蓝天队");
    assert_eq!(reason(&dry, 10), "姓名为空");

    // The real run: the three valid rows registered, the others given back.
    let real = import_roster(
        &w.h,
        &w.admin,
        w.community,
        &sheet,
        &[],
        false,
        &mut progress,
    )
    .await
    .unwrap();
    assert_eq!(real.counts(), (3, 0, 7));
    assert_eq!(seen.last(), Some(&(3, 3)), "progress to the end: {seen:?}");
    let c = w.h.community_state(w.community).await.unwrap();
    assert_eq!(c.volunteers_enrolled, 3);
    let rejected = dir.join("花名册.rejected.xlsx");
    sheet::write_rejected(&sheet, &real.rejected(&sheet), &rejected).unwrap();
    let back = sheet::read(&rejected).unwrap();
    assert_eq!(back.headers.last().map(String::as_str), Some(REASON_HEADER));
    assert_eq!(back.headers[..10], HEADERS.map(String::from));
    assert_eq!(back.rows.len(), 7);
    assert_eq!(back.rows[3].1[1], "王秀英");
    assert_eq!(back.rows[3].1[10], "身份证号与第2行重复");
    // The ID number kept all its digits.
    assert_eq!(back.rows[1].1[3], "110101195001010010");

    // The same file again adds nothing.
    let head = store.head().await.unwrap();
    let again = import_roster(
        &w.h,
        &w.admin,
        w.community,
        &sheet,
        &[],
        false,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(again.counts(), (0, 3, 7));
    assert_eq!(store.head().await.unwrap(), head);
    // Someone registered at the desk meanwhile is skipped, by another clerk's import too.
    let clerk = Actor::staff(Uuid::from_u128(8), w.community);
    let other = import_roster(
        &w.h,
        &clerk,
        w.community,
        &sheet,
        &[],
        false,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let statuses = by_row(&other);
    assert_eq!(statuses[0].2, "registered before", "{statuses:?}");
    assert_eq!(
        statuses[1].2, "registered before",
        "without an ID number: by name and phone"
    );
    assert_eq!(statuses[9].2, "registered before");
    let c = w.h.community_state(w.community).await.unwrap();
    assert_eq!(c.volunteers_enrolled, 3, "nobody twice");
    std::fs::remove_dir_all(&dir).ok();
}

/// A run killed after its first registration, started again: it finishes, and nobody
/// is registered twice.
async fn killed_and_started_again(store: Store) {
    let w = world(&store).await;
    let dir = std::env::temp_dir().join(format!("tb-import-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("花名册.xlsx");
    workbook(&file);
    let sheet = sheet::read(&file).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let (h, admin, community, s) = (w.h.clone(), w.admin.clone(), w.community, sheet.clone());
    let run = tokio::spawn(async move {
        let mut first = move |done: usize, _: usize| {
            if done == 1 {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
            }
        };
        import_roster(&h, &admin, community, &s, &[], false, &mut first).await
    });
    rx.await.unwrap();
    run.abort();
    let _ = run.await;
    let before =
        w.h.community_state(w.community)
            .await
            .unwrap()
            .volunteers_enrolled;
    assert!((1..=3).contains(&before), "{before}");
    let again = import_roster(
        &w.h,
        &w.admin,
        w.community,
        &sheet,
        &[],
        false,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let (new, earlier, rejected) = again.counts();
    assert_eq!((new + earlier, rejected), (3, 7));
    let c = w.h.community_state(w.community).await.unwrap();
    assert_eq!(c.volunteers_enrolled, 3, "nobody twice");
    std::fs::remove_dir_all(&dir).ok();
}

/// A CSV saved from Excel (a byte-order mark, quoted cells): read alike; its rejected
/// rows come back as CSV.
async fn csv(store: Store) {
    let w = world(&store).await;
    let dir = std::env::temp_dir().join(format!("tb-import-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("roster.csv");
    let text = format!(
        "\u{feff}姓名,手机号,身份证号,楼栋,单元\n\"王秀英\",13812345678,{},3栋,2单元\n孙九,,,9栋,1单元\n",
        id("11010119500101001")
    );
    std::fs::write(&file, text).unwrap();
    let sheet = sheet::read(&file).unwrap();
    assert_eq!(sheet.headers[0], "姓名");
    let o = import_roster(
        &w.h,
        &w.admin,
        w.community,
        &sheet,
        &[],
        false,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(o.counts(), (1, 0, 1));
    let out = dir.join("roster.rejected.csv");
    sheet::write_rejected(&sheet, &o.rejected(&sheet), &out).unwrap();
    let back = sheet::read(&out).unwrap();
    assert_eq!(back.headers.last().map(String::as_str), Some(REASON_HEADER));
    assert_eq!(back.rows[0].1[0], "孙九");
    assert!(back.rows[0].1[5].contains("没有这个楼道"));
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
    roster,
    a_roster_is_checked_then_imported_once_sqlite,
    a_roster_is_checked_then_imported_once_postgres
);
both!(
    killed_and_started_again,
    a_killed_import_finishes_without_duplicates_sqlite,
    a_killed_import_finishes_without_duplicates_postgres
);
both!(
    csv,
    a_csv_from_excel_imports_alike_sqlite,
    a_csv_from_excel_imports_alike_postgres
);
