//! Commands (what clients ask for), who asks ([`Actor`]), the authorization rules, and
//! the [`CommandHandler`] that turns a command into an atomic append.
//!
//! Amounts in commands are plain decimals, checked by the domain (a value finer than a
//! minute or a hundredth of a point is refused, never rounded). Ids of things a command
//! creates are derived from its idempotency key (see [`crate::domain::IdSource`]) and
//! returned in the result.

mod handler;

pub use handler::{
    Clock, CommandError, CommandHandler, CommandOutcome, FixedClock, SystemClock,
    MAX_CONFLICT_RETRIES,
};

use crate::domain::DomainError;
use crate::event::{RubricItem, ServiceKind};
use crate::ids::*;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
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
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Volunteer => "volunteer",
            Role::Display => "display",
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
}

impl Actor {
    pub fn admin(principal: Uuid) -> Actor {
        Actor {
            principal,
            role: Role::Admin,
            community_id: None,
            volunteer_id: None,
        }
    }

    pub fn staff(principal: Uuid, community_id: CommunityId) -> Actor {
        Actor {
            principal,
            role: Role::Staff,
            community_id: Some(community_id),
            volunteer_id: None,
        }
    }

    /// A volunteer acting for themself; the principal is the volunteer id.
    pub fn volunteer(volunteer_id: VolunteerId, community_id: CommunityId) -> Actor {
        Actor {
            principal: volunteer_id.0,
            role: Role::Volunteer,
            community_id: Some(community_id),
            volunteer_id: Some(volunteer_id),
        }
    }

    pub fn display(principal: Uuid) -> Actor {
        Actor {
            principal,
            role: Role::Display,
            community_id: None,
            volunteer_id: None,
        }
    }

    pub fn is_staff_or_admin(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Staff)
    }
}

macro_rules! commands {
    ($( $(#[$doc:meta])* $name:ident { $( $(#[$fdoc:meta])* $field:ident : $ty:ty ),* $(,)? } )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                $( $(#[$fdoc])* pub $field: $ty, )*
            }

            impl From<$name> for Command {
                fn from(c: $name) -> Command {
                    Command::$name(c)
                }
            }
        )*

        /// Every command. JSON: `{"type": "AwardPoints", …fields}`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum Command {
            $( $name($name), )*
        }

        impl Command {
            /// The variant name.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Command::$name(_) => stringify!($name), )*
                }
            }
        }
    };
}

