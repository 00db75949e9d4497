//! What a correction would change, before it is made (更正影响): the preview of reversing
//! an entry (`reverseEntry`) — what it takes back, the star level before and after, the
//! volunteer's places in the community's rankings of the periods the entry counts in
//! (and who would pass them), and the certificates issued since the entry that the log
//! would then contradict. Read only: nothing is written.

use super::wait;
use crate::errors::gql_error;
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::{community_of, forbidden, not_found, parse_id};
use crate::schema::types::{hours_of, points_of, RankMetric};
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, SimpleObject, ID};
use ledger::domain::local_date;
use ledger::domain::volunteer::ServiceStatus;
use ledger::ids::*;
use projections::common::Period;
use projections::rankings::{Metric, Scope};

type Res<T> = async_graphql::Result<T>;

/// A volunteer's move in one ranking of the community.
#[derive(SimpleObject)]
pub struct RankingMove {
    /// `ALL`, `2026`, `2026-Q4`, `2026-12` (as `ranking` takes it).
    pub period: String,
    pub metric: RankMetric,
    /// Rank now; null when not ranked.
    pub before: Option<u64>,
    /// Rank after; null when no longer ranked.
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

/// What reversing an entry would change.
#[derive(SimpleObject)]
pub struct CorrectionImpact {
    pub volunteer_id: ID,
    pub entry_id: ID,
    /// What the entry is (the statement's line).
    pub detail: String,
    /// What the reversal would take back (points: what has not expired).
    pub points: PointsScalar,
    pub hours: HoursScalar,
    pub stars_before: i32,
    pub stars_after: i32,
    pub rankings: Vec<RankingMove>,
    pub certificates: Vec<CertificateChange>,
    /// The annual report (年度表彰) of this year, pinned at any position since the
    /// entry, would differ from the log.
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
        preview(ctx, vid, eid).await
    }
}

/// What reversing `eid` of `vid` would change, for the community's staff.
pub(crate) async fn preview(
    ctx: &Context<'_>,
    vid: VolunteerId,
    eid: EntryId,
) -> Res<CorrectionImpact> {
    let (volunteer_id, entry_id) = (
        crate::schema::args::id(vid.0),
        crate::schema::args::id(eid.0),
    );
    let p = principal(ctx)?;
    let community = community_of(ctx, vid).await?;
    if !p.manages(community) {
        return Err(forbidden("corrections are for the community's staff"));
    }
    let app = app(ctx);
    let command = |e: ledger::command::CommandError| crate::errors::ApiError::Command(e).extend();
    let state = app.handler.volunteer_state(vid).await.map_err(command)?;
    let entry = state.entry(eid).map_err(|e| command(e.into()))?;
    if !entry.kind.reversible() {
        return Err(gql_error(
            "NOT_REVERSIBLE",
            "only verified services and awards are reversed",
        ));
    }
    if entry.reversed_by.is_some() {
        return Err(gql_error(
            "ALREADY_REVERSED",
            "this entry was reversed already",
        ));
    }
    let points = entry.points.saturating_sub(state.expired_of(eid));
    let hours = entry.hours;
    let db = app.reads.projections().await.map_err(|e| e.extend())?.db();
    let Some((position, recorded_at, detail)) = projections::statement::entry_written(db, vid, eid)
        .await
        .map_err(internal)?
    else {
        return Err(not_found(format!("entry {eid}")));
    };
    // The day the rankings count it in: a service's day, an award's day of record.
    let service_day = state.services.values().find_map(|s| match s.status {
        ServiceStatus::Verified { entry_id } if entry_id == eid => Some(local_date(s.started_at)),
        _ => None,
    });
    let day = service_day.unwrap_or_else(|| local_date(recorded_at));
    let balance = app
        .reads
        .balance(vid)
        .await
        .map_err(|e| e.extend())?
        .ok_or_else(|| not_found(format!("volunteer {vid}")))?;
    // The thresholds the balance's stars were judged by (the day it was read).
    let rule = app
        .handler
        .community_state(community)
        .await
        .map_err(command)?
        .star_thresholds_on(balance.stars_on);
    let (verified, star_points) = (
        hours_of(balance.verified_hours).0,
        points_of(balance.star_points).0,
    );
    let stars_after = rule.level(
        verified.saturating_sub(hours),
        star_points.saturating_sub(points),
    );
    let mut rankings = Vec::new();
    for period in Period::of_day(day) {
        for (metric, minor) in [
            (Metric::Points, points.hundredths()),
            (Metric::Hours, hours.minutes()),
        ] {
            if minor == 0 {
                continue;
            }
            let moved = projections::rankings::rank_move(
                db,
                &Scope::Community(community),
                period,
                metric,
                vid,
                minor,
            )
            .await
            .map_err(internal)?;
            if let Some(m) = moved {
                rankings.push(RankingMove {
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
    let certificates = reports::list_certificates(&app.store, vid)
        .await
        .map_err(|e| crate::documents::report_error(e).extend())?
        .into_iter()
        .filter(|c| c.position >= position && !hours.is_zero())
        .map(|c| CertificateChange {
            number: c.number.clone(),
            position: c.position,
            hours_stated: HoursScalar(c.facts.total_hours),
            hours_after: HoursScalar(c.facts.total_hours.saturating_sub(hours)),
        })
        .collect();
    Ok(CorrectionImpact {
        volunteer_id,
        entry_id,
        detail,
        points: PointsScalar(points),
        hours: HoursScalar(hours),
        stars_before: balance.star_level as i32,
        stars_after: i32::from(stars_after),
        rankings,
        certificates,
        annual_report_year: chrono::Datelike::year(&day),
    })
}

/// The preview of a reversal as the correction keeps it.
pub(crate) async fn note(
    ctx: &Context<'_>,
    vid: VolunteerId,
    eid: EntryId,
) -> Res<ledger::event::CorrectionNote> {
    let i = preview(ctx, vid, eid).await?;
    Ok(ledger::event::CorrectionNote {
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
    })
}

fn internal(e: projections::ProjectionError) -> async_graphql::Error {
    crate::errors::ApiError::from(e).extend()
}
