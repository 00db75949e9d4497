//! The points shop (积分超市) over HTTP on both backends: eight volunteers race for the
//! last three units and exactly three win; the code a winner shows is found at the
//! outlet and collected once; a redemption cancelled before collection gives the unit
//! and the points back (the statement and the inbox say so); a replayed redemption
//! takes nothing twice; the month's stock sheet adds up.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::Arc;

const REDEEM: &str = "mutation($k: String!, $i: ID!, $v: ID) { redeemShopItem(idempotencyKey: $k, itemId: $i, volunteerId: $v) { redemptionId code points pointsBalance stock replayed position } }";

async fn register(s: &Server, c: &Community, n: usize) -> Vec<String> {
    let reg = "mutation($k: String!, $c: ID!, $s: ID!, $n: String!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n) { volunteerId } }";
    let award = "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"10\", reason: \"楼道清扫\") { position } }";
    let mut out = Vec::new();
    for i in 0..n {
        let v = s
            .ok(
                &c.staff,
                reg,
                json!({"k": key(), "c": c.id, "s": c.stairwell, "n": format!("兑换者{i}")}),
            )
            .await["registerVolunteer"]["volunteerId"]
            .as_str()
            .unwrap()
            .to_string();
        s.ok(&c.staff, award, json!({"k": key(), "v": v})).await;
        out.push(v);
    }
    out
}

