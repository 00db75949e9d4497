//! Command-line arguments.

use clap::{Parser, Subcommand};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://timebank.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

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

    /// How to serve when no sub-command is given (`timebank --listen ADDR`).
    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of the server (`timebank serve`, and `timebank` with no sub-command).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TIMEBANK_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: std::net::SocketAddr,
    /// Longest a /graphql or /documents request may take, in seconds (408
    /// REQUEST_TIMEOUT beyond).
    #[arg(long, env = "TIMEBANK_REQUEST_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,
    /// Largest request body, in bytes (413 PAYLOAD_TOO_LARGE beyond).
    #[arg(long, env = "TIMEBANK_MAX_BODY_BYTES", default_value_t = 256 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub max_body_bytes: u64,
    /// Load the demo community into an empty database first, and print login links
    /// for a staff member, a volunteer and the hall display.
    #[arg(long, env = "TIMEBANK_DEMO")]
    pub demo: bool,
    /// Mark session cookies `Secure`: `auto` when the proxy in front says HTTPS
    /// (`X-Forwarded-Proto: https`), `always`, or `never`.
    #[arg(long, env = "TIMEBANK_SECURE_COOKIES", default_value = "auto",
          value_parser = ["auto", "always", "never"])]
    pub secure_cookies: String,
    /// A PostgreSQL streaming replica (hot standby) of the database: the read models
    /// are queried there, commands and the log stay on the primary; a read after a
    /// write waits until the replica has it (at most 5 s, then STALE_READ).
    #[arg(long, env = "TIMEBANK_REPLICA_URL")]
    pub replica_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API (the default when no sub-command is given).
    Serve(ServeArgs),
    /// API tokens: issue (printed once, only its hash is stored) and revoke.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Reports for staff (年度表彰), pinned to a log position.
    Report {
        #[command(subcommand)]
        kind: ReportKind,
    },
    /// Service-record certificates (志愿服务记录证明).
    Certificate {
        #[command(subcommand)]
        action: CertificateAction,
    },
    /// A volunteer's full statement (their copy of their records) as CSV or XLSX.
    Statement {
        #[arg(long)]
        volunteer: uuid::Uuid,
        /// csv or xlsx.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Output file (default: statement-<volunteer>.<format>).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Pin to this log position (default: the head).
        #[arg(long)]
        at: Option<u64>,
    },
    /// Replay a community's log under proposed rules (a TOML file), writing nothing
    /// (规则试算): points, stars and the top 20 before and after.
    WhatIf {
        #[arg(long)]
        community: uuid::Uuid,
        /// The proposed rules (`[points]` per_hour, coefficients; `[stars]` hours, points).
        #[arg(long)]
        rules: std::path::PathBuf,
        /// Only this year's points and top places (default: all time).
        #[arg(long)]
        year: Option<i32>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild projections from position 0 and swap them in.
    Rebuild {
        /// Only this projection (default: all).
        #[arg(long)]
        projection: Option<String>,
    },
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
    /// Imports from Excel or CSV (a community's roster, 花名册; its history of services,
    /// 历史服务记录), and the reversal of a history import.
    Import {
        #[command(subcommand)]
        kind: ImportKind,
    },
    /// Personal data kept beside the log.
    Person {
        #[command(subcommand)]
        action: PersonAction,
    },
    /// Write a district's valid history straight to the store, fast (for benchmarks at
    /// district scale): streets of communities of volunteers, then services and awards.
    BulkLoad {
        #[arg(long, default_value_t = 15)]
        streets: u32,
        #[arg(long, default_value_t = 20)]
        communities_per_street: u32,
        /// Volunteers per community.
        #[arg(long, default_value_t = 3000)]
        volunteers: u32,
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
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
        /// Activities per community (sign-ups, attendance, approval, notices).
        #[arg(long, default_value_t = 12)]
        activities: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportKind {
    /// A roster: 姓名, 手机号, 身份证号, 楼栋, 单元, 网格, 队伍, 政治面貌/标签 (columns found by
    /// their headers, in any order). Every row is checked first; valid rows are
    /// registered, the rejected ones written back with a 错误原因 column.
    Roster(SheetArgs),
    /// Past services (历史导入): 姓名 or 身份证号, 日期, 内容/类别, 时长, 备注. Every row is
    /// checked first; valid rows are recorded on the volunteers' accounts as one batch
    /// (printed, to reverse it), the rejected ones written back with a 错误原因 column.
    History(SheetArgs),
    /// Reverses a whole history import in one command (each entry a linked correction).
    Reverse {
        /// The batch a history import printed.
        batch: uuid::Uuid,
        /// Why (kept with every correction).
        #[arg(long)]
        reason: String,
    },
}

/// A sheet to import, and how.
#[derive(Debug, clap::Args)]
pub struct SheetArgs {
    /// The .xlsx (first worksheet) or .csv file.
    pub file: std::path::PathBuf,
    #[arg(long)]
    pub community: uuid::Uuid,
    /// Check and say what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Another header of the file and the one it means, e.g. 联系方式=手机号.
    #[arg(long = "map")]
    pub map: Vec<String>,
    /// Where the rejected rows go (default: NAME.rejected.xlsx/.csv beside the file).
    #[arg(long)]
    pub rejected: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PersonAction {
    /// Erase a volunteer's personal data (name, phone, ID number); events and totals stay.
    Erase {
        /// The volunteer id.
        id: uuid::Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Issue a token and print it (once).
    Issue {
        /// admin, staff, volunteer, display or street.
        #[arg(long)]
        role: String,
        /// The community a staff or volunteer token is bound to.
        #[arg(long)]
        community: Option<uuid::Uuid>,
        /// The volunteer a volunteer token speaks for; for a staff token, the staff
        /// member's own volunteer account in the community (they then cannot verify
        /// their own service).
        #[arg(long)]
        volunteer: Option<uuid::Uuid>,
        /// The street a street office's token is bound to (街道).
        #[arg(long)]
        street: Option<uuid::Uuid>,
        /// A note to recognise the token by.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a token, by its id or the token itself.
    Revoke { token: String },
}

#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// The annual commendation report of a community.
    Annual {
        #[arg(long)]
        community: uuid::Uuid,
        #[arg(long)]
        year: i32,
        /// xlsx, csv or html.
        #[arg(long)]
        format: String,
        /// Output file (default: annual-<year>.<format>).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Reproduce the report as it was at this log position.
        #[arg(long)]
        at: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertificateAction {
    /// Issue a numbered certificate pinned to the current log position; writes its HTML.
    Issue {
        #[arg(long)]
        volunteer: uuid::Uuid,
        /// Issuing organisation (出具单位).
        #[arg(long, env = "TIMEBANK_ORGANISATION", default_value = "社区志愿服务站")]
        organisation: String,
        /// Person in charge (负责人).
        #[arg(long, env = "TIMEBANK_PERSON_IN_CHARGE", default_value = "")]
        person_in_charge: String,
        /// Person who handled it (经办人).
        #[arg(long, default_value = "")]
        handler: String,
        /// Contact details (联系方式).
        #[arg(long, env = "TIMEBANK_CONTACT", default_value = "")]
        contact: String,
        /// Output file (default: certificate-<number>.html).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Check a certificate: the facts as issued, and whether later corrections changed them.
    Check { number: String },
}
