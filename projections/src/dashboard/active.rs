//! The volunteers who served in each period (活跃志愿者), kept as counts: a street's
//! table reads one row per community instead of counting distinct volunteers over
//! every (month, volunteer) of the period.
//!
//! `pj_dash_active_vols` keeps, per community, period and volunteer, how many services
//! count there; `pj_dash_active` how many volunteers have at least one. A batch's
//! changes of the monthly served counts are spread over the periods of their month
//! (all time, the year, the quarter, the month), the stored counts are read for those
//! keys, and a volunteer who goes from none to some (or back) moves the period's count.

use super::NAME;
use crate::common::Period;
use crate::db::{Kind, OnConflict, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::Names;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Writes the changes `served` ((community, month number, volunteer) → services) makes
/// to the periods' active volunteers.
pub(super) async fn write(
    tx: &mut Tx<'_>,
    names: &Names,
    served: &[((Uuid, i32, Uuid), i64)],
) -> Result<()> {
    let mut deltas: BTreeMap<String, (Uuid, String, i64)> = BTreeMap::new();
    for ((c, m, v), n) in served {
        let day = NaiveDate::from_ymd_opt(m.div_euclid(12), (m.rem_euclid(12) + 1) as u32, 1)
            .ok_or_else(|| ProjectionError::corrupt(NAME, format!("month {m}")))?;
        for p in Period::of_day(day) {
            let p = p.key();
            let e = deltas.entry(format!("{c}|{p}|{v}")).or_insert((*c, p, 0));
            e.2 += n;
        }
    }
    deltas.retain(|_, (_, _, n)| *n != 0);
    if deltas.is_empty() {
        return Ok(());
    }
    let t_vols = names.t("pj_dash_active_vols");
    let keys: Vec<String> = deltas.keys().cloned().collect();
    let mut before: HashMap<String, i64> = HashMap::new();
    for r in tx.select_in(&t_vols, "k, services", "k", &keys).await? {
        before.insert(r.text(0)?, r.int(1)?);
    }
    let mut counts: BTreeMap<(Uuid, String), i64> = BTreeMap::new();
    let mut w = Writer::new(
        Upsert {
            table: &t_vols,
            cols: &["k", "services"],
            key: &["k"],
            on_conflict: OnConflict::Add(&["services"]),
        },
        &[Kind::Text, Kind::Int],
    );
    for (k, (c, p, n)) in deltas {
        let was = before.get(&k).copied().unwrap_or(0);
        let change = i64::from(was + n > 0) - i64::from(was > 0);
        if change != 0 {
            *counts.entry((c, p)).or_default() += change;
        }
        w.push(tx, [Val::from(k), n.into()]).await?;
    }
    w.finish(tx).await?;
    let t = names.t("pj_dash_active");
    let mut w = Writer::new(
        Upsert {
            table: &t,
            cols: &["community_id", "period", "volunteers"],
            key: &["community_id", "period"],
            on_conflict: OnConflict::Add(&["volunteers"]),
        },
        &[Kind::Text, Kind::Text, Kind::Int],
    );
    for ((c, p), n) in counts {
        w.push(tx, [Val::from(c.to_string()), Val::from(p), n.into()])
            .await?;
    }
    w.finish(tx).await
}
