//! Chinese labels and China Standard Time (UTC+8) helpers.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use ledger::amount::{Hours, Points};
use ledger::event::ServiceKind;
use rust_decimal::{Decimal, RoundingStrategy};

/// 巡逻, 维修, 上门探访, 小心愿, 调解, 其他.
pub fn kind_label(kind: ServiceKind) -> &'static str {
    kind.label()
}

/// "三星" for 3, "—" for 0.
pub fn star_label(level: u8) -> String {
    const NAMES: [&str; 6] = ["—", "一星", "二星", "三星", "四星", "五星"];
    NAMES
        .get(usize::from(level))
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("{level}星"))
}

/// "★★★☆☆" for 3.
pub fn star_glyphs(level: u8) -> String {
    let level = usize::from(level.min(5));
    format!("{}{}", "★".repeat(level), "☆".repeat(5 - level))
}

/// China Standard Time.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The calendar date of an instant in China Standard Time.
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&cst()).date_naive()
}

/// "2025-03-01 08:00:00" in China Standard Time.
pub fn local_datetime_text(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The instant a CST calendar date begins.
pub fn local_midnight(date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    match cst().from_local_datetime(&naive).single() {
        Some(t) => t.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&naive),
    }
}

/// The first day of the month after (`year`, `month`).
pub fn next_month_start(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month >= 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MAX)
}

/// (year, month) of a date.
pub fn year_month(d: NaiveDate) -> (i32, u32) {
    (d.year(), d.month())
}

/// Hours as a decimal rounded half away from zero to hundredths (1.5, 0.17).
pub fn hours_decimal(h: Hours) -> Decimal {
    (Decimal::from(h.minutes()) / Decimal::from(60))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// Hours for a spreadsheet cell.
pub fn hours_f64(h: Hours) -> f64 {
    h.minutes() as f64 / 60.0
}

/// Points for a spreadsheet cell.
pub fn points_f64(p: Points) -> f64 {
    p.hundredths() as f64 / 100.0
}

/// A decimal for a spreadsheet cell.
pub fn decimal_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

/// "12.5" or "12" (hours, at most two decimals).
/// A day as written in Chinese: "2025年1月15日".
pub fn date_cn(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

pub fn hours_text(h: Hours) -> String {
    hours_decimal(h).to_string()
}

/// "12.50".
pub fn points_text(p: Points) -> String {
    p.to_decimal().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_hours() {
        assert_eq!(star_label(3), "三星");
        assert_eq!(star_glyphs(2), "★★☆☆☆");
        assert_eq!(hours_text(Hours::from_minutes(90)), "1.5");
        assert_eq!(hours_text(Hours::from_minutes(10)), "0.17");
        assert_eq!(hours_text(Hours::from_minutes(120)), "2");
    }

    #[test]
    fn china_standard_time() {
        let t = DateTime::parse_from_rfc3339("2025-12-31T16:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap();
        assert_eq!(local_date(t), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        let m = local_midnight(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(m.to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert_eq!(
            next_month_start(2025, 12),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
    }
}
