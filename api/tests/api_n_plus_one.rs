//! No N+1: a page of volunteers with their related fields (names, phones, profiles,
//! balances) costs the same SQL statements for 5 rows as for 50, on each backend.
//! Statements are counted from sqlx's own statement log (`sqlx::query` events).

mod common;

use common::*;
use serde_json::json;
use std::sync::Mutex;
use tracing::field::{Field, Visit};
use tracing::span;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// Every statement sqlx runs in this process, as logged.
static STATEMENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A subscriber that keeps sqlx's statement events and nothing else.
struct StatementLog;

struct Text(String);

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={value}", field.name()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

fn is_statement(m: &Metadata<'_>) -> bool {
    m.target() == "sqlx::query"
}

impl Subscriber for StatementLog {
    fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
        if is_statement(m) {
            Interest::always()
        } else {
            Interest::never()
        }
    }
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        is_statement(m)
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, e: &Event<'_>) {
        let mut t = Text(String::new());
        e.record(&mut t);
        STATEMENTS.lock().unwrap().push(t.0);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

/// The statements a page of volunteers reads with (the page, personal data, profiles),
/// run while `query` is answered.
async fn statements_of(
    s: &Server,
    token: &str,
    query: &str,
    vars: serde_json::Value,
) -> Vec<String> {
    STATEMENTS.lock().unwrap().clear();
    let d = s.ok(token, query, vars).await;
    assert!(d["volunteers"]["volunteers"].is_array(), "{d}");
    STATEMENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|q| {
            q.contains("pj_balances")
                || q.contains("persons")
                || q.contains("stream_id IN")
                || q.contains("stream_id = ANY")
        })
        .filter(|q| q.contains("SELECT"))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_of_volunteers_costs_the_same_statements_at_any_size() {
    tracing::subscriber::set_global_default(StatementLog).expect("the only subscriber");
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let team = s
            .ok(&s.admin, "mutation($c: ID!) { formTeam(idempotencyKey: \"t\", communityId: $c, name: \"红管家服务队\") { teamId } }", json!({"c": c.id}))
            .await["formTeam"]["teamId"]
            .as_str()
            .unwrap()
            .to_string();
        // Each with their own ID number: one person, one record.
        let reg = "mutation($k: String!, $c: ID!, $s: ID!, $n: String!, $i: String!, $t: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n, phone: \"13700001111\", idNumber: $i, tags: [\"五老\"], teamIds: [$t]) { volunteerId } }";
        for i in 0..60 {
            s.ok(
                &s.admin,
                reg,
                json!({"k": format!("v{i}"), "c": c.id, "s": c.stairwell, "n": format!("志愿者{i}"), "i": id_number(&format!("11010119900101{i:03}")), "t": team}),
            )
            .await;
        }
        let head = s.head().await;
        let page = "query($c: ID!, $n: Int, $p: Int) { volunteers(communityId: $c, first: $n, atLeast: $p) { volunteers { id volunteerNumber name phone idNumber erased stairwellId gridId tags teamIds departed balance { points hours stars } totals { pointsEarned stars { level } } } hasNextPage } }";
        // Caught up first, so that no read waits.
        statements_of(&s, &c.staff, page, json!({"c": c.id, "n": 1, "p": head})).await;
        let mut counts = Vec::new();
        for n in [5, 50] {
            let run =
                statements_of(&s, &c.staff, page, json!({"c": c.id, "n": n, "p": head})).await;
            assert!(
                !run.is_empty(),
                "no statement was seen: is sqlx's statement log on?"
            );
            counts.push((n, run));
        }
        let (small, large) = (&counts[0].1, &counts[1].1);
        assert_eq!(
            small.len(),
            large.len(),
            "50 rows cost more statements than 5:\n5 rows: {small:#?}\n50 rows: {large:#?}"
        );
        assert!(
            large.len() <= 4,
            "a page should cost its rows and their community's star thresholds, then one query for personal data and one for profiles: {large:#?}"
        );
        s.stop().await;
    }
}
