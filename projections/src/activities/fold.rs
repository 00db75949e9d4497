//! How each activity event changes the rows of its activity, its volunteers and its
//! objections (pure, on rows in memory).

use super::{person_key, ActivityRow, ObjectionRow, PersonRow};
use crate::common::{millis, Cached};
use crate::projection::Envelope;
use ledger::event::{AttendanceRecord, Event, ObjectionDecision, RecordSource};
use ledger::ids::StreamKind;
use uuid::Uuid;

/// The rows a batch holds.
pub(super) struct Rows<'a> {
    pub activities: &'a mut Cached<Uuid, ActivityRow>,
    pub people: &'a mut Cached<String, PersonRow>,
    pub objections: &'a mut Cached<Uuid, ObjectionRow>,
}

/// The volunteers an event names (whose rows it changes).
pub(super) fn volunteers(event: &Event) -> Vec<Uuid> {
    match event {
        Event::SignedUp { volunteer_id, .. }
        | Event::SignUpWithdrawn { volunteer_id, .. }
        | Event::MovedUp { volunteer_id }
        | Event::CheckedIn { volunteer_id, .. }
        | Event::CheckedOut { volunteer_id, .. }
        | Event::ObjectionResolved { volunteer_id, .. } => vec![volunteer_id.0],
        Event::AttendanceApproved {
            records, excluded, ..
        } => records
            .iter()
            .map(|r| r.volunteer_id.0)
            .chain(excluded.iter().map(|e| e.volunteer_id.0))
            .collect(),
        Event::LateAttendanceRecorded { record, .. } => vec![record.volunteer_id.0],
        Event::AttendanceFinalised { volunteers, .. } => volunteers.iter().map(|v| v.0).collect(),
        _ => vec![],
    }
}

fn set_record(p: &mut PersonRow, r: &AttendanceRecord, notice_until: Option<i64>) {
    p.record = Some("pending".into());
    p.source = Some(
        match r.source {
            RecordSource::Attendance => "attendance",
            RecordSource::Late => "late",
        }
        .into(),
    );
    p.record_from = Some(millis(r.from));
    p.record_until = Some(millis(r.until));
    p.checkout_missing = r.checkout_missing;
    p.minutes = Some(r.hours.minutes());
    p.points = Some(r.points.hundredths());
    p.notice_until = notice_until;
    p.adjusted = r.adjusted.clone();
}

