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
];

/// Columns of [`COLS`] that hold text.
pub(super) const TEXT_COLS: [usize; 4] = [0, 1, 2, 15];

pub(super) fn encode_thresholds(t: &[i64]) -> String {
    t.iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn decode_thresholds(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|m| m.parse().ok()).collect()
}

pub(super) const SELECT: &str = "volunteer_id, community_id, volunteer_number, points_balance, points_earned, points_spent, points_reversed,
    hours_banked, hours_gifted, hours_received, hours_spent, hours_reversed, verified_minutes, negative, position, timeline";

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
        },
    ))
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| ProjectionError::corrupt(NAME, format!("{s:?}: {e}")))
}

/// A timeline of (day, verified minutes after) as `days-from-CE:minutes,…`.
fn encode_timeline(t: &[(NaiveDate, i64)]) -> String {
    let mut s = String::with_capacity(t.len() * 14);
    for (i, (d, m)) in t.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&d.num_days_from_ce().to_string());
        s.push(':');
        s.push_str(&m.to_string());
    }
    s
}

fn decode_timeline(s: &str) -> Result<Vec<(NaiveDate, i64)>> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|p| {
            let (d, m) = p.split_once(':')?;
            let d = NaiveDate::from_num_days_from_ce_opt(d.parse().ok()?)?;
            Some((d, m.parse().ok()?))
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
    ]
}
