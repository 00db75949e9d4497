//! Commands (what clients ask for), their typed results ([`Outcome`]), and the
//! [`CommandHandler`] that turns a command into an atomic append.
//!
//! A command is a payload struct in the domain module of the aggregate it changes (e.g.
//! [`crate::domain::wish::ClaimWish`], beside the rule that decides it), one line in the
//! list below (its name and the type of its result), and a plan in this module's file of
//! its family (`community`, `volunteer`, `service`, `account`, `wish`, `stairwell`,
//! `activity`, `approval`, `shop`, `record`, `street`, `history`): the
//! streams it locks, the states it loads, the rule it calls and the result it answers.
//! Who may issue it is in [`authorize`]; the handler only loops (load, decide, append,
//! retry).
//!
//! Amounts in commands are plain decimals, checked by the domain (a value finer than a
//! minute or a hundredth of a point is refused, never rounded). Ids of things a command
//! creates are derived from its idempotency key (see [`crate::domain::IdSource`]) and
//! returned in the result.

mod account;
mod activity;
mod approval;
mod authorize;
mod clock;
mod community;
pub(crate) mod decision;
mod handler;
mod history;
mod locks;
mod outcome;
mod record;
mod service;
mod shop;
mod stairwell;
mod street;
mod throttle;
mod transfer;
mod volunteer;
mod wish;

pub use crate::actor::{Actor, Role};
pub use account::{AwardMade, AwardsMade, BalanceEntry, HoursGift};
pub use activity::{ActivityChange, Attendance, NewActivity, Signed};
pub use approval::{AttendanceOutcome, LateRecord, ObjectionRef};
pub use authorize::authorize;
pub use clock::{Clock, FixedClock, SystemClock};
pub use community::{NewCommunity, NewGrid, NewStairwell, NewTeam, RulesVersion};
pub use handler::{CommandError, CommandHandler, CommandOutcome, MAX_CONFLICT_RETRIES};
pub use history::{BatchReversal, ImportedService};
pub use record::{EvaluationRef, RecordRef};
pub use service::{ServiceRef, Verification};
pub use shop::{RedemptionChange, RedemptionMade, ShopItemRef};
pub use stairwell::{InspectionTotal, IssueRef};
pub use street::{MembershipChange, NewDistrict, NewStreet};
pub use throttle::MAX_WRONG_CODES;
pub use transfer::Transferred;
pub use volunteer::{Erasure, NewVolunteer, RelativeRef, VolunteerRef};
pub use wish::{WishChange, WishConfirmation, WishRef};

pub use crate::domain::activity::{
    ApproveAttendance, AttendanceAdjustment, CancelActivity, ChangeActivity, CheckIn, CheckOut,
    Exclusion, FinaliseAttendance, PostActivity, RaiseObjection, RecordLateAttendance,
    ResolveObjection, SignUp, Verdict, WithdrawSignUp,
};
pub use crate::domain::community::{
    AddGrid, EstablishCommunity, FormTeam, RegisterStairwell, SetActivityRules, SetHoursRules,
    SetPointRules, SetPointsExpiry, SetRubric, SetStarThresholds, SetTransferRules,
};
pub use crate::domain::history::{ImportHistoryRow, ReverseImportBatch};
pub use crate::domain::shop::{
    AdjustShopStock, CancelRedemption, ChangeShopItem, CollectRedemption, ListShopItem,
    RedeemShopItem, WithdrawShopItem,
};
pub use crate::domain::stairwell::{RecordInspection, ReportStairwellIssue, ResolveStairwellIssue};
pub use crate::domain::street::{
    EstablishDistrict, EstablishStreet, JoinDistrict, JoinStreet, LeaveDistrict, LeaveStreet,
    RenameDistrict, RenameStreet,
};
pub use crate::domain::volunteer::{
    AwardPoints, AwardPointsToMany, CorrectPersonalData, DepartVolunteer, ErasePersonalData,
    EvaluateService, ExpirePoints, GiftHours, GiveCommendation, JoinTeam, LeaveTeam, LinkRelative,
    LogService, MoveVolunteer, RecordTraining, RedeemPoints, RegisterVolunteer, RejectService,
    ReverseEntry, SetVolunteerTags, SpendHours, TransferVolunteer, UnlinkRelative, VerifyService,
    WithdrawRecord,
};
pub use crate::domain::wish::{
    CancelWish, ClaimWish, ConfirmWish, FulfilWish, PostWish, ReleaseWish,
};

use crate::ids::*;
use decision::{Decision, Plan};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A command payload and the type of its result.
pub trait CommandPayload: Into<Command> {
    /// The command's name (its variant of [`Command`]).
    const NAME: &'static str;
    /// What the command answers.
    type Output;

    /// The result of this command out of an [`Outcome`] of it (`None` for another
    /// command's outcome).
    fn output(outcome: Outcome) -> Option<Self::Output>;
}

