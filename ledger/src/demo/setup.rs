//! The setting of one community: its rules (two versions of the point rules, star
//! thresholds, the rubric), grids and micro-grids, stairwells, the colour teams, and its
//! volunteers, registered one after another so that their numbers are deterministic.

use super::*;

/// A community as the history needs it.
pub(super) struct CommunitySetup {
    pub(super) id: CommunityId,
    pub(super) staff: Actor,
    pub(super) stairwells: Vec<StairwellId>,
    pub(super) teams: Vec<TeamId>,
}

/// Runs the setting's commands one after another, each under the next key.
pub(super) struct Gen<'a> {
    pub(super) handler: &'a CommandHandler,
    pub(super) seed: u64,
    pub(super) counter: u64,
}

impl Gen<'_> {
    fn key(&mut self, label: &str) -> String {
        self.counter += 1;
        format!("demo:{}:{}:{}", self.seed, label, self.counter)
    }

    /// Runs a command and answers its result.
    async fn run<C: CommandPayload>(
        &mut self,
        actor: &Actor,
        label: &str,
        command: C,
    ) -> Result<(C::Output, u64), DemoError> {
        let (outcome, n) = self.run_command(actor, label, command.into()).await?;
        let name = outcome.command_name();
        let output = C::output(outcome)
            .ok_or_else(|| DemoError::Unexpected(format!("{name} answered another command")))?;
        Ok((output, n))
    }

    async fn run_command(
        &mut self,
        actor: &Actor,
        label: &str,
        command: Command,
    ) -> Result<(Outcome, u64), DemoError> {
        let key = self.key(label);
        run_one(self.handler, actor, key, command).await
    }
}

/// Sets up community number `ci` and registers its volunteers into `sims`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn community(
    gen: &mut Gen<'_>,
    rng: &mut StdRng,
    admin: &Actor,
    opts: &DemoOptions,
    ci: usize,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    written: &mut u64,
    sims: &mut Vec<Sim>,
    progress: &impl Fn(u64),
) -> Result<CommunitySetup, DemoError> {
    let seed = opts.seed;
    let _ = end;
    let name = format!(
        "{}社区{}",
        COMMUNITY_NAMES[(seed as usize + ci) % COMMUNITY_NAMES.len()],
        if ci == 0 {
            String::new()
        } else {
            format!("{}", ci + 1)
        }
    );
    let (NewCommunity { community_id: cid }, n) = gen
        .run(admin, "community", EstablishCommunity { name })
        .await?;
    *written += n;
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
            points: None,
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
        *written += gen.run_command(admin, "setup", c).await?.1;
    }
    // grids and micro-grids
    let grid_count = (opts.volunteers / 60).clamp(2, 80);
    let mut grids = Vec::new();
    for g in 0..grid_count {
        let (NewGrid { grid_id: gid }, n) = gen
            .run(
                &staff,
                "grid",
                AddGrid {
                    community_id: cid,
                    name: format!("第{}网格", g + 1),
                    parent: None,
                },
            )
            .await?;
        *written += n;
        grids.push(gid);
        if g % 3 == 0 {
            let (NewGrid { grid_id }, n) = gen
                .run(
                    &staff,
                    "grid",
                    AddGrid {
                        community_id: cid,
                        name: format!("第{}网格微网格1", g + 1),
                        parent: Some(gid),
                    },
                )
                .await?;
            *written += n;
            grids.push(grid_id);
        }
    }
    let mut stairwells = Vec::new();
    for s in 0..(opts.volunteers / 10).max(1) {
        let (NewStairwell { stairwell_id }, n) = gen
            .run(
                &staff,
                "stairwell",
                RegisterStairwell {
                    community_id: cid,
                    grid_id: grids[s as usize % grids.len()],
                    building: format!("{}号楼", s / 4 + 1),
                    unit: format!("{}单元", s % 4 + 1),
                    households: rng.gen_range(10..=100),
                },
            )
            .await?;
        *written += n;
        stairwells.push(stairwell_id);
    }
    let mut teams = Vec::new();
    for t in TEAMS {
        let (NewTeam { team_id }, n) = gen
            .run(
                &staff,
                "team",
                FormTeam {
                    community_id: cid,
                    name: t.to_string(),
                },
            )
            .await?;
        *written += n;
        teams.push(team_id);
    }
    progress(*written);
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
            .choose_multiple(&mut *rng, team_count)
            .copied()
            .collect();
        my_teams.sort();
        let name = format!(
            "{}{}",
            SURNAMES.choose(&mut *rng).copied().unwrap_or("王"),
            GIVEN.choose(&mut *rng).copied().unwrap_or("芳")
        );
        let phone = format!("13{:09}", rng.gen_range(0..1_000_000_000u64));
        let stairwell_id = stairwells[rng.gen_range(0..stairwells.len())];
        let (
            NewVolunteer {
                volunteer_id: vid, ..
            },
            n,
        ) = gen
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
                },
            )
            .await?;
        *written += n;
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
            progress(*written);
        }
    }
    progress(*written);
    Ok(CommunitySetup {
        id: cid,
        staff,
        stairwells,
        teams,
    })
}
