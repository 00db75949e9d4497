//! The event log of communities for a period (事件日志), one row per event recorded in
//! it (China Standard Time days): its position and time, the community, what it was,
//! the volunteer's number, what it says, the hours and points it moved, who recorded it
//! and who verified it, its entry, and how corrections link up (a reversal names the
//! entry it reverses and that entry's position; an entry reversed later names the
//! reversal's position). Read from the log pinned at one position; personal data is
//! never in it (people by volunteer number, staff by their token's short id).

use super::{Days, SheetFile};
use crate::error::ReportError;
use crate::fold::{pin, scan_community, CommunityEvent};
use crate::labels::kind_label;
use crate::table::Cell;
use crate::Format;
use ledger::amount::{Hours, Points};
use ledger::event::{service_text, Event};
use ledger::ids::*;
use ledger::store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use uuid::Uuid;

/// The event types the log shows.
pub const LOGGED: [&str; 35] = [
    "VolunteerRegistered",
    "VolunteerMoved",
    "TeamJoined",
    "TeamLeft",
    "VolunteerDeparted",
    "VolunteerTagsSet",
    "PersonalDataCorrected",
    "PersonalDataErased",
    "ServiceLogged",
    "ServiceVerified",
    "ServiceRejected",
    "PointsAwarded",
    "PointsRedeemed",
    "PointsRefunded",
    "PointsExpired",
    "EntryReversed",
    "HoursGifted",
    "HoursReceived",
    "HoursSpent",
    "TrainingRecorded",
    "CommendationGiven",
    "RecordWithdrawn",
    "WishPosted",
    "WishConfirmed",
    "WishCancelled",
    "StairwellInspected",
    "ActivityPosted",
    "AttendanceApproved",
    "ObjectionRaised",
    "ObjectionResolved",
    "AttendanceFinalised",
    "HistoryRowImported",
    "ImportBatchReversed",
    "VolunteerTransferred",
    "VolunteerTransferredOut",
];

const COLUMNS: [&str; 12] = [
    "位置",
    "记录时间",
    "社区",
    "事件",
    "志愿者编号",
    "内容",
    "时长（小时）",
    "积分",
    "录入人",
    "审核人",
    "分录号",
    "更正关系",
];

/// What the log knows while it reads: volunteers' numbers, services logged (their text
/// and who logged them), entries' positions, and the reversals of entries.
#[derive(Default)]
struct Known {
    numbers: HashMap<Uuid, String>,
    services: HashMap<ServiceId, (String, Uuid)>,
    entries: HashMap<EntryId, u64>,
    reversed: HashMap<EntryId, u64>,
}

impl Known {
    /// A principal as the log shows it: a volunteer's number, or staff by their short id.
    fn who(&self, principal: Uuid) -> String {
        match self.numbers.get(&principal) {
            Some(n) => n.clone(),
            None if principal.is_nil() => String::new(),
            None => format!("工作人员 {}", &principal.simple().to_string()[..8]),
        }
    }
}

/// One row's facts, beside its position, time, community and volunteer.
#[derive(Default)]
struct Line {
    what: &'static str,
    text: String,
    hours: Option<Hours>,
    points: Option<Points>,
    by: Option<Uuid>,
    verified_by: Option<Uuid>,
    entry: Option<EntryId>,
    link: String,
}