impl Rows<'_> {
    /// The row of `volunteer` in `activity` (a new one when there is none).
    fn person(&mut self, activity: Uuid, community: Uuid, volunteer: Uuid) -> &mut PersonRow {
        self.people
            .get_or_insert_with(person_key(activity, volunteer), || PersonRow {
                activity_id: activity,
                volunteer_id: volunteer,
                community_id: community,
                signup: "none".into(),
                ..PersonRow::default()
            })
    }

    /// Folds one event of an activity stream.
    pub(super) fn apply(&mut self, ev: &Envelope) {
        let Some(id) = ev.stream_of(StreamKind::Activity) else {
            return;
        };
        let at = millis(ev.recorded_at);
        if let Event::ActivityPosted {
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
        } = &ev.event
        {
            self.activities.insert(
                id,
                ActivityRow {
                    community_id: community_id.0,
                    title: title.clone(),
                    kind: kind.as_str().into(),
                    place: place.clone(),
                    starts_at: millis(*starts_at),
                    ends_at: millis(*ends_at),
                    places: i64::from(*places),
                    signup_deadline: millis(*signup_deadline),
                    team: eligibility.team.map(|t| t.0),
                    grid: eligibility.grid.map(|g| g.0),
                    tag: eligibility.tag.clone(),
                    walk_ins: *walk_ins,
                    status: "open".into(),
                    posted_at: at,
                    position: ev.position,
                    ..ActivityRow::default()
                },
            );
            return;
        }
        let Some(a) = self.activities.get_mut(&id) else {
            return;
        };
        a.position = ev.position;
        let community = a.community_id;
        self.activity_event(id, community, at, ev);
    }

    fn activity_event(&mut self, id: Uuid, community: Uuid, at: i64, ev: &Envelope) {
        let pos = ev.position;
        match &ev.event {
            Event::ActivityChanged { change, .. } => {
                if let Some(a) = self.activities.get_mut(&id) {
                    if let Some(t) = &change.title {
                        a.title = t.clone();
                    }
                    if let Some(p) = &change.place {
                        a.place = p.clone();
                    }
                    if let Some(t) = change.starts_at {
                        a.starts_at = millis(t);
                    }
                    if let Some(t) = change.ends_at {
                        a.ends_at = millis(t);
                    }
                    if let Some(n) = change.places {
                        a.places = i64::from(n);
                    }
                    if let Some(t) = change.signup_deadline {
                        a.signup_deadline = millis(t);
                    }
                    if let Some(w) = change.walk_ins {
                        a.walk_ins = w;
                    }
                }
            }
            Event::ActivityCancelled { .. } => {
                if let Some(a) = self.activities.get_mut(&id) {
                    a.status = "cancelled".into();
                }
            }
            Event::SignedUp {
                volunteer_id,
                waiting,
                ..
            } => {
                let Some(a) = self.activities.get_mut(&id) else {
                    return;
                };
                a.seq += 1;
                let seq = a.seq;
                if *waiting {
                    a.waiting += 1;
                } else {
                    a.taken += 1;
                }
                let p = self.person(id, community, volunteer_id.0);
                p.signup = if *waiting { "waiting" } else { "place" }.into();
                p.seq = Some(seq);
                p.signed_up_at = Some(at);
                p.position = pos;
            }
            Event::SignUpWithdrawn { volunteer_id, .. } => {
                let p = self.person(id, community, volunteer_id.0);
                let was = std::mem::replace(&mut p.signup, "none".into());
                p.position = pos;
                if let Some(a) = self.activities.get_mut(&id) {
                    match was.as_str() {
                        "place" => a.taken -= 1,
                        "waiting" => a.waiting -= 1,
                        _ => {}
                    }
                }
            }
            Event::MovedUp { volunteer_id } => {
                let p = self.person(id, community, volunteer_id.0);
                p.signup = "place".into();
                p.position = pos;
                if let Some(a) = self.activities.get_mut(&id) {
                    a.waiting -= 1;
                    a.taken += 1;
                }
            }
            Event::CheckedIn {
                volunteer_id,
                at: t,
                walk_in,
                by_staff,
            } => {
                let p = self.person(id, community, volunteer_id.0);
                p.checked_in = Some(millis(*t));
                p.walk_in = *walk_in;
                p.by_staff = by_staff.is_some();
                p.position = pos;
                if let Some(a) = self.activities.get_mut(&id) {
                    a.checked_in += 1;
                }
            }
            Event::CheckedOut {
                volunteer_id,
                at: t,
                ..
            } => {
                let p = self.person(id, community, volunteer_id.0);
                p.checked_out = Some(millis(*t));
                p.position = pos;
            }
            Event::AttendanceApproved {
                records,
                excluded,
                notice_until,
                ..
            } => {
                let until = notice_until.map(millis);
                for r in records {
                    let p = self.person(id, community, r.volunteer_id.0);
                    set_record(p, r, until);
                    p.position = pos;
                }
                for e in excluded {
                    let p = self.person(id, community, e.volunteer_id.0);
                    p.record = Some("excluded".into());
                    p.excluded = Some(e.reason.clone());
                    p.position = pos;
                }
                if let Some(a) = self.activities.get_mut(&id) {
                    a.status = "approved".into();
                    a.approved_at = Some(at);
                    a.notice_until = until;
                    a.pending += records.len() as i64;
                }
            }
            Event::LateAttendanceRecorded {
                record,
                notice_until,
                ..
            } => {
                let p = self.person(id, community, record.volunteer_id.0);
                set_record(p, record, notice_until.map(millis));
                p.position = pos;
                if let Some(a) = self.activities.get_mut(&id) {
                    a.pending += 1;
                }
            }
            Event::ObjectionRaised {
                objection_id,
                volunteer_id,
                reason,
                raised_by,
            } => self.objections.insert(
                objection_id.0,
                ObjectionRow {
                    activity_id: id,
                    volunteer_id: volunteer_id.0,
                    reason: reason.clone(),
                    raised_by: *raised_by,
                    raised_at: at,
                    open: true,
                    ..ObjectionRow::default()
                },
            ),
            Event::ObjectionResolved {
                objection_id,
                volunteer_id,
                decision,
                reason,
                ..
            } => {
                if let Some(o) = self.objections.get_mut(&objection_id.0) {
                    o.open = false;
                    o.resolution = Some(reason.clone());
                    o.resolved_at = Some(at);
                    let (name, minutes) = match decision {
                        ObjectionDecision::Dismissed => ("dismissed", None),
                        ObjectionDecision::Corrected { hours, .. } => {
                            ("corrected", Some(hours.minutes()))
                        }
                        ObjectionDecision::Rejected => ("rejected", None),
                    };
                    o.decision = Some(name.into());
                    o.minutes = minutes;
                }
                let p = self.person(id, community, volunteer_id.0);
                p.position = pos;
                match decision {
                    ObjectionDecision::Dismissed => {}
                    ObjectionDecision::Corrected { hours, points } => {
                        p.minutes = Some(hours.minutes());
                        p.points = Some(points.hundredths());
                    }
                    ObjectionDecision::Rejected => {
                        let was_pending = p.record.as_deref() == Some("pending");
                        p.record = Some("rejected".into());
                        if was_pending {
                            if let Some(a) = self.activities.get_mut(&id) {
                                a.pending -= 1;
                            }
                        }
                    }
                }
            }
            Event::AttendanceFinalised { volunteers, .. } => {
                let mut made_final = 0;
                for v in volunteers {
                    let p = self.person(id, community, v.0);
                    if p.record.as_deref() == Some("pending") {
                        made_final += 1;
                    }
                    p.record = Some("final".into());
                    p.position = pos;
                }
                if let Some(a) = self.activities.get_mut(&id) {
                    a.pending -= made_final;
                }
            }
            _ => {}
        }
    }
}
