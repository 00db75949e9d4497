//! Mutations of 文明楼道: monthly inspections and stairwell issues.

use super::{exec, id, parse_id, payload, Res};
use crate::scalars::DecimalScalar;
use async_graphql::{Context, InputObject, Object, ID};
use ledger::command as cmd;
use ledger::ids::*;

payload!(InspectionPayload {
    stairwell_id: ID,
    month: String,
    total: DecimalScalar
});
payload!(StairwellIssuePayload { issue_id: ID });

#[derive(InputObject)]
pub struct ScoreInput {
    /// Rubric item key (cleanliness, clutter, fire_safety, …).
    pub item: String,
    pub score: DecimalScalar,
}

#[derive(Default)]
pub struct StairwellMutation;

#[Object]
impl StairwellMutation {
    /// A monthly 文明楼道 inspection (staff): a score per inspected rubric item. 邻里互助
    /// (participation) is not scored: it is computed from the households whose
    /// volunteers served in the month.
    #[allow(clippy::too_many_arguments)]
    async fn record_inspection(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        month: String,
        scores: Vec<ScoreInput>,
        #[graphql(default)] note: String,
    ) -> Res<InspectionPayload> {
        let c = cmd::RecordInspection {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            month,
            scores: scores.into_iter().map(|s| (s.item, s.score.0)).collect(),
            note,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(InspectionPayload {
            stairwell_id,
            month: o.result.month,
            total: DecimalScalar(o.result.total),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Reports a stairwell issue with a deduction (staff).
    async fn report_stairwell_issue(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        description: String,
        deduction: DecimalScalar,
    ) -> Res<StairwellIssuePayload> {
        let c = cmd::ReportStairwellIssue {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            description,
            deduction: deduction.0,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(StairwellIssuePayload {
            issue_id: id(o.result.issue_id),
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Resolves a stairwell issue (staff).
    async fn resolve_stairwell_issue(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        issue_id: ID,
        #[graphql(default)] note: String,
    ) -> Res<StairwellIssuePayload> {
        let c = cmd::ResolveStairwellIssue {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            issue_id: IssueId(parse_id(&issue_id, "issueId")?),
            note,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(StairwellIssuePayload {
            issue_id,
            position: o.position,
            replayed: o.replayed,
        })
    }
}
