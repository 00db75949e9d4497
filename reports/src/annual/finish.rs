//! From the tally to the report: the volunteer lists with their dense ranks, registered
//! and active counts, the median days to fulfil a wish, and the sorted tables.

use super::model::*;
use super::tally::{Annual, MonthAcc};
use super::{HashMap, TOP_N};
use crate::error::ReportError;
use crate::labels::{kind_label, local_date, local_midnight};
use crate::people;
use crate::stairwell;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::event::ServiceKind;
use ledger::ids::*;
use rust_decimal::{Decimal, RoundingStrategy};

impl Annual {
    pub(super) fn finish(
        mut self,
        position: u64,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<AnnualReport, ReportError> {
        if self.community.community_id != Some(self.community_id) {
            return Err(ReportError::CommunityNotFound {
                community_id: self.community_id.0,
                position,
            });
        }
        let year = self.year;
        let year_end =
            local_midnight(NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap_or(NaiveDate::MAX));
        let rule_date = as_of.map(local_date).unwrap_or(NaiveDate::MIN);
        let rule = self.community.star_thresholds_on(rule_date);

        // Volunteers.
        let mut lines: Vec<VolunteerLine> = self
            .volunteers
            .iter()
            .map(|(id, v)| {
                let cumulative = Hours::from_minutes(v.minutes_before + v.year.minutes);
                let points_before = Points::from_hundredths(v.points_before);
                let points_end = Points::from_hundredths(v.points_before + v.year.points);
                let start = rule.level(Hours::from_minutes(v.minutes_before), points_before);
                let end = rule.level(cumulative, points_end);
                VolunteerLine {
                    rank: 0,
                    volunteer_id: *id,
                    volunteer_number: v.number.clone(),
                    name: people::ERASED_NAME.to_string(),
                    tags: v.tags.clone(),
                    services: v.year.services,
                    hours: Hours::from_minutes(v.year.minutes),
                    points: Points::from_hundredths(v.year.points),
                    cumulative_hours: cumulative,
                    star_level: end,
                    star_level_at_start: start,
                    new_stars: (start.saturating_add(1)..=end).collect(),
                    activities: v.year.activities,
                    activity_hours: Hours::from_minutes(v.year.activity_minutes),
                    late_hours: Hours::from_minutes(v.year.late_minutes),
                }
            })
            .collect();
        lines.sort_by(|a, b| {
            a.volunteer_number
                .cmp(&b.volunteer_number)
                .then(a.volunteer_id.cmp(&b.volunteer_id))
        });
        let top_by_hours = top(&lines, |l| l.hours.minutes());
        let top_by_points = top(&lines, |l| l.points.hundredths());
        let mut new_stars: Vec<VolunteerLine> = lines
            .iter()
            .filter(|l| !l.new_stars.is_empty())
            .cloned()
            .collect();
        new_stars.sort_by(|a, b| {
            b.star_level
                .cmp(&a.star_level)
                .then(b.hours.cmp(&a.hours))
                .then_with(|| a.volunteer_number.cmp(&b.volunteer_number))
                .then(a.volunteer_id.cmp(&b.volunteer_id))
        });
        dense_rank(&mut new_stars, |l| (l.star_level, 0));

        let registered_volunteers = self
            .volunteers
            .values()
            .filter(|v| v.registered_at < year_end && v.departed_at.is_none_or_after(year_end))
            .count() as u64;
        let active_volunteers = lines.iter().filter(|l| l.hours.is_positive()).count() as u64;

        // Wishes.
        let wishes_posted = self
            .wishes
            .values()
            .filter(|w| local_date(w.posted_at).year() == year)
            .count() as u64;
        let mut days: Vec<Decimal> = self
            .wishes
            .values()
            .filter(|w| w.confirmed)
            .filter_map(|w| {
                let f = w.fulfilled_at?;
                (local_date(f).year() == year).then(|| {
                    let secs = (f - w.posted_at).num_seconds().max(0);
                    Decimal::from(secs) / Decimal::from(86_400)
                })
            })
            .collect();
        days.sort();
        let median_days_to_fulfil = median(&days)
            .map(|d| d.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero));

        // Months.
        let mut month_active = [0u64; 12];
        for ((_, m), minutes) in &self.vol_month {
            if *minutes > 0 {
                month_active[(*m - 1) as usize] += 1;
            }
        }
        let months: Vec<MonthTotal> = self
            .months
            .iter()
            .enumerate()
            .map(|(i, m)| MonthTotal {
                month: i as u32 + 1,
                active_volunteers: month_active[i],
                services: m.services,
                hours: Hours::from_minutes(m.minutes),
                service_points: Points::from_hundredths(m.service_points),
                award_points: Points::from_hundredths(m.award_points),
                points_awarded: Points::from_hundredths(m.service_points + m.award_points),
                points_redeemed: Points::from_hundredths(m.redeemed),
            })
            .collect();

        let sum = |f: fn(&MonthAcc) -> i64| self.months.iter().map(f).sum::<i64>();
        let service_points = sum(|m| m.service_points);
        let award_points = sum(|m| m.award_points);
        let totals = Totals {
            registered_volunteers,
            active_volunteers,
            services: sum(|m| m.services),
            verified_hours: Hours::from_minutes(sum(|m| m.minutes)),
            service_points: Points::from_hundredths(service_points),
            award_points: Points::from_hundredths(award_points),
            points_awarded: Points::from_hundredths(service_points + award_points),
            points_redeemed: Points::from_hundredths(sum(|m| m.redeemed)),
            wishes_posted,
            wishes_fulfilled: days.len() as u64,
            median_days_to_fulfil,
            activity_attendances: self.total.activities,
            activity_hours: Hours::from_minutes(self.total.activity_minutes),
            late_hours: Hours::from_minutes(self.total.late_minutes),
        };

        let services_by_kind = ServiceKind::ALL
            .iter()
            .map(|k| {
                let s = self.kinds.get(k).copied().unwrap_or_default();
                KindTotal {
                    kind: *k,
                    label: kind_label(*k).to_string(),
                    services: s.services,
                    hours: Hours::from_minutes(s.minutes),
                    points: Points::from_hundredths(s.points),
                }
            })
            .collect();

        // Teams and grids.
        let mut team_active: HashMap<TeamId, u64> = HashMap::default();
        for ((t, _), minutes) in &self.team_vol {
            if *minutes > 0 {
                *team_active.entry(*t).or_default() += 1;
            }
        }
        let mut teams: Vec<TeamTotal> = self
            .community
            .teams
            .iter()
            .map(|(id, name)| TeamTotal {
                team_id: *id,
                name: name.clone(),
                totals: self
                    .teams
                    .get(id)
                    .copied()
                    .unwrap_or_default()
                    .unit(team_active.get(id).copied().unwrap_or(0)),
            })
            .collect();
        teams.sort_by(|a, b| {
            b.totals
                .hours
                .cmp(&a.totals.hours)
                .then_with(|| a.name.cmp(&b.name))
                .then(a.team_id.cmp(&b.team_id))
        });
        let mut grid_active: HashMap<GridId, u64> = HashMap::default();
        for ((g, _), minutes) in &self.grid_vol {
            if *minutes > 0 {
                *grid_active.entry(*g).or_default() += 1;
            }
        }
        let mut grids: Vec<GridTotal> = self
            .community
            .grids
            .iter()
            .map(|(id, g)| GridTotal {
                grid_id: *id,
                name: g.name.clone(),
                parent_name: g
                    .parent
                    .and_then(|p| self.community.grids.get(&p))
                    .map(|p| p.name.clone()),
                stairwells: self
                    .community
                    .stairwells
                    .values()
                    .filter(|s| s.grid_id == *id)
                    .count() as u64,
                totals: self
                    .grids
                    .get(id)
                    .copied()
                    .unwrap_or_default()
                    .unit(grid_active.get(id).copied().unwrap_or(0)),
            })
            .collect();
        grids.sort_by(|a, b| {
            b.totals
                .hours
                .cmp(&a.totals.hours)
                .then_with(|| a.name.cmp(&b.name))
                .then(a.grid_id.cmp(&b.grid_id))
        });

        // Stairwells.
        for (key, vols) in &self.stairwell_vol {
            let n = stairwell::households_served(
                vols.iter()
                    .filter(|(_, m)| **m > 0)
                    .map(|((v, h), _)| (*v, h.as_str())),
            );
            self.stairwells.participants.insert(*key, n);
        }
        let (stairwells, red_flags) = stairwell::standings(year, &self.community, &self.stairwells);

        Ok(AnnualReport {
            community_id: self.community_id,
            community_name: self.community.name.clone(),
            year,
            position,
            as_of,
            star_rule: StarRule {
                version: rule.version,
                thresholds: rule.thresholds,
                effective_from: rule.effective_from,
                points: rule.points,
            },
            totals,
            services_by_kind,
            top_by_hours,
            top_by_points,
            new_stars,
            teams,
            grids,
            stairwells,
            red_flags,
            months,
        })
    }
}

