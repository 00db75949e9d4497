//! What the staff console and the phone page read and do, over HTTP on both backends:
//! correcting personal data (masked as before for others, absent from the log), the
//! volunteer list by the last digits of a phone, ordered by points with its pages and
//! totals, tags that move later service into their ranking, an award to many in one
//! command, each volunteer's inbox with its unread count, the hall's recent awards with
//! names shortened, a community's organisation and rules with its stairwells' open
//! issues, the certificates it issued, and the pages' sessions listed and ended.

mod common;

use common::*;
use serde_json::{json, Value};

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

async fn corrections_and_the_list(s: &Server, c: &Community) {
    let fix = "mutation($k: String!, $v: ID!, $p: String) { correctPersonalData(idempotencyKey: $k, volunteerId: $v, name: \"张三丰\", phone: $p) { position } }";
    let p = s
        .ok(
            &c.staff,
            fix,
            json!({"k": key(), "v": c.v1, "p": "13700009999"}),
        )
        .await["correctPersonalData"]["position"]
        .as_u64()
        .unwrap();
    // Staff of the community see the new phone whole; an admin sees it masked.
    let read = "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { phone } }";
    let vars = json!({"v": c.v1, "p": p});
    assert_eq!(
        s.ok(&c.staff, read, vars.clone()).await["volunteer"]["phone"],
        "13700009999"
    );
    assert_eq!(
        s.ok(&s.admin, read, vars).await["volunteer"]["phone"],
        "137****9999"
    );
    // The log says a correction was made, never the number.
    let events = s
        .ok(
            &s.admin,
            "query { events(first: 100) { eventType payload } }",
            json!({}),
        )
        .await
        .to_string();
    assert!(events.contains("PersonalDataCorrected"), "{events}");
    assert!(!events.contains("13700009999"));
    // Found by the last four digits of the new phone, not of the old one.
    let search = "query($c: ID!, $q: String) { volunteers(communityId: $c, search: $q) { volunteers { id } } }";
    let found = |q: &'static str| {
        let vars = json!({"c": c.id, "q": q});
        async move { list(&s.ok(&c.staff, search, vars).await["volunteers"]["volunteers"]) }
    };
    assert_eq!(found("9999").await.len(), 1);
    assert_eq!(found("9999").await[0]["id"], c.v1.as_str());
    assert!(found("5678").await.is_empty());
    // Three digits are not a phone search (a volunteer number may still match).
    assert!(found("999").await.is_empty());
}

