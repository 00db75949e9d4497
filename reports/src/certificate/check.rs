//! The check of a certificate: the random code printed on it, and what the check of a
//! number answers (the facts as issued beside the same records as they stand now).

use super::facts::compute_facts;
use super::registry::{fetch_by_number, from_row};
use super::CertificateCheck;
use crate::error::ReportError;
use crate::fold;
use crate::people::{mask_name, ERASED_NAME};
use ledger::domain::community::StarThresholds;
use ledger::store::Store;

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
    let rule = StarThresholds {
        version: cert.facts.star_rule_version,
        thresholds: cert.facts.star_thresholds.clone(),
        effective_from: chrono::NaiveDate::MIN,
        points: cert.facts.star_points_thresholds.clone(),
    };
    current.star_level = rule.level(current.total_hours, current.star_points);
    current.star_rule_version = rule.version;
    current.star_thresholds = rule.thresholds;
    current.star_points_thresholds = rule.points;
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
