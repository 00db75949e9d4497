//! Races over HTTP: 50 concurrent claimWish calls for one wish — exactly one wins,
//! the rest get WISH_ALREADY_CLAIMED; retries with the same keys return the same results.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_claims_one_winner() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = std::sync::Arc::new(Server::start(store).await);
        let c = seed(&s).await;
        let reg = "mutation($k: String!, $c: ID!, $s: ID!, $n: String!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: $n) { volunteerId } }";
        let mut volunteers = Vec::new();
        for i in 0..50 {
            let d = s
                .ok(
                    &c.staff,
                    reg,
                    json!({"k": key(), "c": c.id, "s": c.stairwell, "n": format!("志愿者{i}")}),
                )
                .await;
            volunteers.push(
                d["registerVolunteer"]["volunteerId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        let wish = s
            .ok(
                &c.staff,
                "mutation($k: String!, $c: ID!, $s: ID!) { postWish(idempotencyKey: $k, communityId: $c, stairwellId: $s, category: \"代购\", description: \"买米\", residentLabel: \"3单元独居老人\") { wishId } }",
                json!({"k": key(), "c": c.id, "s": c.stairwell}),
            )
            .await["postWish"]["wishId"]
            .as_str()
            .unwrap()
            .to_string();
        let claim = "mutation($k: String!, $w: ID!, $v: ID) { claimWish(idempotencyKey: $k, wishId: $w, volunteerId: $v) { wishId status position } }";
        let keys: Vec<String> = (0..50).map(|_| key()).collect();
        let run = |round: usize| {
            let s = s.clone();
            let staff = c.staff.clone();
            let wish = wish.clone();
            let volunteers = volunteers.clone();
            let keys = keys.clone();
            async move {
                let mut tasks = Vec::new();
                for i in 0..50 {
                    let s = s.clone();
                    let staff = staff.clone();
                    let vars = json!({"k": keys[i], "w": wish, "v": volunteers[i]});
                    tasks.push(tokio::spawn(async move {
                        s.gql(Some(&staff), claim, vars).await
                    }));
                }
                let mut out = Vec::new();
                for t in tasks {
                    out.push(t.await.expect("task"));
                }
                eprintln!("round {round} done");
                out
            }
        };
        let first = run(1).await;
        let winners: Vec<usize> = (0..50)
            .filter(|i| first[*i].1.get("errors").is_none())
            .collect();
        assert_eq!(winners.len(), 1, "exactly one claim wins: {:?}", first);
        for (i, (status, body)) in first.iter().enumerate() {
            assert_eq!(*status, 200);
            if i != winners[0] {
                assert_eq!(code(body), "WISH_ALREADY_CLAIMED", "{body}");
            } else {
                assert_eq!(body["data"]["claimWish"]["status"], "CLAIMED");
            }
        }
        // retries with the same keys: the winner gets its stored result, the others
        // their error again
        let second = run(2).await;
        for i in 0..50 {
            if i == winners[0] {
                assert_eq!(
                    second[i].1["data"]["claimWish"],
                    first[i].1["data"]["claimWish"]
                );
            } else {
                assert_eq!(code(&second[i].1), "WISH_ALREADY_CLAIMED");
            }
        }
        let claimed_at = first[winners[0]].1["data"]["claimWish"]["position"].as_u64();
        let board = s
            .ok(&c.vol1, "query($c: ID!, $p: Int) { wishes(communityId: $c, status: CLAIMED, atLeast: $p) { wishes { id claimedBy claimerName } } }", json!({"c": c.id, "p": claimed_at}))
            .await;
        assert_eq!(
            board["wishes"]["wishes"][0]["claimedBy"],
            volunteers[winners[0]].as_str()
        );
        assert_eq!(
            board["wishes"]["wishes"][0]["claimerName"],
            format!("志愿者{}", winners[0])
        );
        match std::sync::Arc::try_unwrap(s) {
            Ok(s) => s.stop().await,
            Err(_) => panic!("server still shared"),
        }
    }
}
