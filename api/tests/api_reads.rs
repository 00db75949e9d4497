//! Reads from the read models over HTTP on each backend: rankings by scope and period
//! with history kept in shape (a volunteer who moved grid and left a team), dense ranks
//! and ties; volunteer lists (keyset pages, search, profiles and names through
//! DataLoaders); statements with cursors and reversal links; the wish board.

mod common;

use common::*;
use serde_json::{json, Value};

/// Runs a mutation and returns (data of the field, its position).
async fn m(s: &Server, token: &str, field: &str, query: &str, vars: Value) -> (Value, u64) {
    let d = s.ok(token, query, vars).await;
    let v = d[field].clone();
    let pos = v["position"].as_u64().expect("position");
    (v, pos)
}

fn ids(rows: &Value, field: &str) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap().to_string())
        .collect()
}

struct World {
    grid_a: String,
    grid_b: String,
    s2: String,
    team: String,
    v3: String,
    /// Entry of v1's March service (verified while in grid A and the team).
    march_entry: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_from_read_models() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let (w, pos) = build(&s, &c).await;
        rankings(&s, &c, &w, pos).await;
        let pos = volunteers(&s, &c, &w).await;
        statements(&s, &c, &w, pos).await;
        wishes(&s, &c).await;
        stars_by_date(&s, &c).await;
        households(&s, &c).await;
        s.stop().await;
    }
}

