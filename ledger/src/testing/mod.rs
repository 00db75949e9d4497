//! Test support shared by every crate's tests: a fresh store on each backend, and
//! `given` / when / then for the domain's rules (no database).
//!
//! PostgreSQL tests use `TIMEBANK_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) to create a database of their own. Without a
//! reachable server they are skipped with a message, unless `CI=true`, where a missing
//! PostgreSQL is a failure.

mod given;

pub use given::{given, Given, Then};

use crate::store::Store;
use sqlx::Connection;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn admin_url() -> String {
    std::env::var("TIMEBANK_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string())
}

fn under_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// A fresh SQLite store in its own temporary file, and the directory that holds it
/// (dropping the directory deletes the file).
pub async fn sqlite_store() -> (Store, TempDir) {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.path().join("timebank.db").display());
    (Store::open(&url).await.expect("open sqlite store"), dir)
}

/// The URL of a freshly created, empty PostgreSQL database, or `None` (with a message
/// on stderr) when no server is reachable outside CI.
pub async fn postgres_url() -> Option<String> {
    let admin = admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => {
            if under_ci() {
                panic!("CI=true but PostgreSQL at {admin} is unreachable: {e}");
            }
            eprintln!("PostgreSQL suite SKIPPED: no server at {admin} ({e}); set TIMEBANK_TEST_PG_URL to run it");
            return None;
        }
    };
    let name = format!("tb_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    Some(format!("{base}/{name}"))
}

/// A fresh PostgreSQL store in a database of its own, or `None` when skipped.
pub async fn postgres_store() -> Option<Store> {
    let url = postgres_url().await?;
    Some(Store::open(&url).await.expect("open postgres store"))
}

/// Another store on the same database as `store`: on PostgreSQL one with its own
/// writer and connections, as another process would have; on SQLite the same store
/// (one process writes a SQLite file).
pub async fn another_store(store: &Store) -> Store {
    match store {
        Store::Sqlite(_) => store.clone(),
        Store::Postgres(s) => {
            let db: String = sqlx::query_scalar("SELECT current_database()")
                .fetch_one(s.pool())
                .await
                .expect("current database");
            let admin = admin_url();
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            Store::open(&format!("{base}/{db}"))
                .await
                .expect("open another postgres store")
        }
    }
}

/// A temporary directory removed on drop.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let path =
            std::env::temp_dir().join(format!("timebank-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `body` once per available backend: always SQLite, and PostgreSQL when reachable.
#[macro_export]
macro_rules! for_each_backend {
    (|$store:ident| $body:expr) => {{
        {
            let ($store, _dir) = $crate::testing::sqlite_store().await;
            $body;
        }
        if let Some($store) = $crate::testing::postgres_store().await {
            $body;
        }
    }};
}
