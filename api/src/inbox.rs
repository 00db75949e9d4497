//! How far each volunteer has read their inbox (`inbox_reads`, migration 0700): the
//! position of the newest message they have seen. Reading is not a fact of the ledger,
//! so it is kept beside the log; the messages are the `inbox` read model's.

use crate::errors::ApiResult;
use ledger::ids::VolunteerId;
use ledger::Store;
use sqlx::Row;

/// The position up to which `volunteer` has read (0: nothing yet).
pub async fn seen(store: &Store, volunteer: VolunteerId) -> ApiResult<u64> {
    let sql = "SELECT seen_position FROM inbox_reads WHERE volunteer_id = $1";
    let v = volunteer.0.to_string();
    let row = if let Some(pool) = store.sqlite_pool() {
        sqlx::query(sql)
            .bind(v)
            .fetch_optional(pool)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
    } else if let Some(pool) = store.postgres_pool() {
        sqlx::query(sql)
            .bind(v)
            .fetch_optional(pool)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
    } else {
        None
    };
    Ok(row.transpose()?.unwrap_or(0).max(0) as u64)
}

/// Records that `volunteer` has read up to `position` (never moving back).
pub async fn mark_seen(store: &Store, volunteer: VolunteerId, position: u64) -> ApiResult<()> {
    let v = volunteer.0.to_string();
    let p = position.min(i64::MAX as u64) as i64;
    if let Some(pool) = store.sqlite_pool() {
        sqlx::query(
            "INSERT INTO inbox_reads (volunteer_id, seen_position) VALUES ($1, $2) \
             ON CONFLICT (volunteer_id) DO UPDATE SET seen_position = MAX(seen_position, excluded.seen_position)",
        )
        .bind(v)
        .bind(p)
        .execute(pool)
        .await?;
    } else if let Some(pool) = store.postgres_pool() {
        sqlx::query(
            "INSERT INTO inbox_reads (volunteer_id, seen_position) VALUES ($1, $2) \
             ON CONFLICT (volunteer_id) DO UPDATE SET seen_position = GREATEST(inbox_reads.seen_position, excluded.seen_position)",
        )
        .bind(v)
        .bind(p)
        .execute(pool)
        .await?;
    }
    Ok(())
}
