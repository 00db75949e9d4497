//! Exact amounts: points (积分) in hundredths and hours (时长) in minutes.
//!
//! Amounts are integers of minor units so that sums in SQL and in memory are exact;
//! they are built from [`Decimal`] and *never rounded*: a value with more precision
//! than the unit allows is rejected with an [`AmountError`].
//!
//! JSON form: a decimal string. Points always carry two decimals (`"12.50"`); hours
//! are written as the shortest exact decimal (`"1.5"`). A minute count that has no
//! finite decimal form in hours (not a multiple of 3 minutes, which can only come from
//! [`Hours::from_minutes`], e.g. an upcast of an old event) is written `"<n>min"`, and
//! both forms are read back.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::Neg;

/// Why a decimal is not a valid amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{value} has more than 2 decimal places; points are counted in hundredths")]
    PointsTooPrecise { value: Decimal },
    #[error("{value} h is not a whole number of minutes")]
    HoursNotWholeMinutes { value: Decimal },
    #[error("{value} is out of range")]
    OutOfRange { value: Decimal },
    #[error("{input:?} is not a decimal amount")]
    Unparseable { input: String },
}

/// Points (积分), stored as hundredths of a point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(i64);

impl Points {
    pub const ZERO: Points = Points(0);

    pub const fn from_hundredths(h: i64) -> Points {
        Points(h)
    }

