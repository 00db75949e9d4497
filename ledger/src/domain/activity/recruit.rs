//! Recruitment (活动招募): posting, changing and cancelling an activity, signing up with
//! a place or on the waiting list, and withdrawing (the first waiting volunteer moves up).

use super::super::community::CommunityState;
use super::super::volunteer::VolunteerState;
use super::super::*;
use super::{ActivityState, Signup};
use crate::event::{ActivityDetails, Eligibility, ServiceKind};
use serde::{Deserialize, Serialize};

/// Most places an activity offers.
pub const MAX_PLACES: u32 = 10_000;
/// Longest activity.
pub const MAX_DURATION_HOURS: i64 = 24;

/// Posts an activity (staff). Without a deadline, sign-up closes at the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostActivity {
    pub community_id: CommunityId,
    pub title: String,
    pub kind: ServiceKind,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub places: u32,
    #[serde(default)]
    pub signup_deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    pub eligibility: Eligibility,
    #[serde(default)]
    pub walk_ins: bool,
}

/// Changes an activity's details (staff), saying why; only the fields given change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeActivity {
    pub activity_id: ActivityId,
    pub change: ActivityDetails,
    pub reason: String,
}

/// Calls an activity off (staff), saying why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelActivity {
    pub activity_id: ActivityId,
    pub reason: String,
}

/// Signs a volunteer up (the volunteer, or staff for them). When every place is taken
/// it is `ACTIVITY_FULL`, or a place on the waiting list with `waitlist`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignUp {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    #[serde(default)]
    pub waitlist: bool,
}

/// Withdraws a sign-up (the volunteer until the deadline, staff until the approval).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WithdrawSignUp {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    #[serde(default)]
    pub reason: String,
}

