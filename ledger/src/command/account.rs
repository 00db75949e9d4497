//! Plans of the points and hours of an account: award, redeem, reverse, gift and spend.
//! Each answers with its entry and the balances after it. The rules are in
//! [`crate::domain::volunteer`].

use super::decision::{Decision, Loaded, Plan, PlanResult};
use crate::amount::{Hours, Points};
use crate::domain::volunteer::{self, *};
use crate::event::Event;
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// A balance-changing entry and the balances after it; `flagged` while either balance
/// is below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceEntry {
    pub entry_id: EntryId,
    pub points_balance: Points,
    pub hours_balance: Hours,
    pub flagged: bool,
}

/// A gift of hours and the giver's hours balance after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursGift {
    pub entry_id: EntryId,
    pub hours_balance: Hours,
}

/// The write of `events` to the account of `v`, and its balances after them.
fn balance_plan(
    v: &Loaded<VolunteerState>,
    events: Vec<Event>,
    community: CommunityId,
    entry: EntryId,
) -> Plan<BalanceEntry> {
    let (w, post) = v.write(events, Some(community));
    Plan::new(
        vec![w],
        BalanceEntry {
            entry_id: entry,
            points_balance: post.points,
            hours_balance: post.hours,
            flagged: post.flagged(),
        },
    )
}

impl AwardPoints {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<BalanceEntry> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let entry = EntryId(d.id("entry"));
        let events = volunteer::award(&v.state, self, entry, d.ctx())?;
        Ok(balance_plan(&v, events, cid, entry))
    }
}

impl RedeemPoints {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<BalanceEntry> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let entry = EntryId(d.id("entry"));
        let events = volunteer::redeem(&v.state, self, entry, d.ctx())?;
        Ok(balance_plan(&v, events, cid, entry))
    }
}

impl ReverseEntry {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<BalanceEntry> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let entry = EntryId(d.id("entry"));
        let events = volunteer::reverse(&v.state, self, entry, d.ctx())?;
        Ok(balance_plan(&v, events, cid, entry))
    }
}

impl SpendHours {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<BalanceEntry> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let entry = EntryId(d.id("entry"));
        let events = volunteer::spend(&v.state, self, entry)?;
        Ok(balance_plan(&v, events, cid, entry))
    }
}

impl GiftHours {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.from), volunteer_stream(self.to)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<HoursGift> {
        let (from, cid) = d.volunteer_in_community(self.from).await?;
        let to = d.volunteer(self.to).await?;
        let entry = EntryId(d.id("entry"));
        let (fe, te) = volunteer::gift(&from.state, &to.state, self, entry, d.ctx())?;
        let to_community = to.state.community_id;
        let (fw, post) = from.write(fe, Some(cid));
        let (tw, _) = to.write(te, to_community);
        Ok(Plan::new(
            vec![fw, tw],
            HoursGift {
                entry_id: entry,
                hours_balance: post.hours,
            },
        ))
    }
}
