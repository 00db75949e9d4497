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

use crate::command::*;
use crate::domain::TIMEBANK_NAMESPACE;
use crate::event::{default_rubric_items, ServiceKind, DEFAULT_PARTICIPATION_MAX};
use crate::ids::*;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use futures::stream::{self, StreamExt};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
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
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            volunteers: 200,
            events: 10_000,
            seed: 1,
            communities: 1,
            concurrency: 64,
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

/// Events a command writes when it first runs (to count replays too).
fn events_of(c: &Command) -> u64 {
    match c {
        Command::RegisterVolunteer(_) | Command::GiftHours(_) => 2,
        Command::ConfirmWish(_) => 3,
        _ => 1,
    }
}

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

struct CommunitySetup {
    id: CommunityId,
    staff: Actor,
    stairwells: Vec<StairwellId>,
    teams: Vec<TeamId>,
}

/// One command of a chain, with who issues it.
struct Step {
    actor: Actor,
    command: Command,
}

/// New balances of a volunteer after a chain, and its reversible entries.
struct BalanceUpdate {
    volunteer: VolunteerId,
    points: Option<i64>,
    minutes: Option<i64>,
    add_reversible: Option<EntryId>,
    remove_reversible: Option<EntryId>,
}

fn update(
    volunteer: VolunteerId,
    points: Option<i64>,
    minutes: Option<i64>,
    add_reversible: Option<EntryId>,
    remove_reversible: Option<EntryId>,
) -> BalanceUpdate {
    BalanceUpdate {
        volunteer,
        points,
        minutes,
        add_reversible,
        remove_reversible,
    }
}

type ChainResult = Result<(usize, Vec<Value>, u64), DemoError>;

/// What a finished chain tells the generator.
#[derive(Default)]
struct ChainReport {
    /// Per volunteer: new points/hours balances and a reversible entry, if any.
    balances: Vec<BalanceUpdate>,
}

fn parse_hundredths(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    crate::amount::Points::from_decimal(s.parse().ok()?)
        .ok()
        .map(|p| p.hundredths())
}

fn parse_minutes(v: &Value) -> Option<i64> {
    v.as_str()?
        .parse::<crate::amount::Hours>()
        .ok()
        .map(|h| h.minutes())
}

fn parse_id<T: From<Uuid>>(v: &Value) -> Option<T> {
    v.as_str()?.parse::<Uuid>().ok().map(T::from)
}

struct Gen<'a> {
    handler: &'a CommandHandler,
    seed: u64,
    counter: u64,
}

impl Gen<'_> {
    fn key(&mut self, label: &str) -> String {
        self.counter += 1;
        format!("demo:{}:{}:{}", self.seed, label, self.counter)
    }

    async fn run(
        &mut self,
        actor: &Actor,
        label: &str,
        command: Command,
    ) -> Result<(Value, u64), DemoError> {
        let key = self.key(label);
        run_one(self.handler, actor, key, command).await
    }
}

async fn run_one(
    handler: &CommandHandler,
    actor: &Actor,
    key: String,
    command: Command,
) -> Result<(Value, u64), DemoError> {
    let n = events_of(&command);
    let name = command.name();
    match handler.execute(actor, &key, command).await {
        Ok(out) => Ok((out.result, n)),
        Err(source) => Err(DemoError::Command {
            command: name,
            key,
            source,
        }),
    }
}

/// Runs a chain of dependent commands; each step is built from the previous result.
async fn run_chain(
    handler: &CommandHandler,
    key_prefix: String,
    first: Step,
    mut next: impl FnMut(usize, &Value) -> Option<Step>,
) -> Result<(Vec<Value>, u64), DemoError> {
    let mut results = Vec::new();
    let mut events = 0;
    let mut step = Some(first);
    let mut i = 0;
    while let Some(s) = step {
        let key = format!("{key_prefix}:{i}");
        match run_one(handler, &s.actor, key, s.command).await {
            Ok((v, n)) => {
                events += n;
                step = next(i, &v);
                results.push(v);
            }
            Err(DemoError::Command { source, .. })
                if matches!(
                    source.code(),
                    "INSUFFICIENT_POINTS" | "INSUFFICIENT_HOURS" | "ACCOUNT_FLAGGED"
                ) =>
            {
                step = None;
            }
            Err(e) => return Err(e),
        }
        i += 1;
    }
    Ok((results, events))
}

