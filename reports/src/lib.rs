//! # reports: annual commendation reports, certificates and statement exports
//!
//! Every document here is **pinned to a log position** `P`: it is computed by a plain
//! fold of the event log from position 0 to `P` (nothing is read from projections), so
//! the same `P` always gives the same figures, even after later corrections were
//! appended. Organisation (grids, stairwells, teams, each volunteer's stairwell, grid and
//! teams) is taken as it was when each event happened, and the star thresholds used are
//! the ones in force at `P`. Names come from the personal-data table when a document is
//! produced (never from events); an erased person shows as [`people::ERASED_NAME`].
//!
//! Crate map (one line per module; this crate depends on `ledger` only, and `api` and the
//! binary depend on it):
//! - [`fold`]: pinning, the scan of the log, and [`fold::scan_community`] (one community's events).
//! - [`annual`]: the annual commendation report (年度表彰报告): its model, tally and finish.
//! - [`stairwell`]: 文明楼道 monthly scores, yearly standings and the 流动红旗.
//! - [`shop`]: the points shop's monthly stock and redemption sheet.
//! - [`table`]: the neutral table model (sections of typed cells) shared by the renderers.
//! - [`mod@render_xlsx`]: an annual report as XLSX, and any sections as sheets.
//! - [`mod@render_csv`]: an annual report as CSV (UTF-8 with a BOM), and any sections.
//! - [`mod@render_html`]: an annual report as a printable page with charts; the page and tables.
//! - [`mod@certificate`]: numbered 志愿服务记录证明: facts, registry, check code and check, page.
//! - [`mod@statement`]: a volunteer's statement (every ledger entry with running balances).
//! - [`street`]: a street's annual report: its communities' reports at one position and a
//!   summary with a line per community.
//! - [`export`]: exports for the authorities, streamed to a file row by row: the event
//!   log of a period, the member list (masked by role), hours per volunteer.
//! - [`whatif`]: a community's log replayed under proposed point rules and star thresholds,
//!   writing nothing (规则试算); `whatif::rubric`: a year's 文明楼道 under a proposed rubric.
//! - [`people`]: names at render time, masking of ID numbers, phones and names.
//! - [`labels`]: Chinese labels (service kinds, stars) and China Standard Time helpers.
//! - [`error`]: the error type ([`ReportError`]) and its stable codes.
//! - this file: [`Format`] and [`render`], the three formats of an annual report.
//!
//! To add a report:
//! 1. **The fold**: a module (`src/<report>.rs`, or a directory like `annual/` once it
//!    grows) with `pub async fn <report>(store, .., at: Option<u64>)`. It pins first
//!    ([`fold::pin`], and [`fold::recorded_at`] for its `as_of`). Figures of a community
//!    come from a tally fed by `fold::scan_community(store, community, &WANTED, position,
//!    &progress, |e| ..)`, with the list of the event types it reads beside the `match`
//!    that reads them (as [`annual::WANTED`]); one volunteer's records come from their
//!    stream (`Store::read_stream`) up to the position, as [`statement()`] and the
//!    certificates do. Names are looked up after the fold with [`people::display_names`],
//!    never taken from events; labels and dates come from [`labels`]; a new failure is a
//!    [`ReportError`] variant with its code.
//! 2. **The model**: the report's struct (serde), carrying its `position` and `as_of`.
//! 3. **The table model**: `fn <report>_sections(&Report) -> Vec<table::Section>` of typed
//!    cells, as [`table::annual_sections`] and [`statement::statement_sections`].
//! 4. **The renderers**: the generic ones take sections: [`render_csv::sections_to_csv`],
//!    [`render_xlsx::sections_to_xlsx`], [`render_html::page_start`] with
//!    [`render_html::table_html`]. A report needs a renderer of its own only for charts
//!    or a page of its own (as [`render_html()`] and [`certificate_html`]).
//! 5. **This file**: `pub mod` for the module and `pub use` for its entry points.
//! 6. **Tests**: `tests/documents.rs` on both backends (`common::stores()`), and the
//!    figures against an independent plain fold in `tests/oracle.rs` (`common::oracle`).
//! 7. **Outside this crate**: the download route lives in the api crate's documents routes
//!    (a handler in `api::documents` beside `annual_report_file` and `statement_file`, its
//!    `/documents/..` path in the router, and a `*_url` helper the GraphQL answer links
//!    to); the GraphQL field is in `api::schema::documents`; an operator command, if any,
//!    is in the binary's `src/commands.rs`.
//!
//! Attribution rules (the same in every document):
//! - verified service hours and points count on the **service date** (`started_at` in
//!   China Standard Time); awards and redemptions on the date they were recorded;
//! - a reversal (冲正) takes away from the period, kind, volunteer and organisation unit
//!   of the entry it reverses, so a year's figures are net of corrections;
//! - an entry is attributed to the stairwell, grid and teams its volunteer had when the
//!   entry was recorded in the log.

pub mod annual;
pub mod certificate;
pub mod error;
pub mod export;
pub mod fold;
pub mod labels;
pub mod people;
pub mod render_csv;
pub mod render_html;
pub mod render_xlsx;
pub mod shop;
pub mod stairwell;
pub mod statement;
pub mod street;
pub mod table;
pub mod whatif;

pub use annual::{annual_report, AnnualReport, TOP_N};
pub use certificate::{
    certificate_html, check_certificate, community_certificates, get_certificate,
    issue_certificate, list_certificates, verify_certificate, Certificate, CertificateCheck,
    CertificateFacts, IssuingOrganisation,
};
pub use error::ReportError;
pub use render_csv::render_csv;
pub use render_html::render_html;
pub use render_xlsx::render_xlsx;
pub use shop::{shop_sections, shop_sheet, ShopSheet};
pub use statement::{statement, statement_csv, statement_xlsx, Statement};
pub use street::{street_report, street_sections, StreetReport};
pub use whatif::{rubric_what_if, what_if, Proposal, RubricProposal, RubricWhatIf, WhatIf};

/// The output formats of an annual report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xlsx,
    Csv,
    Html,
}

impl Format {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
            Format::Html => "html",
        }
    }

    /// The MIME type, for HTTP responses.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Format, ReportError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "xlsx" => Ok(Format::Xlsx),
            "csv" => Ok(Format::Csv),
            "html" | "htm" => Ok(Format::Html),
            other => Err(ReportError::InvalidInput(format!(
                "unknown format {other:?}: use xlsx, csv or html"
            ))),
        }
    }
}

/// Renders a report in one of the formats, as the bytes of the file.
pub fn render(report: &AnnualReport, format: Format) -> Result<Vec<u8>, ReportError> {
    match format {
        Format::Xlsx => render_xlsx(report),
        Format::Csv => Ok(render_csv(report)),
        Format::Html => Ok(render_html(report).into_bytes()),
    }
}
