//! Group commit: one writer task per store takes every append waiting in its queue,
//! checks and writes them in one transaction, and answers each on its own.
//!
//! The checks are a pure function, [`plan_batch`], over what the database holds
//! (head, stream versions, stored event ids, stored command keys); the backends only
//! fetch those facts and insert the planned rows. If a batch's transaction fails as a
//! whole, its appends are retried one by one, so one bad append cannot fail the others.
//!
//! A backend that can (PostgreSQL) pipelines: the writer keeps the log's [`Tip`] (its
//! head, the token of the batch that wrote it, and the versions of the streams it has
//! seen, all exactly as of that head), plans the next batch in memory on the tip plus the
//! batches still in flight ([`InFlight::overlay`]), and sends it while they commit. Such
//! a plan assumes no event id and no command key of the batch is stored yet; the backend
//! writes it only if the log's head and the token of its last batch are still the ones
//! it was planned on, and a stored id or key (a retry) fails it on a unique index. Either
//! way nothing is written and the batch is planned again, under the append lock, on
//! facts read from the database.

use super::types::*;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet, VecDeque};
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
    /// The token of the batch that wrote `head` (backends that pipeline).
    pub token: Uuid,
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

/// Most stream versions a [`Tip`] remembers; beyond, it forgets them all and looks
/// them up again.
const TIP_STREAMS: usize = 100_000;

/// What the writer knows of the log, exactly as of `head`: the token of the batch that
/// wrote it, and the version of every stream in `versions`.
pub(crate) struct Tip {
    pub head: u64,
    pub token: Uuid,
    versions: HashMap<String, u64>,
}

impl Tip {
    pub fn new(head: u64, token: Uuid) -> Tip {
        Tip {
            head,
            token,
            versions: HashMap::new(),
        }
    }

    /// The streams of `batch` whose versions it does not know, and no batch in flight
    /// writes.
    fn missing(&self, batch: &[AppendRequest], in_flight: &[&InFlight]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in batch.iter().flat_map(|r| &r.writes) {
            let id = &w.stream_id;
            if !self.versions.contains_key(id)
                && !in_flight.iter().any(|f| f.writes(id))
                && !out.contains(id)
            {
                out.push(id.clone());
            }
        }
        out
    }

    /// Makes room for the versions of `streams` more streams: forgets every version if
    /// they would not fit. Called before [`Tip::missing`], never between it and
    /// planning, which counts on what it does not report missing being known.
    fn make_room(&mut self, streams: usize) {
        if self.versions.len() + streams > TIP_STREAMS {
            self.versions.clear();
        }
    }

    /// Learns versions looked up as of this tip's head.
    fn learn(&mut self, versions: HashMap<String, u64>) {
        self.versions.extend(versions);
    }

    /// Whether each batch in flight was planned on the one before it, the first on this
    /// tip: only then can a batch be planned after all of them.
    fn chains(&self, in_flight: &[&InFlight]) -> bool {
        let mut at = (self.head, self.token);
        for f in in_flight {
            if (f.planned_on, f.token_on) != at {
                return false;
            }
            at = (f.head, f.token);
        }
        true
    }

    /// The facts a batch is planned on: this tip, then the batches in flight (which
    /// [`Tip::chains`] from it), in order.
    fn facts(&self, batch: &[AppendRequest], in_flight: &[&InFlight]) -> Facts {
        let mut facts = Facts {
            head: self.head,
            token: self.token,
            ..Facts::default()
        };
        for w in batch.iter().flat_map(|r| &r.writes) {
            if let Some(v) = self.versions.get(&w.stream_id) {
                facts.versions.insert(w.stream_id.clone(), *v);
            }
        }
        for f in in_flight {
            f.overlay(&mut facts);
        }
        facts
    }

    /// Moves on past a batch that was written as planned on this very tip.
    fn advance(&mut self, f: &InFlight) {
        if self.head != f.planned_on || self.token != f.token_on {
            *self = Tip::new(f.head, f.token);
            return;
        }
        self.head = f.head;
        self.token = f.token;
        for (stream, version) in &f.versions {
            self.versions.insert(stream.clone(), *version);
        }
        if self.versions.len() > TIP_STREAMS {
            self.versions.clear();
        }
    }
}

