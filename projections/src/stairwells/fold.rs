//! The stairwells' rows in memory and how events change them: stairwells, rubrics,
//! inspections, issues, volunteers' homes and where each counted service was served;
//! and the replay of a volunteer's stream that finds an entry's place again for a
//! reversal, by the same rules.

use super::rules::{household_key, hundredths, inspected_items};
use crate::common::EntryMemo;
use crate::common::{local_date, map_bytes, month_key, month_no, Cached, FxMap, FxSet};
use crate::db::Tx;
use crate::error::Result;
use crate::projection::{Envelope, Names, State};
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::StreamKind;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Where a service counts for participation: the volunteer's home stairwell when the
/// service was logged, and the month it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedAt {
    pub stairwell: Uuid,
    pub month: String,
    pub volunteer: Uuid,
}

/// Where a counted service is: stairwell, month number, volunteer, household ("" none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Served {
    pub(super) stairwell: Uuid,
    pub(super) month: i32,
    pub(super) volunteer: Uuid,
    pub(super) household: String,
}

/// Where a registered volunteer lives: stairwell and household ("" none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Home {
    pub(super) stairwell: Uuid,
    pub(super) household: String,
}

/// An issue: stairwell, reported month, resolved month, deduction (hundredths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Issue {
    pub(super) stairwell: Uuid,
    pub(super) reported: String,
    pub(super) resolved: Option<String>,
    pub(super) deduction: i64,
}

/// The 文明楼道 rows in memory. A service's place is kept (and stored) from its logging
/// to its verification or rejection, which happens once; a verified service's place is
/// kept in memory only, for a reversal: when it is not in memory it is recomputed from
/// the volunteer's stream, which holds both the entry and its reversal.
pub(super) struct SwState {
    pub(super) fresh: bool,
    /// A registered volunteer's home.
    pub(super) vols: Cached<Uuid, Home>,
    pub(super) services: Cached<Uuid, Served>,
    pub(super) entries: EntryMemo<Served>,
    pub(super) issues: Cached<Uuid, Issue>,
    /// Rows replaced as they come (the last one wins).
    pub(super) stairwells: HashMap<Uuid, (Uuid, Uuid, String, String, i64)>,
    pub(super) rubrics: HashMap<(Uuid, i64), i64>,
    pub(super) inspections: FxMap<(Uuid, String), (i64, i64, i64)>,
    /// Served deltas: (stairwell, month, volunteer, household) → services.
    pub(super) served: FxMap<(Uuid, i32, Uuid, String), i64>,
}

/// Replays volunteer streams to find where `wanted` entries were counted (the same
/// rules as [`SwState::fold_events`]).
pub(super) fn find_entries(history: &[Envelope], wanted: &FxSet<Uuid>) -> FxMap<Uuid, Served> {
    let mut homes: FxMap<Uuid, Home> = FxMap::default();
    let mut services: FxMap<Uuid, Served> = FxMap::default();
    let mut found = FxMap::default();
    for ev in history {
        let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
            continue;
        };
        match &ev.event {
            Event::VolunteerRegistered {
                stairwell_id,
                household,
                ..
            } => {
                homes.insert(v, Home::new(stairwell_id.0, household.as_deref()));
            }
            Event::VolunteerMoved {
                stairwell_id,
                household,
                ..
            } => {
                if let Some(h) = homes.get_mut(&v) {
                    *h = Home::new(stairwell_id.0, household.as_deref());
                }
            }
            Event::VolunteerTransferred(t) => {
                homes.insert(v, Home::new(t.stairwell_id.0, t.household.as_deref()));
            }
            Event::ServiceLogged {
                service_id,
                started_at,
                ..
            } => {
                if let Some(h) = homes.get(&v) {
                    services.insert(service_id.0, h.served(v, *started_at));
                }
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                ..
            } => {
                if let Some(at) = services.remove(&service_id.0) {
                    if wanted.contains(&entry_id.0) {
                        found.insert(entry_id.0, at);
                    }
                }
            }
            Event::ServiceRejected { service_id, .. } => {
                services.remove(&service_id.0);
            }
            _ => {}
        }
    }
    found
}

impl Home {
    fn new(stairwell: Uuid, household: Option<&str>) -> Home {
        Home {
            stairwell,
            household: household_key(household),
        }
    }

    /// Where a service of `volunteer` logged now, started at `started_at`, counts.
    fn served(&self, volunteer: Uuid, started_at: chrono::DateTime<chrono::Utc>) -> Served {
        Served {
            stairwell: self.stairwell,
            month: month_no(local_date(started_at)),
            volunteer,
            household: self.household.clone(),
        }
    }
}

impl SwState {
    pub(super) fn new(fresh: bool) -> SwState {
        SwState {
            fresh,
            vols: Cached::default(),
            services: Cached::default(),
            entries: EntryMemo::new(fresh),
            issues: Cached::default(),
            stairwells: HashMap::new(),
            rubrics: HashMap::new(),
            inspections: FxMap::default(),
            served: FxMap::default(),
        }
    }

