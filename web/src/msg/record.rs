//! The service record's texts (服务档案: 培训, 表彰, 服务评价), at the desk and on the
//! phone.

/// Texts of the service record.
pub struct Record {
    pub title: &'static str,
    pub trainings: &'static str,
    pub training_hours: &'static str,
    pub no_trainings: &'static str,
    pub commendations: &'static str,
    pub commendation_tag: &'static str,
    pub no_commendations: &'static str,
    pub evaluations: &'static str,
    pub no_evaluations: &'static str,
    pub mean: &'static str,
    pub times: &'static str,
    pub withdrawn: &'static str,
    pub withdraw: &'static str,
    pub withdraw_reason: &'static str,
    pub record_training: &'static str,
    pub course: &'static str,
    pub course_hint: &'static str,
    pub hours: &'static str,
    pub date: &'static str,
    pub give_commendation: &'static str,
    pub commendation_title: &'static str,
    pub commendation_hint: &'static str,
    pub report_year: &'static str,
    pub report_year_hint: &'static str,
    pub evidence: &'static str,
    pub awaiting: &'static str,
    pub satisfaction: &'static str,
    pub comment: &'static str,
    pub save_evaluation: &'static str,
    pub by_resident: &'static str,
    /// 非常满意 … 非常不满意, for 5 … 1.
    pub levels: [&'static str; 5],
    pub received: &'static str,
    pub no_received: &'static str,
    pub rate: &'static str,
    pub thanks: &'static str,
    pub my_record: &'static str,
    pub record_hint: &'static str,
}

impl Record {
    /// The word of a 满意度 from 1 to 5 (empty outside).
    pub fn level(&self, satisfaction: i64) -> &'static str {
        match satisfaction {
            1..=5 => self.levels[(5 - satisfaction) as usize],
            _ => "",
        }
    }
}

pub const ZH_CN: Record = Record {
    title: "服务档案",
    trainings: "培训记录",
    training_hours: "培训时长",
    no_trainings: "还没有培训记录。",
    commendations: "表彰",
    commendation_tag: "荣誉",
    no_commendations: "还没有表彰记录。",
    evaluations: "服务评价",
    no_evaluations: "还没有服务评价。",
    mean: "平均满意度",
    times: "次评价",
    withdrawn: "已撤销",
    withdraw: "撤销",
    withdraw_reason: "撤销原因",
    record_training: "登记培训",
    course: "培训课程",
    course_hint: "应急救护培训",
    hours: "时长（小时）",
    date: "日期",
    give_commendation: "登记表彰",
    commendation_title: "表彰名称",
    commendation_hint: "2026年度优秀志愿者",
    report_year: "依据年度表彰报告（年份）",
    report_year_hint: "不填则不附依据",
    evidence: "依据",
    awaiting: "待评价的服务（回访居民后登记）",
    satisfaction: "满意度",
    comment: "居民意见",
    save_evaluation: "登记评价",
    by_resident: "服务对象评价",
    levels: ["非常满意", "满意", "一般", "不满意", "非常不满意"],
    received: "我接受的服务",
    no_received: "您还没有用时长兑换过服务。",
    rate: "评价",
    thanks: "谢谢您的评价！",
    my_record: "我的档案",
    record_hint: "培训、表彰和居民对您服务的评价",
};
