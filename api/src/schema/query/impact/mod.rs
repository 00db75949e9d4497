//! What a correction would change, before it is made (更正影响). Three corrections are
//! previewed, each in its file: reversing an entry (`reversal`: what it takes back, the
//! star level before and after, the places in the community's rankings of the periods
//! the entry counts in and who would pass, the certificates since the entry that the log
//! would contradict), and upholding an objection to a record in its 公示 or rejecting a
//! logged service (`pending`: what the record would have credited beside what it will,
//! so the stars and places it would have given and will give), and reversing a history
//! import as one (`batch`: each volunteer's, ranked falling together). Read only:
//! nothing is written. The command that makes the correction keeps the same preview ([`note`]).

mod batch;
mod pending;
mod reversal;

use super::wait;
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::parse_id;
use crate::schema::mutation::activity::ObjectionVerdict;
use crate::schema::types::RankMetric;
use async_graphql::{Context, ErrorExtensions, Object, SimpleObject, ID};
use chrono::NaiveDate;
use ledger::ids::*;
use projections::common::Period;
use projections::rankings::{Metric, Scope};

pub(crate) use batch::{notes as batch_notes, BatchImpact};
pub(crate) use pending::{objection_note, rejection_note};
pub(crate) use reversal::note;

type Res<T> = async_graphql::Result<T>;

/// A volunteer's move in one ranking of the community.
#[derive(SimpleObject)]
pub struct RankingMove {
    /// `ALL`, `2026`, `2026-Q4`, `2026-12` (as `ranking` takes it).
    pub period: String,
    pub metric: RankMetric,
    /// Rank before the correction (for a record not yet credited: once credited as
    /// recorded); null when not ranked.
    pub before: Option<u64>,
    /// Rank after; null when not ranked.
    pub after: Option<u64>,
    /// Volunteer numbers of those who would pass them, highest first.
    pub passed_by: Vec<String>,
}

/// A certificate issued after the entry, which the log would contradict once reversed.
#[derive(SimpleObject)]
pub struct CertificateChange {
    pub number: String,
    pub position: u64,
    /// The hours it states, and what the log would say.
    pub hours_stated: HoursScalar,
    pub hours_after: HoursScalar,
}

/// What a correction would change.
#[derive(SimpleObject)]
pub struct CorrectionImpact {
    pub volunteer_id: ID,
    /// What is corrected: the entry reversed, the objection upheld, the service rejected.
    pub entry_id: ID,
    /// What it is (the statement's line; the activity's record; the service logged).
    pub detail: String,
    /// What the correction takes back, or keeps from being credited (points: what has
    /// not expired); negative when an objection's correction gives more than recorded.
    pub points: PointsScalar,
    pub hours: HoursScalar,
    /// Stars before and after (for a record not yet credited: once credited as
    /// recorded, and as corrected).
    pub stars_before: i32,
    pub stars_after: i32,
    pub rankings: Vec<RankingMove>,
    /// Certificates already issued that the log would contradict (none for a record
    /// not yet credited: no certificate counts it).
    pub certificates: Vec<CertificateChange>,
    /// The annual report (年度表彰) of this year, pinned at any position since the
    /// entry, would differ from the log (for a record not yet credited: the year it
    /// will count in).
    pub annual_report_year: i32,
}

#[derive(Default)]
pub struct ImpactQuery;

#[Object]
impl ImpactQuery {
    /// What reversing an entry (`reverseEntry`) would change, before it is made (staff
    /// of the volunteer's community, admins). NOT_REVERSIBLE / ALREADY_REVERSED as the
    /// reversal itself would answer.
    async fn correction_impact(
        &self,
        ctx: &Context<'_>,
        volunteer_id: ID,
        entry_id: ID,
        at_least: Option<u64>,
    ) -> Res<CorrectionImpact> {
        let vid = VolunteerId(parse_id(&volunteer_id, "volunteerId")?);
        let eid = EntryId(parse_id(&entry_id, "entryId")?);
        wait(ctx, at_least).await?;
        reversal::preview(ctx, vid, eid).await
    }

