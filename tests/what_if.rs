//! `timebank what-if` as a user runs it.

mod support;

use support::{events, timebank};

/// `timebank what-if`: proposed rules from a TOML file tried on the demo's log; the
/// table says the difference, JSON says it too, nothing is written; a bad file is
/// refused with what is wrong in it.
#[test]
fn what_if_tries_a_rules_file_on_the_log_and_writes_nothing() {
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    let (ok, out, err) = timebank(&db, &["demo", "--volunteers", "20", "--events", "1200"]);
    assert!(ok, "{err}");
    let community = out.lines().next().unwrap().to_string();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[points]\nper_hour = \"20\"\ncoefficients = { elderly_visit = 2 }\n\n[stars]\nhours = [\"5\", \"10\", \"20\", \"40\", \"80\"]\n\n[rubric]\nparticipation_max = 10\nitems = [{ key = \"cleanliness\", name = \"楼道卫生\", max = 50 }, { key = \"clutter\", name = \"杂物清理\", max = 20 }, { key = \"fire_safety\", name = \"消防安全\", max = 20 }]\n",
    )
    .unwrap();
    let before = events(&db, &[]).len();
    let rules_arg = rules.display().to_string();
    let args = ["what-if", "--community", &community, "--rules", &rules_arg];
    let (ok, out, err) = timebank(&db, &args);
    assert!(ok, "{err}");
    assert!(
        out.contains("规则试算") && out.contains("积分前 20 名") && out.contains("评分细则试算"),
        "{out}"
    );
    let (ok, json, err) = timebank(&db, &[&args[..], &["--json"]].concat());
    assert!(ok, "{err}");
    let w: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(!w["changes"].as_array().unwrap().is_empty(), "{json}");
    assert_ne!(w["points_after"], w["points_before"], "{json}");
    // The rubric: every stairwell of the community, before and after.
    assert!(
        !w["rubric"]["stairwells"].as_array().unwrap().is_empty(),
        "{json}"
    );
    assert_eq!(events(&db, &[]).len(), before, "nothing written");
    std::fs::write(&rules, "[stars]\nhours = [\"5\"]\n").unwrap();
    let (ok, _, err) = timebank(&db, &args);
    assert!(!ok && err.contains("five thresholds"), "{err}");
}
