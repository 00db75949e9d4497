//! 文明楼道 (civilised stairwell) scores per stairwell per month, the monthly ranking
//! within a community, the 流动红旗 (rotating red flag) holder of each month, and
//! quarterly and yearly averages.
//!
//! A stairwell is scored for a month when it was inspected that month:
//! - the rubric items of the month's inspection (default 楼道卫生 30, 杂物清理 25,
//!   消防安全 25), summed;
//! - 邻里互助 participation = max × min(1, served ÷ (30% × households)), where max is the
//!   participation maximum of the inspection's rubric version (default 20) and served is
//!   the number of distinct households of the stairwell with a volunteer who has a
//!   verified, unreversed service started that month (UTC+8); a volunteer counts in the
//!   stairwell and household they lived in when the service was logged, and a volunteer
//!   with no household given counts as a household of their own;
//! - minus the deductions of issues reported by the end of the month and not resolved
//!   within it (UTC+8 months of the events);
//! - clamped to 0–100, in hundredths (participation rounded half away from zero).
//!
//! The monthly ranking orders by total, ties sharing a dense rank and broken for display
//! by building and unit as people read them (2栋 before 10栋, [`listing_cmp`]), then
//! id; the red flag goes to the first in that order. An average
//! is over the months a stairwell was scored in the quarter or year.

use crate::common::EntryMemo;
use crate::common::{
    key_strings, local_date, map_bytes, month_key, month_no, month_text, parse_month, points_dec,
    uuid_col, Cached, FxMap, FxSet, Period,
};
use crate::db::{Db, Kind, OnConflict, Rows, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{
    apply_with_state, read_streams, Envelope, Names, Projection, State, TableDef,
};
use futures::future::BoxFuture;
use ledger::domain::stairwell::listing_cmp;
use ledger::event::{Event, DEFAULT_PARTICIPATION_MAX};
use ledger::ids::{CommunityId, StairwellId, StreamKind, VolunteerId};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

pub const NAME: &str = "stairwells";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_sw_stairwells",
        columns: "stairwell_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, grid_id TEXT NOT NULL,
            building TEXT NOT NULL, unit TEXT NOT NULL, households BIGINT NOT NULL",
        indexes: &["(community_id)"],
    },
    TableDef {
        name: "pj_sw_rubrics",
        columns: "community_id TEXT NOT NULL, version BIGINT NOT NULL, participation_max BIGINT NOT NULL,
            PRIMARY KEY (community_id, version)",
        indexes: &[],
    },
    TableDef {
        name: "pj_sw_inspections",
        columns: "stairwell_id TEXT NOT NULL, month TEXT NOT NULL, items BIGINT NOT NULL, rubric_version BIGINT NOT NULL,
            position BIGINT NOT NULL, PRIMARY KEY (stairwell_id, month)",
        indexes: &["(month)"],
    },
    TableDef {
        name: "pj_sw_issues",
        columns: "issue_id TEXT NOT NULL PRIMARY KEY, stairwell_id TEXT NOT NULL, reported_month TEXT NOT NULL,
            resolved_month TEXT, deduction BIGINT NOT NULL",
        indexes: &["(stairwell_id)"],
    },
    // `household` is the household label, or "" when none was given.
    TableDef {
        name: "pj_sw_served",
        columns: "stairwell_id TEXT NOT NULL, month TEXT NOT NULL, volunteer_id TEXT NOT NULL, household TEXT NOT NULL,
            services BIGINT NOT NULL, PRIMARY KEY (stairwell_id, month, volunteer_id, household)",
        indexes: &["(month)"],
    },
    TableDef {
        name: "pj_sw_volunteers",
        columns: "volunteer_id TEXT NOT NULL PRIMARY KEY, stairwell_id TEXT NOT NULL, household TEXT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_sw_services",
        columns: "service_id TEXT NOT NULL PRIMARY KEY, stairwell_id TEXT NOT NULL, month TEXT NOT NULL,
            volunteer_id TEXT NOT NULL, household TEXT NOT NULL",
        indexes: &[],
    },
];

/// Where a service counts for participation: the volunteer's home stairwell when the
/// service was logged, and the month it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedAt {
    pub stairwell: Uuid,
    pub month: String,
    pub volunteer: Uuid,
}

