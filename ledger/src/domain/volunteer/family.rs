//! Relatives (家属): a family link between two volunteers, recorded by staff with both
//! sides' consent on both accounts, ended by either side or by staff; where the
//! community's hours rules say so, banked hours are gifted only to a linked relative.
//! Hours spent on a service a volunteer gave name that volunteer, and their service is
//! recorded on their account in the same append (verified at once when staff record
//! it, otherwise waiting for staff like any service logged).

use super::super::community::{CommunityState, HoursRules};
use super::super::*;
use super::{verification, SpendHours, VolunteerState};
use crate::event::{Provider, ServiceKind};
use serde::{Deserialize, Serialize};

/// Links a relative (staff), with both sides' consent: `relation` is what the relative
/// is to the volunteer (母亲, 配偶, 子女…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRelative {
    pub volunteer_id: VolunteerId,
    pub relative_id: VolunteerId,
    pub relation: String,
    /// That both sides agreed, as staff saw it (signed form, in person…): required.
    pub consent: bool,
}

/// Ends a family link (either side, or staff), with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnlinkRelative {
    pub volunteer_id: VolunteerId,
    pub relative_id: VolunteerId,
    #[serde(default)]
    pub reason: String,
}

/// Longest relation (母亲, 外孙女…), in characters.
pub const MAX_RELATION: usize = 20;

/// A link: `(volunteer events, relative events)`.
pub fn link(
    volunteer: &VolunteerState,
    relative: &VolunteerState,
    cmd: &LinkRelative,
    ctx: &Ctx,
) -> DomainResult<(Vec<Event>, Vec<Event>)> {
    require_staff(ctx.actor)?;
    volunteer.require_active(cmd.volunteer_id)?;
    relative.require_active(cmd.relative_id)?;
    if cmd.volunteer_id == cmd.relative_id {
        return Err(DomainError::InvalidInput {
            field: "relative_id",
            reason: "a volunteer is not their own relative".into(),
        });
    }
    if !cmd.consent {
        return Err(DomainError::InvalidInput {
            field: "consent",
            reason: "the consent of both sides must be recorded".into(),
        });
    }
    if volunteer.relatives.contains_key(&cmd.relative_id) {
        return Err(DomainError::AlreadyExists {
            kind: "relative link",
            id: format!("{} {}", cmd.volunteer_id, cmd.relative_id),
        });
    }
    let relation = required_text("relation", &cmd.relation, MAX_RELATION)?;
    Ok((
        vec![Event::RelativeLinked {
            relative: cmd.relative_id,
            relation,
            linked_by: ctx.principal(),
        }],
        vec![Event::RelativeLinked {
            relative: cmd.volunteer_id,
            relation: String::new(),
            linked_by: ctx.principal(),
        }],
    ))
}

/// An end of a link: `(volunteer events, relative events)`.
pub fn unlink(
    volunteer: &VolunteerState,
    relative: &VolunteerState,
    cmd: &UnlinkRelative,
    ctx: &Ctx,
) -> DomainResult<(Vec<Event>, Vec<Event>)> {
    volunteer.require(cmd.volunteer_id)?;
    relative.require(cmd.relative_id)?;
    let me = ctx.actor.volunteer_id;
    if !ctx.actor.is_staff_or_admin() && me != Some(cmd.volunteer_id) && me != Some(cmd.relative_id)
    {
        return Err(DomainError::forbidden(
            "only either side or staff end a link",
        ));
    }
    if !volunteer.relatives.contains_key(&cmd.relative_id) {
        return Err(DomainError::not_found(
            "relative link",
            format!("{} {}", cmd.volunteer_id, cmd.relative_id),
        ));
    }
    let reason = text("reason", cmd.reason.trim(), MAX_TEXT)?;
    let ended = |relative| Event::RelativeUnlinked {
        relative,
        reason: reason.clone(),
        unlinked_by: ctx.principal(),
    };
    Ok((vec![ended(cmd.relative_id)], vec![ended(cmd.volunteer_id)]))
}

/// Whether `from` may gift hours to `to` under the hours rules in force.
pub fn gift_allowed(
    rules: &HoursRules,
    from: &VolunteerState,
    to: VolunteerId,
) -> DomainResult<()> {
    match (rules.gifts_to_relatives_only, from.volunteer_id) {
        (true, Some(f)) if !from.relatives.contains_key(&to) => {
            Err(DomainError::RelativeLinkRequired {
                from: f,
                to,
                rule_version: rules.version,
            })
        }
        _ => Ok(()),
    }
}

/// The service a volunteer gave for hours spent, on their account: logged, and verified
/// at once by the rules in force when staff record it. `ids`: the service and the
/// provider's entry.
pub fn provided_service(
    community: &CommunityState,
    payer: &VolunteerState,
    provider: &VolunteerState,
    cmd: &SpendHours,
    ids: (ServiceId, EntryId),
    ctx: &Ctx,
) -> DomainResult<(Provider, Vec<Event>)> {
    let Some(provider_id) = cmd.provider else {
        return Err(DomainError::Required { field: "provider" });
    };
    let (service_id, entry_id) = ids;
    if provider.require_active(provider_id)? != payer.require(cmd.volunteer_id)? {
        return Err(DomainError::forbidden(
            "the provider is a volunteer of the same community",
        ));
    }
    if provider_id == cmd.volunteer_id {
        return Err(DomainError::InvalidInput {
            field: "provider",
            reason: "a volunteer does not pay themself".into(),
        });
    }
    if ctx.actor.volunteer_id == Some(provider_id) {
        return Err(DomainError::SelfVerification { service_id });
    }
    let hours = positive_hours("hours", cmd.hours)?;
    let kind = cmd.kind.unwrap_or(ServiceKind::Other);
    let mut events = vec![Event::ServiceLogged {
        imported: None,
        service_id,
        kind,
        started_at: ctx.now,
        hours,
        place: String::new(),
        note: required_text("description", &cmd.description, MAX_TEXT)?,
        logged_by: ctx.principal(),
        activity: None,
    }];
    if ctx.actor.is_staff_or_admin() {
        events.push(verification(
            community,
            service_id,
            kind,
            ctx.now,
            hours,
            entry_id,
            ctx.principal(),
        )?);
    }
    Ok((
        Provider {
            volunteer_id: provider_id,
            service_id,
        },
        events,
    ))
}
