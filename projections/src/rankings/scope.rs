//! What a ranking is scoped to (a community, a grid, a team, a tag) and the scope keys
//! an entry counts in: those of the volunteer's attribution at the time.

use crate::common::Attribution;
use ledger::ids::{CommunityId, GridId, TeamId};
use serde::{Deserialize, Serialize};

/// The scope keys of an attribution.
pub fn scopes_of(a: &Attribution) -> Vec<String> {
    let mut s = vec![
        Scope::Community(CommunityId(a.community)).key(),
        Scope::Grid(GridId(a.grid)).key(),
    ];
    s.extend(a.teams.iter().map(|t| Scope::Team(TeamId(*t)).key()));
    s.extend(
        a.tags
            .iter()
            .map(|t| Scope::Tag(CommunityId(a.community), t.clone()).key()),
    );
    s.sort();
    s.dedup();
    s
}

/// What a ranking is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    Community(CommunityId),
    Grid(GridId),
    Team(TeamId),
    /// A tag (党员, 五老, 青年…) within a community.
    Tag(CommunityId, String),
}

impl Scope {
    pub fn key(&self) -> String {
        match self {
            Scope::Community(c) => format!("c:{c}"),
            Scope::Grid(g) => format!("g:{g}"),
            Scope::Team(t) => format!("t:{t}"),
            Scope::Tag(c, tag) => format!("tag:{c}:{tag}"),
        }
    }
}
