//! A community's history imports (历史导入): each batch with its file, rows and whether
//! it was reversed, newest first (staff of the community, admins). What reversing one
//! would change is `importBatchImpact` ([`super::impact`]).

use super::Res;
use crate::schema::args::{forbidden, id, parse_id};
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, SimpleObject, ID};
use ledger::ids::*;

/// One history import.
#[derive(SimpleObject)]
pub struct ImportBatch {
    pub batch_id: ID,
    /// The file it was imported from.
    pub file: String,
    /// Rows it recorded.
    pub rows: i32,
    /// Volunteers it credited.
    pub volunteers: i32,
    pub reversed: bool,
    /// The log position of its first row.
    pub position: u64,
}

#[derive(Default)]
pub struct ImportQuery;

#[Object]
impl ImportQuery {
    /// The community's history imports, newest first.
    async fn import_batches(&self, ctx: &Context<'_>, community_id: ID) -> Res<Vec<ImportBatch>> {
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !principal(ctx)?.manages(community) {
            return Err(forbidden("a community's imports are for its staff"));
        }
        let app = app(ctx);
        let streams = app
            .store
            .community_streams(community.0, IMPORT_PREFIX)
            .await
            .map_err(|e| crate::errors::ApiError::from(e).extend())?;
        let mut out = Vec::with_capacity(streams.len());
        for (stream, position) in streams {
            let Some((StreamKind::ImportBatch, batch)) = parse_stream(&stream) else {
                continue;
            };
            let b = app
                .handler
                .import_batch_state(ImportBatchId(batch))
                .await
                .map_err(|e| crate::errors::ApiError::Command(e).extend())?;
            out.push(ImportBatch {
                batch_id: id(batch),
                file: b.file.clone(),
                rows: b.rows.len() as i32,
                volunteers: b.volunteers().len() as i32,
                reversed: b.reversed,
                position,
            });
        }
        Ok(out)
    }
}
