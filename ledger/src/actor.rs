//! Who issues a command: an authenticated principal ([`Actor`]) and what it may do
//! ([`Role`]). A leaf module (ids only), used by the domain and the command layer alike.

use crate::ids::{CommunityId, StreetId, VolunteerId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What an authenticated principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, in every community, including rules (街道/系统管理员).
    Admin,
    /// Community staff (社区书记, 网格员, 民政专干): everything in their one community
    /// except establishing communities and setting rules.
    Staff,
    /// A volunteer acting on their own account.
    Volunteer,
    /// A public display (公示屏): reads only.
    Display,
    /// A street office (街道): reads everything of the communities of its street, masked
    /// as for staff of another community, and renames its street; it does not act inside
    /// a community's records.
    Street,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Volunteer => "volunteer",
            Role::Display => "display",
            Role::Street => "street",
        }
    }
}

/// Who issues a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub principal: Uuid,
    pub role: Role,
    /// The community staff (and volunteers) are bound to.
    #[serde(default)]
    pub community_id: Option<CommunityId>,
    /// The volunteer account of this principal, if any.
    #[serde(default)]
    pub volunteer_id: Option<VolunteerId>,
    /// The street a street office's login is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_id: Option<StreetId>,
}

impl Actor {
    pub fn admin(principal: Uuid) -> Actor {
        Actor {
            street_id: None,
            principal,
            role: Role::Admin,
            community_id: None,
            volunteer_id: None,
        }
    }

    pub fn staff(principal: Uuid, community_id: CommunityId) -> Actor {
        Actor {
            street_id: None,
            principal,
            role: Role::Staff,
            community_id: Some(community_id),
            volunteer_id: None,
        }
    }

    /// A volunteer acting for themself; the principal is the volunteer id.
    pub fn volunteer(volunteer_id: VolunteerId, community_id: CommunityId) -> Actor {
        Actor {
            street_id: None,
            principal: volunteer_id.0,
            role: Role::Volunteer,
            community_id: Some(community_id),
            volunteer_id: Some(volunteer_id),
        }
    }

    pub fn display(principal: Uuid) -> Actor {
        Actor {
            street_id: None,
            principal,
            role: Role::Display,
            community_id: None,
            volunteer_id: None,
        }
    }

    /// A street office's login, bound to `street_id`.
    pub fn street(principal: Uuid, street_id: StreetId) -> Actor {
        Actor {
            principal,
            role: Role::Street,
            community_id: None,
            volunteer_id: None,
            street_id: Some(street_id),
        }
    }

    pub fn is_staff_or_admin(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Staff)
    }
}
