//! A history import (历史导入), as a dry run or for real: every row checked first (its
//! own fields, the day and hours against the community's rules, whose it is), then each
//! valid row recorded by its own command. The answer says per row what happened or
//! would, and names the batch.
//!
//! The batch is the file: its id is derived from the community, the file's name and
//! every row's content, and each row's command key from the batch and the row number.
//! The same file again adds nothing (each row is its command's stored result, or a row
//! the batch holds already), and a run killed half-way and started again finishes the
//! rest. A corrected file is a new batch.

use crate::history::{HistoryColumns, HistoryRow};
use crate::run::{Outcome, RowResult, RowStatus};
use crate::sheet::Sheet;
use crate::ImportError;
use ledger::amount::Hours;
use ledger::command::{Actor, CommandError, CommandHandler, ImportHistoryRow};
use ledger::domain::{local_date, CommunityState, DomainError};
use ledger::ids::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The batch of `sheet` named `file` in `community`: the same content, the same batch.
pub fn batch_of(community: CommunityId, file: &str, sheet: &Sheet) -> ImportBatchId {
    let mut h = Sha256::new();
    h.update(community.to_string().as_bytes());
    h.update([0u8]);
    h.update(file.as_bytes());
    for (n, cells) in
        std::iter::once((&0, &sheet.headers)).chain(sheet.rows.iter().map(|(n, c)| (n, c)))
    {
        h.update(n.to_string().as_bytes());
        for c in cells {
            h.update([0u8]);
            h.update(c.as_bytes());
        }
        h.update([1u8]);
    }
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    ImportBatchId(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

/// The command key of row `row` of `batch`.
pub fn history_key(batch: ImportBatchId, row: usize) -> String {
    format!("history-{batch}-{row}")
}

/// Whose a row is: the volunteer and their number, or why it is no one's.
type Whose = Result<(VolunteerId, String), String>;

/// Finds whose rows are, asking the store once per ID number or name.
struct Lookup<'a> {
    handler: &'a CommandHandler,
    community: CommunityId,
    known: HashMap<(bool, String), Whose>,
}

impl Lookup<'_> {
    async fn whose(&mut self, row: &HistoryRow) -> Result<Whose, ImportError> {
        let key = match &row.id_number {
            Some(id) => (true, id.clone()),
            None => (false, row.name.clone()),
        };
        if let Some(w) = self.known.get(&key) {
            return Ok(w.clone());
        }
        let store = self.handler.store();
        let ids: Vec<uuid::Uuid> = match &row.id_number {
            Some(id) => store
                .person_with_id_number(id)
                .await
                .map_err(CommandError::from)?
                .into_iter()
                .collect(),
            None => store
                .persons_named(&row.name, ledger::store::PhoneMatch::Any)
                .await
                .map_err(CommandError::from)?,
        };
        let mut here = Vec::new();
        let mut elsewhere = None;
        for id in ids {
            let v = self.handler.volunteer_state(VolunteerId(id)).await?;
            match v.community_id {
                Some(c) if c == self.community => {
                    here.push((VolunteerId(id), v.volunteer_number.clone()))
                }
                Some(_) => elsewhere = Some(v.volunteer_number.clone()),
                None => {}
            }
        }
        let whose = match (here.len(), &row.id_number) {
            (1, _) => Ok(here.remove(0)),
            (0, Some(_)) => Err(match elsewhere {
                Some(n) => format!("身份证号是其他社区的志愿者（编号 {n}），请在那个社区导入"),
                None => "这个身份证号没有登记为本社区的志愿者（请先导入花名册）".into(),
            }),
            (0, None) => Err(format!(
                "本社区没有叫“{}”的志愿者（请先导入花名册，或填写身份证号）",
                row.name
            )),
            (n, _) => Err(format!(
                "本社区有{n}位志愿者叫“{}”，请填写身份证号",
                row.name
            )),
        };
        self.known.insert(key, whose.clone());
        Ok(whose)
    }
}