async fn awards_order_totals_and_inbox(s: &Server, c: &Community) {
    let many = "mutation($k: String!, $a: ID!, $b: ID!) { awardPointsToMany(idempotencyKey: $k, volunteerIds: [$a, $b], points: \"5\", reason: \"楼道清扫\") { awards { volunteerId entryId } position } }";
    let k = key();
    let done = s
        .ok(&c.staff, many, json!({"k": k, "a": c.v1, "b": c.v2}))
        .await;
    assert_eq!(list(&done["awardPointsToMany"]["awards"]).len(), 2);
    let one = "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"3\", reason: \"义务理发\") { position } }";
    let p = s.ok(&c.staff, one, json!({"k": key(), "v": c.v2})).await["awardPoints"]["position"]
        .as_u64()
        .unwrap();
    // A retry of the award to many replays: nobody gets it twice.
    let again = s
        .ok(&c.staff, many, json!({"k": k, "a": c.v1, "b": c.v2}))
        .await;
    assert_eq!(
        again["awardPointsToMany"]["position"],
        done["awardPointsToMany"]["position"]
    );
    // The statement newest first: the last award on top, then the one before.
    let newest = "query($v: ID!, $p: Int, $after: String) { statement(volunteerId: $v, first: 1, after: $after, newestFirst: true, atLeast: $p) { entries { description pointsDelta } endCursor } }";
    let top = s.ok(&c.staff, newest, json!({"v": c.v2, "p": p})).await["statement"].clone();
    assert_eq!(top["entries"][0]["pointsDelta"], "3.00");
    let next = s
        .ok(
            &c.staff,
            newest,
            json!({"v": c.v2, "p": p, "after": top["endCursor"]}),
        )
        .await;
    assert_eq!(next["statement"]["entries"][0]["pointsDelta"], "5.00");
    // By points: v2 (8) before v1 (5); one a page, the cursor carries on.
    let page = "query($c: ID!, $p: Int, $after: String) { volunteers(communityId: $c, orderBy: POINTS, first: 1, after: $after, atLeast: $p) { volunteers { id balance { points } } hasNextPage endCursor } }";
    let first = s.ok(&c.staff, page, json!({"c": c.id, "p": p})).await["volunteers"].clone();
    assert_eq!(first["volunteers"][0]["id"], c.v2.as_str());
    assert_eq!(first["volunteers"][0]["balance"]["points"], "8.00");
    assert_eq!(first["hasNextPage"], true);
    let second = s
        .ok(
            &c.staff,
            page,
            json!({"c": c.id, "p": p, "after": first["endCursor"]}),
        )
        .await["volunteers"]
        .clone();
    assert_eq!(second["volunteers"][0]["id"], c.v1.as_str());
    assert_eq!(second["hasNextPage"], false);
    let (_, bad) = s
        .gql(Some(&c.staff), page, json!({"c": c.id, "after": "@x"}))
        .await;
    assert_eq!(code(&bad), "INVALID_INPUT");
    let totals = s
        .ok(&c.staff, "query($c: ID!, $p: Int) { volunteerTotals(communityId: $c, atLeast: $p) { volunteers points verifiedHours } }", json!({"c": c.id, "p": p}))
        .await["volunteerTotals"]
        .clone();
    assert_eq!(
        totals,
        json!({"volunteers": 2, "points": "13.00", "verifiedHours": "0.00"})
    );
    // v2's inbox: the two awards, newest first, unread until marked.
    let inbox = "query($p: Int) { inbox(atLeast: $p) { unread newest messages { kind points detail unread } } }";
    let mine = s.ok(&c.vol2, inbox, json!({"p": p})).await["inbox"].clone();
    let kinds: Vec<_> = list(&mine["messages"])
        .iter()
        .map(|m| (m["kind"].clone(), m["detail"].clone()))
        .collect();
    assert_eq!(kinds[0], (json!("POINTS_AWARDED"), json!("义务理发")));
    assert_eq!(kinds[1], (json!("POINTS_AWARDED"), json!("楼道清扫")));
    assert_eq!(kinds.last().unwrap().0, "WELCOME");
    let unread = mine["unread"].as_u64().unwrap();
    assert_eq!(unread as usize, kinds.len());
    let left = s
        .ok(
            &c.vol2,
            "mutation($n: Int!) { markInboxRead(upTo: $n) }",
            json!({"n": mine["newest"]}),
        )
        .await["markInboxRead"]
        .as_u64()
        .unwrap();
    assert_eq!(left, 0);
    let after = s.ok(&c.vol2, inbox, json!({"p": p})).await["inbox"].clone();
    assert_eq!(after["unread"], 0);
    assert_eq!(after["messages"][0]["unread"], false);
    // Marking an older position does not make anything unread again.
    s.ok(&c.vol2, "mutation { markInboxRead(upTo: 1) }", json!({}))
        .await;
    assert_eq!(s.ok(&c.vol2, inbox, json!({})).await["inbox"]["unread"], 0);
    // The hall's recent awards: names shortened for the display, whole for staff.
    let recent = "query($c: ID!, $p: Int) { recentAwards(communityId: $c, first: 3, atLeast: $p) { name points detail } }";
    let shown = s.ok(&c.display, recent, json!({"c": c.id, "p": p})).await;
    assert_eq!(
        shown["recentAwards"][0],
        json!({"name": "李*", "points": "3.00", "detail": "义务理发"})
    );
    let staff_view = s.ok(&c.staff, recent, json!({"c": c.id, "p": p})).await;
    assert_eq!(staff_view["recentAwards"][0]["name"], "李四");
}

