//! The domain events: one [`Event`] enum for every stream, with schema versions and
//! upcasting of old payloads.
//!
//! Streams (see [`crate::ids`]):
//! - `community-…` (社区): establishment, grids (网格/微网格), stairwells (楼道), teams,
//!   versioned point rules, star thresholds (星级) and the stairwell rubric (文明楼道评分),
//!   and the enrolment that assigns volunteer numbers;
//! - `volunteer-…` (志愿者账户): registration, moves, teams, services (服务记录), points
//!   (积分) and time-bank hours (时间银行);
//! - `wish-…` (小心愿): a resident's small wish through its lifecycle;
//! - `stairwell-…` (楼道): monthly inspections and issues;
//! - `activity-…` (活动): an activity from its recruitment through sign-ups, check-in
//!   and check-out to its approved attendance, the 公示 notice and its objections, and
//!   the finality that credits the services to each volunteer's account;
//! - `shop-item-…` (积分超市): an item of the points shop, its stock, and each
//!   redemption of it from the points taken to its collection or cancellation;
//! - `street-…` (街道) and `district-…` (区): their names and a street's district over
//!   time; a community's street over time is in its own stream (see `org`);
//! - `import-…` (历史导入): one history import, a row per past service it recorded
//!   (`history`), and its reversal as one.
//!
//! Events name people only by id: names, phones and ID numbers are kept beside the log
//! ([`crate::store::Person`]). Every event that changes a balance carries an
//! [`EntryId`], which statements link to and reversals name.
//!
//! Payloads are JSON with a `"type"` field equal to [`Event::event_type`]. The current
//! schema version of each type is [`Event::schema_version`]; [`Event::decode`] upcasts
//! older payloads (ServiceLogged v1 stored `minutes` and no `place`).

mod activity;
mod codec;
mod history;
mod kinds;
mod names;
mod org;
mod transfer;

pub use activity::*;
pub use codec::{current_schema_version, DecodeError};
pub use history::*;
pub use kinds::*;
pub use org::*;
pub use transfer::*;

