//! The stairwell aggregate (楼道): monthly civilised-stairwell inspections (文明楼道评比)
//! and issues with deductions (扣分).
//!
//! - One inspection per stairwell per month: a second inspection of the same month is
//!   refused (`ALREADY_INSPECTED`); it is not a silent overwrite.
//! - Scores: one per item of the rubric in force on the first day of the month, plus
//!   `participation`; every key must be present, each within `0..=max`, at most two
//!   decimals. The month must not be in the future (China Standard Time).
//! - An issue is reported with a deduction (0 < d ≤ 100) and resolved once.
//! - Buildings and units order as people read them, numbers by value ([`natural_cmp`]:
//!   2栋 before 10栋), wherever stairwells are listed ([`listing_cmp`]).

use super::community::{CommunityState, PARTICIPATION_KEY};
use super::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A monthly stairwell inspection: a score per rubric item and `participation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordInspection {
    pub community_id: CommunityId,
    pub stairwell_id: StairwellId,
    pub month: String,
    pub scores: BTreeMap<String, Decimal>,
    #[serde(default)]
    pub note: String,
}

/// Reports an issue of a stairwell with a deduction (扣分).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportStairwellIssue {
    pub community_id: CommunityId,
    pub stairwell_id: StairwellId,
    pub description: String,
    pub deduction: Decimal,
}

/// Resolves a reported issue (整改).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveStairwellIssue {
    pub community_id: CommunityId,
    pub stairwell_id: StairwellId,
    pub issue_id: IssueId,
    #[serde(default)]
    pub note: String,
}

/// The order stairwells are listed in on a tie (rankings, the red flag, reports):
/// building, then unit, as people read them ([`natural_cmp`]), then id.
pub fn listing_cmp(
    a: (&str, &str, StairwellId),
    b: (&str, &str, StairwellId),
) -> std::cmp::Ordering {
    natural_cmp(a.0, b.0)
        .then_with(|| natural_cmp(a.1, b.1))
        .then_with(|| a.2.cmp(&b.2))
}

/// Orders names as people read them: runs of digits by their value, so that 2栋 comes
/// before 10栋 and 1单元 before 2单元 (plain text order puts 10栋 first). Names equal
/// that way ("01栋", "1栋") fall back to text order, so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut x, mut y) = (a, b);
    while let (Some(cx), Some(cy)) = (x.chars().next(), y.chars().next()) {
        if cx.is_ascii_digit() && cy.is_ascii_digit() {
            let nx = x.find(|c: char| !c.is_ascii_digit()).unwrap_or(x.len());
            let ny = y.find(|c: char| !c.is_ascii_digit()).unwrap_or(y.len());
            let (dx, dy) = (
                x[..nx].trim_start_matches('0'),
                y[..ny].trim_start_matches('0'),
            );
            let by_value = dx.len().cmp(&dy.len()).then_with(|| dx.cmp(dy));
            if by_value != Ordering::Equal {
                return by_value;
            }
            (x, y) = (&x[nx..], &y[ny..]);
        } else {
            if cx != cy {
                return cx.cmp(&cy);
            }
            (x, y) = (&x[cx.len_utf8()..], &y[cy.len_utf8()..]);
        }
    }
    // One name is a prefix of the other, as people read them.
    (!x.is_empty()).cmp(&!y.is_empty()).then_with(|| a.cmp(b))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub scores: BTreeMap<String, Decimal>,
    pub rubric_version: u32,
    pub inspector: Uuid,
}

impl Inspection {
    /// The sum of the inspected items (participation is computed elsewhere).
    pub fn total(&self) -> Decimal {
        self.scores
            .iter()
            .filter(|(k, _)| k.as_str() != PARTICIPATION_KEY)
            .map(|(_, v)| *v)
            .sum()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub deduction: Decimal,
    pub resolved: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StairwellState {
    pub inspections: BTreeMap<String, Inspection>,
    pub issues: BTreeMap<IssueId, Issue>,
}

impl Aggregate for StairwellState {
    fn evolve(&mut self, event: &Event) {
        match event {
            Event::StairwellInspected {
                month,
                scores,
                inspector,
                rubric_version,
                ..
            } => {
                self.inspections.insert(
                    month.clone(),
                    Inspection {
                        scores: scores.clone(),
                        rubric_version: *rubric_version,
                        inspector: *inspector,
                    },
                );
            }
            Event::StairwellIssueReported {
                issue_id,
                deduction,
                ..
            } => {
                self.issues.insert(
                    *issue_id,
                    Issue {
                        deduction: *deduction,
                        resolved: false,
                    },
                );
            }
            Event::StairwellIssueResolved { issue_id, .. } => {
                if let Some(i) = self.issues.get_mut(issue_id) {
                    i.resolved = true;
                }
            }
            _ => {}
        }
    }
}

/// The first day of a "YYYY-MM" month.
pub fn parse_month(month: &str) -> DomainResult<NaiveDate> {
    let bad = || DomainError::InvalidInput {
        field: "month",
        reason: format!("{month:?} is not a month in the form YYYY-MM"),
    };
    if month.len() != 7 || month.as_bytes()[4] != b'-' {
        return Err(bad());
    }
    let year: i32 = month[..4].parse().map_err(|_| bad())?;
    let m: u32 = month[5..].parse().map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, m, 1).ok_or_else(bad)
}

pub fn inspect(
    community: &CommunityState,
    stairwell: &StairwellState,
    cmd: &RecordInspection,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    community.require(cmd.community_id)?;
    community.stairwell(cmd.stairwell_id)?;
    let first = parse_month(&cmd.month)?;
    let today = local_date(ctx.now);
    if first > today {
        return Err(DomainError::InvalidInput {
            field: "month",
            reason: format!("{} is in the future", cmd.month),
        });
    }
    if stairwell.inspections.contains_key(&cmd.month) {
        return Err(DomainError::AlreadyInspected {
            stairwell_id: cmd.stairwell_id,
            month: cmd.month.clone(),
        });
    }
    let rubric = community.rubric_on(first);
    // The inspected items only: 邻里互助 (participation) is computed from the households
    // whose volunteers served in the month, never scored by hand.
    let mut maxima = rubric.maxima();
    maxima.remove(PARTICIPATION_KEY);
    for key in cmd.scores.keys() {
        if key == PARTICIPATION_KEY {
            return Err(DomainError::InvalidInput {
                field: "scores",
                reason: format!(
                    "{PARTICIPATION_KEY:?} is computed from the households served that month; score only the inspected items"
                ),
            });
        }
        if !maxima.contains_key(key) {
            return Err(DomainError::InvalidInput {
                field: "scores",
                reason: format!("{key:?} is not an item of rubric v{}", rubric.version),
            });
        }
    }
    let mut scores = BTreeMap::new();
    for (key, max) in &maxima {
        let value = cmd
            .scores
            .get(key)
            .ok_or_else(|| DomainError::InvalidInput {
                field: "scores",
                reason: format!("missing score for {key:?}"),
            })?;
        scores.insert(key.clone(), score("scores", *value, *max)?);
    }
    Ok(vec![Event::StairwellInspected {
        month: cmd.month.clone(),
        scores,
        inspector: ctx.principal(),
        note: text("note", &cmd.note, MAX_TEXT)?,
        rubric_version: rubric.version,
    }])
}

pub fn report_issue(
    community: &CommunityState,
    cmd: &ReportStairwellIssue,
    issue_id: IssueId,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    community.require(cmd.community_id)?;
    community.stairwell(cmd.stairwell_id)?;
    if cmd.deduction <= Decimal::ZERO {
        return Err(DomainError::NotPositive { field: "deduction" });
    }
    let deduction = score("deduction", cmd.deduction, Decimal::ONE_HUNDRED)?;
    Ok(vec![Event::StairwellIssueReported {
        issue_id,
        description: required_text("description", &cmd.description, MAX_TEXT)?,
        deduction,
        reported_by: ctx.principal(),
    }])
}

pub fn resolve_issue(
    stairwell: &StairwellState,
    cmd: &ResolveStairwellIssue,
    ctx: &Ctx,
) -> DomainResult<Vec<Event>> {
    let issue = stairwell
        .issues
        .get(&cmd.issue_id)
        .ok_or_else(|| DomainError::not_found("issue", cmd.issue_id))?;
    if issue.resolved {
        return Err(DomainError::AlreadyResolved {
            issue_id: cmd.issue_id,
        });
    }
    Ok(vec![Event::StairwellIssueResolved {
        issue_id: cmd.issue_id,
        note: text("note", &cmd.note, MAX_TEXT)?,
        resolved_by: ctx.principal(),
    }])
}

#[cfg(test)]
mod natural_order_tests {
    use super::natural_cmp;
    use std::cmp::Ordering::*;

    #[test]
    fn numbers_in_names_compare_by_value() {
        let mut names = vec![
            "10栋",
            "2栋",
            "1栋",
            "1栋2单元",
            "1栋10单元",
            "A座",
            "01栋",
            "9栋",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            vec![
                "01栋",
                "1栋",
                "1栋2单元",
                "1栋10单元",
                "2栋",
                "9栋",
                "10栋",
                "A座"
            ]
        );
        assert_eq!(natural_cmp("3单元", "3单元"), Equal);
        assert_eq!(natural_cmp("12", "9"), Greater);
        assert_eq!(natural_cmp("", "1栋"), Less);
        assert_eq!(
            natural_cmp("007", "7"),
            Less,
            "equal values fall back to text"
        );
    }
}
