//! The preview of reversing a history import as one (`reverseImportBatch`): for each
//! volunteer it credited, what the reversal takes back (of the entries still
//! standing), the stars before and after, the places in the community's rankings of
//! every period its services count in (recomputed with everyone in the batch falling
//! together: they pass each other), the certificates issued since that the log would
//! contradict; and the years whose annual reports would differ.

use super::{internal, kept, CertificateChange, CorrectionImpact, RankingMove, Res};
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::{forbidden, id};
use crate::schema::types::{hours_of, points_of, RankMetric};
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, SimpleObject, ID};
use chrono::Datelike;
use ledger::amount::{Hours, Points};
use ledger::domain::local_date;
use ledger::ids::*;
use projections::common::Period;
use projections::rankings::{Metric, Scope};
use std::collections::BTreeMap;

/// What reversing a history import as one would change.
#[derive(SimpleObject)]
pub struct BatchImpact {
    pub batch_id: ID,
    pub community_id: ID,
    /// The file it was imported from.
    pub file: String,
    /// Rows it recorded, and how many of their entries still stand (the rest were
    /// reversed one by one).
    pub rows: i32,
    pub entries: i32,
    /// Reversed as one already.
    pub reversed: bool,
    /// What it takes back in all.
    pub points: PointsScalar,
    pub hours: HoursScalar,
    /// Each volunteer it would change, in the order of the file.
    pub volunteers: Vec<CorrectionImpact>,
    /// The years whose annual reports (年度表彰), pinned before, would differ.
    pub annual_report_years: Vec<i32>,
}

/// One volunteer's standing entries of the batch: what they hold, and the service day
/// and position of each.
struct Standing {
    volunteer_number: String,
    entries: Vec<StandingEntry>,
    points: Points,
    hours: Hours,
}

/// An entry still standing: its service day and what it would take back.
struct StandingEntry {
    entry_id: EntryId,
    day: chrono::NaiveDate,
    points: Points,
    hours: Hours,
}

fn command(e: ledger::command::CommandError) -> async_graphql::Error {
    crate::errors::ApiError::Command(e).extend()
}

/// What reversing `batch` would change, for its community's staff.
pub(crate) async fn preview(ctx: &Context<'_>, batch: ImportBatchId) -> Res<BatchImpact> {
    let app = app(ctx);
    let state = app
        .handler
        .import_batch_state(batch)
        .await
        .map_err(command)?;
    let community = state.require(batch).map_err(|e| command(e.into()))?;
    if !principal(ctx)?.manages(community) {
        return Err(forbidden("corrections are for the community's staff"));
    }
    let mut standing: Vec<(VolunteerId, Standing)> = Vec::new();
    for vid in state.volunteers() {
        let v = app.handler.volunteer_state(vid).await.map_err(command)?;
        let mut s = Standing {
            volunteer_number: v.volunteer_number.clone(),
            entries: Vec::new(),
            points: Points::ZERO,
            hours: Hours::ZERO,
        };
        for r in state.rows.iter().filter(|r| r.volunteer_id == vid) {
            let Ok(entry) = v.entry(r.entry_id) else {
                continue;
            };
            if entry.reversed_by.is_some() {
                continue;
            }
            let day = v
                .services
                .get(&r.service_id)
                .map(|s| local_date(s.started_at))
                .unwrap_or_else(|| local_date(app.handler.now()));
            let points = entry.points.saturating_sub(v.expired_of(r.entry_id));
            s.points = s.points.saturating_add(points);
            s.hours = s.hours.saturating_add(entry.hours);
            s.entries.push(StandingEntry {
                entry_id: r.entry_id,
                day,
                points,
                hours: entry.hours,
            });
        }
        if !s.entries.is_empty() && !state.reversed {
            standing.push((vid, s));
        }
    }
    let db = app.reads.projections().await.map_err(|e| e.extend())?.db();
    let mut moves = ranking_moves(db, community, &standing).await?;
    let rules = app
        .handler
        .community_state(community)
        .await
        .map_err(command)?;
    let mut volunteers = Vec::new();
    let (mut points, mut hours) = (Points::ZERO, Hours::ZERO);
    let mut years = std::collections::BTreeSet::new();
    for (vid, s) in &standing {
        points = points.saturating_add(s.points);
        hours = hours.saturating_add(s.hours);
        years.extend(s.entries.iter().map(|e| e.day.year()));
        let balance = app
            .reads
            .balance(*vid)
            .await
            .map_err(|e| e.extend())?
            .ok_or_else(|| crate::schema::args::not_found(format!("volunteer {vid}")))?;
        let rule = rules.star_thresholds_on(balance.stars_on);
        let stars_after = rule.level(
            hours_of(balance.verified_hours).0.saturating_sub(s.hours),
            points_of(balance.star_points).0.saturating_sub(s.points),
        );
        // The first of its entries in the log: certificates since then count them.
        let mut first = None;
        for e in &s.entries {
            if let Some((position, _, _)) =
                projections::statement::entry_written(db, *vid, e.entry_id)
                    .await
                    .map_err(internal)?
            {
                first = Some(first.map_or(position, |f: u64| f.min(position)));
            }
        }
        let certificates = match first {
            Some(first) => reports::list_certificates(&app.store, *vid)
                .await
                .map_err(|e| crate::documents::report_error(e).extend())?
                .into_iter()
                .filter(|c| c.position >= first)
                .map(|c| CertificateChange {
                    number: c.number.clone(),
                    position: c.position,
                    hours_stated: HoursScalar(c.facts.total_hours),
                    hours_after: HoursScalar(c.facts.total_hours.saturating_sub(s.hours)),
                })
                .collect(),
            None => Vec::new(),
        };
        volunteers.push(CorrectionImpact {
            volunteer_id: id(vid.0),
            entry_id: id(s.entries[0].entry_id.0),
            detail: format!(
                "{} 历史导入 {}：{} 条记录",
                s.volunteer_number,
                state.file,
                s.entries.len()
            ),
            points: PointsScalar(s.points),
            hours: HoursScalar(s.hours),
            stars_before: balance.star_level as i32,
            stars_after: i32::from(stars_after),
            rankings: moves.remove(vid).unwrap_or_default(),
            certificates,
            annual_report_year: s.entries.iter().map(|e| e.day.year()).min().unwrap_or(0),
        });
    }
    Ok(BatchImpact {
        batch_id: id(batch.0),
        community_id: id(community.0),
        file: state.file.clone(),
        rows: state.rows.len() as i32,
        entries: standing.iter().map(|(_, s)| s.entries.len() as i32).sum(),
        reversed: state.reversed,
        points: PointsScalar(points),
        hours: HoursScalar(hours),
        volunteers,
        annual_report_years: years.into_iter().collect(),
    })
}

