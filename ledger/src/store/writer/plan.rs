//! The check of a batch: a pure function over what the database holds (head, stream
//! versions, stored event ids, stored command keys) that decides each append in order,
//! as if they ran one after another, and plans the rows to insert.

use crate::store::types::*;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

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
