//! Pipelining, for a backend that can (PostgreSQL): a batch is planned in memory on the
//! log's [`Tip`] and the batches still in flight ([`InFlight::overlay`]) and sent while
//! they commit; the tip moves on as each of them commits as planned, and is forgotten on
//! anything else.

use super::plan::{plan_batch, Facts, Plan};
use super::{BatchSink, Written};
use crate::store::types::*;
use std::collections::{HashMap, VecDeque};
use tokio::sync::watch;
use uuid::Uuid;

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
    pub(super) fn of(planned: &Planned) -> InFlight {
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

/// A batch being committed: the task committing it, and what it writes if it commits
/// as planned ahead.
pub(super) struct Committing {
    pub(super) task: tokio::task::JoinHandle<Result<Written, ()>>,
    pub(super) planned: Option<InFlight>,
    /// Turns `true` (or closes) once the task is done.
    pub(super) done: watch::Receiver<bool>,
}

/// Whether a batch can be planned on the tip and then every batch in flight.
pub(super) fn follows(tip: &Option<Tip>, committing: &VecDeque<Committing>) -> bool {
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
pub(super) async fn plan_ahead<S: BatchSink>(
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
pub(super) async fn settle(tip: &mut Option<Tip>, c: Committing) {
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
}