/// The times of an activity, checked: it ends after it starts, within a day, and
/// sign-up closes no later than its end.
fn times(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> DomainResult<()> {
    if ends_at <= starts_at {
        return Err(DomainError::InvalidInput {
            field: "ends_at",
            reason: format!("{ends_at} is not after the start {starts_at}"),
        });
    }
    if ends_at - starts_at > chrono::Duration::hours(MAX_DURATION_HOURS) {
        return Err(DomainError::InvalidInput {
            field: "ends_at",
            reason: format!("an activity lasts at most {MAX_DURATION_HOURS} h"),
        });
    }
    if deadline > ends_at {
        return Err(DomainError::InvalidInput {
            field: "signup_deadline",
            reason: format!("{deadline} is after the end {ends_at}"),
        });
    }
    Ok(())
}

fn places(n: u32) -> DomainResult<u32> {
    if n == 0 || n > MAX_PLACES {
        return Err(DomainError::InvalidInput {
            field: "places",
            reason: format!("{n} is outside 1..={MAX_PLACES}"),
        });
    }
    Ok(n)
}

pub fn post(
    community: &CommunityState,
    activity: &ActivityState,
    cmd: &PostActivity,
    activity_id: ActivityId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    let community_id = community.require(cmd.community_id)?;
    require_staff(ctx.actor)?;
    if activity.activity_id.is_some() {
        return Err(DomainError::AlreadyExists {
            kind: "activity",
            id: activity_id.to_string(),
        });
    }
    let deadline = cmd.signup_deadline.unwrap_or(cmd.starts_at);
    times(cmd.starts_at, cmd.ends_at, deadline)?;
    let e = &cmd.eligibility;
    if let Some(t) = e.team {
        community.require_team(t)?;
    }
    if let Some(g) = e.grid {
        if !community.grids.contains_key(&g) {
            return Err(DomainError::not_found("grid", g));
        }
    }
    let tag = e
        .tag
        .as_deref()
        .map(|t| required_text("eligibility.tag", t, MAX_TAG))
        .transpose()?;
    Ok(vec![Event::ActivityPosted {
        activity_id,
        community_id,
        title: required_text("title", &cmd.title, MAX_NAME)?,
        kind: cmd.kind,
        place: required_text("place", &cmd.place, MAX_PLACE)?,
        starts_at: cmd.starts_at,
        ends_at: cmd.ends_at,
        places: places(cmd.places)?,
        signup_deadline: deadline,
        eligibility: Eligibility { tag, ..e.clone() },
        walk_ins: cmd.walk_ins,
        posted_by: ctx.principal(),
    }])
}

pub fn change(
    activity: &ActivityState,
    cmd: &ChangeActivity,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    activity.require_open(cmd.activity_id)?;
    require_staff(ctx.actor)?;
    let reason = required_text("reason", &cmd.reason, MAX_TEXT)?;
    let c = &cmd.change;
    let mut change = ActivityDetails::default();
    let mut previous = ActivityDetails::default();
    macro_rules! field {
        ($f:ident, $value:expr, $current:expr) => {
            if let Some(v) = $value {
                if v != $current {
                    change.$f = Some(v);
                    previous.$f = Some($current);
                }
            }
        };
    }
    let title = c
        .title
        .as_deref()
        .map(|t| required_text("title", t, MAX_NAME))
        .transpose()?;
    let place = c
        .place
        .as_deref()
        .map(|p| required_text("place", p, MAX_PLACE))
        .transpose()?;
    field!(title, title, activity.title.clone());
    field!(place, place, activity.place.clone());
    field!(starts_at, c.starts_at, activity.starts_at);
    field!(ends_at, c.ends_at, activity.ends_at);
    field!(places, c.places.map(places).transpose()?, activity.places);
    field!(signup_deadline, c.signup_deadline, activity.signup_deadline);
    field!(walk_ins, c.walk_ins, activity.walk_ins);
    if change.is_empty() {
        return Err(DomainError::InvalidInput {
            field: "change",
            reason: "it changes nothing".into(),
        });
    }
    times(
        change.starts_at.unwrap_or(activity.starts_at),
        change.ends_at.unwrap_or(activity.ends_at),
        change.signup_deadline.unwrap_or(activity.signup_deadline),
    )?;
    let capacity = change.places.unwrap_or(activity.places);
    let taken = activity.taken();
    if capacity < taken {
        return Err(DomainError::InvalidInput {
            field: "places",
            reason: format!("{taken} places are taken already"),
        });
    }
    let mut events = vec![Event::ActivityChanged {
        change,
        previous,
        reason,
        changed_by: ctx.principal(),
        notify: activity.signed_up(),
    }];
    // More places: the first of the waiting list move up.
    let free = (capacity - taken) as usize;
    events.extend(
        activity
            .waiting
            .iter()
            .take(free)
            .map(|v| Event::MovedUp { volunteer_id: *v }),
    );
    Ok(events)
}

pub fn cancel(
    activity: &ActivityState,
    cmd: &CancelActivity,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    activity.require_open(cmd.activity_id)?;
    require_staff(ctx.actor)?;
    Ok(vec![Event::ActivityCancelled {
        reason: required_text("reason", &cmd.reason, MAX_TEXT)?,
        cancelled_by: ctx.principal(),
        notify: activity.signed_up(),
    }])
}

/// Why `volunteer` may not sign up under `e`, if they may not.
fn ineligible(
    community: &CommunityState,
    volunteer: &VolunteerState,
    e: &Eligibility,
) -> Option<String> {
    if let Some(t) = e.team {
        if !volunteer.teams.contains(&t) {
            return Some("not a member of the team".into());
        }
    }
    if let Some(g) = e.grid {
        let own = volunteer.grid_id;
        let parent = own
            .and_then(|o| community.grids.get(&o))
            .and_then(|x| x.parent);
        if own != Some(g) && parent != Some(g) {
            return Some("not a volunteer of the grid".into());
        }
    }
    if let Some(tag) = &e.tag {
        if !volunteer.tags.contains(tag) {
            return Some(format!("without the tag {tag}"));
        }
    }
    None
}

pub fn sign_up(
    community: &CommunityState,
    activity: &ActivityState,
    volunteer: &VolunteerState,
    cmd: &SignUp,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    let community_id = activity.require_open(cmd.activity_id)?;
    if volunteer.require_active(cmd.volunteer_id)? != community_id {
        return Err(DomainError::forbidden(
            "a volunteer signs up for an activity of their own community",
        ));
    }
    // Staff may sign someone up until the end (an elder without a phone, on the day).
    let closes = if ctx.actor.is_staff_or_admin() {
        activity.ends_at
    } else {
        activity.signup_deadline
    };
    if ctx.now > closes {
        return Err(DomainError::SignupClosed {
            activity_id: cmd.activity_id,
            deadline: closes,
        });
    }
    if activity
        .participant(cmd.volunteer_id)
        .is_some_and(|p| p.signup != Signup::None)
    {
        return Err(DomainError::AlreadySignedUp {
            activity_id: cmd.activity_id,
            volunteer_id: cmd.volunteer_id,
        });
    }
    if let Some(reason) = ineligible(community, volunteer, &activity.eligibility) {
        return Err(DomainError::NotEligible {
            activity_id: cmd.activity_id,
            volunteer_id: cmd.volunteer_id,
            reason,
        });
    }
    let full = activity.taken() >= activity.places;
    if full && !cmd.waitlist {
        return Err(DomainError::ActivityFull {
            activity_id: cmd.activity_id,
            places: activity.places,
        });
    }
    Ok(vec![Event::SignedUp {
        volunteer_id: cmd.volunteer_id,
        waiting: full,
        signed_up_by: ctx.principal(),
    }])
}

pub fn withdraw(
    activity: &ActivityState,
    cmd: &WithdrawSignUp,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    activity.require_open(cmd.activity_id)?;
    let p = activity
        .participant(cmd.volunteer_id)
        .filter(|p| p.signup != Signup::None)
        .ok_or(DomainError::NotSignedUp {
            activity_id: cmd.activity_id,
            volunteer_id: cmd.volunteer_id,
        })?;
    if let Some(at) = p.checked_in {
        return Err(DomainError::AlreadyCheckedIn {
            volunteer_id: cmd.volunteer_id,
            at,
        });
    }
    if !ctx.actor.is_staff_or_admin() && ctx.now > activity.signup_deadline {
        return Err(DomainError::SignupClosed {
            activity_id: cmd.activity_id,
            deadline: activity.signup_deadline,
        });
    }
    let mut events = vec![Event::SignUpWithdrawn {
        volunteer_id: cmd.volunteer_id,
        reason: text("reason", &cmd.reason, MAX_TEXT)?,
        withdrawn_by: ctx.principal(),
    }];
    if p.signup == Signup::Place {
        if let Some(first) = activity.waiting.first() {
            events.push(Event::MovedUp {
                volunteer_id: *first,
            });
        }
    }
    Ok(events)
}
