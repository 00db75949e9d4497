//! How the balances are kept in rows: an account's columns (its timeline of verified
//! hours encoded in one text column) and a threshold version's list of minutes.

use super::account::Account;
use super::NAME;
use crate::db::Val;
use crate::error::{ProjectionError, Result};
use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

pub(super) const COLS: &[&str] = &[
    "volunteer_id",
    "community_id",
    "volunteer_number",
    "points_balance",
    "points_earned",
    "points_spent",
    "points_reversed",
    "hours_banked",
    "hours_gifted",
    "hours_received",
    "hours_spent",
    "hours_reversed",
    "verified_minutes",
    "negative",
    "position",
    "timeline",
    "points_expired",
    "points_left",
];

/// Columns of [`COLS`] that hold text.
pub(super) const TEXT_COLS: [usize; 4] = [0, 1, 2, 15];

fn join(t: &[i64]) -> String {
    t.iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn split(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|m| m.parse().ok()).collect()
}

/// A version's minutes, and after a `;` its points when it has them: `600,1200;100,300`.
pub(super) fn encode_thresholds(minutes: &[i64], points: Option<&[i64]>) -> String {
    match points {
        Some(p) => format!("{};{}", join(minutes), join(p)),
        None => join(minutes),
    }
}

pub(super) fn decode_thresholds(s: &str) -> (Vec<i64>, Option<Vec<i64>>) {
    match s.split_once(';') {
        Some((m, p)) => (split(m), Some(split(p))),
        None => (split(s), None),
    }
}

pub(super) const SELECT: &str = "volunteer_id, community_id, volunteer_number, points_balance, points_earned, points_spent, points_reversed,
    hours_banked, hours_gifted, hours_received, hours_spent, hours_reversed, verified_minutes, negative, position, timeline,
    points_expired, points_left";

pub(super) fn account_from_row(r: &crate::db::Row) -> Result<(Uuid, Account)> {
    let id = parse_uuid(&r.text(0)?)?;
    let community = r.text(1)?;
    Ok((
        id,
        Account {
            community_id: Uuid::parse_str(&community).ok(),
            volunteer_number: r.text(2)?,
            points_balance: r.int(3)?,
            points_earned: r.int(4)?,
            points_spent: r.int(5)?,
            points_reversed: r.int(6)?,
            hours_banked: r.int(7)?,
            hours_gifted: r.int(8)?,
            hours_received: r.int(9)?,
            hours_spent: r.int(10)?,
            hours_reversed: r.int(11)?,
            verified_minutes: r.int(12)?,
            position: r.int(14)? as u64,
            timeline: decode_timeline(&r.text(15)?)?,
            points_expired: r.int(16)?,
            points_left: r.int(17)?,
        },
    ))
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| ProjectionError::corrupt(NAME, format!("{s:?}: {e}")))
}

/// A timeline of (day, verified minutes after, star points after) as
/// `days-from-CE:minutes:points,…`.
fn encode_timeline(t: &[(NaiveDate, i64, i64)]) -> String {
    let mut s = String::with_capacity(t.len() * 20);
    for (i, (d, m, p)) in t.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&d.num_days_from_ce().to_string());
        s.push(':');
        s.push_str(&m.to_string());
        s.push(':');
        s.push_str(&p.to_string());
    }
    s
}

fn decode_timeline(s: &str) -> Result<Vec<(NaiveDate, i64, i64)>> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|p| {
            let mut parts = p.split(':');
            let d = NaiveDate::from_num_days_from_ce_opt(parts.next()?.parse().ok()?)?;
            let m = parts.next()?.parse().ok()?;
            Some((d, m, parts.next()?.parse().ok()?))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ProjectionError::corrupt(NAME, format!("timeline {s:?}")))
}

pub(super) fn account_row(id: Uuid, a: &Account) -> Vec<Val> {
    vec![
        Val::from(id.to_string()),
        Val::from(a.community_id.map(|c| c.to_string()).unwrap_or_default()),
        Val::from(a.volunteer_number.clone()),
        a.points_balance.into(),
        a.points_earned.into(),
        a.points_spent.into(),
        a.points_reversed.into(),
        a.hours_banked.into(),
        a.hours_gifted.into(),
        a.hours_received.into(),
        a.hours_spent.into(),
        a.hours_reversed.into(),
        a.verified_minutes.into(),
        Val::from(i64::from(a.flagged())),
        (a.position as i64).into(),
        Val::from(encode_timeline(&a.timeline)),
        a.points_expired.into(),
        a.points_left.into(),
    ]
}
