//! The rankings' key dictionary: periods and scopes numbered on first use, in order of
//! appearance in the log (`pj_rank_keys`), a day's period ids, and how lists of scope ids
//! and days are kept in rows.

use super::fold::{RankState, Scopes};
use super::NAME;
use crate::common::Period;
use crate::error::{ProjectionError, Result};
use chrono::NaiveDate;
use std::sync::Arc;

pub(super) fn encode_ids(ids: &[i64]) -> String {
    let mut s = String::with_capacity(ids.len() * 6);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s
}

pub(super) fn decode_ids(s: &str) -> Result<Scopes> {
    if s.is_empty() {
        return Ok(Arc::from(Vec::new()));
    }
    s.split(',')
        .map(|x| {
            x.parse::<i64>()
                .map_err(|e| ProjectionError::corrupt(NAME, format!("scope ids {s:?}: {e}")))
        })
        .collect::<Result<Vec<i64>>>()
        .map(Arc::from)
}

pub(super) fn day_of(n: i64) -> Result<NaiveDate> {
    i32::try_from(n)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| ProjectionError::corrupt(NAME, format!("day {n}")))
}

pub(super) fn small(id: i64) -> Result<u32> {
    u32::try_from(id).map_err(|_| ProjectionError::corrupt(NAME, format!("id {id} out of range")))
}

impl RankState {
    /// The id of a period or scope key, given on first use.
    fn key_id(&mut self, k: String) -> Result<i64> {
        if let Some(id) = self.keys.get(&k) {
            return Ok(*id);
        }
        let next = self
            .next
            .as_mut()
            .ok_or_else(|| ProjectionError::corrupt(NAME, "key ids not loaded"))?;
        let id = next.0;
        next.0 += 1;
        self.keys.insert(k, id);
        Ok(id)
    }

    pub(super) fn scope_ids(&mut self, scopes: Vec<String>) -> Result<Scopes> {
        let ids = scopes
            .into_iter()
            .map(|k| self.key_id(k))
            .collect::<Result<Vec<i64>>>()?;
        Ok(Arc::from(ids))
    }

    pub(super) fn periods(&mut self, day: NaiveDate) -> Result<[u32; 4]> {
        if let Some(p) = self.days.get(&day) {
            return Ok(*p);
        }
        let mut out = [0u32; 4];
        for (o, p) in out.iter_mut().zip(Period::of_day(day)) {
            *o = small(self.key_id(p.key())?)?;
        }
        self.days.insert(day, out);
        Ok(out)
    }
}
