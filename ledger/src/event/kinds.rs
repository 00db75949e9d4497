//! The vocabularies events use: kinds of service, rubric items, and the built-in rules
//! that apply until a community sets its own.

use crate::amount::Hours;
use crate::ids::TeamId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Kind of a volunteer service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// 巡逻: patrols, fire-hazard checks.
    Patrol,
    /// 维修: small repairs.
    Repair,
    /// 上门探访: visits to elders living alone.
    ElderlyVisit,
    /// 小心愿: a fulfilled wish (recorded when staff confirm it).
    Wish,
    /// 调解: neighbourhood mediation.
    Mediation,
    /// 其他: haircuts, blood-pressure checks, phone classes…
    Other,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 6] = [
        ServiceKind::Patrol,
        ServiceKind::Repair,
        ServiceKind::ElderlyVisit,
        ServiceKind::Wish,
        ServiceKind::Mediation,
        ServiceKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Patrol => "patrol",
            ServiceKind::Repair => "repair",
            ServiceKind::ElderlyVisit => "elderly_visit",
            ServiceKind::Wish => "wish",
            ServiceKind::Mediation => "mediation",
            ServiceKind::Other => "other",
        }
    }

    /// The kind [`ServiceKind::as_str`] names.
    pub fn parse(s: &str) -> Option<ServiceKind> {
        ServiceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind as people in the community call it: 巡逻, 维修, 上门探访…
    pub fn label(self) -> &'static str {
        match self {
            ServiceKind::Patrol => "巡逻",
            ServiceKind::Repair => "维修",
            ServiceKind::ElderlyVisit => "上门探访",
            ServiceKind::Wish => "小心愿",
            ServiceKind::Mediation => "调解",
            ServiceKind::Other => "其他",
        }
    }
}

/// The wish a confirmed wish's service names in its note ("小心愿 {wish id}", as
/// confirmation writes it), if the note is that.
pub fn wish_of_note(kind: ServiceKind, note: &str) -> Option<uuid::Uuid> {
    if kind != ServiceKind::Wish {
        return None;
    }
    uuid::Uuid::parse_str(note.strip_prefix("小心愿 ")?).ok()
}

/// How a service reads on a statement: its kind, place and note, and for an activity's
/// record how it came (（活动签到） or （补录）). "巡逻 北门 周六巡逻（补录）". A wish's
/// service reads "小心愿" (its note names the wish by id, which tells a reader nothing).
pub fn service_text(
    kind: ServiceKind,
    place: &str,
    note: &str,
    source: Option<super::RecordSource>,
) -> String {
    let note = if wish_of_note(kind, note).is_some() {
        ""
    } else {
        note
    };
    let mut text = [kind.label(), place, note]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    text.push_str(match source {
        Some(super::RecordSource::Attendance) => "（活动签到）",
        Some(super::RecordSource::Late) => "（补录）",
        None => "",
    });
    text
}

/// What an imported service adds to its text: "（历史导入 2019台账.xlsx 第3行）"; nothing
/// for a service recorded here.
pub fn imported_note(imported: Option<&super::ImportedRow>) -> String {
    imported
        .map(|r| format!("（历史导入 {} 第{}行）", r.file, r.row))
        .unwrap_or_default()
}

/// What a credited service adds to its text when part of its hours was over the
/// stored-hours cap: "（超出存储上限 1 小时，不计入余额）"; nothing when none was.
pub fn over_cap_note(over_cap: Hours) -> String {
    if over_cap.is_zero() {
        return String::new();
    }
    format!(
        "（超出存储上限 {} 小时，不计入余额）",
        over_cap.to_decimal().normalize()
    )
}

/// Where a points expiry falls (积分有效期): on the day the period ends, or at the end of
/// the month or the year that day falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryRounding {
    Day,
    MonthEnd,
    YearEnd,
}

/// Points of one credit (a lot) that expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredLot {
    /// The credit (a verified service or an award) the points came from.
    pub entry: crate::ids::EntryId,
    pub points: crate::amount::Points,
}

/// What a correction changed, as the clerk saw it before confirming (更正影响): the
/// star level before and after, the places in the community's rankings, and the
/// certificates the log then contradicts (by number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionNote {
    pub stars_before: u8,
    pub stars_after: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rankings: Vec<RankNote>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
}

/// One ranking move of a [`CorrectionNote`]: the period (`ALL`, `2026`, `2026-Q4`,
/// `2026-12`), `points` or `hours`, the rank before and after (none: not ranked), and
/// the volunteer numbers of those who passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankNote {
    pub period: String,
    pub metric: String,
    pub before: Option<u64>,
    pub after: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passed_by: Vec<String>,
}

/// The annual commendation report (年度表彰) a commendation rests on: the year it covers
/// and the log position it was pinned to, so anyone can fetch the same document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportEvidence {
    pub year: i32,
    pub position: u64,
}

/// One item of the stairwell rubric (文明楼道评分细则), scored 0..=max.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RubricItem {
    pub key: String,
    pub name: String,
    pub max: Decimal,
}

/// The built-in rubric (used until a community sets its own): 楼道卫生 30, 杂物清理 25,
/// 消防安全 25, plus participation (居民参与) 20.
pub fn default_rubric_items() -> Vec<RubricItem> {
    vec![
        RubricItem {
            key: "cleanliness".into(),
            name: "楼道卫生".into(),
            max: Decimal::from(30),
        },
        RubricItem {
            key: "clutter".into(),
            name: "杂物清理".into(),
            max: Decimal::from(25),
        },
        RubricItem {
            key: "fire_safety".into(),
            name: "消防安全".into(),
            max: Decimal::from(25),
        },
    ]
}

/// Participation maximum of the built-in rubric.
pub const DEFAULT_PARTICIPATION_MAX: i64 = 20;

/// The built-in star thresholds (national default): 100/300/600/1000/1500 h.
pub fn default_star_thresholds() -> Vec<Hours> {
    [100, 300, 600, 1000, 1500]
        .into_iter()
        .map(Hours::whole)
        .collect()
}

/// Teams named in a set, for evolve functions.
pub(crate) fn team_set(teams: &[TeamId]) -> BTreeSet<TeamId> {
    teams.iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::RecordSource;

    #[test]
    fn a_service_reads_as_its_kind_place_note_and_source() {
        assert_eq!(
            service_text(
                ServiceKind::Patrol,
                "北门",
                "周六巡逻",
                Some(RecordSource::Late)
            ),
            "巡逻 北门 周六巡逻（补录）"
        );
        assert_eq!(
            service_text(ServiceKind::Repair, "", "换灯泡", None),
            "维修 换灯泡"
        );
        assert_eq!(
            service_text(
                ServiceKind::ElderlyVisit,
                "",
                "",
                Some(RecordSource::Attendance)
            ),
            "上门探访（活动签到）"
        );
        let wish = "小心愿 83c629e1-1479-5ace-b431-d6b950a1c2d3";
        assert_eq!(service_text(ServiceKind::Wish, "", wish, None), "小心愿");
        assert_eq!(
            service_text(ServiceKind::Wish, "", "陪老人散步", None),
            "小心愿 陪老人散步"
        );
    }
}
