//! The volunteer account aggregate (志愿者账户): registration, moves and teams, service
//! records (志愿服务记录), points (积分) and time-bank hours (时间银行).
//!
//! Balances, derived from the events:
//! - points = verified service points + awards − redemptions − reversed points;
//! - hours = banked (verified) − reversed − gifted + received − spent;
//! - the account is *flagged* while its points or its hours balance is below zero (only
//!   a reversal can cause that); redemptions are refused while it is flagged.
//!
//! Redemptions, gifts and hours spent are never undone (a reversal of them is refused);
//! verified services and awards can be reversed, each at most once.

use super::community::CommunityState;
use super::*;
use crate::command::{
    AwardPoints, DepartVolunteer, ErasePersonalData, GiftHours, JoinTeam, LeaveTeam, LogService,
    MoveVolunteer, RedeemPoints, RegisterVolunteer, RejectService, ReverseEntry, SpendHours,
    VerifyService,
};
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

    fn add_entry(&mut self, id: EntryId, kind: EntryKind, points: Points, hours: Hours) {
        self.entries.insert(
            id,
            Entry {
                kind,
                points,
                hours,
                reversed_by: None,
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
            Event::VolunteerDeparted { .. } => self.departed = true,
            Event::PersonalDataErased {} => self.personal_data_erased = true,
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
                ..
            } => {
                if let Some(s) = self.services.get_mut(service_id) {
                    s.status = ServiceStatus::Verified {
                        entry_id: *entry_id,
                    };
                }
                self.add_entry(*entry_id, EntryKind::ServiceVerified, *points, *hours);
                self.points = self.points.saturating_add(*points);
                self.hours = self.hours.saturating_add(*hours);
                self.verified_hours = self.verified_hours.saturating_add(*hours);
            }
            Event::ServiceRejected { service_id, .. } => {
                if let Some(s) = self.services.get_mut(service_id) {
                    s.status = ServiceStatus::Rejected;
                }
            }
            Event::PointsAwarded {
                entry_id, points, ..
            } => {
                self.add_entry(*entry_id, EntryKind::PointsAwarded, *points, Hours::ZERO);
                self.points = self.points.saturating_add(*points);
            }
            Event::PointsRedeemed {
                entry_id, points, ..
            } => {
                self.add_entry(*entry_id, EntryKind::PointsRedeemed, *points, Hours::ZERO);
                self.points = self.points.saturating_sub(*points);
            }
            Event::EntryReversed {
                entry_id,
                reverses,
                points,
                hours,
                ..
            } => {
                if let Some(e) = self.entries.get_mut(reverses) {
                    e.reversed_by = Some(*entry_id);
                }
                self.add_entry(*entry_id, EntryKind::Reversal, *points, *hours);
                self.points = self.points.saturating_sub(*points);
                self.hours = self.hours.saturating_sub(*hours);
                self.verified_hours = self.verified_hours.saturating_sub(*hours);
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
            Event::HoursSpent {
                entry_id, hours, ..
            } => {
                self.add_entry(*entry_id, EntryKind::HoursSpent, Points::ZERO, *hours);
                self.hours = self.hours.saturating_sub(*hours);
            }
            _ => {}
        }
    }
}

/// Registration: `(community events, volunteer events)`. The community assigns the
/// next volunteer number; the grid is the stairwell's grid.
pub fn register(
    community: &CommunityState,
    volunteer: &VolunteerState,
    cmd: &RegisterVolunteer,
    volunteer_id: VolunteerId,
    households: &HouseholdKey,
) -> DomainResult<(Vec<Event>, Vec<Event>)> {
    let community_id = community.require(cmd.community_id)?;
    if volunteer.exists() {
        return Err(DomainError::AlreadyExists {
            kind: "volunteer",
            id: volunteer_id.to_string(),
        });
    }
    required_text("name", &cmd.name, MAX_NAME)?;
    if let Some(p) = &cmd.phone {
        text("phone", p, 20)?;
    }
    if let Some(n) = &cmd.id_number {
        text("id_number", n, 18)?;
    }
    let grid_id = community.stairwell(cmd.stairwell_id)?.grid_id;
    if cmd.tags.len() > 10 {
        return Err(DomainError::InvalidInput {
            field: "tags",
            reason: "at most 10 tags".into(),
        });
    }
    let tags = cmd
        .tags
        .iter()
        .map(|t| required_text("tags", t, 20))
        .collect::<DomainResult<Vec<_>>>()?;
    for t in &cmd.teams {
        community.require_team(*t)?;
    }
    let teams: Vec<TeamId> = crate::event::team_set(&cmd.teams).into_iter().collect();
    let household =
        household(cmd.household.as_deref())?.map(|h| households.pseudonym(cmd.stairwell_id, &h));
    let volunteer_number = community.next_volunteer_number();
    Ok((
        vec![Event::VolunteerEnrolled {
            volunteer_id,
            volunteer_number: volunteer_number.clone(),
        }],
        vec![Event::VolunteerRegistered {
            volunteer_id,
            community_id,
            volunteer_number,
            stairwell_id: cmd.stairwell_id,
            grid_id,
            tags,
            teams,
            household,
        }],
    ))
}