fn dec_minutes(minutes: i64) -> Decimal {
    crate::amount::Hours::from_minutes(minutes).to_decimal()
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
        let name = format!(
            "{}社区{}",
            COMMUNITY_NAMES[(seed as usize + ci) % COMMUNITY_NAMES.len()],
            if ci == 0 {
                String::new()
            } else {
                format!("{}", ci + 1)
            }
        );
        let (v, n) = gen
            .run(&admin, "community", EstablishCommunity { name }.into())
            .await?;
        written += n;
        let cid: CommunityId = parse_id(&v["community_id"])
            .ok_or_else(|| DemoError::Unexpected("no community id".into()))?;
        let staff = Actor::staff(uuid_of(seed, &format!("staff-{ci}")), cid);
        let day = |t: DateTime<Utc>| crate::domain::local_date(t);
        let coefficients: BTreeMap<ServiceKind, Decimal> = [
            (ServiceKind::Patrol, Decimal::ONE),
            (ServiceKind::Repair, Decimal::new(12, 1)),
            (ServiceKind::ElderlyVisit, Decimal::new(12, 1)),
            (ServiceKind::Wish, Decimal::new(15, 1)),
            (ServiceKind::Mediation, Decimal::new(13, 1)),
            (ServiceKind::Other, Decimal::ONE),
        ]
        .into_iter()
        .collect();
        let mid = start + (end - start) / 2;
        let setup_cmds: Vec<Command> = vec![
            SetPointRules {
                community_id: cid,
                points_per_hour: Decimal::from(10),
                coefficients: coefficients.clone(),
                max_hours_per_record: Decimal::from(4),
                effective_from: day(start) - Duration::days(1),
            }
            .into(),
            SetPointRules {
                community_id: cid,
                points_per_hour: Decimal::from(12),
                coefficients,
                max_hours_per_record: Decimal::from(6),
                effective_from: day(mid),
            }
            .into(),
            SetStarThresholds {
                community_id: cid,
                thresholds: [100, 300, 600, 1000, 1500]
                    .into_iter()
                    .map(Decimal::from)
                    .collect(),
                effective_from: day(start) - Duration::days(1),
            }
            .into(),
            SetRubric {
                community_id: cid,
                items: default_rubric_items(),
                participation_max: Decimal::from(DEFAULT_PARTICIPATION_MAX),
                effective_from: NaiveDate::from_ymd_opt(day(start).year(), day(start).month(), 1)
                    .unwrap_or(day(start)),
            }
            .into(),
        ];
        for c in setup_cmds {
            written += gen.run(&admin, "setup", c).await?.1;
        }
        // grids and micro-grids
        let grid_count = (opts.volunteers / 60).clamp(2, 80);
        let mut grids = Vec::new();
        for g in 0..grid_count {
            let (v, n) = gen
                .run(
                    &staff,
                    "grid",
                    AddGrid {
                        community_id: cid,
                        name: format!("第{}网格", g + 1),
                        parent: None,
                    }
                    .into(),
                )
                .await?;
            written += n;
            let gid: GridId =
                parse_id(&v["grid_id"]).ok_or_else(|| DemoError::Unexpected("grid".into()))?;
            grids.push(gid);
            if g % 3 == 0 {
                let (v, n) = gen
                    .run(
                        &staff,
                        "grid",
                        AddGrid {
                            community_id: cid,
                            name: format!("第{}网格微网格1", g + 1),
                            parent: Some(gid),
                        }
                        .into(),
                    )
                    .await?;
                written += n;
                grids.push(
                    parse_id(&v["grid_id"]).ok_or_else(|| DemoError::Unexpected("grid".into()))?,
                );
            }
        }
        let mut stairwells = Vec::new();
        for s in 0..(opts.volunteers / 10).max(1) {
            let (v, n) = gen
                .run(
                    &staff,
                    "stairwell",
                    RegisterStairwell {
                        community_id: cid,
                        grid_id: grids[s as usize % grids.len()],
                        building: format!("{}号楼", s / 4 + 1),
                        unit: format!("{}单元", s % 4 + 1),
                        households: rng.gen_range(10..=100),
                    }
                    .into(),
                )
                .await?;
            written += n;
            stairwells.push(
                parse_id(&v["stairwell_id"])
                    .ok_or_else(|| DemoError::Unexpected("stairwell".into()))?,
            );
        }
        let mut teams = Vec::new();
        for t in TEAMS {
            let (v, n) = gen
                .run(
                    &staff,
                    "team",
                    FormTeam {
                        community_id: cid,
                        name: t.to_string(),
                    }
                    .into(),
                )
                .await?;
            written += n;
            teams
                .push(parse_id(&v["team_id"]).ok_or_else(|| DemoError::Unexpected("team".into()))?);
        }
        progress(written);
        // volunteers, one after another so their numbers are deterministic
        for _ in 0..opts.volunteers {
            let mut tags = Vec::new();
            if rng.gen_bool(0.3) {
                tags.push("党员".to_string());
            }
            if rng.gen_bool(0.2) {
                tags.push("五老".to_string());
                tags.push("银发先锋".to_string());
            } else if rng.gen_bool(0.35) {
                tags.push("青年".to_string());
            }
            let team_count = rng.gen_range(0..=2);
            let mut my_teams: Vec<TeamId> = teams
                .choose_multiple(&mut rng, team_count)
                .copied()
                .collect();
            my_teams.sort();
            let name = format!(
                "{}{}",
                SURNAMES.choose(&mut rng).copied().unwrap_or("王"),
                GIVEN.choose(&mut rng).copied().unwrap_or("芳")
            );
            let phone = format!("13{:09}", rng.gen_range(0..1_000_000_000u64));
            let stairwell_id = stairwells[rng.gen_range(0..stairwells.len())];
            let (v, n) = gen
                .run(
                    &staff,
                    "volunteer",
                    RegisterVolunteer {
                        community_id: cid,
                        name,
                        phone: Some(phone),
                        id_number: None,
                        stairwell_id,
                        tags,
                        teams: my_teams.clone(),
                        household: None,
                    }
                    .into(),
                )
                .await?;
            written += n;
            let vid: VolunteerId = parse_id(&v["volunteer_id"])
                .ok_or_else(|| DemoError::Unexpected("volunteer".into()))?;
            sims.push(Sim {
                id: vid,
                community: ci,
                points: 0,
                minutes: 0,
                reversible: Vec::new(),
                teams: my_teams,
                departed: false,
                stairwell: stairwell_id,
            });
            if sims.len() & 127 == 0 {
                progress(written);
            }
        }
        progress(written);
        setups.push(CommunitySetup {
            id: cid,
            staff,
            stairwells,
            teams,
        });
    }

    // the main history, in rounds
    let index: std::collections::HashMap<VolunteerId, usize> =
        sims.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let per_round = ((sims.len() as u64) / 2).clamp(1, 4096);
    let rounds = (opts.events.saturating_sub(written) / (per_round * 2)).max(24);
    let window = (end - start) / rounds as i32;
    let mut round = 0u64;
    let mut last_month: Option<String> = None;
    let mut open_issues: Vec<(usize, StairwellId, IssueId)> = Vec::new();
    while written < opts.events {
        let t0 = (start + window * round.min(rounds - 1) as i32).min(end);
        let month = format!(
            "{:04}-{:02}",
            crate::domain::local_date(t0).year(),
            crate::domain::local_date(t0).month()
        );
        let mut chains: Vec<(String, Step, ChainKind)> = Vec::new();
        let mut chain_id = 0u64;
        let prefix = |chain_id: &mut u64| {
            *chain_id += 1;
            format!("demo:{seed}:r{round}:c{chain_id}")
        };
        // monthly inspections of the month that just ended, and issues
        if let Some(prev) = last_month.as_ref().filter(|m| **m != month) {
            for (ci, s) in setups.iter().enumerate() {
                for st in &s.stairwells {
                    let mut scores = BTreeMap::new();
                    for item in default_rubric_items() {
                        let max = item.max.to_string().parse::<i64>().unwrap_or(20);
                        scores.insert(item.key, Decimal::from(rng.gen_range(max / 2..=max)));
                    }
                    let cmd = RecordInspection {
                        community_id: s.id,
                        stairwell_id: *st,
                        month: prev.clone(),
                        scores,
                        note: if rng.gen_bool(0.2) {
                            "楼道堆物已清理".into()
                        } else {
                            String::new()
                        },
                    };
                    let kind = ChainKind::Inspection {
                        community: ci,
                        community_id: s.id,
                        staff: s.staff.clone(),
                        stairwell: *st,
                        issue: rng.gen_bool(0.1),
                    };
                    chains.push((
                        prefix(&mut chain_id),
                        Step {
                            actor: s.staff.clone(),
                            command: cmd.into(),
                        },
                        kind,
                    ));
                }
            }
        }
        last_month = Some(month);
        // resolve some open issues (their stairwells are not inspected this round unless the month changed)
        let mut still_open = Vec::new();
        let inspected_round = !chains.is_empty();
        // At most one resolution per stairwell a round: two chains on one stream would
        // race for its next version, and the history would depend on their timing.
        let mut resolving = std::collections::HashSet::new();
        for (ci, st, issue) in open_issues.drain(..) {
            if !inspected_round && rng.gen_bool(0.5) && resolving.insert(st) {
                let s = &setups[ci];
                chains.push((
                    prefix(&mut chain_id),
                    Step {
                        actor: s.staff.clone(),
                        command: ResolveStairwellIssue {
                            community_id: s.id,
                            stairwell_id: st,
                            issue_id: issue,
                            note: "已整改".into(),
                        }
                        .into(),
                    },
                    ChainKind::Simple,
                ));
            } else {
                still_open.push((ci, st, issue));
            }
        }
        open_issues = still_open;

        // volunteer chains: each volunteer in at most one chain per round
        let mut order: Vec<usize> = (0..sims.len()).filter(|i| !sims[*i].departed).collect();
        if order.is_empty() && chains.is_empty() {
            break;
        }
        order.shuffle(&mut rng);
        let remaining = opts.events.saturating_sub(written);
        let take = (per_round as usize)
            .min(order.len())
            .min((remaining / 2 + 1) as usize);
        let mut chosen: Vec<usize> = order.iter().take(take).copied().collect();
        let mut spare: Vec<usize> = order.iter().skip(take).copied().collect();
        for vi in chosen.drain(..) {
            let sim = sims[vi].clone();
            let s = &setups[sim.community];
            let at = t0 + Duration::minutes(rng.gen_range(0..window.num_minutes().max(1)));
            let at = at.min(end);
            let me = Actor::volunteer(sim.id, s.id);
            let roll = rng.gen_range(0..1000);
            let (step, kind) = if roll < 100 {
                let p = rng.gen_range(5..=50);
                (
                    Step {
                        actor: s.staff.clone(),
                        command: AwardPoints {
                            volunteer_id: sim.id,
                            points: Decimal::from(p),
                            reason: AWARD_REASONS
                                .choose(&mut rng)
                                .copied()
                                .unwrap_or("表现突出")
                                .into(),
                        }
                        .into(),
                    },
                    ChainKind::Balance(sim.id, true),
                )
            } else if roll < 200 && sim.points >= 1000 {
                let affordable: Vec<_> =
                    SHOP.iter().filter(|(_, p)| p * 100 <= sim.points).collect();
                let (item, price) = affordable
                    .choose(&mut rng)
                    .copied()
                    .copied()
                    .unwrap_or(("毛巾", 10));
                (
                    Step {
                        actor: s.staff.clone(),
                        command: RedeemPoints {
                            volunteer_id: sim.id,
                            points: Decimal::from(price),
                            item: item.into(),
                        }
                        .into(),
                    },
                    ChainKind::Balance(sim.id, false),
                )
            } else if roll < 215 && !sim.reversible.is_empty() {
                let entry = sim.reversible[sim.reversible.len() - 1];
                (
                    Step {
                        actor: s.staff.clone(),
                        command: ReverseEntry {
                            volunteer_id: sim.id,
                            entry_id: entry,
                            reason: "录入错误，冲正".into(),
                        }
                        .into(),
                    },
                    ChainKind::Reversal(sim.id, entry),
                )
            } else if roll < 235 && sim.minutes >= 60 && !spare.is_empty() {
                let other = spare.remove(rng.gen_range(0..spare.len()));
                let to = sims[other].id;
                (
                    Step {
                        actor: me.clone(),
                        command: GiftHours {
                            from: sim.id,
                            to,
                            hours: dec_minutes(30 * rng.gen_range(1..=2)),
                        }
                        .into(),
                    },
                    ChainKind::Gift(sim.id, to),
                )
            } else if roll < 265 && sim.minutes >= 60 {
                (
                    Step {
                        actor: me.clone(),
                        command: SpendHours {
                            volunteer_id: sim.id,
                            hours: dec_minutes(30 * rng.gen_range(1..=2)),
                            description: "兑换上门理发服务".into(),
                        }
                        .into(),
                    },
                    ChainKind::Balance(sim.id, false),
                )
            } else if roll < 345 {
                let (category, description) = WISHES
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or(("其他", "小心愿"));
                let stairwell_id = s.stairwells[rng.gen_range(0..s.stairwells.len())];
                let fate = rng.gen_range(0..10);
                let hours = dec_minutes(30 * rng.gen_range(1..=4));
                (
                    Step {
                        actor: s.staff.clone(),
                        command: PostWish {
                            community_id: s.id,
                            stairwell_id,
                            category: category.into(),
                            description: description.into(),
                            resident_label: format!(
                                "{}独居老人",
                                if fate % 2 == 0 { "3单元" } else { "5单元" }
                            ),
                        }
                        .into(),
                    },
                    ChainKind::Wish {
                        volunteer: sim.id,
                        community: s.id,
                        staff: s.staff.clone(),
                        fate,
                        hours,
                        at,
                    },
                )
            } else if roll < 355 {
                let join = s.teams.iter().find(|t| !sim.teams.contains(t)).copied();
                match (join, sim.teams.first().copied()) {
                    (Some(team_id), _) if rng.gen_bool(0.7) => (
                        Step {
                            actor: s.staff.clone(),
                            command: JoinTeam {
                                volunteer_id: sim.id,
                                team_id,
                            }
                            .into(),
                        },
                        ChainKind::Team(sim.id, team_id, true),
                    ),
                    (_, Some(team_id)) => (
                        Step {
                            actor: s.staff.clone(),
                            command: LeaveTeam {
                                volunteer_id: sim.id,
                                team_id,
                            }
                            .into(),
                        },
                        ChainKind::Team(sim.id, team_id, false),
                    ),
                    _ => {
                        let others: Vec<StairwellId> = s
                            .stairwells
                            .iter()
                            .copied()
                            .filter(|st| *st != sim.stairwell)
                            .collect();
                        match others.choose(&mut rng) {
                            Some(stairwell_id) => (
                                Step {
                                    actor: s.staff.clone(),
                                    command: MoveVolunteer {
                                        volunteer_id: sim.id,
                                        stairwell_id: *stairwell_id,
                                        household: None,
                                    }
                                    .into(),
                                },
                                ChainKind::Move(sim.id, *stairwell_id),
                            ),
                            None => (
                                Step {
                                    actor: s.staff.clone(),
                                    command: AwardPoints {
                                        volunteer_id: sim.id,
                                        points: Decimal::from(5),
                                        reason: "参与楼道议事".into(),
                                    }
                                    .into(),
                                },
                                ChainKind::Balance(sim.id, true),
                            ),
                        }
                    }
                }
            } else if roll < 356 && sims.len() > 20 {
                (
                    Step {
                        actor: s.staff.clone(),
                        command: DepartVolunteer {
                            volunteer_id: sim.id,
                            reason: "搬离本社区".into(),
                        }
                        .into(),
                    },
                    ChainKind::Depart(sim.id),
                )
            } else {
                let kind = *[
                    ServiceKind::Patrol,
                    ServiceKind::Patrol,
                    ServiceKind::ElderlyVisit,
                    ServiceKind::ElderlyVisit,
                    ServiceKind::Repair,
                    ServiceKind::Mediation,
                    ServiceKind::Other,
                ]
                .choose(&mut rng)
                .unwrap_or(&ServiceKind::Patrol);
                let minutes = 15 * rng.gen_range(2..=16);
                let by_self = rng.gen_bool(0.6);
                let fate = rng.gen_range(0..100);
                (
                    Step {
                        actor: if by_self { me.clone() } else { s.staff.clone() },
                        command: LogService {
                            volunteer_id: sim.id,
                            kind,
                            started_at: at,
                            hours: dec_minutes(minutes),
                            place: PLACES.choose(&mut rng).copied().unwrap_or("").into(),
                            note: String::new(),
                        }
                        .into(),
                    },
                    ChainKind::Service {
                        volunteer: sim.id,
                        staff: s.staff.clone(),
                        fate,
                    },
                )
            };
            chains.push((prefix(&mut chain_id), step, kind));
        }
        let results: Vec<ChainResult> =
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
            .buffer_unordered(opts.concurrency.max(1))
            .collect()
            .await;
        let mut by_index: Vec<(usize, Vec<Value>, u64)> = Vec::with_capacity(results.len());
        for r in results {
            by_index.push(r?);
        }
        by_index.sort_by_key(|r| r.0);
        for (i, values, n) in by_index {
            written += n;
            let report = chains[i].2.report(&values);
            for BalanceUpdate {
                volunteer: vid,
                points,
                minutes,
                add_reversible: add_rev,
                remove_reversible: removed_rev,
            } in report.balances
            {
                if let Some(sim) = index.get(&vid).and_then(|i| sims.get_mut(*i)) {
                    if let Some(p) = points {
                        sim.points = p;
                    }
                    if let Some(m) = minutes {
                        sim.minutes = m;
                    }
                    if let Some(e) = add_rev {
                        sim.reversible.push(e);
                    }
                    if let Some(e) = removed_rev {
                        sim.reversible.retain(|x| *x != e);
                    }
                }
            }
            match &chains[i].2 {
                ChainKind::Team(vid, team, joined) => {
                    if let Some(sim) = index.get(vid).and_then(|i| sims.get_mut(*i)) {
                        if *joined {
                            sim.teams.push(*team);
                        } else {
                            sim.teams.retain(|t| t != team);
                        }
                    }
                }
                ChainKind::Move(vid, st) => {
                    if let Some(sim) = index.get(vid).and_then(|i| sims.get_mut(*i)) {
                        sim.stairwell = *st;
                    }
                }
                ChainKind::Depart(vid) => {
                    if let Some(sim) = index.get(vid).and_then(|i| sims.get_mut(*i)) {
                        sim.departed = true;
                    }
                }
                ChainKind::Inspection {
                    community,
                    stairwell,
                    issue: true,
                    ..
                } => {
                    if let Some(id) = values
                        .get(1)
                        .and_then(|v| parse_id::<IssueId>(&v["issue_id"]))
                    {
                        open_issues.push((*community, *stairwell, id));
                    }
                }
                _ => {}
            }
        }
        progress(written);
        round += 1;
    }
    Ok(DemoSummary {
        community_ids: setups.iter().map(|s| s.id).collect(),
        events_written: written,
    })
}

