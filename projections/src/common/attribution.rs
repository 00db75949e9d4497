//! Where a volunteer belongs (community, number, stairwell, grid, teams, tags, departed)
//! as of a point in the log: the attribution an entry counts under in the rankings, the
//! dashboard and the 文明楼道 participation. After a move to another community
//! (`VolunteerTransferred`) new entries count there; earlier ones stay where they were.

use ledger::event::Event;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Where a volunteer belongs, as of a point in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub community: Uuid,
    pub number: String,
    pub stairwell: Uuid,
    pub grid: Uuid,
    pub teams: BTreeSet<Uuid>,
    pub tags: Vec<String>,
    pub departed: bool,
}

impl Attribution {
    /// Folds a volunteer-stream event; `None` until the volunteer is registered.
    pub fn evolve(state: &mut Option<Attribution>, event: &Event) {
        match event {
            Event::VolunteerRegistered {
                community_id,
                volunteer_number,
                stairwell_id,
                grid_id,
                tags,
                teams,
                ..
            } => {
                *state = Some(Attribution {
                    community: community_id.0,
                    number: volunteer_number.clone(),
                    stairwell: stairwell_id.0,
                    grid: grid_id.0,
                    teams: teams.iter().map(|t| t.0).collect(),
                    tags: tags.clone(),
                    departed: false,
                });
            }
            Event::VolunteerMoved {
                stairwell_id,
                grid_id,
                ..
            } => {
                if let Some(a) = state {
                    a.stairwell = stairwell_id.0;
                    a.grid = grid_id.0;
                }
            }
            Event::TeamJoined { team_id } => {
                if let Some(a) = state {
                    a.teams.insert(team_id.0);
                }
            }
            Event::TeamLeft { team_id } => {
                if let Some(a) = state {
                    a.teams.remove(&team_id.0);
                }
            }
            Event::VolunteerDeparted { .. } => {
                if let Some(a) = state {
                    a.departed = true;
                }
            }
            Event::VolunteerTagsSet { tags } => {
                if let Some(a) = state {
                    a.tags = tags.clone();
                }
            }
            // A move to another community: what comes after counts there.
            Event::VolunteerTransferred(t) => {
                if let Some(a) = state {
                    a.community = t.community_id.0;
                    a.number = t.volunteer_number.clone();
                    a.stairwell = t.stairwell_id.0;
                    a.grid = t.grid_id.0;
                    a.teams.clear();
                }
            }
            _ => {}
        }
    }

    /// Whether this event changes the attribution.
    pub fn is_attribution_event(event: &Event) -> bool {
        matches!(
            event,
            Event::VolunteerRegistered { .. }
                | Event::VolunteerMoved { .. }
                | Event::TeamJoined { .. }
                | Event::TeamLeft { .. }
                | Event::VolunteerDeparted { .. }
                | Event::VolunteerTagsSet { .. }
                | Event::VolunteerTransferred(_)
        )
    }
}
