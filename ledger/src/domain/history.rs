//! History imports (历史导入): a community's past service records brought in from a
//! sheet, and the reversal of a whole import as one. One `import-…` stream per batch.
//!
//! A row is decided on the volunteer's account, the community's point rules in force
//! on the service date and the batch: the service is logged and verified at once (it
//! counts for stars and totals like any other), marked with its file and row, and the
//! batch records the row. Reversing the batch takes back every entry of it still
//! standing, each an `EntryReversed` naming the batch, in one append.

use super::community::CommunityState;
use super::volunteer::{service_hours, verification, VolunteerState};
use super::*;
use crate::event::{
    CorrectionNote, HistoryRowImported, ImportBatchReversed, ImportedRow, ServiceKind,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Records one row of a history import (staff of the community): a past service of
/// `kind` on `date` (China Standard Time), of `hours`, with the sheet's 备注.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportHistoryRow {
    pub community_id: CommunityId,
    pub batch_id: ImportBatchId,
    /// The file's name as uploaded.
    pub file: String,
    /// The row's number in the file.
    pub row: u32,
    pub volunteer_id: VolunteerId,
    pub kind: ServiceKind,
    pub date: NaiveDate,
    pub hours: Decimal,
    #[serde(default)]
    pub note: String,
}

/// Reverses a whole history import (staff of its community), with a reason; `impacts`:
/// what it changes for each volunteer, as previewed before it was confirmed (kept on
/// that volunteer's first reversal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReverseImportBatch {
    pub batch_id: ImportBatchId,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub impacts: Vec<(VolunteerId, CorrectionNote)>,
}

/// One row a batch recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub row: u32,
    pub volunteer_id: VolunteerId,
    pub service_id: ServiceId,
    pub entry_id: EntryId,
}

/// A history import: its community and file, the rows it recorded, and whether it was
/// reversed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportBatchState {
    pub batch_id: Option<ImportBatchId>,
    pub community_id: Option<CommunityId>,
    pub file: String,
    pub rows: Vec<BatchRow>,
    pub reversed: bool,
}

impl ImportBatchState {
    /// The batch's community, or NOT_FOUND.
    pub fn require(&self, id: ImportBatchId) -> DomainResult<CommunityId> {
        match (self.batch_id, self.community_id) {
            (Some(b), Some(c)) if b == id => Ok(c),
            _ => Err(DomainError::not_found("import batch", id)),
        }
    }

    /// The volunteers the batch credited, each once, in the order of their first row.
    pub fn volunteers(&self) -> Vec<VolunteerId> {
        let mut seen = Vec::new();
        for r in &self.rows {
            if !seen.contains(&r.volunteer_id) {
                seen.push(r.volunteer_id);
            }
        }
        seen
    }
}

impl Aggregate for ImportBatchState {
    fn evolve(&mut self, event: &Event) {
        match event {
            Event::HistoryRowImported(e) => {
                self.batch_id = Some(e.batch_id);
                self.community_id = Some(e.community_id);
                self.file = e.file.clone();
                self.rows.push(BatchRow {
                    row: e.row,
                    volunteer_id: e.volunteer_id,
                    service_id: e.service_id,
                    entry_id: e.entry_id,
                });
            }
            Event::ImportBatchReversed(_) => self.reversed = true,
            _ => {}
        }
    }
}

