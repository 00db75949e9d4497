//! Transfer rules (转移接续规则), a versioned community rule: when a volunteer moves to
//! another community, whether their points balance follows them (the default) or stays
//! with this community. Hours, stars and the record always follow.

use super::rules::in_force;
use super::*;
use crate::event::TransferRulesSet;

/// New transfer rules version (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetTransferRules {
    pub community_id: CommunityId,
    pub points_follow: bool,
    pub effective_from: NaiveDate,
}

impl CommunityState {
    /// The transfer rules in force on `date`: version 0 (points follow) until the
    /// community sets its own.
    pub fn transfer_rules_on(&self, date: NaiveDate) -> TransferRulesSet {
        in_force(&self.transfer_rules, date, |r| {
            (r.effective_from, r.version)
        })
        .copied()
        .unwrap_or(TransferRulesSet {
            version: 0,
            points_follow: true,
            effective_from: NaiveDate::MIN,
        })
    }
}

pub fn set_transfer_rules(
    state: &CommunityState,
    cmd: &SetTransferRules,
) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    Ok(vec![Event::TransferRulesSet(TransferRulesSet {
        version: state.transfer_rules.len() as u32 + 1,
        points_follow: cmd.points_follow,
        effective_from: cmd.effective_from,
    })])
}
