//! The inbox's rows in memory while folding: the subjects a batch names (read back by
//! key), the messages it makes (only ever added), written in bulk.

use super::fold::evolve;
use super::{Message, Subject};
use crate::common::{key_strings, Cached};
use crate::db::{Kind as Col, OnConflict, Tx, Upsert, Val, Writer};
use crate::error::{ProjectionError, Result};
use crate::projection::{Envelope, Names, State};
use futures::future::BoxFuture;
use ledger::event::{wish_of_note, Event};
use std::collections::HashSet;
use uuid::Uuid;

const MESSAGE_COLS: &[&str] = &[
    "volunteer_id",
    "position",
    "community_id",
    "kind",
    "subject",
    "minutes",
    "hundredths",
    "detail",
    "other",
    "until_at",
    "at",
];

const SUBJECT_COLS: &[&str] = &["id", "text", "community_id", "who"];

pub(super) struct InboxState {
    fresh: bool,
    subjects: Cached<Uuid, Subject>,
    messages: Vec<Message>,
}

fn parse(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| ProjectionError::corrupt(super::NAME, e))
}

impl InboxState {
    pub(super) fn new(fresh: bool) -> InboxState {
        InboxState {
            fresh,
            subjects: Cached::default(),
            messages: Vec::new(),
        }
    }

    /// The subjects `events` name: their streams, the services they verify, the wishes
    /// that wish services name.
    fn wanted(&self, events: &[Envelope]) -> HashSet<Uuid> {
        let mut ids = HashSet::new();
        for e in events {
            ids.insert(e.stream_id);
            match &e.event {
                Event::ServiceVerified { service_id, .. }
                | Event::ServiceRejected { service_id, .. } => {
                    ids.insert(service_id.0);
                }
                Event::ServiceLogged { kind, note, .. } => {
                    ids.extend(wish_of_note(*kind, note));
                }
                _ => {}
            }
        }
        ids.retain(|id| !self.subjects.contains(id));
        ids
    }

    async fn load_rows(
        &mut self,
        tx: &mut Tx<'_>,
        names: &Names,
        events: &[Envelope],
    ) -> Result<()> {
        let ids = self.wanted(events);
        let table = names.t("pj_inbox_subjects");
        for r in tx
            .select_in(
                &table,
                "id, text, community_id, who",
                "id",
                &key_strings(&ids),
            )
            .await?
        {
            let subject = Subject {
                text: r.text(1)?,
                community: parse(&r.text(2)?)?,
                who: r.opt_text(3)?.map(|w| parse(&w)).transpose()?,
            };
            self.subjects.loaded(parse(&r.text(0)?)?, subject);
        }
        Ok(())
    }

    async fn write(&mut self, tx: &mut Tx<'_>, names: &Names) -> Result<()> {
        let t = names.t("pj_inbox_subjects");
        let gone = key_strings(&self.subjects.take_gone());
        tx.delete_in(&t, "id", &gone).await?;
        let kinds = [Col::Text; 4];
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: SUBJECT_COLS,
                key: &["id"],
                on_conflict: OnConflict::Replace,
            },
            &kinds,
        );
        for (id, s) in self.subjects.take_changed() {
            let row = [
                Val::from(id.to_string()),
                Val::from(s.text.clone()),
                Val::from(s.community.to_string()),
                Val::from(s.who.map(|w| w.to_string())),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await?;
        let t = names.t("pj_inbox");
        let kinds = [
            Col::Text,
            Col::Int,
            Col::Text,
            Col::Text,
            Col::Text,
            Col::Int,
            Col::Int,
            Col::Text,
            Col::Text,
            Col::Int,
            Col::Int,
        ];
        // A message is a fact once written: a batch applied again changes nothing.
        let mut w = Writer::new(
            Upsert {
                table: &t,
                cols: MESSAGE_COLS,
                key: &["volunteer_id", "position"],
                on_conflict: OnConflict::Nothing,
            },
            &kinds,
        );
        for m in std::mem::take(&mut self.messages) {
            let row = [
                Val::from(m.volunteer.to_string()),
                Val::from(m.position as i64),
                Val::from(m.community.to_string()),
                Val::from(m.kind.as_str()),
                Val::from(m.subject),
                Val::Int(m.minutes),
                Val::Int(m.hundredths),
                Val::from(m.detail),
                Val::from(m.other.map(|o| o.to_string())),
                Val::Int(m.until),
                Val::from(m.at),
            ];
            w.push(tx, row).await?;
        }
        w.finish(tx).await
    }
}

impl State for InboxState {
    fn load<'a>(
        &'a mut self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.load_rows(tx, names, events))
    }
    fn fold(&mut self, events: &[Envelope]) -> Result<()> {
        for ev in events {
            evolve(&mut self.subjects, ev, &mut self.messages);
        }
        Ok(())
    }
    fn flush<'a>(&'a mut self, tx: &'a mut Tx<'_>, names: &'a Names) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.write(tx, names))
    }
    fn pending(&self) -> usize {
        // Ids, kind and a short subject and reason.
        self.messages.len() * 200 + self.subjects.changed() * 80
    }
    fn held(&self) -> usize {
        self.subjects.bytes(80)
    }
    fn evict(&mut self) {
        self.subjects.evict();
        self.fresh = false;
    }
    fn needs_load(&self) -> bool {
        !self.fresh
    }
}