/// The start of `date` in China Standard Time: an imported service's `started_at`.
pub fn day_start(date: NaiveDate) -> DateTime<Utc> {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    date.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(cst).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// One row imported: `(the volunteer's events, the batch's event)`. The service is
/// logged and verified by the point rules in force on its date; the row must be new to
/// the batch, the batch this file's in this community and not reversed, and the service
/// over before now.
pub fn import_row(
    community: &CommunityState,
    volunteer: &VolunteerState,
    batch: &ImportBatchState,
    cmd: &ImportHistoryRow,
    ids: (ServiceId, EntryId),
    ctx: &Ctx,
) -> DomainResult<(Vec<Event>, Event)> {
    if volunteer.require(cmd.volunteer_id)? != cmd.community_id {
        return Err(DomainError::not_found(
            "volunteer of this community",
            cmd.volunteer_id,
        ));
    }
    let file = required_text("file", &cmd.file, MAX_PLACE)?;
    if let Some(c) = batch.community_id {
        if c != cmd.community_id || batch.file != file {
            return Err(DomainError::invalid_state(
                "this import batch is another file's",
            ));
        }
    }
    if batch.reversed {
        return Err(DomainError::invalid_state("this import batch was reversed"));
    }
    if batch.rows.iter().any(|r| r.row == cmd.row) {
        return Err(DomainError::invalid_state(format!(
            "row {} of this import is recorded already",
            cmd.row
        )));
    }
    let started_at = day_start(cmd.date);
    let hours = service_hours(community, cmd.hours, started_at, ctx.now, "date")?;
    if started_at + chrono::Duration::minutes(hours.minutes()) > ctx.now {
        return Err(DomainError::InFuture {
            field: "date (a past service ends before now)",
            at: started_at,
            now: ctx.now,
        });
    }
    let (service_id, entry_id) = ids;
    let logged = Event::ServiceLogged {
        service_id,
        kind: cmd.kind,
        started_at,
        hours,
        place: String::new(),
        note: text("note", &cmd.note, MAX_TEXT)?,
        logged_by: ctx.principal(),
        activity: None,
        imported: Some(ImportedRow {
            batch_id: cmd.batch_id,
            file: file.clone(),
            row: cmd.row,
        }),
    };
    let verified = verification(
        community,
        service_id,
        cmd.kind,
        started_at,
        hours,
        entry_id,
        ctx.principal(),
    )?;
    let recorded = Event::HistoryRowImported(HistoryRowImported {
        batch_id: cmd.batch_id,
        community_id: cmd.community_id,
        file,
        row: cmd.row,
        volunteer_id: cmd.volunteer_id,
        service_id,
        entry_id,
        imported_by: ctx.principal(),
    });
    Ok((vec![logged, verified], recorded))
}

/// The whole batch reversed: the events of each volunteer's account (an `EntryReversed`
/// naming the batch for each entry still standing, new entry ids from `entry_id`), and
/// the batch's event. ALREADY_REVERSED-like INVALID_STATE for a batch reversed before.
pub fn reverse_batch(
    batch: &ImportBatchState,
    volunteers: &BTreeMap<VolunteerId, &VolunteerState>,
    cmd: &ReverseImportBatch,
    mut entry_id: impl FnMut(&BatchRow) -> EntryId,
    ctx: &Ctx,
) -> DomainResult<(BTreeMap<VolunteerId, Vec<Event>>, Event)> {
    batch.require(cmd.batch_id)?;
    if batch.reversed {
        return Err(DomainError::invalid_state(
            "this import batch was reversed already",
        ));
    }
    let reason = required_text("reason", &cmd.reason, MAX_TEXT)?;
    let mut events: BTreeMap<VolunteerId, Vec<Event>> = BTreeMap::new();
    let mut entries = 0u32;
    for r in &batch.rows {
        let v = volunteers
            .get(&r.volunteer_id)
            .ok_or_else(|| DomainError::not_found("volunteer", r.volunteer_id))?;
        let entry = v.entry(r.entry_id)?;
        if entry.reversed_by.is_some() {
            continue;
        }
        let mine = events.entry(r.volunteer_id).or_default();
        let impact = if mine.is_empty() {
            cmd.impacts
                .iter()
                .find(|(id, _)| *id == r.volunteer_id)
                .map(|(_, n)| n.clone())
        } else {
            None
        };
        mine.push(Event::EntryReversed {
            entry_id: entry_id(r),
            reverses: r.entry_id,
            points: entry.points.saturating_sub(v.expired_of(r.entry_id)),
            hours: entry.hours,
            reason: reason.clone(),
            reversed_by: ctx.principal(),
            over_cap: entry.over_cap,
            impact,
            batch: Some(cmd.batch_id),
        });
        entries += 1;
    }
    let done = Event::ImportBatchReversed(ImportBatchReversed {
        reason,
        entries,
        volunteers: events.len() as u32,
        reversed_by: ctx.principal(),
    });
    Ok((events, done))
}
