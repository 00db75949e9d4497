//! A volunteer moves to another community (记录转移接续) over HTTP on both backends: the
//! second registration is refused with DUPLICATE_PERSON offering the transfer; the
//! receiving community's staff take the record over with the person's ID number; the
//! hours, stars, points and statement follow; the old community's ranking of the past
//! does not change; the volunteer's own session acts in the new community; a community
//! whose rules keep points keeps them.

mod common;

use common::*;
use serde_json::{json, Value};

const REGISTER: &str = "mutation($k: String!, $c: ID!, $s: ID!, $n: String!, $i: String) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n, idNumber: $i) { volunteerId volunteerNumber } }";
const TRANSFER: &str = "mutation($k: String!, $v: ID!, $c: ID!, $s: ID!, $i: String) { transferVolunteer(idempotencyKey: $k, volunteerId: $v, toCommunityId: $c, stairwellId: $s, reason: \"搬家\", idNumber: $i) {
    volunteerId communityId volunteerNumber fromCommunityId pointsLeft position replayed } }";
const VOLUNTEER: &str = "query($v: ID!, $a: Int) { volunteer(id: $v, atLeast: $a) { communityId volunteerNumber teamIds balance { points verifiedHours } } }";
const RANKING: &str = "query($c: ID!, $a: Int) { ranking(communityId: $c, metric: POINTS, period: \"ALL\", atLeast: $a) { rows { volunteerId points } } }";
const AWARD: &str = "mutation($k: String!, $v: ID!, $p: Points!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: $p, reason: \"巡逻\") { position entryId } }";

async fn mutate(s: &Server, token: &str, q: &str, vars: Value, field: &str) -> Value {
    s.ok(token, q, vars).await[field].clone()
}

