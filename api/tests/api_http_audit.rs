//! GraphQL-over-HTTP compliance: runs the npm package `graphql-http`'s `auditServer`
//! against the real server and requires 0 errors and 0 warnings.
//!
//! Needs `node` (18+) and `npm`; installs the pinned packages of `tests/audit`
//! (package.json + package-lock.json) with `npm ci` on first use. Without node the
//! test prints that it was skipped (under CI=true it fails instead).

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graphql_http_audit_passes() {
    if !have("node") || !have("npm") {
        if matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1")) {
            panic!("CI=true but node/npm are missing: the graphql-http audit cannot run");
        }
        eprintln!("graphql-http audit SKIPPED: node and npm are not installed");
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("audit");
    if !dir.join("node_modules").join("graphql-http").exists() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .expect("run npm ci");
        assert!(
            out.status.success(),
            "npm ci failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (backend, store, _dir) in backends().await {
        let s = Server::start(store).await;
        let url = s.url("/graphql");
        let token = s.admin.clone();
        let d = dir.clone();
        let out = tokio::task::spawn_blocking(move || {
            Command::new("node")
                .arg("run.mjs")
                .env("TIMEBANK_URL", url)
                .env("TIMEBANK_TOKEN", token)
                .current_dir(d)
                .output()
                .expect("run node")
        })
        .await
        .expect("audit task");
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("[{backend}] {stdout}");
        assert!(
            out.status.success(),
            "graphql-http audit failed on {backend}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("errors: 0, warnings: 0"), "{stdout}");
        s.stop().await;
    }
}
