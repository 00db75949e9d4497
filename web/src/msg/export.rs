//! The texts of the exports for the authorities at the desk (导出).

/// Texts of the exports.
pub struct Export {
    pub title: &'static str,
    pub hint: &'static str,
    pub event_log: &'static str,
    pub hours: &'static str,
    pub members: &'static str,
}

pub const ZH_CN: Export = Export {
    title: "导出（报送上级）",
    hint: "CSV 可直接用 Excel 打开；本社区工作人员导出的名单含完整手机号和身份证号，请妥善保管。",
    event_log: "全年事件日志",
    hours: "全年服务时长汇总",
    members: "志愿者名单",
};
