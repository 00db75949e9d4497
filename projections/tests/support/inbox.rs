//! The inbox's oracle: every volunteer's messages folded plainly from the log (who is
//! told what, of which subject, with which amounts), and the checks of the inbox's
//! queries against them.

use ledger::event::{service_text, wish_of_note, Event, ObjectionDecision};
use ledger::ids::*;
use ledger::store::RecordedEvent;
use projections::db::Db;
use projections::inbox::{self, Kind};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// (kind, subject, minutes, hundredths, detail) per (volunteer, position).
pub type Expected = BTreeMap<(Uuid, u64), (Kind, String, Option<i64>, Option<i64>, String)>;

#[derive(Default)]
pub struct InboxOracle {
    pub messages: Expected,
    /// Each message's community.
    pub community: HashMap<(Uuid, u64), Uuid>,
}

impl InboxOracle {
    pub fn fold(log: &[(RecordedEvent, Event)]) -> InboxOracle {
        let mut o = InboxOracle::default();
        let mut community_of: HashMap<Uuid, Uuid> = HashMap::new();
        let mut title: HashMap<Uuid, String> = HashMap::new();
        let mut service: HashMap<Uuid, String> = HashMap::new();
        // wish -> (text, claimer)
        let mut wish: HashMap<Uuid, (String, Option<Uuid>)> = HashMap::new();
        for (r, e) in log {
            let (stream, id) = parse_stream(&r.stream_id).expect("stream");
            let pos = r.position;
            let mut told = Vec::new();
            let mut tell = |v: Uuid, k: Kind, s: &str, m: Option<i64>, p: Option<i64>, d: &str| {
                told.push((v, (k, s.to_string(), m, p, d.to_string())));
            };
            match (stream, e) {
                (
                    StreamKind::Volunteer,
                    Event::VolunteerRegistered {
                        community_id,
                        volunteer_number,
                        ..
                    },
                ) => {
                    community_of.insert(id, community_id.0);
                    tell(id, Kind::Welcome, volunteer_number, None, None, "");
                }
                (
                    StreamKind::Volunteer,
                    Event::ServiceLogged {
                        service_id,
                        kind,
                        place,
                        note,
                        activity,
                        imported,
                        ..
                    },
                ) => {
                    let mut text = service_text(*kind, place, note, activity.map(|a| a.source))
                        + &ledger::event::imported_note(imported.as_ref());
                    if let Some((w, _)) = wish_of_note(*kind, note).and_then(|w| wish.get(&w)) {
                        text = format!("{text}：{w}");
                    }
                    service.insert(service_id.0, text);
                }
                (
                    StreamKind::Volunteer,
                    Event::ServiceVerified {
                        service_id,
                        hours,
                        points,
                        ..
                    },
                ) => {
                    let t = service.remove(&service_id.0).unwrap_or_default();
                    tell(
                        id,
                        Kind::ServiceCredited,
                        &t,
                        Some(hours.minutes()),
                        Some(points.hundredths()),
                        "",
                    );
                }
                (
                    StreamKind::Volunteer,
                    Event::ServiceRejected {
                        service_id, reason, ..
                    },
                ) => {
                    let t = service.remove(&service_id.0).unwrap_or_default();
                    tell(id, Kind::ServiceRejected, &t, None, None, reason);
                }
                (StreamKind::Volunteer, Event::PointsAwarded { points, reason, .. }) => tell(
                    id,
                    Kind::PointsAwarded,
                    "",
                    None,
                    Some(points.hundredths()),
                    reason,
                ),
                (StreamKind::Volunteer, Event::PointsRedeemed { points, item, .. }) => tell(
                    id,
                    Kind::PointsRedeemed,
                    item,
                    None,
                    Some(points.hundredths()),
                    "",
                ),
                (
                    StreamKind::Volunteer,
                    Event::PointsRefunded {
                        points,
                        item,
                        reason,
                        ..
                    },
                ) => tell(
                    id,
                    Kind::PointsRefunded,
                    item,
                    None,
                    Some(points.hundredths()),
                    reason,
                ),
                (
                    StreamKind::Volunteer,
                    Event::EntryReversed {
                        points,
                        hours,
                        reason,
                        ..
                    },
                ) => tell(
                    id,
                    Kind::EntryReversed,
                    "",
                    Some(hours.minutes()),
                    Some(points.hundredths()),
                    reason,
                ),
                (StreamKind::Volunteer, Event::HoursReceived { hours, .. }) => {
                    tell(id, Kind::HoursReceived, "", Some(hours.minutes()), None, "")
                }
                (
                    StreamKind::Volunteer,
                    Event::HoursSpent {
                        hours, description, ..
                    },
                ) => tell(
                    id,
                    Kind::HoursSpent,
                    description,
                    Some(hours.minutes()),
                    None,
                    "",
                ),
                (
                    StreamKind::Activity,
                    Event::ActivityPosted {
                        community_id,
                        title: t,
                        ..
                    },
                ) => {
                    community_of.insert(id, community_id.0);
                    title.insert(id, t.clone());
                }
                (StreamKind::Activity, e) => {
                    if let Event::ActivityChanged { change, .. } = e {
                        if let Some(t) = &change.title {
                            title.insert(id, t.clone());
                        }
                    }
                    let t = title.get(&id).cloned().unwrap_or_default();
                    match e {
                        Event::ActivityChanged { notify, reason, .. } => {
                            for v in notify {
                                tell(v.0, Kind::ActivityChanged, &t, None, None, reason);
                            }
                        }
                        Event::ActivityCancelled { notify, reason, .. } => {
                            for v in notify {
                                tell(v.0, Kind::ActivityCancelled, &t, None, None, reason);
                            }
                        }
                        Event::SignedUp {
                            volunteer_id,
                            waiting,
                            ..
                        } => {
                            let k = if *waiting {
                                Kind::Waitlisted
                            } else {
                                Kind::SignedUp
                            };
                            tell(volunteer_id.0, k, &t, None, None, "");
                        }
                        Event::MovedUp { volunteer_id } => {
                            tell(volunteer_id.0, Kind::MovedUp, &t, None, None, "")
                        }
                        Event::AttendanceApproved {
                            records,
                            notice_until: Some(_),
                            ..
                        } => {
                            for r in records {
                                let (m, p) = (r.hours.minutes(), r.points.hundredths());
                                tell(r.volunteer_id.0, Kind::OnNotice, &t, Some(m), Some(p), "");
                            }
                        }
                        Event::LateAttendanceRecorded {
                            record: r,
                            notice_until: Some(_),
                            ..
                        } => {
                            let (m, p) = (r.hours.minutes(), r.points.hundredths());
                            tell(r.volunteer_id.0, Kind::OnNotice, &t, Some(m), Some(p), "");
                        }
                        Event::ObjectionRaised {
                            volunteer_id,
                            reason,
                            ..
                        } => tell(
                            volunteer_id.0,
                            Kind::ObjectionRaised,
                            &t,
                            None,
                            None,
                            reason,
                        ),
                        Event::ObjectionResolved {
                            volunteer_id,
                            decision,
                            reason,
                            ..
                        } => {
                            let (k, m, p) = match decision {
                                ObjectionDecision::Dismissed => {
                                    (Kind::ObjectionDismissed, None, None)
                                }
                                ObjectionDecision::Rejected => {
                                    (Kind::ObjectionRejected, None, None)
                                }
                                ObjectionDecision::Corrected { hours, points } => (
                                    Kind::ObjectionCorrected,
                                    Some(hours.minutes()),
                                    Some(points.hundredths()),
                                ),
                            };
                            tell(volunteer_id.0, k, &t, m, p, reason);
                        }
                        _ => {}
                    }
                }
                (
                    StreamKind::Wish,
                    Event::WishPosted {
                        community_id,
                        description,
                        ..
                    },
                ) => {
                    community_of.insert(id, community_id.0);
                    wish.insert(id, (description.clone(), None));
                }
                (StreamKind::Wish, e) => {
                    let Some((text, claimer)) = wish.get_mut(&id) else {
                        continue;
                    };
                    let text = text.clone();
                    match e {
                        Event::WishClaimed { volunteer_id } => {
                            *claimer = Some(volunteer_id.0);
                            tell(volunteer_id.0, Kind::WishClaimed, &text, None, None, "");
                        }
                        Event::WishReleased { volunteer_id } => {
                            *claimer = None;
                            tell(volunteer_id.0, Kind::WishReleased, &text, None, None, "");
                        }
                        Event::WishFulfilled { volunteer_id, .. } => {
                            *claimer = Some(volunteer_id.0)
                        }
                        Event::WishConfirmed { .. } => {
                            if let Some(v) = *claimer {
                                tell(v, Kind::WishConfirmed, &text, None, None, "");
                            }
                        }
                        Event::WishCancelled { reason, .. } => {
                            if let Some(v) = claimer.take() {
                                tell(v, Kind::WishCancelled, &text, None, None, reason);
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            // The community of a message: its activity's or wish's, or its volunteer's.
            for (v, m) in told {
                let c = match stream {
                    StreamKind::Volunteer => community_of.get(&v),
                    _ => community_of.get(&id),
                };
                o.community.insert((v, pos), *c.expect("a community"));
                o.messages.insert((v, pos), m);
            }
        }
        o
    }

    /// Every volunteer's messages, whole and in pages; the unread counts after each
    /// message; the community's recent awards.
    pub async fn check(&self, db: &Db) {
        let mut by_volunteer: BTreeMap<Uuid, Vec<u64>> = BTreeMap::new();
        for (v, p) in self.messages.keys() {
            by_volunteer.entry(*v).or_default().push(*p);
        }
        for (v, positions) in &by_volunteer {
            let vid = VolunteerId(*v);
            let got = inbox::messages(db, vid, None, 200).await.expect("messages");
            let want: Vec<u64> = positions.iter().rev().take(200).copied().collect();
            assert_eq!(
                got.iter().map(|m| m.position).collect::<Vec<_>>(),
                want,
                "inbox of {v}"
            );
            for m in &got {
                let (k, s, mins, p, d) = &self.messages[&(*v, m.position)];
                assert_eq!(
                    (&m.kind, &m.subject, &m.minutes, &m.hundredths, &m.detail),
                    (k, s, mins, p, d)
                );
                assert_eq!(m.community, self.community[&(*v, m.position)]);
            }
            // A page before the middle message.
            let mid = want[want.len() / 2];
            let page = inbox::messages(db, vid, Some(mid), 3).await.expect("page");
            let rest: Vec<u64> = want.iter().copied().filter(|p| *p < mid).take(3).collect();
            assert_eq!(page.iter().map(|m| m.position).collect::<Vec<_>>(), rest);
            assert_eq!(inbox::newest(db, vid).await.unwrap(), want[0]);
            assert_eq!(inbox::unread(db, vid, 0).await.unwrap(), want.len() as u64);
            assert_eq!(
                inbox::unread(db, vid, mid).await.unwrap(),
                want.iter().filter(|p| **p > mid).count() as u64
            );
        }
        let mut communities: BTreeMap<Uuid, Vec<u64>> = BTreeMap::new();
        for ((v, p), (k, ..)) in &self.messages {
            if matches!(k, Kind::PointsAwarded | Kind::ServiceCredited) {
                communities
                    .entry(self.community[&(*v, *p)])
                    .or_default()
                    .push(*p);
            }
        }
        for (c, mut positions) in communities {
            positions.sort_unstable_by(|a, b| b.cmp(a));
            positions.truncate(10);
            let got = inbox::recent(
                db,
                CommunityId(c),
                &[Kind::PointsAwarded, Kind::ServiceCredited],
                10,
            )
            .await
            .expect("recent");
            assert_eq!(
                got.iter().map(|m| m.position).collect::<Vec<_>>(),
                positions,
                "recent awards of {c}"
            );
        }
    }
}