/// A household label as kept: trimmed, "" when none (or a blank one) was given.
pub fn household_key(household: Option<&str>) -> String {
    household.map(str::trim).unwrap_or_default().to_string()
}

/// A decimal score in hundredths, rounded half away from zero.
pub fn hundredths(d: Decimal) -> i64 {
    (d * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(0)
}

/// The sum of an inspection's rubric items, in hundredths. 邻里互助 (participation) is
/// computed from the households served, so a participation score an older inspection
/// carried is not an item.
pub fn inspected_items(scores: &std::collections::BTreeMap<String, Decimal>) -> i64 {
    scores
        .iter()
        .filter(|(k, _)| k.as_str() != ledger::domain::community::PARTICIPATION_KEY)
        .map(|(_, d)| hundredths(*d))
        .sum()
}

fn div_round(n: i128, d: i128) -> i64 {
    if d == 0 {
        return 0;
    }
    let q = n / d;
    let r = n % d;
    let q = if r.abs() * 2 >= d.abs() {
        if (n < 0) != (d < 0) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    };
    q as i64
}

/// 邻里互助 participation in hundredths: `max × min(1, served ÷ (0.3 × households))`.
pub fn participation(max_hundredths: i64, served: u64, households: u64) -> i64 {
    if households == 0 {
        return 0;
    }
    let cap = 3 * households as i128; // 30% of households, times 10
    let got = (10 * served as i128).min(cap);
    div_round(max_hundredths as i128 * got, cap)
}

/// The month's total in hundredths, clamped to 0–100.
pub fn total(items: i64, participation: i64, deductions: i64) -> i64 {
    (items + participation - deductions).clamp(0, 10_000)
}

/// Whether an issue's deduction applies to `month`: reported by its end, not resolved
/// within it.
pub fn deducted_in(month: &str, reported: &str, resolved: Option<&str>) -> bool {
    reported <= month
        && match resolved {
            None => true,
            Some(r) => r > month,
        }
}

/// The 文明楼道 projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stairwells;

impl Projection for Stairwells {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        // 3: participation counts households.
        3
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
            Box::new(SwState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(SwState::new(fresh)))
    }
    fn retired_tables(&self) -> &'static [&'static str] {
        &[
            "pj_sw_kv_volunteers",
            "pj_sw_kv_services",
            "pj_sw_kv_entries",
            "pj_sw_entries",
        ]
    }
}

/// Where a counted service is: stairwell, month number, volunteer, household ("" none).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Served {
    stairwell: Uuid,
    month: i32,
    volunteer: Uuid,
    household: String,
}

/// Where a registered volunteer lives: stairwell and household ("" none).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Home {
    stairwell: Uuid,
    household: String,
}

/// An issue: stairwell, reported month, resolved month, deduction (hundredths).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Issue {
    stairwell: Uuid,
    reported: String,
    resolved: Option<String>,
    deduction: i64,
}

/// The 文明楼道 rows in memory. A service's place is kept (and stored) from its logging
/// to its verification or rejection, which happens once; a verified service's place is
/// kept in memory only, for a reversal: when it is not in memory it is recomputed from
/// the volunteer's stream, which holds both the entry and its reversal.
struct SwState {
    fresh: bool,
    /// A registered volunteer's home.
    vols: Cached<Uuid, Home>,
    services: Cached<Uuid, Served>,
    entries: EntryMemo<Served>,
    issues: Cached<Uuid, Issue>,
    /// Rows replaced as they come (the last one wins).
    stairwells: HashMap<Uuid, (Uuid, Uuid, String, String, i64)>,
    rubrics: HashMap<(Uuid, i64), i64>,
    inspections: FxMap<(Uuid, String), (i64, i64, i64)>,
    /// Served deltas: (stairwell, month, volunteer, household) → services.
    served: FxMap<(Uuid, i32, Uuid, String), i64>,
}

