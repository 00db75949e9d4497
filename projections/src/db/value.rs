//! Values bound to statements and rows read back, on either backend: every projection
//! column is a BIGINT or a TEXT; SQL is written with `?`, numbered for PostgreSQL.

use crate::error::Result;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Postgres, Row as _, Sqlite};

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

pub(super) fn bind_sqlite<'q>(
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

pub(super) fn bind_pg<'q>(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_for_postgres() {
        assert_eq!(pg_sql("a = ? AND b IN (?, ?)"), "a = $1 AND b IN ($2, $3)");
    }
}
