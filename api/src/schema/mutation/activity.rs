//! Mutations of activities (志愿活动): post, change, cancel; sign up and withdraw;
//! check in and out (a volunteer with the code, staff without); approve the attendance
//! in one go; 补录; objections during the 公示 notice; finality; the activity rules.
// The resolvers' arguments are the operation's GraphQL arguments.
#![allow(clippy::too_many_arguments)]

use super::super::types::ServiceKind;
use super::community::RulesPayload;
use super::{acting_volunteer, exec, id, non_negative, parse_id, payload, Res};
use crate::scalars::{HoursScalar, PointsScalar};
use async_graphql::{Context, Enum, InputObject, Object, ID};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::command::{self as cmd, ActivityChange, AttendanceOutcome, CommandOutcome};
use ledger::event::{ActivityDetails, Eligibility};
use ledger::ids::*;

payload!(ActivityPayload {
    activity_id: ID,
    /// Volunteers who moved up from the waiting list.
    moved_up: Vec<ID>,
});
payload!(SignUpPayload {
    activity_id: ID,
    volunteer_id: ID,
    /// Place on the waiting list (1 = first), or null with a place.
    waiting_rank: Option<i32>,
});
payload!(AttendancePayload {
    activity_id: ID,
    volunteer_id: ID,
    at: DateTime<Utc>,
    walk_in: bool,
});
payload!(
    /// An approval or a finality.
    ApprovalPayload {
        activity_id: ID,
        records: i32,
        excluded: i32,
        /// Records made final (credited) by this command.
        final_records: i32,
        hours: HoursScalar,
        points: PointsScalar,
        /// The end of the 公示 notice, or null when final at once.
        notice_until: Option<DateTime<Utc>>,
    }
);
payload!(LateRecordPayload {
    activity_id: ID,
    volunteer_id: ID,
    service_id: ID,
    hours: HoursScalar,
    points: PointsScalar,
    notice_until: Option<DateTime<Utc>>,
});
payload!(ObjectionPayload {
    activity_id: ID,
    objection_id: ID,
});

fn change_payload(o: CommandOutcome<ActivityChange>) -> ActivityPayload {
    ActivityPayload {
        activity_id: id(o.result.activity_id),
        moved_up: o.result.moved_up.into_iter().map(id).collect(),
        position: o.position,
        replayed: o.replayed,
    }
}

fn objection_payload(o: CommandOutcome<cmd::ObjectionRef>) -> ObjectionPayload {
    ObjectionPayload {
        activity_id: id(o.result.activity_id),
        objection_id: id(o.result.objection_id),
        position: o.position,
        replayed: o.replayed,
    }
}

fn approval_payload(o: CommandOutcome<AttendanceOutcome>) -> ApprovalPayload {
    let r = o.result;
    ApprovalPayload {
        activity_id: id(r.activity_id),
        records: r.records as i32,
        excluded: r.excluded as i32,
        final_records: r.final_records as i32,
        hours: HoursScalar(r.hours),
        points: PointsScalar(r.points),
        notice_until: r.notice_until,
        position: o.position,
        replayed: o.replayed,
    }
}

/// A change of an activity's details: only the fields given change.
#[derive(InputObject, Default)]
pub struct ActivityChangeInput {
    pub title: Option<String>,
    pub place: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub places: Option<i32>,
    pub signup_deadline: Option<DateTime<Utc>>,
    pub walk_ins: Option<bool>,
}

/// Staff set a volunteer's times at approval.
#[derive(InputObject)]
pub struct AdjustmentInput {
    pub volunteer_id: ID,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub reason: String,
}

/// A volunteer left out of an approval.
#[derive(InputObject)]
pub struct ExclusionInput {
    pub volunteer_id: ID,
    pub reason: String,
}

/// What staff decide of an objection.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ObjectionVerdict {
    /// The record stands.
    Dismiss,
    /// Upheld: the record is corrected to `hours`.
    Correct,
    /// Upheld: the record is rejected.
    Reject,
}

