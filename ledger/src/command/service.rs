//! Plans of service records: log a service, verify it (hours banked and points credited
//! under the rules in force on its date) or reject it. The rules are in
//! [`crate::domain::volunteer`].

use super::decision::{Decision, Plan, PlanResult};
use crate::amount::{Hours, Points};
use crate::domain::volunteer::{self, *};
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// The service a command logged or rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRef {
    pub service_id: ServiceId,
}

/// A verified service: its entry, what it credited and the balances after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub entry_id: EntryId,
    pub points: Points,
    pub hours: Hours,
    pub points_balance: Points,
    pub hours_balance: Hours,
}

impl LogService {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ServiceRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let comm = d.community(cid).await?;
        let id = ServiceId(d.id("service"));
        let events = volunteer::log_service(&comm.state, &v.state, self, id, d.ctx())?;
        Ok(Plan::new(
            vec![v.write(events, Some(cid)).0],
            ServiceRef { service_id: id },
        ))
    }
}

impl VerifyService {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<Verification> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let comm = d.community(cid).await?;
        let entry = EntryId(d.id("entry"));
        let mut events = volunteer::verify_service(&comm.state, &v.state, self, entry, d.ctx())?;
        d.credit_rules(&comm.state).apply(&v.state, &mut events);
        let (w, post) = v.write(events, Some(cid));
        let credited = post.entry(entry)?;
        Ok(Plan::new(
            vec![w],
            Verification {
                entry_id: entry,
                points: credited.points,
                hours: credited.hours,
                points_balance: post.points,
                hours_balance: post.hours,
            },
        ))
    }
}

impl RejectService {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<ServiceRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let events = volunteer::reject_service(&v.state, self, d.ctx())?;
        Ok(Plan::new(
            vec![v.write(events, Some(cid)).0],
            ServiceRef {
                service_id: self.service_id,
            },
        ))
    }
}
