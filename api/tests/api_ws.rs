//! Subscriptions over WebSocket (graphql-transport-ws) on each backend.

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("stream open")
            .expect("message");
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).expect("json"),
            Message::Close(c) => return json!({"type": "closed", "frame": format!("{c:?}")}),
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscriptions_over_websocket() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let mut req = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect");
        ws.send(Message::Text(
            json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", c.staff)}}).to_string(),
        ))
        .await
        .unwrap();
        assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
        let sub = |id: &str, query: &str, vars: Value| {
            Message::Text(json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": vars}}).to_string())
        };
        ws.send(sub("1", "subscription($v: ID!) { balanceChanged(volunteerId: $v) { eventType balance { points } position } }", json!({"v": c.v1})))
            .await
            .unwrap();
        ws.send(sub(
            "2",
            "subscription($c: ID!) { ledgerEvents(communityId: $c) { eventType position } }",
            json!({"c": c.id}),
        ))
        .await
        .unwrap();
        // give the subscriptions a moment to start following the log
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let a = s
            .ok(
                &c.staff,
                "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"5.00\", reason: \"巡逻\") { position } }",
                json!({"k": key(), "v": c.v1}),
            )
            .await;
        let pos = a["awardPoints"]["position"].as_u64().unwrap();
        let mut got_balance = false;
        let mut got_event = false;
        while !(got_balance && got_event) {
            let m = next_json(&mut ws).await;
            assert_eq!(m["type"], "next", "{m}");
            match m["id"].as_str() {
                Some("1") => {
                    let b = &m["payload"]["data"]["balanceChanged"];
                    assert_eq!(b["eventType"], "PointsAwarded");
                    assert_eq!(b["balance"]["points"], "5.00");
                    assert_eq!(b["position"].as_u64(), Some(pos));
                    got_balance = true;
                }
                Some("2") => {
                    assert_eq!(
                        m["payload"]["data"]["ledgerEvents"]["eventType"],
                        "PointsAwarded"
                    );
                    got_event = true;
                }
                other => panic!("unexpected id {other:?}"),
            }
        }
        // a volunteer may not follow someone else's balance
        let mut req = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut ws2, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect");
        ws2.send(Message::Text(
            json!({"type": "connection_init", "payload": {"token": c.vol2}}).to_string(),
        ))
        .await
        .unwrap();
        assert_eq!(next_json(&mut ws2).await["type"], "connection_ack");
        ws2.send(sub(
            "9",
            "subscription($v: ID!) { balanceChanged(volunteerId: $v) { position } }",
            json!({"v": c.v1}),
        ))
        .await
        .unwrap();
        let m = next_json(&mut ws2).await;
        // a resolver error: delivered as `next` with errors (or `error` for request errors)
        let err = if m["type"] == "error" {
            &m["payload"][0]
        } else {
            &m["payload"]["errors"][0]
        };
        assert_eq!(err["extensions"]["code"], "FORBIDDEN", "{m}");
        // rankings of their own community: sent once the rankings read model has the
        // change, so a re-query without atLeast already shows it
        ws2.send(sub(
            "10",
            "subscription($c: ID!) { rankingChanged(communityId: $c) { communityId volunteerId volunteerIds position } }",
            json!({"c": c.id}),
        ))
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // a redemption does not change rankings; an award does
        let redeem = s
            .ok(
                &c.staff,
                "mutation($k: String!, $v: ID!) { redeemPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", item: \"毛巾\") { position } }",
                json!({"k": key(), "v": c.v1}),
            )
            .await["redeemPoints"]["position"]
            .as_u64()
            .unwrap();
        let award = s
            .ok(
                &c.staff,
                "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"7.00\", reason: \"助老\") { position } }",
                json!({"k": key(), "v": c.v2}),
            )
            .await["awardPoints"]["position"]
            .as_u64()
            .unwrap();
        assert!(award > redeem);
        // (the refused subscription "9" completes first)
        let m = loop {
            let m = next_json(&mut ws2).await;
            if m["id"] != "9" {
                break m;
            }
        };
        assert_eq!(
            (m["type"].as_str(), m["id"].as_str()),
            (Some("next"), Some("10")),
            "{m}"
        );
        let change = &m["payload"]["data"]["rankingChanged"];
        assert_eq!(change["communityId"], c.id.as_str());
        assert_eq!(change["volunteerId"], c.v2.as_str(), "{change}");
        assert_eq!(change["volunteerIds"], json!([c.v2]), "{change}");
        assert_eq!(change["position"].as_u64(), Some(award));
        let r = s
            .ok(
                &c.vol2,
                "query($c: ID!) { ranking(communityId: $c, metric: POINTS) { rows { volunteerId points } } }",
                json!({"c": c.id}),
            )
            .await;
        assert!(
            r["ranking"]["rows"]
                .as_array()
                .unwrap()
                .iter()
                .any(|row| row["volunteerId"] == c.v2.as_str() && row["points"] == "7.00"),
            "{r}"
        );
        // other communities' rankings are not theirs to follow
        ws2.send(sub(
            "11",
            "subscription($c: ID!) { rankingChanged(communityId: $c) { position } }",
            json!({"c": c.other_id}),
        ))
        .await
        .unwrap();
        let m = next_json(&mut ws2).await;
        let err = if m["type"] == "error" {
            &m["payload"][0]
        } else {
            &m["payload"]["errors"][0]
        };
        assert_eq!(err["extensions"]["code"], "FORBIDDEN", "{m}");
        // without a token the connection is refused
        let mut req = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut ws3, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect");
        ws3.send(Message::Text(
            json!({"type": "connection_init", "payload": {}}).to_string(),
        ))
        .await
        .unwrap();
        assert_eq!(next_json(&mut ws3).await["type"], "closed");
        drop(ws);
        drop(ws2);
        s.stop().await;
    }
}

