//! Group commit: one writer task per store takes every append waiting in its queue,
//! checks and writes them in one transaction, and answers each on its own.
//!
//! The checks are a pure function, [`plan_batch`], over what the database holds
//! (head, stream versions, stored event ids, stored command keys); the backends only
//! fetch those facts and insert the planned rows. If a batch's transaction fails as a
//! whole, its appends are retried one by one, so one bad append cannot fail the others.
//!
//! Batches commit one after another, in order. A backend that can (PostgreSQL) reads
//! the next batch's facts and plans it while the previous batch commits, counting on
//! that batch's writes ([`InFlight::overlay`]); such a plan is used only if the previous
//! batch then wrote exactly what it planned, and the backend writes it only if the
//! log's head is still the one it was planned on.

use super::types::*;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

/// Most appends one transaction takes; bounded so one batch cannot grow without limit.
const MAX_BATCH_APPENDS: usize = 1024;
const MAX_BATCH_EVENTS: usize = 8192;

/// Facts a batch is checked against, read inside the write transaction.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub head: u64,
    pub versions: HashMap<String, u64>,
    /// Stored event ids and their positions.
    pub event_positions: HashMap<Uuid, u64>,
    pub commands: HashMap<String, CommandRecord>,
}

/// A row to insert into the log.
#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub position: u64,
    pub stream_id: String,
    pub stream_version: u64,
    pub event: NewEvent,
}

#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub events: Vec<EventRow>,
    pub commands: Vec<CommandRecord>,
    pub results: Vec<Result<AppendOutcome, StoreError>>,
    pub head: u64,
}

/// The ids, streams and keys a batch must look up.
pub(crate) fn wanted(batch: &[AppendRequest]) -> (Vec<String>, Vec<Uuid>, Vec<String>) {
    let mut streams = HashSet::new();
    let mut ids = Vec::new();
    let mut keys = Vec::new();
    for req in batch {
        for w in &req.writes {
            streams.insert(w.stream_id.clone());
            ids.extend(w.events.iter().map(|e| e.event_id));
        }
        if let Some((key, _, _)) = &req.command {
            keys.push(key.clone());
        }
    }
    (streams.into_iter().collect(), ids, keys)
}

fn validate(req: &AppendRequest) -> Result<(), StoreError> {
    if req.writes.is_empty() {
        return Err(StoreError::InvalidAppend(
            "an append must name at least one stream".into(),
        ));
    }
    let mut streams = HashSet::new();
    let mut ids = HashSet::new();
    for w in &req.writes {
        if w.stream_id.is_empty() || w.stream_id.len() > 200 {
            return Err(StoreError::InvalidAppend(format!(
                "stream id must be 1 to 200 characters, got {:?}",
                w.stream_id
            )));
        }
        if !streams.insert(w.stream_id.as_str()) {
            return Err(StoreError::InvalidAppend(format!(
                "stream {} appears twice in one append",
                w.stream_id
            )));
        }
        for e in &w.events {
            if !ids.insert(e.event_id) {
                return Err(StoreError::InvalidAppend(format!(
                    "event id {} appears twice in one append",
                    e.event_id
                )));
            }
            if e.event_type.is_empty() {
                return Err(StoreError::InvalidAppend(
                    "event type must not be empty".into(),
                ));
            }
        }
    }
    Ok(())
}

/// Decides each append of a batch in order, as if they ran one after another.
pub(crate) fn plan_batch(batch: &[AppendRequest], mut facts: Facts) -> Plan {
    let mut plan = Plan::default();
    for req in batch {
        let result = plan_one(req, &mut facts, &mut plan);
        plan.results.push(result);
    }
    plan.head = facts.head;
    plan
}

