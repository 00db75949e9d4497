//! Service-record certificates (志愿服务记录证明): numbered, registered and archived,
//! each pinned to the log position it was issued at.
//!
//! - [`issue_certificate`] computes the facts at the head `P` (total verified hours and
//!   the content of service, by kind), assigns the next number of the year of issue
//!   (`TB-2026-000001`, sequential per year, China Standard Time) and stores the
//!   certificate in the `certificates` registry (an archive: never updated or deleted).
//! - [`certificate_html`] prints it (A4) with the fields of a 志愿服务记录证明: name,
//!   volunteer number, ID number masked, total hours and content of service, issuing
//!   organisation, person in charge, handler, contact, number and date.
//! - Each certificate carries a random check code ([`new_check_code`], `K7QM-3XWD`),
//!   printed on it: [`verify_certificate`], the public check, answers only for a number
//!   and its code, so that the sequential numbers cannot be walked.
//! - [`check_certificate`] is the check itself: the facts as issued, and the same
//!   records as they stand now (`current`): the entries the certificate covered (those at
//!   or before `P`) with every reversal recorded since applied, and the star level under
//!   the thresholds used at issue. `changed_since_issue` says whether later corrections
//!   changed what the certificate states; new service after `P` does not.
//!
//! The registry holds no personal data: the name and the masked ID number are looked up
//! when a certificate is printed, so erasing a person leaves certificates that show the
//! erased-volunteer label.
//!
//! Files:
//! - `facts`: what a certificate states ([`CertificateFacts`]), computed from the
//!   volunteer's stream, and the corrections recorded since;
//! - `registry`: issuing, numbering and storing certificates, and reading them back;
//! - `check`: the check code and the check of a number;
//! - `html`: the printable page.

mod check;
mod facts;
mod html;
mod registry;

pub use check::{
    check_certificate, display_check_code, new_check_code, normalize_check_code, verify_certificate,
};
pub use facts::{CertificateFacts, Correction, Satisfaction, ServiceSummary};
pub use html::certificate_html;
pub use registry::{
    community_certificates, format_number, get_certificate, issue_certificate, list_certificates,
};

use chrono::{DateTime, Utc};
use ledger::ids::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who issues a certificate: 出具单位, 负责人, 经办人, 联系方式.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuingOrganisation {
    pub organisation: String,
    pub person_in_charge: String,
    pub handler: String,
    pub contact: String,
}

/// A registered certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// `TB-2026-000001`.
    pub number: String,
    pub volunteer_id: VolunteerId,
    pub community_id: CommunityId,
    /// The log position the facts were computed at.
    pub position: u64,
    pub facts: CertificateFacts,
    pub issuer: IssuingOrganisation,
    pub issued_at: DateTime<Utc>,
    /// The principal (staff) who issued it.
    pub issued_by: Uuid,
    /// Looked up when the certificate is read (not archived).
    pub holder_name: String,
    pub id_number_masked: Option<String>,
    /// The check code printed on it (`K7QM-3XWD`), required by the public check.
    #[serde(default)]
    pub check_code: String,
}

/// The public check of a certificate number (no unmasked personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateCheck {
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub position: u64,
    pub issuer: IssuingOrganisation,
    /// `张*`.
    pub holder_name_masked: String,
    /// The facts as issued.
    pub issued: CertificateFacts,
    /// The same records as they stand at `current_position`, after corrections.
    pub current: CertificateFacts,
    pub current_position: u64,
    pub changed_since_issue: bool,
    /// Reversals recorded after issue of entries the certificate covered.
    pub corrections: Vec<Correction>,
}
