//! The rankings' rows in memory and how events change them: volunteers with their
//! attribution and scopes, services awaiting verification, the entries a reversal may
//! take back, and cell deltas; and the replay of a volunteer's stream that finds a
//! reversed entry's place by the same rules.

use super::cells::PeriodCells;
use super::keys::small;
use super::scopes_of;
use super::NAME;
use crate::common::EntryMemo;
use crate::common::{local_date, Attribution, Cached, FxMap, FxSet};
use crate::db::Tx;
use crate::error::{ProjectionError, Result};
use crate::projection::{Envelope, Names, State};
use chrono::NaiveDate;
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::StreamKind;
use std::sync::Arc;
use uuid::Uuid;

/// Ids of the scopes of one attribution, shared by the entries counted under it.
pub(super) type Scopes = Arc<[i64]>;

/// A volunteer as the rankings know them.
#[derive(Debug, Clone)]
pub(super) struct Vol {
    pub(super) vol: i64,
    pub(super) attribution: Attribution,
    pub(super) scopes: Scopes,
}

/// Where an entry counts: the volunteer, the day (its periods) and the scopes.
#[derive(Debug, Clone)]
pub(super) struct Snap {
    pub(super) vol: i64,
    pub(super) day: NaiveDate,
    pub(super) scopes: Scopes,
}

/// The rankings' rows in memory.
///
/// A service's snapshot is kept (and stored) from its logging to its verification or
/// rejection, which happens once. An entry's snapshot is kept in memory only, for a
/// reversal: when it is not in memory (a later batch, or after an eviction), it is
/// recomputed from the volunteer's stream, which holds both the entry and its reversal.
pub(super) struct RankState {
    /// Nothing is stored that is not in memory (a rebuild before any eviction).
    pub(super) fresh: bool,
    pub(super) vols: Cached<Uuid, Vol>,
    pub(super) services: Cached<Uuid, Snap>,
    pub(super) entries: EntryMemo<Snap>,
    /// The key dictionary (periods and scopes), never evicted.
    pub(super) keys: Cached<String, i64>,
    /// Next key id and volunteer number, once known.
    pub(super) next: Option<(i64, i64)>,
    /// Cell deltas by period id.
    pub(super) cells: FxMap<u32, PeriodCells>,
    /// Period ids of a day.
    pub(super) days: FxMap<NaiveDate, [u32; 4]>,
    /// Volunteers who moved to another community (转移接续) since the last write: they
    /// may have cells in two communities of one street (see `across`).
    pub(super) movers: FxSet<i64>,
}

fn snap_of(v: &Vol, day: NaiveDate) -> Snap {
    Snap {
        vol: v.vol,
        day,
        scopes: v.scopes.clone(),
    }
}

/// An entry's snapshot as found in its volunteer's history: the day and the scope keys.
pub(super) struct Found {
    pub(super) vol: Uuid,
    pub(super) day: NaiveDate,
    pub(super) scopes: Vec<String>,
}

/// Replays volunteer streams to find where `wanted` entries were counted (the same
/// rules as [`RankState::fold_events`]).
pub(super) fn find_entries(history: &[Envelope], wanted: &FxSet<Uuid>) -> FxMap<Uuid, Found> {
    let mut attributions: FxMap<Uuid, Attribution> = FxMap::default();
    let mut services: FxMap<Uuid, (NaiveDate, Vec<String>)> = FxMap::default();
    let mut found = FxMap::default();
    for ev in history {
        let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
            continue;
        };
        match &ev.event {
            e if Attribution::is_attribution_event(e) => {
                let mut a = attributions.remove(&v);
                Attribution::evolve(&mut a, e);
                if let Some(a) = a {
                    attributions.insert(v, a);
                }
            }
            Event::ServiceLogged {
                service_id,
                started_at,
                ..
            } => {
                if let Some(a) = attributions.get(&v) {
                    services.insert(service_id.0, (local_date(*started_at), scopes_of(a)));
                }
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                ..
            } => {
                let snap = services.remove(&service_id.0).or_else(|| {
                    attributions
                        .get(&v)
                        .map(|a| (local_date(ev.recorded_at), scopes_of(a)))
                });
                if let (Some((day, scopes)), true) = (snap, wanted.contains(&entry_id.0)) {
                    found.insert(
                        entry_id.0,
                        Found {
                            vol: v,
                            day,
                            scopes,
                        },
                    );
                }
            }
            Event::ServiceRejected { service_id, .. } => {
                services.remove(&service_id.0);
            }
            Event::PointsAwarded { entry_id, .. } => {
                if let (Some(a), true) = (attributions.get(&v), wanted.contains(&entry_id.0)) {
                    found.insert(
                        entry_id.0,
                        Found {
                            vol: v,
                            day: local_date(ev.recorded_at),
                            scopes: scopes_of(a),
                        },
                    );
                }
            }
            _ => {}
        }
    }
    found
}