use crate::amount::{Hours, Points};
use crate::ids::*;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Every event of every stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    // ---- community stream (社区) ----
    CommunityEstablished {
        community_id: CommunityId,
        name: String,
    },
    /// A grid (网格); with a parent it is a micro-grid (微网格).
    GridAdded {
        grid_id: GridId,
        name: String,
        parent: Option<GridId>,
    },
    /// A stairwell (楼道): building (楼栋) and unit (单元).
    StairwellRegistered {
        stairwell_id: StairwellId,
        grid_id: GridId,
        building: String,
        unit: String,
        households: u32,
    },
    TeamFormed {
        team_id: TeamId,
        name: String,
    },
    /// Versioned point rules (积分规则): points per verified hour × coefficient per kind.
    PointRulesSet {
        version: u32,
        points_per_hour: Points,
        coefficients: BTreeMap<ServiceKind, Decimal>,
        max_hours_per_record: Hours,
        effective_from: NaiveDate,
    },
    /// Versioned star thresholds (星级志愿者), five ascending cumulative hours; with
    /// `points`, five ascending cumulative points earned as well, both needed for a star.
    StarThresholdsSet {
        version: u32,
        thresholds: Vec<Hours>,
        effective_from: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        points: Option<Vec<Points>>,
    },
    /// Versioned stairwell rubric (文明楼道评分标准).
    RubricSet {
        version: u32,
        items: Vec<RubricItem>,
        participation_max: Decimal,
        effective_from: NaiveDate,
    },
    /// Versioned points expiry (积分有效期): points credited while it is in force expire
    /// `valid_months` after their credit, rounded to the end of the month or year when
    /// it says so; 0 months: points credited do not expire.
    PointsExpiryRulesSet {
        version: u32,
        valid_months: u32,
        rounding: ExpiryRounding,
        effective_from: NaiveDate,
    },
    /// Versioned hours rules (时间银行规则): whether banked hours may be gifted only to a
    /// linked relative (家属).
    HoursRulesSet {
        version: u32,
        gifts_to_relatives_only: bool,
        effective_from: NaiveDate,
        /// The most hours an account banks (e.g. 1,500 h); none: no cap.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stored_hours_cap: Option<Hours>,
    },
    /// Versioned activity rules (活动规则): the unit hours from attendance are rounded down
    /// to, how long after an activity a 补录 may be added, the 公示 notice period (0: final
    /// at approval), how early check-in opens, and how often the check-in code changes.
    ActivityRulesSet {
        version: u32,
        time_unit_minutes: u32,
        late_record_days: u32,
        notice_days: u32,
        checkin_opens_minutes: u32,
        code_period_seconds: u32,
        effective_from: NaiveDate,
    },
    /// A volunteer number assigned by the community, written with `VolunteerRegistered`
    /// in the same append so numbers stay unique within the community.
    VolunteerEnrolled {
        volunteer_id: VolunteerId,
        volunteer_number: String,
    },

    // ---- volunteer stream (志愿者) ----
    VolunteerRegistered {
        volunteer_id: VolunteerId,
        community_id: CommunityId,
        volunteer_number: String,
        stairwell_id: StairwellId,
        grid_id: GridId,
        /// 党员, 五老, 青年, …
        tags: Vec<String>,
        teams: Vec<TeamId>,
        /// The household (户) in the stairwell, as a pseudonym (`hh-…`, keyed by the
        /// deployment key kept beside the log: the room number given, e.g. "3-2-201",
        /// is personal data and never stored); absent when not given (and in events
        /// recorded before households were kept): the volunteer then counts as a
        /// household of their own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        household: Option<String>,
    },
    /// A move to another stairwell, or to another household of the same one.
    VolunteerMoved {
        stairwell_id: StairwellId,
        grid_id: GridId,
        /// The household moved into, as a pseudonym; absent: not given (a household
        /// of their own).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        household: Option<String>,
    },
    TeamJoined {
        team_id: TeamId,
    },
    TeamLeft {
        team_id: TeamId,
    },
    VolunteerDeparted {
        reason: String,
    },
    /// A service record (志愿服务记录), awaiting verification. Schema v2.
    ServiceLogged {
        service_id: ServiceId,
        kind: ServiceKind,
        started_at: DateTime<Utc>,
        hours: Hours,
        place: String,
        note: String,
        logged_by: Uuid,
        /// The activity whose attendance this is, when it is (absent in earlier events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        activity: Option<ActivityService>,
        /// The history import (历史导入) this past service came from: its batch, file
        /// and row (verified in the same append).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        imported: Option<ImportedRow>,
    },
    /// Hours banked and points credited by the point rules in force on the service date.
    ServiceVerified {
        service_id: ServiceId,
        entry_id: EntryId,
        hours: Hours,
        points: Points,
        /// Point rules version applied (0: the built-in defaults).
        rule_version: u32,
        verified_by: Uuid,
        /// The part of `hours` not banked because the account was at the community's
        /// stored-hours cap (it counts for stars and totals all the same).
        #[serde(default, skip_serializing_if = "Hours::is_zero")]
        over_cap: Hours,
        /// The first day the points are no longer valid, under the expiry rule in force
        /// when they were credited (none: they do not expire).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_on: Option<NaiveDate>,
    },
    ServiceRejected {
        service_id: ServiceId,
        reason: String,
        rejected_by: Uuid,
        /// What rejecting it changed, as previewed before it was confirmed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact: Option<CorrectionNote>,
    },
    /// 积分奖励.
    PointsAwarded {
        entry_id: EntryId,
        points: Points,
        reason: String,
        awarded_by: Uuid,
        /// As on `ServiceVerified`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_on: Option<NaiveDate>,
    },
    /// Points whose validity ended (积分到期), written on time by the server: what was
    /// left of each credit, oldest first.
    PointsExpired {
        entry_id: EntryId,
        points: Points,
        lots: Vec<ExpiredLot>,
        expired_by: Uuid,
    },
    /// Redeemed at the points shop (积分超市). Never undone.
    PointsRedeemed {
        entry_id: EntryId,
        points: Points,
        item: String,
        redeemed_by: Uuid,
    },
    /// Points given back for a redemption cancelled before its item was collected
    /// (取消兑换): `refunds` is the redemption's entry, `item` what it was.
    PointsRefunded {
        entry_id: EntryId,
        refunds: EntryId,
        points: Points,
        item: String,
        reason: String,
        refunded_by: Uuid,
    },
    /// A correction (冲正) of an earlier entry: removes its points and hours.
    EntryReversed {
        entry_id: EntryId,
        reverses: EntryId,
        points: Points,
        hours: Hours,
        reason: String,
        reversed_by: Uuid,
        /// The part of `hours` the reversed entry had not banked (over the cap): it
        /// comes off the verified hours, not the balance.
        #[serde(default, skip_serializing_if = "Hours::is_zero")]
        over_cap: Hours,
        /// What the correction changed, as previewed before it was confirmed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact: Option<CorrectionNote>,
        /// The history import whose reversal this is one of (all its entries reversed
        /// in one append).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch: Option<ImportBatchId>,
    },
    /// Hours gifted to another volunteer (sender's stream).
    HoursGifted {
        entry_id: EntryId,
        to: VolunteerId,
        hours: Hours,
    },
    /// Hours received from another volunteer (recipient's stream, same append).
    HoursReceived {
        entry_id: EntryId,
        from: VolunteerId,
        hours: Hours,
    },
    /// Hours spent on receiving a service (时间银行兑换); `provider` names the volunteer
    /// who gave it and the service recorded on their account in the same append.
    HoursSpent {
        entry_id: EntryId,
        hours: Hours,
        description: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provider: Option<Provider>,
    },
    /// A family link (家属关系) recorded by staff with both sides' consent, on both
    /// accounts: `relation` is what `relative` is to this volunteer (母亲, 配偶…), empty
    /// on the side of the relative when not said.
    RelativeLinked {
        relative: VolunteerId,
        relation: String,
        linked_by: Uuid,
    },
    /// A family link ended (by either side, or by staff), on both accounts.
    RelativeUnlinked {
        relative: VolunteerId,
        reason: String,
        unlinked_by: Uuid,
    },
    /// Training attended (培训), recorded by staff: a course, its hours and its day.
    /// Training hours are counted apart from service hours: they bank nothing and count
    /// for no star.
    TrainingRecorded {
        record_id: RecordId,
        course: String,
        hours: Hours,
        date: NaiveDate,
        recorded_by: Uuid,
    },
    /// A commendation (表彰, e.g. 年度优秀志愿者), with the annual report it rests on.
    CommendationGiven {
        record_id: RecordId,
        title: String,
        date: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<ReportEvidence>,
        given_by: Uuid,
    },
    /// A training or a commendation withdrawn as recorded in error, with the reason.
    RecordWithdrawn {
        record_id: RecordId,
        reason: String,
        withdrawn_by: Uuid,
    },
    /// The served resident's evaluation of a service (群众评事): 满意度 1–5 and a
    /// comment, one per service; `by_resident` when the volunteer who received the
    /// service gave it, otherwise staff recorded it.
    ServiceEvaluated {
        service_id: ServiceId,
        satisfaction: u8,
        comment: String,
        by_resident: bool,
        evaluated_by: Uuid,
    },

    // ---- wish stream (小心愿) ----
    WishPosted {
        wish_id: WishId,
        community_id: CommunityId,
        stairwell_id: StairwellId,
        category: String,
        description: String,
        /// A label for the resident (e.g. "3单元独居老人"), not personal data.
        resident_label: String,
        posted_by: Uuid,
    },
    WishClaimed {
        volunteer_id: VolunteerId,
    },
    WishReleased {
        volunteer_id: VolunteerId,
    },
    WishFulfilled {
        volunteer_id: VolunteerId,
        hours: Hours,
        note: String,
        fulfilled_at: DateTime<Utc>,
    },
    /// Confirmed by staff; the service is written to the claimer's stream in the same append.
    WishConfirmed {
        confirmed_by: Uuid,
        service_id: ServiceId,
    },
    WishCancelled {
        reason: String,
        cancelled_by: Uuid,
    },

    // ---- stairwell stream (楼道) ----
    /// A monthly inspection (文明楼道评比).
    StairwellInspected {
        /// "YYYY-MM".
        month: String,
        scores: BTreeMap<String, Decimal>,
        inspector: Uuid,
        note: String,
        rubric_version: u32,
    },
    StairwellIssueReported {
        issue_id: IssueId,
        description: String,
        deduction: Decimal,
        reported_by: Uuid,
    },
    StairwellIssueResolved {
        issue_id: IssueId,
        note: String,
        resolved_by: Uuid,
    },
    /// The volunteer's personal data (name, phone, ID number) was erased on request. It
    /// carries none: it records that, when and by whom (in its metadata) it was done.
    PersonalDataErased {},
    /// Staff corrected the volunteer's personal data, which is kept beside the log: the
    /// event records that it happened (and, in its metadata, who did it), never a value.
    PersonalDataCorrected {},
    /// The volunteer's tags (党员, 五老, 青年, …) from now on.
    VolunteerTagsSet {
        tags: Vec<String>,
    },
    // ---- activity stream (活动) ----
    /// An activity is posted for recruitment (活动招募).
    ActivityPosted {
        activity_id: ActivityId,
        community_id: CommunityId,
        title: String,
        kind: ServiceKind,
        place: String,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        places: u32,
        signup_deadline: DateTime<Utc>,
        #[serde(default)]
        eligibility: Eligibility,
        #[serde(default)]
        walk_ins: bool,
        posted_by: Uuid,
    },
    /// Details changed: `change` the new values, `previous` the values they replace, and
    /// `notify` the volunteers signed up or waiting then (for their inbox).
    ActivityChanged {
        change: ActivityDetails,
        previous: ActivityDetails,
        reason: String,
        changed_by: Uuid,
        notify: Vec<VolunteerId>,
    },
    /// The activity is called off; `notify` as for a change.
    ActivityCancelled {
        reason: String,
        cancelled_by: Uuid,
        notify: Vec<VolunteerId>,
    },
    /// A sign-up (报名): with a place, or on the waiting list (候补) when `waiting`.
    SignedUp {
        volunteer_id: VolunteerId,
        waiting: bool,
        signed_up_by: Uuid,
    },
    /// A sign-up withdrawn (取消报名), from a place or the waiting list.
    SignUpWithdrawn {
        volunteer_id: VolunteerId,
        reason: String,
        withdrawn_by: Uuid,
    },
    /// The first of the waiting list moved up into a freed place (候补转正).
    MovedUp {
        volunteer_id: VolunteerId,
    },
    /// 签到: with the activity's code, or by staff (`by_staff`); a walk-in had not
    /// signed up.
    CheckedIn {
        volunteer_id: VolunteerId,
        at: DateTime<Utc>,
        walk_in: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by_staff: Option<Uuid>,
    },
    /// 签退.
    CheckedOut {
        volunteer_id: VolunteerId,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by_staff: Option<Uuid>,
    },
    /// The attendance list approved in one go (审核); the records are pending until
    /// `notice_until` (公示), or final in the same append when it is absent.
    AttendanceApproved {
        records: Vec<AttendanceRecord>,
        excluded: Vec<Excluded>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice_until: Option<DateTime<Utc>>,
        approved_by: Uuid,
    },
    /// A 补录: attendance added by staff for someone who took part without checking in.
    LateAttendanceRecorded {
        record: AttendanceRecord,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice_until: Option<DateTime<Utc>>,
        recorded_by: Uuid,
    },
    /// An objection (异议) to a volunteer's record during its notice.
    ObjectionRaised {
        objection_id: ObjectionId,
        volunteer_id: VolunteerId,
        reason: String,
        raised_by: Uuid,
    },
    /// An objection resolved: dismissed, or upheld with the record corrected or rejected.
    ObjectionResolved {
        objection_id: ObjectionId,
        volunteer_id: VolunteerId,
        decision: ObjectionDecision,
        reason: String,
        resolved_by: Uuid,
        /// What upholding it changed, as previewed before it was confirmed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact: Option<CorrectionNote>,
    },
    /// These volunteers' records are final (公示期满): their services are credited in the
    /// same append (`ServiceLogged` and `ServiceVerified` in each account).
    AttendanceFinalised {
        volunteers: Vec<VolunteerId>,
        finalised_by: Uuid,
    },
    // ---- shop item stream (积分超市) ----
    /// An item offered at the community's points shop: its price in points, the stock,
    /// where it is collected, until when it can be redeemed, and at most how many one
    /// volunteer may redeem.
    ShopItemListed {
        item_id: ShopItemId,
        community_id: CommunityId,
        name: String,
        price: Points,
        stock: u32,
        collect_at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid_until: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        per_person: Option<u32>,
        listed_by: Uuid,
    },
    /// The item's details from now on (redemptions made keep the price they paid).
    ShopItemChanged {
        name: String,
        price: Points,
        collect_at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        valid_until: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        per_person: Option<u32>,
        changed_by: Uuid,
    },
    /// Stock added (补货, `change` > 0) or taken off after a count (盘点, < 0).
    ShopItemStockAdjusted {
        change: i64,
        reason: String,
        adjusted_by: Uuid,
    },
    /// No longer offered (下架); redemptions made can still be collected or cancelled.
    ShopItemWithdrawn {
        reason: String,
        withdrawn_by: Uuid,
    },
    /// One unit redeemed (兑换) by a volunteer: the points are taken in the same append
    /// (`PointsRedeemed` with `entry_id` on the account); `code` is shown at the outlet.
    ShopItemRedeemed {
        redemption_id: RedemptionId,
        volunteer_id: VolunteerId,
        entry_id: EntryId,
        points: Points,
        code: String,
        redeemed_by: Uuid,
    },
    /// The outlet handed the item over (已领取); it can no longer be cancelled.
    RedemptionCollected {
        redemption_id: RedemptionId,
        collected_by: Uuid,
    },
    /// Cancelled before collection (取消兑换): the unit is back in stock and the points
    /// back on the account in the same append (`PointsRefunded` with `refund`).
    RedemptionCancelled {
        redemption_id: RedemptionId,
        refund: EntryId,
        reason: String,
        cancelled_by: Uuid,
    },

    // ---- street and district streams (街道, 区), and a community's street ----
    DistrictEstablished(DistrictEstablished),
    DistrictRenamed(DistrictRenamed),
    StreetEstablished(StreetEstablished),
    StreetRenamed(StreetRenamed),
    StreetJoinedDistrict(StreetJoinedDistrict),
    StreetLeftDistrict(StreetLeftDistrict),
    CommunityJoinedStreet(CommunityJoinedStreet),
    CommunityLeftStreet(CommunityLeftStreet),

    // ---- history import stream (历史导入) ----
    HistoryRowImported(HistoryRowImported),
    ImportBatchReversed(ImportBatchReversed),

    // ---- a move to another community (转移接续): volunteer stream; its rules ----
    VolunteerTransferred(VolunteerTransferred),
    VolunteerTransferredOut(VolunteerTransferredOut),
    TransferRulesSet(TransferRulesSet),
}
