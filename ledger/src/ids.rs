//! Typed identifiers (UUID newtypes) and stream names.
//!
//! Each aggregate instance has a stream: `community-{uuid}` (社区), `volunteer-{uuid}`
//! (志愿者账户), `wish-{uuid}` (小心愿), `stairwell-{uuid}` (楼道), `activity-{uuid}` (活动),
//! `shop-item-{uuid}` (积分超市的商品), `street-{uuid}` (街道), `district-{uuid}` (区),
//! `import-{uuid}` (历史导入的批次).

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub const fn from_uuid(id: Uuid) -> Self {
                $name(id)
            }
            /// A fresh random id.
            pub fn new_random() -> Self {
                $name(Uuid::new_v4())
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

id_type!(
    /// A community (社区).
    CommunityId
);
id_type!(
    /// A grid (网格) or micro-grid (微网格).
    GridId
);
id_type!(
    /// A stairwell / unit (楼道, 单元).
    StairwellId
);
id_type!(
    /// A volunteer team (志愿服务队), e.g. one of the six colour teams.
    TeamId
);
id_type!(
    /// A volunteer's account (志愿者).
    VolunteerId
);
id_type!(
    /// A logged service (志愿服务记录).
    ServiceId
);
id_type!(
    /// A balance-changing entry of a volunteer account; reversals name it.
    EntryId
);
id_type!(
    /// A small wish (小心愿).
    WishId
);
id_type!(
    /// A stairwell issue (楼道问题), reported with a deduction.
    IssueId
);
id_type!(
    /// An activity (志愿活动) that volunteers sign up for and attend.
    ActivityId
);
id_type!(
    /// An objection (异议) raised against an attendance record during its 公示.
    ObjectionId
);

id_type!(
    /// An item of a community's points shop (积分超市).
    ShopItemId
);
id_type!(
    /// One redemption of a shop item (兑换), with its redemption code.
    RedemptionId
);
id_type!(
    /// A street (街道): the office over 10–30 communities.
    StreetId
);
id_type!(
    /// A district (区): the level above streets.
    DistrictId
);
id_type!(
    /// An item of a volunteer's service record (服务档案): a training attended or a
    /// commendation.
    RecordId
);
id_type!(
    /// A history import (历史导入): the past services of one sheet, reversed as one.
    ImportBatchId
);

pub const COMMUNITY_PREFIX: &str = "community-";
pub const VOLUNTEER_PREFIX: &str = "volunteer-";
pub const WISH_PREFIX: &str = "wish-";
pub const STAIRWELL_PREFIX: &str = "stairwell-";
pub const ACTIVITY_PREFIX: &str = "activity-";
pub const SHOP_ITEM_PREFIX: &str = "shop-item-";
pub const STREET_PREFIX: &str = "street-";
pub const DISTRICT_PREFIX: &str = "district-";
pub const IMPORT_PREFIX: &str = "import-";

pub fn community_stream(id: CommunityId) -> String {
    format!("{COMMUNITY_PREFIX}{}", id.0)
}

pub fn volunteer_stream(id: VolunteerId) -> String {
    format!("{VOLUNTEER_PREFIX}{}", id.0)
}

pub fn wish_stream(id: WishId) -> String {
    format!("{WISH_PREFIX}{}", id.0)
}

pub fn stairwell_stream(id: StairwellId) -> String {
    format!("{STAIRWELL_PREFIX}{}", id.0)
}

pub fn activity_stream(id: ActivityId) -> String {
    format!("{ACTIVITY_PREFIX}{}", id.0)
}

pub fn shop_item_stream(id: ShopItemId) -> String {
    format!("{SHOP_ITEM_PREFIX}{}", id.0)
}

pub fn street_stream(id: StreetId) -> String {
    format!("{STREET_PREFIX}{}", id.0)
}

pub fn district_stream(id: DistrictId) -> String {
    format!("{DISTRICT_PREFIX}{}", id.0)
}

pub fn import_stream(id: ImportBatchId) -> String {
    format!("{IMPORT_PREFIX}{}", id.0)
}

/// The kind of aggregate a stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Community,
    Volunteer,
    Wish,
    Stairwell,
    Activity,
    ShopItem,
    Street,
    District,
    ImportBatch,
}

/// Splits a stream name into its kind and id; `None` for names not made here.
pub fn parse_stream(stream: &str) -> Option<(StreamKind, Uuid)> {
    let (kind, rest) = [
        (StreamKind::Community, COMMUNITY_PREFIX),
        (StreamKind::Volunteer, VOLUNTEER_PREFIX),
        (StreamKind::Wish, WISH_PREFIX),
        (StreamKind::Stairwell, STAIRWELL_PREFIX),
        (StreamKind::Activity, ACTIVITY_PREFIX),
        (StreamKind::ShopItem, SHOP_ITEM_PREFIX),
        (StreamKind::Street, STREET_PREFIX),
        (StreamKind::District, DISTRICT_PREFIX),
        (StreamKind::ImportBatch, IMPORT_PREFIX),
    ]
    .into_iter()
    .find_map(|(k, p)| stream.strip_prefix(p).map(|r| (k, r)))?;
    Uuid::parse_str(rest).ok().map(|id| (kind, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_round_trip() {
        let id = VolunteerId(Uuid::from_u128(7));
        let s = volunteer_stream(id);
        assert_eq!(s, "volunteer-00000000-0000-0000-0000-000000000007");
        assert_eq!(parse_stream(&s), Some((StreamKind::Volunteer, id.0)));
        assert_eq!(parse_stream("other-1"), None);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{}\"", id.0));
    }
}
