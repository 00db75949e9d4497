//! What is read of activities: one activity, a community's activities between two
//! times, an activity's people (its roster) and objections, a volunteer's activities and
//! their pending hours and points (公示中), and the records due to become final.

use super::store::{
    activity_from, objection_from, person_from, ACTIVITY_COLS, OBJECTION_COLS, PERSON_COLS,
};
use super::{ActivityRow, ObjectionRow, PersonRow};
use crate::common::{from_millis, hours_dec, millis, points_dec};
use crate::db::{Db, Val};
use crate::error::Result;
use chrono::{DateTime, Utc};
use ledger::ids::{ActivityId, CommunityId, GridId, ObjectionId, TeamId, VolunteerId};
use rust_decimal::Decimal;
use uuid::Uuid;

/// An activity as read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Activity {
    pub activity_id: ActivityId,
    pub community_id: CommunityId,
    pub title: String,
    /// The service kind (`patrol`, …).
    pub kind: String,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub places: u32,
    pub signup_deadline: DateTime<Utc>,
    pub team: Option<TeamId>,
    pub grid: Option<GridId>,
    pub tag: Option<String>,
    pub walk_ins: bool,
    /// `open`, `approved`, `cancelled`.
    pub status: String,
    pub taken: u32,
    pub waiting: u32,
    pub checked_in: u32,
    /// Records in their notice (公示中).
    pub pending: u32,
    pub approved_at: Option<DateTime<Utc>>,
    pub notice_until: Option<DateTime<Utc>>,
    pub posted_at: DateTime<Utc>,
    pub position: u64,
}

fn to_activity(id: Uuid, a: ActivityRow) -> Activity {
    let n = |v: i64| v.max(0) as u32;
    Activity {
        activity_id: ActivityId(id),
        community_id: CommunityId(a.community_id),
        title: a.title,
        kind: a.kind,
        place: a.place,
        starts_at: from_millis(a.starts_at),
        ends_at: from_millis(a.ends_at),
        places: n(a.places),
        signup_deadline: from_millis(a.signup_deadline),
        team: a.team.map(TeamId),
        grid: a.grid.map(GridId),
        tag: a.tag,
        walk_ins: a.walk_ins,
        status: a.status,
        taken: n(a.taken),
        waiting: n(a.waiting),
        checked_in: n(a.checked_in),
        pending: n(a.pending),
        approved_at: a.approved_at.map(from_millis),
        notice_until: a.notice_until.map(from_millis),
        posted_at: from_millis(a.posted_at),
        position: a.position,
    }
}

/// A volunteer in an activity, as read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Participant {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    /// `place`, `waiting`, `none` (withdrawn, or a walk-in).
    pub signup: String,
    /// Place on the waiting list (1 = first), while waiting.
    pub waiting_rank: Option<u32>,
    pub signed_up_at: Option<DateTime<Utc>>,
    pub checked_in: Option<DateTime<Utc>>,
    pub checked_out: Option<DateTime<Utc>>,
    pub walk_in: bool,
    /// Checked in by staff (no phone, no code).
    pub by_staff: bool,
    /// `pending`, `final`, `rejected`, `excluded`.
    pub record: Option<String>,
    /// `attendance` or `late` (补录).
    pub source: Option<String>,
    pub record_from: Option<DateTime<Utc>>,
    pub record_until: Option<DateTime<Utc>>,
    /// No check-out: the activity's end was counted.
    pub checkout_missing: bool,
    pub hours: Option<Decimal>,
    pub points: Option<Decimal>,
    pub notice_until: Option<DateTime<Utc>>,
    /// Why staff adjusted the times.
    pub adjusted: Option<String>,
    /// Why the volunteer was excluded.
    pub excluded: Option<String>,
}

