//! Mutations of history imports (历史导入): a whole import reversed as one. The rows are
//! recorded by the importer (the `import` crate, from the console or the command
//! line), each its own `ImportHistoryRow` command.

use super::{exec, id, parse_id, payload, Res};
use async_graphql::{Context, Object, ID};
use ledger::command as cmd;
use ledger::ids::*;

payload!(BatchReversalPayload {
    batch_id: ID,
    /// Entries reversed (those reversed one by one before are not counted again).
    entries: i32,
    /// Accounts they were on.
    volunteers: i32
});

#[derive(Default)]
pub struct HistoryMutation;

#[Object]
impl HistoryMutation {
    /// 撤销导入批次: reverses every entry of a history import still standing, in one
    /// append, each a correction naming the batch (staff of its community, admins). The
    /// preview (`importBatchImpact`) is kept with each volunteer's correction. Once only:
    /// INVALID_STATE after.
    async fn reverse_import_batch(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        batch_id: ID,
        reason: String,
    ) -> Res<BatchReversalPayload> {
        let batch_id = ImportBatchId(parse_id(&batch_id, "batchId")?);
        // The preview when it can be read (a refusal is the command's to give).
        let impacts = crate::schema::query::impact::batch_notes(ctx, batch_id)
            .await
            .unwrap_or_default();
        let c = cmd::ReverseImportBatch {
            batch_id,
            reason,
            impacts,
        };
        let o = exec(ctx, &idempotency_key, c).await?;
        Ok(BatchReversalPayload {
            batch_id: id(o.result.batch_id),
            entries: o.result.entries as i32,
            volunteers: o.result.volunteers as i32,
            position: o.position,
            replayed: o.replayed,
        })
    }
}
