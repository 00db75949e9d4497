//! The texts of points expiry (积分有效期), at the desk and on the phone.

/// Texts of points expiry.
pub struct Expiry {
    pub rule: &'static str,
    pub months: &'static str,
    pub months_hint: &'static str,
    pub rounding: &'static str,
    /// 到期当日, 到期当月月底, 到期当年年底: the words of DAY, MONTH_END, YEAR_END.
    pub roundings: [(&'static str, &'static str); 3],
    pub never: &'static str,
    /// Before the points that expire within 90 days.
    pub soon: &'static str,
    /// Before the day the first of them expires.
    pub soon_first: &'static str,
}

pub const ZH_CN: Expiry = Expiry {
    rule: "积分有效期",
    months: "有效期（月）",
    months_hint: "0 为不过期",
    rounding: "到期时间",
    roundings: [
        ("DAY", "满期当日"),
        ("MONTH_END", "满期当月月底"),
        ("YEAR_END", "满期当年年底"),
    ],
    never: "积分不过期",
    soon: "90 天内到期",
    soon_first: "最早",
};
