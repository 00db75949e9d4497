//! Statement per volunteer (对账单): every ledger entry with the running points and
//! hours balances after it, each linked to its event (log position and event id);
//! reversals name the entry they reverse, and an entry shows the reversal that undid
//! it. Paginated by cursor (the entry's sequence number in the account).

use crate::common::{from_millis, hours_dec, key_strings, millis, points_dec, Cached};
use crate::db::{Db, Kind, OnConflict, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::{EntryId, StreamKind, VolunteerId};
use rust_decimal::Decimal;
use std::collections::HashSet;
use uuid::Uuid;

pub const NAME: &str = "statement";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_statement",
        columns: "volunteer_id TEXT NOT NULL, seq BIGINT NOT NULL, position BIGINT NOT NULL, event_id TEXT NOT NULL,
            entry_id TEXT NOT NULL, kind TEXT NOT NULL, points_delta BIGINT NOT NULL, minutes_delta BIGINT NOT NULL,
            points_balance BIGINT NOT NULL, minutes_balance BIGINT NOT NULL, reverses TEXT, recorded_at BIGINT NOT NULL,
            detail TEXT NOT NULL, PRIMARY KEY (position)",
        // Keyed by the position of the line's event (one line per event), so lines are
        // only ever appended; a volunteer's statement is read through the first index.
        // Only reversals have `reverses`: the second index skips every other line.
        indexes: &[
            "(volunteer_id, seq)",
            "(reverses) WHERE reverses IS NOT NULL",
        ],
    },
    TableDef {
        name: "pj_statement_accounts",
        columns: "volunteer_id TEXT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL, points_balance BIGINT NOT NULL,
            minutes_balance BIGINT NOT NULL",
        indexes: &[],
    },
];

/// The running state of one account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Running {
    pub seq: u64,
    pub points: i64,
    pub minutes: i64,
}

/// One statement line, in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub seq: u64,
    pub position: u64,
    pub event_id: Uuid,
    pub entry_id: Uuid,
    pub kind: &'static str,
    pub points_delta: i64,
    pub minutes_delta: i64,
    pub points_balance: i64,
    pub minutes_balance: i64,
    pub reverses: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub detail: String,
}

/// A ledger entry: (entry id, kind, points delta, minutes delta, reversed entry, detail).
pub type EntryParts = (Uuid, &'static str, i64, i64, Option<Uuid>, String);

/// The entry an event writes to a statement, if it is a ledger entry.
pub fn entry_of(event: &Event) -> Option<EntryParts> {
    Some(match event {
        Event::ServiceVerified {
            entry_id,
            hours,
            points,
            service_id,
            ..
        } => (
            entry_id.0,
            "service_verified",
            points.hundredths(),
            hours.minutes(),
            None,
            format!("service {service_id}"),
        ),
        Event::PointsAwarded {
            entry_id,
            points,
            reason,
            ..
        } => (
            entry_id.0,
            "points_awarded",
            points.hundredths(),
            0,
            None,
            reason.clone(),
        ),
        Event::PointsRedeemed {
            entry_id,
            points,
            item,
            ..
        } => (
            entry_id.0,
            "points_redeemed",
            -points.hundredths(),
            0,
            None,
            item.clone(),
        ),
        Event::EntryReversed {
            entry_id,
            reverses,
            points,
            hours,
            reason,
            ..
        } => (
            entry_id.0,
            "entry_reversed",
            -points.hundredths(),
            -hours.minutes(),
            Some(reverses.0),
            reason.clone(),
        ),
        Event::HoursGifted {
            entry_id,
            to,
            hours,
        } => (
            entry_id.0,
            "hours_gifted",
            0,
            -hours.minutes(),
            None,
            format!("to {to}"),
        ),
        Event::HoursReceived {
            entry_id,
            from,
            hours,
        } => (
            entry_id.0,
            "hours_received",
            0,
            hours.minutes(),
            None,
            format!("from {from}"),
        ),
        Event::HoursSpent {
            entry_id,
            hours,
            description,
        } => (
            entry_id.0,
            "hours_spent",
            0,
            -hours.minutes(),
            None,
            description.clone(),
        ),
        _ => return None,
    })
}

/// Appends an event's entry to an account: the pure fold.
pub fn evolve(run: &mut Running, ev: &Envelope) -> Option<Line> {
    let (entry_id, kind, dp, dm, reverses, detail) = entry_of(&ev.event)?;
    run.seq += 1;
    run.points += dp;
    run.minutes += dm;
    Some(Line {
        seq: run.seq,
        position: ev.position,
        event_id: ev.event_id,
        entry_id,
        kind,
        points_delta: dp,
        minutes_delta: dm,
        points_balance: run.points,
        minutes_balance: run.minutes,
        reverses,
        recorded_at: ev.recorded_at,
        detail,
    })
}

/// The statement projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Statement;

impl Projection for Statement {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        2
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
            Box::new(StatementState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(StatementState::new(fresh)))
    }
}

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

