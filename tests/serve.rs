//! `timebank serve` as an operator runs it: first start on an empty database prints how to
//! create the first admin token; a token issued on the command line works over HTTP; on
//! SIGTERM, commands in flight finish and every acknowledged one is in the log.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
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

/// A raw HTTP/1.1 POST of a GraphQL request (keep-alive).
fn post_bytes(token: &str, query: &str, variables: Value) -> Vec<u8> {
    let body = json!({ "query": query, "variables": variables }).to_string();
    format!(
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// How a request on a raw connection ended (the texts show in failure messages).
#[derive(Debug)]
#[allow(dead_code)]
enum Answer {
    /// A complete response: status and JSON body.
    Complete(u16, Value),
    /// The connection was refused or closed before a byte of the response.
    Unanswered(String),
    /// Part of a response, then the connection ended.
    CutOff(String),
}

/// Reads one HTTP/1.1 response (with a Content-Length) from `conn`.
async fn read_answer(conn: &mut tokio::io::BufReader<tokio::net::TcpStream>) -> Answer {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        match conn.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) if head.is_empty() && line.is_empty() => {
                return Answer::Unanswered("closed before any response".into())
            }
            Ok(0) | Err(_) => {
                return Answer::CutOff(format!(
                    "headers cut off: {:?}",
                    String::from_utf8_lossy(&head)
                ))
            }
            Ok(_) => {}
        }
        let end = line == b"\r\n";
        head.extend_from_slice(&line);
        if end {
            break;
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let Some(length) = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())?
    }) else {
        return Answer::CutOff(format!("no Content-Length: {head}"));
    };
    let mut body = vec![0u8; length];
    if let Err(e) = conn.read_exact(&mut body).await {
        return Answer::CutOff(format!("body cut off ({e}) after {head}"));
    }
    match serde_json::from_slice(&body) {
        Ok(v) => Answer::Complete(status, v),
        Err(e) => Answer::CutOff(format!("body is not JSON ({e})")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_graphql_and_finishes_in_flight_commands_on_sigterm() {
    use tokio::io::AsyncWriteExt;
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}", dir.path().join("serve.db").display());
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = spawn(&db, &["serve", "--listen", &listen], &[]);
    let stdout = server.stdout.take().unwrap();
    let banner = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    });

    let client = reqwest::Client::new();
    let base = format!("http://{listen}");
    wait_up(&client, &base, &mut server).await;
    // Without a token, only /healthz answers.
    let r = client
        .post(format!("{base}/graphql"))
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let admin = admin_token(&db);
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

    // SIGTERM as soon as it is asked for (the shell is already running).
    let mut trigger = Command::new("sh")
        .args([
            "-c",
            "read _ && kill -TERM \"$1\"",
            "sh",
            &server.id().to_string(),
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let award = "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"2.50\", reason: \"楼道清理\") { entryId position } }";
    // Connections of two kinds: kept alive after a first request (idle when the award
    // is sent), and fresh ones (the award is their first request; the server may not
    // have accepted them yet).
    let mut conns = Vec::new();
    for i in 0..40 {
        let stream = tokio::net::TcpStream::connect(&listen).await.unwrap();
        let mut conn = tokio::io::BufReader::new(stream);
        if i % 2 == 0 {
            conn.get_mut()
                .write_all(&post_bytes(&admin, "{ __typename }", json!({})))
                .await
                .unwrap();
            assert!(matches!(
                read_answer(&mut conn).await,
                Answer::Complete(200, _)
            ));
        }
        conns.push(conn);
    }
    for (i, conn) in conns.iter_mut().enumerate() {
        let bytes = post_bytes(
            &admin,
            award,
            json!({ "k": format!("award-{i}"), "v": volunteer }),
        );
        conn.get_mut().write_all(&bytes).await.unwrap();
    }
    // Every award is sent: now SIGTERM.
    trigger.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert!(trigger.wait().unwrap().success());
    let answers: Vec<_> = conns
        .into_iter()
        .map(|mut conn| tokio::spawn(async move { read_answer(&mut conn).await }))
        .collect();
    // Requests sent after SIGTERM: refused or answered in full, never cut off.
    let mut late = Vec::new();
    for i in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Ok(stream) = tokio::net::TcpStream::connect(&listen).await else {
            continue;
        };
        let mut conn = tokio::io::BufReader::new(stream);
        let bytes = post_bytes(
            &admin,
            award,
            json!({ "k": format!("late-{i}"), "v": volunteer }),
        );
        if conn.get_mut().write_all(&bytes).await.is_ok() {
            late.push(read_answer(&mut conn).await);
        }
    }
    let mut acknowledged = Vec::new();
    for (i, a) in answers.into_iter().enumerate() {
        match a.await.unwrap() {
            Answer::Complete(200, body) => {
                let entry = body["data"]["awardPoints"]["entryId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("award {i} was refused: {body}"));
                acknowledged.push(entry.to_string());
            }
            other => panic!("award {i}, sent before SIGTERM, got {other:?}"),
        }
    }
    for a in late {
        match a {
            Answer::Complete(200, body) => {
                if let Some(entry) = body["data"]["awardPoints"]["entryId"].as_str() {
                    acknowledged.push(entry.to_string());
                }
            }
            Answer::Unanswered(_) => {}
            other => panic!("a request sent after SIGTERM was cut off: {other:?}"),
        }
    }
    let status = server.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
    let banner = banner.join().unwrap();
    assert!(
        banner.contains("timebank token issue --role admin"),
        "first start should say how to make an admin token:\n{banner}"
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
    assert!(acknowledged.len() >= 40);
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
    /// Arguments, environment, the port it should listen on, whether the limits are the
    /// small ones given.
    type Run<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, u16, bool);
    let runs: Vec<Run> = vec![
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

/// The fixture of an earlier release: a database made by its `timebank` with
/// `tests/fixtures/release-0.1/make.py`, and each API request it answered then.
fn release_fixture() -> (ledger::testing::TempDir, String, Value) {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-0.1");
    let dir = ledger::testing::TempDir::new();
    let path = dir.path().join("timebank.db");
    std::fs::copy(fixture.join("timebank.db"), &path).unwrap();
    let replies = std::fs::read_to_string(fixture.join("replies.json")).unwrap();
    (
        dir,
        format!("sqlite://{}", path.display()),
        serde_json::from_str(&replies).unwrap(),
    )
}

/// An operator upgrades: the database of the release before typed command results
/// still serves; every command the API answered then, sent again with its idempotency
/// key, answers what that release answered to the same retry (its first answer, now
/// `replayed`, for all but the records an erasure emptied) and writes nothing; and the
/// read models show what those commands did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_the_earlier_release_serves_and_replays_its_commands() {
    let (_dir, db, fixture) = release_fixture();
    let token = fixture["token"].as_str().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = spawn(&db, &["serve", "--listen", &listen], &[]);
    let client = reqwest::Client::new();
    let base = format!("http://{listen}");
    wait_up(&client, &base, &mut server).await;
    let url = format!("{base}/graphql");
    let store = ledger::Store::open(&db).await.unwrap();
    let before = store.head().await.unwrap();
    let requests = fixture["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 37);
    let mut replayed = 0;
    for r in requests {
        let query = r["query"].as_str().unwrap();
        let got = gql(&client, &url, token, query, r["variables"].clone()).await;
        // What the earlier release itself answered to the same request sent again.
        assert_eq!(got, r["replay"], "{query}");
        if got.get("errors").is_none() {
            let mut first = r["reply"].clone();
            for payload in first["data"].as_object_mut().unwrap().values_mut() {
                payload["replayed"] = json!(true);
            }
            assert_eq!(got, first, "{query}");
            replayed += 1;
        } else {
            // The registrations and the move of the two erased volunteers: the erasure
            // removed what their records kept of them, so the key cannot be replayed.
            assert_eq!(
                got["errors"][0]["extensions"]["code"],
                "IDEMPOTENCY_MISMATCH"
            );
        }
    }
    assert_eq!(replayed, 34);
    assert_eq!(store.head().await.unwrap(), before, "replays write nothing");
    // The first volunteer (the phone masked: admin is not staff of the community): a
    // repair of 2.5 h at 10 points × 1.5 (37.50), an award of 12.50 reversed, 5
    // redeemed; 2.5 h banked, 0.5 gifted, 1 spent.
    let first = requests
        .iter()
        .find(|r| r["query"].as_str().unwrap().contains("\"fx-v0\""))
        .unwrap();
    let v = &first["reply"]["data"]["registerVolunteer"]["volunteerId"];
    let read = gql(
        &client,
        &url,
        token,
        "query($v: ID!) { volunteer(id: $v) { name phone balance { points hours flagged } } }",
        json!({ "v": v }),
    )
    .await;
    assert_eq!(
        read["data"]["volunteer"],
        json!({ "name": "王秀英", "phone": "138****5678",
                "balance": { "points": "32.50", "hours": "1.00", "flagged": false } }),
        "{read}"
    );
    stop(&mut server);
}

/// Reads `server`'s stdout until `n` one-time login links are printed; the links.
fn login_links(server: &mut std::process::Child, n: usize) -> Vec<String> {
    let out = server.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(at) = line.find("http://") {
                if line.contains("/login/") {
                    let _ = tx.send(line[at..].trim().to_string());
                }
            }
        }
    });
    (0..n)
        .map(|_| {
            rx.recv_timeout(Duration::from_secs(180))
                .expect("a login link on stdout")
        })
        .collect()
}

