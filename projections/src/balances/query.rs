//! Balances read: one volunteer's, a community's by volunteer number, and the flagged
//! ones, with the stars evaluated for the day read.

use super::account::Account;
use super::rows::{account_from_row, decode_thresholds, SELECT};
use super::stars::{stars_on, ThresholdVersion};
use super::NAME;
use crate::common::{hours_dec, local_date, points_dec};
use crate::db::{Db, Val};
use crate::error::{ProjectionError, Result};
use chrono::{NaiveDate, Utc};
use ledger::ids::{CommunityId, VolunteerId};
use rust_decimal::Decimal;
use std::collections::HashMap;
use uuid::Uuid;

/// A star reached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Star {
    /// 1..=5.
    pub level: u32,
    pub threshold_hours: Decimal,
    /// The points it also takes, when the rule asks for points.
    pub threshold_points: Option<Decimal>,
    pub reached_on: NaiveDate,
}

/// A volunteer's balances, in exact decimals.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Balance {
    pub volunteer_id: VolunteerId,
    pub community_id: Option<CommunityId>,
    pub volunteer_number: String,
    pub points_balance: Decimal,
    pub points_earned: Decimal,
    pub points_spent: Decimal,
    pub points_reversed: Decimal,
    /// Points whose validity ended (积分到期).
    pub points_expired: Decimal,
    /// Points that stayed with a community the volunteer moved away from.
    pub points_left: Decimal,
    pub hours_banked: Decimal,
    pub hours_gifted: Decimal,
    pub hours_received: Decimal,
    pub hours_spent: Decimal,
    pub hours_reversed: Decimal,
    pub verified_hours: Decimal,
    /// Under the thresholds in force on the day read.
    pub star_level: u32,
    /// Thresholds in force on the day read, in hours.
    pub star_thresholds: Vec<Decimal>,
    /// The points thresholds in force on the day read, when the rule has them.
    pub star_points_thresholds: Option<Vec<Decimal>>,
    /// Points earned net of reversals: what a rule with points counts.
    pub star_points: Decimal,
    pub stars: Vec<Star>,
    /// The day (UTC+8) the stars were evaluated for.
    pub stars_on: NaiveDate,
    /// The points or the hours balance is below zero (after a reversal): the account is
    /// flagged and redemptions are refused.
    pub negative: bool,
    /// Position of the last event that changed this account.
    pub position: u64,
}

/// Today in China Standard Time: the day stars are evaluated for.
pub fn today() -> NaiveDate {
    local_date(Utc::now())
}

/// Every threshold version of a community.
pub async fn threshold_versions(db: &Db, community: Option<Uuid>) -> Result<Vec<ThresholdVersion>> {
    let Some(c) = community else {
        return Ok(Vec::new());
    };
    let mut of = threshold_versions_of(db, &[c]).await?;
    Ok(of.remove(&c).unwrap_or_default())
}

