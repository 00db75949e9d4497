//! Running the `timebank` binary as a user does, for the command-line tests.
#![allow(dead_code)]

use std::process::Command;

/// `timebank --database-url db args…`: whether it succeeded, its stdout and stderr.
pub fn timebank(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_timebank"))
        .arg("--database-url")
        .arg(db)
        .args(args)
        .output()
        .expect("run timebank");
    (
        out.status.success(),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

/// `timebank events args…` as JSON values.
pub fn events(db: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["events"];
    all.extend_from_slice(args);
    let (ok, out, err) = timebank(db, &all);
    assert!(ok, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}
