//! A realistic community history, generated through the command layer (`timebank demo`).
//!
//! For each community: point rules (two versions), star thresholds and the rubric, grids
//! and micro-grids (网格/微网格), about one stairwell per ten volunteers, the six colour
//! teams (文化健身, 邻里互助, 文明风尚, 守护青少年, 医疗健康, 巾帼) and a party-member team,
//! volunteers with tags (党员, 五老, 青年…); then, over about two years, services of every
//! kind (verified, rejected, a few pending), awards, redemptions at the points shop, a few
//! reversals, gifts and spending of hours, wishes through their whole lifecycle, monthly
//! stairwell inspections and issues.
//!
//! Deterministic for a seed: ids, idempotency keys, timestamps and choices derive from
//! the seed only (not the wall clock; the timeline ends at a fixed date derived from the
//! seed, moved earlier if the handler's clock is earlier). Work is done in rounds in
//! which each stream is touched by at most one chain of commands, and chains within a
//! round run concurrently (so group commit batches them); every stream therefore gets
//! the same events on every run, while the interleaving of streams in the global log may
//! differ. Running it again with the same seed on the same database replays the stored
//! results and writes nothing.

//!
//! Layout: `setup` sets up each community and registers its volunteers; `round`
//! chooses what happens in a round (inspections, resolutions, one chain per chosen
//! volunteer); `chain` runs chains of dependent commands and reads their results;
//! `activity` adds the activities once the rest is written; `today` (with `record`)
//! adds the present week.

mod activity;
mod chain;
mod record;
mod round;
mod setup;
mod today;

pub use today::{present, PresentDay};

use crate::amount::{Hours, Points};
use crate::command::*;
use crate::domain::TIMEBANK_NAMESPACE;
use crate::event::{default_rubric_items, ServiceKind, DEFAULT_PARTICIPATION_MAX};
use crate::ids::*;
use chain::{run_chain, run_one, BalanceUpdate, ChainKind, Step};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use futures::stream::{self, StreamExt};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use round::Chain;
use rust_decimal::Decimal;
use setup::{CommunitySetup, Gen};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Volunteers per community.
    pub volunteers: u64,
    /// Events to write in total (at least; the last round may add a few more).
    pub events: u64,
    pub seed: u64,
    pub communities: u64,
    /// Commands in flight at once.
    pub concurrency: usize,
    /// Activities per community (志愿活动, with sign-ups, attendance, approval, 补录,
    /// notices and objections), generated after the rest of the history.
    pub activities: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            volunteers: 200,
            events: 10_000,
            seed: 1,
            communities: 1,
            concurrency: 64,
            activities: 12,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoSummary {
    pub community_ids: Vec<CommunityId>,
    /// Events the generated history holds (including events of commands that were
    /// already stored by an earlier run with the same seed).
    pub events_written: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo command {command} ({key}) failed: {source}")]
    Command {
        command: &'static str,
        key: String,
        #[source]
        source: CommandError,
    },
    #[error("demo: {0}")]
    Unexpected(String),
}

const TEAMS: [&str; 7] = [
    "文化健身",
    "邻里互助",
    "文明风尚",
    "守护青少年",
    "医疗健康",
    "巾帼",
    "红管家服务队",
];
const COMMUNITY_NAMES: [&str; 8] = [
    "幸福", "和平", "新华", "阳光", "海棠", "丰收", "长青", "团结",
];
const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "高", "罗",
];
const GIVEN: [&str; 18] = [
    "秀英", "桂兰", "建国", "国华", "淑珍", "志强", "丽华", "红梅", "海燕", "俊杰", "子涵", "浩然",
    "文博", "晓明", "玉兰", "德胜", "春生", "美玲",
];
const AWARD_REASONS: [&str; 6] = [
    "积极参与垃圾分类宣传",
    "楼道清理表现突出",
    "协助疫苗接种宣传",
    "参与防汛值守",
    "见义勇为",
    "参与社区议事会",
];
const SHOP: [(&str, i64); 6] = [
    ("大米5kg", 60),
    ("食用油", 50),
    ("洗衣液", 30),
    ("理发券", 20),
    ("物业费抵扣券", 100),
    ("毛巾", 10),
];
const WISHES: [(&str, &str); 5] = [
    ("维修", "家里水龙头漏水，希望有人帮忙修理"),
    ("陪伴", "希望有人周末陪老人聊天"),
    ("代购", "帮忙代购降压药"),
    ("学习", "想学用智能手机视频通话"),
    ("理发", "行动不便，希望上门理发"),
];
const PLACES: [&str; 5] = ["小区东门", "3号楼", "社区活动中心", "老年食堂", "中心花园"];

