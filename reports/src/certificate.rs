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

use crate::error::ReportError;
use crate::fold;
use crate::labels::{hours_text, kind_label, local_date, star_label, star_level};
use crate::people::{mask_id_number, mask_name, ERASED_NAME};
use crate::render_html::{escape, page_start};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::domain::{Aggregate, CommunityState};
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::store::Store;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use uuid::Uuid;

/// Longest issuer field, in characters.
const MAX_FIELD: usize = 200;

/// Who issues a certificate: 出具单位, 负责人, 经办人, 联系方式.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuingOrganisation {
    pub organisation: String,
    pub person_in_charge: String,
    pub handler: String,
    pub contact: String,
}

/// Service of one kind on a certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub kind: ServiceKind,
    pub label: String,
    pub services: i64,
    pub hours: Hours,
}

/// What a certificate states (no personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateFacts {
    pub volunteer_id: VolunteerId,
    pub volunteer_number: String,
    pub community_id: CommunityId,
    pub community_name: String,
    /// Net verified service hours.
    pub total_hours: Hours,
    pub services: i64,
    /// Kinds with at least one service.
    pub by_kind: Vec<ServiceSummary>,
    pub first_service: Option<NaiveDate>,
    pub last_service: Option<NaiveDate>,
    pub star_level: u8,
    pub star_rule_version: u32,
    pub star_thresholds: Vec<Hours>,
}

impl CertificateFacts {
    /// "巡逻 12 次 30 小时；维修 2 次 3.5 小时".
    pub fn content_text(&self) -> String {
        if self.by_kind.is_empty() {
            return "暂无经核实的志愿服务记录".into();
        }
        self.by_kind
            .iter()
            .map(|k| format!("{} {} 次 {} 小时", k.label, k.services, hours_text(k.hours)))
            .collect::<Vec<_>>()
            .join("；")
    }

