//! The statement's rows in memory between flushes: running balances, lines not yet
//! written, and the text of services logged but not yet verified
//! (`pj_statement_services`, a row from `ServiceLogged` until `ServiceVerified` or
//! `ServiceRejected` takes it away).

use super::fold::{evolve, logged_text, Line, Running};
use super::NAME;
use crate::common::{key_strings, millis, uuid_col, Cached};
use crate::db::{Kind, OnConflict, Tx, Upsert, Val, Writer};
use crate::error::Result;
use crate::projection::{Envelope, Names, State};
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::StreamKind;
use std::collections::HashSet;
use uuid::Uuid;

const COLS: &[&str] = &[
    "volunteer_id",
    "seq",
    "position",
    "event_id",
    "entry_id",
    "kind",
    "points_delta",
    "minutes_delta",
    "points_balance",
    "minutes_balance",
    "reverses",
    "recorded_at",
    "detail",
];

const KINDS: &[Kind] = &[
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Int,
    Kind::Text,
];

/// The statement's rows in memory: running balances, lines not yet written, and the
/// text of services awaiting verification.
pub(super) struct StatementState {
    fresh: bool,
    running: Cached<Uuid, Running>,
    lines: Vec<(Uuid, Line)>,
    services: Cached<Uuid, String>,
}

impl StatementState {
    pub(super) fn new(fresh: bool) -> StatementState {
        StatementState {
            fresh,
            running: Cached::default(),
            lines: Vec::new(),
            services: Cached::default(),
        }
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let mut vids: HashSet<Uuid> = HashSet::new();
        for ev in events {
            if let Some(v) = ev.stream_of(StreamKind::Volunteer) {
                if ev.event.entry_id().is_some() && !self.running.contains(&v) {
                    vids.insert(v);
                }
            }
        }
        for r in tx
            .select_in(
                &names.t("pj_statement_accounts"),
                "volunteer_id, seq, points_balance, minutes_balance",
                "volunteer_id",
                &key_strings(&vids),
            )
            .await?
        {
            let id = uuid_col(NAME, &r, 0)?;
            self.running.loaded(
                id,
                Running {
                    seq: r.int(1)? as u64,
                    points: r.int(2)?,
                    minutes: r.int(3)?,
                },
            );
        }
        self.load_services(tx, names, events).await
    }

    /// The text of services verified or rejected in `events` and logged before them.
    async fn load_services(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let mut ids: HashSet<Uuid> = HashSet::new();
        for ev in events {
            if let Event::ServiceVerified { service_id, .. }
            | Event::ServiceRejected { service_id, .. } = &ev.event
            {
                if !self.services.contains(&service_id.0) {
                    ids.insert(service_id.0);
                }
            }
        }
        for r in tx
            .select_in(
                &names.t("pj_statement_services"),
                "service_id, detail",
                "service_id",
                &key_strings(&ids),
            )
            .await?
        {
            let id = uuid_col(NAME, &r, 0)?;
            self.services.loaded(id, r.text(1)?);
        }
        Ok(())
    }

    fn fold_events(&mut self, events: &[Envelope]) {
        for ev in events {
            if let Some((id, text)) = logged_text(&ev.event) {
                self.services.insert(id.0, text);
            }
            if let Event::ServiceRejected { service_id, .. } = &ev.event {
                self.services.remove(&service_id.0);
            }
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            if ev.event.entry_id().is_none() {
                continue;
            }
            let run = self.running.get_or_insert_with(v, Running::default);
            let services = &mut self.services;
            // A verified service's text is needed once: its line keeps it.
            let text = |id: ledger::ids::ServiceId| services.remove(&id.0).unwrap_or_default();
            if let Some(l) = evolve(run, ev, text) {
                self.lines.push((v, l));
            }
        }
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        self.write_lines(tx, names).await?;
        self.write_accounts(tx, names).await?;
        self.write_services(tx, names).await
    }

    async fn write_services(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let table = names.t("pj_statement_services");
        let gone = key_strings(self.services.take_gone().iter());
        tx.delete_in(&table, "service_id", &gone).await?;
        let mut w = Writer::new(
            Upsert {
                table: &table,
                cols: &["service_id", "detail"],
                key: &["service_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Text],
        );
        for (id, text) in self.services.take_changed() {
            w.push(tx, [Val::from(id.to_string()), Val::from(text.clone())])
                .await?;
        }
        w.finish(tx).await
    }

    async fn write_lines(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let mut lines = std::mem::take(&mut self.lines);
        lines.sort_unstable_by_key(|(_, l)| l.position);
        let t_st = names.t("pj_statement");
        let mut w = Writer::new(
            Upsert {
                table: &t_st,
                cols: COLS,
                key: &["position"],
                on_conflict: OnConflict::Replace,
            },
            KINDS,
        );
        for (v, l) in lines {
            w.push(
                tx,
                [
                    Val::from(v.to_string()),
                    (l.seq as i64).into(),
                    (l.position as i64).into(),
                    Val::from(l.event_id.to_string()),
                    Val::from(l.entry_id.to_string()),
                    Val::from(l.kind),
                    l.points_delta.into(),
                    l.minutes_delta.into(),
                    l.points_balance.into(),
                    l.minutes_balance.into(),
                    Val::from(l.reverses.map(|r| r.to_string())),
                    millis(l.recorded_at).into(),
                    Val::from(l.detail),
                ],
            )
            .await?;
        }
        w.finish(tx).await
    }

    async fn write_accounts(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let t_acc = names.t("pj_statement_accounts");
        let mut w = Writer::new(
            Upsert {
                table: &t_acc,
                cols: &["volunteer_id", "seq", "points_balance", "minutes_balance"],
                key: &["volunteer_id"],
                on_conflict: OnConflict::Replace,
            },
            &[Kind::Text, Kind::Int, Kind::Int, Kind::Int],
        );
        for (id, r) in self.running.take_changed() {
            let row = [
                Val::from(id.to_string()),
                (r.seq as i64).into(),
                r.points.into(),
                r.minutes.into(),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await
    }
}

impl State for StatementState {
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
    fn make_room<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
    ) -> BoxFuture<'a, Result<()>> {
        // The running balances are small and rewritten whole: they can wait.
        Box::pin(self.write_lines(tx, names))
    }
    fn pending(&self) -> usize {
        // A line and its detail text.
        self.lines.capacity() * std::mem::size_of::<(Uuid, Line)>() + self.lines.len() * 48
    }
    fn held(&self) -> usize {
        // A service's text: some 40 bytes on the heap.
        self.running.bytes(0) + self.services.bytes(48)
    }
    fn flush_at(&self) -> usize {
        // Lines are only ever appended: writing them often costs nothing more.
        8 << 20
    }
    fn evict(&mut self) {
        self.running.evict();
        self.services.evict();
        self.fresh = false;
    }
    fn needs_load(&self) -> bool {
        !self.fresh
    }
}
