//! Hours per volunteer for a period (志愿服务时长汇总): one flat row per volunteer who
//! served in it, to upload elsewhere (the national system's 记录导入, say): number,
//! name, ID number (whole for the community's own staff, masked for everyone else), the
//! community, the verified hours and services of the period, the points those services
//! earned, and the period. Services count on their service date (China Standard Time); a
//! correction takes away from the date of the service it corrects, as in every
//! document.

use super::{Days, Masking, SheetFile};
use crate::error::ReportError;
use crate::fold::{pin, scan_community};
use crate::labels::local_date;
use crate::people::persons;
use crate::people::ERASED_NAME;
use crate::table::Cell;
use crate::Format;
use chrono::NaiveDate;
use ledger::amount::{Hours, Points};
use ledger::event::Event;
use ledger::ids::*;
use ledger::store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use uuid::Uuid;

const READ: [&str; 5] = [
    "VolunteerRegistered",
    "VolunteerTransferred",
    "ServiceLogged",
    "ServiceVerified",
    "EntryReversed",
];

const COLUMNS: [&str; 9] = [
    "志愿者编号",
    "姓名",
    "身份证号",
    "社区",
    "服务时长（小时）",
    "服务次数",
    "服务积分",
    "起始日期",
    "截止日期",
];

#[derive(Default)]
struct Served {
    hours: Hours,
    services: i64,
    points: Points,
}

/// Writes the hours of `communities` (id, name, how the reader sees personal data) in
/// `days` as `format`, read at `at`: the file, its position and its rows.
pub async fn hours_sheet(
    store: &Store,
    communities: &[(CommunityId, String, Masking)],
    days: Days,
    at: Option<u64>,
    format: Format,
) -> Result<(PathBuf, u64, u32), ReportError> {
    let position = pin(store, at).await?;
    let mut sheet = SheetFile::create(format, "服务时长汇总", &COLUMNS)?;
    let quiet = |_: u64, _: u64| {};
    for (community, name, masking) in communities {
        let mut numbers: HashMap<Uuid, String> = HashMap::new();
        let mut service_day: HashMap<ServiceId, NaiveDate> = HashMap::new();
        // Each entry's day, hours and points, for the corrections that reverse it.
        let mut entries: HashMap<EntryId, NaiveDate> = HashMap::new();
        let mut served: HashMap<Uuid, Served> = HashMap::new();
        scan_community(store, community.0, &READ, position, &quiet, |e| {
            let Some((StreamKind::Volunteer, vid)) = parse_stream(&e.stream_id) else {
                return Ok(());
            };
            match e.event {
                Event::VolunteerRegistered {
                    volunteer_number, ..
                } => {
                    numbers.insert(vid, volunteer_number);
                }
                // Service after a move counts here under the new number.
                Event::VolunteerTransferred(t) => {
                    numbers.insert(vid, t.volunteer_number);
                }
                Event::ServiceLogged {
                    service_id,
                    started_at,
                    ..
                } => {
                    service_day.insert(service_id, local_date(started_at));
                }
                Event::ServiceVerified {
                    service_id,
                    entry_id,
                    hours,
                    points,
                    ..
                } => {
                    let day = service_day
                        .get(&service_id)
                        .copied()
                        .unwrap_or_else(|| local_date(e.recorded_at));
                    entries.insert(entry_id, day);
                    if days.contains(day) {
                        let s = served.entry(vid).or_default();
                        s.hours = s.hours.saturating_add(hours);
                        s.points = s.points.saturating_add(points);
                        s.services += 1;
                    }
                }
                // A correction of a service of the period takes it back.
                Event::EntryReversed {
                    reverses,
                    hours,
                    points,
                    ..
                } if entries.get(&reverses).is_some_and(|d| days.contains(*d)) => {
                    let s = served.entry(vid).or_default();
                    s.hours = s.hours.saturating_sub(hours);
                    s.points = s.points.saturating_sub(points);
                    if !hours.is_zero() {
                        s.services -= 1;
                    }
                }
                _ => {}
            }
            Ok(())
        })
        .await?;
        let people = persons(store, served.keys().copied()).await?;
        let mut rows: Vec<(&Uuid, &Served)> =
            served.iter().filter(|(_, s)| !s.hours.is_zero()).collect();
        rows.sort_by(|a, b| numbers.get(a.0).cmp(&numbers.get(b.0)));
        for (id, s) in rows {
            let p = people.get(id);
            sheet.row(&[
                Cell::text(numbers.get(id).cloned().unwrap_or_default()),
                Cell::text(
                    p.map(|p| p.name.clone())
                        .unwrap_or_else(|| ERASED_NAME.into()),
                ),
                p.and_then(|p| p.id_number.as_deref())
                    .map(|n| Cell::Text(masking.id_number(n)))
                    .unwrap_or(Cell::Empty),
                Cell::text(name.clone()),
                Cell::Hours(s.hours),
                Cell::Int(s.services),
                Cell::Points(s.points),
                Cell::Date(days.from),
                Cell::Date(days.to),
            ])?;
        }
    }
    let rows = sheet.rows();
    Ok((sheet.finish()?, position, rows))
}