    /// Whole points.
    pub const fn whole(p: i64) -> Points {
        Points(p * 100)
    }

    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// Exact conversion; more than two decimal places is an error, never rounded.
    pub fn from_decimal(value: Decimal) -> Result<Points, AmountError> {
        // Checked: a value near Decimal's limit is out of range, not a panic.
        let scaled = value
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or(AmountError::OutOfRange { value })?;
        if scaled.fract() != Decimal::ZERO {
            return Err(AmountError::PointsTooPrecise { value });
        }
        scaled
            .to_i64()
            .map(Points)
            .ok_or(AmountError::OutOfRange { value })
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    pub fn checked_add(self, other: Points) -> Option<Points> {
        self.0.checked_add(other.0).map(Points)
    }

    pub fn checked_sub(self, other: Points) -> Option<Points> {
        self.0.checked_sub(other.0).map(Points)
    }

    /// Saturating addition, for folds over stored events that were checked when written.
    pub fn saturating_add(self, other: Points) -> Points {
        Points(self.0.saturating_add(other.0))
    }

    pub fn saturating_sub(self, other: Points) -> Points {
        Points(self.0.saturating_sub(other.0))
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl Neg for Points {
    type Output = Points;
    fn neg(self) -> Points {
        Points(-self.0)
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

impl std::str::FromStr for Points {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Points, AmountError> {
        Points::from_decimal(parse_decimal(s)?)
    }
}

impl Serialize for Points {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Points, D::Error> {
        let text = d.deserialize_any(AmountText)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// Hours (服务时长), stored as whole minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hours(i64);

impl Hours {
    pub const ZERO: Hours = Hours(0);

    /// Whether this is no time at all (for `skip_serializing_if`).
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    pub const fn from_minutes(m: i64) -> Hours {
        Hours(m)
    }

    /// Whole hours.
    pub const fn whole(h: i64) -> Hours {
        Hours(h * 60)
    }

    pub const fn minutes(self) -> i64 {
        self.0
    }

    /// Exact conversion; a value that is not a whole number of minutes is an error.
    pub fn from_decimal(value: Decimal) -> Result<Hours, AmountError> {
        let minutes = value
            .checked_mul(Decimal::from(60))
            .ok_or(AmountError::OutOfRange { value })?;
        if minutes.fract() != Decimal::ZERO {
            return Err(AmountError::HoursNotWholeMinutes { value });
        }
        minutes
            .to_i64()
            .map(Hours)
            .ok_or(AmountError::OutOfRange { value })
    }

    /// Hours as a decimal: exact when the minutes are a multiple of 3 (always the case
    /// for values built from decimals), otherwise rounded to 28 significant digits.
    pub fn to_decimal(self) -> Decimal {
        (Decimal::from(self.0) / Decimal::from(60)).normalize()
    }

    /// Whether [`Hours::to_decimal`] is exact.
    pub fn has_exact_decimal(self) -> bool {
        self.0 % 3 == 0
    }

    pub fn checked_add(self, other: Hours) -> Option<Hours> {
        self.0.checked_add(other.0).map(Hours)
    }

    pub fn checked_sub(self, other: Hours) -> Option<Hours> {
        self.0.checked_sub(other.0).map(Hours)
    }

    pub fn saturating_add(self, other: Hours) -> Hours {
        Hours(self.0.saturating_add(other.0))
    }

    pub fn saturating_sub(self, other: Hours) -> Hours {
        Hours(self.0.saturating_sub(other.0))
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl Neg for Hours {
    type Output = Hours;
    fn neg(self) -> Hours {
        Hours(-self.0)
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_exact_decimal() {
            write!(f, "{}", self.to_decimal())
        } else {
            write!(f, "{}min", self.0)
        }
    }
}

impl std::str::FromStr for Hours {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Hours, AmountError> {
        let t = s.trim();
        if let Some(m) = t.strip_suffix("min") {
            return m
                .trim()
                .parse::<i64>()
                .map(Hours)
                .map_err(|_| AmountError::Unparseable {
                    input: s.to_string(),
                });
        }
        Hours::from_decimal(parse_decimal(t)?)
    }
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Hours, D::Error> {
        let text = d.deserialize_any(AmountText)?;
        text.parse().map_err(de::Error::custom)
    }
}

fn parse_decimal(s: &str) -> Result<Decimal, AmountError> {
    let t = s.trim();
    t.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(t))
        .map_err(|_| AmountError::Unparseable {
            input: s.to_string(),
        })
}

/// Accepts a decimal string or a JSON integer (floats are refused: they are not exact).
struct AmountText;

impl de::Visitor<'_> for AmountText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal string such as \"12.50\" or an integer")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// `hours × rate × coefficient`, rounded half away from zero to hundredths of a point.
///
/// Computed exactly in integers: `minutes × rate(hundredths) × coefficient / 60`.
pub fn points_for_hours(hours: Hours, rate: Points, coefficient: Decimal) -> Option<Points> {
    let product = Decimal::from(hours.minutes())
        .checked_mul(Decimal::from(rate.hundredths()))?
        .checked_mul(coefficient)?;
    // product is in hundredths × 60; scale it to an integer numerator.
    let scale = product.scale();
    let mantissa: i128 = product.mantissa();
    let denominator: i128 = 60i128.checked_mul(10i128.checked_pow(scale)?)?;
    let rounded = round_div_half_away(mantissa, denominator);
    i64::try_from(rounded).ok().map(Points::from_hundredths)
}

fn round_div_half_away(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if r.abs() * 2 >= d.abs() {
        if (n < 0) != (d < 0) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    }
}

/// Rounds a decimal to hundredths half away from zero (for display of derived values).
pub fn round_hundredths(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts_near_the_decimal_limit_are_out_of_range_not_a_panic() {
        for value in [Decimal::MAX, Decimal::MIN] {
            assert_eq!(
                Points::from_decimal(value),
                Err(AmountError::OutOfRange { value })
            );
            assert_eq!(
                Hours::from_decimal(value),
                Err(AmountError::OutOfRange { value })
            );
        }
        // Representable, but beyond an i64 of minor units.
        let big = dec("1000000000000000000");
        assert_eq!(
            Points::from_decimal(big),
            Err(AmountError::OutOfRange { value: big })
        );
    }

    #[test]
    fn points_reject_extra_precision() {
        assert_eq!(
            Points::from_decimal(dec("12.5")).unwrap().hundredths(),
            1250
        );
        assert_eq!(
            Points::from_decimal(dec("12.500")).unwrap().hundredths(),
            1250
        );
        assert!(matches!(
            Points::from_decimal(dec("0.001")),
            Err(AmountError::PointsTooPrecise { .. })
        ));
    }

    #[test]
    fn hours_reject_partial_minutes() {
        assert_eq!(Hours::from_decimal(dec("1.5")).unwrap().minutes(), 90);
        assert_eq!(Hours::from_decimal(dec("0.05")).unwrap().minutes(), 3);
        assert!(matches!(
            Hours::from_decimal(dec("0.01")),
            Err(AmountError::HoursNotWholeMinutes { .. })
        ));
    }

    #[test]
    fn json_forms() {
        assert_eq!(
            serde_json::to_string(&Points::from_hundredths(1250)).unwrap(),
            "\"12.50\""
        );
        assert_eq!(
            serde_json::to_string(&Points::whole(-3)).unwrap(),
            "\"-3.00\""
        );
        assert_eq!(
            serde_json::to_string(&Hours::from_minutes(90)).unwrap(),
            "\"1.5\""
        );
        assert_eq!(
            serde_json::to_string(&Hours::from_minutes(120)).unwrap(),
            "\"2\""
        );
        assert_eq!(
            serde_json::to_string(&Hours::from_minutes(10)).unwrap(),
            "\"10min\""
        );
        let h: Hours = serde_json::from_str("\"10min\"").unwrap();
        assert_eq!(h.minutes(), 10);
        let p: Points = serde_json::from_str("\"7.25\"").unwrap();
        assert_eq!(p.hundredths(), 725);
        let p: Points = serde_json::from_str("7").unwrap();
        assert_eq!(p.hundredths(), 700);
        assert!(serde_json::from_str::<Points>("\"7.255\"").is_err());
        assert!(serde_json::from_str::<Points>("7.5").is_err());
    }

    #[test]
    fn points_rounding_half_away_from_zero() {
        // 1 min × 10 points/h = 0.1666… → 0.17
        assert_eq!(
            points_for_hours(Hours::from_minutes(1), Points::whole(10), Decimal::ONE),
            Some(Points::from_hundredths(17))
        );
        // 3 min × 0.10/h = 0.005 → 0.01 (half away from zero)
        assert_eq!(
            points_for_hours(
                Hours::from_minutes(3),
                Points::from_hundredths(10),
                Decimal::ONE
            ),
            Some(Points::from_hundredths(1))
        );
        // 1.5 h × 10 × 1.2 = 18
        assert_eq!(
            points_for_hours(Hours::from_minutes(90), Points::whole(10), dec("1.2")),
            Some(Points::whole(18))
        );
    }
}