/// What each volunteer loses in a period, in minor units (points, minutes).
type Lost = BTreeMap<VolunteerId, (i64, i64)>;

/// Every volunteer's moves in the community's rankings of the periods their entries
/// count in, all of the batch falling together.
async fn ranking_moves(
    db: &projections::db::Db,
    community: CommunityId,
    standing: &[(VolunteerId, Standing)],
) -> Res<BTreeMap<VolunteerId, Vec<RankingMove>>> {
    // What each volunteer loses in each period, in minor units (points, minutes).
    let mut periods: Vec<(Period, Lost)> = Vec::new();
    for (vid, s) in standing {
        for e in &s.entries {
            for period in Period::of_day(e.day) {
                let i = match periods.iter().position(|(p, _)| *p == period) {
                    Some(i) => i,
                    None => {
                        periods.push((period, BTreeMap::new()));
                        periods.len() - 1
                    }
                };
                let lost = periods[i].1.entry(*vid).or_insert((0, 0));
                lost.0 -= e.points.hundredths();
                lost.1 -= e.hours.minutes();
            }
        }
    }
    let scope = Scope::Community(community);
    let mut out: BTreeMap<VolunteerId, Vec<RankingMove>> = BTreeMap::new();
    for (period, lost) in &periods {
        for metric in [Metric::Points, Metric::Hours] {
            let shifts: BTreeMap<VolunteerId, i64> = lost
                .iter()
                .map(|(v, (p, m))| (*v, if metric == Metric::Points { *p } else { *m }))
                .filter(|(_, s)| *s != 0)
                .collect();
            let moved = projections::rankings::batch_moves(db, &scope, *period, metric, &shifts)
                .await
                .map_err(internal)?;
            for (vid, m) in moved {
                out.entry(vid).or_default().push(RankingMove {
                    period: match period {
                        Period::AllTime => "ALL".into(),
                        p => p.key(),
                    },
                    metric: RankMetric::from(metric),
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
    Ok(out)
}

/// The preview as the reversal keeps it: each volunteer's note.
pub(crate) async fn notes(
    ctx: &Context<'_>,
    batch: ImportBatchId,
) -> Res<Vec<(VolunteerId, ledger::event::CorrectionNote)>> {
    super::caught_up(ctx).await?;
    let impact = preview(ctx, batch).await?;
    impact
        .volunteers
        .into_iter()
        .map(|i| {
            let vid = VolunteerId(crate::schema::args::parse_id(
                &i.volunteer_id,
                "volunteerId",
            )?);
            Ok((vid, kept(i)))
        })
        .collect()
}
