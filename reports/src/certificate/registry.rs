//! The registry: issuing a certificate (its number, sequential per year of issue, and
//! its idempotency key in the same transaction), storing it on either backend, and
//! reading it back with the holder's name looked up then.

use super::check::new_check_code;
use super::facts::{compute_facts, CertificateFacts};
use super::{Certificate, IssuingOrganisation};
use crate::error::ReportError;
use crate::fold;
use crate::labels::local_date;
use crate::people::{mask_id_number, ERASED_NAME};
use chrono::{DateTime, Datelike, Utc};
use ledger::ids::*;
use ledger::store::Store;
use sqlx::Row;
use uuid::Uuid;

/// Longest issuer field, in characters.
const MAX_FIELD: usize = 200;
fn check_issuer(issuer: &IssuingOrganisation) -> Result<IssuingOrganisation, ReportError> {
    let fields = [
        ("organisation", &issuer.organisation, true),
        ("person_in_charge", &issuer.person_in_charge, false),
        ("handler", &issuer.handler, false),
        ("contact", &issuer.contact, false),
    ];
    for (name, value, required) in fields {
        if required && value.trim().is_empty() {
            return Err(ReportError::InvalidInput(format!("{name} is required")));
        }
        if value.chars().count() > MAX_FIELD {
            return Err(ReportError::InvalidInput(format!(
                "{name} is longer than {MAX_FIELD} characters"
            )));
        }
    }
    Ok(IssuingOrganisation {
        organisation: issuer.organisation.trim().to_string(),
        person_in_charge: issuer.person_in_charge.trim().to_string(),
        handler: issuer.handler.trim().to_string(),
        contact: issuer.contact.trim().to_string(),
    })
}

/// `TB-2026-000001`.
pub fn format_number(year: i32, seq: i64) -> String {
    format!("TB-{year:04}-{seq:06}")
}

/// Issues, numbers and registers a certificate for a volunteer, pinned to the head.
///
/// With an `idempotency_key` (the API's), a retry of the same request returns the
/// certificate the first one issued, and the key used for another volunteer or issuer
/// is refused (IDEMPOTENCY_MISMATCH); the key is recorded in the certificate's own
/// transaction.
pub async fn issue_certificate(
    store: &Store,
    volunteer_id: VolunteerId,
    issued_by: Uuid,
    issuer: &IssuingOrganisation,
    idempotency_key: Option<&str>,
) -> Result<Certificate, ReportError> {
    let issuer = check_issuer(issuer)?;
    let request = serde_json::json!({ "volunteer_id": volunteer_id, "issuer": issuer }).to_string();
    if let Some(key) = idempotency_key {
        if let Some(cert) = earlier_request(store, key, &request).await? {
            return Ok(cert);
        }
    }
    let position = fold::pin(store, None).await?;
    let (facts, _) = compute_facts(store, volunteer_id, position, position).await?;
    let issued_at = Utc::now();
    let year = local_date(issued_at).year();
    let check_code = new_check_code();
    let row = NewRow {
        check_code: &check_code,
        year,
        volunteer_id,
        facts: &facts,
        issuer: &issuer,
        position,
        issued_at,
        issued_by,
        request: idempotency_key.map(|k| (k, request.as_str())),
    };
    let number = match insert_certificate(store, &row).await {
        Ok(n) => n,
        Err(e) => {
            // A concurrent request with the same key got there first.
            if let Some(key) = idempotency_key {
                if let Some(cert) = earlier_request(store, key, &request).await? {
                    return Ok(cert);
                }
            }
            return Err(e);
        }
    };
    let mut cert = Certificate {
        number,
        volunteer_id,
        community_id: facts.community_id,
        position,
        facts,
        issuer,
        issued_at,
        issued_by,
        holder_name: ERASED_NAME.to_string(),
        id_number_masked: None,
        check_code,
    };
    fill_holder(store, &mut cert).await?;
    tracing::info!(number = %cert.number, volunteer = %volunteer_id, position, "certificate issued");
    Ok(cert)
}

