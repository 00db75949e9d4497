//! A volunteer's statement (账户明细), their right to a copy of their records: every
//! ledger entry of their account up to a position, with running balances, exported as
//! CSV or XLSX.
//!
//! Columns: the log position and time of each entry, its kind and description, the
//! service date (for verified services), the change of points, of time-bank hours and
//! of verified service hours, the three running balances, the entry id, the entry a
//! reversal corrects and the reversal that corrected an entry (when it is at or before
//! the statement's position).

use crate::error::ReportError;
use crate::fold;
use crate::labels::{hours_text, local_date};
use crate::people::{mask_id_number, mask_phone, ERASED_NAME};
use crate::render_csv::sections_to_csv;
use crate::render_xlsx::sections_to_xlsx;
use crate::table::{Cell, Section};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::domain::volunteer::ServiceRecord;
use ledger::event::{service_text, Event};
use ledger::ids::*;
use ledger::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One ledger entry with the balances after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementEntry {
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    pub entry_id: EntryId,
    /// The event type (`ServiceVerified`, `PointsAwarded`, …).
    pub kind: String,
    /// 服务记录, 积分奖励, 积分兑换, 冲正, 转赠时长, 受赠时长, 时长兑换.
    pub label: String,
    pub description: String,
    pub service_date: Option<NaiveDate>,
    /// Signed changes.
    pub points: Points,
    pub hours: Hours,
    pub verified_hours: Hours,
    /// Balances after the entry.
    pub points_balance: Points,
    pub hours_balance: Hours,
    pub verified_hours_total: Hours,
    /// For a reversal: the entry it corrects.
    pub reverses: Option<EntryId>,
    /// The reversal that corrected this entry, if at or before the statement's position.
    pub reversed_by: Option<EntryId>,
}

/// A volunteer's statement at `position`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    pub community_id: Option<CommunityId>,
    /// From the personal-data table when the statement was produced.
    pub name: String,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub position: u64,
    pub as_of: Option<DateTime<Utc>>,
    pub entries: Vec<StatementEntry>,
    pub points_balance: Points,
    pub hours_balance: Hours,
    pub verified_hours: Hours,
    /// Training, commendations and evaluations of services (服务档案), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub record: Vec<RecordLine>,
}

/// One line of the service record beyond ledger entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordLine {
    /// 培训, 表彰, 服务评价.
    pub label: String,
    pub date: Option<NaiveDate>,
    /// The course, the title, or the service evaluated.
    pub content: String,
    /// "3 小时" of a training, "满意度 5 分" of an evaluation.
    pub measure: String,
    /// The report a commendation rests on, an evaluation's comment, or why a record
    /// was withdrawn.
    pub note: String,
}

/// The record's lines: trainings, commendations, then evaluations; `services`: each
/// service's day and text.
fn record_lines(
    record: &ServiceRecord,
    services: &HashMap<ServiceId, (NaiveDate, String)>,
) -> Vec<RecordLine> {
    let withdrawn = |w: &Option<String>| {
        w.as_ref()
            .map(|r| format!("已撤销：{r}"))
            .unwrap_or_default()
    };
    let mut out: Vec<RecordLine> = record
        .trainings
        .iter()
        .map(|t| RecordLine {
            label: "培训".into(),
            date: Some(t.date),
            content: t.course.clone(),
            measure: format!("{} 小时", hours_text(t.hours)),
            note: withdrawn(&t.withdrawn),
        })
        .collect();
    out.extend(record.commendations.iter().map(|c| {
        let evidence = c
            .evidence
            .map(|e| format!("依据{}年度表彰报告（日志位置 {}）", e.year, e.position));
        RecordLine {
            label: "表彰".into(),
            date: Some(c.date),
            content: c.title.clone(),
            measure: String::new(),
            note: match (&c.withdrawn, evidence) {
                (Some(_), _) => withdrawn(&c.withdrawn),
                (None, e) => e.unwrap_or_default(),
            },
        }
    }));
    out.extend(record.evaluations.iter().map(|e| {
        let (date, text) = services
            .get(&e.service_id)
            .map(|(d, t)| (Some(*d), t.clone()))
            .unwrap_or((None, String::new()));
        RecordLine {
            label: "服务评价".into(),
            date,
            content: text,
            measure: format!("满意度 {} 分", e.satisfaction),
            note: if e.by_resident {
                format!("服务对象评价：{}", e.comment)
            } else {
                e.comment.clone()
            },
        }
    }));
    out
}

