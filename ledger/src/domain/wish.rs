//! The wish aggregate (小心愿): a resident's small wish in the community's wish library
//! (小心愿信息库).
//!
//! Lifecycle: posted (by staff) → claimed by exactly one volunteer (认领; a second claim
//! is `WISH_ALREADY_CLAIMED`) → released (by the claimer or staff; open again) or
//! fulfilled by its claimer only (`NOT_CLAIMER`) → confirmed by staff, which records
//! the service (`ServiceLogged` kind wish + `ServiceVerified`) on the claimer's account
//! in the same atomic append. A wish can be cancelled by staff at any time before it is
//! confirmed.

use super::community::CommunityState;
use super::volunteer::{verification, VolunteerState};
use super::*;
use crate::event::ServiceKind;
use serde::{Deserialize, Serialize};

/// Posts a resident's small wish (小心愿) to the wish library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostWish {
    pub community_id: CommunityId,
    pub stairwell_id: StairwellId,
    pub category: String,
    pub description: String,
    pub resident_label: String,
}

/// Claims a wish (认领) for a volunteer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimWish {
    pub wish_id: WishId,
    pub volunteer_id: VolunteerId,
}

/// Releases a claimed wish (by its claimer or staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseWish {
    pub wish_id: WishId,
}

/// The claimer reports the wish fulfilled; `fulfilled_at` defaults to now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfilWish {
    pub wish_id: WishId,
    pub volunteer_id: VolunteerId,
    pub hours: Decimal,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub fulfilled_at: Option<DateTime<Utc>>,
}

/// Staff confirm a fulfilled wish; the service is recorded on the claimer's account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmWish {
    pub wish_id: WishId,
}

/// Cancels a wish (staff), with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelWish {
    pub wish_id: WishId,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WishStatus {
    #[default]
    Open,
    Claimed {
        by: VolunteerId,
    },
    Fulfilled {
        by: VolunteerId,
        hours: Hours,
        at: DateTime<Utc>,
    },
    Confirmed {
        by: VolunteerId,
        service_id: ServiceId,
    },
    Cancelled,
}

impl WishStatus {
    /// The stage of the lifecycle, without its details.
    pub fn stage(&self) -> WishStage {
        match self {
            WishStatus::Open => WishStage::Open,
            WishStatus::Claimed { .. } => WishStage::Claimed,
            WishStatus::Fulfilled { .. } => WishStage::Fulfilled,
            WishStatus::Confirmed { .. } => WishStage::Confirmed,
            WishStatus::Cancelled => WishStage::Cancelled,
        }
    }
}

/// The stage of a wish's lifecycle, as the wish board and the API name it: the one
/// table of wish status names (`open`, `claimed`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WishStage {
    Open,
    Claimed,
    Fulfilled,
    Confirmed,
    Cancelled,
}