fn uuid_of(seed: u64, label: &str) -> Uuid {
    Uuid::new_v5(
        &TIMEBANK_NAMESPACE,
        format!("demo:{seed}:{label}").as_bytes(),
    )
}

/// What the generator knows of a volunteer between rounds.
#[derive(Debug, Clone)]
struct Sim {
    id: VolunteerId,
    community: usize,
    points: i64,
    minutes: i64,
    reversible: Vec<EntryId>,
    teams: Vec<TeamId>,
    departed: bool,
    stairwell: StairwellId,
}

fn dec_minutes(minutes: i64) -> Decimal {
    Hours::from_minutes(minutes).to_decimal()
}

/// Generates the history; `progress` is called with the running total of events.
pub async fn generate(
    handler: &CommandHandler,
    opts: DemoOptions,
    progress: impl Fn(u64),
) -> Result<DemoSummary, DemoError> {
    let seed = opts.seed;
    let mut rng = StdRng::seed_from_u64(seed);
    let fixed_end = Utc
        .with_ymd_and_hms(2025, 12, 31, 4, 0, 0)
        .single()
        .ok_or_else(|| DemoError::Unexpected("bad end date".into()))?
        - Duration::days((seed % 90) as i64);
    let latest = handler.now() - Duration::days(1);
    let end = fixed_end.min(latest);
    let start = end - Duration::days(730);
    let admin = Actor::admin(uuid_of(seed, "admin"));
    let mut gen = Gen {
        handler,
        seed,
        counter: 0,
    };
    let mut written = 0u64;
    let mut setups = Vec::new();
    let mut sims: Vec<Sim> = Vec::new();
    for ci in 0..opts.communities.max(1) as usize {
        let setup = setup::community(
            &mut gen,
            &mut rng,
            &admin,
            &opts,
            ci,
            (start, end),
            &mut written,
            &mut sims,
            &progress,
        )
        .await?;
        setups.push(setup);
    }
    let mut history = History {
        handler,
        opts: &opts,
        rng,
        setups,
        index: sims.iter().enumerate().map(|(i, s)| (s.id, i)).collect(),
        sims,
        written,
        open_issues: Vec::new(),
    };
    history.run((start, end), &progress).await?;
    let activities = activity::activities(
        handler,
        &opts,
        &admin,
        &history.setups,
        &history.sims,
        (start, end),
    )
    .await?;
    progress(history.written + activities);
    Ok(DemoSummary {
        community_ids: history.setups.iter().map(|s| s.id).collect(),
        events_written: history.written + activities,
    })
}

/// A finished chain: its index in the round, its results and the events it holds.
type ChainRun = (usize, Vec<Outcome>, u64);

/// The main history, in rounds.
struct History<'a> {
    handler: &'a CommandHandler,
    opts: &'a DemoOptions,
    rng: StdRng,
    setups: Vec<CommunitySetup>,
    sims: Vec<Sim>,
    index: HashMap<VolunteerId, usize>,
    written: u64,
    open_issues: Vec<(usize, StairwellId, IssueId)>,
}

