//! A bulk loader of valid history, for benchmarks at district scale (`timebank
//! bulk-load`): a district of streets of communities, each with its grids, stairwells
//! and teams ([`setup`]), then a district growing to a number of events ([`grow`]):
//! volunteers registering until each community has its number, verified services and
//! points awards, written straight to the store in appends of thousands of events, not
//! through the command handler one command at a time. [`grow`] can be called again to
//! go on growing the same district (1 M, then 3 M, then 10 M events).
//!
//! Valid by construction: the organisation and registrations are the events the
//! commands write (a volunteer's number enrolled in the community's stream with the
//! registration); every service is logged and verified by the domain's own rules
//! ([`crate::domain::volunteer::log_service`] and
//! [`crate::domain::volunteer::verify_service`], on the volunteer's state and the
//! point rules of the service's day). Deterministic for a seed (ids and choices), but
//! for the times the store records. Names and phones are not written (volunteers read
//! as erased): the benchmark reads no personal data.

use crate::actor::Actor;
use crate::command::{LogService, VerifyService};
use crate::domain::{community::CommunityState, volunteer, Aggregate, Ctx, IdSource};
use crate::domain::{local_date, VolunteerState};
use crate::event::{self as ev, Event, ServiceKind};
use crate::ids::*;
use crate::store::{AppendRequest, ExpectedVersion, Metadata, Store, StoreError, StreamWrite};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use uuid::Uuid;

/// What to load.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    pub streets: u32,
    pub communities_per_street: u32,
    /// Volunteers per community, once the district has grown enough.
    pub volunteers: u32,
    /// Events in all.
    pub events: u64,
    pub seed: u64,
}

/// A community of the district: its id, its stairwells (with their grids) and teams,
/// and the volunteers registered so far.
struct Community {
    id: CommunityId,
    state: CommunityState,
    stairwells: Vec<(StairwellId, GridId)>,
    teams: Vec<TeamId>,
    volunteers: Vec<(VolunteerId, Event)>,
}

/// A district as loaded so far, to grow further.
pub struct District {
    pub district: DistrictId,
    pub streets: Vec<StreetId>,
    communities: Vec<Community>,
    volunteers: u32,
    writer: Writer,
    rng: StdRng,
}

impl District {
    pub fn communities(&self) -> Vec<CommunityId> {
        self.communities.iter().map(|c| c.id).collect()
    }

    /// The volunteers registered so far, in all.
    pub fn volunteers(&self) -> usize {
        self.communities.iter().map(|c| c.volunteers.len()).sum()
    }

    /// A registered volunteer of community `i` (by its index), if any.
    pub fn volunteer_of(&self, community: usize, n: usize) -> Option<VolunteerId> {
        let c = self.communities.get(community)?;
        c.volunteers.get(n % c.volunteers.len().max(1)).map(|v| v.0)
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.writer.written
    }
}

/// Events per append.
const BATCH: usize = 4_000;

/// The appends of a load: what is waiting to be written, how much was, and the append
/// in flight (one at a time, in order: the next batch is made while it is written).
struct Writer {
    seed: u64,
    counter: u128,
    pending: Vec<(String, CommunityId, Event)>,
    written: u64,
    actor: Uuid,
    in_flight: Option<(u64, tokio::task::JoinHandle<Result<(), StoreError>>)>,
}

impl Writer {
    fn id(&mut self) -> Uuid {
        self.counter += 1;
        // Unique (an odd multiplier is a bijection) and deterministic, spread like random.
        let x = (u128::from(self.seed) << 96) ^ self.counter;
        Uuid::from_u128(x.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835))
    }

    fn push(&mut self, stream: String, community: CommunityId, event: Event) {
        self.pending.push((stream, community, event));
    }

    /// Events written or being written.
    fn sent(&self) -> u64 {
        self.written + self.in_flight.as_ref().map_or(0, |(n, _)| *n)
    }

    /// Waits for the append in flight, if any.
    async fn settle(&mut self, progress: &impl Fn(u64)) -> Result<(), StoreError> {
        if let Some((n, task)) = self.in_flight.take() {
            task.await
                .map_err(|e| StoreError::InvalidAppend(format!("append task: {e}")))??;
            self.written += n;
            progress(self.written);
        }
        Ok(())
    }

    /// Encodes what is pending and appends it once the append before it is done,
    /// without waiting for this one ([`Writer::settle`] does).
    async fn flush(&mut self, store: &Store, progress: &impl Fn(u64)) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let metadata = Metadata {
            actor: Some(self.actor),
            role: Some("admin".into()),
            ..Metadata::default()
        };
        let mut writes: Vec<StreamWrite> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (stream, community, event) in std::mem::take(&mut self.pending) {
            let community = (community.0 != Uuid::nil()).then_some(community);
            let new = event
                .to_new_event(self.id(), metadata.clone(), community)
                .map_err(|e| StoreError::InvalidAppend(e.to_string()))?;
            let i = *index.entry(stream.clone()).or_insert_with(|| {
                writes.push(StreamWrite {
                    stream_id: stream,
                    expected: ExpectedVersion::Any,
                    events: Vec::new(),
                });
                writes.len() - 1
            });
            writes[i].events.push(new);
        }
        let n: u64 = writes.iter().map(|w| w.events.len() as u64).sum();
        self.settle(progress).await?;
        let store = store.clone();
        let task = tokio::spawn(async move {
            store
                .append_request(AppendRequest {
                    writes,
                    command: None,
                })
                .await
                .map(|_| ())
        });
        self.in_flight = Some((n, task));
        Ok(())
    }
}