/// Replays volunteer streams to find where `wanted` entries were counted (the same
/// rules as [`SwState::fold_events`]).
fn find_entries(history: &[Envelope], wanted: &FxSet<Uuid>) -> FxMap<Uuid, Served> {
    let mut homes: FxMap<Uuid, Home> = FxMap::default();
    let mut services: FxMap<Uuid, Served> = FxMap::default();
    let mut found = FxMap::default();
    for ev in history {
        let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
            continue;
        };
        match &ev.event {
            Event::VolunteerRegistered {
                stairwell_id,
                household,
                ..
            } => {
                homes.insert(v, Home::new(stairwell_id.0, household.as_deref()));
            }
            Event::VolunteerMoved {
                stairwell_id,
                household,
                ..
            } => {
                if let Some(h) = homes.get_mut(&v) {
                    *h = Home::new(stairwell_id.0, household.as_deref());
                }
            }
            Event::ServiceLogged {
                service_id,
                started_at,
                ..
            } => {
                if let Some(h) = homes.get(&v) {
                    services.insert(service_id.0, h.served(v, *started_at));
                }
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                ..
            } => {
                if let Some(at) = services.remove(&service_id.0) {
                    if wanted.contains(&entry_id.0) {
                        found.insert(entry_id.0, at);
                    }
                }
            }
            Event::ServiceRejected { service_id, .. } => {
                services.remove(&service_id.0);
            }
            _ => {}
        }
    }
    found
}

impl Home {
    fn new(stairwell: Uuid, household: Option<&str>) -> Home {
        Home {
            stairwell,
            household: household_key(household),
        }
    }

    /// Where a service of `volunteer` logged now, started at `started_at`, counts.
    fn served(&self, volunteer: Uuid, started_at: chrono::DateTime<chrono::Utc>) -> Served {
        Served {
            stairwell: self.stairwell,
            month: month_no(local_date(started_at)),
            volunteer,
            household: self.household.clone(),
        }
    }
}

impl SwState {
    fn new(fresh: bool) -> SwState {
        SwState {
            fresh,
            vols: Cached::default(),
            services: Cached::default(),
            entries: EntryMemo::new(fresh),
            issues: Cached::default(),
            stairwells: HashMap::new(),
            rubrics: HashMap::new(),
            inspections: FxMap::default(),
            served: FxMap::default(),
        }
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let mut vids = FxSet::default();
        let mut sids = FxSet::default();
        let mut eids = FxSet::default();
        let mut iids = FxSet::default();
        let mut created = FxSet::default();
        let mut reversal_streams = FxSet::default();
        for ev in events {
            match (&ev.event, ev.stream_kind) {
                (
                    Event::VolunteerRegistered { .. }
                    | Event::VolunteerMoved { .. }
                    | Event::ServiceLogged { .. },
                    Some(StreamKind::Volunteer),
                ) => {
                    vids.insert(ev.stream_id);
                }
                (
                    Event::ServiceVerified {
                        service_id,
                        entry_id,
                        ..
                    },
                    Some(StreamKind::Volunteer),
                ) => {
                    sids.insert(service_id.0);
                    created.insert(entry_id.0);
                }
                (Event::ServiceRejected { service_id, .. }, Some(StreamKind::Volunteer)) => {
                    sids.insert(service_id.0);
                }
                (Event::EntryReversed { reverses, .. }, Some(StreamKind::Volunteer))
                    if !created.contains(&reverses.0) && !self.entries.contains(&reverses.0) =>
                {
                    eids.insert(reverses.0);
                    reversal_streams.insert(ev.stream_id);
                }
                (Event::StairwellIssueResolved { issue_id, .. }, _) => {
                    iids.insert(issue_id.0);
                }
                _ => {}
            }
        }
        if !eids.is_empty() && !self.entries.is_whole() {
            let streams: Vec<String> = reversal_streams
                .iter()
                .map(|v| ledger::ids::volunteer_stream(VolunteerId(*v)))
                .collect();
            let history = read_streams(tx, &streams).await?;
            self.entries.extend(find_entries(&history, &eids));
        }
        if self.fresh {
            // Nothing is stored that is not in memory.
            return Ok(());
        }
        vids.retain(|v| !self.vols.contains(v));
        sids.retain(|v| !self.services.contains(v));
        iids.retain(|v| !self.issues.contains(v));
        for r in tx
            .select_in(
                &names.t("pj_sw_volunteers"),
                "volunteer_id, stairwell_id, household",
                "volunteer_id",
                &key_strings(&vids),
            )
            .await?
        {
            let home = Home {
                stairwell: uuid_col(NAME, &r, 1)?,
                household: r.text(2)?,
            };
            self.vols.loaded(uuid_col(NAME, &r, 0)?, home);
        }
        for r in tx
            .select_in(
                &names.t("pj_sw_services"),
                "service_id, stairwell_id, month, volunteer_id, household",
                "service_id",
                &key_strings(&sids),
            )
            .await?
        {
            let month = r.text(2)?;
            let at = Served {
                stairwell: uuid_col(NAME, &r, 1)?,
                month: parse_month(&month)
                    .ok_or_else(|| ProjectionError::corrupt(NAME, format!("month {month:?}")))?,
                volunteer: uuid_col(NAME, &r, 3)?,
                household: r.text(4)?,
            };
            self.services.loaded(uuid_col(NAME, &r, 0)?, at);
        }
        for r in tx
            .select_in(
                &names.t("pj_sw_issues"),
                "issue_id, stairwell_id, reported_month, resolved_month, deduction",
                "issue_id",
                &key_strings(&iids),
            )
            .await?
        {
            self.issues.loaded(
                uuid_col(NAME, &r, 0)?,
                Issue {
                    stairwell: uuid_col(NAME, &r, 1)?,
                    reported: r.text(2)?,
                    resolved: r.opt_text(3)?,
                    deduction: r.int(4)?,
                },
            );
        }
        Ok(())
    }