    /// What upholding an objection (`resolveObjection` with REJECT, or CORRECT to
    /// `hours`) would change of the record in its notice, before it is resolved (staff
    /// of the activity's community, admins). ALREADY_RESOLVED and the checks
    /// of `hours` as the resolution itself would answer.
    async fn objection_impact(
        &self,
        ctx: &Context<'_>,
        activity_id: ID,
        objection_id: ID,
        verdict: ObjectionVerdict,
        hours: Option<HoursScalar>,
        at_least: Option<u64>,
    ) -> Res<CorrectionImpact> {
        let verdict = verdict.command(hours)?;
        let activity = ActivityId(parse_id(&activity_id, "activityId")?);
        let objection = ObjectionId(parse_id(&objection_id, "objectionId")?);
        wait(ctx, at_least).await?;
        pending::objection(ctx, activity, objection, &verdict).await
    }

    /// What reversing a history import as one (`reverseImportBatch`) would change, for
    /// each volunteer it credited, before it is made (staff of its community, admins).
    async fn import_batch_impact(
        &self,
        ctx: &Context<'_>,
        batch_id: ID,
        at_least: Option<u64>,
    ) -> Res<BatchImpact> {
        let batch = ImportBatchId(parse_id(&batch_id, "batchId")?);
        wait(ctx, at_least).await?;
        batch::preview(ctx, batch).await
    }

    /// What rejecting a logged service (`rejectService`) would keep from the volunteer,
    /// before it is rejected (staff of the volunteer's community, admins).
    async fn rejection_impact(
        &self,
        ctx: &Context<'_>,
        volunteer_id: ID,
        service_id: ID,
        at_least: Option<u64>,
    ) -> Res<CorrectionImpact> {
        let vid = VolunteerId(parse_id(&volunteer_id, "volunteerId")?);
        let sid = ServiceId(parse_id(&service_id, "serviceId")?);
        wait(ctx, at_least).await?;
        pending::rejection(ctx, vid, sid).await
    }
}

/// The volunteer's moves in the community's rankings of every period `day` counts in,
/// their value there shifted from `points.0`/`minutes.0` to `points.1`/`minutes.1`
/// (minor units, relative to today's value); a metric the correction leaves alone is
/// left out.
async fn ranking_moves(
    db: &projections::db::Db,
    community: CommunityId,
    vid: VolunteerId,
    day: NaiveDate,
    points: (i64, i64),
    minutes: (i64, i64),
) -> Res<Vec<RankingMove>> {
    let mut moves = Vec::new();
    for period in Period::of_day(day) {
        for (metric, shift) in [(Metric::Points, points), (Metric::Hours, minutes)] {
            if shift.0 == shift.1 {
                continue;
            }
            let scope = Scope::Community(community);
            let moved = projections::rankings::rank_shift(db, &scope, period, metric, vid, shift)
                .await
                .map_err(internal)?;
            if let Some(m) = moved {
                moves.push(RankingMove {
                    period: match period {
                        Period::AllTime => "ALL".into(),
                        p => p.key(),
                    },
                    metric: metric.into(),
                    before: m.before,
                    after: m.after,
                    passed_by: m
                        .passed_by
                        .into_iter()
                        .map(|e| e.volunteer_number)
                        .collect(),
                });
            }
        }
    }
    Ok(moves)
}

/// Waits until the read models hold the whole log as it is now, so the preview a
/// correction keeps is read from what the clerk confirmed, not from a lagging model.
async fn caught_up(ctx: &Context<'_>) -> Res<()> {
    let head = crate::schema::app(ctx)
        .store
        .head()
        .await
        .map_err(|e| crate::errors::ApiError::from(e).extend())?;
    wait(ctx, Some(head)).await
}

/// The preview as the correction keeps it.
fn kept(i: CorrectionImpact) -> ledger::event::CorrectionNote {
    ledger::event::CorrectionNote {
        stars_before: u8::try_from(i.stars_before).unwrap_or(0),
        stars_after: u8::try_from(i.stars_after).unwrap_or(0),
        rankings: i
            .rankings
            .into_iter()
            .map(|r| ledger::event::RankNote {
                period: r.period,
                metric: match r.metric {
                    RankMetric::Points => "points".into(),
                    RankMetric::Hours => "hours".into(),
                },
                before: r.before,
                after: r.after,
                passed_by: r.passed_by,
            })
            .collect(),
        certificates: i.certificates.into_iter().map(|c| c.number).collect(),
    }
}

fn internal(e: projections::ProjectionError) -> async_graphql::Error {
    crate::errors::ApiError::from(e).extend()
}
