//! The texts of a volunteer's move to this community (转移接续) at the desk.

/// Texts of the transfer offer and its answer.
pub struct Transfer {
    pub title: &'static str,
    pub explain: &'static str,
    pub stairwell: &'static str,
    pub household: &'static str,
    pub reason: &'static str,
    pub default_reason: &'static str,
    pub submit: &'static str,
    pub done: &'static str,
    pub points_left: &'static str,
    pub failed: &'static str,
    pub back: &'static str,
}

pub const ZH_CN: Transfer = Transfer {
    title: "转移接续：把这位志愿者的档案转入本社区",
    explain: "一人只建一份档案。转入后，累计时长、星级、服务记录和证明随人转移，由本社区编号和管理；原社区已出的报表不变；积分按原社区的规则随人转移或留在原社区。",
    stairwell: "转入楼道",
    household: "门牌（可不填）",
    reason: "转入原因",
    default_reason: "迁入本社区",
    submit: "转入本社区",
    done: "已转入本社区，新编号：",
    points_left: "按原社区规则留在原社区的积分：",
    failed: "没有转入：",
    back: "返回登记",
};
