//! An exact read-through cache of balances (the volunteer app's hottest read).
//!
//! A balance read from the `balances` read model is kept with the position that read
//! model had applied *before* the read (its tag). It is served again only while no event
//! of that volunteer's stream (and no change of star thresholds) lies after the tag among
//! the events the read model has applied since: a follower of the log records, per
//! volunteer, the position of their latest event (reading only positions, stream ids and
//! event types). So a cached balance is exactly what the read model would answer now,
//! and read-your-writes holds: once `atLeast: P` has waited for the read models to reach
//! P, a cached balance that predates an event ≤ P of its volunteer is no longer served.
//!
//! Stars are evaluated for the day they are read (a threshold version dated in the
//! future applies from its day on, with no new event), so an entry read on an earlier
//! day is not served.
//!
//! When the follower is behind the read model, or an entry is older than [`MAX_AGE`]
//! (a safety net, e.g. for a rebuild swapped in at the same position), the read model
//! is queried. Writes to one volunteer leave every other volunteer's entry valid.
//!
//! A server whose read models are queried on a streaming replica has no such cache:
//! the position a replica's answer reflects is not the one this process applied.

use ledger::ids::{parse_stream, StreamKind, VolunteerId};
use ledger::Store;
use projections::balances::Balance;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use uuid::Uuid;

/// Longest an entry is served.
pub const MAX_AGE: Duration = Duration::from_secs(10);
/// Entries (and followed volunteers) kept before the cache starts over.
const LIMIT: usize = 100_000;
/// Events the follower reads per query.
const FOLLOW_BATCH: i64 = 2_000;
/// The follower re-reads the log at least this often (a safety net for missed wake-ups).
const FOLLOW_POLL: Duration = Duration::from_millis(500);

/// The read model the cache follows.
const MODEL: &str = projections::balances::NAME;

struct Entry {
    balance: Arc<Balance>,
    tag: u64,
    at: Instant,
}

#[derive(Default)]
struct Touched {
    /// Latest log position of an event of each volunteer's stream.
    volunteers: HashMap<Uuid, u64>,
    /// Latest position of a change of star thresholds (every balance may change).
    thresholds: u64,
    /// Entries tagged before this are not served (the follower started, or forgot).
    floor: u64,
}

/// The cache; see the module documentation.
pub struct BalanceCache {
    entries: Mutex<HashMap<VolunteerId, Entry>>,
    touched: Mutex<Touched>,
    /// Every event up to here has been recorded in `touched`.
    followed: AtomicU64,
    started: AtomicU64,
}

impl BalanceCache {
    /// A cache following `store`'s log from its current head (until `shutdown`).
    pub fn start(store: Store, shutdown: watch::Receiver<bool>) -> Arc<BalanceCache> {
        let cache = Arc::new(BalanceCache {
            entries: Mutex::new(HashMap::new()),
            touched: Mutex::new(Touched::default()),
            followed: AtomicU64::new(0),
            started: AtomicU64::new(0),
        });
        tokio::spawn(follow(Arc::downgrade(&cache), store, shutdown));
        cache
    }

    /// The cached balance of `v`, if it is exactly what `projections` would answer now.
    pub fn get(
        &self,
        v: VolunteerId,
        projections: &projections::Projections,
    ) -> Option<Arc<Balance>> {
        if self.started.load(Ordering::Acquire) == 0 {
            return None;
        }
        let applied = projections.position(MODEL)?;
        if self.followed.load(Ordering::Acquire) < applied {
            return None;
        }
        let (balance, tag) = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let e = entries.get(&v)?;
            if e.at.elapsed() > MAX_AGE || e.balance.stars_on != projections::balances::today() {
                return None;
            }
            (e.balance.clone(), e.tag)
        };
        let t = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        let last = t.volunteers.get(&v.0).copied().unwrap_or(0);
        (tag >= t.floor && t.thresholds <= tag && last <= tag).then_some(balance)
    }

    /// The position to tag a read with: read it *before* querying the read model.
    pub fn tag(projections: &projections::Projections) -> u64 {
        projections.position(MODEL).unwrap_or(0)
    }

    /// Keeps a balance read after `tag` was taken.
    pub fn put(&self, balance: Arc<Balance>, tag: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= LIMIT {
            entries.clear();
        }
        let v = balance.volunteer_id;
        match entries.get(&v) {
            Some(e) if e.tag > tag => {}
            _ => {
                entries.insert(
                    v,
                    Entry {
                        balance,
                        tag,
                        at: Instant::now(),
                    },
                );
            }
        }
    }

    fn record(&self, events: &[(u64, String, String)]) {
        let mut t = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        for (position, stream, event_type) in events {
            match parse_stream(stream) {
                Some((StreamKind::Volunteer, v)) => {
                    if t.volunteers.len() >= LIMIT && !t.volunteers.contains_key(&v) {
                        // Forget everything recorded: entries from before are not served.
                        t.volunteers.clear();
                        t.floor = *position;
                    }
                    t.volunteers.insert(v, *position);
                }
                Some((StreamKind::Community, _)) if event_type == "StarThresholdsSet" => {
                    t.thresholds = *position;
                }
                _ => {}
            }
        }
    }
}

/// Reads (position, stream id, event type) of the events after `after`.
async fn read_after(store: &Store, after: u64) -> Result<Vec<(u64, String, String)>, sqlx::Error> {
    let sql_sqlite = "SELECT position, stream_id, event_type FROM events WHERE position > ? ORDER BY position LIMIT ?";
    let sql_pg = "SELECT position, stream_id, event_type FROM events WHERE position > $1 ORDER BY position LIMIT $2";
    let rows = if let Some(pool) = store.sqlite_pool() {
        sqlx::query(sql_sqlite)
            .bind(after as i64)
            .bind(FOLLOW_BATCH)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)? as u64, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    } else if let Some(pool) = store.postgres_pool() {
        sqlx::query(sql_pg)
            .bind(after as i64)
            .bind(FOLLOW_BATCH)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)? as u64, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    } else {
        Vec::new()
    };
    Ok(rows)
}

/// Follows the log while the cache lives and the server runs.
async fn follow(cache: Weak<BalanceCache>, store: Store, mut shutdown: watch::Receiver<bool>) {
    let mut head = store.watch_head();
    let start = loop {
        match store.head().await {
            Ok(h) => break h,
            Err(e) => {
                tracing::warn!(error = %e, "balance cache: reading the log head");
                tokio::time::sleep(FOLLOW_POLL).await;
            }
        }
    };
    match cache.upgrade() {
        Some(c) => {
            c.touched.lock().unwrap_or_else(|e| e.into_inner()).floor = start;
            c.followed.store(start, Ordering::Release);
            c.started.store(1, Ordering::Release);
        }
        None => return,
    }
    let mut after = start;
    loop {
        head.borrow_and_update();
        match read_after(&store, after).await {
            Ok(events) if !events.is_empty() => {
                let Some(c) = cache.upgrade() else { return };
                let last = events.last().map(|e| e.0).unwrap_or(after);
                c.record(&events);
                c.followed.store(last, Ordering::Release);
                after = last;
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "balance cache: following the log"),
        }
        if cache.strong_count() == 0 || *shutdown.borrow() {
            return;
        }
        tokio::select! {
            r = head.changed() => if r.is_err() { return },
            _ = tokio::time::sleep(FOLLOW_POLL) => {}
            r = shutdown.changed() => if r.is_err() { return },
        }
    }
}
