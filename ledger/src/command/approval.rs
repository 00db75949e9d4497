//! Plans of an activity's approval, 补录, objections and finality. Approval and finality
//! write the activity's events and every credited volunteer's services in one append:
//! all or nothing. The rules are in [`crate::domain::activity::approval`].

use super::activity::{activity_locks, load_activity};
use super::decision::{Decision, Loaded, Plan, PlanResult, Write};
use crate::amount::{Hours, Points};
use crate::domain::activity::{self, *};
use crate::domain::volunteer::CreditRules;
use crate::event::Event;
use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An approval or a finality: how many records it made final (and credited), how many
/// wait for their notice, their hours and points, and when the notice ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceOutcome {
    pub activity_id: ActivityId,
    pub records: u32,
    pub excluded: u32,
    pub final_records: u32,
    pub hours: Hours,
    pub points: Points,
    pub notice_until: Option<DateTime<Utc>>,
}

/// A 补录: its service, hours, points and notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateRecord {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    pub service_id: ServiceId,
    pub hours: Hours,
    pub points: Points,
    pub notice_until: Option<DateTime<Utc>>,
}

/// An objection raised or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectionRef {
    pub activity_id: ActivityId,
    pub objection_id: ObjectionId,
}

/// The writes of `credits`: the activity's events, and each credited volunteer's, its
/// services capped by the community's hours `rules`.
async fn credit_writes(
    d: &Decision<'_>,
    a: &Loaded<ActivityState>,
    cid: CommunityId,
    credits: Credits,
    rules: &CreditRules,
) -> Result<(Vec<Write>, std::sync::Arc<ActivityState>), super::CommandError> {
    let (w, post) = a.write(credits.activity, Some(cid));
    let mut writes = vec![w];
    // Up to an activity's whole attendance: loaded together, not one after another.
    let loads = credits.volunteers.iter().map(|(v, _)| d.volunteer(*v));
    let vols = futures::future::try_join_all(loads).await?;
    for (vol, (_, mut events)) in vols.into_iter().zip(credits.volunteers) {
        rules.apply(&vol.state, &mut events);
        let community = vol.state.community_id;
        writes.push(vol.write(events, community).0);
    }
    Ok((writes, post))
}

/// What an approval or finality did, from the activity's events and its state after.
fn outcome(id: ActivityId, events: &[Event], post: &ActivityState) -> AttendanceOutcome {
    let mut o = AttendanceOutcome {
        activity_id: id,
        records: 0,
        excluded: 0,
        final_records: 0,
        hours: Hours::ZERO,
        points: Points::ZERO,
        notice_until: None,
    };
    let mut named = Vec::new();
    for e in events {
        match e {
            Event::AttendanceApproved {
                records,
                excluded,
                notice_until,
                ..
            } => {
                o.excluded = excluded.len() as u32;
                o.notice_until = *notice_until;
                named.extend(records.iter().map(|r| r.volunteer_id));
            }
            Event::AttendanceFinalised { volunteers, .. } => {
                o.final_records = volunteers.len() as u32;
                if named.is_empty() {
                    named.extend(volunteers.iter().copied());
                }
            }
            _ => {}
        }
    }
    for v in named {
        if let Some(r) = post.participant(v).and_then(|p| p.record.as_ref()) {
            o.records += 1;
            o.hours = o.hours.saturating_add(r.record.hours);
            o.points = o.points.saturating_add(r.record.points);
        }
    }
    o
}

impl ApproveAttendance {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<AttendanceOutcome> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let comm = d.community(cid).await?;
        let credits = activity::approve(&comm.state, &a.state, self, d.ctx())?;
        let rules = d.credit_rules(&comm.state);
        let (writes, post) = credit_writes(d, &a, cid, credits, &rules).await?;
        let outcome = outcome(self.activity_id, &writes[0].events, &post);
        Ok(Plan::new(writes, outcome))
    }
}

impl FinaliseAttendance {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<AttendanceOutcome> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let credits = activity::finalise(&a.state, self, d.ctx())?;
        let rules = d.credit_rules(&d.community(cid).await?.state);
        let (writes, post) = credit_writes(d, &a, cid, credits, &rules).await?;
        let outcome = outcome(self.activity_id, &writes[0].events, &post);
        Ok(Plan::new(writes, outcome))
    }
}

impl RecordLateAttendance {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<LateRecord> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let comm = d.community(cid).await?;
        let v = d.volunteer(self.volunteer_id).await?;
        let credits = activity::record_late(&comm.state, &a.state, &v.state, self, d.ctx())?;
        let (record, notice_until) = match credits.activity.first() {
            Some(Event::LateAttendanceRecorded {
                record,
                notice_until,
                ..
            }) => (record.clone(), *notice_until),
            _ => return Err(crate::domain::DomainError::invalid_state("no late record").into()),
        };
        // The volunteer's write is decided on the state just checked, not a second read.
        let mut writes = vec![a.write(credits.activity, Some(cid)).0];
        let rules = d.credit_rules(&comm.state);
        for (_, mut events) in credits.volunteers {
            rules.apply(&v.state, &mut events);
            writes.push(v.write(events, v.state.community_id).0);
        }
        Ok(Plan::new(
            writes,
            LateRecord {
                activity_id: self.activity_id,
                volunteer_id: self.volunteer_id,
                service_id: record.service_id,
                hours: record.hours,
                points: record.points,
                notice_until,
            },
        ))
    }
}

impl RaiseObjection {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ObjectionRef> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let id = ObjectionId(d.id("objection"));
        let events = activity::raise_objection(&a.state, self, id, d.ctx())?;
        Ok(Plan::new(
            vec![a.write(events, Some(cid)).0],
            ObjectionRef {
                activity_id: self.activity_id,
                objection_id: id,
            },
        ))
    }
}

impl ResolveObjection {
    pub(super) fn locks(&self) -> Vec<String> {
        activity_locks(self.activity_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ObjectionRef> {
        let (a, cid) = load_activity(d, self.activity_id).await?;
        let comm = d.community(cid).await?;
        let events = activity::resolve_objection(&comm.state, &a.state, self, d.ctx())?;
        Ok(Plan::new(
            vec![a.write(events, Some(cid)).0],
            ObjectionRef {
                activity_id: self.activity_id,
                objection_id: self.objection_id,
            },
        ))
    }
}