fn describe(e: &CommunityEvent, known: &Known) -> Line {
    let by = |u: &Uuid| Some(*u);
    match &e.event {
        Event::VolunteerRegistered { tags, .. } => Line {
            what: "志愿者登记",
            text: tags.join("、"),
            ..Line::default()
        },
        Event::VolunteerMoved { .. } => Line {
            what: "搬迁",
            ..Line::default()
        },
        Event::TeamJoined { .. } => Line {
            what: "加入队伍",
            ..Line::default()
        },
        Event::TeamLeft { .. } => Line {
            what: "离开队伍",
            ..Line::default()
        },
        Event::VolunteerDeparted { reason } => Line {
            what: "退出",
            text: reason.clone(),
            ..Line::default()
        },
        Event::VolunteerTagsSet { tags } => Line {
            what: "标签",
            text: tags.join("、"),
            ..Line::default()
        },
        Event::PersonalDataCorrected {} => Line {
            what: "更正个人信息",
            ..Line::default()
        },
        Event::PersonalDataErased {} => Line {
            what: "删除个人信息",
            ..Line::default()
        },
        Event::ServiceLogged {
            kind,
            place,
            note,
            hours,
            logged_by,
            activity,
            imported,
            ..
        } => Line {
            what: "服务记录",
            text: service_text(*kind, place, note, activity.as_ref().map(|a| a.source))
                + &ledger::event::imported_note(imported.as_ref()),
            hours: Some(*hours),
            by: by(logged_by),
            ..Line::default()
        },
        Event::ServiceVerified {
            service_id,
            entry_id,
            hours,
            points,
            verified_by,
            ..
        } => {
            let (text, logged_by) = known
                .services
                .get(service_id)
                .map(|(t, b)| (t.clone(), Some(*b)))
                .unwrap_or_default();
            Line {
                what: "服务审核通过",
                text,
                hours: Some(*hours),
                points: Some(*points),
                by: logged_by,
                verified_by: by(verified_by),
                entry: Some(*entry_id),
                ..Line::default()
            }
        }
        Event::ServiceRejected {
            service_id,
            reason,
            rejected_by,
            ..
        } => Line {
            what: "服务未通过",
            text: format!(
                "{}：{reason}",
                known
                    .services
                    .get(service_id)
                    .map(|s| s.0.as_str())
                    .unwrap_or("")
            ),
            verified_by: by(rejected_by),
            ..Line::default()
        },
        Event::PointsAwarded {
            entry_id,
            points,
            reason,
            awarded_by,
            ..
        } => Line {
            what: "积分奖励",
            text: reason.clone(),
            points: Some(*points),
            by: by(awarded_by),
            entry: Some(*entry_id),
            ..Line::default()
        },
        Event::PointsRedeemed {
            entry_id,
            points,
            item,
            redeemed_by,
        } => Line {
            what: "积分兑换",
            text: item.clone(),
            points: Some(Points::ZERO.saturating_sub(*points)),
            by: by(redeemed_by),
            entry: Some(*entry_id),
            ..Line::default()
        },
        Event::PointsRefunded {
            entry_id,
            points,
            item,
            reason,
            refunded_by,
            refunds,
        } => Line {
            what: "取消兑换退回",
            text: format!("{item}：{reason}"),
            points: Some(*points),
            by: by(refunded_by),
            entry: Some(*entry_id),
            link: format!("退回分录 {refunds}"),
            ..Line::default()
        },
        Event::PointsExpired {
            entry_id,
            points,
            expired_by,
            ..
        } => Line {
            what: "积分到期",
            points: Some(Points::ZERO.saturating_sub(*points)),
            by: by(expired_by),
            entry: Some(*entry_id),
            ..Line::default()
        },
        Event::EntryReversed {
            entry_id,
            reverses,
            points,
            hours,
            reason,
            reversed_by,
            batch,
            ..
        } => Line {
            what: "冲正",
            text: reason.clone(),
            hours: (!hours.is_zero()).then(|| Hours::ZERO.saturating_sub(*hours)),
            points: (*points != Points::ZERO).then(|| Points::ZERO.saturating_sub(*points)),
            by: by(reversed_by),
            entry: Some(*entry_id),
            link: match (known.entries.get(reverses), batch) {
                (Some(p), None) => format!("冲正分录 {reverses}（位置 {p}）"),
                (None, None) => format!("冲正分录 {reverses}"),
                (Some(p), Some(b)) => {
                    format!("冲正分录 {reverses}（位置 {p}），整批撤销导入批次 {b}")
                }
                (None, Some(b)) => format!("冲正分录 {reverses}，整批撤销导入批次 {b}"),
            },
            ..Line::default()
        },
        Event::HoursGifted {
            entry_id,
            to,
            hours,
        } => Line {
            what: "赠送时长",
            text: known.numbers.get(&to.0).cloned().unwrap_or_default(),
            hours: Some(Hours::ZERO.saturating_sub(*hours)),
            entry: Some(*entry_id),
            ..Line::default()
        },
        Event::HoursReceived {
            entry_id,
            from,
            hours,
        } => Line {
            what: "收到赠送的时长",
            text: known.numbers.get(&from.0).cloned().unwrap_or_default(),
            hours: Some(*hours),
            entry: Some(*entry_id),
            ..Line::default()
        },
        Event::HoursSpent {
            entry_id,
            hours,
            description,
            ..
        } => Line {
            what: "时长兑换服务",
            text: description.clone(),
            hours: Some(Hours::ZERO.saturating_sub(*hours)),
            entry: Some(*entry_id),
            ..Line::default()
        },
        Event::TrainingRecorded {
            course,
            hours,
            recorded_by,
            ..
        } => Line {
            what: "培训",
            text: course.clone(),
            hours: Some(*hours),
            by: by(recorded_by),
            ..Line::default()
        },
        Event::CommendationGiven {
            title, given_by, ..
        } => Line {
            what: "表彰",
            text: title.clone(),
            by: by(given_by),
            ..Line::default()
        },
        Event::RecordWithdrawn {
            reason,
            withdrawn_by,
            ..
        } => Line {
            what: "撤回档案记录",
            text: reason.clone(),
            by: by(withdrawn_by),
            ..Line::default()
        },
        Event::WishPosted {
            category,
            description,
            posted_by,
            ..
        } => Line {
            what: "小心愿发布",
            text: format!("{category}：{description}"),
            by: by(posted_by),
            ..Line::default()
        },
        Event::WishConfirmed { confirmed_by, .. } => Line {
            what: "小心愿确认完成",
            verified_by: by(confirmed_by),
            ..Line::default()
        },
        Event::WishCancelled {
            reason,
            cancelled_by,
        } => Line {
            what: "小心愿取消",
            text: reason.clone(),
            by: by(cancelled_by),
            ..Line::default()
        },
        Event::StairwellInspected {
            month, inspector, ..
        } => Line {
            what: "文明楼道检查",
            text: month.clone(),
            by: by(inspector),
            ..Line::default()
        },
        Event::ActivityPosted {
            title,
            kind,
            posted_by,
            ..
        } => Line {
            what: "活动发布",
            text: format!("{}：{title}", kind_label(*kind)),
            by: by(posted_by),
            ..Line::default()
        },
        Event::AttendanceApproved {
            records,
            approved_by,
            ..
        } => Line {
            what: "活动考勤审核",
            text: format!("{} 人", records.len()),
            verified_by: by(approved_by),
            ..Line::default()
        },
        Event::ObjectionRaised {
            reason, raised_by, ..
        } => Line {
            what: "公示异议",
            text: reason.clone(),
            by: by(raised_by),
            ..Line::default()
        },
        Event::ObjectionResolved {
            reason,
            resolved_by,
            ..
        } => Line {
            what: "异议处理",
            text: reason.clone(),
            verified_by: by(resolved_by),
            ..Line::default()
        },
        Event::AttendanceFinalised {
            volunteers,
            finalised_by,
        } => Line {
            what: "公示期满计入",
            text: format!("{} 人", volunteers.len()),
            by: by(finalised_by),
            ..Line::default()
        },
        Event::HistoryRowImported(r) => Line {
            what: "历史导入",
            text: format!("{} 第{}行", r.file, r.row),
            by: by(&r.imported_by),
            entry: Some(r.entry_id),
            link: format!("导入批次 {}", r.batch_id),
            ..Line::default()
        },
        Event::VolunteerTransferred(t) => Line {
            what: "转入（转移接续）",
            text: t.reason.clone(),
            points: t.points_left.map(|l| Points::ZERO.saturating_sub(l.points)),
            by: by(&t.transferred_by),
            entry: t.points_left.map(|l| l.entry_id),
            link: format!("自社区 {}", t.from_community),
            ..Line::default()
        },
        Event::VolunteerTransferredOut(o) => Line {
            what: "转出（转移接续）",
            text: format!(
                "志愿者 {} 转往社区 {}",
                known.numbers.get(&o.volunteer_id.0).map_or("", |n| n),
                o.to_community
            ),
            ..Line::default()
        },
        Event::ImportBatchReversed(r) => Line {
            what: "整批撤销导入",
            text: format!("{}（{} 条）", r.reason, r.entries),
            by: by(&r.reversed_by),
            ..Line::default()
        },
        _ => Line::default(),
    }
}