impl ObjectionVerdict {
    /// The command's verdict: CORRECT takes the hours (INVALID_INPUT without them).
    pub(crate) fn command(self, hours: Option<HoursScalar>) -> Res<cmd::Verdict> {
        match (self, hours) {
            (ObjectionVerdict::Dismiss, _) => Ok(cmd::Verdict::Dismiss),
            (ObjectionVerdict::Reject, _) => Ok(cmd::Verdict::Reject),
            (ObjectionVerdict::Correct, Some(h)) => {
                Ok(cmd::Verdict::Correct { hours: h.decimal() })
            }
            (ObjectionVerdict::Correct, None) => Err(crate::errors::gql_error(
                "INVALID_INPUT",
                "hours is required to correct a record",
            )),
        }
    }
}

fn activity_arg(a: &ID) -> Res<ActivityId> {
    Ok(ActivityId(parse_id(a, "activityId")?))
}

#[derive(Default)]
pub struct ActivityMutation;

#[Object]
impl ActivityMutation {
    /// New activity rules (admin): the unit hours from attendance are rounded down to,
    /// the days a 补录 may follow an activity, the 公示 notice in days (0: final at
    /// approval), how early check-in opens, and how often the check-in code changes.
    async fn set_activity_rules(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        time_unit_minutes: i32,
        late_record_days: i32,
        notice_days: i32,
        #[graphql(default = 30)] checkin_opens_minutes: i32,
        #[graphql(default = 30)] code_period_seconds: i32,
        effective_from: NaiveDate,
    ) -> Res<RulesPayload> {
        let c = cmd::SetActivityRules {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            time_unit_minutes: non_negative(time_unit_minutes, "timeUnitMinutes")?,
            late_record_days: non_negative(late_record_days, "lateRecordDays")?,
            notice_days: non_negative(notice_days, "noticeDays")?,
            checkin_opens_minutes: non_negative(checkin_opens_minutes, "checkinOpensMinutes")?,
            code_period_seconds: non_negative(code_period_seconds, "codePeriodSeconds")?,
            effective_from,
        };
        RulesPayload::from_outcome(exec(ctx, &idempotency_key, c).await?)
    }

    /// New hours rules (admin, 时间银行规则) from `effectiveFrom`: whether banked hours
    /// may be gifted only to a linked relative (RELATIVE_LINK_REQUIRED otherwise), and
    /// the most hours an account banks (`storedHoursCap`, e.g. "1500"; none: no cap):
    /// a service credited above it banks what fits and counts wholly for stars and
    /// totals, and a gift above it is HOURS_CAP_REACHED.
    async fn set_hours_rules(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        gifts_to_relatives_only: bool,
        effective_from: NaiveDate,
        stored_hours_cap: Option<HoursScalar>,
    ) -> Res<RulesPayload> {
        let c = cmd::SetHoursRules {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            gifts_to_relatives_only,
            effective_from,
            stored_hours_cap: stored_hours_cap.map(HoursScalar::decimal),
        };
        RulesPayload::from_outcome(exec(ctx, &idempotency_key, c).await?)
    }