fn plan_one(
    req: &AppendRequest,
    facts: &mut Facts,
    plan: &mut Plan,
) -> Result<AppendOutcome, StoreError> {
    validate(req)?;
    if let Some((key, _, _)) = &req.command {
        if let Some(stored) = facts.commands.get(key) {
            return Ok(AppendOutcome {
                positions: vec![],
                last_position: stored.position,
                duplicate_of: Some(stored.clone()),
            });
        }
    }
    // A retry of an append whose events are all stored returns their positions.
    let all: Vec<Uuid> = req
        .writes
        .iter()
        .flat_map(|w| w.events.iter().map(|e| e.event_id))
        .collect();
    let stored: Vec<Option<u64>> = all
        .iter()
        .map(|id| facts.event_positions.get(id).copied())
        .collect();
    if !all.is_empty() && stored.iter().all(Option::is_some) {
        let mut positions = Vec::new();
        let mut it = stored.into_iter().flatten();
        for w in &req.writes {
            positions.push(it.by_ref().take(w.events.len()).collect::<Vec<_>>());
        }
        let last_position = positions.iter().flatten().copied().max().unwrap_or(0);
        return Ok(AppendOutcome {
            positions,
            last_position,
            duplicate_of: None,
        });
    }
    if let Some((id, pos)) = all
        .iter()
        .zip(&stored)
        .find_map(|(id, p)| p.map(|p| (*id, p)))
    {
        return Err(StoreError::EventIdReused {
            event_id: id,
            position: pos,
        });
    }
    for w in &req.writes {
        let actual = facts.versions.get(&w.stream_id).copied().unwrap_or(0);
        if !w.expected.matches(actual) {
            return Err(StoreError::VersionConflict {
                stream: w.stream_id.clone(),
                expected: w.expected,
                actual,
            });
        }
    }
    let mut positions = Vec::with_capacity(req.writes.len());
    for w in &req.writes {
        let version = facts.versions.entry(w.stream_id.clone()).or_insert(0);
        let mut ps = Vec::with_capacity(w.events.len());
        for e in &w.events {
            facts.head += 1;
            *version += 1;
            facts.event_positions.insert(e.event_id, facts.head);
            ps.push(facts.head);
            plan.events.push(EventRow {
                position: facts.head,
                stream_id: w.stream_id.clone(),
                stream_version: *version,
                event: e.clone(),
            });
        }
        positions.push(ps);
    }
    let last_position = positions
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(facts.head);
    if let Some((key, command, result)) = &req.command {
        let record = CommandRecord {
            idempotency_key: key.clone(),
            command: command.clone(),
            result: result.clone(),
            position: last_position,
        };
        facts.commands.insert(key.clone(), record.clone());
        plan.commands.push(record);
    }
    Ok(AppendOutcome {
        positions,
        last_position,
        duplicate_of: None,
    })
}

/// A batch planned ahead of its transaction (see [`BatchSink::plan_ahead`]).
pub(crate) struct Planned {
    pub plan: Plan,
    /// The head the plan was made on: the transaction writes it only if the log's head
    /// is still this one.
    pub planned_on: u64,
    /// Whether the plan counted on the batch then in flight being written as planned.
    pub counts_on_in_flight: bool,
}

/// What a batch being committed will have written if it commits as planned, for
/// planning the next batch ahead.
pub(crate) struct InFlight {
    planned_on: u64,
    head: u64,
    versions: Vec<(String, u64)>,
    events: Vec<(Uuid, u64)>,
    commands: Vec<CommandRecord>,
}

impl InFlight {
    fn of(planned: &Planned) -> InFlight {
        let plan = &planned.plan;
        InFlight {
            planned_on: planned.planned_on,
            head: plan.head,
            versions: plan
                .events
                .iter()
                .map(|r| (r.stream_id.clone(), r.stream_version))
                .collect(),
            events: plan
                .events
                .iter()
                .map(|r| (r.event.event_id, r.position))
                .collect(),
            commands: plan.commands.clone(),
        }
    }

    /// Adds the in-flight batch's writes to facts read before it committed; whether it
    /// did (facts read after the commit already hold them).
    pub fn overlay(&self, facts: &mut Facts) -> bool {
        if facts.head != self.planned_on || self.head == self.planned_on {
            return false;
        }
        facts.head = self.head;
        for (stream, version) in &self.versions {
            let v = facts.versions.entry(stream.clone()).or_insert(0);
            *v = (*v).max(*version);
        }
        facts.event_positions.extend(self.events.iter().copied());
        for c in &self.commands {
            facts.commands.insert(c.idempotency_key.clone(), c.clone());
        }
        true
    }
}

/// A batch's transaction, done.
pub(crate) struct Written {
    pub plan: Plan,
    /// Whether it wrote exactly the plan made ahead.
    pub as_planned: bool,
}

/// What a backend does for the writer: run one batch in one transaction.
pub(crate) trait BatchSink: Send + Sync + 'static {
    /// Whether this backend plans a batch ahead, on a connection of its own, while the
    /// previous batch commits.
    fn plans_ahead(&self) -> bool {
        false
    }

    /// Reads the facts and plans `batch` without writing, as if `in_flight` had
    /// committed as planned (called only if [`BatchSink::plans_ahead`]).
    fn plan_ahead(
        &self,
        batch: &[AppendRequest],
        in_flight: Option<&InFlight>,
    ) -> impl Future<Output = Result<Planned, StoreError>> + Send;

    /// Writes a batch in one transaction: the plan made ahead if it still holds,
    /// otherwise reads the facts, plans with [`plan_batch`] and inserts the planned rows.
    /// Returns the plan (with the new head) or an error for the whole batch.
    fn write_batch(
        &self,
        batch: &[AppendRequest],
        ahead: Option<Planned>,
        recorded_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;
}

struct Pending {
    req: AppendRequest,
    reply: oneshot::Sender<Result<AppendOutcome, StoreError>>,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    appends: AtomicU64,
    events: AtomicU64,
}

