//! From attendance to credited services: the approval of an activity's attendance in one
//! command (审核, with adjustments and exclusions), 补录, the 公示 notice with objections
//! dismissed or upheld, and finality, which credits each record to its volunteer's
//! account.

use super::super::community::CommunityState;
use super::super::volunteer::{points_by, within_cap, VolunteerState};
use super::super::*;
use super::attendance::attended_minutes;
use super::{ActivityState, Record, RecordStatus};
use crate::event::{ActivityService, AttendanceRecord, Excluded, ObjectionDecision, RecordSource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Staff set a volunteer's times at approval (a late check-in, a missing check-out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendanceAdjustment {
    pub volunteer_id: VolunteerId,
    #[serde(default)]
    pub checked_in: Option<DateTime<Utc>>,
    #[serde(default)]
    pub checked_out: Option<DateTime<Utc>>,
    pub reason: String,
}

/// A volunteer left out of the approval, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exclusion {
    pub volunteer_id: VolunteerId,
    pub reason: String,
}

/// Approves the attendance of an activity in one go (staff, after its end): every
/// volunteer checked in, with the adjustments and exclusions given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApproveAttendance {
    pub activity_id: ActivityId,
    #[serde(default)]
    pub adjustments: Vec<AttendanceAdjustment>,
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
}

/// 补录 (staff): a record for a volunteer who took part without checking in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordLateAttendance {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    pub hours: Decimal,
    pub reason: String,
}

/// An objection to a volunteer's record during its notice (a volunteer of the
/// community, or staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaiseObjection {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    pub reason: String,
}

/// What staff decide of an objection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Verdict {
    /// The record stands.
    Dismiss,
    /// Upheld: the record is corrected to these hours.
    Correct { hours: Decimal },
    /// Upheld: the record is rejected.
    Reject,
}

/// Resolves an objection (staff), saying why; `impact`: what upholding it changes, as
/// previewed before it was confirmed (kept on the event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveObjection {
    pub activity_id: ActivityId,
    pub objection_id: ObjectionId,
    pub verdict: Verdict,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<crate::event::CorrectionNote>,
}

/// What a verdict does to the record under notice: the volunteer, the day it counts on,
/// its hours and points as recorded and as the verdict leaves them (a rejection credits
/// nothing; a dismissal leaves the record as it is).
#[derive(Debug, Clone, PartialEq)]
pub struct Upholding {
    pub volunteer_id: VolunteerId,
    pub day: NaiveDate,
    pub recorded: (Hours, Points),
    pub upheld: (Hours, Points),
    pub decision: ObjectionDecision,
}

/// Makes final the records whose notice has passed with no open objection (the server
/// does it on time; staff may too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinaliseAttendance {
    pub activity_id: ActivityId,
}

/// A decision that may credit volunteers: the activity's events, and per volunteer the
/// events that credit their final records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Credits {
    pub activity: Vec<Event>,
    pub volunteers: Vec<(VolunteerId, Vec<Event>)>,
}

/// Hours and points of `minutes` by the rules on the date the counted time starts, the
/// hours capped by `max_hours_per_record`.
fn hours_and_points(
    community: &CommunityState,
    activity: &ActivityState,
    from: DateTime<Utc>,
    minutes: i64,
) -> DomainResult<(Hours, Points, u32)> {
    let rules = community.point_rules_on(local_date(activity.counted_start(from)));
    let hours = Hours::from_minutes(minutes).min(rules.max_hours_per_record);
    let points = points_by(&rules, hours, activity.kind())?;
    Ok((hours, points, rules.version))
}

/// The notice of records approved at `now`: its end, or none when final at once.
fn notice_until(
    community: &CommunityState,
    activity: &ActivityState,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let days = activity.rules(community).notice_days;
    (days > 0).then(|| now + chrono::Duration::days(days.into()))
}

/// The service a final record credits: `ServiceLogged` marked with the activity and
/// `ServiceVerified` with the record's hours and points.
pub fn credit(activity: &ActivityState, activity_id: ActivityId, r: &Record) -> Vec<Event> {
    let rec = &r.record;
    let started_at = activity.counted_start(rec.from).min(activity.ends_at);
    vec![
        Event::ServiceLogged {
            imported: None,
            service_id: rec.service_id,
            kind: activity.kind(),
            started_at,
            hours: rec.hours,
            place: activity.place.clone(),
            note: activity.title.clone(),
            logged_by: r.approved_by,
            activity: Some(ActivityService {
                activity_id,
                source: rec.source,
            }),
        },
        Event::ServiceVerified {
            service_id: rec.service_id,
            entry_id: rec.entry_id,
            hours: rec.hours,
            points: rec.points,
            rule_version: rec.rule_version,
            verified_by: r.approved_by,
            over_cap: Hours::ZERO,
            expires_on: None,
        },
    ]
}

