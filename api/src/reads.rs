//! The read side the API queries.
//!
//! Accounts, statements, rankings and the wish board are answered by folding the
//! relevant streams of the log (always exact, and current as soon as a command is
//! acknowledged). Stairwell scores, the red flag and the dashboard come from the
//! read models of the `projections` crate, when they run in this process.
//! Read-your-writes: a query with `atLeast: position` waits, bounded by
//! [`READ_WAIT`], until what it reads has reached that position, or fails with
//! STALE_READ.

use crate::errors::{ApiError, ApiResult};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::domain::{local_date, Aggregate, CommunityState, VolunteerState, WishState};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::store::RecordedEvent;
use ledger::Store;
use std::time::Duration;
use uuid::Uuid;

/// Longest wait of a read for `atLeast`.
pub const READ_WAIT: Duration = Duration::from_secs(5);

/// The read side.
#[derive(Clone)]
pub struct ReadSide {
    store: Store,
    projections: Option<projections::Projections>,
}

/// One balance-changing entry of a statement.
#[derive(Debug, Clone)]
pub struct StatementLine {
    pub position: u64,
    pub entry_id: EntryId,
    pub kind: &'static str,
    pub points_delta: Points,
    pub hours_delta: Hours,
    pub points_balance: Points,
    pub hours_balance: Hours,
    pub description: String,
    pub reverses: Option<EntryId>,
    pub counterpart: Option<VolunteerId>,
    pub recorded_at: DateTime<Utc>,
}

/// A volunteer's account as folded from their stream.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: VolunteerId,
    pub state: VolunteerState,
    pub position: u64,
}

/// A period of a ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    All,
    Year(i32),
    Quarter(i32, u32),
    Month(i32, u32),
}

impl Window {
    pub fn contains(self, d: NaiveDate) -> bool {
        match self {
            Window::All => true,
            Window::Year(y) => d.year() == y,
            Window::Quarter(y, q) => d.year() == y && (d.month() - 1) / 3 + 1 == q,
            Window::Month(y, m) => d.year() == y && d.month() == m,
        }
    }
}

/// Totals of one volunteer within a window.
#[derive(Debug, Clone)]
pub struct Totals {
    pub volunteer: VolunteerId,
    pub points: Points,
    pub hours: Hours,
}

impl ReadSide {
    pub fn new(store: Store, projections: Option<projections::Projections>) -> ReadSide {
        ReadSide { store, projections }
    }

    /// The log position every read reflects (the slowest read model's, when they run).
    pub async fn position(&self) -> ApiResult<u64> {
        match &self.projections {
            Some(p) => Ok(p.min_position()),
            None => Ok(self.store.head().await?),
        }
    }

    /// The read models, or READ_MODEL_ERROR when they do not run in this process.
    pub fn projections(&self) -> ApiResult<&projections::Projections> {
        self.projections.as_ref().ok_or_else(|| {
            ApiError::Projection("the read models are not running in this server".into())
        })
    }

    /// Waits until the read models reflect `position`, or STALE_READ.
    pub async fn wait_projected(&self, position: u64) -> ApiResult<()> {
        self.projections()?
            .wait_for(position, READ_WAIT)
            .await
            .map_err(|s| ApiError::StaleRead {
                wanted: s.wanted,
                reached: s.reached,
            })
    }

    /// Waits until reads reflect `position`, or STALE_READ.
    pub async fn wait_for(&self, position: u64) -> ApiResult<()> {
        let mut head = self.store.watch_head();
        let deadline = tokio::time::Instant::now() + READ_WAIT;
        loop {
            let reached = self.store.head().await?.max(*head.borrow_and_update());
            if reached >= position {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, head.changed()).await {
                Ok(Ok(())) => continue,
                _ => {
                    let reached = self.store.head().await?;
                    if reached >= position {
                        return Ok(());
                    }
                    return Err(ApiError::StaleRead {
                        wanted: position,
                        reached,
                    });
                }
            }
        }
    }

    async fn stream(&self, stream: &str) -> ApiResult<Vec<(RecordedEvent, Event)>> {
        let recorded = self.store.read_stream(stream, 0).await?;
        let mut out = Vec::with_capacity(recorded.len());
        for r in recorded {
            let e = Event::decode(&r).map_err(|e| ApiError::Internal(e.to_string()))?;
            out.push((r, e));
        }
        Ok(out)
    }

    async fn fold<S: Aggregate>(&self, stream: &str) -> ApiResult<(S, u64)> {
        let events = self.stream(stream).await?;
        let mut s = S::default();
        let mut last = 0;
        for (r, e) in &events {
            s.evolve(e);
            last = r.position;
        }
        Ok((s, last))
    }

    pub async fn community(&self, id: CommunityId) -> ApiResult<Option<CommunityState>> {
        let (s, _): (CommunityState, _) = self.fold(&community_stream(id)).await?;
        Ok(s.exists().then_some(s))
    }

    pub async fn account(&self, id: VolunteerId) -> ApiResult<Option<Account>> {
        let (state, position): (VolunteerState, _) = self.fold(&volunteer_stream(id)).await?;
        Ok(state.exists().then_some(Account {
            id,
            state,
            position,
        }))
    }

    pub async fn wish(
        &self,
        id: WishId,
    ) -> ApiResult<Option<(WishState, Vec<(RecordedEvent, Event)>)>> {
        let events = self.stream(&wish_stream(id)).await?;
        let state = WishState::from_events(events.iter().map(|(_, e)| e));
        Ok(state.wish_id.is_some().then_some((state, events)))
    }

