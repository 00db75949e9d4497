//! Portable SQL I/O on both backends: values, rows, transactions and bulk upserts.
//!
//! SQL is written once with `?` placeholders; on PostgreSQL they become `$1, $2, …`.
//! Projection tables use only `BIGINT` and `TEXT` columns so the same DDL and queries
//! run unchanged on SQLite and PostgreSQL. Amounts are integer minor units.
//!
//! Bulk I/O: [`Tx::select_in`] reads rows by key (one JSON list or array parameter per
//! 20,000 keys), [`Tx::upsert_rows`] / [`Writer`] write rows in few statements,
//! [`Tx::delete_in`] deletes by key; [`Conn`] is a rebuild's own connection.

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
    /// (`key` need not be among them), in one statement per large chunk of keys.
    pub async fn select_in(
        &mut self,
        table: &str,
        cols: &str,
        key: &str,
        keys: &[String],
    ) -> Result<Vec<Row>> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(KEYS_CHUNK) {
            match self {
                Tx::Sqlite(t) => {
                    let sql = format!(
                        "SELECT {cols} FROM {table} WHERE {key} IN (SELECT value FROM json_each(?))"
                    );
                    let mut json = String::with_capacity(chunk.len() * 40 + 2);
                    json.push('[');
                    for (i, k) in chunk.iter().enumerate() {
                        if i > 0 {
                            json.push(',');
                        }
                        push_json_str(&mut json, k);
                    }
                    json.push(']');
                    let rows = sqlx::query(&sql).bind(json).fetch_all(&mut **t).await?;
                    out.extend(rows.into_iter().map(Row::Sqlite));
                }
                Tx::Postgres(t) => {
                    let sql = format!("SELECT {cols} FROM {table} WHERE {key} = ANY($1)");
                    let rows = sqlx::query(&sql)
                        .bind(chunk.to_vec())
                        .fetch_all(&mut **t)
                        .await?;
                    out.extend(rows.into_iter().map(Row::Postgres));
                }
            }
        }
        Ok(out)
    }

    /// Upserts rows given as values (see [`Tx::upsert_rows`]).
    pub async fn upsert(&mut self, spec: &Upsert<'_>, rows: Vec<Vec<Val>>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut bulk = Rows::like(&rows[0]);
        for row in rows {
            bulk.push(row);
        }
        self.upsert_owned(spec, bulk).await
    }

    /// A bulk `INSERT … ON CONFLICT` of many rows in few statements: on SQLite as
    /// multi-row `VALUES` of bound parameters, in chunks whose sizes are powers of four
    /// (a handful of cached statements per table; binding costs far less than
    /// extracting values from a JSON parameter in SQL), on PostgreSQL as one array per
    /// column (`UNNEST`), one statement per 10,000 rows. Keys must be unique within
    /// `rows`.
    pub async fn upsert_rows(&mut self, spec: &Upsert<'_>, rows: &Rows) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.upsert_owned(spec, rows.clone()).await
    }

    /// [`Tx::upsert_rows`] of rows it may take apart (the values are handed to the
    /// driver without another copy).
    pub async fn upsert_owned(&mut self, spec: &Upsert<'_>, rows: Rows) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        debug_assert_eq!(rows.cols.len(), spec.cols.len());
        let mut rows = rows;
        let len = rows.len();
        let mut start = 0;
        while start < len {
            match self {
                Tx::Sqlite(t) => {
                    let end = start + values_chunk(len - start, spec.cols.len());
                    let sql = spec.sqlite_sql(end - start);
                    let mut q = sqlx::query(&sql);
                    for i in start..end {
                        for c in rows.cols.iter_mut() {
                            q = match c {
                                Column::Int(v) => q.bind(v[i]),
                                Column::Text(v) => q.bind(v[i].take()),
                            };
                        }
                    }
                    q.execute(&mut **t).await?;
                    start = end;
                }
                Tx::Postgres(t) => {
                    let end = (start + BULK_CHUNK).min(len);
                    let sql = spec.pg_sql(&rows.cols);
                    let mut q = sqlx::query(&sql);
                    for c in rows.cols.iter_mut() {
                        q = match c {
                            Column::Int(v) => q.bind(v[start..end].to_vec()),
                            Column::Text(v) => q.bind(
                                v[start..end]
                                    .iter_mut()
                                    .map(Option::take)
                                    .collect::<Vec<_>>(),
                            ),
                        };
                    }
                    q.execute(&mut **t).await?;
                    start = end;
                }
            }
        }
        Ok(())
    }
}

