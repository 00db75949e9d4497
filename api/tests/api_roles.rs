//! The role matrix: every mutation tried with every role and with no token; only the
//! allowed ones succeed (others get FORBIDDEN, or UNAUTHENTICATED without a token).
//! Each attempt gets fresh fixtures, so an allowed role always has valid input.

mod common;

use common::*;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Nobody,
    Admin,
    Staff,
    OtherStaff,
    Volunteer,
    Display,
}

const EVERYONE: [Who; 6] = [
    Who::Nobody,
    Who::Admin,
    Who::Staff,
    Who::OtherStaff,
    Who::Volunteer,
    Who::Display,
];

struct Fx<'a> {
    s: &'a Server,
    c: &'a Community,
}

impl Fx<'_> {
    async fn admin(&self, q: &str, v: Value) -> Value {
        self.s.ok(&self.s.admin, q, v).await
    }
    async fn stairwell(&self) -> String {
        self.admin("mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"9栋\", unit: \"1单元\", households: 10) { stairwellId } }", json!({"k": key(), "c": self.c.id}))
            .await["registerStairwell"]["stairwellId"].as_str().unwrap().to_string()
    }
    async fn volunteer(&self) -> String {
        self.admin("mutation($k: String!, $c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"王五\", phone: \"13700001111\") { volunteerId } }", json!({"k": key(), "c": self.c.id, "s": self.c.stairwell}))
            .await["registerVolunteer"]["volunteerId"].as_str().unwrap().to_string()
    }
    /// A service of v1 logged by v1 (so no staff or admin verifies their own).
    async fn service(&self) -> String {
        self.s.ok(&self.c.vol1, "mutation($k: String!) { logService(idempotencyKey: $k, kind: REPAIR, startedAt: \"2024-05-01T02:00:00Z\", hours: \"1\") { serviceId } }", json!({"k": key()}))
            .await["logService"]["serviceId"].as_str().unwrap().to_string()
    }
    async fn bank_hours(&self) {
        let sid = self.service().await;
        self.admin("mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { position } }", json!({"k": key(), "v": self.c.v1, "s": sid})).await;
    }
    async fn award(&self) -> String {
        self.admin("mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"10.00\", reason: \"好人好事\") { entryId } }", json!({"k": key(), "v": self.c.v1}))
            .await["awardPoints"]["entryId"].as_str().unwrap().to_string()
    }
    async fn wish(&self) -> String {
        self.admin("mutation($k: String!, $c: ID!, $s: ID!) { postWish(idempotencyKey: $k, communityId: $c, stairwellId: $s, category: \"维修\", description: \"修水管\", residentLabel: \"2单元老人\") { wishId } }", json!({"k": key(), "c": self.c.id, "s": self.c.stairwell}))
            .await["postWish"]["wishId"].as_str().unwrap().to_string()
    }
    async fn claimed_wish(&self) -> String {
        let w = self.wish().await;
        self.admin("mutation($k: String!, $w: ID!, $v: ID!) { claimWish(idempotencyKey: $k, wishId: $w, volunteerId: $v) { status } }", json!({"k": key(), "w": w, "v": self.c.v1})).await;
        w
    }
    async fn fulfilled_wish(&self) -> String {
        let w = self.claimed_wish().await;
        self.admin("mutation($k: String!, $w: ID!, $v: ID!) { fulfilWish(idempotencyKey: $k, wishId: $w, volunteerId: $v, hours: \"0.5\") { status } }", json!({"k": key(), "w": w, "v": self.c.v1})).await;
        w
    }
    async fn issue(&self) -> (String, String) {
        let sw = self.stairwell().await;
        let i = self.admin("mutation($k: String!, $c: ID!, $s: ID!) { reportStairwellIssue(idempotencyKey: $k, communityId: $c, stairwellId: $s, description: \"堆放杂物\", deduction: \"5\") { issueId } }", json!({"k": key(), "c": self.c.id, "s": sw}))
            .await["reportStairwellIssue"]["issueId"].as_str().unwrap().to_string();
        (sw, i)
    }

    /// The request for one mutation, with fresh fixtures.
    async fn request(&self, mutation: &str) -> (String, Value) {
        let c = self.c;
        let k = key();
        let (q, v) = match mutation {
            "establishCommunity" => ("mutation($k: String!) { establishCommunity(idempotencyKey: $k, name: \"新社区\") { position } }", json!({"k": k})),
            "registerStairwell" => ("mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"1栋\", unit: \"1单元\", households: 12) { position } }", json!({"k": k, "c": c.id})),
            "formTeam" => ("mutation($k: String!, $c: ID!, $n: String!) { formTeam(idempotencyKey: $k, communityId: $c, name: $n) { position } }", json!({"k": k, "c": c.id, "n": format!("服务队{}", &k[..8])})),
            "registerVolunteer" => ("mutation($k: String!, $c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"赵六\") { position } }", json!({"k": k, "c": c.id, "s": c.stairwell})),
            "logService" => ("mutation($k: String!, $v: ID!) { logService(idempotencyKey: $k, volunteerId: $v, kind: PATROL, startedAt: \"2024-05-02T02:00:00Z\", hours: \"2\") { position } }", json!({"k": k, "v": c.v1})),
            "verifyService" => {
                let sid = self.service().await;
                ("mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { position } }", json!({"k": k, "v": c.v1, "s": sid}))
            }
            "rejectService" => {
                let sid = self.service().await;
                ("mutation($k: String!, $v: ID!, $s: ID!) { rejectService(idempotencyKey: $k, volunteerId: $v, serviceId: $s, reason: \"重复\") { position } }", json!({"k": k, "v": c.v1, "s": sid}))
            }
            "awardPoints" => ("mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", reason: \"奖励\") { position } }", json!({"k": k, "v": c.v1})),
            "redeemPoints" => {
                self.award().await;
                ("mutation($k: String!, $v: ID!) { redeemPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", item: \"毛巾\") { position } }", json!({"k": k, "v": c.v1}))
            }
            "reverseEntry" => {
                let e = self.award().await;
                ("mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"录入错误\") { position } }", json!({"k": k, "v": c.v1, "e": e}))
            }
            "giftHours" => {
                self.bank_hours().await;
                ("mutation($k: String!, $f: ID!, $t: ID!) { giftHours(idempotencyKey: $k, fromVolunteerId: $f, toVolunteerId: $t, hours: \"0.5\") { position } }", json!({"k": k, "f": c.v1, "t": c.v2}))
            }
            "spendHours" => {
                self.bank_hours().await;
                ("mutation($k: String!, $v: ID!) { spendHours(idempotencyKey: $k, volunteerId: $v, hours: \"0.5\", description: \"理发\") { position } }", json!({"k": k, "v": c.v1}))
            }
            "postWish" => ("mutation($k: String!, $c: ID!, $s: ID!) { postWish(idempotencyKey: $k, communityId: $c, stairwellId: $s, category: \"陪伴\", description: \"聊天\", residentLabel: \"独居老人\") { position } }", json!({"k": k, "c": c.id, "s": c.stairwell})),
            "claimWish" => {
                let w = self.wish().await;
                ("mutation($k: String!, $w: ID!, $v: ID!) { claimWish(idempotencyKey: $k, wishId: $w, volunteerId: $v) { position } }", json!({"k": k, "w": w, "v": c.v1}))
            }
            "releaseWish" => {
                let w = self.claimed_wish().await;
                ("mutation($k: String!, $w: ID!) { releaseWish(idempotencyKey: $k, wishId: $w) { position } }", json!({"k": k, "w": w}))
            }
            "fulfilWish" => {
                let w = self.claimed_wish().await;
                ("mutation($k: String!, $w: ID!, $v: ID!) { fulfilWish(idempotencyKey: $k, wishId: $w, volunteerId: $v, hours: \"1\") { position } }", json!({"k": k, "w": w, "v": c.v1}))
            }
            "confirmWish" => {
                let w = self.fulfilled_wish().await;
                ("mutation($k: String!, $w: ID!) { confirmWish(idempotencyKey: $k, wishId: $w) { position } }", json!({"k": k, "w": w}))
            }
            "cancelWish" => {
                let w = self.wish().await;
                ("mutation($k: String!, $w: ID!) { cancelWish(idempotencyKey: $k, wishId: $w, reason: \"已解决\") { position } }", json!({"k": k, "w": w}))
            }
            "recordInspection" => {
                let sw = self.stairwell().await;
                ("mutation($k: String!, $c: ID!, $s: ID!) { recordInspection(idempotencyKey: $k, communityId: $c, stairwellId: $s, month: \"2024-05\", scores: [{item: \"cleanliness\", score: \"28\"}, {item: \"clutter\", score: \"20\"}, {item: \"fire_safety\", score: \"25\"}]) { total position } }", json!({"k": k, "c": c.id, "s": sw}))
            }
            "reportStairwellIssue" => ("mutation($k: String!, $c: ID!, $s: ID!) { reportStairwellIssue(idempotencyKey: $k, communityId: $c, stairwellId: $s, description: \"楼道堆物\", deduction: \"3\") { position } }", json!({"k": k, "c": c.id, "s": c.stairwell})),
            "resolveStairwellIssue" => {
                let (sw, i) = self.issue().await;
                ("mutation($k: String!, $c: ID!, $s: ID!, $i: ID!) { resolveStairwellIssue(idempotencyKey: $k, communityId: $c, stairwellId: $s, issueId: $i) { position } }", json!({"k": k, "c": c.id, "s": sw, "i": i}))
            }
            "setPointRules" => ("mutation($k: String!, $c: ID!) { setPointRules(idempotencyKey: $k, communityId: $c, pointsPerHour: \"10\", coefficients: [{kind: ELDERLY_VISIT, coefficient: \"1.5\"}], maxHoursPerRecord: \"4\", effectiveFrom: \"2024-01-01\") { version position } }", json!({"k": k, "c": c.id})),
            "setStarThresholds" => ("mutation($k: String!, $c: ID!) { setStarThresholds(idempotencyKey: $k, communityId: $c, thresholds: [\"100\", \"200\", \"500\", \"800\", \"1000\"], effectiveFrom: \"2024-01-01\") { version position } }", json!({"k": k, "c": c.id})),
            "eraseVolunteerPersonalData" => {
                let v = self.volunteer().await;
                ("mutation($k: String!, $v: ID!) { eraseVolunteerPersonalData(idempotencyKey: $k, volunteerId: $v) { erased position } }", json!({"k": k, "v": v}))
            }
            other => panic!("no request for {other}"),
        };
        (q.to_string(), v)
    }
}

