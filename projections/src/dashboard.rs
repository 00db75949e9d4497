//! The community dashboard: active volunteers, volunteers who served, hours and points
//! this month and this year, services by kind, open wishes and wishes in progress, and
//! the current 流动红旗 stairwell (read from [`crate::stairwells`]).
//!
//! Hours and services count verified services by the (UTC+8) month they started;
//! points count verified-service points by that month and awards by the month they were
//! recorded; a reversal removes its entry from the month the entry was counted in.
//! Active volunteers: registered and not departed. Open wishes: posted or released and
//! not claimed; in progress: claimed or fulfilled but not yet confirmed.

use crate::common::{hours_dec, local_date, month_key, points_dec, Attribution, Kv};
use crate::db::{Db, OnConflict, Tx, Upsert, Val};
use crate::error::Result;
use crate::projection::{kv_table, Envelope, Names, Projection, TableDef};
use crate::stairwells::{current_red_flag, StairwellScore};
use chrono::{Datelike, NaiveDate};
use futures::future::BoxFuture;
use ledger::event::{Event, ServiceKind};
use ledger::ids::{CommunityId, StreamKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

pub const NAME: &str = "dashboard";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_dash_communities",
        columns: "community_id TEXT NOT NULL PRIMARY KEY, active_volunteers BIGINT NOT NULL, open_wishes BIGINT NOT NULL,
            wishes_in_progress BIGINT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_months",
        columns: "community_id TEXT NOT NULL, month TEXT NOT NULL, points BIGINT NOT NULL, minutes BIGINT NOT NULL,
            services BIGINT NOT NULL, PRIMARY KEY (community_id, month)",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_kinds",
        columns: "community_id TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, services BIGINT NOT NULL,
            minutes BIGINT NOT NULL, PRIMARY KEY (community_id, month, kind)",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_served",
        columns: "community_id TEXT NOT NULL, month TEXT NOT NULL, volunteer_id TEXT NOT NULL, services BIGINT NOT NULL,
            PRIMARY KEY (community_id, month, volunteer_id)",
        indexes: &[],
    },
    kv_table("pj_dash_kv_volunteers"),
    kv_table("pj_dash_kv_services"),
    kv_table("pj_dash_kv_entries"),
    kv_table("pj_dash_kv_wishes"),
];

/// Where an entry was counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedAt {
    pub community: Uuid,
    pub month: String,
    pub kind: Option<ServiceKind>,
    pub volunteer: Uuid,
}

/// A wish's place on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishState {
    pub community: Uuid,
    /// open, in_progress or closed.
    pub bucket: String,
}

/// Dashboard bucket of a wish status event.
pub fn wish_bucket(event: &Event) -> Option<&'static str> {
    Some(match event {
        Event::WishPosted { .. } | Event::WishReleased { .. } => "open",
        Event::WishClaimed { .. } | Event::WishFulfilled { .. } => "in_progress",
        Event::WishConfirmed { .. } | Event::WishCancelled { .. } => "closed",
        _ => return None,
    })
}

#[derive(Default)]
struct Deltas {
    communities: HashMap<Uuid, [i64; 3]>,
    months: HashMap<(Uuid, String), [i64; 3]>,
    kinds: HashMap<(Uuid, String, ServiceKind), [i64; 2]>,
    served: HashMap<(Uuid, String, Uuid), i64>,
}

impl Deltas {
    fn entry(&mut self, at: &CountedAt, points: i64, minutes: i64, sign: i64) {
        let m = self
            .months
            .entry((at.community, at.month.clone()))
            .or_default();
        m[0] += points;
        m[1] += minutes;
        if let Some(kind) = at.kind {
            m[2] += sign;
            let k = self
                .kinds
                .entry((at.community, at.month.clone(), kind))
                .or_default();
            k[0] += sign;
            k[1] += minutes;
            *self
                .served
                .entry((at.community, at.month.clone(), at.volunteer))
                .or_default() += sign;
        }
    }
}