fn to_participant(p: PersonRow, waiting_rank: Option<u32>) -> Participant {
    Participant {
        activity_id: ActivityId(p.activity_id),
        volunteer_id: VolunteerId(p.volunteer_id),
        signup: p.signup,
        waiting_rank,
        signed_up_at: p.signed_up_at.map(from_millis),
        checked_in: p.checked_in.map(from_millis),
        checked_out: p.checked_out.map(from_millis),
        walk_in: p.walk_in,
        by_staff: p.by_staff,
        record: p.record,
        source: p.source,
        record_from: p.record_from.map(from_millis),
        record_until: p.record_until.map(from_millis),
        checkout_missing: p.checkout_missing,
        hours: p.minutes.map(hours_dec),
        points: p.points.map(points_dec),
        notice_until: p.notice_until.map(from_millis),
        adjusted: p.adjusted,
        excluded: p.excluded,
    }
}

/// An objection, as read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActivityObjection {
    pub objection_id: ObjectionId,
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    pub reason: String,
    pub raised_by: Uuid,
    pub raised_at: DateTime<Utc>,
    pub open: bool,
    /// `dismissed`, `corrected`, `rejected`.
    pub decision: Option<String>,
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The corrected hours.
    pub hours: Option<Decimal>,
}

fn to_objection(id: Uuid, o: ObjectionRow) -> ActivityObjection {
    ActivityObjection {
        objection_id: ObjectionId(id),
        activity_id: ActivityId(o.activity_id),
        volunteer_id: VolunteerId(o.volunteer_id),
        reason: o.reason,
        raised_by: o.raised_by,
        raised_at: from_millis(o.raised_at),
        open: o.open,
        decision: o.decision,
        resolution: o.resolution,
        resolved_at: o.resolved_at.map(from_millis),
        hours: o.minutes.map(hours_dec),
    }
}

fn select(cols: &[&str]) -> String {
    cols.join(", ")
}

/// One activity.
pub async fn activity(db: &Db, id: ActivityId) -> Result<Option<Activity>> {
    let sql = format!(
        "SELECT {} FROM pj_activities WHERE activity_id = ?",
        select(ACTIVITY_COLS)
    );
    db.fetch_optional(&sql, &[Val::from(id.0.to_string())])
        .await?
        .map(|r| activity_from(&r).map(|(id, a)| to_activity(id, a)))
        .transpose()
}

/// A community's activities starting in `[from, to)`, optionally of one status, by
/// start time, at most `limit` (capped at 500).
pub async fn activities(
    db: &Db,
    community: CommunityId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    status: Option<&str>,
    limit: u32,
) -> Result<Vec<Activity>> {
    let mut sql = format!(
        "SELECT {} FROM pj_activities WHERE community_id = ? AND starts_at >= ? AND starts_at < ?",
        select(ACTIVITY_COLS)
    );
    let mut vals = vec![
        Val::from(community.0.to_string()),
        Val::from(from.map(millis).unwrap_or(i64::MIN)),
        Val::from(to.map(millis).unwrap_or(i64::MAX)),
    ];
    if let Some(s) = status {
        sql.push_str(" AND status = ?");
        vals.push(Val::from(s));
    }
    sql.push_str(" ORDER BY starts_at, activity_id LIMIT ?");
    vals.push(Val::from(limit.clamp(1, 500) as i64));
    db.fetch(&sql, &vals)
        .await?
        .iter()
        .map(|r| activity_from(r).map(|(id, a)| to_activity(id, a)))
        .collect()
}

/// Everyone in an activity: places first in the order they signed up, then the waiting
/// list in its order, then the rest (withdrawn, walk-ins).
pub async fn roster(db: &Db, id: ActivityId) -> Result<Vec<Participant>> {
    let sql = format!(
        "SELECT {} FROM pj_activity_people WHERE activity_id = ?",
        select(PERSON_COLS)
    );
    let mut rows: Vec<PersonRow> = db
        .fetch(&sql, &[Val::from(id.0.to_string())])
        .await?
        .iter()
        .map(|r| person_from(r).map(|(_, p)| p))
        .collect::<Result<_>>()?;
    let order = |p: &PersonRow| match p.signup.as_str() {
        "place" => 0,
        "waiting" => 1,
        _ => 2,
    };
    rows.sort_by_key(|p| {
        (
            order(p),
            p.seq.unwrap_or(i64::MAX),
            p.checked_in,
            p.volunteer_id,
        )
    });
    let mut rank = 0;
    Ok(rows
        .into_iter()
        .map(|p| {
            let waiting = (p.signup == "waiting").then(|| {
                rank += 1;
                rank
            });
            to_participant(p, waiting)
        })
        .collect())
}