/// Every threshold version of each of `communities` (one read; a community without
/// versions of its own is left out).
pub async fn threshold_versions_of(
    db: &Db,
    communities: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<ThresholdVersion>>> {
    let mut out: std::collections::HashMap<Uuid, Vec<ThresholdVersion>> = Default::default();
    if communities.is_empty() {
        return Ok(out);
    }
    let marks = vec!["?"; communities.len()].join(", ");
    let vals: Vec<Val> = communities
        .iter()
        .map(|c| Val::from(c.to_string()))
        .collect();
    let rows = db
        .fetch(
            &format!("SELECT community_id, version, effective_from, thresholds FROM pj_balances_stars WHERE community_id IN ({marks}) ORDER BY community_id, version"),
            &vals,
        )
        .await?;
    for r in &rows {
        let c = Uuid::parse_str(&r.text(0)?).map_err(|e| ProjectionError::corrupt(NAME, e))?;
        let days = i32::try_from(r.int(2)?).ok();
        let (minutes, points) = decode_thresholds(&r.text(3)?);
        out.entry(c).or_default().push(ThresholdVersion {
            version: r.int(1)? as u32,
            effective_from: days
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .ok_or_else(|| ProjectionError::corrupt(NAME, "effective_from"))?,
            minutes,
            points,
        });
    }
    Ok(out)
}

fn to_balance(id: Uuid, a: Account, versions: &[ThresholdVersion], today: NaiveDate) -> Balance {
    let negative = a.flagged();
    let star_points = a.star_points();
    let s = stars_on(&a.timeline, versions, today);
    let stars = s
        .dates
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            d.map(|day| Star {
                level: i as u32 + 1,
                threshold_hours: hours_dec(
                    s.thresholds.minutes.get(i).copied().unwrap_or_default(),
                ),
                threshold_points: s
                    .thresholds
                    .points
                    .as_ref()
                    .and_then(|p| p.get(i))
                    .map(|p| points_dec(*p)),
                reached_on: day,
            })
        })
        .collect();
    Balance {
        volunteer_id: VolunteerId(id),
        community_id: a.community_id.map(CommunityId),
        volunteer_number: a.volunteer_number,
        points_balance: points_dec(a.points_balance),
        points_earned: points_dec(a.points_earned),
        points_spent: points_dec(a.points_spent),
        points_reversed: points_dec(a.points_reversed),
        points_expired: points_dec(a.points_expired),
        points_left: points_dec(a.points_left),
        hours_banked: hours_dec(a.hours_banked),
        hours_gifted: hours_dec(a.hours_gifted),
        hours_received: hours_dec(a.hours_received),
        hours_spent: hours_dec(a.hours_spent),
        hours_reversed: hours_dec(a.hours_reversed),
        verified_hours: hours_dec(a.verified_minutes),
        star_level: s.level as u32,
        star_thresholds: s.thresholds.minutes.iter().map(|m| hours_dec(*m)).collect(),
        star_points_thresholds: s
            .thresholds
            .points
            .as_ref()
            .map(|p| p.iter().map(|x| points_dec(*x)).collect()),
        star_points: points_dec(star_points),
        stars,
        stars_on: today,
        negative,
        position: a.position,
    }
}

/// One volunteer's balances, stars as of today; `None` if the volunteer has no account
/// events.
pub async fn balance(db: &Db, volunteer: VolunteerId) -> Result<Option<Balance>> {
    balance_on(db, volunteer, today()).await
}

/// [`balance`] with the stars as of `today`.
pub async fn balance_on(
    db: &Db,
    volunteer: VolunteerId,
    today: NaiveDate,
) -> Result<Option<Balance>> {
    let Some(r) = db
        .fetch_optional(
            &format!("SELECT {SELECT} FROM pj_balances WHERE volunteer_id = ?"),
            &[Val::from(volunteer.0.to_string())],
        )
        .await?
    else {
        return Ok(None);
    };
    let (id, a) = account_from_row(&r)?;
    let versions = threshold_versions(db, a.community_id).await?;
    Ok(Some(to_balance(id, a, &versions, today)))
}

/// The community of each of these volunteers' accounts (one query; a volunteer without
/// an account is left out).
pub async fn communities_of(
    db: &Db,
    ids: &[VolunteerId],
) -> Result<HashMap<VolunteerId, CommunityId>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let vals: Vec<Val> = ids.iter().map(|v| Val::from(v.0.to_string())).collect();
    let mut out = HashMap::with_capacity(ids.len());
    for r in db
        .fetch(
            &format!("SELECT volunteer_id, community_id FROM pj_balances WHERE volunteer_id IN ({marks})"),
            &vals,
        )
        .await?
    {
        if let (Ok(v), Ok(c)) = (Uuid::parse_str(&r.text(0)?), Uuid::parse_str(&r.text(1)?)) {
            out.insert(VolunteerId(v), CommunityId(c));
        }
    }
    Ok(out)
}

/// Balances of a community's volunteers by volunteer number, `limit` after `after_number`.
pub async fn balances_of_community(
    db: &Db,
    community: CommunityId,
    after_number: Option<&str>,
    limit: u32,
) -> Result<Vec<Balance>> {
    let rows = db
        .fetch(
            &format!(
                "SELECT {SELECT} FROM pj_balances WHERE community_id = ? AND volunteer_number > ?
                 ORDER BY volunteer_number LIMIT ?"
            ),
            &[
                Val::from(community.0.to_string()),
                Val::from(after_number.unwrap_or("").to_string()),
                Val::from(limit as i64),
            ],
        )
        .await?;
    let versions = threshold_versions(db, Some(community.0)).await?;
    let today = today();
    rows.iter()
        .map(|r| account_from_row(r).map(|(id, a)| to_balance(id, a, &versions, today)))
        .collect()
}

