//! Shared pieces of the read models: calendar periods in China Standard Time, amounts at
//! the query edge, per-batch key/value state, rows held by a fold; and, in
//! `attribution`, a volunteer's attribution (home stairwell, grid, teams, tags) as of a
//! point in the log.

mod attribution;

pub use attribution::Attribution;

use crate::db::{OnConflict, Tx, Upsert, Val};
use crate::error::{ProjectionError, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use uuid::Uuid;

/// The calendar date of an instant in China Standard Time (UTC+8).
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    (t + chrono::Duration::hours(8)).date_naive()
}

/// "YYYY-MM".
pub fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// "YYYY-MM-DD".
pub fn day_key(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Epoch milliseconds of the midnight that starts `d` in China (UTC+8).
pub fn day_start_millis(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis() - 8 * 3_600_000)
        .unwrap_or(0)
}

/// A ranking or reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Period {
    AllTime,
    Year(i32),
    /// Year and quarter 1..=4.
    Quarter(i32, u32),
    /// Year and month 1..=12.
    Month(i32, u32),
}

impl Period {
    /// The key stored in period-keyed rows: `all`, `2024`, `2024-Q1`, `2024-03`.
    pub fn key(self) -> String {
        match self {
            Period::AllTime => "all".into(),
            Period::Year(y) => format!("{y:04}"),
            Period::Quarter(y, q) => format!("{y:04}-Q{q}"),
            Period::Month(y, m) => format!("{y:04}-{m:02}"),
        }
    }

    /// Every period a day belongs to.
    pub fn of_day(d: NaiveDate) -> [Period; 4] {
        [
            Period::AllTime,
            Period::Year(d.year()),
            Period::Quarter(d.year(), (d.month() - 1) / 3 + 1),
            Period::Month(d.year(), d.month()),
        ]
    }

    /// Its first day and the day after its last; none for all time.
    pub fn span(self) -> Option<(NaiveDate, NaiveDate)> {
        let (y, first, months) = match self {
            Period::AllTime => return None,
            Period::Year(y) => (y, 1, 12),
            Period::Quarter(y, q) => (y, (q - 1) * 3 + 1, 3),
            Period::Month(y, m) => (y, m, 1),
        };
        let start = NaiveDate::from_ymd_opt(y, first, 1)?;
        Some((
            start,
            start.checked_add_months(chrono::Months::new(months))?,
        ))
    }

    /// The months ("YYYY-MM") a year, quarter or month covers; empty for all time.
    pub fn months(self) -> Vec<String> {
        let ms: Vec<(i32, u32)> = match self {
            Period::AllTime => vec![],
            Period::Year(y) => (1..=12).map(|m| (y, m)).collect(),
            Period::Quarter(y, q) => (1..=3).map(|i| (y, (q - 1) * 3 + i)).collect(),
            Period::Month(y, m) => vec![(y, m)],
        };
        ms.into_iter()
            .map(|(y, m)| format!("{y:04}-{m:02}"))
            .collect()
    }

    pub fn validate(self) -> Result<Period> {
        match self {
            Period::Quarter(_, q) if !(1..=4).contains(&q) => Err(ProjectionError::InvalidQuery(
                format!("quarter {q} is not 1..=4"),
            )),
            Period::Month(_, m) if !(1..=12).contains(&m) => Err(ProjectionError::InvalidQuery(
                format!("month {m} is not 1..=12"),
            )),
            p => Ok(p),
        }
    }
}

pub fn points_dec(hundredths: i64) -> Decimal {
    Points::from_hundredths(hundredths).to_decimal()
}

pub fn hours_dec(minutes: i64) -> Decimal {
    Hours::from_minutes(minutes).to_decimal()
}

/// Milliseconds since the epoch, as stored.
pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// Key/value state of one batch: loaded in bulk, changed in memory, written in bulk.
#[derive(Debug)]
pub struct Kv<T> {
    map: HashMap<String, T>,
    dirty: HashSet<String>,
}

impl<T> Default for Kv<T> {
    fn default() -> Self {
        Kv {
            map: HashMap::new(),
            dirty: HashSet::new(),
        }
    }
}

impl<T: Serialize + DeserializeOwned> Kv<T> {
    /// Loads the stored values of `keys` from kv table `table`.
    pub async fn load(tx: &mut Tx<'_>, table: &str, keys: &HashSet<String>) -> Result<Kv<T>> {
        let keys: Vec<String> = keys.iter().cloned().collect();
        let rows = tx.select_in(table, "k, v", "k", &keys).await?;
        let mut map = HashMap::with_capacity(rows.len());
        for r in rows {
            let k = r.text(0)?;
            let v: T = serde_json::from_str(&r.text(1)?)
                .map_err(|e| ProjectionError::corrupt(table, format!("{k}: {e}")))?;
            map.insert(k, v);
        }
        Ok(Kv {
            map,
            dirty: HashSet::new(),
        })
    }

