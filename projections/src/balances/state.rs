//! The balances' rows in memory: accounts read back for a batch, folded, and the changed
//! accounts and new threshold versions written.

use super::account::{evolve, is_account_event, Account};
use super::rows::{account_from_row, account_row, encode_thresholds, COLS, SELECT, TEXT_COLS};
use super::stars::ThresholdVersion;
use crate::common::{key_strings, Cached};
use crate::db::{Kind, OnConflict, Rows, Tx, Upsert, Val, Writer};
use crate::error::Result;
use crate::projection::{Envelope, Names, State};
use chrono::Datelike;
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::StreamKind;
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// The balances' rows in memory.
pub(super) struct BalanceState {
    fresh: bool,
    accounts: Cached<Uuid, Account>,
    /// Threshold versions set since the last flush: (community, version) → version.
    versions: BTreeMap<(Uuid, u32), ThresholdVersion>,
}

impl BalanceState {
    pub(super) fn new(fresh: bool) -> BalanceState {
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
                    points,
                },
            ) = (ev.stream_of(StreamKind::Community), &ev.event)
            {
                self.versions.insert(
                    (c, *version),
                    ThresholdVersion {
                        version: *version,
                        effective_from: *effective_from,
                        minutes: thresholds.iter().map(|h| h.minutes()).collect(),
                        points: points
                            .as_ref()
                            .map(|p| p.iter().map(|x| x.hundredths()).collect()),
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
            evolve(self.accounts.get_or_insert_with(v, Account::default), ev);
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
                Val::from(encode_thresholds(&v.minutes, v.points.as_deref())),
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
