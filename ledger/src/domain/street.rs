//! Streets (街道) and districts (区): the organisation above communities. A street
//! office runs 10–30 communities, a district 10–20 streets. Both are established and
//! renamed by administrators; a community joins (or leaves) a street, and a street a
//! district, from a given day (UTC+8), which may be earlier than today but never
//! before the membership's last change, so history is only ever added to.
//!
//! A community's street is kept in the community's own stream (one street at a time,
//! decided on that stream's version); a street's district in the street's stream.

use super::*;
use crate::event::{self as ev};
use serde::{Deserialize, Serialize};

/// 建立区 (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstablishDistrict {
    pub name: String,
}

/// 建立街道 (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstablishStreet {
    pub name: String,
}

/// Renames a street.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenameStreet {
    pub street_id: StreetId,
    pub name: String,
}

/// Renames a district.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenameDistrict {
    pub district_id: DistrictId,
    pub name: String,
}

/// A community joins a street from `from` (leaving its street, if any).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinStreet {
    pub community_id: CommunityId,
    pub street_id: StreetId,
    pub from: NaiveDate,
}

/// A community leaves its street from `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaveStreet {
    pub community_id: CommunityId,
    pub from: NaiveDate,
}

/// A street joins a district from `from` (leaving its district, if any).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinDistrict {
    pub street_id: StreetId,
    pub district_id: DistrictId,
    pub from: NaiveDate,
}

/// A street leaves its district from `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaveDistrict {
    pub street_id: StreetId,
    pub from: NaiveDate,
}

/// What something belonged to over time: `(from, parent)` in order of `from`; `None`
/// from a day on means it belonged to nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership<P> {
    pub changes: Vec<(NaiveDate, Option<P>)>,
}

impl<P> Default for Membership<P> {
    fn default() -> Self {
        Membership {
            changes: Vec::new(),
        }
    }
}

impl<P: Copy + PartialEq + std::fmt::Display> Membership<P> {
    /// What it belonged to on `day`.
    pub fn on(&self, day: NaiveDate) -> Option<P> {
        self.changes
            .iter()
            .rev()
            .find(|(from, _)| *from <= day)
            .and_then(|(_, p)| *p)
    }

    /// What it belongs to from its last change on.
    pub fn latest(&self) -> Option<P> {
        self.changes.last().and_then(|(_, p)| *p)
    }

    fn record(&mut self, from: NaiveDate, parent: Option<P>) {
        self.changes.push((from, parent));
    }

    /// Checks a change to `parent` from `from`: not before the last change, and a
    /// change indeed.
    fn check(&self, from: NaiveDate, parent: Option<P>, what: &str) -> DomainResult<()> {
        if let Some((last, _)) = self.changes.last() {
            if from < *last {
                return Err(DomainError::InvalidInput {
                    field: "from",
                    reason: format!(
                        "{from} is before the last change of this {what}'s membership ({last}); history is only added to"
                    ),
                });
            }
        }
        match (self.latest(), parent) {
            (Some(now), Some(p)) if now == p => Err(DomainError::invalid_state(format!(
                "this {what} already belongs to {p}"
            ))),
            (None, None) => Err(DomainError::invalid_state(format!(
                "this {what} belongs to none"
            ))),
            _ => Ok(()),
        }
    }

