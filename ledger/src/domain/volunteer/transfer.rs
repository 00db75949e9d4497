//! A volunteer's move to another community (记录转移接续): the record follows the
//! person (hours, stars, the statement, the service record, certificates), the new
//! community gives them its next number, the old community's teams are left, and the
//! points follow or stay by the old community's transfer rules in force that day.

use super::super::community::CommunityState;
use super::super::*;
use super::registration::household;
use super::{HouseholdKey, ServiceStatus, VolunteerState};
use crate::event::{PointsLeft, TransferRulesSet, VolunteerTransferred, VolunteerTransferredOut};
use serde::{Deserialize, Serialize};

/// Moves a volunteer's record to `to_community`, into `stairwell_id` there. Staff of
/// the community left may issue it, and so may staff of the receiving community when
/// they give the person's ID number (as on the ID card before them): the refusal of a
/// second registration (`DUPLICATE_PERSON`) offers exactly this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferVolunteer {
    pub volunteer_id: VolunteerId,
    pub to_community: CommunityId,
    pub stairwell_id: StairwellId,
    #[serde(default)]
    pub household: Option<String>,
    pub reason: String,
    /// The person's ID number, which staff of the receiving community must give.
    /// Personal data: it is checked against what is kept beside the log, never
    /// written to an event.
    #[serde(default)]
    pub id_number: Option<String>,
}

/// The transfer: `(the community left's events, the receiving community's events, the
/// volunteer's events)`.
/// `rules` are the old community's transfer rules in force today; `points_entry` the
/// entry that takes the points out when they stay.
pub fn transfer(
    to: &CommunityState,
    volunteer: &VolunteerState,
    cmd: &TransferVolunteer,
    rules: TransferRulesSet,
    points_entry: EntryId,
    households: &HouseholdKey,
    by: Uuid,
) -> DomainResult<Transfer> {
    let from = volunteer.require_active(cmd.volunteer_id)?;
    let to_id = to.require(cmd.to_community)?;
    if from == to_id {
        return Err(DomainError::invalid_state(
            "the volunteer already belongs to this community (move them to another stairwell instead)",
        ));
    }
    let waiting = volunteer
        .services
        .values()
        .filter(|s| s.status == ServiceStatus::Logged)
        .count();
    if waiting > 0 {
        return Err(DomainError::invalid_state(format!(
            "{waiting} service record(s) await verification in the old community: verify or reject them first"
        )));
    }
    let reason = required_text("reason", &cmd.reason, MAX_TEXT)?;
    let grid_id = to.stairwell(cmd.stairwell_id)?.grid_id;
    let household =
        household(cmd.household.as_deref())?.map(|h| households.pseudonym(cmd.stairwell_id, &h));
    let points_left =
        (!rules.points_follow && volunteer.points.is_positive()).then_some(PointsLeft {
            entry_id: points_entry,
            points: volunteer.points,
        });
    let volunteer_number = to.next_volunteer_number();
    Ok((
        vec![Event::VolunteerTransferredOut(VolunteerTransferredOut {
            volunteer_id: cmd.volunteer_id,
            to_community: to_id,
        })],
        vec![Event::VolunteerEnrolled {
            volunteer_id: cmd.volunteer_id,
            volunteer_number: volunteer_number.clone(),
        }],
        vec![Event::VolunteerTransferred(VolunteerTransferred {
            volunteer_id: cmd.volunteer_id,
            from_community: from,
            community_id: to_id,
            volunteer_number,
            stairwell_id: cmd.stairwell_id,
            grid_id,
            household,
            tags: volunteer.tags.clone(),
            teams_left: volunteer.teams.iter().copied().collect(),
            rule_version: rules.version,
            points_follow: rules.points_follow,
            points_left,
            reason,
            transferred_by: by,
            verified_hours: volunteer.verified_hours,
            star_points: volunteer.star_points(),
        })],
    ))
}

/// What a transfer writes: to the community left, the receiving one, the volunteer.
pub type Transfer = (Vec<Event>, Vec<Event>, Vec<Event>);

impl VolunteerState {
    /// Points earned net of reversals (what a star rule with points counts).
    pub fn star_points(&self) -> Points {
        use super::EntryKind::*;
        let (mut earned, mut reversed) = (Points::ZERO, Points::ZERO);
        for e in self.entries.values() {
            match e.kind {
                ServiceVerified | PointsAwarded => earned = earned.saturating_add(e.points),
                Reversal => reversed = reversed.saturating_add(e.points),
                _ => {}
            }
        }
        earned.saturating_sub(reversed)
    }

    /// Folds a transfer: the new community, number and home; no teams; the points
    /// that stayed taken out (from the oldest lots, as a redemption would).
    pub(super) fn transferred(&mut self, t: &VolunteerTransferred) {
        self.community_id = Some(t.community_id);
        self.volunteer_number = t.volunteer_number.clone();
        self.stairwell_id = Some(t.stairwell_id);
        self.grid_id = Some(t.grid_id);
        self.household = t.household.clone();
        self.teams.clear();
        if let Some(left) = t.points_left {
            self.take(left.points, None);
            self.add_entry(
                left.entry_id,
                super::EntryKind::PointsLeft,
                left.points,
                crate::amount::Hours::ZERO,
            );
            self.points = self.points.saturating_sub(left.points);
        }
    }
}
