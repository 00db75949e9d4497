//! The volunteer account aggregate (志愿者账户): registration, moves and teams, service
//! records (志愿服务记录), points (积分) and time-bank hours (时间银行).
//!
//! Balances, derived from the events:
//! - points = verified service points + awards − redemptions − reversed points −
//!   expired points (each credit is a lot that may expire: `expiry`);
//! - hours = banked (verified) − reversed − gifted + received − spent;
//! - the account is *flagged* while its points or its hours balance is below zero (only
//!   a reversal can cause that); redemptions are refused while it is flagged.
//!
//! Redemptions, gifts and hours spent are never undone (a reversal of them is refused);
//! verified services and awards can be reversed, each at most once.
//!
//! The state and its `evolve` are here; the decisions are in `registration` (register,
//! move, teams, depart, erase), `service` (log, verify, reject), `account` (points and
//! hours) and `family` (relatives, gifts only to them where the rules say so, and the
//! service a volunteer gave for hours spent) and `record` (training, commendations and
//! evaluations of services), and `transfer` (a move to another community, 转移接续).

mod account;
mod cap;
mod expiry;
mod family;
mod record;
mod registration;
mod service;
mod transfer;

pub use account::*;
pub use cap::*;
pub use expiry::*;
pub use family::*;
pub use record::*;
pub use registration::*;
pub use service::*;
pub use transfer::*;

use super::*;
use crate::event::ServiceKind;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStatus {
    Logged,
    Verified { entry_id: EntryId },
    Rejected,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub kind: ServiceKind,
    pub started_at: DateTime<Utc>,
    pub hours: Hours,
    pub logged_by: Uuid,
    pub status: ServiceStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    ServiceVerified,
    PointsAwarded,
    PointsRedeemed,
    Reversal,
    HoursGifted,
    HoursReceived,
    HoursSpent,
    PointsRefunded,
    PointsExpired,
    /// Points that stayed with the community left at a transfer.
    PointsLeft,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::ServiceVerified => "ServiceVerified",
            EntryKind::PointsAwarded => "PointsAwarded",
            EntryKind::PointsRedeemed => "PointsRedeemed",
            EntryKind::Reversal => "EntryReversed",
            EntryKind::HoursGifted => "HoursGifted",
            EntryKind::HoursReceived => "HoursReceived",
            EntryKind::HoursSpent => "HoursSpent",
            EntryKind::PointsRefunded => "PointsRefunded",
            EntryKind::PointsExpired => "PointsExpired",
            EntryKind::PointsLeft => "VolunteerTransferred",
        }
    }

    pub fn reversible(self) -> bool {
        matches!(self, EntryKind::ServiceVerified | EntryKind::PointsAwarded)
    }
}

/// A balance-changing entry; `points` and `hours` are what it credited (or debited),
/// as magnitudes.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub kind: EntryKind,
    pub points: Points,
    pub hours: Hours,
    pub reversed_by: Option<EntryId>,
    /// Of a verified service, the hours not banked (over the stored-hours cap).
    pub over_cap: Hours,
    /// The community the volunteer belonged to when it was made (a correction of it
    /// after a move to another community is recorded there, where it counted).
    pub community: Option<CommunityId>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolunteerState {
    pub volunteer_id: Option<VolunteerId>,
    pub community_id: Option<CommunityId>,
    pub volunteer_number: String,
    pub stairwell_id: Option<StairwellId>,
    pub grid_id: Option<GridId>,
    /// The household (户) in the stairwell, when given.
    pub household: Option<String>,
    pub tags: Vec<String>,
    pub teams: BTreeSet<TeamId>,
    /// Linked relatives (家属) and what each is to this volunteer.
    pub relatives: BTreeMap<VolunteerId, String>,
    pub departed: bool,
    /// Whether the personal data was erased (by a `PersonalDataErased`).
    pub personal_data_erased: bool,
    pub services: BTreeMap<ServiceId, Service>,
    pub entries: BTreeMap<EntryId, Entry>,
    /// Points balance.
    pub points: Points,
    /// Hours balance (banked − reversed − gifted + received − spent).
    pub hours: Hours,
    /// Verified hours for stars (banked − reversed).
    pub verified_hours: Hours,
    /// Training, commendations and evaluations (服务档案).
    pub record: ServiceRecord,
    /// Each credit of points and what is left of it, oldest first (for expiry).
    pub lots: Vec<Lot>,
    /// Per redemption, what it took from each lot (given back if it is cancelled).
    pub spent_from: BTreeMap<EntryId, Vec<(EntryId, Points)>>,
}

