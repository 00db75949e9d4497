//! The rows a batch of activity events needs, read back in bulk, and the changed ones
//! written in bulk.

use super::fold::{volunteers, Rows};
use super::{person_key, ActivityRow, ObjectionRow, PersonRow};
use crate::common::{key_strings, Cached};
use crate::db::{Kind, OnConflict, Row, Tx, Upsert, Val, Writer};
use crate::error::Result;
use crate::projection::{Envelope, Names, State};
use futures::future::BoxFuture;
use ledger::event::Event;
use ledger::ids::StreamKind;
use std::collections::HashSet;
use uuid::Uuid;

pub(super) const ACTIVITY_COLS: &[&str] = &[
    "activity_id",
    "community_id",
    "title",
    "kind",
    "place",
    "starts_at",
    "ends_at",
    "places",
    "signup_deadline",
    "team",
    "grid",
    "tag",
    "walk_ins",
    "status",
    "taken",
    "waiting",
    "checked_in",
    "pending",
    "approved_at",
    "notice_until",
    "seq",
    "posted_at",
    "position",
];
const ACTIVITY_KINDS: &[Kind] = &[
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
];
pub(super) const PERSON_COLS: &[&str] = &[
    "k",
    "activity_id",
    "volunteer_id",
    "community_id",
    "signup",
    "seq",
    "signed_up_at",
    "checked_in",
    "checked_out",
    "walk_in",
    "by_staff",
    "record",
    "source",
    "record_from",
    "record_until",
    "checkout_missing",
    "minutes",
    "points",
    "notice_until",
    "adjusted",
    "excluded",
    "position",
];
const PERSON_KINDS: &[Kind] = &[
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Int,
];
pub(super) const OBJECTION_COLS: &[&str] = &[
    "objection_id",
    "activity_id",
    "volunteer_id",
    "reason",
    "raised_by",
    "raised_at",
    "open",
    "decision",
    "resolution",
    "resolved_at",
    "minutes",
];
const OBJECTION_KINDS: &[Kind] = &[
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
];

pub(super) fn uuid(s: &str) -> Result<Uuid> {
    crate::common::uuid_of(super::NAME, s)
}

fn opt_uuid(s: Option<String>) -> Result<Option<Uuid>> {
    s.map(|s| uuid(&s)).transpose()
}

fn text(u: Uuid) -> Val {
    Val::from(u.to_string())
}

fn flag(b: bool) -> Val {
    Val::from(i64::from(b))
}

pub(super) fn activity_from(r: &Row) -> Result<(Uuid, ActivityRow)> {
    Ok((
        uuid(&r.text(0)?)?,
        ActivityRow {
            community_id: uuid(&r.text(1)?)?,
            title: r.text(2)?,
            kind: r.text(3)?,
            place: r.text(4)?,
            starts_at: r.int(5)?,
            ends_at: r.int(6)?,
            places: r.int(7)?,
            signup_deadline: r.int(8)?,
            team: opt_uuid(r.opt_text(9)?)?,
            grid: opt_uuid(r.opt_text(10)?)?,
            tag: r.opt_text(11)?,
            walk_ins: r.int(12)? != 0,
            status: r.text(13)?,
            taken: r.int(14)?,
            waiting: r.int(15)?,
            checked_in: r.int(16)?,
            pending: r.int(17)?,
            approved_at: r.opt_int(18)?,
            notice_until: r.opt_int(19)?,
            seq: r.int(20)?,
            posted_at: r.int(21)?,
            position: r.int(22)? as u64,
        },
    ))
}