impl Tx<'_> {
    /// [`Tx::upsert_rows`] of rows produced one by one, written a chunk at a time (so a
    /// large flush never holds all its rows as values).
    pub async fn upsert_each<I, R>(
        &mut self,
        spec: &Upsert<'_>,
        kinds: &[Kind],
        rows: I,
    ) -> Result<()>
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = Val>,
    {
        let mut chunk = Rows::new(kinds);
        for r in rows {
            chunk.push(r);
            if chunk.len() >= BULK_CHUNK {
                let full = std::mem::replace(&mut chunk, Rows::new(kinds));
                self.upsert_owned(spec, full).await?;
            }
        }
        self.upsert_owned(spec, chunk).await
    }

    /// Deletes the rows of `table` whose column `key` is one of `keys`.
    pub async fn delete_in(&mut self, table: &str, key: &str, keys: &[String]) -> Result<()> {
        for chunk in keys.chunks(KEYS_CHUNK) {
            match self {
                Tx::Sqlite(t) => {
                    let sql = format!(
                        "DELETE FROM {table} WHERE {key} IN (SELECT value FROM json_each(?))"
                    );
                    let mut json = String::with_capacity(chunk.len() * 40 + 2);
                    json.push('[');
                    for (i, k) in chunk.iter().enumerate() {
                        if i > 0 {
                            json.push(',');
                        }
                        push_json_str(&mut json, k);
                    }
                    json.push(']');
                    sqlx::query(&sql).bind(json).execute(&mut **t).await?;
                }
                Tx::Postgres(t) => {
                    let sql = format!("DELETE FROM {table} WHERE {key} = ANY($1)");
                    sqlx::query(&sql)
                        .bind(chunk.to_vec())
                        .execute(&mut **t)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// Rows of one bulk upsert, written a chunk at a time as they are pushed (so a large
/// flush never holds all its rows as values).
pub struct Writer<'s> {
    spec: Upsert<'s>,
    kinds: &'s [Kind],
    rows: Rows,
}

impl<'s> Writer<'s> {
    pub fn new(spec: Upsert<'s>, kinds: &'s [Kind]) -> Writer<'s> {
        Writer {
            spec,
            kinds,
            rows: Rows::new(kinds),
        }
    }

    pub async fn push<R: IntoIterator<Item = Val>>(
        &mut self,
        tx: &mut Tx<'_>,
        row: R,
    ) -> Result<()> {
        self.rows.push(row);
        if self.rows.len() >= BULK_CHUNK {
            let rows = std::mem::replace(&mut self.rows, Rows::new(self.kinds));
            tx.upsert_owned(&self.spec, rows).await?;
        }
        Ok(())
    }

    pub async fn finish(self, tx: &mut Tx<'_>) -> Result<()> {
        tx.upsert_owned(&self.spec, self.rows).await
    }
}

/// Rows in the next multi-row `VALUES` statement for `left` rows of `ncols` columns:
/// the largest power of four that fits both `left` and [`MAX_PARAMS`], so that a table
/// only ever has a handful of distinct (cached) statements.
fn values_chunk(left: usize, ncols: usize) -> usize {
    let max = (MAX_PARAMS / ncols.max(1)).max(1);
    let mut n = 1;
    while n * 4 <= left && n * 4 <= max {
        n *= 4;
    }
    n
}

/// Bound values per SQLite statement (a statement with more takes memory in every
/// connection's statement cache for little gain).
const MAX_PARAMS: usize = 8_192;

/// Keys per `select_in` statement.
const KEYS_CHUNK: usize = 20_000;
/// Rows per bulk statement.
const BULK_CHUNK: usize = 10_000;

/// Appends `s` as a JSON string.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        if esc.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(esc);
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out.push('"');
}

/// One column of [`Rows`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
}

