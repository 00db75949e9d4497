//! A transaction on either backend: statements, reads, reads and deletes by key (one
//! JSON list or array parameter per 20,000 keys), commit and rollback.

use super::value::{bind_pg, bind_sqlite, pg_sql};
use super::{Row, Val};
use crate::error::Result;
use sqlx::{Postgres, Sqlite};

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
                    let json = json_list(chunk);
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

    /// Deletes the rows of `table` whose column `key` is one of `keys`.
    pub async fn delete_in(&mut self, table: &str, key: &str, keys: &[String]) -> Result<()> {
        for chunk in keys.chunks(KEYS_CHUNK) {
            match self {
                Tx::Sqlite(t) => {
                    let sql = format!(
                        "DELETE FROM {table} WHERE {key} IN (SELECT value FROM json_each(?))"
                    );
                    let json = json_list(chunk);
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
/// Keys per `select_in` statement.
const KEYS_CHUNK: usize = 20_000;

/// `keys` as a JSON list of strings, the one parameter of a SQLite statement by key.
fn json_list(keys: &[String]) -> String {
    let mut json = String::with_capacity(keys.len() * 40 + 2);
    json.push('[');
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        push_json_str(&mut json, k);
    }
    json.push(']');
    json
}

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
