//! The command handler: idempotency, loading states, deciding, and the atomic append.
//!
//! Flow of [`CommandHandler::execute`]:
//! 1. take the in-process locks of the streams the command writes (so commands on one
//!    stream queue up instead of retrying against each other);
//! 2. load the states it needs (a fold of [`Event::decode`] over the stream, cached per
//!    stream as `(version, state)` and caught up with the log on load; the first
//!    decision takes the streams it writes from the cache without a read, as the
//!    append checks their versions: see `Reads`);
//! 3. authorize and decide (pure);
//! 4. append all writes in one atomic request, each with the version it was decided
//!    on, together with the command record. An idempotency key is the caller's own:
//!    it is stored (and its event ids derived) scoped to the actor's principal, so two
//!    callers never share a key, and nobody replays someone else's command to read its
//!    result. The store checks the idempotency key in
//!    the same transaction: if a command with that key is stored, nothing is written
//!    and its result comes back (`replayed = true`), or `IDEMPOTENCY_MISMATCH` if it
//!    was a different command. So a retry costs no extra read in the common case; only
//!    a refused decision, or one that would write personal data, looks the key up
//!    first. Event ids are UUID v5 of the idempotency key and the event's index, so a
//!    retry is deduplicated by the store too;
//! 5. on a version conflict (another writer, e.g. another process, got there first)
//!    reload and decide again, up to [`MAX_CONFLICT_RETRIES`] times with a small
//!    jittered backoff.

use super::{authorize, Actor, Command};
use crate::domain::{self, *};
use crate::event::{DecodeError, Event};
use crate::ids::*;
use crate::store::{
    AppendRequest, CommandRecord, ExpectedVersion, Metadata, Person, Store, StoreError, StreamWrite,
};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

/// Attempts of one command against version conflicts before `VERSION_CONFLICT`.
pub const MAX_CONFLICT_RETRIES: u32 = 50;
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 200;
/// Streams kept in the state cache before it is cleared.
const CACHE_LIMIT: usize = 200_000;

/// The time, injectable for tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> FixedClock {
        FixedClock(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    /// Log position of the command's last event.
    pub position: u64,
    /// Ids created, entry id, new balances… (stored with the command and returned on a
    /// retry).
    pub result: Value,
    /// True when this is the stored result of an earlier execution with the same key.
    pub replayed: bool,
    /// Events written by this execution (0 when replayed).
    pub events: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("cannot encode an event: {0}")]
    Encode(#[from] serde_json::Error),
}

impl CommandError {
    /// A stable code: the domain code, or `STORE_ERROR` / `CORRUPT_EVENT` / `INTERNAL`.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Domain(e) => e.code(),
            CommandError::Store(StoreError::VersionConflict { .. }) => "VERSION_CONFLICT",
            CommandError::Store(_) => "STORE_ERROR",
            CommandError::Decode(_) => "CORRUPT_EVENT",
            CommandError::Encode(_) => "INTERNAL",
        }
    }

    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            CommandError::Domain(e) => Some(e),
            _ => None,
        }
    }
}

/// The key a command record is stored under: the caller's idempotency key within the
/// actor's principal (a volunteer's id, or a token's id for staff, admin and displays).
fn scoped_key(actor: &Actor, idempotency_key: &str) -> String {
    format!("{}/{idempotency_key}", actor.principal.simple())
}

/// `(version, state)` per stream.
struct StreamCache<S> {
    map: Mutex<HashMap<String, (u64, Arc<S>)>>,
}