const KINDS: [ServiceKind; 5] = [
    ServiceKind::Patrol,
    ServiceKind::Repair,
    ServiceKind::ElderlyVisit,
    ServiceKind::Mediation,
    ServiceKind::Other,
];
const TEAMS: [&str; 7] = [
    "文化健身",
    "邻里互助",
    "文明风尚",
    "守护青少年",
    "医疗健康",
    "巾帼",
    "党员先锋",
];

/// The organisation of one community, pushed to the writer.
fn community(w: &mut Writer, street: StreetId, name: String, volunteers: u32) -> Community {
    let c = CommunityId(w.id());
    let mut org = vec![Event::CommunityEstablished {
        community_id: c,
        name,
    }];
    let grids: Vec<GridId> = (0..3).map(|_| GridId(w.id())).collect();
    for (i, g) in grids.iter().enumerate() {
        org.push(Event::GridAdded {
            grid_id: *g,
            name: format!("第{}网格", i + 1),
            parent: None,
        });
    }
    let stairwells: Vec<(StairwellId, GridId)> = (0..volunteers.div_ceil(10).max(1))
        .map(|i| (StairwellId(w.id()), grids[i as usize % grids.len()]))
        .collect();
    for (i, (s, g)) in stairwells.iter().enumerate() {
        org.push(Event::StairwellRegistered {
            stairwell_id: *s,
            grid_id: *g,
            building: format!("{}栋", i / 4 + 1),
            unit: format!("{}单元", i % 4 + 1),
            households: 24,
        });
    }
    let teams: Vec<TeamId> = TEAMS.iter().map(|_| TeamId(w.id())).collect();
    for (t, name) in teams.iter().zip(TEAMS) {
        org.push(Event::TeamFormed {
            team_id: *t,
            name: name.into(),
        });
    }
    org.push(Event::CommunityJoinedStreet(ev::CommunityJoinedStreet {
        street_id: street,
        from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default(),
    }));
    let state = CommunityState::from_events(&org);
    for e in org {
        w.push(community_stream(c), c, e);
    }
    Community {
        id: c,
        state,
        stairwells,
        teams,
        volunteers: Vec::new(),
    }
}

/// Sets a district up: `opts.streets` streets of `opts.communities_per_street`
/// communities with their grids, stairwells and teams (no volunteers yet).
pub async fn setup(
    store: &Store,
    opts: &BulkOptions,
    progress: impl Fn(u64),
) -> Result<District, StoreError> {
    let admin = Uuid::from_u128(0x6275_6c6b_0000_0000_0000_0000_0000_0001);
    let mut w = Writer {
        seed: opts.seed,
        counter: 0,
        pending: Vec::new(),
        written: 0,
        actor: admin,
        in_flight: None,
    };
    let district = DistrictId(w.id());
    let none = CommunityId(Uuid::nil());
    w.push(
        district_stream(district),
        none,
        Event::DistrictEstablished(ev::DistrictEstablished {
            district_id: district,
            name: "示范区".into(),
        }),
    );
    let mut streets = Vec::new();
    let mut communities = Vec::new();
    for si in 0..opts.streets {
        let street = StreetId(w.id());
        for e in [
            Event::StreetEstablished(ev::StreetEstablished {
                street_id: street,
                name: format!("第{}街道", si + 1),
            }),
            Event::StreetJoinedDistrict(ev::StreetJoinedDistrict {
                district_id: district,
                from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default(),
            }),
        ] {
            w.push(street_stream(street), none, e);
        }
        streets.push(street);
        for ci in 0..opts.communities_per_street {
            let name = format!("第{}街道第{}社区", si + 1, ci + 1);
            communities.push(community(&mut w, street, name, opts.volunteers));
            if w.pending.len() >= BATCH {
                w.flush(store, &progress).await?;
            }
        }
    }
    w.flush(store, &progress).await?;
    w.settle(&progress).await?;
    Ok(District {
        district,
        streets,
        communities,
        volunteers: opts.volunteers,
        writer: w,
        rng: StdRng::seed_from_u64(opts.seed),
    })
}

