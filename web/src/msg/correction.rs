//! The texts of a correction at the desk (冲正) and of what it would change.

/// Texts of a correction.
pub struct Correction {
    pub title: &'static str,
    pub link: &'static str,
    pub takes_back: &'static str,
    pub stars: &'static str,
    pub stars_change: &'static str,
    pub rankings: &'static str,
    pub no_rankings: &'static str,
    pub by_points: &'static str,
    pub by_hours: &'static str,
    pub unranked: &'static str,
    pub passed_by: &'static str,
    pub documents: &'static str,
    pub certificate: &'static str,
    pub no_certificates: &'static str,
    pub annual_report: &'static str,
    pub reason: &'static str,
    pub reason_hint: &'static str,
    pub confirm: &'static str,
    pub cancel: &'static str,
    /// Upholding an objection to a record in its notice (not credited yet).
    pub upheld_title: &'static str,
    pub keeps_back: &'static str,
    pub adds: &'static str,
    pub as_recorded: &'static str,
    pub not_credited: &'static str,
    pub confirm_upheld: &'static str,
}

impl Correction {
    /// A ranking period as people say it: 累计, 2026年, 2026年第4季度, 2026年12月.
    pub fn period(&self, key: &str) -> String {
        if key.eq_ignore_ascii_case("all") {
            return "累计".into();
        }
        match key.split_once('-') {
            None => format!("{key}年"),
            Some((y, q)) if q.starts_with('Q') => format!("{y}年第{}季度", &q[1..]),
            Some((y, m)) => format!("{y}年{}月", m.trim_start_matches('0')),
        }
    }
}

pub const ZH_CN: Correction = Correction {
    title: "冲正前确认",
    link: "冲正",
    takes_back: "将扣回",
    stars: "星级",
    stars_change: "星级将变化",
    rankings: "社区排行榜的名次",
    no_rankings: "不在排行榜中，名次不受影响。",
    by_points: "按积分",
    by_hours: "按时长",
    unranked: "不再上榜",
    passed_by: "将被超过：",
    documents: "已出具的证明与报表",
    certificate: "服务证明",
    no_certificates: "此后未出具服务证明。",
    annual_report: "年度表彰报告若在此条记录之后生成，将与更正后的记录不一致。",
    reason: "冲正原因",
    reason_hint: "如：重复录入",
    confirm: "确认冲正",
    cancel: "取消",
    upheld_title: "处理异议前确认",
    keeps_back: "公示期满后将少计入",
    adds: "公示期满后将多计入",
    as_recorded: "箭头左边是按原记录计入后的结果，右边是按处理结果计入后的结果。",
    not_credited: "这条记录还在公示期、尚未计入，已出具的服务证明和年度表彰报告都不受影响。",
    confirm_upheld: "确认处理",
};