/// The key of the pseudonyms events carry for households (the deployment key
/// `household`, kept beside the log): a room number tied to a volunteer is personal
/// data, so the log keeps a keyed hash of the stairwell and the label, which tells
/// households apart (for 邻里互助) and, without the key, nothing more.
#[derive(Clone)]
pub struct HouseholdKey([u8; 32]);

impl HouseholdKey {
    pub fn new(secret: &str) -> HouseholdKey {
        use sha2::Digest;
        HouseholdKey(sha2::Sha256::digest(secret.as_bytes()).into())
    }

    /// Secret bytes derived from the key, for salting the hashes of personal data that
    /// command records keep (so that they cannot be reversed by trying the few likely
    /// values with the record alone).
    pub fn pepper(&self) -> &[u8] {
        &self.0
    }

    /// The pseudonym of household `label` (as validated) in `stairwell`: `hh-` and 24
    /// hex digits (96 bits).
    pub fn pseudonym(&self, stairwell: StairwellId, label: &str) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.0);
        h.update(stairwell.0.as_bytes());
        h.update(label.as_bytes());
        format!("hh-{}", hex::encode(&h.finalize()[..12]))
    }
}

impl std::fmt::Debug for HouseholdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HouseholdKey(..)")
    }
}

/// Longest household label (e.g. "3-2-201"), in characters.
pub const MAX_HOUSEHOLD: usize = 30;

/// An optional household label: trimmed, not blank, at most [`MAX_HOUSEHOLD`] characters.
fn household(value: Option<&str>) -> DomainResult<Option<String>> {
    value
        .map(|h| required_text("household", h, MAX_HOUSEHOLD))
        .transpose()
}

pub fn move_volunteer(
    community: &CommunityState,
    volunteer: &VolunteerState,
    cmd: &MoveVolunteer,
    households: &HouseholdKey,
) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    let grid_id = community.stairwell(cmd.stairwell_id)?.grid_id;
    let household =
        household(cmd.household.as_deref())?.map(|h| households.pseudonym(cmd.stairwell_id, &h));
    if volunteer.stairwell_id == Some(cmd.stairwell_id) && volunteer.household == household {
        return Err(DomainError::invalid_state(
            "the volunteer already lives there",
        ));
    }
    Ok(vec![Event::VolunteerMoved {
        stairwell_id: cmd.stairwell_id,
        grid_id,
        household,
    }])
}

pub fn join_team(
    community: &CommunityState,
    volunteer: &VolunteerState,
    cmd: &JoinTeam,
) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    community.require_team(cmd.team_id)?;
    if volunteer.teams.contains(&cmd.team_id) {
        return Err(DomainError::invalid_state("already a member of the team"));
    }
    Ok(vec![Event::TeamJoined {
        team_id: cmd.team_id,
    }])
}

pub fn leave_team(volunteer: &VolunteerState, cmd: &LeaveTeam) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    if !volunteer.teams.contains(&cmd.team_id) {
        return Err(DomainError::not_found("team membership", cmd.team_id));
    }
    Ok(vec![Event::TeamLeft {
        team_id: cmd.team_id,
    }])
}

/// Erasing personal data: recorded once (a repeat writes nothing); a departed
/// volunteer's data can be erased too.
pub fn erase_personal_data(
    volunteer: &VolunteerState,
    cmd: &ErasePersonalData,
) -> DomainResult<Vec<Event>> {
    volunteer.require(cmd.volunteer_id)?;
    if volunteer.personal_data_erased {
        return Ok(vec![]);
    }
    Ok(vec![Event::PersonalDataErased {}])
}