/// Registers the next volunteer of community `ci`.
fn register(d: &mut District, ci: usize) {
    let c = &d.communities[ci];
    let n = c.volunteers.len();
    let v = VolunteerId(d.writer.id());
    let number = format!("TB-{:06}", n + 1);
    let (s, g) = c.stairwells[n % c.stairwells.len()];
    let registered = Event::VolunteerRegistered {
        volunteer_id: v,
        community_id: c.id,
        volunteer_number: number.clone(),
        stairwell_id: s,
        grid_id: g,
        tags: if matches!(n % 5, 0) {
            vec!["党员".into()]
        } else {
            vec![]
        },
        teams: vec![c.teams[n % c.teams.len()]],
        household: None,
    };
    let enrolled = Event::VolunteerEnrolled {
        volunteer_id: v,
        volunteer_number: number,
    };
    let id = c.id;
    d.writer.push(community_stream(id), id, enrolled);
    d.writer.push(volunteer_stream(v), id, registered.clone());
    d.communities[ci].volunteers.push((v, registered));
}

/// One service (logged and verified by the domain's rules) or award of a registered
/// volunteer of community `ci`. The community and its volunteers are only read here
/// (borrowed beside the writer and the random source, never copied).
fn serve(d: &mut District, ci: usize, end: DateTime<Utc>) -> Result<(), StoreError> {
    let admin_id = d.writer.actor;
    let admin = Actor::admin(admin_id);
    let c = &d.communities[ci];
    let (v, registered) = &c.volunteers[d.rng.gen_range(0..c.volunteers.len())];
    let (v, state_c) = (*v, &c.state);
    let day_back = d.rng.gen_range(1..730);
    let day = (end - Duration::days(day_back)).date_naive();
    let started = Utc.from_utc_datetime(&day.and_hms_opt(1, 0, 0).unwrap_or_default());
    let now = started + Duration::hours(10);
    let ctx_ids = IdSource::new(d.writer.id());
    let ctx = Ctx::new(now, &admin, ctx_ids);
    let id = c.id;
    if d.rng.gen_ratio(4, 5) {
        let mut state_v = VolunteerState::from_events([registered]);
        let minutes = 30 * d.rng.gen_range(1..=8);
        let cmd = LogService {
            volunteer_id: v,
            kind: KINDS[d.rng.gen_range(0..KINDS.len())],
            started_at: started,
            hours: crate::amount::Hours::from_minutes(minutes).to_decimal(),
            place: String::new(),
            note: String::new(),
        };
        let sid = ServiceId(d.writer.id());
        let domain = |e: crate::domain::DomainError| StoreError::InvalidAppend(e.to_string());
        let logged = volunteer::log_service(state_c, &state_v, &cmd, sid, &ctx).map_err(domain)?;
        for e in &logged {
            state_v.evolve(e);
        }
        let verify = VerifyService {
            volunteer_id: v,
            service_id: sid,
        };
        let entry = EntryId(d.writer.id());
        let verified =
            volunteer::verify_service(state_c, &state_v, &verify, entry, &ctx).map_err(domain)?;
        for e in logged.into_iter().chain(verified) {
            d.writer.push(volunteer_stream(v), id, e);
        }
    } else {
        let award = Event::PointsAwarded {
            entry_id: EntryId(d.writer.id()),
            points: crate::amount::Points::whole(d.rng.gen_range(1..=20)),
            reason: format!("{} 楼道清理", local_date(now)),
            awarded_by: admin_id,
            expires_on: None,
        };
        d.writer.push(volunteer_stream(v), id, award);
    }
    Ok(())
}

/// Grows the district until `events` have been written in all: volunteers register
/// (spread over the communities, until each has its number) while the registered serve
/// and are awarded points, on days of the last two years.
pub async fn grow(
    store: &Store,
    d: &mut District,
    events: u64,
    progress: impl Fn(u64),
) -> Result<(), StoreError> {
    let end = Utc::now() - Duration::days(1);
    let wanted = d.communities.len() * d.volunteers as usize;
    while d.writer.sent() + (d.writer.pending.len() as u64) < events {
        let ci = d.rng.gen_range(0..d.communities.len());
        let room = d.communities[ci].volunteers.len() < d.volunteers as usize;
        // Register while there is room, about half the time (or whenever no one is yet).
        if room && (d.communities[ci].volunteers.is_empty() || d.rng.gen_bool(0.5)) {
            register(d, ci);
        } else if !d.communities[ci].volunteers.is_empty() {
            serve(d, ci, end)?;
        } else if d.volunteers() >= wanted {
            break;
        }
        if d.writer.pending.len() >= BATCH {
            d.writer.flush(store, &progress).await?;
        }
    }
    d.writer.flush(store, &progress).await?;
    d.writer.settle(&progress).await
}

/// [`setup`], then [`grow`] to `opts.events`.
pub async fn load(
    store: &Store,
    opts: &BulkOptions,
    progress: impl Fn(u64),
) -> Result<District, StoreError> {
    let mut d = setup(store, opts, &progress).await?;
    grow(store, &mut d, opts.events, &progress).await?;
    Ok(d)
}
