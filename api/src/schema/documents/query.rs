//! The document queries: the annual report, the public certificate check, a volunteer's
//! certificates and the link to their statement as a file.

use super::annual::AnnualReport;
use super::certificate::{CertificateDocument, CertificateVerification};
use super::{download, DocumentFormat, Download};
use crate::documents::{report_error, statement_url};
use crate::errors::{gql_error, ApiError};
use crate::schema::args::{acting_volunteer, community_of, forbidden, parse_id};
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, ID};
use ledger::ids::CommunityId;

type Res<T> = async_graphql::Result<T>;

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
        if !p.oversees(community) {
            return Err(forbidden(
                "annual reports are for admin, the community's staff and its street office",
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
        let vid = acting_volunteer(ctx, volunteer_id.as_ref())?;
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

    /// The certificates a community issued in a year of issue, newest first (staff of
    /// the community, admins): to find one again and print it.
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    async fn community_certificates(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        year: i32,
    ) -> Res<Vec<CertificateDocument>> {
        let p = principal(ctx)?;
        let c = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.oversees(c) {
            return Err(forbidden(
                "a community's certificates are for its staff and admins",
            ));
        }
        let list = reports::community_certificates(&app(ctx).store, c, year)
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
        let vid = acting_volunteer(ctx, volunteer_id.as_ref())?;
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
