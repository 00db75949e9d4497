//! Why a command is refused: [`DomainError`], one variant per reason, carrying the facts,
//! and its stable code (the `extensions.code` clients see).

use crate::amount::{AmountError, Hours, Points};
use crate::ids::*;
use chrono::{DateTime, Utc};

/// Why a command is refused. Carries the facts; [`DomainError::code`] is stable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    #[error("{field}: {source}")]
    InvalidAmount {
        field: &'static str,
        source: AmountError,
    },
    #[error("{field} is required")]
    Required { field: &'static str },
    #[error("{field} is {len} characters long; at most {max} are allowed")]
    TextTooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} must be greater than zero")]
    NotPositive { field: &'static str },
    #[error("{hours} h is beyond the cap of {cap} h per record (point rules v{rule_version})")]
    HoursOverCap {
        hours: Hours,
        cap: Hours,
        rule_version: u32,
    },
    #[error("{field} {at} is in the future (now {now})")]
    InFuture {
        field: &'static str,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("{kind} {id} already exists")]
    AlreadyExists { kind: &'static str, id: String },
    #[error("forbidden: {reason}")]
    Forbidden { reason: String },
    #[error("stream {stream} kept changing; gave up after {attempts} attempts")]
    VersionConflict { stream: String, attempts: u32 },
    #[error("idempotency key {key:?} was already used for a different command")]
    IdempotencyMismatch { key: String },
    #[error("insufficient points: balance {balance}, requested {requested}")]
    InsufficientPoints { balance: Points, requested: Points },
    #[error("insufficient hours: balance {balance} h, requested {requested} h")]
    InsufficientHours { balance: Hours, requested: Hours },
    #[error("wish {wish_id} is already claimed by volunteer {claimed_by}")]
    WishAlreadyClaimed {
        wish_id: WishId,
        claimed_by: VolunteerId,
    },
    #[error("{volunteer_id:?} did not claim wish {wish_id} (claimer: {claimer:?})")]
    NotClaimer {
        wish_id: WishId,
        volunteer_id: Option<VolunteerId>,
        claimer: Option<VolunteerId>,
    },
    #[error("entry {entry_id} was already reversed by entry {reversed_by}")]
    AlreadyReversed {
        entry_id: EntryId,
        reversed_by: EntryId,
    },
    #[error("entry {entry_id} ({kind}) cannot be reversed")]
    NotReversible {
        entry_id: EntryId,
        kind: &'static str,
    },
    #[error(
        "account is flagged (points balance {points}, hours balance {hours}: a reversal left one below zero); redemptions are refused until both are back to zero or above"
    )]
    AccountFlagged { points: Points, hours: Hours },
    #[error("service {service_id} is already {status}")]
    AlreadyVerified {
        service_id: ServiceId,
        status: &'static str,
    },
    #[error("staff cannot verify or reject their own service {service_id}")]
    SelfVerification { service_id: ServiceId },
    #[error(
        "staff cannot award points or move hours to their own volunteer account {volunteer_id}"
    )]
    SelfAward { volunteer_id: VolunteerId },
    #[error("stairwell {stairwell_id} was already inspected for {month}")]
    AlreadyInspected {
        stairwell_id: StairwellId,
        month: String,
    },
    #[error("issue {issue_id} is already resolved")]
    AlreadyResolved { issue_id: IssueId },
    #[error("{reason}")]
    InvalidState { reason: String },
    #[error(
        "this ID number is registered already: volunteer {volunteer_number} ({volunteer_id}) of community {community_id}; one person has one record: transfer it here (transferVolunteer with the person's ID number) instead of making a second"
    )]
    DuplicatePerson {
        volunteer_id: VolunteerId,
        volunteer_number: String,
        community_id: CommunityId,
    },
    // ---- activities ----
    #[error("activity {activity_id} has no place left (all {places} are taken)")]
    ActivityFull {
        activity_id: ActivityId,
        places: u32,
    },
    #[error("activity {activity_id} was cancelled")]
    ActivityCancelled { activity_id: ActivityId },
    #[error("sign-up for activity {activity_id} closed at {deadline}")]
    SignupClosed {
        activity_id: ActivityId,
        deadline: DateTime<Utc>,
    },
    #[error("volunteer {volunteer_id} may not sign up for activity {activity_id}: {reason}")]
    NotEligible {
        activity_id: ActivityId,
        volunteer_id: VolunteerId,
        reason: String,
    },
    #[error("volunteer {volunteer_id} is already signed up for activity {activity_id}")]
    AlreadySignedUp {
        activity_id: ActivityId,
        volunteer_id: VolunteerId,
    },
    #[error("volunteer {volunteer_id} is not signed up for activity {activity_id}")]
    NotSignedUp {
        activity_id: ActivityId,
        volunteer_id: VolunteerId,
    },
    #[error("check-in and check-out of activity {activity_id} are open from {opens} to {closes} (now {at})")]
    CheckinClosed {
        activity_id: ActivityId,
        opens: DateTime<Utc>,
        closes: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    #[error("volunteer {volunteer_id} already checked in at {at}")]
    AlreadyCheckedIn {
        volunteer_id: VolunteerId,
        at: DateTime<Utc>,
    },
    #[error("volunteer {volunteer_id} has not checked in to activity {activity_id}")]
    NotCheckedIn {
        activity_id: ActivityId,
        volunteer_id: VolunteerId,
    },
    #[error("volunteer {volunteer_id} already checked out at {at}")]
    AlreadyCheckedOut {
        volunteer_id: VolunteerId,
        at: DateTime<Utc>,
    },
    #[error("the check-in code of activity {activity_id} is wrong")]
    WrongCode { activity_id: ActivityId },
    #[error("the check-in code of activity {activity_id} has expired: use the one shown now")]
    CodeExpired { activity_id: ActivityId },
    #[error(
        "too many wrong codes from volunteer {volunteer_id}: try again in {retry_after_seconds} s"
    )]
    TooManyAttempts {
        volunteer_id: VolunteerId,
        retry_after_seconds: u32,
    },
    #[error("activity {activity_id} ends at {ends_at}")]
    ActivityNotEnded {
        activity_id: ActivityId,
        ends_at: DateTime<Utc>,
    },
    #[error("the attendance of activity {activity_id} is already approved")]
    AlreadyApproved { activity_id: ActivityId },
    #[error("the attendance of activity {activity_id} is not approved yet")]
    NotApproved { activity_id: ActivityId },
    #[error("a late record (补录) for activity {activity_id} was possible until {until}")]
    LateRecordClosed {
        activity_id: ActivityId,
        until: DateTime<Utc>,
    },
    #[error("volunteer {volunteer_id} already has a record of activity {activity_id}")]
    AlreadyRecorded {
        activity_id: ActivityId,
        volunteer_id: VolunteerId,
    },
    #[error("the record of volunteer {volunteer_id} in activity {activity_id} is not in its notice period")]
    NotInNotice {
        activity_id: ActivityId,
        volunteer_id: VolunteerId,
    },
    #[error("objection {objection_id} is already resolved")]
    ObjectionAlreadyResolved { objection_id: ObjectionId },
    #[error("no record of activity {activity_id} is due to become final")]
    NothingDue { activity_id: ActivityId },
    #[error("shop item {item_id} is out of stock")]
    OutOfStock { item_id: ShopItemId },
    #[error("shop item {item_id} is no longer offered")]
    ItemWithdrawn { item_id: ShopItemId },
    #[error("shop item {item_id} could be redeemed until {valid_until}")]
    ItemExpired {
        item_id: ShopItemId,
        valid_until: chrono::NaiveDate,
    },
    #[error("volunteer {volunteer_id} has redeemed shop item {item_id} {limit} times, the most one person may")]
    LimitReached {
        item_id: ShopItemId,
        volunteer_id: VolunteerId,
        limit: u32,
    },
    #[error("redemption {redemption_id} was already collected")]
    AlreadyCollected { redemption_id: RedemptionId },
    #[error("redemption {redemption_id} was cancelled")]
    RedemptionCancelled { redemption_id: RedemptionId },
    #[error("volunteer {volunteer_id} has {balance} h banked; the cap is {cap} h (hours rules v{rule_version})")]
    HoursCapReached {
        volunteer_id: VolunteerId,
        cap: Hours,
        balance: Hours,
        rule_version: u32,
    },
    #[error("volunteer {volunteer_id} has no points due to expire")]
    NoPointsDue { volunteer_id: VolunteerId },
    #[error("service {service_id} has been evaluated already")]
    AlreadyEvaluated { service_id: ServiceId },
    #[error("record {record_id} was withdrawn already")]
    AlreadyWithdrawn { record_id: RecordId },
    #[error("volunteer {from} may gift hours only to a linked relative, and {to} is not one (hours rules v{rule_version})")]
    RelativeLinkRequired {
        from: VolunteerId,
        to: VolunteerId,
        rule_version: u32,
    },
}

