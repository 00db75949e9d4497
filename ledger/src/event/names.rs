//! What each event is called in the store, its schema version, and the entry it writes.

use super::{current_schema_version, Event};
use crate::ids::EntryId;

impl Event {
    /// The variant name, stored as the event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::CommunityEstablished { .. } => "CommunityEstablished",
            Event::GridAdded { .. } => "GridAdded",
            Event::StairwellRegistered { .. } => "StairwellRegistered",
            Event::TeamFormed { .. } => "TeamFormed",
            Event::PointRulesSet { .. } => "PointRulesSet",
            Event::StarThresholdsSet { .. } => "StarThresholdsSet",
            Event::RubricSet { .. } => "RubricSet",
            Event::ActivityRulesSet { .. } => "ActivityRulesSet",
            Event::VolunteerEnrolled { .. } => "VolunteerEnrolled",
            Event::VolunteerRegistered { .. } => "VolunteerRegistered",
            Event::VolunteerMoved { .. } => "VolunteerMoved",
            Event::TeamJoined { .. } => "TeamJoined",
            Event::TeamLeft { .. } => "TeamLeft",
            Event::VolunteerDeparted { .. } => "VolunteerDeparted",
            Event::ServiceLogged { .. } => "ServiceLogged",
            Event::ServiceVerified { .. } => "ServiceVerified",
            Event::ServiceRejected { .. } => "ServiceRejected",
            Event::PointsAwarded { .. } => "PointsAwarded",
            Event::PointsRedeemed { .. } => "PointsRedeemed",
            Event::EntryReversed { .. } => "EntryReversed",
            Event::PointsRefunded { .. } => "PointsRefunded",
            Event::HoursGifted { .. } => "HoursGifted",
            Event::HoursReceived { .. } => "HoursReceived",
            Event::HoursSpent { .. } => "HoursSpent",
            Event::RelativeLinked { .. } => "RelativeLinked",
            Event::RelativeUnlinked { .. } => "RelativeUnlinked",
            Event::HoursRulesSet { .. } => "HoursRulesSet",
            Event::PointsExpiryRulesSet { .. } => "PointsExpiryRulesSet",
            Event::PointsExpired { .. } => "PointsExpired",
            Event::TrainingRecorded { .. } => "TrainingRecorded",
            Event::CommendationGiven { .. } => "CommendationGiven",
            Event::RecordWithdrawn { .. } => "RecordWithdrawn",
            Event::ServiceEvaluated { .. } => "ServiceEvaluated",
            Event::WishPosted { .. } => "WishPosted",
            Event::WishClaimed { .. } => "WishClaimed",
            Event::WishReleased { .. } => "WishReleased",
            Event::WishFulfilled { .. } => "WishFulfilled",
            Event::WishConfirmed { .. } => "WishConfirmed",
            Event::WishCancelled { .. } => "WishCancelled",
            Event::StairwellInspected { .. } => "StairwellInspected",
            Event::StairwellIssueReported { .. } => "StairwellIssueReported",
            Event::StairwellIssueResolved { .. } => "StairwellIssueResolved",
            Event::PersonalDataErased { .. } => "PersonalDataErased",
            Event::PersonalDataCorrected { .. } => "PersonalDataCorrected",
            Event::VolunteerTagsSet { .. } => "VolunteerTagsSet",
            Event::ActivityPosted { .. } => "ActivityPosted",
            Event::ActivityChanged { .. } => "ActivityChanged",
            Event::ActivityCancelled { .. } => "ActivityCancelled",
            Event::SignedUp { .. } => "SignedUp",
            Event::SignUpWithdrawn { .. } => "SignUpWithdrawn",
            Event::MovedUp { .. } => "MovedUp",
            Event::CheckedIn { .. } => "CheckedIn",
            Event::CheckedOut { .. } => "CheckedOut",
            Event::AttendanceApproved { .. } => "AttendanceApproved",
            Event::LateAttendanceRecorded { .. } => "LateAttendanceRecorded",
            Event::ObjectionRaised { .. } => "ObjectionRaised",
            Event::ObjectionResolved { .. } => "ObjectionResolved",
            Event::AttendanceFinalised { .. } => "AttendanceFinalised",
            Event::ShopItemListed { .. } => "ShopItemListed",
            Event::ShopItemChanged { .. } => "ShopItemChanged",
            Event::ShopItemStockAdjusted { .. } => "ShopItemStockAdjusted",
            Event::ShopItemWithdrawn { .. } => "ShopItemWithdrawn",
            Event::ShopItemRedeemed { .. } => "ShopItemRedeemed",
            Event::RedemptionCollected { .. } => "RedemptionCollected",
            Event::RedemptionCancelled { .. } => "RedemptionCancelled",
            Event::DistrictEstablished(_) => "DistrictEstablished",
            Event::DistrictRenamed(_) => "DistrictRenamed",
            Event::StreetEstablished(_) => "StreetEstablished",
            Event::StreetRenamed(_) => "StreetRenamed",
            Event::StreetJoinedDistrict(_) => "StreetJoinedDistrict",
            Event::StreetLeftDistrict(_) => "StreetLeftDistrict",
            Event::CommunityJoinedStreet(_) => "CommunityJoinedStreet",
            Event::CommunityLeftStreet(_) => "CommunityLeftStreet",
            Event::HistoryRowImported(_) => "HistoryRowImported",
            Event::ImportBatchReversed(_) => "ImportBatchReversed",
            Event::VolunteerTransferred(_) => "VolunteerTransferred",
            Event::VolunteerTransferredOut(_) => "VolunteerTransferredOut",
            Event::TransferRulesSet(_) => "TransferRulesSet",
        }
    }

    /// The current schema version of this event's type.
    pub fn schema_version(&self) -> u32 {
        current_schema_version(self.event_type())
    }

    /// The entry id of a balance-changing event.
    pub fn entry_id(&self) -> Option<EntryId> {
        match self {
            Event::ServiceVerified { entry_id, .. }
            | Event::PointsAwarded { entry_id, .. }
            | Event::PointsRedeemed { entry_id, .. }
            | Event::EntryReversed { entry_id, .. }
            | Event::PointsRefunded { entry_id, .. }
            | Event::PointsExpired { entry_id, .. }
            | Event::HoursGifted { entry_id, .. }
            | Event::HoursReceived { entry_id, .. }
            | Event::HoursSpent { entry_id, .. } => Some(*entry_id),
            Event::VolunteerTransferred(t) => t.points_left.map(|p| p.entry_id),
            _ => None,
        }
    }
}