impl VolunteerState {
    pub fn exists(&self) -> bool {
        self.volunteer_id.is_some()
    }

    /// Flagged while the points or the hours balance is below zero (only a reversal
    /// can leave one there).
    pub fn flagged(&self) -> bool {
        self.points.is_negative() || self.hours.is_negative()
    }

    /// The community of a registered volunteer, or NOT_FOUND.
    pub fn require(&self, id: VolunteerId) -> DomainResult<CommunityId> {
        match (self.volunteer_id, self.community_id) {
            (Some(v), Some(c)) if v == id => Ok(c),
            _ => Err(DomainError::not_found("volunteer", id)),
        }
    }

    /// Registered and not departed.
    pub fn require_active(&self, id: VolunteerId) -> DomainResult<CommunityId> {
        let c = self.require(id)?;
        if self.departed {
            return Err(DomainError::invalid_state(format!(
                "volunteer {id} has departed"
            )));
        }
        Ok(c)
    }

    /// An entry of the account, or NOT_FOUND.
    pub fn entry(&self, id: EntryId) -> DomainResult<&Entry> {
        self.entries
            .get(&id)
            .ok_or_else(|| DomainError::not_found("entry", id))
    }

    fn add_entry(&mut self, id: EntryId, kind: EntryKind, points: Points, hours: Hours) {
        self.entries.insert(
            id,
            Entry {
                kind,
                points,
                hours,
                reversed_by: None,
                over_cap: Hours::ZERO,
                community: self.community_id,
            },
        );
    }
}