fn balance_query() -> &'static str {
    "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { balance { points } } }"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_units_go_once_and_a_cancellation_gives_them_back() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Arc::new(Server::start(store).await);
        let c = seed(&s).await;
        let buyers = register(&s, &c, 8).await;
        let item = s
            .ok(&c.staff, "mutation($k: String!, $c: ID!) { listShopItem(idempotencyKey: $k, communityId: $c, name: \"大米 5kg\", price: \"6\", stock: 3, collectAt: \"社区服务站一楼\") { itemId stock } }", json!({"k": key(), "c": c.id}))
            .await["listShopItem"]["itemId"]
            .as_str()
            .unwrap()
            .to_string();

        // Eight at once for three units.
        let keys: Vec<String> = buyers.iter().map(|_| key()).collect();
        let mut tasks = Vec::new();
        for (v, k) in buyers.iter().zip(&keys) {
            let (s, staff) = (s.clone(), c.staff.clone());
            let vars = json!({"k": k, "i": item, "v": v});
            tasks.push(tokio::spawn(async move {
                s.gql(Some(&staff), REDEEM, vars).await
            }));
        }
        let mut answers: Vec<Value> = Vec::new();
        for t in tasks {
            answers.push(t.await.expect("task").1);
        }
        let won: Vec<usize> = (0..8)
            .filter(|i| answers[*i].get("errors").is_none())
            .collect();
        assert_eq!(won.len(), 3, "three units, three winners: {answers:?}");
        for (i, a) in answers.iter().enumerate() {
            if !won.contains(&i) {
                assert_eq!(code(a), "OUT_OF_STOCK", "{a}");
            }
        }
        let head = s.head().await;
        for (i, v) in buyers.iter().enumerate() {
            let b = s
                .ok(&c.staff, balance_query(), json!({"v": v, "p": head}))
                .await;
            let want = if won.contains(&i) { "4.00" } else { "10.00" };
            assert_eq!(b["volunteer"]["balance"]["points"], want, "buyer {i}");
        }

        // The same key again answers the same redemption and takes nothing more.
        let w0 = won[0];
        let again = s
            .ok(
                &c.staff,
                REDEEM,
                json!({"k": keys[w0], "i": item, "v": buyers[w0]}),
            )
            .await;
        let first = &answers[w0]["data"]["redeemShopItem"];
        assert_eq!(again["redeemShopItem"]["code"], first["code"]);
        assert_eq!(again["redeemShopItem"]["replayed"], true);
        let b = s
            .ok(
                &c.staff,
                balance_query(),
                json!({"v": buyers[w0], "p": s.head().await}),
            )
            .await;
        assert_eq!(b["volunteer"]["balance"]["points"], "4.00");

        // At the outlet: the code as typed (lower case, a space) finds who and what.
        let code0 = first["code"].as_str().unwrap().to_string();
        assert_eq!(code0.len(), 8);
        let typed = format!("{} {}", &code0[..4], &code0[4..]).to_lowercase();
        let found = s
            .ok(&c.staff, "query($c: ID!, $code: String!, $p: Int) { redemptions(communityId: $c, code: $code, atLeast: $p) { id itemId itemName volunteerName status points } }", json!({"c": c.id, "code": typed, "p": s.head().await}))
            .await;
        let r = &found["redemptions"][0];
        assert_eq!(
            (
                r["itemName"].as_str(),
                r["volunteerName"].as_str(),
                r["status"].as_str(),
                r["points"].as_str()
            ),
            (
                Some("大米 5kg"),
                Some(format!("兑换者{w0}").as_str()),
                Some("REDEEMED"),
                Some("6.00")
            )
        );
        let collect = "mutation($k: String!, $i: ID!, $r: ID!) { collectRedemption(idempotencyKey: $k, itemId: $i, redemptionId: $r) { status } }";
        let vars = json!({"k": key(), "i": item, "r": r["id"]});
        let done = s.ok(&c.staff, collect, vars).await;
        assert_eq!(done["collectRedemption"]["status"], "COLLECTED");
        let (_, twice) = s
            .gql(
                Some(&c.staff),
                collect,
                json!({"k": key(), "i": item, "r": r["id"]}),
            )
            .await;
        assert_eq!(code(&twice), "ALREADY_COLLECTED");

        // Another winner changes their mind: the unit and the 6 points come back, and
        // the statement and the inbox say so.
        let w1 = won[1];
        let rid = answers[w1]["data"]["redeemShopItem"]["redemptionId"].clone();
        let cancel = "mutation($k: String!, $i: ID!, $r: ID!, $why: String!) { cancelRedemption(idempotencyKey: $k, itemId: $i, redemptionId: $r, reason: $why) { status refundEntryId stock position } }";
        let (_, no_reason) = s
            .gql(
                Some(&c.staff),
                cancel,
                json!({"k": key(), "i": item, "r": rid, "why": ""}),
            )
            .await;
        assert_eq!(code(&no_reason), "INVALID_INPUT", "staff say why");
        let (_, other) = s
            .gql(
                Some(&c.vol1),
                cancel,
                json!({"k": key(), "i": item, "r": rid, "why": ""}),
            )
            .await;
        assert_eq!(code(&other), "FORBIDDEN", "not v1's redemption");
        let undone = s
            .ok(
                &c.staff,
                cancel,
                json!({"k": key(), "i": item, "r": rid, "why": "缺货，改日再兑"}),
            )
            .await;
        assert_eq!(undone["cancelRedemption"]["status"], "CANCELLED");
        assert_eq!(undone["cancelRedemption"]["stock"], 1);
        let p = undone["cancelRedemption"]["position"].as_u64();
        let b = s
            .ok(&c.staff, balance_query(), json!({"v": buyers[w1], "p": p}))
            .await;
        assert_eq!(b["volunteer"]["balance"]["points"], "10.00");
        let st = s
            .ok(&c.staff, "query($v: ID!, $p: Int) { statement(volunteerId: $v, atLeast: $p, newestFirst: true) { entries { kind pointsDelta description reverses } } }", json!({"v": buyers[w1], "p": p}))
            .await;
        let top = &st["statement"]["entries"][0];
        assert_eq!(
            (
                top["kind"].as_str(),
                top["pointsDelta"].as_str(),
                top["description"].as_str()
            ),
            (Some("POINTS_REFUNDED"), Some("6.00"), Some("大米 5kg"))
        );
        assert!(top["reverses"].is_string());

        // Now one unit is back for someone who lost the race.
        let loser = (0..8).find(|i| !won.contains(i)).unwrap();
        let late = s
            .ok(
                &c.staff,
                REDEEM,
                json!({"k": key(), "i": item, "v": buyers[loser]}),
            )
            .await;
        assert_eq!(late["redeemShopItem"]["stock"], 0);

        // The month's sheet: 3 listed, 4 redeemed, 1 returned, none left.
        let month = chrono::Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .format("%Y-%m")
            .to_string();
        let sheet = s
            .ok(&c.staff, "query($c: ID!, $m: String!, $p: Int) { shopStock(communityId: $c, month: $m, atLeast: $p) { name opening added countedOff redeemed returned closing } }", json!({"c": c.id, "m": month, "p": s.head().await}))
            .await;
        assert_eq!(
            sheet["shopStock"][0],
            json!({"name": "大米 5kg", "opening": 0, "added": 3, "countedOff": 0, "redeemed": 4, "returned": 1, "closing": 0})
        );
        // The same month as a sheet pinned to the head: the stock, the points net of the
        // one returned, and every redemption with its code; staff only.
        let url = s.url(&format!(
            "/documents/shop-sheet?communityId={}&month={month}&format=csv",
            c.id
        ));
        let r = s.http.get(&url).bearer_auth(&c.staff).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let csv = r.text().await.unwrap();
        assert!(
            csv.contains(
                "商品,单价（积分）,月初库存,入库,盘点减少,兑换,取消退回,月末库存,兑换积分（净）"
            ),
            "{csv}"
        );
        assert!(csv.contains("大米 5kg,6.00,0,3,0,4,1,0,18.00"), "{csv}");
        assert!(
            csv.contains(&code0) && csv.contains("已领取") && csv.contains("已取消"),
            "{csv}"
        );
        assert_eq!(
            csv.matches(",大米 5kg,6.00,").count(),
            4,
            "four redemptions: {csv}"
        );
        let r = s.http.get(&url).bearer_auth(&c.vol1).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let xlsx = s
            .http
            .get(url.replace("csv", "xlsx"))
            .bearer_auth(&c.staff)
            .send()
            .await
            .unwrap();
        assert_eq!(xlsx.status(), 200);
        assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
        let items = s
            .ok(&c.vol1, "query($c: ID!, $p: Int) { shopItems(communityId: $c, atLeast: $p) { name stock redeemed collected available } }", json!({"c": c.id, "p": s.head().await}))
            .await;
        assert_eq!(
            items["shopItems"][0],
            json!({"name": "大米 5kg", "stock": 0, "redeemed": 3, "collected": 1, "available": false})
        );
        match Arc::try_unwrap(s) {
            Ok(s) => s.stop().await,
            Err(_) => panic!("server still shared"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_volunteer_redeems_for_themself_within_their_points() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let list = "mutation($k: String!, $c: ID!, $p: Points!) { listShopItem(idempotencyKey: $k, communityId: $c, name: \"洗衣液\", price: $p, stock: 5, collectAt: \"服务站\", perPerson: 1) { itemId } }";
        let cheap = s
            .ok(&c.staff, list, json!({"k": key(), "c": c.id, "p": "3"}))
            .await["listShopItem"]["itemId"]
            .clone();
        let dear = s
            .ok(&c.staff, list, json!({"k": key(), "c": c.id, "p": "300"}))
            .await["listShopItem"]["itemId"]
            .clone();
        s.ok(&c.staff, "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"10\", reason: \"巡逻\") { position } }", json!({"k": key(), "v": c.v1})).await;
        // Too dear: refused, nothing taken.
        let (_, r) = s
            .gql(Some(&c.vol1), REDEEM, json!({"k": key(), "i": dear}))
            .await;
        assert_eq!(code(&r), "INSUFFICIENT_POINTS");
        // For someone else: refused.
        let (_, r) = s
            .gql(
                Some(&c.vol1),
                REDEEM,
                json!({"k": key(), "i": cheap, "v": c.v2}),
            )
            .await;
        assert_eq!(code(&r), "FORBIDDEN");
        // For themself: a code; then the limit of one per person.
        let ok = s.ok(&c.vol1, REDEEM, json!({"k": key(), "i": cheap})).await;
        assert_eq!(ok["redeemShopItem"]["pointsBalance"], "7.00");
        let (_, r) = s
            .gql(Some(&c.vol1), REDEEM, json!({"k": key(), "i": cheap}))
            .await;
        assert_eq!(code(&r), "LIMIT_REACHED");
        // Their own list shows it waiting, with the code; they cancel it themselves.
        let p = s.head().await;
        let mine = s
            .ok(
                &c.vol1,
                "query($p: Int) { redemptions(atLeast: $p) { id itemId code status } }",
                json!({"p": p}),
            )
            .await;
        assert_eq!(mine["redemptions"][0]["code"], ok["redeemShopItem"]["code"]);
        assert_eq!(mine["redemptions"][0]["status"], "REDEEMED");
        let (_, r) = s
            .gql(
                Some(&c.vol2),
                "query($v: ID!) { redemptions(volunteerId: $v) { id } }",
                json!({"v": c.v1}),
            )
            .await;
        assert_eq!(code(&r), "FORBIDDEN");
        let undone = s
            .ok(&c.vol1, "mutation($k: String!, $i: ID!, $r: ID!) { cancelRedemption(idempotencyKey: $k, itemId: $i, redemptionId: $r) { status position } }", json!({"k": key(), "i": cheap, "r": mine["redemptions"][0]["id"]}))
            .await;
        let p = undone["cancelRedemption"]["position"].as_u64();
        let inbox = s
            .ok(
                &c.vol1,
                "query($p: Int) { inbox(atLeast: $p) { messages { kind subject points } } }",
                json!({"p": p}),
            )
            .await;
        assert_eq!(
            inbox["inbox"]["messages"][0],
            json!({"kind": "POINTS_REFUNDED", "subject": "洗衣液", "points": "3.00"})
        );
        s.stop().await;
    }
}
