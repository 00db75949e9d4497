//! The `timebank` binary as a user runs it: demo, events, person erase, migrate, rebuild
//! (the first three and rebuild on both backends).

use std::collections::BTreeSet;
use std::process::Command;

mod support;

use support::{events, timebank};

/// What a seed determines: everything but the time each event was recorded.
fn content(events: &[serde_json::Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["stream_id"], e["stream_version"], e["event_id"], e["payload"]
            )
        })
        .collect()
}

/// `demo` on database `a`, then the same seed on database `b`, then two communities on
/// database `c` (three fresh databases of one backend).
fn demo_case(a: &str, b: &str, c: &str) {
    let (ok, out, err) = timebank(
        a,
        &[
            "demo",
            "--volunteers",
            "30",
            "--events",
            "1500",
            "--seed",
            "9",
        ],
    );
    assert!(ok, "{err}");
    let community = out.lines().next().expect("the community id");
    uuid::Uuid::parse_str(community).expect("a community id");

    let all = events(a, &[]);
    assert!(all.len() >= 1500, "{} events", all.len());
    let positions: Vec<u64> = all
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, (1..=all.len() as u64).collect::<Vec<_>>());
    let kinds: BTreeSet<&str> = all
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    for kind in [
        "VolunteerRegistered",
        "ServiceLogged",
        "ServiceVerified",
        "PointsAwarded",
        "WishClaimed",
        "StairwellInspected",
    ] {
        assert!(kinds.contains(kind), "the demo wrote no {kind}");
    }
    // No personal data in the log.
    assert!(!all
        .iter()
        .any(|e| e["payload"].to_string().contains("phone")));

    // Filters.
    let tail = events(a, &["--after", "1000", "--limit", "5"]);
    assert_eq!(
        tail.iter()
            .map(|e| e["position"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1001, 1002, 1003, 1004, 1005]
    );
    let stream = format!("community-{community}");
    let own = events(a, &["--stream", &stream]);
    assert!(!own.is_empty() && own.iter().all(|e| e["stream_id"] == stream.as_str()));
    // Both filters at once: that stream's events after a position, in order.
    let mid = own[own.len() / 2]["position"].as_u64().unwrap();
    let later = events(a, &["--stream", &stream, "--after", &mid.to_string()]);
    let expected: Vec<u64> = own
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .filter(|p| *p > mid)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        later
            .iter()
            .map(|e| e["position"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        expected
    );

    // The same seed on a fresh database writes the same history.
    let (ok, out2, err) = timebank(
        b,
        &[
            "demo",
            "--volunteers",
            "30",
            "--events",
            "1500",
            "--seed",
            "9",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out2, out);
    assert_eq!(content(&events(b, &[])), content(&all));

    // Several communities: one id per line, each with its own history.
    let (ok, out3, err) = timebank(
        c,
        &[
            "demo",
            "--volunteers",
            "20",
            "--events",
            "400",
            "--seed",
            "4",
            "--communities",
            "2",
        ],
    );
    assert!(ok, "{err}");
    let ids: Vec<uuid::Uuid> = out3
        .lines()
        .map(|l| uuid::Uuid::parse_str(l).expect("a community id per line"))
        .collect();
    assert_eq!(ids.len(), 2, "{out3}");
    assert_ne!(ids[0], ids[1]);
    let all3 = events(c, &[]);
    for id in &ids {
        let registered = all3
            .iter()
            .filter(|e| {
                e["event_type"] == "VolunteerRegistered"
                    && e["community_id"] == id.to_string().as_str()
            })
            .count();
        assert!(registered > 0, "community {id} has volunteers");
    }
}

#[test]
fn demo_writes_a_deterministic_history_that_events_prints_as_json_lines() {
    let dir = ledger::testing::TempDir::new();
    let db = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    demo_case(&db("a.db"), &db("b.db"), &db("c.db"));
}

#[tokio::test]
async fn demo_and_events_on_postgres() {
    let (Some(a), Some(b), Some(c)) = (
        ledger::testing::postgres_url().await,
        ledger::testing::postgres_url().await,
        ledger::testing::postgres_url().await,
    ) else {
        return;
    };
    tokio::task::spawn_blocking(move || demo_case(&a, &b, &c))
        .await
        .expect("demo on PostgreSQL");
}

#[tokio::test]
async fn erasing_a_person_keeps_their_events() {
    let dir = ledger::testing::TempDir::new();
    erase_case(&format!("sqlite://{}", dir.path().join("e.db").display())).await;
}

#[tokio::test]
async fn erasing_a_person_keeps_their_events_on_postgres() {
    if let Some(db) = ledger::testing::postgres_url().await {
        erase_case(&db).await;
    }
}

async fn erase_case(db: &str) {
    let db = db.to_string();
    let (ok, _, err) = timebank(
        &db,
        &[
            "demo",
            "--volunteers",
            "10",
            "--events",
            "300",
            "--seed",
            "3",
        ],
    );
    assert!(ok, "{err}");
    let before = events(&db, &[]);
    let volunteer = before
        .iter()
        .find(|e| e["event_type"] == "VolunteerRegistered")
        .map(|e| e["payload"]["volunteer_id"].as_str().unwrap().to_string())
        .expect("a registered volunteer");
    let id = uuid::Uuid::parse_str(&volunteer).unwrap();
    {
        let store = ledger::Store::open(&db).await.unwrap();
        assert!(
            store.get_person(id).await.unwrap().is_some(),
            "the demo stores personal data beside the log"
        );
    }
    let (ok, out, err) = timebank(&db, &["person", "erase", &volunteer]);
    assert!(ok, "{err}");
    assert!(out.contains("erased"), "{out}");
    let store = ledger::Store::open(&db).await.unwrap();
    assert!(store.get_person(id).await.unwrap().is_none());
    // Nothing in the log changes; one event records the erasure, naming nobody.
    let after = events(&db, &[]);
    assert_eq!(
        after[..before.len()],
        before[..],
        "erasure must not touch the log"
    );
    assert_eq!(after.len(), before.len() + 1);
    let last = &after[before.len()];
    assert_eq!(last["event_type"], "PersonalDataErased");
    assert_eq!(last["stream_id"], format!("volunteer-{volunteer}"));
    let (ok, out, _) = timebank(&db, &["person", "erase", &volunteer]);
    assert!(ok && out.contains("already erased"), "{out}");
    assert_eq!(events(&db, &[]).len(), after.len());
    let (ok, _, err) = timebank(&db, &["person", "erase", &uuid::Uuid::nil().to_string()]);
    assert!(
        !ok && (err.contains("NOT_FOUND") || err.contains("not found")),
        "{err}"
    );
}

#[test]
fn migrate_creates_the_database_and_bad_urls_are_refused() {
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}", dir.path().join("new.db").display());
    let (ok, out, err) = timebank(&db, &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("position 0"), "{out}");
    assert!(dir.path().join("new.db").exists());
    let (ok, _, err) = timebank("mysql://nowhere/db", &["migrate"]);
    assert!(!ok);
    assert!(err.contains("unsupported database URL"), "{err}");
}

#[test]
fn reports_certificates_and_statements_come_out_as_files_staff_can_use() {
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let (ok, out, err) = timebank(
        &db,
        &[
            "demo",
            "--volunteers",
            "20",
            "--events",
            "1200",
            "--seed",
            "5",
        ],
    );
    assert!(ok, "{err}");
    let community = out.lines().next().unwrap().to_string();
    let file = |name: &str| dir.path().join(name);
    for format in ["csv", "html", "xlsx"] {
        let path = file(&format!("annual.{format}"));
        let (ok, out, err) = timebank(
            &db,
            &[
                "report",
                "annual",
                "--community",
                &community,
                "--year",
                "2025",
                "--format",
                format,
                "--out",
                path.to_str().unwrap(),
            ],
        );
        assert!(ok, "{err}");
        assert!(out.contains("pinned at log position"), "{out}");
        let bytes = std::fs::read(&path).unwrap();
        match format {
            "csv" => assert!(
                bytes.starts_with(b"\xEF\xBB\xBF"),
                "CSV must start with a BOM"
            ),
            "html" => assert!(String::from_utf8(bytes).unwrap().contains("<svg")),
            _ => assert!(bytes.starts_with(b"PK"), "XLSX is a zip"),
        }
    }
    let (ok, _, err) = timebank(
        &db,
        &[
            "report",
            "annual",
            "--community",
            &community,
            "--year",
            "2025",
            "--format",
            "pdf",
        ],
    );
    assert!(!ok && err.contains("pdf"), "{err}");

    let volunteer = events(&db, &[])
        .iter()
        .find(|e| e["event_type"] == "VolunteerRegistered")
        .map(|e| e["payload"]["volunteer_id"].as_str().unwrap().to_string())
        .unwrap();
    let html = file("cert.html");
    let (ok, out, err) = timebank(
        &db,
        &[
            "certificate",
            "issue",
            "--volunteer",
            &volunteer,
            "--organisation",
            "幸福社区志愿服务站",
            "--out",
            html.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let number = out.split_whitespace().next().unwrap().to_string();
    assert!(number.starts_with("TB-"), "{out}");
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("志愿服务记录证明"));
    let (ok, out, err) = timebank(&db, &["certificate", "check", &number]);
    assert!(ok, "{err}");
    let check: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(check["changed_since_issue"], false);
    let (ok, _, _) = timebank(&db, &["certificate", "check", "TB-1999-000001"]);
    assert!(!ok);

    let csv = file("statement.csv");
    let (ok, _, err) = timebank(
        &db,
        &[
            "statement",
            "--volunteer",
            &volunteer,
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(std::fs::read(&csv).unwrap().starts_with(b"\xEF\xBB\xBF"));
}

/// A running `timebank events …` whose output lines are collected as they come.
struct Follower {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl Follower {
    fn start(db: &str, args: &[&str]) -> Follower {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_timebank"))
            .arg("--database-url")
            .arg(db)
            .arg("events")
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run timebank events");
        let stdout = child.stdout.take().unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let v = serde_json::from_str(&line).expect("a JSON line");
                sink.lock().unwrap().push(v);
            }
        });
        Follower { child, lines }
    }

    fn count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Waits until `n` lines have come, or fails after 20 s.
    fn wait_for(&self, n: usize, what: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while self.count() < n {
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: {} of {n} events came",
                self.count()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        self.lines.lock().unwrap().clone()
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `events --follow` (alone, and with `--stream`) prints what another process appends
/// to the same SQLite database, as it is committed.
#[test]
fn events_follow_sees_what_other_processes_append() {
    let dir = ledger::testing::TempDir::new();
    let db = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let demo = |db: &str, seed: &str| {
        let (ok, out, err) = timebank(
            db,
            &[
                "demo",
                "--volunteers",
                "5",
                "--events",
                "150",
                "--seed",
                seed,
            ],
        );
        assert!(ok, "{err}");
        out.lines().next().expect("a community id").to_string()
    };
    demo(&db("a.db"), "1");
    // The community seed 2 creates (ids are derived from the seed).
    let second = demo(&db("scratch.db"), "2");
    let stream = format!("community-{second}");
    let before = events(&db("a.db"), &[]).len();

    let all = Follower::start(&db("a.db"), &["--follow"]);
    let one_stream = Follower::start(&db("a.db"), &["--follow", "--stream", &stream]);
    let two = Follower::start(
        &db("a.db"),
        &["--follow", "--stream", &stream, "--limit", "2"],
    );
    all.wait_for(before, "the history so far");
    assert_eq!(one_stream.count(), 0, "the stream has no events yet");

    // Another process appends.
    assert_eq!(demo(&db("a.db"), "2"), second);
    let now = events(&db("a.db"), &[]);
    let of_stream = events(&db("a.db"), &["--stream", &stream]);
    assert!(now.len() > before && !of_stream.is_empty());
    all.wait_for(now.len(), "events appended by another process");
    one_stream.wait_for(
        of_stream.len(),
        "the stream's events appended by another process",
    );
    assert_eq!(all.lines(), now, "the same events, in log order");
    assert_eq!(one_stream.lines(), of_stream);
    // With --limit it stops after that many.
    let mut two = two;
    let status = {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(s) = two.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "--limit 2 did not stop"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    assert!(status.success());
    two.wait_for(2, "--limit 2");
    assert_eq!(two.lines(), of_stream[..2].to_vec());
    all.kill();
    one_stream.kill();
    two.kill();
}

/// `token issue` binds tokens to a community and a volunteer, refusing what does not
/// fit; `token revoke` takes the token or its id, and a revoked token stops working.
#[tokio::test]
async fn tokens_are_issued_bound_and_revoked_from_the_command_line() {
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let demo = |seed: &str| {
        let (ok, out, err) = timebank(
            &db,
            &[
                "demo",
                "--volunteers",
                "3",
                "--events",
                "60",
                "--seed",
                seed,
            ],
        );
        assert!(ok, "{err}");
        out.lines().next().unwrap().to_string()
    };
    let community = demo("4");
    let other = demo("5");
    let volunteer = events(&db, &[])
        .iter()
        .find(|e| {
            e["event_type"] == "VolunteerRegistered" && e["community_id"] == community.as_str()
        })
        .map(|e| e["payload"]["volunteer_id"].as_str().unwrap().to_string())
        .expect("a volunteer of the first community");
    let issue = |args: &[&str]| {
        let mut all = vec!["token", "issue"];
        all.extend_from_slice(args);
        let (ok, out, err) = timebank(&db, &all);
        (ok, out.trim().to_string(), err)
    };
    let store = ledger::Store::open(&db).await.unwrap();
    let auth = std::sync::Arc::new(api::auth::Authenticator::new(store.clone()));

    let (ok, staff, err) = issue(&["--role", "staff", "--community", &community]);
    assert!(ok, "{err}");
    let p = auth.authenticate(&staff).await.unwrap();
    assert_eq!(p.role(), api::Role::Staff);
    assert_eq!(
        p.community().map(|c| c.0.to_string()),
        Some(community.clone())
    );
    assert_eq!(p.actor.volunteer_id, None);

    let (ok, own, err) = issue(&[
        "--role",
        "staff",
        "--community",
        &community,
        "--volunteer",
        &volunteer,
        "--label",
        "书记",
    ]);
    assert!(ok, "{err}");
    let p = auth.authenticate(&own).await.unwrap();
    assert_eq!(p.role(), api::Role::Staff);
    assert_eq!(
        p.actor.volunteer_id.map(|v| v.0.to_string()),
        Some(volunteer.clone())
    );
    assert_eq!(p.label, "书记");

    let (ok, vol, err) = issue(&["--role", "volunteer", "--volunteer", &volunteer]);
    assert!(ok, "{err}");
    let p = auth.authenticate(&vol).await.unwrap();
    assert_eq!(p.role(), api::Role::Volunteer);
    assert_eq!(
        p.community().map(|c| c.0.to_string()),
        Some(community.clone())
    );

    let unknown = uuid::Uuid::new_v4().to_string();
    for (bad, says) in [
        (vec!["--role", "staff"], "needs a community"),
        (
            vec![
                "--role",
                "staff",
                "--community",
                &other,
                "--volunteer",
                &volunteer,
            ],
            "belongs to community",
        ),
        (vec!["--role", "volunteer"], "needs a volunteer"),
        (
            vec!["--role", "volunteer", "--volunteer", &unknown],
            "not found",
        ),
        (
            vec![
                "--role",
                "volunteer",
                "--volunteer",
                &volunteer,
                "--community",
                &other,
            ],
            "belongs to community",
        ),
        (
            vec!["--role", "admin", "--community", &community],
            "not bound",
        ),
        (vec!["--role", "root"], "unknown role"),
    ] {
        let (ok, out, err) = issue(&bad);
        assert!(!ok && out.is_empty(), "{bad:?} issued {out}");
        assert!(err.contains(says), "{bad:?}: {err}");
    }

    // Revoke by the token itself, and by the id printed at issue.
    let (ok, out, err) = timebank(&db, &["token", "revoke", &staff]);
    assert!(ok && out.contains("revoked"), "{out}{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_timebank"))
        .args(["--database-url", &db, "token", "issue", "--role", "display"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let display = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let said = String::from_utf8(out.stderr).unwrap();
    let id = said
        .split_whitespace()
        .find_map(|w| uuid::Uuid::parse_str(w).ok())
        .expect("the token id on stderr")
        .to_string();
    let (ok, _, err) = timebank(&db, &["token", "revoke", &id]);
    assert!(ok, "{err}");
    // A fresh authenticator (no cache): both are refused, the others still work.
    let auth = std::sync::Arc::new(api::auth::Authenticator::new(store.clone()));
    assert!(auth.authenticate(&staff).await.is_err());
    assert!(auth.authenticate(&display).await.is_err());
    assert!(auth.authenticate(&own).await.is_ok());
    let (ok, _, err) = timebank(&db, &["token", "revoke", &id]);
    assert!(!ok && err.contains("no active token"), "{err}");
}

/// Every volunteer's balance in the read model is what their stream folds to.
async fn balances_agree_with_the_log(db: &str, volunteers: &[uuid::Uuid]) {
    use ledger::domain::{Aggregate, VolunteerState};
    let store = ledger::Store::open(db).await.unwrap();
    let pdb = projections::Db::of_store(&store);
    for v in volunteers {
        let events: Vec<ledger::event::Event> = store
            .read_stream(
                &ledger::ids::volunteer_stream(ledger::ids::VolunteerId(*v)),
                0,
            )
            .await
            .unwrap()
            .iter()
            .map(|r| ledger::event::Event::decode(r).unwrap())
            .collect();
        let state = VolunteerState::from_events(&events);
        let b = projections::balances::balance(&pdb, ledger::ids::VolunteerId(*v))
            .await
            .unwrap()
            .expect("an account");
        assert_eq!(b.points_balance, state.points.to_decimal(), "{v}");
        assert_eq!(b.hours_banked, state.hours.to_decimal(), "{v}");
        assert_eq!(b.verified_hours, state.verified_hours.to_decimal(), "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_replays_the_log_and_says_where_it_got_to() {
    let dir = ledger::testing::TempDir::new();
    rebuild_case(&format!("sqlite://{}", dir.path().join("r.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_replays_the_log_and_says_where_it_got_to_on_postgres() {
    if let Some(db) = ledger::testing::postgres_url().await {
        rebuild_case(&db).await;
    }
}

async fn rebuild_case(db: &str) {
    let db = db.to_string();
    let (ok, _, err) = timebank(
        &db,
        &[
            "demo",
            "--volunteers",
            "12",
            "--events",
            "400",
            "--seed",
            "5",
        ],
    );
    assert!(ok, "{err}");
    let log = events(&db, &[]);
    let head = log.len();
    let volunteers: Vec<uuid::Uuid> = log
        .iter()
        .filter(|e| e["event_type"] == "VolunteerRegistered")
        .map(|e| uuid::Uuid::parse_str(e["payload"]["volunteer_id"].as_str().unwrap()).unwrap())
        .collect();
    assert!(!volunteers.is_empty());

    let (ok, out, err) = timebank(&db, &["rebuild"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!(
            "rebuilt all projections up to position {head} in "
        )),
        "{out}"
    );
    {
        let store = ledger::Store::open(&db).await.unwrap();
        let pdb = projections::Db::of_store(&store);
        for p in projections::all() {
            let c = projections::projection::read_checkpoint(&pdb, p.name())
                .await
                .unwrap()
                .expect("a checkpoint");
            assert_eq!(
                (c.version, c.position),
                (p.version(), head as u64),
                "{}",
                p.name()
            );
        }
    }
    balances_agree_with_the_log(&db, &volunteers).await;

    // A damaged read model is replaced by a rebuild of that projection alone.
    {
        let store = ledger::Store::open(&db).await.unwrap();
        let pdb = projections::Db::of_store(&store);
        pdb.exec(
            "UPDATE pj_balances SET points_balance = points_balance + 100",
            &[],
        )
        .await
        .unwrap();
    }
    let (ok, out, err) = timebank(&db, &["rebuild", "--projection", "balances"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(&format!("rebuilt balances up to position {head} in ")),
        "{out}"
    );
    balances_agree_with_the_log(&db, &volunteers).await;

    let (ok, _, err) = timebank(&db, &["rebuild", "--projection", "nope"]);
    assert!(!ok);
    assert!(err.contains("nope"), "{err}");
}