    /// Posts an activity for recruitment (活动招募, staff). Without a deadline, sign-up
    /// closes at the start; `teamId`, `gridId`, `tag` limit who may sign up.
    async fn post_activity(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        title: String,
        kind: ServiceKind,
        place: String,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        places: i32,
        signup_deadline: Option<DateTime<Utc>>,
        team_id: Option<ID>,
        grid_id: Option<ID>,
        tag: Option<String>,
        #[graphql(default)] walk_ins: bool,
    ) -> Res<ActivityPayload> {
        let c = cmd::PostActivity {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            title,
            kind: kind.into(),
            place,
            starts_at,
            ends_at,
            places: non_negative(places, "places")?,
            signup_deadline,
            eligibility: Eligibility {
                team: team_id
                    .map(|t| parse_id(&t, "teamId").map(TeamId))
                    .transpose()?,
                grid: grid_id
                    .map(|g| parse_id(&g, "gridId").map(GridId))
                    .transpose()?,
                tag,
            },
            walk_ins,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(ActivityPayload {
            activity_id: id(o.result.activity_id),
            moved_up: vec![],
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Changes an activity (staff), saying why; those signed up are told. More places
    /// move the waiting list up.
    async fn change_activity(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        change: ActivityChangeInput,
        reason: String,
    ) -> Res<ActivityPayload> {
        let c = cmd::ChangeActivity {
            activity_id: activity_arg(&activity_id)?,
            change: ActivityDetails {
                title: change.title,
                place: change.place,
                starts_at: change.starts_at,
                ends_at: change.ends_at,
                places: change
                    .places
                    .map(|n| non_negative(n, "places"))
                    .transpose()?,
                signup_deadline: change.signup_deadline,
                walk_ins: change.walk_ins,
            },
            reason,
        };
        Ok(change_payload(exec(ctx, &idempotency_key, c).await?))
    }

    /// Cancels an activity (staff), saying why; those signed up are told.
    async fn cancel_activity(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        reason: String,
    ) -> Res<ActivityPayload> {
        let c = cmd::CancelActivity {
            activity_id: activity_arg(&activity_id)?,
            reason,
        };
        Ok(change_payload(exec(ctx, &idempotency_key, c).await?))
    }

    /// Signs up for an activity (报名): a volunteer for themself, staff for anyone.
    /// When every place is taken: ACTIVITY_FULL, or the waiting list (候补) with
    /// `waitlist: true`.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        volunteer_id: Option<ID>,
        #[graphql(default)] waitlist: bool,
    ) -> Res<SignUpPayload> {
        let c = cmd::SignUp {
            activity_id: activity_arg(&activity_id)?,
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
            waitlist,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(SignUpPayload {
            activity_id: id(o.result.activity_id),
            volunteer_id: id(o.result.volunteer_id),
            waiting_rank: o.result.waiting.map(|w| w as i32),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Withdraws a sign-up (取消报名): a volunteer until the deadline, staff until the
    /// approval. A freed place goes to the first waiting.
    async fn withdraw_sign_up(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        volunteer_id: Option<ID>,
        #[graphql(default)] reason: String,
    ) -> Res<ActivityPayload> {
        let c = cmd::WithdrawSignUp {
            activity_id: activity_arg(&activity_id)?,
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
            reason,
        };
        Ok(change_payload(exec(ctx, &idempotency_key, c).await?))
    }

    /// 签到: a volunteer with the code the organiser shows; staff for a volunteer
    /// without one (no code).
    async fn check_in(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        volunteer_id: Option<ID>,
        code: Option<String>,
    ) -> Res<AttendancePayload> {
        let c = cmd::CheckIn {
            activity_id: activity_arg(&activity_id)?,
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
            code,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(attendance(o))
    }

    /// 签退, as 签到.
    async fn check_out(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        volunteer_id: Option<ID>,
        code: Option<String>,
    ) -> Res<AttendancePayload> {
        let c = cmd::CheckOut {
            activity_id: activity_arg(&activity_id)?,
            volunteer_id: acting_volunteer(ctx, volunteer_id.as_ref())?,
            code,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(attendance(o))
    }

    /// Approves an activity's attendance in one go (审核, staff, after its end), with
    /// per-person adjustments and exclusions, each with a reason: every record in one
    /// append. With a 公示 notice the records wait; without, they are credited now.
    async fn approve_attendance(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        #[graphql(default)] adjustments: Vec<AdjustmentInput>,
        #[graphql(default)] exclusions: Vec<ExclusionInput>,
    ) -> Res<ApprovalPayload> {
        let c = cmd::ApproveAttendance {
            activity_id: activity_arg(&activity_id)?,
            adjustments: adjustments
                .into_iter()
                .map(|a| {
                    Ok(cmd::AttendanceAdjustment {
                        volunteer_id: VolunteerId(parse_id(
                            &a.volunteer_id,
                            "adjustments.volunteerId",
                        )?),
                        checked_in: a.checked_in_at,
                        checked_out: a.checked_out_at,
                        reason: a.reason,
                    })
                })
                .collect::<Res<_>>()?,
            exclusions: exclusions
                .into_iter()
                .map(|e| {
                    Ok(cmd::Exclusion {
                        volunteer_id: VolunteerId(parse_id(
                            &e.volunteer_id,
                            "exclusions.volunteerId",
                        )?),
                        reason: e.reason,
                    })
                })
                .collect::<Res<_>>()?,
        };
        Ok(approval_payload(exec(ctx, &idempotency_key, c).await?))
    }

    /// 补录 (staff): hours for a volunteer who took part without checking in, after the
    /// approval, within the rule's days, no longer than the activity; the record says so.
    async fn record_late_attendance(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        volunteer_id: ID,
        hours: HoursScalar,
        reason: String,
    ) -> Res<LateRecordPayload> {
        let c = cmd::RecordLateAttendance {
            activity_id: activity_arg(&activity_id)?,
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            hours: hours.decimal(),
            reason,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        let r = o.result;
        Ok(LateRecordPayload {
            activity_id: id(r.activity_id),
            volunteer_id: id(r.volunteer_id),
            service_id: id(r.service_id),
            hours: HoursScalar(r.hours),
            points: PointsScalar(r.points),
            notice_until: r.notice_until,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Objects to a volunteer's record during its 公示 notice (a volunteer of the
    /// community, or staff), saying why; the record waits until it is resolved.
    async fn raise_objection(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        volunteer_id: ID,
        reason: String,
    ) -> Res<ObjectionPayload> {
        let c = cmd::RaiseObjection {
            activity_id: activity_arg(&activity_id)?,
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            reason,
        };
        Ok(objection_payload(exec(ctx, &idempotency_key, c).await?))
    }

    /// Resolves an objection (staff), saying why: dismiss it, or uphold it by correcting
    /// the record to `hours` or rejecting it.
    async fn resolve_objection(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
        objection_id: ID,
        verdict: ObjectionVerdict,
        hours: Option<HoursScalar>,
        reason: String,
    ) -> Res<ObjectionPayload> {
        let verdict = verdict.command(hours)?;
        let (activity_id, objection_id) = (
            activity_arg(&activity_id)?,
            ObjectionId(parse_id(&objection_id, "objectionId")?),
        );
        // The preview when it can be read (a refusal is the command's to give).
        let impact =
            crate::schema::query::impact::objection_note(ctx, activity_id, objection_id, &verdict)
                .await
                .ok()
                .flatten();
        let c = cmd::ResolveObjection {
            activity_id,
            objection_id,
            verdict,
            reason,
            impact,
        };
        Ok(objection_payload(exec(ctx, &idempotency_key, c).await?))
    }

    /// Makes final the records whose notice has passed with no open objection (the
    /// server does it on time; staff may too): they are credited to the accounts.
    async fn finalise_attendance(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        activity_id: ID,
    ) -> Res<ApprovalPayload> {
        let c = cmd::FinaliseAttendance {
            activity_id: activity_arg(&activity_id)?,
        };
        Ok(approval_payload(exec(ctx, &idempotency_key, c).await?))
    }
}

fn attendance(o: CommandOutcome<cmd::Attendance>) -> AttendancePayload {
    AttendancePayload {
        activity_id: id(o.result.activity_id),
        volunteer_id: id(o.result.volunteer_id),
        at: o.result.at,
        walk_in: o.result.walk_in,
        position: o.position,
        replayed: o.replayed,
    }
}