pub fn depart(volunteer: &VolunteerState, cmd: &DepartVolunteer) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    Ok(vec![Event::VolunteerDeparted {
        reason: required_text("reason", &cmd.reason, MAX_TEXT)?,
    }])
}

/// Hours of one service record, checked against the cap of the rules in force on the
/// service date.
pub fn service_hours(
    community: &CommunityState,
    hours: Decimal,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
    field: &'static str,
) -> DomainResult<Hours> {
    let hours = positive_hours("hours", hours)?;
    if started_at > now {
        return Err(DomainError::InFuture {
            field,
            at: started_at,
            now,
        });
    }
    let rules = community.point_rules_on(local_date(started_at));
    if hours > rules.max_hours_per_record {
        return Err(DomainError::HoursOverCap {
            hours,
            cap: rules.max_hours_per_record,
            rule_version: rules.version,
        });
    }
    Ok(hours)
}

pub fn log_service(
    community: &CommunityState,
    volunteer: &VolunteerState,
    cmd: &LogService,
    service_id: ServiceId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    let hours = service_hours(community, cmd.hours, cmd.started_at, ctx.now, "started_at")?;
    // Only time actually served counts: a service is logged once it is over.
    let ends = cmd.started_at + chrono::Duration::minutes(hours.minutes());
    if ends > ctx.now {
        return Err(DomainError::InFuture {
            field: "the end of the service (started_at + hours)",
            at: ends,
            now: ctx.now,
        });
    }
    Ok(vec![Event::ServiceLogged {
        service_id,
        kind: cmd.kind,
        started_at: cmd.started_at,
        hours,
        place: text("place", &cmd.place, 200)?,
        note: text("note", &cmd.note, MAX_TEXT)?,
        logged_by: ctx.principal(),
    }])
}

fn pending_service<'a>(
    volunteer: &'a VolunteerState,
    volunteer_id: VolunteerId,
    service_id: ServiceId,
    ctx: &Ctx,
) -> DomainResult<&'a Service> {
    volunteer.require(volunteer_id)?;
    let service = volunteer
        .services
        .get(&service_id)
        .ok_or_else(|| DomainError::not_found("service", service_id))?;
    match service.status {
        ServiceStatus::Logged => {}
        ServiceStatus::Verified { .. } => {
            return Err(DomainError::AlreadyVerified {
                service_id,
                status: "verified",
            })
        }
        ServiceStatus::Rejected => {
            return Err(DomainError::AlreadyVerified {
                service_id,
                status: "rejected",
            })
        }
    }
    if ctx.actor.volunteer_id == Some(volunteer_id) {
        return Err(DomainError::SelfVerification { service_id });
    }
    Ok(service)
}

/// The verification of a service by the rules in force on its date.
pub fn verification(
    community: &CommunityState,
    service_id: ServiceId,
    kind: ServiceKind,
    started_at: DateTime<Utc>,
    hours: Hours,
    entry_id: EntryId,
    verified_by: Uuid,
) -> DomainResult<Event> {
    let rules = community.point_rules_on(local_date(started_at));
    let points = rules
        .points_for(hours, kind)
        .ok_or_else(|| DomainError::InvalidInput {
            field: "hours",
            reason: "points overflow".into(),
        })?;
    Ok(Event::ServiceVerified {
        service_id,
        entry_id,
        hours,
        points,
        rule_version: rules.version,
        verified_by,
    })
}

pub fn verify_service(
    community: &CommunityState,
    volunteer: &VolunteerState,
    cmd: &VerifyService,
    entry_id: EntryId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    let s = pending_service(volunteer, cmd.volunteer_id, cmd.service_id, ctx)?;
    Ok(vec![verification(
        community,
        cmd.service_id,
        s.kind,
        s.started_at,
        s.hours,
        entry_id,
        ctx.principal(),
    )?])
}

pub fn reject_service(
    volunteer: &VolunteerState,
    cmd: &RejectService,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    pending_service(volunteer, cmd.volunteer_id, cmd.service_id, ctx)?;
    Ok(vec![Event::ServiceRejected {
        service_id: cmd.service_id,
        reason: required_text("reason", &cmd.reason, MAX_TEXT)?,
        rejected_by: ctx.principal(),
    }])
}

