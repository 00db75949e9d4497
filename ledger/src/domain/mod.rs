//! The volunteer domain as pure functions, one module per aggregate (one stream each):
//!
//! - [`community`]: 社区 — grids, stairwells, teams, versioned rules;
//! - [`volunteer`]: 志愿者账户 — registration, services, points (积分) and hours (时间银行);
//! - [`wish`]: 小心愿 — posted, claimed, fulfilled, confirmed;
//! - [`stairwell`]: 楼道 — monthly inspections (文明楼道) and issues;
//! - [`activity`]: 活动 — recruitment, sign-ups, check-in, approval and 公示;
//! - [`shop`]: 积分超市 — an item's stock and its redemptions, collected or cancelled;
//! - [`street`]: 街道 and 区 — the organisation above communities, and memberships over time;
//! - [`history`]: 历史导入 — past services imported from a sheet, and a batch reversed as one.
//!
//! Each aggregate has a state with a pure `evolve(&mut self, &Event)` and pure decide
//! functions: `(states, command, ctx) -> Result<events, DomainError>`, where [`Ctx`]
//! holds the time, the actor and a deterministic source of new ids. Nothing here does
//! I/O; the [`crate::command::CommandHandler`] loads states, decides and appends.
//!
//! Times: the service *date* (which selects the point rules in force) is the calendar
//! date in China Standard Time (UTC+8), see [`local_date`].

pub mod activity;
pub mod community;
mod error;
pub mod history;
pub mod shop;
pub mod stairwell;
pub mod street;
pub mod volunteer;
pub mod wish;

use crate::actor::Actor;
use crate::amount::{Hours, Points};
use crate::event::Event;
use crate::ids::*;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

pub use activity::ActivityState;
pub use community::CommunityState;
pub use error::{DomainError, DomainResult};
pub use history::ImportBatchState;
pub use shop::ShopItemState;
pub use stairwell::StairwellState;
pub use street::{DistrictState, StreetState};
pub use volunteer::VolunteerState;
pub use wish::WishState;

/// Longest free text (notes, descriptions, reasons), in characters.
pub const MAX_TEXT: usize = 500;
/// Longest name or short label, in characters.
pub const MAX_NAME: usize = 100;
/// Longest place (地点) of a service or an activity, in characters.
pub const MAX_PLACE: usize = 200;
/// Longest tag (标签, such as 党员), in characters.
pub const MAX_TAG: usize = 20;

/// A state rebuilt by folding the events of one stream.
pub trait Aggregate: Default + Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static {
    fn evolve(&mut self, event: &Event);

    fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut s = Self::default();
        for e in events {
            s.evolve(e);
        }
        s
    }
}

/// Deterministic new ids: UUID v5 of a seed (derived from the idempotency key) and a
/// label, so that a retried command creates the same ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdSource {
    seed: Uuid,
}

/// Namespace of every derived UUID in timebank.
pub const TIMEBANK_NAMESPACE: Uuid = Uuid::from_u128(0x6a1e_7b3c_0d4f_4e21_9c8a_5b6d_7e8f_9a0b);

impl IdSource {
    pub fn new(seed: Uuid) -> IdSource {
        IdSource { seed }
    }

    /// Ids of the command with this idempotency key.
    pub fn from_key(idempotency_key: &str) -> IdSource {
        IdSource {
            seed: Uuid::new_v5(&TIMEBANK_NAMESPACE, idempotency_key.as_bytes()),
        }
    }

    pub fn seed(&self) -> Uuid {
        self.seed
    }

    pub fn id(&self, label: &str) -> Uuid {
        Uuid::new_v5(&self.seed, label.as_bytes())
    }
}

/// What a decision may use besides the states: the time, who acts, and new ids.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    pub actor: &'a Actor,
    pub ids: IdSource,
}

impl<'a> Ctx<'a> {
    pub fn new(now: DateTime<Utc>, actor: &'a Actor, ids: IdSource) -> Ctx<'a> {
        Ctx { now, actor, ids }
    }

    pub fn principal(&self) -> Uuid {
        self.actor.principal
    }
}

/// The calendar date of an instant in China Standard Time (UTC+8).
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    t.with_timezone(&cst).date_naive()
}

/// Free text that may be empty, at most `max` characters.
pub fn text(field: &'static str, value: &str, max: usize) -> DomainResult<String> {
    let len = value.chars().count();
    if len > max {
        return Err(DomainError::TextTooLong { field, len, max });
    }
    Ok(value.to_string())
}

/// Text that must not be blank, at most `max` characters.
pub fn required_text(field: &'static str, value: &str, max: usize) -> DomainResult<String> {
    if value.trim().is_empty() {
        return Err(DomainError::Required { field });
    }
    text(field, value.trim(), max)
}

/// Hours from a decimal: whole minutes and greater than zero.
pub fn positive_hours(field: &'static str, value: Decimal) -> DomainResult<Hours> {
    let h = Hours::from_decimal(value)
        .map_err(|source| DomainError::InvalidAmount { field, source })?;
    if !h.is_positive() {
        return Err(DomainError::NotPositive { field });
    }
    Ok(h)
}

/// Points from a decimal: at most two decimals and greater than zero.
pub fn positive_points(field: &'static str, value: Decimal) -> DomainResult<Points> {
    let p = Points::from_decimal(value)
        .map_err(|source| DomainError::InvalidAmount { field, source })?;
    if !p.is_positive() {
        return Err(DomainError::NotPositive { field });
    }
    Ok(p)
}

/// A decimal with at most two decimals within `0..=max`.
pub fn score(field: &'static str, value: Decimal, max: Decimal) -> DomainResult<Decimal> {
    if value.scale() > 2 && value.normalize().scale() > 2 {
        return Err(DomainError::InvalidInput {
            field,
            reason: format!("{value} has more than 2 decimal places"),
        });
    }
    if value < Decimal::ZERO || value > max {
        return Err(DomainError::InvalidInput {
            field,
            reason: format!("{value} is outside 0..={max}"),
        });
    }
    Ok(value)
}

/// Staff or admin (not a volunteer or a display).
pub fn require_staff(actor: &Actor) -> DomainResult<()> {
    if actor.is_staff_or_admin() {
        Ok(())
    } else {
        Err(DomainError::forbidden("only staff may do this"))
    }
}