    fn fold_events(&mut self, events: &[Envelope]) {
        for ev in events {
            match &ev.event {
                Event::StairwellRegistered {
                    stairwell_id,
                    grid_id,
                    building,
                    unit,
                    households,
                } => {
                    self.stairwells.insert(
                        stairwell_id.0,
                        (
                            ev.stream_id,
                            grid_id.0,
                            building.clone(),
                            unit.clone(),
                            *households as i64,
                        ),
                    );
                }
                Event::RubricSet {
                    version,
                    participation_max,
                    ..
                } => {
                    self.rubrics.insert(
                        (ev.stream_id, *version as i64),
                        hundredths(*participation_max),
                    );
                }
                Event::StairwellInspected {
                    month,
                    scores,
                    rubric_version,
                    ..
                } => {
                    self.inspections.insert(
                        (ev.stream_id, month.clone()),
                        (
                            inspected_items(scores),
                            *rubric_version as i64,
                            ev.position as i64,
                        ),
                    );
                }
                Event::StairwellIssueReported {
                    issue_id,
                    deduction,
                    ..
                } => {
                    self.issues.insert(
                        issue_id.0,
                        Issue {
                            stairwell: ev.stream_id,
                            reported: month_key(local_date(ev.recorded_at)),
                            resolved: None,
                            deduction: hundredths(*deduction),
                        },
                    );
                }
                Event::StairwellIssueResolved { issue_id, .. } => {
                    if let Some(i) = self.issues.get_mut(&issue_id.0) {
                        i.resolved = Some(month_key(local_date(ev.recorded_at)));
                    }
                }
                e if ev.stream_kind == Some(StreamKind::Volunteer) => {
                    let v = ev.stream_id;
                    match e {
                        Event::VolunteerRegistered {
                            stairwell_id,
                            household,
                            ..
                        } => {
                            self.vols
                                .insert(v, Home::new(stairwell_id.0, household.as_deref()));
                        }
                        Event::VolunteerMoved {
                            stairwell_id,
                            household,
                            ..
                        } => {
                            if let Some(h) = self.vols.get_mut(&v) {
                                *h = Home::new(stairwell_id.0, household.as_deref());
                            }
                        }
                        Event::VolunteerTransferred(t) => {
                            let home = Home::new(t.stairwell_id.0, t.household.as_deref());
                            self.vols.insert(v, home);
                        }
                        Event::ServiceLogged {
                            service_id,
                            started_at,
                            ..
                        } => {
                            if let Some(h) = self.vols.get(&v) {
                                let at = h.served(v, *started_at);
                                self.services.insert(service_id.0, at);
                            }
                        }
                        Event::ServiceVerified {
                            service_id,
                            entry_id,
                            ..
                        } => {
                            // A service is verified (or rejected) once.
                            if let Some(at) = self.services.remove(&service_id.0) {
                                *self
                                    .served
                                    .entry((
                                        at.stairwell,
                                        at.month,
                                        at.volunteer,
                                        at.household.clone(),
                                    ))
                                    .or_default() += 1;
                                self.entries.remember(entry_id.0, at);
                            }
                        }
                        Event::ServiceRejected { service_id, .. } => {
                            self.services.remove(&service_id.0);
                        }
                        Event::EntryReversed { reverses, .. } => {
                            // An entry is reversed once.
                            if let Some(at) = self.entries.remove(&reverses.0) {
                                *self
                                    .served
                                    .entry((at.stairwell, at.month, at.volunteer, at.household))
                                    .or_default() -= 1;
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
}

impl State for SwState {
    fn load<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.load_rows(tx, names, events))
    }
    fn fold(&mut self, events: &[Envelope]) -> Result<()> {
        self.fold_events(events);
        Ok(())
    }
    fn flush<'a>(&'a mut self, tx: &'a mut Tx<'_>, names: &'a Names) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write(tx, names))
    }
    fn pending(&self) -> usize {
        map_bytes(&self.served, 16)
            + map_bytes(&self.inspections, 8)
            + map_bytes(&self.stairwells, 32)
            + map_bytes(&self.rubrics, 0)
    }
    fn held(&self) -> usize {
        self.vols.bytes(16) + self.services.bytes(16) + self.entries.bytes() + self.issues.bytes(16)
    }
    fn evict(&mut self) {
        self.vols.evict();
        self.services.evict();
        self.issues.evict();
        self.shed();
        self.fresh = false;
    }
    fn keep_entries(&mut self, reversed: Arc<FxSet<Uuid>>) {
        self.entries.keep_only(reversed);
    }
    fn shed(&mut self) {
        self.entries.forget();
    }
    fn needs_load(&self) -> bool {
        !self.fresh || !self.entries.is_whole()
    }
}
