//! What the dashboard reads back for a batch (volunteers, services awaiting
//! verification, wishes, and the places of reversed entries from their volunteers'
//! streams) and how the changed rows and the count deltas are written.

use super::fold::{bucket_no, bucket_text, find_entries, At, DVol, DashState};
use super::{wish_bucket, NAME};
use crate::common::{key_strings, month_text, parse_month, uuid_col, Attribution, FxSet};
use crate::db::{Kind, OnConflict, Rows, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{volunteer_histories, Envelope, Names};
use ledger::event::{Event, ServiceKind};
use ledger::ids::StreamKind;

impl DashState {
    pub(super) async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let (mut vids, mut sids, mut eids, mut wids) = (
            FxSet::default(),
            FxSet::default(),
            FxSet::default(),
            FxSet::default(),
        );
        let mut created = FxSet::default();
        let mut reversal_streams = FxSet::default();
        for ev in events {
            match (ev.stream_kind, &ev.event) {
                (
                    Some(StreamKind::Volunteer),
                    Event::ServiceVerified {
                        service_id,
                        entry_id,
                        ..
                    },
                ) => {
                    sids.insert(service_id.0);
                    created.insert(entry_id.0);
                }
                (Some(StreamKind::Volunteer), Event::ServiceRejected { service_id, .. }) => {
                    sids.insert(service_id.0);
                }
                (Some(StreamKind::Volunteer), Event::EntryReversed { reverses, .. })
                    if !created.contains(&reverses.0) && !self.entries.contains(&reverses.0) =>
                {
                    eids.insert(reverses.0);
                    reversal_streams.insert(ev.stream_id);
                }
                (Some(StreamKind::Volunteer), e)
                    if Attribution::is_attribution_event(e)
                        || matches!(
                            e,
                            Event::ServiceLogged { .. } | Event::PointsAwarded { .. }
                        ) =>
                {
                    vids.insert(ev.stream_id);
                    if let Event::PointsAwarded { entry_id, .. } = e {
                        created.insert(entry_id.0);
                    }
                }
                (Some(StreamKind::Wish), e) if wish_bucket(e).is_some() => {
                    wids.insert(ev.stream_id);
                }
                _ => {}
            }
        }
        if !eids.is_empty() && !self.entries.is_whole() {
            let history = volunteer_histories(tx, &reversal_streams).await?;
            self.entries.extend(find_entries(&history, &eids));
        }
        if self.fresh {
            // Nothing is stored that is not in memory.
            return Ok(());
        }
        vids.retain(|v| !self.vols.contains(v));
        sids.retain(|v| !self.services.contains(v));
        wids.retain(|v| !self.wishes.contains(v));
        for r in tx
            .select_in(
                &names.t("pj_dash_volunteers"),
                "volunteer_id, community_id, departed",
                "volunteer_id",
                &key_strings(&vids),
            )
            .await?
        {
            self.vols.loaded(
                uuid_col(NAME, &r, 0)?,
                DVol {
                    community: uuid_col(NAME, &r, 1)?,
                    departed: r.int(2)? != 0,
                },
            );
        }
        for r in tx
            .select_in(
                &names.t("pj_dash_services"),
                "service_id, community_id, month, kind, volunteer_id",
                "service_id",
                &key_strings(&sids),
            )
            .await?
        {
            let month = r.text(2)?;
            let at = At {
                community: uuid_col(NAME, &r, 1)?,
                month: parse_month(&month)
                    .ok_or_else(|| ProjectionError::corrupt(NAME, format!("month {month:?}")))?,
                kind: r.opt_text(3)?.and_then(|k| ServiceKind::parse(&k)),
                volunteer: uuid_col(NAME, &r, 4)?,
            };
            self.services.loaded(uuid_col(NAME, &r, 0)?, at);
        }
        for r in tx
            .select_in(
                &names.t("pj_dash_wishes"),
                "wish_id, community_id, bucket",
                "wish_id",
                &key_strings(&wids),
            )
            .await?
        {
            self.wishes.loaded(
                uuid_col(NAME, &r, 0)?,
                (uuid_col(NAME, &r, 1)?, bucket_no(&r.text(2)?)),
            );
        }
        Ok(())
    }

    pub(super) async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let t = names.t("pj_dash_volunteers");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &["volunteer_id", "community_id", "departed"],
                key: &["volunteer_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Int],
        );
        for (v, a) in self.vols.take_changed() {
            let row = [
                Val::from(v.to_string()),
                Val::from(a.community.to_string()),
                Val::from(i64::from(a.departed)),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let t_svc = names.t("pj_dash_services");
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
                    "community_id",
                    "month",
                    "kind",
                    "volunteer_id",
                ],
                key: &["service_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Text, Kind::Text, Kind::Text],
        );
        for (id, at) in self.services.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(at.community.to_string()),
                Val::from(month_text(at.month)),
                Val::from(at.kind.map(|k| k.as_str().to_string())),
                Val::from(at.volunteer.to_string()),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let t = names.t("pj_dash_wishes");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &["wish_id", "community_id", "bucket"],
                key: &["wish_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text, Kind::Text],
        );
        for (id, (c, b)) in self.wishes.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(c.to_string()),
                Val::from(bucket_text(*b)),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let d = std::mem::take(&mut self.d);
        let mut list: Vec<_> = d.communities.into_iter().collect();
        list.sort_by_key(|(c, _)| *c);
        let mut rows = Rows::new(&[Kind::Text, Kind::Int, Kind::Int, Kind::Int]);
        for (c, v) in list {
            rows.push([
                Val::from(c.to_string()),
                v[0].into(),
                v[1].into(),
                v[2].into(),
            ]);
        }
        tx.upsert_owned(
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
        let mut list: Vec<_> = d.months.into_iter().collect();
        list.sort_by_key(|(k, _)| *k);
        let mut rows = Rows::new(&[Kind::Text, Kind::Text, Kind::Int, Kind::Int, Kind::Int]);
        for ((c, m), v) in list {
            rows.push([
                Val::from(c.to_string()),
                Val::from(month_text(m)),
                v[0].into(),
                v[1].into(),
                v[2].into(),
            ]);
        }
        tx.upsert_owned(
            &Upsert {
                table: &names.t("pj_dash_months"),
                cols: &["community_id", "month", "points", "minutes", "services"],
                key: &["community_id", "month"],
                on_conflict: OnConflict::Add(&["points", "minutes", "services"]),
            },
            rows,
        )
        .await?;
        let mut list: Vec<_> = d.kinds.into_iter().collect();
        list.sort_by_key(|(k, _)| *k);
        let mut rows = Rows::new(&[Kind::Text, Kind::Text, Kind::Text, Kind::Int, Kind::Int]);
        for ((c, m, k), v) in list {
            rows.push([
                Val::from(c.to_string()),
                Val::from(month_text(m)),
                Val::from(k.as_str()),
                v[0].into(),
                v[1].into(),
            ]);
        }
        tx.upsert_owned(
            &Upsert {
                table: &names.t("pj_dash_kinds"),
                cols: &["community_id", "month", "kind", "services", "minutes"],
                key: &["community_id", "month", "kind"],
                on_conflict: OnConflict::Add(&["services", "minutes"]),
            },
            rows,
        )
        .await?;
        let mut list: Vec<_> = d.served.into_iter().filter(|(_, n)| *n != 0).collect();
        list.sort_unstable_by_key(|(k, _)| *k);
        super::active::write(tx, names, &list).await?;
        let t = names.t("pj_dash_served");
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: &["community_id", "month", "volunteer_id", "services"],
                key: &["community_id", "month", "volunteer_id"],
                on_conflict: OnConflict::Add(&["services"]),
            },
            &[Kind::Text, Kind::Text, Kind::Text, Kind::Int],
        );
        for ((c, m, v), n) in list {
            let row = [
                Val::from(c.to_string()),
                Val::from(month_text(m)),
                Val::from(v.to_string()),
                n.into(),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await
    }
}
