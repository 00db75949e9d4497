//! The activity aggregate (志愿活动): recruitment, sign-ups and the waiting list, check-in
//! and check-out with a rotating code, the approval of attendance, 补录, and the 公示
//! notice with its objections, until the records are final and credited.
//!
//! Lifecycle:
//! - staff post an activity (活动招募) with its places, sign-up deadline and who may sign
//!   up; they may change it (the event names the change and whom to tell) or cancel it
//!   until its attendance is approved;
//! - volunteers sign up until the deadline (staff for them until the end); when every
//!   place is taken a sign-up is `ACTIVITY_FULL`, or joins the waiting list (候补) if
//!   asked; a withdrawal from a place moves the first waiting volunteer up;
//! - from `checkin_opens_minutes` before the start until the end, volunteers check in
//!   with the code the organiser shows (6 digits, a new one every `code_period_seconds`,
//!   accepted in its own period and the one before), or staff check them in; check-out
//!   the same way, until as long after the end as check-in opened before the start;
//! - after the end, staff approve the attendance in one command: hours are the overlap
//!   of check-in and check-out with the activity, rounded down to the community's unit
//!   and capped by the point rules' `max_hours_per_record` (a missing check-out counts
//!   the activity's end, and the record says so); points follow the point rules;
//! - a 补录 adds a record for someone who took part without checking in, within
//!   `late_record_days` after the end, never longer than the activity;
//! - with a notice period (公示, `notice_days` > 0) records are pending until it ends; an
//!   objection during it is dismissed, or upheld by correcting or rejecting the record;
//!   records whose notice has passed with no open objection become final by an explicit
//!   event. With no notice they are final at approval. Finality credits each service to
//!   the volunteer's account (`ServiceLogged` marked with the activity, `ServiceVerified`)
//!   in the same append: until then nothing is spendable, counted in stars, rankings or
//!   reports.
//!
//! The rules are in [`recruit`], [`attendance`] and [`approval`].

pub mod approval;
pub mod attendance;
pub mod recruit;

pub use approval::*;
pub use attendance::*;
pub use recruit::*;

use super::*;
use crate::event::{
    ActivityDetails, AttendanceRecord, Eligibility, ObjectionDecision, ServiceKind,
};
use std::collections::BTreeMap;

/// Where a volunteer stands in an activity's sign-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signup {
    /// Not signed up (or withdrawn).
    #[default]
    None,
    /// Holds a place.
    Place,
    /// On the waiting list.
    Waiting,
}

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    /// In its notice until the time given (none: final in the same append).
    Pending { until: Option<DateTime<Utc>> },
    /// Final and credited.
    Final,
    /// Rejected by an upheld objection; never credited.
    Rejected,
}

/// A record, its status and who approved (or recorded) it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub record: AttendanceRecord,
    pub status: RecordStatus,
    pub approved_by: Uuid,
}

/// One volunteer in an activity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Participant {
    pub signup: Signup,
    pub checked_in: Option<DateTime<Utc>>,
    pub walk_in: bool,
    pub checked_out: Option<DateTime<Utc>>,
    pub record: Option<Record>,
}

/// An objection to a volunteer's record.
#[derive(Debug, Clone, PartialEq)]
pub struct Objection {
    pub volunteer_id: VolunteerId,
    pub open: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityState {
    pub activity_id: Option<ActivityId>,
    pub community_id: Option<CommunityId>,
    pub title: String,
    pub kind: Option<ServiceKind>,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub places: u32,
    pub signup_deadline: DateTime<Utc>,
    pub eligibility: Eligibility,
    pub walk_ins: bool,
    pub cancelled: bool,
    pub approved: bool,
    pub people: BTreeMap<VolunteerId, Participant>,
    /// The waiting list, first first.
    pub waiting: Vec<VolunteerId>,
    pub objections: BTreeMap<ObjectionId, Objection>,
}

impl ActivityState {
    /// The community's activity rules in force on the activity's day.
    pub fn rules(&self, community: &CommunityState) -> super::community::ActivityRules {
        community.activity_rules_on(local_date(self.starts_at))
    }

    /// When a record starting at `from` counts from: not before the activity starts.
    pub fn counted_start(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        from.max(self.starts_at)
    }

    /// The community of a posted activity, or NOT_FOUND.
    pub fn require(&self, id: ActivityId) -> DomainResult<CommunityId> {
        match (self.activity_id, self.community_id) {
            (Some(a), Some(c)) if a == id => Ok(c),
            _ => Err(DomainError::not_found("activity", id)),
        }
    }

    /// Posted, not cancelled, its attendance not approved yet.
    pub fn require_open(&self, id: ActivityId) -> DomainResult<CommunityId> {
        let c = self.require(id)?;
        if self.cancelled {
            return Err(DomainError::ActivityCancelled { activity_id: id });
        }
        if self.approved {
            return Err(DomainError::AlreadyApproved { activity_id: id });
        }
        Ok(c)
    }

    pub fn kind(&self) -> ServiceKind {
        self.kind.unwrap_or(ServiceKind::Other)
    }