pub fn award(
    volunteer: &VolunteerState,
    cmd: &AwardPoints,
    entry_id: EntryId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    let points = positive_points("points", cmd.points)?;
    if ctx.actor.volunteer_id == Some(cmd.volunteer_id) {
        return Err(DomainError::SelfAward {
            volunteer_id: cmd.volunteer_id,
        });
    }
    Ok(vec![Event::PointsAwarded {
        entry_id,
        points,
        reason: required_text("reason", &cmd.reason, MAX_TEXT)?,
        awarded_by: ctx.principal(),
    }])
}

pub fn redeem(
    volunteer: &VolunteerState,
    cmd: &RedeemPoints,
    entry_id: EntryId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    volunteer.require(cmd.volunteer_id)?;
    let points = positive_points("points", cmd.points)?;
    let item = required_text("item", &cmd.item, MAX_NAME)?;
    if volunteer.flagged() {
        return Err(DomainError::AccountFlagged {
            points: volunteer.points,
            hours: volunteer.hours,
        });
    }
    if points > volunteer.points {
        return Err(DomainError::InsufficientPoints {
            balance: volunteer.points,
            requested: points,
        });
    }
    Ok(vec![Event::PointsRedeemed {
        entry_id,
        points,
        item,
        redeemed_by: ctx.principal(),
    }])
}

/// A reversal always succeeds for a reversible entry not yet reversed, even if the
/// balance goes below zero (the account is then flagged).
pub fn reverse(
    volunteer: &VolunteerState,
    cmd: &ReverseEntry,
    entry_id: EntryId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    volunteer.require(cmd.volunteer_id)?;
    let reason = required_text("reason", &cmd.reason, MAX_TEXT)?;
    let entry = volunteer
        .entries
        .get(&cmd.entry_id)
        .ok_or_else(|| DomainError::not_found("entry", cmd.entry_id))?;
    if !entry.kind.reversible() {
        return Err(DomainError::NotReversible {
            entry_id: cmd.entry_id,
            kind: entry.kind.as_str(),
        });
    }
    if let Some(by) = entry.reversed_by {
        return Err(DomainError::AlreadyReversed {
            entry_id: cmd.entry_id,
            reversed_by: by,
        });
    }
    Ok(vec![Event::EntryReversed {
        entry_id,
        reverses: cmd.entry_id,
        points: entry.points,
        hours: entry.hours,
        reason,
        reversed_by: ctx.principal(),
    }])
}

/// A gift: `(sender events, recipient events)`, one entry id on both sides.
pub fn gift(
    from: &VolunteerState,
    to: &VolunteerState,
    cmd: &GiftHours,
    entry_id: EntryId,
    ctx: &Ctx,
) -> DomainResult<(Vec<Event>, Vec<Event>)> {
    from.require_active(cmd.from)?;
    to.require_active(cmd.to)?;
    if cmd.from == cmd.to {
        return Err(DomainError::InvalidInput {
            field: "to",
            reason: "cannot gift hours to oneself".into(),
        });
    }
    // Staff moving someone else's hours into their own bound account.
    if ctx.actor.volunteer_id == Some(cmd.to) {
        return Err(DomainError::SelfAward {
            volunteer_id: cmd.to,
        });
    }
    let hours = positive_hours("hours", cmd.hours)?;
    if hours > from.hours {
        return Err(DomainError::InsufficientHours {
            balance: from.hours,
            requested: hours,
        });
    }
    Ok((
        vec![Event::HoursGifted {
            entry_id,
            to: cmd.to,
            hours,
        }],
        vec![Event::HoursReceived {
            entry_id,
            from: cmd.from,
            hours,
        }],
    ))
}

pub fn spend(
    volunteer: &VolunteerState,
    cmd: &SpendHours,
    entry_id: EntryId,
) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    let hours = positive_hours("hours", cmd.hours)?;
    let description = required_text("description", &cmd.description, MAX_TEXT)?;
    if hours > volunteer.hours {
        return Err(DomainError::InsufficientHours {
            balance: volunteer.hours,
            requested: hours,
        });
    }
    Ok(vec![Event::HoursSpent {
        entry_id,
        hours,
        description,
    }])
}
