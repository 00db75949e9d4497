//! The roster (花名册): its columns, found by their Chinese headers, and each row's
//! check against the community, into the registration it asks for.
//!
//! Columns: 姓名 (required), 手机号, 身份证号, 楼栋 and 单元 (required: the stairwell the
//! volunteer lives in, registered in the community), 网格 (if given, the stairwell's
//! grid), 队伍 (team names, separated by 、 , ; or /), 政治面貌 and 标签 (tags; 中共党员
//! and 中共预备党员 count as 党员, 群众 as none). Common other names of the headers are
//! known (手机, 联系电话, 身份证, 证件号码, 楼号, 服务队 …); any other header is mapped by
//! the caller; columns in any order, extra columns ignored.

use crate::sheet::Sheet;
use crate::ImportError;
use ledger::command::RegisterVolunteer;
use ledger::domain::CommunityState;
use ledger::ids::*;
use sha2::{Digest, Sha256};

/// The headers of each column (the first is the one the roster template uses).
const NAME: &[&str] = &["姓名", "名字"];
const PHONE: &[&str] = &["手机号", "手机", "手机号码", "联系电话", "电话"];
const ID_NUMBER: &[&str] = &["身份证号", "身份证", "身份证号码", "证件号码"];
const BUILDING: &[&str] = &["楼栋", "楼号", "楼栋号"];
const UNIT: &[&str] = &["单元", "单元号"];
const GRID: &[&str] = &["网格"];
const TEAM: &[&str] = &["队伍", "服务队", "志愿服务队"];
const TAGS: &[&str] = &["政治面貌", "标签", "政治面貌/标签"];

/// Where each column of the roster is in the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    name: usize,
    phone: Option<usize>,
    id_number: Option<usize>,
    building: usize,
    unit: usize,
    grid: Option<usize>,
    team: Option<usize>,
    tags: Vec<usize>,
}

impl Columns {
    /// Finds the columns among `headers`; `mapping` names other headers as ours
    /// (`("联系方式", "手机号")`). Missing 姓名, 楼栋 or 单元 is an error naming them.
    pub fn find(headers: &[String], mapping: &[(String, String)]) -> Result<Columns, ImportError> {
        let ours = mapped(headers, mapping);
        let all = |names: &[&str]| -> Vec<usize> {
            ours.iter()
                .enumerate()
                .filter(|(_, h)| names.contains(&h.as_str()))
                .map(|(i, _)| i)
                .collect()
        };
        let one = |names: &[&str]| all(names).first().copied();
        let missing: Vec<&str> = [(NAME, "姓名"), (BUILDING, "楼栋"), (UNIT, "单元")]
            .into_iter()
            .filter(|(names, _)| one(names).is_none())
            .map(|(_, h)| h)
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::Columns(format!(
                "缺少列：{}（表头找到：{}）",
                missing.join("、"),
                headers.join("、")
            )));
        }
        Ok(Columns {
            name: one(NAME).unwrap_or_default(),
            phone: one(PHONE),
            id_number: one(ID_NUMBER),
            building: one(BUILDING).unwrap_or_default(),
            unit: one(UNIT).unwrap_or_default(),
            grid: one(GRID),
            team: one(TEAM),
            tags: all(TAGS),
        })
    }

    /// The ID number of a row as kept (trimmed, upper-case), if given.
    pub fn id_number(&self, cells: &[String]) -> Option<String> {
        self.id_number
            .map(|c| Sheet::cell(cells, c).trim().to_uppercase())
            .filter(|n| !n.is_empty())
    }

    /// The name of a row.
    pub fn name<'a>(&self, cells: &'a [String]) -> &'a str {
        Sheet::cell(cells, self.name)
    }
}

/// The headers as ours: trimmed, and those `mapping` names (theirs, ours) renamed.
pub(crate) fn mapped(headers: &[String], mapping: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .map(|h| {
            let h = h.trim();
            mapping
                .iter()
                .find(|(theirs, _)| theirs.trim() == h)
                .map(|(_, ours)| ours.trim().to_string())
                .unwrap_or_else(|| h.to_string())
        })
        .collect()
}

/// Checks rows of a roster against a community.
pub struct RowCheck<'a> {
    pub community_id: CommunityId,
    pub community: &'a CommunityState,
    pub columns: &'a Columns,
}

/// Splits a list typed in one cell: 、 , ， ; ； / or spaces.
fn list(cell: &str) -> Vec<String> {
    cell.split(['、', ',', '，', ';', '；', '/', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A building or unit as compared: without its 栋 / 号楼 / 幢 / 号 / 单元 and spaces.
fn place_key(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let mut s = s.as_str();
    for suffix in ["号楼", "单元", "栋", "幢", "号"] {
        s = s.strip_suffix(suffix).unwrap_or(s);
    }
    s.to_string()
}

/// What is wrong with an ID number, for the clerk (the rule is the registration's).
pub fn id_number_problem(n: &str) -> Option<&'static str> {
    use ledger::domain::volunteer::IdNumberProblem;
    ledger::domain::volunteer::id_number_problem(n).map(|p| match p {
        IdNumberProblem::Shape => "身份证号格式不对（应为18位，最后一位可以是X）",
        IdNumberProblem::CheckCharacter => "身份证号校验位不对，请核对",
    })
}

/// A mobile number: 11 digits from 1 (spaces and hyphens ignored).
fn phone_of(cell: &str) -> Result<Option<String>, &'static str> {
    let digits: String = cell.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    if digits.len() == 11 && digits.starts_with('1') && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(Some(digits))
    } else {
        Err("手机号格式不对（应为1开头的11位数字）")
    }
}

