//! The writer task: one per store, it takes every append waiting in its queue as one
//! batch, has the backend commit it in one transaction (several at once when the backend
//! pipelines), answers each append on its own, and retries the appends of a batch that
//! failed as a whole one by one.

use super::pipeline::{follows, plan_ahead, settle, Committing, InFlight, Planned, Tip};
use super::plan::Plan;
use super::{BatchSink, Written};
use crate::store::types::*;
use chrono::Utc;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Most appends one transaction takes; bounded so one batch cannot grow without limit.
const MAX_BATCH_APPENDS: usize = 1024;
const MAX_BATCH_EVENTS: usize = 8192;
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
