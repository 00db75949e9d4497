//! The read side the API queries.
//!
//! Balances, statements, rankings and the wish board, like stairwell scores, the red
//! flag and the dashboard, come from the read models of the `projections` crate (one
//! indexed query each, never a fold of the log). Rankings follow the projections' rule:
//! an entry counts in the grid, teams and tags the volunteer had when it happened.
//!
//! Only a few things are read from the log itself, each in O(1) queries: a volunteer's
//! community (the first event of their stream), their profile (stairwell, grid, teams,
//! tags, departed: the few attribution events, batched by [`ProfileLoader`]), a
//! community's structure (grids, teams, star thresholds: cached per community and caught
//! up incrementally) and the audit log (`events`).
//!
//! Read-your-writes: a query with `atLeast: position` waits, bounded by [`READ_WAIT`],
//! until the read models have applied that position ([`projections::Projections::wait_for`]),
//! or fails with STALE_READ.
//!
//! [`ProfileLoader`]: crate::schema::types::ProfileLoader

use crate::cache::BalanceCache;
use crate::errors::{ApiError, ApiResult};
use ledger::domain::{Aggregate, CommunityState, VolunteerState};
use ledger::event::Event;
use ledger::ids::*;
use ledger::store::RecordedEvent;
use ledger::Store;
use projections::activities as acts;
use projections::balances::Balance;
use projections::common::Period;
use projections::rankings::{Metric, Ranking, Scope};
use projections::statement::{Order, StatementPage};
use projections::wishes::Wish;
use projections::ProjectionError;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// Longest wait of a read for `atLeast`.
pub const READ_WAIT: Duration = Duration::from_secs(5);

/// Events that place a volunteer (their profile).
const PROFILE_EVENTS: [&str; 9] = [
    "VolunteerRegistered",
    "VolunteerTransferred",
    "VolunteerMoved",
    "TeamJoined",
    "TeamLeft",
    "VolunteerDeparted",
    "VolunteerTagsSet",
    "RelativeLinked",
    "RelativeUnlinked",
];

/// Where a volunteer belongs today.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub stairwell_id: Option<StairwellId>,
    pub grid_id: Option<GridId>,
    pub tags: Vec<String>,
    pub teams: Vec<TeamId>,
    pub departed: bool,
    /// Linked relatives (家属) and what each is to the volunteer.
    pub relatives: Vec<(VolunteerId, String)>,
}

/// Community states by id, with the stream version they are folded to.
type Communities = HashMap<CommunityId, (u64, Arc<CommunityState>)>;

/// The read side.
#[derive(Clone)]
pub struct ReadSide {
    store: Store,
    projections: Option<projections::Projections>,
    /// Exact cache of balances (see [`crate::cache`]), when the read models run.
    balances: Option<Arc<BalanceCache>>,
    communities: Arc<Mutex<Communities>>,
}

impl From<ProjectionError> for ApiError {
    fn from(e: ProjectionError) -> Self {
        match e {
            ProjectionError::InvalidQuery(m) => ApiError::InvalidInput(m),
            ProjectionError::Stale { wanted, reached } => ApiError::StaleRead { wanted, reached },
            other => ApiError::Projection(other.to_string()),
        }
    }
}

impl ReadSide {
    /// The read side of `store`; with `projections`, a balance cache follows the log
    /// until `shutdown` (this must run inside a Tokio runtime then).
    pub fn new(
        store: Store,
        projections: Option<projections::Projections>,
        shutdown: watch::Receiver<bool>,
    ) -> ReadSide {
        // Not on a replica: a cached balance is tagged with the position this process's
        // read models had applied, which a replica's answer may be behind.
        let balances = projections
            .as_ref()
            .filter(|p| !p.reads_from_replica())
            .map(|_| BalanceCache::start(store.clone(), shutdown));
        ReadSide {
            store,
            projections,
            balances,
            communities: Arc::default(),
        }
    }