/// The statement's rows in memory: running balances, and lines not yet written.
struct StatementState {
    fresh: bool,
    running: Cached<Uuid, Running>,
    lines: Vec<(Uuid, Line)>,
}

impl StatementState {
    fn new(fresh: bool) -> StatementState {
        StatementState {
            fresh,
            running: Cached::default(),
            lines: Vec::new(),
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
            let id = Uuid::parse_str(&r.text(0)?).map_err(|e| ProjectionError::corrupt(NAME, e))?;
            self.running.loaded(
                id,
                Running {
                    seq: r.int(1)? as u64,
                    points: r.int(2)?,
                    minutes: r.int(3)?,
                },
            );
        }
        Ok(())
    }

    fn fold_events(&mut self, events: &[Envelope]) {
        for ev in events {
            let Some(v) = ev.stream_of(StreamKind::Volunteer) else {
                continue;
            };
            if ev.event.entry_id().is_none() {
                continue;
            }
            if !self.running.contains(&v) {
                self.running.insert(v, Running::default());
            }
            if let Some(run) = self.running.get_mut(&v) {
                if let Some(l) = evolve(run, ev) {
                    self.lines.push((v, l));
                }
            }
        }
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        self.write_lines(tx, names).await?;
        self.write_accounts(tx, names).await
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
        self.running.bytes(0)
    }
    fn flush_at(&self) -> usize {
        // Lines are only ever appended: writing them often costs nothing more.
        8 << 20
    }
    fn evict(&mut self) {
        self.running.evict();
        self.fresh = false;
    }
    fn needs_load(&self) -> bool {
        !self.fresh
    }
}

/// One line of a statement, in exact decimals.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementEntry {
    /// The cursor: 1 for the account's first entry.
    pub seq: u64,
    /// The event that wrote the entry.
    pub position: u64,
    pub event_id: Uuid,
    pub entry_id: EntryId,
    /// service_verified, points_awarded, points_redeemed, entry_reversed, hours_gifted,
    /// hours_received, hours_spent.
    pub kind: String,
    pub points_delta: Decimal,
    pub hours_delta: Decimal,
    pub points_balance: Decimal,
    pub hours_balance: Decimal,
    /// For a reversal: the entry it reverses.
    pub reverses: Option<EntryId>,
    /// For a reversed entry: the reversal.
    pub reversed_by: Option<EntryId>,
    pub recorded_at: DateTime<Utc>,
    /// Reason, item, description or counterparty.
    pub detail: String,
}

/// A page of a statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementPage {
    pub entries: Vec<StatementEntry>,
    /// Pass as `after` (or `before` when newest first) for the next page.
    pub next_cursor: Option<u64>,
}

/// Which way a statement is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    OldestFirst,
    NewestFirst,
}

/// A page of a volunteer's statement: entries after the cursor (oldest first) or before
/// it (newest first), at most `limit` (capped at 500).
pub async fn statement(
    db: &Db,
    volunteer: VolunteerId,
    cursor: Option<u64>,
    limit: u32,
    order: Order,
) -> Result<StatementPage> {
    let limit = limit.clamp(1, 500) as i64;
    let (cond, ord, cur) = match order {
        Order::OldestFirst => ("s.seq > ?", "ASC", cursor.unwrap_or(0) as i64),
        Order::NewestFirst => (
            "s.seq < ?",
            "DESC",
            cursor.map(|c| c as i64).unwrap_or(i64::MAX),
        ),
    };
    let rows = db
        .fetch(
            &format!(
                "SELECT s.seq, s.position, s.event_id, s.entry_id, s.kind, s.points_delta, s.minutes_delta,
                        s.points_balance, s.minutes_balance, s.reverses, s.recorded_at, s.detail,
                        (SELECT r.entry_id FROM pj_statement r WHERE r.reverses = s.entry_id LIMIT 1)
                 FROM pj_statement s WHERE s.volunteer_id = ? AND {cond}
                 ORDER BY s.seq {ord} LIMIT ?"
            ),
            &[Val::from(volunteer.0.to_string()), cur.into(), (limit + 1).into()],
        )
        .await?;
    let parse = |s: String| Uuid::parse_str(&s).map_err(|e| ProjectionError::corrupt(NAME, e));
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows.iter().take(limit as usize) {
        entries.push(StatementEntry {
            seq: r.int(0)? as u64,
            position: r.int(1)? as u64,
            event_id: parse(r.text(2)?)?,
            entry_id: EntryId(parse(r.text(3)?)?),
            kind: r.text(4)?,
            points_delta: points_dec(r.int(5)?),
            hours_delta: hours_dec(r.int(6)?),
            points_balance: points_dec(r.int(7)?),
            hours_balance: hours_dec(r.int(8)?),
            reverses: r.opt_text(9)?.map(parse).transpose()?.map(EntryId),
            recorded_at: from_millis(r.int(10)?),
            detail: r.text(11)?,
            reversed_by: r.opt_text(12)?.map(parse).transpose()?.map(EntryId),
        });
    }
    let next_cursor = if rows.len() as i64 > limit {
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(StatementPage {
        entries,
        next_cursor,
    })
}