impl History<'_> {
    async fn run(
        &mut self,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        progress: &impl Fn(u64),
    ) -> Result<(), DemoError> {
        let seed = self.opts.seed;
        let per_round = ((self.sims.len() as u64) / 2).clamp(1, 4096);
        let rounds = (self.opts.events.saturating_sub(self.written) / (per_round * 2)).max(24);
        let window = (end - start) / rounds as i32;
        let mut round = 0u64;
        let mut last_month: Option<String> = None;
        while self.written < self.opts.events {
            let t0 = (start + window * round.min(rounds - 1) as i32).min(end);
            let month = format!(
                "{:04}-{:02}",
                crate::domain::local_date(t0).year(),
                crate::domain::local_date(t0).month()
            );
            let mut chain_id = 0u64;
            let mut prefix = || {
                chain_id += 1;
                format!("demo:{seed}:r{round}:c{chain_id}")
            };
            // monthly inspections of the month that just ended, and issues
            let mut chains = match last_month.as_ref().filter(|m| **m != month) {
                Some(prev) => round::inspections(&mut self.rng, &self.setups, prev, &mut prefix),
                None => Vec::new(),
            };
            last_month = Some(month);
            // resolve some open issues (their stairwells are not inspected this round
            // unless the month changed)
            let inspected_round = !chains.is_empty();
            chains.extend(round::resolutions(
                &mut self.rng,
                &self.setups,
                &mut self.open_issues,
                inspected_round,
                &mut prefix,
            ));
            // volunteer chains: each volunteer in at most one chain per round
            let mut order: Vec<usize> = (0..self.sims.len())
                .filter(|i| !self.sims[*i].departed)
                .collect();
            if order.is_empty() && chains.is_empty() {
                break;
            }
            order.shuffle(&mut self.rng);
            let remaining = self.opts.events.saturating_sub(self.written);
            let take = (per_round as usize)
                .min(order.len())
                .min((remaining / 2 + 1) as usize);
            let chosen: Vec<usize> = order.iter().take(take).copied().collect();
            let mut spare: Vec<usize> = order.iter().skip(take).copied().collect();
            for vi in chosen {
                let sim = self.sims[vi].clone();
                let s = &self.setups[sim.community];
                let at = t0 + Duration::minutes(self.rng.gen_range(0..window.num_minutes().max(1)));
                let at = at.min(end);
                let roll = self.rng.gen_range(0..1000);
                let (step, kind) = round::volunteer_chain(
                    &mut self.rng,
                    &sim,
                    s,
                    &self.sims,
                    &mut spare,
                    at,
                    roll,
                );
                chains.push((prefix(), step, kind));
            }
            self.run_round(&chains).await?;
            progress(self.written);
            round += 1;
        }
        Ok(())
    }

    /// Runs a round's chains concurrently and takes in what they report, in the order
    /// of the chains.
    async fn run_round(&mut self, chains: &[Chain]) -> Result<(), DemoError> {
        let handler = self.handler;
        let results: Vec<Result<ChainRun, DemoError>> =
            stream::iter(chains.iter().enumerate().map(|(i, (p, step, kind))| {
                let step = Step {
                    actor: step.actor.clone(),
                    command: step.command.clone(),
                };
                let kind = kind.clone();
                async move {
                    let (values, n) =
                        run_chain(handler, p.clone(), step, move |i, v| kind.next(i, v)).await?;
                    Ok((i, values, n))
                }
            }))
            .buffer_unordered(self.opts.concurrency.max(1))
            .collect()
            .await;
        let mut by_index: Vec<ChainRun> = Vec::with_capacity(results.len());
        for r in results {
            by_index.push(r?);
        }
        by_index.sort_by_key(|r| r.0);
        for (i, values, n) in by_index {
            self.written += n;
            self.take_in(&chains[i].2, &values);
        }
        Ok(())
    }

    /// What a finished chain tells of its volunteers and stairwells.
    fn take_in(&mut self, kind: &ChainKind, values: &[Outcome]) {
        for BalanceUpdate {
            volunteer,
            points,
            minutes,
            add_reversible,
            remove_reversible,
        } in kind.report(values).balances
        {
            if let Some(sim) = self.sim(volunteer) {
                if let Some(p) = points {
                    sim.points = p;
                }
                if let Some(m) = minutes {
                    sim.minutes = m;
                }
                if let Some(e) = add_reversible {
                    sim.reversible.push(e);
                }
                if let Some(e) = remove_reversible {
                    sim.reversible.retain(|x| *x != e);
                }
            }
        }
        match kind {
            ChainKind::Team(vid, team, joined) => {
                if let Some(sim) = self.sim(*vid) {
                    if *joined {
                        sim.teams.push(*team);
                    } else {
                        sim.teams.retain(|t| t != team);
                    }
                }
            }
            ChainKind::Move(vid, st) => {
                if let Some(sim) = self.sim(*vid) {
                    sim.stairwell = *st;
                }
            }
            ChainKind::Depart(vid) => {
                if let Some(sim) = self.sim(*vid) {
                    sim.departed = true;
                }
            }
            ChainKind::Inspection {
                community,
                stairwell,
                issue: true,
                ..
            } => {
                if let Some(Outcome::ReportStairwellIssue(IssueRef { issue_id })) = values.get(1) {
                    self.open_issues.push((*community, *stairwell, *issue_id));
                }
            }
            _ => {}
        }
    }

    fn sim(&mut self, id: VolunteerId) -> Option<&mut Sim> {
        let i = *self.index.get(&id)?;
        self.sims.get_mut(i)
    }
}
