//! Registration and membership of a volunteer account: register (numbered by the
//! community), move between stairwells and households, join and leave teams, depart, and
//! erase personal data; and the keyed pseudonyms that stand for households in the log.

use super::super::community::CommunityState;
use super::super::*;
use super::VolunteerState;
use serde::{Deserialize, Serialize};

/// Registers a volunteer. `name`, `phone` and `id_number` are personal data: they are
/// stored beside the log (`Store::put_person`), never in events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterVolunteer {
    pub community_id: CommunityId,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
    pub stairwell_id: StairwellId,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub teams: Vec<TeamId>,
    /// The household (户) in the stairwell, e.g. room "3-2-201" (at most 30
    /// characters); without one the volunteer counts as a household of their own.
    #[serde(default)]
    pub household: Option<String>,
}

/// Moves a volunteer to another stairwell, or to another household of the same one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveVolunteer {
    pub volunteer_id: VolunteerId,
    pub stairwell_id: StairwellId,
    #[serde(default)]
    pub household: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinTeam {
    pub volunteer_id: VolunteerId,
    pub team_id: TeamId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaveTeam {
    pub volunteer_id: VolunteerId,
    pub team_id: TeamId,
}

/// A volunteer leaves the community's service (moved away, stopped), with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartVolunteer {
    pub volunteer_id: VolunteerId,
    pub reason: String,
}

/// Corrects a volunteer's personal data (staff): the name, phone and ID number from now
/// on, all three (an empty phone or ID number removes it). They are kept beside the
/// log; the event records only that a correction was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrectPersonalData {
    pub volunteer_id: VolunteerId,
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
}

/// Sets a volunteer's tags (党员, 五老, 青年, …): the whole list from now on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetVolunteerTags {
    pub volunteer_id: VolunteerId,
    pub tags: Vec<String>,
}

/// Erases a volunteer's personal data on request (admin, or staff of the community):
/// the name, phone and ID number beside the log, and what the command records keep
/// of them. Events and totals stay; the volunteer shows as erased.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasePersonalData {
    pub volunteer_id: VolunteerId,
}

/// Registration: `(community events, volunteer events)`. The community assigns the
/// next volunteer number; the grid is the stairwell's grid.
pub fn register(
    community: &CommunityState,
    volunteer: &VolunteerState,
    cmd: &RegisterVolunteer,
    volunteer_id: VolunteerId,
    households: &HouseholdKey,
) -> DomainResult<(Vec<Event>, Vec<Event>)> {
    let community_id = community.require(cmd.community_id)?;
    if volunteer.exists() {
        return Err(DomainError::AlreadyExists {
            kind: "volunteer",
            id: volunteer_id.to_string(),
        });
    }
    required_text("name", &cmd.name, MAX_NAME)?;
    personal_fields(cmd.phone.as_deref(), cmd.id_number.as_deref())?;
    let grid_id = community.stairwell(cmd.stairwell_id)?.grid_id;
    let tags = tag_list(&cmd.tags)?;
    for t in &cmd.teams {
        community.require_team(*t)?;
    }
    let teams: Vec<TeamId> = crate::event::team_set(&cmd.teams).into_iter().collect();
    let household =
        household(cmd.household.as_deref())?.map(|h| households.pseudonym(cmd.stairwell_id, &h));
    let volunteer_number = community.next_volunteer_number();
    Ok((
        vec![Event::VolunteerEnrolled {
            volunteer_id,
            volunteer_number: volunteer_number.clone(),
        }],
        vec![Event::VolunteerRegistered {
            volunteer_id,
            community_id,
            volunteer_number,
            stairwell_id: cmd.stairwell_id,
            grid_id,
            tags,
            teams,
            household,
        }],
    ))
}

/// The key of the pseudonyms events carry for households (the deployment key
/// `household`, kept beside the log): a room number tied to a volunteer is personal
/// data, so the log keeps a keyed hash of the stairwell and the label, which tells
/// households apart (for 邻里互助) and, without the key, nothing more.
#[derive(Clone)]
pub struct HouseholdKey([u8; 32]);

impl HouseholdKey {
    pub fn new(secret: &str) -> HouseholdKey {
        use sha2::Digest;
        HouseholdKey(sha2::Sha256::digest(secret.as_bytes()).into())
    }

    /// Secret bytes derived from the key, for salting the hashes of personal data that
    /// command records keep (so that they cannot be reversed by trying the few likely
    /// values with the record alone).
    pub fn pepper(&self) -> &[u8] {
        &self.0
    }

    /// The pseudonym of household `label` (as validated) in `stairwell`: `hh-` and 24
    /// hex digits (96 bits).
    pub fn pseudonym(&self, stairwell: StairwellId, label: &str) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.0);
        h.update(stairwell.0.as_bytes());
        h.update(label.as_bytes());
        format!("hh-{}", hex::encode(&h.finalize()[..12]))
    }
}

impl std::fmt::Debug for HouseholdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HouseholdKey(..)")
    }
}

/// Longest household label (e.g. "3-2-201"), in characters.
pub const MAX_HOUSEHOLD: usize = 30;

/// An optional household label: trimmed, not blank, at most [`MAX_HOUSEHOLD`] characters.
pub(super) fn household(value: Option<&str>) -> DomainResult<Option<String>> {
    value
        .map(|h| required_text("household", h, MAX_HOUSEHOLD))
        .transpose()
}

