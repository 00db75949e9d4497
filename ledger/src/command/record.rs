//! Plans of the service record beyond services: training, commendations, their
//! withdrawal, and evaluations of services. The rules are in
//! [`crate::domain::volunteer`] (`record`).

use super::decision::{Decision, Plan, PlanResult};
use crate::domain::volunteer::{self, *};
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// A training or commendation recorded or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    pub volunteer_id: VolunteerId,
    pub record_id: RecordId,
}

/// An evaluation recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationRef {
    pub volunteer_id: VolunteerId,
    pub service_id: ServiceId,
    pub satisfaction: u8,
}

impl RecordTraining {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RecordRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let id = RecordId(d.id("record"));
        let events = volunteer::record_training(&v.state, self, id, d.ctx())?;
        Ok(record_plan(&v, events, cid, id))
    }
}

impl GiveCommendation {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RecordRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let id = RecordId(d.id("record"));
        let head = d.head().await?;
        let events = volunteer::give_commendation(&v.state, self, id, head, d.ctx())?;
        Ok(record_plan(&v, events, cid, id))
    }
}

impl WithdrawRecord {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RecordRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let events = volunteer::withdraw_record(&v.state, self, d.ctx())?;
        Ok(record_plan(&v, events, cid, self.record_id))
    }
}

impl EvaluateService {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<EvaluationRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let receiver = match d.ctx().actor.volunteer_id {
            Some(r) if r != self.volunteer_id => Some(d.volunteer(r).await?),
            _ => None,
        };
        let receiver = receiver.as_ref().map(|r| &*r.state);
        let events = volunteer::evaluate_service(&v.state, receiver, self, d.ctx())?;
        Ok(Plan::new(
            vec![v.write(events, Some(cid)).0],
            EvaluationRef {
                volunteer_id: self.volunteer_id,
                service_id: self.service_id,
                satisfaction: self.satisfaction,
            },
        ))
    }
}

fn record_plan(
    v: &super::decision::Loaded<VolunteerState>,
    events: Vec<crate::event::Event>,
    community: CommunityId,
    record_id: RecordId,
) -> Plan<RecordRef> {
    Plan::new(
        vec![v.write(events, Some(community)).0],
        RecordRef {
            volunteer_id: v
                .state
                .volunteer_id
                .unwrap_or(VolunteerId(uuid::Uuid::nil())),
            record_id,
        },
    )
}
