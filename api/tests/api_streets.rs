//! Streets (街道) and districts (区) over HTTP on both backends: an administrator sets up
//! a street over two communities; the street's ranking and table add the communities up
//! as they were on the period's last day; a street office's token reads its communities
//! (personal data masked) and acts in none of them.

mod common;

use common::*;
use serde_json::{json, Value};

const AWARD: &str = "mutation($k: String!, $v: ID!, $p: Points!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: $p, reason: \"巡逻\") { position } }";
const RANKING: &str = "query($s: String!, $p: String!, $a: Int) { orgRanking(scope: $s, metric: POINTS, period: $p, atLeast: $a) {
    name asOf communities { name } rows { rank volunteerNumber points name communityName } } }";
const TABLE: &str = "query($s: String!, $a: Int) { orgTable(scope: $s, period: \"ALL\", atLeast: $a) {
    name lines { name volunteers activeVolunteers points services stars } total { volunteers points stars } } }";

async fn mutate(s: &Server, token: &str, q: &str, vars: Value, field: &str) -> Value {
    s.ok(token, q, vars).await[field].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_street_ranks_and_tables_its_communities_as_they_were_and_its_office_only_reads() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        // A volunteer of the other community, and a third community outside the street.
        let sw = mutate(&s, &s.admin, "mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"1栋\", unit: \"1单元\", households: 12) { stairwellId } }", json!({"k": key(), "c": c.other_id}), "registerStairwell").await;
        let v3 = mutate(&s, &s.admin, "mutation($k: String!, $c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"王五\", phone: \"13700001111\") { volunteerId } }", json!({"k": key(), "c": c.other_id, "s": sw["stairwellId"]}), "registerVolunteer").await["volunteerId"].clone();
        let outside = mutate(&s, &s.admin, "mutation($k: String!) { establishCommunity(idempotencyKey: $k, name: \"远山社区\") { communityId } }", json!({"k": key()}), "establishCommunity").await["communityId"].clone();
        for (v, p) in [(&json!(c.v1), "30"), (&json!(c.v2), "10"), (&v3, "20")] {
            mutate(
                &s,
                &s.admin,
                AWARD,
                json!({"k": key(), "v": v, "p": p}),
                "awardPoints",
            )
            .await;
        }
        let street = mutate(&s, &s.admin, "mutation($k: String!) { establishStreet(idempotencyKey: $k, name: \"和平街道\") { streetId } }", json!({"k": key()}), "establishStreet").await["streetId"].clone();
        let join = "mutation($k: String!, $c: ID!, $s: ID!, $f: NaiveDate) { joinStreet(idempotencyKey: $k, communityId: $c, streetId: $s, from: $f) { from position } }";
        mutate(
            &s,
            &s.admin,
            join,
            json!({"k": key(), "c": c.id, "s": street, "f": "2020-01-01"}),
            "joinStreet",
        )
        .await;
        // 枫林 joins from today: a past month's roll-up does not include it.
        let joined = mutate(
            &s,
            &s.admin,
            join,
            json!({"k": key(), "c": c.other_id, "s": street}),
            "joinStreet",
        )
        .await;
        let at = joined["position"].as_u64();
        // History is only added to: a day before the last change is refused.
        let (_, body) = s
            .gql(
                Some(&s.admin),
                join,
                json!({"k": key(), "c": c.id, "s": street, "f": "2019-12-31"}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "{body}");
        assert!(body.to_string().contains("2020-01-01"), "{body}");
        let scope = format!("STREET:{}", street.as_str().unwrap());

        let r = s
            .ok(&s.admin, RANKING, json!({"s": scope, "p": "ALL", "a": at}))
            .await["orgRanking"]
            .clone();
        assert_eq!(r["name"], "和平街道");
        let names: Vec<&str> = r["communities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["枫林社区", "海棠社区"], "{r}");
        let rows: Vec<(u64, &str, &str, &str)> = r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["rank"].as_u64().unwrap(),
                    x["points"].as_str().unwrap(),
                    x["name"].as_str().unwrap(),
                    x["communityName"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (1, "30.00", "张三丰", "海棠社区"),
                (2, "20.00", "王五", "枫林社区"),
                (3, "10.00", "李四", "海棠社区")
            ],
            "{r}"
        );
        let past = s
            .ok(
                &s.admin,
                RANKING,
                json!({"s": scope, "p": "2026-11", "a": at}),
            )
            .await["orgRanking"]
            .clone();
        assert_eq!(past["asOf"], "2026-11-30");
        assert_eq!(
            past["communities"],
            json!([{"name": "海棠社区"}]),
            "as it was on the month's last day: {past}"
        );

        let t = s.ok(&s.admin, TABLE, json!({"s": scope, "a": at})).await["orgTable"].clone();
        assert_eq!(t["lines"].as_array().map(Vec::len), Some(2), "{t}");
        assert_eq!(t["total"]["volunteers"], 3, "{t}");
        assert_eq!(t["total"]["points"], "60.00", "{t}");
        let haitang = t["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == "海棠社区")
            .unwrap();
        assert_eq!(
            (haitang["volunteers"].as_u64(), haitang["points"].as_str()),
            (Some(2), Some("40.00")),
            "{t}"
        );

        // 文明楼道 across the street in December: each community's red flag, and the
        // best stairwells of both (枫林's 80, then 海棠's better stairwell, 60).
        let inspect = "mutation($k: String!, $c: ID!, $s: ID!, $a: String!, $b: String!, $d: String!) { recordInspection(idempotencyKey: $k, communityId: $c, stairwellId: $s, month: \"2026-12\", scores: [{item: \"cleanliness\", score: $a}, {item: \"clutter\", score: $b}, {item: \"fire_safety\", score: $d}]) { position } }";
        let second = mutate(&s, &s.admin, "mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"5栋\", unit: \"1单元\", households: 20) { stairwellId } }", json!({"k": key(), "c": c.id}), "registerStairwell").await["stairwellId"].clone();
        let mut at = at;
        for (community, stairwell, scores) in [
            (&c.id, json!(c.stairwell), ["27", "10", "15"]),
            (&c.id, second.clone(), ["20", "20", "20"]),
            (&c.other_id, sw["stairwellId"].clone(), ["30", "25", "25"]),
        ] {
            at = mutate(&s, &s.admin, inspect, json!({"k": key(), "c": community, "s": stairwell, "a": scores[0], "b": scores[1], "d": scores[2]}), "recordInspection").await["position"].as_u64();
        }
        let q = "query($s: String!, $a: Int) { orgStairwells(scope: $s, month: \"2026-12\", first: 2, atLeast: $a) { month redFlags { rank communityName building total } best { rank communityName building rankInCommunity redFlag total } } }";
        let board = s.ok(&s.admin, q, json!({"s": scope, "a": at})).await["orgStairwells"].clone();
        let line = |x: &Value| {
            format!(
                "{} {} {} {}",
                x["rank"],
                x["communityName"].as_str().unwrap(),
                x["building"].as_str().unwrap(),
                x["total"].as_str().unwrap()
            )
        };
        let flags: Vec<String> = board["redFlags"]
            .as_array()
            .unwrap()
            .iter()
            .map(line)
            .collect();
        assert_eq!(flags, ["1 枫林社区 1栋 80", "2 海棠社区 5栋 60"], "{board}");
        let best: Vec<String> = board["best"].as_array().unwrap().iter().map(line).collect();
        assert_eq!(best, ["1 枫林社区 1栋 80", "2 海棠社区 5栋 60"], "{board}");
        assert_eq!(board["best"][1]["rankInCommunity"], 1);

        // The street office: issued by an administrator, bound to the street.
        let office = mutate(&s, &s.admin, "mutation($s: ID!) { issueToken(role: STREET, streetId: $s, label: \"和平街道办\") { token } }", json!({"s": street}), "issueToken").await["token"].as_str().unwrap().to_string();
        let r2 = s
            .ok(&office, RANKING, json!({"s": scope, "p": "ALL", "a": at}))
            .await["orgRanking"]
            .clone();
        assert_eq!(r2["rows"], r["rows"]);
        // The street's year: a line per community and the total, one log position.
        let url = s.url(&format!(
            "/documents/street-annual-report?streetId={}&year=2026&format=csv",
            street.as_str().unwrap()
        ));
        let got = s.http.get(&url).bearer_auth(&office).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert!(got.headers().contains_key("x-timebank-position"));
        let csv = got.text().await.unwrap();
        assert!(
            csv.contains("和平街道2026年汇总")
                && csv.contains("【海棠社区】")
                && csv.contains("【枫林社区】"),
            "{csv}"
        );
        assert!(csv.lines().any(|l| l.starts_with("合计,3,")), "{csv}");
        let refused = s.http.get(&url).bearer_auth(&c.staff).send().await.unwrap();
        assert_eq!(refused.status(), 403);
        let xlsx = s
            .http
            .get(url.replace("format=csv", "format=xlsx"))
            .bearer_auth(&office)
            .send()
            .await
            .unwrap();
        assert_eq!(xlsx.status(), 200);
        assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"), "a workbook");
        let dash = s
            .ok(
                &office,
                "query($c: ID!) { dashboard(communityId: $c) { activeVolunteers } }",
                json!({"c": c.id}),
            )
            .await;
        assert_eq!(dash["dashboard"]["activeVolunteers"], 2);
        let vols = s
            .ok(
                &office,
                "query($c: ID!) { volunteers(communityId: $c) { volunteers { name phone } } }",
                json!({"c": c.id}),
            )
            .await;
        let phones: Vec<&str> = vols["volunteers"]["volunteers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["phone"].as_str())
            .collect();
        assert!(
            phones.contains(&"138****5678") && !phones.iter().any(|p| p.contains("12345")),
            "masked: {vols}"
        );
        for (q, vars) in [
            ("query($c: ID!) { dashboard(communityId: $c) { activeVolunteers } }", json!({"c": outside})),
            (AWARD, json!({"k": key(), "v": c.v1, "p": "5"})),
            (RANKING, json!({"s": "DISTRICT:00000000-0000-0000-0000-000000000001", "p": "ALL"})),
            ("mutation($k: String!, $c: ID!) { leaveStreet(idempotencyKey: $k, communityId: $c) { from } }", json!({"k": key(), "c": c.id})),
        ] {
            let (_, body) = s.gql(Some(&office), q, vars).await;
            assert_eq!(code(&body), "FORBIDDEN", "{q}: {body}");
        }
        // Community staff read no street, and shape none.
        let (_, body) = s
            .gql(Some(&c.staff), RANKING, json!({"s": scope, "p": "ALL"}))
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        let (_, body) = s
            .gql(
                Some(&c.staff),
                join,
                json!({"k": key(), "c": outside, "s": street}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        s.stop().await;
    }
}

const REGISTER: &str = "mutation($k: String!, $c: ID!, $s: ID!, $n: String!, $i: String) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n, idNumber: $i) { volunteerId volunteerNumber } }";

/// One person, one record: an ID number registered in one community is refused in any
/// other (and in the same) with DUPLICATE_PERSON naming the record, however it is
/// typed; of two registrations racing with one number, one wins; a correction cannot
/// take another's number; once that person's data is erased, the number is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_person_has_one_record_across_communities() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let sw = mutate(&s, &s.admin, "mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"1栋\", unit: \"1单元\", households: 12) { stairwellId } }", json!({"k": key(), "c": c.other_id}), "registerStairwell").await["stairwellId"].clone();
        let first = mutate(&s, &c.staff, REGISTER, json!({"k": key(), "c": c.id, "s": c.stairwell, "n": "赵六", "i": "11010119800101103x"}), "registerVolunteer").await;
        let head = s.head().await;
        // The other community's staff, the number typed with a capital X and spaces.
        let (_, body) = s.gql(Some(&c.other_staff), REGISTER, json!({"k": key(), "c": c.other_id, "s": sw, "n": "赵六", "i": " 11010119800101103X "})).await;
        assert_eq!(code(&body), "DUPLICATE_PERSON", "{body}");
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(ext["volunteerNumber"], first["volunteerNumber"], "{body}");
        assert_eq!(ext["volunteerId"], first["volunteerId"]);
        assert_eq!(ext["communityId"], json!(c.id));
        assert_eq!(s.head().await, head, "nothing written");
        let listed = s
            .ok(
                &c.other_staff,
                "query($c: ID!) { volunteers(communityId: $c) { volunteers { id } } }",
                json!({"c": c.other_id}),
            )
            .await;
        assert_eq!(
            listed["volunteers"]["volunteers"],
            json!([]),
            "no second record"
        );

        // Two registrations racing with one new number, in two communities: one wins.
        let (a, b) = tokio::join!(
            s.gql(Some(&c.staff), REGISTER, json!({"k": key(), "c": c.id, "s": c.stairwell, "n": "钱七", "i": "110101198202021111"})),
            s.gql(Some(&c.other_staff), REGISTER, json!({"k": key(), "c": c.other_id, "s": sw, "n": "钱七", "i": "110101198202021111"})),
        );
        let mut codes = [a.1, b.1].map(|b| {
            if b.get("errors").is_none() {
                "OK".to_string()
            } else {
                code(&b)
            }
        });
        codes.sort();
        assert_eq!(codes, ["DUPLICATE_PERSON", "OK"]);

        // A correction cannot take another's number; its own new one it can.
        let correct = "mutation($k: String!, $v: ID!, $i: String) { correctPersonalData(idempotencyKey: $k, volunteerId: $v, name: \"李四\", idNumber: $i) { position } }";
        let (_, body) = s
            .gql(
                Some(&c.staff),
                correct,
                json!({"k": key(), "v": c.v2, "i": "11010119800101103X"}),
            )
            .await;
        assert_eq!(code(&body), "DUPLICATE_PERSON", "{body}");
        s.ok(
            &c.staff,
            correct,
            json!({"k": key(), "v": c.v2, "i": "110101197003033334"}),
        )
        .await;

        // Erased, the person's number is free again.
        s.ok(&c.staff, "mutation($k: String!, $v: ID!) { eraseVolunteerPersonalData(idempotencyKey: $k, volunteerId: $v) { position } }", json!({"k": key(), "v": first["volunteerId"]})).await;
        s.ok(
            &c.other_staff,
            REGISTER,
            json!({"k": key(), "c": c.other_id, "s": sw, "n": "赵六", "i": "11010119800101103X"}),
        )
        .await;
        s.stop().await;
    }
}

/// The teams of a street's communities ranked together: what each team's volunteers
/// earned while in it (not before they joined), with how many of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_teams_of_a_street_rank_together() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let sw = mutate(&s, &s.admin, "mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"1栋\", unit: \"1单元\", households: 12) { stairwellId } }", json!({"k": key(), "c": c.other_id}), "registerStairwell").await["stairwellId"].clone();
        let v3 = mutate(
            &s,
            &s.admin,
            REGISTER,
            json!({"k": key(), "c": c.other_id, "s": sw, "n": "王五"}),
            "registerVolunteer",
        )
        .await["volunteerId"]
            .clone();
        let street = mutate(&s, &s.admin, "mutation($k: String!) { establishStreet(idempotencyKey: $k, name: \"和平街道\") { streetId } }", json!({"k": key()}), "establishStreet").await["streetId"].clone();
        for community in [&c.id, &c.other_id] {
            mutate(&s, &s.admin, "mutation($k: String!, $c: ID!, $s: ID!) { joinStreet(idempotencyKey: $k, communityId: $c, streetId: $s, from: \"2020-01-01\") { from } }", json!({"k": key(), "c": community, "s": street}), "joinStreet").await;
        }
        let form = "mutation($k: String!, $c: ID!, $n: String!) { formTeam(idempotencyKey: $k, communityId: $c, name: $n) { teamId } }";
        let join = "mutation($k: String!, $t: ID!, $v: ID!) { joinTeam(idempotencyKey: $k, teamId: $t, volunteerId: $v) { position } }";
        let red = mutate(
            &s,
            &s.admin,
            form,
            json!({"k": key(), "c": c.id, "n": "红管家"}),
            "formTeam",
        )
        .await["teamId"]
            .clone();
        let blue = mutate(
            &s,
            &s.admin,
            form,
            json!({"k": key(), "c": c.other_id, "n": "蓝天"}),
            "formTeam",
        )
        .await["teamId"]
            .clone();
        // 30 points before joining count for nobody's team.
        mutate(
            &s,
            &s.admin,
            AWARD,
            json!({"k": key(), "v": c.v1, "p": "30"}),
            "awardPoints",
        )
        .await;
        mutate(
            &s,
            &s.admin,
            join,
            json!({"k": key(), "t": red, "v": c.v1}),
            "joinTeam",
        )
        .await;
        mutate(
            &s,
            &s.admin,
            join,
            json!({"k": key(), "t": red, "v": c.v2}),
            "joinTeam",
        )
        .await;
        mutate(
            &s,
            &s.admin,
            join,
            json!({"k": key(), "t": blue, "v": v3}),
            "joinTeam",
        )
        .await;
        let mut at = None;
        for (v, p) in [(json!(c.v1), "5"), (json!(c.v2), "4"), (v3.clone(), "12")] {
            at = mutate(
                &s,
                &s.admin,
                AWARD,
                json!({"k": key(), "v": v, "p": p}),
                "awardPoints",
            )
            .await["position"]
                .as_u64();
        }
        let q = "query($s: String!, $a: Int) { orgTeams(scope: $s, metric: POINTS, atLeast: $a) { rank teamName communityName points volunteers } }";
        let scope = format!("STREET:{}", street.as_str().unwrap());
        let teams = s.ok(&s.admin, q, json!({"s": scope, "a": at})).await["orgTeams"].clone();
        assert_eq!(
            teams,
            json!([
                {"rank": 1, "teamName": "蓝天", "communityName": "枫林社区", "points": "12.00", "volunteers": 1},
                {"rank": 2, "teamName": "红管家", "communityName": "海棠社区", "points": "9.00", "volunteers": 2},
            ])
        );
        let (_, body) = s.gql(Some(&c.staff), q, json!({"s": scope})).await;
        assert_eq!(code(&body), "FORBIDDEN");
        s.stop().await;
    }
}
