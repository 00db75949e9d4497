//! Certificates (志愿服务记录证明) as GraphQL objects: what one states, who issued it,
//! the document as issued (with its printable page), and the public check (the records
//! as they stand now, and their corrections).

use super::{download, DocumentFormat, Download};
use crate::documents::certificate_url;
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::id;
use crate::schema::types::ServiceKind;
use async_graphql::{InputObject, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use reports::certificate::{Correction, ServiceSummary};
use reports::{Certificate, CertificateCheck, CertificateFacts};

/// Service of one kind on a certificate.
#[derive(SimpleObject)]
pub struct CertificateService {
    pub kind: ServiceKind,
    pub label: String,
    pub services: i64,
    pub hours: HoursScalar,
}

impl From<&ServiceSummary> for CertificateService {
    fn from(s: &ServiceSummary) -> Self {
        CertificateService {
            kind: s.kind.into(),
            label: s.label.clone(),
            services: s.services,
            hours: HoursScalar(s.hours),
        }
    }
}

/// What a certificate states (no personal data).
#[derive(SimpleObject)]
pub struct CertificateRecord {
    pub volunteer_id: ID,
    pub volunteer_number: String,
    pub community_id: ID,
    pub community_name: String,
    /// Net verified service hours.
    pub total_hours: HoursScalar,
    pub services: i64,
    /// Content of service (服务内容), by kind.
    pub by_kind: Vec<CertificateService>,
    /// "巡逻 12 次 30 小时；维修 2 次 3.5 小时".
    pub content: String,
    pub first_service: Option<NaiveDate>,
    pub last_service: Option<NaiveDate>,
    pub star_level: u8,
    pub star_rule_version: u32,
    /// Hours of training attended (培训), apart from service hours.
    pub training_hours: HoursScalar,
    /// Commendations (表彰) at the certificate's position: "title（date）".
    pub commendations: Vec<String>,
    /// The mean 满意度 of the volunteer's evaluated services, null without any.
    pub satisfaction: Option<crate::scalars::DecimalScalar>,
    pub evaluations: u32,
}

impl From<&CertificateFacts> for CertificateRecord {
    fn from(f: &CertificateFacts) -> Self {
        CertificateRecord {
            volunteer_id: id(f.volunteer_id.0),
            volunteer_number: f.volunteer_number.clone(),
            community_id: id(f.community_id.0),
            community_name: f.community_name.clone(),
            total_hours: HoursScalar(f.total_hours),
            services: f.services,
            by_kind: f.by_kind.iter().map(Into::into).collect(),
            content: f.content_text(),
            first_service: f.first_service,
            last_service: f.last_service,
            star_level: f.star_level,
            star_rule_version: f.star_rule_version,
            training_hours: HoursScalar(f.training_hours),
            commendations: f.commendations.clone(),
            satisfaction: f
                .satisfaction
                .map(|s| crate::scalars::DecimalScalar(s.mean)),
            evaluations: f.satisfaction.map_or(0, |s| s.evaluations),
        }
    }
}

/// Who issued a certificate.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "CertificateIssuerInput")]
pub struct CertificateIssuer {
    /// 出具单位 (required).
    pub organisation: String,
    /// 负责人.
    #[graphql(default)]
    pub person_in_charge: String,
    /// 经办人.
    #[graphql(default)]
    pub handler: String,
    /// 联系方式.
    #[graphql(default)]
    pub contact: String,
}

impl From<&reports::IssuingOrganisation> for CertificateIssuer {
    fn from(i: &reports::IssuingOrganisation) -> Self {
        CertificateIssuer {
            organisation: i.organisation.clone(),
            person_in_charge: i.person_in_charge.clone(),
            handler: i.handler.clone(),
            contact: i.contact.clone(),
        }
    }
}

/// A numbered 志愿服务记录证明 as issued.
#[derive(SimpleObject)]
pub struct CertificateDocument {
    /// `TB-2026-000001`.
    pub number: String,
    /// The log position its facts were computed at.
    pub position: u64,
    pub issued_at: DateTime<Utc>,
    pub issuer: CertificateIssuer,
    pub holder_name: String,
    /// The ID number masked (110***********1234).
    pub id_number_masked: Option<String>,
    pub record: CertificateRecord,
    /// The printable page (A4).
    pub page: Download,
    /// The check code printed on it (`K7QM-3XWD`): the public check asks for it with
    /// the number.
    pub check_code: String,
}

impl From<&Certificate> for CertificateDocument {
    fn from(c: &Certificate) -> Self {
        CertificateDocument {
            number: c.number.clone(),
            position: c.position,
            issued_at: c.issued_at,
            issuer: (&c.issuer).into(),
            holder_name: c.holder_name.clone(),
            id_number_masked: c.id_number_masked.clone(),
            record: (&c.facts).into(),
            page: download(certificate_url(&c.number), DocumentFormat::Html, c.position),
            check_code: reports::certificate::display_check_code(&c.check_code),
        }
    }
}

/// A later correction of a record a certificate covered.
#[derive(SimpleObject)]
pub struct CertificateCorrection {
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    pub entry_id: ID,
    pub reverses: ID,
    pub hours: HoursScalar,
    pub points: PointsScalar,
    pub reason: String,
}

impl From<&Correction> for CertificateCorrection {
    fn from(c: &Correction) -> Self {
        CertificateCorrection {
            position: c.position,
            recorded_at: c.recorded_at,
            entry_id: id(c.entry_id.0),
            reverses: id(c.reverses.0),
            hours: HoursScalar(c.hours),
            points: PointsScalar(c.points),
            reason: c.reason.clone(),
        }
    }
}

/// The public check of a certificate number: the facts as issued, the same records as
/// they stand now, and whether later corrections changed what it states.
#[derive(SimpleObject)]
pub struct CertificateVerification {
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub position: u64,
    pub issuer: CertificateIssuer,
    /// The holder's name, masked (张*).
    pub holder_name_masked: String,
    /// What the certificate states, as issued.
    pub issued: CertificateRecord,
    /// The records it covered as they stand at `currentPosition` (reversals since
    /// applied; service after issue not counted).
    pub current: CertificateRecord,
    pub current_position: u64,
    pub changed_since_issue: bool,
    #[graphql(complexity = "crate::schema::rows_cost(crate::schema::LIST_ROWS, child_complexity)")]
    pub corrections: Vec<CertificateCorrection>,
}

impl From<&CertificateCheck> for CertificateVerification {
    fn from(c: &CertificateCheck) -> Self {
        CertificateVerification {
            number: c.number.clone(),
            issued_at: c.issued_at,
            position: c.position,
            issuer: (&c.issuer).into(),
            holder_name_masked: c.holder_name_masked.clone(),
            issued: (&c.issued).into(),
            current: (&c.current).into(),
            current_position: c.current_position,
            changed_since_issue: c.changed_since_issue,
            corrections: c.corrections.iter().map(Into::into).collect(),
        }
    }
}