macro_rules! commands {
    ($( $name:ident => $output:ty, )*) => {
        /// Every command. JSON: `{"type": "AwardPoints", …fields}`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum Command {
            $( $name($name), )*
        }

        /// What a command produced: one variant per command, with its typed result.
        /// The command record keeps the result's own JSON (the command it belongs to
        /// names the variant), as every release has stored it.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Outcome {
            $( $name($output), )*
        }

        $(
            impl From<$name> for Command {
                fn from(c: $name) -> Command {
                    Command::$name(c)
                }
            }

            impl CommandPayload for $name {
                const NAME: &'static str = stringify!($name);
                type Output = $output;

                fn output(outcome: Outcome) -> Option<$output> {
                    match outcome {
                        Outcome::$name(o) => Some(o),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )*

        impl Command {
            /// The variant name.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Command::$name(_) => stringify!($name), )*
                }
            }

            /// The streams the command writes that are known before loading, locked
            /// in process.
            fn locks(&self) -> Vec<String> {
                match self {
                    $( Command::$name(c) => c.locks(), )*
                }
            }

            /// Decides the command on the states `d` loads.
            pub(crate) async fn plan(&self, d: &Decision<'_>) -> Result<Plan<Outcome>, CommandError> {
                if let Some(c) = self.community_id() {
                    d.authorize(Some(c))?;
                }
                match self {
                    $( Command::$name(c) => Ok(c.plan(d).await?.map(Outcome::$name)), )*
                }
            }

            /// This command's result as stored in its command record.
            pub fn decode_outcome(&self, result: Value) -> Result<Outcome, serde_json::Error> {
                Outcome::from_json(self.name(), result)?.ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown command {}", self.name()))
                })
            }
        }

        impl Outcome {
            /// The name of the command that produced it.
            pub fn command_name(&self) -> &'static str {
                match self {
                    $( Outcome::$name(_) => stringify!($name), )*
                }
            }

            /// The JSON the command record keeps.
            pub fn to_json(&self) -> Result<Value, serde_json::Error> {
                match self {
                    $( Outcome::$name(o) => serde_json::to_value(o), )*
                }
            }

            /// The outcome of the command named `command` from the JSON its record
            /// keeps (`None` for a name that is no command).
            pub fn from_json(command: &str, result: Value) -> Result<Option<Outcome>, serde_json::Error> {
                Ok(Some(match command {
                    $( stringify!($name) => Outcome::$name(serde_json::from_value(result)?), )*
                    _ => return Ok(None),
                }))
            }
        }
    };
}

commands! {
    EstablishCommunity => NewCommunity,
    AddGrid => NewGrid,
    RegisterStairwell => NewStairwell,
    FormTeam => NewTeam,
    SetPointRules => RulesVersion,
    SetStarThresholds => RulesVersion,
    SetRubric => RulesVersion,
    RegisterVolunteer => NewVolunteer,
    MoveVolunteer => VolunteerRef,
    JoinTeam => VolunteerRef,
    LeaveTeam => VolunteerRef,
    DepartVolunteer => VolunteerRef,
    LogService => ServiceRef,
    VerifyService => Verification,
    RejectService => ServiceRef,
    AwardPoints => BalanceEntry,
    RedeemPoints => BalanceEntry,
    ReverseEntry => BalanceEntry,
    GiftHours => HoursGift,
    SpendHours => BalanceEntry,
    PostWish => WishRef,
    ClaimWish => WishChange,
    ReleaseWish => WishChange,
    FulfilWish => WishChange,
    ConfirmWish => WishConfirmation,
    CancelWish => WishChange,
    RecordInspection => InspectionTotal,
    ReportStairwellIssue => IssueRef,
    ResolveStairwellIssue => IssueRef,
    ErasePersonalData => Erasure,
    SetActivityRules => RulesVersion,
    PostActivity => NewActivity,
    ChangeActivity => ActivityChange,
    CancelActivity => ActivityChange,
    SignUp => Signed,
    WithdrawSignUp => ActivityChange,
    CheckIn => Attendance,
    CheckOut => Attendance,
    ApproveAttendance => AttendanceOutcome,
    RecordLateAttendance => LateRecord,
    RaiseObjection => ObjectionRef,
    ResolveObjection => ObjectionRef,
    FinaliseAttendance => AttendanceOutcome,
    CorrectPersonalData => VolunteerRef,
    SetVolunteerTags => VolunteerRef,
    AwardPointsToMany => AwardsMade,
    ListShopItem => ShopItemRef,
    ChangeShopItem => ShopItemRef,
    AdjustShopStock => ShopItemRef,
    WithdrawShopItem => ShopItemRef,
    RedeemShopItem => RedemptionMade,
    CollectRedemption => RedemptionChange,
    CancelRedemption => RedemptionChange,
    SetHoursRules => RulesVersion,
    LinkRelative => RelativeRef,
    UnlinkRelative => RelativeRef,
    RecordTraining => RecordRef,
    GiveCommendation => RecordRef,
    WithdrawRecord => RecordRef,
    EvaluateService => EvaluationRef,
    SetPointsExpiry => RulesVersion,
    ExpirePoints => BalanceEntry,
    EstablishDistrict => NewDistrict,
    EstablishStreet => NewStreet,
    RenameStreet => NewStreet,
    RenameDistrict => NewDistrict,
    JoinStreet => MembershipChange,
    LeaveStreet => MembershipChange,
    JoinDistrict => MembershipChange,
    LeaveDistrict => MembershipChange,
    ImportHistoryRow => ImportedService,
    ReverseImportBatch => BatchReversal,
    TransferVolunteer => Transferred,
    SetTransferRules => RulesVersion,
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
            SetActivityRules(c) => Some(c.community_id),
            PostActivity(c) => Some(c.community_id),
            ListShopItem(c) => Some(c.community_id),
            SetHoursRules(c) => Some(c.community_id),
            SetPointsExpiry(c) => Some(c.community_id),
            ImportHistoryRow(c) => Some(c.community_id),
            SetTransferRules(c) => Some(c.community_id),
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
            Command::CorrectPersonalData(_) => &["name", "phone", "id_number"],
            _ => &[],
        };
        if let Some(obj) = value.as_object_mut() {
            // A reversal's preview is read when it is made: a retry may see it moved.
            obj.remove("impact");
            obj.remove("impacts");
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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use uuid::Uuid;

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
}
