//! `schema.graphql` at the repository root must be exactly the SDL the server serves.
//! Regenerate it with: `UPDATE_SCHEMA=1 cargo test -p api --test api_schema`.

use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schema.graphql")
}

#[test]
fn schema_graphql_matches_the_served_sdl() {
    let served = api::sdl();
    let path = schema_path();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &served).expect("write schema.graphql");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != served {
        let first_diff = committed
            .lines()
            .zip(served.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}: committed {a:?}, served {b:?}", i + 1))
            .unwrap_or_else(|| "one is a prefix of the other".to_string());
        panic!(
            "schema.graphql differs from the SDL the server serves ({first_diff}).\n\
             Regenerate it with: UPDATE_SCHEMA=1 cargo test -p api --test api_schema"
        );
    }
}

#[test]
fn sdl_is_stable() {
    assert_eq!(api::sdl(), api::sdl());
    let sdl = api::sdl();
    for name in [
        "establishCommunity",
        "registerStairwell",
        "formTeam",
        "registerVolunteer",
        "logService",
        "verifyService",
        "rejectService",
        "awardPoints",
        "redeemPoints",
        "reverseEntry",
        "giftHours",
        "spendHours",
        "postWish",
        "claimWish",
        "releaseWish",
        "fulfilWish",
        "confirmWish",
        "cancelWish",
        "recordInspection",
        "reportStairwellIssue",
        "resolveStairwellIssue",
        "setPointRules",
        "setStarThresholds",
        "eraseVolunteerPersonalData",
        "ledgerEvents",
        "balanceChanged",
        "rankingChanged",
        "scalar Points",
        "scalar Hours",
    ] {
        assert!(sdl.contains(name), "the schema lacks {name}");
    }
}