impl<S> Default for StreamCache<S> {
    fn default() -> Self {
        StreamCache {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<S> StreamCache<S> {
    fn get(&self, stream: &str) -> Option<(u64, Arc<S>)> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(stream).map(|(v, s)| (*v, s.clone()))
    }

    fn put(&self, stream: &str, version: u64, state: Arc<S>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_LIMIT && !map.contains_key(stream) {
            map.clear();
        }
        match map.get(stream) {
            Some((v, _)) if *v >= version => {}
            _ => {
                map.insert(stream.to_string(), (version, state));
            }
        }
    }
}

#[derive(Default)]
struct Caches {
    community: StreamCache<CommunityState>,
    volunteer: StreamCache<VolunteerState>,
    wish: StreamCache<WishState>,
    stairwell: StreamCache<StairwellState>,
}

/// An aggregate with a cache in the handler.
trait Cached: Aggregate {
    fn cache(c: &Caches) -> &StreamCache<Self>;
    fn wrap(s: Arc<Self>) -> PostState;
}

macro_rules! cached {
    ($t:ty, $field:ident, $variant:ident) => {
        impl Cached for $t {
            fn cache(c: &Caches) -> &StreamCache<Self> {
                &c.$field
            }
            fn wrap(s: Arc<Self>) -> PostState {
                PostState::$variant(s)
            }
        }
    };
}
cached!(CommunityState, community, Community);
cached!(VolunteerState, volunteer, Volunteer);
cached!(WishState, wish, Wish);
cached!(StairwellState, stairwell, Stairwell);

/// The state of a written stream after the write, to refresh the cache.
enum PostState {
    Community(Arc<CommunityState>),
    Volunteer(Arc<VolunteerState>),
    Wish(Arc<WishState>),
    Stairwell(Arc<StairwellState>),
}

/// A loaded stream.
struct Loaded<S> {
    stream: String,
    version: u64,
    state: Arc<S>,
}

impl<S: Cached> Loaded<S> {
    /// The write of `events` to this stream, decided on its loaded version.
    fn write(&self, events: Vec<Event>, community: Option<CommunityId>) -> (Write, Arc<S>) {
        let mut post = (*self.state).clone();
        for e in &events {
            post.evolve(e);
        }
        let post = Arc::new(post);
        (
            Write {
                stream: self.stream.clone(),
                expected: self.version,
                community,
                events,
                post: S::wrap(post.clone()),
            },
            post,
        )
    }
}

struct Write {
    stream: String,
    expected: u64,
    community: Option<CommunityId>,
    events: Vec<Event>,
    post: PostState,
}

struct Plan {
    writes: Vec<Write>,
    result: Value,
    person: Option<Person>,
}

impl Plan {
    fn new(writes: Vec<Write>, result: Value) -> Plan {
        Plan {
            writes,
            result,
            person: None,
        }
    }
}

/// In-process per-stream locks.
#[derive(Default)]
struct StreamLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

struct StreamGuards<'a> {
    guards: Vec<OwnedMutexGuard<()>>,
    keys: Vec<String>,
    locks: &'a StreamLocks,
}

impl Drop for StreamGuards<'_> {
    fn drop(&mut self) {
        self.guards.clear();
        let mut map = self.locks.map.lock().unwrap_or_else(|e| e.into_inner());
        for k in &self.keys {
            if map.get(k).is_some_and(|m| Arc::strong_count(m) == 1) {
                map.remove(k);
            }
        }
    }
}

impl StreamLocks {
    async fn lock(&self, mut keys: Vec<String>) -> StreamGuards<'_> {
        keys.sort();
        keys.dedup();
        let mut guards = Vec::with_capacity(keys.len());
        for k in &keys {
            let m = {
                let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
                map.entry(k.clone()).or_default().clone()
            };
            guards.push(m.lock_owned().await);
        }
        StreamGuards {
            guards,
            keys,
            locks: self,
        }
    }
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    caches: Caches,
    locks: StreamLocks,
    /// Read from the store on first use.
    household_key: tokio::sync::OnceCell<domain::volunteer::HouseholdKey>,
}

/// Executes commands against a [`Store`]. Cheap to clone (shared state).
#[derive(Clone)]
pub struct CommandHandler {
    inner: Arc<Inner>,
}

impl CommandHandler {
    pub fn new(store: Store) -> CommandHandler {
        CommandHandler::with_clock(store, Arc::new(SystemClock))
    }

