//! Attendance (签到/签退): the rotating check-in code, checking in and out with it or by
//! staff, and the hours that attendance gives.
//!
//! The code is 6 digits of an HMAC of the activity and the current period (the period's
//! number is the Unix time divided by `code_period_seconds`), keyed by a secret of the
//! deployment kept beside the log (`deployment_keys`, never in an event): it cannot be
//! worked out from the log, and the organiser's screen and the server agree on it
//! without storing one per period. A code is accepted in its own period and the one
//! before (a code read just before it changes still works); a code of an older period
//! is `CODE_EXPIRED`, any other `WRONG_CODE`.

use super::super::community::CommunityState;
use super::super::volunteer::VolunteerState;
use super::super::*;
use super::{ActivityState, Signup};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Periods back a code is recognised as expired rather than wrong.
const EXPIRED_PERIODS: i64 = 20;

/// The key of the check-in codes (the deployment key `activity-codes`).
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(..)")
    }
}

/// A code and the period it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownCode {
    pub code: String,
    /// When the next code takes over.
    pub changes_at: DateTime<Utc>,
}

impl CodeKey {
    pub fn new(secret: &str) -> CodeKey {
        use sha2::Digest;
        CodeKey(Sha256::digest(secret.as_bytes()).into())
    }

    /// The code of `activity` in period number `period`.
    pub fn code(&self, activity: ActivityId, period: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(activity.0.as_bytes());
        mac.update(&period.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        // Dynamic truncation, as HOTP (RFC 4226) does.
        let offset = (digest[31] & 0x0f) as usize;
        let bin = u32::from_be_bytes([
            digest[offset] & 0x7f,
            digest[offset + 1],
            digest[offset + 2],
            digest[offset + 3],
        ]);
        format!("{:06}", bin % 1_000_000)
    }

    /// The code shown at `now`.
    pub fn shown(
        &self,
        activity: ActivityId,
        now: DateTime<Utc>,
        period_seconds: u32,
    ) -> ShownCode {
        let p = period(now, period_seconds);
        ShownCode {
            code: self.code(activity, p),
            changes_at: DateTime::from_timestamp((p + 1) * i64::from(period_seconds.max(1)), 0)
                .unwrap_or(now),
        }
    }

    /// Whether `code` is the one of `now`'s period or the one before.
    pub fn check(
        &self,
        activity: ActivityId,
        code: &str,
        now: DateTime<Utc>,
        period_seconds: u32,
    ) -> DomainResult<()> {
        let code = code.trim();
        let p = period(now, period_seconds);
        let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
        if well_formed && (p - 1..=p).any(|q| self.code(activity, q) == code) {
            return Ok(());
        }
        if well_formed && (p - EXPIRED_PERIODS..p - 1).any(|q| self.code(activity, q) == code) {
            return Err(DomainError::CodeExpired {
                activity_id: activity,
            });
        }
        Err(DomainError::WrongCode {
            activity_id: activity,
        })
    }
}

/// The number of the period `at` falls in.
pub fn period(at: DateTime<Utc>, period_seconds: u32) -> i64 {
    at.timestamp().div_euclid(i64::from(period_seconds.max(1)))
}

/// Checks a volunteer in: with the activity's code, or by staff without one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckIn {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    #[serde(default)]
    pub code: Option<String>,
}

/// Checks a volunteer out: with the activity's code, or by staff without one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOut {
    pub activity_id: ActivityId,
    pub volunteer_id: VolunteerId,
    #[serde(default)]
    pub code: Option<String>,
}

/// Who confirms an attendance: the code (the volunteer) or staff, whose principal the
/// event names.
fn confirmed_by(
    activity_id: ActivityId,
    code: Option<&str>,
    codes: &CodeKey,
    period_seconds: u32,
    ctx: &Ctx,
) -> DomainResult<Option<Uuid>> {
    match code {
        Some(code) => {
            codes.check(activity_id, code, ctx.now, period_seconds)?;
            Ok(None)
        }
        None if ctx.actor.is_staff_or_admin() => Ok(Some(ctx.principal())),
        None => Err(DomainError::Required { field: "code" }),
    }
}