/// The hall display follows an activity: a sign-up and a check-in arrive with the
/// counts after each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hall_display_follows_an_activity() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let start = chrono::Utc::now() + chrono::Duration::minutes(10);
        let a = s
            .ok(
                &c.staff,
                "mutation($k: String!, $c: ID!, $s: DateTime!, $e: DateTime!) { postActivity(idempotencyKey: $k, communityId: $c, title: \"巡逻\", kind: PATROL, place: \"北门\", startsAt: $s, endsAt: $e, places: 3) { activityId } }",
                json!({"k": key(), "c": c.id, "s": start.to_rfc3339(), "e": (start + chrono::Duration::hours(1)).to_rfc3339()}),
            )
            .await["postActivity"]["activityId"]
            .as_str()
            .unwrap()
            .to_string();
        let mut req = format!("ws://{}/ws", s.addr).into_client_request().unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect");
        ws.send(Message::Text(
            json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", c.display)}}).to_string(),
        ))
        .await
        .unwrap();
        assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
        ws.send(Message::Text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription($a: ID!) { activityChanged(activityId: $a) { eventType volunteerId taken checkedIn position } }", "variables": {"a": a}}}).to_string(),
        ))
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        s.ok(&c.vol1, "mutation($k: String!, $a: ID!) { signUp(idempotencyKey: $k, activityId: $a) { position } }", json!({"k": key(), "a": a}))
            .await;
        s.ok(&c.staff, "mutation($k: String!, $a: ID!, $v: ID!) { checkIn(idempotencyKey: $k, activityId: $a, volunteerId: $v) { position } }", json!({"k": key(), "a": a, "v": c.v1}))
            .await;
        let first = next_json(&mut ws).await;
        assert_eq!(
            first["payload"]["data"]["activityChanged"]["eventType"], "SignedUp",
            "{first}"
        );
        assert_eq!(first["payload"]["data"]["activityChanged"]["taken"], 1);
        assert_eq!(
            first["payload"]["data"]["activityChanged"]["volunteerId"],
            c.v1.as_str()
        );
        let second = next_json(&mut ws).await;
        assert_eq!(
            second["payload"]["data"]["activityChanged"]["eventType"],
            "CheckedIn"
        );
        assert_eq!(second["payload"]["data"]["activityChanged"]["checkedIn"], 1);
        s.stop().await;
    }
}
