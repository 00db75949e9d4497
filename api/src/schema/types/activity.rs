//! Activities (志愿活动) as the API shows them: the activity and its counts, its roster
//! (每人的报名、签到签退、记录及其公示状态; names as the caller may see them), its
//! objections, and the organiser's check-in code.

use super::person::{person_fields, show_name, Visibility};
use super::{hours_of, points_of, ServiceKind};
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::app;
use crate::schema::args::id;
use async_graphql::{ComplexObject, Context, Enum, ErrorExtensions, SimpleObject, ID};
use chrono::{DateTime, Utc};
use ledger::ids::{ActivityId, VolunteerId};
use uuid::Uuid;

type Res<T> = async_graphql::Result<T>;

/// Where an activity stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ActivityStatus {
    /// Recruiting, running or ended, its attendance not approved yet.
    Open,
    /// Attendance approved (its records final, or in their 公示 notice).
    Approved,
    Cancelled,
}

impl ActivityStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityStatus::Open => "open",
            ActivityStatus::Approved => "approved",
            ActivityStatus::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> ActivityStatus {
        match s {
            "approved" => ActivityStatus::Approved,
            "cancelled" => ActivityStatus::Cancelled,
            _ => ActivityStatus::Open,
        }
    }
}

/// A volunteer's sign-up.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SignupState {
    /// Holds a place (已报名).
    Place,
    /// On the waiting list (候补).
    Waiting,
    /// Not signed up: withdrawn, or a walk-in.
    None,
}

/// Where a volunteer's record stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RecordState {
    /// In its 公示 notice: shown, not yet credited.
    Pending,
    /// Final and credited to the account.
    Final,
    /// Rejected by an upheld objection.
    Rejected,
    /// Left out of the approval.
    Excluded,
}

/// How a record came to be.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RecordSource {
    /// From check-in and check-out.
    Attendance,
    /// 补录: added by staff after the activity.
    Late,
}

/// What the resolution of an objection decided.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ObjectionDecision {
    Dismissed,
    Corrected,
    Rejected,
}

/// An activity.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Activity {
    pub id: ID,
    pub community_id: ID,
    pub title: String,
    pub kind: ServiceKind,
    pub place: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Places offered.
    pub places: i32,
    pub signup_deadline: DateTime<Utc>,
    /// Only members of this team may sign up.
    pub team_id: Option<ID>,
    /// Only volunteers of this grid may sign up.
    pub grid_id: Option<ID>,
    /// Only volunteers with this tag (e.g. 党员) may sign up.
    pub tag: Option<String>,
    /// Volunteers not signed up may check in.
    pub walk_ins: bool,
    pub status: ActivityStatus,
    /// Places taken.
    pub taken: i32,
    /// Volunteers on the waiting list.
    pub waiting: i32,
    pub checked_in: i32,
    /// Records in their 公示 notice.
    pub pending: i32,
    pub approved_at: Option<DateTime<Utc>>,
    /// When the notice of the approved records ends (公示截止).
    pub notice_until: Option<DateTime<Utc>>,
    pub posted_at: DateTime<Utc>,
    /// Log position of the activity's last event.
    pub position: u64,
    #[graphql(skip)]
    pub activity_id: ActivityId,
    #[graphql(skip)]
    pub vis: Visibility,
    #[graphql(skip)]
    pub caller: Option<VolunteerId>,
}

impl Activity {
    pub fn new(
        a: projections::activities::Activity,
        vis: Visibility,
        caller: Option<VolunteerId>,
    ) -> Activity {
        let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        Activity {
            id: id(a.activity_id.0),
            community_id: id(a.community_id.0),
            title: a.title,
            kind: ledger::event::ServiceKind::parse(&a.kind)
                .unwrap_or(ledger::event::ServiceKind::Other)
                .into(),
            place: a.place,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            places: n(a.places),
            signup_deadline: a.signup_deadline,
            team_id: a.team.map(|t| id(t.0)),
            grid_id: a.grid.map(|g| id(g.0)),
            tag: a.tag,
            walk_ins: a.walk_ins,
            status: ActivityStatus::parse(&a.status),
            taken: n(a.taken),
            waiting: n(a.waiting),
            checked_in: n(a.checked_in),
            pending: n(a.pending),
            approved_at: a.approved_at,
            notice_until: a.notice_until,
            posted_at: a.posted_at,
            position: a.position,
            activity_id: a.activity_id,
            vis,
            caller,
        }
    }
}

#[ComplexObject]
impl Activity {
    /// Everyone in the activity: places in the order they signed up, then the waiting
    /// list in its order, then the rest (withdrawn, walk-ins).
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    async fn roster(&self, ctx: &Context<'_>) -> Res<Vec<Participant>> {
        let people = app(ctx)
            .reads
            .roster(self.activity_id)
            .await
            .map_err(|e| e.extend())?;
        Ok(people
            .into_iter()
            .map(|p| Participant::new(p, self.vis))
            .collect())
    }

    /// The caller's own place in the activity (a volunteer's token), if any.
    async fn me(&self, ctx: &Context<'_>) -> Res<Option<Participant>> {
        let Some(v) = self.caller else {
            return Ok(None);
        };
        Ok(app(ctx)
            .reads
            .participant(self.activity_id, v)
            .await
            .map_err(|e| e.extend())?
            .map(|p| Participant::new(p, self.vis)))
    }

