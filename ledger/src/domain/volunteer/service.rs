//! Service records (志愿服务记录) on a volunteer account: logged (by the volunteer or
//! staff), then verified by staff under the point rules in force on the service date
//! (hours banked, points credited) or rejected with a reason.

use super::super::community::{CommunityState, PointRules};
use super::super::*;
use super::{Service, ServiceStatus, VolunteerState};
use crate::event::ServiceKind;
use serde::{Deserialize, Serialize};

/// Logs a service (by the volunteer or by staff), awaiting verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogService {
    pub volunteer_id: VolunteerId,
    pub kind: ServiceKind,
    pub started_at: DateTime<Utc>,
    pub hours: Decimal,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub note: String,
}

/// Verifies a logged service (staff; not their own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyService {
    pub volunteer_id: VolunteerId,
    pub service_id: ServiceId,
}

/// Rejects a logged service, with a reason (staff; not their own); `impact`: what it
/// changes, as previewed before it was confirmed (kept on the event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectService {
    pub volunteer_id: VolunteerId,
    pub service_id: ServiceId,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<crate::event::CorrectionNote>,
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
    within_cap(community, hours, local_date(started_at))?;
    Ok(hours)
}

/// `HOURS_OVER_CAP` when `hours` are more than one record may hold under the point rules
/// in force on `day`.
pub fn within_cap(community: &CommunityState, hours: Hours, day: NaiveDate) -> DomainResult<()> {
    let rules = community.point_rules_on(day);
    if hours > rules.max_hours_per_record {
        return Err(DomainError::HoursOverCap {
            hours,
            cap: rules.max_hours_per_record,
            rule_version: rules.version,
        });
    }
    Ok(())
}

/// The points `rules` give `hours` of `kind` (`INVALID_INPUT` when they overflow).
pub fn points_by(rules: &PointRules, hours: Hours, kind: ServiceKind) -> DomainResult<Points> {
    rules
        .points_for(hours, kind)
        .ok_or_else(|| DomainError::InvalidInput {
            field: "hours",
            reason: "points overflow".into(),
        })
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
        imported: None,
        service_id,
        kind: cmd.kind,
        started_at: cmd.started_at,
        hours,
        place: text("place", &cmd.place, MAX_PLACE)?,
        note: text("note", &cmd.note, MAX_TEXT)?,
        logged_by: ctx.principal(),
        activity: None,
    }])
}

fn pending_service<'a>(
    volunteer: &'a VolunteerState,
    volunteer_id: VolunteerId,
    service_id: ServiceId,
    ctx: &Ctx,
) -> DomainResult<&'a Service> {
    let service = logged(volunteer, volunteer_id, service_id)?;
    if ctx.actor.volunteer_id == Some(volunteer_id) {
        return Err(DomainError::SelfVerification { service_id });
    }
    Ok(service)
}

/// The service, still waiting for verification.
fn logged(
    volunteer: &VolunteerState,
    volunteer_id: VolunteerId,
    service_id: ServiceId,
) -> DomainResult<&Service> {
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
    Ok(service)
}

/// What verifying the logged service would credit (its hours, and its points by the
/// rules in force on its date): what rejecting it keeps from the volunteer. Read by the
/// correction preview (NOT_FOUND, ALREADY_VERIFIED as the rejection would answer).
pub fn pending_value(
    community: &CommunityState,
    volunteer: &VolunteerState,
    volunteer_id: VolunteerId,
    service_id: ServiceId,
) -> DomainResult<(Hours, Points, NaiveDate)> {
    let s = logged(volunteer, volunteer_id, service_id)?;
    let day = local_date(s.started_at);
    let points = points_by(&community.point_rules_on(day), s.hours, s.kind)?;
    Ok((s.hours, points, day))
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
    let points = points_by(&rules, hours, kind)?;
    Ok(Event::ServiceVerified {
        service_id,
        entry_id,
        hours,
        points,
        rule_version: rules.version,
        verified_by,
        over_cap: Hours::ZERO,
        expires_on: None,
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
        impact: cmd.impact.clone(),
    }])
}
