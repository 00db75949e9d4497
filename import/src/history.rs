//! The history sheet (历史服务记录): past service records of a community's volunteers,
//! its columns found by their Chinese headers, and each row's own check (pure) into
//! the service it asks for; whose it is is looked up by [`crate::run`].
//!
//! Columns: 姓名 and/or 身份证号 (one is needed: the ID number names the volunteer for
//! sure, a name only when one volunteer of the community has it), 日期 (2019-03-05,
//! 2019/3/5, 2019.3.5, 2019年3月5日 or an Excel date), 内容 or 类别 (巡逻, 维修, 探访,
//! 调解, 小心愿; anything else is 其他 and kept in the note), 时长 (hours: 2, 2.5,
//! 2小时, 90分钟), 备注. Other names of the headers are known (服务日期, 服务内容, 服务类别,
//! 服务时长, 小时数 …), any other header is mapped by the caller.

use crate::roster::id_number_problem;
use crate::sheet::Sheet;
use crate::ImportError;
use ledger::event::ServiceKind;
use rust_decimal::Decimal;
use std::str::FromStr;

const NAME: &[&str] = &["姓名", "名字", "志愿者姓名"];
const ID_NUMBER: &[&str] = &["身份证号", "身份证", "身份证号码", "证件号码"];
const DATE: &[&str] = &["日期", "服务日期", "时间", "服务时间"];
const CONTENT: &[&str] = &["内容", "服务内容", "内容/类别", "项目", "服务项目"];
const KIND: &[&str] = &["类别", "服务类别", "类型", "服务类型"];
const HOURS: &[&str] = &[
    "时长",
    "服务时长",
    "小时",
    "小时数",
    "时长（小时）",
    "时长(小时)",
];
const NOTE: &[&str] = &["备注", "说明"];

/// Where each column of the history sheet is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryColumns {
    name: Option<usize>,
    id_number: Option<usize>,
    date: usize,
    content: Option<usize>,
    kind: Option<usize>,
    hours: usize,
    note: Option<usize>,
}

/// One row as its service: who (by ID number or name), the day, the kind, the hours
/// and the note kept with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub name: String,
    pub id_number: Option<String>,
    pub date: chrono::NaiveDate,
    pub kind: ServiceKind,
    pub hours: Decimal,
    pub note: String,
}

impl HistoryColumns {
    /// Finds the columns among `headers` (`mapping` as for the roster). Missing 日期 or
    /// 时长, or both 姓名 and 身份证号, is an error naming them.
    pub fn find(
        headers: &[String],
        mapping: &[(String, String)],
    ) -> Result<HistoryColumns, ImportError> {
        let ours = crate::roster::mapped(headers, mapping);
        let one = |names: &[&str]| ours.iter().position(|h| names.contains(&h.as_str()));
        let mut missing = Vec::new();
        if one(NAME).is_none() && one(ID_NUMBER).is_none() {
            missing.push("姓名或身份证号");
        }
        if one(DATE).is_none() {
            missing.push("日期");
        }
        if one(HOURS).is_none() {
            missing.push("时长");
        }
        if !missing.is_empty() {
            return Err(ImportError::Columns(format!(
                "缺少列：{}（表头找到：{}）",
                missing.join("、"),
                headers.join("、")
            )));
        }
        Ok(HistoryColumns {
            name: one(NAME),
            id_number: one(ID_NUMBER),
            date: one(DATE).unwrap_or_default(),
            content: one(CONTENT),
            kind: one(KIND),
            hours: one(HOURS).unwrap_or_default(),
            note: one(NOTE),
        })
    }

    /// The row's service, or every reason it cannot be one.
    pub fn check(&self, cells: &[String]) -> Result<HistoryRow, Vec<String>> {
        let cell = |i: Option<usize>| i.map(|i| Sheet::cell(cells, i).trim()).unwrap_or("");
        let mut why: Vec<String> = Vec::new();
        let name = cell(self.name).to_string();
        let id_number = Some(cell(self.id_number).to_uppercase()).filter(|n| !n.is_empty());
        if let Some(problem) = id_number.as_deref().and_then(id_number_problem) {
            why.push(problem.into());
        }
        if name.is_empty() && id_number.is_none() {
            why.push("姓名和身份证号都为空".into());
        }
        let date = date_of(cell(Some(self.date)));
        if date.is_none() {
            why.push(format!(
                "日期看不懂：“{}”（写成 2019-03-05）",
                cell(Some(self.date))
            ));
        }
        let hours = hours_of(cell(Some(self.hours)));
        match hours {
            None => why.push(format!(
                "时长看不懂：“{}”（写成小时数，如 2 或 1.5）",
                cell(Some(self.hours))
            )),
            Some(h) if h <= Decimal::ZERO => why.push("时长必须大于0".into()),
            Some(_) => {}
        }
        let (content, kind_cell) = (cell(self.content), cell(self.kind));
        let kind = kind_of(kind_cell)
            .or_else(|| kind_of(content))
            .unwrap_or(ServiceKind::Other);
        // What the kind does not say is kept in the note.
        let said: Vec<&str> = [content, kind_cell, cell(self.note)]
            .into_iter()
            .filter(|s| !s.is_empty() && *s != kind.label())
            .collect();
        match (date, hours, why.is_empty()) {
            (Some(date), Some(hours), true) => Ok(HistoryRow {
                name,
                id_number,
                date,
                kind,
                hours,
                note: said.join(" "),
            }),
            _ => Err(why),
        }
    }
}