    /// The facts that corrections can change, for comparison.
    fn corrected_part(
        &self,
    ) -> (
        Hours,
        i64,
        &[ServiceSummary],
        Option<NaiveDate>,
        Option<NaiveDate>,
        u8,
    ) {
        (
            self.total_hours,
            self.services,
            &self.by_kind,
            self.first_service,
            self.last_service,
            self.star_level,
        )
    }
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

/// A later correction of a record a certificate covered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    pub entry_id: EntryId,
    pub reverses: EntryId,
    pub hours: Hours,
    pub points: Points,
    pub reason: String,
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

/// Facts of the records at or before `position`, with the reversals at or before
/// `corrections_upto` applied, star level by the thresholds in force at `position`.
async fn compute_facts(
    store: &Store,
    volunteer_id: VolunteerId,
    position: u64,
    corrections_upto: u64,
) -> Result<(CertificateFacts, Vec<Correction>), ReportError> {
    let not_found = || ReportError::VolunteerNotFound {
        volunteer_id: volunteer_id.0,
        position,
    };
    let events = store
        .read_stream(&volunteer_stream(volunteer_id), 0)
        .await?;
    let mut registration: Option<(String, CommunityId)> = None;
    let mut logged: HashMap<ServiceId, (ServiceKind, NaiveDate)> = HashMap::new();
    let mut entries: HashMap<EntryId, (ServiceKind, NaiveDate, Hours)> = HashMap::new();
    let mut corrections = Vec::new();
    for rec in events.iter().filter(|e| e.position <= corrections_upto) {
        let relevant = matches!(
            rec.event_type.as_str(),
            "VolunteerRegistered" | "ServiceLogged" | "ServiceVerified" | "EntryReversed"
        );
        if !relevant || (rec.position > position && rec.event_type != "EntryReversed") {
            continue;
        }
        match Event::decode(rec)? {
            Event::VolunteerRegistered {
                volunteer_number,
                community_id,
                ..
            } => registration = Some((volunteer_number, community_id)),
            Event::ServiceLogged {
                service_id,
                kind,
                started_at,
                ..
            } => {
                logged.insert(service_id, (kind, local_date(started_at)));
            }
            Event::ServiceVerified {
                service_id,
                entry_id,
                hours,
                ..
            } => {
                if let Some((kind, date)) = logged.get(&service_id) {
                    entries.insert(entry_id, (*kind, *date, hours));
                }
            }
            Event::EntryReversed {
                entry_id,
                reverses,
                points,
                hours,
                reason,
                ..
            } => {
                let covered = entries.remove(&reverses).is_some();
                if covered && rec.position > position {
                    corrections.push(Correction {
                        position: rec.position,
                        recorded_at: rec.recorded_at,
                        entry_id,
                        reverses,
                        hours,
                        points,
                        reason,
                    });
                }
            }
            _ => {}
        }
    }
    let (volunteer_number, community_id) = registration.ok_or_else(not_found)?;

    let mut community = CommunityState::default();
    for rec in store
        .read_stream(&community_stream(community_id), 0)
        .await?
        .iter()
        .filter(|e| e.position <= position)
    {
        community.evolve(&Event::decode(rec)?);
    }
    let rule_date = fold::recorded_at(store, position)
        .await?
        .map(local_date)
        .unwrap_or(NaiveDate::MIN);
    let rule = community.star_thresholds_on(rule_date);

    let mut by_kind: BTreeMap<ServiceKind, (i64, i64)> = BTreeMap::new();
    let mut total = 0i64;
    let mut first: Option<NaiveDate> = None;
    let mut last: Option<NaiveDate> = None;
    for (kind, date, hours) in entries.values() {
        let k = by_kind.entry(*kind).or_default();
        k.0 += 1;
        k.1 += hours.minutes();
        total += hours.minutes();
        first = Some(first.map_or(*date, |f| f.min(*date)));
        last = Some(last.map_or(*date, |l| l.max(*date)));
    }
    let total_hours = Hours::from_minutes(total);
    let facts = CertificateFacts {
        volunteer_id,
        volunteer_number,
        community_id,
        community_name: community.name.clone(),
        total_hours,
        services: by_kind.values().map(|(n, _)| n).sum(),
        by_kind: by_kind
            .into_iter()
            .map(|(kind, (services, minutes))| ServiceSummary {
                kind,
                label: kind_label(kind).to_string(),
                services,
                hours: Hours::from_minutes(minutes),
            })
            .collect(),
        first_service: first,
        last_service: last,
        star_level: star_level(total_hours, &rule.thresholds),
        star_rule_version: rule.version,
        star_thresholds: rule.thresholds,
    };
    corrections.sort_by_key(|c| c.position);
    Ok((facts, corrections))
}

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

/// The letters of a check code: Crockford's base 32 (no I, L, O, U).
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a check code (40 random bits).
const CODE_LEN: usize = 8;

/// A new random check code, as stored: 8 characters of Crockford's base 32.
pub fn new_check_code() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; CODE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    // 256 is a multiple of 32: every letter is equally likely.
    bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(b % 32)] as char)
        .collect()
}

/// A check code as typed: case, spaces and dashes ignored, and O, I, L read as 0, 1, 1.
pub fn normalize_check_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

