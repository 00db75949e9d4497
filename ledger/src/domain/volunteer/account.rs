//! Points (积分) and time-bank hours (时间银行) on a volunteer account: awards,
//! redemptions that never overdraw, reversals (冲正) that always succeed and may flag the
//! account, gifts of hours between volunteers, and hours spent on receiving a service.

use super::super::*;
use super::VolunteerState;
use serde::{Deserialize, Serialize};

/// 积分奖励 (staff); a reason is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwardPoints {
    pub volunteer_id: VolunteerId,
    pub points: Decimal,
    pub reason: String,
}

/// 积分奖励 to many volunteers at once (staff), with one reason: every award or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwardPointsToMany {
    pub volunteer_ids: Vec<VolunteerId>,
    pub points: Decimal,
    pub reason: String,
}

/// Most volunteers one [`AwardPointsToMany`] names.
pub const MAX_AWARDED_AT_ONCE: usize = 500;

/// Redemption at the points shop (积分超市); never overdraws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedeemPoints {
    pub volunteer_id: VolunteerId,
    pub points: Decimal,
    pub item: String,
}

/// Corrects an earlier entry (a verified service or an award); `impact`: what it
/// changes, as previewed for the clerk, kept on the correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReverseEntry {
    pub volunteer_id: VolunteerId,
    pub entry_id: EntryId,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<crate::event::CorrectionNote>,
}

/// Gifts banked hours to another volunteer (a relative).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GiftHours {
    pub from: VolunteerId,
    pub to: VolunteerId,
    pub hours: Decimal,
}

/// Spends banked hours on receiving a service; when a volunteer of the community gave
/// it (`provider`), their service is recorded in the same append (of `kind`, 其他 when
/// not said), verified at once when staff record it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendHours {
    pub volunteer_id: VolunteerId,
    pub hours: Decimal,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<VolunteerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::event::ServiceKind>,
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
        expires_on: None,
    }])
}

/// The volunteers of an award to many: 1 to [`MAX_AWARDED_AT_ONCE`], each once.
pub fn award_list(cmd: &AwardPointsToMany) -> DomainResult<&[VolunteerId]> {
    let n = cmd.volunteer_ids.len();
    if n == 0 {
        return Err(DomainError::Required {
            field: "volunteer_ids",
        });
    }
    if n > MAX_AWARDED_AT_ONCE {
        return Err(DomainError::InvalidInput {
            field: "volunteer_ids",
            reason: format!("at most {MAX_AWARDED_AT_ONCE} volunteers at once"),
        });
    }
    let distinct: std::collections::BTreeSet<_> = cmd.volunteer_ids.iter().collect();
    if distinct.len() != n {
        return Err(DomainError::InvalidInput {
            field: "volunteer_ids",
            reason: "a volunteer is named twice".into(),
        });
    }
    Ok(&cmd.volunteer_ids)
}

/// One volunteer's award of an award to many: the rule of [`award`].
pub fn award_one_of_many(
    volunteer: &VolunteerState,
    volunteer_id: VolunteerId,
    cmd: &AwardPointsToMany,
    entry_id: EntryId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    let one = AwardPoints {
        volunteer_id,
        points: cmd.points,
        reason: cmd.reason.clone(),
    };
    award(volunteer, &one, entry_id, ctx)
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
    let entry = volunteer.entry(cmd.entry_id)?;
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
    // What expired of it already left the balance: the reversal takes back the rest.
    Ok(vec![Event::EntryReversed {
        batch: None,
        entry_id,
        reverses: cmd.entry_id,
        points: entry
            .points
            .saturating_sub(volunteer.expired_of(cmd.entry_id)),
        hours: entry.hours,
        reason,
        reversed_by: ctx.principal(),
        over_cap: entry.over_cap,
        impact: cmd.impact.clone(),
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

/// The debit of hours spent; `provider` names who gave the service and its record on
/// their account (see [`super::provided_service`]).
pub fn spend(
    volunteer: &VolunteerState,
    cmd: &SpendHours,
    entry_id: EntryId,
    provider: Option<crate::event::Provider>,
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
        provider,
    }])
}
