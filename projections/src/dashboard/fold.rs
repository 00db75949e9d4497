//! The dashboard's rows in memory and how events change them: volunteers (community,
//! departed), services awaiting verification, wishes' buckets, the entries a reversal may
//! take back, and the deltas of the counts; and the replay of a volunteer's stream that
//! finds a reversed entry's place by the same rules.

use super::wish_bucket;
use crate::common::EntryMemo;
use crate::common::{local_date, map_bytes, month_no, Attribution, Cached, FxMap, FxSet};
use crate::db::Tx;
use crate::error::Result;
use crate::projection::{Envelope, Names, State};
use futures::future::BoxFuture;
use ledger::event::{Event, ServiceKind};
use ledger::ids::StreamKind;
use std::sync::Arc;
use uuid::Uuid;

/// Where an entry was counted, compactly: community, month number, kind, volunteer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct At {
    pub(super) community: Uuid,
    pub(super) month: i32,
    pub(super) kind: Option<ServiceKind>,
    pub(super) volunteer: Uuid,
}

#[derive(Default)]
pub(super) struct Deltas {
    pub(super) communities: FxMap<Uuid, [i64; 3]>,
    pub(super) months: FxMap<(Uuid, i32), [i64; 3]>,
    pub(super) kinds: FxMap<(Uuid, i32, ServiceKind), [i64; 2]>,
    pub(super) served: FxMap<(Uuid, i32, Uuid), i64>,
}

impl Deltas {
    fn entry(&mut self, at: &At, points: i64, minutes: i64, sign: i64) {
        let m = self.months.entry((at.community, at.month)).or_default();
        m[0] += points;
        m[1] += minutes;
        if let Some(kind) = at.kind {
            m[2] += sign;
            let k = self
                .kinds
                .entry((at.community, at.month, kind))
                .or_default();
            k[0] += sign;
            k[1] += minutes;
            *self
                .served
                .entry((at.community, at.month, at.volunteer))
                .or_default() += sign;
        }
    }
}

/// A registered volunteer: community and whether departed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DVol {
    pub(super) community: Uuid,
    pub(super) departed: bool,
}

/// Dashboard bucket of a wish: 0 open, 1 in progress, 2 closed.
pub(super) fn bucket_no(b: &str) -> u8 {
    match b {
        "open" => 0,
        "in_progress" => 1,
        _ => 2,
    }
}

pub(super) fn bucket_text(b: u8) -> &'static str {
    match b {
        0 => "open",
        1 => "in_progress",
        _ => "closed",
    }
}

/// The dashboard's rows in memory. A service's place is kept (and stored) from its
/// logging to its verification or rejection, which happens once; an entry's place is
/// kept in memory only, for a reversal: when it is not in memory it is recomputed from
/// the volunteer's stream, which holds both the entry and its reversal.
pub(super) struct DashState {
    pub(super) fresh: bool,
    pub(super) vols: Cached<Uuid, DVol>,
    pub(super) services: Cached<Uuid, At>,
    pub(super) entries: EntryMemo<At>,
    pub(super) wishes: Cached<Uuid, (Uuid, u8)>,
    pub(super) d: Deltas,
}

/// Replays volunteer streams to find where `wanted` entries were counted (the same
/// rules as [`DashState::fold_events`]).
pub(super) fn find_entries(history: &[Envelope], wanted: &FxSet<Uuid>) -> FxMap<Uuid, At> {
    let mut communities: FxMap<Uuid, Uuid> = FxMap::default();
    let mut services: FxMap<Uuid, At> = FxMap::default();
    let mut found = FxMap::default();
    for ev in history {
        let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
            continue;
        };
        match &ev.event {
            Event::VolunteerRegistered { community_id, .. } => {
                communities.insert(v, community_id.0);
            }
            Event::VolunteerTransferred(t) => {
                communities.insert(v, t.community_id.0);
            }
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                ..
            } => {
                if let Some(c) = communities.get(&v) {
                    let at = At {
                        community: *c,
                        month: month_no(local_date(*started_at)),
                        kind: Some(*kind),
                        volunteer: v,
                    };
                    services.insert(service_id.0, at);
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
            Event::PointsAwarded { entry_id, .. } => {
                if let (Some(c), true) = (communities.get(&v), wanted.contains(&entry_id.0)) {
                    let at = At {
                        community: *c,
                        month: month_no(local_date(ev.recorded_at)),
                        kind: None,
                        volunteer: v,
                    };
                    found.insert(entry_id.0, at);
                }
            }
            _ => {}
        }
    }
    found
}

