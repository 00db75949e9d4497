//! Balances per volunteer (积分 and 时间银行): points balance, earned, spent and
//! reversed; hours banked (the hours balance), gifted, received, spent and reversed;
//! verified service hours; the star level (星级) under the thresholds in force and the
//! date each star was reached; the negative-balance flag.
//!
//! Rules:
//! - points earned = verified service points + awards; balance = earned − spent − reversed;
//! - hours banked = verified hours + received − gifted − spent − reversed hours;
//! - verified service hours = verified hours − reversed hours;
//! - the thresholds in force are the community's latest `StarThresholdsSet` (the
//!   national default 100/300/600/1000/1500 h until one is set), applied to the whole
//!   history: when they change, every star of the community is recomputed;
//! - the date a star was reached is the (UTC+8) day of the entry that last took the
//!   verified hours from below the threshold to at or above it; a star lost through a
//!   reversal has no date.

use crate::common::{day_key, hours_dec, key_strings, local_date, parse_day, points_dec, Cached};
use crate::db::{Db, Kind, OnConflict, Rows, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use chrono::{Datelike, NaiveDate};
use futures::future::BoxFuture;
use ledger::event::{default_star_thresholds, Event};
use ledger::ids::{CommunityId, StreamKind, VolunteerId};
use rust_decimal::Decimal;
use std::collections::HashSet;
use uuid::Uuid;

pub const NAME: &str = "balances";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_balances",
        columns: "volunteer_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, volunteer_number TEXT NOT NULL,
            points_balance BIGINT NOT NULL, points_earned BIGINT NOT NULL, points_spent BIGINT NOT NULL, points_reversed BIGINT NOT NULL,
            hours_banked BIGINT NOT NULL, hours_gifted BIGINT NOT NULL, hours_received BIGINT NOT NULL, hours_spent BIGINT NOT NULL,
            hours_reversed BIGINT NOT NULL, verified_minutes BIGINT NOT NULL, star_level BIGINT NOT NULL, star_dates TEXT NOT NULL,
            negative BIGINT NOT NULL, position BIGINT NOT NULL, timeline TEXT NOT NULL",
        indexes: &["(community_id, volunteer_number)"],
    },
    TableDef {
        name: "pj_balances_stars",
        columns: "community_id TEXT NOT NULL PRIMARY KEY, version BIGINT NOT NULL, thresholds TEXT NOT NULL",
        indexes: &[],
    },
];

const COLS: &[&str] = &[
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
    "star_level",
    "star_dates",
    "negative",
    "position",
    "timeline",
];

/// One volunteer's account, in minor units (points in hundredths, hours in minutes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub community_id: Option<Uuid>,
    pub volunteer_number: String,
    pub points_balance: i64,
    pub points_earned: i64,
    pub points_spent: i64,
    pub points_reversed: i64,
    pub hours_banked: i64,
    pub hours_gifted: i64,
    pub hours_received: i64,
    pub hours_spent: i64,
    pub hours_reversed: i64,
    pub verified_minutes: i64,
    pub star_level: usize,
    /// Per threshold, the day it was reached (if currently held).
    pub star_dates: Vec<Option<NaiveDate>>,
    pub position: u64,
}

/// Thresholds in minutes of the built-in default.
pub fn default_thresholds() -> Vec<i64> {
    default_star_thresholds()
        .into_iter()
        .map(|h| h.minutes())
        .collect()
}

/// Moves star dates for a change of verified minutes from `before` to `after` on `day`.
pub fn star_step(
    dates: &mut Vec<Option<NaiveDate>>,
    thresholds: &[i64],
    before: i64,
    after: i64,
    day: NaiveDate,
) {
    dates.resize(thresholds.len(), None);
    for (i, t) in thresholds.iter().enumerate() {
        if after >= *t && before < *t {
            dates[i] = Some(day);
        } else if after < *t {
            dates[i] = None;
        }
    }
}

