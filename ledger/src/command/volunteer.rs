//! Plans of a volunteer's registration and membership: register (with the personal data
//! kept beside the log), correct that data, set tags, move, join and leave teams,
//! depart, erase personal data. The rules are in [`crate::domain::volunteer`].

use super::decision::{Decision, Loaded, Plan, PlanResult};
use crate::domain::volunteer::{self, *};
use crate::event::Event;
use crate::ids::*;
use crate::store::Person;
use serde::{Deserialize, Serialize};

/// A registered volunteer and the number the community gave them (`TB-000123`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVolunteer {
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
}

/// The volunteer a command changed (a move, a team, a departure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerRef {
    pub volunteer_id: VolunteerId,
}

/// An erasure of personal data; `erased` is false when it had been erased already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    pub volunteer_id: VolunteerId,
    pub erased: bool,
}

impl RegisterVolunteer {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![community_stream(self.community_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<NewVolunteer> {
        let comm = d.community(self.community_id).await?;
        let id = VolunteerId(d.id("volunteer"));
        let v = d.volunteer(id).await?;
        let (ce, ve) = volunteer::register(&comm.state, &v.state, self, id, d.household_key())?;
        let id_number = given_id_number(&self.id_number);
        d.check_one_record(id_number.as_deref(), id).await?;
        let number = comm.state.next_volunteer_number();
        let mut plan = Plan::new(
            vec![
                comm.write(ce, Some(self.community_id)).0,
                v.write(ve, Some(self.community_id)).0,
            ],
            NewVolunteer {
                volunteer_id: id,
                volunteer_number: number,
            },
        );
        plan.person = Some(Person {
            volunteer_id: id.0,
            name: self.name.trim().to_string(),
            phone: given_text(&self.phone),
            id_number,
        });
        Ok(plan)
    }
}

impl MoveVolunteer {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<VolunteerRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let comm = d.community(cid).await?;
        let events = volunteer::move_volunteer(&comm.state, &v.state, self, d.household_key())?;
        Ok(volunteer_plan(&v, self.volunteer_id, events, cid))
    }
}

impl JoinTeam {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<VolunteerRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let comm = d.community(cid).await?;
        let events = volunteer::join_team(&comm.state, &v.state, self)?;
        Ok(volunteer_plan(&v, self.volunteer_id, events, cid))
    }
}

impl LeaveTeam {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<VolunteerRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let events = volunteer::leave_team(&v.state, self)?;
        Ok(volunteer_plan(&v, self.volunteer_id, events, cid))
    }
}

impl DepartVolunteer {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<VolunteerRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let events = volunteer::depart(&v.state, self)?;
        Ok(volunteer_plan(&v, self.volunteer_id, events, cid))
    }
}

impl CorrectPersonalData {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<VolunteerRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let events = volunteer::correct_personal_data(&v.state, self)?;
        let id_number = given_id_number(&self.id_number);
        d.check_one_record(id_number.as_deref(), self.volunteer_id)
            .await?;
        let mut plan = volunteer_plan(&v, self.volunteer_id, events, cid);
        plan.person = Some(Person {
            volunteer_id: self.volunteer_id.0,
            name: self.name.trim().to_string(),
            phone: given_text(&self.phone),
            id_number,
        });
        Ok(plan)
    }
}

impl SetVolunteerTags {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<VolunteerRef> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let events = volunteer::set_tags(&v.state, self)?;
        Ok(volunteer_plan(&v, self.volunteer_id, events, cid))
    }
}

/// An optional text as kept: trimmed, and none when blank.
fn given_text(t: &Option<String>) -> Option<String> {
    t.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// An ID number as kept: trimmed, its check character `x` upper-case, so that one
/// person's number is one key however it was typed.
pub(super) fn given_id_number(t: &Option<String>) -> Option<String> {
    given_text(t).map(|n| n.to_uppercase())
}

impl ErasePersonalData {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![volunteer_stream(self.volunteer_id)]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<Erasure> {
        let (v, cid) = d.volunteer_in_community(self.volunteer_id).await?;
        let events = volunteer::erase_personal_data(&v.state, self)?;
        let erased = !events.is_empty();
        Ok(Plan::new(
            vec![v.write(events, Some(cid)).0],
            Erasure {
                volunteer_id: self.volunteer_id,
                erased,
            },
        ))
    }
}

/// A change of the volunteer `volunteer_id` (the stream of `v`).
fn volunteer_plan(
    v: &Loaded<VolunteerState>,
    volunteer_id: VolunteerId,
    events: Vec<Event>,
    community: CommunityId,
) -> Plan<VolunteerRef> {
    Plan::new(
        vec![v.write(events, Some(community)).0],
        VolunteerRef { volunteer_id },
    )
}

/// A family link made or ended, between the two volunteers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelativeRef {
    pub volunteer_id: VolunteerId,
    pub relative_id: VolunteerId,
}

/// Both sides of a link, each after authorization in its community.
async fn both_sides(
    d: &Decision<'_>,
    volunteer_id: VolunteerId,
    relative_id: VolunteerId,
) -> Result<
    (
        Loaded<VolunteerState>,
        CommunityId,
        Loaded<VolunteerState>,
        CommunityId,
    ),
    super::CommandError,
> {
    let (v, vc) = d.volunteer_in_community(volunteer_id).await?;
    let (r, rc) = d.volunteer_in_community(relative_id).await?;
    Ok((v, vc, r, rc))
}

impl LinkRelative {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![
            volunteer_stream(self.volunteer_id),
            volunteer_stream(self.relative_id),
        ]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RelativeRef> {
        let (v, vc, r, rc) = both_sides(d, self.volunteer_id, self.relative_id).await?;
        let (ve, re) = volunteer::link(&v.state, &r.state, self, d.ctx())?;
        Ok(Plan::new(
            vec![v.write(ve, Some(vc)).0, r.write(re, Some(rc)).0],
            RelativeRef {
                volunteer_id: self.volunteer_id,
                relative_id: self.relative_id,
            },
        ))
    }
}

impl UnlinkRelative {
    pub(super) fn locks(&self) -> Vec<String> {
        vec![
            volunteer_stream(self.volunteer_id),
            volunteer_stream(self.relative_id),
        ]
    }

    pub(super) async fn plan(&self, d: &Decision<'_>) -> PlanResult<RelativeRef> {
        let (v, vc, r, rc) = both_sides(d, self.volunteer_id, self.relative_id).await?;
        let (ve, re) = volunteer::unlink(&v.state, &r.state, self, d.ctx())?;
        Ok(Plan::new(
            vec![v.write(ve, Some(vc)).0, r.write(re, Some(rc)).0],
            RelativeRef {
                volunteer_id: self.volunteer_id,
                relative_id: self.relative_id,
            },
        ))
    }
}