/// Handle to a store's writer task.
#[derive(Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Pending>,
    head: watch::Receiver<u64>,
    counters: Arc<Counters>,
}

impl Writer {
    /// Starts the writer task. `head_tx` is shared with whatever else learns of commits
    /// (PostgreSQL's listener).
    pub fn start<S: BatchSink>(sink: S, head_tx: Arc<watch::Sender<u64>>) -> Writer {
        let (tx, rx) = mpsc::channel(MAX_BATCH_APPENDS * 4);
        let counters = Arc::new(Counters::default());
        let head = head_tx.subscribe();
        tokio::spawn(run(sink, rx, head_tx, counters.clone()));
        Writer { tx, head, counters }
    }

    pub async fn submit(&self, req: AppendRequest) -> Result<AppendOutcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Pending { req, reply })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        rx.await.map_err(|_| StoreError::WriterStopped)?
    }

    pub fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.clone()
    }

    pub fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            appends: self.counters.appends.load(Ordering::Relaxed),
            events: self.counters.events.load(Ordering::Relaxed),
        }
    }
}

async fn run<S: BatchSink>(
    sink: S,
    mut rx: mpsc::Receiver<Pending>,
    head_tx: Arc<watch::Sender<u64>>,
    counters: Arc<Counters>,
) {
    let sink = Arc::new(sink);
    let ahead = sink.plans_ahead();
    // The batch being committed, by a task of its own: its handle and what it writes.
    let mut in_flight: Option<(tokio::task::JoinHandle<bool>, Option<InFlight>)> = None;
    loop {
        if !ahead {
            if let Some((task, _)) = in_flight.take() {
                let _ = task.await;
            }
        }
        // The appenders just answered usually append again at once. Letting them run
        // first puts them in the next batch with those that queued meanwhile; without
        // it, a steady load splits into two cohorts that alternate, each in a half-full
        // batch.
        tokio::task::yield_now().await;
        let Some(batch) = gather(&mut rx).await else {
            break;
        };
        let reqs: Vec<AppendRequest> = batch.iter().map(|p| p.req.clone()).collect();
        let planned = if ahead {
            sink.plan_ahead(&reqs, in_flight.as_ref().and_then(|(_, f)| f.as_ref()))
                .await
                .ok()
        } else {
            None
        };
        // Commits go one after another, in order.
        let before_wrote_as_planned = match in_flight.take() {
            Some((task, _)) => task.await.unwrap_or(false),
            None => true,
        };
        let planned = planned.filter(|p| !p.counts_on_in_flight || before_wrote_as_planned);
        let next = planned.as_ref().map(InFlight::of);
        let task = tokio::spawn(commit(
            sink.clone(),
            batch,
            reqs,
            planned,
            head_tx.clone(),
            counters.clone(),
        ));
        in_flight = Some((task, next));
    }
    if let Some((task, _)) = in_flight {
        let _ = task.await;
    }
}

