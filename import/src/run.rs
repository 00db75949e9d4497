//! A roster import, as a dry run or for real: every row checked first (the row's own
//! fields, ID numbers twice in the file, ID numbers registered already), then each valid
//! row registered by its own command. The answer says per row what happened or would.
//!
//! A row whose person is registered in this community already is skipped (a roster
//! imported twice, or someone registered at the desk meanwhile); in another community
//! it is rejected: one person has one record, to be moved rather than made twice. A row
//! imported by an earlier run of the same file is its command's stored result
//! (idempotency), so a run killed half-way and started again finishes the rest.

use crate::roster::{row_key, Columns, RowCheck};
use crate::sheet::Sheet;
use crate::ImportError;
use ledger::command::{Actor, CommandError, CommandHandler, RegisterVolunteer};
use ledger::domain::DomainError;
use ledger::ids::*;
use std::collections::HashMap;

/// What became (or would become) of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowStatus {
    /// Valid, and registered by this run (or, in a dry run, would be: no number yet).
    Registered { volunteer_number: Option<String> },
    /// Registered by an earlier import of the same row.
    AlreadyImported { volunteer_number: String },
    /// The person is registered in this community already: skipped.
    AlreadyRegistered { volunteer_number: String },
    /// A history row recorded on this volunteer's account by this run (or, in a dry
    /// run, that would be).
    Recorded { volunteer_number: String },
    /// Not imported, and why (in Chinese, for the clerk).
    Rejected { reason: String },
}

/// One row's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    /// The row number in the file.
    pub row: usize,
    pub name: String,
    pub status: RowStatus,
}

/// A whole import's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub dry_run: bool,
    pub rows: Vec<RowResult>,
    /// A history import's batch (to reverse it as one); none for a roster.
    pub batch: Option<ImportBatchId>,
}

impl Outcome {
    /// How many rows were (or would be) registered, were there already (imported or
    /// registered), and were rejected.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for r in &self.rows {
            match r.status {
                RowStatus::Registered { .. } | RowStatus::Recorded { .. } => c.0 += 1,
                RowStatus::AlreadyImported { .. } | RowStatus::AlreadyRegistered { .. } => c.1 += 1,
                RowStatus::Rejected { .. } => c.2 += 1,
            }
        }
        c
    }

    /// The rejected rows of `sheet` with their reasons, for [`crate::sheet::write_rejected`].
    pub fn rejected<'a>(&self, sheet: &'a Sheet) -> Vec<(&'a [String], String)> {
        let by_row: HashMap<usize, &[String]> = sheet
            .rows
            .iter()
            .map(|(n, cells)| (*n, cells.as_slice()))
            .collect();
        self.rows
            .iter()
            .filter_map(|r| match &r.status {
                RowStatus::Rejected { reason } => {
                    by_row.get(&r.row).map(|cells| (*cells, reason.clone()))
                }
                _ => None,
            })
            .collect()
    }
}

/// A person registered in another community.
fn elsewhere(volunteer_number: &str) -> String {
    format!("身份证号已在其他社区登记（编号 {volunteer_number}）：一人只建一份档案，请办理转移")
}

/// Why a registration was refused, for the clerk.
fn refusal(e: &CommandError, community: CommunityId) -> String {
    match e.domain() {
        Some(DomainError::DuplicatePerson {
            volunteer_number,
            community_id,
            ..
        }) if *community_id == community => {
            format!("已在本社区登记（编号 {volunteer_number}）")
        }
        Some(DomainError::DuplicatePerson {
            volunteer_number, ..
        }) => elsewhere(volunteer_number),
        _ => format!("登记被拒绝：{e}"),
    }
}