impl Aggregate for VolunteerState {
    fn evolve(&mut self, event: &Event) {
        match event {
            Event::VolunteerRegistered {
                volunteer_id,
                community_id,
                volunteer_number,
                stairwell_id,
                grid_id,
                tags,
                teams,
                household,
            } => {
                self.volunteer_id = Some(*volunteer_id);
                self.household = household.clone();
                self.community_id = Some(*community_id);
                self.volunteer_number = volunteer_number.clone();
                self.stairwell_id = Some(*stairwell_id);
                self.grid_id = Some(*grid_id);
                self.tags = tags.clone();
                self.teams = crate::event::team_set(teams);
            }
            Event::VolunteerMoved {
                stairwell_id,
                grid_id,
                household,
            } => {
                self.stairwell_id = Some(*stairwell_id);
                self.grid_id = Some(*grid_id);
                self.household = household.clone();
            }
            Event::TeamJoined { team_id } => {
                self.teams.insert(*team_id);
            }
            Event::TeamLeft { team_id } => {
                self.teams.remove(team_id);
            }
            Event::VolunteerTransferred(t) => self.transferred(t),
            Event::VolunteerDeparted { .. } => self.departed = true,
            Event::PersonalDataErased {} => self.personal_data_erased = true,
            Event::VolunteerTagsSet { tags } => self.tags = tags.clone(),
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                hours,
                logged_by,
                ..
            } => {
                self.services.insert(
                    *service_id,
                    Service {
                        kind: *kind,
                        started_at: *started_at,
                        hours: *hours,
                        logged_by: *logged_by,
                        status: ServiceStatus::Logged,
                    },
                );
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                hours,
                points,
                over_cap,
                expires_on,
                ..
            } => {
                self.credit_lot(*entry_id, *points, *expires_on);
                if let Some(s) = self.services.get_mut(service_id) {
                    s.status = ServiceStatus::Verified {
                        entry_id: *entry_id,
                    };
                }
                self.add_entry(*entry_id, EntryKind::ServiceVerified, *points, *hours);
                if let Some(e) = self.entries.get_mut(entry_id) {
                    e.over_cap = *over_cap;
                }
                self.points = self.points.saturating_add(*points);
                self.hours = self.hours.saturating_add(hours.saturating_sub(*over_cap));
                self.verified_hours = self.verified_hours.saturating_add(*hours);
            }
            Event::ServiceRejected { service_id, .. } => {
                if let Some(s) = self.services.get_mut(service_id) {
                    s.status = ServiceStatus::Rejected;
                }
            }
            Event::PointsAwarded {
                entry_id,
                points,
                expires_on,
                ..
            } => {
                self.credit_lot(*entry_id, *points, *expires_on);
                self.add_entry(*entry_id, EntryKind::PointsAwarded, *points, Hours::ZERO);
                self.points = self.points.saturating_add(*points);
            }
            Event::PointsRedeemed {
                entry_id, points, ..
            } => {
                self.spend_lots(*entry_id, *points);
                self.add_entry(*entry_id, EntryKind::PointsRedeemed, *points, Hours::ZERO);
                self.points = self.points.saturating_sub(*points);
            }
            Event::EntryReversed {
                entry_id,
                reverses,
                points,
                hours,
                over_cap,
                ..
            } => {
                if let Some(e) = self.entries.get_mut(reverses) {
                    e.reversed_by = Some(*entry_id);
                }
                self.reverse_lot(*reverses, *points);
                self.add_entry(*entry_id, EntryKind::Reversal, *points, *hours);
                self.points = self.points.saturating_sub(*points);
                self.hours = self.hours.saturating_sub(hours.saturating_sub(*over_cap));
                self.verified_hours = self.verified_hours.saturating_sub(*hours);
            }
            Event::PointsRefunded {
                entry_id,
                refunds,
                points,
                ..
            } => {
                if let Some(e) = self.entries.get_mut(refunds) {
                    e.reversed_by = Some(*entry_id);
                }
                self.refund_lots(*refunds);
                self.add_entry(*entry_id, EntryKind::PointsRefunded, *points, Hours::ZERO);
                self.points = self.points.saturating_add(*points);
            }
            Event::HoursGifted {
                entry_id, hours, ..
            } => {
                self.add_entry(*entry_id, EntryKind::HoursGifted, Points::ZERO, *hours);
                self.hours = self.hours.saturating_sub(*hours);
            }
            Event::HoursReceived {
                entry_id, hours, ..
            } => {
                self.add_entry(*entry_id, EntryKind::HoursReceived, Points::ZERO, *hours);
                self.hours = self.hours.saturating_add(*hours);
            }
            Event::RelativeLinked {
                relative, relation, ..
            } => {
                self.relatives.insert(*relative, relation.clone());
            }
            Event::RelativeUnlinked { relative, .. } => {
                self.relatives.remove(relative);
            }
            Event::HoursSpent {
                entry_id, hours, ..
            } => {
                self.add_entry(*entry_id, EntryKind::HoursSpent, Points::ZERO, *hours);
                self.hours = self.hours.saturating_sub(*hours);
                self.record.evolve(event);
            }
            Event::PointsExpired {
                entry_id,
                points,
                lots,
                ..
            } => {
                self.expire_lots(lots);
                self.add_entry(*entry_id, EntryKind::PointsExpired, *points, Hours::ZERO);
                self.points = self.points.saturating_sub(*points);
            }
            Event::TrainingRecorded { .. }
            | Event::CommendationGiven { .. }
            | Event::RecordWithdrawn { .. }
            | Event::ServiceEvaluated { .. } => self.record.evolve(event),
            _ => {}
        }
    }
}
