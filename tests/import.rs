//! `timebank import roster` as a user runs it: a CSV roster with another header mapped,
//! a dry run that writes nothing, the real run with its rejected rows written beside the
//! file, and the same file again adding nothing.

mod support;

use support::{events, timebank};

#[test]
fn a_roster_is_tried_imported_and_imported_again_without_adding_anything() {
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}", dir.path().join("i.db").display());
    let (ok, out, err) = timebank(&db, &["demo", "--volunteers", "10", "--events", "200"]);
    assert!(ok, "{err}");
    let community = out.lines().next().unwrap().to_string();
    let file = dir.path().join("花名册.csv");
    std::fs::write(
        &file,
        "\u{feff}姓名,联系方式,楼栋,单元,备注\n测试甲,13800000001,1号楼,1单元,新来的\n测试乙,,99号楼,1单元,\n",
    )
    .unwrap();
    let file_arg = file.display().to_string();
    let args = [
        "import",
        "roster",
        &file_arg,
        "--community",
        &community,
        "--map",
        "联系方式=手机号",
    ];
    let before = events(&db, &[]).len();
    let (ok, out, err) = timebank(&db, &[&args[..], &["--dry-run"]].concat());
    assert!(ok, "{err}");
    assert!(
        out.contains("1 rows would be registered") && out.contains("1 rejected"),
        "{out}"
    );
    assert!(
        out.contains("row    3 测试乙: rejected: 没有这个楼道：99号楼 1单元"),
        "{out}"
    );
    assert_eq!(events(&db, &[]).len(), before, "a dry run writes nothing");

    let (ok, out, err) = timebank(&db, &args);
    assert!(ok, "{err}");
    assert!(
        out.contains("1 rows registered") && out.contains("row    2 测试甲: registered TB-"),
        "{out}"
    );
    let rejected = dir.path().join("花名册.rejected.csv");
    let text = std::fs::read_to_string(&rejected).unwrap();
    assert!(
        text.contains("错误原因") && text.contains("测试乙") && !text.contains("测试甲"),
        "{text}"
    );

    let after = events(&db, &[]).len();
    let (ok, out, err) = timebank(&db, &args);
    assert!(ok, "{err}");
    assert!(
        out.contains("0 rows registered, 1 were registered already"),
        "{out}"
    );
    assert_eq!(
        events(&db, &[]).len(),
        after,
        "the same file again adds nothing"
    );

    let (ok, _, err) = timebank(
        &db,
        &[
            "import",
            "roster",
            &file_arg,
            "--community",
            &community,
            "--map",
            "联系方式",
        ],
    );
    assert!(!ok && err.contains("THEIR_HEADER=OUR_HEADER"), "{err}");

    // Last years' services of 测试甲, recorded as one batch, then reversed as one.
    let history = dir.path().join("2019台账.csv");
    std::fs::write(
        &history,
        "姓名,日期,类别,时长\n测试甲,2019-05-01,巡逻,2\n查无此人,2019-05-01,巡逻,1\n",
    )
    .unwrap();
    let history_arg = history.display().to_string();
    let args = ["import", "history", &history_arg, "--community", &community];
    let (ok, out, err) = timebank(&db, &args);
    assert!(ok, "{err}");
    assert!(
        out.contains("1 rows recorded")
            && out.contains("row    3 查无此人: rejected: 本社区没有叫“查无此人”的志愿者"),
        "{out}"
    );
    let batch = out
        .lines()
        .find_map(|l| l.strip_prefix("batch "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the batch is printed")
        .to_string();
    let (ok, out, err) = timebank(&db, &args);
    assert!(
        ok && out.contains("0 rows recorded, 1 were recorded already"),
        "{out}{err}"
    );
    let reverse = ["import", "reverse", &batch, "--reason", "导错了表"];
    let (ok, out, err) = timebank(&db, &reverse);
    assert!(
        ok && out.contains("1 entries of 1 volunteers corrected"),
        "{out}{err}"
    );
    let (ok, out, _) = timebank(&db, &reverse);
    assert!(ok && out.contains("was reversed before"), "{out}");
}
