//! The bulk loader writes valid history, on both backends: the events asked for, each
//! community with its volunteers enrolled and in its street, accounts whose balances
//! are what their events credit, and a log the command handler then goes on from (a
//! command on a loaded account decides on the loaded state and appends after it).

use ledger::bulk::{load, BulkOptions};
use ledger::command::*;
use ledger::domain::Aggregate;
use ledger::event::Event;
use ledger::ids::*;
use ledger::Store;
use rust_decimal::Decimal;
use uuid::Uuid;

async fn loaded(store: Store) {
    let opts = BulkOptions {
        streets: 2,
        communities_per_street: 2,
        volunteers: 20,
        events: 2_000,
        seed: 7,
    };
    let mut done = load(&store, &opts, |_| {}).await.unwrap();
    assert_eq!((done.streets.len(), done.communities().len()), (2, 4));
    assert!(done.events() >= 2_000, "{}", done.events());
    assert_eq!(store.head().await.unwrap(), done.events());
    // Grown again: the same district, more history.
    ledger::bulk::grow(&store, &mut done, 3_000, |_| {})
        .await
        .unwrap();
    assert!(done.events() >= 3_000);
    assert_eq!(store.head().await.unwrap(), done.events());

    let h = CommandHandler::new(store.clone());
    let c = done.communities()[3];
    let community = h.community_state(c).await.unwrap();
    assert_eq!(
        community.volunteers_enrolled, 20,
        "every community filled up"
    );
    assert_eq!(community.street.latest(), Some(done.streets[1]));
    // An account: its balance is what its events credit, and a command goes on from it.
    let events = store.read_all(0, 100_000).await.unwrap();
    let v = events
        .iter()
        .filter_map(|r| Event::decode(r).ok().map(|e| (r, e)))
        .find_map(|(r, e)| match e {
            Event::ServiceVerified { .. } => {
                r.stream_id.strip_prefix("volunteer-").map(String::from)
            }
            _ => None,
        })
        .expect("a verified service");
    let v = VolunteerId(Uuid::parse_str(&v).unwrap());
    let stream: Vec<Event> = store
        .read_stream(&volunteer_stream(v), 0)
        .await
        .unwrap()
        .iter()
        .map(|r| Event::decode(r).unwrap())
        .collect();
    let folded = ledger::domain::VolunteerState::from_events(&stream);
    let credited: i64 = stream
        .iter()
        .map(|e| match e {
            Event::ServiceVerified { points, .. } | Event::PointsAwarded { points, .. } => {
                points.hundredths()
            }
            _ => 0,
        })
        .sum();
    assert_eq!(folded.points.hundredths(), credited);
    assert!(folded.verified_hours.minutes() > 0);
    let admin = Actor::admin(Uuid::new_v4());
    let award = AwardPoints {
        volunteer_id: v,
        points: Decimal::from(5),
        reason: "加载后的奖励".into(),
    };
    let after = h.run(&admin, "after-load", award).await.unwrap();
    assert_eq!(
        after.result.points_balance.hundredths(),
        credited + 500,
        "decided on the loaded state"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bulk_loader_writes_valid_history_sqlite() {
    let (store, _dir) = ledger::testing::sqlite_store().await;
    loaded(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bulk_loader_writes_valid_history_postgres() {
    if let Some(store) = ledger::testing::postgres_store().await {
        loaded(store).await;
    }
}