#[derive(Clone)]
enum ChainKind {
    Simple,
    /// An award (reversible) or another balance change.
    Balance(VolunteerId, bool),
    Reversal(VolunteerId, EntryId),
    Gift(VolunteerId, VolunteerId),
    Team(VolunteerId, TeamId, bool),
    Depart(VolunteerId),
    Move(VolunteerId, StairwellId),
    Service {
        volunteer: VolunteerId,
        staff: Actor,
        fate: u32,
    },
    Wish {
        volunteer: VolunteerId,
        community: CommunityId,
        staff: Actor,
        fate: u32,
        hours: Decimal,
        at: DateTime<Utc>,
    },
    Inspection {
        community: usize,
        community_id: CommunityId,
        staff: Actor,
        stairwell: StairwellId,
        issue: bool,
    },
}

impl ChainKind {
    /// The next step of the chain after step `i` returned `v`.
    fn next(&self, i: usize, v: &Value) -> Option<Step> {
        match self {
            ChainKind::Service {
                volunteer,
                staff,
                fate,
            } if i == 0 => {
                let service_id: ServiceId = parse_id(&v["service_id"])?;
                if *fate < 88 {
                    Some(Step {
                        actor: staff.clone(),
                        command: VerifyService {
                            volunteer_id: *volunteer,
                            service_id,
                        }
                        .into(),
                    })
                } else if *fate < 95 {
                    Some(Step {
                        actor: staff.clone(),
                        command: RejectService {
                            volunteer_id: *volunteer,
                            service_id,
                            reason: "时长与签到记录不符".into(),
                        }
                        .into(),
                    })
                } else {
                    None
                }
            }
            ChainKind::Wish {
                volunteer,
                community,
                staff,
                fate,
                hours,
                at,
            } => {
                let wish_id: WishId = parse_id(&v["wish_id"])?;
                let me = Actor::volunteer(*volunteer, *community);
                match (i, fate) {
                    (0, _) => Some(Step {
                        actor: me,
                        command: ClaimWish {
                            wish_id,
                            volunteer_id: *volunteer,
                        }
                        .into(),
                    }),
                    (1, 0) => Some(Step {
                        actor: me,
                        command: ReleaseWish { wish_id }.into(),
                    }),
                    (1, 1) => Some(Step {
                        actor: staff.clone(),
                        command: CancelWish {
                            wish_id,
                            reason: "居民已自行解决".into(),
                        }
                        .into(),
                    }),
                    (1, _) => Some(Step {
                        actor: me,
                        command: FulfilWish {
                            wish_id,
                            volunteer_id: *volunteer,
                            hours: *hours,
                            note: "已完成".into(),
                            fulfilled_at: Some(*at),
                        }
                        .into(),
                    }),
                    (2, 0) => Some(Step {
                        actor: staff.clone(),
                        command: CancelWish {
                            wish_id,
                            reason: "无人认领".into(),
                        }
                        .into(),
                    }),
                    (2, 1) => None,
                    (2, _) => Some(Step {
                        actor: staff.clone(),
                        command: ConfirmWish { wish_id }.into(),
                    }),
                    _ => None,
                }
            }
            ChainKind::Inspection {
                community_id,
                staff,
                stairwell,
                issue: true,
                ..
            } if i == 0 => Some(Step {
                actor: staff.clone(),
                command: ReportStairwellIssue {
                    community_id: *community_id,
                    stairwell_id: *stairwell,
                    description: "楼道堆放杂物，存在消防隐患".into(),
                    deduction: Decimal::from(5),
                }
                .into(),
            }),
            _ => None,
        }
    }

