//! What every command's result says of the account it changed, for callers that handle
//! any command (the demo's generator, tests): the entry it created and the balances
//! after it. Each command's own result type (see the list in [`super`]) says all of it.

use super::Outcome;
use crate::amount::{Hours, Points};
use crate::ids::{EntryId, ServiceId};

impl Outcome {
    /// The balance-changing entry the command created, if it created one.
    pub fn entry_id(&self) -> Option<EntryId> {
        match self {
            Outcome::AwardPoints(e)
            | Outcome::RedeemPoints(e)
            | Outcome::ReverseEntry(e)
            | Outcome::SpendHours(e) => Some(e.entry_id),
            Outcome::VerifyService(v) => Some(v.entry_id),
            Outcome::GiftHours(g) => Some(g.entry_id),
            Outcome::ConfirmWish(c) => Some(c.entry_id),
            _ => None,
        }
    }

    /// The service the command logged, verified, rejected or recorded (a confirmed
    /// wish's).
    pub fn service_id(&self) -> Option<ServiceId> {
        match self {
            Outcome::LogService(s) | Outcome::RejectService(s) => Some(s.service_id),
            Outcome::ConfirmWish(c) => Some(c.service_id),
            _ => None,
        }
    }

    /// The points and hours balances after the command, as far as it reports them (a
    /// gift reports the giver's hours only).
    pub fn balances(&self) -> (Option<Points>, Option<Hours>) {
        match self {
            Outcome::AwardPoints(e)
            | Outcome::RedeemPoints(e)
            | Outcome::ReverseEntry(e)
            | Outcome::SpendHours(e) => (Some(e.points_balance), Some(e.hours_balance)),
            Outcome::VerifyService(v) => (Some(v.points_balance), Some(v.hours_balance)),
            Outcome::ConfirmWish(c) => (Some(c.points_balance), Some(c.hours_balance)),
            Outcome::GiftHours(g) => (None, Some(g.hours_balance)),
            _ => (None, None),
        }
    }
}
