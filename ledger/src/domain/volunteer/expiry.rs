//! Points expiry on an account (积分到期): each credit of points (a verified service or
//! an award) is a lot, dated by the expiry rule in force when it was credited. Points
//! are spent oldest first; a cancelled redemption gives back to the lots it took from; a
//! reversal takes from its own lot first, then from the oldest, and what no lot covers
//! leaves the balance below zero (flagged). What is left of a lot on its expiry day is
//! expired by an event the server writes ([`expire_points`]); a reversal of a credit
//! partly expired takes back only what had not expired.
//!
//! So at every moment: points balance = what is left of the lots − what reversals could
//! not take from any lot.

use super::super::community::ExpiryRule;
use super::super::*;
use super::VolunteerState;
use crate::event::ExpiredLot;
use serde::{Deserialize, Serialize};

/// Expires what is left of the account's lots due today or earlier (the server, or
/// staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpirePoints {
    pub volunteer_id: VolunteerId,
}

/// One credit of points and what is left of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lot {
    pub entry: EntryId,
    pub remaining: Points,
    pub expired: Points,
    /// The first day it is no longer valid (none: it does not expire).
    pub expires_on: Option<NaiveDate>,
}

impl VolunteerState {
    pub(super) fn credit_lot(
        &mut self,
        entry: EntryId,
        points: Points,
        expires_on: Option<NaiveDate>,
    ) {
        if points.is_positive() {
            self.lots.push(Lot {
                entry,
                remaining: points,
                expired: Points::ZERO,
                expires_on,
            });
        }
    }

    /// Takes `points` from the lots, oldest first (`first`: that lot before the others);
    /// returns what each gave.
    pub(super) fn take(
        &mut self,
        mut points: Points,
        first: Option<EntryId>,
    ) -> Vec<(EntryId, Points)> {
        let mut order: Vec<usize> = (0..self.lots.len()).collect();
        if let Some(i) = first.and_then(|f| self.lots.iter().position(|l| l.entry == f)) {
            order.retain(|x| *x != i);
            order.insert(0, i);
        }
        let mut taken = Vec::new();
        for i in order {
            if !points.is_positive() {
                break;
            }
            let lot = &mut self.lots[i];
            let t = points.min(lot.remaining);
            if t.is_positive() {
                lot.remaining = lot.remaining.saturating_sub(t);
                points = points.saturating_sub(t);
                taken.push((lot.entry, t));
            }
        }
        taken
    }

    pub(super) fn spend_lots(&mut self, redemption: EntryId, points: Points) {
        let taken = self.take(points, None);
        self.spent_from.insert(redemption, taken);
    }

    pub(super) fn refund_lots(&mut self, redemption: EntryId) {
        for (entry, p) in self.spent_from.remove(&redemption).unwrap_or_default() {
            if let Some(lot) = self.lots.iter_mut().find(|l| l.entry == entry) {
                lot.remaining = lot.remaining.saturating_add(p);
            }
        }
    }

    pub(super) fn reverse_lot(&mut self, reverses: EntryId, points: Points) {
        self.take(points, Some(reverses));
    }

    pub(super) fn expire_lots(&mut self, lots: &[ExpiredLot]) {
        for e in lots {
            if let Some(lot) = self.lots.iter_mut().find(|l| l.entry == e.entry) {
                lot.remaining = lot.remaining.saturating_sub(e.points);
                lot.expired = lot.expired.saturating_add(e.points);
            }
        }
    }

    /// Points of a credit that have expired.
    pub fn expired_of(&self, entry: EntryId) -> Points {
        self.lots
            .iter()
            .find(|l| l.entry == entry)
            .map_or(Points::ZERO, |l| l.expired)
    }

    /// What is left of the lots due on or before `day`, oldest first.
    pub fn due_on(&self, day: NaiveDate) -> Vec<ExpiredLot> {
        self.lots
            .iter()
            .filter(|l| l.expires_on.is_some_and(|d| d <= day) && l.remaining.is_positive())
            .map(|l| ExpiredLot {
                entry: l.entry,
                points: l.remaining,
            })
            .collect()
    }

    /// Points that will expire after `from` and up to `to` (inclusive), per day.
    pub fn expiring(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, Points)> {
        let mut by_day: std::collections::BTreeMap<NaiveDate, Points> = Default::default();
        for l in &self.lots {
            if let Some(d) = l.expires_on.filter(|d| *d > from && *d <= to) {
                if l.remaining.is_positive() {
                    let p = by_day.entry(d).or_insert(Points::ZERO);
                    *p = p.saturating_add(l.remaining);
                }
            }
        }
        by_day.into_iter().collect()
    }
}

/// What every credit to an account follows, as of the day it is credited: the hours
/// rules (the stored-hours cap) and the points expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditRules {
    pub hours: super::super::community::HoursRules,
    pub expiry: ExpiryRule,
    pub today: NaiveDate,
}

impl CreditRules {
    /// Caps the hours and dates the points of the credits among `events`, written to
    /// `account` in order.
    pub fn apply(&self, account: &VolunteerState, events: &mut [Event]) {
        super::cap_credits(account, &self.hours, events);
        stamp_expiry(&self.expiry, self.today, events);
    }
}

/// Dates the points of the credits among `events` by the expiry rule in force on
/// `today` (the day they are credited).
pub fn stamp_expiry(rule: &ExpiryRule, today: NaiveDate, events: &mut [Event]) {
    let Some(day) = rule.expires_on(today) else {
        return;
    };
    for e in events {
        match e {
            Event::ServiceVerified {
                points, expires_on, ..
            }
            | Event::PointsAwarded {
                points, expires_on, ..
            } if points.is_positive() => *expires_on = Some(day),
            _ => {}
        }
    }
}

/// The expiry of what is left of the lots due today (China Standard Time).
pub fn expire_points(
    volunteer: &VolunteerState,
    cmd: &ExpirePoints,
    entry_id: EntryId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    volunteer.require(cmd.volunteer_id)?;
    let lots = volunteer.due_on(local_date(ctx.now));
    if lots.is_empty() {
        return Err(DomainError::NoPointsDue {
            volunteer_id: cmd.volunteer_id,
        });
    }
    let points = lots
        .iter()
        .fold(Points::ZERO, |sum, l| sum.saturating_add(l.points));
    Ok(vec![Event::PointsExpired {
        entry_id,
        points,
        lots,
        expired_by: ctx.principal(),
    }])
}
