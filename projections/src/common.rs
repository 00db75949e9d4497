//! Shared pieces of the read models: calendar periods in China Standard Time, amounts at
//! the query edge, per-batch key/value state, and a volunteer's attribution (home
//! stairwell, grid, teams, tags) as of a point in the log.

use crate::db::{OnConflict, Tx, Upsert, Val};
use crate::error::{ProjectionError, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::event::Event;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// The calendar date of an instant in China Standard Time (UTC+8).
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

/// "YYYY-MM".
pub fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// "YYYY-MM-DD".
pub fn day_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A ranking or reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Period {
    AllTime,
    Year(i32),
    /// Year and quarter 1..=4.
    Quarter(i32, u32),
    /// Year and month 1..=12.
    Month(i32, u32),
}

impl Period {
    /// The key stored in period-keyed rows: `all`, `2024`, `2024-Q1`, `2024-03`.
    pub fn key(self) -> String {
        match self {
            Period::AllTime => "all".into(),
            Period::Year(y) => format!("{y:04}"),
            Period::Quarter(y, q) => format!("{y:04}-Q{q}"),
            Period::Month(y, m) => format!("{y:04}-{m:02}"),
        }
    }

    /// Every period a day belongs to.
    pub fn of_day(d: NaiveDate) -> [Period; 4] {
        [
            Period::AllTime,
            Period::Year(d.year()),
            Period::Quarter(d.year(), (d.month() - 1) / 3 + 1),
            Period::Month(d.year(), d.month()),
        ]
    }

    /// The months ("YYYY-MM") a year, quarter or month covers; empty for all time.
    pub fn months(self) -> Vec<String> {
        let ms: Vec<(i32, u32)> = match self {
            Period::AllTime => vec![],
            Period::Year(y) => (1..=12).map(|m| (y, m)).collect(),
            Period::Quarter(y, q) => (1..=3).map(|i| (y, (q - 1) * 3 + i)).collect(),
            Period::Month(y, m) => vec![(y, m)],
        };
        ms.into_iter()
            .map(|(y, m)| format!("{y:04}-{m:02}"))
            .collect()
    }

    pub fn validate(self) -> Result<Period> {
        match self {
            Period::Quarter(_, q) if !(1..=4).contains(&q) => Err(ProjectionError::InvalidQuery(
                format!("quarter {q} is not 1..=4"),
            )),
            Period::Month(_, m) if !(1..=12).contains(&m) => Err(ProjectionError::InvalidQuery(
                format!("month {m} is not 1..=12"),
            )),
            p => Ok(p),
        }
    }
}

pub fn points_dec(hundredths: i64) -> Decimal {
    Points::from_hundredths(hundredths).to_decimal()
}

pub fn hours_dec(minutes: i64) -> Decimal {
    Hours::from_minutes(minutes).to_decimal()
}

/// Milliseconds since the epoch, as stored.
pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// Key/value state of one batch: loaded in bulk, changed in memory, written in bulk.
#[derive(Debug)]
pub struct Kv<T> {
    map: HashMap<String, T>,
    dirty: HashSet<String>,
}

impl<T> Default for Kv<T> {
    fn default() -> Self {
        Kv {
            map: HashMap::new(),
            dirty: HashSet::new(),
        }
    }
}

impl<T: Serialize + DeserializeOwned> Kv<T> {
    /// Loads the stored values of `keys` from kv table `table`.
    pub async fn load(tx: &mut Tx<'_>, table: &str, keys: &HashSet<String>) -> Result<Kv<T>> {
        let keys: Vec<String> = keys.iter().cloned().collect();
        let rows = tx.select_in(table, "k, v", "k", &keys).await?;
        let mut map = HashMap::with_capacity(rows.len());
        for r in rows {
            let k = r.text(0)?;
            let v: T = serde_json::from_str(&r.text(1)?)
                .map_err(|e| ProjectionError::corrupt(table, format!("{k}: {e}")))?;
            map.insert(k, v);
        }
        Ok(Kv {
            map,
            dirty: HashSet::new(),
        })
    }

    pub fn get(&self, k: &str) -> Option<&T> {
        self.map.get(k)
    }

    pub fn get_mut(&mut self, k: &str) -> Option<&mut T> {
        let v = self.map.get_mut(k);
        if v.is_some() {
            self.dirty.insert(k.to_string());
        }
        v
    }

    pub fn insert(&mut self, k: String, v: T) {
        self.dirty.insert(k.clone());
        self.map.insert(k, v);
    }

    /// Writes the changed values.
    pub async fn flush(self, tx: &mut Tx<'_>, table: &str) -> Result<()> {
        let mut rows = Vec::with_capacity(self.dirty.len());
        for k in self.dirty {
            if let Some(v) = self.map.get(&k) {
                let json =
                    serde_json::to_string(v).map_err(|e| ProjectionError::corrupt(table, e))?;
                rows.push(vec![Val::from(k), Val::from(json)]);
            }
        }
        tx.upsert(
            &Upsert {
                table,
                cols: &["k", "v"],
                key: &["k"],
                on_conflict: OnConflict::Replace,
            },
            rows,
        )
        .await
    }
}

/// Where a volunteer belongs, as of a point in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub community: Uuid,
    pub number: String,
    pub stairwell: Uuid,
    pub grid: Uuid,
    pub teams: BTreeSet<Uuid>,
    pub tags: Vec<String>,
    pub departed: bool,
}

impl Attribution {
    /// Folds a volunteer-stream event; `None` until the volunteer is registered.
    pub fn evolve(state: &mut Option<Attribution>, event: &Event) {
        match event {
            Event::VolunteerRegistered {
                community_id,
                volunteer_number,
                stairwell_id,
                grid_id,
                tags,
                teams,
                ..
            } => {
                *state = Some(Attribution {
                    community: community_id.0,
                    number: volunteer_number.clone(),
                    stairwell: stairwell_id.0,
                    grid: grid_id.0,
                    teams: teams.iter().map(|t| t.0).collect(),
                    tags: tags.clone(),
                    departed: false,
                });
            }
            Event::VolunteerMoved {
                stairwell_id,
                grid_id,
            } => {
                if let Some(a) = state {
                    a.stairwell = stairwell_id.0;
                    a.grid = grid_id.0;
                }
            }
            Event::TeamJoined { team_id } => {
                if let Some(a) = state {
                    a.teams.insert(team_id.0);
                }
            }
            Event::TeamLeft { team_id } => {
                if let Some(a) = state {
                    a.teams.remove(&team_id.0);
                }
            }
            Event::VolunteerDeparted { .. } => {
                if let Some(a) = state {
                    a.departed = true;
                }
            }
            _ => {}
        }
    }

    /// Whether this event changes the attribution.
    pub fn is_attribution_event(event: &Event) -> bool {
        matches!(
            event,
            Event::VolunteerRegistered { .. }
                | Event::VolunteerMoved { .. }
                | Event::TeamJoined { .. }
                | Event::TeamLeft { .. }
                | Event::VolunteerDeparted { .. }
        )
    }
}