    /// Volunteers enrolled in a community, in enrolment order.
    pub async fn community_volunteers(&self, id: CommunityId) -> ApiResult<Vec<VolunteerId>> {
        let events = self.stream(&community_stream(id)).await?;
        Ok(events
            .into_iter()
            .filter_map(|(_, e)| match e {
                Event::VolunteerEnrolled { volunteer_id, .. } => Some(volunteer_id),
                _ => None,
            })
            .collect())
    }

    /// Wishes posted in a community, in posting order.
    pub async fn community_wishes(&self, id: CommunityId) -> ApiResult<Vec<WishId>> {
        let streams: Vec<String> = if let Some(pool) = self.store.sqlite_pool() {
            sqlx::query_scalar(
                "SELECT stream_id FROM events WHERE community_id = ? AND event_type = 'WishPosted' ORDER BY position",
            )
            .bind(id.0.to_string())
            .fetch_all(pool)
            .await?
        } else if let Some(pool) = self.store.postgres_pool() {
            sqlx::query_scalar(
                "SELECT stream_id FROM events WHERE community_id = $1 AND event_type = 'WishPosted' ORDER BY position",
            )
            .bind(id.0)
            .fetch_all(pool)
            .await?
        } else {
            vec![]
        };
        Ok(streams
            .iter()
            .filter_map(|s| parse_stream(s))
            .map(|(_, id)| WishId(id))
            .collect())
    }

    /// Every balance-changing entry of a volunteer with running balances.
    pub async fn statement(&self, id: VolunteerId) -> ApiResult<Vec<StatementLine>> {
        let events = self.stream(&volunteer_stream(id)).await?;
        let mut points = Points::ZERO;
        let mut hours = Hours::ZERO;
        let mut out = Vec::new();
        for (r, e) in events {
            let (entry_id, kind, dp, dh, description, reverses, counterpart) = match e {
                Event::ServiceVerified {
                    entry_id,
                    points,
                    hours,
                    service_id,
                    ..
                } => (
                    entry_id,
                    "SERVICE_VERIFIED",
                    points,
                    hours,
                    format!("service {service_id}"),
                    None,
                    None,
                ),
                Event::PointsAwarded {
                    entry_id,
                    points,
                    reason,
                    ..
                } => (
                    entry_id,
                    "POINTS_AWARDED",
                    points,
                    Hours::ZERO,
                    reason,
                    None,
                    None,
                ),
                Event::PointsRedeemed {
                    entry_id,
                    points,
                    item,
                    ..
                } => (
                    entry_id,
                    "POINTS_REDEEMED",
                    -points,
                    Hours::ZERO,
                    item,
                    None,
                    None,
                ),
                Event::EntryReversed {
                    entry_id,
                    reverses,
                    points,
                    hours,
                    reason,
                    ..
                } => (
                    entry_id,
                    "REVERSAL",
                    -points,
                    -hours,
                    reason,
                    Some(reverses),
                    None,
                ),
                Event::HoursGifted {
                    entry_id,
                    to,
                    hours,
                } => (
                    entry_id,
                    "HOURS_GIFTED",
                    Points::ZERO,
                    -hours,
                    String::new(),
                    None,
                    Some(to),
                ),
                Event::HoursReceived {
                    entry_id,
                    from,
                    hours,
                } => (
                    entry_id,
                    "HOURS_RECEIVED",
                    Points::ZERO,
                    hours,
                    String::new(),
                    None,
                    Some(from),
                ),
                Event::HoursSpent {
                    entry_id,
                    hours,
                    description,
                } => (
                    entry_id,
                    "HOURS_SPENT",
                    Points::ZERO,
                    -hours,
                    description,
                    None,
                    None,
                ),
                _ => continue,
            };
            points = points.saturating_add(dp);
            hours = hours.saturating_add(dh);
            out.push(StatementLine {
                position: r.position,
                entry_id,
                kind,
                points_delta: dp,
                hours_delta: dh,
                points_balance: points,
                hours_balance: hours,
                description,
                reverses,
                counterpart,
                recorded_at: r.recorded_at,
            });
        }
        Ok(out)
    }

    /// Points and hours earned within `window` (by the local date the entry was
    /// recorded; reversals count against the window they are recorded in).
    pub async fn totals(&self, id: VolunteerId, window: Window) -> ApiResult<Totals> {
        let mut points = Points::ZERO;
        let mut hours = Hours::ZERO;
        for line in self.statement(id).await? {
            if !window.contains(local_date(line.recorded_at)) {
                continue;
            }
            match line.kind {
                "SERVICE_VERIFIED" | "POINTS_AWARDED" | "REVERSAL" => {
                    points = points.saturating_add(line.points_delta);
                    hours = hours.saturating_add(line.hours_delta);
                }
                _ => {}
            }
        }
        Ok(Totals {
            volunteer: id,
            points,
            hours,
        })
    }

    /// Verified services per kind of a volunteer (for the dashboard).
    pub async fn verified_services(
        &self,
        id: VolunteerId,
    ) -> ApiResult<Vec<(ServiceKind, DateTime<Utc>, Hours)>> {
        let (state, _): (VolunteerState, _) = self.fold(&volunteer_stream(id)).await?;
        Ok(state
            .services
            .values()
            .filter(|s| {
                matches!(
                    s.status,
                    ledger::domain::volunteer::ServiceStatus::Verified { .. }
                )
            })
            .map(|s| (s.kind, s.started_at, s.hours))
            .collect())
    }

    /// Events after `after`, at most `limit`, optionally of one community.
    pub async fn events(&self, after: u64, limit: u32) -> ApiResult<Vec<RecordedEvent>> {
        Ok(self.store.read_all(after, limit).await?)
    }

    pub async fn person(&self, id: Uuid) -> ApiResult<Option<ledger::store::Person>> {
        Ok(self.store.get_person(id).await?)
    }
}