/// One volunteer in one activity.
pub async fn participant(
    db: &Db,
    id: ActivityId,
    volunteer: VolunteerId,
) -> Result<Option<Participant>> {
    // Their own row, and for a waiting volunteer the waiting rows up to theirs: not the
    // whole roster (asked for each activity of a volunteer's list).
    let sql = format!(
        "SELECT {} FROM pj_activity_people WHERE k = ?",
        select(PERSON_COLS)
    );
    let key = Val::from(super::person_key(id.0, volunteer.0));
    let Some(row) = db.fetch_optional(&sql, &[key]).await? else {
        return Ok(None);
    };
    let (_, p) = person_from(&row)?;
    let rank = match (p.signup.as_str(), p.seq) {
        ("waiting", Some(seq)) => {
            let sql = "SELECT COUNT(*) FROM pj_activity_people \
                       WHERE activity_id = ? AND signup = 'waiting' AND seq <= ?";
            let vals = [Val::from(id.0.to_string()), Val::from(seq)];
            let n = db
                .fetch_optional(sql, &vals)
                .await?
                .map(|r| r.int(0))
                .transpose()?;
            Some(n.unwrap_or(0) as u32)
        }
        _ => None,
    };
    Ok(Some(to_participant(p, rank)))
}

/// An activity's objections, in the order they were raised.
pub async fn objections(db: &Db, id: ActivityId) -> Result<Vec<ActivityObjection>> {
    let sql = format!(
        "SELECT {} FROM pj_activity_objections WHERE activity_id = ? ORDER BY raised_at, objection_id",
        select(OBJECTION_COLS)
    );
    db.fetch(&sql, &[Val::from(id.0.to_string())])
        .await?
        .iter()
        .map(|r| objection_from(r).map(|(id, o)| to_objection(id, o)))
        .collect()
}

/// A volunteer's hours and points in their notice (公示中): shown, not yet credited.
pub async fn pending_of(db: &Db, volunteer: VolunteerId) -> Result<(Decimal, Decimal)> {
    let row = db
        .fetch_optional(
            "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT), CAST(COALESCE(SUM(points), 0) AS BIGINT)
             FROM pj_activity_people
             WHERE volunteer_id = ? AND record = 'pending'",
            &[Val::from(volunteer.0.to_string())],
        )
        .await?;
    Ok(match row {
        Some(r) => (hours_dec(r.int(0)?), points_dec(r.int(1)?)),
        None => (Decimal::ZERO, Decimal::ZERO),
    })
}

/// Activities with a record whose notice has ended by `now` and that no open
/// objection holds: the server makes them final.
pub async fn due_for_finality(db: &Db, now: DateTime<Utc>) -> Result<Vec<ActivityId>> {
    db.fetch(
        "SELECT DISTINCT p.activity_id FROM pj_activity_people p
         WHERE p.record = 'pending' AND p.notice_until IS NOT NULL AND p.notice_until <= ?
           AND NOT EXISTS (SELECT 1 FROM pj_activity_objections o
                           WHERE o.activity_id = p.activity_id AND o.volunteer_id = p.volunteer_id
                             AND o.open = 1)
         ORDER BY p.activity_id",
        &[Val::from(millis(now))],
    )
    .await?
    .iter()
    .map(|r| Ok(ActivityId(super::store::uuid(&r.text(0)?)?)))
    .collect()
}
