//! Wishes (小心愿): their lifecycle status, a wish as the board shows it (the claimer's
//! name as the caller may see it), and a page of the board.

use super::hours_of;
use super::person::{person_fields, show_name, Visibility};
use crate::scalars::HoursScalar;
use crate::schema::args::id;
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Lifecycle of a wish (小心愿).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ledger::domain::wish::WishStage")]
pub enum WishStatus {
    Open,
    Claimed,
    Fulfilled,
    Confirmed,
    Cancelled,
}

impl WishStatus {
    /// The status as the wish board stores it.
    pub fn as_str(self) -> &'static str {
        ledger::domain::wish::WishStage::from(self).as_str()
    }

    pub fn parse(s: &str) -> Option<WishStatus> {
        ledger::domain::wish::WishStage::parse(s).map(WishStatus::from)
    }
}

/// A wish (小心愿).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Wish {
    pub id: ID,
    pub community_id: ID,
    pub stairwell_id: Option<ID>,
    pub category: String,
    pub description: String,
    pub resident_label: String,
    pub status: WishStatus,
    pub claimed_by: Option<ID>,
    pub posted_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Hours the claimer reported when fulfilling.
    pub hours: Option<HoursScalar>,
    /// Seconds from posted to (last) claimed.
    pub seconds_to_claim: Option<i64>,
    /// Seconds from posted to fulfilled.
    pub seconds_to_fulfil: Option<i64>,
    /// Log position of the wish's last event.
    pub position: u64,
    #[graphql(skip)]
    pub claimer: Option<Uuid>,
    #[graphql(skip)]
    pub vis: Visibility,
}

impl Wish {
    pub fn new(w: projections::wishes::Wish, vis: Visibility) -> Wish {
        Wish {
            id: id(w.wish_id.0),
            community_id: id(w.community_id.0),
            stairwell_id: Some(id(w.stairwell_id.0)),
            category: w.category,
            description: w.description,
            resident_label: w.resident_label,
            status: WishStatus::parse(&w.status).unwrap_or(WishStatus::Open),
            claimed_by: w.claimer.map(|v| id(v.0)),
            posted_at: Some(w.posted_at),
            claimed_at: w.claimed_at,
            fulfilled_at: w.fulfilled_at,
            confirmed_at: w.confirmed_at,
            cancelled_at: w.cancelled_at,
            hours: w.hours.map(hours_of),
            seconds_to_claim: w.seconds_to_claim,
            seconds_to_fulfil: w.seconds_to_fulfil,
            position: w.position,
            claimer: w.claimer.map(|v| v.0),
            vis,
        }
    }
}

#[ComplexObject]
impl Wish {
    /// Name of the claimer, shortened on displays; null once erased.
    async fn claimer_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(v) = self.claimer else {
            return Ok(None);
        };
        let p = person_fields(ctx, v).await?;
        Ok(show_name(&p, self.vis))
    }
}

/// A page of wishes.
#[derive(SimpleObject)]
pub struct WishPage {
    pub wishes: Vec<Wish>,
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}