/// A stored check code as printed: `K7QM-3XWD`.
pub fn display_check_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether `typed` is the certificate's code (compared in time independent of where
/// they differ).
fn code_matches(stored: &str, typed: &str) -> bool {
    let typed = normalize_check_code(typed);
    let (a, b) = (stored.as_bytes(), typed.as_bytes());
    !a.is_empty()
        && a.len() == b.len()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

struct StoredRow {
    number: String,
    position: i64,
    facts: serde_json::Value,
    issuer: serde_json::Value,
    issued_at: DateTime<Utc>,
    issued_by: Uuid,
    check_code: Option<String>,
}

fn parse_uuid(s: &str) -> Result<Uuid, ReportError> {
    Uuid::parse_str(s).map_err(|e| ReportError::InvalidInput(format!("stored id {s:?}: {e}")))
}

const SELECT: &str =
    "SELECT c.number, c.position, c.facts, c.issuer, c.issued_at, c.issued_by, k.code \
     FROM certificates c LEFT JOIN certificate_check_codes k ON k.number = c.number";

/// The stored row of the certificate numbered `number` (trimmed), if any.
async fn fetch_by_number(store: &Store, number: &str) -> Result<Option<StoredRow>, ReportError> {
    Ok(fetch_rows(store, Some(number.trim()), None)
        .await?
        .into_iter()
        .next())
}

async fn fetch_rows(
    store: &Store,
    by_number: Option<&str>,
    by_volunteer: Option<VolunteerId>,
) -> Result<Vec<StoredRow>, ReportError> {
    if let Some(pool) = store.sqlite_pool() {
        let (sql, key) = match (by_number, by_volunteer) {
            (Some(n), _) => (format!("{SELECT} WHERE c.number = ?1"), n.to_string()),
            (None, Some(v)) => (
                format!("{SELECT} WHERE c.volunteer_id = ?1 ORDER BY c.issued_at, c.number"),
                v.0.to_string(),
            ),
            (None, None) => return Ok(Vec::new()),
        };
        let rows = sqlx::query(&sql).bind(key).fetch_all(pool).await?;
        rows.iter()
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
        let rows = match (by_number, by_volunteer) {
            (Some(n), _) => {
                sqlx::query(&format!("{SELECT} WHERE c.number = $1"))
                    .bind(n)
                    .fetch_all(pool)
                    .await?
            }
            (None, Some(v)) => {
                sqlx::query(&format!(
                    "{SELECT} WHERE c.volunteer_id = $1 ORDER BY c.issued_at, c.number"
                ))
                .bind(v.0)
                .fetch_all(pool)
                .await?
            }
            (None, None) => return Ok(Vec::new()),
        };
        rows.iter()
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

fn from_row(row: StoredRow) -> Result<Certificate, ReportError> {
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
    for row in fetch_rows(store, None, Some(volunteer_id)).await? {
        let mut cert = from_row(row)?;
        fill_holder(store, &mut cert).await?;
        out.push(cert);
    }
    Ok(out)
}

/// The public check: the check of a certificate given its number and the check code
/// printed on it; `None` when there is no such certificate or the code is not its code
/// (the two are not told apart).
pub async fn verify_certificate(
    store: &Store,
    number: &str,
    check_code: &str,
) -> Result<Option<CertificateCheck>, ReportError> {
    let Some(row) = fetch_by_number(store, number).await? else {
        return Ok(None);
    };
    if !code_matches(row.check_code.as_deref().unwrap_or(""), check_code) {
        return Ok(None);
    }
    check_certificate(store, number).await
}

/// The check of a certificate number, for those who may read the registry (the
/// operator's command line): `None` if no such certificate.
pub async fn check_certificate(
    store: &Store,
    number: &str,
) -> Result<Option<CertificateCheck>, ReportError> {
    let Some(row) = fetch_by_number(store, number).await? else {
        return Ok(None);
    };
    let cert = from_row(row)?;
    let head = fold::pin(store, None).await?;
    let (mut current, corrections) =
        compute_facts(store, cert.volunteer_id, cert.position, head).await?;
    // Judge the records by the thresholds the certificate used.
    current.star_level = star_level(current.total_hours, &cert.facts.star_thresholds);
    current.star_rule_version = cert.facts.star_rule_version;
    current.star_thresholds = cert.facts.star_thresholds.clone();
    let changed_since_issue = current.corrected_part() != cert.facts.corrected_part();
    let holder_name_masked = store
        .get_person(cert.volunteer_id.0)
        .await?
        .map(|p| mask_name(&p.name))
        .unwrap_or_else(|| ERASED_NAME.to_string());
    Ok(Some(CertificateCheck {
        number: cert.number,
        issued_at: cert.issued_at,
        position: cert.position,
        issuer: cert.issuer,
        holder_name_masked,
        issued: cert.facts,
        current,
        current_position: head,
        changed_since_issue,
        corrections,
    }))
}

const CERT_CSS: &str = r#"
body { max-width: 180mm; }
.cert { border: 3px double #b71c1c; padding: 12mm 14mm; margin: 8mm 0; min-height: 240mm; position: relative; }
.cert h1 { font-size: 22pt; letter-spacing: 6pt; margin-bottom: 2mm; }
.cert .no { text-align: right; font-size: 10pt; color: #555; }
.cert p.body { font-size: 12.5pt; line-height: 2; text-indent: 2em; margin: 6mm 0; }
.cert table.fields td { font-size: 11pt; padding: 2mm 3mm; }
.cert table.fields td.k { width: 32mm; background: #faf0f0; font-weight: bold; }
.cert .sign { margin-top: 14mm; text-align: right; font-size: 12pt; line-height: 2; }
.cert .foot { position: absolute; bottom: 8mm; left: 14mm; right: 14mm; font-size: 8.5pt; color: #666; }
"#;

fn date_cn(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The certificate as a printable A4 HTML page (well-formed XHTML).
pub fn certificate_html(cert: &Certificate) -> String {
    let f = &cert.facts;
    let mut s = page_start(&format!("志愿服务记录证明 {}", cert.number), CERT_CSS);
    let issued = date_cn(local_date(cert.issued_at));
    let period = match (f.first_service, f.last_service) {
        (Some(a), Some(b)) => format!("{}至{}", date_cn(a), date_cn(b)),
        _ => "—".to_string(),
    };
    let id = cert.id_number_masked.clone().unwrap_or_else(|| "—".into());
    let _ = write!(
        s,
        r#"<div class="cert"><div class="no">证明编号：{number}</div><h1>志愿服务记录证明</h1>"#,
        number = escape(&cert.number)
    );
    let _ = write!(
        s,
        r#"<p class="body">兹证明 <b>{name}</b>（志愿者编号：{vn}，身份证号：{id}）为{community}注册志愿者，经志愿服务记录核实，{period}累计参加志愿服务 <b>{hours}</b> 小时，共 {n} 次，服务内容为：{content}。</p>"#,
        name = escape(&cert.holder_name),
        vn = escape(&f.volunteer_number),
        id = escape(&id),
        community = escape(&f.community_name),
        period = escape(&period),
        hours = escape(&hours_text(f.total_hours)),
        n = f.services,
        content = escape(&f.content_text()),
    );
    let rows: Vec<(&str, String)> = vec![
        ("姓名", cert.holder_name.clone()),
        ("志愿者编号", f.volunteer_number.clone()),
        ("身份证号", id.clone()),
        (
            "累计服务时长",
            format!("{} 小时", hours_text(f.total_hours)),
        ),
        ("服务内容", f.content_text()),
        ("星级", star_label(f.star_level)),
        ("出具单位", cert.issuer.organisation.clone()),
        ("负责人", cert.issuer.person_in_charge.clone()),
        ("经办人", cert.issuer.handler.clone()),
        ("联系方式", cert.issuer.contact.clone()),
        ("证明编号", cert.number.clone()),
        ("校验码", display_check_code(&cert.check_code)),
        ("出具日期", issued.clone()),
    ];
    s.push_str(r#"<table class="fields"><tbody>"#);
    for (k, v) in rows {
        let _ = write!(
            s,
            r#"<tr><td class="k">{}</td><td>{}</td></tr>"#,
            escape(k),
            escape(&v)
        );
    }
    s.push_str("</tbody></table>");
    let _ = write!(
        s,
        r#"<div class="sign">{org}（盖章）<br/>负责人：{pic}　经办人：{handler}<br/>{issued}</div>"#,
        org = escape(&cert.issuer.organisation),
        pic = escape(&cert.issuer.person_in_charge),
        handler = escape(&cert.issuer.handler),
        issued = escape(&issued),
    );
    let _ = write!(
        s,
        r#"<div class="foot">本证明根据事件日志第 {pos} 号位置的志愿服务记录出具，已登记存档。可凭证明编号 {number} 及校验码 {code} 查询核验；如记录在出具后被更正，核验结果将予以说明。</div></div>"#,
        pos = cert.position,
        number = escape(&cert.number),
        code = escape(&display_check_code(&cert.check_code)),
    );
    s.push_str("\n</body>\n</html>\n");
    s
}
