//! The export routes (`GET /documents/export/...`, bearer token): a community's or a
//! street's event log for a period, its member list, and hours per volunteer for a
//! period, as CSV (default) or XLSX. Each is written to a temporary file row by row as
//! the log is scanned (`reports::export`) and sent from that file in chunks, never
//! whole in memory; the file is removed once sent.
//!
//! Scope: `communityId` (admin, the community's staff, its street office) or `streetId`
//! (admin, the street's office: its communities today). Personal data is whole for a
//! community's own staff and admin, masked for everyone else. Period: `from` and `to`
//! (days, both included; default: this year to today).

use super::routes::{attachment, error_response, parse_format, parse_uuid as uuid};
use crate::auth::Principal;
use crate::errors::ApiError;
use crate::state::{authenticate_download as authenticate, AppState};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use ledger::command::Role;
use ledger::ids::{CommunityId, StreetId};
use reports::export::{Days, Masking};
use reports::Format;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportParams {
    community_id: Option<String>,
    street_id: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    at: Option<u64>,
    format: Option<String>,
}

/// What an export covers: its communities (id, name, how the reader sees personal
/// data) and the name of the whole, for the file's name.
struct Scope {
    name: String,
    communities: Vec<(CommunityId, String, Masking)>,
}

async fn scope(state: &AppState, p: &Principal, q: &ExportParams) -> Result<Scope, ApiError> {
    let org = projections::org::org(state.app.reads.db().await?).await?;
    let masking = |c: CommunityId| {
        if p.manages(c) {
            Masking::Whole
        } else {
            Masking::Masked
        }
    };
    let name_of = |id: uuid::Uuid| org.unit(id).map(|u| u.name.clone()).unwrap_or_default();
    match (&q.community_id, &q.street_id) {
        (Some(c), None) => {
            let c = CommunityId(uuid(c, "communityId")?);
            if !p.oversees(c) {
                return Err(ApiError::forbidden(
                    "a community's exports are for admin, its staff and its street office",
                ));
            }
            let name = name_of(c.0);
            Ok(Scope {
                name: name.clone(),
                communities: vec![(c, name, masking(c))],
            })
        }
        (None, Some(s)) => {
            let street = StreetId(uuid(s, "streetId")?);
            if !(p.role() == Role::Admin || p.street() == Some(street)) {
                return Err(ApiError::forbidden(
                    "a street's exports are for administrators and the street's office",
                ));
            }
            let name = org
                .unit(street.0)
                .filter(|u| u.kind == projections::org::UnitKind::Street)
                .map(|u| u.name.clone())
                .ok_or_else(|| ApiError::NotFound(format!("street {street}")))?;
            let communities = org
                .communities_of_street(street, projections::balances::today())
                .iter()
                .map(|u| {
                    (
                        CommunityId(u.id),
                        u.name.clone(),
                        masking(CommunityId(u.id)),
                    )
                })
                .collect();
            Ok(Scope { name, communities })
        }
        _ => Err(ApiError::invalid(
            "give communityId or streetId (one of them)",
        )),
    }
}

fn days(q: &ExportParams) -> Result<Days, ApiError> {
    let today = projections::balances::today();
    let from = q
        .from
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    let to = q.to.unwrap_or(today);
    if from > to {
        return Err(ApiError::invalid("from is after to"));
    }
    Ok(Days { from, to })
}

fn format(q: &ExportParams) -> Result<Format, ApiError> {
    let f = parse_format(q.format.as_deref(), Format::Csv)?;
    if f == Format::Html {
        return Err(ApiError::invalid("exports are csv or xlsx"));
    }
    Ok(f)
}

/// Removes the file when the body that streams it is dropped (sent, or the client went
/// away).
struct Remove(PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

/// The file at `path` as the response body, in chunks.
async fn send(
    path: PathBuf,
    f: Format,
    name: &str,
    position: u64,
    rows: u32,
) -> Result<Response, ApiError> {
    use tokio::io::AsyncReadExt;
    let guard = Remove(path.clone());
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let length = file.metadata().await.map(|m| m.len()).ok();
    let chunks = futures::stream::unfold((file, guard), |(mut file, guard)| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), (file, guard)))
            }
            Err(e) => Some((Err(e), (file, guard))),
        }
    });
    let mut resp = (StatusCode::OK, Body::from_stream(chunks)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(f.content_type()),
    );
    h.insert(header::CONTENT_DISPOSITION, attachment(name));
    if let Some(len) = length {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    h.insert("x-timebank-position", HeaderValue::from(position));
    h.insert("x-timebank-rows", HeaderValue::from(rows));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

/// Which export.
#[derive(Clone, Copy)]
enum Kind {
    Log,
    Members,
    Hours,
}

async fn export(state: AppState, headers: HeaderMap, q: ExportParams, kind: Kind) -> Response {
    state.app.metrics.request("documents");
    let work = async {
        let p = authenticate(&state, &headers).await?;
        let scope = scope(&state, &p, &q).await?;
        let (f, days) = (format(&q)?, days(&q)?);
        let store = &state.app.store;
        let plain: Vec<(CommunityId, String)> = scope
            .communities
            .iter()
            .map(|(c, n, _)| (*c, n.clone()))
            .collect();
        let (title, done) = match kind {
            Kind::Log => (
                format!("事件日志-{}-{}至{}", scope.name, days.from, days.to),
                reports::export::event_log(store, &plain, days, q.at, f).await,
            ),
            Kind::Members => (
                format!("志愿者名单-{}", scope.name),
                reports::export::member_list(store, &scope.communities, q.at, f).await,
            ),
            Kind::Hours => (
                format!("服务时长汇总-{}-{}至{}", scope.name, days.from, days.to),
                reports::export::hours_sheet(store, &scope.communities, days, q.at, f).await,
            ),
        };
        let (path, position, rows) = done.map_err(super::report_error)?;
        let name = format!("{title}-P{position}.{}", f.extension());
        send(path, f, &name, position, rows).await
    };
    work.await.unwrap_or_else(|e| {
        state.app.metrics.http_error("documents");
        error_response(e)
    })
}

/// `GET /documents/export/event-log?communityId=…|streetId=…[&from&to&at&format]`.
pub async fn event_log_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExportParams>,
) -> Response {
    export(state, headers, q, Kind::Log).await
}

/// `GET /documents/export/members?communityId=…|streetId=…[&at&format]`.
pub async fn members_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExportParams>,
) -> Response {
    export(state, headers, q, Kind::Members).await
}

/// `GET /documents/export/hours?communityId=…|streetId=…[&from&to&at&format]`.
pub async fn hours_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExportParams>,
) -> Response {
    export(state, headers, q, Kind::Hours).await
}