impl WishStage {
    pub const ALL: [WishStage; 5] = [
        WishStage::Open,
        WishStage::Claimed,
        WishStage::Fulfilled,
        WishStage::Confirmed,
        WishStage::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WishStage::Open => "open",
            WishStage::Claimed => "claimed",
            WishStage::Fulfilled => "fulfilled",
            WishStage::Confirmed => "confirmed",
            WishStage::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<WishStage> {
        WishStage::ALL.into_iter().find(|w| w.as_str() == s)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct WishState {
    pub wish_id: Option<WishId>,
    pub community_id: Option<CommunityId>,
    pub stairwell_id: Option<StairwellId>,
    pub category: String,
    pub status: WishStatus,
}

impl WishState {
    /// The community of a posted wish, or NOT_FOUND.
    pub fn require(&self, id: WishId) -> DomainResult<CommunityId> {
        match (self.wish_id, self.community_id) {
            (Some(w), Some(c)) if w == id => Ok(c),
            _ => Err(DomainError::not_found("wish", id)),
        }
    }

    /// The volunteer who holds the wish (claimed or fulfilled), if any.
    pub fn claimer(&self) -> Option<VolunteerId> {
        match self.status {
            WishStatus::Claimed { by } | WishStatus::Fulfilled { by, .. } => Some(by),
            WishStatus::Confirmed { by, .. } => Some(by),
            _ => None,
        }
    }
}

impl Aggregate for WishState {
    fn evolve(&mut self, event: &Event) {
        match event {
            Event::WishPosted {
                wish_id,
                community_id,
                stairwell_id,
                category,
                ..
            } => {
                self.wish_id = Some(*wish_id);
                self.community_id = Some(*community_id);
                self.stairwell_id = Some(*stairwell_id);
                self.category = category.clone();
                self.status = WishStatus::Open;
            }
            Event::WishClaimed { volunteer_id } => {
                self.status = WishStatus::Claimed { by: *volunteer_id }
            }
            Event::WishReleased { .. } => self.status = WishStatus::Open,
            Event::WishFulfilled {
                volunteer_id,
                hours,
                fulfilled_at,
                ..
            } => {
                self.status = WishStatus::Fulfilled {
                    by: *volunteer_id,
                    hours: *hours,
                    at: *fulfilled_at,
                }
            }
            Event::WishConfirmed { service_id, .. } => {
                if let Some(by) = self.claimer() {
                    self.status = WishStatus::Confirmed {
                        by,
                        service_id: *service_id,
                    };
                }
            }
            Event::WishCancelled { .. } => self.status = WishStatus::Cancelled,
            _ => {}
        }
    }
}

fn closed(wish_id: WishId, status: WishStatus) -> DomainError {
    DomainError::invalid_state(format!("wish {wish_id} is {}", status.stage().as_str()))
}

pub fn post(
    community: &CommunityState,
    wish: &WishState,
    cmd: &PostWish,
    wish_id: WishId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    let community_id = community.require(cmd.community_id)?;
    if wish.wish_id.is_some() {
        return Err(DomainError::AlreadyExists {
            kind: "wish",
            id: wish_id.to_string(),
        });
    }
    community.stairwell(cmd.stairwell_id)?;
    Ok(vec![Event::WishPosted {
        wish_id,
        community_id,
        stairwell_id: cmd.stairwell_id,
        category: required_text("category", &cmd.category, 50)?,
        description: required_text("description", &cmd.description, MAX_TEXT)?,
        resident_label: text("resident_label", &cmd.resident_label, MAX_NAME)?,
        posted_by: ctx.principal(),
    }])
}

pub fn claim(
    wish: &WishState,
    volunteer: &VolunteerState,
    cmd: &ClaimWish,
) -> DomainResult<Vec<Event>> {
    let community_id = wish.require(cmd.wish_id)?;
    let v_community = volunteer.require_active(cmd.volunteer_id)?;
    if v_community != community_id {
        return Err(DomainError::forbidden(
            "a wish is claimed by a volunteer of its own community",
        ));
    }
    match wish.status {
        WishStatus::Open => Ok(vec![Event::WishClaimed {
            volunteer_id: cmd.volunteer_id,
        }]),
        WishStatus::Claimed { by } => Err(DomainError::WishAlreadyClaimed {
            wish_id: cmd.wish_id,
            claimed_by: by,
        }),
        other => Err(closed(cmd.wish_id, other)),
    }
}

pub fn release(wish: &WishState, cmd: &ReleaseWish, ctx: &Ctx) -> DomainResult<Vec<Event>> {
    wish.require(cmd.wish_id)?;
    match wish.status {
        WishStatus::Claimed { by } => {
            if ctx.actor.is_staff_or_admin() || ctx.actor.volunteer_id == Some(by) {
                Ok(vec![Event::WishReleased { volunteer_id: by }])
            } else {
                Err(DomainError::NotClaimer {
                    wish_id: cmd.wish_id,
                    volunteer_id: ctx.actor.volunteer_id,
                    claimer: Some(by),
                })
            }
        }
        other => Err(closed(cmd.wish_id, other)),
    }
}

pub fn fulfil(
    community: &CommunityState,
    wish: &WishState,
    cmd: &FulfilWish,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    wish.require(cmd.wish_id)?;
    let claimer = match wish.status {
        WishStatus::Claimed { by } => by,
        WishStatus::Open => {
            return Err(DomainError::NotClaimer {
                wish_id: cmd.wish_id,
                volunteer_id: Some(cmd.volunteer_id),
                claimer: None,
            })
        }
        other => return Err(closed(cmd.wish_id, other)),
    };
    if claimer != cmd.volunteer_id {
        return Err(DomainError::NotClaimer {
            wish_id: cmd.wish_id,
            volunteer_id: Some(cmd.volunteer_id),
            claimer: Some(claimer),
        });
    }
    let at = cmd.fulfilled_at.unwrap_or(ctx.now);
    let hours = volunteer::service_hours(community, cmd.hours, at, ctx.now, "fulfilled_at")?;
    Ok(vec![Event::WishFulfilled {
        volunteer_id: claimer,
        hours,
        note: text("note", &cmd.note, MAX_TEXT)?,
        fulfilled_at: at,
    }])
}

/// Confirmation: `(wish events, claimer's volunteer events)`.
pub fn confirm(
    community: &CommunityState,
    wish: &WishState,
    claimer: &VolunteerState,
    cmd: &ConfirmWish,
    service_id: ServiceId,
    entry_id: EntryId,
    ctx: &Ctx,
) -> DomainResult<(Vec<Event>, Vec<Event>)> {
    wish.require(cmd.wish_id)?;
    require_staff(ctx.actor)?;
    let (by, hours, at) = match wish.status {
        WishStatus::Fulfilled { by, hours, at } => (by, hours, at),
        other => return Err(closed(cmd.wish_id, other)),
    };
    claimer.require(by)?;
    if ctx.actor.volunteer_id == Some(by) {
        return Err(DomainError::SelfVerification { service_id });
    }
    let logged = Event::ServiceLogged {
        imported: None,
        service_id,
        kind: ServiceKind::Wish,
        started_at: at,
        hours,
        place: String::new(),
        note: format!("小心愿 {}", cmd.wish_id),
        logged_by: ctx.principal(),
        activity: None,
    };
    let verified = verification(
        community,
        service_id,
        ServiceKind::Wish,
        at,
        hours,
        entry_id,
        ctx.principal(),
    )?;
    Ok((
        vec![Event::WishConfirmed {
            confirmed_by: ctx.principal(),
            service_id,
        }],
        vec![logged, verified],
    ))
}

pub fn cancel(wish: &WishState, cmd: &CancelWish, ctx: &Ctx) -> DomainResult<Vec<Event>> {
    wish.require(cmd.wish_id)?;
    require_staff(ctx.actor)?;
    match wish.status {
        WishStatus::Confirmed { .. } | WishStatus::Cancelled => {
            Err(closed(cmd.wish_id, wish.status))
        }
        _ => Ok(vec![Event::WishCancelled {
            reason: required_text("reason", &cmd.reason, MAX_TEXT)?,
            cancelled_by: ctx.principal(),
        }]),
    }
}
