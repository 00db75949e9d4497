//! `timebank serve` as an operator runs it: first start on an empty database prints how to
//! create the first admin token; a token issued on the command line works over HTTP; on
//! SIGTERM, commands in flight finish and every acknowledged one is in the log.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_timebank")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `timebank` with `args` (after `--database-url db`) and `env`, stdout piped.
fn spawn(db: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(bin());
    cmd.args(["--database-url", db])
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("TIMEBANK_LISTEN")
        .env_remove("TIMEBANK_REQUEST_TIMEOUT")
        .env_remove("TIMEBANK_MAX_BODY_BYTES")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start timebank")
}

/// Waits until `/healthz` answers on `base`.
async fn wait_up(client: &reqwest::Client, base: &str, server: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        if let Ok(Some(status)) = server.try_wait() {
            panic!("the server exited with {status}");
        }
        assert!(
            Instant::now() < deadline,
            "server did not come up on {base}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An admin token issued on the command line.
fn admin_token(db: &str) -> String {
    let out = Command::new(bin())
        .args(["--database-url", db, "token", "issue", "--role", "admin"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn stop(server: &mut std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
}

async fn gql(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_graphql_and_finishes_in_flight_commands_on_sigterm() {
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}", dir.path().join("serve.db").display());
    let port = free_port();
    let mut server = Command::new(bin())
        .args([
            "--database-url",
            &db,
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start timebank serve");
    let stdout = server.stdout.take().unwrap();
    let banner = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    });

    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Without a token, only /healthz answers.
    let r = client
        .post(format!("{base}/graphql"))
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let out = Command::new(bin())
        .args([
            "--database-url",
            &db,
            "token",
            "issue",
            "--role",
            "admin",
            "--label",
            "t",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let admin = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let url = format!("{base}/graphql");
    let d = gql(&client, &url, &admin, r#"mutation { establishCommunity(idempotencyKey: "c", name: "幸福社区") { communityId position } }"#, json!({})).await;
    let community = d["data"]["establishCommunity"]["communityId"]
        .as_str()
        .expect("community")
        .to_string();
    let d = gql(&client, &url, &admin,
        r#"mutation($c: ID!) { registerStairwell(idempotencyKey: "s", communityId: $c, building: "3", unit: "2", households: 40) { stairwellId } }"#,
        json!({ "c": community })).await;
    let stairwell = d["data"]["registerStairwell"]["stairwellId"]
        .as_str()
        .expect("stairwell")
        .to_string();
    let d = gql(&client, &url, &admin,
        r#"mutation($c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: "v", communityId: $c, stairwellId: $s, name: "李桂兰", phone: "13812345678") { volunteerId } }"#,
        json!({ "c": community, "s": stairwell })).await;
    let volunteer = d["data"]["registerVolunteer"]["volunteerId"]
        .as_str()
        .expect("volunteer")
        .to_string();

    // Commands in flight when SIGTERM arrives.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (client, url, admin, volunteer) = (
            client.clone(),
            url.clone(),
            admin.clone(),
            volunteer.clone(),
        );
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 5)).await;
            let r = client
                .post(&url)
                .bearer_auth(&admin)
                .json(&json!({
                    "query": "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"2.50\", reason: \"楼道清理\") { entryId position } }",
                    "variables": { "k": format!("award-{i}"), "v": volunteer },
                }))
                .send()
                .await;
            match r {
                Ok(r) => r.json::<Value>().await.ok().and_then(|b| b["data"]["awardPoints"]["entryId"].as_str().map(str::to_string)),
                Err(_) => None,
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(60)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut acknowledged = Vec::new();
    for t in tasks {
        if let Some(entry) = t.await.unwrap() {
            acknowledged.push(entry);
        }
    }
    let status = server.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
    let banner = banner.join().unwrap();
    assert!(
        banner.contains("timebank token issue --role admin"),
        "first start should say how to make an admin token:\n{banner}"
    );
    assert!(
        !acknowledged.is_empty(),
        "no command got through before SIGTERM"
    );

    // Every acknowledged award is in the log.
    let out = Command::new(bin())
        .args([
            "--database-url",
            &db,
            "events",
            "--stream",
            &format!("volunteer-{volunteer}"),
        ])
        .output()
        .unwrap();
    let log = String::from_utf8(out.stdout).unwrap();
    for entry in &acknowledged {
        assert!(
            log.contains(entry.as_str()),
            "acknowledged award {entry} missing from the log"
        );
    }
    assert!(
        !log.contains("13812345678"),
        "personal data must stay out of the log"
    );
}

/// The request timeout and body limit come from `serve --request-timeout
/// --max-body-bytes`, or from TIMEBANK_REQUEST_TIMEOUT and TIMEBANK_MAX_BODY_BYTES;
/// `timebank` without a sub-command serves too, on `--listen` or TIMEBANK_LISTEN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_address_from_flags_and_environment() {
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}", dir.path().join("limits.db").display());
    let client = reqwest::Client::new();
    let admin = admin_token(&db);
    let flags = |port: u16| {
        vec![
            "serve".to_string(),
            "--listen".to_string(),
            format!("127.0.0.1:{port}"),
            "--request-timeout".to_string(),
            "1".to_string(),
            "--max-body-bytes".to_string(),
            "2048".to_string(),
        ]
    };
    let (p1, p2, p3) = (free_port(), free_port(), free_port());
    let env_port = format!("127.0.0.1:{p2}");
    let top_level = format!("127.0.0.1:{p3}");
    let runs: Vec<(Vec<String>, Vec<(&str, &str)>, u16, bool)> = vec![
        (flags(p1), vec![], p1, true),
        (
            vec![],
            vec![
                ("TIMEBANK_LISTEN", env_port.as_str()),
                ("TIMEBANK_REQUEST_TIMEOUT", "1"),
                ("TIMEBANK_MAX_BODY_BYTES", "2048"),
            ],
            p2,
            true,
        ),
        // No sub-command, no limits given: the defaults (30 s, 256 KiB).
        (
            vec!["--listen".to_string(), top_level.clone()],
            vec![],
            p3,
            false,
        ),
    ];
    for (args, env, port, limited) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut server = spawn(&db, &args, &env);
        let base = format!("http://127.0.0.1:{port}");
        wait_up(&client, &base, &mut server).await;
        let post = |body: String| {
            client
                .post(format!("{base}/graphql"))
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .header("accept", "application/graphql-response+json")
                .body(body)
                .send()
        };
        let big =
            json!({"query": "{ __typename }", "variables": {"x": "x".repeat(4096)}}).to_string();
        let r = post(big).await.unwrap();
        assert_eq!(
            r.status(),
            if limited { 413 } else { 200 },
            "{args:?} {env:?}"
        );
        if limited {
            let started = Instant::now();
            let r = post(json!({"query": "query($p: Int) { events(first: 1, atLeast: $p) { position } }", "variables": {"p": 1_000_000}}).to_string())
                .await
                .unwrap();
            assert_eq!(r.status(), 408, "{args:?} {env:?}");
            let waited = started.elapsed();
            assert!(
                waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
                "{waited:?}"
            );
            let body: Value = serde_json::from_str(&r.text().await.unwrap()).expect("a JSON body");
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "REQUEST_TIMEOUT",
                "{body}"
            );
        }
        stop(&mut server);
    }
    // Bad values are refused before anything starts.
    for bad in [["--request-timeout", "0"], ["--max-body-bytes", "10"]] {
        let out = Command::new(bin())
            .args(["--database-url", &db, "serve"])
            .args(bad)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bad:?} was accepted");
    }
}
