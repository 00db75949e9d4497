//! Command-line arguments.

use clap::{Parser, Subcommand};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://timebank.db";

#[derive(Debug, Parser)]
#[command(
    name = "timebank",
    version,
    about = "Event-sourced volunteer time bank and points ledger"
)]
pub struct Cli {
    /// Database: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the embedded migrations (they are also applied at every start).
    Migrate,
    /// Print the log as JSON lines, each with its `position`.
    Events {
        /// Only this stream (e.g. volunteer-<uuid>).
        #[arg(long)]
        stream: Option<String>,
        /// Only events after this position.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// At most this many events.
        #[arg(long)]
        limit: Option<u64>,
        /// Keep printing events as they are committed.
        #[arg(long)]
        follow: bool,
    },
    /// Personal data kept beside the log.
    Person {
        #[command(subcommand)]
        action: PersonAction,
    },
    /// Generate a realistic community's history through the command layer.
    Demo {
        #[arg(long, default_value_t = 200)]
        volunteers: u64,
        #[arg(long, default_value_t = 10_000)]
        events: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of communities.
        #[arg(long, default_value_t = 1)]
        communities: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum PersonAction {
    /// Erase a volunteer's personal data (name, phone, ID number); events and totals stay.
    Erase {
        /// The volunteer id.
        id: uuid::Uuid,
    },
}
