//! Plans of the points and hours of an account: award (to one, or to many in one
//! append), redeem, reverse, gift and spend. Each answers with its entry and the
//! balances after it (an award to many, with each volunteer's entry). The rules are in
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
        let mut events = volunteer::award(&v.state, self, entry, d.ctx())?;
        let comm = d.community(cid).await?;
        d.credit_rules(&comm.state).apply(&v.state, &mut events);
        Ok(balance_plan(&v, events, cid, entry))
    }
}

/// One award of an award to many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardMade {
    pub volunteer_id: VolunteerId,
    pub entry_id: EntryId,
}

/// An award to many: each volunteer's entry, in the order named, and the points each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardsMade {
    pub awards: Vec<AwardMade>,
    pub points: Points,
}

impl AwardPointsToMany {
    pub(super) fn locks(&self) -> Vec<String> {
        self.volunteer_ids
            .iter()
            .map(|v| volunteer_stream(*v))
            .collect()
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<AwardsMade> {
        let ids = volunteer::award_list(self)?;
        let points = crate::domain::positive_points("points", self.points)?;
        // Loaded together (authorized each), not one after another.
        let loads = ids.iter().map(|v| d.volunteer_in_community(*v));
        let loaded = futures::future::try_join_all(loads).await?;
        let mut writes = Vec::with_capacity(ids.len());
        let mut awards = Vec::with_capacity(ids.len());
        for (i, (v, cid)) in loaded.into_iter().enumerate() {
            let volunteer_id = ids[i];
            let entry_id = EntryId(d.id(&format!("entry-{i}")));
            let mut events =
                volunteer::award_one_of_many(&v.state, volunteer_id, self, entry_id, d.ctx())?;
            let comm = d.community(cid).await?;
            d.credit_rules(&comm.state).apply(&v.state, &mut events);
            writes.push(v.write(events, Some(cid)).0);
            awards.push(AwardMade {
                volunteer_id,
                entry_id,
            });
        }
        Ok(Plan::new(writes, AwardsMade { awards, points }))
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

impl ExpirePoints {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<BalanceEntry> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let entry = EntryId(d.id("entry"));
        let events = volunteer::expire_points(&v.state, self, entry, d.ctx())?;
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
        // Recorded in the community where the entry counted (the one the volunteer
        // has left, if they have moved since), so that its reports see the correction.
        let counted = v.state.entry(self.entry_id).ok().and_then(|e| e.community);
        Ok(balance_plan(&v, events, counted.unwrap_or(cid), entry))
    }
}

impl SpendHours {
    pub(super) fn locks(&self) -> Vec<String> {
        let mut streams = vec![volunteer_stream(self.volunteer_id)];
        streams.extend(self.provider.map(volunteer_stream));
        streams
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<BalanceEntry> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let entry = EntryId(d.id("entry"));
        let Some(provider_id) = self.provider else {
            let events = volunteer::spend(&v.state, self, entry, None)?;
            return Ok(balance_plan(&v, events, cid, entry));
        };
        // The provider's service, recorded on their account in the same append.
        let comm = d.community(cid).await?;
        let p = d.volunteer(provider_id).await?;
        let ids = (ServiceId(d.id("service")), EntryId(d.id("provider-entry")));
        let (provider, mut pe) =
            volunteer::provided_service(&comm.state, &v.state, &p.state, self, ids, d.ctx())?;
        d.credit_rules(&comm.state).apply(&p.state, &mut pe);
        let events = volunteer::spend(&v.state, self, entry, Some(provider))?;
        let mut plan = balance_plan(&v, events, cid, entry);
        plan.writes.push(p.write(pe, Some(cid)).0);
        Ok(plan)
    }
}

impl GiftHours {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.from), volunteer_stream(self.to)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<HoursGift> {
        let (from, cid) = d.volunteer_in_community(self.from).await?;
        let to = d.volunteer(self.to).await?;
        let rules = d.hours_rules(&d.community(cid).await?.state);
        volunteer::gift_allowed(&rules, &from.state, self.to)?;
        if let Ok(h) = crate::domain::positive_hours("hours", self.hours) {
            volunteer::may_receive(&rules, &to.state, h)?;
        }
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
