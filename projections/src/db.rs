//! Portable SQL I/O on both backends: values, rows, transactions and bulk upserts.
//!
//! SQL is written once with `?` placeholders; on PostgreSQL they become `$1, $2, …`.
//! Projection tables use only `BIGINT` and `TEXT` columns so the same DDL and queries
//! run unchanged on SQLite and PostgreSQL. Amounts are integer minor units.

use crate::error::Result;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{PgPool, Postgres, Row as _, Sqlite, SqlitePool};

/// A database holding projection tables (the store's own database).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A bound value: every projection column is a BIGINT or a TEXT, possibly NULL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(Some(v))
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        Val::Int(v)
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(Some(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(Some(v.to_string()))
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        Val::Text(v)
    }
}

/// A row read back from either backend.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    pub fn int(&self, i: usize) -> Result<i64> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Postgres(r) => r.try_get(i)?,
        })
    }
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Postgres(r) => r.try_get(i)?,
        })
    }
    pub fn text(&self, i: usize) -> Result<String> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Postgres(r) => r.try_get(i)?,
        })
    }
    pub fn len(&self) -> usize {
        match self {
            Row::Sqlite(r) => r.len(),
            Row::Postgres(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column `i` as whichever of BIGINT or TEXT it holds.
    pub fn any(&self, i: usize) -> Result<Val> {
        match self.opt_int(i) {
            Ok(v) => Ok(Val::Int(v)),
            Err(_) => Ok(Val::Text(self.opt_text(i)?)),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Postgres(r) => r.try_get(i)?,
        })
    }
}

/// `?` placeholders to `$n` for PostgreSQL (projection SQL never has `?` in literals).
pub(crate) fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn bind_sqlite<'q>(
    mut q: Query<'q, Sqlite, SqliteArguments<'q>>,
    vals: &'q [Val],
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    for v in vals {
        q = match v {
            Val::Int(x) => q.bind(*x),
            Val::Text(s) => q.bind(s.as_deref()),
        };
    }
    q
}

fn bind_pg<'q>(
    mut q: Query<'q, Postgres, PgArguments>,
    vals: &'q [Val],
) -> Query<'q, Postgres, PgArguments> {
    for v in vals {
        q = match v {
            Val::Int(x) => q.bind(*x),
            Val::Text(s) => q.bind(s.as_deref()),
        };
    }
    q
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

/// A transaction on either backend; rolled back when dropped uncommitted.
pub enum Tx<'c> {
    Sqlite(sqlx::Transaction<'c, Sqlite>),
    Postgres(sqlx::Transaction<'c, Postgres>),
}

impl Tx<'_> {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Tx::Postgres(_))
    }

    pub async fn exec(&mut self, sql: &str, vals: &[Val]) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(t) => bind_sqlite(sqlx::query(sql), vals)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            Tx::Postgres(t) => {
                let sql = pg_sql(sql);
                bind_pg(sqlx::query(&sql), vals)
                    .execute(&mut **t)
                    .await?
                    .rows_affected()
            }
        })
    }

    /// A statement not worth caching (DDL).
    pub async fn exec_ddl(&mut self, sql: &str) -> Result<()> {
        match self {
            Tx::Sqlite(t) => {
                sqlx::query(sql).persistent(false).execute(&mut **t).await?;
            }
            Tx::Postgres(t) => {
                sqlx::query(sql).persistent(false).execute(&mut **t).await?;
            }
        }
        Ok(())
    }

    pub async fn fetch(&mut self, sql: &str, vals: &[Val]) -> Result<Vec<Row>> {
        Ok(match self {
            Tx::Sqlite(t) => bind_sqlite(sqlx::query(sql), vals)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Tx::Postgres(t) => {
                let sql = pg_sql(sql);
                bind_pg(sqlx::query(&sql), vals)
                    .fetch_all(&mut **t)
                    .await?
                    .into_iter()
                    .map(Row::Postgres)
                    .collect()
            }
        })
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// Rows of `table` whose column `key` is one of `keys`, selecting `cols`
    /// (`key` need not be among them). Chunked to stay under parameter limits.
    pub async fn select_in(
        &mut self,
        table: &str,
        cols: &str,
        key: &str,
        keys: &[String],
    ) -> Result<Vec<Row>> {
        let mut out = Vec::with_capacity(keys.len());
        let mut rest = keys;
        while !rest.is_empty() {
            let n = chunk_len(rest.len(), IN_CHUNK);
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let sql = format!(
                "SELECT {cols} FROM {table} WHERE {key} IN ({})",
                placeholders(chunk.len())
            );
            let vals: Vec<Val> = chunk.iter().map(|k| Val::Text(Some(k.clone()))).collect();
            out.extend(self.fetch(&sql, &vals).await?);
        }
        Ok(out)
    }

    /// One multi-row `INSERT … ON CONFLICT` per chunk of rows.
    pub async fn upsert(&mut self, spec: &Upsert<'_>, rows: Vec<Vec<Val>>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let ncols = spec.cols.len();
        let max_rows = (MAX_PARAMS / ncols).clamp(1, MAX_ROWS);
        let mut left = rows.len();
        let mut it = rows.into_iter();
        let mut chunk: Vec<Val> = Vec::new();
        while left > 0 {
            let n = chunk_len(left, max_rows);
            chunk.clear();
            for row in it.by_ref().take(n) {
                debug_assert_eq!(row.len(), ncols);
                chunk.extend(row);
            }
            left -= n;
            let sql = spec.sql(n);
            self.exec(&sql, &chunk).await?;
        }
        Ok(())
    }
}

