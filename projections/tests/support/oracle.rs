//! The oracle: a plain, independent fold of the log into what every read model must
//! answer, the checks of the projections' queries against it, and a dump of every
//! projection table for table-for-table comparisons.

use super::{cst_day, month_of};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use ledger::amount::Hours;
use ledger::domain::stairwell::natural_cmp;
use ledger::event::{Event, ServiceKind};
use ledger::ids::*;
use ledger::store::RecordedEvent;
use projections::common::Period;
use projections::rankings::{Metric, Scope};
use projections::Db;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

fn periods(d: NaiveDate) -> Vec<String> {
    vec![
        "all".to_string(),
        format!("{:04}", d.year()),
        format!("{:04}-Q{}", d.year(), (d.month() - 1) / 3 + 1),
        month_of(d),
    ]
}

fn dec2(hundredths: i64) -> Decimal {
    Decimal::new(hundredths, 2)
}

fn hours(minutes: i64) -> Decimal {
    Hours::from_minutes(minutes).to_decimal()
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OAccount {
    pub community: Option<Uuid>,
    pub number: String,
    pub earned: i64,
    pub spent: i64,
    pub reversed: i64,
    /// Points whose validity ended (积分到期).
    pub expired: i64,
    pub banked: i64,
    pub gifted: i64,
    pub received: i64,
    pub hours_spent: i64,
    pub verified: i64,
    /// (day, verified minutes after, points earned − reversed after) per change.
    pub timeline: Vec<(NaiveDate, i64, i64)>,
    /// (kind, points delta, minutes delta, entry, reverses, position)
    pub lines: Vec<(String, i64, i64, Uuid, Option<Uuid>, u64)>,
    /// What a verified service's line says, by the line's position.
    pub details: BTreeMap<u64, String>,
}

#[derive(Debug, Clone)]
struct OVol {
    community: Uuid,
    number: String,
    stairwell: Uuid,
    grid: Uuid,
    teams: BTreeSet<Uuid>,
    tags: Vec<String>,
    departed: bool,
    household: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct OWish {
    pub status: String,
    pub claimer: Option<Uuid>,
    pub posted: i64,
    pub claimed: Option<i64>,
    pub fulfilled: Option<i64>,
    pub confirmed: Option<i64>,
    pub cancelled: Option<i64>,
}

/// What the read models must say, computed plainly from the log.
#[derive(Default)]
pub struct Oracle {
    pub accounts: BTreeMap<Uuid, OAccount>,
    /// Each community's rules (its star threshold versions), folded by the ledger's own
    /// aggregate: `star_thresholds_on` is what the documents use.
    pub communities: HashMap<Uuid, ledger::domain::CommunityState>,
    /// (period, scope) -> volunteer -> (number, points, minutes)
    pub cells: BTreeMap<(String, String), BTreeMap<Uuid, (String, i64, i64)>>,
    pub wishes: BTreeMap<Uuid, OWish>,
    /// (stairwell, month) -> (items hundredths, rubric version)
    pub inspections: BTreeMap<(Uuid, String), (i64, u32)>,
    /// (stairwell, month, volunteer) -> verified unreversed services
    /// (stairwell, month, volunteer, household) -> verified unreversed services
    pub served: HashMap<(Uuid, String, Uuid, Option<String>), i64>,
    /// issue -> (stairwell, reported month, resolved month, deduction)
    pub issues: BTreeMap<Uuid, (Uuid, String, Option<String>, i64)>,
    pub stairwells: BTreeMap<Uuid, (Uuid, String, String, u32)>,
    pub rubrics: HashMap<(Uuid, u32), i64>,
    pub active: HashMap<Uuid, i64>,
    /// community -> month -> (points, minutes, services)
    pub months: HashMap<(Uuid, String), (i64, i64, i64)>,
    pub kinds: HashMap<(Uuid, String, String), (i64, i64)>,
    pub dash_served: HashMap<(Uuid, String, Uuid), i64>,
    /// Each activity folded by the ledger's own aggregate.
    pub activities: BTreeMap<Uuid, ledger::domain::ActivityState>,
    /// Each shop item folded by the ledger's own aggregate.
    pub shop: BTreeMap<Uuid, ledger::domain::ShopItemState>,
    /// Every volunteer's messages.
    pub inbox: super::inbox::InboxOracle,
    pub head: u64,
}

impl Oracle {
    pub fn fold(log: &[(RecordedEvent, Event)]) -> Oracle {
        let mut o = Oracle {
            inbox: super::inbox::InboxOracle::fold(log),
            ..Oracle::default()
        };
        let mut vols: HashMap<Uuid, OVol> = HashMap::new();
        // service -> (volunteer, day, attribution at logging, kind)
        let mut services: HashMap<Uuid, (NaiveDate, OVol, ServiceKind)> = HashMap::new();
        let mut texts: HashMap<Uuid, String> = HashMap::new();
        // entry -> (volunteer, day, attribution, kind, is service)
        let mut counted: HashMap<Uuid, (Uuid, NaiveDate, OVol, Option<ServiceKind>)> =
            HashMap::new();
        for (r, e) in log {
            o.head = r.position;
            let (kind, sid) = parse_stream(&r.stream_id).expect("stream");
            let day = cst_day(r.recorded_at);
            let ms = r.recorded_at.timestamp_millis();
            match kind {
                StreamKind::Community => match e {
                    Event::StarThresholdsSet { .. } => {
                        use ledger::domain::Aggregate;
                        o.communities.entry(sid).or_default().evolve(e);
                    }
                    Event::RubricSet {
                        version,
                        participation_max,
                        ..
                    } => {
                        o.rubrics.insert(
                            (sid, *version),
                            (participation_max * Decimal::ONE_HUNDRED)
                                .try_into()
                                .unwrap_or(0),
                        );
                    }
                    Event::StairwellRegistered {
                        stairwell_id,
                        building,
                        unit,
                        households,
                        ..
                    } => {
                        o.stairwells.insert(
                            stairwell_id.0,
                            (sid, building.clone(), unit.clone(), *households),
                        );
                    }
                    _ => {}
                },
                StreamKind::Stairwell => match e {
                    Event::StairwellInspected {
                        month,
                        scores,
                        rubric_version,
                        ..
                    } => {
                        // A legacy participation score is not an item.
                        let items: Decimal = scores
                            .iter()
                            .filter(|(k, _)| {
                                k.as_str() != ledger::domain::community::PARTICIPATION_KEY
                            })
                            .map(|(_, v)| *v)
                            .sum();
                        o.inspections.insert(
                            (sid, month.clone()),
                            (
                                (items * Decimal::ONE_HUNDRED).try_into().unwrap_or(0),
                                *rubric_version,
                            ),
                        );
                    }
                    Event::StairwellIssueReported {
                        issue_id,
                        deduction,
                        ..
                    } => {
                        o.issues.insert(
                            issue_id.0,
                            (
                                sid,
                                month_of(day),
                                None,
                                (deduction * Decimal::ONE_HUNDRED).try_into().unwrap_or(0),
                            ),
                        );
                    }
                    Event::StairwellIssueResolved { issue_id, .. } => {
                        if let Some(i) = o.issues.get_mut(&issue_id.0) {
                            i.2 = Some(month_of(day));
                        }
                    }
                    _ => {}
                },
                // Attendance counts once final, as the services it credits.
                StreamKind::Activity => {
                    use ledger::domain::Aggregate;
                    o.activities.entry(sid).or_default().evolve(e);
                }
                // Streets and districts hold no amounts (see the org example).
                StreamKind::Street | StreamKind::District | StreamKind::ImportBatch => {}
                // The shop's points count through the redemptions on the accounts.
                StreamKind::ShopItem => {
                    use ledger::domain::Aggregate;
                    o.shop.entry(sid).or_default().evolve(e);
                }
                StreamKind::Wish => {
                    let w = o.wishes.entry(sid).or_default();
                    let (before_open, before_prog) = (
                        w.status == "open",
                        w.status == "claimed" || w.status == "fulfilled",
                    );
                    let mut community = None;
                    match e {
                        Event::WishPosted { community_id, .. } => {
                            *w = OWish {
                                status: "open".into(),
                                posted: ms,
                                ..Default::default()
                            };
                            community = Some(community_id.0);
                        }
                        Event::WishClaimed { volunteer_id } => {
                            w.status = "claimed".into();
                            w.claimer = Some(volunteer_id.0);
                            w.claimed = Some(ms);
                        }
                        Event::WishReleased { .. } => {
                            w.status = "open".into();
                            w.claimer = None;
                            w.claimed = None;
                        }
                        Event::WishFulfilled { fulfilled_at, .. } => {
                            w.status = "fulfilled".into();
                            w.fulfilled = Some(fulfilled_at.timestamp_millis());
                        }
                        Event::WishConfirmed { .. } => {
                            w.status = "confirmed".into();
                            w.confirmed = Some(ms);
                        }
                        Event::WishCancelled { .. } => {
                            w.status = "cancelled".into();
                            w.cancelled = Some(ms);
                        }
                        _ => {}
                    }
                    let _ = (before_open, before_prog, community);
                }
                StreamKind::Volunteer => {
                    let acc = o.accounts.entry(sid).or_default();
                    let before = (acc.verified, acc.earned - acc.reversed);
                    let line = |acc: &mut OAccount,
                                k: &str,
                                p: i64,
                                m: i64,
                                en: Uuid,
                                rev: Option<Uuid>| {
                        acc.lines.push((k.to_string(), p, m, en, rev, r.position));
                    };
                    match e {
                        Event::VolunteerRegistered {
                            community_id,
                            volunteer_number,
                            stairwell_id,
                            grid_id,
                            tags,
                            teams,
                            household,
                            ..
                        } => {
                            acc.community = Some(community_id.0);
                            acc.number = volunteer_number.clone();
                            vols.insert(
                                sid,
                                OVol {
                                    community: community_id.0,
                                    number: volunteer_number.clone(),
                                    stairwell: stairwell_id.0,
                                    grid: grid_id.0,
                                    teams: teams.iter().map(|t| t.0).collect(),
                                    tags: tags.clone(),
                                    departed: false,
                                    household: household.clone(),
                                },
                            );
                            *o.active.entry(community_id.0).or_default() += 1;
                        }
                        Event::VolunteerMoved {
                            stairwell_id,
                            grid_id,
                            household,
                        } => {
                            if let Some(v) = vols.get_mut(&sid) {
                                v.stairwell = stairwell_id.0;
                                v.grid = grid_id.0;
                                v.household = household.clone();
                            }
                        }
                        Event::TeamJoined { team_id } => {
                            if let Some(v) = vols.get_mut(&sid) {
                                v.teams.insert(team_id.0);
                            }
                        }
                        Event::TeamLeft { team_id } => {
                            if let Some(v) = vols.get_mut(&sid) {
                                v.teams.remove(&team_id.0);
                            }
                        }
                        Event::VolunteerTagsSet { tags } => {
                            if let Some(v) = vols.get_mut(&sid) {
                                v.tags = tags.clone();
                            }
                        }
                        Event::VolunteerDeparted { .. } => {
                            if let Some(v) = vols.get_mut(&sid) {
                                if !v.departed {
                                    v.departed = true;
                                    *o.active.entry(v.community).or_default() -= 1;
                                }
                            }
                        }
                        Event::ServiceLogged {
                            service_id,
                            started_at,
                            kind,
                            place,
                            note,
                            activity,
                            imported,
                            ..
                        } => {
                            let how = activity.as_ref().map(|a| a.source);
                            texts.insert(
                                service_id.0,
                                ledger::event::service_text(*kind, place, note, how)
                                    + &ledger::event::imported_note(imported.as_ref()),
                            );
                            if let Some(v) = vols.get(&sid) {
                                services
                                    .insert(service_id.0, (cst_day(*started_at), v.clone(), *kind));
                            }
                        }
                        Event::ServiceVerified {
                            service_id,
                            entry_id,
                            hours,
                            points,
                            over_cap,
                            ..
                        } => {
                            // Hours over the cap: verified, not banked, and said so.
                            let banked = hours.minutes() - over_cap.minutes();
                            acc.earned += points.hundredths();
                            acc.banked += banked;
                            acc.verified += hours.minutes();
                            line(
                                acc,
                                "service_verified",
                                points.hundredths(),
                                banked,
                                entry_id.0,
                                None,
                            );
                            if let Some(t) = texts.get(&service_id.0) {
                                let t = match over_cap.minutes() {
                                    0 => t.clone(),
                                    m => format!(
                                        "{t}（超出存储上限 {} 小时，不计入余额）",
                                        (Decimal::from(m) / Decimal::from(60)).normalize()
                                    ),
                                };
                                acc.details.insert(r.position, t);
                            }
                            if let Some((sday, v, k)) = services.get(&service_id.0).cloned() {
                                counted.insert(entry_id.0, (sid, sday, v.clone(), Some(k)));
                                o.count(
                                    sid,
                                    sday,
                                    &v,
                                    Some(k),
                                    points.hundredths(),
                                    hours.minutes(),
                                    1,
                                );
                            }
                        }
                        Event::PointsAwarded {
                            entry_id, points, ..
                        } => {
                            acc.earned += points.hundredths();
                            line(
                                acc,
                                "points_awarded",
                                points.hundredths(),
                                0,
                                entry_id.0,
                                None,
                            );
                            if let Some(v) = vols.get(&sid).cloned() {
                                counted.insert(entry_id.0, (sid, day, v.clone(), None));
                                o.count(sid, day, &v, None, points.hundredths(), 0, 1);
                            }
                        }
                        Event::PointsRedeemed {
                            entry_id, points, ..
                        } => {
                            acc.spent += points.hundredths();
                            line(
                                acc,
                                "points_redeemed",
                                -points.hundredths(),
                                0,
                                entry_id.0,
                                None,
                            );
                        }
                        Event::PointsExpired {
                            entry_id, points, ..
                        } => {
                            acc.expired += points.hundredths();
                            acc.details.insert(r.position, "积分到期".into());
                            line(
                                acc,
                                "points_expired",
                                -points.hundredths(),
                                0,
                                entry_id.0,
                                None,
                            );
                        }
                        Event::PointsRefunded {
                            entry_id,
                            refunds,
                            points,
                            item,
                            ..
                        } => {
                            acc.spent -= points.hundredths();
                            acc.details.insert(r.position, item.clone());
                            line(
                                acc,
                                "points_refunded",
                                points.hundredths(),
                                0,
                                entry_id.0,
                                Some(refunds.0),
                            );
                        }
                        Event::EntryReversed {
                            entry_id,
                            reverses,
                            points,
                            hours,
                            over_cap,
                            ..
                        } => {
                            let banked = hours.minutes() - over_cap.minutes();
                            acc.reversed += points.hundredths();
                            acc.banked -= banked;
                            acc.verified -= hours.minutes();
                            line(
                                acc,
                                "entry_reversed",
                                -points.hundredths(),
                                -banked,
                                entry_id.0,
                                Some(reverses.0),
                            );
                            if let Some((vid, d, v, k)) = counted.get(&reverses.0).cloned() {
                                o.count(vid, d, &v, k, -points.hundredths(), -hours.minutes(), -1);
                            }
                        }
                        Event::HoursGifted {
                            entry_id, hours, ..
                        } => {
                            acc.gifted += hours.minutes();
                            acc.banked -= hours.minutes();
                            line(acc, "hours_gifted", 0, -hours.minutes(), entry_id.0, None);
                        }
                        Event::HoursReceived {
                            entry_id, hours, ..
                        } => {
                            acc.received += hours.minutes();
                            acc.banked += hours.minutes();
                            line(acc, "hours_received", 0, hours.minutes(), entry_id.0, None);
                        }
                        Event::HoursSpent {
                            entry_id, hours, ..
                        } => {
                            acc.hours_spent += hours.minutes();
                            acc.banked -= hours.minutes();
                            line(acc, "hours_spent", 0, -hours.minutes(), entry_id.0, None);
                        }
                        _ => {}
                    }
                    let acc = o.accounts.entry(sid).or_default();
                    if (acc.verified, acc.earned - acc.reversed) != before {
                        acc.timeline
                            .push((day, acc.verified, acc.earned - acc.reversed));
                    }
                }
            }
        }
        o
    }

    #[allow(clippy::too_many_arguments)]
    fn count(
        &mut self,
        vid: Uuid,
        day: NaiveDate,
        v: &OVol,
        kind: Option<ServiceKind>,
        p: i64,
        m: i64,
        sign: i64,
    ) {
        let mut scopes = vec![format!("c:{}", v.community), format!("g:{}", v.grid)];
        scopes.extend(v.teams.iter().map(|t| format!("t:{t}")));
        scopes.extend(v.tags.iter().map(|t| format!("tag:{}:{t}", v.community)));
        scopes.sort();
        scopes.dedup();
        for period in periods(day) {
            for s in &scopes {
                let cell = self
                    .cells
                    .entry((period.clone(), s.clone()))
                    .or_default()
                    .entry(vid)
                    .or_insert((v.number.clone(), 0, 0));
                cell.1 += p;
                cell.2 += m;
            }
        }
        let month = month_of(day);
        let mo = self.months.entry((v.community, month.clone())).or_default();
        mo.0 += p;
        mo.1 += m;
        if let Some(k) = kind {
            mo.2 += sign;
            let kk = self
                .kinds
                .entry((v.community, month.clone(), k.as_str().to_string()))
                .or_default();
            kk.0 += sign;
            kk.1 += m;
            *self
                .served
                .entry((v.stairwell, month.clone(), vid, v.household.clone()))
                .or_default() += sign;
            *self
                .dash_served
                .entry((v.community, month, vid))
                .or_default() += sign;
        }
    }

    /// The thresholds (minutes) in force in a community on `day`.
    fn thresholds_on(&self, c: Option<Uuid>, day: NaiveDate) -> Vec<i64> {
        c.and_then(|c| self.communities.get(&c))
            .cloned()
            .unwrap_or_default()
            .star_thresholds_on(day)
            .thresholds
            .iter()
            .map(|h| h.minutes())
            .collect()
    }

    /// Star level and dates on `today`.
    pub fn stars_on(&self, acc: &OAccount, today: NaiveDate) -> (u32, Vec<Option<NaiveDate>>) {
        let switches: BTreeSet<NaiveDate> = acc
            .community
            .and_then(|c| self.communities.get(&c))
            .map(|c| c.star_thresholds.iter().map(|t| t.effective_from).collect())
            .unwrap_or_default();
        let switches: Vec<NaiveDate> = switches.into_iter().filter(|d| *d <= today).collect();
        oracle_stars(&acc.timeline, &switches, today, |d| {
            acc.community
                .and_then(|c| self.communities.get(&c))
                .cloned()
                .unwrap_or_default()
                .star_thresholds_on(d)
        })
    }

    /// Balances with their stars as of today, and as of days to come (when versions
    /// dated in the future come into force, with no new event).
    pub async fn check_balances(&self, db: &Db) {
        let today = cst_day(Utc::now());
        for day in [today, today + Duration::days(1), today + Duration::days(40)] {
            self.check_balances_on(db, day).await;
        }
    }

    pub async fn check_balances_on(&self, db: &Db, today: NaiveDate) {
        for (vid, acc) in &self.accounts {
            if acc.community.is_none() {
                continue;
            }
            let b = projections::balances::balance_on(db, VolunteerId(*vid), today)
                .await
                .expect("balance query")
                .expect("balance row");
            let ctx = format!("volunteer {vid} on {today}");
            assert_eq!(b.points_earned, dec2(acc.earned), "{ctx}");
            assert_eq!(b.points_spent, dec2(acc.spent), "{ctx}");
            assert_eq!(b.points_reversed, dec2(acc.reversed), "{ctx}");
            assert_eq!(
                b.points_balance,
                dec2(acc.earned - acc.spent - acc.reversed - acc.expired),
                "{ctx}"
            );
            assert_eq!(
                b.negative,
                acc.earned - acc.spent - acc.reversed - acc.expired < 0 || acc.banked < 0,
                "{ctx}"
            );
            assert_eq!(b.hours_banked, hours(acc.banked), "{ctx}");
            assert_eq!(b.hours_gifted, hours(acc.gifted), "{ctx}");
            assert_eq!(b.hours_received, hours(acc.received), "{ctx}");
            assert_eq!(b.hours_spent, hours(acc.hours_spent), "{ctx}");
            assert_eq!(b.verified_hours, hours(acc.verified), "{ctx}");
            assert_eq!(b.star_points, dec2(acc.earned - acc.reversed), "{ctx}");
            assert_eq!(b.points_expired, dec2(acc.expired), "{ctx}");
            let t = self.thresholds_on(acc.community, today);
            assert_eq!(
                b.star_thresholds,
                t.iter().map(|m| hours(*m)).collect::<Vec<_>>(),
                "{ctx}"
            );
            let (level, dates) = self.stars_on(acc, today);
            assert_eq!(b.star_level, level, "{ctx}");
            let want: Vec<(u32, Decimal, NaiveDate)> = dates
                .into_iter()
                .enumerate()
                .filter_map(|(i, d)| d.map(|d| (i as u32 + 1, hours(t[i]), d)))
                .collect();
            let got: Vec<(u32, Decimal, NaiveDate)> = b
                .stars
                .iter()
                .map(|s| (s.level, s.threshold_hours, s.reached_on))
                .collect();
            assert_eq!(got, want, "{ctx} stars");
        }
    }

    pub async fn check_statements(&self, db: &Db) {
        use projections::statement::{statement, Order};
        let reversed_by: HashMap<Uuid, Uuid> = self
            .accounts
            .values()
            .flat_map(|a| a.lines.iter())
            .filter_map(|l| l.4.map(|r| (r, l.3)))
            .collect();
        for (vid, acc) in &self.accounts {
            // page through in pages of 3
            let mut got = Vec::new();
            let mut cursor = None;
            loop {
                let page = statement(db, VolunteerId(*vid), cursor, 3, Order::OldestFirst)
                    .await
                    .expect("statement");
                got.extend(page.entries);
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            assert_eq!(
                got.len(),
                acc.lines.len(),
                "volunteer {vid} statement length"
            );
            let (mut p, mut m) = (0, 0);
            for (i, (g, w)) in got.iter().zip(&acc.lines).enumerate() {
                p += w.1;
                m += w.2;
                assert_eq!(g.seq, i as u64 + 1);
                assert_eq!(g.kind, w.0);
                assert_eq!(g.points_delta, dec2(w.1));
                assert_eq!(g.hours_delta, hours(w.2));
                assert_eq!(g.points_balance, dec2(p));
                assert_eq!(g.hours_balance, hours(m));
                assert_eq!(g.entry_id.0, w.3);
                assert_eq!(g.reverses.map(|r| r.0), w.4);
                assert_eq!(g.position, w.5);
                assert_eq!(g.reversed_by.map(|r| r.0), reversed_by.get(&w.3).copied());
                if let Some(want) = acc.details.get(&g.position) {
                    assert_eq!(&g.detail, want, "volunteer {vid} line {}", g.seq);
                }
            }
            let newest = statement(db, VolunteerId(*vid), None, 2, Order::NewestFirst)
                .await
                .expect("statement");
            let want: Vec<u64> = (1..=acc.lines.len() as u64).rev().take(2).collect();
            assert_eq!(
                newest.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
                want
            );
        }
    }

    pub async fn check_rankings(&self, db: &Db) {
        use projections::rankings::ranking;
        for ((period_key, scope_key), cells) in &self.cells {
            let period = parse_period(period_key);
            let scope = parse_scope(scope_key);
            for metric in [Metric::Points, Metric::Hours] {
                let value =
                    |c: &(String, i64, i64)| if metric == Metric::Points { c.1 } else { c.2 };
                let mut list: Vec<(Uuid, &(String, i64, i64))> = cells
                    .iter()
                    .filter(|(_, c)| value(c) > 0)
                    .map(|(v, c)| (*v, c))
                    .collect();
                list.sort_by(|a, b| {
                    value(b.1)
                        .cmp(&value(a.1))
                        .then(a.1 .0.cmp(&b.1 .0))
                        .then(a.0.to_string().cmp(&b.0.to_string()))
                });
                let mut want = Vec::new();
                let mut distinct: Vec<i64> = Vec::new();
                for (v, c) in &list {
                    if distinct.last() != Some(&value(c)) {
                        distinct.push(value(c));
                    }
                    want.push((distinct.len() as u64, *v, dec2(c.1), hours(c.2)));
                }
                let me = list
                    .first()
                    .map(|(v, _)| *v)
                    .or(cells.keys().next().copied());
                let got = ranking(db, &scope, period, metric, 1000, me.map(VolunteerId))
                    .await
                    .expect("ranking");
                let got_list: Vec<_> = got
                    .top
                    .iter()
                    .map(|e| (e.rank, e.volunteer_id.0, e.points, e.hours))
                    .collect();
                assert_eq!(
                    got_list, want,
                    "ranking {period_key} {scope_key} {metric:?}"
                );
                // every volunteer's own rank
                for (rank, v, _, _) in &want {
                    let r = ranking(db, &scope, period, metric, 0, Some(VolunteerId(*v)))
                        .await
                        .expect("own rank");
                    assert_eq!(r.me.map(|m| m.rank), Some(*rank), "own rank {v}");
                }
            }
        }
    }

    fn participation_max(&self, community: Uuid, version: u32) -> i64 {
        self.rubrics
            .get(&(community, version))
            .copied()
            .unwrap_or(2000)
    }

    /// Expected (stairwell, total hundredths, served) per month, in ranking order.
    pub fn stairwell_month(&self, community: Uuid, month: &str) -> Vec<(Uuid, i64, u32)> {
        let mut out = Vec::new();
        for ((sw, m), (items, version)) in &self.inspections {
            if m != month {
                continue;
            }
            let Some((c, _, _, households)) = self.stairwells.get(sw) else {
                continue;
            };
            if *c != community {
                continue;
            }
            // Distinct households; a volunteer without one is a household of their own.
            let served = self
                .served
                .iter()
                .filter(|((s, mm, _, _), n)| s == sw && mm == month && **n > 0)
                .map(|((_, _, v, h), _)| h.clone().ok_or(*v))
                .collect::<BTreeSet<Result<String, Uuid>>>()
                .len() as u32;
            let pmax = Decimal::new(self.participation_max(community, *version), 2);
            let part = if *households == 0 {
                Decimal::ZERO
            } else {
                let ratio =
                    Decimal::from(served) / (Decimal::new(3, 1) * Decimal::from(*households));
                (pmax * ratio.min(Decimal::ONE))
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
            };
            let ded: i64 = self
                .issues
                .values()
                .filter(|(s, rep, res, _)| {
                    s == sw
                        && rep.as_str() <= month
                        && res.as_ref().map(|r| r.as_str() > month).unwrap_or(true)
                })
                .map(|x| x.3)
                .sum();
            let total = (Decimal::new(*items, 2) + part - Decimal::new(ded, 2))
                .max(Decimal::ZERO)
                .min(Decimal::from(100));
            let total: i64 = (total * Decimal::ONE_HUNDRED).try_into().unwrap_or(0);
            out.push((*sw, total, served));
        }
        out.sort_by(|a, b| {
            let (sa, sb) = (&self.stairwells[&a.0], &self.stairwells[&b.0]);
            b.1.cmp(&a.1)
                .then(natural_cmp(&sa.1, &sb.1))
                .then(natural_cmp(&sa.2, &sb.2))
                .then(a.0.cmp(&b.0))
        });
        out
    }

    /// Expected (stairwell, total hundredths, served, rank, red flag) per month, in
    /// ranking order. Ranks are dense: a stairwell's rank is 1 + the number of distinct
    /// totals above its own, so ties share a rank and the next total takes the next one.
    /// The red flag goes to one stairwell: of those with the month's highest total, the
    /// first by building, unit and id.
    pub fn stairwell_ranked(
        &self,
        community: Uuid,
        month: &str,
    ) -> Vec<(Uuid, i64, u32, u64, bool)> {
        let list = self.stairwell_month(community, month);
        let totals: BTreeSet<i64> = list.iter().map(|x| x.1).collect();
        let top = totals.last().copied();
        let holder = list
            .iter()
            .filter(|x| Some(x.1) == top)
            .min_by(|a, b| {
                let (sa, sb) = (&self.stairwells[&a.0], &self.stairwells[&b.0]);
                natural_cmp(&sa.1, &sb.1)
                    .then(natural_cmp(&sa.2, &sb.2))
                    .then(a.0.cmp(&b.0))
            })
            .map(|x| x.0);
        list.into_iter()
            .map(|(sw, total, served)| {
                let rank = 1 + totals.range(total + 1..).count() as u64;
                (sw, total, served, rank, Some(sw) == holder)
            })
            .collect()
    }

    pub async fn check_stairwells(&self, db: &Db, community: Uuid) {
        let months: BTreeSet<String> = self.inspections.keys().map(|(_, m)| m.clone()).collect();
        for month in &months {
            let want = self.stairwell_ranked(community, month);
            let got: Vec<(Uuid, i64, u32, u64, bool)> =
                projections::stairwells::monthly_scores(db, CommunityId(community), month)
                    .await
                    .expect("scores")
                    .iter()
                    .map(|s| {
                        (
                            s.stairwell_id.0,
                            (s.total * Decimal::ONE_HUNDRED).try_into().unwrap_or(-1),
                            s.served,
                            s.rank,
                            s.red_flag,
                        )
                    })
                    .collect();
            assert_eq!(got, want, "stairwell scores, ranks and red flag {month}");
        }
        // Averages and the 流动红旗 history over quarters and years: 2024 (where
        // services are dated) and this month's quarter and year (where issues are).
        let today = cst_day(Utc::now());
        let next = today + Duration::days(32);
        let mut periods = vec![
            Period::Quarter(2024, 1),
            Period::Quarter(2024, 2),
            Period::Year(2024),
        ];
        for d in [today, next] {
            periods.push(Period::Quarter(d.year(), (d.month() - 1) / 3 + 1));
            periods.push(Period::Year(d.year()));
        }
        for period in periods {
            self.check_period(db, community, period).await;
        }
    }

    /// Averages (values, order, dense ranks) and red-flag holders of a period.
    async fn check_period(&self, db: &Db, community: Uuid, period: Period) {
        let mut sums: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
        let mut flags = Vec::new();
        for m in period.months() {
            let month = self.stairwell_month(community, &m);
            if let Some((sw, total, _)) = month.first() {
                flags.push((m.clone(), *sw, *total));
            }
            for (sw, total, _) in month {
                let e = sums.entry(sw).or_default();
                e.0 += total;
                e.1 += 1;
            }
        }
        let got: Vec<(String, Uuid, i64)> =
            projections::stairwells::red_flags(db, CommunityId(community), period)
                .await
                .expect("red flags")
                .into_iter()
                .map(|f| {
                    let total = (f.total * Decimal::ONE_HUNDRED).try_into().unwrap_or(-1);
                    (f.month, f.stairwell_id.0, total)
                })
                .collect();
        assert_eq!(got, flags, "red flags of {period:?}");
        let mut want: Vec<(Uuid, Decimal, u32)> = sums
            .iter()
            .map(|(sw, (sum, n))| {
                let avg = (Decimal::new(*sum, 2) / Decimal::from(*n))
                    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                (*sw, avg, *n as u32)
            })
            .collect();
        want.sort_by(|a, b| {
            let (sa, sb) = (&self.stairwells[&a.0], &self.stairwells[&b.0]);
            b.1.cmp(&a.1)
                .then(natural_cmp(&sa.1, &sb.1))
                .then(natural_cmp(&sa.2, &sb.2))
                .then(a.0.cmp(&b.0))
        });
        let mut ranks = Vec::new();
        for (i, w) in want.iter().enumerate() {
            let rank = match i {
                0 => 1,
                _ if want[i - 1].1 == w.1 => ranks[i - 1],
                _ => ranks[i - 1] + 1,
            };
            ranks.push(rank);
        }
        let got: Vec<(Uuid, Decimal, u32, u64)> =
            projections::stairwells::average_scores(db, CommunityId(community), period)
                .await
                .expect("averages")
                .into_iter()
                .map(|a| (a.stairwell_id.0, a.average, a.months_scored, a.rank))
                .collect();
        let want: Vec<(Uuid, Decimal, u32, u64)> = want
            .into_iter()
            .zip(ranks)
            .map(|((sw, avg, n), rank)| (sw, avg, n, rank))
            .collect();
        assert_eq!(got, want, "averages of {period:?}");
    }

    pub async fn check_wishes(&self, db: &Db, community: Uuid) {
        self.check_wish_board(db, community).await;
        for (wid, w) in &self.wishes {
            let g = projections::wishes::wish(db, WishId(*wid))
                .await
                .expect("wish")
                .expect("wish row");
            assert_eq!(g.status, w.status, "wish {wid}");
            assert_eq!(g.claimer.map(|c| c.0), w.claimer);
            assert_eq!(g.posted_at.timestamp_millis(), w.posted);
            assert_eq!(g.claimed_at.map(|t| t.timestamp_millis()), w.claimed);
            assert_eq!(g.fulfilled_at.map(|t| t.timestamp_millis()), w.fulfilled);
            assert_eq!(g.confirmed_at.map(|t| t.timestamp_millis()), w.confirmed);
            assert_eq!(g.cancelled_at.map(|t| t.timestamp_millis()), w.cancelled);
            assert_eq!(g.seconds_to_claim, w.claimed.map(|c| (c - w.posted) / 1000));
            assert_eq!(
                g.seconds_to_fulfil,
                w.fulfilled.map(|f| (f - w.posted) / 1000)
            );
        }
    }

    /// The wish board: every status and none, newest first (posted at, then id), whole
    /// and before the median posting time.
    async fn check_wish_board(&self, db: &Db, community: Uuid) {
        let mut times: Vec<i64> = self.wishes.values().map(|w| w.posted).collect();
        times.sort_unstable();
        let median = times.get(times.len() / 2).copied();
        for status in [
            None,
            Some("open"),
            Some("claimed"),
            Some("fulfilled"),
            Some("confirmed"),
            Some("cancelled"),
        ] {
            for before in [None, median] {
                let mut want: Vec<(i64, Uuid)> = self
                    .wishes
                    .iter()
                    .filter(|(_, w)| status.is_none_or(|s| w.status == s))
                    .filter(|(_, w)| before.is_none_or(|b| w.posted < b))
                    .map(|(id, w)| (w.posted, *id))
                    .collect();
                want.sort_unstable_by(|a, b| b.cmp(a));
                let got: Vec<(i64, Uuid)> = projections::wishes::wishes(
                    db,
                    CommunityId(community),
                    status,
                    before.and_then(chrono::DateTime::<Utc>::from_timestamp_millis),
                    500,
                )
                .await
                .expect("wish board")
                .into_iter()
                .map(|w| (w.posted_at.timestamp_millis(), w.wish_id.0))
                .collect();
                assert_eq!(got, want, "wish board {status:?} before {before:?}");
            }
        }
    }

    pub async fn check_dashboard(&self, db: &Db, community: Uuid) {
        for today in [
            NaiveDate::from_ymd_opt(2024, 3, 15).unwrap_or_default(),
            cst_day(Utc::now()),
        ] {
            let d = projections::dashboard::dashboard(db, CommunityId(community), today)
                .await
                .expect("dashboard");
            assert_eq!(
                d.active_volunteers as i64,
                self.active.get(&community).copied().unwrap_or(0)
            );
            let open = self.wishes.values().filter(|w| w.status == "open").count() as u64;
            let prog = self
                .wishes
                .values()
                .filter(|w| w.status == "claimed" || w.status == "fulfilled")
                .count() as u64;
            assert_eq!(d.open_wishes, open);
            assert_eq!(d.wishes_in_progress, prog);
            let month = month_of(today);
            let year = format!("{:04}", today.year());
            for (totals, keep) in [
                (
                    &d.this_month,
                    Box::new(|m: &str| m == month) as Box<dyn Fn(&str) -> bool>,
                ),
                (&d.this_year, Box::new(|m: &str| m.starts_with(&year))),
            ] {
                let (mut p, mut mi, mut s) = (0, 0, 0);
                for ((c, m), v) in &self.months {
                    if *c == community && keep(m) {
                        p += v.0;
                        mi += v.1;
                        s += v.2;
                    }
                }
                assert_eq!(totals.points, dec2(p), "points {month}");
                assert_eq!(totals.hours, hours(mi));
                assert_eq!(totals.services as i64, s);
                let mut kinds: BTreeMap<String, (i64, i64)> = BTreeMap::new();
                for ((c, m, k), v) in &self.kinds {
                    if *c == community && keep(m) {
                        let e = kinds.entry(k.clone()).or_default();
                        e.0 += v.0;
                        e.1 += v.1;
                    }
                }
                let want: Vec<(String, u64, Decimal)> = kinds
                    .into_iter()
                    .filter(|(_, v)| v.0 > 0)
                    .map(|(k, v)| (k, v.0 as u64, hours(v.1)))
                    .collect();
                let got: Vec<(String, u64, Decimal)> = totals
                    .by_kind
                    .iter()
                    .map(|k| (k.kind.clone(), k.services, k.hours))
                    .collect();
                assert_eq!(got, want);
                let served: BTreeSet<Uuid> = self
                    .dash_served
                    .iter()
                    .filter(|((c, m, _), n)| *c == community && keep(m) && **n > 0)
                    .map(|((_, _, v), _)| *v)
                    .collect();
                assert_eq!(totals.volunteers_served, served.len() as u64);
            }
            // The periods' active volunteers kept by the read model (a street's table).
            let (y, q) = (today.year(), (today.month() - 1) / 3 + 1);
            for period in [
                Period::AllTime,
                Period::Year(y),
                Period::Quarter(y, q),
                Period::Month(y, today.month()),
                Period::Year(2024),
                Period::Month(2024, 3),
            ] {
                let key = period.key();
                let within = |m: &str| match period {
                    Period::AllTime => true,
                    Period::Quarter(y, q) => {
                        m.starts_with(&format!("{y:04}-"))
                            && (m[5..].parse::<u32>().unwrap_or(0) - 1) / 3 + 1 == q
                    }
                    _ => m.starts_with(&key),
                };
                let served: BTreeSet<Uuid> = self
                    .dash_served
                    .iter()
                    .filter(|((c, m, _), n)| *c == community && within(m) && **n > 0)
                    .map(|((_, _, v), _)| *v)
                    .collect();
                let f = projections::dashboard::communities_figures(
                    db,
                    &[CommunityId(community)],
                    period,
                    today,
                )
                .await
                .expect("figures");
                assert_eq!(f[0].active_volunteers, served.len() as u64, "{key}");
            }
            let flag = self
                .inspections
                .keys()
                .filter(|(sw, m)| {
                    self.stairwells.get(sw).map(|s| s.0) == Some(community)
                        && m.as_str() <= month.as_str()
                })
                .map(|(_, m)| m.clone())
                .max()
                .and_then(|m| self.stairwell_month(community, &m).first().map(|x| x.0));
            assert_eq!(d.red_flag.map(|r| r.stairwell_id.0), flag);
        }
    }

    pub async fn check_all(&self, db: &Db, community: Uuid) {
        self.check_balances(db).await;
        self.check_statements(db).await;
        self.check_rankings(db).await;
        self.check_stairwells(db, community).await;
        self.check_wishes(db, community).await;
        self.check_dashboard(db, community).await;
        self.check_activities(db).await;
        self.check_shop(db, community).await;
        self.inbox.check(db).await;
    }

    /// The catalogue and every redemption (by volunteer and by code) against the
    /// ledger's fold of each item.
    pub async fn check_shop(&self, db: &Db, community: Uuid) {
        use ledger::domain::shop::RedemptionStage;
        use projections::shop;
        let c = CommunityId(community);
        let all = shop::shop_items(db, c, true).await.expect("items");
        let offered = shop::shop_items(db, c, false).await.expect("items");
        assert_eq!(all.len(), self.shop.len(), "shop items");
        assert_eq!(
            offered.len(),
            self.shop.values().filter(|s| !s.withdrawn).count()
        );
        for got in &all {
            let want = &self.shop[&got.item_id.0];
            let live = want
                .redemptions
                .values()
                .filter(|r| r.stage != RedemptionStage::Cancelled);
            assert_eq!(
                (
                    got.name.as_str(),
                    got.price,
                    got.stock,
                    got.withdrawn,
                    got.redeemed as usize,
                    got.collected as usize
                ),
                (
                    want.name.as_str(),
                    want.price.to_decimal(),
                    want.stock,
                    want.withdrawn,
                    live.count(),
                    want.redemptions
                        .values()
                        .filter(|r| r.stage == RedemptionStage::Collected)
                        .count()
                ),
                "item {}",
                got.item_id
            );
            for (rid, r) in &want.redemptions {
                let mine = shop::redemptions_of(db, VolunteerId(r.volunteer_id.0))
                    .await
                    .expect("redemptions");
                let g = mine
                    .iter()
                    .find(|x| x.redemption_id.0 == rid.0)
                    .expect("the volunteer's redemption");
                assert_eq!(
                    (g.status, g.points, g.code.as_str(), g.item_id.0),
                    (
                        r.stage,
                        r.points.to_decimal(),
                        r.code.as_str(),
                        got.item_id.0
                    )
                );
                let by_code = shop::redemptions_by_code(db, c, &r.code.to_lowercase())
                    .await
                    .expect("by code");
                assert!(by_code.iter().any(|x| x.redemption_id.0 == rid.0));
            }
        }
        // The stock sheet of this month ends where the items are.
        let month = projections::common::local_date(chrono::Utc::now());
        for line in shop::stock_month(db, c, month).await.expect("stock month") {
            let want = &self.shop[&line.item_id.0];
            assert_eq!(line.closing, i64::from(want.stock), "closing stock");
            assert_eq!(
                line.opening + line.added - line.counted_off - line.redeemed + line.returned,
                line.closing
            );
        }
    }

    /// Every activity's counts and every volunteer in it, against the ledger's fold.
    pub async fn check_activities(&self, db: &Db) {
        use ledger::domain::activity::{RecordStatus, Signup};
        use projections::activities;
        for (id, a) in &self.activities {
            let id = ActivityId(*id);
            let got = activities::activity(db, id)
                .await
                .expect("activity")
                .expect("row");
            let status = if a.cancelled {
                "cancelled"
            } else if a.approved {
                "approved"
            } else {
                "open"
            };
            let pending = a
                .people
                .values()
                .filter(|p| {
                    matches!(
                        p.record.as_ref().map(|r| r.status),
                        Some(RecordStatus::Pending { .. })
                    )
                })
                .count() as u32;
            let checked_in = a.people.values().filter(|p| p.checked_in.is_some()).count() as u32;
            assert_eq!(
                (
                    got.status.as_str(),
                    got.taken,
                    got.waiting as usize,
                    got.checked_in,
                    got.pending
                ),
                (status, a.taken(), a.waiting.len(), checked_in, pending),
                "activity {id}"
            );
            let roster = activities::roster(db, id).await.expect("roster");
            assert_eq!(roster.len(), a.people.len(), "people of {id}");
            for p in roster {
                let o = &a.people[&p.volunteer_id];
                let signup = match o.signup {
                    Signup::Place => "place",
                    Signup::Waiting => "waiting",
                    Signup::None => "none",
                };
                let record = o.record.as_ref().map(|r| match r.status {
                    RecordStatus::Pending { .. } => "pending",
                    RecordStatus::Final => "final",
                    RecordStatus::Rejected => "rejected",
                });
                assert_eq!(
                    (
                        p.signup.as_str(),
                        p.checked_in,
                        p.checked_out,
                        p.record.as_deref()
                    ),
                    (signup, o.checked_in, o.checked_out, record),
                    "{} in {id}",
                    p.volunteer_id
                );
                if let Some(r) = &o.record {
                    assert_eq!(
                        (p.hours, p.points),
                        (
                            Some(r.record.hours.to_decimal()),
                            Some(r.record.points.to_decimal())
                        ),
                        "record of {} in {id}",
                        p.volunteer_id
                    );
                }
                let rank = (o.signup == Signup::Waiting)
                    .then(|| {
                        a.waiting
                            .iter()
                            .position(|v| *v == p.volunteer_id)
                            .map(|i| i as u32 + 1)
                    })
                    .flatten();
                assert_eq!(p.waiting_rank, rank, "waiting list of {id}");
                // One volunteer's place, read alone, is the roster's.
                let alone = activities::participant(db, id, p.volunteer_id)
                    .await
                    .expect("participant");
                assert_eq!(alone.as_ref(), Some(&p), "{} alone in {id}", p.volunteer_id);
            }
        }
    }
}

/// Star level and dates on `today`, plainly: walk the moments (a version coming into
/// force on each of `switches`, before that day's entries; then each entry of the
/// timeline), decide at each whether each star is held under the thresholds in force
/// that day, and date a star by the last moment it went from not held to held.
pub fn oracle_stars(
    timeline: &[(NaiveDate, i64, i64)],
    switches: &[NaiveDate],
    today: NaiveDate,
    rule_on: impl Fn(NaiveDate) -> ledger::domain::community::StarThresholds,
) -> (u32, Vec<Option<NaiveDate>>) {
    use ledger::amount::{Hours, Points};
    // (day, 0 for a switch / 1 for an entry, index) in order; entries keep theirs.
    let mut moments: Vec<(NaiveDate, u8, usize)> = switches.iter().map(|d| (*d, 0, 0)).collect();
    moments.extend(timeline.iter().enumerate().map(|(i, (d, _, _))| (*d, 1, i)));
    moments.sort();
    let mut held = [false; 8];
    let mut dates: [Option<NaiveDate>; 8] = [None; 8];
    let (mut minutes, mut points) = (0, 0);
    let holds = |t: &ledger::domain::community::StarThresholds, s: usize, m: i64, p: i64| {
        t.holds(s, Hours::from_minutes(m), Points::from_hundredths(p))
    };
    for (day, kind, i) in moments {
        if kind == 1 {
            (minutes, points) = (timeline[i].1, timeline[i].2);
        }
        let t = rule_on(day);
        for s in 0..held.len() {
            let h = holds(&t, s, minutes, points);
            if h && !held[s] {
                dates[s] = Some(day);
            }
            held[s] = h;
        }
    }
    let now = rule_on(today);
    let level = now.level(
        Hours::from_minutes(minutes),
        Points::from_hundredths(points),
    ) as u32;
    let dates = (0..now.thresholds.len())
        .map(|s| {
            if holds(&now, s, minutes, points) {
                dates[s]
            } else {
                None
            }
        })
        .collect();
    (level, dates)
}

pub fn parse_period(k: &str) -> Period {
    if k == "all" {
        return Period::AllTime;
    }
    let y: i32 = k[..4].parse().expect("year");
    if k.len() == 4 {
        Period::Year(y)
    } else if let Some(q) = k.strip_prefix(&format!("{y:04}-Q")) {
        Period::Quarter(y, q.parse().expect("quarter"))
    } else {
        Period::Month(y, k[5..].parse().expect("month"))
    }
}

pub fn parse_scope(k: &str) -> Scope {
    let u = |s: &str| Uuid::parse_str(s).expect("uuid");
    if let Some(r) = k.strip_prefix("c:") {
        Scope::Community(CommunityId(u(r)))
    } else if let Some(r) = k.strip_prefix("g:") {
        Scope::Grid(GridId(u(r)))
    } else if let Some(r) = k.strip_prefix("t:") {
        Scope::Team(TeamId(u(r)))
    } else {
        let r = k.strip_prefix("tag:").expect("tag scope");
        let (c, tag) = r.split_at(36);
        Scope::Tag(CommunityId(u(c)), tag[1..].to_string())
    }
}

/// Every row of every projection table, sorted, for table-for-table comparisons.
pub async fn dump(db: &Db) -> BTreeMap<String, Vec<Vec<projections::db::Val>>> {
    let mut out = BTreeMap::new();
    for p in projections::all() {
        for t in p.tables() {
            let additive = [
                "pj_rank_activity",
                "pj_sw_served",
                "pj_dash_communities",
                "pj_dash_months",
                "pj_dash_kinds",
                "pj_dash_served",
                "pj_dash_active_vols",
                "pj_dash_active",
            ]
            .contains(&t.name);
            let rows = projections::db::dump_table(db, t.name, additive)
                .await
                .expect("dump");
            out.insert(t.name.to_string(), rows);
        }
    }
    out
}
