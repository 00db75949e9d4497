//! Plans of a volunteer's move to another community (记录转移接续) and of the transfer
//! rules that say whether points follow. The rules are in
//! [`crate::domain::volunteer::transfer`] and [`crate::domain::community`].

use super::community::{rules_plan, RulesVersion};
use super::decision::{Decision, Plan, PlanResult};
use super::volunteer::given_id_number;
use super::CommandError;
use crate::amount::Points;
use crate::domain::community::{self, SetTransferRules};
use crate::domain::volunteer::{self, TransferVolunteer};
use crate::domain::{local_date, DomainError};
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// A volunteer moved: their number in the new community, and the points that stayed
/// with the old one (zero when they followed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transferred {
    pub volunteer_id: VolunteerId,
    pub community_id: CommunityId,
    pub volunteer_number: String,
    pub from_community: CommunityId,
    pub points_left: Points,
}

impl TransferVolunteer {
    pub(super) fn locks(&self) -> Vec<String> {
        // The community left is known once the volunteer is loaded: its stream is
        // appended at the version read, so a race there is a conflict and a retry.
        vec![
            community_stream(self.to_community),
            volunteer_stream(self.volunteer_id),
        ]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<Transferred> {
        let v = d.volunteer(self.volunteer_id).await?;
        let from = v.state.require(self.volunteer_id)?;
        self.authorize(d, from).await?;
        let old = d.community(from).await?;
        let to = d.community(self.to_community).await?;
        let rules = old.state.transfer_rules_on(local_date(d.ctx().now));
        let (oe, ce, ve) = volunteer::transfer(
            &to.state,
            &v.state,
            self,
            rules,
            EntryId(d.id("entry")),
            d.household_key(),
            d.ctx().principal(),
        )?;
        let (w, post) = v.write(ve, Some(self.to_community));
        let result = Transferred {
            volunteer_id: self.volunteer_id,
            community_id: self.to_community,
            volunteer_number: post.volunteer_number.clone(),
            from_community: from,
            points_left: v.state.points.saturating_sub(post.points),
        };
        Ok(Plan::new(
            vec![
                old.write(oe, Some(from)).0,
                to.write(ce, Some(self.to_community)).0,
                w,
            ],
            result,
        ))
    }

    /// Staff of the community left may move a volunteer; staff of the receiving
    /// community only with the person's ID number, as kept beside the log.
    async fn authorize(&self, d: &Decision<'_>, from: CommunityId) -> Result<(), CommandError> {
        let Err(refused) = d.authorize(Some(from)) else {
            return Ok(());
        };
        if d.authorize(Some(self.to_community)).is_err() {
            return Err(refused.into());
        }
        let holds = match given_id_number(&self.id_number) {
            Some(n) => d.holds_id_number(self.volunteer_id, &n).await?,
            None => false,
        };
        if holds {
            Ok(())
        } else {
            Err(DomainError::forbidden(
                "the receiving community's staff need the person's ID number to take their record over",
            )
            .into())
        }
    }
}

impl SetTransferRules {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RulesVersion> {
        rules_plan(
            d,
            self.community_id,
            |s| community::set_transfer_rules(s, self),
            |s| s.transfer_rules.len(),
        )
        .await
    }
}