    /// Places held.
    pub fn taken(&self) -> u32 {
        self.people
            .values()
            .filter(|p| p.signup == Signup::Place)
            .count() as u32
    }

    pub fn participant(&self, v: VolunteerId) -> Option<&Participant> {
        self.people.get(&v)
    }

    /// Those signed up, with a place or waiting (whom a change or a cancellation tells).
    pub fn signed_up(&self) -> Vec<VolunteerId> {
        self.people
            .iter()
            .filter(|(_, p)| p.signup != Signup::None)
            .map(|(v, _)| *v)
            .collect()
    }

    /// The activity's length.
    pub fn duration(&self) -> chrono::Duration {
        self.ends_at - self.starts_at
    }

    fn person(&mut self, v: VolunteerId) -> &mut Participant {
        self.people.entry(v).or_default()
    }

    fn apply_details(&mut self, d: &ActivityDetails) {
        if let Some(t) = &d.title {
            self.title = t.clone();
        }
        if let Some(p) = &d.place {
            self.place = p.clone();
        }
        if let Some(t) = d.starts_at {
            self.starts_at = t;
        }
        if let Some(t) = d.ends_at {
            self.ends_at = t;
        }
        if let Some(n) = d.places {
            self.places = n;
        }
        if let Some(t) = d.signup_deadline {
            self.signup_deadline = t;
        }
        if let Some(w) = d.walk_ins {
            self.walk_ins = w;
        }
    }

    fn set_record(&mut self, record: &AttendanceRecord, until: Option<DateTime<Utc>>, by: Uuid) {
        self.person(record.volunteer_id).record = Some(Record {
            record: record.clone(),
            status: RecordStatus::Pending { until },
            approved_by: by,
        });
    }
}

impl Aggregate for ActivityState {
    fn evolve(&mut self, event: &Event) {
        match event {
            Event::ActivityPosted {
                activity_id,
                community_id,
                title,
                kind,
                place,
                starts_at,
                ends_at,
                places,
                signup_deadline,
                eligibility,
                walk_ins,
                ..
            } => {
                self.activity_id = Some(*activity_id);
                self.community_id = Some(*community_id);
                self.title = title.clone();
                self.kind = Some(*kind);
                self.place = place.clone();
                self.starts_at = *starts_at;
                self.ends_at = *ends_at;
                self.places = *places;
                self.signup_deadline = *signup_deadline;
                self.eligibility = eligibility.clone();
                self.walk_ins = *walk_ins;
            }
            Event::ActivityChanged { change, .. } => self.apply_details(change),
            Event::ActivityCancelled { .. } => self.cancelled = true,
            Event::SignedUp {
                volunteer_id,
                waiting,
                ..
            } => {
                let p = self.person(*volunteer_id);
                if *waiting {
                    p.signup = Signup::Waiting;
                    self.waiting.push(*volunteer_id);
                } else {
                    p.signup = Signup::Place;
                }
            }
            Event::SignUpWithdrawn { volunteer_id, .. } => {
                self.person(*volunteer_id).signup = Signup::None;
                self.waiting.retain(|v| v != volunteer_id);
            }
            Event::MovedUp { volunteer_id } => {
                self.person(*volunteer_id).signup = Signup::Place;
                self.waiting.retain(|v| v != volunteer_id);
            }
            Event::CheckedIn {
                volunteer_id,
                at,
                walk_in,
                ..
            } => {
                let p = self.person(*volunteer_id);
                p.checked_in = Some(*at);
                p.walk_in = *walk_in;
            }
            Event::CheckedOut {
                volunteer_id, at, ..
            } => self.person(*volunteer_id).checked_out = Some(*at),
            Event::AttendanceApproved {
                records,
                notice_until,
                approved_by,
                ..
            } => {
                self.approved = true;
                for r in records {
                    self.set_record(r, *notice_until, *approved_by);
                }
            }
            Event::LateAttendanceRecorded {
                record,
                notice_until,
                recorded_by,
                ..
            } => self.set_record(record, *notice_until, *recorded_by),
            Event::ObjectionRaised {
                objection_id,
                volunteer_id,
                ..
            } => {
                self.objections.insert(
                    *objection_id,
                    Objection {
                        volunteer_id: *volunteer_id,
                        open: true,
                    },
                );
            }
            Event::ObjectionResolved {
                objection_id,
                volunteer_id,
                decision,
                ..
            } => {
                if let Some(o) = self.objections.get_mut(objection_id) {
                    o.open = false;
                }
                if let Some(r) = self
                    .people
                    .get_mut(volunteer_id)
                    .and_then(|p| p.record.as_mut())
                {
                    match decision {
                        ObjectionDecision::Dismissed => {}
                        ObjectionDecision::Corrected { hours, points } => {
                            r.record.hours = *hours;
                            r.record.points = *points;
                        }
                        ObjectionDecision::Rejected => r.status = RecordStatus::Rejected,
                    }
                }
            }
            Event::AttendanceFinalised { volunteers, .. } => {
                for v in volunteers {
                    if let Some(r) = self.people.get_mut(v).and_then(|p| p.record.as_mut()) {
                        r.status = RecordStatus::Final;
                    }
                }
            }
            _ => {}
        }
    }
}
