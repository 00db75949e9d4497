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

/// One dated version of a community's star thresholds: verified minutes per level and,
/// when the version asks for them too, points earned per level (in hundredths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdVersion {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub minutes: Vec<i64>,
    pub points: Option<Vec<i64>>,
}

/// What the stars take: verified minutes per level and, optionally, points earned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Criteria {
    pub minutes: Vec<i64>,
    pub points: Option<Vec<i64>>,
}

/// Where an account stands: (verified minutes, points earned net of reversals).
pub type Progress = (i64, i64);

impl Criteria {
    fn of(v: &ThresholdVersion) -> Criteria {
        Criteria {
            minutes: v.minutes.clone(),
            points: v.points.clone(),
        }
    }

    /// The built-in default: hours alone.
    pub fn default_hours() -> Criteria {
        Criteria {
            minutes: default_thresholds(),
            points: None,
        }
    }

    pub fn len(&self) -> usize {
        self.minutes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty()
    }

    /// Whether star `i` (0-based) is held at `at`.
    pub fn holds(&self, i: usize, at: Progress) -> bool {
        let by_minutes = self.minutes.get(i).is_some_and(|t| at.0 >= *t);
        let by_points = match &self.points {
            Some(p) => p.get(i).is_some_and(|t| at.1 >= *t),
            None => true,
        };
        by_minutes && by_points
    }
}

/// The criteria in force on `day`: the version with the latest `effective_from` on or
/// before it (ties: the higher version), else the built-in default.
pub fn thresholds_on(versions: &[ThresholdVersion], day: NaiveDate) -> Criteria {
    versions
        .iter()
        .filter(|v| v.effective_from <= day)
        .max_by_key(|v| (v.effective_from, v.version))
        .map(Criteria::of)
        .unwrap_or_else(Criteria::default_hours)
}

/// Moves star dates for a change from `before` to `after` on `day`, under the criteria
/// in force that day.
pub fn star_step(
    dates: &mut Vec<Option<NaiveDate>>,
    criteria: &Criteria,
    before: Progress,
    after: Progress,
    day: NaiveDate,
) {
    dates.resize(criteria.len(), None);
    for (i, date) in dates.iter_mut().enumerate() {
        if !criteria.holds(i, after) {
            *date = None;
        } else if !criteria.holds(i, before) {
            *date = Some(day);
        }
    }
}

/// Moves star dates for criteria `to` coming into force on `day`, in place of `from`,
/// at `at`: a star held under both keeps its date, one held only under `to` is reached
/// that day, one not held under `to` has none.
fn star_switch(
    dates: &mut Vec<Option<NaiveDate>>,
    from: &Criteria,
    to: &Criteria,
    at: Progress,
    day: NaiveDate,
) {
    dates.resize(to.len(), None);
    for (i, date) in dates.iter_mut().enumerate() {
        if !to.holds(i, at) {
            *date = None;
        } else if !from.holds(i, at) {
            *date = Some(day);
        }
    }
}

/// Star level: how many stars the criteria give at `at`.
pub fn star_level(criteria: &Criteria, at: Progress) -> usize {
    (0..criteria.len())
        .filter(|i| criteria.holds(*i, at))
        .count()
}

/// Stars as of `today`, from a timeline of (day, verified minutes after, points earned
/// after) and the dated versions of the thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarsOn {
    /// The criteria in force today.
    pub thresholds: Criteria,
    /// How many stars they give.
    pub level: usize,
    /// Per star in force today, the day it was reached (if held).
    pub dates: Vec<Option<NaiveDate>>,
}

/// Evaluates the stars of a timeline on `today` (see the module's rules): versions come
/// into force at the start of their day, before that day's entries; versions dated after
/// `today` do not count.
pub fn stars_on(
    timeline: &[(NaiveDate, i64, i64)],
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
    let mut at: Progress = (0, 0);
    let switch = |current: &mut Criteria, dates: &mut Vec<_>, at: Progress, day| {
        let next = thresholds_on(versions, day);
        if next != *current {
            star_switch(dates, current, &next, at, day);
            *current = next;
        }
    };
    for (day, minutes, points) in timeline {
        while let Some(d) = switches.next_if(|d| d <= day) {
            switch(&mut current, &mut dates, at, d);
        }
        let after = (*minutes, *points);
        star_step(&mut dates, &current, at, after, *day);
        at = after;
    }
    for d in switches {
        switch(&mut current, &mut dates, at, d);
    }
    dates.resize(current.len(), None);
    StarsOn {
        level: star_level(&current, at),
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
            points: None,
        }
    }

    /// A timeline of minutes alone (no points).
    fn hours_only(line: &[(NaiveDate, i64)]) -> Vec<(NaiveDate, i64, i64)> {
        line.iter().map(|(d, m)| (*d, *m, 0)).collect()
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
        let s = stars_on(&hours_only(&line), &t, d("2024-12-31"));
        assert_eq!(s.dates, vec![Some(d("2024-03-01")), Some(d("2024-03-01"))]);
        assert_eq!(s.level, 2);
        let c = Criteria {
            minutes: vec![600, 1200],
            points: None,
        };
        assert_eq!(star_level(&c, (599, 0)), 0);
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
        let line = hours_only(&line);
        let may = stars_on(&line, &t, d("2024-05-15"));
        assert_eq!(may.thresholds.minutes, vec![600, 1200]);
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
        assert_eq!(feb.thresholds, Criteria::default_hours());
        assert_eq!(feb.level, 0);
    }

    #[test]
    fn with_points_in_the_rule_a_star_takes_both() {
        let t = [ThresholdVersion {
            points: Some(vec![10_000, 30_000]),
            ..v(1, "2000-01-01", &[600, 1200])
        }];
        let line = vec![
            (d("2024-01-05"), 700, 5_000),   // the hours, not the points
            (d("2024-02-01"), 700, 12_000),  // the points too: the first star
            (d("2024-03-01"), 1300, 12_000), // the hours of the second, not its points
        ];
        let s = stars_on(&line, &t, d("2024-12-31"));
        assert_eq!(s.level, 1);
        assert_eq!(s.dates, vec![Some(d("2024-02-01")), None]);
        // Spending is not in the timeline; a reversal of points is, and takes it away.
        let mut lower = line.clone();
        lower.push((d("2024-04-01"), 1300, 9_000));
        assert_eq!(stars_on(&lower, &t, d("2024-12-31")).level, 0);
    }

    #[test]
    fn the_higher_version_wins_a_tie_of_dates() {
        let t = [v(2, "2024-01-01", &[60]), v(1, "2024-01-01", &[6000])];
        let s = stars_on(&[(d("2024-02-01"), 120, 0)], &t, d("2024-02-01"));
        assert_eq!((s.level, s.dates), (1, vec![Some(d("2024-02-01"))]));
    }
}