/// The credits of `records` decided now (an approval, a 补录): `head`, the event that
/// records them with the end of their notice, then their finality when the rules give
/// them no notice.
fn decided(
    community: &CommunityState,
    activity: &ActivityState,
    activity_id: ActivityId,
    records: Vec<Record>,
    ctx: &Ctx,
    head: impl FnOnce(Vec<Record>, Option<DateTime<Utc>>) -> Event,
) -> Credits {
    let until = notice_until(community, activity, ctx.now);
    let mut credits = match until {
        Some(_) => Credits::default(),
        None => finality(activity, activity_id, &records, ctx),
    };
    credits.activity.insert(0, head(records, until));
    credits
}

/// The finality of `records` (when there are any): the activity's event and the credits.
fn finality(
    activity: &ActivityState,
    activity_id: ActivityId,
    records: &[Record],
    ctx: &Ctx,
) -> Credits {
    if records.is_empty() {
        return Credits::default();
    }
    Credits {
        activity: vec![Event::AttendanceFinalised {
            volunteers: records.iter().map(|r| r.record.volunteer_id).collect(),
            finalised_by: ctx.principal(),
        }],
        volunteers: records
            .iter()
            .map(|r| (r.record.volunteer_id, credit(activity, activity_id, r)))
            .collect(),
    }
}

fn by_volunteer<'a, T>(
    items: &'a [T],
    field: &'static str,
    volunteer: impl Fn(&T) -> VolunteerId,
    activity: &ActivityState,
) -> DomainResult<BTreeMap<VolunteerId, &'a T>> {
    let mut map = BTreeMap::new();
    for item in items {
        let v = volunteer(item);
        if activity.participant(v).and_then(|p| p.checked_in).is_none() {
            return Err(DomainError::InvalidInput {
                field,
                reason: format!("volunteer {v} did not check in (a 补录 records them)"),
            });
        }
        if map.insert(v, item).is_some() {
            return Err(DomainError::InvalidInput {
                field,
                reason: format!("volunteer {v} is named twice"),
            });
        }
    }
    Ok(map)
}

pub fn approve(
    community: &CommunityState,
    activity: &ActivityState,
    cmd: &ApproveAttendance,
    ctx: &Ctx,
) -> DomainResult<Credits> {
    let activity_id = cmd.activity_id;
    activity.require_open(activity_id)?;
    require_staff(ctx.actor)?;
    if ctx.now < activity.ends_at {
        return Err(DomainError::ActivityNotEnded {
            activity_id,
            ends_at: activity.ends_at,
        });
    }
    let adjustments = by_volunteer(
        &cmd.adjustments,
        "adjustments",
        |a| a.volunteer_id,
        activity,
    )?;
    let exclusions = by_volunteer(&cmd.exclusions, "exclusions", |e| e.volunteer_id, activity)?;
    let unit = activity.rules(community).time_unit_minutes;
    let mut records = Vec::new();
    let mut excluded = Vec::new();
    for (v, p) in &activity.people {
        let Some(checked_in) = p.checked_in else {
            continue;
        };
        if let Some(e) = exclusions.get(v) {
            excluded.push(Excluded {
                volunteer_id: *v,
                reason: required_text("exclusions.reason", &e.reason, MAX_TEXT)?,
            });
            continue;
        }
        let adj = adjustments.get(v);
        let adjusted = adj
            .map(|a| required_text("adjustments.reason", &a.reason, MAX_TEXT))
            .transpose()?;
        let from = adj.and_then(|a| a.checked_in).unwrap_or(checked_in);
        let out = adj.and_then(|a| a.checked_out).or(p.checked_out);
        let until = out.unwrap_or(activity.ends_at);
        if adj.is_some() && until <= from {
            return Err(DomainError::InvalidInput {
                field: "adjustments",
                reason: format!("volunteer {v} would check out at {until}, not after {from}"),
            });
        }
        let minutes = attended_minutes(activity, from, until, unit);
        if minutes == 0 {
            excluded.push(Excluded {
                volunteer_id: *v,
                reason: format!("未满一个计时单位（{unit}分钟）"),
            });
            continue;
        }
        let service_id = ServiceId(ctx.ids.id(&format!("service-{v}")));
        if ctx.actor.volunteer_id == Some(*v) {
            return Err(DomainError::SelfVerification { service_id });
        }
        let (hours, points, rule_version) = hours_and_points(community, activity, from, minutes)?;
        records.push(Record {
            record: AttendanceRecord {
                volunteer_id: *v,
                source: RecordSource::Attendance,
                from,
                until,
                checkout_missing: out.is_none(),
                hours,
                points,
                rule_version,
                adjusted,
                service_id,
                entry_id: EntryId(ctx.ids.id(&format!("entry-{v}"))),
            },
            status: RecordStatus::Pending { until: None },
            approved_by: ctx.principal(),
        });
    }
    Ok(decided(
        community,
        activity,
        activity_id,
        records,
        ctx,
        |records, until| Event::AttendanceApproved {
            records: records.into_iter().map(|r| r.record).collect(),
            excluded,
            notice_until: until,
            approved_by: ctx.principal(),
        },
    ))
}