/// The statement of a volunteer at position `at` (the head when `None`).
pub async fn statement(
    store: &Store,
    volunteer_id: VolunteerId,
    at: Option<u64>,
) -> Result<Statement, ReportError> {
    let position = fold::pin(store, at).await?;
    let as_of = fold::recorded_at(store, position).await?;
    let events = store
        .read_stream(&volunteer_stream(volunteer_id), 0)
        .await?;
    let mut out = Statement {
        volunteer_id,
        volunteer_number: String::new(),
        community_id: None,
        name: ERASED_NAME.to_string(),
        id_number_masked: None,
        phone_masked: None,
        position,
        as_of,
        entries: Vec::new(),
        points_balance: Points::ZERO,
        hours_balance: Hours::ZERO,
        verified_hours: Hours::ZERO,
        record: Vec::new(),
    };
    let mut services: HashMap<ServiceId, (NaiveDate, String)> = HashMap::new();
    let mut index: HashMap<EntryId, usize> = HashMap::new();
    let mut record = ServiceRecord::default();
    for rec in events.iter().filter(|e| e.position <= position) {
        let event = Event::decode(rec)?;
        record.evolve(&event);
        let entry_id = event.entry_id();
        let (label, description, service_date, points, hours, verified, reverses) = match event {
            Event::VolunteerRegistered {
                volunteer_number,
                community_id,
                ..
            } => {
                out.volunteer_number = volunteer_number;
                out.community_id = Some(community_id);
                continue;
            }
            // The statement follows the person; points that stayed are a line.
            Event::VolunteerTransferred(t) => {
                out.volunteer_number = t.volunteer_number;
                out.community_id = Some(t.community_id);
                let Some(left) = t.points_left else { continue };
                (
                    "转移接续",
                    format!("积分按原社区规则留在原社区（{}）", t.reason),
                    None,
                    -left.points,
                    Hours::ZERO,
                    Hours::ZERO,
                    None,
                )
            }
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                place,
                note,
                activity,
                imported,
                ..
            } => {
                let text = service_text(kind, &place, &note, activity.map(|a| a.source))
                    + &ledger::event::imported_note(imported.as_ref());
                services.insert(service_id, (local_date(started_at), text));
                continue;
            }
            Event::ServiceVerified {
                service_id,
                hours,
                points,
                over_cap,
                ..
            } => {
                let (date, mut text) = services
                    .get(&service_id)
                    .map(|(d, t)| (Some(*d), t.clone()))
                    .unwrap_or((None, String::new()));
                text.push_str(&ledger::event::over_cap_note(over_cap));
                let banked = hours.saturating_sub(over_cap);
                ("服务记录", text, date, points, banked, hours, None)
            }
            Event::PointsAwarded { points, reason, .. } => (
                "积分奖励",
                reason,
                None,
                points,
                Hours::ZERO,
                Hours::ZERO,
                None,
            ),
            Event::PointsRedeemed { points, item, .. } => (
                "积分兑换",
                item,
                None,
                -points,
                Hours::ZERO,
                Hours::ZERO,
                None,
            ),
            Event::PointsExpired { points, .. } => (
                "积分到期",
                "积分有效期已过".to_string(),
                None,
                -points,
                Hours::ZERO,
                Hours::ZERO,
                None,
            ),
            Event::PointsRefunded {
                refunds,
                points,
                item,
                ..
            } => (
                "取消兑换",
                item,
                None,
                points,
                Hours::ZERO,
                Hours::ZERO,
                Some(refunds),
            ),
            Event::EntryReversed {
                reverses,
                points,
                hours,
                reason,
                over_cap,
                ..
            } => (
                "冲正",
                reason,
                None,
                -points,
                -hours.saturating_sub(over_cap),
                -hours,
                Some(reverses),
            ),
            Event::HoursGifted { to, hours, .. } => (
                "转赠时长",
                format!("转赠给志愿者 {}", short_id(to.0)),
                None,
                Points::ZERO,
                -hours,
                Hours::ZERO,
                None,
            ),
            Event::HoursReceived { from, hours, .. } => (
                "受赠时长",
                format!("来自志愿者 {}", short_id(from.0)),
                None,
                Points::ZERO,
                hours,
                Hours::ZERO,
                None,
            ),
            Event::HoursSpent {
                hours,
                description,
                provider,
                ..
            } => (
                "时长兑换",
                match provider {
                    Some(p) => format!(
                        "{description}（服务者：志愿者 {}）",
                        short_id(p.volunteer_id.0)
                    ),
                    None => description,
                },
                None,
                Points::ZERO,
                -hours,
                Hours::ZERO,
                None,
            ),
            _ => continue,
        };
        let Some(entry_id) = entry_id else {
            continue;
        };
        out.points_balance = out.points_balance.saturating_add(points);
        out.hours_balance = out.hours_balance.saturating_add(hours);
        out.verified_hours = out.verified_hours.saturating_add(verified);
        if let Some(r) = reverses {
            if let Some(i) = index.get(&r) {
                out.entries[*i].reversed_by = Some(entry_id);
            }
        }
        index.insert(entry_id, out.entries.len());
        out.entries.push(StatementEntry {
            position: rec.position,
            recorded_at: rec.recorded_at,
            entry_id,
            kind: rec.event_type.clone(),
            label: label.to_string(),
            description,
            service_date,
            points,
            hours,
            verified_hours: verified,
            points_balance: out.points_balance,
            hours_balance: out.hours_balance,
            verified_hours_total: out.verified_hours,
            reverses,
            reversed_by: None,
        });
    }
    out.record = record_lines(&record, &services);
    if out.community_id.is_none() {
        return Err(ReportError::VolunteerNotFound {
            volunteer_id: volunteer_id.0,
            position,
        });
    }
    if let Some(p) = store.get_person(volunteer_id.0).await? {
        out.name = p.name;
        out.id_number_masked = p.id_number.as_deref().map(mask_id_number);
        out.phone_masked = p.phone.as_deref().map(mask_phone);
    }
    Ok(out)
}