async fn tags_and_rankings(s: &Server, c: &Community) {
    let tags = "mutation($k: String!, $v: ID!) { setVolunteerTags(idempotencyKey: $k, volunteerId: $v, tags: [\"五老\"]) { position } }";
    s.ok(&c.staff, tags, json!({"k": key(), "v": c.v2})).await;
    let award = "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"7\", reason: \"巡逻\") { position } }";
    let p = s.ok(&c.staff, award, json!({"k": key(), "v": c.v2})).await["awardPoints"]["position"]
        .as_u64()
        .unwrap();
    let profile = s
        .ok(
            &c.staff,
            "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { tags } }",
            json!({"v": c.v2, "p": p}),
        )
        .await;
    assert_eq!(profile["volunteer"]["tags"], json!(["五老"]));
    // The award after the change counts under 五老, not under 党员.
    let rank = "query($c: ID!, $s: String, $p: Int) { ranking(communityId: $c, metric: POINTS, scope: $s, atLeast: $p) { rows { volunteerId points } } }";
    let five = s
        .ok(&c.staff, rank, json!({"c": c.id, "s": "TAG:五老", "p": p}))
        .await;
    assert_eq!(
        five["ranking"]["rows"],
        json!([{"volunteerId": c.v2, "points": "7.00"}])
    );
    let party = s
        .ok(&c.staff, rank, json!({"c": c.id, "s": "TAG:党员", "p": p}))
        .await;
    assert!(
        !party["ranking"]["rows"].to_string().contains("\"7.00\""),
        "{party}"
    );
}

