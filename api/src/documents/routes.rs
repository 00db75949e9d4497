//! The download routes (`GET /documents/...`, bearer token): an annual report as XLSX,
//! CSV or HTML, a certificate's printable HTML page, a statement as CSV or XLSX. Each
//! a street's annual summary as XLSX or CSV; each checks who may read the document, names its log position in `X-Timebank-Position`,
//! and answers an error as a small JSON body with its stable code.

use super::report_error;
use crate::errors::ApiError;
use crate::state::{authenticate_download as authenticate, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ledger::ids::{CommunityId, StreetId, VolunteerId};
use reports::{Format, ReportError};
use serde::Deserialize;
use uuid::Uuid;

/// `年度表彰-<community>-2026-P123.xlsx` as an ASCII fallback and a UTF-8 name.
pub(super) fn attachment(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn file_response(bytes: Vec<u8>, f: Format, name: &str, position: u64) -> Response {
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(f.content_type()),
    );
    if f != Format::Html {
        h.insert(header::CONTENT_DISPOSITION, attachment(name));
    }
    h.insert(
        "x-timebank-position",
        HeaderValue::from_str(&position.to_string()).unwrap_or(HeaderValue::from_static("0")),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    resp
}

/// An error as a small JSON body with its stable code.
pub(super) fn error_response(e: ApiError) -> Response {
    let status = match &e {
        ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::InvalidInput(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = serde_json::json!({
        "errors": [{ "message": e.public_message(), "extensions": { "code": e.code() } }]
    });
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

/// Counts the request and answers the file, or the error with its code.
async fn respond(
    state: &AppState,
    work: impl std::future::Future<Output = Result<Response, ApiError>>,
) -> Response {
    state.app.metrics.request("documents");
    work.await.unwrap_or_else(|e| {
        state.app.metrics.http_error("documents");
        error_response(e)
    })
}

pub(super) fn parse_uuid(s: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s.trim()).map_err(|_| ApiError::invalid(format!("{what}: not an id")))
}

pub(super) fn parse_format(s: Option<&str>, default: Format) -> Result<Format, ApiError> {
    match s {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|e: ReportError| ApiError::invalid(e.to_string())),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnnualParams {
    community_id: String,
    year: i32,
    at: Option<u64>,
    format: Option<String>,
}

/// `GET /documents/annual-report?communityId=…&year=…[&at=P][&format=xlsx|csv|html]`.
pub async fn annual_report_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AnnualParams>,
) -> Response {
    respond(&state, async {
        let p = authenticate(&state, &headers).await?;
        let community = CommunityId(parse_uuid(&q.community_id, "communityId")?);
        if !p.oversees(community) {
            return Err(ApiError::forbidden(
                "annual reports are for admin, the community's staff and its street office",
            ));
        }
        let f = parse_format(q.format.as_deref(), Format::Xlsx)?;
        let report = state
            .app
            .reports
            .annual(&state.app.store, community, q.year, q.at)
            .await?;
        let name = format!(
            "年度表彰-{}-{}-P{}.{}",
            report.community_name,
            report.year,
            report.position,
            f.extension()
        );
        let position = report.position;
        let bytes = tokio::task::spawn_blocking(move || reports::render(&report, f))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(report_error)?;
        Ok(file_response(bytes, f, &name, position))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreetAnnualParams {
    street_id: String,
    year: i32,
    at: Option<u64>,
    format: Option<String>,
}

/// `GET /documents/street-annual-report?streetId=…&year=…[&at=P][&format=xlsx|csv]`: a
/// street's year (街道年度汇总): a summary with a line per community, then each
/// community's overview, all at one log position; the communities are those the
/// street had on the year's last day (today for this year). Administrators, and the
/// street's own office.
pub async fn street_annual_report_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreetAnnualParams>,
) -> Response {
    respond(&state, async {
        let p = authenticate(&state, &headers).await?;
        let street = StreetId(parse_uuid(&q.street_id, "streetId")?);
        if !(p.role() == ledger::command::Role::Admin || p.street() == Some(street)) {
            return Err(ApiError::forbidden(
                "a street's report is for administrators and the street's office",
            ));
        }
        let f = parse_format(q.format.as_deref(), Format::Xlsx)?;
        if f == Format::Html {
            return Err(ApiError::invalid(
                "a street's report is exported as xlsx or csv",
            ));
        }
        let org = projections::org::org(state.app.reads.db().await?).await?;
        let name = org
            .unit(street.0)
            .filter(|u| u.kind == projections::org::UnitKind::Street)
            .map(|u| u.name.clone())
            .ok_or_else(|| ApiError::NotFound(format!("street {street}")))?;
        let day = projections::org::Org::day_of(
            projections::common::Period::Year(q.year),
            projections::balances::today(),
        );
        let communities: Vec<CommunityId> = org
            .communities_of_street(street, day)
            .iter()
            .map(|u| CommunityId(u.id))
            .collect();
        let report = reports::street_report(&state.app.store, &name, &communities, q.year, q.at)
            .await
            .map_err(report_error)?;
        let file = format!(
            "街道年度汇总-{name}-{}-P{}.{}",
            q.year,
            report.position,
            f.extension()
        );
        let position = report.position;
        let bytes = tokio::task::spawn_blocking(move || {
            let sections = reports::street_sections(&report);
            match f {
                Format::Xlsx => reports::render_xlsx::sections_to_xlsx(&sections),
                _ => Ok(reports::render_csv::sections_to_csv(&sections)),
            }
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(report_error)?;
        Ok(file_response(bytes, f, &file, position))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementParams {
    volunteer_id: Option<String>,
    at: Option<u64>,
    format: Option<String>,
}

/// `GET /documents/statement?volunteerId=…[&at=P][&format=csv|xlsx]`: a volunteer's
/// full statement (their own, or any of the community for its staff).
pub async fn statement_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StatementParams>,
) -> Response {
    respond(&state, async {
        let p = authenticate(&state, &headers).await?;
        let vid = match &q.volunteer_id {
            Some(v) => VolunteerId(parse_uuid(v, "volunteerId")?),
            None => p
                .actor
                .volunteer_id
                .ok_or_else(|| ApiError::invalid("volunteerId is required"))?,
        };
        let f = parse_format(q.format.as_deref(), Format::Csv)?;
        if f == Format::Html {
            return Err(ApiError::invalid("a statement is exported as csv or xlsx"));
        }
        let community = crate::auth::volunteer_community(&state.app.store, vid.0).await?;
        if !p.reads_account_of(vid, community) {
            return Err(ApiError::forbidden(
                "a statement is for its volunteer and the community's staff",
            ));
        }
        let s = reports::statement(&state.app.store, vid, q.at)
            .await
            .map_err(report_error)?;
        let position = s.position;
        let name = format!(
            "积分明细-{}-P{position}.{}",
            s.volunteer_number,
            f.extension()
        );
        let bytes = tokio::task::spawn_blocking(move || match f {
            Format::Xlsx => reports::statement_xlsx(&s),
            _ => Ok(reports::statement_csv(&s)),
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(report_error)?;
        Ok(file_response(bytes, f, &name, position))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopSheetParams {
    community_id: String,
    month: String,
    at: Option<u64>,
    format: Option<String>,
}

/// `GET /documents/shop-sheet?communityId=…&month=YYYY-MM[&at=P][&format=xlsx|csv]`: the
/// points shop's monthly stock and redemption sheet (the community's staff, admin).
pub async fn shop_sheet_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ShopSheetParams>,
) -> Response {
    respond(&state, async {
        let p = authenticate(&state, &headers).await?;
        let c = CommunityId(parse_uuid(&q.community_id, "communityId")?);
        if !p.manages(c) {
            return Err(ApiError::forbidden(
                "the shop's sheet is for the community's staff",
            ));
        }
        let f = parse_format(q.format.as_deref(), Format::Xlsx)?;
        if f == Format::Html {
            return Err(ApiError::invalid("the shop's sheet is xlsx or csv"));
        }
        let (y, m) = q
            .month
            .split_once('-')
            .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
            .ok_or_else(|| ApiError::invalid("month: expected YYYY-MM"))?;
        let sheet = reports::shop_sheet(&state.app.store, c, y, m, q.at)
            .await
            .map_err(report_error)?;
        let position = sheet.position;
        let name = format!("积分超市-{y:04}-{m:02}-P{position}.{}", f.extension());
        let bytes = tokio::task::spawn_blocking(move || {
            let sections = reports::shop_sections(&sheet);
            match f {
                Format::Xlsx => reports::render_xlsx::sections_to_xlsx(&sections),
                _ => Ok(reports::render_csv::sections_to_csv(&sections)),
            }
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(report_error)?;
        Ok(file_response(bytes, f, &name, position))
    })
    .await
}

/// `GET /documents/certificates/{number}`: the certificate's printable page, for its
/// volunteer, the community's staff and admin (the public check is the GraphQL
/// `certificate` query, with the name masked).
pub async fn certificate_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Response {
    respond(&state, async {
        let p = authenticate(&state, &headers).await?;
        let cert = reports::get_certificate(&state.app.store, &number)
            .await
            .map_err(report_error)?
            .ok_or_else(|| ApiError::NotFound(format!("certificate {number}")))?;
        if !p.reads_account_of(cert.volunteer_id, Some(cert.community_id)) {
            return Err(ApiError::forbidden(
                "a certificate is for its volunteer and the community's staff",
            ));
        }
        let html = reports::certificate_html(&cert);
        let name = format!("{}.html", cert.number);
        Ok(file_response(
            html.into_bytes(),
            Format::Html,
            &name,
            cert.position,
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_carry_utf8_and_an_ascii_fallback() {
        let v = attachment("年度表彰-幸福里-2026-P12.xlsx");
        let s = v.to_str().expect("ascii header");
        assert!(s.starts_with("attachment; filename=\""));
        assert!(s.contains("-2026-P12.xlsx\""));
        assert!(s.contains("filename*=UTF-8''%E5%B9%B4"), "{s}");
    }
}
