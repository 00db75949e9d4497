//! A bulk loader of valid history, for benchmarks at district scale (`timebank
//! bulk-load`): a district of streets of communities, each with its grids, stairwells,
//! teams and volunteers, then years of verified services and points awards, written
//! straight to the store in large appends (thousands of events each), not through the
//! command handler one command at a time.
//!
//! Valid by construction: the organisation and registrations are the events the
//! commands write; every service is logged and verified by the domain's own rules
//! ([`crate::domain::volunteer::log_service`] and
//! [`crate::domain::volunteer::verify_service`] on the volunteer's state, with the
//! point rules of the service's day), and an account's state is folded from what was
//! written. Deterministic for a seed (ids and choices), except the times the store
//! records. Names and phones are not written (the benchmark reads no personal data:
//! volunteers show as erased).

use crate::actor::Actor;
use crate::command::{LogService, VerifyService};
use crate::domain::{community::CommunityState, volunteer, Aggregate, Ctx, IdSource};
use crate::domain::{local_date, VolunteerState};
use crate::event::{self as ev, Event, ServiceKind};
use crate::ids::*;
use crate::store::StoreError;
use crate::store::{AppendRequest, ExpectedVersion, Metadata, Store, StreamWrite};
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
    /// Volunteers per community.
    pub volunteers: u32,
    /// Events in all (at least the organisation's and the registrations').
    pub events: u64,
    pub seed: u64,
}

/// What was loaded.
#[derive(Debug, Clone)]
pub struct BulkSummary {
    pub district: DistrictId,
    pub streets: Vec<StreetId>,
    pub communities: Vec<CommunityId>,
    pub events: u64,
}

/// Events per append.
const BATCH: usize = 4_000;

/// The appends of one load: streams' versions, and what is waiting to be written.
struct Writer<'a> {
    store: &'a Store,
    seed: u64,
    counter: u128,
    versions: HashMap<String, u64>,
    pending: Vec<(String, Option<CommunityId>, Event)>,
    written: u64,
    actor: Uuid,
}