async fn community_certificates_and_sessions(s: &Server, c: &Community) {
    let report = "mutation($k: String!, $c: ID!, $s: ID!) { reportStairwellIssue(idempotencyKey: $k, communityId: $c, stairwellId: $s, description: \"楼道堆放杂物\", deduction: \"5\") { issueId } }";
    s.ok(
        &c.staff,
        report,
        json!({"k": key(), "c": c.id, "s": c.stairwell}),
    )
    .await;
    let q = "query($c: ID!) { community(id: $c) { name stairwells { building unit households openIssues { description deduction } } rubric { items { name max } participationMax } pointRules { version pointsPerHour } starThresholds { thresholds } activityRules { noticeDays codePeriodSeconds } } }";
    let got = s.ok(&c.vol1, q, json!({"c": c.id})).await["community"].clone();
    assert_eq!(got["name"], "海棠社区");
    assert_eq!(got["stairwells"][0]["building"], "3栋");
    assert_eq!(
        got["stairwells"][0]["openIssues"],
        json!([{"description": "楼道堆放杂物", "deduction": "5"}])
    );
    // The same count for the whole community from the read model, and one stairwell.
    let counts = "query($c: ID!, $s: ID!, $p: Int) { community(id: $c, atLeast: $p) { openIssueCounts { stairwellId open } stairwell(id: $s) { unit } } }";
    let head = s.head().await;
    let one = s
        .ok(
            &c.staff,
            counts,
            json!({"c": c.id, "s": c.stairwell, "p": head}),
        )
        .await["community"]
        .clone();
    assert_eq!(
        one["openIssueCounts"],
        json!([{"stairwellId": c.stairwell, "open": 1}])
    );
    assert_eq!(one["stairwell"]["unit"], "2单元");
    // Inspected this month: the stairwell once its inspection is recorded; the wish
    // board's counts by status.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let inspected = "query($c: ID!, $m: String!, $p: Int) { community(id: $c, atLeast: $p) { inspectedStairwells(month: $m) wishCounts { status count } } }";
    let before = s
        .ok(&c.staff, inspected, json!({"c": c.id, "m": month}))
        .await;
    assert_eq!(before["community"]["inspectedStairwells"], json!([]));
    let record = "mutation($k: String!, $c: ID!, $s: ID!, $m: String!) { recordInspection(idempotencyKey: $k, communityId: $c, stairwellId: $s, month: $m, scores: [{item: \"cleanliness\", score: \"25\"}, {item: \"clutter\", score: \"20\"}, {item: \"fire_safety\", score: \"20\"}]) { position } }";
    let p = s
        .ok(
            &c.staff,
            record,
            json!({"k": key(), "c": c.id, "s": c.stairwell, "m": month}),
        )
        .await["recordInspection"]["position"]
        .as_u64()
        .unwrap();
    let wish = "mutation($k: String!, $c: ID!, $s: ID!) { postWish(idempotencyKey: $k, communityId: $c, stairwellId: $s, category: \"维修\", description: \"修灯\", residentLabel: \"3号楼住户\") { position } }";
    s.ok(
        &c.staff,
        wish,
        json!({"k": key(), "c": c.id, "s": c.stairwell}),
    )
    .await;
    let head = s.head().await;
    let after = s
        .ok(
            &c.staff,
            inspected,
            json!({"c": c.id, "m": month, "p": head.max(p)}),
        )
        .await;
    assert_eq!(
        after["community"]["inspectedStairwells"],
        json!([c.stairwell])
    );
    assert_eq!(
        after["community"]["wishCounts"],
        json!([{"status": "OPEN", "count": 1}])
    );
    assert_eq!(got["rubric"]["items"][0]["name"], "楼道卫生");
    assert_eq!(
        got["pointRules"],
        json!({"version": 0, "pointsPerHour": "10.00"})
    );
    assert_eq!(got["starThresholds"]["thresholds"][0], "100.00");
    assert_eq!(got["activityRules"]["codePeriodSeconds"], 30);
    let (_, other) = s.gql(Some(&c.other_staff), q, json!({"c": c.id})).await;
    assert_eq!(code(&other), "FORBIDDEN");
    // Admins list every community by name; staff their own.
    let all = "query { communities { id name } }";
    let names = |v: Value| {
        list(&v["communities"])
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(s.ok(&s.admin, all, json!({})).await),
        ["枫林社区", "海棠社区"]
    );
    assert_eq!(names(s.ok(&c.staff, all, json!({})).await), ["海棠社区"]);
    // The certificates the community issued this year.
    let issue = "mutation($k: String!, $v: ID!) { issueCertificate(idempotencyKey: $k, volunteerId: $v, issuer: {organisation: \"海棠社区居委会\"}) { number issuedAt } }";
    let cert =
        s.ok(&c.staff, issue, json!({"k": key(), "v": c.v1})).await["issueCertificate"].clone();
    let year: i32 = cert["issuedAt"].as_str().unwrap()[..4].parse().unwrap();
    let listed = s
        .ok(&c.staff, "query($c: ID!, $y: Int!) { communityCertificates(communityId: $c, year: $y) { number holderName } }", json!({"c": c.id, "y": year}))
        .await;
    assert_eq!(
        listed["communityCertificates"],
        json!([{"number": cert["number"], "holderName": "张三丰"}])
    );
    // Sessions of the pages: listed for the community's staff, ended by them.
    let uuid = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    let (sid, token) = api::issue_token_with_id(
        &s.store,
        api::Role::Volunteer,
        Some(uuid(&c.id)),
        Some(uuid(&c.v1)),
        "session: 志愿者",
    )
    .await
    .unwrap();
    let me = "query { me { role } }";
    assert_eq!(s.ok(&token, me, json!({})).await["me"]["role"], "VOLUNTEER");
    let sessions = s
        .ok(
            &c.staff,
            "query($c: ID!) { sessions(communityId: $c) { id role label name } }",
            json!({"c": c.id}),
        )
        .await;
    assert_eq!(
        sessions["sessions"],
        json!([{"id": sid.to_string(), "role": "VOLUNTEER", "label": "志愿者", "name": "张三丰"}])
    );
    let end = "mutation($s: ID!) { revokeSession(sessionId: $s) }";
    let (_, refused) = s
        .gql(Some(&c.other_staff), end, json!({"s": sid.to_string()}))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    assert_eq!(
        s.ok(&c.staff, end, json!({"s": sid.to_string()})).await["revokeSession"],
        true
    );
    let (_, gone) = s.gql(Some(&token), me, json!({})).await;
    assert_eq!(code(&gone), "UNAUTHENTICATED");
    assert_eq!(
        s.ok(&c.staff, end, json!({"s": sid.to_string()})).await["revokeSession"],
        false
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_the_console_and_the_phone_read_and_do() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        corrections_and_the_list(&s, &c).await;
        awards_order_totals_and_inbox(&s, &c).await;
        tags_and_rankings(&s, &c).await;
        community_certificates_and_sessions(&s, &c).await;
        s.stop().await;
    }
}