    fn report(&self, values: &[Value]) -> ChainReport {
        let mut r = ChainReport::default();
        let bal = |v: &Value| {
            (
                parse_hundredths(&v["points_balance"]),
                parse_minutes(&v["hours_balance"]),
            )
        };
        match self {
            ChainKind::Balance(vid, reversible) => {
                if let Some(v) = values.first() {
                    let (p, m) = bal(v);
                    let entry = if *reversible {
                        parse_id(&v["entry_id"])
                    } else {
                        None
                    };
                    r.balances.push(update(*vid, p, m, entry, None));
                }
            }
            ChainKind::Reversal(vid, entry) => {
                if let Some(v) = values.first() {
                    let (p, m) = bal(v);
                    r.balances.push(update(*vid, p, m, None, Some(*entry)));
                }
            }
            ChainKind::Gift(from, to) => {
                if let Some(v) = values.first() {
                    let m = parse_minutes(&v["hours_balance"]);
                    r.balances.push(update(*from, None, m, None, None));
                    // the recipient's balance grows by the gift; read it back next time
                    let _ = to;
                }
            }
            ChainKind::Service {
                volunteer, fate, ..
            } if *fate < 88 => {
                if let Some(v) = values.get(1) {
                    let (p, m) = bal(v);
                    r.balances
                        .push(update(*volunteer, p, m, parse_id(&v["entry_id"]), None));
                }
            }
            ChainKind::Wish { volunteer, .. } => {
                if let Some(v) = values.get(3).filter(|v| v.get("service_id").is_some()) {
                    let (p, m) = bal(v);
                    r.balances
                        .push(update(*volunteer, p, m, parse_id(&v["entry_id"]), None));
                }
            }
            _ => {}
        }
        r
    }
}
