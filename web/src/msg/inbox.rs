//! How an inbox message (the facts the API gives: kind, subject, hours, points, the
//! reason, when a notice ends) reads in zh-CN.

use crate::gql::s;
use crate::layout::{num, parse_time, when_dated};
use serde_json::Value;

/// The sentence of a message, in zh-CN.
pub fn zh_cn(m: &Value) -> String {
    let subject = s(m, "subject");
    let h = num(s(m, "hours"));
    let p = num(s(m, "points"));
    let why = s(m, "detail");
    let until = parse_time(s(m, "until"))
        .map(when_dated)
        .unwrap_or_default();
    let because = if why.is_empty() {
        String::new()
    } else {
        format!("（{why}）")
    };
    match s(m, "kind") {
        "WELCOME" => format!("欢迎加入社区志愿服务！您的志愿者编号是 {subject}。"),
        "SIGNED_UP" => format!("您已报名“{subject}”，请按时参加。"),
        "WAITLISTED" => format!("“{subject}”名额已满，您已在候补名单中，有空位会自动递补。"),
        "MOVED_UP" => format!("“{subject}”有了空位，您已从候补转为正式报名。"),
        "ACTIVITY_CHANGED" => format!("“{subject}”有变更{because}，请查看最新时间地点。"),
        "ACTIVITY_CANCELLED" => format!("“{subject}”已取消{because}。"),
        "ON_NOTICE" => {
            format!("“{subject}”考勤已审核：{h} 小时、{p} 积分，公示至 {until}，期满后计入。")
        }
        "OBJECTION_RAISED" => {
            format!("有人对您在“{subject}”的记录提出异议{because}，处理前暂不计入。")
        }
        "OBJECTION_DISMISSED" => format!("您在“{subject}”的记录异议已处理：维持原记录{because}。"),
        "OBJECTION_CORRECTED" => {
            format!("您在“{subject}”的记录已更正为 {h} 小时、{p} 积分{because}。")
        }
        "OBJECTION_REJECTED" => format!("您在“{subject}”的记录经核实不予认定{because}。"),
        "SERVICE_CREDITED" => format!("服务已计入：{subject}，时长 +{h} 小时，积分 +{p}。"),
        "SERVICE_REJECTED" => format!("服务记录未通过：{subject}{because}。"),
        "POINTS_AWARDED" => format!("获得积分奖励 +{p}{because}。"),
        "POINTS_REDEEMED" => format!("兑换“{subject}”，使用积分 {p}。"),
        "POINTS_EXPIRED" => format!("积分 {p} 已过有效期，按社区规则清零。"),
        "POINTS_REFUNDED" => format!("“{subject}”的兑换已取消，退回积分 {p}{because}。"),
        "ENTRY_REVERSED" => format!("一条记录已更正：积分 -{p}、时长 -{h} 小时{because}。"),
        "HOURS_RECEIVED" => {
            let from = s(m, "otherName");
            format!("收到{from}赠送的时长 +{h} 小时。")
        }
        "HOURS_SPENT" => format!("使用时间银行 {h} 小时：{subject}。"),
        "WISH_CLAIMED" => format!("您认领了心愿“{subject}”，完成后请在手机上报告。"),
        "WISH_RELEASED" => format!("心愿“{subject}”的认领已释放。"),
        "WISH_CONFIRMED" => format!("您完成的心愿“{subject}”已确认，谢谢您！"),
        "WISH_CANCELLED" => format!("您认领的心愿“{subject}”已取消{because}。"),
        "TRANSFERRED" => {
            let stayed = match s(m, "points") {
                "" => String::new(),
                _ => format!("按原社区规则，积分 {p} 留在原社区。"),
            };
            format!("您的志愿档案已转入新社区，新编号 {subject}；时长、星级和服务记录随您转移。{stayed}")
        }
        _ => subject.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_read_as_sentences() {
        let m = json!({"kind": "POINTS_AWARDED", "points": "5.00", "detail": "楼道清扫"});
        assert_eq!(zh_cn(&m), "获得积分奖励 +5（楼道清扫）。");
        // This year's dates go without the year.
        let until = chrono::Utc::now();
        let m = json!({"kind": "ON_NOTICE", "subject": "北门巡逻", "hours": "0.75", "points": "7.50",
            "until": until.to_rfc3339()});
        let want = format!(
            "“北门巡逻”考勤已审核：0.75 小时、7.5 积分，公示至 {}，期满后计入。",
            crate::layout::when(until)
        );
        assert_eq!(zh_cn(&m), want);
        let m = json!({"kind": "ENTRY_REVERSED", "points": "5.00", "hours": "0.00", "detail": "录入错误"});
        assert_eq!(
            zh_cn(&m),
            "一条记录已更正：积分 -5、时长 -0 小时（录入错误）。"
        );
    }
}