/// The dashboard projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Dashboard;

impl Projection for Dashboard {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        1
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
        Box::pin(apply(tx, names, events))
    }
}

async fn apply(tx: &mut Tx<'_>, names: &Names, events: &[Envelope]) -> Result<()> {
    let t_vol = names.t("pj_dash_kv_volunteers");
    let t_svc = names.t("pj_dash_kv_services");
    let t_ent = names.t("pj_dash_kv_entries");
    let t_wish = names.t("pj_dash_kv_wishes");
    let (mut vids, mut sids, mut eids, mut wids) = (
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
    );
    for ev in events {
        match (ev.stream_kind, &ev.event) {
            (Some(StreamKind::Volunteer), Event::ServiceVerified { service_id, .. }) => {
                sids.insert(service_id.0.to_string());
            }
            (Some(StreamKind::Volunteer), Event::EntryReversed { reverses, .. }) => {
                eids.insert(reverses.0.to_string());
            }
            (Some(StreamKind::Volunteer), e)
                if Attribution::is_attribution_event(e)
                    || matches!(e, Event::ServiceLogged { .. } | Event::PointsAwarded { .. }) =>
            {
                vids.insert(ev.stream_id.to_string());
            }
            (Some(StreamKind::Wish), e) if wish_bucket(e).is_some() => {
                wids.insert(ev.stream_id.to_string());
            }
            _ => {}
        }
    }
    if vids.is_empty() && sids.is_empty() && eids.is_empty() && wids.is_empty() {
        return Ok(());
    }
    let mut vols: Kv<Attribution> = Kv::load(tx, &t_vol, &vids).await?;
    let mut svcs: Kv<CountedAt> = Kv::load(tx, &t_svc, &sids).await?;
    let mut ents: Kv<(CountedAt, i64, i64)> = Kv::load(tx, &t_ent, &eids).await?;
    let mut wishes: Kv<WishState> = Kv::load(tx, &t_wish, &wids).await?;
    let mut d = Deltas::default();
    for ev in events {
        let key = ev.stream_id.to_string();
        match (ev.stream_kind, &ev.event) {
            (Some(StreamKind::Volunteer), e) if Attribution::is_attribution_event(e) => {
                let mut a = vols.get(&key).cloned();
                let was_active = a.as_ref().map(|a| (a.community, !a.departed));
                Attribution::evolve(&mut a, e);
                if let Some(a) = a {
                    let now_active = (a.community, !a.departed);
                    if let Some((c, true)) = was_active {
                        d.communities.entry(c).or_default()[0] -= 1;
                    }
                    if now_active.1 {
                        d.communities.entry(now_active.0).or_default()[0] += 1;
                    }
                    vols.insert(key, a);
                }
            }
            (
                Some(StreamKind::Volunteer),
                Event::ServiceLogged {
                    service_id,
                    kind,
                    started_at,
                    ..
                },
            ) => {
                if let Some(a) = vols.get(&key) {
                    svcs.insert(
                        service_id.0.to_string(),
                        CountedAt {
                            community: a.community,
                            month: month_key(local_date(*started_at)),
                            kind: Some(*kind),
                            volunteer: ev.stream_id,
                        },
                    );
                }
            }
            (
                Some(StreamKind::Volunteer),
                Event::ServiceVerified {
                    service_id,
                    entry_id,
                    hours,
                    points,
                    ..
                },
            ) => {
                if let Some(at) = svcs.get(&service_id.0.to_string()).cloned() {
                    d.entry(&at, points.hundredths(), hours.minutes(), 1);
                    ents.insert(
                        entry_id.0.to_string(),
                        (at, points.hundredths(), hours.minutes()),
                    );
                }
            }
            (
                Some(StreamKind::Volunteer),
                Event::PointsAwarded {
                    entry_id, points, ..
                },
            ) => {
                if let Some(a) = vols.get(&key) {
                    let at = CountedAt {
                        community: a.community,
                        month: month_key(local_date(ev.recorded_at)),
                        kind: None,
                        volunteer: ev.stream_id,
                    };
                    d.entry(&at, points.hundredths(), 0, 1);
                    ents.insert(entry_id.0.to_string(), (at, points.hundredths(), 0));
                }
            }
            (
                Some(StreamKind::Volunteer),
                Event::EntryReversed {
                    reverses,
                    points,
                    hours,
                    ..
                },
            ) => {
                if let Some((at, _, _)) = ents.get(&reverses.0.to_string()).cloned() {
                    d.entry(&at, -points.hundredths(), -hours.minutes(), -1);
                }
            }
            (Some(StreamKind::Wish), e) => {
                let Some(bucket) = wish_bucket(e) else {
                    continue;
                };
                let before = wishes.get(&key).cloned();
                let community = match (e, &before) {
                    (Event::WishPosted { community_id, .. }, _) => community_id.0,
                    (_, Some(w)) => w.community,
                    (_, None) => continue,
                };
                let idx = |b: &str| match b {
                    "open" => Some(1),
                    "in_progress" => Some(2),
                    _ => None,
                };
                let c = d.communities.entry(community).or_default();
                if let Some(i) = before.as_ref().and_then(|w| idx(&w.bucket)) {
                    c[i] -= 1;
                }
                if let Some(i) = idx(bucket) {
                    c[i] += 1;
                }
                wishes.insert(
                    key,
                    WishState {
                        community,
                        bucket: bucket.to_string(),
                    },
                );
            }
            _ => {}
        }
    }
    vols.flush(tx, &t_vol).await?;
    svcs.flush(tx, &t_svc).await?;
    ents.flush(tx, &t_ent).await?;
    wishes.flush(tx, &t_wish).await?;
    let rows = d
        .communities
        .into_iter()
        .map(|(c, v)| {
            vec![
                Val::from(c.to_string()),
                v[0].into(),
                v[1].into(),
                v[2].into(),
            ]
        })
        .collect();
    tx.upsert(
        &Upsert {
            table: &names.t("pj_dash_communities"),
            cols: &[
                "community_id",
                "active_volunteers",
                "open_wishes",
                "wishes_in_progress",
            ],
            key: &["community_id"],
            on_conflict: OnConflict::Add(&[
                "active_volunteers",
                "open_wishes",
                "wishes_in_progress",
            ]),
        },
        rows,
    )
    .await?;
    let rows = d
        .months
        .into_iter()
        .map(|((c, m), v)| {
            vec![
                Val::from(c.to_string()),
                Val::from(m),
                v[0].into(),
                v[1].into(),
                v[2].into(),
            ]
        })
        .collect();
    tx.upsert(
        &Upsert {
            table: &names.t("pj_dash_months"),
            cols: &["community_id", "month", "points", "minutes", "services"],
            key: &["community_id", "month"],
            on_conflict: OnConflict::Add(&["points", "minutes", "services"]),
        },
        rows,
    )
    .await?;
    let rows = d
        .kinds
        .into_iter()
        .map(|((c, m, k), v)| {
            vec![
                Val::from(c.to_string()),
                Val::from(m),
                Val::from(k.as_str()),
                v[0].into(),
                v[1].into(),
            ]
        })
        .collect();
    tx.upsert(
        &Upsert {
            table: &names.t("pj_dash_kinds"),
            cols: &["community_id", "month", "kind", "services", "minutes"],
            key: &["community_id", "month", "kind"],
            on_conflict: OnConflict::Add(&["services", "minutes"]),
        },
        rows,
    )
    .await?;
    let rows = d
        .served
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((c, m, v), n)| {
            vec![
                Val::from(c.to_string()),
                Val::from(m),
                Val::from(v.to_string()),
                n.into(),
            ]
        })
        .collect();
    tx.upsert(
        &Upsert {
            table: &names.t("pj_dash_served"),
            cols: &["community_id", "month", "volunteer_id", "services"],
            key: &["community_id", "month", "volunteer_id"],
            on_conflict: OnConflict::Add(&["services"]),
        },
        rows,
    )
    .await
}

