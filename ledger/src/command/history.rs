//! Plans of history imports (历史导入): a row recorded (the volunteer's account and the
//! batch in one append) and a whole batch reversed (every account it credited and the
//! batch in one append). The rules are in [`crate::domain::history`].

use super::decision::{Decision, Loaded, Plan, PlanResult};
use crate::amount::{Hours, Points};
use crate::domain::history::{self, *};
use crate::domain::VolunteerState;
use crate::ids::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A past service recorded by a history import: its service and entry, and what it
/// credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedService {
    pub service_id: ServiceId,
    pub entry_id: EntryId,
    pub hours: Hours,
    pub points: Points,
}

/// A batch reversed: how many entries were reversed, on how many accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReversal {
    pub batch_id: ImportBatchId,
    pub entries: u32,
    pub volunteers: u32,
}

impl ImportHistoryRow {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![
            import_stream(self.batch_id),
            volunteer_stream(self.volunteer_id),
        ]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ImportedService> {
        let comm = d.community(self.community_id).await?;
        let v = d.volunteer(self.volunteer_id).await?;
        let b = d.import_batch(self.batch_id).await?;
        let ids = (ServiceId(d.id("service")), EntryId(d.id("entry")));
        let (mut events, recorded) =
            history::import_row(&comm.state, &v.state, &b.state, self, ids, d.ctx())?;
        d.credit_rules(&comm.state).apply(&v.state, &mut events);
        let (w, post) = v.write(events, Some(self.community_id));
        let credited = post.entry(ids.1)?;
        let result = ImportedService {
            service_id: ids.0,
            entry_id: ids.1,
            hours: credited.hours,
            points: credited.points,
        };
        let batch = b.write(vec![recorded], Some(self.community_id)).0;
        Ok(Plan::new(vec![w, batch], result))
    }
}

impl ReverseImportBatch {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![import_stream(self.batch_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<BatchReversal> {
        let b = d.import_batch(self.batch_id).await?;
        let community = b.state.require(self.batch_id)?;
        d.authorize(Some(community))?;
        let mut loaded: Vec<(VolunteerId, Loaded<VolunteerState>)> = Vec::new();
        for id in b.state.volunteers() {
            loaded.push((id, d.volunteer(id).await?));
        }
        let states: BTreeMap<VolunteerId, &VolunteerState> = loaded
            .iter()
            .map(|(id, v)| (*id, v.state.as_ref()))
            .collect();
        let (mut events, done) = history::reverse_batch(
            &b.state,
            &states,
            self,
            |r| EntryId(d.id(&format!("reversal-{}", r.entry_id))),
            d.ctx(),
        )?;
        let mut writes = Vec::new();
        for (id, v) in &loaded {
            if let Some(es) = events.remove(id) {
                writes.push(v.write(es, Some(community)).0);
            }
        }
        let volunteers = writes.len() as u32;
        let entries = match &done {
            crate::event::Event::ImportBatchReversed(e) => e.entries,
            _ => 0,
        };
        writes.push(b.write(vec![done], Some(community)).0);
        Ok(Plan::new(
            writes,
            BatchReversal {
                batch_id: self.batch_id,
                entries,
                volunteers,
            },
        ))
    }
}
