//! Says, uncaptured, whether the PostgreSQL half of the suite runs or is skipped
//! (tests' own output is captured by the harness, so this binary has none).
//! Under CI=true a missing PostgreSQL fails here as well as in every PostgreSQL test.

fn main() {
    let url = std::env::var("TIMEBANK_TEST_PG_URL")
        .unwrap_or_else(|_| ledger::testing::DEFAULT_PG_URL.to_string());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let reachable = rt.block_on(async {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&url)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    match reachable {
        Ok(()) => println!("PostgreSQL suite: running against {url}"),
        Err(e) => {
            if matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1")) {
                eprintln!("CI=true but PostgreSQL at {url} is unreachable: {e}");
                std::process::exit(1);
            }
            println!(
                "PostgreSQL suite SKIPPED: no server at {url} ({e}); only the SQLite suite ran"
            );
        }
    }
}
