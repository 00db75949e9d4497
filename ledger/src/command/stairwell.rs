//! Plans of the stairwell's commands (楼道): monthly 文明楼道 inspections and issues with
//! deductions. The rules are in [`crate::domain::stairwell`].

use super::decision::{Decision, Plan, PlanResult};
use crate::domain::stairwell::{self, *};
use crate::ids::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A recorded inspection and its total (the inspected items; 邻里互助 participation is
/// computed from services, not scored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionTotal {
    pub stairwell_id: StairwellId,
    pub month: String,
    pub total: Decimal,
}

/// The issue a command reported or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRef {
    pub issue_id: IssueId,
}

impl RecordInspection {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![stairwell_stream(self.stairwell_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<InspectionTotal> {
        let comm = d.community(self.community_id).await?;
        let s = d.stairwell(self.stairwell_id).await?;
        let events = stairwell::inspect(&comm.state, &s.state, self, d.ctx())?;
        let (w, post) = s.write(events, Some(self.community_id));
        let total = post
            .inspections
            .get(&self.month)
            .map(Inspection::total)
            .unwrap_or_default();
        Ok(Plan::new(
            vec![w],
            InspectionTotal {
                stairwell_id: self.stairwell_id,
                month: self.month.clone(),
                total,
            },
        ))
    }
}

impl ReportStairwellIssue {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![stairwell_stream(self.stairwell_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<IssueRef> {
        let comm = d.community(self.community_id).await?;
        let s = d.stairwell(self.stairwell_id).await?;
        let id = IssueId(d.id("issue"));
        let events = stairwell::report_issue(&comm.state, self, id, d.ctx())?;
        Ok(Plan::new(
            vec![s.write(events, Some(self.community_id)).0],
            IssueRef { issue_id: id },
        ))
    }
}

impl ResolveStairwellIssue {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![stairwell_stream(self.stairwell_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<IssueRef> {
        let comm = d.community(self.community_id).await?;
        comm.state.require(self.community_id)?;
        comm.state.stairwell(self.stairwell_id)?;
        let s = d.stairwell(self.stairwell_id).await?;
        let events = stairwell::resolve_issue(&s.state, self, d.ctx())?;
        Ok(Plan::new(
            vec![s.write(events, Some(self.community_id)).0],
            IssueRef {
                issue_id: self.issue_id,
            },
        ))
    }
}
