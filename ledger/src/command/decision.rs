//! What one decision works with: the states it loads ([`Decision`], from the log through
//! the handler's per-stream cache, or from given events in tests), and what it decides
//! ([`Plan`]: the writes, each with the version it was decided on, and the typed result).

use super::{authorize, Command, CommandError};
use crate::domain::activity::CodeKey;
use crate::domain::volunteer::HouseholdKey;
use crate::domain::*;
use crate::event::Event;
use crate::ids::*;
use crate::store::{Person, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Streams kept in a state cache before it is cleared.
const CACHE_LIMIT: usize = 200_000;

pub(crate) type PlanResult<T> = Result<Plan<T>, CommandError>;

/// `(version, state)` per stream.
pub(crate) struct StreamCache<S> {
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

/// The handler's state caches, one per aggregate.
#[derive(Default)]
pub(crate) struct Caches {
    community: StreamCache<CommunityState>,
    volunteer: StreamCache<VolunteerState>,
    wish: StreamCache<WishState>,
    stairwell: StreamCache<StairwellState>,
    activity: StreamCache<ActivityState>,
    shop_item: StreamCache<ShopItemState>,
    street: StreamCache<StreetState>,
    import_batch: StreamCache<ImportBatchState>,
    district: StreamCache<DistrictState>,
}

impl Caches {
    /// Keeps the state of a written stream after its write.
    pub(crate) fn refresh(&self, w: &Write) {
        let version = w.expected + w.events.len() as u64;
        match &w.post {
            PostState::Community(s) => self.community.put(&w.stream, version, s.clone()),
            PostState::Volunteer(s) => self.volunteer.put(&w.stream, version, s.clone()),
            PostState::Wish(s) => self.wish.put(&w.stream, version, s.clone()),
            PostState::Stairwell(s) => self.stairwell.put(&w.stream, version, s.clone()),
            PostState::Activity(s) => self.activity.put(&w.stream, version, s.clone()),
            PostState::ShopItem(s) => self.shop_item.put(&w.stream, version, s.clone()),
            PostState::Street(s) => self.street.put(&w.stream, version, s.clone()),
            PostState::ImportBatch(s) => self.import_batch.put(&w.stream, version, s.clone()),
            PostState::District(s) => self.district.put(&w.stream, version, s.clone()),
        }
    }
}

/// An aggregate with a cache in the handler.
pub(crate) trait Cached: Aggregate {
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
cached!(ActivityState, activity, Activity);
cached!(ShopItemState, shop_item, ShopItem);
cached!(StreetState, street, Street);
cached!(ImportBatchState, import_batch, ImportBatch);
cached!(DistrictState, district, District);

/// The state of a written stream after the write, to refresh the cache.
pub(crate) enum PostState {
    Community(Arc<CommunityState>),
    Volunteer(Arc<VolunteerState>),
    Wish(Arc<WishState>),
    Stairwell(Arc<StairwellState>),
    Activity(Arc<ActivityState>),
    ShopItem(Arc<ShopItemState>),
    Street(Arc<StreetState>),
    ImportBatch(Arc<ImportBatchState>),
    District(Arc<DistrictState>),
}

/// A loaded stream.
pub(crate) struct Loaded<S> {
    pub(crate) stream: String,
    pub(crate) version: u64,
    pub(crate) state: Arc<S>,
}

impl<S: Cached> Loaded<S> {
    /// The write of `events` to this stream, decided on its loaded version, and the
    /// state after them.
    pub(crate) fn write(
        &self,
        events: Vec<Event>,
        community: Option<CommunityId>,
    ) -> (Write, Arc<S>) {
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

/// Events to append to one stream, expecting it at `expected`.
pub(crate) struct Write {
    pub(crate) stream: String,
    pub(crate) expected: u64,
    pub(crate) community: Option<CommunityId>,
    pub(crate) events: Vec<Event>,
    pub(crate) post: PostState,
}

/// What a decision wrote and answered: the writes of one atomic append, the command's
/// result, and the personal data to keep beside the log (a registration's).
pub(crate) struct Plan<T> {
    pub(crate) writes: Vec<Write>,
    pub(crate) result: T,
    pub(crate) person: Option<Person>,
}

impl<T> Plan<T> {
    pub(crate) fn new(writes: Vec<Write>, result: T) -> Plan<T> {
        Plan {
            writes,
            result,
            person: None,
        }
    }

    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Plan<U> {
        Plan {
            writes: self.writes,
            result: f(self.result),
            person: self.person,
        }
    }

    /// Whether the append checks every state that was used from the cache: each is
    /// written with the version it was cached at as the expected version.
    pub(crate) fn checks(&self, cached: &[(String, u64)]) -> bool {
        cached.iter().all(|(stream, version)| {
            self.writes
                .iter()
                .any(|w| &w.stream == stream && w.expected == *version)
        })
    }
}

/// The deployment's keys a decision may use (kept beside the log, never in it).
pub(crate) struct Keys {
    pub(crate) household: HouseholdKey,
    pub(crate) codes: CodeKey,
}

/// The state of `stream` caught up with the log from the `(version, state)` cached.
async fn caught_up<S: Cached>(
    store: &Store,
    cache: &StreamCache<S>,
    stream: String,
    mut version: u64,
    state: Arc<S>,
) -> Result<Loaded<S>, CommandError> {
    let recorded = store.read_stream(&stream, version).await?;
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

/// The current state of `stream` read from the log (through the cache), outside a
/// decision.
pub(crate) async fn current<S: Cached>(
    store: &Store,
    caches: &Caches,
    stream: String,
) -> Result<Arc<S>, CommandError> {
    let cache = S::cache(caches);
    let (version, state) = cache
        .get(&stream)
        .unwrap_or_else(|| (0, Arc::new(S::default())));
    Ok(caught_up(store, cache, stream, version, state).await?.state)
}

/// Where a decision's states come from.
enum Source<'a> {
    /// The log, through the handler's cache. The streams the command writes are
    /// `trusted`: a state of theirs cached in this process may be used without reading
    /// the log, because the append checks the version it was decided on (a stale cache,
    /// say after another process wrote, then fails as a version conflict and the next
    /// attempt reads).
    Log {
        store: &'a Store,
        caches: &'a Caches,
        trusted: &'a [String],
    },
    /// Given events per stream (tests: no database).
    Given(&'a HashMap<String, Vec<Event>>),
}

/// One decision of one command: the context, the command, and the states it loads.
/// Which states were used from the cache without a read is recorded, so that the
/// handler can insist the append really checks each of them, and decide again on read
/// states when it does not, or when the decision is a refusal (which no append checks).
pub(crate) struct Decision<'a> {
    ctx: Ctx<'a>,
    command: &'a Command,
    keys: &'a Keys,
    source: Source<'a>,
    served: Mutex<Vec<(String, u64)>>,
}

impl<'a> Decision<'a> {
    /// A decision on states of the log.
    pub(crate) fn on_log(
        ctx: Ctx<'a>,
        command: &'a Command,
        keys: &'a Keys,
        store: &'a Store,
        caches: &'a Caches,
        trusted: &'a [String],
    ) -> Decision<'a> {
        Decision::new(
            ctx,
            command,
            keys,
            Source::Log {
                store,
                caches,
                trusted,
            },
        )
    }

    /// A decision on given events (per stream).
    pub(crate) fn on_given(
        ctx: Ctx<'a>,
        command: &'a Command,
        keys: &'a Keys,
        streams: &'a HashMap<String, Vec<Event>>,
    ) -> Decision<'a> {
        Decision::new(ctx, command, keys, Source::Given(streams))
    }

    fn new(ctx: Ctx<'a>, command: &'a Command, keys: &'a Keys, source: Source<'a>) -> Decision<'a> {
        Decision {
            ctx,
            command,
            keys,
            source,
            served: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn ctx(&self) -> &Ctx<'a> {
        &self.ctx
    }

    /// A new id of the command (the same on every retry of its key).
    pub(crate) fn id(&self, label: &str) -> Uuid {
        self.ctx.ids.id(label)
    }

    /// One person, one record: refused with `DUPLICATE_PERSON` (naming the record) when
    /// another registered volunteer's personal data holds `id_number`. Given events hold
    /// no personal data, so nothing is refused there.
    pub(crate) async fn check_one_record(
        &self,
        id_number: Option<&str>,
        own: VolunteerId,
    ) -> Result<(), CommandError> {
        let (Some(n), Source::Log { store, .. }) = (id_number, &self.source) else {
            return Ok(());
        };
        let Some(holder) = store.person_with_id_number(n).await?.map(VolunteerId) else {
            return Ok(());
        };
        if holder == own {
            return Ok(());
        }
        let v = self.volunteer(holder).await?;
        // A registration still in flight (its append not yet done) holds the number
        // too: the person row's unique index settles that race at the write.
        match (&v.state.community_id, &v.state.volunteer_number) {
            (Some(c), number) => Err(DomainError::DuplicatePerson {
                volunteer_id: holder,
                volunteer_number: number.clone(),
                community_id: *c,
            }
            .into()),
            (None, _) => Ok(()),
        }
    }

    /// Whether the personal data kept beside the log gives `volunteer` the ID number
    /// `id_number` (as kept). Given events hold no personal data: never.
    pub(crate) async fn holds_id_number(
        &self,
        volunteer: VolunteerId,
        id_number: &str,
    ) -> Result<bool, CommandError> {
        let Source::Log { store, .. } = &self.source else {
            return Ok(false);
        };
        Ok(store.person_with_id_number(id_number).await? == Some(volunteer.0))
    }

    /// The key of household pseudonyms.
    pub(crate) fn household_key(&self) -> &HouseholdKey {
        &self.keys.household
    }

    /// The key of activities' check-in codes.
    pub(crate) fn code_key(&self) -> &CodeKey {
        &self.keys.codes
    }

    /// Whether the actor may issue the command in `target` (see [`authorize`]).
    pub(crate) fn authorize(&self, target: Option<CommunityId>) -> Result<(), DomainError> {
        authorize(self.ctx.actor, self.command, target)
    }

    /// The states used from the cache without reading the log, with their versions.
    pub(crate) fn served(&self) -> Vec<(String, u64)> {
        let served = self.served.lock().unwrap_or_else(|e| e.into_inner());
        served.clone()
    }

    /// The current state of a stream.
    pub(crate) async fn load<S: Cached>(&self, stream: String) -> Result<Loaded<S>, CommandError> {
        let (store, caches, trusted) = match &self.source {
            Source::Given(streams) => {
                let events = streams.get(&stream).map(Vec::as_slice).unwrap_or(&[]);
                return Ok(Loaded {
                    version: events.len() as u64,
                    state: Arc::new(S::from_events(events)),
                    stream,
                });
            }
            Source::Log {
                store,
                caches,
                trusted,
            } => (*store, *caches, *trusted),
        };
        let cache = S::cache(caches);
        let (version, state) = cache
            .get(&stream)
            .unwrap_or_else(|| (0, Arc::new(S::default())));
        if version > 0 && trusted.contains(&stream) {
            let mut served = self.served.lock().unwrap_or_else(|e| e.into_inner());
            served.push((stream.clone(), version));
            drop(served);
            return Ok(Loaded {
                stream,
                version,
                state,
            });
        }
        caught_up(store, cache, stream, version, state).await
    }

    pub(crate) async fn community(
        &self,
        id: CommunityId,
    ) -> Result<Loaded<CommunityState>, CommandError> {
        self.load(community_stream(id)).await
    }

    pub(crate) async fn volunteer(
        &self,
        id: VolunteerId,
    ) -> Result<Loaded<VolunteerState>, CommandError> {
        self.load(volunteer_stream(id)).await
    }

    pub(crate) async fn wish(&self, id: WishId) -> Result<Loaded<WishState>, CommandError> {
        self.load(wish_stream(id)).await
    }

    pub(crate) async fn stairwell(
        &self,
        id: StairwellId,
    ) -> Result<Loaded<StairwellState>, CommandError> {
        self.load(stairwell_stream(id)).await
    }

    pub(crate) async fn activity(
        &self,
        id: ActivityId,
    ) -> Result<Loaded<ActivityState>, CommandError> {
        self.load(activity_stream(id)).await
    }

    pub(crate) async fn shop_item(
        &self,
        id: ShopItemId,
    ) -> Result<Loaded<ShopItemState>, CommandError> {
        self.load(shop_item_stream(id)).await
    }

    pub(crate) async fn street(&self, id: StreetId) -> Result<Loaded<StreetState>, CommandError> {
        self.load(street_stream(id)).await
    }

    pub(crate) async fn import_batch(
        &self,
        id: ImportBatchId,
    ) -> Result<Loaded<ImportBatchState>, CommandError> {
        self.load(import_stream(id)).await
    }

    pub(crate) async fn district(
        &self,
        id: DistrictId,
    ) -> Result<Loaded<DistrictState>, CommandError> {
        self.load(district_stream(id)).await
    }

    /// The hours rules of `community` in force today (China Standard Time): the cap and
    /// the gift rule every plan that credits or moves hours applies.
    pub(crate) fn hours_rules(&self, community: &CommunityState) -> community::HoursRules {
        community.hours_rules_on(local_date(self.ctx.now))
    }

    /// The log's last position (given events: how many there are).
    pub(crate) async fn head(&self) -> Result<u64, CommandError> {
        Ok(match &self.source {
            Source::Log { store, .. } => store.head().await?,
            Source::Given(streams) => streams.values().map(|s| s.len() as u64).sum(),
        })
    }

    /// The rules every credit follows today: the hours rules and the points expiry.
    pub(crate) fn credit_rules(
        &self,
        community: &CommunityState,
    ) -> crate::domain::volunteer::CreditRules {
        let today = local_date(self.ctx.now);
        crate::domain::volunteer::CreditRules {
            hours: community.hours_rules_on(today),
            expiry: community.points_expiry_on(today),
            today,
        }
    }

    /// A registered volunteer and the community it belongs to, after authorization in
    /// that community.
    pub(crate) async fn volunteer_in_community(
        &self,
        id: VolunteerId,
    ) -> Result<(Loaded<VolunteerState>, CommunityId), CommandError> {
        let v = self.volunteer(id).await?;
        let community_id = v.state.require(id)?;
        self.authorize(Some(community_id))?;
        Ok((v, community_id))
    }
}
