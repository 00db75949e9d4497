//! One volunteer's account in minor units, and how a volunteer-stream event changes it
//! (the balance rules of the module's documentation).

use crate::common::local_date;
use crate::projection::Envelope;
use chrono::NaiveDate;
use ledger::event::Event;
use uuid::Uuid;

/// One volunteer's account, in minor units (points in hundredths, hours in minutes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub community_id: Option<Uuid>,
    pub volunteer_number: String,
    pub points_balance: i64,
    pub points_earned: i64,
    pub points_spent: i64,
    pub points_reversed: i64,
    /// Points whose validity ended (积分到期).
    pub points_expired: i64,
    /// Points that stayed with a community the volunteer moved away from.
    pub points_left: i64,
    /// Hours balance (banked − reversed − gifted + received − spent).
    pub hours_banked: i64,
    pub hours_gifted: i64,
    pub hours_received: i64,
    pub hours_spent: i64,
    pub hours_reversed: i64,
    pub verified_minutes: i64,
    pub position: u64,
    /// (day, verified minutes after, points earned net of reversals after) for every
    /// entry that changed either: what the stars are evaluated on.
    pub timeline: Vec<(NaiveDate, i64, i64)>,
}

impl Account {
    /// Flagged: a reversal left the points or the hours balance below zero.
    pub fn flagged(&self) -> bool {
        self.points_balance < 0 || self.hours_banked < 0
    }

    /// Points earned net of reversals (spending does not lower it): what a star rule
    /// with points counts.
    pub fn star_points(&self) -> i64 {
        self.points_earned - self.points_reversed
    }
}

/// Folds one volunteer-stream event into an account; returns the new (verified minutes,
/// star points) when either changed (a timeline point, also pushed onto the account's
/// timeline).
pub fn evolve(acc: &mut Account, ev: &Envelope) -> Option<(i64, i64)> {
    let before = (acc.verified_minutes, acc.star_points());
    match &ev.event {
        Event::VolunteerRegistered {
            community_id,
            volunteer_number,
            ..
        } => {
            acc.community_id = Some(community_id.0);
            acc.volunteer_number = volunteer_number.clone();
        }
        // The account follows the person; points that stayed leave the balance.
        Event::VolunteerTransferred(t) => {
            acc.community_id = Some(t.community_id.0);
            acc.volunteer_number = t.volunteer_number.clone();
            if let Some(left) = t.points_left {
                acc.points_left += left.points.hundredths();
                acc.points_balance -= left.points.hundredths();
            }
        }
        // Hours over the stored-hours cap count as verified, not in the balance.
        Event::ServiceVerified {
            hours,
            points,
            over_cap,
            ..
        } => {
            acc.points_earned += points.hundredths();
            acc.points_balance += points.hundredths();
            acc.hours_banked += hours.minutes() - over_cap.minutes();
            acc.verified_minutes += hours.minutes();
        }
        Event::PointsAwarded { points, .. } => {
            acc.points_earned += points.hundredths();
            acc.points_balance += points.hundredths();
        }
        Event::PointsRedeemed { points, .. } => {
            acc.points_spent += points.hundredths();
            acc.points_balance -= points.hundredths();
        }
        Event::PointsExpired { points, .. } => {
            acc.points_expired += points.hundredths();
            acc.points_balance -= points.hundredths();
        }
        // A cancelled redemption: the points were not spent after all.
        Event::PointsRefunded { points, .. } => {
            acc.points_spent -= points.hundredths();
            acc.points_balance += points.hundredths();
        }
        Event::EntryReversed {
            points,
            hours,
            over_cap,
            ..
        } => {
            acc.points_reversed += points.hundredths();
            acc.points_balance -= points.hundredths();
            acc.hours_reversed += hours.minutes() - over_cap.minutes();
            acc.hours_banked -= hours.minutes() - over_cap.minutes();
            acc.verified_minutes -= hours.minutes();
        }
        Event::HoursGifted { hours, .. } => {
            acc.hours_gifted += hours.minutes();
            acc.hours_banked -= hours.minutes();
        }
        Event::HoursReceived { hours, .. } => {
            acc.hours_received += hours.minutes();
            acc.hours_banked += hours.minutes();
        }
        Event::HoursSpent { hours, .. } => {
            acc.hours_spent += hours.minutes();
            acc.hours_banked -= hours.minutes();
        }
        _ => return None,
    }
    acc.position = ev.position;
    let after = (acc.verified_minutes, acc.star_points());
    if after != before {
        acc.timeline
            .push((local_date(ev.recorded_at), after.0, after.1));
        Some(after)
    } else {
        None
    }
}

/// Whether a volunteer-stream event touches the account.
pub(super) fn is_account_event(e: &Event) -> bool {
    matches!(
        e,
        Event::VolunteerRegistered { .. }
            | Event::VolunteerTransferred(_)
            | Event::ServiceVerified { .. }
            | Event::PointsAwarded { .. }
            | Event::PointsRedeemed { .. }
            | Event::PointsRefunded { .. }
            | Event::PointsExpired { .. }
            | Event::EntryReversed { .. }
            | Event::HoursGifted { .. }
            | Event::HoursReceived { .. }
            | Event::HoursSpent { .. }
    )
}