/// Star level: how many thresholds the verified minutes reach.
pub fn star_level(thresholds: &[i64], verified_minutes: i64) -> usize {
    thresholds
        .iter()
        .filter(|t| verified_minutes >= **t)
        .count()
}

/// Star dates recomputed from a volunteer's timeline of (day, verified minutes after).
pub fn stars_from_timeline(
    timeline: &[(NaiveDate, i64)],
    thresholds: &[i64],
) -> Vec<Option<NaiveDate>> {
    let mut dates = vec![None; thresholds.len()];
    let mut before = 0;
    for (day, after) in timeline {
        star_step(&mut dates, thresholds, before, *after, *day);
        before = *after;
    }
    dates
}

/// Folds one volunteer-stream event into an account; returns the new verified minutes
/// when they changed (a timeline point).
pub fn evolve(acc: &mut Account, ev: &Envelope, thresholds: &[i64]) -> Option<i64> {
    let before = acc.verified_minutes;
    match &ev.event {
        Event::VolunteerRegistered {
            community_id,
            volunteer_number,
            ..
        } => {
            acc.community_id = Some(community_id.0);
            acc.volunteer_number = volunteer_number.clone();
        }
        Event::ServiceVerified { hours, points, .. } => {
            acc.points_earned += points.hundredths();
            acc.points_balance += points.hundredths();
            acc.hours_banked += hours.minutes();
            acc.verified_minutes += hours.minutes();
        }
        Event::PointsAwarded { points, .. } => {
            acc.points_earned += points.hundredths();
            acc.points_balance += points.hundredths();
        }
        Event::PointsRedeemed { points, .. } => {
            acc.points_spent += points.hundredths();
            acc.points_balance -= points.hundredths();
        }
        Event::EntryReversed { points, hours, .. } => {
            acc.points_reversed += points.hundredths();
            acc.points_balance -= points.hundredths();
            acc.hours_reversed += hours.minutes();
            acc.hours_banked -= hours.minutes();
            acc.verified_minutes -= hours.minutes();
        }
        Event::HoursGifted { hours, .. } => {
            acc.hours_gifted += hours.minutes();
            acc.hours_banked -= hours.minutes();
        }
        Event::HoursReceived { hours, .. } => {
            acc.hours_received += hours.minutes();
            acc.hours_banked += hours.minutes();
        }
        Event::HoursSpent { hours, .. } => {
            acc.hours_spent += hours.minutes();
            acc.hours_banked -= hours.minutes();
        }
        _ => return None,
    }
    acc.position = ev.position;
    let after = acc.verified_minutes;
    if after != before {
        star_step(
            &mut acc.star_dates,
            thresholds,
            before,
            after,
            local_date(ev.recorded_at),
        );
        acc.star_level = star_level(thresholds, after);
        Some(after)
    } else {
        None
    }
}

