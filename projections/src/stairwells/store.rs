//! What the stairwells read back for a batch (volunteers' homes, services awaiting
//! verification, issues, and the places of reversed entries from their volunteers'
//! streams) and how the changed rows are written.

use super::fold::{find_entries, Home, Issue, Served, SwState};
use super::NAME;
use crate::common::{key_strings, month_text, parse_month, uuid_col, FxSet};
use crate::db::{Kind, OnConflict, Rows, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{volunteer_histories, Envelope, Names};
use ledger::event::Event;
use ledger::ids::StreamKind;

impl SwState {
    pub(super) async fn load_rows(
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
                    | Event::VolunteerTransferred(_)
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
            let history = volunteer_histories(tx, &reversal_streams).await?;
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

    pub(super) async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
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
