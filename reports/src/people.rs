//! People at render time: names and identity numbers come from the personal-data table
//! beside the log ([`Store::get_person`]), never from events. An erased person (no row)
//! shows as [`ERASED_NAME`]. What other people see is masked (PIPL): ID numbers as
//! `110***********1234`, phones as `138****5678`, names as `张*`.

use crate::error::ReportError;
use futures::{StreamExt, TryStreamExt};
use ledger::ids::VolunteerId;
use ledger::store::Store;
use std::collections::HashMap;

/// How an erased volunteer (or one without personal data) is shown.
pub const ERASED_NAME: &str = "已删除的志愿者";

/// Concurrent look-ups of personal data.
const CONCURRENT_LOOKUPS: usize = 16;

/// Names of many volunteers (looked up concurrently).
pub async fn display_names(
    store: &Store,
    ids: impl IntoIterator<Item = VolunteerId>,
) -> Result<HashMap<VolunteerId, String>, ReportError> {
    let mut unique: Vec<VolunteerId> = ids.into_iter().collect();
    unique.sort();
    unique.dedup();
    let ids: Vec<uuid::Uuid> = unique.iter().map(|v| v.0).collect();
    let mut found = persons(store, ids).await?;
    Ok(unique
        .into_iter()
        .map(|id| {
            let name = found.remove(&id.0).map(|p| p.name);
            (id, name.unwrap_or_else(|| ERASED_NAME.to_string()))
        })
        .collect())
}

/// The personal data of many volunteers, looked up concurrently (none: erased).
pub async fn persons(
    store: &Store,
    ids: impl IntoIterator<Item = uuid::Uuid>,
) -> Result<HashMap<uuid::Uuid, ledger::store::Person>, ReportError> {
    let found: Vec<Option<ledger::store::Person>> = futures::stream::iter(ids)
        .map(|id| async move { store.get_person(id).await })
        .buffer_unordered(CONCURRENT_LOOKUPS)
        .try_collect()
        .await?;
    Ok(found
        .into_iter()
        .flatten()
        .map(|p| (p.volunteer_id, p))
        .collect())
}

fn mask_middle(s: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    if n <= keep_start + keep_end {
        // Too short to show anything safely: keep at most the last character.
        let mut out = "*".repeat(n.saturating_sub(1));
        out.extend(chars.last());
        return out;
    }
    let mut out: String = chars[..keep_start].iter().collect();
    out.push_str(&"*".repeat(n - keep_start - keep_end));
    out.extend(&chars[n - keep_end..]);
    out
}

/// `110101199001011234` → `110***********1234`.
pub fn mask_id_number(id_number: &str) -> String {
    mask_middle(id_number, 3, 4)
}

/// `13812345678` → `138****5678`.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

/// `张三丰` → `张**`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count();
            format!("{first}{}", "*".repeat(rest.max(1)))
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_id_number("110101199001011234"), "110***********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("张"), "张*");
        assert_eq!(mask_id_number("1234"), "***4");
        assert_eq!(mask_id_number(""), "");
    }
}