fn allowed(mutation: &str) -> &'static [Who] {
    match mutation {
        "establishCommunity" | "setPointRules" | "setStarThresholds" => &[Who::Admin],
        "logService" | "claimWish" | "releaseWish" | "fulfilWish" | "giftHours" | "spendHours" => {
            &[Who::Admin, Who::Staff, Who::Volunteer]
        }
        _ => &[Who::Admin, Who::Staff],
    }
}

const MUTATIONS: [&str; 24] = [
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
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_mutation_with_every_role() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let fx = Fx { s: &s, c: &c };
        let mut failures = Vec::new();
        for m in MUTATIONS {
            for who in EVERYONE {
                let (q, v) = fx.request(m).await;
                let token = match who {
                    Who::Nobody => None,
                    Who::Admin => Some(s.admin.as_str()),
                    Who::Staff => Some(c.staff.as_str()),
                    Who::OtherStaff => Some(c.other_staff.as_str()),
                    Who::Volunteer => Some(c.vol1.as_str()),
                    Who::Display => Some(c.display.as_str()),
                };
                let (status, body) = s.gql(token, &q, v).await;
                let ok = status == 200 && body.get("errors").is_none();
                let expected_ok = allowed(m).contains(&who);
                let expected_code = if who == Who::Nobody {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                };
                if expected_ok != ok || (!expected_ok && code(&body) != expected_code) {
                    failures.push(format!("{m} as {who:?}: status {status}, {body}"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} unexpected outcomes:\n{}",
            failures.len(),
            failures.join("\n")
        );
        s.stop().await;
    }
}

/// Who may run each query (others get FORBIDDEN, or UNAUTHENTICATED without a token).
fn read_allowed(query: &str) -> &'static [Who] {
    use Who::*;
    match query {
        "me" => &[Admin, Staff, OtherStaff, Volunteer, Display],
        "volunteer" | "statement" | "myRank" => &[Admin, Staff, Volunteer],
        "volunteers" | "dashboard" => &[Admin, Staff],
        "ranking" | "wishes" | "stairwellScores" | "redFlag" => &[Admin, Staff, Volunteer, Display],
        "events" => &[Admin],
        other => panic!("no rule for {other}"),
    }
}

/// The read matrix: every query with every role, on the community of `c` and its
/// volunteer v1 (the volunteer token is v1's).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_query_with_every_role() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let head = s.head().await;
        let queries: [(&str, &str); 11] = [
            ("me", "query($p: Int) { me(atLeast: $p) { role } }"),
            ("volunteer", "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { id balance { points } } }"),
            ("volunteers", "query($c: ID!, $p: Int) { volunteers(communityId: $c, atLeast: $p) { volunteers { id } } }"),
            ("statement", "query($v: ID!, $p: Int) { statement(volunteerId: $v, atLeast: $p) { entries { kind } } }"),
            ("ranking", "query($c: ID!, $p: Int) { ranking(communityId: $c, metric: POINTS, atLeast: $p) { rows { rank } } }"),
            ("myRank", "query($v: ID!, $p: Int) { myRank(metric: HOURS, volunteerId: $v, atLeast: $p) { rank } }"),
            ("wishes", "query($c: ID!, $p: Int) { wishes(communityId: $c, atLeast: $p) { wishes { id } } }"),
            ("stairwellScores", "query($c: ID!, $p: Int) { stairwellScores(communityId: $c, month: \"2024-05\", atLeast: $p) { total } }"),
            ("redFlag", "query($c: ID!, $p: Int) { redFlag(communityId: $c, month: \"2024-05\", atLeast: $p) { total } }"),
            ("dashboard", "query($c: ID!, $p: Int) { dashboard(communityId: $c, atLeast: $p) { month } }"),
            ("events", "query($p: Int) { events(first: 1, atLeast: $p) { position } }"),
        ];
        let mut failures = Vec::new();
        for (name, q) in queries {
            for who in EVERYONE {
                let token = match who {
                    Who::Nobody => None,
                    Who::Admin => Some(s.admin.as_str()),
                    Who::Staff => Some(c.staff.as_str()),
                    Who::OtherStaff => Some(c.other_staff.as_str()),
                    Who::Volunteer => Some(c.vol1.as_str()),
                    Who::Display => Some(c.display.as_str()),
                };
                let vars = json!({"c": c.id, "v": c.v1, "p": head});
                let (status, body) = s.gql(token, q, vars).await;
                let ok = status == 200 && body.get("errors").is_none();
                let expected_ok = read_allowed(name).contains(&who);
                let expected_code = if who == Who::Nobody {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                };
                if expected_ok != ok || (!expected_ok && code(&body) != expected_code) {
                    failures.push(format!("{name} as {who:?}: status {status}, {body}"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} unexpected outcomes:\n{}",
            failures.len(),
            failures.join("\n")
        );
        s.stop().await;
    }
}