/// The size of the next chunk of `left` items: the largest power of four up to `max`,
/// so only a handful of distinct statements are ever prepared (and cached) per table.
fn chunk_len(left: usize, max: usize) -> usize {
    let mut n = 1;
    while n * 4 <= left && n * 4 <= max {
        n *= 4;
    }
    n
}

const IN_CHUNK: usize = 256;
const MAX_PARAMS: usize = 30_000;
const MAX_ROWS: usize = 256;

pub(crate) fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 2);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push('?');
    }
    s
}

/// What to do with a row whose key already exists.
#[derive(Debug, Clone, Copy)]
pub enum OnConflict<'a> {
    /// Replace every non-key column.
    Replace,
    /// Add these columns to the stored values; replace the other non-key columns.
    Add(&'a [&'a str]),
    /// Keep the stored row.
    Nothing,
}

/// A bulk upsert into one table.
#[derive(Debug, Clone, Copy)]
pub struct Upsert<'a> {
    pub table: &'a str,
    pub cols: &'a [&'a str],
    pub key: &'a [&'a str],
    pub on_conflict: OnConflict<'a>,
}

impl Upsert<'_> {
    fn sql(&self, rows: usize) -> String {
        let ncols = self.cols.len();
        let row = format!("({})", placeholders(ncols));
        let mut values = String::with_capacity(rows * (row.len() + 1));
        for i in 0..rows {
            if i > 0 {
                values.push(',');
            }
            values.push_str(&row);
        }
        let t = self.table;
        let conflict = match self.on_conflict {
            OnConflict::Nothing => "DO NOTHING".to_string(),
            OnConflict::Replace | OnConflict::Add(_) => {
                let add: &[&str] = match self.on_conflict {
                    OnConflict::Add(a) => a,
                    _ => &[],
                };
                let sets: Vec<String> = self
                    .cols
                    .iter()
                    .filter(|c| !self.key.contains(c))
                    .map(|c| {
                        if add.contains(c) {
                            format!("{c} = {t}.{c} + excluded.{c}")
                        } else {
                            format!("{c} = excluded.{c}")
                        }
                    })
                    .collect();
                if sets.is_empty() {
                    "DO NOTHING".to_string()
                } else {
                    format!("DO UPDATE SET {}", sets.join(", "))
                }
            }
        };
        format!(
            "INSERT INTO {t} ({}) VALUES {values} ON CONFLICT ({}) {conflict}",
            self.cols.join(", "),
            self.key.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_for_postgres() {
        assert_eq!(pg_sql("a = ? AND b IN (?, ?)"), "a = $1 AND b IN ($2, $3)");
    }

    #[test]
    fn upsert_sql() {
        let u = Upsert {
            table: "t",
            cols: &["k", "a", "b"],
            key: &["k"],
            on_conflict: OnConflict::Add(&["a"]),
        };
        assert_eq!(
            u.sql(2),
            "INSERT INTO t (k, a, b) VALUES (?,?,?),(?,?,?) ON CONFLICT (k) DO UPDATE SET a = t.a + excluded.a, b = excluded.b"
        );
    }
}