/// Star dates as `YYYY-MM-DD` or empty per threshold; no star at all is stored as ""
/// (whether the list was ever sized to the thresholds depends on when the account was
/// first seen, not on what it holds).
fn encode_dates(dates: &[Option<NaiveDate>]) -> String {
    if dates.iter().all(|d| d.is_none()) {
        return String::new();
    }
    dates
        .iter()
        .map(|d| d.map(day_key).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_dates(s: &str) -> Vec<Option<NaiveDate>> {
    if s.is_empty() {
        return vec![];
    }
    s.split(',').map(parse_day).collect()
}

fn encode_thresholds(t: &[i64]) -> String {
    t.iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_thresholds(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|m| m.parse().ok()).collect()
}

const SELECT: &str = "volunteer_id, community_id, volunteer_number, points_balance, points_earned, points_spent, points_reversed,
    hours_banked, hours_gifted, hours_received, hours_spent, hours_reversed, verified_minutes, star_level, star_dates, negative, position";

/// [`SELECT`] and the timeline, for the fold.
const SELECT_ALL: &str = "volunteer_id, community_id, volunteer_number, points_balance, points_earned, points_spent, points_reversed,
    hours_banked, hours_gifted, hours_received, hours_spent, hours_reversed, verified_minutes, star_level, star_dates, negative, position,
    timeline";

fn account_from_row(r: &crate::db::Row) -> Result<(Uuid, Account)> {
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
            star_level: r.int(13)? as usize,
            star_dates: decode_dates(&r.text(14)?),
            position: r.int(16)? as u64,
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

fn account_row(id: Uuid, a: &Account, timeline: &[(NaiveDate, i64)]) -> Vec<Val> {
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
        (a.star_level as i64).into(),
        Val::from(encode_dates(&a.star_dates)),
        Val::from(i64::from(a.points_balance < 0)),
        (a.position as i64).into(),
        Val::from(encode_timeline(timeline)),
    ]
}

/// The balances projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Balances;

impl Projection for Balances {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        2
    }
    fn tables(&self) -> &'static [TableDef] {
        TABLES
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(apply_with_state(
            Box::new(BalanceState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(BalanceState::new(fresh)))
    }
    fn retired_tables(&self) -> &'static [&'static str] {
        &["pj_balances_timeline"]
    }
}

/// Whether a volunteer-stream event touches the account.
fn is_account_event(e: &Event) -> bool {
    matches!(
        e,
        Event::VolunteerRegistered { .. }
            | Event::ServiceVerified { .. }
            | Event::PointsAwarded { .. }
            | Event::PointsRedeemed { .. }
            | Event::EntryReversed { .. }
            | Event::HoursGifted { .. }
            | Event::HoursReceived { .. }
            | Event::HoursSpent { .. }
    )
}

/// An account and its timeline of verified minutes (for star dates under new thresholds).
#[derive(Debug, Clone, Default)]
struct Acc {
    account: Account,
    timeline: Vec<(NaiveDate, i64)>,
}

/// The balances' rows in memory.
struct BalanceState {
    fresh: bool,
    accounts: Cached<Uuid, Acc>,
    /// Thresholds of communities that set their own: (version, minutes).
    thresholds: Cached<Uuid, (i64, Vec<i64>)>,
    /// Communities whose thresholds were looked up (absent: the default).
    known: HashSet<Uuid>,
    defaults: Vec<i64>,
}

impl BalanceState {
    fn new(fresh: bool) -> BalanceState {
        BalanceState {
            fresh,
            accounts: Cached::default(),
            thresholds: Cached::default(),
            known: HashSet::new(),
            defaults: default_thresholds(),
        }
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let t_bal = names.t("pj_balances");
        let mut vids: HashSet<Uuid> = HashSet::new();
        let mut communities: HashSet<Uuid> = HashSet::new();
        let mut changed: HashSet<Uuid> = HashSet::new();
        for ev in events {
            if let Some(v) = ev.stream_of(StreamKind::Volunteer) {
                if is_account_event(&ev.event) && !self.accounts.contains(&v) {
                    vids.insert(v);
                }
                if let Event::VolunteerRegistered { community_id, .. } = &ev.event {
                    communities.insert(community_id.0);
                }
            }
            if let (Some(c), Event::StarThresholdsSet { .. }) =
                (ev.stream_of(StreamKind::Community), &ev.event)
            {
                communities.insert(c);
                changed.insert(c);
            }
        }
        let mut rows = tx
            .select_in(&t_bal, SELECT_ALL, "volunteer_id", &key_strings(&vids))
            .await?;
        if !changed.is_empty() {
            // New thresholds apply to every account of the community.
            rows.extend(
                tx.select_in(&t_bal, SELECT_ALL, "community_id", &key_strings(&changed))
                    .await?,
            );
        }
        for r in rows {
            let (id, account) = account_from_row(&r)?;
            if let Some(c) = account.community_id {
                communities.insert(c);
            }
            let timeline = decode_timeline(&r.text(17)?)?;
            self.accounts.loaded(id, Acc { account, timeline });
        }
        for ev in events {
            if let Some(a) = ev
                .stream_of(StreamKind::Volunteer)
                .and_then(|v| self.accounts.get(&v))
            {
                if let Some(c) = a.account.community_id {
                    communities.insert(c);
                }
            }
        }
        communities.retain(|c| !self.known.contains(c));
        let rows = tx
            .select_in(
                &names.t("pj_balances_stars"),
                "community_id, version, thresholds",
                "community_id",
                &key_strings(&communities),
            )
            .await?;
        for r in rows {
            self.thresholds.loaded(
                parse_uuid(&r.text(0)?)?,
                (r.int(1)?, decode_thresholds(&r.text(2)?)),
            );
        }
        self.known.extend(communities);
        Ok(())
    }

    fn fold_events(&mut self, events: &[Envelope]) {
        let mut changed: Vec<Uuid> = Vec::new();
        for ev in events {
            if let (
                Some(c),
                Event::StarThresholdsSet {
                    version,
                    thresholds: t,
                    ..
                },
            ) = (ev.stream_of(StreamKind::Community), &ev.event)
            {
                self.thresholds.insert(
                    c,
                    (*version as i64, t.iter().map(|h| h.minutes()).collect()),
                );
                self.known.insert(c);
                if !changed.contains(&c) {
                    changed.push(c);
                }
                continue;
            }
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            if !is_account_event(&ev.event) {
                continue;
            }
            if !self.accounts.contains(&v) {
                self.accounts.insert(v, Acc::default());
            }
            let Some(acc) = self.accounts.get_mut(&v) else {
                continue;
            };
            let t = acc
                .account
                .community_id
                .and_then(|c| self.thresholds.get(&c))
                .map(|(_, t)| t.as_slice())
                .unwrap_or(&self.defaults);
            if let Some(after) = evolve(&mut acc.account, ev, t) {
                acc.timeline.push((local_date(ev.recorded_at), after));
            }
        }
        // New thresholds apply to the whole history of the community.
        for c in changed {
            let t = self
                .thresholds
                .get(&c)
                .map(|(_, t)| t.clone())
                .unwrap_or_default();
            let members: Vec<Uuid> = self
                .accounts
                .values()
                .filter(|(_, a)| a.account.community_id == Some(c))
                .map(|(id, _)| *id)
                .collect();
            for id in members {
                if let Some(a) = self.accounts.get_mut(&id) {
                    a.account.star_dates = stars_from_timeline(&a.timeline, &t);
                    a.account.star_level = star_level(&t, a.account.verified_minutes);
                }
            }
        }
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let mut kinds = vec![Kind::Int; COLS.len()];
        for i in [0, 1, 2, 14, 17] {
            kinds[i] = Kind::Text;
        }
        let t_bal = names.t("pj_balances");
        let mut w = Writer::new(
            Upsert {
                table: &t_bal,
                cols: COLS,
                key: &["volunteer_id"],
                on_conflict: OnConflict::Replace,
            },
            &kinds,
        );
        for (id, a) in self.accounts.take_changed() {
            let row = account_row(*id, &a.account, &a.timeline);
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let mut rows = Rows::new(&[Kind::Text, Kind::Int, Kind::Text]);
        for (c, (v, t)) in self.thresholds.take_changed() {
            rows.push([
                Val::from(c.to_string()),
                Val::from(*v),
                Val::from(encode_thresholds(t)),
            ]);
        }
        tx.upsert_owned(
            &Upsert {
                table: &names.t("pj_balances_stars"),
                cols: &["community_id", "version", "thresholds"],
                key: &["community_id"],
                on_conflict: OnConflict::Replace,
            },
            rows,
        )
        .await
    }
}

impl State for BalanceState {
    fn load<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.load_rows(tx, names, events))
    }
    fn fold(&mut self, events: &[Envelope]) -> Result<()> {
        self.fold_events(events);
        Ok(())
    }
    fn flush<'a>(&'a mut self, tx: &'a mut Tx<'_>, names: &'a Names) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write(tx, names))
    }
    fn pending(&self) -> usize {
        0
    }
    fn held(&self) -> usize {
        // Star dates and the timeline are owned by the account.
        self.accounts.bytes(120)
    }
    fn evict(&mut self) {
        self.accounts.evict();
        self.fresh = false;
    }
    fn needs_load(&self) -> bool {
        !self.fresh
    }
}