trait DepartedBy {
    fn is_none_or_after(&self, t: DateTime<Utc>) -> bool;
}

impl DepartedBy for Option<DateTime<Utc>> {
    /// Not departed before `t`.
    fn is_none_or_after(&self, t: DateTime<Utc>) -> bool {
        !matches!(self, Some(d) if *d < t)
    }
}

/// The first [`TOP_N`] lines with a positive `key`, by `key` descending (the input is
/// sorted by volunteer number, which breaks ties), with dense ranks.
fn top(lines: &[VolunteerLine], key: impl Fn(&VolunteerLine) -> i64) -> Vec<VolunteerLine> {
    let mut out: Vec<VolunteerLine> = lines.iter().filter(|l| key(l) > 0).cloned().collect();
    out.sort_by_key(|l| std::cmp::Reverse(key(l)));
    out.truncate(TOP_N);
    dense_rank(&mut out, |l| (0, key(l)));
    out
}

fn dense_rank<K: PartialEq>(lines: &mut [VolunteerLine], key: impl Fn(&VolunteerLine) -> K) {
    let mut rank = 0u32;
    let mut last: Option<K> = None;
    for l in lines.iter_mut() {
        let k = key(l);
        if last.as_ref() != Some(&k) {
            rank += 1;
        }
        l.rank = rank;
        last = Some(k);
    }
}

/// Median of sorted values.
fn median(sorted: &[Decimal]) -> Option<Decimal> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        Some(sorted[n / 2])
    } else {
        Some((sorted[n / 2 - 1] + sorted[n / 2]) / Decimal::TWO)
    }
}
