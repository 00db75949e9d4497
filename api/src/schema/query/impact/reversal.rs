//! The preview of reversing an entry (`reverseEntry`): what it takes back (points: what
//! has not expired), the stars before and after, the places in the community's rankings
//! of the periods the entry counts in, the certificates issued since the entry that the
//! log would then contradict, and the year whose annual report would differ.

use super::{internal, kept, ranking_moves, CertificateChange, CorrectionImpact, Res};
use crate::errors::gql_error;
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::{community_of, forbidden, not_found};
use crate::schema::types::{hours_of, points_of};
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions};
use ledger::domain::local_date;
use ledger::domain::volunteer::ServiceStatus;
use ledger::ids::*;

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
    let rankings = ranking_moves(
        db,
        community,
        vid,
        day,
        (0, -points.hundredths()),
        (0, -hours.minutes()),
    )
    .await?;
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
    super::caught_up(ctx).await?;
    Ok(kept(preview(ctx, vid, eid).await?))
}
