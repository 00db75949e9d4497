//! Chains of dependent commands: a service logged then verified or rejected, a wish
//! posted, claimed, fulfilled and confirmed (or released, cancelled), an inspection and
//! its issue. Each step is built from the result of the one before.

use super::*;

/// One command of a chain, with who issues it.
pub(super) struct Step {
    pub(super) actor: Actor,
    pub(super) command: Command,
}

/// New balances of a volunteer after a chain, and its reversible entries.
pub(super) struct BalanceUpdate {
    pub(super) volunteer: VolunteerId,
    pub(super) points: Option<i64>,
    pub(super) minutes: Option<i64>,
    pub(super) add_reversible: Option<EntryId>,
    pub(super) remove_reversible: Option<EntryId>,
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

/// What a finished chain tells the generator.
#[derive(Default)]
pub(super) struct ChainReport {
    /// Per volunteer: new points/hours balances and a reversible entry, if any.
    pub(super) balances: Vec<BalanceUpdate>,
}

/// Events a command writes when it first runs (to count replays too).
fn events_of(c: &Command) -> u64 {
    match c {
        Command::RegisterVolunteer(_) | Command::GiftHours(_) => 2,
        Command::ConfirmWish(_) => 3,
        _ => 1,
    }
}

/// Runs one command under `key`: its result and the events it holds.
pub(super) async fn run_one(
    handler: &CommandHandler,
    actor: &Actor,
    key: String,
    command: Command,
) -> Result<(Outcome, u64), DemoError> {
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

/// Runs a chain of dependent commands; each step is built from the previous result. A
/// step refused for want of points or hours ends the chain.
pub(super) async fn run_chain(
    handler: &CommandHandler,
    key_prefix: String,
    first: Step,
    mut next: impl FnMut(usize, &Outcome) -> Option<Step>,
) -> Result<(Vec<Outcome>, u64), DemoError> {
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

/// What a chain is, which decides its next steps and what it tells the generator.
#[derive(Clone)]
pub(super) enum ChainKind {
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
    pub(super) fn next(&self, i: usize, v: &Outcome) -> Option<Step> {
        match self {
            ChainKind::Service {
                volunteer,
                staff,
                fate,
            } if i == 0 => {
                let Outcome::LogService(ServiceRef { service_id }) = v else {
                    return None;
                };
                let service_id = *service_id;
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
                            impact: None,
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
                let wish_id = wish_of(v)?;
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

    /// What the chain's results tell of balances and reversible entries.
    pub(super) fn report(&self, values: &[Outcome]) -> ChainReport {
        let mut r = ChainReport::default();
        match self {
            ChainKind::Balance(vid, reversible) => {
                if let Some(v) = values.first() {
                    let (p, m) = balances(v);
                    let entry = if *reversible { v.entry_id() } else { None };
                    r.balances.push(update(*vid, p, m, entry, None));
                }
            }
            ChainKind::Reversal(vid, entry) => {
                if let Some(v) = values.first() {
                    let (p, m) = balances(v);
                    r.balances.push(update(*vid, p, m, None, Some(*entry)));
                }
            }
            ChainKind::Gift(from, _to) => {
                // the recipient's balance grows by the gift; read it back next time
                if let Some(v) = values.first() {
                    let (_, m) = balances(v);
                    r.balances.push(update(*from, None, m, None, None));
                }
            }
            ChainKind::Service {
                volunteer, fate, ..
            } if *fate < 88 => {
                if let Some(v) = values.get(1) {
                    let (p, m) = balances(v);
                    r.balances
                        .push(update(*volunteer, p, m, v.entry_id(), None));
                }
            }
            ChainKind::Wish { volunteer, .. } => {
                if let Some(v @ Outcome::ConfirmWish(_)) = values.get(3) {
                    let (p, m) = balances(v);
                    r.balances
                        .push(update(*volunteer, p, m, v.entry_id(), None));
                }
            }
            _ => {}
        }
        r
    }
}

/// The wish a step of a wish's chain acted on.
fn wish_of(o: &Outcome) -> Option<WishId> {
    match o {
        Outcome::PostWish(WishRef { wish_id }) => Some(*wish_id),
        Outcome::ClaimWish(c)
        | Outcome::ReleaseWish(c)
        | Outcome::FulfilWish(c)
        | Outcome::CancelWish(c) => Some(c.wish_id),
        Outcome::ConfirmWish(c) => Some(c.wish_id),
        _ => None,
    }
}

/// The balances a result reports: points in hundredths and hours in minutes.
fn balances(o: &Outcome) -> (Option<i64>, Option<i64>) {
    let (points, hours) = o.balances();
    (points.map(Points::hundredths), hours.map(Hours::minutes))
}
