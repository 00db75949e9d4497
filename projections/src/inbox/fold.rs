//! Which events tell a volunteer something, and what: one [`Message`] per volunteer an
//! event concerns, from the event and the [`Subject`]s it names (an activity's title, a
//! wish's text and claimer, a service's description, a volunteer's community).
//!
//! What a volunteer did themself is not told back to them (logging a service, gifting
//! hours, fulfilling a wish), except a sign-up, which is a receipt people keep.

use super::{Kind, Message, Subject};
use crate::common::{millis, Cached};
use crate::projection::Envelope;
use ledger::event::{service_text, wish_of_note, Event, ObjectionDecision};
use ledger::ids::StreamKind;
use uuid::Uuid;

/// Folds one event: the subjects it defines or changes, and the messages it sends.
pub(super) fn evolve(subjects: &mut Cached<Uuid, Subject>, ev: &Envelope, out: &mut Vec<Message>) {
    let Some(kind) = ev.stream_kind else { return };
    let id = ev.stream_id;
    match kind {
        StreamKind::Volunteer => volunteer_event(subjects, id, ev, out),
        StreamKind::Activity => activity_event(subjects, id, ev, out),
        StreamKind::Wish => wish_event(subjects, id, ev, out),
        _ => {}
    }
}

/// A message to `volunteer` about `subject` (of community `community`).
fn message(ev: &Envelope, volunteer: Uuid, community: Uuid, kind: Kind, subject: &str) -> Message {
    Message {
        volunteer,
        position: ev.position,
        community,
        kind,
        subject: subject.to_string(),
        minutes: None,
        hundredths: None,
        detail: String::new(),
        other: None,
        until: None,
        at: millis(ev.recorded_at),
    }
}

fn volunteer_event(
    subjects: &mut Cached<Uuid, Subject>,
    v: Uuid,
    ev: &Envelope,
    out: &mut Vec<Message>,
) {
    if let Event::VolunteerRegistered {
        community_id,
        volunteer_number,
        ..
    } = &ev.event
    {
        let me = Subject {
            text: volunteer_number.clone(),
            community: community_id.0,
            who: None,
        };
        subjects.insert(v, me);
        out.push(message(
            ev,
            v,
            community_id.0,
            Kind::Welcome,
            volunteer_number,
        ));
        return;
    }
    if let Event::VolunteerTransferred(t) = &ev.event {
        let me = Subject {
            text: t.volunteer_number.clone(),
            community: t.community_id.0,
            who: None,
        };
        subjects.insert(v, me);
        out.push(Message {
            hundredths: t.points_left.map(|l| l.points.hundredths()),
            detail: t.reason.clone(),
            ..message(
                ev,
                v,
                t.community_id.0,
                Kind::Transferred,
                &t.volunteer_number,
            )
        });
        return;
    }
    let Some(community) = subjects.get(&v).map(|s| s.community) else {
        return;
    };
    let to = |kind: Kind, subject: &str| message(ev, v, community, kind, subject);
    let m = match &ev.event {
        Event::ServiceLogged {
            service_id,
            kind,
            place,
            note,
            activity,
            imported,
            ..
        } => {
            let mut text = service_text(*kind, place, note, activity.map(|a| a.source))
                + &ledger::event::imported_note(imported.as_ref());
            // A wish's service: what the wish was.
            if let Some(w) = wish_of_note(*kind, note).and_then(|w| subjects.get(&w)) {
                text = format!("{text}：{}", w.text);
            }
            subjects.insert(
                service_id.0,
                Subject {
                    text,
                    community,
                    who: Some(v),
                },
            );
            return;
        }
        Event::ServiceVerified {
            service_id,
            hours,
            points,
            ..
        } => {
            let text = subjects
                .remove(&service_id.0)
                .map(|s| s.text)
                .unwrap_or_default();
            Message {
                minutes: Some(hours.minutes()),
                hundredths: Some(points.hundredths()),
                ..to(Kind::ServiceCredited, &text)
            }
        }
        Event::ServiceRejected {
            service_id, reason, ..
        } => {
            let text = subjects
                .remove(&service_id.0)
                .map(|s| s.text)
                .unwrap_or_default();
            Message {
                detail: reason.clone(),
                ..to(Kind::ServiceRejected, &text)
            }
        }
        Event::PointsAwarded { points, reason, .. } => Message {
            hundredths: Some(points.hundredths()),
            detail: reason.clone(),
            ..to(Kind::PointsAwarded, "")
        },
        Event::PointsRedeemed { points, item, .. } => Message {
            hundredths: Some(points.hundredths()),
            ..to(Kind::PointsRedeemed, item)
        },
        Event::PointsRefunded {
            points,
            item,
            reason,
            ..
        } => Message {
            hundredths: Some(points.hundredths()),
            detail: reason.clone(),
            ..to(Kind::PointsRefunded, item)
        },
        Event::PointsExpired { points, .. } => Message {
            hundredths: Some(points.hundredths()),
            ..to(Kind::PointsExpired, "")
        },
        Event::EntryReversed {
            points,
            hours,
            reason,
            ..
        } => Message {
            hundredths: Some(points.hundredths()),
            minutes: Some(hours.minutes()),
            detail: reason.clone(),
            ..to(Kind::EntryReversed, "")
        },
        Event::HoursReceived { from, hours, .. } => Message {
            minutes: Some(hours.minutes()),
            other: Some(from.0),
            ..to(Kind::HoursReceived, "")
        },
        Event::HoursSpent {
            hours, description, ..
        } => Message {
            minutes: Some(hours.minutes()),
            ..to(Kind::HoursSpent, description)
        },
        _ => return,
    };
    out.push(m);
}