    /// The log position every read reflects (the slowest read model's, when they run).
    pub async fn position(&self) -> ApiResult<u64> {
        match &self.projections {
            Some(p) => Ok(p.read_position().await),
            None => Ok(self.store.head().await?),
        }
    }

    /// The read models, or READ_MODEL_ERROR when they do not run in this process (for
    /// their positions: they may not be built yet).
    pub fn running(&self) -> ApiResult<&projections::Projections> {
        self.projections.as_ref().ok_or_else(|| {
            ApiError::Projection("the read models are not running in this server".into())
        })
    }

    /// The read models to query: waits, bounded by [`READ_WAIT`], while their tables are
    /// first built (after a start on a new database, or a new version of a read model,
    /// here or in the process leading it), then READ_MODEL_NOT_READY. Immediate once
    /// they are built.
    pub async fn projections(&self) -> ApiResult<&projections::Projections> {
        let p = self.running()?;
        p.wait_built(READ_WAIT).await.map_err(ApiError::NotReady)?;
        Ok(p)
    }

    pub(crate) async fn db(&self) -> ApiResult<&projections::Db> {
        Ok(self.projections().await?.db())
    }

    /// Read-your-writes: waits until the read models reflect `position`, or STALE_READ.
    pub async fn wait_for(&self, position: u64) -> ApiResult<()> {
        match &self.projections {
            Some(p) => p
                .wait_for(position, READ_WAIT)
                .await
                .map_err(|s| ApiError::StaleRead {
                    wanted: s.wanted,
                    reached: s.reached,
                }),
            None => self.wait_for_log(position).await,
        }
    }

    /// Waits until one read model reflects `position` (`false` when it did not in time).
    pub async fn wait_for_projection(&self, name: &str, position: u64) -> bool {
        match &self.projections {
            Some(p) => p
                .wait_for_projection(name, position, READ_WAIT)
                .await
                .is_ok(),
            None => true,
        }
    }