    pub fn get(&self, k: &str) -> Option<&T> {
        self.map.get(k)
    }

    pub fn get_mut(&mut self, k: &str) -> Option<&mut T> {
        let v = self.map.get_mut(k);
        if v.is_some() {
            self.dirty.insert(k.to_string());
        }
        v
    }

    pub fn insert(&mut self, k: String, v: T) {
        self.dirty.insert(k.clone());
        self.map.insert(k, v);
    }

    /// Writes the changed values.
    pub async fn flush(self, tx: &mut Tx<'_>, table: &str) -> Result<()> {
        let mut rows = Vec::with_capacity(self.dirty.len());
        for k in self.dirty {
            if let Some(v) = self.map.get(&k) {
                let json =
                    serde_json::to_string(v).map_err(|e| ProjectionError::corrupt(table, e))?;
                rows.push(vec![Val::from(k), Val::from(json)]);
            }
        }
        tx.upsert(
            &Upsert {
                table,
                cols: &["k", "v"],
                key: &["k"],
                on_conflict: OnConflict::Replace,
            },
            rows,
        )
        .await
    }
}

/// A fast hasher for in-memory fold state (the multiply-rotate hash of rustc's
/// `FxHash`): keys are UUIDs and small integers, and no key comes from a client.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_i32(&mut self, i: i32) {
        self.add(i as u32 as u64);
    }
    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;
/// A hash map with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, FxBuild>;
/// A hash set with [`FxHasher`].
pub type FxSet<K> = HashSet<K, FxBuild>;

#[derive(Debug)]
struct Slot<V> {
    v: V,
    /// Changed since the last flush.
    dirty: bool,
    /// In the table (read back, or written by a flush).
    stored: bool,
}

/// Rows of one table held in memory by a fold ([`crate::State`]): those read back and
/// those written, which of them changed since the last flush, and which stored ones
/// were removed.
#[derive(Debug)]
pub struct Cached<K, V> {
    map: FxMap<K, Slot<V>>,
    changed: usize,
    gone: Vec<K>,
}

impl<K, V> Default for Cached<K, V> {
    fn default() -> Self {
        Cached {
            map: FxMap::default(),
            changed: 0,
            gone: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone + Ord, V> Cached<K, V> {
    pub fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k).map(|s| &s.v)
    }

    pub fn contains(&self, k: &K) -> bool {
        self.map.contains_key(k)
    }

    /// A value to change (marked changed).
    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let s = self.map.get_mut(k)?;
        if !s.dirty {
            s.dirty = true;
            self.changed += 1;
        }
        Some(&mut s.v)
    }

    /// The value of `k` to change (marked changed), made by `f` when there is none.
    pub fn get_or_insert_with(&mut self, k: K, f: impl FnOnce() -> V) -> &mut V {
        let s = self.map.entry(k).or_insert_with(|| Slot {
            v: f(),
            dirty: false,
            stored: false,
        });
        if !s.dirty {
            s.dirty = true;
            self.changed += 1;
        }
        &mut s.v
    }

    pub fn insert(&mut self, k: K, v: V) {
        match self.map.get_mut(&k) {
            Some(s) => {
                s.v = v;
                if !s.dirty {
                    s.dirty = true;
                    self.changed += 1;
                }
            }
            None => {
                self.map.insert(
                    k,
                    Slot {
                        v,
                        dirty: true,
                        stored: false,
                    },
                );
                self.changed += 1;
            }
        }
    }

    /// A row read back from the database (a value already in memory is newer).
    pub fn loaded(&mut self, k: K, v: V) {
        self.map.entry(k).or_insert(Slot {
            v,
            dirty: false,
            stored: true,
        });
    }

