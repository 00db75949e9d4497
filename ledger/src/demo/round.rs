//! What happens to one volunteer in a round of the history: an award, a redemption, a
//! reversal, a gift or spending of hours, a wish through its lifecycle, a team change
//! or move, a departure, or (most often) a service; and the monthly inspections.

use super::chain::{ChainKind, Step};
use super::setup::CommunitySetup;
use super::*;

/// A chain's key prefix, its first step and what it is.
pub(super) type Chain = (String, Step, ChainKind);

/// Inspections of `month` for every stairwell of every community, some with an issue.
pub(super) fn inspections(
    rng: &mut StdRng,
    setups: &[CommunitySetup],
    month: &str,
    mut prefix: impl FnMut() -> String,
) -> Vec<Chain> {
    let mut chains = Vec::new();
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
                month: month.to_string(),
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
                prefix(),
                Step {
                    actor: s.staff.clone(),
                    command: cmd.into(),
                },
                kind,
            ));
        }
    }
    chains
}

/// Resolutions of some open issues (none in a round with inspections); the issues left
/// open stay in `open_issues`.
pub(super) fn resolutions(
    rng: &mut StdRng,
    setups: &[CommunitySetup],
    open_issues: &mut Vec<(usize, StairwellId, IssueId)>,
    inspected_round: bool,
    mut prefix: impl FnMut() -> String,
) -> Vec<Chain> {
    let mut chains = Vec::new();
    let mut still_open = Vec::new();
    // At most one resolution per stairwell a round: two chains on one stream would
    // race for its next version, and the history would depend on their timing.
    let mut resolving = std::collections::HashSet::new();
    for (ci, st, issue) in open_issues.drain(..) {
        if !inspected_round && rng.gen_bool(0.5) && resolving.insert(st) {
            let s = &setups[ci];
            chains.push((
                prefix(),
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
    *open_issues = still_open;
    chains
}

/// The first step of `sim`'s chain in this round, by `roll` (`spare`: volunteers not in
/// a chain of this round, who may receive a gift).
#[allow(clippy::too_many_arguments)]
pub(super) fn volunteer_chain(
    rng: &mut StdRng,
    sim: &Sim,
    s: &CommunitySetup,
    sims: &[Sim],
    spare: &mut Vec<usize>,
    at: DateTime<Utc>,
    roll: i32,
) -> (Step, ChainKind) {
    let me = Actor::volunteer(sim.id, s.id);
    if roll < 100 {
        let p = rng.gen_range(5..=50);
        (
            Step {
                actor: s.staff.clone(),
                command: AwardPoints {
                    volunteer_id: sim.id,
                    points: Decimal::from(p),
                    reason: AWARD_REASONS
                        .choose(rng)
                        .copied()
                        .unwrap_or("表现突出")
                        .into(),
                }
                .into(),
            },
            ChainKind::Balance(sim.id, true),
        )
    } else if roll < 200 && sim.points >= 1000 {
        let affordable: Vec<_> = SHOP.iter().filter(|(_, p)| p * 100 <= sim.points).collect();
        let (item, price) = affordable
            .choose(rng)
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
                    impact: None,
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
                    provider: None,
                    kind: None,
                }
                .into(),
            },
            ChainKind::Balance(sim.id, false),
        )
    } else if roll < 345 {
        let (category, description) = WISHES.choose(rng).copied().unwrap_or(("其他", "小心愿"));
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
                match others.choose(rng) {
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
        .choose(rng)
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
                    place: PLACES.choose(rng).copied().unwrap_or("").into(),
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
    }
}
