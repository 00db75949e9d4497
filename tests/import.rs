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
}
