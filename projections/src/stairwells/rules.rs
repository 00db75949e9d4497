//! The 文明楼道 score's arithmetic, in hundredths: an inspection's items, 邻里互助
//! participation from the households served, the deductions of open issues, and the
//! total clamped to 0–100.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// A household label as kept: trimmed, "" when none (or a blank one) was given.
pub fn household_key(household: Option<&str>) -> String {
    household.map(str::trim).unwrap_or_default().to_string()
}

/// A decimal score in hundredths, rounded half away from zero.
pub fn hundredths(d: Decimal) -> i64 {
    (d * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(0)
}

/// The sum of an inspection's rubric items, in hundredths. 邻里互助 (participation) is
/// computed from the households served, so a participation score an older inspection
/// carried is not an item.
pub fn inspected_items(scores: &std::collections::BTreeMap<String, Decimal>) -> i64 {
    scores
        .iter()
        .filter(|(k, _)| k.as_str() != ledger::domain::community::PARTICIPATION_KEY)
        .map(|(_, d)| hundredths(*d))
        .sum()
}

pub(super) fn div_round(n: i128, d: i128) -> i64 {
    if d == 0 {
        return 0;
    }
    let q = n / d;
    let r = n % d;
    let q = if r.abs() * 2 >= d.abs() {
        if (n < 0) != (d < 0) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    };
    q as i64
}

/// 邻里互助 participation in hundredths: `max × min(1, served ÷ (0.3 × households))`.
pub fn participation(max_hundredths: i64, served: u64, households: u64) -> i64 {
    if households == 0 {
        return 0;
    }
    let cap = 3 * households as i128; // 30% of households, times 10
    let got = (10 * served as i128).min(cap);
    div_round(max_hundredths as i128 * got, cap)
}

/// The month's total in hundredths, clamped to 0–100.
pub fn total(items: i64, participation: i64, deductions: i64) -> i64 {
    (items + participation - deductions).clamp(0, 10_000)
}

/// Whether an issue's deduction applies to `month`: reported by its end, not resolved
/// within it.
pub fn deducted_in(month: &str, reported: &str, resolved: Option<&str>) -> bool {
    reported <= month
        && match resolved {
            None => true,
            Some(r) => r > month,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scored_participation_is_not_an_item() {
        // Inspections recorded before participation was computed only carried a
        // hand-entered participation score: it must not count twice.
        let scores: std::collections::BTreeMap<String, Decimal> = [
            ("cleanliness", Decimal::from(28)),
            ("clutter", Decimal::from(20)),
            ("fire_safety", Decimal::new(2450, 2)),
            ("participation", Decimal::from(20)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(inspected_items(&scores), 7250);
    }

    #[test]
    fn participation_rule() {
        // 20 × min(1, 3 ÷ (0.3 × 20)) = 20 × 0.5 = 10
        assert_eq!(participation(2000, 3, 20), 1000);
        // 6 of 20 households: 30% reached, full 20
        assert_eq!(participation(2000, 6, 20), 2000);
        assert_eq!(participation(2000, 9, 20), 2000);
        // 1 of 10: 20 × 1/3 = 6.666… → 6.67
        assert_eq!(participation(2000, 1, 10), 667);
        assert_eq!(participation(2000, 0, 10), 0);
        assert_eq!(participation(2000, 5, 0), 0);
    }

    #[test]
    fn total_is_clamped() {
        assert_eq!(total(8000, 2000, 0), 10_000);
        assert_eq!(total(1000, 0, 3000), 0);
        assert_eq!(total(7000, 1000, 500), 7500);
        assert_eq!(total(9000, 2000, 500), 10_000);
    }

    #[test]
    fn open_issue_months() {
        assert!(deducted_in("2024-03", "2024-03", None));
        assert!(!deducted_in("2024-03", "2024-03", Some("2024-03")));
        assert!(deducted_in("2024-03", "2024-02", Some("2024-04")));
        assert!(!deducted_in("2024-03", "2024-04", None));
    }
}
