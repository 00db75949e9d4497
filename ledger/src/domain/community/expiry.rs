//! Points expiry (积分有效期), a versioned community rule, off by default: points
//! credited while a version is in force expire `valid_months` after the day they were
//! credited, on that day or at the end of its month or year ("积分有效期为三年，到期
//! 年底清零"). Hours never expire. The rule only dates each credit; the expiry itself is
//! written as events by the server (see [`crate::domain::volunteer::expire_points`]).

use super::rules::in_force;
use super::*;
use crate::event::ExpiryRounding;
use chrono::{Datelike, Months};

/// New points expiry version (admin); 0 months: points credited from then on do not
/// expire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetPointsExpiry {
    pub community_id: CommunityId,
    pub valid_months: u32,
    pub rounding: ExpiryRounding,
    pub effective_from: NaiveDate,
}

/// Longest validity a rule may set: ten years.
pub const MAX_VALID_MONTHS: u32 = 120;

/// One version of the points expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryRule {
    pub version: u32,
    pub valid_months: u32,
    pub rounding: ExpiryRounding,
    pub effective_from: NaiveDate,
}

impl ExpiryRule {
    /// Points never expire (version 0, until a community sets its own).
    pub fn never() -> ExpiryRule {
        ExpiryRule {
            version: 0,
            valid_months: 0,
            rounding: ExpiryRounding::Day,
            effective_from: NaiveDate::MIN,
        }
    }

    /// The first day points credited on `credited` are no longer valid; none when they
    /// do not expire.
    pub fn expires_on(&self, credited: NaiveDate) -> Option<NaiveDate> {
        if self.valid_months == 0 {
            return None;
        }
        let end = credited.checked_add_months(Months::new(self.valid_months))?;
        match self.rounding {
            ExpiryRounding::Day => Some(end),
            ExpiryRounding::MonthEnd => NaiveDate::from_ymd_opt(end.year(), end.month(), 1)?
                .checked_add_months(Months::new(1)),
            ExpiryRounding::YearEnd => NaiveDate::from_ymd_opt(end.year() + 1, 1, 1),
        }
    }
}

impl CommunityState {
    /// The points expiry in force on `date` (never, before any version).
    pub fn points_expiry_on(&self, date: NaiveDate) -> ExpiryRule {
        in_force(&self.points_expiry, date, |r| (r.effective_from, r.version))
            .copied()
            .unwrap_or_else(ExpiryRule::never)
    }
}

pub fn set_points_expiry(
    state: &CommunityState,
    cmd: &SetPointsExpiry,
) -> DomainResult<Vec<Event>> {
    state.require(cmd.community_id)?;
    if cmd.valid_months > MAX_VALID_MONTHS {
        return Err(DomainError::InvalidInput {
            field: "valid_months",
            reason: format!("at most {MAX_VALID_MONTHS} months"),
        });
    }
    Ok(vec![Event::PointsExpiryRulesSet {
        version: state.points_expiry.len() as u32 + 1,
        valid_months: cmd.valid_months,
        rounding: cmd.rounding,
        effective_from: cmd.effective_from,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn three_years_on_the_day_at_month_end_or_at_year_end() {
        let rule = |rounding| ExpiryRule {
            valid_months: 36,
            rounding,
            ..ExpiryRule::never()
        };
        let credited = day(2024, 5, 10);
        assert_eq!(
            rule(ExpiryRounding::Day).expires_on(credited),
            Some(day(2027, 5, 10))
        );
        assert_eq!(
            rule(ExpiryRounding::MonthEnd).expires_on(credited),
            Some(day(2027, 6, 1))
        );
        assert_eq!(
            rule(ExpiryRounding::YearEnd).expires_on(credited),
            Some(day(2028, 1, 1))
        );
        // The end of a short month stays in it.
        assert_eq!(
            ExpiryRule {
                valid_months: 1,
                ..rule(ExpiryRounding::Day)
            }
            .expires_on(day(2025, 1, 31)),
            Some(day(2025, 2, 28))
        );
        assert_eq!(ExpiryRule::never().expires_on(credited), None);
    }
}