/// The certificate an earlier request with this key issued; IDEMPOTENCY_MISMATCH if
/// that request asked for something else.
async fn earlier_request(
    store: &Store,
    key: &str,
    request: &str,
) -> Result<Option<Certificate>, ReportError> {
    let found: Option<(String, String)> = if let Some(pool) = store.sqlite_pool() {
        sqlx::query_as(
            "SELECT request, number FROM certificate_requests WHERE idempotency_key = ?1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await?
    } else if let Some(pool) = store.postgres_pool() {
        sqlx::query_as(
            "SELECT request, number FROM certificate_requests WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await?
    } else {
        return Err(unsupported());
    };
    let Some((stored, number)) = found else {
        return Ok(None);
    };
    let same = serde_json::from_str::<serde_json::Value>(&stored).ok()
        == serde_json::from_str::<serde_json::Value>(request).ok();
    if !same {
        return Err(ReportError::IdempotencyMismatch(key.to_string()));
    }
    get_certificate(store, &number).await
}

fn unsupported() -> ReportError {
    ReportError::InvalidInput("unsupported store backend".into())
}

/// A certificate to register.
struct NewRow<'a> {
    year: i32,
    volunteer_id: VolunteerId,
    facts: &'a CertificateFacts,
    issuer: &'a IssuingOrganisation,
    position: u64,
    issued_at: DateTime<Utc>,
    issued_by: Uuid,
    check_code: &'a str,
    /// The idempotency key and the request, when issued through the API.
    request: Option<(&'a str, &'a str)>,
}

/// Takes the year's next number and registers the certificate (and its request) in
/// one transaction; returns the number.
async fn insert_certificate(store: &Store, row: &NewRow<'_>) -> Result<String, ReportError> {
    let facts_json = serde_json::to_value(row.facts)?;
    let issuer_json = serde_json::to_value(row.issuer)?;
    let pos = i64::try_from(row.position).map_err(|_| {
        ReportError::InvalidInput(format!("position {} is out of range", row.position))
    })?;
    const COUNTER: &str = "INSERT INTO certificate_counters (year, last_seq) VALUES ($1, 1)
         ON CONFLICT (year) DO UPDATE SET last_seq = certificate_counters.last_seq + 1
         RETURNING last_seq";
    const INSERT: &str = "INSERT INTO certificates (number, year, seq, volunteer_id, community_id, position, facts, issuer, issued_at, issued_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    const REQUEST: &str =
        "INSERT INTO certificate_requests (idempotency_key, request, number) VALUES ($1, $2, $3)";
    const CODE: &str = "INSERT INTO certificate_check_codes (number, code) VALUES ($1, $2)";
    if let Some(pool) = store.sqlite_pool() {
        // `$n` are numbered parameters on SQLite too.
        let mut tx = pool.begin().await?;
        let seq: i64 = sqlx::query_scalar(COUNTER)
            .bind(row.year)
            .fetch_one(&mut *tx)
            .await?;
        let number = format_number(row.year, seq);
        sqlx::query(INSERT)
            .bind(&number)
            .bind(row.year)
            .bind(seq)
            .bind(row.volunteer_id.0.to_string())
            .bind(row.facts.community_id.0.to_string())
            .bind(pos)
            .bind(facts_json.to_string())
            .bind(issuer_json.to_string())
            .bind(row.issued_at)
            .bind(row.issued_by.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(CODE)
            .bind(&number)
            .bind(row.check_code)
            .execute(&mut *tx)
            .await?;
        if let Some((key, request)) = row.request {
            sqlx::query(REQUEST)
                .bind(key)
                .bind(request)
                .bind(&number)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(number)
    } else if let Some(pool) = store.postgres_pool() {
        let mut tx = pool.begin().await?;
        let seq: i64 = sqlx::query_scalar(COUNTER)
            .bind(row.year)
            .fetch_one(&mut *tx)
            .await?;
        let number = format_number(row.year, seq);
        sqlx::query(INSERT)
            .bind(&number)
            .bind(row.year)
            .bind(seq)
            .bind(row.volunteer_id.0)
            .bind(row.facts.community_id.0)
            .bind(pos)
            .bind(&facts_json)
            .bind(&issuer_json)
            .bind(row.issued_at)
            .bind(row.issued_by)
            .execute(&mut *tx)
            .await?;
        sqlx::query(CODE)
            .bind(&number)
            .bind(row.check_code)
            .execute(&mut *tx)
            .await?;
        if let Some((key, request)) = row.request {
            sqlx::query(REQUEST)
                .bind(key)
                .bind(request)
                .bind(&number)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(number)
    } else {
        Err(unsupported())
    }
}

async fn fill_holder(store: &Store, cert: &mut Certificate) -> Result<(), ReportError> {
    match store.get_person(cert.volunteer_id.0).await? {
        Some(p) => {
            cert.holder_name = p.name;
            cert.id_number_masked = p.id_number.as_deref().map(mask_id_number);
        }
        None => {
            cert.holder_name = ERASED_NAME.to_string();
            cert.id_number_masked = None;
        }
    }
    Ok(())
}

/// A certificate as the registry holds it.
pub(super) struct StoredRow {
    number: String,
    position: i64,
    facts: serde_json::Value,
    issuer: serde_json::Value,
    issued_at: DateTime<Utc>,
    issued_by: Uuid,
    pub(super) check_code: Option<String>,
}

fn parse_uuid(s: &str) -> Result<Uuid, ReportError> {
    Uuid::parse_str(s).map_err(|e| ReportError::InvalidInput(format!("stored id {s:?}: {e}")))
}

const SELECT: &str =
    "SELECT c.number, c.position, c.facts, c.issuer, c.issued_at, c.issued_by, k.code \
     FROM certificates c LEFT JOIN certificate_check_codes k ON k.number = c.number";

/// The stored row of the certificate numbered `number` (trimmed), if any.
pub(super) async fn fetch_by_number(
    store: &Store,
    number: &str,
) -> Result<Option<StoredRow>, ReportError> {
    Ok(fetch_rows(store, Rows::Number(number.trim()))
        .await?
        .into_iter()
        .next())
}

/// Which certificates to read.
enum Rows<'a> {
    Number(&'a str),
    Volunteer(VolunteerId),
    /// A community's of a year of issue, newest first.
    Community(CommunityId, i32),
}

impl Rows<'_> {
    /// The statement on SQLite (`?1`, `?2`) or PostgreSQL (`$1`, `$2`).
    fn sql(&self, mark: &str) -> String {
        match self {
            Rows::Number(_) => format!("{SELECT} WHERE c.number = {mark}1"),
            Rows::Volunteer(_) => {
                format!("{SELECT} WHERE c.volunteer_id = {mark}1 ORDER BY c.issued_at, c.number")
            }
            Rows::Community(..) => format!(
                "{SELECT} WHERE c.community_id = {mark}1 AND c.year = {mark}2 \
                 ORDER BY c.issued_at DESC, c.number DESC LIMIT 1000"
            ),
        }
    }
}

async fn fetch_rows(store: &Store, rows: Rows<'_>) -> Result<Vec<StoredRow>, ReportError> {
    if let Some(pool) = store.sqlite_pool() {
        let sql = rows.sql("?");
        let q = sqlx::query(&sql);
        let q = match &rows {
            Rows::Number(n) => q.bind(n.to_string()),
            Rows::Volunteer(v) => q.bind(v.0.to_string()),
            Rows::Community(c, year) => q.bind(c.0.to_string()).bind(*year),
        };
        let found = q.fetch_all(pool).await?;
        found
            .iter()
            .map(|r| {
                Ok(StoredRow {
                    number: r.try_get("number")?,
                    position: r.try_get("position")?,
                    facts: serde_json::from_str(&r.try_get::<String, _>("facts")?)?,
                    issuer: serde_json::from_str(&r.try_get::<String, _>("issuer")?)?,
                    issued_at: r.try_get("issued_at")?,
                    issued_by: parse_uuid(&r.try_get::<String, _>("issued_by")?)?,
                    check_code: r.try_get("code")?,
                })
            })
            .collect()
    } else if let Some(pool) = store.postgres_pool() {
        let sql = rows.sql("$");
        let q = sqlx::query(&sql);
        let q = match &rows {
            Rows::Number(n) => q.bind(n.to_string()),
            Rows::Volunteer(v) => q.bind(v.0),
            Rows::Community(c, year) => q.bind(c.0).bind(*year),
        };
        let found = q.fetch_all(pool).await?;
        found
            .iter()
            .map(|r| {
                Ok(StoredRow {
                    number: r.try_get("number")?,
                    position: r.try_get("position")?,
                    facts: r.try_get("facts")?,
                    issuer: r.try_get("issuer")?,
                    issued_at: r.try_get("issued_at")?,
                    issued_by: r.try_get("issued_by")?,
                    check_code: r.try_get("code")?,
                })
            })
            .collect()
    } else {
        Err(unsupported())
    }
}

pub(super) fn from_row(row: StoredRow) -> Result<Certificate, ReportError> {
    let facts: CertificateFacts = serde_json::from_value(row.facts)?;
    Ok(Certificate {
        number: row.number,
        volunteer_id: facts.volunteer_id,
        community_id: facts.community_id,
        position: u64::try_from(row.position).unwrap_or(0),
        issuer: serde_json::from_value(row.issuer)?,
        issued_at: row.issued_at,
        issued_by: row.issued_by,
        holder_name: ERASED_NAME.to_string(),
        id_number_masked: None,
        check_code: row.check_code.unwrap_or_default(),
        facts,
    })
}

/// A registered certificate, as issued (for re-printing), or `None`.
pub async fn get_certificate(
    store: &Store,
    number: &str,
) -> Result<Option<Certificate>, ReportError> {
    let Some(row) = fetch_by_number(store, number).await? else {
        return Ok(None);
    };
    let mut cert = from_row(row)?;
    fill_holder(store, &mut cert).await?;
    Ok(Some(cert))
}

/// Every certificate issued to a volunteer, oldest first.
pub async fn list_certificates(
    store: &Store,
    volunteer_id: VolunteerId,
) -> Result<Vec<Certificate>, ReportError> {
    let mut out = Vec::new();
    for row in fetch_rows(store, Rows::Volunteer(volunteer_id)).await? {
        let mut cert = from_row(row)?;
        fill_holder(store, &mut cert).await?;
        out.push(cert);
    }
    Ok(out)
}

/// The certificates a community issued in a year (of issue, China Standard Time),
/// newest first (at most 1,000).
pub async fn community_certificates(
    store: &Store,
    community_id: CommunityId,
    year: i32,
) -> Result<Vec<Certificate>, ReportError> {
    let mut out = Vec::new();
    for row in fetch_rows(store, Rows::Community(community_id, year)).await? {
        let mut cert = from_row(row)?;
        fill_holder(store, &mut cert).await?;
        out.push(cert);
    }
    Ok(out)
}