/// `timebank serve --demo`, as a new user runs it: four login links (staff, volunteer,
/// hall display, street office) that each open their page with this week's demo
/// community (an activity under way, the red flag of this month, messages) and its
/// street of two communities; started again on the same database it adds nothing and
/// prints new links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_opens_a_working_community_from_one_command() {
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}/demo.db", dir.path().display());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let events = |db: &str| {
        let out = Command::new(bin())
            .args(["--database-url", db, "events", "--limit", "1000000"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().lines().count()
    };
    let mut written = Vec::new();
    for round in 0..2 {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let listen = format!("127.0.0.1:{port}");
        let mut server = spawn(&db, &["serve", "--demo", "--listen", &listen], &[]);
        let links = login_links(&mut server, 4);
        wait_up(&client, &base, &mut server).await;
        let mut pages = Vec::new();
        for link in &links {
            assert!(link.starts_with(&format!("{base}/login/")), "{link}");
            let confirm = client.get(link).send().await.unwrap();
            assert_eq!(confirm.status(), 200);
            let r = client.post(link).send().await.unwrap();
            assert_eq!(r.status(), 303, "{link}");
            let cookie = r.headers()["set-cookie"].to_str().unwrap();
            let cookie = cookie.split(';').next().unwrap().to_string();
            let to = client
                .get(format!("{base}/"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            let page = to.headers()["location"].to_str().unwrap().to_string();
            let body = client
                .get(format!("{base}{page}"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            pages.push((page, body));
        }
        let (console, phone, hall, street) = (&pages[0], &pages[1], &pages[2], &pages[3]);
        assert_eq!(street.0, "/street");
        assert!(
            street.1.contains("街道工作台") && street.1.matches("<tr>").count() >= 4,
            "round {round}: {}",
            street.1
        );
        assert_eq!(console.0, "/console");
        for want in ["今日待办", "北门治安巡逻", "待审核考勤"] {
            assert!(
                console.1.contains(want),
                "round {round}: no {want} on the console"
            );
        }
        assert_eq!(phone.0, "/m");
        assert!(
            phone.1.contains("楼道清理日") && phone.1.contains("badge"),
            "round {round}: {}",
            phone.1
        );
        assert_eq!(hall.0, "/hall");
        assert!(
            hall.1.contains("flag-icon") && hall.1.contains("北门治安巡逻"),
            "round {round}"
        );
        stop(&mut server);
        written.push(events(&db));
    }
    assert!(written[0] > 5_000, "{written:?} events");
    // The second start wrote nothing more (the same day's present replays).
    assert_eq!(written[0], written[1]);
}