/// The kind of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
}

/// Rows for a bulk statement, kept by column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    cols: Vec<Column>,
    len: usize,
}

impl Rows {
    pub fn new(kinds: &[Kind]) -> Rows {
        Rows {
            cols: kinds
                .iter()
                .map(|k| match k {
                    Kind::Int => Column::Int(Vec::new()),
                    Kind::Text => Column::Text(Vec::new()),
                })
                .collect(),
            len: 0,
        }
    }

    /// Columns of the kinds of `row`'s values.
    pub fn like(row: &[Val]) -> Rows {
        let kinds: Vec<Kind> = row
            .iter()
            .map(|v| match v {
                Val::Int(_) => Kind::Int,
                Val::Text(_) => Kind::Text,
            })
            .collect();
        Rows::new(&kinds)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a row (one value per column; a value of the other kind is converted).
    pub fn push(&mut self, row: impl IntoIterator<Item = Val>) {
        let mut n = 0;
        for (c, v) in self.cols.iter_mut().zip(row) {
            n += 1;
            match (c, v) {
                (Column::Int(c), Val::Int(v)) => c.push(v),
                (Column::Text(c), Val::Text(v)) => c.push(v),
                (Column::Int(c), Val::Text(v)) => c.push(v.and_then(|s| s.parse().ok())),
                (Column::Text(c), Val::Int(v)) => c.push(v.map(|i| i.to_string())),
            }
        }
        debug_assert_eq!(n, self.cols.len(), "one value per column");
        self.len += 1;
    }
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
    fn conflict(&self) -> String {
        let t = self.table;
        match self.on_conflict {
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
        }
    }

    /// The SQLite statement for `rows` rows of bound values (binding is much cheaper
    /// than extracting the values from JSON in SQL).
    fn sqlite_sql(&self, rows: usize) -> String {
        let mut one = String::with_capacity(self.cols.len() * 2 + 2);
        one.push('(');
        for i in 0..self.cols.len() {
            if i > 0 {
                one.push(',');
            }
            one.push('?');
        }
        one.push(')');
        let mut values = String::with_capacity(rows * (one.len() + 1));
        for i in 0..rows {
            if i > 0 {
                values.push(',');
            }
            values.push_str(&one);
        }
        format!(
            "INSERT INTO {} ({}) VALUES {values} ON CONFLICT ({}) {}",
            self.table,
            self.cols.join(", "),
            self.key.join(", "),
            self.conflict()
        )
    }

    /// The PostgreSQL statement: one array parameter per column.
    fn pg_sql(&self, cols: &[Column]) -> String {
        let arrays: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| match c {
                Column::Int(_) => format!("${}::BIGINT[]", i + 1),
                Column::Text(_) => format!("${}::TEXT[]", i + 1),
            })
            .collect();
        format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({}) ON CONFLICT ({}) {}",
            self.table,
            self.cols.join(", "),
            arrays.join(", "),
            self.key.join(", "),
            self.conflict()
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
            u.sqlite_sql(2),
            "INSERT INTO t (k, a, b) VALUES (?,?,?),(?,?,?) ON CONFLICT (k) DO UPDATE SET a = t.a + excluded.a, b = excluded.b"
        );
        assert_eq!(values_chunk(5, 3), 4);
        assert_eq!(values_chunk(1, 3), 1);
        assert_eq!(values_chunk(100_000, 5), 1024);
        assert_eq!(values_chunk(100_000, 13), 256);
        let mut rows = Rows::new(&[Kind::Text, Kind::Int, Kind::Text]);
        rows.push([Val::from("x\"y"), Val::from(3), Val::Text(None)]);
        rows.push([Val::from("z"), Val::Int(None), Val::from("\u{1}é")]);
        assert_eq!(
            u.pg_sql(&rows.cols),
            "INSERT INTO t (k, a, b) SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[]) ON CONFLICT (k) DO UPDATE SET a = t.a + excluded.a, b = excluded.b"
        );
        let mut json = String::new();
        push_json_str(&mut json, "x\"y\u{1}é\\");
        assert_eq!(json, "\"x\\\"y\\u0001é\\\\\"");
    }
}
