//! Documents in GraphQL: `annualReport`, the public `certificate` check, a volunteer's
//! `certificates` and `statementExport`, and the `issueCertificate` mutation. Figures
//! come from the `reports` crate (a fold of the log pinned to a position); the files
//! are downloaded from the links each answer carries (see [`crate::documents`]).
//!
//! - here: a [`Download`] (a link to a file, pinned to a position) and its formats;
//! - [`annual`]: the annual commendation report (年度表彰) and its parts;
//! - [`certificate`]: certificates (志愿服务记录证明), as issued and as checked;
//! - [`query`]: the document queries; [`mutation`]: `issueCertificate`.

pub mod annual;
pub mod certificate;
pub mod mutation;
pub mod query;

pub use annual::{
    AnnualReport, ReportKindTotal, ReportMonth, ReportRedFlag, ReportStairwell, ReportTotals,
    ReportUnit, ReportVolunteer,
};
pub use certificate::{
    CertificateCorrection, CertificateDocument, CertificateIssuer, CertificateRecord,
    CertificateService, CertificateVerification,
};
pub use mutation::DocumentMutation;
pub use query::DocumentQuery;

use async_graphql::{Enum, SimpleObject};
use reports::Format;

/// A file to download (with the caller's bearer token), pinned to a log position.
#[derive(SimpleObject, Clone)]
pub struct Download {
    /// Path on this server, e.g. `/documents/annual-report?…&at=123&format=xlsx`.
    pub url: String,
    pub format: DocumentFormat,
    pub content_type: String,
    /// The log position the file is computed at (the same figures every time).
    pub position: u64,
}

/// Formats of a document.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DocumentFormat {
    Xlsx,
    Csv,
    Html,
}

impl From<DocumentFormat> for Format {
    fn from(f: DocumentFormat) -> Format {
        match f {
            DocumentFormat::Xlsx => Format::Xlsx,
            DocumentFormat::Csv => Format::Csv,
            DocumentFormat::Html => Format::Html,
        }
    }
}

pub(super) fn download(url: String, f: DocumentFormat, position: u64) -> Download {
    Download {
        url,
        format: f,
        content_type: Format::from(f).content_type().to_string(),
        position,
    }
}
