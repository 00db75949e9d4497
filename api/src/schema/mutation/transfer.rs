//! Mutations of a volunteer's move to another community (记录转移接续) and of the
//! transfer rules that say whether the points follow.

use super::community::RulesPayload;
use super::{app, exec, id, parse_id, payload, Res};
use crate::scalars::PointsScalar;
use async_graphql::{Context, Object, ID};
use chrono::NaiveDate;
use ledger::command as cmd;
use ledger::ids::*;

payload!(TransferPayload {
    volunteer_id: ID,
    /// The community the record is in now.
    community_id: ID,
    /// The number the new community gave them.
    volunteer_number: String,
    /// The community left.
    from_community_id: ID,
    /// Points that stayed with the community left (0 when they followed).
    points_left: PointsScalar,
});

#[derive(Default)]
pub struct TransferMutation;

#[Object]
impl TransferMutation {
    /// Moves a volunteer's record to `toCommunityId` (记录转移接续), into a stairwell of
    /// that community: hours, stars, the statement, the service record and certificates
    /// follow; what was done before stays counted where it was done (the old
    /// community's reports do not change); the old community's teams are left; the
    /// points follow or stay by the old community's transfer rules. Staff of the
    /// community left may do it, and staff of the receiving community with the
    /// person's `idNumber` (the one a `DUPLICATE_PERSON` refusal matched). Refused with
    /// INVALID_STATE while a service awaits verification, or to the same community.
    #[allow(clippy::too_many_arguments)]
    async fn transfer_volunteer(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        to_community_id: ID,
        stairwell_id: ID,
        household: Option<String>,
        reason: String,
        id_number: Option<String>,
    ) -> Res<TransferPayload> {
        let c = cmd::TransferVolunteer {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            to_community: CommunityId(parse_id(&to_community_id, "toCommunityId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            household,
            reason,
            id_number,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        // Sessions of the volunteer act in the new community from now on.
        app(ctx).auth.clear();
        let r = o.result;
        Ok(TransferPayload {
            position: o.position,
            replayed: o.replayed,
            volunteer_id: id(r.volunteer_id.0),
            community_id: id(r.community_id.0),
            volunteer_number: r.volunteer_number,
            from_community_id: id(r.from_community.0),
            points_left: PointsScalar(r.points_left),
        })
    }

    /// New transfer rules (admin, 转移接续规则) from `effectiveFrom`: whether a volunteer
    /// leaving this community takes their points balance along (`pointsFollow`, the
    /// default) or leaves it here. Hours and stars always follow.
    async fn set_transfer_rules(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        points_follow: bool,
        effective_from: NaiveDate,
    ) -> Res<RulesPayload> {
        let c = cmd::SetTransferRules {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            points_follow,
            effective_from,
        };
        RulesPayload::from_outcome(exec(ctx, &idempotency_key, c).await?)
    }
}