impl Writer<'_> {
    fn id(&mut self) -> Uuid {
        self.counter += 1;
        // Unique and deterministic; spread like random ids by a multiplicative hash.
        let x = (u128::from(self.seed) << 96) ^ self.counter;
        Uuid::from_u128(x.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835))
    }

    fn push(&mut self, stream: String, community: Option<CommunityId>, event: Event) {
        self.pending.push((stream, community, event));
    }

    async fn flush_if_full(&mut self, progress: &impl Fn(u64)) -> Result<(), StoreError> {
        if self.pending.len() >= BATCH {
            self.flush(progress).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, progress: &impl Fn(u64)) -> Result<(), StoreError> {
        let mut writes: Vec<StreamWrite> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let metadata = Metadata {
            actor: Some(self.actor),
            role: Some("admin".into()),
            ..Metadata::default()
        };
        for (stream, community, event) in std::mem::take(&mut self.pending) {
            let new = event
                .to_new_event(self.id(), metadata.clone(), community)
                .map_err(|e| StoreError::InvalidAppend(e.to_string()))?;
            let i = *index.entry(stream.clone()).or_insert_with(|| {
                let version = self.versions.get(&stream).copied().unwrap_or(0);
                writes.push(StreamWrite {
                    stream_id: stream.clone(),
                    expected: ExpectedVersion::Exact(version),
                    events: Vec::new(),
                });
                writes.len() - 1
            });
            writes[i].events.push(new);
        }
        let n: u64 = writes.iter().map(|w| w.events.len() as u64).sum();
        for w in &writes {
            *self.versions.entry(w.stream_id.clone()).or_insert(0) += w.events.len() as u64;
        }
        self.store
            .append_request(AppendRequest {
                writes,
                command: None,
            })
            .await?;
        self.written += n;
        progress(self.written);
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

/// One community's organisation and volunteers: its events, and the volunteers with
/// their states.
fn community_events(
    w: &mut Writer<'_>,
    street: StreetId,
    name: String,
    volunteers: u32,
) -> (
    CommunityId,
    CommunityState,
    Vec<(VolunteerId, VolunteerState)>,
) {
    let c = CommunityId(w.id());
    let cs = community_stream(c);
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
    let mut people = Vec::with_capacity(volunteers as usize);
    let mut registrations = Vec::with_capacity(volunteers as usize);
    for n in 0..volunteers as usize {
        let v = VolunteerId(w.id());
        let number = format!("TB-{:06}", n + 1);
        org.push(Event::VolunteerEnrolled {
            volunteer_id: v,
            volunteer_number: number.clone(),
        });
        let (s, g) = stairwells[n % stairwells.len()];
        let registered = Event::VolunteerRegistered {
            volunteer_id: v,
            community_id: c,
            volunteer_number: number,
            stairwell_id: s,
            grid_id: g,
            tags: if n % 5 == 0 {
                vec!["党员".into()]
            } else {
                vec![]
            },
            teams: vec![teams[n % teams.len()]],
            household: None,
        };
        people.push((v, VolunteerState::from_events([&registered])));
        registrations.push((volunteer_stream(v), registered));
    }
    let state = CommunityState::from_events(&org);
    for e in org {
        w.push(cs.clone(), Some(c), e);
    }
    for (s, e) in registrations {
        w.push(s, Some(c), e);
    }
    (c, state, people)
}

/// Loads a district: `opts.streets` streets of `opts.communities_per_street`
/// communities, then services and awards until `opts.events`. `progress` is told the
/// events written so far.
pub async fn load(
    store: &Store,
    opts: &BulkOptions,
    progress: impl Fn(u64),
) -> Result<BulkSummary, StoreError> {
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let admin_id = Uuid::from_u128(0x6275_6c6b_0000_0000_0000_0000_0000_0001);
    let admin = Actor::admin(admin_id);
    let mut w = Writer {
        store,
        seed: opts.seed,
        counter: 0,
        versions: HashMap::new(),
        pending: Vec::new(),
        written: 0,
        actor: admin_id,
    };
    let district = DistrictId(w.id());
    w.push(
        district_stream(district),
        None,
        Event::DistrictEstablished(ev::DistrictEstablished {
            district_id: district,
            name: "示范区".into(),
        }),
    );
    let total_communities = u64::from(opts.streets * opts.communities_per_street).max(1);
    let per_community = opts.events / total_communities;
    let end = Utc::now() - Duration::days(1);
    let mut streets = Vec::new();
    let mut communities = Vec::new();
    for si in 0..opts.streets {
        let street = StreetId(w.id());
        let ss = street_stream(street);
        w.push(
            ss.clone(),
            None,
            Event::StreetEstablished(ev::StreetEstablished {
                street_id: street,
                name: format!("第{}街道", si + 1),
            }),
        );
        w.push(
            ss,
            None,
            Event::StreetJoinedDistrict(ev::StreetJoinedDistrict {
                district_id: district,
                from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default(),
            }),
        );
        streets.push(street);
        for ci in 0..opts.communities_per_street {
            let name = format!("第{}街道第{}社区", si + 1, ci + 1);
            let before = w.written + w.pending.len() as u64;
            let (c, state, mut people) = community_events(&mut w, street, name, opts.volunteers);
            communities.push(c);
            let mut budget =
                per_community.saturating_sub(w.written + w.pending.len() as u64 - before);
            w.flush_if_full(&progress).await?;
            while budget > 0 && !people.is_empty() {
                let (v, state_v) = {
                    let i = rng.gen_range(0..people.len());
                    let (v, s) = &mut people[i];
                    (*v, s)
                };
                // A service on a day of the last two years, or (one in five) an award.
                let day_back = rng.gen_range(1..730);
                let started: DateTime<Utc> = Utc.from_utc_datetime(
                    &(end - Duration::days(day_back))
                        .date_naive()
                        .and_hms_opt(1, 0, 0)
                        .unwrap_or_default(),
                );
                let now = started + Duration::hours(10);
                let ids = IdSource::new(w.id());
                let ctx = Ctx::new(now, &admin, ids);
                let vs = volunteer_stream(v);
                if budget >= 2 && rng.gen_ratio(4, 5) {
                    let minutes = 30 * rng.gen_range(1..=8);
                    let cmd = LogService {
                        volunteer_id: v,
                        kind: KINDS[rng.gen_range(0..KINDS.len())],
                        started_at: started,
                        hours: ledger_hours(minutes),
                        place: String::new(),
                        note: String::new(),
                    };
                    let sid = ServiceId(w.id());
                    let logged = volunteer::log_service(&state, state_v, &cmd, sid, &ctx)
                        .map_err(|e| StoreError::InvalidAppend(e.to_string()))?;
                    for e in &logged {
                        state_v.evolve(e);
                    }
                    let verify = VerifyService {
                        volunteer_id: v,
                        service_id: sid,
                    };
                    let entry = EntryId(w.id());
                    let verified = volunteer::verify_service(&state, state_v, &verify, entry, &ctx)
                        .map_err(|e| StoreError::InvalidAppend(e.to_string()))?;
                    for e in logged.into_iter().chain(verified) {
                        state_v.evolve(&e);
                        w.push(vs.clone(), Some(c), e);
                    }
                    budget = budget.saturating_sub(2);
                } else {
                    let award = Event::PointsAwarded {
                        entry_id: EntryId(w.id()),
                        points: crate::amount::Points::whole(rng.gen_range(1..=20)),
                        reason: format!("{} 楼道清理", local_date(now)),
                        awarded_by: admin_id,
                        expires_on: None,
                    };
                    state_v.evolve(&award);
                    w.push(vs, Some(c), award);
                    budget -= 1;
                }
                w.flush_if_full(&progress).await?;
            }
            // Each account's state is no longer needed once its community is written.
            drop(people);
        }
    }
    w.flush(&progress).await?;
    Ok(BulkSummary {
        district,
        streets,
        communities,
        events: w.written,
    })
}

fn ledger_hours(minutes: i64) -> rust_decimal::Decimal {
    crate::amount::Hours::from_minutes(minutes).to_decimal()
}