fn activity_vals(id: &Uuid, a: &ActivityRow) -> Vec<Val> {
    vec![
        text(*id),
        text(a.community_id),
        Val::from(a.title.clone()),
        Val::from(a.kind.clone()),
        Val::from(a.place.clone()),
        a.starts_at.into(),
        a.ends_at.into(),
        a.places.into(),
        a.signup_deadline.into(),
        Val::from(a.team.map(|t| t.to_string())),
        Val::from(a.grid.map(|g| g.to_string())),
        Val::from(a.tag.clone()),
        flag(a.walk_ins),
        Val::from(a.status.clone()),
        a.taken.into(),
        a.waiting.into(),
        a.checked_in.into(),
        a.pending.into(),
        Val::Int(a.approved_at),
        Val::Int(a.notice_until),
        a.seq.into(),
        a.posted_at.into(),
        (a.position as i64).into(),
    ]
}

pub(super) fn person_from(r: &Row) -> Result<(String, PersonRow)> {
    Ok((
        r.text(0)?,
        PersonRow {
            activity_id: uuid(&r.text(1)?)?,
            volunteer_id: uuid(&r.text(2)?)?,
            community_id: uuid(&r.text(3)?)?,
            signup: r.text(4)?,
            seq: r.opt_int(5)?,
            signed_up_at: r.opt_int(6)?,
            checked_in: r.opt_int(7)?,
            checked_out: r.opt_int(8)?,
            walk_in: r.int(9)? != 0,
            by_staff: r.int(10)? != 0,
            record: r.opt_text(11)?,
            source: r.opt_text(12)?,
            record_from: r.opt_int(13)?,
            record_until: r.opt_int(14)?,
            checkout_missing: r.int(15)? != 0,
            minutes: r.opt_int(16)?,
            points: r.opt_int(17)?,
            notice_until: r.opt_int(18)?,
            adjusted: r.opt_text(19)?,
            excluded: r.opt_text(20)?,
            position: r.int(21)? as u64,
        },
    ))
}

fn person_vals(k: &str, p: &PersonRow) -> Vec<Val> {
    vec![
        Val::from(k.to_string()),
        text(p.activity_id),
        text(p.volunteer_id),
        text(p.community_id),
        Val::from(p.signup.clone()),
        Val::Int(p.seq),
        Val::Int(p.signed_up_at),
        Val::Int(p.checked_in),
        Val::Int(p.checked_out),
        flag(p.walk_in),
        flag(p.by_staff),
        Val::from(p.record.clone()),
        Val::from(p.source.clone()),
        Val::Int(p.record_from),
        Val::Int(p.record_until),
        flag(p.checkout_missing),
        Val::Int(p.minutes),
        Val::Int(p.points),
        Val::Int(p.notice_until),
        Val::from(p.adjusted.clone()),
        Val::from(p.excluded.clone()),
        (p.position as i64).into(),
    ]
}

pub(super) fn objection_from(r: &Row) -> Result<(Uuid, ObjectionRow)> {
    Ok((
        uuid(&r.text(0)?)?,
        ObjectionRow {
            activity_id: uuid(&r.text(1)?)?,
            volunteer_id: uuid(&r.text(2)?)?,
            reason: r.text(3)?,
            raised_by: uuid(&r.text(4)?)?,
            raised_at: r.int(5)?,
            open: r.int(6)? != 0,
            decision: r.opt_text(7)?,
            resolution: r.opt_text(8)?,
            resolved_at: r.opt_int(9)?,
            minutes: r.opt_int(10)?,
        },
    ))
}

fn objection_vals(id: &Uuid, o: &ObjectionRow) -> Vec<Val> {
    vec![
        text(*id),
        text(o.activity_id),
        text(o.volunteer_id),
        Val::from(o.reason.clone()),
        text(o.raised_by),
        o.raised_at.into(),
        flag(o.open),
        Val::from(o.decision.clone()),
        Val::from(o.resolution.clone()),
        Val::Int(o.resolved_at),
        Val::Int(o.minutes),
    ]
}

/// The rows in memory.
pub(super) struct ActivityState {
    fresh: bool,
    activities: Cached<Uuid, ActivityRow>,
    people: Cached<String, PersonRow>,
    objections: Cached<Uuid, ObjectionRow>,
}

