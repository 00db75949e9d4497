//! Documents in GraphQL: `annualReport`, the public `certificate` check, a volunteer's
//! `certificates` and `statementExport`, and the `issueCertificate` mutation. Figures
//! come from the `reports` crate (a fold of the log pinned to a position); the files
//! are downloaded from the links each answer carries (see [`crate::documents`]).

use super::args::{community_of, forbidden, id, parse_id};
use super::{app, principal};
use crate::documents::{annual_report_url, certificate_url, report_error, statement_url};
use crate::errors::{gql_error, ApiError};
use crate::scalars::{DecimalScalar, HoursScalar, PointsScalar};
use async_graphql::{Context, Enum, ErrorExtensions, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::ids::{CommunityId, VolunteerId};
use reports::annual::{GridTotal, KindTotal, MonthTotal, TeamTotal, Totals, VolunteerLine};
use reports::certificate::{Correction, ServiceSummary};
use reports::stairwell::{RedFlagMonth, StairwellStanding};
use reports::{Certificate, CertificateCheck, CertificateFacts, Format};
use std::time::Instant;

type Res<T> = async_graphql::Result<T>;

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

fn download(url: String, f: DocumentFormat, position: u64) -> Download {
    Download {
        url,
        format: f,
        content_type: Format::from(f).content_type().to_string(),
        position,
    }
}

/// 总体情况 of a year.
#[derive(SimpleObject)]
pub struct ReportTotals {
    pub registered_volunteers: u64,
    pub active_volunteers: u64,
    pub services: i64,
    pub verified_hours: HoursScalar,
    /// Points of verified services.
    pub service_points: PointsScalar,
    /// Points of 积分奖励 awards.
    pub award_points: PointsScalar,
    pub points_awarded: PointsScalar,
    pub points_redeemed: PointsScalar,
    pub wishes_posted: u64,
    pub wishes_fulfilled: u64,
    pub median_days_to_fulfil: Option<DecimalScalar>,
}

impl From<&Totals> for ReportTotals {
    fn from(t: &Totals) -> Self {
        ReportTotals {
            registered_volunteers: t.registered_volunteers,
            active_volunteers: t.active_volunteers,
            services: t.services,
            verified_hours: HoursScalar(t.verified_hours),
            service_points: PointsScalar(t.service_points),
            award_points: PointsScalar(t.award_points),
            points_awarded: PointsScalar(t.points_awarded),
            points_redeemed: PointsScalar(t.points_redeemed),
            wishes_posted: t.wishes_posted,
            wishes_fulfilled: t.wishes_fulfilled,
            median_days_to_fulfil: t.median_days_to_fulfil.map(DecimalScalar),
        }
    }
}

/// Services of one kind in the year.
#[derive(SimpleObject)]
pub struct ReportKindTotal {
    pub kind: super::types::ServiceKind,
    /// 巡逻, 维修, …
    pub label: String,
    pub services: i64,
    pub hours: HoursScalar,
    pub points: PointsScalar,
}

impl From<&KindTotal> for ReportKindTotal {
    fn from(k: &KindTotal) -> Self {
        ReportKindTotal {
            kind: k.kind.into(),
            label: k.label.clone(),
            services: k.services,
            hours: HoursScalar(k.hours),
            points: PointsScalar(k.points),
        }
    }
}

/// A volunteer in a list of the report.
#[derive(SimpleObject)]
pub struct ReportVolunteer {
    /// Dense rank in the list (ties share a rank).
    pub rank: u32,
    pub volunteer_id: ID,
    pub volunteer_number: String,
    pub name: String,
    pub tags: Vec<String>,
    pub services: i64,
    pub hours: HoursScalar,
    pub points: PointsScalar,
    /// Net verified hours up to the end of the year.
    pub cumulative_hours: HoursScalar,
    pub star_level: u8,
    pub star_level_at_start: u8,
    /// Star levels newly reached in the year.
    pub new_stars: Vec<u8>,
}

impl From<&VolunteerLine> for ReportVolunteer {
    fn from(l: &VolunteerLine) -> Self {
        ReportVolunteer {
            rank: l.rank,
            volunteer_id: id(l.volunteer_id.0),
            volunteer_number: l.volunteer_number.clone(),
            name: l.name.clone(),
            tags: l.tags.clone(),
            services: l.services,
            hours: HoursScalar(l.hours),
            points: PointsScalar(l.points),
            cumulative_hours: HoursScalar(l.cumulative_hours),
            star_level: l.star_level,
            star_level_at_start: l.star_level_at_start,
            new_stars: l.new_stars.clone(),
        }
    }
}

/// What a team (志愿服务队) or a grid (网格) did in the year.
#[derive(SimpleObject)]
pub struct ReportUnit {
    pub id: ID,
    pub name: String,
    /// The grid a micro-grid belongs to (grids only).
    pub parent_name: Option<String>,
    /// Stairwells of the grid (grids only).
    pub stairwells: Option<u64>,
    pub active_volunteers: u64,
    pub services: i64,
    pub hours: HoursScalar,
    pub points: PointsScalar,
}

impl From<&TeamTotal> for ReportUnit {
    fn from(t: &TeamTotal) -> Self {
        ReportUnit {
            id: id(t.team_id.0),
            name: t.name.clone(),
            parent_name: None,
            stairwells: None,
            active_volunteers: t.totals.active_volunteers,
            services: t.totals.services,
            hours: HoursScalar(t.totals.hours),
            points: PointsScalar(t.totals.points),
        }
    }
}

impl From<&GridTotal> for ReportUnit {
    fn from(g: &GridTotal) -> Self {
        ReportUnit {
            id: id(g.grid_id.0),
            name: g.name.clone(),
            parent_name: g.parent_name.clone(),
            stairwells: Some(g.stairwells),
            active_volunteers: g.totals.active_volunteers,
            services: g.totals.services,
            hours: HoursScalar(g.totals.hours),
            points: PointsScalar(g.totals.points),
        }
    }
}

/// A stairwell's 文明楼道 year.
#[derive(SimpleObject)]
pub struct ReportStairwell {
    /// Dense rank by yearly average; null when no month was scored.
    pub rank: Option<u32>,
    pub stairwell_id: ID,
    pub grid_name: String,
    pub building: String,
    pub unit: String,
    pub households: u32,
    /// Scores of months 1–12 (null when the month was not inspected).
    pub monthly_scores: Vec<Option<DecimalScalar>>,
    pub average: Option<DecimalScalar>,
    /// Months (1–12) holding the 流动红旗.
    pub red_flag_months: Vec<u32>,
}

impl From<&StairwellStanding> for ReportStairwell {
    fn from(s: &StairwellStanding) -> Self {
        ReportStairwell {
            rank: s.rank,
            stairwell_id: id(s.stairwell_id.0),
            grid_name: s.grid_name.clone(),
            building: s.building.clone(),
            unit: s.unit.clone(),
            households: s.households,
            monthly_scores: s
                .months
                .iter()
                .map(|m| m.score.map(DecimalScalar))
                .collect(),
            average: s.average.map(DecimalScalar),
            red_flag_months: s.red_flag_months.clone(),
        }
    }
}

/// The 流动红旗 holder of a month: one flag, one stairwell (a tie of top scores is
/// broken by building, unit and id, as on the boards).
#[derive(SimpleObject)]
pub struct ReportRedFlag {
    pub month: u32,
    pub score: DecimalScalar,
    pub stairwell_id: ID,
    /// "3号楼 2单元" of the holder.
    pub label: String,
    /// The holder, alone.
    #[graphql(deprecation = "one stairwell holds the flag: use stairwellId")]
    pub stairwell_ids: Vec<ID>,
    /// The holder's label, alone.
    #[graphql(deprecation = "one stairwell holds the flag: use label")]
    pub labels: Vec<String>,
}

impl From<&RedFlagMonth> for ReportRedFlag {
    fn from(r: &RedFlagMonth) -> Self {
        ReportRedFlag {
            month: r.month,
            score: DecimalScalar(r.score),
            stairwell_id: id(r.stairwell_id.0),
            label: r.label.clone(),
            stairwell_ids: vec![id(r.stairwell_id.0)],
            labels: vec![r.label.clone()],
        }
    }
}

/// One month of the year.
#[derive(SimpleObject)]
pub struct ReportMonth {
    pub month: u32,
    pub active_volunteers: u64,
    pub services: i64,
    pub hours: HoursScalar,
    pub service_points: PointsScalar,
    pub award_points: PointsScalar,
    pub points_awarded: PointsScalar,
    pub points_redeemed: PointsScalar,
}

impl From<&MonthTotal> for ReportMonth {
    fn from(m: &MonthTotal) -> Self {
        ReportMonth {
            month: m.month,
            active_volunteers: m.active_volunteers,
            services: m.services,
            hours: HoursScalar(m.hours),
            service_points: PointsScalar(m.service_points),
            award_points: PointsScalar(m.award_points),
            points_awarded: PointsScalar(m.points_awarded),
            points_redeemed: PointsScalar(m.points_redeemed),
        }
    }
}

/// The annual commendation report (年度表彰) of a community, pinned to `position`.
#[derive(SimpleObject)]
pub struct AnnualReport {
    pub community_id: ID,
    pub community_name: String,
    pub year: i32,
    /// The log position the report was computed at: ask again with `at: position` (or
    /// download the files below) for exactly these figures.
    pub position: u64,
    /// When the event at `position` was recorded.
    pub as_of: Option<DateTime<Utc>>,
    /// Star thresholds in force at `position` (hours for 1 to 5 stars).
    pub star_thresholds: Vec<HoursScalar>,
    pub star_rule_version: u32,
    pub totals: ReportTotals,
    #[graphql(complexity = "crate::schema::rows_cost(6, child_complexity)")]
    pub services_by_kind: Vec<ReportKindTotal>,
    #[graphql(complexity = "crate::schema::rows_cost(reports::TOP_N, child_complexity)")]
    pub top_by_hours: Vec<ReportVolunteer>,
    #[graphql(complexity = "crate::schema::rows_cost(reports::TOP_N, child_complexity)")]
    pub top_by_points: Vec<ReportVolunteer>,
    /// Volunteers who reached a new star level in the year.
    #[graphql(complexity = "crate::schema::rows_cost(crate::schema::LIST_ROWS, child_complexity)")]
    pub new_stars: Vec<ReportVolunteer>,
    #[graphql(complexity = "crate::schema::rows_cost(crate::schema::LIST_ROWS, child_complexity)")]
    pub teams: Vec<ReportUnit>,
    #[graphql(complexity = "crate::schema::rows_cost(crate::schema::LIST_ROWS, child_complexity)")]
    pub grids: Vec<ReportUnit>,
    #[graphql(complexity = "crate::schema::rows_cost(crate::schema::LIST_ROWS, child_complexity)")]
    pub stairwells: Vec<ReportStairwell>,
    #[graphql(complexity = "crate::schema::rows_cost(12, child_complexity)")]
    pub red_flags: Vec<ReportRedFlag>,
    #[graphql(complexity = "crate::schema::rows_cost(12, child_complexity)")]
    pub months: Vec<ReportMonth>,
    /// The report as XLSX, CSV (UTF-8 with BOM) and printable HTML.
    pub downloads: Vec<Download>,
}

impl From<&reports::AnnualReport> for AnnualReport {
    fn from(r: &reports::AnnualReport) -> Self {
        let downloads = [
            DocumentFormat::Xlsx,
            DocumentFormat::Csv,
            DocumentFormat::Html,
        ]
        .into_iter()
        .map(|f| {
            download(
                annual_report_url(r.community_id, r.year, r.position, f.into()),
                f,
                r.position,
            )
        })
        .collect();
        AnnualReport {
            community_id: id(r.community_id.0),
            community_name: r.community_name.clone(),
            year: r.year,
            position: r.position,
            as_of: r.as_of,
            star_thresholds: r
                .star_rule
                .thresholds
                .iter()
                .copied()
                .map(HoursScalar)
                .collect(),
            star_rule_version: r.star_rule.version,
            totals: (&r.totals).into(),
            services_by_kind: r.services_by_kind.iter().map(Into::into).collect(),
            top_by_hours: r.top_by_hours.iter().map(Into::into).collect(),
            top_by_points: r.top_by_points.iter().map(Into::into).collect(),
            new_stars: r.new_stars.iter().map(Into::into).collect(),
            teams: r.teams.iter().map(Into::into).collect(),
            grids: r.grids.iter().map(Into::into).collect(),
            stairwells: r.stairwells.iter().map(Into::into).collect(),
            red_flags: r.red_flags.iter().map(Into::into).collect(),
            months: r.months.iter().map(Into::into).collect(),
            downloads,
        }
    }
}

/// Service of one kind on a certificate.
#[derive(SimpleObject)]
pub struct CertificateService {
    pub kind: super::types::ServiceKind,
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

fn volunteer_arg(ctx: &Context<'_>, v: Option<ID>) -> Res<VolunteerId> {
    match v {
        Some(v) => Ok(VolunteerId(parse_id(&v, "volunteerId")?)),
        None => principal(ctx)?
            .actor
            .volunteer_id
            .ok_or_else(|| gql_error("INVALID_INPUT", "volunteerId is required")),
    }
}

#[derive(Default)]
pub struct DocumentQuery;

#[Object]
impl DocumentQuery {
    /// The annual commendation report (年度表彰) of a community for a year (admin and
    /// the community's staff), at log position `at` or the head. Computed from the log
    /// (exactly reproducible at its `position`), with links to XLSX, CSV and HTML.
    #[graphql(complexity = "crate::schema::REPORT_COST + child_complexity")]
    async fn annual_report(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        year: i32,
        at: Option<u64>,
    ) -> Res<AnnualReport> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.manages(community) {
            return Err(forbidden(
                "annual reports are for admin and the community's staff",
            ));
        }
        let app = app(ctx);
        let report = app
            .reports
            .annual(&app.store, community, year, at)
            .await
            .map_err(|e| e.extend())?;
        Ok(AnnualReport::from(report.as_ref()))
    }

    /// The public check of a certificate (志愿服务记录证明) by its number and the check
    /// code printed on it: anyone may ask, without a token. Null when no certificate has
    /// that number and code (the sequential numbers alone tell nothing).
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn certificate(
        &self,
        ctx: &Context<'_>,
        number: String,
        check_code: String,
    ) -> Res<Option<CertificateVerification>> {
        let number = number.trim();
        if number.is_empty() || number.len() > 40 {
            return Err(gql_error("INVALID_INPUT", "not a certificate number"));
        }
        if check_code.trim().is_empty() || check_code.len() > 40 {
            return Err(gql_error(
                "INVALID_INPUT",
                "checkCode: the check code printed on the certificate is required",
            ));
        }
        let check = reports::verify_certificate(&app(ctx).store, number, &check_code)
            .await
            .map_err(|e| report_error(e).extend())?;
        Ok(check.as_ref().map(Into::into))
    }

    /// Certificates issued to a volunteer (their own, or any of the community for its
    /// staff), oldest first.
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    async fn certificates(
        &self,
        ctx: &Context<'_>,
        volunteer_id: Option<ID>,
    ) -> Res<Vec<CertificateDocument>> {
        let p = principal(ctx)?;
        let vid = volunteer_arg(ctx, volunteer_id)?;
        let community = community_of(ctx, vid).await?;
        if !p.reads_account_of(vid, Some(community)) {
            return Err(forbidden(
                "certificates are for their volunteer and the community's staff",
            ));
        }
        let list = reports::list_certificates(&app(ctx).store, vid)
            .await
            .map_err(|e| report_error(e).extend())?;
        Ok(list.iter().map(Into::into).collect())
    }

    /// A volunteer's full statement as a file (their right to a copy of their records):
    /// CSV (UTF-8 with BOM) or XLSX, pinned to the head.
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn statement_export(
        &self,
        ctx: &Context<'_>,
        volunteer_id: Option<ID>,
        #[graphql(default_with = "DocumentFormat::Csv")] format: DocumentFormat,
    ) -> Res<Download> {
        let p = principal(ctx)?;
        let vid = volunteer_arg(ctx, volunteer_id)?;
        if format == DocumentFormat::Html {
            return Err(gql_error(
                "INVALID_INPUT",
                "a statement is exported as CSV or XLSX",
            ));
        }
        let community = community_of(ctx, vid).await?;
        if !p.reads_account_of(vid, Some(community)) {
            return Err(forbidden(
                "a statement is for its volunteer and the community's staff",
            ));
        }
        let position = app(ctx)
            .store
            .head()
            .await
            .map_err(|e| ApiError::from(e).extend())?;
        Ok(download(
            statement_url(vid, position, format.into()),
            format,
            position,
        ))
    }
}

#[derive(Default)]
pub struct DocumentMutation;

#[Object]
impl DocumentMutation {
    /// Issues a numbered 志愿服务记录证明 for a volunteer (admin and the community's
    /// staff), pinned to the current log position. A retry with the same
    /// `idempotencyKey` returns the same certificate.
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn issue_certificate(
        &self,
        ctx: &Context<'_>,
        idempotency_key: String,
        volunteer_id: ID,
        issuer: CertificateIssuer,
    ) -> Res<CertificateDocument> {
        let p = principal(ctx)?;
        let key = idempotency_key.trim();
        if key.is_empty() || key.len() > 200 {
            return Err(gql_error(
                "INVALID_INPUT",
                "idempotencyKey must be 1 to 200 characters",
            ));
        }
        let vid = VolunteerId(parse_id(&volunteer_id, "volunteerId")?);
        let community = community_of(ctx, vid).await?;
        if !p.manages(community) {
            return Err(forbidden(
                "certificates are issued by admin and the community's staff",
            ));
        }
        let app = app(ctx);
        let issuer = reports::IssuingOrganisation {
            organisation: issuer.organisation,
            person_in_charge: issuer.person_in_charge,
            handler: issuer.handler,
            contact: issuer.contact,
        };
        // Keys are the caller's own: scoped by the token's principal.
        let scoped = format!("{}:{key}", p.actor.principal);
        let store = app.store.clone();
        let issued_by = p.actor.principal;
        let started = Instant::now();
        // On its own task: a client that goes away cannot cancel it half-way.
        let result = tokio::spawn(async move {
            reports::issue_certificate(&store, vid, issued_by, &issuer, Some(&scoped)).await
        })
        .await
        .map_err(|e| gql_error("INTERNAL", format!("certificate task failed: {e}")))?;
        app.metrics
            .command("IssueCertificate", result.is_ok(), started.elapsed());
        let cert = result.map_err(|e| report_error(e).extend())?;
        Ok((&cert).into())
    }
}
