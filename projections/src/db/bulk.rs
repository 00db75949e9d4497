//! Bulk upserts: rows kept by column, the `INSERT … ON CONFLICT` statement of each
//! backend (multi-row `VALUES` on SQLite, `UNNEST` of arrays on PostgreSQL), and writes
//! a chunk at a time.

use super::{Tx, Val};
use crate::error::Result;

impl Tx<'_> {
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

/// Rows per bulk statement.
const BULK_CHUNK: usize = 10_000;

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
    use super::super::tx::push_json_str;
    use super::*;

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