impl RowCheck<'_> {
    /// The registration a row asks for, or every reason it cannot be made.
    pub fn check(&self, cells: &[String]) -> Result<RegisterVolunteer, Vec<String>> {
        let c = self.columns;
        let cell = |i: usize| Sheet::cell(cells, i);
        let mut why: Vec<String> = Vec::new();
        let name = cell(c.name).to_string();
        if name.is_empty() {
            why.push("姓名为空".into());
        } else if name.chars().count() > 50 {
            why.push("姓名超过50个字".into());
        }
        let phone = match c.phone.map(|i| phone_of(cell(i))).transpose() {
            Ok(p) => p.flatten(),
            Err(e) => {
                why.push(e.into());
                None
            }
        };
        let id_number = c.id_number(cells);
        if let Some(problem) = id_number.as_deref().and_then(id_number_problem) {
            why.push(problem.into());
        }
        let (building, unit) = (cell(c.building), cell(c.unit));
        let stairwell = self.community.stairwells.iter().find(|(_, s)| {
            place_key(&s.building) == place_key(building) && place_key(&s.unit) == place_key(unit)
        });
        match stairwell {
            None => why.push(format!(
                "没有这个楼道：{building} {unit}（请先在社区设置里登记）"
            )),
            Some((_, s)) => {
                let grid = c.grid.map(cell).filter(|g| !g.is_empty());
                let grid_name = self
                    .community
                    .grids
                    .get(&s.grid_id)
                    .map(|g| g.name.as_str());
                if let Some(g) = grid.filter(|g| Some(*g) != grid_name) {
                    why.push(format!(
                        "{building} {unit}不在网格“{g}”（在“{}”）",
                        grid_name.unwrap_or("")
                    ));
                }
            }
        }
        let mut teams = Vec::new();
        for t in c.team.map(|i| list(cell(i))).unwrap_or_default() {
            match self.community.teams.iter().find(|(_, n)| **n == t) {
                Some((id, _)) => teams.push(*id),
                None => why.push(format!("没有这个队伍：{t}")),
            }
        }
        let mut tags: Vec<String> = Vec::new();
        for t in c.tags.iter().flat_map(|i| list(cell(*i))) {
            let t = match t.as_str() {
                "中共党员" | "中共预备党员" | "预备党员" => "党员".to_string(),
                "群众" => continue,
                _ => t,
            };
            if t.chars().count() > 20 {
                why.push(format!("标签太长（最多20个字）：{t}"));
            } else if !tags.contains(&t) {
                tags.push(t);
            }
        }
        if tags.len() > 10 {
            why.push("标签超过10个".into());
        }
        match (why.is_empty(), stairwell) {
            (true, Some((stairwell_id, _))) => Ok(RegisterVolunteer {
                community_id: self.community_id,
                name,
                phone,
                id_number,
                stairwell_id: *stairwell_id,
                tags,
                teams,
                household: None,
            }),
            _ => Err(why),
        }
    }
}

/// The idempotency key of a row's registration: the community and what the row says,
/// so the same row imported again is the same command (and adds nothing).
pub fn row_key(cmd: &RegisterVolunteer) -> String {
    let mut h = Sha256::new();
    for part in [
        cmd.community_id.to_string(),
        cmd.name.clone(),
        cmd.phone.clone().unwrap_or_default(),
        cmd.id_number.clone().unwrap_or_default(),
        cmd.stairwell_id.to_string(),
        cmd.tags.join("、"),
        cmd.teams
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(","),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    format!("roster-{}", &hex::encode(h.finalize())[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_checked_by_their_check_character() {
        // 11010519491231002X is the standard's own example.
        assert_eq!(id_number_problem("11010519491231002X"), None);
        assert!(id_number_problem("110105194912310021").is_some());
        assert!(id_number_problem("1101051949123100").is_some());
        assert!(id_number_problem("11010519491231002x").is_some());
    }

    #[test]
    fn places_compare_without_their_suffixes() {
        assert_eq!(place_key("3栋"), place_key("3"));
        assert_eq!(place_key("3号楼"), place_key("3 栋"));
        assert_eq!(place_key("2单元"), place_key("2"));
        assert_ne!(place_key("3栋"), place_key("13栋"));
    }

    #[test]
    fn columns_are_found_by_their_headers_in_any_order() {
        let h: Vec<String> = [
            "备注",
            "楼号",
            "联系方式",
            "姓名",
            "单元",
            "政治面貌",
            "标签",
        ]
        .map(String::from)
        .to_vec();
        let map = [("联系方式".to_string(), "手机号".to_string())];
        let c = Columns::find(&h, &map).unwrap();
        assert_eq!((c.name, c.building, c.unit, c.phone), (3, 1, 4, Some(2)));
        assert_eq!(c.tags, vec![5, 6]);
        let e = Columns::find(&h[..3], &[]).unwrap_err().to_string();
        assert!(e.contains("姓名") && e.contains("单元"), "{e}");
    }
}