fn activity_event(
    subjects: &mut Cached<Uuid, Subject>,
    a: Uuid,
    ev: &Envelope,
    out: &mut Vec<Message>,
) {
    if let Event::ActivityPosted {
        community_id,
        title,
        ..
    } = &ev.event
    {
        let s = Subject {
            text: title.clone(),
            community: community_id.0,
            who: None,
        };
        subjects.insert(a, s);
        return;
    }
    if let Event::ActivityChanged {
        change: ledger::event::ActivityDetails {
            title: Some(title), ..
        },
        ..
    } = &ev.event
    {
        if let Some(s) = subjects.get_mut(&a) {
            s.text = title.clone();
        }
    }
    let Some(s) = subjects.get(&a) else { return };
    let (title, community) = (s.text.as_str(), s.community);
    let to = |v: Uuid, kind: Kind| message(ev, v, community, kind, title);
    match &ev.event {
        Event::ActivityChanged { notify, reason, .. } => {
            out.extend(notify.iter().map(|v| Message {
                detail: reason.clone(),
                ..to(v.0, Kind::ActivityChanged)
            }))
        }
        Event::ActivityCancelled { notify, reason, .. } => {
            out.extend(notify.iter().map(|v| Message {
                detail: reason.clone(),
                ..to(v.0, Kind::ActivityCancelled)
            }))
        }
        Event::SignedUp {
            volunteer_id,
            waiting,
            ..
        } => out.push(to(
            volunteer_id.0,
            if *waiting {
                Kind::Waitlisted
            } else {
                Kind::SignedUp
            },
        )),
        Event::MovedUp { volunteer_id } => out.push(to(volunteer_id.0, Kind::MovedUp)),
        Event::AttendanceApproved {
            records,
            notice_until: Some(until),
            ..
        } => out.extend(records.iter().map(|r| Message {
            minutes: Some(r.hours.minutes()),
            hundredths: Some(r.points.hundredths()),
            until: Some(millis(*until)),
            ..to(r.volunteer_id.0, Kind::OnNotice)
        })),
        Event::LateAttendanceRecorded {
            record,
            notice_until: Some(until),
            ..
        } => out.push(Message {
            minutes: Some(record.hours.minutes()),
            hundredths: Some(record.points.hundredths()),
            until: Some(millis(*until)),
            ..to(record.volunteer_id.0, Kind::OnNotice)
        }),
        Event::ObjectionRaised {
            volunteer_id,
            reason,
            ..
        } => out.push(Message {
            detail: reason.clone(),
            ..to(volunteer_id.0, Kind::ObjectionRaised)
        }),
        Event::ObjectionResolved {
            volunteer_id,
            decision,
            reason,
            ..
        } => {
            let base = Message {
                detail: reason.clone(),
                ..to(volunteer_id.0, Kind::ObjectionDismissed)
            };
            out.push(match decision {
                ObjectionDecision::Dismissed => base,
                ObjectionDecision::Rejected => Message {
                    kind: Kind::ObjectionRejected,
                    ..base
                },
                ObjectionDecision::Corrected { hours, points } => Message {
                    kind: Kind::ObjectionCorrected,
                    minutes: Some(hours.minutes()),
                    hundredths: Some(points.hundredths()),
                    ..base
                },
            })
        }
        _ => {}
    }
}

fn wish_event(
    subjects: &mut Cached<Uuid, Subject>,
    w: Uuid,
    ev: &Envelope,
    out: &mut Vec<Message>,
) {
    if let Event::WishPosted {
        community_id,
        description,
        ..
    } = &ev.event
    {
        let s = Subject {
            text: description.clone(),
            community: community_id.0,
            who: None,
        };
        subjects.insert(w, s);
        return;
    }
    let Some(s) = subjects.get(&w) else { return };
    let (text, community, claimer) = (s.text.clone(), s.community, s.who);
    let to = |v: Uuid, kind: Kind| message(ev, v, community, kind, &text);
    let claimer_now = match &ev.event {
        Event::WishClaimed { volunteer_id } => {
            out.push(to(volunteer_id.0, Kind::WishClaimed));
            Some(volunteer_id.0)
        }
        Event::WishReleased { volunteer_id } => {
            out.push(to(volunteer_id.0, Kind::WishReleased));
            None
        }
        Event::WishFulfilled { volunteer_id, .. } => Some(volunteer_id.0),
        Event::WishConfirmed { .. } => {
            out.extend(claimer.map(|v| to(v, Kind::WishConfirmed)));
            claimer
        }
        Event::WishCancelled { reason, .. } => {
            out.extend(claimer.map(|v| Message {
                detail: reason.clone(),
                ..to(v, Kind::WishCancelled)
            }));
            None
        }
        _ => return,
    };
    if let Some(s) = subjects.get_mut(&w) {
        s.who = claimer_now;
    }
}
