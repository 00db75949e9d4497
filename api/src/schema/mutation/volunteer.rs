//! Mutations of volunteers' registration and membership: register, correct personal
//! data, set tags, move, teams, departure, and the erasure of personal data.

use super::{exec, id, parse_id, payload, Res};
use crate::errors::gql_error;
use async_graphql::{Context, Object, ID};
use ledger::command::{self as cmd, CommandOutcome, VolunteerRef};
use ledger::ids::*;

payload!(RegisterVolunteerPayload {
    volunteer_id: ID,
    volunteer_number: String
});
payload!(VolunteerChangePayload { volunteer_id: ID });
payload!(RelativePayload {
    volunteer_id: ID,
    relative_id: ID
});
payload!(
    /// Personal data erased; events and totals stay.
    ErasePayload {
        volunteer_id: ID,
        /// False when there was nothing left to erase.
        erased: bool,
    }
);

/// INVALID_INPUT for a phone or ID number of over 32 characters (before the command,
/// so that no such text reaches its record).
fn too_long(phone: &Option<String>, id_number: &Option<String>) -> Res<()> {
    for (field, v) in [("phone", phone), ("idNumber", id_number)] {
        if v.as_ref().is_some_and(|s| s.chars().count() > 32) {
            return Err(gql_error(
                "INVALID_INPUT",
                format!("{field} is longer than 32 characters"),
            ));
        }
    }
    Ok(())
}

/// The answer of a change of `volunteer_id` (as the caller named it).
fn changed(volunteer_id: ID, o: CommandOutcome<VolunteerRef>) -> VolunteerChangePayload {
    VolunteerChangePayload {
        volunteer_id,
        position: o.position,
        replayed: o.replayed,
    }
}

#[derive(Default)]
pub struct VolunteerMutation;

#[Object]
impl VolunteerMutation {
    /// Registers a volunteer. Name, phone and ID number are kept beside the log.
    /// `household` names the volunteer's household (户) in the stairwell, e.g. room
    /// "3-2-201" (at most 30 characters): 邻里互助 participation counts households, and
    /// a volunteer without one counts as a household of their own.
    #[allow(clippy::too_many_arguments)]
    async fn register_volunteer(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        community_id: ID,
        stairwell_id: ID,
        name: String,
        phone: Option<String>,
        id_number: Option<String>,
        #[graphql(default)] tags: Vec<String>,
        #[graphql(default)] team_ids: Vec<ID>,
        household: Option<String>,
    ) -> Res<RegisterVolunteerPayload> {
        too_long(&phone, &id_number)?;
        let c = cmd::RegisterVolunteer {
            community_id: CommunityId(parse_id(&community_id, "communityId")?),
            name,
            phone,
            id_number,
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            tags,
            teams: team_ids
                .iter()
                .map(|t| parse_id(t, "teamIds").map(TeamId))
                .collect::<Res<_>>()?,
            household,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(RegisterVolunteerPayload {
            volunteer_id: id(o.result.volunteer_id),
            volunteer_number: o.result.volunteer_number,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Corrects a volunteer's personal data (staff of the community, admin): the
    /// name, phone and ID number from now on (an empty phone or ID number removes
    /// it). Kept beside the log; the log records only that a correction was made.
    async fn correct_personal_data(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        name: String,
        phone: Option<String>,
        id_number: Option<String>,
    ) -> Res<VolunteerChangePayload> {
        too_long(&phone, &id_number)?;
        let c = cmd::CorrectPersonalData {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            name,
            phone,
            id_number,
        };
        Ok(changed(volunteer_id, exec(ctx, &idempotency_key, c).await?))
    }

    /// Sets a volunteer's tags (党员, 五老, 青年, …): the whole list from now on, at
    /// most 10. Later service counts in the new tags' rankings.
    async fn set_volunteer_tags(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        tags: Vec<String>,
    ) -> Res<VolunteerChangePayload> {
        let c = cmd::SetVolunteerTags {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            tags,
        };
        Ok(changed(volunteer_id, exec(ctx, &idempotency_key, c).await?))
    }

    /// Links a relative (家属, staff) on both accounts: `relation` is what the relative is
    /// to the volunteer (母亲, 配偶…); `consent` that both sides agreed must be true.
    async fn link_relative(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        relative_id: ID,
        relation: String,
        consent: bool,
    ) -> Res<RelativePayload> {
        let c = cmd::LinkRelative {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            relative_id: VolunteerId(parse_id(&relative_id, "relativeId")?),
            relation,
            consent,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(RelativePayload {
            volunteer_id,
            relative_id,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Ends a family link (either side, or staff), on both accounts.
    async fn unlink_relative(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        relative_id: ID,
        #[graphql(default)] reason: String,
    ) -> Res<RelativePayload> {
        let c = cmd::UnlinkRelative {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            relative_id: VolunteerId(parse_id(&relative_id, "relativeId")?),
            reason,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(RelativePayload {
            volunteer_id,
            relative_id,
            position: o.position,
            replayed: o.replayed,
        })
    }

    /// Moves a volunteer to another stairwell, or to another household of the same
    /// one; `household` is the household moved into (none: a household of their own).
    async fn move_volunteer(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        stairwell_id: ID,
        household: Option<String>,
    ) -> Res<VolunteerChangePayload> {
        let c = cmd::MoveVolunteer {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            stairwell_id: StairwellId(parse_id(&stairwell_id, "stairwellId")?),
            household,
        };
        Ok(changed(volunteer_id, exec(ctx, &idempotency_key, c).await?))
    }

    async fn join_team(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        team_id: ID,
    ) -> Res<VolunteerChangePayload> {
        let c = cmd::JoinTeam {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            team_id: TeamId(parse_id(&team_id, "teamId")?),
        };
        Ok(changed(volunteer_id, exec(ctx, &idempotency_key, c).await?))
    }

    async fn leave_team(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        team_id: ID,
    ) -> Res<VolunteerChangePayload> {
        let c = cmd::LeaveTeam {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            team_id: TeamId(parse_id(&team_id, "teamId")?),
        };
        Ok(changed(volunteer_id, exec(ctx, &idempotency_key, c).await?))
    }

    async fn depart_volunteer(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        reason: String,
    ) -> Res<VolunteerChangePayload> {
        let c = cmd::DepartVolunteer {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
            reason,
        };
        Ok(changed(volunteer_id, exec(ctx, &idempotency_key, c).await?))
    }

    /// Erases a volunteer's personal data (name, phone, ID number) on request
    /// (admin, or staff of the volunteer's community), and records the erasure in the
    /// log (`PersonalDataErased`, naming no one but the volunteer's id). Events and
    /// totals stay; the volunteer shows as erased. Erasing again is harmless
    /// (`erased: false`).
    async fn erase_volunteer_personal_data(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
    ) -> Res<ErasePayload> {
        let c = cmd::ErasePersonalData {
            volunteer_id: VolunteerId(parse_id(&volunteer_id, "volunteerId")?),
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(ErasePayload {
            volunteer_id,
            erased: o.result.erased,
            position: o.position,
            replayed: o.replayed,
        })
    }
}
