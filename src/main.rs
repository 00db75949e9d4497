//! `timebank`: the command line.
//!
//! - `cli`: the arguments (one `clap` struct, every option also from the environment).
//! - `commands`: one function per sub-command.
//! - `import`: `import roster`, a community's roster from Excel or CSV.
//! - `pages`: what `serve` prints for the pages: the first admin's login link on an
//!   empty database, and with `--demo` the demo community and its login links.
//!
//! To add a sub-command: its variant in `cli.rs`, its function in `commands.rs` (a
//! command that changes the log goes through `ledger::command::CommandHandler::run`, as
//! the API does), a row in README.md's command-line table, a test in `tests/cli.rs`.

mod cli;
mod commands;
mod import;
mod pages;
mod whatif;

/// mimalloc rather than the system allocator: the server allocates and frees many small
/// buffers across threads (requests, rows, JSON), where glibc's malloc spent about an
/// eighth of the CPU of an `awardPoints` load (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