impl ActivityState {
    pub(super) fn new(fresh: bool) -> ActivityState {
        ActivityState {
            fresh,
            activities: Cached::default(),
            people: Cached::default(),
            objections: Cached::default(),
        }
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let mut activities = HashSet::new();
        let mut people = HashSet::new();
        let mut objections = HashSet::new();
        for ev in events {
            let Some(a) = ev.stream_of(StreamKind::Activity) else {
                continue;
            };
            activities.insert(a);
            for v in volunteers(&ev.event) {
                people.insert(person_key(a, v));
            }
            if let Event::ObjectionResolved { objection_id, .. } = &ev.event {
                objections.insert(objection_id.0);
            }
        }
        activities.retain(|a| !self.activities.contains(a));
        people.retain(|k| !self.people.contains(k));
        objections.retain(|o| !self.objections.contains(o));
        let cols = ACTIVITY_COLS.join(", ");
        for r in tx
            .select_in(
                &names.t("pj_activities"),
                &cols,
                "activity_id",
                &key_strings(&activities),
            )
            .await?
        {
            let (id, a) = activity_from(&r)?;
            self.activities.loaded(id, a);
        }
        let keys: Vec<String> = people.into_iter().collect();
        let cols = PERSON_COLS.join(", ");
        for r in tx
            .select_in(&names.t("pj_activity_people"), &cols, "k", &keys)
            .await?
        {
            let (k, p) = person_from(&r)?;
            self.people.loaded(k, p);
        }
        let cols = OBJECTION_COLS.join(", ");
        for r in tx
            .select_in(
                &names.t("pj_activity_objections"),
                &cols,
                "objection_id",
                &key_strings(&objections),
            )
            .await?
        {
            let (id, o) = objection_from(&r)?;
            self.objections.loaded(id, o);
        }
        Ok(())
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let upsert = |table, cols, key| Upsert {
            table,
            cols,
            key,
            on_conflict: OnConflict::Replace,
        };
        let t = names.t("pj_activities");
        let mut w = Writer::new(upsert(&t, ACTIVITY_COLS, &["activity_id"]), ACTIVITY_KINDS);
        for (id, a) in self.activities.take_changed() {
            w.push(tx, activity_vals(id, a)).await?;
        }
        w.finish(tx).await?;
        let t = names.t("pj_activity_people");
        let mut w = Writer::new(upsert(&t, PERSON_COLS, &["k"]), PERSON_KINDS);
        for (k, p) in self.people.take_changed() {
            w.push(tx, person_vals(k, p)).await?;
        }
        w.finish(tx).await?;
        let t = names.t("pj_activity_objections");
        let mut w = Writer::new(
            upsert(&t, OBJECTION_COLS, &["objection_id"]),
            OBJECTION_KINDS,
        );
        for (id, o) in self.objections.take_changed() {
            w.push(tx, objection_vals(id, o)).await?;
        }
        w.finish(tx).await
    }
}

impl State for ActivityState {
    fn load<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.load_rows(tx, names, events))
    }
    fn fold(&mut self, events: &[Envelope]) -> Result<()> {
        let mut rows = Rows {
            activities: &mut self.activities,
            people: &mut self.people,
            objections: &mut self.objections,
        };
        for ev in events {
            rows.apply(ev);
        }
        Ok(())
    }
    fn flush<'a>(&'a mut self, tx: &'a mut Tx<'_>, names: &'a Names) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write(tx, names))
    }
    fn pending(&self) -> usize {
        0
    }
    fn held(&self) -> usize {
        self.activities.bytes(200) + self.people.bytes(120) + self.objections.bytes(120)
    }
    fn evict(&mut self) {
        self.activities.evict();
        self.people.evict();
        self.objections.evict();
        self.fresh = false;
    }
    fn needs_load(&self) -> bool {
        !self.fresh
    }
}