commands! {
    /// 建立社区 (admin).
    EstablishCommunity { name: String }
    /// Adds a grid (网格), or a micro-grid (微网格) under `parent`.
    AddGrid { community_id: CommunityId, name: String, #[serde(default)] parent: Option<GridId> }
    /// Registers a stairwell (楼道): building (楼栋) and unit (单元) in a grid.
    RegisterStairwell { community_id: CommunityId, grid_id: GridId, building: String, unit: String, households: u32 }
    FormTeam { community_id: CommunityId, name: String }
    /// New point rules version (admin). Kinds without a coefficient use 1.
    SetPointRules {
        community_id: CommunityId,
        points_per_hour: Decimal,
        #[serde(default)] coefficients: BTreeMap<ServiceKind, Decimal>,
        max_hours_per_record: Decimal,
        effective_from: NaiveDate,
    }
    /// New star thresholds version (admin): five ascending cumulative hours.
    SetStarThresholds { community_id: CommunityId, thresholds: Vec<Decimal>, effective_from: NaiveDate }
    /// New stairwell rubric version (admin).
    SetRubric { community_id: CommunityId, items: Vec<RubricItem>, participation_max: Decimal, effective_from: NaiveDate }
    /// Registers a volunteer. `name`, `phone` and `id_number` are personal data: they are
    /// stored beside the log (`Store::put_person`), never in events.
    RegisterVolunteer {
        community_id: CommunityId,
        name: String,
        #[serde(default)] phone: Option<String>,
        #[serde(default)] id_number: Option<String>,
        stairwell_id: StairwellId,
        #[serde(default)] tags: Vec<String>,
        #[serde(default)] teams: Vec<TeamId>,
        /// The household (户) in the stairwell, e.g. room "3-2-201" (at most 30
        /// characters); without one the volunteer counts as a household of their own.
        #[serde(default)] household: Option<String>,
    }
    /// Moves a volunteer to another stairwell, or to another household of the same one.
    MoveVolunteer {
        volunteer_id: VolunteerId,
        stairwell_id: StairwellId,
        #[serde(default)] household: Option<String>,
    }
    JoinTeam { volunteer_id: VolunteerId, team_id: TeamId }
    LeaveTeam { volunteer_id: VolunteerId, team_id: TeamId }
    DepartVolunteer { volunteer_id: VolunteerId, reason: String }
    /// Logs a service (by the volunteer or by staff), awaiting verification.
    LogService {
        volunteer_id: VolunteerId,
        kind: ServiceKind,
        started_at: DateTime<Utc>,
        hours: Decimal,
        #[serde(default)] place: String,
        #[serde(default)] note: String,
    }
    VerifyService { volunteer_id: VolunteerId, service_id: ServiceId }
    RejectService { volunteer_id: VolunteerId, service_id: ServiceId, reason: String }
    /// 积分奖励 (staff); a reason is required.
    AwardPoints { volunteer_id: VolunteerId, points: Decimal, reason: String }
    /// Redemption at the points shop (积分超市); never overdraws.
    RedeemPoints { volunteer_id: VolunteerId, points: Decimal, item: String }
    /// Corrects an earlier entry (a verified service or an award).
    ReverseEntry { volunteer_id: VolunteerId, entry_id: EntryId, reason: String }
    /// Gifts banked hours to another volunteer (a relative).
    GiftHours { from: VolunteerId, to: VolunteerId, hours: Decimal }
    /// Spends banked hours on receiving a service.
    SpendHours { volunteer_id: VolunteerId, hours: Decimal, description: String }
    /// Posts a resident's small wish (小心愿) to the wish library.
    PostWish {
        community_id: CommunityId,
        stairwell_id: StairwellId,
        category: String,
        description: String,
        resident_label: String,
    }
    ClaimWish { wish_id: WishId, volunteer_id: VolunteerId }
    /// Releases a claimed wish (by its claimer or staff).
    ReleaseWish { wish_id: WishId }
    /// The claimer reports the wish fulfilled; `fulfilled_at` defaults to now.
    FulfilWish {
        wish_id: WishId,
        volunteer_id: VolunteerId,
        hours: Decimal,
        #[serde(default)] note: String,
        #[serde(default)] fulfilled_at: Option<DateTime<Utc>>,
    }
    /// Staff confirm a fulfilled wish; the service is recorded on the claimer's account.
    ConfirmWish { wish_id: WishId }
    CancelWish { wish_id: WishId, reason: String }
    /// A monthly stairwell inspection: a score per rubric item and `participation`.
    RecordInspection {
        community_id: CommunityId,
        stairwell_id: StairwellId,
        month: String,
        scores: BTreeMap<String, Decimal>,
        #[serde(default)] note: String,
    }
    ReportStairwellIssue { community_id: CommunityId, stairwell_id: StairwellId, description: String, deduction: Decimal }
    ResolveStairwellIssue { community_id: CommunityId, stairwell_id: StairwellId, issue_id: IssueId, #[serde(default)] note: String }
    /// Erases a volunteer's personal data on request (admin, or staff of the community):
    /// the name, phone and ID number beside the log, and what the command records keep
    /// of them. Events and totals stay; the volunteer shows as erased.
    ErasePersonalData { volunteer_id: VolunteerId }
}

impl Command {
    /// The community named by the command itself, if it names one.
    pub fn community_id(&self) -> Option<CommunityId> {
        use Command::*;
        match self {
            AddGrid(c) => Some(c.community_id),
            RegisterStairwell(c) => Some(c.community_id),
            FormTeam(c) => Some(c.community_id),
            SetPointRules(c) => Some(c.community_id),
            SetStarThresholds(c) => Some(c.community_id),
            SetRubric(c) => Some(c.community_id),
            RegisterVolunteer(c) => Some(c.community_id),
            PostWish(c) => Some(c.community_id),
            RecordInspection(c) => Some(c.community_id),
            ReportStairwellIssue(c) => Some(c.community_id),
            ResolveStairwellIssue(c) => Some(c.community_id),
            _ => None,
        }
    }

    /// The JSON kept with the command's idempotency record, to tell a retry from a
    /// different command. Personal data (name, phone, ID number, household) is replaced by a
    /// SHA-256 digest salted with the key and `pepper` (a secret of the deployment kept
    /// beside the log), so it never lands in the command records and cannot be recovered
    /// from them by trying likely values.
    pub fn fingerprint(&self, idempotency_key: &str, pepper: &[u8]) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        let personal: &[&str] = match self {
            Command::RegisterVolunteer(_) => &["name", "phone", "id_number", "household"],
            Command::MoveVolunteer(_) => &["household"],
            _ => &[],
        };
        if let Some(obj) = value.as_object_mut() {
            for field in personal {
                if let Some(v) = obj.get_mut(*field) {
                    if let Some(s) = v.as_str() {
                        let mut h = Sha256::new();
                        h.update(pepper);
                        h.update(idempotency_key.as_bytes());
                        h.update([0u8]);
                        h.update(s.as_bytes());
                        *v = serde_json::Value::String(format!(
                            "sha256:{}",
                            hex::encode(h.finalize())
                        ));
                    }
                }
            }
        }
        value
    }
}

/// Whether `actor` may issue `command` in `target` (the community the command acts
/// in, `None` only for establishing a community).
///
/// - display: nothing;
/// - admin: everything, everywhere;
/// - staff: everything in their own community except establishing communities and
///   setting point rules, star thresholds and rubrics;
/// - volunteer: in their own community, log their own service, claim / release /
///   fulfil wishes for themself, gift and spend their own hours.
pub fn authorize(
    actor: &Actor,
    command: &Command,
    target: Option<CommunityId>,
) -> Result<(), DomainError> {
    use Command::*;
    let in_own_community = || match (actor.community_id, target) {
        (Some(own), Some(t)) => own == t,
        _ => false,
    };
    match actor.role {
        Role::Display => Err(DomainError::forbidden("a display cannot issue commands")),
        Role::Admin => Ok(()),
        Role::Staff => {
            if matches!(
                command,
                EstablishCommunity(_) | SetPointRules(_) | SetStarThresholds(_) | SetRubric(_)
            ) {
                return Err(DomainError::forbidden(format!(
                    "{} is for administrators",
                    command.name()
                )));
            }
            if in_own_community() {
                Ok(())
            } else {
                Err(DomainError::forbidden(
                    "staff act only in their own community",
                ))
            }
        }
        Role::Volunteer => {
            if !in_own_community() {
                return Err(DomainError::forbidden(
                    "volunteers act only in their own community",
                ));
            }
            let own = actor.volunteer_id;
            let is_self = |v: VolunteerId| own == Some(v);
            let allowed = match command {
                LogService(c) => is_self(c.volunteer_id),
                ClaimWish(c) => is_self(c.volunteer_id),
                FulfilWish(c) => is_self(c.volunteer_id),
                // the domain checks that the volunteer is the claimer
                ReleaseWish(_) => own.is_some(),
                GiftHours(c) => is_self(c.from),
                SpendHours(c) => is_self(c.volunteer_id),
                _ => false,
            };
            if allowed {
                Ok(())
            } else {
                Err(DomainError::forbidden(format!(
                    "a volunteer cannot issue {} for this account",
                    command.name()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_json_is_tagged() {
        let c = Command::AwardPoints(AwardPoints {
            volunteer_id: VolunteerId(Uuid::from_u128(1)),
            points: Decimal::new(1250, 2),
            reason: "楼道清理".into(),
        });
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["type"], "AwardPoints");
        assert_eq!(v["points"], "12.50");
        let back: Command = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn fingerprint_hides_personal_data() {
        let c = Command::RegisterVolunteer(RegisterVolunteer {
            community_id: CommunityId(Uuid::from_u128(1)),
            name: "张三".into(),
            phone: Some("13812345678".into()),
            id_number: None,
            stairwell_id: StairwellId(Uuid::from_u128(2)),
            tags: vec![],
            teams: vec![],
            household: Some("3-2-201".into()),
        });
        let f = c.fingerprint("k1", b"pepper").to_string();
        assert!(!f.contains("张三") && !f.contains("13812345678") && !f.contains("3-2-201"));
        assert_eq!(
            c.fingerprint("k1", b"pepper"),
            c.fingerprint("k1", b"pepper")
        );
        // Without the pepper, the record alone does not tell the value.
        assert_ne!(
            c.fingerprint("k1", b"pepper"),
            c.fingerprint("k1", b"other")
        );
    }

    #[test]
    fn authorization_matrix() {
        let c1 = CommunityId(Uuid::from_u128(1));
        let c2 = CommunityId(Uuid::from_u128(2));
        let v = VolunteerId(Uuid::from_u128(3));
        let other = VolunteerId(Uuid::from_u128(4));
        let spend = |vid| {
            Command::SpendHours(SpendHours {
                volunteer_id: vid,
                hours: Decimal::ONE,
                description: "x".into(),
            })
        };
        let award = Command::AwardPoints(AwardPoints {
            volunteer_id: v,
            points: Decimal::ONE,
            reason: "r".into(),
        });
        let rules = Command::SetStarThresholds(SetStarThresholds {
            community_id: c1,
            thresholds: vec![],
            effective_from: NaiveDate::MIN,
        });
        let vol = Actor::volunteer(v, c1);
        assert!(authorize(&vol, &spend(v), Some(c1)).is_ok());
        assert!(authorize(&vol, &spend(other), Some(c1)).is_err());
        assert!(authorize(&vol, &award, Some(c1)).is_err());
        let staff = Actor::staff(Uuid::from_u128(9), c1);
        assert!(authorize(&staff, &award, Some(c1)).is_ok());
        assert!(authorize(&staff, &award, Some(c2)).is_err());
        assert!(authorize(&staff, &rules, Some(c1)).is_err());
        assert!(authorize(&Actor::admin(Uuid::nil()), &rules, Some(c1)).is_ok());
        let err = authorize(&Actor::display(Uuid::nil()), &award, Some(c1)).unwrap_err();
        assert_eq!(err.code(), "FORBIDDEN");
    }
}