/// Imports the roster `sheet` into `community` as `actor`: checks every row, then (not
/// on a dry run) registers the valid ones. `progress` is told (rows done, rows to do).
pub async fn import_roster(
    handler: &CommandHandler,
    actor: &Actor,
    community: CommunityId,
    sheet: &Sheet,
    mapping: &[(String, String)],
    dry_run: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Outcome, ImportError> {
    let state = handler.community_state(community).await?;
    state.require(community).map_err(CommandError::from)?;
    let columns = Columns::find(&sheet.headers, mapping)?;
    let check = RowCheck {
        community_id: community,
        community: &state,
        columns: &columns,
    };
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    let mut rows: Vec<(RowResult, Option<RegisterVolunteer>)> = Vec::new();
    for (n, cells) in &sheet.rows {
        let name = columns.name(cells).to_string();
        let mut checked = check.check(cells);
        if let Some(id) = columns.id_number(cells) {
            if let Some(first) = first_row_of.get(&id) {
                let why = format!("身份证号与第{first}行重复");
                checked = Err(match checked {
                    Ok(_) => vec![why],
                    Err(mut w) => {
                        w.push(why);
                        w
                    }
                });
            } else {
                first_row_of.insert(id, *n);
            }
        }
        let status = match &checked {
            Err(why) => RowStatus::Rejected {
                reason: why.join("；"),
            },
            Ok(cmd) => earlier(handler, actor, community, cmd).await?,
        };
        let cmd = checked
            .ok()
            .filter(|_| matches!(status, RowStatus::Registered { .. }));
        rows.push((
            RowResult {
                row: *n,
                name,
                status,
            },
            cmd,
        ));
    }
    let total = rows.iter().filter(|(_, c)| c.is_some()).count();
    let mut done = 0;
    progress(done, total);
    if !dry_run {
        for (result, cmd) in rows.iter_mut() {
            let Some(cmd) = cmd.take() else { continue };
            let key = row_key(&cmd);
            result.status = match handler.run(actor, &key, cmd).await {
                Ok(o) if o.replayed => RowStatus::AlreadyImported {
                    volunteer_number: o.result.volunteer_number,
                },
                Ok(o) => RowStatus::Registered {
                    volunteer_number: Some(o.result.volunteer_number),
                },
                Err(CommandError::Store(e)) => return Err(CommandError::Store(e).into()),
                Err(e) => RowStatus::Rejected {
                    reason: refusal(&e, community),
                },
            };
            done += 1;
            progress(done, total);
        }
    }
    Ok(Outcome {
        dry_run,
        rows: rows.into_iter().map(|(r, _)| r).collect(),
        batch: None,
    })
}

/// What an earlier import or registration already did for a valid row.
async fn earlier(
    handler: &CommandHandler,
    actor: &Actor,
    community: CommunityId,
    cmd: &RegisterVolunteer,
) -> Result<RowStatus, ImportError> {
    if let Some(record) = handler.command_record(actor, &row_key(cmd)).await? {
        let number = record.result["volunteer_number"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        return Ok(RowStatus::AlreadyImported {
            volunteer_number: number,
        });
    }
    let Some(id) = &cmd.id_number else {
        // Without an ID number, the same name and phone in this community is the same
        // person (a roster imported again by another clerk).
        let named = handler
            .store()
            .persons_named(
                &cmd.name,
                ledger::store::PhoneMatch::Exactly(cmd.phone.as_deref()),
            )
            .await
            .map_err(CommandError::from)?;
        for v in named {
            let v = handler.volunteer_state(VolunteerId(v)).await?;
            if v.community_id == Some(community) {
                return Ok(RowStatus::AlreadyRegistered {
                    volunteer_number: v.volunteer_number.clone(),
                });
            }
        }
        return Ok(RowStatus::Registered {
            volunteer_number: None,
        });
    };
    let Some(holder) = handler
        .store()
        .person_with_id_number(id)
        .await
        .map_err(CommandError::from)?
    else {
        return Ok(RowStatus::Registered {
            volunteer_number: None,
        });
    };
    let v = handler.volunteer_state(VolunteerId(holder)).await?;
    Ok(match v.community_id {
        Some(c) if c == community => RowStatus::AlreadyRegistered {
            volunteer_number: v.volunteer_number.clone(),
        },
        Some(_) => RowStatus::Rejected {
            reason: elsewhere(&v.volunteer_number),
        },
        // A registration in flight: the command settles it.
        None => RowStatus::Registered {
            volunteer_number: None,
        },
    })
}