/// A batch planned ahead of its transaction, on a [`Tip`] and the batches in flight.
pub(crate) struct Planned {
    pub plan: Plan,
    /// The head and the token the plan was made on: it is written only if the log's
    /// head and the token of its last batch are still these.
    pub planned_on: u64,
    pub token_on: Uuid,
    /// The token of this batch, once written.
    pub token: Uuid,
    /// The batch in flight it was planned after, if any. A batch that reaches the log
    /// before the one it follows waits for it and tries again.
    pub after: Option<After>,
}

/// The batch in flight a batch was planned after.
pub(crate) struct After {
    /// The token that batch was planned on: while the log's tip still has it, that
    /// batch has not been written.
    pub token_on: Uuid,
    /// Turns `true` (or closes) once that batch is done.
    pub done: watch::Receiver<bool>,
}

/// What a batch being committed will have written if it commits as planned, for
/// planning the next batches ahead.
pub(crate) struct InFlight {
    planned_on: u64,
    token_on: Uuid,
    head: u64,
    token: Uuid,
    versions: Vec<(String, u64)>,
    events: Vec<(Uuid, u64)>,
    commands: Vec<CommandRecord>,
}

impl InFlight {
    fn of(planned: &Planned) -> InFlight {
        let plan = &planned.plan;
        InFlight {
            planned_on: planned.planned_on,
            token_on: planned.token_on,
            head: plan.head,
            token: planned.token,
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

    fn writes(&self, stream: &str) -> bool {
        self.versions.iter().any(|(s, _)| s == stream)
    }

    /// Adds this batch's writes to facts as of the head and token it was planned on;
    /// whether it did (facts at any other point are left alone).
    pub fn overlay(&self, facts: &mut Facts) -> bool {
        if facts.head != self.planned_on || facts.token != self.token_on {
            return false;
        }
        facts.head = self.head;
        facts.token = self.token;
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
    /// The log's head and the token of its last batch right after this transaction, if
    /// the backend knows them (backends that pipeline).
    pub tip: Option<(u64, Uuid)>,
}

/// What a backend does for the writer: run one batch in one transaction.
pub(crate) trait BatchSink: Send + Sync + 'static {
    /// How many batches may be committing at once (more than one only for a backend
    /// that plans ahead on a [`Tip`] and checks it when it writes).
    fn pipeline_depth(&self) -> usize {
        1
    }

    /// The log's head and the token of the batch that wrote it (called only if
    /// [`BatchSink::pipeline_depth`] is above one).
    fn read_tip(&self) -> impl Future<Output = Result<(u64, Uuid), StoreError>> + Send;

    /// The versions of `streams` as of position `head` (0 for a stream without events
    /// up to there; called only if [`BatchSink::pipeline_depth`] is above one).
    fn stream_versions(
        &self,
        streams: &[String],
        head: u64,
    ) -> impl Future<Output = Result<HashMap<String, u64>, StoreError>> + Send;

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

/// A batch being committed: the task committing it, and what it writes if it commits
/// as planned ahead.
struct Committing {
    task: tokio::task::JoinHandle<Result<Written, ()>>,
    planned: Option<InFlight>,
    /// Turns `true` (or closes) once the task is done.
    done: watch::Receiver<bool>,
}

async fn run<S: BatchSink>(
    sink: S,
    mut rx: mpsc::Receiver<Pending>,
    head_tx: Arc<watch::Sender<u64>>,
    counters: Arc<Counters>,
) {
    let sink = Arc::new(sink);
    let depth = sink.pipeline_depth().max(1);
    let mut tip: Option<Tip> = None;
    // Oldest first; commits reach the log in this order, or are planned again.
    let mut committing: VecDeque<Committing> = VecDeque::new();
    loop {
        while committing.len() >= depth {
            if let Some(c) = committing.pop_front() {
                settle(&mut tip, c).await;
            }
        }
        // The appenders just answered usually append again at once. Letting them run
        // first puts them in the next batch with those that queued meanwhile; without
        // it, a steady load splits into cohorts, each in a part-full batch.
        tokio::task::yield_now().await;
        let Some(batch) = gather(&mut rx).await else {
            break;
        };
        // Batches that finished meanwhile move the tip on.
        while committing.front().is_some_and(|c| c.task.is_finished()) {
            if let Some(c) = committing.pop_front() {
                settle(&mut tip, c).await;
            }
        }
        let reqs: Vec<AppendRequest> = batch.iter().map(|p| p.req.clone()).collect();
        let planned = if depth > 1 {
            // A batch in flight that no plan can follow (it was not planned ahead, or
            // not on the tip as it now stands) will be planned again when it is
            // written: this batch waits for it, rather than be planned on it in vain.
            if !follows(&tip, &committing) {
                while let Some(c) = committing.pop_front() {
                    settle(&mut tip, c).await;
                }
            }
            let planned = plan_ahead(sink.as_ref(), &mut tip, &reqs, &committing).await;
            if planned.is_none() {
                // Planned when written, on facts read then: after every batch in
                // flight, so that those facts are the log as this batch will find it.
                while let Some(c) = committing.pop_front() {
                    settle(&mut tip, c).await;
                }
            }
            planned
        } else {
            None
        };
        let in_flight = planned.as_ref().map(InFlight::of);
        let (done_tx, done) = watch::channel(false);
        let task = tokio::spawn(commit(
            sink.clone(),
            batch,
            reqs,
            planned,
            head_tx.clone(),
            counters.clone(),
            done_tx,
        ));
        committing.push_back(Committing {
            task,
            planned: in_flight,
            done,
        });
    }
    for c in committing {
        let _ = c.task.await;
    }
}

/// Whether a batch can be planned on the tip and then every batch in flight.
fn follows(tip: &Option<Tip>, committing: &VecDeque<Committing>) -> bool {
    let chain: Option<Vec<&InFlight>> = committing.iter().map(|c| c.planned.as_ref()).collect();
    match (tip, chain) {
        (_, None) => false,
        (None, Some(chain)) => chain.is_empty(),
        (Some(t), Some(chain)) => t.chains(&chain),
    }
}

/// Plans `batch` on the tip and the batches in flight, looking up the versions of
/// streams the tip does not know. `None` (plan it when writing, on facts read from the
/// database) if that fails, if it would write nothing (its answers must then come from
/// facts read after it arrived), or if it refuses an append: a plan made ahead knows no
/// stored event id or command key but those of batches in flight, and a refused append
/// may be a retry whose answer is the stored one. (An append it writes needs no such
/// care: a stored id or key fails the write on a unique index, and the batch is then
/// planned again on the facts.)
async fn plan_ahead<S: BatchSink>(
    sink: &S,
    tip: &mut Option<Tip>,
    batch: &[AppendRequest],
    committing: &VecDeque<Committing>,
) -> Option<Planned> {
    // Planned on the tip and a chain of the batches in flight; a batch in flight that
    // was not planned ahead breaks the chain, and so does an unknown tip.
    let chain: Vec<&InFlight> = committing
        .iter()
        .map(|c| c.planned.as_ref())
        .collect::<Option<Vec<_>>>()?;
    if tip.is_none() {
        if !chain.is_empty() {
            return None;
        }
        let (head, token) = sink.read_tip().await.ok()?;
        *tip = Some(Tip::new(head, token));
    }
    let t = tip.as_mut()?;
    if !t.chains(&chain) {
        return None;
    }
    t.make_room(batch.iter().map(|r| r.writes.len()).sum());
    let missing = t.missing(batch, &chain);
    if !missing.is_empty() {
        let versions = sink.stream_versions(&missing, t.head).await.ok()?;
        t.learn(versions);
    }
    let facts = t.facts(batch, &chain);
    let (planned_on, token_on) = (facts.head, facts.token);
    let plan = plan_batch(batch, facts);
    let refuses = plan
        .results
        .iter()
        .any(|r| matches!(r, Err(e) if !matches!(e, StoreError::InvalidAppend(_))));
    if refuses || (plan.events.is_empty() && plan.commands.is_empty()) {
        return None;
    }
    Some(Planned {
        plan,
        planned_on,
        token_on,
        token: Uuid::new_v4(),
        after: committing.back().and_then(|c| {
            let f = c.planned.as_ref()?;
            Some(After {
                token_on: f.token_on,
                done: c.done.clone(),
            })
        }),
    })
}

/// Waits for a batch's commit and moves the tip past it.
async fn settle(tip: &mut Option<Tip>, c: Committing) {
    match (c.task.await, c.planned) {
        (Ok(Ok(w)), Some(f)) if w.as_planned => match tip {
            Some(t) => t.advance(&f),
            None => *tip = Some(Tip::new(f.head, f.token)),
        },
        (
            Ok(Ok(Written {
                tip: Some((head, token)),
                ..
            })),
            _,
        ) => {
            if !tip
                .as_ref()
                .is_some_and(|t| t.head == head && t.token == token)
            {
                *tip = Some(Tip::new(head, token));
            }
        }
        _ => *tip = None,
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

/// Commits one batch and answers its appends; what it wrote, or `Err` if the batch
/// failed as a whole (its appends were then retried one by one).
async fn commit<S: BatchSink>(
    sink: Arc<S>,
    mut batch: Vec<Pending>,
    reqs: Vec<AppendRequest>,
    planned: Option<Planned>,
    head_tx: Arc<watch::Sender<u64>>,
    counters: Arc<Counters>,
    done: watch::Sender<bool>,
) -> Result<Written, ()> {
    let result = commit_batch(sink, &mut batch, reqs, planned, head_tx, counters).await;
    done.send_replace(true);
    result
}

async fn commit_batch<S: BatchSink>(
    sink: Arc<S>,
    batch: &mut Vec<Pending>,
    reqs: Vec<AppendRequest>,
    planned: Option<Planned>,
    head_tx: Arc<watch::Sender<u64>>,
    counters: Arc<Counters>,
) -> Result<Written, ()> {
    match sink.write_batch(&reqs, planned, Utc::now()).await {
        Ok(mut written) => {
            publish(&head_tx, &counters, &written.plan, reqs.len());
            let results = std::mem::take(&mut written.plan.results);
            for (p, r) in batch.drain(..).zip(results) {
                let _ = p.reply.send(r);
            }
            Ok(written)
        }
        Err(batch_err) if batch.len() == 1 => {
            let p = batch.pop().expect("one pending append");
            let _ = p.reply.send(Err(batch_err));
            Err(())
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
            Err(())
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

    fn planned(batch: &[AppendRequest], facts: Facts) -> Planned {
        let (planned_on, token_on) = (facts.head, facts.token);
        Planned {
            plan: plan_batch(batch, facts),
            planned_on,
            token_on,
            token: Uuid::new_v4(),
            after: None,
        }
    }

    #[test]
    fn a_batch_planned_ahead_continues_after_the_batch_in_flight() {
        let tip = Tip::new(0, Uuid::from_u128(7));
        let first = vec![
            AppendRequest::single("a", ExpectedVersion::Any, vec![ev(1), ev(2)]),
            AppendRequest::single("b", ExpectedVersion::NoStream, vec![ev(3)]),
        ];
        let first = InFlight::of(&planned(&first, tip.facts(&first, &[])));
        assert!(tip.chains(&[&first]));
        let second = vec![
            AppendRequest::single("a", ExpectedVersion::Exact(2), vec![ev(4)]),
            AppendRequest::single("b", ExpectedVersion::NoStream, vec![ev(5)]),
            AppendRequest::single("c", ExpectedVersion::Any, vec![ev(1)]),
        ];
        let facts = tip.facts(&second, &[&first]);
        assert_eq!((facts.head, facts.token), (3, first.token));
        let plan = plan_batch(&second, facts);
        assert_eq!(plan.results[0].as_ref().unwrap().positions, vec![vec![4]]);
        assert!(matches!(
            plan.results[1],
            Err(StoreError::VersionConflict { actual: 1, .. })
        ));
        // A retry of an event the batch in flight writes gets its position.
        assert_eq!(plan.results[2].as_ref().unwrap().positions, vec![vec![1]]);
        assert_eq!(plan.head, 4);
    }

    #[test]
    fn only_facts_at_the_point_a_batch_was_planned_on_take_its_writes() {
        let first = vec![AppendRequest::single(
            "a",
            ExpectedVersion::Any,
            vec![ev(1), ev(2)],
        )];
        let facts = Facts {
            head: 5,
            token: Uuid::from_u128(1),
            ..Facts::default()
        };
        let first = InFlight::of(&planned(&first, facts));
        // The same head written by another batch (another token): not counted.
        let mut other = Facts {
            head: 5,
            token: Uuid::from_u128(2),
            ..Facts::default()
        };
        assert!(!first.overlay(&mut other));
        assert!(other.versions.is_empty());
        // Facts read after it committed already hold its writes: nothing added twice.
        let mut after = Facts {
            head: 7,
            token: first.token,
            ..Facts::default()
        };
        after.versions.insert("a".into(), 2);
        assert!(!first.overlay(&mut after));
        assert_eq!(after.versions.get("a"), Some(&2));
        assert!(after.event_positions.is_empty());
    }

    #[test]
    fn the_tip_follows_batches_written_as_planned_and_forgets_on_anything_else() {
        let mut tip = Tip::new(10, Uuid::from_u128(1));
        tip.learn(HashMap::from([("a".to_string(), 4), ("b".to_string(), 0)]));
        let batch = vec![
            AppendRequest::single("a", ExpectedVersion::Exact(4), vec![ev(1)]),
            AppendRequest::single("c", ExpectedVersion::Any, vec![ev(2)]),
        ];
        // "c" is unknown: it is looked up; "a" is known.
        assert_eq!(tip.missing(&batch, &[]), vec!["c".to_string()]);
        tip.learn(HashMap::from([("c".to_string(), 9)]));
        let first = InFlight::of(&planned(&batch, tip.facts(&batch, &[])));
        assert_eq!(first.head, 12);
        // A second batch on "c" needs no lookup: the batch in flight writes it.
        let next = vec![AppendRequest::single(
            "c",
            ExpectedVersion::Exact(10),
            vec![ev(3)],
        )];
        assert!(tip.missing(&next, &[&first]).is_empty());
        let second = InFlight::of(&planned(&next, tip.facts(&next, &[&first])));
        assert!(tip.chains(&[&first, &second]));
        assert!(!tip.chains(&[&second]));
        tip.advance(&first);
        assert_eq!((tip.head, tip.token), (12, first.token));
        assert_eq!(tip.versions.get("a"), Some(&5));
        assert_eq!(tip.versions.get("c"), Some(&10));
        assert!(tip.chains(&[&second]));
        // A full tip forgets before it is asked what is missing, so a batch's known
        // streams are looked up again rather than planned at version 0.
        let mut full = Tip::new(12, first.token);
        full.learn((0..TIP_STREAMS).map(|i| (format!("s{i}"), 1)).collect());
        full.learn(HashMap::from([("a".to_string(), 5)]));
        full.make_room(2);
        assert_eq!(
            full.missing(&batch, &[]),
            vec!["a".to_string(), "c".to_string()]
        );
        // A batch that was not planned on this tip resets it: versions are forgotten.
        let mut stale = Tip::new(3, Uuid::from_u128(9));
        stale.learn(HashMap::from([("a".to_string(), 1)]));
        stale.advance(&second);
        assert_eq!((stale.head, stale.token), (second.head, second.token));
        assert!(stale.versions.is_empty());
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