/// Flagged volunteers (a points or hours balance below zero), in a community.
pub async fn negative_balances(db: &Db, community: CommunityId) -> Result<Vec<Balance>> {
    let rows = db
        .fetch(
            &format!(
                "SELECT {SELECT} FROM pj_balances WHERE community_id = ? AND negative = 1 ORDER BY volunteer_number"
            ),
            &[Val::from(community.0.to_string())],
        )
        .await?;
    let versions = threshold_versions(db, Some(community.0)).await?;
    let today = today();
    rows.iter()
        .map(|r| account_from_row(r).map(|(id, a)| to_balance(id, a, &versions, today)))
        .collect()
}

/// Every account that ever earned points, with its community: those whose points may
/// expire (the server's expiry pass looks at them).
pub async fn accounts_with_points(db: &Db) -> Result<Vec<(VolunteerId, CommunityId)>> {
    let rows = db
        .fetch(
            "SELECT volunteer_id, community_id FROM pj_balances WHERE points_earned > 0 ORDER BY community_id, volunteer_number",
            &[],
        )
        .await?;
    rows.iter()
        .filter_map(|r| {
            let v = r.text(0).ok().and_then(|t| Uuid::parse_str(&t).ok())?;
            let c = r.text(1).ok().and_then(|t| Uuid::parse_str(&t).ok())?;
            Some(Ok((VolunteerId(v), CommunityId(c))))
        })
        .collect()
}

/// An order of a community's balances other than by volunteer number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceOrder {
    /// Points balance, highest first.
    Points,
    /// Verified service hours (星级依据), highest first.
    VerifiedHours,
}

/// Balances of a community's volunteers in `order` (ties by volunteer number), `limit`
/// after the first `offset`.
pub async fn balances_of_community_by(
    db: &Db,
    community: CommunityId,
    order: BalanceOrder,
    offset: u64,
    limit: u32,
) -> Result<Vec<Balance>> {
    let by = match order {
        BalanceOrder::Points => "points_balance DESC",
        BalanceOrder::VerifiedHours => "verified_minutes DESC",
    };
    let rows = db
        .fetch(
            &format!(
                "SELECT {SELECT} FROM pj_balances WHERE community_id = ?
                 ORDER BY {by}, volunteer_number LIMIT ? OFFSET ?"
            ),
            &[
                Val::from(community.0.to_string()),
                Val::from(limit as i64),
                Val::from(offset.min(i64::MAX as u64) as i64),
            ],
        )
        .await?;
    let versions = threshold_versions(db, Some(community.0)).await?;
    let today = today();
    rows.iter()
        .map(|r| account_from_row(r).map(|(id, a)| to_balance(id, a, &versions, today)))
        .collect()
}

/// What a community's accounts add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommunityTotals {
    /// Accounts (volunteers registered, departed ones too).
    pub volunteers: u64,
    /// Points balances added up.
    pub points_balance: Decimal,
    /// Verified service hours added up.
    pub verified_hours: Decimal,
}

/// The totals of a community's accounts.
pub async fn community_totals(db: &Db, community: CommunityId) -> Result<CommunityTotals> {
    let row = db
        .fetch_optional(
            "SELECT COUNT(*), CAST(COALESCE(SUM(points_balance), 0) AS BIGINT),
                    CAST(COALESCE(SUM(verified_minutes), 0) AS BIGINT)
             FROM pj_balances WHERE community_id = ?",
            &[Val::from(community.0.to_string())],
        )
        .await?;
    let Some(r) = row else {
        return Ok(CommunityTotals::default());
    };
    Ok(CommunityTotals {
        volunteers: r.int(0)? as u64,
        points_balance: points_dec(r.int(1)?),
        verified_hours: hours_dec(r.int(2)?),
    })
}
