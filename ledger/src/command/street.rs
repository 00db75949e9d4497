//! Plans of the organisation above communities: establish and rename streets (街道) and
//! districts (区), and a community's street or a street's district from a day. The
//! rules are in [`crate::domain::street`]; all of these are for administrators.

use super::decision::{Decision, Plan, PlanResult};
use crate::domain::street::{self, *};
use crate::ids::*;
use serde::{Deserialize, Serialize};

/// A new street.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStreet {
    pub street_id: StreetId,
}

/// A new district.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDistrict {
    pub district_id: DistrictId,
}

/// A membership changed: the community's street, or the street's district, from `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipChange {
    pub from: chrono::NaiveDate,
}

impl EstablishDistrict {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewDistrict> {
        d.authorize(None)?;
        let id = DistrictId(d.id("district"));
        let l = d.district(id).await?;
        let events = street::establish_district(&l.state, self, id)?;
        Ok(Plan::new(
            vec![l.write(events, None).0],
            NewDistrict { district_id: id },
        ))
    }
}

impl EstablishStreet {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewStreet> {
        d.authorize(None)?;
        let id = StreetId(d.id("street"));
        let l = d.street(id).await?;
        let events = street::establish_street(&l.state, self, id)?;
        Ok(Plan::new(
            vec![l.write(events, None).0],
            NewStreet { street_id: id },
        ))
    }
}

impl RenameStreet {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![street_stream(self.street_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewStreet> {
        d.authorize(None)?;
        let l = d.street(self.street_id).await?;
        let events = street::rename_street(&l.state, self)?;
        Ok(Plan::new(
            vec![l.write(events, None).0],
            NewStreet {
                street_id: self.street_id,
            },
        ))
    }
}

impl RenameDistrict {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![district_stream(self.district_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewDistrict> {
        d.authorize(None)?;
        let l = d.district(self.district_id).await?;
        let events = street::rename_district(&l.state, self)?;
        Ok(Plan::new(
            vec![l.write(events, None).0],
            NewDistrict {
                district_id: self.district_id,
            },
        ))
    }
}

impl JoinStreet {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<MembershipChange> {
        d.authorize(None)?;
        let c = d.community(self.community_id).await?;
        let s = d.street(self.street_id).await?;
        let events = street::join_street(&c.state, &s.state, self)?;
        Ok(Plan::new(
            vec![c.write(events, Some(self.community_id)).0],
            MembershipChange { from: self.from },
        ))
    }
}

impl LeaveStreet {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<MembershipChange> {
        d.authorize(None)?;
        let c = d.community(self.community_id).await?;
        let events = street::leave_street(&c.state, self)?;
        Ok(Plan::new(
            vec![c.write(events, Some(self.community_id)).0],
            MembershipChange { from: self.from },
        ))
    }
}

impl JoinDistrict {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![street_stream(self.street_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<MembershipChange> {
        d.authorize(None)?;
        let s = d.street(self.street_id).await?;
        let t = d.district(self.district_id).await?;
        let events = street::join_district(&s.state, &t.state, self)?;
        Ok(Plan::new(
            vec![s.write(events, None).0],
            MembershipChange { from: self.from },
        ))
    }
}

impl LeaveDistrict {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![street_stream(self.street_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<MembershipChange> {
        d.authorize(None)?;
        let s = d.street(self.street_id).await?;
        let events = street::leave_district(&s.state, self)?;
        Ok(Plan::new(
            vec![s.write(events, None).0],
            MembershipChange { from: self.from },
        ))
    }
}