    /// Removes a row (deleted from the table by the next flush if it is stored).
    pub fn remove(&mut self, k: &K) -> Option<V> {
        let s = self.map.remove(k)?;
        if s.dirty {
            self.changed -= 1;
        }
        if s.stored {
            self.gone.push(k.clone());
        }
        Some(s.v)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Rows changed or removed since the last flush.
    pub fn changed(&self) -> usize {
        self.changed + self.gone.len()
    }

    /// The changed rows, in key order; they count as written from now on.
    pub fn take_changed(&mut self) -> Vec<(&K, &V)> {
        let mut out = Vec::with_capacity(self.changed);
        for (k, s) in self.map.iter_mut() {
            if s.dirty {
                s.dirty = false;
                s.stored = true;
                out.push((k, &s.v));
            }
        }
        self.changed = 0;
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out
    }

    /// Stored rows removed since the last flush, to delete.
    pub fn take_gone(&mut self) -> Vec<K> {
        let mut gone = std::mem::take(&mut self.gone);
        gone.sort_unstable();
        gone
    }

    pub fn values(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, s)| (k, &s.v))
    }

    /// Bytes held, with `heap` bytes per row owned elsewhere.
    pub fn bytes(&self, heap: usize) -> usize {
        map_bytes(&self.map, heap)
    }

    /// Forgets every row (they must have been written).
    pub fn evict(&mut self) {
        debug_assert!(self.changed() == 0, "evicting unwritten rows");
        self.map = FxMap::default();
    }
}

/// Ledger entries a fold may have to take back when they are reversed (冲正), kept in
/// memory only: an entry not in memory is found again in its volunteer's stream.
#[derive(Debug)]
pub struct EntryMemo<T> {
    map: FxMap<Uuid, T>,
    /// Every entry counted is here (none was forgotten), or at least every one in
    /// `keep`.
    whole: bool,
    /// The entries the log reverses, when known: the only ones worth keeping.
    keep: Option<std::sync::Arc<FxSet<Uuid>>>,
}

impl<T> EntryMemo<T> {
    /// An empty memo; `whole` when nothing was counted before (a fresh state).
    pub fn new(whole: bool) -> EntryMemo<T> {
        EntryMemo {
            map: FxMap::default(),
            whole,
            keep: None,
        }
    }

    /// Remembers an entry just counted, unless the log is known never to reverse it.
    pub fn remember(&mut self, entry: Uuid, v: T) {
        if self.keep.as_ref().is_none_or(|k| k.contains(&entry)) {
            self.map.insert(entry, v);
        }
    }

    /// Puts back an entry found in its volunteer's stream.
    pub fn insert(&mut self, entry: Uuid, v: T) {
        self.map.insert(entry, v);
    }

    pub fn contains(&self, entry: &Uuid) -> bool {
        self.map.contains_key(entry)
    }

    pub fn remove(&mut self, entry: &Uuid) -> Option<T> {
        self.map.remove(entry)
    }

    /// Whether every entry a reversal may name is in memory (nothing to read back).
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    /// Keeps only the entries in `reversed` from now on.
    pub fn keep_only(&mut self, reversed: std::sync::Arc<FxSet<Uuid>>) {
        self.keep = Some(reversed);
    }

    /// Forgets every entry: later reversals read theirs back.
    pub fn forget(&mut self) {
        self.map = FxMap::default();
        self.whole = false;
    }

    pub fn bytes(&self) -> usize {
        map_bytes(&self.map, 0)
    }
}

impl<T> Extend<(Uuid, T)> for EntryMemo<T> {
    fn extend<I: IntoIterator<Item = (Uuid, T)>>(&mut self, iter: I) {
        self.map.extend(iter);
    }
}

/// Bytes of a hash map's table (entries and control bytes), plus `heap` bytes per entry
/// owned elsewhere (strings, vectors).
pub fn map_bytes<K, V, S>(m: &HashMap<K, V, S>, heap: usize) -> usize {
    m.capacity() * (std::mem::size_of::<(K, V)>() + 1) + m.len() * heap
}

/// A month as a number (`year × 12 + month − 1`), for compact keys.
pub fn month_no(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

/// "YYYY-MM" of a [`month_no`].
pub fn month_text(m: i32) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

/// A [`month_no`] from "YYYY-MM".
pub fn parse_month(s: &str) -> Option<i32> {
    let (y, m) = s.split_once('-')?;
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some(y * 12 + m - 1)
}

/// A UUID read back from a projection table.
pub fn uuid_of(table: &str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| ProjectionError::corrupt(table, format!("{s:?}: {e}")))
}

/// A row's text column as a UUID.
pub fn uuid_col(table: &str, r: &crate::db::Row, i: usize) -> Result<Uuid> {
    uuid_of(table, &r.text(i)?)
}

/// The keys of `uuids` as text, for [`Tx::select_in`].
pub fn key_strings<'a>(uuids: impl IntoIterator<Item = &'a Uuid>) -> Vec<String> {
    let mut v: Vec<String> = uuids.into_iter().map(|u| u.to_string()).collect();
    v.sort_unstable();
    v.dedup();
    v
}
