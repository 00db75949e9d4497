//! The star rules (星级): the thresholds in force on a day, the level the verified hours
//! reach, and the day each star was reached, evaluated over an account's timeline.

use chrono::NaiveDate;
use ledger::event::default_star_thresholds;

/// Thresholds in minutes of the built-in default.
pub fn default_thresholds() -> Vec<i64> {
    default_star_thresholds()
        .into_iter()
        .map(|h| h.minutes())
        .collect()
}

/// One dated version of a community's star thresholds, in minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdVersion {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub minutes: Vec<i64>,
}

/// The thresholds in force on `day`: the version with the latest `effective_from` on or
/// before it (ties: the higher version), else the built-in default.
pub fn thresholds_on(versions: &[ThresholdVersion], day: NaiveDate) -> Vec<i64> {
    versions
        .iter()
        .filter(|v| v.effective_from <= day)
        .max_by_key(|v| (v.effective_from, v.version))
        .map(|v| v.minutes.clone())
        .unwrap_or_else(default_thresholds)
}

/// Moves star dates for a change of verified minutes from `before` to `after` on `day`,
/// under the thresholds in force that day.
pub fn star_step(
    dates: &mut Vec<Option<NaiveDate>>,
    thresholds: &[i64],
    before: i64,
    after: i64,
    day: NaiveDate,
) {
    dates.resize(thresholds.len(), None);
    for (i, t) in thresholds.iter().enumerate() {
        if after >= *t && before < *t {
            dates[i] = Some(day);
        } else if after < *t {
            dates[i] = None;
        }
    }
}

/// Moves star dates for thresholds `to` coming into force on `day`, in place of `from`,
/// with `minutes` verified: a star held under both keeps its date, one held only under
/// `to` is reached that day, one not held under `to` has none.
fn star_switch(
    dates: &mut Vec<Option<NaiveDate>>,
    from: &[i64],
    to: &[i64],
    minutes: i64,
    day: NaiveDate,
) {
    dates.resize(to.len(), None);
    for (i, t) in to.iter().enumerate() {
        let held_before = from.get(i).is_some_and(|f| minutes >= *f);
        if minutes < *t {
            dates[i] = None;
        } else if !held_before {
            dates[i] = Some(day);
        }
    }
}

/// Star level: how many thresholds the verified minutes reach.
pub fn star_level(thresholds: &[i64], verified_minutes: i64) -> usize {
    thresholds
        .iter()
        .filter(|t| verified_minutes >= **t)
        .count()
}

/// Stars as of `today`, from a timeline of (day, verified minutes after) and the dated
/// versions of the thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarsOn {
    /// The thresholds in force today, in minutes.
    pub thresholds: Vec<i64>,
    /// How many of them the verified minutes reach.
    pub level: usize,
    /// Per threshold in force today, the day it was reached (if held).
    pub dates: Vec<Option<NaiveDate>>,
}

/// Evaluates the stars of a timeline on `today` (see the module's rules): versions come
/// into force at the start of their day, before that day's entries; versions dated after
/// `today` do not count.
pub fn stars_on(
    timeline: &[(NaiveDate, i64)],
    versions: &[ThresholdVersion],
    today: NaiveDate,
) -> StarsOn {
    let mut switches: Vec<NaiveDate> = versions
        .iter()
        .map(|v| v.effective_from)
        .filter(|d| *d <= today)
        .collect();
    switches.sort_unstable();
    switches.dedup();
    let mut switches = switches.into_iter().peekable();
    let mut current = thresholds_on(versions, NaiveDate::MIN);
    let mut dates = vec![None; current.len()];
    let mut minutes = 0;
    let switch = |current: &mut Vec<i64>, dates: &mut Vec<_>, minutes: i64, day| {
        let next = thresholds_on(versions, day);
        if next != *current {
            star_switch(dates, current, &next, minutes, day);
            *current = next;
        }
    };
    for (day, after) in timeline {
        while let Some(d) = switches.next_if(|d| d <= day) {
            switch(&mut current, &mut dates, minutes, d);
        }
        star_step(&mut dates, &current, minutes, *after, *day);
        minutes = *after;
    }
    for d in switches {
        switch(&mut current, &mut dates, minutes, d);
    }
    dates.resize(current.len(), None);
    StarsOn {
        level: star_level(&current, minutes),
        thresholds: current,
        dates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::common::parse_day(s).unwrap()
    }

    fn v(version: u32, from: &str, minutes: &[i64]) -> ThresholdVersion {
        ThresholdVersion {
            version,
            effective_from: d(from),
            minutes: minutes.to_vec(),
        }
    }

    #[test]
    fn star_dates_follow_the_last_upward_crossing() {
        let t = [v(1, "2000-01-01", &[600, 1200])];
        let line = vec![
            (d("2024-01-01"), 300),
            (d("2024-01-05"), 700),  // 1st star
            (d("2024-02-01"), 500),  // reversed below: lost
            (d("2024-03-01"), 1300), // both
        ];
        let s = stars_on(&line, &t, d("2024-12-31"));
        assert_eq!(s.dates, vec![Some(d("2024-03-01")), Some(d("2024-03-01"))]);
        assert_eq!(s.level, 2);
        assert_eq!(star_level(&[600, 1200], 599), 0);
    }

    #[test]
    fn crossings_follow_the_thresholds_in_force_on_their_day() {
        // 10/20 h from March, 5/40 h from June (set later, dated earlier than a
        // version 3 that brings 30/60 h from next year).
        let t = [
            v(1, "2024-03-01", &[600, 1200]),
            v(3, "2025-01-01", &[1800, 3600]),
            v(2, "2024-06-01", &[300, 2400]),
        ];
        let line = vec![
            (d("2024-01-10"), 700),  // over 10 h, but the default (100 h) is in force
            (d("2024-04-02"), 1300), // over 20 h under version 1: both stars
        ];
        // In May: reached on 1 March (version 1 came into force) and on 2 April.
        let may = stars_on(&line, &t, d("2024-05-15"));
        assert_eq!(may.thresholds, vec![600, 1200]);
        assert_eq!(
            may.dates,
            vec![Some(d("2024-03-01")), Some(d("2024-04-02"))]
        );
        // From June (version 2): the first star is still held (kept from March), the
        // second is lost.
        let july = stars_on(&line, &t, d("2024-07-01"));
        assert_eq!(july.level, 1);
        assert_eq!(july.dates, vec![Some(d("2024-03-01")), None]);
        // Next year neither is held; the future version changed nothing before its day.
        let next = stars_on(&line, &t, d("2025-01-01"));
        assert_eq!((next.level, next.dates), (0, vec![None, None]));
        // Before any version: the national default.
        let feb = stars_on(&line, &t, d("2024-02-01"));
        assert_eq!(feb.thresholds, default_thresholds());
        assert_eq!(feb.level, 0);
    }

    #[test]
    fn the_higher_version_wins_a_tie_of_dates() {
        let t = [v(2, "2024-01-01", &[60]), v(1, "2024-01-01", &[6000])];
        let s = stars_on(&[(d("2024-02-01"), 120)], &t, d("2024-02-01"));
        assert_eq!((s.level, s.dates), (1, vec![Some(d("2024-02-01"))]));
    }
}
