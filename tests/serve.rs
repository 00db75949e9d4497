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