impl RankState {
    pub(super) fn new(fresh: bool) -> RankState {
        RankState {
            fresh,
            vols: Cached::default(),
            services: Cached::default(),
            entries: EntryMemo::new(fresh),
            keys: Cached::default(),
            next: if fresh { Some((1, 1)) } else { None },
            cells: FxMap::default(),
            days: FxMap::default(),
            movers: FxSet::default(),
        }
    }

    fn count(&mut self, snap: &Snap, points: i64, minutes: i64) -> Result<()> {
        let vol = small(snap.vol)? as u64;
        for p in self.periods(snap.day)? {
            let cells = self.cells.entry(p).or_default();
            for s in snap.scopes.iter() {
                cells.add((small(*s)? as u64) << 32 | vol, points, minutes);
            }
        }
        Ok(())
    }

    fn fold_events(&mut self, events: &[Envelope]) -> Result<()> {
        for ev in events {
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            match &ev.event {
                e if Attribution::is_attribution_event(e) => {
                    let mut a = self.vols.get(&v).map(|x| x.attribution.clone());
                    Attribution::evolve(&mut a, e);
                    let Some(a) = a else { continue };
                    let scopes = self.scope_ids(scopes_of(&a))?;
                    match self.vols.get_mut(&v) {
                        Some(x) => {
                            if matches!(e, Event::VolunteerTransferred(_)) {
                                self.movers.insert(x.vol);
                            }
                            x.attribution = a;
                            if *x.scopes != *scopes {
                                x.scopes = scopes;
                            }
                        }
                        None => {
                            let next = self
                                .next
                                .as_mut()
                                .ok_or_else(|| ProjectionError::corrupt(NAME, "ids not loaded"))?;
                            let vol = next.1;
                            next.1 += 1;
                            self.vols.insert(
                                v,
                                Vol {
                                    vol,
                                    attribution: a,
                                    scopes,
                                },
                            );
                        }
                    }
                }
                Event::ServiceLogged {
                    service_id,
                    started_at,
                    ..
                } => {
                    if let Some(x) = self.vols.get(&v) {
                        let snap = snap_of(x, local_date(*started_at));
                        self.services.insert(service_id.0, snap);
                    }
                }
                Event::ServiceVerified {
                    service_id,
                    entry_id,
                    hours,
                    points,
                    ..
                } => {
                    // A service is verified (or rejected) once: its snapshot is done with.
                    let snap = match self.services.remove(&service_id.0) {
                        Some(s) => Some(s),
                        None => self
                            .vols
                            .get(&v)
                            .map(|x| snap_of(x, local_date(ev.recorded_at))),
                    };
                    if let Some(snap) = snap {
                        self.count(&snap, points.hundredths(), hours.minutes())?;
                        self.entries.remember(entry_id.0, snap);
                    }
                }
                Event::ServiceRejected { service_id, .. } => {
                    self.services.remove(&service_id.0);
                }
                Event::PointsAwarded {
                    entry_id, points, ..
                } => {
                    if let Some(x) = self.vols.get(&v) {
                        let snap = snap_of(x, local_date(ev.recorded_at));
                        self.count(&snap, points.hundredths(), 0)?;
                        self.entries.remember(entry_id.0, snap);
                    }
                }
                Event::EntryReversed {
                    reverses,
                    points,
                    hours,
                    ..
                } => {
                    // An entry is reversed once.
                    if let Some(c) = self.entries.remove(&reverses.0) {
                        self.count(&c, -points.hundredths(), -hours.minutes())?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl State for RankState {
    fn load<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.load_rows(tx, names, events))
    }
    fn fold(&mut self, events: &[Envelope]) -> Result<()> {
        self.fold_events(events)
    }
    fn flush<'a>(&'a mut self, tx: &'a mut Tx<'_>, names: &'a Names) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write(tx, names))
    }
    fn pending(&self) -> usize {
        self.cells.values().map(PeriodCells::bytes).sum()
    }
    fn flush_at(&self) -> usize {
        // Cells written more than once cost an upsert each time: keep them long.
        64 << 20
    }
    fn held(&self) -> usize {
        // A volunteer's attribution owns a number, tags, a set of teams and scope ids.
        self.vols.bytes(300) + self.services.bytes(48) + self.entries.bytes() + self.keys.bytes(48)
    }
    fn evict(&mut self) {
        self.vols.evict();
        self.services.evict();
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
