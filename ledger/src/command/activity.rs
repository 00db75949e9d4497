//! Plans of an activity's recruitment and attendance: post, change, cancel, sign up,
//! withdraw, check in and out. The rules are in [`crate::domain::activity`].

use super::decision::{Decision, Loaded, Plan, PlanResult};
use crate::domain::activity::{self, *};
use crate::event::Event;
use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A posted activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewActivity {
    pub activity_id: ActivityId,
}

/// A changed or cancelled activity, and who moved up from the waiting list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityChange {
    pub activity_id: ActivityId,
    #[serde(default)]
    pub moved_up: Vec<VolunteerId>,
}

/// A volunteer's sign-up: a place, or a place on the waiting list (1 = first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    pub waiting: Option<u32>,
}

/// A check-in or check-out, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    pub at: DateTime<Utc>,
    pub walk_in: bool,
}

pub(super) fn activity_locks(id: ActivityId) -> Vec<String> {
    vec![activity_stream(id)]
}

/// The activity of `id` and its community, after authorization in that community.
pub(super) async fn load_activity(
    d: &Decision<'_>,
    id: ActivityId,
) -> Result<(Loaded<ActivityState>, CommunityId), super::CommandError> {
    let a = d.activity(id).await?;
    let cid = a.state.require(id)?;
    d.authorize(Some(cid))?;
    Ok((a, cid))
}

/// The write of `events` to the activity and who of them moved up.
fn change_plan(
    a: &Loaded<ActivityState>,
    id: ActivityId,
    events: Vec<Event>,
    cid: CommunityId,
) -> Plan<ActivityChange> {
    let moved_up = events
        .iter()
        .filter_map(|e| match e {
            Event::MovedUp { volunteer_id } => Some(*volunteer_id),
            _ => None,
        })
        .collect();
    Plan::new(
        vec![a.write(events, Some(cid)).0],
        ActivityChange {
            activity_id: id,
            moved_up,
        },
    )
}

impl PostActivity {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewActivity> {
        let comm = d.community(self.community_id).await?;
        let id = ActivityId(d.id("activity"));
        let a = d.activity(id).await?;
        let events = activity::post(&comm.state, &a.state, self, id, d.ctx())?;
        Ok(Plan::new(
            vec![a.write(events, Some(self.community_id)).0],
            NewActivity { activity_id: id },
        ))
    }
}

impl ChangeActivity {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ActivityChange> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let events = activity::change(&a.state, self, d.ctx())?;
        Ok(change_plan(&a, self.activity_id, events, cid))
    }
}

impl CancelActivity {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ActivityChange> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let events = activity::cancel(&a.state, self, d.ctx())?;
        Ok(change_plan(&a, self.activity_id, events, cid))
    }
}

impl SignUp {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<Signed> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let comm = d.community(cid).await?;
        let v = d.volunteer(self.volunteer_id).await?;
        let events = activity::sign_up(&comm.state, &a.state, &v.state, self, d.ctx())?;
        let (w, post) = a.write(events, Some(cid));
        let waiting = post
            .waiting
            .iter()
            .position(|x| *x == self.volunteer_id)
            .map(|i| i as u32 + 1);
        Ok(Plan::new(
            vec![w],
            Signed {
                activity_id: self.activity_id,
                volunteer_id: self.volunteer_id,
                waiting,
            },
        ))
    }
}

impl WithdrawSignUp {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ActivityChange> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let events = activity::withdraw(&a.state, self, d.ctx())?;
        Ok(change_plan(&a, self.activity_id, events, cid))
    }
}

/// The write of a check-in or check-out and what it recorded (`at`: the time it set,
/// the decision's time).
fn attendance_plan(
    a: &Loaded<ActivityState>,
    id: ActivityId,
    v: VolunteerId,
    events: Vec<Event>,
    cid: CommunityId,
    at: DateTime<Utc>,
) -> PlanResult<Attendance> {
    let (w, post) = a.write(events, Some(cid));
    let p = post
        .participant(v)
        .ok_or_else(|| crate::domain::DomainError::not_found("participant", v))?;
    Ok(Plan::new(
        vec![w],
        Attendance {
            activity_id: id,
            volunteer_id: v,
            at,
            walk_in: p.walk_in,
        },
    ))
}

impl CheckIn {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<Attendance> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let comm = d.community(cid).await?;
        let v = d.volunteer(self.volunteer_id).await?;
        let events =
            activity::check_in(&comm.state, &a.state, &v.state, self, d.code_key(), d.ctx())?;
        let at = d.ctx().now;
        attendance_plan(&a, self.activity_id, self.volunteer_id, events, cid, at)
    }
}

impl CheckOut {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<Attendance> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let comm = d.community(cid).await?;
        let events = activity::check_out(&comm.state, &a.state, self, d.code_key(), d.ctx())?;
        let at = d.ctx().now;
        attendance_plan(&a, self.activity_id, self.volunteer_id, events, cid, at)
    }
}