/// v1 serves 2 h in March 2024 in grid A and team T, then moves to grid B and leaves
/// T and serves 1 h in April; v3 (grid B, tag 青年) serves 1 h in April; v2 gets an
/// award (points, no hours).
async fn build(s: &Server, c: &Community) -> (World, u64) {
    let grid_b = m(
        s,
        &c.staff,
        "addGrid",
        "mutation($k: String!, $c: ID!) { addGrid(idempotencyKey: $k, communityId: $c, name: \"二网格\") { gridId position } }",
        json!({"k": key(), "c": c.id}),
    )
    .await
    .0["gridId"]
        .as_str()
        .unwrap()
        .to_string();
    let (sw2, _) = m(
        s,
        &c.staff,
        "registerStairwell",
        "mutation($k: String!, $c: ID!, $g: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, gridId: $g, building: \"5栋\", unit: \"1单元\", households: 30) { stairwellId gridId position } }",
        json!({"k": key(), "c": c.id, "g": grid_b}),
    )
    .await;
    let s2 = sw2["stairwellId"].as_str().unwrap().to_string();
    let head = s.head().await;
    let v1 = s
        .ok(
            &c.staff,
            "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { gridId stairwellId } }",
            json!({"v": c.v1, "p": head}),
        )
        .await;
    let grid_a = v1["volunteer"]["gridId"].as_str().unwrap().to_string();
    assert_eq!(v1["volunteer"]["stairwellId"], c.stairwell.as_str());
    assert_ne!(grid_a, grid_b);
    let team = m(
        s,
        &c.staff,
        "formTeam",
        "mutation($k: String!, $c: ID!) { formTeam(idempotencyKey: $k, communityId: $c, name: \"巡逻队\") { teamId position } }",
        json!({"k": key(), "c": c.id}),
    )
    .await
    .0["teamId"]
        .as_str()
        .unwrap()
        .to_string();
    m(
        s,
        &c.staff,
        "joinTeam",
        "mutation($k: String!, $v: ID!, $t: ID!) { joinTeam(idempotencyKey: $k, volunteerId: $v, teamId: $t) { position } }",
        json!({"k": key(), "v": c.v1, "t": team}),
    )
    .await;
    let v3 = m(
        s,
        &c.staff,
        "registerVolunteer",
        "mutation($k: String!, $c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"王五\", tags: [\"青年\"]) { volunteerId position } }",
        json!({"k": key(), "c": c.id, "s": s2}),
    )
    .await
    .0["volunteerId"]
        .as_str()
        .unwrap()
        .to_string();
    let serve = |v: String, at: &'static str, hours: &'static str| async move {
        let sid = m(
            s,
            &s.admin,
            "logService",
            "mutation($k: String!, $v: ID!, $t: DateTime!, $h: Hours!) { logService(idempotencyKey: $k, volunteerId: $v, kind: PATROL, startedAt: $t, hours: $h) { serviceId position } }",
            json!({"k": key(), "v": v, "t": at, "h": hours}),
        )
        .await
        .0["serviceId"]
            .as_str()
            .unwrap()
            .to_string();
        m(
            s,
            &c.staff,
            "verifyService",
            "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId position } }",
            json!({"k": key(), "v": v, "s": sid}),
        )
        .await
        .0["entryId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let march_entry = serve(c.v1.clone(), "2024-03-10T02:00:00Z", "2").await;
    m(
        s,
        &c.staff,
        "moveVolunteer",
        "mutation($k: String!, $v: ID!, $s: ID!) { moveVolunteer(idempotencyKey: $k, volunteerId: $v, stairwellId: $s) { position } }",
        json!({"k": key(), "v": c.v1, "s": s2}),
    )
    .await;
    m(
        s,
        &c.staff,
        "leaveTeam",
        "mutation($k: String!, $v: ID!, $t: ID!) { leaveTeam(idempotencyKey: $k, volunteerId: $v, teamId: $t) { position } }",
        json!({"k": key(), "v": c.v1, "t": team}),
    )
    .await;
    serve(c.v1.clone(), "2024-04-10T02:00:00Z", "1").await;
    serve(v3.clone(), "2024-04-20T02:00:00Z", "1").await;
    let (_, pos) = m(
        s,
        &c.staff,
        "awardPoints",
        "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"5.00\", reason: \"好人好事\") { position } }",
        json!({"k": key(), "v": c.v2}),
    )
    .await;
    (
        World {
            grid_a,
            grid_b,
            s2,
            team,
            v3,
            march_entry,
        },
        pos,
    )
}

/// (volunteer id, rank, hours) of a ranking by hours.
async fn hours_ranking(
    s: &Server,
    token: &str,
    c: &Community,
    period: &str,
    scope: &str,
    pos: u64,
) -> Vec<(String, u64, String)> {
    let r = s
        .ok(
            token,
            "query($c: ID!, $per: String!, $sc: String, $p: Int) { ranking(communityId: $c, metric: HOURS, period: $per, scope: $sc, first: 10, atLeast: $p) { rows { volunteerId rank hours name } } }",
            json!({"c": c.id, "per": period, "sc": scope, "p": pos}),
        )
        .await;
    r["ranking"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["volunteerId"].as_str().unwrap().to_string(),
                row["rank"].as_u64().unwrap(),
                row["hours"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn rankings(s: &Server, c: &Community, w: &World, pos: u64) {
    let r = |v: &str, rank: u64, h: &str| (v.to_string(), rank, h.to_string());
    let grid = |g: &str| format!("GRID:{g}");
    let team = format!("TEAM:{}", w.team);
    // the community, all time: v1 3 h, v3 1 h; v2's award has no hours
    assert_eq!(
        hours_ranking(s, &c.vol1, c, "ALL", "COMMUNITY", pos).await,
        vec![r(&c.v1, 1, "3.00"), r(&w.v3, 2, "1.00")]
    );
    // v1's March hours stay in grid A and the team, where v1 was when serving
    assert_eq!(
        hours_ranking(s, &c.vol1, c, "ALL", &grid(&w.grid_a), pos).await,
        vec![r(&c.v1, 1, "2.00")]
    );
    assert_eq!(
        hours_ranking(s, &c.staff, c, "ALL", &team, pos).await,
        vec![r(&c.v1, 1, "2.00")]
    );
    // in grid B, April: a tie, dense ranks, tie broken by volunteer number
    assert_eq!(
        hours_ranking(s, &c.display, c, "2024-Q2", &grid(&w.grid_b), pos).await,
        vec![r(&c.v1, 1, "1.00"), r(&w.v3, 1, "1.00")]
    );
    assert_eq!(
        hours_ranking(s, &c.display, c, "2024-03", "COMMUNITY", pos).await,
        vec![r(&c.v1, 1, "2.00")]
    );
    assert_eq!(
        hours_ranking(s, &c.display, c, "2024", "COMMUNITY", pos).await,
        vec![r(&c.v1, 1, "3.00"), r(&w.v3, 2, "1.00")]
    );
    assert!(hours_ranking(s, &c.display, c, "2023", "COMMUNITY", pos)
        .await
        .is_empty());
    // tags of the community
    assert_eq!(
        hours_ranking(s, &c.display, c, "ALL", "TAG:青年", pos).await,
        vec![r(&w.v3, 1, "1.00")]
    );
    assert_eq!(
        hours_ranking(s, &c.display, c, "ALL", "TAG:党员", pos).await,
        vec![r(&c.v1, 1, "3.00")]
    );
    // names: shortened on the display, whole for volunteers
    let names = |token: &str| {
        let token = token.to_string();
        async move {
            s.ok(
                &token,
                "query($c: ID!, $p: Int) { ranking(communityId: $c, metric: POINTS, first: 10, atLeast: $p) { rows { name rank points } } }",
                json!({"c": c.id, "p": pos}),
            )
            .await["ranking"]["rows"]
                .clone()
        }
    };
    let shown = names(&c.display).await;
    let whole = names(&c.vol2).await;
    assert_eq!(shown.as_array().unwrap().len(), 3, "{shown}");
    assert!(shown
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "李*" && r["points"] == "5.00"));
    assert!(whole
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "李四"));
    let ranks: Vec<u64> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rank"].as_u64().unwrap())
        .collect();
    assert!(ranks.windows(2).all(|p| p[1] == p[0] || p[1] == p[0] + 1));
    // myRank
    let my = |token: String, vars: Value| async move {
        let q = "query($sc: String, $per: String!, $v: ID, $p: Int) { myRank(metric: HOURS, period: $per, scope: $sc, volunteerId: $v, atLeast: $p) { rank hours volunteerId } }";
        let mut vars = vars;
        vars["p"] = json!(pos);
        s.ok(&token, q, vars).await["myRank"].clone()
    };
    let v3 = my(
        c.staff.clone(),
        json!({"sc": grid(&w.grid_b), "per": "2024-04", "v": w.v3}),
    )
    .await;
    assert_eq!(
        (v3["rank"].as_u64(), v3["hours"].as_str()),
        (Some(1), Some("1.00"))
    );
    let own = my(c.vol1.clone(), json!({"sc": "COMMUNITY", "per": "ALL"})).await;
    assert_eq!(own["rank"], 1);
    assert_eq!(own["volunteerId"], c.v1.as_str());
    let gone = my(c.vol1.clone(), json!({"sc": team, "per": "2024-Q2"})).await;
    assert!(gone.is_null(), "v1 left the team before April: {gone}");
    // scopes of another community are not this community's to read
    let other_grid = s
        .ok(
            &s.admin,
            "mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"1栋\", unit: \"1单元\", households: 8) { gridId } }",
            json!({"k": key(), "c": c.other_id}),
        )
        .await["registerStairwell"]["gridId"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, body) = s
        .gql(
            Some(&c.vol1),
            "query($c: ID!, $sc: String) { ranking(communityId: $c, metric: POINTS, scope: $sc) { rows { rank } } }",
            json!({"c": c.id, "sc": grid(&other_grid)}),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    for bad in ["GRID:nope", "SHELF:1", "TAG:"] {
        let (_, body) = s
            .gql(
                Some(&c.vol1),
                "query($c: ID!, $sc: String) { ranking(communityId: $c, metric: POINTS, scope: $sc) { rows { rank } } }",
                json!({"c": c.id, "sc": bad}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "{bad}: {body}");
    }
    let (_, body) = s
        .gql(
            Some(&c.vol1),
            "query($c: ID!) { ranking(communityId: $c, metric: POINTS, period: \"2024-13\") { rows { rank } } }",
            json!({"c": c.id}),
        )
        .await;
    assert_eq!(code(&body), "INVALID_INPUT", "{body}");
    let (_, body) = s
        .gql(
            Some(&c.vol1),
            "query($c: ID!) { ranking(communityId: $c, metric: POINTS) { rows { rank } } }",
            json!({"c": c.other_id}),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    // a reversal takes the entry out of the very cells it was counted in
    let (_, pos) = m(
        s,
        &c.staff,
        "reverseEntry",
        "mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"重复录入\") { position } }",
        json!({"k": key(), "v": c.v1, "e": w.march_entry}),
    )
    .await;
    assert!(hours_ranking(s, &c.vol1, c, "ALL", &grid(&w.grid_a), pos)
        .await
        .is_empty());
    assert!(hours_ranking(s, &c.vol1, c, "ALL", &team, pos)
        .await
        .is_empty());
    assert_eq!(
        hours_ranking(s, &c.vol1, c, "ALL", "COMMUNITY", pos).await,
        vec![r(&c.v1, 1, "1.00"), r(&w.v3, 1, "1.00")]
    );
}

/// Registers more volunteers and pages through the community; returns the last position.
async fn volunteers(s: &Server, c: &Community, w: &World) -> u64 {
    let mut pos = 0;
    for i in 0..25 {
        pos = m(
            s,
            &c.staff,
            "registerVolunteer",
            "mutation($k: String!, $c: ID!, $s: ID!, $n: String!, $p: String) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n, phone: $p) { position } }",
            json!({"k": key(), "c": c.id, "s": w.s2, "n": format!("居民{i:02}"), "p": format!("139{i:08}")}),
        )
        .await
        .1;
    }
    let page = "query($c: ID!, $a: String, $q: String, $f: Int, $p: Int) { volunteers(communityId: $c, after: $a, search: $q, first: $f, atLeast: $p) { volunteers { id volunteerNumber name phone gridId stairwellId tags teamIds departed balance { points hours } totals { pointsEarned hoursReversed stars { level } } } hasNextPage endCursor } }";
    let mut all: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let d = s
            .ok(
                &c.staff,
                page,
                json!({"c": c.id, "a": after, "f": 10, "p": pos}),
            )
            .await;
        let p = &d["volunteers"];
        pages += 1;
        all.extend(p["volunteers"].as_array().unwrap().iter().cloned());
        if !p["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(p["endCursor"].as_str().unwrap().to_string());
    }
    assert_eq!(pages, 3);
    assert_eq!(all.len(), 28, "v1, v2, v3 and 25 more");
    let numbers: Vec<String> = all
        .iter()
        .map(|v| v["volunteerNumber"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(numbers, sorted, "by volunteer number, no duplicates");
    let find = |id: &str| all.iter().find(|v| v["id"] == id).unwrap().clone();
    let v1 = find(&c.v1);
    assert_eq!(v1["gridId"], w.grid_b.as_str(), "v1 moved to grid B");
    assert_eq!(v1["stairwellId"], w.s2.as_str());
    assert_eq!(v1["teamIds"], json!([]), "v1 left the team");
    assert_eq!(v1["tags"], json!(["党员"]));
    assert_eq!(
        v1["phone"], "13812345678",
        "staff of the community see phones"
    );
    assert_eq!(v1["balance"]["hours"], "1.00");
    assert_eq!(v1["totals"]["hoursReversed"], "2.00");
    let v3 = find(&w.v3);
    assert_eq!(v3["name"], "王五");
    assert_eq!(v3["tags"], json!(["青年"]));
    assert_eq!(v3["departed"], false);
    // search by name and by number, across chunks and pages
    let d = s
        .ok(
            &c.staff,
            page,
            json!({"c": c.id, "q": "居民1", "f": 4, "p": pos}),
        )
        .await;
    let found = ids(&d["volunteers"]["volunteers"], "name");
    assert_eq!(found, vec!["居民10", "居民11", "居民12", "居民13"]);
    assert_eq!(d["volunteers"]["hasNextPage"], true);
    let d = s
        .ok(
            &c.staff,
            page,
            json!({"c": c.id, "q": "居民1", "f": 10, "a": d["volunteers"]["endCursor"], "p": pos}),
        )
        .await;
    assert_eq!(
        ids(&d["volunteers"]["volunteers"], "name"),
        vec!["居民14", "居民15", "居民16", "居民17", "居民18", "居民19"]
    );
    assert_eq!(d["volunteers"]["hasNextPage"], false);
    let number = v3["volunteerNumber"].as_str().unwrap();
    let d = s
        .ok(&s.admin, page, json!({"c": c.id, "q": number, "p": pos}))
        .await;
    let hits = d["volunteers"]["volunteers"].as_array().unwrap();
    assert!(hits.iter().any(|v| v["id"] == w.v3.as_str()));
    assert!(
        hits.iter()
            .all(|v| v["phone"].as_str().is_none_or(|p| p.contains("****"))),
        "admins see masked phones"
    );
    let d = s
        .ok(&c.staff, page, json!({"c": c.id, "f": 0, "p": pos}))
        .await;
    assert_eq!(d["volunteers"]["volunteers"], json!([]));
    assert_eq!(d["volunteers"]["hasNextPage"], true);
    pos
}

async fn statements(s: &Server, c: &Community, w: &World, pos: u64) {
    let (_, pos2) = m(
        s,
        &c.staff,
        "giftHours",
        "mutation($k: String!, $f: ID!, $t: ID!) { giftHours(idempotencyKey: $k, fromVolunteerId: $f, toVolunteerId: $t, hours: \"0.5\") { position } }",
        json!({"k": key(), "f": c.v1, "t": c.v2}),
    )
    .await;
    let pos = pos.max(pos2);
    let q = "query($v: ID, $a: String, $p: Int) { statement(volunteerId: $v, first: 2, after: $a, atLeast: $p) { entries { entryId kind pointsDelta hoursDelta hoursBalance reverses reversedBy counterpart eventId position cursor } hasNextPage endCursor } }";
    let mut entries: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let d = s.ok(&c.vol1, q, json!({"a": after, "p": pos})).await;
        let p = &d["statement"];
        entries.extend(p["entries"].as_array().unwrap().iter().cloned());
        if !p["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(p["endCursor"].as_str().unwrap().to_string());
    }
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "SERVICE_VERIFIED",
            "SERVICE_VERIFIED",
            "REVERSAL",
            "HOURS_GIFTED"
        ],
        "{entries:#?}"
    );
    let march = entries
        .iter()
        .find(|e| e["entryId"] == w.march_entry.as_str())
        .unwrap();
    let reversal = &entries[2];
    assert_eq!(march["reversedBy"], reversal["entryId"]);
    assert_eq!(reversal["reverses"], w.march_entry.as_str());
    assert_eq!(reversal["hoursDelta"], "-2.00");
    let gift = &entries[3];
    assert_eq!(gift["counterpart"], c.v2.as_str());
    assert_eq!(gift["hoursBalance"], "0.50", "2 + 1 - 2 - 0.5");
    let positions: Vec<u64> = entries
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]));
    // the other side of the gift, read by staff
    let d = s
        .ok(
            &c.staff,
            "query($v: ID, $p: Int) { statement(volunteerId: $v, atLeast: $p) { entries { kind counterpart hoursDelta } } }",
            json!({"v": c.v2, "p": pos}),
        )
        .await;
    let last = d["statement"]["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last,
        json!({"kind": "HOURS_RECEIVED", "counterpart": c.v1, "hoursDelta": "0.50"})
    );
    // access
    for (token, v) in [
        (&c.vol2, &c.v1),
        (&c.other_staff, &c.v1),
        (&c.display, &c.v1),
    ] {
        let (_, body) = s.gql(Some(token), q, json!({"v": v})).await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
    }
    let (_, body) = s.gql(Some(&c.staff), q, json!({"v": c.v1, "a": "x"})).await;
    assert_eq!(code(&body), "INVALID_INPUT");
    let (_, body) = s
        .gql(
            Some(&c.staff),
            q,
            json!({"v": uuid::Uuid::new_v4().to_string()}),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // the volunteer's own account in full
    let me = s
        .ok(
            &c.vol1,
            "query($p: Int) { me(atLeast: $p) { volunteer { balance { hours verifiedHours stars } totals { hoursGifted hoursReversed starThresholds } } } }",
            json!({"p": pos}),
        )
        .await;
    let v = &me["me"]["volunteer"];
    assert_eq!(v["balance"]["hours"], "0.50");
    assert_eq!(v["balance"]["verifiedHours"], "1.00");
    assert_eq!(v["totals"]["hoursGifted"], "0.50");
    assert_eq!(v["totals"]["starThresholds"].as_array().unwrap().len(), 5);
}

async fn wishes(s: &Server, c: &Community) {
    let mut posted = Vec::new();
    for i in 0..5 {
        let (d, _) = m(
            s,
            &c.staff,
            "postWish",
            "mutation($k: String!, $c: ID!, $s: ID!, $d: String!) { postWish(idempotencyKey: $k, communityId: $c, stairwellId: $s, category: \"代购\", description: $d, residentLabel: \"独居老人\") { wishId position } }",
            json!({"k": key(), "c": c.id, "s": c.stairwell, "d": format!("心愿{i}")}),
        )
        .await;
        posted.push(d["wishId"].as_str().unwrap().to_string());
    }
    let (_, pos) = m(
        s,
        &c.staff,
        "claimWish",
        "mutation($k: String!, $w: ID!, $v: ID!) { claimWish(idempotencyKey: $k, wishId: $w, volunteerId: $v) { position } }",
        json!({"k": key(), "w": posted[1], "v": c.v1}),
    )
    .await;
    let q = "query($c: ID!, $st: WishStatus, $a: String, $f: Int, $p: Int) { wishes(communityId: $c, status: $st, after: $a, first: $f, atLeast: $p) { wishes { id description status claimedBy claimerName postedAt claimedAt secondsToClaim } hasNextPage endCursor } }";
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let d = s
            .ok(&c.vol2, q, json!({"c": c.id, "a": after, "f": 2, "p": pos}))
            .await;
        let p = &d["wishes"];
        seen.extend(ids(&p["wishes"], "id"));
        if !p["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(p["endCursor"].as_str().unwrap().to_string());
    }
    let mut newest_first = posted.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first, "every wish once, newest first");
    let open = s
        .ok(&c.display, q, json!({"c": c.id, "st": "OPEN", "p": pos}))
        .await;
    assert_eq!(open["wishes"]["wishes"].as_array().unwrap().len(), 4);
    let claimed = s
        .ok(&c.display, q, json!({"c": c.id, "st": "CLAIMED", "p": pos}))
        .await;
    let w = &claimed["wishes"]["wishes"][0];
    assert_eq!(w["id"], posted[1].as_str());
    assert_eq!(w["claimedBy"], c.v1.as_str());
    assert_eq!(w["claimerName"], "张**", "shortened on displays");
    assert!(w["secondsToClaim"].as_i64().unwrap() >= 0);
    let by_staff = s
        .ok(&c.staff, q, json!({"c": c.id, "st": "CLAIMED", "p": pos}))
        .await;
    assert_eq!(by_staff["wishes"]["wishes"][0]["claimerName"], "张三丰");
    let (_, body) = s
        .gql(Some(&c.vol1), q, json!({"c": c.id, "a": "not-a-cursor"}))
        .await;
    assert_eq!(code(&body), "INVALID_INPUT");
    let (_, body) = s.gql(Some(&c.other_staff), q, json!({"c": c.id})).await;
    assert_eq!(code(&body), "FORBIDDEN");
}

/// Star levels follow the thresholds in force today: a version dated tomorrow changes
/// nothing yet, one set after it but dated yesterday applies at once.
async fn stars_by_date(s: &Server, c: &Community) {
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let set = "mutation($k: String!, $c: ID!, $t: [Hours!]!, $f: NaiveDate!) { setStarThresholds(idempotencyKey: $k, communityId: $c, thresholds: $t, effectiveFrom: $f) { version position } }";
    let q = "query($p: Int) { me(atLeast: $p) { volunteer { balance { verifiedHours stars } totals { starThresholds stars { level thresholdHours reachedOn } } } } }";
    let (_, pos) = m(
        s,
        &s.admin,
        "setStarThresholds",
        set,
        json!({"k": key(), "c": c.id, "t": ["0.25", "0.5", "0.75", "1", "1.25"], "f": (today + chrono::Duration::days(1)).to_string()}),
    )
    .await;
    let me = s.ok(&c.vol1, q, json!({"p": pos})).await;
    let v = &me["me"]["volunteer"];
    assert_eq!(v["balance"]["verifiedHours"], "1.00");
    assert_eq!(v["balance"]["stars"], 0, "a version dated tomorrow: {v}");
    assert_eq!(v["totals"]["starThresholds"][0], "100.00");
    let (_, pos) = m(
        s,
        &s.admin,
        "setStarThresholds",
        set,
        json!({"k": key(), "c": c.id, "t": ["0.5", "1", "2", "3", "4"], "f": (today - chrono::Duration::days(1)).to_string()}),
    )
    .await;
    let me = s.ok(&c.vol1, q, json!({"p": pos})).await;
    let v = &me["me"]["volunteer"];
    assert_eq!(v["balance"]["stars"], 2, "{v}");
    assert_eq!(v["totals"]["starThresholds"][0], "0.50");
    assert_eq!(
        v["totals"]["stars"],
        json!([
            {"level": 1, "thresholdHours": "0.50", "reachedOn": today.to_string()},
            {"level": 2, "thresholdHours": "1.00", "reachedOn": today.to_string()},
        ])
    );
}

/// 邻里互助 counts households: two volunteers registered into room 3-2-201 and one moved
/// into 3-2-202 of the same stairwell serve in May 2024: two households served. A
/// household that is blank or too long is INVALID_INPUT and writes nothing.
async fn households(s: &Server, c: &Community) {
    let register = "mutation($k: String!, $c: ID!, $s: ID!, $h: String) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"赵六\", household: $h) { volunteerId position } }";
    let mv = "mutation($k: String!, $v: ID!, $s: ID!, $h: String) { moveVolunteer(idempotencyKey: $k, volunteerId: $v, stairwellId: $s, household: $h) { position } }";
    let head = |s: &Server| {
        let store = s.store.clone();
        async move { store.head().await.unwrap() }
    };
    let before = head(s).await;
    let (_, body) = s
        .gql(
            Some(&c.staff),
            register,
            json!({"k": key(), "c": c.id, "s": c.stairwell, "h": "x".repeat(31)}),
        )
        .await;
    assert_eq!(code(&body), "INVALID_INPUT", "{body}");
    assert_eq!(head(s).await, before, "nothing written");
    let mut vols = Vec::new();
    for h in [Some("3-2-201"), Some("3-2-201"), None] {
        let (d, _) = m(
            s,
            &c.staff,
            "registerVolunteer",
            register,
            json!({"k": key(), "c": c.id, "s": c.stairwell, "h": h}),
        )
        .await;
        vols.push(d["volunteerId"].as_str().unwrap().to_string());
    }
    let (_, body) = s
        .gql(
            Some(&c.staff),
            mv,
            json!({"k": key(), "v": vols[2], "s": c.stairwell, "h": "  "}),
        )
        .await;
    assert_eq!(code(&body), "INVALID_INPUT", "{body}");
    m(
        s,
        &c.staff,
        "moveVolunteer",
        mv,
        json!({"k": key(), "v": vols[2], "s": c.stairwell, "h": "3-2-202"}),
    )
    .await;
    for v in &vols {
        let (d, _) = m(
            s,
            &s.admin,
            "logService",
            "mutation($k: String!, $v: ID!) { logService(idempotencyKey: $k, volunteerId: $v, kind: PATROL, startedAt: \"2024-05-10T02:00:00Z\", hours: \"1\") { serviceId position } }",
            json!({"k": key(), "v": v}),
        )
        .await;
        m(
            s,
            &c.staff,
            "verifyService",
            "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId position } }",
            json!({"k": key(), "v": v, "s": d["serviceId"]}),
        )
        .await;
    }
    let (_, pos) = m(
        s,
        &c.staff,
        "recordInspection",
        "mutation($k: String!, $c: ID!, $s: ID!) { recordInspection(idempotencyKey: $k, communityId: $c, stairwellId: $s, month: \"2024-05\", scores: [{item: \"cleanliness\", score: \"28\"}, {item: \"clutter\", score: \"20\"}, {item: \"fire_safety\", score: \"25\"}]) { total position } }",
        json!({"k": key(), "c": c.id, "s": c.stairwell}),
    )
    .await;
    let d = s
        .ok(
            &c.staff,
            "query($c: ID!, $p: Int) { stairwellScores(communityId: $c, month: \"2024-05\", atLeast: $p) { stairwellId served participation } }",
            json!({"c": c.id, "p": pos}),
        )
        .await;
    let row = d["stairwellScores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["stairwellId"] == c.stairwell.as_str())
        .cloned()
        .unwrap();
    // 24 households: 20 × min(1, 2 ÷ 7.2) = 5.56.
    assert_eq!(row["served"], 2, "{row}");
    assert_eq!(row["participation"], "5.56", "{row}");
}
