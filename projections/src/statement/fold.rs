//! The pure fold of a statement: which events are ledger entries, what each line says,
//! and the running balances after it.

use crate::projection::Envelope;
use chrono::{DateTime, Utc};
use ledger::event::{imported_note, service_text, Event};
use ledger::ids::ServiceId;
use uuid::Uuid;

/// The text a service's line shows, from the event that logged it; none for events
/// that log no service.
pub fn logged_text(event: &Event) -> Option<(ServiceId, String)> {
    match event {
        Event::ServiceLogged {
            service_id,
            kind,
            place,
            note,
            activity,
            imported,
            ..
        } => Some((
            *service_id,
            service_text(*kind, place, note, activity.as_ref().map(|a| a.source))
                + &imported_note(imported.as_ref()),
        )),
        _ => None,
    }
}

/// The running state of one account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Running {
    pub seq: u64,
    pub points: i64,
    pub minutes: i64,
}

/// One statement line, in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub seq: u64,
    pub position: u64,
    pub event_id: Uuid,
    pub entry_id: Uuid,
    pub kind: &'static str,
    pub points_delta: i64,
    pub minutes_delta: i64,
    pub points_balance: i64,
    pub minutes_balance: i64,
    pub reverses: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub detail: String,
}

/// A ledger entry: (entry id, kind, points delta, minutes delta, reversed entry, detail).
pub type EntryParts = (Uuid, &'static str, i64, i64, Option<Uuid>, String);

/// The entry an event writes to a statement, if it is a ledger entry; `service` gives
/// the text of a verified service (its kind, place and note, as logged).
pub fn entry_of(event: &Event, service: impl FnOnce(ServiceId) -> String) -> Option<EntryParts> {
    Some(match event {
        Event::ServiceVerified {
            entry_id,
            hours,
            points,
            service_id,
            over_cap,
            ..
        } => (
            entry_id.0,
            "service_verified",
            points.hundredths(),
            hours.minutes() - over_cap.minutes(),
            None,
            service(*service_id) + &ledger::event::over_cap_note(*over_cap),
        ),
        Event::PointsAwarded {
            entry_id,
            points,
            reason,
            ..
        } => (
            entry_id.0,
            "points_awarded",
            points.hundredths(),
            0,
            None,
            reason.clone(),
        ),
        Event::PointsRedeemed {
            entry_id,
            points,
            item,
            ..
        } => (
            entry_id.0,
            "points_redeemed",
            -points.hundredths(),
            0,
            None,
            item.clone(),
        ),
        Event::EntryReversed {
            entry_id,
            reverses,
            points,
            hours,
            reason,
            over_cap,
            ..
        } => (
            entry_id.0,
            "entry_reversed",
            -points.hundredths(),
            -(hours.minutes() - over_cap.minutes()),
            Some(reverses.0),
            reason.clone(),
        ),
        Event::PointsRefunded {
            entry_id,
            refunds,
            points,
            item,
            ..
        } => (
            entry_id.0,
            "points_refunded",
            points.hundredths(),
            0,
            Some(refunds.0),
            item.clone(),
        ),
        Event::PointsExpired {
            entry_id, points, ..
        } => (
            entry_id.0,
            "points_expired",
            -points.hundredths(),
            0,
            None,
            "积分到期".into(),
        ),
        Event::VolunteerTransferred(ledger::event::VolunteerTransferred {
            points_left: Some(left),
            reason,
            ..
        }) => (
            left.entry_id.0,
            "points_left",
            -left.points.hundredths(),
            0,
            None,
            format!("转移接续：积分按原社区规则留在原社区（{reason}）"),
        ),
        Event::HoursGifted {
            entry_id,
            to,
            hours,
        } => (
            entry_id.0,
            "hours_gifted",
            0,
            -hours.minutes(),
            None,
            format!("to {to}"),
        ),
        Event::HoursReceived {
            entry_id,
            from,
            hours,
        } => (
            entry_id.0,
            "hours_received",
            0,
            hours.minutes(),
            None,
            format!("from {from}"),
        ),
        Event::HoursSpent {
            entry_id,
            hours,
            description,
            provider,
        } => (
            entry_id.0,
            "hours_spent",
            0,
            -hours.minutes(),
            None,
            spent_detail(description, provider.map(|p| p.volunteer_id)),
        ),
        _ => return None,
    })
}

/// What hours were spent on, and who gave the service ("理发" + [`PROVIDER_MARK`] +
/// "from {id}" when a volunteer did).
pub fn spent_detail(description: &str, provider: Option<ledger::ids::VolunteerId>) -> String {
    match provider {
        Some(p) => format!("{description}{PROVIDER_MARK}from {p}"),
        None => description.to_string(),
    }
}

/// Separates what hours were spent on from who gave it, in a statement line's detail.
pub const PROVIDER_MARK: char = '\u{1f}';

/// Appends an event's entry to an account: the pure fold.
pub fn evolve(
    run: &mut Running,
    ev: &Envelope,
    service: impl FnOnce(ServiceId) -> String,
) -> Option<Line> {
    let (entry_id, kind, dp, dm, reverses, detail) = entry_of(&ev.event, service)?;
    run.seq += 1;
    run.points += dp;
    run.minutes += dm;
    Some(Line {
        seq: run.seq,
        position: ev.position,
        event_id: ev.event_id,
        entry_id,
        kind,
        points_delta: dp,
        minutes_delta: dm,
        points_balance: run.points,
        minutes_balance: run.minutes,
        reverses,
        recorded_at: ev.recorded_at,
        detail,
    })
}
