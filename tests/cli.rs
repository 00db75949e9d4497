//! The `timebank` binary as a user runs it: demo, events, person erase, migrate, rebuild.

use std::collections::BTreeSet;
use std::process::Command;

fn timebank(db: &str, args: &[&str]) -> (bool, String, String) {
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

fn events(db: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["events"];
    all.extend_from_slice(args);
    let (ok, out, err) = timebank(db, &all);
    assert!(ok, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

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

#[test]
fn demo_writes_a_deterministic_history_that_events_prints_as_json_lines() {
    let dir = ledger::testing::TempDir::new();
    let db = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let (ok, out, err) = timebank(
        &db("a.db"),
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

    let all = events(&db("a.db"), &[]);
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
    let tail = events(&db("a.db"), &["--after", "1000", "--limit", "5"]);
    assert_eq!(
        tail.iter()
            .map(|e| e["position"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![1001, 1002, 1003, 1004, 1005]
    );
    let stream = format!("community-{community}");
    let own = events(&db("a.db"), &["--stream", &stream]);
    assert!(!own.is_empty() && own.iter().all(|e| e["stream_id"] == stream.as_str()));

    // The same seed on a fresh database writes the same history.
    let (ok, out2, err) = timebank(
        &db("b.db"),
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
    assert_eq!(content(&events(&db("b.db"), &[])), content(&all));
}

#[tokio::test]
async fn erasing_a_person_keeps_their_events() {
    let dir = ledger::testing::TempDir::new();
    let db = format!("sqlite://{}", dir.path().join("e.db").display());
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
    assert_eq!(events(&db, &[]), before, "erasure must not touch the log");
    let (ok, out, _) = timebank(&db, &["person", "erase", &volunteer]);
    assert!(ok && out.contains("no personal data"), "{out}");
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
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
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
