//! Output types shared by the roots, one module per concept, and the DataLoaders that
//! batch their lookups; everything is re-exported here (`types::Volunteer`, …).
//!
//! - `volunteer`: a volunteer, their balances and totals, a page of volunteers;
//! - `activity`: activities (志愿活动), their rosters, objections and check-in code;
//! - `community`: a community's grids, stairwells (and their open issues), teams and
//!   rules;
//! - `inbox`: a volunteer's messages (消息) and a community's recent awards;
//! - `statement`: the lines of a statement (账户明细) and their pages;
//! - `ranking`: rankings (排行榜) and their rows;
//! - `wish`: wishes (小心愿), their status and the wish board's pages;
//! - `shop`: the points shop (积分超市): items, redemptions and the monthly stock lines;
//! - `stairwell`: 文明楼道 scores;
//! - `dashboard`: a community's dashboard (社区看板);
//! - `event`: events of the log (admin audit);
//! - `me`: the caller, the roles of tokens, the pages' live sessions;
//! - `person`: how much of a person a caller sees, and names as shown;
//! - `loaders`: the DataLoaders of personal data and profiles, and [`prefetch`].

mod activity;
mod community;
mod dashboard;
mod event;
mod inbox;
mod loaders;
mod me;
mod person;
mod ranking;
mod record;
mod shop;
mod stairwell;
mod statement;
mod volunteer;
mod wish;

pub use activity::{
    Activity, ActivityStatus, CheckInCode, Objection, ObjectionDecision, Participant,
    PendingRecords, RecordSource, RecordState, SignupState,
};
pub use community::{
    ActivityRulesVersion, Coefficient, Community, Grid, IssueCount, PointRules, RubricItemRule,
    RubricVersion, Stairwell, StairwellIssue, StarThresholdsVersion, Team, WishCount,
};
pub use dashboard::{Dashboard, KindTotals, PeriodTotals};
pub use event::LedgerEvent;
pub use inbox::{InboxKind, InboxMessage, InboxPage};
pub use loaders::{
    connection_loaders, prefetch, request_loaders, selects, People, PersonLoader, ProfileLoader,
    Profiles, PERSON_FIELDS, PROFILE_FIELDS,
};
pub use me::{Me, SessionInfo, TokenRole};
pub use person::{person_fields, show_name, Visibility};
pub use ranking::{RankMetric, RankRow, Ranking};
pub use record::{
    CommendationRecord, EvaluatedService, ReceivedService, ServiceRecord, TrainingRecord,
};
pub use shop::{Redemption, RedemptionStatus, ShopItem, StockLine};
pub use stairwell::{StairwellAverage, StairwellScore};
pub use statement::{StatementEntry, StatementPage};
pub use volunteer::{
    AccountTotals, Balance, ExpiringOn, ExpiringPoints, StarReached, Volunteer, VolunteerPage,
};
pub use wish::{Wish, WishPage, WishStatus};

use crate::scalars::{HoursScalar, PointsScalar};
use async_graphql::Enum;
use ledger::amount::{Hours, Points};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// Points of a read model (exact hundredths) as the `Points` scalar.
pub fn points_of(d: Decimal) -> PointsScalar {
    PointsScalar(Points::from_hundredths(
        (d * Decimal::ONE_HUNDRED)
            .round()
            .to_i64()
            .unwrap_or_default(),
    ))
}

/// Hours of a read model (whole minutes) as the `Hours` scalar.
pub fn hours_of(d: Decimal) -> HoursScalar {
    HoursScalar(Hours::from_minutes(
        (d * Decimal::from(60)).round().to_i64().unwrap_or_default(),
    ))
}

/// Where a points expiry falls: on the day the validity ends, or at the end of its
/// month or year.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ledger::event::ExpiryRounding")]
pub enum ExpiryRounding {
    Day,
    MonthEnd,
    YearEnd,
}

/// Kind of a volunteer service.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ledger::event::ServiceKind")]
pub enum ServiceKind {
    /// 巡逻
    Patrol,
    /// 维修
    Repair,
    /// 上门探访
    ElderlyVisit,
    /// 小心愿
    Wish,
    /// 调解
    Mediation,
    /// 其他
    Other,
}
