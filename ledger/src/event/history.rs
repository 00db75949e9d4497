//! The events of a history import (历史导入): past service records brought in from a
//! community's sheet (姓名 or 身份证号, 日期, 内容/类别, 时长, 备注). Each row is its own
//! append: the service, logged and verified, in the volunteer's account (its
//! `ServiceLogged` names the row, so it counts for stars and totals like any other),
//! and a [`HistoryRowImported`] in the batch's `import-…` stream that names the file,
//! the row and the entry. A whole batch is reversed in one append: an `EntryReversed`
//! naming the batch for each entry still standing, and [`ImportBatchReversed`].

use crate::ids::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where an imported service came from: its batch, the file and the row in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedRow {
    pub batch_id: ImportBatchId,
    pub file: String,
    pub row: u32,
}

/// One row of a history import recorded (历史导入): the file and row, the volunteer's
/// service it became and the entry that credited it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRowImported {
    pub batch_id: ImportBatchId,
    pub community_id: CommunityId,
    pub file: String,
    pub row: u32,
    pub volunteer_id: VolunteerId,
    pub service_id: ServiceId,
    pub entry_id: EntryId,
    pub imported_by: Uuid,
}

/// The whole import reversed (撤销导入批次): `entries` reversed in the same append (those
/// reversed one by one before are not counted again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportBatchReversed {
    pub reason: String,
    pub entries: u32,
    pub volunteers: u32,
    pub reversed_by: Uuid,
}
