//! Who may issue which command, in which community: the whole role matrix in one place.
//! A new command needs an entry here only when volunteers may issue it or it is for
//! administrators only; otherwise staff (in their own community) and admins may.

use super::Command;
use crate::actor::{Actor, Role};
use crate::domain::DomainError;
use crate::ids::*;

/// Whether `actor` may issue `command` in `target` (the community the command acts
/// in, `None` only for establishing a community).
///
/// - display: nothing;
/// - admin: everything, everywhere; alone establishes streets and districts and says
///   which community is in which street;
/// - street: renames its own street, nothing inside a community;
/// - staff: everything in their own community except establishing communities and
///   setting point rules, star thresholds and rubrics;
/// - volunteer: in their own community, log their own service, claim / release /
///   fulfil wishes for themself, gift and spend their own hours, sign up for and
///   withdraw from activities, check in and out (with the code), object to a
///   record on notice, redeem at the points shop (and cancel their own redemption), and
///   evaluate a service they received for their hours.
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
        Role::Street => match command {
            RenameStreet(c) if actor.street_id == Some(c.street_id) => Ok(()),
            _ => Err(DomainError::forbidden(format!(
                "a street office reads its communities but does not issue {} (their staff do)",
                command.name()
            ))),
        },
        Role::Staff => {
            if matches!(
                command,
                EstablishCommunity(_)
                    | SetPointRules(_)
                    | SetStarThresholds(_)
                    | SetRubric(_)
                    | SetActivityRules(_)
                    | SetHoursRules(_)
                    | SetPointsExpiry(_)
                    | SetTransferRules(_)
                    | EstablishDistrict(_)
                    | EstablishStreet(_)
                    | RenameStreet(_)
                    | RenameDistrict(_)
                    | JoinStreet(_)
                    | LeaveStreet(_)
                    | JoinDistrict(_)
                    | LeaveDistrict(_)
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
                SignUp(c) => is_self(c.volunteer_id),
                WithdrawSignUp(c) => is_self(c.volunteer_id),
                // with the activity's code (the domain requires it of a volunteer)
                CheckIn(c) => is_self(c.volunteer_id),
                CheckOut(c) => is_self(c.volunteer_id),
                // any volunteer of the community may object to a record on notice
                RaiseObjection(_) => own.is_some(),
                RedeemShopItem(c) => is_self(c.volunteer_id),
                // the domain checks that the redemption is the volunteer's own
                CancelRedemption(_) => own.is_some(),
                UnlinkRelative(c) => is_self(c.volunteer_id) || is_self(c.relative_id),
                // the domain checks that the volunteer received the service
                EvaluateService(c) => own.is_some() && !is_self(c.volunteer_id),
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
    use crate::domain::community::SetStarThresholds;
    use crate::domain::volunteer::{AwardPoints, SpendHours};
    use chrono::NaiveDate;
    use rust_decimal::Decimal;
    use uuid::Uuid;

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
                provider: None,
                kind: None,
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
            points: None,
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
