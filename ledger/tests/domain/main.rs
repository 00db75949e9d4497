//! Domain rules as given events / when command / then events or error. Pure: no database.
//!
//! Two styles: [`Given`] (`world()`, `account(..)`) runs a command's real plan on given
//! events, with its authorization and its result; the rest call a rule of
//! `ledger::domain` on states folded from events (`given(&[..])`). One module per concept.

mod account;
mod activities;
mod communities;
mod expiry;
mod family;
mod history;
mod record;
mod registration;
mod services;
mod shop;
mod stairwells;
mod streets;
mod transfer;
mod wishes;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ledger::amount::{AmountError, Hours, Points};
use ledger::command::*;
use ledger::domain::community::{self, CommunityState};
use ledger::domain::stairwell::{self, StairwellState};
use ledger::domain::volunteer::{self, VolunteerState};
use ledger::domain::wish::{self, WishState};
use ledger::domain::{Aggregate, Ctx, DomainError, IdSource};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::testing::Given;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 4, 0, 0).unwrap()
}
fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 0, 0).unwrap()
}
fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}
const C: CommunityId = CommunityId(Uuid::from_u128(1));
const G: GridId = GridId(Uuid::from_u128(2));
const S: StairwellId = StairwellId(Uuid::from_u128(3));
const T: TeamId = TeamId(Uuid::from_u128(4));
const V: VolunteerId = VolunteerId(Uuid::from_u128(10));
const V2: VolunteerId = VolunteerId(Uuid::from_u128(11));
const W: WishId = WishId(Uuid::from_u128(20));
const STAFF: Uuid = Uuid::from_u128(99);

fn staff() -> Actor {
    Actor::staff(STAFF, C)
}
fn vol(v: VolunteerId) -> Actor {
    Actor::volunteer(v, C)
}
fn ctx(actor: &Actor) -> Ctx<'_> {
    Ctx::new(now(), actor, IdSource::from_key("test"))
}
fn entry(n: u128) -> EntryId {
    EntryId(Uuid::from_u128(1000 + n))
}

fn community_events() -> Vec<Event> {
    vec![
        Event::CommunityEstablished {
            community_id: C,
            name: "幸福社区".into(),
        },
        Event::GridAdded {
            grid_id: G,
            name: "第1网格".into(),
            parent: None,
        },
        Event::StairwellRegistered {
            stairwell_id: S,
            grid_id: G,
            building: "1号楼".into(),
            unit: "1单元".into(),
            households: 24,
        },
        Event::TeamFormed {
            team_id: T,
            name: "邻里互助".into(),
        },
    ]
}

fn given<S: Aggregate>(events: &[Event]) -> S {
    S::from_events(events)
}

fn community() -> CommunityState {
    given(&community_events())
}

fn registered(v: VolunteerId) -> Event {
    Event::VolunteerRegistered {
        volunteer_id: v,
        community_id: C,
        volunteer_number: "TB-000001".into(),
        stairwell_id: S,
        grid_id: G,
        tags: vec!["党员".into()],
        teams: vec![],
        household: None,
    }
}

fn logged(service: u128, started: DateTime<Utc>, minutes: i64, kind: ServiceKind) -> Event {
    Event::ServiceLogged {
        imported: None,
        service_id: ServiceId(Uuid::from_u128(service)),
        kind,
        started_at: started,
        hours: Hours::from_minutes(minutes),
        place: String::new(),
        note: String::new(),
        logged_by: V.0,
        activity: None,
    }
}

fn awarded(n: u128, points: i64) -> Event {
    Event::PointsAwarded {
        entry_id: entry(n),
        points: Points::whole(points),
        reason: "r".into(),
        awarded_by: STAFF,
        expires_on: None,
    }
}

fn verified(service: u128, n: u128, minutes: i64, points: i64) -> Event {
    Event::ServiceVerified {
        service_id: ServiceId(Uuid::from_u128(service)),
        entry_id: entry(n),
        hours: Hours::from_minutes(minutes),
        points: Points::whole(points),
        rule_version: 0,
        verified_by: STAFF,
        over_cap: Hours::ZERO,
        expires_on: None,
    }
}

fn log_cmd(hours: &str, started_at: DateTime<Utc>) -> LogService {
    LogService {
        volunteer_id: V,
        kind: ServiceKind::Patrol,
        started_at,
        hours: dec(hours),
        place: "小区东门".into(),
        note: String::new(),
    }
}

fn log(state: &VolunteerState, cmd: &LogService) -> Result<Vec<Event>, DomainError> {
    volunteer::log_service(
        &community(),
        state,
        cmd,
        ServiceId(Uuid::from_u128(500)),
        &ctx(&vol(V)),
    )
}

fn hk() -> volunteer::HouseholdKey {
    volunteer::HouseholdKey::new("test key")
}

fn code<T: std::fmt::Debug>(r: Result<T, DomainError>) -> &'static str {
    r.expect_err("expected an error").code()
}

/// The community of [`community_events`], given to a command.
fn world() -> Given {
    ledger::testing::given().community(C, community_events())
}

/// The community and `V`'s account with these events.
fn account(events: impl IntoIterator<Item = Event>) -> Given {
    world().volunteer(V, events)
}
