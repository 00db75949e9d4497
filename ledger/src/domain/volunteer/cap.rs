//! The stored-hours cap (时间银行存储上限), a versioned hours rule: an account banks at
//! most the cap. A verified service that would take the balance above it banks what
//! fits and records the rest as `over_cap` on its event (said on the statement); the
//! rest still counts for stars and service totals. A gift that would take the
//! recipient above it is refused (`HOURS_CAP_REACHED`): the giver keeps their hours.
//! A reversal takes back what its entry banked.

use super::super::community::HoursRules;
use super::super::*;
use super::VolunteerState;

/// The part of `hours` credited to an account at `balance` that is over `cap`.
pub fn over_cap(cap: Option<Hours>, balance: Hours, hours: Hours) -> Hours {
    let Some(cap) = cap else {
        return Hours::ZERO;
    };
    let room = cap
        .saturating_sub(balance.max(Hours::ZERO))
        .max(Hours::ZERO);
    hours.saturating_sub(room).max(Hours::ZERO)
}

/// Sets `over_cap` on the verified services among `events` written to `account`, in
/// order, under the cap of `rules`.
pub fn cap_credits(account: &VolunteerState, rules: &HoursRules, events: &mut [Event]) {
    let Some(cap) = rules.stored_hours_cap else {
        return;
    };
    let mut balance = account.hours;
    for e in events.iter_mut() {
        match e {
            Event::ServiceVerified {
                hours, over_cap: o, ..
            } => {
                *o = over_cap(Some(cap), balance, *hours);
                balance = balance.saturating_add(hours.saturating_sub(*o));
            }
            Event::HoursSpent { hours, .. } | Event::HoursGifted { hours, .. } => {
                balance = balance.saturating_sub(*hours);
            }
            _ => {}
        }
    }
}

/// Whether `account` may receive `hours` without going above the cap.
pub fn may_receive(rules: &HoursRules, account: &VolunteerState, hours: Hours) -> DomainResult<()> {
    match (rules.stored_hours_cap, account.volunteer_id) {
        (Some(cap), Some(v)) if account.hours.saturating_add(hours) > cap => {
            Err(DomainError::HoursCapReached {
                volunteer_id: v,
                cap,
                balance: account.hours,
                rule_version: rules.version,
            })
        }
        _ => Ok(()),
    }
}
