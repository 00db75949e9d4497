//! The member list (志愿者名单) of communities: every volunteer registered by the pinned
//! position, with their number, name, phone and ID number (whole for the community's
//! own staff, masked for everyone else), where they live, their grid, teams and tags,
//! the day they registered, whether they are still in the register, and their verified
//! service hours to date (net of corrections).

use super::{Masking, SheetFile};
use crate::error::ReportError;
use crate::fold::{pin, scan_community};
use crate::labels::local_date;
use crate::people::{persons, ERASED_NAME};
use crate::table::Cell;
use crate::Format;
use chrono::NaiveDate;
use ledger::amount::Hours;
use ledger::event::Event;
use ledger::ids::*;
use ledger::store::Store;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use uuid::Uuid;

const READ: [&str; 14] = [
    "GridAdded",
    "StairwellRegistered",
    "TeamFormed",
    "VolunteerRegistered",
    "VolunteerMoved",
    "TeamJoined",
    "TeamLeft",
    "VolunteerDeparted",
    "VolunteerTagsSet",
    "ServiceVerified",
    "EntryReversed",
    "PersonalDataErased",
    "VolunteerTransferred",
    "VolunteerTransferredOut",
];

const COLUMNS: [&str; 13] = [
    "社区",
    "志愿者编号",
    "姓名",
    "手机号",
    "身份证号",
    "楼栋",
    "单元",
    "网格",
    "队伍",
    "标签",
    "登记日期",
    "状态",
    "累计服务时长（小时）",
];

struct Member {
    number: String,
    stairwell: StairwellId,
    grid: GridId,
    teams: BTreeSet<TeamId>,
    tags: Vec<String>,
    registered: Option<NaiveDate>,
    departed: bool,
    hours: Hours,
}

#[derive(Default)]
struct Register {
    grids: HashMap<GridId, String>,
    stairwells: HashMap<StairwellId, (String, String)>,
    teams: HashMap<TeamId, String>,
    members: HashMap<Uuid, Member>,
}

impl Register {
    fn fold(&mut self, stream: &str, day: NaiveDate, event: Event) {
        let vid = match parse_stream(stream) {
            Some((StreamKind::Volunteer, id)) => Some(id),
            _ => None,
        };
        let member = vid.and_then(|id| self.members.get_mut(&id));
        match (event, member) {
            (Event::GridAdded { grid_id, name, .. }, _) => {
                self.grids.insert(grid_id, name);
            }
            (
                Event::StairwellRegistered {
                    stairwell_id,
                    building,
                    unit,
                    ..
                },
                _,
            ) => {
                self.stairwells.insert(stairwell_id, (building, unit));
            }
            (Event::TeamFormed { team_id, name }, _) => {
                self.teams.insert(team_id, name);
            }
            (
                Event::VolunteerRegistered {
                    volunteer_id,
                    volunteer_number,
                    stairwell_id,
                    grid_id,
                    tags,
                    teams,
                    ..
                },
                _,
            ) => {
                let m = Member {
                    number: volunteer_number,
                    stairwell: stairwell_id,
                    grid: grid_id,
                    teams: teams.into_iter().collect(),
                    tags,
                    registered: Some(day),
                    departed: false,
                    hours: Hours::ZERO,
                };
                self.members.insert(volunteer_id.0, m);
            }
            (
                Event::VolunteerMoved {
                    stairwell_id,
                    grid_id,
                    ..
                },
                Some(m),
            ) => {
                m.stairwell = stairwell_id;
                m.grid = grid_id;
            }
            (Event::TeamJoined { team_id }, Some(m)) => {
                m.teams.insert(team_id);
            }
            (Event::TeamLeft { team_id }, Some(m)) => {
                m.teams.remove(&team_id);
            }
            // Moved in from another community: a member from that day, with the
            // verified hours the record carries.
            (Event::VolunteerTransferred(t), _) => {
                let m = Member {
                    number: t.volunteer_number,
                    stairwell: t.stairwell_id,
                    grid: t.grid_id,
                    teams: Default::default(),
                    tags: t.tags,
                    registered: Some(day),
                    departed: false,
                    hours: t.verified_hours,
                };
                self.members.insert(t.volunteer_id.0, m);
            }
            // Moved to another community: no longer a member here.
            (Event::VolunteerTransferredOut(o), _) => {
                self.members.remove(&o.volunteer_id.0);
            }
            (Event::VolunteerDeparted { .. }, Some(m)) => m.departed = true,
            (Event::VolunteerTagsSet { tags }, Some(m)) => m.tags = tags,
            (Event::ServiceVerified { hours, .. }, Some(m)) => {
                m.hours = m.hours.saturating_add(hours)
            }
            (Event::EntryReversed { hours, .. }, Some(m)) => {
                m.hours = m.hours.saturating_sub(hours)
            }
            _ => {}
        }
    }
}

/// Writes the member list of `communities` (id, name, and how the reader sees its
/// personal data) as `format`, read at `at`: the file, its position and its rows.
pub async fn member_list(
    store: &Store,
    communities: &[(CommunityId, String, Masking)],
    at: Option<u64>,
    format: Format,
) -> Result<(PathBuf, u64, u32), ReportError> {
    let position = pin(store, at).await?;
    let mut sheet = SheetFile::create(format, "志愿者名单", &COLUMNS)?;
    let quiet = |_: u64, _: u64| {};
    for (community, name, masking) in communities {
        let mut reg = Register::default();
        scan_community(store, community.0, &READ, position, &quiet, |e| {
            reg.fold(&e.stream_id, local_date(e.recorded_at), e.event);
            Ok(())
        })
        .await?;
        let people = persons(store, reg.members.keys().copied()).await?;
        let mut members: Vec<(&Uuid, &Member)> = reg.members.iter().collect();
        members.sort_by(|a, b| a.1.number.cmp(&b.1.number));
        for (id, m) in members {
            let p = people.get(id);
            let (building, unit) = reg
                .stairwells
                .get(&m.stairwell)
                .cloned()
                .unwrap_or_default();
            let teams: Vec<&str> = m
                .teams
                .iter()
                .filter_map(|t| reg.teams.get(t).map(String::as_str))
                .collect();
            let opt = |s: Option<String>| s.map(Cell::Text).unwrap_or(Cell::Empty);
            sheet.row(&[
                Cell::text(name.clone()),
                Cell::text(m.number.clone()),
                Cell::text(
                    p.map(|p| p.name.clone())
                        .unwrap_or_else(|| ERASED_NAME.into()),
                ),
                opt(p.and_then(|p| p.phone.as_deref()).map(|s| masking.phone(s))),
                opt(p
                    .and_then(|p| p.id_number.as_deref())
                    .map(|s| masking.id_number(s))),
                Cell::Text(building),
                Cell::Text(unit),
                Cell::text(reg.grids.get(&m.grid).cloned().unwrap_or_default()),
                Cell::text(teams.join("、")),
                Cell::text(m.tags.join("、")),
                m.registered.map(Cell::Date).unwrap_or(Cell::Empty),
                Cell::text(if m.departed { "已退出" } else { "在册" }),
                Cell::Hours(m.hours),
            ])?;
        }
    }
    let rows = sheet.rows();
    Ok((sheet.finish()?, position, rows))
}
