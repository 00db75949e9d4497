//! The preview of a correction to a record not yet credited: upholding an objection to
//! a record in its 公示 (rejected, or corrected to fewer hours) and rejecting a logged
//! service. Nothing is taken back, so no certificate or report differs; what changes is
//! what the record will credit: the stars and ranking places it would have given once
//! final as recorded, beside those it will give as corrected.

use super::{kept, ranking_moves, CorrectionImpact, Res};
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::{community_of, forbidden, id, not_found};
use crate::schema::types::{hours_of, points_of};
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions};
use chrono::{Datelike, NaiveDate};
use ledger::amount::{Hours, Points};
use ledger::command::{CommandError, Verdict};
use ledger::domain::activity::upholding;
use ledger::domain::volunteer::pending_value;
use ledger::domain::{local_date, DomainError};
use ledger::ids::*;

fn command(e: CommandError) -> async_graphql::Error {
    crate::errors::ApiError::Command(e).extend()
}

fn domain(e: DomainError) -> async_graphql::Error {
    command(e.into())
}

/// What `verdict` on the objection would change (staff of the activity's community).
pub(crate) async fn objection(
    ctx: &Context<'_>,
    activity_id: ActivityId,
    objection_id: ObjectionId,
    verdict: &Verdict,
) -> Res<CorrectionImpact> {
    let p = principal(ctx)?;
    let app = app(ctx);
    let activity = app
        .handler
        .activity_state(activity_id)
        .await
        .map_err(command)?;
    let community = activity.require(activity_id).map_err(domain)?;
    if !p.manages(community) {
        return Err(forbidden("corrections are for the community's staff"));
    }
    if activity
        .objections
        .get(&objection_id)
        .is_some_and(|o| !o.open)
    {
        return Err(domain(DomainError::ObjectionAlreadyResolved {
            objection_id,
        }));
    }
    let rules = app
        .handler
        .community_state(community)
        .await
        .map_err(command)?;
    let u = upholding(&rules, &activity, objection_id, verdict).map_err(domain)?;
    let change = Change {
        community,
        rules: &rules,
        volunteer: u.volunteer_id,
        day: u.day,
        recorded: u.recorded,
        upheld: u.upheld,
    };
    let detail = format!(
        "{}：记录 {} 小时、{} 积分",
        activity.title, u.recorded.0, u.recorded.1
    );
    forward(ctx, change, id(objection_id.0), detail).await
}

/// What rejecting the logged service would keep from the volunteer.
pub(crate) async fn rejection(
    ctx: &Context<'_>,
    vid: VolunteerId,
    sid: ServiceId,
) -> Res<CorrectionImpact> {
    let p = principal(ctx)?;
    let community = community_of(ctx, vid).await?;
    if !p.manages(community) {
        return Err(forbidden("corrections are for the community's staff"));
    }
    if p.actor.volunteer_id == Some(vid) {
        return Err(domain(DomainError::SelfVerification { service_id: sid }));
    }
    let app = app(ctx);
    let state = app.handler.volunteer_state(vid).await.map_err(command)?;
    let rules = app
        .handler
        .community_state(community)
        .await
        .map_err(command)?;
    let (hours, points, day) = pending_value(&rules, &state, vid, sid).map_err(domain)?;
    let change = Change {
        community,
        rules: &rules,
        volunteer: vid,
        day,
        recorded: (hours, points),
        upheld: (Hours::ZERO, Points::ZERO),
    };
    let detail = format!(
        "{} 的服务：{hours} 小时、{points} 积分",
        day.format("%Y-%m-%d")
    );
    forward(ctx, change, id(sid.0), detail).await
}

/// The objection's preview as its resolution keeps it; none for a dismissal.
pub(crate) async fn objection_note(
    ctx: &Context<'_>,
    activity_id: ActivityId,
    objection_id: ObjectionId,
    verdict: &Verdict,
) -> Res<Option<ledger::event::CorrectionNote>> {
    if matches!(verdict, Verdict::Dismiss) {
        return Ok(None);
    }
    super::caught_up(ctx).await?;
    let i = objection(ctx, activity_id, objection_id, verdict).await?;
    Ok(Some(kept(i)))
}

/// The rejection's preview as the rejection keeps it.
pub(crate) async fn rejection_note(
    ctx: &Context<'_>,
    vid: VolunteerId,
    sid: ServiceId,
) -> Res<ledger::event::CorrectionNote> {
    super::caught_up(ctx).await?;
    Ok(kept(rejection(ctx, vid, sid).await?))
}

/// A record not yet credited: what it would credit as recorded, and as corrected.
struct Change<'a> {
    community: CommunityId,
    /// The community's rules, as the caller read them.
    rules: &'a ledger::domain::community::CommunityState,
    volunteer: VolunteerId,
    day: NaiveDate,
    recorded: (Hours, Points),
    upheld: (Hours, Points),
}

async fn forward(
    ctx: &Context<'_>,
    c: Change<'_>,
    subject: async_graphql::ID,
    detail: String,
) -> Res<CorrectionImpact> {
    let app = app(ctx);
    let balance = app
        .reads
        .balance(c.volunteer)
        .await
        .map_err(|e| e.extend())?
        .ok_or_else(|| not_found(format!("volunteer {}", c.volunteer)))?;
    // Credited when final: judged by the thresholds in force today.
    let rule = c.rules.star_thresholds_on(local_date(app.handler.now()));
    let (verified, star_points) = (
        hours_of(balance.verified_hours).0,
        points_of(balance.star_points).0,
    );
    let level = |(h, p): (Hours, Points)| {
        i32::from(rule.level(verified.saturating_add(h), star_points.saturating_add(p)))
    };
    let db = app.reads.projections().await.map_err(|e| e.extend())?.db();
    let rankings = ranking_moves(
        db,
        c.community,
        c.volunteer,
        c.day,
        (c.recorded.1.hundredths(), c.upheld.1.hundredths()),
        (c.recorded.0.minutes(), c.upheld.0.minutes()),
    )
    .await?;
    Ok(CorrectionImpact {
        volunteer_id: id(c.volunteer.0),
        entry_id: subject,
        detail,
        // Negative when the correction gives more than was recorded.
        points: PointsScalar(c.recorded.1.saturating_sub(c.upheld.1)),
        hours: HoursScalar(c.recorded.0.saturating_sub(c.upheld.0)),
        stars_before: level(c.recorded),
        stars_after: level(c.upheld),
        rankings,
        certificates: Vec::new(),
        annual_report_year: c.day.year(),
    })
}
