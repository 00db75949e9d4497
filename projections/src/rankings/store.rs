//! What the rankings read back for a batch (volunteers, services awaiting verification,
//! the keys it may use, the next ids, and the places of reversed entries from their
//! volunteers' streams) and how the changed rows and cells are written.

use super::fold::{find_entries, RankState, Snap, Vol};
use super::keys::{day_of, decode_ids, encode_ids};
use super::scopes_of;
use super::NAME;
use crate::common::{local_date, uuid_col, Attribution, FxMap, FxSet, Period};
use crate::db::{Kind, OnConflict, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{volunteer_histories, Envelope, Names};
use chrono::Datelike;
use ledger::event::Event;
use ledger::ids::StreamKind;
use std::collections::BTreeSet;
use uuid::Uuid;

impl RankState {
    pub(super) async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let mut vids = FxSet::default();
        let mut sids = FxSet::default();
        let mut eids = FxSet::default();
        let mut created = FxSet::default();
        let mut reversal_streams = FxSet::default();
        let mut days = BTreeSet::new();
        for ev in events {
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            match &ev.event {
                e if Attribution::is_attribution_event(e) => {
                    vids.insert(v);
                }
                Event::ServiceLogged { started_at, .. } => {
                    vids.insert(v);
                    days.insert(local_date(*started_at));
                }
                Event::PointsAwarded { entry_id, .. } => {
                    vids.insert(v);
                    created.insert(entry_id.0);
                    days.insert(local_date(ev.recorded_at));
                }
                Event::ServiceVerified {
                    service_id,
                    entry_id,
                    ..
                } => {
                    vids.insert(v);
                    sids.insert(service_id.0);
                    created.insert(entry_id.0);
                    days.insert(local_date(ev.recorded_at));
                }
                Event::ServiceRejected { service_id, .. } => {
                    sids.insert(service_id.0);
                }
                Event::EntryReversed { reverses, .. }
                    if !created.contains(&reverses.0) && !self.entries.contains(&reverses.0) =>
                {
                    eids.insert(reverses.0);
                    reversal_streams.insert(v);
                }
                _ => {}
            }
        }
        // Entries counted in an earlier batch: from their volunteers' history.
        if self.entries.is_whole() {
            eids.clear();
        }
        let found = if eids.is_empty() {
            FxMap::default()
        } else {
            let history = volunteer_histories(tx, &reversal_streams).await?;
            find_entries(&history, &eids)
        };
        vids.extend(found.values().map(|f| f.vol));
        vids.retain(|v| !self.vols.contains(v));
        sids.retain(|s| !self.services.contains(s));
        if self.fresh {
            // Nothing is stored that is not in memory.
            vids.clear();
            sids.clear();
        }
        if !vids.is_empty() {
            let keys = crate::common::key_strings(&vids);
            let rows = tx
                .select_in(
                    &names.t("pj_rank_volunteers"),
                    "volunteer_id, vol, attribution, scopes",
                    "volunteer_id",
                    &keys,
                )
                .await?;
            for r in rows {
                let attribution: Attribution = serde_json::from_str(&r.text(2)?)
                    .map_err(|e| ProjectionError::corrupt(NAME, e))?;
                let vol = Vol {
                    vol: r.int(1)?,
                    attribution,
                    scopes: decode_ids(&r.text(3)?)?,
                };
                self.vols.loaded(uuid_col(NAME, &r, 0)?, vol);
            }
        }
        if !sids.is_empty() {
            let keys = crate::common::key_strings(&sids);
            let rows = tx
                .select_in(
                    &names.t("pj_rank_services"),
                    "service_id, vol, day, scopes",
                    "service_id",
                    &keys,
                )
                .await?;
            for r in rows {
                let snap = Snap {
                    vol: r.int(1)?,
                    day: day_of(r.int(2)?)?,
                    scopes: decode_ids(&r.text(3)?)?,
                };
                self.services.loaded(uuid_col(NAME, &r, 0)?, snap);
            }
        }
        // Period keys of every day this batch may count in, and every scope key its
        // attributions may have.
        for ev in events {
            if let Event::ServiceVerified { service_id, .. } = &ev.event {
                if let Some(s) = self.services.get(&service_id.0) {
                    days.insert(s.day);
                }
            }
        }
        days.extend(found.values().map(|f| f.day));
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for d in days {
            if !self.days.contains_key(&d) {
                wanted.extend(Period::of_day(d).iter().map(|p| p.key()));
            }
        }
        for f in found.values() {
            wanted.extend(f.scopes.iter().cloned());
        }
        let mut attributions: FxMap<Uuid, Option<Attribution>> = FxMap::default();
        for ev in events {
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            if Attribution::is_attribution_event(&ev.event) {
                let a = attributions
                    .entry(v)
                    .or_insert_with(|| self.vols.get(&v).map(|x| x.attribution.clone()));
                Attribution::evolve(a, &ev.event);
                if let Some(a) = a {
                    wanted.extend(scopes_of(a));
                }
            }
        }
        wanted.retain(|k| !self.keys.contains(k));
        if !wanted.is_empty() && !self.fresh {
            let keys: Vec<String> = wanted.into_iter().collect();
            for r in tx
                .select_in(&names.t("pj_rank_keys"), "k, id", "k", &keys)
                .await?
            {
                self.keys.loaded(r.text(0)?, r.int(1)?);
            }
        }
        if self.next.is_none() {
            let rows = tx
                .fetch(
                    &format!(
                        "SELECT (SELECT COALESCE(MAX(id), 0) FROM {}), (SELECT COALESCE(MAX(vol), 0) FROM {})",
                        names.t("pj_rank_keys"),
                        names.t("pj_rank_volunteers")
                    ),
                    &[],
                )
                .await?;
            let r = rows
                .first()
                .ok_or_else(|| ProjectionError::corrupt(NAME, "no maxima"))?;
            self.next = Some((r.int(0)? + 1, r.int(1)? + 1));
        }
        for (entry, f) in found {
            let Some(vol) = self.vols.get(&f.vol).map(|x| x.vol) else {
                continue;
            };
            let scopes = self.scope_ids(f.scopes)?;
            self.entries.insert(
                entry,
                Snap {
                    vol,
                    day: f.day,
                    scopes,
                },
            );
        }
        Ok(())
    }

    pub(super) async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let mut movers: Vec<i64> = self.movers.drain().collect();
        movers.sort_unstable();
        tx.upsert_each(
            &Upsert {
                table: &names.t("pj_rank_movers"),
                cols: &["vol"],
                key: &["vol"],
                on_conflict: OnConflict::Nothing,
            },
            &[Kind::Int],
            movers.into_iter().map(|v| [Val::from(v)]),
        )
        .await?;
        tx.upsert_each(
            &Upsert {
                table: &names.t("pj_rank_keys"),
                cols: &["k", "id"],
                key: &["k"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Int],
            self.keys
                .take_changed()
                .into_iter()
                .map(|(k, id)| [Val::from(k.as_str()), Val::from(*id)])
                .collect::<Vec<_>>(),
        )
        .await?;
        let mut changed: Vec<(&Uuid, &Vol)> = self.vols.take_changed();
        changed.sort_by_key(|(_, v)| v.vol);
        let t_vols = names.t("pj_rank_volunteers");
        let mut w = Writer::new(
            Upsert {
                table: &t_vols,
                cols: &[
                    "vol",
                    "volunteer_id",
                    "volunteer_number",
                    "attribution",
                    "scopes",
                ],
                key: &["vol"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Int, Kind::Text, Kind::Text, Kind::Text, Kind::Text],
        );
        for (id, v) in changed {
            let json = serde_json::to_string(&v.attribution)
                .map_err(|e| ProjectionError::corrupt(NAME, e))?;
            let row = [
                Val::from(v.vol),
                Val::from(id.to_string()),
                Val::from(v.attribution.number.clone()),
                Val::from(json),
                Val::from(encode_ids(&v.scopes)),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let t_svc = names.t("pj_rank_services");
        let gone: Vec<String> = self
            .services
            .take_gone()
            .iter()
            .map(|k| k.to_string())
            .collect();
        tx.delete_in(&t_svc, "service_id", &gone).await?;
        tx.upsert_each(
            &Upsert {
                table: &t_svc,
                cols: &["service_id", "vol", "day", "scopes"],
                key: &["service_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Int, Kind::Int, Kind::Text],
            self.services
                .take_changed()
                .into_iter()
                .map(|(k, s)| {
                    [
                        Val::from(k.to_string()),
                        Val::from(s.vol),
                        Val::from(s.day.num_days_from_ce() as i64),
                        Val::from(encode_ids(&s.scopes)),
                    ]
                })
                .collect::<Vec<_>>(),
        )
        .await?;
        // Cells, one period at a time, in key order.
        let mut periods: Vec<u32> = self.cells.keys().copied().collect();
        periods.sort_unstable();
        let t_cells = names.t("pj_rank_cells");
        let spec = Upsert {
            table: &t_cells,
            cols: &["period", "scope", "vol", "points", "minutes"],
            key: &["period", "scope", "vol"],
            on_conflict: OnConflict::Add(&["points", "minutes"]),
        };
        for p in periods {
            let Some(cells) = self.cells.remove(&p) else {
                continue;
            };
            tx.upsert_each(
                &spec,
                &[Kind::Int; 5],
                cells.take().into_iter().map(|(k, points, minutes)| {
                    [
                        Val::from(p as i64),
                        Val::from((k >> 32) as i64),
                        Val::from((k & 0xffff_ffff) as i64),
                        Val::from(points),
                        Val::from(minutes),
                    ]
                }),
            )
            .await?;
        }
        self.cells = FxMap::default();
        Ok(())
    }
}