/// The points `volunteer` has in `community`'s all-time ranking (none: not in it).
async fn ranked(
    s: &Server,
    token: &str,
    community: &str,
    volunteer: &str,
    at: u64,
) -> Option<String> {
    let r = s.ok(token, RANKING, json!({"c": community, "a": at})).await;
    r["ranking"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["volunteerId"] == json!(volunteer))
        .map(|row| row["points"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_record_follows_the_person_to_another_community() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let there = mutate(&s, &s.admin, "mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"5栋\", unit: \"1单元\", households: 12) { stairwellId } }", json!({"k": key(), "c": c.other_id}), "registerStairwell").await["stairwellId"].clone();
        let number = id_number("11010119800101103");
        let v = mutate(
            &s,
            &c.staff,
            REGISTER,
            json!({"k": key(), "c": c.id, "s": c.stairwell, "n": "赵六", "i": number}),
            "registerVolunteer",
        )
        .await;
        let vid = v["volunteerId"].as_str().unwrap().to_string();
        let uuid = |x: &str| uuid::Uuid::parse_str(x).unwrap();
        let phone = api::issue_token(
            &s.store,
            ledger::command::Role::Volunteer,
            None,
            Some(uuid(&vid)),
            "赵六的手机",
        )
        .await
        .unwrap();
        // Two hours of service and an award in the old community.
        let sid = mutate(&s, &phone, "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2026-11-10T02:00:00Z\", hours: \"2\") { serviceId } }", json!({"k": key()}), "logService").await["serviceId"].clone();
        // A service awaiting verification holds the move back.
        let (_, body) = s
            .gql(
                Some(&c.staff),
                TRANSFER,
                json!({"k": key(), "v": vid, "c": c.other_id, "s": there}),
            )
            .await;
        assert_eq!(code(&body), "INVALID_STATE", "{body}");
        mutate(&s, &c.staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId } }", json!({"k": key(), "v": vid, "s": sid}), "verifyService").await;
        let award = mutate(
            &s,
            &c.staff,
            AWARD,
            json!({"k": key(), "v": vid, "p": "5"}),
            "awardPoints",
        )
        .await;
        let at = award["position"].as_u64().unwrap();
        let before =
            s.ok(&c.staff, VOLUNTEER, json!({"v": vid, "a": at})).await["volunteer"].clone();
        assert_eq!(before["balance"]["verifiedHours"], "2.00");
        let old_rank = ranked(&s, &c.staff, &c.id, &vid, at)
            .await
            .expect("ranked where served");

        // The other community's desk types the same person in: refused, offering the move.
        let (_, body) = s.gql(Some(&c.other_staff), REGISTER, json!({"k": key(), "c": c.other_id, "s": there, "n": "赵六", "i": number.to_lowercase()})).await;
        assert_eq!(code(&body), "DUPLICATE_PERSON", "{body}");
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(ext["offer"], "transferVolunteer");
        assert_eq!(ext["volunteerId"], json!(vid));

        // Without the person's ID number, or with another's, that desk cannot take it.
        for given in [Value::Null, json!(id_number("11010119800101104"))] {
            let (_, body) = s
                .gql(
                    Some(&c.other_staff),
                    TRANSFER,
                    json!({"k": key(), "v": vid, "c": c.other_id, "s": there, "i": given}),
                )
                .await;
            assert_eq!(code(&body), "FORBIDDEN", "{body}");
        }
        let head = s.head().await;
        let (_, body) = s
            .gql(
                Some(&c.vol1),
                TRANSFER,
                json!({"k": key(), "v": vid, "c": c.other_id, "s": there}),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "a volunteer cannot move a record");
        assert_eq!(s.head().await, head, "nothing written");

        // With it, it can: a number of the new community, the points follow.
        let k = key();
        let vars =
            json!({"k": k, "v": vid, "c": c.other_id, "s": there, "i": format!(" {number} ")});
        let moved = mutate(
            &s,
            &c.other_staff,
            TRANSFER,
            vars.clone(),
            "transferVolunteer",
        )
        .await;
        assert_eq!(moved["communityId"], json!(c.other_id));
        assert_eq!(moved["fromCommunityId"], json!(c.id));
        assert_eq!(moved["volunteerNumber"], "TB-000001");
        assert_eq!(moved["pointsLeft"], "0.00");
        let again = mutate(&s, &c.other_staff, TRANSFER, vars, "transferVolunteer").await;
        assert_eq!(again["replayed"], true, "{again}");
        let at = moved["position"].as_u64().unwrap();
        assert_eq!(s.head().await, at, "the replay wrote nothing");

        let after = s
            .ok(&c.other_staff, VOLUNTEER, json!({"v": vid, "a": at}))
            .await["volunteer"]
            .clone();
        assert_eq!(after["communityId"], json!(c.other_id));
        assert_eq!(after["volunteerNumber"], "TB-000001");
        assert_eq!(
            after["balance"], before["balance"],
            "hours and points follow"
        );
        let (_, body) = s
            .gql(
                Some(&c.staff),
                AWARD,
                json!({"k": key(), "v": vid, "p": "1"}),
            )
            .await;
        assert_eq!(
            code(&body),
            "FORBIDDEN",
            "the old desk no longer acts on the record"
        );
        let listed = s.ok(&c.other_staff, "query($c: ID!, $a: Int) { volunteers(communityId: $c, atLeast: $a) { volunteers { id volunteerNumber } } }", json!({"c": c.other_id, "a": at})).await;
        assert_eq!(
            listed["volunteers"]["volunteers"],
            json!([{"id": vid, "volunteerNumber": "TB-000001"}])
        );
        let listed = s.ok(&c.staff, "query($c: ID!, $a: Int) { volunteers(communityId: $c, atLeast: $a) { volunteers { id } } }", json!({"c": c.id, "a": at})).await;
        assert!(
            !listed.to_string().contains(&vid),
            "gone from the old list: {listed}"
        );

        // What was done stays counted where it was done.
        assert_eq!(ranked(&s, &c.staff, &c.id, &vid, at).await, Some(old_rank));
        assert_eq!(
            ranked(&s, &c.other_staff, &c.other_id, &vid, at).await,
            None
        );
        // The volunteer's own phone now acts in the new community.
        let me = s
            .ok(
                &phone,
                "query($a: Int) { me(atLeast: $a) { communityId volunteer { volunteerNumber } } }",
                json!({"a": at}),
            )
            .await;
        assert_eq!(me["me"]["communityId"], json!(c.other_id), "{me}");
        let sid = mutate(&s, &phone, "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2026-11-20T02:00:00Z\", hours: \"1\") { serviceId } }", json!({"k": key()}), "logService").await["serviceId"].clone();
        mutate(&s, &c.other_staff, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId } }", json!({"k": key(), "v": vid, "s": sid}), "verifyService").await;
        let at = s.head().await;
        assert!(
            ranked(&s, &c.other_staff, &c.other_id, &vid, at)
                .await
                .is_some(),
            "new service counts in the new community"
        );
        // The year's report of each community counts the service done there, and the
        // member lists follow the move.
        let report = "query($c: ID!, $at: Int) { annualReport(communityId: $c, year: 2026, at: $at) { topByHours { volunteerId hours } } }";
        for (token, community, hours) in [
            (&c.staff, &c.id, "2.00"),
            (&c.other_staff, &c.other_id, "1.00"),
        ] {
            let r = s.ok(token, report, json!({"c": community, "at": at})).await;
            let top = r["annualReport"]["topByHours"].as_array().unwrap().clone();
            let row = top.iter().find(|t| t["volunteerId"] == json!(vid));
            assert_eq!(row.map(|t| t["hours"].clone()), Some(json!(hours)), "{r}");
        }
        // The award made in 海棠 before the move, corrected now by 枫林's desk: 海棠's
        // report of the year sees the correction (25 points → 20), 枫林's is untouched.
        let points = "query($c: ID!, $at: Int) { annualReport(communityId: $c, year: 2026, at: $at) { topByPoints { volunteerId points } } }";
        let of = |r: &Value| {
            r["annualReport"]["topByPoints"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["volunteerId"] == json!(vid))
                .map(|t| t["points"].clone())
        };
        let r = s.ok(&c.staff, points, json!({"c": c.id, "at": at})).await;
        assert_eq!(of(&r), Some(json!("25.00")), "{r}");
        let fixed = mutate(&s, &c.other_staff, "mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"重复奖励\") { position } }", json!({"k": key(), "v": vid, "e": award["entryId"]}), "reverseEntry").await;
        let at = fixed["position"].as_u64().unwrap();
        let r = s.ok(&c.staff, points, json!({"c": c.id, "at": at})).await;
        assert_eq!(of(&r), Some(json!("20.00")), "{r}");
        let r = s
            .ok(&c.other_staff, points, json!({"c": c.other_id, "at": at}))
            .await;
        assert_eq!(of(&r), Some(json!("10.00")), "{r}");
        let members = |token: &str, community: &str| {
            let url = s.url(&format!(
                "/documents/export/members?communityId={community}"
            ));
            let req = s.http.get(url).bearer_auth(token.to_string());
            async move { req.send().await.unwrap().text().await.unwrap() }
        };
        let here = members(&c.other_staff, &c.other_id).await;
        assert!(
            here.contains("赵六") && here.contains("TB-000001"),
            "{here}"
        );
        let there = members(&c.staff, &c.id).await;
        assert!(!there.contains("赵六"), "{there}");
        let inbox = s
            .ok(
                &phone,
                "query($a: Int) { inbox(atLeast: $a) { messages { kind subject } } }",
                json!({"a": at}),
            )
            .await;
        assert!(
            inbox["inbox"]["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["kind"] == "TRANSFERRED" && m["subject"] == "TB-000001"),
            "{inbox}"
        );

        // 枫林 keeps points when someone leaves: moving back, they stay there.
        mutate(&s, &s.admin, "mutation($k: String!, $c: ID!) { setTransferRules(idempotencyKey: $k, communityId: $c, pointsFollow: false, effectiveFrom: \"2020-01-01\") { version } }", json!({"k": key(), "c": c.other_id}), "setTransferRules").await;
        let (_, body) = s.gql(Some(&c.staff), "mutation($k: String!, $c: ID!) { setTransferRules(idempotencyKey: $k, communityId: $c, pointsFollow: false, effectiveFrom: \"2020-01-01\") { version } }", json!({"k": key(), "c": c.id})).await;
        assert_eq!(code(&body), "FORBIDDEN", "rules are for administrators");
        let points = s
            .ok(&c.other_staff, VOLUNTEER, json!({"v": vid, "a": at}))
            .await["volunteer"]["balance"]["points"]
            .clone();
        let back = mutate(
            &s,
            &c.other_staff,
            TRANSFER,
            json!({"k": key(), "v": vid, "c": c.id, "s": c.stairwell}),
            "transferVolunteer",
        )
        .await;
        assert_eq!(back["pointsLeft"], points);
        assert_eq!(
            back["volunteerNumber"], "TB-000004",
            "a new number: numbers are never reused"
        );
        let at = back["position"].as_u64().unwrap();
        let home = s.ok(&c.staff, VOLUNTEER, json!({"v": vid, "a": at})).await["volunteer"].clone();
        assert_eq!(home["balance"]["points"], "0.00");
        assert_eq!(
            home["balance"]["verifiedHours"], "3.00",
            "hours always follow"
        );
        let st = s.ok(&c.staff, "query($v: ID!, $a: Int) { statement(volunteerId: $v, atLeast: $a, newestFirst: true, first: 1) { entries { kind pointsDelta description } } }", json!({"v": vid, "a": at})).await;
        let line = &st["statement"]["entries"][0];
        assert_eq!(line["kind"], "POINTS_LEFT", "{st}");
        assert!(
            line["description"].as_str().unwrap().contains("留在原社区"),
            "{st}"
        );
        s.stop().await;
    }
}