/// What the community's rules say of the row's day and hours before it is recorded.
fn rules_problem(
    community: &CommunityState,
    row: &HistoryRow,
    today: chrono::NaiveDate,
) -> Option<String> {
    if row.date >= today {
        return Some("日期不是过去的日子（历史记录须早于今天）".into());
    }
    let hours = match Hours::from_decimal(row.hours) {
        Ok(h) => h,
        Err(_) => return Some("时长须是整分钟（如 1.5 小时）".into()),
    };
    let cap = community.point_rules_on(row.date).max_hours_per_record;
    (hours > cap).then(|| format!("时长超过一条记录的上限 {cap} 小时"))
}

/// Why recording a row was refused, for the clerk.
fn refusal(e: &CommandError) -> String {
    format!("记录被拒绝：{e}")
}

/// Imports the history `sheet` (the file `file`) into `community` as `actor`: checks
/// every row, then (not on a dry run) records the valid ones. `progress` is told (rows
/// done, rows to do).
#[allow(clippy::too_many_arguments)]
pub async fn import_history(
    handler: &CommandHandler,
    actor: &Actor,
    community: CommunityId,
    file: &str,
    sheet: &Sheet,
    mapping: &[(String, String)],
    dry_run: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Outcome, ImportError> {
    let state = handler.community_state(community).await?;
    state.require(community).map_err(CommandError::from)?;
    let columns = HistoryColumns::find(&sheet.headers, mapping)?;
    let batch = batch_of(community, file, sheet);
    let recorded = handler.import_batch_state(batch).await?;
    if recorded.reversed {
        return Err(ImportError::Columns(
            "这个文件导入后已整批撤销；改正后的文件会是新的一批".into(),
        ));
    }
    let today = local_date(handler.now());
    let mut lookup = Lookup {
        handler,
        community,
        known: HashMap::new(),
    };
    let mut rows: Vec<(RowResult, Option<ImportHistoryRow>)> = Vec::new();
    for (n, cells) in &sheet.rows {
        let checked = columns.check(cells);
        let name = match &checked {
            Ok(r) => r.name.clone(),
            Err(_) => String::new(),
        };
        let (status, cmd) = match checked {
            Err(why) => (rejected(why.join("；")), None),
            Ok(row) => match (
                rules_problem(&state, &row, today),
                lookup.whose(&row).await?,
            ) {
                (_, Err(why)) | (Some(why), _) => (rejected(why), None),
                (None, Ok((volunteer_id, number))) => {
                    let done = recorded.rows.iter().any(|r| r.row as usize == *n);
                    let status = if done {
                        RowStatus::AlreadyImported {
                            volunteer_number: number,
                        }
                    } else {
                        RowStatus::Recorded {
                            volunteer_number: number,
                        }
                    };
                    let cmd = ImportHistoryRow {
                        community_id: community,
                        batch_id: batch,
                        file: file.to_string(),
                        row: *n as u32,
                        volunteer_id,
                        kind: row.kind,
                        date: row.date,
                        hours: row.hours,
                        note: row.note.clone(),
                    };
                    (status, (!done).then_some(cmd))
                }
            },
        };
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
            let number = match &result.status {
                RowStatus::Recorded { volunteer_number } => volunteer_number.clone(),
                _ => String::new(),
            };
            result.status = match handler
                .run(actor, &history_key(batch, result.row), cmd)
                .await
            {
                Ok(o) if o.replayed => RowStatus::AlreadyImported {
                    volunteer_number: number,
                },
                Ok(_) => RowStatus::Recorded {
                    volunteer_number: number,
                },
                Err(CommandError::Store(e)) => return Err(CommandError::Store(e).into()),
                // Recorded by another clerk's run of the same file.
                Err(CommandError::Domain(DomainError::InvalidState { reason }))
                    if reason.contains("recorded already") =>
                {
                    RowStatus::AlreadyImported {
                        volunteer_number: number,
                    }
                }
                Err(e) => rejected(refusal(&e)),
            };
            done += 1;
            progress(done, total);
        }
    }
    Ok(Outcome {
        dry_run,
        rows: rows.into_iter().map(|(r, _)| r).collect(),
        batch: Some(batch),
    })
}

fn rejected(reason: String) -> RowStatus {
    RowStatus::Rejected { reason }
}