pub fn record_late(
    community: &CommunityState,
    activity: &ActivityState,
    volunteer: &VolunteerState,
    cmd: &RecordLateAttendance,
    ctx: &Ctx,
) -> DomainResult<Credits> {
    let activity_id = cmd.activity_id;
    let community_id = activity.require(activity_id)?;
    require_staff(ctx.actor)?;
    if activity.cancelled {
        return Err(DomainError::ActivityCancelled { activity_id });
    }
    if !activity.approved {
        return Err(DomainError::NotApproved { activity_id });
    }
    let days = activity.rules(community).late_record_days;
    let closes = activity.ends_at + chrono::Duration::days(days.into());
    if ctx.now > closes {
        return Err(DomainError::LateRecordClosed {
            activity_id,
            until: closes,
        });
    }
    if volunteer.require(cmd.volunteer_id)? != community_id {
        return Err(DomainError::forbidden(
            "a late record is of a volunteer of the activity's community",
        ));
    }
    if activity
        .participant(cmd.volunteer_id)
        .is_some_and(|p| p.record.is_some())
    {
        return Err(DomainError::AlreadyRecorded {
            activity_id,
            volunteer_id: cmd.volunteer_id,
        });
    }
    let reason = required_text("reason", &cmd.reason, MAX_TEXT)?;
    let minutes = late_minutes(community, activity, cmd.hours)?;
    let service_id = ServiceId(ctx.ids.id("service"));
    if ctx.actor.volunteer_id == Some(cmd.volunteer_id) {
        return Err(DomainError::SelfVerification { service_id });
    }
    let (hours, points, rule_version) =
        hours_and_points(community, activity, activity.starts_at, minutes)?;
    let record = AttendanceRecord {
        volunteer_id: cmd.volunteer_id,
        source: RecordSource::Late,
        from: activity.starts_at,
        until: activity.starts_at + chrono::Duration::minutes(minutes),
        checkout_missing: false,
        hours,
        points,
        rule_version,
        adjusted: None,
        service_id,
        entry_id: EntryId(ctx.ids.id("entry")),
    };
    let records = vec![Record {
        record,
        status: RecordStatus::Pending { until: None },
        approved_by: ctx.principal(),
    }];
    Ok(decided(
        community,
        activity,
        activity_id,
        records,
        ctx,
        |mut records, until| Event::LateAttendanceRecorded {
            record: records.remove(0).record,
            reason,
            notice_until: until,
            recorded_by: ctx.principal(),
        },
    ))
}

/// Minutes of hours given by staff (a 补录, a correction): positive whole minutes, no
/// longer than the activity nor the cap of the point rules.
fn late_minutes(
    community: &CommunityState,
    activity: &ActivityState,
    hours: Decimal,
) -> DomainResult<i64> {
    let h = positive_hours("hours", hours)?;
    let longest = activity.duration().num_minutes();
    if h.minutes() > longest {
        return Err(DomainError::InvalidInput {
            field: "hours",
            reason: format!(
                "{h} h is longer than the activity ({} h)",
                Hours::from_minutes(longest)
            ),
        });
    }
    within_cap(community, h, local_date(activity.starts_at))?;
    Ok(h.minutes())
}

/// The record of `v`, in its notice at `now`.
fn in_notice(
    activity: &ActivityState,
    activity_id: ActivityId,
    v: VolunteerId,
    now: DateTime<Utc>,
) -> DomainResult<&Record> {
    activity
        .participant(v)
        .and_then(|p| p.record.as_ref())
        .filter(|r| matches!(r.status, RecordStatus::Pending { until: Some(t) } if now < t))
        .ok_or(DomainError::NotInNotice {
            activity_id,
            volunteer_id: v,
        })
}

