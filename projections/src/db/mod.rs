//! Portable SQL I/O on both backends: values, rows, transactions and bulk upserts.
//!
//! SQL is written once with `?` placeholders; on PostgreSQL they become `$1, $2, …`.
//! Projection tables use only `BIGINT` and `TEXT` columns so the same DDL and queries
//! run unchanged on SQLite and PostgreSQL. Amounts are integer minor units.
//!
//! Bulk I/O: [`Tx::select_in`] reads rows by key (one JSON list or array parameter per
//! 20,000 keys), [`Tx::upsert_rows`] / [`Writer`] write rows in few statements,
//! [`Tx::delete_in`] deletes by key; `Conn` is a rebuild's own connection.
//!
//! - `value`: bound values, rows read back, and binding on either backend.
//! - `tx`: a transaction: statements, reads and deletes by key, commit.
//! - `bulk`: bulk upserts: rows kept by column, the `INSERT … ON CONFLICT` statements,
//!   and the [`Writer`] that writes a chunk at a time.

mod bulk;
mod tx;
mod value;

pub use bulk::{Column, Kind, OnConflict, Rows, Upsert, Writer};
pub use tx::Tx;
pub use value::{Row, Val};

use crate::error::Result;
use sqlx::{PgPool, SqlitePool};
use value::{bind_pg, bind_sqlite, pg_sql};

/// A database holding projection tables (the store's own database).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    /// The store's database.
    pub fn of_store(store: &ledger::Store) -> Db {
        match (store.sqlite_pool(), store.postgres_pool()) {
            (Some(p), _) => Db::Sqlite(p.clone()),
            (_, Some(p)) => Db::Postgres(p.clone()),
            (None, None) => unreachable!("a store is either SQLite or PostgreSQL"),
        }
    }

    /// A PostgreSQL hot standby to query (connections made when first used).
    pub fn postgres_replica(url: &str, max_connections: u32) -> Result<Db> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_lazy(url)?;
        Ok(Db::Postgres(pool))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    pub async fn fetch(&self, sql: &str, vals: &[Val]) -> Result<Vec<Row>> {
        Ok(match self {
            Db::Sqlite(p) => bind_sqlite(sqlx::query(sql), vals)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Db::Postgres(p) => {
                let sql = pg_sql(sql);
                bind_pg(sqlx::query(&sql), vals)
                    .fetch_all(p)
                    .await?
                    .into_iter()
                    .map(Row::Postgres)
                    .collect()
            }
        })
    }

    pub async fn fetch_optional(&self, sql: &str, vals: &[Val]) -> Result<Option<Row>> {
        Ok(self.fetch(sql, vals).await?.into_iter().next())
    }

    pub async fn exec(&self, sql: &str, vals: &[Val]) -> Result<u64> {
        Ok(match self {
            Db::Sqlite(p) => bind_sqlite(sqlx::query(sql), vals)
                .execute(p)
                .await?
                .rows_affected(),
            Db::Postgres(p) => {
                let sql = pg_sql(sql);
                bind_pg(sqlx::query(&sql), vals)
                    .execute(p)
                    .await?
                    .rows_affected()
            }
        })
    }

    /// A write transaction from the pool (`BEGIN IMMEDIATE` on SQLite, so the write lock
    /// is taken before anything is read).
    pub async fn begin(&self) -> Result<Tx<'static>> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Names of tables whose name starts with `prefix`.
    pub async fn tables_with_prefix(&self, prefix: &str) -> Result<Vec<String>> {
        let rows = match self {
            Db::Sqlite(_) => {
                self.fetch(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, length(?)) = ?",
                    &[prefix.into(), prefix.into()],
                )
                .await?
            }
            Db::Postgres(_) => {
                self.fetch(
                    "SELECT tablename::TEXT FROM pg_tables WHERE schemaname = current_schema() AND substr(tablename, 1, length(?)) = ?",
                    &[prefix.into(), prefix.into()],
                )
                .await?
            }
        };
        rows.iter().map(|r| r.text(0)).collect()
    }
}

/// A connection of its own for a rebuild's writes. On SQLite it commits without
/// waiting for the disk (`synchronous = NORMAL` in WAL mode: a commit lost to a power
/// failure only loses shadow tables, and an interrupted rebuild is redone); on
/// PostgreSQL `synchronous_commit` is off for the same reason.
pub(crate) enum Conn {
    Sqlite(Box<sqlx::SqliteConnection>),
    Postgres(Box<sqlx::PgConnection>),
}

impl Conn {
    pub(crate) async fn open(db: &Db) -> Result<Conn> {
        use sqlx::Connection as _;
        Ok(match db {
            Db::Sqlite(p) => {
                let opts = (*p.connect_options()).clone();
                let mut c = sqlx::SqliteConnection::connect_with(&opts).await?;
                // An 8 MiB page cache (the default is 2 MiB): the tables are written in
                // key order, and a larger cache bought no time in measurements, only
                // memory. Sorts for indexes spill to temporary files, not to memory, and
                // run on two of SQLite's worker threads (`threads = 2`: the secondary
                // indexes at the end of a rebuild took 0.4–1.0 s less, of 3.7–5.4 s).
                for pragma in [
                    "PRAGMA synchronous = NORMAL",
                    "PRAGMA cache_size = -8192",
                    "PRAGMA threads = 2",
                ] {
                    sqlx::query(pragma).execute(&mut c).await?;
                }
                Conn::Sqlite(Box::new(c))
            }
            Db::Postgres(p) => {
                let opts = (*p.connect_options()).clone();
                let mut c = sqlx::PgConnection::connect_with(&opts).await?;
                sqlx::query("SET synchronous_commit = off")
                    .execute(&mut c)
                    .await?;
                Conn::Postgres(Box::new(c))
            }
        })
    }

    /// A write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub(crate) async fn begin(&mut self) -> Result<Tx<'_>> {
        use sqlx::Connection as _;
        Ok(match self {
            Conn::Sqlite(c) => Tx::Sqlite(c.begin_with("BEGIN IMMEDIATE").await?),
            Conn::Postgres(c) => Tx::Postgres(c.begin().await?),
        })
    }

    pub(crate) async fn close(self) -> Result<()> {
        use sqlx::Connection as _;
        match self {
            Conn::Sqlite(c) => c.close().await?,
            Conn::Postgres(c) => c.close().await?,
        }
        Ok(())
    }
}

/// Every row of a table, sorted, for table-for-table comparisons. With
/// `skip_zero_cells`, rows whose integer columns are all zero are left out: in a table of
/// additive cells a cell at zero is the same as no cell (whether one exists depends on
/// how the events were batched).
pub async fn dump_table(db: &Db, table: &str, skip_zero_cells: bool) -> Result<Vec<Vec<Val>>> {
    let mut out = Vec::new();
    for r in db.fetch(&format!("SELECT * FROM {table}"), &[]).await? {
        let row: Vec<Val> = (0..r.len()).map(|i| r.any(i)).collect::<Result<_>>()?;
        let ints: Vec<&Val> = row.iter().filter(|v| matches!(v, Val::Int(_))).collect();
        if skip_zero_cells && !ints.is_empty() && ints.iter().all(|v| **v == Val::Int(Some(0))) {
            continue;
        }
        out.push(row);
    }
    out.sort();
    Ok(out)
}