    fn fold_events(&mut self, events: &[Envelope]) {
        for ev in events {
            match &ev.event {
                Event::StairwellRegistered {
                    stairwell_id,
                    grid_id,
                    building,
                    unit,
                    households,
                } => {
                    self.stairwells.insert(
                        stairwell_id.0,
                        (
                            ev.stream_id,
                            grid_id.0,
                            building.clone(),
                            unit.clone(),
                            *households as i64,
                        ),
                    );
                }
                Event::RubricSet {
                    version,
                    participation_max,
                    ..
                } => {
                    self.rubrics.insert(
                        (ev.stream_id, *version as i64),
                        hundredths(*participation_max),
                    );
                }
                Event::StairwellInspected {
                    month,
                    scores,
                    rubric_version,
                    ..
                } => {
                    self.inspections.insert(
                        (ev.stream_id, month.clone()),
                        (
                            inspected_items(scores),
                            *rubric_version as i64,
                            ev.position as i64,
                        ),
                    );
                }
                Event::StairwellIssueReported {
                    issue_id,
                    deduction,
                    ..
                } => {
                    self.issues.insert(
                        issue_id.0,
                        Issue {
                            stairwell: ev.stream_id,
                            reported: month_key(local_date(ev.recorded_at)),
                            resolved: None,
                            deduction: hundredths(*deduction),
                        },
                    );
                }
                Event::StairwellIssueResolved { issue_id, .. } => {
                    if let Some(i) = self.issues.get_mut(&issue_id.0) {
                        i.resolved = Some(month_key(local_date(ev.recorded_at)));
                    }
                }
                e if ev.stream_kind == Some(StreamKind::Volunteer) => {
                    let v = ev.stream_id;
                    match e {
                        Event::VolunteerRegistered {
                            stairwell_id,
                            household,
                            ..
                        } => {
                            self.vols
                                .insert(v, Home::new(stairwell_id.0, household.as_deref()));
                        }
                        Event::VolunteerMoved {
                            stairwell_id,
                            household,
                            ..
                        } => {
                            if let Some(h) = self.vols.get_mut(&v) {
                                *h = Home::new(stairwell_id.0, household.as_deref());
                            }
                        }
                        Event::ServiceLogged {
                            service_id,
                            started_at,
                            ..
                        } => {
                            if let Some(h) = self.vols.get(&v) {
                                let at = h.served(v, *started_at);
                                self.services.insert(service_id.0, at);
                            }
                        }
                        Event::ServiceVerified {
                            service_id,
                            entry_id,
                            ..
                        } => {
                            // A service is verified (or rejected) once.
                            if let Some(at) = self.services.remove(&service_id.0) {
                                *self
                                    .served
                                    .entry((
                                        at.stairwell,
                                        at.month,
                                        at.volunteer,
                                        at.household.clone(),
                                    ))
                                    .or_default() += 1;
                                self.entries.remember(entry_id.0, at);
                            }
                        }
                        Event::ServiceRejected { service_id, .. } => {
                            self.services.remove(&service_id.0);
                        }
                        Event::EntryReversed { reverses, .. } => {
                            // An entry is reversed once.
                            if let Some(at) = self.entries.remove(&reverses.0) {
                                *self
                                    .served
                                    .entry((at.stairwell, at.month, at.volunteer, at.household))
                                    .or_default() -= 1;
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let t = names.t("pj_sw_volunteers");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &["volunteer_id", "stairwell_id", "household"],
                key: &["volunteer_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Text],
        );
        for (v, h) in self.vols.take_changed() {
            let row = [
                Val::from(v.to_string()),
                Val::from(h.stairwell.to_string()),
                Val::from(h.household.clone()),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let t_svc = names.t("pj_sw_services");
        let gone: Vec<String> = self
            .services
            .take_gone()
            .iter()
            .map(|k| k.to_string())
            .collect();
        tx.delete_in(&t_svc, "service_id", &gone).await?;
        let mut w = Writer::new(
            Upsert {
                table: &t_svc,
                cols: &[
                    "service_id",
                    "stairwell_id",
                    "month",
                    "volunteer_id",
                    "household",
                ],
                key: &["service_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Text, Kind::Text, Kind::Text],
        );
        for (id, at) in self.services.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(at.stairwell.to_string()),
                Val::from(month_text(at.month)),
                Val::from(at.volunteer.to_string()),
                Val::from(at.household.clone()),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let mut rows = Rows::new(&[
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Int,
        ]);
        let mut list: Vec<_> = self.stairwells.drain().collect();
        list.sort_by_key(|(id, _)| *id);
        for (id, (community, grid, building, unit, households)) in list {
            rows.push([
                Val::from(id.to_string()),
                Val::from(community.to_string()),
                Val::from(grid.to_string()),
                Val::from(building),
                Val::from(unit),
                Val::from(households),
            ]);
        }
        tx.upsert_owned(
            &Upsert {
                table: &names.t("pj_sw_stairwells"),
                cols: &[
                    "stairwell_id",
                    "community_id",
                    "grid_id",
                    "building",
                    "unit",
                    "households",
                ],
                key: &["stairwell_id"],
                on_conflict: OnConflict::Replace,
            },
            rows,
        )
        .await?;
        let mut rows = Rows::new(&[Kind::Text, Kind::Int, Kind::Int]);
        let mut list: Vec<_> = self.rubrics.drain().collect();
        list.sort_by_key(|(k, _)| *k);
        for ((c, version), max) in list {
            rows.push([Val::from(c.to_string()), Val::from(version), Val::from(max)]);
        }
        tx.upsert_owned(
            &Upsert {
                table: &names.t("pj_sw_rubrics"),
                cols: &["community_id", "version", "participation_max"],
                key: &["community_id", "version"],
                on_conflict: OnConflict::Replace,
            },
            rows,
        )
        .await?;
        let mut list: Vec<_> = std::mem::take(&mut self.inspections).into_iter().collect();
        list.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let t = names.t("pj_sw_inspections");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &[
                    "stairwell_id",
                    "month",
                    "items",
                    "rubric_version",
                    "position",
                ],
                key: &["stairwell_id", "month"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Int, Kind::Int, Kind::Int],
        );
        for ((sw, month), (items, version, position)) in list {
            let row = [
                Val::from(sw.to_string()),
                Val::from(month),
                Val::from(items),
                Val::from(version),
                Val::from(position),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let t = names.t("pj_sw_issues");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &[
                    "issue_id",
                    "stairwell_id",
                    "reported_month",
                    "resolved_month",
                    "deduction",
                ],
                key: &["issue_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Text, Kind::Text, Kind::Int],
        );
        for (id, i) in self.issues.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(i.stairwell.to_string()),
                Val::from(i.reported.clone()),
                Val::from(i.resolved.clone()),
                Val::from(i.deduction),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let mut list: Vec<_> = std::mem::take(&mut self.served)
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .collect();
        list.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let t = names.t("pj_sw_served");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &[
                    "stairwell_id",
                    "month",
                    "volunteer_id",
                    "household",
                    "services",
                ],
                key: &["stairwell_id", "month", "volunteer_id", "household"],
                on_conflict: OnConflict::Add(&["services"]),
            },
            &[Kind::Text, Kind::Text, Kind::Text, Kind::Text, Kind::Int],
        );
        for ((s, m, v, h), n) in list {
            let row = [
                Val::from(s.to_string()),
                Val::from(month_text(m)),
                Val::from(v.to_string()),
                Val::from(h),
                Val::from(n),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await
    }
}

impl State for SwState {
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
        map_bytes(&self.served, 16)
            + map_bytes(&self.inspections, 8)
            + map_bytes(&self.stairwells, 32)
            + map_bytes(&self.rubrics, 0)
    }
    fn held(&self) -> usize {
        self.vols.bytes(16) + self.services.bytes(16) + self.entries.bytes() + self.issues.bytes(16)
    }
    fn evict(&mut self) {
        self.vols.evict();
        self.services.evict();
        self.issues.evict();
        self.shed();
        self.fresh = false;
    }
    fn keep_entries(&mut self, reversed: Arc<FxSet<Uuid>>) {
        self.entries.keep_only(reversed);
    }
    fn shed(&mut self) {
        self.entries.forget();
    }
    fn needs_load(&self) -> bool {
        !self.fresh || !self.entries.is_whole()
    }
}

/// A stairwell's score for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StairwellScore {
    pub stairwell_id: StairwellId,
    pub building: String,
    pub unit: String,
    pub households: u32,
    /// "YYYY-MM".
    pub month: String,
    pub items: Decimal,
    /// Households of the stairwell with a volunteer who served that month (a volunteer
    /// with no household given counts as one).
    pub served: u32,
    pub participation: Decimal,
    pub deductions: Decimal,
    pub total: Decimal,
    /// Dense rank within the community for the month.
    pub rank: u64,
    /// The month's 流动红旗 holder.
    pub red_flag: bool,
}

/// A stairwell's average over a quarter or a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StairwellAverage {
    pub stairwell_id: StairwellId,
    pub building: String,
    pub unit: String,
    pub months_scored: u32,
    pub average: Decimal,
    pub rank: u64,
}

struct Sw {
    building: String,
    unit: String,
    households: u32,
}

/// Scores of every stairwell of `community` for each of `months`, ranked per month.
pub async fn scores_for_months(
    db: &Db,
    community: CommunityId,
    months: &[String],
) -> Result<BTreeMap<String, Vec<StairwellScore>>> {
    let mut out = BTreeMap::new();
    let (Some(first), Some(last)) = (months.iter().min(), months.iter().max()) else {
        return Ok(out);
    };
    let c = Val::from(community.0.to_string());
    let parse = |s: String| Uuid::parse_str(&s).map_err(|e| ProjectionError::corrupt(NAME, e));
    let mut sws: HashMap<Uuid, Sw> = HashMap::new();
    for r in db
        .fetch(
            "SELECT stairwell_id, building, unit, households FROM pj_sw_stairwells WHERE community_id = ?",
            std::slice::from_ref(&c),
        )
        .await?
    {
        sws.insert(
            parse(r.text(0)?)?,
            Sw {
                building: r.text(1)?,
                unit: r.text(2)?,
                households: r.int(3)? as u32,
            },
        );
    }
    let mut pmax: HashMap<i64, i64> = HashMap::new();
    for r in db
        .fetch(
            "SELECT version, participation_max FROM pj_sw_rubrics WHERE community_id = ?",
            std::slice::from_ref(&c),
        )
        .await?
    {
        pmax.insert(r.int(0)?, r.int(1)?);
    }
    let range = [c.clone(), Val::from(first.clone()), Val::from(last.clone())];
    let inspections = db
        .fetch(
            "SELECT i.stairwell_id, i.month, i.items, i.rubric_version FROM pj_sw_inspections i
             JOIN pj_sw_stairwells s ON s.stairwell_id = i.stairwell_id
             WHERE s.community_id = ? AND i.month >= ? AND i.month <= ?",
            &range,
        )
        .await?;
    // Distinct households: a volunteer without one ("") is a household of their own.
    let mut served: HashMap<(Uuid, String), u32> = HashMap::new();
    for r in db
        .fetch(
            "SELECT v.stairwell_id, v.month,
                COUNT(DISTINCT CASE WHEN v.household = '' THEN 'v:' || v.volunteer_id ELSE 'h:' || v.household END)
             FROM pj_sw_served v
             JOIN pj_sw_stairwells s ON s.stairwell_id = v.stairwell_id
             WHERE s.community_id = ? AND v.month >= ? AND v.month <= ? AND v.services > 0
             GROUP BY v.stairwell_id, v.month",
            &range,
        )
        .await?
    {
        served.insert((parse(r.text(0)?)?, r.text(1)?), r.int(2)? as u32);
    }
    let mut issues: HashMap<Uuid, Vec<(String, Option<String>, i64)>> = HashMap::new();
    for r in db
        .fetch(
            "SELECT i.stairwell_id, i.reported_month, i.resolved_month, i.deduction FROM pj_sw_issues i
             JOIN pj_sw_stairwells s ON s.stairwell_id = i.stairwell_id
             WHERE s.community_id = ? AND i.reported_month <= ?",
            &[c, Val::from(last.clone())],
        )
        .await?
    {
        issues
            .entry(parse(r.text(0)?)?)
            .or_default()
            .push((r.text(1)?, r.opt_text(2)?, r.int(3)?));
    }
    let wanted: HashSet<&String> = months.iter().collect();
    let default_pmax = DEFAULT_PARTICIPATION_MAX * 100;
    for r in inspections {
        let id = parse(r.text(0)?)?;
        let month = r.text(1)?;
        if !wanted.contains(&month) {
            continue;
        }
        let Some(sw) = sws.get(&id) else { continue };
        let items = r.int(2)?;
        let max = pmax.get(&r.int(3)?).copied().unwrap_or(default_pmax);
        let n = served.get(&(id, month.clone())).copied().unwrap_or(0);
        let part = participation(max, n as u64, sw.households as u64);
        let ded: i64 = issues
            .get(&id)
            .map(|l| {
                l.iter()
                    .filter(|(rep, res, _)| deducted_in(&month, rep, res.as_deref()))
                    .map(|(_, _, d)| *d)
                    .sum()
            })
            .unwrap_or(0);
        out.entry(month.clone())
            .or_insert_with(Vec::new)
            .push(StairwellScore {
                stairwell_id: StairwellId(id),
                building: sw.building.clone(),
                unit: sw.unit.clone(),
                households: sw.households,
                month,
                items: points_dec(items),
                served: n,
                participation: points_dec(part),
                deductions: points_dec(ded),
                total: points_dec(total(items, part, ded)),
                rank: 0,
                red_flag: false,
            });
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| {
            b.total.cmp(&a.total).then_with(|| {
                listing_cmp(
                    (&a.building, &a.unit, a.stairwell_id),
                    (&b.building, &b.unit, b.stairwell_id),
                )
            })
        });
        let mut rank = 0;
        let mut last: Option<Decimal> = None;
        for s in list.iter_mut() {
            if last != Some(s.total) {
                rank += 1;
                last = Some(s.total);
            }
            s.rank = rank;
        }
        if let Some(first) = list.first_mut() {
            first.red_flag = true;
        }
    }
    Ok(out)
}

/// The ranked scores of a community's inspected stairwells for a month ("YYYY-MM").
pub async fn monthly_scores(
    db: &Db,
    community: CommunityId,
    month: &str,
) -> Result<Vec<StairwellScore>> {
    Ok(scores_for_months(db, community, &[month.to_string()])
        .await?
        .remove(month)
        .unwrap_or_default())
}

/// The 流动红旗 holder of each month of a period that has inspections.
pub async fn red_flags(
    db: &Db,
    community: CommunityId,
    period: Period,
) -> Result<Vec<StairwellScore>> {
    let months = period.validate()?.months();
    Ok(scores_for_months(db, community, &months)
        .await?
        .into_values()
        .filter_map(|l| l.into_iter().next())
        .collect())
}

/// The most recent month up to `month` with an inspection in the community, and its
/// red-flag holder.
pub async fn current_red_flag(
    db: &Db,
    community: CommunityId,
    month: &str,
) -> Result<Option<StairwellScore>> {
    let row = db
        .fetch_optional(
            "SELECT MAX(i.month) FROM pj_sw_inspections i JOIN pj_sw_stairwells s ON s.stairwell_id = i.stairwell_id
             WHERE s.community_id = ? AND i.month <= ?",
            &[Val::from(community.0.to_string()), Val::from(month.to_string())],
        )
        .await?;
    let Some(m) = row.map(|r| r.opt_text(0)).transpose()?.flatten() else {
        return Ok(None);
    };
    Ok(monthly_scores(db, community, &m).await?.into_iter().next())
}

/// Average monthly totals over a quarter or a year, ranked.
pub async fn average_scores(
    db: &Db,
    community: CommunityId,
    period: Period,
) -> Result<Vec<StairwellAverage>> {
    let months = period.validate()?.months();
    let by_month = scores_for_months(db, community, &months).await?;
    let mut acc: BTreeMap<StairwellId, (String, String, i64, u32)> = BTreeMap::new();
    for list in by_month.values() {
        for s in list {
            let e = acc
                .entry(s.stairwell_id)
                .or_insert_with(|| (s.building.clone(), s.unit.clone(), 0, 0));
            e.2 += hundredths(s.total);
            e.3 += 1;
        }
    }
    let mut out: Vec<StairwellAverage> = acc
        .into_iter()
        .map(|(id, (b, u, sum, n))| StairwellAverage {
            stairwell_id: id,
            building: b,
            unit: u,
            months_scored: n,
            average: points_dec(div_round(sum as i128, n.max(1) as i128)),
            rank: 0,
        })
        .collect();
    out.sort_by(|a, b| {
        b.average.cmp(&a.average).then_with(|| {
            listing_cmp(
                (&a.building, &a.unit, a.stairwell_id),
                (&b.building, &b.unit, b.stairwell_id),
            )
        })
    });
    let mut rank = 0;
    let mut last = None;
    for s in out.iter_mut() {
        if last != Some(s.average) {
            rank += 1;
            last = Some(s.average);
        }
        s.rank = rank;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scored_participation_is_not_an_item() {
        // Inspections recorded before participation was computed only carried a
        // hand-entered participation score: it must not count twice.
        let scores: std::collections::BTreeMap<String, Decimal> = [
            ("cleanliness", Decimal::from(28)),
            ("clutter", Decimal::from(20)),
            ("fire_safety", Decimal::new(2450, 2)),
            ("participation", Decimal::from(20)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(inspected_items(&scores), 7250);
    }

    #[test]
    fn participation_rule() {
        // 20 × min(1, 3 ÷ (0.3 × 20)) = 20 × 0.5 = 10
        assert_eq!(participation(2000, 3, 20), 1000);
        // 6 of 20 households: 30% reached, full 20
        assert_eq!(participation(2000, 6, 20), 2000);
        assert_eq!(participation(2000, 9, 20), 2000);
        // 1 of 10: 20 × 1/3 = 6.666… → 6.67
        assert_eq!(participation(2000, 1, 10), 667);
        assert_eq!(participation(2000, 0, 10), 0);
        assert_eq!(participation(2000, 5, 0), 0);
    }

    #[test]
    fn total_is_clamped() {
        assert_eq!(total(8000, 2000, 0), 10_000);
        assert_eq!(total(1000, 0, 3000), 0);
        assert_eq!(total(7000, 1000, 500), 7500);
        assert_eq!(total(9000, 2000, 500), 10_000);
    }

    #[test]
    fn open_issue_months() {
        assert!(deducted_in("2024-03", "2024-03", None));
        assert!(!deducted_in("2024-03", "2024-03", Some("2024-03")));
        assert!(deducted_in("2024-03", "2024-02", Some("2024-04")));
        assert!(!deducted_in("2024-03", "2024-04", None));
    }
}