/// A star reached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Star {
    /// 1..=5.
    pub level: u32,
    pub threshold_hours: Decimal,
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
    pub hours_banked: Decimal,
    pub hours_gifted: Decimal,
    pub hours_received: Decimal,
    pub hours_spent: Decimal,
    pub hours_reversed: Decimal,
    pub verified_hours: Decimal,
    pub star_level: u32,
    /// Thresholds in force, in hours.
    pub star_thresholds: Vec<Decimal>,
    pub stars: Vec<Star>,
    /// The points balance is below zero (after a reversal): redemptions are refused.
    pub negative: bool,
    /// Position of the last event that changed this account.
    pub position: u64,
}

async fn thresholds_of(db: &Db, community: Option<Uuid>) -> Result<Vec<i64>> {
    if let Some(c) = community {
        if let Some(r) = db
            .fetch_optional(
                "SELECT thresholds FROM pj_balances_stars WHERE community_id = ?",
                &[Val::from(c.to_string())],
            )
            .await?
        {
            return Ok(decode_thresholds(&r.text(0)?));
        }
    }
    Ok(default_thresholds())
}

fn to_balance(id: Uuid, a: Account, thresholds: &[i64]) -> Balance {
    let stars = a
        .star_dates
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            d.map(|day| Star {
                level: i as u32 + 1,
                threshold_hours: hours_dec(thresholds.get(i).copied().unwrap_or_default()),
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
        hours_banked: hours_dec(a.hours_banked),
        hours_gifted: hours_dec(a.hours_gifted),
        hours_received: hours_dec(a.hours_received),
        hours_spent: hours_dec(a.hours_spent),
        hours_reversed: hours_dec(a.hours_reversed),
        verified_hours: hours_dec(a.verified_minutes),
        star_level: a.star_level as u32,
        star_thresholds: thresholds.iter().map(|m| hours_dec(*m)).collect(),
        stars,
        negative: a.points_balance < 0,
        position: a.position,
    }
}

/// One volunteer's balances; `None` if the volunteer has no account events.
pub async fn balance(db: &Db, volunteer: VolunteerId) -> Result<Option<Balance>> {
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
    let t = thresholds_of(db, a.community_id).await?;
    Ok(Some(to_balance(id, a, &t)))
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
    let t = thresholds_of(db, Some(community.0)).await?;
    rows.iter()
        .map(|r| account_from_row(r).map(|(id, a)| to_balance(id, a, &t)))
        .collect()
}

/// Volunteers whose points balance is below zero (flagged), in a community.
pub async fn negative_balances(db: &Db, community: CommunityId) -> Result<Vec<Balance>> {
    let rows = db
        .fetch(
            &format!(
                "SELECT {SELECT} FROM pj_balances WHERE community_id = ? AND negative = 1 ORDER BY volunteer_number"
            ),
            &[Val::from(community.0.to_string())],
        )
        .await?;
    let t = thresholds_of(db, Some(community.0)).await?;
    rows.iter()
        .map(|r| account_from_row(r).map(|(id, a)| to_balance(id, a, &t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    #[test]
    fn star_dates_follow_the_last_upward_crossing() {
        let t = vec![600, 1200];
        let line = vec![
            (d("2024-01-01"), 300),
            (d("2024-01-05"), 700),  // 1st star
            (d("2024-02-01"), 500),  // reversed below: lost
            (d("2024-03-01"), 1300), // both
        ];
        let dates = stars_from_timeline(&line, &t);
        assert_eq!(dates, vec![Some(d("2024-03-01")), Some(d("2024-03-01"))]);
        assert_eq!(star_level(&t, 1300), 2);
        assert_eq!(star_level(&t, 599), 0);
    }
}