fn window(
    activity_id: ActivityId,
    opens: DateTime<Utc>,
    closes: DateTime<Utc>,
    at: DateTime<Utc>,
) -> DomainResult<()> {
    if at < opens || at > closes {
        return Err(DomainError::CheckinClosed {
            activity_id,
            opens,
            closes,
            at,
        });
    }
    Ok(())
}

/// Check-in: in the window (from `checkin_opens_minutes` before the start until the
/// end, by code or by staff: after the end a 补录 records who took part), once, by a
/// volunteer signed up (with a place), or any volunteer of the community where walk-ins
/// are allowed.
pub fn check_in(
    community: &CommunityState,
    activity: &ActivityState,
    volunteer: &VolunteerState,
    cmd: &CheckIn,
    codes: &CodeKey,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    let community_id = activity.require_open(cmd.activity_id)?;
    let rules = activity.rules(community);
    let by_staff = confirmed_by(
        cmd.activity_id,
        cmd.code.as_deref(),
        codes,
        rules.code_period_seconds,
        ctx,
    )?;
    if volunteer.require_active(cmd.volunteer_id)? != community_id {
        return Err(DomainError::forbidden(
            "a volunteer attends an activity of their own community",
        ));
    }
    let opens = activity.starts_at - chrono::Duration::minutes(rules.checkin_opens_minutes.into());
    window(cmd.activity_id, opens, activity.ends_at, ctx.now)?;
    let p = activity.participant(cmd.volunteer_id);
    if let Some(at) = p.and_then(|p| p.checked_in) {
        return Err(DomainError::AlreadyCheckedIn {
            volunteer_id: cmd.volunteer_id,
            at,
        });
    }
    let has_place = p.is_some_and(|p| p.signup == Signup::Place);
    if !has_place && !activity.walk_ins {
        return Err(DomainError::NotSignedUp {
            activity_id: cmd.activity_id,
            volunteer_id: cmd.volunteer_id,
        });
    }
    Ok(vec![Event::CheckedIn {
        volunteer_id: cmd.volunteer_id,
        at: ctx.now,
        walk_in: !has_place,
        by_staff,
    }])
}

/// Check-out: after the check-in, until as long after the end as check-in opened before
/// the start (staff until the approval), once.
pub fn check_out(
    community: &CommunityState,
    activity: &ActivityState,
    cmd: &CheckOut,
    codes: &CodeKey,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    activity.require_open(cmd.activity_id)?;
    let rules = activity.rules(community);
    let by_staff = confirmed_by(
        cmd.activity_id,
        cmd.code.as_deref(),
        codes,
        rules.code_period_seconds,
        ctx,
    )?;
    let p = activity.participant(cmd.volunteer_id);
    let Some(checked_in) = p.and_then(|p| p.checked_in) else {
        return Err(DomainError::NotCheckedIn {
            activity_id: cmd.activity_id,
            volunteer_id: cmd.volunteer_id,
        });
    };
    if let Some(at) = p.and_then(|p| p.checked_out) {
        return Err(DomainError::AlreadyCheckedOut {
            volunteer_id: cmd.volunteer_id,
            at,
        });
    }
    let closes = if by_staff.is_some() {
        DateTime::<Utc>::MAX_UTC
    } else {
        activity.ends_at + chrono::Duration::minutes(rules.checkin_opens_minutes.into())
    };
    window(cmd.activity_id, checked_in, closes, ctx.now)?;
    Ok(vec![Event::CheckedOut {
        volunteer_id: cmd.volunteer_id,
        at: ctx.now,
        by_staff,
    }])
}

/// Minutes of `[from, until]` within the activity, rounded down to `unit` minutes.
pub fn attended_minutes(
    activity: &ActivityState,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    unit: u32,
) -> i64 {
    let start = activity.counted_start(from);
    let end = until.min(activity.ends_at);
    let minutes = (end - start).num_minutes().max(0);
    let unit = i64::from(unit.max(1));
    minutes / unit * unit
}
