//! Balances per volunteer (积分 and 时间银行): points balance, earned, spent and
//! reversed; hours banked (the hours balance), gifted, received, spent and reversed;
//! verified service hours; the star level (星级) under the thresholds in force and the
//! date each star was reached; the negative-balance flag.
//!
//! Rules:
//! - points earned = verified service points + awards; balance = earned − spent − reversed;
//! - hours banked = verified hours + received − gifted − spent − reversed hours;
//! - verified service hours = verified hours − reversed hours;
//! - star thresholds are versioned: the version in force on a day is the one with the
//!   latest `effective_from` on or before it (ties: the higher version), the national
//!   default 100/300/600/1000/1500 h before any (as `CommunityState::star_thresholds_on`);
//! - the current star level counts the thresholds in force *today* that the verified
//!   hours reach;
//! - a star is held on a day when the verified hours reach its threshold in force that
//!   day; the date it was reached is the (UTC+8) day it was last taken from not held to
//!   held: by an entry (under the thresholds in force on the entry's day), or by a new
//!   version coming into force (on its `effective_from`). A star not held has no date.
//!
//! The read model keeps every dated version and each account's timeline of verified
//! hours, and evaluates stars when read, for the reading day: a version dated in the
//! future changes nothing until its day comes, and then applies without any new event.

use crate::common::{hours_dec, key_strings, local_date, points_dec, Cached};
use crate::db::{Db, Kind, OnConflict, Rows, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use chrono::{Datelike, NaiveDate, Utc};
use futures::future::BoxFuture;
use ledger::event::{default_star_thresholds, Event};
use ledger::ids::{CommunityId, StreamKind, VolunteerId};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

pub const NAME: &str = "balances";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_balances",
        columns: "volunteer_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, volunteer_number TEXT NOT NULL,
            points_balance BIGINT NOT NULL, points_earned BIGINT NOT NULL, points_spent BIGINT NOT NULL, points_reversed BIGINT NOT NULL,
            hours_banked BIGINT NOT NULL, hours_gifted BIGINT NOT NULL, hours_received BIGINT NOT NULL, hours_spent BIGINT NOT NULL,
            hours_reversed BIGINT NOT NULL, verified_minutes BIGINT NOT NULL,
            negative BIGINT NOT NULL, position BIGINT NOT NULL, timeline TEXT NOT NULL",
        indexes: &["(community_id, volunteer_number)"],
    },
    TableDef {
        name: "pj_balances_stars",
        columns: "community_id TEXT NOT NULL, version BIGINT NOT NULL, effective_from BIGINT NOT NULL,
            thresholds TEXT NOT NULL, PRIMARY KEY (community_id, version)",
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
    "negative",
    "position",
    "timeline",
];

/// Columns of [`COLS`] that hold text.
const TEXT_COLS: [usize; 4] = [0, 1, 2, 15];

/// One volunteer's account, in minor units (points in hundredths, hours in minutes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub community_id: Option<Uuid>,
    pub volunteer_number: String,
    pub points_balance: i64,
    pub points_earned: i64,
    pub points_spent: i64,
    pub points_reversed: i64,
    /// Hours balance (banked − reversed − gifted + received − spent).
    pub hours_banked: i64,
    pub hours_gifted: i64,
    pub hours_received: i64,
    pub hours_spent: i64,
    pub hours_reversed: i64,
    pub verified_minutes: i64,
    pub position: u64,
    /// (day, verified minutes after) for every entry that changed the verified minutes.
    pub timeline: Vec<(NaiveDate, i64)>,
}

impl Account {
    /// Flagged: a reversal left the points or the hours balance below zero.
    pub fn flagged(&self) -> bool {
        self.points_balance < 0 || self.hours_banked < 0
    }
}

/// Thresholds in minutes of the built-in default.
pub fn default_thresholds() -> Vec<i64> {
    default_star_thresholds()
        .into_iter()
        .map(|h| h.minutes())
        .collect()
}

/// One dated version of a community's star thresholds, in minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdVersion {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub minutes: Vec<i64>,
}

/// The thresholds in force on `day`: the version with the latest `effective_from` on or
/// before it (ties: the higher version), else the built-in default.
pub fn thresholds_on(versions: &[ThresholdVersion], day: NaiveDate) -> Vec<i64> {
    versions
        .iter()
        .filter(|v| v.effective_from <= day)
        .max_by_key(|v| (v.effective_from, v.version))
        .map(|v| v.minutes.clone())
        .unwrap_or_else(default_thresholds)
}

/// Moves star dates for a change of verified minutes from `before` to `after` on `day`,
/// under the thresholds in force that day.
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