impl DashState {
    pub(super) fn new(fresh: bool) -> DashState {
        DashState {
            fresh,
            vols: Cached::default(),
            services: Cached::default(),
            entries: EntryMemo::new(fresh),
            wishes: Cached::default(),
            d: Deltas::default(),
        }
    }

    fn fold_events(&mut self, events: &[Envelope]) {
        let d = &mut self.d;
        for ev in events {
            let key = ev.stream_id;
            match (ev.stream_kind, &ev.event) {
                (Some(StreamKind::Volunteer), e) if Attribution::is_attribution_event(e) => {
                    let was = self.vols.get(&key).copied();
                    let now = match (e, was) {
                        (Event::VolunteerRegistered { community_id, .. }, _) => Some(DVol {
                            community: community_id.0,
                            departed: false,
                        }),
                        (Event::VolunteerTransferred(t), Some(w)) => Some(DVol {
                            community: t.community_id.0,
                            ..w
                        }),
                        (Event::VolunteerDeparted { .. }, Some(w)) => Some(DVol {
                            departed: true,
                            ..w
                        }),
                        (_, w) => w,
                    };
                    if let Some(now) = now {
                        if let Some(w) = was {
                            if !w.departed {
                                d.communities.entry(w.community).or_default()[0] -= 1;
                            }
                        }
                        if !now.departed {
                            d.communities.entry(now.community).or_default()[0] += 1;
                        }
                        self.vols.insert(key, now);
                    }
                }
                (
                    Some(StreamKind::Volunteer),
                    Event::ServiceLogged {
                        service_id,
                        kind,
                        started_at,
                        ..
                    },
                ) => {
                    if let Some(a) = self.vols.get(&key) {
                        let at = At {
                            community: a.community,
                            month: month_no(local_date(*started_at)),
                            kind: Some(*kind),
                            volunteer: key,
                        };
                        self.services.insert(service_id.0, at);
                    }
                }
                (
                    Some(StreamKind::Volunteer),
                    Event::ServiceVerified {
                        service_id,
                        entry_id,
                        hours,
                        points,
                        ..
                    },
                ) => {
                    // A service is verified (or rejected) once.
                    if let Some(at) = self.services.remove(&service_id.0) {
                        d.entry(&at, points.hundredths(), hours.minutes(), 1);
                        self.entries.remember(entry_id.0, at);
                    }
                }
                (Some(StreamKind::Volunteer), Event::ServiceRejected { service_id, .. }) => {
                    self.services.remove(&service_id.0);
                }
                (
                    Some(StreamKind::Volunteer),
                    Event::PointsAwarded {
                        entry_id, points, ..
                    },
                ) => {
                    if let Some(a) = self.vols.get(&key) {
                        let at = At {
                            community: a.community,
                            month: month_no(local_date(ev.recorded_at)),
                            kind: None,
                            volunteer: key,
                        };
                        d.entry(&at, points.hundredths(), 0, 1);
                        self.entries.remember(entry_id.0, at);
                    }
                }
                (
                    Some(StreamKind::Volunteer),
                    Event::EntryReversed {
                        reverses,
                        points,
                        hours,
                        ..
                    },
                ) => {
                    // An entry is reversed once.
                    if let Some(at) = self.entries.remove(&reverses.0) {
                        d.entry(&at, -points.hundredths(), -hours.minutes(), -1);
                    }
                }
                (Some(StreamKind::Wish), e) => {
                    let Some(bucket) = wish_bucket(e) else {
                        continue;
                    };
                    let before = self.wishes.get(&key).copied();
                    let community = match (e, before) {
                        (Event::WishPosted { community_id, .. }, _) => community_id.0,
                        (_, Some((c, _))) => c,
                        (_, None) => continue,
                    };
                    let c = d.communities.entry(community).or_default();
                    if let Some((_, b)) = before {
                        if b < 2 {
                            c[b as usize + 1] -= 1;
                        }
                    }
                    let b = bucket_no(bucket);
                    if b < 2 {
                        c[b as usize + 1] += 1;
                    }
                    self.wishes.insert(key, (community, b));
                }
                _ => {}
            }
        }
    }
}

impl State for DashState {
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
        map_bytes(&self.d.communities, 0)
            + map_bytes(&self.d.months, 0)
            + map_bytes(&self.d.kinds, 0)
            + map_bytes(&self.d.served, 0)
    }
    fn held(&self) -> usize {
        self.vols.bytes(0) + self.services.bytes(0) + self.entries.bytes() + self.wishes.bytes(0)
    }
    fn evict(&mut self) {
        self.vols.evict();
        self.services.evict();
        self.wishes.evict();
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