    /// Waits until the log itself has reached `position` (reads of the log), or STALE_READ.
    pub async fn wait_for_log(&self, position: u64) -> ApiResult<()> {
        let mut head = self.store.watch_head();
        let deadline = tokio::time::Instant::now() + READ_WAIT;
        loop {
            let seen = *head.borrow_and_update();
            let reached = seen.max(self.store.head().await?);
            if reached >= position {
                return Ok(());
            }
            if !matches!(
                tokio::time::timeout_at(deadline, head.changed()).await,
                Ok(Ok(()))
            ) {
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

    /// A community's state (grids, stairwells, teams, rules), cached and caught up with
    /// the log on every call (one query for the events after the cached version).
    pub async fn community(&self, id: CommunityId) -> ApiResult<Option<Arc<CommunityState>>> {
        let cached = self
            .communities
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned();
        let (mut version, state) = cached.unwrap_or_default();
        let recorded = self
            .store
            .read_stream(&community_stream(id), version)
            .await?;
        let state = if recorded.is_empty() {
            state
        } else {
            let mut s = (*state).clone();
            for r in &recorded {
                s.evolve(&Event::decode(r).map_err(|e| ApiError::Internal(e.to_string()))?);
                version = r.stream_version;
            }
            let s = Arc::new(s);
            let mut map = self.communities.lock().unwrap_or_else(|e| e.into_inner());
            match map.get(&id) {
                Some((v, _)) if *v >= version => {}
                _ => {
                    map.insert(id, (version, s.clone()));
                }
            }
            s
        };
        Ok(state.exists().then_some(state))
    }

    /// The community a registered volunteer belongs to (the first event of their
    /// stream: one indexed row, current as soon as the registration is acknowledged).
    pub async fn volunteer_community(&self, id: VolunteerId) -> ApiResult<Option<CommunityId>> {
        crate::auth::volunteer_community(&self.store, id.0).await
    }

    /// Profiles of volunteers, from their attribution events (one query for all).
    pub async fn profiles(&self, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, Profile>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let streams: Vec<String> = ids
            .iter()
            .map(|v| volunteer_stream(VolunteerId(*v)))
            .collect();
        let types = PROFILE_EVENTS.map(String::from).to_vec();
        let mut rows: Vec<(String, String, u32, serde_json::Value)> = Vec::new();
        if let Some(pool) = self.store.sqlite_pool() {
            let marks = vec!["?"; streams.len()].join(",");
            let type_marks = vec!["?"; types.len()].join(",");
            let sql = format!(
                "SELECT stream_id, event_type, schema_version, payload FROM events \
                 WHERE stream_id IN ({marks}) AND event_type IN ({type_marks}) ORDER BY position"
            );
            let mut q = sqlx::query(&sql);
            for s in streams.iter().chain(types.iter()) {
                q = q.bind(s);
            }
            for r in q.fetch_all(pool).await? {
                let payload: String = r.try_get(3)?;
                rows.push((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get::<i64, _>(2)? as u32,
                    serde_json::from_str(&payload)
                        .map_err(|e| ApiError::Internal(e.to_string()))?,
                ));
            }
        } else if let Some(pool) = self.store.postgres_pool() {
            for r in sqlx::query(
                "SELECT stream_id, event_type, schema_version, payload FROM events \
                 WHERE stream_id = ANY($1) AND event_type = ANY($2) ORDER BY position",
            )
            .bind(&streams)
            .bind(&types)
            .fetch_all(pool)
            .await?
            {
                rows.push((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get::<i32, _>(2)? as u32,
                    r.try_get(3)?,
                ));
            }
        }
        let mut states: HashMap<Uuid, VolunteerState> = HashMap::new();
        for (stream, ty, version, payload) in rows {
            let Some((StreamKind::Volunteer, id)) = parse_stream(&stream) else {
                continue;
            };
            let e = Event::decode_parts(&ty, version, payload).map_err(ApiError::Internal)?;
            states.entry(id).or_default().evolve(&e);
        }
        for (id, s) in states {
            if s.exists() {
                out.insert(
                    id,
                    Profile {
                        stairwell_id: s.stairwell_id,
                        grid_id: s.grid_id,
                        tags: s.tags,
                        teams: s.teams.into_iter().collect(),
                        departed: s.departed,
                        relatives: s.relatives.into_iter().collect(),
                    },
                );
            }
        }
        Ok(out)
    }

    /// A volunteer's balances (read model `balances`, through the exact cache).
    pub async fn balance(&self, id: VolunteerId) -> ApiResult<Option<Arc<Balance>>> {
        let p = self.projections().await?;
        if let Some(b) = self.balances.as_ref().and_then(|c| c.get(id, p)) {
            return Ok(Some(b));
        }
        let tag = BalanceCache::tag(p);
        let found = projections::balances::balance(p.db(), id)
            .await?
            .map(Arc::new);
        if let (Some(c), Some(b)) = (&self.balances, &found) {
            c.put(b.clone(), tag);
        }
        Ok(found)
    }

    /// Balances of a community's volunteers by volunteer number, `limit` after `after`.
    pub async fn community_balances(
        &self,
        community: CommunityId,
        after_number: Option<&str>,
        limit: u32,
    ) -> ApiResult<Vec<Arc<Balance>>> {
        let p = self.projections().await?;
        let tag = BalanceCache::tag(p);
        let found: Vec<Arc<Balance>> =
            projections::balances::balances_of_community(p.db(), community, after_number, limit)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect();
        if let Some(c) = &self.balances {
            for b in &found {
                c.put(b.clone(), tag);
            }
        }
        Ok(found)
    }

    /// A page of a volunteer's statement after the cursor (`seq`), oldest first; or,
    /// `newest_first`, before it.
    pub async fn statement(
        &self,
        id: VolunteerId,
        after: Option<u64>,
        limit: u32,
        newest_first: bool,
    ) -> ApiResult<StatementPage> {
        let order = if newest_first {
            Order::NewestFirst
        } else {
            Order::OldestFirst
        };
        Ok(projections::statement::statement(self.db().await?, id, after, limit, order).await?)
    }

    /// The top `top` of a ranking and `me`'s own place.
    pub async fn ranking(
        &self,
        scope: &Scope,
        period: Period,
        metric: Metric,
        top: u32,
        me: Option<VolunteerId>,
    ) -> ApiResult<Ranking> {
        Ok(
            projections::rankings::ranking(self.db().await?, scope, period, metric, top, me)
                .await?,
        )
    }

    /// A community's stairwell scores (文明楼道) of `month`, ranked.
    pub async fn monthly_scores(
        &self,
        community: CommunityId,
        month: &str,
    ) -> ApiResult<Vec<projections::stairwells::StairwellScore>> {
        Ok(projections::stairwells::monthly_scores(self.db().await?, community, month).await?)
    }

    pub async fn activity(&self, id: ActivityId) -> ApiResult<Option<acts::Activity>> {
        Ok(acts::activity(self.db().await?, id).await?)
    }

    /// A community's activities starting in `[from, to)`, of one status if given.
    pub async fn activities(
        &self,
        community: CommunityId,
        from: Option<chrono::DateTime<chrono::Utc>>,
        to: Option<chrono::DateTime<chrono::Utc>>,
        status: Option<&str>,
        limit: u32,
    ) -> ApiResult<Vec<acts::Activity>> {
        Ok(acts::activities(self.db().await?, community, from, to, status, limit).await?)
    }

    pub async fn roster(&self, id: ActivityId) -> ApiResult<Vec<acts::Participant>> {
        Ok(acts::roster(self.db().await?, id).await?)
    }

    pub async fn participant(
        &self,
        id: ActivityId,
        volunteer: VolunteerId,
    ) -> ApiResult<Option<acts::Participant>> {
        Ok(acts::participant(self.db().await?, id, volunteer).await?)
    }

    pub async fn activity_objections(
        &self,
        id: ActivityId,
    ) -> ApiResult<Vec<acts::ActivityObjection>> {
        Ok(acts::objections(self.db().await?, id).await?)
    }

    /// A volunteer's hours and points in their 公示 notice.
    pub async fn pending_records(
        &self,
        volunteer: VolunteerId,
    ) -> ApiResult<(rust_decimal::Decimal, rust_decimal::Decimal)> {
        Ok(acts::pending_of(self.db().await?, volunteer).await?)
    }

    pub async fn wish(&self, id: WishId) -> ApiResult<Option<Wish>> {
        Ok(projections::wishes::wish(self.db().await?, id).await?)
    }

    /// A community's wishes, newest first, posted at or before `at_or_before`.
    pub async fn wishes(
        &self,
        community: CommunityId,
        status: Option<&str>,
        at_or_before: Option<chrono::DateTime<chrono::Utc>>,
        limit: u32,
    ) -> ApiResult<Vec<Wish>> {
        // The read model's cursor is exclusive; one millisecond later includes the
        // cursor's own millisecond (the caller skips what it has already shown).
        let before = at_or_before.map(|t| t + chrono::Duration::milliseconds(1));
        Ok(projections::wishes::wishes(self.db().await?, community, status, before, limit).await?)
    }

    /// Events after `after`, at most `limit`.
    pub async fn events(&self, after: u64, limit: u32) -> ApiResult<Vec<RecordedEvent>> {
        Ok(self.store.read_all(after, limit).await?)
    }

    /// Every community, by name (the first event of each community stream).
    pub async fn communities(&self) -> ApiResult<Vec<(CommunityId, String)>> {
        let sql = "SELECT stream_id, event_type, schema_version, payload FROM events \
                   WHERE stream_id >= 'community-' AND stream_id < 'community.' AND stream_version = 1";
        let mut rows: Vec<(String, String, u32, serde_json::Value)> = Vec::new();
        if let Some(pool) = self.store.sqlite_pool() {
            for r in sqlx::query(sql).fetch_all(pool).await? {
                let payload: String = r.try_get(3)?;
                rows.push((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get::<i64, _>(2)? as u32,
                    serde_json::from_str(&payload)
                        .map_err(|e| ApiError::Internal(e.to_string()))?,
                ));
            }
        } else if let Some(pool) = self.store.postgres_pool() {
            for r in sqlx::query(sql).fetch_all(pool).await? {
                rows.push((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get::<i32, _>(2)? as u32,
                    r.try_get(3)?,
                ));
            }
        }
        let mut out = Vec::new();
        for (_, ty, version, payload) in rows {
            if let Ok(Event::CommunityEstablished { community_id, name }) =
                Event::decode_parts(&ty, version, payload)
            {
                out.push((community_id, name));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0 .0.cmp(&b.0 .0)));
        Ok(out)
    }

    /// The stairwells of a community inspected in `month`.
    pub async fn inspected_in(
        &self,
        community: CommunityId,
        month: &str,
    ) -> ApiResult<Vec<StairwellId>> {
        Ok(projections::stairwells::inspected_in(self.db().await?, community, month).await?)
    }

    /// A community's wishes per status.
    pub async fn wish_counts(&self, community: CommunityId) -> ApiResult<Vec<(String, u64)>> {
        Ok(projections::wishes::wish_counts(self.db().await?, community).await?)
    }

    /// Open issues per stairwell of a community (those with any).
    pub async fn open_issue_counts(
        &self,
        community: CommunityId,
    ) -> ApiResult<Vec<(StairwellId, u64)>> {
        Ok(projections::stairwells::open_issue_counts(self.db().await?, community).await?)
    }

    /// A community's balances by points or verified hours, `limit` after `offset`.
    pub async fn community_balances_by(
        &self,
        community: CommunityId,
        order: projections::balances::BalanceOrder,
        offset: u64,
        limit: u32,
    ) -> ApiResult<Vec<Arc<Balance>>> {
        let db = self.db().await?;
        let found =
            projections::balances::balances_of_community_by(db, community, order, offset, limit)
                .await?;
        Ok(found.into_iter().map(Arc::new).collect())
    }

    /// What a community's accounts add up to.
    pub async fn community_totals(
        &self,
        community: CommunityId,
    ) -> ApiResult<projections::balances::CommunityTotals> {
        Ok(projections::balances::community_totals(self.db().await?, community).await?)
    }

    /// A volunteer's messages before `before`, newest first.
    pub async fn inbox(
        &self,
        volunteer: VolunteerId,
        before: Option<u64>,
        limit: u32,
    ) -> ApiResult<Vec<projections::inbox::Message>> {
        Ok(projections::inbox::messages(self.db().await?, volunteer, before, limit).await?)
    }

    /// How many of a volunteer's messages came after `seen`, and the newest's position.
    pub async fn inbox_counts(&self, volunteer: VolunteerId, seen: u64) -> ApiResult<(u64, u64)> {
        let db = self.db().await?;
        Ok((
            projections::inbox::unread(db, volunteer, seen).await?,
            projections::inbox::newest(db, volunteer).await?,
        ))
    }

    /// A community's latest awards: points awarded and services credited.
    pub async fn recent_awards(
        &self,
        community: CommunityId,
        limit: u32,
    ) -> ApiResult<Vec<projections::inbox::Message>> {
        use projections::inbox::Kind;
        let kinds = [Kind::PointsAwarded, Kind::ServiceCredited];
        Ok(projections::inbox::recent(self.db().await?, community, &kinds, limit).await?)
    }

    pub async fn person(&self, id: Uuid) -> ApiResult<Option<ledger::store::Person>> {
        Ok(self.store.get_person(id).await?)
    }
}