/// Remembers what later rows refer to.
fn learn(e: &CommunityEvent, known: &mut Known) {
    let volunteer = match parse_stream(&e.stream_id) {
        Some((StreamKind::Volunteer, id)) => Some(id),
        _ => None,
    };
    match &e.event {
        Event::VolunteerRegistered {
            volunteer_id,
            volunteer_number,
            ..
        } => {
            known
                .numbers
                .insert(volunteer_id.0, volunteer_number.clone());
        }
        Event::VolunteerTransferred(t) => {
            known
                .numbers
                .insert(t.volunteer_id.0, t.volunteer_number.clone());
        }
        Event::ServiceLogged {
            service_id,
            kind,
            place,
            note,
            logged_by,
            ..
        } => {
            let text = format!("{} {place} {note}", kind_label(*kind));
            known
                .services
                .insert(*service_id, (text.trim().to_string(), *logged_by));
        }
        other => {
            if let (Some(entry), Some(_)) = (other.entry_id(), volunteer) {
                known.entries.entry(entry).or_insert(e.position);
            }
        }
    }
}

/// Writes the event log of `communities` (id and name) for `days` as `format`, read at
/// `at` (the head when `None`): the file's path, its position and its rows.
pub async fn event_log(
    store: &Store,
    communities: &[(CommunityId, String)],
    days: Days,
    at: Option<u64>,
    format: Format,
) -> Result<(PathBuf, u64, u32), ReportError> {
    let position = pin(store, at).await?;
    let mut sheet = SheetFile::create(format, "事件日志", &COLUMNS)?;
    let quiet = |_: u64, _: u64| {};
    for (community, name) in communities {
        let mut known = Known::default();
        // Which entries were reversed, and where: the later rows name their correction.
        scan_community(
            store,
            community.0,
            &["EntryReversed"],
            position,
            &quiet,
            |e| {
                if let Event::EntryReversed { reverses, .. } = e.event {
                    known.reversed.insert(reverses, e.position);
                }
                Ok(())
            },
        )
        .await?;
        scan_community(store, community.0, &LOGGED, position, &quiet, |e| {
            learn(&e, &mut known);
            let day = crate::labels::local_date(e.recorded_at);
            if !days.contains(day) {
                return Ok(());
            }
            let line = describe(&e, &known);
            if line.what.is_empty() {
                return Ok(());
            }
            let volunteer = match parse_stream(&e.stream_id) {
                Some((StreamKind::Volunteer, id)) => known.numbers.get(&id).cloned(),
                _ => None,
            };
            let mut link = line.link;
            if let Some(p) = line.entry.and_then(|en| known.reversed.get(&en)) {
                if !link.is_empty() {
                    link.push('；');
                }
                link.push_str(&format!("已被位置 {p} 的冲正更正"));
            }
            let opt = |s: Option<String>| s.map(Cell::Text).unwrap_or(Cell::Empty);
            sheet.row(&[
                Cell::Int(e.position as i64),
                Cell::DateTime(e.recorded_at),
                Cell::text(name.clone()),
                Cell::text(line.what),
                opt(volunteer),
                Cell::Text(line.text),
                line.hours.map(Cell::Hours).unwrap_or(Cell::Empty),
                line.points.map(Cell::Points).unwrap_or(Cell::Empty),
                opt(line.by.map(|u| known.who(u))),
                opt(line.verified_by.map(|u| known.who(u))),
                opt(line.entry.map(|en| en.to_string())),
                Cell::Text(link),
            ])
        })
        .await?;
    }
    let rows = sheet.rows();
    Ok((sheet.finish()?, position, rows))
}