/// Moves star dates for thresholds `to` coming into force on `day`, in place of `from`,
/// with `minutes` verified: a star held under both keeps its date, one held only under
/// `to` is reached that day, one not held under `to` has none.
fn star_switch(
    dates: &mut Vec<Option<NaiveDate>>,
    from: &[i64],
    to: &[i64],
    minutes: i64,
    day: NaiveDate,
) {
    dates.resize(to.len(), None);
    for (i, t) in to.iter().enumerate() {
        let held_before = from.get(i).is_some_and(|f| minutes >= *f);
        if minutes < *t {
            dates[i] = None;
        } else if !held_before {
            dates[i] = Some(day);
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

/// Stars as of `today`, from a timeline of (day, verified minutes after) and the dated
/// versions of the thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarsOn {
    /// The thresholds in force today, in minutes.
    pub thresholds: Vec<i64>,
    /// How many of them the verified minutes reach.
    pub level: usize,
    /// Per threshold in force today, the day it was reached (if held).
    pub dates: Vec<Option<NaiveDate>>,
}

/// Evaluates the stars of a timeline on `today` (see the module's rules): versions come
/// into force at the start of their day, before that day's entries; versions dated after
/// `today` do not count.
pub fn stars_on(
    timeline: &[(NaiveDate, i64)],
    versions: &[ThresholdVersion],
    today: NaiveDate,
) -> StarsOn {
    let mut switches: Vec<NaiveDate> = versions
        .iter()
        .map(|v| v.effective_from)
        .filter(|d| *d <= today)
        .collect();
    switches.sort_unstable();
    switches.dedup();
    let mut switches = switches.into_iter().peekable();
    let mut current = thresholds_on(versions, NaiveDate::MIN);
    let mut dates = vec![None; current.len()];
    let mut minutes = 0;
    let switch = |current: &mut Vec<i64>, dates: &mut Vec<_>, minutes: i64, day| {
        let next = thresholds_on(versions, day);
        if next != *current {
            star_switch(dates, current, &next, minutes, day);
            *current = next;
        }
    };
    for (day, after) in timeline {
        while let Some(d) = switches.next_if(|d| d <= day) {
            switch(&mut current, &mut dates, minutes, d);
        }
        star_step(&mut dates, &current, minutes, *after, *day);
        minutes = *after;
    }
    for d in switches {
        switch(&mut current, &mut dates, minutes, d);
    }
    dates.resize(current.len(), None);
    StarsOn {
        level: star_level(&current, minutes),
        thresholds: current,
        dates,
    }
}

/// Folds one volunteer-stream event into an account; returns the new verified minutes
/// when they changed (a timeline point, also pushed onto the account's timeline).
pub fn evolve(acc: &mut Account, ev: &Envelope) -> Option<i64> {
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
        acc.timeline.push((local_date(ev.recorded_at), after));
        Some(after)
    } else {
        None
    }
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
    hours_banked, hours_gifted, hours_received, hours_spent, hours_reversed, verified_minutes, negative, position, timeline";

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

fn account_row(id: Uuid, a: &Account) -> Vec<Val> {
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

/// The balances projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Balances;

impl Projection for Balances {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        // 3: dated threshold versions, stars evaluated when read. 4: a negative hours
        // balance flags the account too.
        4
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

/// The balances' rows in memory.
struct BalanceState {
    fresh: bool,
    accounts: Cached<Uuid, Account>,
    /// Threshold versions set since the last flush: (community, version) → version.
    versions: BTreeMap<(Uuid, u32), ThresholdVersion>,
}

impl BalanceState {
    fn new(fresh: bool) -> BalanceState {
        BalanceState {
            fresh,
            accounts: Cached::default(),
            versions: BTreeMap::new(),
        }
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let vids: HashSet<Uuid> = events
            .iter()
            .filter(|ev| is_account_event(&ev.event))
            .filter_map(|ev| ev.stream_of(StreamKind::Volunteer))
            .filter(|v| !self.accounts.contains(v))
            .collect();
        let rows = tx
            .select_in(
                &names.t("pj_balances"),
                SELECT,
                "volunteer_id",
                &key_strings(&vids),
            )
            .await?;
        for r in rows {
            let (id, account) = account_from_row(&r)?;
            self.accounts.loaded(id, account);
        }
        Ok(())
    }

    fn fold_events(&mut self, events: &[Envelope]) {
        for ev in events {
            if let (
                Some(c),
                Event::StarThresholdsSet {
                    version,
                    thresholds,
                    effective_from,
                },
            ) = (ev.stream_of(StreamKind::Community), &ev.event)
            {
                self.versions.insert(
                    (c, *version),
                    ThresholdVersion {
                        version: *version,
                        effective_from: *effective_from,
                        minutes: thresholds.iter().map(|h| h.minutes()).collect(),
                    },
                );
                continue;
            }
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            if !is_account_event(&ev.event) {
                continue;
            }
            if !self.accounts.contains(&v) {
                self.accounts.insert(v, Account::default());
            }
            if let Some(acc) = self.accounts.get_mut(&v) {
                evolve(acc, ev);
            }
        }
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let mut kinds = vec![Kind::Int; COLS.len()];
        for i in TEXT_COLS {
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
            w.push(tx, account_row(*id, a)).await?;
        }
        w.finish(tx).await?;
        let mut rows = Rows::new(&[Kind::Text, Kind::Int, Kind::Int, Kind::Text]);
        for ((c, _), v) in std::mem::take(&mut self.versions) {
            rows.push([
                Val::from(c.to_string()),
                Val::from(i64::from(v.version)),
                Val::from(i64::from(v.effective_from.num_days_from_ce())),
                Val::from(encode_thresholds(&v.minutes)),
            ]);
        }
        tx.upsert_owned(
            &Upsert {
                table: &names.t("pj_balances_stars"),
                cols: &["community_id", "version", "effective_from", "thresholds"],
                key: &["community_id", "version"],
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
        // The timeline is owned by the account.
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
    /// Under the thresholds in force on the day read.
    pub star_level: u32,
    /// Thresholds in force on the day read, in hours.
    pub star_thresholds: Vec<Decimal>,
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
    let rows = db
        .fetch(
            "SELECT version, effective_from, thresholds FROM pj_balances_stars WHERE community_id = ? ORDER BY version",
            &[Val::from(c.to_string())],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let days = i32::try_from(r.int(1)?).ok();
            Ok(ThresholdVersion {
                version: r.int(0)? as u32,
                effective_from: days
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
                    .ok_or_else(|| ProjectionError::corrupt(NAME, "effective_from"))?,
                minutes: decode_thresholds(&r.text(2)?),
            })
        })
        .collect()
}

fn to_balance(id: Uuid, a: Account, versions: &[ThresholdVersion], today: NaiveDate) -> Balance {
    let negative = a.flagged();
    let s = stars_on(&a.timeline, versions, today);
    let stars = s
        .dates
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            d.map(|day| Star {
                level: i as u32 + 1,
                threshold_hours: hours_dec(s.thresholds.get(i).copied().unwrap_or_default()),
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
        star_level: s.level as u32,
        star_thresholds: s.thresholds.iter().map(|m| hours_dec(*m)).collect(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::common::parse_day(s).unwrap()
    }

    fn v(version: u32, from: &str, minutes: &[i64]) -> ThresholdVersion {
        ThresholdVersion {
            version,
            effective_from: d(from),
            minutes: minutes.to_vec(),
        }
    }

    #[test]
    fn star_dates_follow_the_last_upward_crossing() {
        let t = [v(1, "2000-01-01", &[600, 1200])];
        let line = vec![
            (d("2024-01-01"), 300),
            (d("2024-01-05"), 700),  // 1st star
            (d("2024-02-01"), 500),  // reversed below: lost
            (d("2024-03-01"), 1300), // both
        ];
        let s = stars_on(&line, &t, d("2024-12-31"));
        assert_eq!(s.dates, vec![Some(d("2024-03-01")), Some(d("2024-03-01"))]);
        assert_eq!(s.level, 2);
        assert_eq!(star_level(&[600, 1200], 599), 0);
    }

    #[test]
    fn crossings_follow_the_thresholds_in_force_on_their_day() {
        // 10/20 h from March, 5/40 h from June (set later, dated earlier than a
        // version 3 that brings 30/60 h from next year).
        let t = [
            v(1, "2024-03-01", &[600, 1200]),
            v(3, "2025-01-01", &[1800, 3600]),
            v(2, "2024-06-01", &[300, 2400]),
        ];
        let line = vec![
            (d("2024-01-10"), 700),  // over 10 h, but the default (100 h) is in force
            (d("2024-04-02"), 1300), // over 20 h under version 1: both stars
        ];
        // In May: reached on 1 March (version 1 came into force) and on 2 April.
        let may = stars_on(&line, &t, d("2024-05-15"));
        assert_eq!(may.thresholds, vec![600, 1200]);
        assert_eq!(
            may.dates,
            vec![Some(d("2024-03-01")), Some(d("2024-04-02"))]
        );
        // From June (version 2): the first star is still held (kept from March), the
        // second is lost.
        let july = stars_on(&line, &t, d("2024-07-01"));
        assert_eq!(july.level, 1);
        assert_eq!(july.dates, vec![Some(d("2024-03-01")), None]);
        // Next year neither is held; the future version changed nothing before its day.
        let next = stars_on(&line, &t, d("2025-01-01"));
        assert_eq!((next.level, next.dates), (0, vec![None, None]));
        // Before any version: the national default.
        let feb = stars_on(&line, &t, d("2024-02-01"));
        assert_eq!(feb.thresholds, default_thresholds());
        assert_eq!(feb.level, 0);
    }

    #[test]
    fn the_higher_version_wins_a_tie_of_dates() {
        let t = [v(2, "2024-01-01", &[60]), v(1, "2024-01-01", &[6000])];
        let s = stars_on(&[(d("2024-02-01"), 120)], &t, d("2024-02-01"));
        assert_eq!((s.level, s.dates), (1, vec![Some(d("2024-02-01"))]));
    }
}