pub fn move_volunteer(
    community: &CommunityState,
    volunteer: &VolunteerState,
    cmd: &MoveVolunteer,
    households: &HouseholdKey,
) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    let grid_id = community.stairwell(cmd.stairwell_id)?.grid_id;
    let household =
        household(cmd.household.as_deref())?.map(|h| households.pseudonym(cmd.stairwell_id, &h));
    if volunteer.stairwell_id == Some(cmd.stairwell_id) && volunteer.household == household {
        return Err(DomainError::invalid_state(
            "the volunteer already lives there",
        ));
    }
    Ok(vec![Event::VolunteerMoved {
        stairwell_id: cmd.stairwell_id,
        grid_id,
        household,
    }])
}

pub fn join_team(
    community: &CommunityState,
    volunteer: &VolunteerState,
    cmd: &JoinTeam,
) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    community.require_team(cmd.team_id)?;
    if volunteer.teams.contains(&cmd.team_id) {
        return Err(DomainError::invalid_state("already a member of the team"));
    }
    Ok(vec![Event::TeamJoined {
        team_id: cmd.team_id,
    }])
}

pub fn leave_team(volunteer: &VolunteerState, cmd: &LeaveTeam) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    if !volunteer.teams.contains(&cmd.team_id) {
        return Err(DomainError::not_found("team membership", cmd.team_id));
    }
    Ok(vec![Event::TeamLeft {
        team_id: cmd.team_id,
    }])
}

/// Erasing personal data: recorded once (a repeat writes nothing); a departed
/// volunteer's data can be erased too.
pub fn erase_personal_data(
    volunteer: &VolunteerState,
    cmd: &ErasePersonalData,
) -> DomainResult<Vec<Event>> {
    volunteer.require(cmd.volunteer_id)?;
    if volunteer.personal_data_erased {
        return Ok(vec![]);
    }
    Ok(vec![Event::PersonalDataErased {}])
}

pub fn depart(volunteer: &VolunteerState, cmd: &DepartVolunteer) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    Ok(vec![Event::VolunteerDeparted {
        reason: required_text("reason", &cmd.reason, MAX_TEXT)?,
    }])
}

/// What is wrong with a mainland ID number (居民身份证号, GB 11643).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdNumberProblem {
    /// Not 17 digits and a check character (0–9 or X).
    Shape,
    /// The check character does not match the 17 digits (a digit mistyped).
    CheckCharacter,
}

/// Checks an ID number as kept (trimmed, upper-case): 17 digits and the check character
/// GB 11643 computes from them.
pub fn id_number_problem(n: &str) -> Option<IdNumberProblem> {
    let chars: Vec<char> = n.chars().collect();
    if chars.len() != 18
        || !chars[..17].iter().all(char::is_ascii_digit)
        || !(chars[17].is_ascii_digit() || chars[17] == 'X')
    {
        return Some(IdNumberProblem::Shape);
    }
    let digits: String = chars[..17].iter().collect();
    (Some(chars[17]) != id_check_character(&digits)).then_some(IdNumberProblem::CheckCharacter)
}

/// The check character GB 11643 computes from the 17 digits of an ID number; none when
/// they are not 17 digits.
pub fn id_check_character(digits: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let d: Vec<u32> = digits
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    if d.len() != 17 {
        return None;
    }
    let sum: u32 = d.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    Some(b"10X98765432"[(sum % 11) as usize] as char)
}

/// A phone of at most 20 characters and a valid ID number, as kept (trimmed, the ID
/// number upper-case).
fn personal_fields(phone: Option<&str>, id_number: Option<&str>) -> DomainResult<()> {
    if let Some(p) = phone {
        text("phone", p.trim(), 20)?;
    }
    // A blank ID number is none given.
    if let Some(n) = id_number
        .map(|n| n.trim().to_uppercase())
        .filter(|n| !n.is_empty())
    {
        let reason = match id_number_problem(&n) {
            None => return Ok(()),
            Some(IdNumberProblem::Shape) => {
                "an ID number is 17 digits and a check character (0-9 or X)"
            }
            Some(IdNumberProblem::CheckCharacter) => {
                "the check character does not match the digits (a digit mistyped?)"
            }
        };
        return Err(DomainError::InvalidInput {
            field: "id_number",
            reason: reason.into(),
        });
    }
    Ok(())
}

/// At most 10 tags, each trimmed, not blank, at most [`MAX_TAG`] characters; the same
/// tag once, in the order given.
fn tag_list(tags: &[String]) -> DomainResult<Vec<String>> {
    if tags.len() > 10 {
        return Err(DomainError::InvalidInput {
            field: "tags",
            reason: "at most 10 tags".into(),
        });
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = required_text("tags", t, MAX_TAG)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// A correction of personal data: refused once the data was erased (an erasure is not
/// undone by writing the data again).
pub fn correct_personal_data(
    volunteer: &VolunteerState,
    cmd: &CorrectPersonalData,
) -> DomainResult<Vec<Event>> {
    volunteer.require(cmd.volunteer_id)?;
    if volunteer.personal_data_erased {
        return Err(DomainError::invalid_state(
            "the volunteer's personal data was erased",
        ));
    }
    required_text("name", &cmd.name, MAX_NAME)?;
    personal_fields(cmd.phone.as_deref(), cmd.id_number.as_deref())?;
    Ok(vec![Event::PersonalDataCorrected {}])
}

/// New tags for an active volunteer; the same tags again is refused.
pub fn set_tags(volunteer: &VolunteerState, cmd: &SetVolunteerTags) -> DomainResult<Vec<Event>> {
    volunteer.require_active(cmd.volunteer_id)?;
    let tags = tag_list(&cmd.tags)?;
    if tags == volunteer.tags {
        return Err(DomainError::invalid_state("the volunteer has these tags"));
    }
    Ok(vec![Event::VolunteerTagsSet { tags }])
}
