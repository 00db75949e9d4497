//! Documents (issue "Reports"): the annual commendation report (年度表彰), service-record
//! certificates (志愿服务记录证明) and statement exports, computed by the `reports` crate
//! and pinned to log positions.
//!
//! - Who may read what: reports are for admin and the community's staff
//!   ([`crate::auth::Principal::manages`]); a volunteer's records (statement, certificates) for the
//!   volunteer, the community's staff and admin ([`crate::auth::Principal::reads_account_of`]). The
//!   public certificate check needs no token at all.
//! - [`ReportCache`]: annual reports by (community, year, position). A pinned report
//!   never changes, so the GraphQL answer and the downloads it links to are computed
//!   once.
//! - The links to the files (`*_url`) that GraphQL answers carry
//!   ([`crate::schema::documents`]).
//! - [`routes`]: the download routes (`GET /documents/...`, bearer token) serve the
//!   files: an annual report as XLSX, CSV or HTML, a certificate's printable HTML page,
//!   a statement as CSV or XLSX. Each names its log position in `X-Timebank-Position`.
//! - [`exports`]: the exports for the authorities (`GET /documents/export/...`): a
//!   community's or street's event log, member list and hours per volunteer, streamed
//!   from a file written row by row.
//!
//! Nothing here but [`routes`] knows HTTP: the schema uses this module, and the routes
//! use the shared state ([`crate::state`]).

pub mod exports;
pub mod routes;

use crate::errors::ApiError;
use ledger::ids::{CommunityId, VolunteerId};
use reports::{AnnualReport, Format, ReportError};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Reports kept by [`ReportCache`].
const CACHED_REPORTS: usize = 8;

/// The API error of a report error (stable code; storage details stay in the log).
pub fn report_error(e: ReportError) -> ApiError {
    match e.code() {
        "INVALID_INPUT" => ApiError::invalid(e.to_string()),
        "NOT_FOUND" => ApiError::NotFound(match &e {
            ReportError::CommunityNotFound { community_id, .. } => {
                format!("community {community_id}")
            }
            ReportError::VolunteerNotFound { volunteer_id, .. } => {
                format!("volunteer {volunteer_id}")
            }
            other => other.to_string(),
        }),
        "IDEMPOTENCY_MISMATCH" => ApiError::IdempotencyMismatch(e.to_string()),
        _ => {
            tracing::error!(error = %e, "producing a document");
            ApiError::Internal("the document could not be produced".into())
        }
    }
}

/// Annual reports by (community, year, position), the most recent few.
#[derive(Default)]
pub struct ReportCache {
    reports: Mutex<VecDeque<Arc<AnnualReport>>>,
}

impl ReportCache {
    /// The report of `community` for `year` at `at` (the head when `None`).
    pub async fn annual(
        &self,
        store: &ledger::Store,
        community: CommunityId,
        year: i32,
        at: Option<u64>,
    ) -> Result<Arc<AnnualReport>, ApiError> {
        let position = match at {
            Some(p) => p,
            None => store.head().await?,
        };
        if let Some(r) = self.find(community, year, position) {
            return Ok(r);
        }
        let report = reports::annual_report(store, community, year, Some(position), |_, _| {})
            .await
            .map_err(report_error)?;
        let report = Arc::new(report);
        let mut cached = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        if cached.len() >= CACHED_REPORTS {
            cached.pop_front();
        }
        cached.push_back(report.clone());
        Ok(report)
    }

    fn find(&self, community: CommunityId, year: i32, position: u64) -> Option<Arc<AnnualReport>> {
        let cached = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        cached
            .iter()
            .find(|r| r.community_id == community && r.year == year && r.position == position)
            .cloned()
    }
}

/// Where to download a document.
pub fn annual_report_url(community: CommunityId, year: i32, position: u64, f: Format) -> String {
    format!(
        "/documents/annual-report?communityId={}&year={year}&at={position}&format={}",
        community.0,
        f.extension()
    )
}

pub fn statement_url(volunteer: VolunteerId, position: u64, f: Format) -> String {
    format!(
        "/documents/statement?volunteerId={}&at={position}&format={}",
        volunteer.0,
        f.extension()
    )
}

pub fn certificate_url(number: &str) -> String {
    format!("/documents/certificates/{number}")
}
