//! Plans of a wish's lifecycle (小心愿): post, claim, release, fulfil, confirm (which
//! records the service on the claimer's account in the same append) and cancel. The
//! rules are in [`crate::domain::wish`].

use super::decision::{Decision, Loaded, Plan, PlanResult};
use crate::amount::{Hours, Points};
use crate::domain::wish::{self, *};
use crate::domain::DomainError;
use crate::event::Event;
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// A posted wish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishRef {
    pub wish_id: WishId,
}

/// A wish and its status after the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishChange {
    pub wish_id: WishId,
    pub status: WishStage,
}

/// A confirmed wish: the service recorded on the claimer's account, its entry and
/// points, and the claimer's balances after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WishConfirmation {
    pub wish_id: WishId,
    pub volunteer_id: VolunteerId,
    pub service_id: ServiceId,
    pub entry_id: EntryId,
    pub points: Points,
    pub points_balance: Points,
    pub hours_balance: Hours,
}

/// The wish of `wish_id` and its community, after authorization in that community.
async fn load_wish(
    d: &Decision<'_>,
    wish_id: WishId,
) -> Result<(Loaded<WishState>, CommunityId), super::CommandError> {
    let w = d.wish(wish_id).await?;
    let cid = w.state.require(wish_id)?;
    d.authorize(Some(cid))?;
    Ok((w, cid))
}

/// The write of `events` to the wish, and its status after them.
fn wish_plan(
    w: &Loaded<WishState>,
    wish_id: WishId,
    events: Vec<Event>,
    community: CommunityId,
) -> Plan<WishChange> {
    let (write, post) = w.write(events, Some(community));
    Plan::new(
        vec![write],
        WishChange {
            wish_id,
            status: post.status.stage(),
        },
    )
}

fn wish_locks(wish_id: WishId) -> Vec<String> {
    vec![wish_stream(wish_id)]
}

impl PostWish {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<WishRef> {
        let comm = d.community(self.community_id).await?;
        let id = WishId(d.id("wish"));
        let w = d.wish(id).await?;
        let events = wish::post(&comm.state, &w.state, self, id, d.ctx())?;
        Ok(Plan::new(
            vec![w.write(events, Some(self.community_id)).0],
            WishRef { wish_id: id },
        ))
    }
}

impl ClaimWish {
    pub(super) fn locks(&self) -> Vec<String> {
        wish_locks(self.wish_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<WishChange> {
        let (w, cid) = load_wish(d, self.wish_id).await?;
        let v = d.volunteer(self.volunteer_id).await?;
        let events = wish::claim(&w.state, &v.state, self)?;
        Ok(wish_plan(&w, self.wish_id, events, cid))
    }
}

impl ReleaseWish {
    pub(super) fn locks(&self) -> Vec<String> {
        wish_locks(self.wish_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<WishChange> {
        let (w, cid) = load_wish(d, self.wish_id).await?;
        let events = wish::release(&w.state, self, d.ctx())?;
        Ok(wish_plan(&w, self.wish_id, events, cid))
    }
}

impl FulfilWish {
    pub(super) fn locks(&self) -> Vec<String> {
        wish_locks(self.wish_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<WishChange> {
        let (w, cid) = load_wish(d, self.wish_id).await?;
        let comm = d.community(cid).await?;
        let events = wish::fulfil(&comm.state, &w.state, self, d.ctx())?;
        Ok(wish_plan(&w, self.wish_id, events, cid))
    }
}

impl CancelWish {
    pub(super) fn locks(&self) -> Vec<String> {
        wish_locks(self.wish_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<WishChange> {
        let (w, cid) = load_wish(d, self.wish_id).await?;
        let events = wish::cancel(&w.state, self, d.ctx())?;
        Ok(wish_plan(&w, self.wish_id, events, cid))
    }
}

impl ConfirmWish {
    pub(super) fn locks(&self) -> Vec<String> {
        wish_locks(self.wish_id)
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<WishConfirmation> {
        let (w, cid) = load_wish(d, self.wish_id).await?;
        let claimer = w.state.claimer().ok_or_else(|| {
            DomainError::invalid_state(format!("wish {} is not fulfilled", self.wish_id))
        })?;
        let comm = d.community(cid).await?;
        let v = d.volunteer(claimer).await?;
        let service = ServiceId(d.id("service"));
        let entry = EntryId(d.id("entry"));
        let (we, mut ve) = wish::confirm(
            &comm.state,
            &w.state,
            &v.state,
            self,
            service,
            entry,
            d.ctx(),
        )?;
        d.credit_rules(&comm.state).apply(&v.state, &mut ve);
        let v_community = v.state.community_id;
        let (vw, post) = v.write(ve, v_community);
        let points = post.entry(entry)?.points;
        Ok(Plan::new(
            vec![w.write(we, Some(cid)).0, vw],
            WishConfirmation {
                wish_id: self.wish_id,
                volunteer_id: claimer,
                service_id: service,
                entry_id: entry,
                points,
                points_balance: post.points,
                hours_balance: post.hours,
            },
        ))
    }
}
