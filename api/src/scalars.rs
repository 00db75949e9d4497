//! Custom scalars: exact amounts written as decimal strings.
//!
//! `Points` ("12.50", at most two decimal places), `Hours` ("1.5", whole minutes, at
//! most two decimal places) and `Decimal` (scores, coefficients; at most two decimal
//! places, coefficients four). A JSON number, an exponent, or more decimal places than
//! allowed is an input error (`INVALID_INPUT`), never rounded.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use ledger::amount::{Hours, Points};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Longest decimal string accepted.
const MAX_DECIMAL_LEN: usize = 24;

/// Parses a plain decimal string (`-?digits(.digits)?`) with at most `max_dp` decimals.
fn parse_plain_decimal(value: &Value, what: &str, max_dp: u32) -> Result<Decimal, String> {
    let s = match value {
        Value::String(s) => s.as_str(),
        Value::Number(n) => {
            return Err(format!(
                "{what} must be a decimal string such as \"12.50\", not the JSON number {n}"
            ))
        }
        _ => return Err(format!("{what} must be a decimal string such as \"12.50\"")),
    };
    if s.len() > MAX_DECIMAL_LEN {
        return Err(format!("{what} {s:?} is too long"));
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return Err(format!(
            "{what} {s:?} is not a decimal number (write it like \"12.50\")"
        ));
    }
    if let Some(f) = frac {
        if f.len() > max_dp as usize {
            return Err(format!(
                "{what} {s:?} has {} decimal places; at most {max_dp} are allowed",
                f.len()
            ));
        }
    }
    Decimal::from_str(s).map_err(|e| format!("{what} {s:?}: {e}"))
}

/// Points (积分): a decimal string with at most two decimal places, e.g. "12.50".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsScalar(pub Points);

#[Scalar(name = "Points")]
impl ScalarType for PointsScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        let d = parse_plain_decimal(&value, "Points", 2).map_err(InputValueError::custom)?;
        Points::from_decimal(d)
            .map(PointsScalar)
            .map_err(|e| InputValueError::custom(e.to_string()))
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_decimal().to_string())
    }
}

impl PointsScalar {
    pub fn decimal(self) -> Decimal {
        self.0.to_decimal()
    }
}

/// Hours (服务时长): a decimal string of whole minutes with at most two decimal
/// places, e.g. "1.5" or "0.25". Written back with two decimals ("1.50").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoursScalar(pub Hours);

#[Scalar(name = "Hours")]
impl ScalarType for HoursScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        let d = parse_plain_decimal(&value, "Hours", 2).map_err(InputValueError::custom)?;
        Hours::from_decimal(d)
            .map(HoursScalar)
            .map_err(|e| InputValueError::custom(e.to_string()))
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        Value::String(format_hours(self.0))
    }
}

impl HoursScalar {
    pub fn decimal(self) -> Decimal {
        self.0.to_decimal()
    }
}

/// Hours with two decimals when exact (always, for values built from decimal input),
/// otherwise every digit the division gives.
pub fn format_hours(h: Hours) -> String {
    let d = h.to_decimal();
    if (d * Decimal::ONE_HUNDRED).fract().is_zero() {
        let mut d = d;
        d.rescale(2);
        d.to_string()
    } else {
        d.to_string()
    }
}

/// A plain decimal (scores, deductions, coefficients) written as a string, with at
/// most four decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalScalar(pub Decimal);

#[Scalar(name = "Decimal")]
impl ScalarType for DecimalScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        parse_plain_decimal(&value, "Decimal", 4)
            .map(DecimalScalar)
            .map_err(InputValueError::custom)
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.normalize().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_strict() {
        let ok = PointsScalar::parse(Value::String("12.50".into())).unwrap();
        assert_eq!(ok.0.hundredths(), 1250);
        assert_eq!(ok.to_value(), Value::String("12.50".into()));
        assert!(PointsScalar::parse(Value::String("12.505".into())).is_err());
        assert!(PointsScalar::parse(Value::Number(12.into())).is_err());
        assert!(PointsScalar::parse(Value::String("1e3".into())).is_err());
        assert!(PointsScalar::parse(Value::String("".into())).is_err());
        assert!(PointsScalar::parse(Value::String(".5".into())).is_err());
    }

    #[test]
    fn hours_are_whole_minutes() {
        let h = HoursScalar::parse(Value::String("1.5".into())).unwrap();
        assert_eq!(h.0.minutes(), 90);
        assert_eq!(h.to_value(), Value::String("1.50".into()));
        assert!(HoursScalar::parse(Value::String("0.01".into())).is_err());
        assert!(HoursScalar::parse(Value::String("1.500".into())).is_err());
        assert_eq!(
            format_hours(Hours::from_minutes(10)),
            "0.1666666666666666666666666667"
        );
    }
}
