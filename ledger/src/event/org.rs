//! The events of the organisation above communities: streets (街道) and districts (区),
//! and which community belongs to which street (and street to which district) from
//! which day. Each is the payload of a variant of [`super::Event`] of the same name.
//!
//! Memberships carry the (UTC+8) day they take effect, which may be earlier than the
//! day they are recorded (a street set up in 2026 over communities that were in it
//! long before): a roll-up of a period takes the organisation as it was on the
//! period's last day.

use crate::ids::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A district (区) set up: `district-…` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistrictEstablished {
    pub district_id: DistrictId,
    pub name: String,
}

/// A district's new name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistrictRenamed {
    pub name: String,
}

/// A street (街道) set up: `street-…` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreetEstablished {
    pub street_id: StreetId,
    pub name: String,
}

/// A street's new name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreetRenamed {
    pub name: String,
}

/// The street belongs to `district_id` from `from` (leaving the district it was in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreetJoinedDistrict {
    pub district_id: DistrictId,
    pub from: NaiveDate,
}

/// The street belongs to no district from `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreetLeftDistrict {
    pub district_id: DistrictId,
    pub from: NaiveDate,
}

/// The community belongs to `street_id` from `from` (leaving the street it was in):
/// in the `community-…` stream, so a community is in one street at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunityJoinedStreet {
    pub street_id: StreetId,
    pub from: NaiveDate,
}

/// The community belongs to no street from `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunityLeftStreet {
    pub street_id: StreetId,
    pub from: NaiveDate,
}