/// The next batch: waits for one append, then takes whatever else is queued.
async fn gather(rx: &mut mpsc::Receiver<Pending>) -> Option<Vec<Pending>> {
    let first = rx.recv().await?;
    let mut events = first
        .req
        .writes
        .iter()
        .map(|w| w.events.len())
        .sum::<usize>();
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH_APPENDS && events < MAX_BATCH_EVENTS {
        match rx.try_recv() {
            Ok(p) => {
                events += p.req.writes.iter().map(|w| w.events.len()).sum::<usize>();
                batch.push(p);
            }
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Commits one batch and answers its appends; whether it wrote the plan made ahead.
async fn commit<S: BatchSink>(
    sink: Arc<S>,
    mut batch: Vec<Pending>,
    reqs: Vec<AppendRequest>,
    planned: Option<Planned>,
    head_tx: Arc<watch::Sender<u64>>,
    counters: Arc<Counters>,
) -> bool {
    match sink.write_batch(&reqs, planned, Utc::now()).await {
        Ok(written) => {
            publish(&head_tx, &counters, &written.plan, reqs.len());
            for (p, r) in batch.drain(..).zip(written.plan.results) {
                let _ = p.reply.send(r);
            }
            written.as_planned
        }
        Err(batch_err) if batch.len() == 1 => {
            let p = batch.pop().expect("one pending append");
            let _ = p.reply.send(Err(batch_err));
            false
        }
        Err(batch_err) => {
            tracing::warn!(error = %batch_err, appends = batch.len(), "batch failed; retrying its appends one by one");
            for p in batch.drain(..) {
                let one = std::slice::from_ref(&p.req);
                let r = match sink.write_batch(one, None, Utc::now()).await {
                    Ok(mut written) => {
                        publish(&head_tx, &counters, &written.plan, 1);
                        written
                            .plan
                            .results
                            .pop()
                            .unwrap_or(Err(StoreError::WriterStopped))
                    }
                    Err(e) => Err(e),
                };
                let _ = p.reply.send(r);
            }
            false
        }
    }
}

fn publish(head_tx: &watch::Sender<u64>, counters: &Counters, plan: &Plan, appends: usize) {
    counters.batches.fetch_add(1, Ordering::Relaxed);
    counters
        .appends
        .fetch_add(appends as u64, Ordering::Relaxed);
    counters
        .events
        .fetch_add(plan.events.len() as u64, Ordering::Relaxed);
    let head = plan.head;
    head_tx.send_if_modified(|h| {
        if head > *h {
            *h = head;
            true
        } else {
            false
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u128) -> NewEvent {
        NewEvent {
            event_id: Uuid::from_u128(id),
            event_type: "Tested".into(),
            schema_version: 1,
            payload: serde_json::json!({}),
            metadata: Metadata::default(),
            community_id: None,
        }
    }

    #[test]
    fn one_conflict_in_a_batch_fails_only_its_own_append() {
        let batch = vec![
            AppendRequest::single("a", ExpectedVersion::NoStream, vec![ev(1)]),
            AppendRequest::single("a", ExpectedVersion::NoStream, vec![ev(2)]),
            AppendRequest::single("a", ExpectedVersion::Exact(1), vec![ev(3)]),
        ];
        let plan = plan_batch(&batch, Facts::default());
        assert_eq!(plan.results[0].as_ref().unwrap().positions, vec![vec![1]]);
        assert!(matches!(
            plan.results[1],
            Err(StoreError::VersionConflict { actual: 1, .. })
        ));
        assert_eq!(plan.results[2].as_ref().unwrap().positions, vec![vec![2]]);
        assert_eq!(plan.events.len(), 2);
        assert_eq!(plan.head, 2);
    }

    #[test]
    fn a_retry_inside_one_batch_gets_the_original_positions() {
        let batch = vec![
            AppendRequest::single("a", ExpectedVersion::Any, vec![ev(1), ev(2)]),
            AppendRequest::single("a", ExpectedVersion::Exact(0), vec![ev(1), ev(2)]),
        ];
        let plan = plan_batch(&batch, Facts::default());
        assert_eq!(
            plan.results[1].as_ref().unwrap().positions,
            vec![vec![1, 2]]
        );
        assert_eq!(plan.events.len(), 2);
    }

    #[test]
    fn a_batch_planned_ahead_continues_after_the_batch_in_flight() {
        let first = vec![
            AppendRequest::single("a", ExpectedVersion::Any, vec![ev(1), ev(2)]),
            AppendRequest::single("b", ExpectedVersion::NoStream, vec![ev(3)]),
        ];
        let planned = Planned {
            plan: plan_batch(&first, Facts::default()),
            planned_on: 0,
            counts_on_in_flight: false,
        };
        let in_flight = InFlight::of(&planned);
        // Facts read before the first batch committed: the overlay adds its writes.
        let mut facts = Facts::default();
        assert!(in_flight.overlay(&mut facts));
        assert_eq!(facts.head, 3);
        let second = vec![
            AppendRequest::single("a", ExpectedVersion::Exact(2), vec![ev(4)]),
            AppendRequest::single("b", ExpectedVersion::NoStream, vec![ev(5)]),
            AppendRequest::single("c", ExpectedVersion::Any, vec![ev(1)]),
        ];
        let plan = plan_batch(&second, facts);
        assert_eq!(plan.results[0].as_ref().unwrap().positions, vec![vec![4]]);
        assert!(matches!(
            plan.results[1],
            Err(StoreError::VersionConflict { actual: 1, .. })
        ));
        // A retry of an event the batch in flight writes gets its position.
        assert_eq!(plan.results[2].as_ref().unwrap().positions, vec![vec![1]]);
        assert_eq!(plan.head, 4);
        // Facts read after it committed already hold its writes: nothing is added twice.
        let mut after = Facts {
            head: 3,
            ..Facts::default()
        };
        after.versions.insert("a".into(), 2);
        assert!(!in_flight.overlay(&mut after));
        assert_eq!(after.versions.get("a"), Some(&2));
        assert!(after.event_positions.is_empty());
    }

    #[test]
    fn a_partly_stored_append_is_refused() {
        let mut facts = Facts::default();
        facts.event_positions.insert(Uuid::from_u128(1), 7);
        facts.head = 7;
        let plan = plan_batch(
            &[AppendRequest::single(
                "a",
                ExpectedVersion::Any,
                vec![ev(1), ev(2)],
            )],
            facts,
        );
        assert!(matches!(
            plan.results[0],
            Err(StoreError::EventIdReused { position: 7, .. })
        ));
        assert!(plan.events.is_empty());
    }
}