impl DomainError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        use DomainError::*;
        match self {
            InvalidInput { .. }
            | InvalidAmount { .. }
            | Required { .. }
            | TextTooLong { .. }
            | NotPositive { .. }
            | HoursOverCap { .. }
            | InFuture { .. } => "INVALID_INPUT",
            NotFound { .. } => "NOT_FOUND",
            AlreadyExists { .. } => "ALREADY_EXISTS",
            Forbidden { .. } => "FORBIDDEN",
            VersionConflict { .. } => "VERSION_CONFLICT",
            IdempotencyMismatch { .. } => "IDEMPOTENCY_MISMATCH",
            InsufficientPoints { .. } => "INSUFFICIENT_POINTS",
            InsufficientHours { .. } => "INSUFFICIENT_HOURS",
            WishAlreadyClaimed { .. } => "WISH_ALREADY_CLAIMED",
            NotClaimer { .. } => "NOT_CLAIMER",
            AlreadyReversed { .. } => "ALREADY_REVERSED",
            NotReversible { .. } => "NOT_REVERSIBLE",
            AccountFlagged { .. } => "ACCOUNT_FLAGGED",
            AlreadyVerified { .. } => "ALREADY_VERIFIED",
            SelfVerification { .. } => "SELF_VERIFICATION",
            SelfAward { .. } => "SELF_AWARD",
            AlreadyInspected { .. } => "ALREADY_INSPECTED",
            AlreadyResolved { .. } => "ALREADY_RESOLVED",
            InvalidState { .. } => "INVALID_STATE",
            DuplicatePerson { .. } => "DUPLICATE_PERSON",
            ActivityFull { .. } => "ACTIVITY_FULL",
            ActivityCancelled { .. } => "ACTIVITY_CANCELLED",
            SignupClosed { .. } => "SIGNUP_CLOSED",
            NotEligible { .. } => "NOT_ELIGIBLE",
            AlreadySignedUp { .. } => "ALREADY_SIGNED_UP",
            NotSignedUp { .. } => "NOT_SIGNED_UP",
            CheckinClosed { .. } => "CHECKIN_CLOSED",
            AlreadyCheckedIn { .. } => "ALREADY_CHECKED_IN",
            NotCheckedIn { .. } => "NOT_CHECKED_IN",
            AlreadyCheckedOut { .. } => "ALREADY_CHECKED_OUT",
            WrongCode { .. } => "WRONG_CODE",
            CodeExpired { .. } => "CODE_EXPIRED",
            TooManyAttempts { .. } => "TOO_MANY_ATTEMPTS",
            ActivityNotEnded { .. } => "ACTIVITY_NOT_ENDED",
            AlreadyApproved { .. } => "ALREADY_APPROVED",
            NotApproved { .. } => "NOT_APPROVED",
            LateRecordClosed { .. } => "LATE_RECORD_CLOSED",
            AlreadyRecorded { .. } => "ALREADY_RECORDED",
            NotInNotice { .. } => "NOT_IN_NOTICE",
            ObjectionAlreadyResolved { .. } => "ALREADY_RESOLVED",
            NothingDue { .. } | NoPointsDue { .. } => "NOTHING_DUE",
            OutOfStock { .. } => "OUT_OF_STOCK",
            ItemWithdrawn { .. } => "ITEM_WITHDRAWN",
            ItemExpired { .. } => "ITEM_EXPIRED",
            LimitReached { .. } => "LIMIT_REACHED",
            AlreadyCollected { .. } => "ALREADY_COLLECTED",
            RedemptionCancelled { .. } => "REDEMPTION_CANCELLED",
            RelativeLinkRequired { .. } => "RELATIVE_LINK_REQUIRED",
            HoursCapReached { .. } => "HOURS_CAP_REACHED",
            AlreadyEvaluated { .. } => "ALREADY_EVALUATED",
            AlreadyWithdrawn { .. } => "ALREADY_WITHDRAWN",
        }
    }

    pub fn not_found(kind: &'static str, id: impl std::fmt::Display) -> DomainError {
        DomainError::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    pub fn invalid_state(reason: impl Into<String>) -> DomainError {
        DomainError::InvalidState {
            reason: reason.into(),
        }
    }

    pub fn forbidden(reason: impl Into<String>) -> DomainError {
        DomainError::Forbidden {
            reason: reason.into(),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