pub fn raise_objection(
    activity: &ActivityState,
    cmd: &RaiseObjection,
    objection_id: ObjectionId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    activity.require(cmd.activity_id)?;
    in_notice(activity, cmd.activity_id, cmd.volunteer_id, ctx.now)?;
    Ok(vec![Event::ObjectionRaised {
        objection_id,
        volunteer_id: cmd.volunteer_id,
        reason: required_text("reason", &cmd.reason, MAX_TEXT)?,
        raised_by: ctx.principal(),
    }])
}

pub fn resolve_objection(
    community: &CommunityState,
    activity: &ActivityState,
    cmd: &ResolveObjection,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    activity.require(cmd.activity_id)?;
    require_staff(ctx.actor)?;
    let o = activity
        .objections
        .get(&cmd.objection_id)
        .ok_or_else(|| DomainError::not_found("objection", cmd.objection_id))?;
    if !o.open {
        return Err(DomainError::ObjectionAlreadyResolved {
            objection_id: cmd.objection_id,
        });
    }
    let reason = required_text("reason", &cmd.reason, MAX_TEXT)?;
    let decision = upholding(community, activity, cmd.objection_id, &cmd.verdict)?.decision;
    Ok(vec![Event::ObjectionResolved {
        objection_id: cmd.objection_id,
        volunteer_id: o.volunteer_id,
        decision,
        reason,
        resolved_by: ctx.principal(),
        impact: cmd.impact.clone(),
    }])
}

/// What `verdict` on the objection would do to the record it is against (read by the
/// correction preview before staff resolve it, and by the resolution itself).
pub fn upholding(
    community: &CommunityState,
    activity: &ActivityState,
    objection_id: ObjectionId,
    verdict: &Verdict,
) -> DomainResult<Upholding> {
    let o = activity
        .objections
        .get(&objection_id)
        .ok_or_else(|| DomainError::not_found("objection", objection_id))?;
    let held = activity
        .participant(o.volunteer_id)
        .and_then(|p| p.record.as_ref());
    let record = held.map(|r| &r.record);
    let from = record.map(|r| r.from).unwrap_or(activity.starts_at);
    // A record another objection had rejected credits nothing, whatever this one says.
    let rejected = held.is_none_or(|r| r.status == RecordStatus::Rejected);
    let nothing = (Hours::ZERO, Points::ZERO);
    let recorded = match record {
        Some(r) if !rejected => (r.hours, r.points),
        _ => nothing,
    };
    let (decision, upheld) = match verdict {
        Verdict::Dismiss => (ObjectionDecision::Dismissed, recorded),
        Verdict::Reject => (ObjectionDecision::Rejected, (Hours::ZERO, Points::ZERO)),
        Verdict::Correct { hours } => {
            let minutes = late_minutes(community, activity, *hours)?;
            let (hours, points, _) = hours_and_points(community, activity, from, minutes)?;
            (
                ObjectionDecision::Corrected { hours, points },
                (hours, points),
            )
        }
    };
    Ok(Upholding {
        volunteer_id: o.volunteer_id,
        // The day the credit will carry (as `credit` dates the service).
        day: local_date(activity.counted_start(from).min(activity.ends_at)),
        recorded,
        upheld: if rejected { nothing } else { upheld },
        decision,
    })
}

/// The records due to become final at `now`: pending, their notice over, and no open
/// objection against them.
pub fn due(activity: &ActivityState, now: DateTime<Utc>) -> Vec<Record> {
    activity
        .people
        .iter()
        .filter_map(|(v, p)| {
            let r = p.record.as_ref()?;
            let over = matches!(r.status, RecordStatus::Pending { until: Some(t) } if t <= now);
            let objected = activity
                .objections
                .values()
                .any(|o| o.open && o.volunteer_id == *v);
            (over && !objected).then(|| r.clone())
        })
        .collect()
}

pub fn finalise(
    activity: &ActivityState,
    cmd: &FinaliseAttendance,
    ctx: &Ctx,
) -> DomainResult<Credits> {
    activity.require(cmd.activity_id)?;
    require_staff(ctx.actor)?;
    let records = due(activity, ctx.now);
    if records.is_empty() {
        return Err(DomainError::NothingDue {
            activity_id: cmd.activity_id,
        });
    }
    Ok(finality(activity, cmd.activity_id, &records, ctx))
}