/// A day as clerks write it, or an Excel date (a serial number, or the reader's
/// `YYYY-MM-DD` of a date cell).
pub fn date_of(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim();
    if let Ok(serial) = s.parse::<u32>() {
        // Excel's day numbers (1900 system): 20000 is 1954, 80000 is 2119.
        return (20_000..80_000).contains(&serial).then(|| {
            chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()
                + chrono::Duration::days(i64::from(serial))
        });
    }
    let day = s.split([' ', 'T']).next().unwrap_or(s);
    let normal: String = day
        .replace(['年', '月', '/', '.'], "-")
        .trim_end_matches('日')
        .to_string();
    let parts: Vec<&str> = normal.split('-').collect();
    match parts[..] {
        [y, m, d] => {
            chrono::NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
        }
        _ => None,
    }
}

/// Hours as clerks write them: 2, 2.5, 2小时, 2h, 90分钟 (minutes as hours, exact).
pub fn hours_of(s: &str) -> Option<Decimal> {
    let s = s.trim().to_lowercase();
    if let Some(m) = s.strip_suffix("分钟") {
        let minutes = Decimal::from_str(m.trim()).ok()?;
        return Some(minutes / Decimal::from(60)).filter(|h| {
            // Only whole minutes are hours a record holds.
            (*h * Decimal::from(60)).fract().is_zero() && minutes.fract().is_zero()
        });
    }
    let n = ["小时", "h", "个小时", "时"]
        .iter()
        .fold(s.as_str(), |s, suffix| s.strip_suffix(suffix).unwrap_or(s));
    Decimal::from_str(n.trim()).ok()
}

/// The kind a cell names (its label, or words clerks use for it).
pub fn kind_of(s: &str) -> Option<ServiceKind> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(k) = ServiceKind::ALL.into_iter().find(|k| k.label() == s) {
        return Some(k);
    }
    let words: [(ServiceKind, &[&str]); 5] = [
        (ServiceKind::Patrol, &["巡逻", "巡查", "治安", "消防"]),
        (ServiceKind::Repair, &["维修", "修理", "修缮"]),
        (ServiceKind::ElderlyVisit, &["探访", "走访", "看望", "陪伴"]),
        (ServiceKind::Mediation, &["调解", "纠纷"]),
        (ServiceKind::Wish, &["心愿"]),
    ];
    words
        .into_iter()
        .find(|(_, ws)| ws.iter().any(|w| s.contains(w)))
        .map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn days_are_read_as_clerks_write_them() {
        let d = NaiveDate::from_ymd_opt(2019, 3, 5);
        for s in [
            "2019-03-05",
            "2019/3/5",
            "2019.3.5",
            "2019年3月5日",
            "43529",
            "2019-03-05 00:00",
        ] {
            assert_eq!(date_of(s), d, "{s}");
        }
        for s in ["", "昨天", "2019-13-01", "5", "2019-03"] {
            assert_eq!(date_of(s), None, "{s}");
        }
    }

    #[test]
    fn hours_are_read_with_or_without_their_unit() {
        let h = |s: &str| hours_of(s).map(|d| d.to_string());
        assert_eq!(h("2"), Some("2".into()));
        assert_eq!(h("1.5小时"), Some("1.5".into()));
        assert_eq!(h("2h"), Some("2".into()));
        assert_eq!(
            h("90分钟").and_then(|s| Decimal::from_str(&s).ok()),
            Some(Decimal::new(15, 1))
        );
        assert_eq!(h("两小时"), None);
    }

    #[test]
    fn kinds_are_found_by_their_label_or_the_words_for_them() {
        assert_eq!(kind_of("巡逻"), Some(ServiceKind::Patrol));
        assert_eq!(kind_of("走访独居老人"), Some(ServiceKind::ElderlyVisit));
        assert_eq!(kind_of("邻里纠纷调解"), Some(ServiceKind::Mediation));
        assert_eq!(kind_of("义务理发"), None);
    }
}