/// Services of one kind in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCount {
    pub kind: String,
    pub services: u64,
    pub hours: Decimal,
}

/// Totals of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PeriodTotals {
    pub hours: Decimal,
    pub points: Decimal,
    pub services: u64,
    /// Volunteers with a verified service in the period.
    pub volunteers_served: u64,
    pub by_kind: Vec<KindCount>,
}

/// A community's dashboard as of `today`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityDashboard {
    pub community_id: CommunityId,
    pub active_volunteers: u64,
    pub open_wishes: u64,
    pub wishes_in_progress: u64,
    /// "YYYY-MM" of `today`.
    pub month: String,
    pub this_month: PeriodTotals,
    pub this_year: PeriodTotals,
    /// The red-flag holder of the latest inspected month up to this month.
    pub red_flag: Option<StairwellScore>,
}

async fn totals(db: &Db, community: CommunityId, from: &str, to: &str) -> Result<PeriodTotals> {
    let vals = [
        Val::from(community.0.to_string()),
        Val::from(from.to_string()),
        Val::from(to.to_string()),
    ];
    let mut t = PeriodTotals::default();
    let (mut points, mut minutes) = (0i64, 0i64);
    for r in db
        .fetch(
            "SELECT points, minutes, services FROM pj_dash_months WHERE community_id = ? AND month >= ? AND month <= ?",
            &vals,
        )
        .await?
    {
        points += r.int(0)?;
        minutes += r.int(1)?;
        t.services += r.int(2)?.max(0) as u64;
    }
    t.points = points_dec(points);
    t.hours = hours_dec(minutes);
    let mut kinds: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in db
        .fetch(
            "SELECT kind, services, minutes FROM pj_dash_kinds WHERE community_id = ? AND month >= ? AND month <= ?",
            &vals,
        )
        .await?
    {
        let e = kinds.entry(r.text(0)?).or_default();
        e.0 += r.int(1)?;
        e.1 += r.int(2)?;
    }
    t.by_kind = kinds
        .into_iter()
        .filter(|(_, (n, _))| *n > 0)
        .map(|(kind, (n, m))| KindCount {
            kind,
            services: n as u64,
            hours: hours_dec(m),
        })
        .collect();
    t.volunteers_served = db
        .fetch_optional(
            "SELECT COUNT(DISTINCT volunteer_id) FROM pj_dash_served
             WHERE community_id = ? AND month >= ? AND month <= ? AND services > 0",
            &vals,
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0) as u64;
    Ok(t)
}

/// The dashboard of `community` for the month and year of `today` (UTC+8 calendar).
pub async fn dashboard(
    db: &Db,
    community: CommunityId,
    today: NaiveDate,
) -> Result<CommunityDashboard> {
    let month = month_key(today);
    let year_from = format!("{:04}-01", today.year());
    let year_to = format!("{:04}-12", today.year());
    let row = db
        .fetch_optional(
            "SELECT active_volunteers, open_wishes, wishes_in_progress FROM pj_dash_communities WHERE community_id = ?",
            &[Val::from(community.0.to_string())],
        )
        .await?;
    let (active, open, in_progress) = match row {
        Some(r) => (r.int(0)?, r.int(1)?, r.int(2)?),
        None => (0, 0, 0),
    };
    Ok(CommunityDashboard {
        community_id: community,
        active_volunteers: active.max(0) as u64,
        open_wishes: open.max(0) as u64,
        wishes_in_progress: in_progress.max(0) as u64,
        this_month: totals(db, community, &month, &month).await?,
        this_year: totals(db, community, &year_from, &year_to).await?,
        red_flag: current_red_flag(db, community, &month).await?,
        month,
    })
}