    /// Checks leaving from `from`, and says what is left.
    fn leaving(&self, from: NaiveDate, what: &str) -> DomainResult<P> {
        self.check(from, None, what)?;
        self.latest()
            .ok_or_else(|| DomainError::invalid_state(format!("this {what} belongs to none")))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreetState {
    pub street_id: Option<StreetId>,
    pub name: String,
    pub district: Membership<DistrictId>,
}

impl StreetState {
    /// The street's id, or NOT_FOUND.
    pub fn require(&self, id: StreetId) -> DomainResult<StreetId> {
        match self.street_id {
            Some(s) if s == id => Ok(s),
            _ => Err(DomainError::not_found("street", id)),
        }
    }
}

impl Aggregate for StreetState {
    fn evolve(&mut self, event: &Event) {
        match event {
            Event::StreetEstablished(e) => {
                self.street_id = Some(e.street_id);
                self.name = e.name.clone();
            }
            Event::StreetRenamed(e) => self.name = e.name.clone(),
            Event::StreetJoinedDistrict(e) => self.district.record(e.from, Some(e.district_id)),
            Event::StreetLeftDistrict(e) => self.district.record(e.from, None),
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DistrictState {
    pub district_id: Option<DistrictId>,
    pub name: String,
}

impl DistrictState {
    /// The district's id, or NOT_FOUND.
    pub fn require(&self, id: DistrictId) -> DomainResult<DistrictId> {
        match self.district_id {
            Some(d) if d == id => Ok(d),
            _ => Err(DomainError::not_found("district", id)),
        }
    }
}

impl Aggregate for DistrictState {
    fn evolve(&mut self, event: &Event) {
        match event {
            Event::DistrictEstablished(e) => {
                self.district_id = Some(e.district_id);
                self.name = e.name.clone();
            }
            Event::DistrictRenamed(e) => self.name = e.name.clone(),
            _ => {}
        }
    }
}

/// A community's street over time, folded from its stream.
pub(super) fn evolve_community_street(street: &mut Membership<StreetId>, event: &Event) {
    match event {
        Event::CommunityJoinedStreet(e) => street.record(e.from, Some(e.street_id)),
        Event::CommunityLeftStreet(e) => street.record(e.from, None),
        _ => {}
    }
}

pub fn establish_district(
    state: &DistrictState,
    cmd: &EstablishDistrict,
    district_id: DistrictId,
) -> DomainResult<Vec<Event>> {
    if state.district_id.is_some() {
        return Err(DomainError::AlreadyExists {
            kind: "district",
            id: district_id.to_string(),
        });
    }
    Ok(vec![Event::DistrictEstablished(ev::DistrictEstablished {
        district_id,
        name: required_text("name", &cmd.name, MAX_NAME)?,
    })])
}

pub fn establish_street(
    state: &StreetState,
    cmd: &EstablishStreet,
    street_id: StreetId,
) -> DomainResult<Vec<Event>> {
    if state.street_id.is_some() {
        return Err(DomainError::AlreadyExists {
            kind: "street",
            id: street_id.to_string(),
        });
    }
    Ok(vec![Event::StreetEstablished(ev::StreetEstablished {
        street_id,
        name: required_text("name", &cmd.name, MAX_NAME)?,
    })])
}

pub fn rename_street(state: &StreetState, cmd: &RenameStreet) -> DomainResult<Vec<Event>> {
    state.require(cmd.street_id)?;
    let name = required_text("name", &cmd.name, MAX_NAME)?;
    Ok(vec![Event::StreetRenamed(ev::StreetRenamed { name })])
}

pub fn rename_district(state: &DistrictState, cmd: &RenameDistrict) -> DomainResult<Vec<Event>> {
    state.require(cmd.district_id)?;
    let name = required_text("name", &cmd.name, MAX_NAME)?;
    Ok(vec![Event::DistrictRenamed(ev::DistrictRenamed { name })])
}

pub fn join_street(
    community: &CommunityState,
    street: &StreetState,
    cmd: &JoinStreet,
) -> DomainResult<Vec<Event>> {
    community.require(cmd.community_id)?;
    street.require(cmd.street_id)?;
    community
        .street
        .check(cmd.from, Some(cmd.street_id), "community")?;
    Ok(vec![Event::CommunityJoinedStreet(
        ev::CommunityJoinedStreet {
            street_id: cmd.street_id,
            from: cmd.from,
        },
    )])
}

pub fn leave_street(community: &CommunityState, cmd: &LeaveStreet) -> DomainResult<Vec<Event>> {
    community.require(cmd.community_id)?;
    let street_id = community.street.leaving(cmd.from, "community")?;
    Ok(vec![Event::CommunityLeftStreet(ev::CommunityLeftStreet {
        street_id,
        from: cmd.from,
    })])
}

pub fn join_district(
    street: &StreetState,
    district: &DistrictState,
    cmd: &JoinDistrict,
) -> DomainResult<Vec<Event>> {
    street.require(cmd.street_id)?;
    district.require(cmd.district_id)?;
    street
        .district
        .check(cmd.from, Some(cmd.district_id), "street")?;
    Ok(vec![Event::StreetJoinedDistrict(
        ev::StreetJoinedDistrict {
            district_id: cmd.district_id,
            from: cmd.from,
        },
    )])
}

pub fn leave_district(street: &StreetState, cmd: &LeaveDistrict) -> DomainResult<Vec<Event>> {
    street.require(cmd.street_id)?;
    let district_id = street.district.leaving(cmd.from, "street")?;
    Ok(vec![Event::StreetLeftDistrict(ev::StreetLeftDistrict {
        district_id,
        from: cmd.from,
    })])
}