fn short_id(id: uuid::Uuid) -> String {
    id.simple().to_string().chars().take(8).collect()
}

/// Column headers of the statement's entries.
pub const ENTRY_COLUMNS: [&str; 14] = [
    "序号",
    "日志位置",
    "记录时间",
    "类型",
    "说明",
    "服务日期",
    "积分变动",
    "时长变动（小时）",
    "服务时长变动（小时）",
    "积分余额",
    "时间银行余额（小时）",
    "累计服务时长（小时）",
    "条目编号",
    "更正说明",
];

/// The statement's sections: the holder and the entries.
pub fn statement_sections(s: &Statement) -> Vec<Section> {
    let info_row = |k: &str, v: Cell| vec![Cell::text(k), v];
    let info = Section {
        key: "holder",
        title: "志愿者信息".into(),
        columns: vec!["项目".into(), "内容".into()],
        rows: vec![
            info_row("姓名", Cell::text(&s.name)),
            info_row("志愿者编号", Cell::text(&s.volunteer_number)),
            info_row(
                "身份证号",
                Cell::text(s.id_number_masked.clone().unwrap_or_default()),
            ),
            info_row(
                "手机号",
                Cell::text(s.phone_masked.clone().unwrap_or_default()),
            ),
            info_row(
                "日志位置",
                Cell::Int(i64::try_from(s.position).unwrap_or(i64::MAX)),
            ),
            info_row(
                "数据截至",
                s.as_of.map(Cell::DateTime).unwrap_or(Cell::Empty),
            ),
            info_row("积分余额", Cell::Points(s.points_balance)),
            info_row("时间银行余额（小时）", Cell::Hours(s.hours_balance)),
            info_row("累计服务时长（小时）", Cell::Hours(s.verified_hours)),
            info_row("条目数", Cell::Int(s.entries.len() as i64)),
        ],
    };
    let entries = Section {
        key: "entries",
        title: "账户明细".into(),
        columns: ENTRY_COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: s
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let note = match (e.reverses, e.reversed_by) {
                    (Some(r), _) => format!("更正条目 {r}"),
                    (None, Some(by)) => format!("已被条目 {by} 冲正"),
                    (None, None) => String::new(),
                };
                vec![
                    Cell::Int(i as i64 + 1),
                    Cell::Int(i64::try_from(e.position).unwrap_or(i64::MAX)),
                    Cell::DateTime(e.recorded_at),
                    Cell::text(&e.label),
                    Cell::text(&e.description),
                    e.service_date.map(Cell::Date).unwrap_or(Cell::Empty),
                    Cell::Points(e.points),
                    Cell::Hours(e.hours),
                    Cell::Hours(e.verified_hours),
                    Cell::Points(e.points_balance),
                    Cell::Hours(e.hours_balance),
                    Cell::Hours(e.verified_hours_total),
                    Cell::text(e.entry_id.to_string()),
                    Cell::text(note),
                ]
            })
            .collect(),
    };
    let mut sections = vec![info, entries];
    if !s.record.is_empty() {
        sections.push(Section {
            key: "record",
            title: "服务档案".into(),
            columns: ["类型", "日期", "内容", "时长或评分", "说明"]
                .iter()
                .map(|c| c.to_string())
                .collect(),
            rows: s
                .record
                .iter()
                .map(|l| {
                    vec![
                        Cell::text(&l.label),
                        l.date.map(Cell::Date).unwrap_or(Cell::Empty),
                        Cell::text(&l.content),
                        Cell::text(&l.measure),
                        Cell::text(&l.note),
                    ]
                })
                .collect(),
        });
    }
    sections
}

/// The statement as CSV (UTF-8 with a BOM; the layout of [`mod@crate::render_csv`]).
pub fn statement_csv(s: &Statement) -> Vec<u8> {
    sections_to_csv(&statement_sections(s))
}

/// The statement as XLSX (two sheets: 志愿者信息, 账户明细; a third, 服务档案, when the
/// volunteer has training, commendations or evaluations).
pub fn statement_xlsx(s: &Statement) -> Result<Vec<u8>, ReportError> {
    sections_to_xlsx(&statement_sections(s))
}