    pub fn with_clock(store: Store, clock: Arc<dyn Clock>) -> CommandHandler {
        CommandHandler {
            inner: Arc::new(Inner {
                store,
                clock,
                caches: Caches::default(),
                locks: StreamLocks::default(),
                household_key: tokio::sync::OnceCell::new(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The key of household pseudonyms (the deployment key `household`).
    async fn household_key(&self) -> Result<&domain::volunteer::HouseholdKey, StoreError> {
        self.inner
            .household_key
            .get_or_try_init(|| async {
                let secret = self.inner.store.deployment_key("household").await?;
                Ok(domain::volunteer::HouseholdKey::new(&secret))
            })
            .await
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The ids a command of `actor` with this idempotency key creates (see
    /// [`IdSource`]).
    pub fn ids_for(actor: &Actor, idempotency_key: &str) -> IdSource {
        IdSource::from_key(&scoped_key(actor, idempotency_key))
    }

    /// Runs a command: see the module documentation.
    pub async fn execute(
        &self,
        actor: &Actor,
        idempotency_key: &str,
        command: Command,
    ) -> Result<CommandOutcome, CommandError> {
        let outcome = self.run(actor, idempotency_key, &command).await;
        match (&command, &outcome) {
            // The erasure is done on every success, a retry's too: it is what the
            // command is for, and a first attempt may have stopped after its append.
            (Command::ErasePersonalData(c), Ok(_)) => {
                self.inner.store.erase_person(c.volunteer_id.0).await?;
            }
            // A registration that did not go through may have stored its personal
            // data (written before the append): it must not stay behind.
            (Command::RegisterVolunteer(_), Err(_)) => {
                let ids = IdSource::from_key(&scoped_key(actor, idempotency_key));
                let id = VolunteerId(ids.id("volunteer"));
                let store = &self.inner.store;
                if store.stream_version(&volunteer_stream(id)).await? == 0 {
                    store.erase_person(id.0).await?;
                }
            }
            _ => {}
        }
        outcome
    }

    async fn run(
        &self,
        actor: &Actor,
        idempotency_key: &str,
        command: &Command,
    ) -> Result<CommandOutcome, CommandError> {
        if idempotency_key.trim().is_empty() {
            return Err(DomainError::Required {
                field: "idempotency_key",
            }
            .into());
        }
        text("idempotency_key", idempotency_key, MAX_IDEMPOTENCY_KEY)?;
        let client_key = idempotency_key;
        let scoped = scoped_key(actor, client_key);
        let idempotency_key = scoped.as_str();
        let fingerprint =
            command.fingerprint(idempotency_key, self.household_key().await?.pepper());
        let written = lock_keys(command);
        let _guards = self.inner.locks.lock(written.clone()).await;
        let ids = IdSource::from_key(idempotency_key);
        let mut last_conflict: String;
        let mut attempt = 0;
        // The first decision may use cached states of the streams the command writes
        // without reading the log (see `Reads`); after a conflict, every state is read.
        let mut fresh = false;
        loop {
            let ctx = Ctx::new(self.inner.clock.now(), actor, ids);
            let reads = Reads::new(if fresh { &[] } else { &written });
            let planned = self.plan(command, &ctx, &reads).await;
            let cached = reads.served();
            let plan = match planned {
                Ok(plan) if appends_check(&plan, &cached) => plan,
                // A retry of a command that went through may no longer be decidable (a
                // redemption that spent the balance it checks): its stored result wins.
                Err(refusal) if cached.is_empty() => {
                    return match self.replay(idempotency_key, &fingerprint).await? {
                        Some(outcome) => Ok(outcome),
                        None => Err(refusal),
                    }
                }
                // Refused on a cached state that may be stale, or decided on one the
                // append will not check: decide again on states read from the log.
                _ => {
                    fresh = true;
                    continue;
                }
            };
            if let Some(person) = &plan.person {
                // Personal data is written before the append: a retry must not write it
                // again (the person may have been erased since).
                if let Some(outcome) = self.replay(idempotency_key, &fingerprint).await? {
                    return Ok(outcome);
                }
                self.inner.store.put_person(person).await?;
            }
            let metadata = Metadata {
                actor: Some(actor.principal),
                role: Some(actor.role.as_str().to_string()),
                // The command (its scoped idempotency key) caused every event it writes,
                // and begins the conversation they belong to.
                correlation_id: Some(ids.seed()),
                causation_id: Some(ids.seed()),
                idempotency_key: Some(client_key.to_string()),
            };
            let mut index = 0usize;
            let mut writes = Vec::with_capacity(plan.writes.len());
            for w in &plan.writes {
                let mut events = Vec::with_capacity(w.events.len());
                for e in &w.events {
                    let id = Uuid::new_v5(&ids.seed(), format!("event-{index}").as_bytes());
                    index += 1;
                    events.push(e.to_new_event(id, metadata.clone(), w.community)?);
                }
                writes.push(StreamWrite {
                    stream_id: w.stream.clone(),
                    expected: if w.expected == 0 {
                        ExpectedVersion::NoStream
                    } else {
                        ExpectedVersion::Exact(w.expected)
                    },
                    events,
                });
            }
            let request = AppendRequest {
                writes,
                command: Some((
                    idempotency_key.to_string(),
                    fingerprint.clone(),
                    plan.result.clone(),
                )),
            };
            match self.inner.store.append_request(request).await {
                Ok(out) => {
                    if let Some(record) = out.duplicate_of {
                        return compare(idempotency_key, &fingerprint, record);
                    }
                    for w in plan.writes {
                        self.refresh_cache(&w);
                    }
                    return Ok(CommandOutcome {
                        position: out.last_position,
                        result: plan.result,
                        replayed: false,
                        events: index,
                    });
                }
                Err(StoreError::VersionConflict { stream, .. }) => {
                    last_conflict = stream;
                }
                Err(e) => return Err(e.into()),
            }
            attempt += 1;
            if attempt >= MAX_CONFLICT_RETRIES {
                return Err(DomainError::VersionConflict {
                    stream: last_conflict,
                    attempts: MAX_CONFLICT_RETRIES,
                }
                .into());
            }
            fresh = true;
            if let Some(outcome) = self.replay(idempotency_key, &fingerprint).await? {
                return Ok(outcome);
            }
            backoff(attempt).await;
        }
    }

    /// The stored record of `actor`'s command with this idempotency key, if any.
    pub async fn command_record(
        &self,
        actor: &Actor,
        idempotency_key: &str,
    ) -> Result<Option<CommandRecord>, CommandError> {
        Ok(self
            .inner
            .store
            .command_record(&scoped_key(actor, idempotency_key))
            .await?)
    }

    async fn replay(
        &self,
        key: &str,
        fingerprint: &Value,
    ) -> Result<Option<CommandOutcome>, CommandError> {
        match self.inner.store.command_record(key).await? {
            Some(record) => compare(key, fingerprint, record).map(Some),
            None => Ok(None),
        }
    }

    fn refresh_cache(&self, w: &Write) {
        let version = w.expected + w.events.len() as u64;
        let c = &self.inner.caches;
        match &w.post {
            PostState::Community(s) => c.community.put(&w.stream, version, s.clone()),
            PostState::Volunteer(s) => c.volunteer.put(&w.stream, version, s.clone()),
            PostState::Wish(s) => c.wish.put(&w.stream, version, s.clone()),
            PostState::Stairwell(s) => c.stairwell.put(&w.stream, version, s.clone()),
        }
    }

    /// The current state of a stream (cached, caught up with the log).
    async fn load<S: Cached>(
        &self,
        reads: &Reads<'_>,
        stream: String,
    ) -> Result<Loaded<S>, CommandError> {
        let cache = S::cache(&self.inner.caches);
        let (mut version, state) = cache
            .get(&stream)
            .unwrap_or_else(|| (0, Arc::new(S::default())));
        if version > 0 && reads.trusts(&stream) {
            reads.serve(&stream, version);
            return Ok(Loaded {
                stream,
                version,
                state,
            });
        }
        let recorded = self.inner.store.read_stream(&stream, version).await?;
        if recorded.is_empty() {
            return Ok(Loaded {
                stream,
                version,
                state,
            });
        }
        let mut s = (*state).clone();
        for r in &recorded {
            s.evolve(&Event::decode(r)?);
            version = r.stream_version;
        }
        let state = Arc::new(s);
        cache.put(&stream, version, state.clone());
        Ok(Loaded {
            stream,
            version,
            state,
        })
    }

    async fn community(
        &self,
        reads: &Reads<'_>,
        id: CommunityId,
    ) -> Result<Loaded<CommunityState>, CommandError> {
        self.load(reads, community_stream(id)).await
    }

    async fn volunteer(
        &self,
        reads: &Reads<'_>,
        id: VolunteerId,
    ) -> Result<Loaded<VolunteerState>, CommandError> {
        self.load(reads, volunteer_stream(id)).await
    }

    async fn wish(&self, reads: &Reads<'_>, id: WishId) -> Result<Loaded<WishState>, CommandError> {
        self.load(reads, wish_stream(id)).await
    }

    /// A registered volunteer and the community it belongs to, after authorization.
    async fn volunteer_in_community(
        &self,
        reads: &Reads<'_>,
        id: VolunteerId,
        command: &Command,
        ctx: &Ctx<'_>,
    ) -> Result<(Loaded<VolunteerState>, CommunityId), CommandError> {
        let v = self.volunteer(reads, id).await?;
        let community_id = v.state.require(id)?;
        authorize(ctx.actor, command, Some(community_id))?;
        Ok((v, community_id))
    }

    async fn plan(
        &self,
        command: &Command,
        ctx: &Ctx<'_>,
        reads: &Reads<'_>,
    ) -> Result<Plan, CommandError> {
        use Command as C;
        let ids = ctx.ids;
        let actor = ctx.actor;
        if let Some(c) = command.community_id() {
            authorize(actor, command, Some(c))?;
        }
        let plan = match command {
            C::EstablishCommunity(c) => {
                authorize(actor, command, None)?;
                let id = CommunityId(ids.id("community"));
                let l = self.community(reads, id).await?;
                let events = domain::community::establish(&l.state, c, id)?;
                Plan::new(
                    vec![l.write(events, Some(id)).0],
                    json!({ "community_id": id }),
                )
            }
            C::AddGrid(c) => {
                let l = self.community(reads, c.community_id).await?;
                let id = GridId(ids.id("grid"));
                let events = domain::community::add_grid(&l.state, c, id)?;
                Plan::new(
                    vec![l.write(events, Some(c.community_id)).0],
                    json!({ "grid_id": id }),
                )
            }
            C::RegisterStairwell(c) => {
                let l = self.community(reads, c.community_id).await?;
                let id = StairwellId(ids.id("stairwell"));
                let events = domain::community::register_stairwell(&l.state, c, id)?;
                Plan::new(
                    vec![l.write(events, Some(c.community_id)).0],
                    json!({ "stairwell_id": id }),
                )
            }
            C::FormTeam(c) => {
                let l = self.community(reads, c.community_id).await?;
                let id = TeamId(ids.id("team"));
                let events = domain::community::form_team(&l.state, c, id)?;
                Plan::new(
                    vec![l.write(events, Some(c.community_id)).0],
                    json!({ "team_id": id }),
                )
            }
            C::SetPointRules(c) => {
                let l = self.community(reads, c.community_id).await?;
                let events = domain::community::set_point_rules(&l.state, c)?;
                let version = l.state.point_rules.len() + 1;
                Plan::new(
                    vec![l.write(events, Some(c.community_id)).0],
                    json!({ "version": version }),
                )
            }
            C::SetStarThresholds(c) => {
                let l = self.community(reads, c.community_id).await?;
                let events = domain::community::set_star_thresholds(&l.state, c)?;
                let version = l.state.star_thresholds.len() + 1;
                Plan::new(
                    vec![l.write(events, Some(c.community_id)).0],
                    json!({ "version": version }),
                )
            }
            C::SetRubric(c) => {
                let l = self.community(reads, c.community_id).await?;
                let events = domain::community::set_rubric(&l.state, c)?;
                let version = l.state.rubrics.len() + 1;
                Plan::new(
                    vec![l.write(events, Some(c.community_id)).0],
                    json!({ "version": version }),
                )
            }
            C::RegisterVolunteer(c) => {
                let comm = self.community(reads, c.community_id).await?;
                let id = VolunteerId(ids.id("volunteer"));
                let v = self.volunteer(reads, id).await?;
                let key = self.household_key().await?;
                let (ce, ve) = domain::volunteer::register(&comm.state, &v.state, c, id, key)?;
                let number = comm.state.next_volunteer_number();
                let mut plan = Plan::new(
                    vec![
                        comm.write(ce, Some(c.community_id)).0,
                        v.write(ve, Some(c.community_id)).0,
                    ],
                    json!({ "volunteer_id": id, "volunteer_number": number }),
                );
                plan.person = Some(Person {
                    volunteer_id: id.0,
                    name: c.name.trim().to_string(),
                    phone: c.phone.clone().filter(|p| !p.trim().is_empty()),
                    id_number: c.id_number.clone().filter(|p| !p.trim().is_empty()),
                });
                plan
            }
            C::MoveVolunteer(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let comm = self.community(reads, cid).await?;
                let key = self.household_key().await?;
                let events = domain::volunteer::move_volunteer(&comm.state, &v.state, c, key)?;
                Plan::new(
                    vec![v.write(events, Some(cid)).0],
                    json!({ "volunteer_id": c.volunteer_id }),
                )
            }
            C::JoinTeam(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let comm = self.community(reads, cid).await?;
                let events = domain::volunteer::join_team(&comm.state, &v.state, c)?;
                Plan::new(
                    vec![v.write(events, Some(cid)).0],
                    json!({ "volunteer_id": c.volunteer_id }),
                )
            }
            C::LeaveTeam(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let events = domain::volunteer::leave_team(&v.state, c)?;
                Plan::new(
                    vec![v.write(events, Some(cid)).0],
                    json!({ "volunteer_id": c.volunteer_id }),
                )
            }
            C::ErasePersonalData(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let events = domain::volunteer::erase_personal_data(&v.state, c)?;
                let erased = !events.is_empty();
                Plan::new(
                    vec![v.write(events, Some(cid)).0],
                    json!({ "volunteer_id": c.volunteer_id, "erased": erased }),
                )
            }
            C::DepartVolunteer(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let events = domain::volunteer::depart(&v.state, c)?;
                Plan::new(
                    vec![v.write(events, Some(cid)).0],
                    json!({ "volunteer_id": c.volunteer_id }),
                )
            }
            C::LogService(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let comm = self.community(reads, cid).await?;
                let id = ServiceId(ids.id("service"));
                let events = domain::volunteer::log_service(&comm.state, &v.state, c, id, ctx)?;
                Plan::new(
                    vec![v.write(events, Some(cid)).0],
                    json!({ "service_id": id }),
                )
            }
            C::VerifyService(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let comm = self.community(reads, cid).await?;
                let entry = EntryId(ids.id("entry"));
                let events =
                    domain::volunteer::verify_service(&comm.state, &v.state, c, entry, ctx)?;
                let (points, hours) = match events.first() {
                    Some(Event::ServiceVerified { points, hours, .. }) => (*points, *hours),
                    _ => Default::default(),
                };
                let (w, post) = v.write(events, Some(cid));
                Plan::new(
                    vec![w],
                    json!({
                        "entry_id": entry, "points": points, "hours": hours,
                        "points_balance": post.points, "hours_balance": post.hours,
                    }),
                )
            }
            C::RejectService(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let events = domain::volunteer::reject_service(&v.state, c, ctx)?;
                Plan::new(
                    vec![v.write(events, Some(cid)).0],
                    json!({ "service_id": c.service_id }),
                )
            }
            C::AwardPoints(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let entry = EntryId(ids.id("entry"));
                let events = domain::volunteer::award(&v.state, c, entry, ctx)?;
                balance_plan(&v, events, cid, entry)
            }
            C::RedeemPoints(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let entry = EntryId(ids.id("entry"));
                let events = domain::volunteer::redeem(&v.state, c, entry, ctx)?;
                balance_plan(&v, events, cid, entry)
            }
            C::ReverseEntry(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let entry = EntryId(ids.id("entry"));
                let events = domain::volunteer::reverse(&v.state, c, entry, ctx)?;
                balance_plan(&v, events, cid, entry)
            }
            C::SpendHours(c) => {
                let (v, cid) = self
                    .volunteer_in_community(reads, c.volunteer_id, command, ctx)
                    .await?;
                let entry = EntryId(ids.id("entry"));
                let events = domain::volunteer::spend(&v.state, c, entry)?;
                balance_plan(&v, events, cid, entry)
            }
            C::GiftHours(c) => {
                let (from, cid) = self
                    .volunteer_in_community(reads, c.from, command, ctx)
                    .await?;
                let to = self.volunteer(reads, c.to).await?;
                let entry = EntryId(ids.id("entry"));
                let (fe, te) = domain::volunteer::gift(&from.state, &to.state, c, entry, ctx)?;
                let to_community = to.state.community_id;
                let (fw, post) = from.write(fe, Some(cid));
                let (tw, _) = to.write(te, to_community);
                Plan::new(
                    vec![fw, tw],
                    json!({ "entry_id": entry, "hours_balance": post.hours }),
                )
            }
            C::PostWish(c) => {
                let comm = self.community(reads, c.community_id).await?;
                let id = WishId(ids.id("wish"));
                let w = self.wish(reads, id).await?;
                let events = domain::wish::post(&comm.state, &w.state, c, id, ctx)?;
                Plan::new(
                    vec![w.write(events, Some(c.community_id)).0],
                    json!({ "wish_id": id }),
                )
            }
            C::ClaimWish(c) => {
                let w = self.wish(reads, c.wish_id).await?;
                let cid = w.state.require(c.wish_id)?;
                authorize(actor, command, Some(cid))?;
                let v = self.volunteer(reads, c.volunteer_id).await?;
                let events = domain::wish::claim(&w.state, &v.state, c)?;
                wish_plan(&w, events, cid)
            }
            C::ReleaseWish(c) => {
                let w = self.wish(reads, c.wish_id).await?;
                let cid = w.state.require(c.wish_id)?;
                authorize(actor, command, Some(cid))?;
                let events = domain::wish::release(&w.state, c, ctx)?;
                wish_plan(&w, events, cid)
            }
            C::FulfilWish(c) => {
                let w = self.wish(reads, c.wish_id).await?;
                let cid = w.state.require(c.wish_id)?;
                authorize(actor, command, Some(cid))?;
                let comm = self.community(reads, cid).await?;
                let events = domain::wish::fulfil(&comm.state, &w.state, c, ctx)?;
                wish_plan(&w, events, cid)
            }
            C::CancelWish(c) => {
                let w = self.wish(reads, c.wish_id).await?;
                let cid = w.state.require(c.wish_id)?;
                authorize(actor, command, Some(cid))?;
                let events = domain::wish::cancel(&w.state, c, ctx)?;
                wish_plan(&w, events, cid)
            }
            C::ConfirmWish(c) => {
                let w = self.wish(reads, c.wish_id).await?;
                let cid = w.state.require(c.wish_id)?;
                authorize(actor, command, Some(cid))?;
                let claimer = w.state.claimer().ok_or_else(|| {
                    DomainError::invalid_state(format!("wish {} is not fulfilled", c.wish_id))
                })?;
                let comm = self.community(reads, cid).await?;
                let v = self.volunteer(reads, claimer).await?;
                let service = ServiceId(ids.id("service"));
                let entry = EntryId(ids.id("entry"));
                let (we, ve) =
                    domain::wish::confirm(&comm.state, &w.state, &v.state, c, service, entry, ctx)?;
                let points = match ve.get(1) {
                    Some(Event::ServiceVerified { points, .. }) => *points,
                    _ => Default::default(),
                };
                let v_community = v.state.community_id;
                let (vw, post) = v.write(ve, v_community);
                Plan::new(
                    vec![w.write(we, Some(cid)).0, vw],
                    json!({
                        "wish_id": c.wish_id, "volunteer_id": claimer,
                        "service_id": service, "entry_id": entry, "points": points,
                        "points_balance": post.points, "hours_balance": post.hours,
                    }),
                )
            }
            C::RecordInspection(c) => {
                let comm = self.community(reads, c.community_id).await?;
                let s = self
                    .load::<StairwellState>(reads, stairwell_stream(c.stairwell_id))
                    .await?;
                let events = domain::stairwell::inspect(&comm.state, &s.state, c, ctx)?;
                let total: rust_decimal::Decimal = match events.first() {
                    Some(Event::StairwellInspected { scores, .. }) => scores
                        .iter()
                        .filter(|(k, _)| k.as_str() != crate::domain::community::PARTICIPATION_KEY)
                        .map(|(_, v)| *v)
                        .sum(),
                    _ => Default::default(),
                };
                Plan::new(
                    vec![s.write(events, Some(c.community_id)).0],
                    json!({ "stairwell_id": c.stairwell_id, "month": c.month, "total": total }),
                )
            }
            C::ReportStairwellIssue(c) => {
                let comm = self.community(reads, c.community_id).await?;
                let s = self
                    .load::<StairwellState>(reads, stairwell_stream(c.stairwell_id))
                    .await?;
                let id = IssueId(ids.id("issue"));
                let events = domain::stairwell::report_issue(&comm.state, c, id, ctx)?;
                Plan::new(
                    vec![s.write(events, Some(c.community_id)).0],
                    json!({ "issue_id": id }),
                )
            }
            C::ResolveStairwellIssue(c) => {
                let comm = self.community(reads, c.community_id).await?;
                comm.state.require(c.community_id)?;
                comm.state.stairwell(c.stairwell_id)?;
                let s = self
                    .load::<StairwellState>(reads, stairwell_stream(c.stairwell_id))
                    .await?;
                let events = domain::stairwell::resolve_issue(&s.state, c, ctx)?;
                Plan::new(
                    vec![s.write(events, Some(c.community_id)).0],
                    json!({ "issue_id": c.issue_id }),
                )
            }
        };
        Ok(plan)
    }
}

fn balance_plan(
    v: &Loaded<VolunteerState>,
    events: Vec<Event>,
    community: CommunityId,
    entry: EntryId,
) -> Plan {
    let (w, post) = v.write(events, Some(community));
    Plan::new(
        vec![w],
        json!({
            "entry_id": entry,
            "points_balance": post.points,
            "hours_balance": post.hours,
            "flagged": post.flagged(),
        }),
    )
}

fn wish_plan(w: &Loaded<WishState>, events: Vec<Event>, community: CommunityId) -> Plan {
    let wish_id = w.state.wish_id;
    let (write, post) = w.write(events, Some(community));
    let status = match post.status {
        domain::wish::WishStatus::Open => "open",
        domain::wish::WishStatus::Claimed { .. } => "claimed",
        domain::wish::WishStatus::Fulfilled { .. } => "fulfilled",
        domain::wish::WishStatus::Confirmed { .. } => "confirmed",
        domain::wish::WishStatus::Cancelled => "cancelled",
    };
    Plan::new(vec![write], json!({ "wish_id": wish_id, "status": status }))
}

/// How one decision reads the states it needs. The streams the command writes are
/// `trusted`: a state of theirs cached in this process may be used without reading the
/// log, because the append checks the version it was decided on (a stale cache, say
/// after another process wrote, then fails as a version conflict and the next attempt
/// reads). Which states were used that way is recorded, so that the handler can insist
/// the append really checks each of them, and decide again on read states when it does
/// not, or when the decision is a refusal (which no append checks).
struct Reads<'a> {
    trusted: &'a [String],
    served: Mutex<Vec<(String, u64)>>,
}

impl<'a> Reads<'a> {
    fn new(trusted: &'a [String]) -> Reads<'a> {
        Reads {
            trusted,
            served: Mutex::new(Vec::new()),
        }
    }

    fn trusts(&self, stream: &str) -> bool {
        self.trusted.iter().any(|s| s == stream)
    }

    fn serve(&self, stream: &str, version: u64) {
        let mut served = self.served.lock().unwrap_or_else(|e| e.into_inner());
        served.push((stream.to_string(), version));
    }

    fn served(&self) -> Vec<(String, u64)> {
        let served = self.served.lock().unwrap_or_else(|e| e.into_inner());
        served.clone()
    }
}

/// Whether the plan's append checks every state that was used from the cache: each is
/// written with the version it was cached at as the expected version.
fn appends_check(plan: &Plan, cached: &[(String, u64)]) -> bool {
    cached.iter().all(|(stream, version)| {
        plan.writes
            .iter()
            .any(|w| &w.stream == stream && w.expected == *version)
    })
}

fn compare(
    key: &str,
    fingerprint: &Value,
    record: CommandRecord,
) -> Result<CommandOutcome, CommandError> {
    if record.command == *fingerprint {
        Ok(CommandOutcome {
            position: record.position,
            result: record.result,
            replayed: true,
            events: 0,
        })
    } else {
        Err(DomainError::IdempotencyMismatch {
            key: key.to_string(),
        }
        .into())
    }
}

/// The streams a command writes that are known before loading, locked in process.
fn lock_keys(command: &Command) -> Vec<String> {
    use Command as C;
    match command {
        C::EstablishCommunity(_) | C::PostWish(_) => vec![],
        C::AddGrid(c) => vec![community_stream(c.community_id)],
        C::RegisterStairwell(c) => vec![community_stream(c.community_id)],
        C::FormTeam(c) => vec![community_stream(c.community_id)],
        C::SetPointRules(c) => vec![community_stream(c.community_id)],
        C::SetStarThresholds(c) => vec![community_stream(c.community_id)],
        C::SetRubric(c) => vec![community_stream(c.community_id)],
        C::RegisterVolunteer(c) => vec![community_stream(c.community_id)],
        C::MoveVolunteer(c) => vec![volunteer_stream(c.volunteer_id)],
        C::JoinTeam(c) => vec![volunteer_stream(c.volunteer_id)],
        C::LeaveTeam(c) => vec![volunteer_stream(c.volunteer_id)],
        C::DepartVolunteer(c) => vec![volunteer_stream(c.volunteer_id)],
        C::LogService(c) => vec![volunteer_stream(c.volunteer_id)],
        C::VerifyService(c) => vec![volunteer_stream(c.volunteer_id)],
        C::RejectService(c) => vec![volunteer_stream(c.volunteer_id)],
        C::AwardPoints(c) => vec![volunteer_stream(c.volunteer_id)],
        C::RedeemPoints(c) => vec![volunteer_stream(c.volunteer_id)],
        C::ReverseEntry(c) => vec![volunteer_stream(c.volunteer_id)],
        C::SpendHours(c) => vec![volunteer_stream(c.volunteer_id)],
        C::GiftHours(c) => vec![volunteer_stream(c.from), volunteer_stream(c.to)],
        C::ClaimWish(c) => vec![wish_stream(c.wish_id)],
        C::ReleaseWish(c) => vec![wish_stream(c.wish_id)],
        C::FulfilWish(c) => vec![wish_stream(c.wish_id)],
        C::ConfirmWish(c) => vec![wish_stream(c.wish_id)],
        C::CancelWish(c) => vec![wish_stream(c.wish_id)],
        C::RecordInspection(c) => vec![stairwell_stream(c.stairwell_id)],
        C::ReportStairwellIssue(c) => vec![stairwell_stream(c.stairwell_id)],
        C::ResolveStairwellIssue(c) => vec![stairwell_stream(c.stairwell_id)],
        C::ErasePersonalData(c) => vec![volunteer_stream(c.volunteer_id)],
    }
}

async fn backoff(attempt: u32) {
    let cap_us = 200u64 * u64::from(attempt.min(20));
    let jitter = rand::random::<u64>() % cap_us.max(1);
    tokio::time::sleep(Duration::from_micros(100 + jitter)).await;
}