    /// Objections to records, in the order they were raised.
    async fn objections(&self, ctx: &Context<'_>) -> Res<Vec<Objection>> {
        Ok(app(ctx)
            .reads
            .activity_objections(self.activity_id)
            .await
            .map_err(|e| e.extend())?
            .into_iter()
            .map(Objection::from)
            .collect())
    }
}

/// A volunteer in an activity.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Participant {
    pub volunteer_id: ID,
    pub signup: SignupState,
    /// Place on the waiting list (1 = first), while waiting.
    pub waiting_rank: Option<i32>,
    pub signed_up_at: Option<DateTime<Utc>>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub walk_in: bool,
    /// Checked in by staff (an elder without a phone).
    pub checked_in_by_staff: bool,
    pub record: Option<RecordState>,
    pub source: Option<RecordSource>,
    /// The counted start and end of the record.
    pub record_from: Option<DateTime<Utc>>,
    pub record_until: Option<DateTime<Utc>>,
    /// No check-out: the activity's end was counted (未签退，按结束时间计).
    pub checkout_missing: bool,
    pub hours: Option<HoursScalar>,
    pub points: Option<PointsScalar>,
    pub notice_until: Option<DateTime<Utc>>,
    /// Why staff adjusted the times.
    pub adjusted: Option<String>,
    /// Why the volunteer was left out of the approval.
    pub excluded: Option<String>,
    #[graphql(skip)]
    pub volunteer: Uuid,
    #[graphql(skip)]
    pub vis: Visibility,
}

impl Participant {
    fn new(p: projections::activities::Participant, vis: Visibility) -> Participant {
        let record = p.record.as_deref().map(|r| match r {
            "final" => RecordState::Final,
            "rejected" => RecordState::Rejected,
            "excluded" => RecordState::Excluded,
            _ => RecordState::Pending,
        });
        Participant {
            volunteer_id: id(p.volunteer_id.0),
            signup: match p.signup.as_str() {
                "place" => SignupState::Place,
                "waiting" => SignupState::Waiting,
                _ => SignupState::None,
            },
            waiting_rank: p.waiting_rank.map(|r| r as i32),
            signed_up_at: p.signed_up_at,
            checked_in_at: p.checked_in,
            checked_out_at: p.checked_out,
            walk_in: p.walk_in,
            checked_in_by_staff: p.by_staff,
            record,
            source: p.source.as_deref().map(|s| match s {
                "late" => RecordSource::Late,
                _ => RecordSource::Attendance,
            }),
            record_from: p.record_from,
            record_until: p.record_until,
            checkout_missing: p.checkout_missing,
            hours: p.hours.map(hours_of),
            points: p.points.map(points_of),
            notice_until: p.notice_until,
            adjusted: p.adjusted,
            excluded: p.excluded,
            volunteer: p.volunteer_id.0,
            vis,
        }
    }
}

#[ComplexObject]
impl Participant {
    /// The volunteer's name, shortened on displays; null once erased.
    async fn name(&self, ctx: &Context<'_>) -> Res<Option<String>> {
        let p = person_fields(ctx, self.volunteer).await?;
        Ok(show_name(&p, self.vis))
    }
}

/// An objection (异议) to a volunteer's record.
#[derive(SimpleObject, Clone)]
pub struct Objection {
    pub id: ID,
    /// Whose record it is about.
    pub volunteer_id: ID,
    pub reason: String,
    pub raised_at: DateTime<Utc>,
    pub open: bool,
    pub decision: Option<ObjectionDecision>,
    /// Why it was resolved so.
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The hours a correction set.
    pub corrected_hours: Option<HoursScalar>,
}

impl From<projections::activities::ActivityObjection> for Objection {
    fn from(o: projections::activities::ActivityObjection) -> Objection {
        Objection {
            id: id(o.objection_id.0),
            volunteer_id: id(o.volunteer_id.0),
            reason: o.reason,
            raised_at: o.raised_at,
            open: o.open,
            decision: o.decision.as_deref().map(|d| match d {
                "corrected" => ObjectionDecision::Corrected,
                "rejected" => ObjectionDecision::Rejected,
                _ => ObjectionDecision::Dismissed,
            }),
            resolution: o.resolution,
            resolved_at: o.resolved_at,
            corrected_hours: o.hours.map(hours_of),
        }
    }
}

/// The check-in code the organiser shows (签到码): 6 digits, a new one each period.
#[derive(SimpleObject, Clone)]
pub struct CheckInCode {
    pub activity_id: ID,
    pub code: String,
    /// When the next code takes over (the one shown stays good one period more).
    pub changes_at: DateTime<Utc>,
    /// The check-in link carrying the code, for a QR code (relative to the server).
    pub link: String,
}

/// Hours and points in their 公示 notice: shown, not spendable, not counted in stars,
/// rankings or reports until final.
#[derive(SimpleObject, Clone)]
pub struct PendingRecords {
    pub hours: HoursScalar,
    pub points: PointsScalar,
}
