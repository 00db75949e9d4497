//! Shared test support: a community built through the command layer, random histories,
//! stores on both backends, and small readers (CSV, XML) used to check the outputs.
#![allow(dead_code, clippy::type_complexity)]

pub mod oracle;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ledger::command::*;
use ledger::event::ServiceKind;
use ledger::ids::*;
use ledger::store::Store;
use ledger::testing::TempDir;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A store on each available backend (SQLite always, PostgreSQL when reachable).
pub async fn stores() -> Vec<(&'static str, Store, Option<TempDir>)> {
    let mut out = Vec::new();
    let (s, dir) = ledger::testing::sqlite_store().await;
    out.push(("sqlite", s, Some(dir)));
    if let Some(s) = ledger::testing::postgres_store().await {
        out.push(("postgres", s, None));
    }
    out
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A valid ID number (GB 11643: its last character checks the 17 digits before it)
/// ending in `last4`, which is what its masked form shows (`110***********1000`).
pub fn id_number_ending(last4: &str) -> String {
    let check = ledger::domain::volunteer::id_check_character;
    (0..10_000)
        .map(|k| format!("1101011990{k:04}{}", &last4[..3]))
        .find(|digits| check(digits) == last4.chars().nth(3))
        .map(|digits| format!("{digits}{}", &last4[3..]))
        .expect("some digits check to it")
}

pub fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// Noon China Standard Time on `2025-01-01 + day`.
pub fn day(day: u32) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2025, 1, 1, 4, 0, 0)
        .single()
        .expect("date");
    base + Duration::days(i64::from(day))
}

pub fn ymd(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 0, 0)
        .single()
        .expect("date")
}

/// Days from 2025-01-01 that are safely in the past.
pub const MAX_DAY: u32 = 600;

pub struct World {
    pub store: Store,
    pub handler: CommandHandler,
    pub admin: Actor,
    pub community: CommunityId,
    pub other_community: CommunityId,
    pub grids: Vec<GridId>,
    pub stairwells: Vec<StairwellId>,
    pub other_stairwell: StairwellId,
    pub teams: Vec<TeamId>,
    pub volunteers: Vec<VolunteerId>,
    /// Reversible entries (verified services and awards) per volunteer index.
    pub entries: Vec<Vec<EntryId>>,
    pub issues: Vec<(StairwellId, IssueId)>,
    seq: u64,
}

impl World {
    fn key(&mut self) -> String {
        self.seq += 1;
        format!("test-{}-{}", self.seq, Uuid::new_v4())
    }

    /// Runs a command as admin; domain refusals are returned as `None`.
    pub async fn run<C: CommandPayload>(&mut self, command: C) -> Option<C::Output> {
        let key = self.key();
        match self.handler.run(&self.admin, &key, command).await {
            Ok(o) => Some(o.result),
            Err(ledger::command::CommandError::Domain(_)) => None,
            Err(e) => panic!("command failed: {e}"),
        }
    }

    pub async fn must<C: CommandPayload>(&mut self, command: C) -> C::Output {
        let name = std::any::type_name::<C>();
        self.run(command)
            .await
            .unwrap_or_else(|| panic!("{name} was refused"))
    }

    /// A community with 3 grids (one a micro-grid), 4 stairwells, 3 teams, low star
    /// thresholds (2/5/10/20/40 h), and a second community beside it.
    pub async fn new(store: Store) -> World {
        let handler = CommandHandler::new(store.clone());
        let admin = Actor::admin(Uuid::new_v4());
        let mut w = World {
            store,
            handler,
            admin,
            community: CommunityId(Uuid::nil()),
            other_community: CommunityId(Uuid::nil()),
            grids: vec![],
            stairwells: vec![],
            other_stairwell: StairwellId(Uuid::nil()),
            teams: vec![],
            volunteers: vec![],
            entries: vec![],
            issues: vec![],
            seq: 0,
        };
        let r = w
            .must(EstablishCommunity {
                name: "幸福里社区".into(),
            })
            .await;
        w.community = r.community_id;
        let c = w.community;
        for (name, parent) in [
            ("第一网格", None),
            ("第二网格", None),
            ("微网格1", Some(0usize)),
        ] {
            let parent = parent.map(|p| w.grids[p]);
            let r = w
                .must(AddGrid {
                    community_id: c,
                    name: name.into(),
                    parent,
                })
                .await;
            w.grids.push(r.grid_id);
        }
        for (g, b, u, h) in [
            (0, "1号楼", "1单元", 10),
            (0, "1号楼", "2单元", 20),
            (1, "2号楼", "1单元", 7),
            (2, "3号楼", "1单元", 12),
        ] {
            let r = w
                .must(RegisterStairwell {
                    community_id: c,
                    grid_id: w.grids[g],
                    building: b.into(),
                    unit: u.into(),
                    households: h,
                })
                .await;
            w.stairwells.push(r.stairwell_id);
        }
        for name in ["邻里互助队", "红管家服务队", "巾帼志愿服务队"] {
            let r = w
                .must(FormTeam {
                    community_id: c,
                    name: name.into(),
                })
                .await;
            w.teams.push(r.team_id);
        }
        w.must(SetStarThresholds {
            community_id: c,
            thresholds: ["2", "5", "10", "20", "40"]
                .iter()
                .map(|s| dec(s))
                .collect(),
            effective_from: NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
            points: None,
        })
        .await;
        // A second community whose events must not leak into the first one's report.
        let r = w
            .must(EstablishCommunity {
                name: "隔壁社区".into(),
            })
            .await;
        w.other_community = r.community_id;
        let r = w
            .must(AddGrid {
                community_id: w.other_community,
                name: "隔壁网格".into(),
                parent: None,
            })
            .await;
        let g: GridId = r.grid_id;
        let r = w
            .must(RegisterStairwell {
                community_id: w.other_community,
                grid_id: g,
                building: "9号楼".into(),
                unit: "1单元".into(),
                households: 10,
            })
            .await;
        w.other_stairwell = r.stairwell_id;
        let r = w
            .must(RegisterVolunteer {
                community_id: w.other_community,
                name: "外社区".into(),
                phone: None,
                id_number: None,
                stairwell_id: w.other_stairwell,
                tags: vec![],
                teams: vec![],
                household: None,
            })
            .await;
        let outsider: VolunteerId = r.volunteer_id;
        let r = w
            .must(LogService {
                volunteer_id: outsider,
                kind: ServiceKind::Patrol,
                started_at: day(100),
                hours: dec("3"),
                place: String::new(),
                note: String::new(),
            })
            .await;
        let s: ServiceId = r.service_id;
        w.must(VerifyService {
            volunteer_id: outsider,
            service_id: s,
        })
        .await;
        w
    }

    pub async fn register(
        &mut self,
        name: &str,
        stairwell: usize,
        teams: &[usize],
        tags: &[&str],
    ) -> VolunteerId {
        self.register_in(name, stairwell, teams, tags, None).await
    }

    /// [`World::register`] into a household (户) of the stairwell.
    pub async fn register_in(
        &mut self,
        name: &str,
        stairwell: usize,
        teams: &[usize],
        tags: &[&str],
        household: Option<&str>,
    ) -> VolunteerId {
        let n = self.volunteers.len();
        let r = self
            .must(RegisterVolunteer {
                community_id: self.community,
                name: name.into(),
                phone: Some(format!("138{:08}", 10_000_000 + n)),
                id_number: Some(id_number_ending(&format!("{:04}", 1000 + n))),
                stairwell_id: self.stairwells[stairwell % self.stairwells.len()],
                tags: tags.iter().map(|t| t.to_string()).collect(),
                teams: teams
                    .iter()
                    .map(|t| self.teams[t % self.teams.len()])
                    .collect(),
                household: household.map(str::to_string),
            })
            .await;
        let v: VolunteerId = r.volunteer_id;
        self.volunteers.push(v);
        self.entries.push(vec![]);
        v
    }

    /// Logs and (optionally) verifies a service; returns the entry id when verified.
    pub async fn serve(
        &mut self,
        v: usize,
        kind: ServiceKind,
        at: DateTime<Utc>,
        hours: &str,
        verify: bool,
    ) -> Option<EntryId> {
        let volunteer_id = self.volunteers[v];
        let r = self
            .run(LogService {
                volunteer_id,
                kind,
                started_at: at,
                hours: dec(hours),
                place: "小区".into(),
                note: "服务".into(),
            })
            .await?;
        let service_id: ServiceId = r.service_id;
        if !verify {
            return None;
        }
        let r = self
            .run(VerifyService {
                volunteer_id,
                service_id,
            })
            .await?;
        let e: EntryId = r.entry_id;
        self.entries[v].push(e);
        Some(e)
    }

    pub async fn award(&mut self, v: usize, points: &str) -> Option<EntryId> {
        let r = self
            .run(AwardPoints {
                volunteer_id: self.volunteers[v],
                points: dec(points),
                reason: "表现突出".into(),
            })
            .await?;
        let e: EntryId = r.entry_id;
        self.entries[v].push(e);
        Some(e)
    }

    pub async fn redeem(&mut self, v: usize, points: &str) -> bool {
        self.run(RedeemPoints {
            volunteer_id: self.volunteers[v],
            points: dec(points),
            item: "洗衣液".into(),
        })
        .await
        .is_some()
    }

    pub async fn reverse(&mut self, v: usize, entry: EntryId) -> bool {
        self.run(ReverseEntry {
            volunteer_id: self.volunteers[v],
            entry_id: entry,
            reason: "记录有误".into(),
            impact: None,
        })
        .await
        .is_some()
    }

    pub async fn move_to(&mut self, v: usize, stairwell: usize, household: Option<&str>) -> bool {
        self.run(MoveVolunteer {
            volunteer_id: self.volunteers[v],
            stairwell_id: self.stairwells[stairwell % self.stairwells.len()],
            household: household.map(str::to_string),
        })
        .await
        .is_some()
    }

    pub async fn inspect(&mut self, stairwell: usize, month: &str, base: u32) -> bool {
        let mut scores = BTreeMap::new();
        scores.insert("cleanliness".to_string(), Decimal::from(20 + base % 11));
        scores.insert("clutter".to_string(), Decimal::from(15 + base % 9));
        scores.insert(
            "fire_safety".to_string(),
            Decimal::new(i64::from(1500 + (base % 7) * 150), 2),
        );
        self.run(RecordInspection {
            community_id: self.community,
            stairwell_id: self.stairwells[stairwell % self.stairwells.len()],
            month: month.into(),
            scores,
            note: String::new(),
        })
        .await
        .is_some()
    }

    pub async fn issue(&mut self, stairwell: usize, deduction: &str) -> Option<IssueId> {
        let s = self.stairwells[stairwell % self.stairwells.len()];
        let r = self
            .run(ReportStairwellIssue {
                community_id: self.community,
                stairwell_id: s,
                description: "楼道堆放杂物".into(),
                deduction: dec(deduction),
            })
            .await?;
        let i: IssueId = r.issue_id;
        self.issues.push((s, i));
        Some(i)
    }

    pub async fn resolve(&mut self, k: usize) -> bool {
        if self.issues.is_empty() {
            return false;
        }
        let (s, i) = self.issues[k % self.issues.len()];
        self.run(ResolveStairwellIssue {
            community_id: self.community,
            stairwell_id: s,
            issue_id: i,
            note: String::new(),
        })
        .await
        .is_some()
    }

    /// Posts a wish in a stairwell; a volunteer claims and fulfils it; staff confirm.
    pub async fn wish(
        &mut self,
        stairwell: usize,
        v: usize,
        at: DateTime<Utc>,
        hours: &str,
        confirm: bool,
    ) {
        let Some(r) = self
            .run(PostWish {
                community_id: self.community,
                stairwell_id: self.stairwells[stairwell % self.stairwells.len()],
                category: "生活".into(),
                description: "换灯泡".into(),
                resident_label: "独居老人".into(),
            })
            .await
        else {
            return;
        };
        let wish_id: WishId = r.wish_id;
        let volunteer_id = self.volunteers[v];
        if self
            .run(ClaimWish {
                wish_id,
                volunteer_id,
            })
            .await
            .is_none()
        {
            return;
        }
        if self
            .run(FulfilWish {
                wish_id,
                volunteer_id,
                hours: dec(hours),
                note: String::new(),
                fulfilled_at: Some(at),
            })
            .await
            .is_none()
        {
            return;
        }
        if confirm {
            if let Some(r) = self.run(ConfirmWish { wish_id }).await {
                let e: EntryId = r.entry_id;
                self.entries[v].push(e);
            }
        }
    }
}

/// One step of a random history.
#[derive(Debug, Clone)]
pub enum Op {
    /// `household`: one of a few rooms ([`HOUSEHOLDS`]), so that volunteers share them.
    Register {
        stairwell: usize,
        team: Option<usize>,
        tag: bool,
        household: Option<usize>,
    },
    Move {
        v: usize,
        stairwell: usize,
        household: Option<usize>,
    },
    Join {
        v: usize,
        team: usize,
    },
    Leave {
        v: usize,
        team: usize,
    },
    Serve {
        v: usize,
        kind: usize,
        day: u32,
        quarter_hours: u32,
        verify: bool,
    },
    Award {
        v: usize,
        points: u32,
    },
    Redeem {
        v: usize,
        points: u32,
    },
    Reverse {
        v: usize,
        k: usize,
    },
    Wish {
        stairwell: usize,
        v: usize,
        day: u32,
        confirm: bool,
    },
    Inspect {
        stairwell: usize,
        month: u32,
        base: u32,
    },
    Issue {
        stairwell: usize,
        deduction: u32,
    },
    Resolve {
        k: usize,
    },
    Depart {
        v: usize,
    },
}

pub fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..4usize, proptest::option::of(0..3usize), any::<bool>(), proptest::option::of(0..HOUSEHOLDS.len()))
            .prop_map(|(stairwell, team, tag, household)| Op::Register { stairwell, team, tag, household }),
        1 => (0..50usize, 0..4usize, proptest::option::of(0..HOUSEHOLDS.len()))
            .prop_map(|(v, stairwell, household)| Op::Move { v, stairwell, household }),
        1 => (0..50usize, 0..3usize).prop_map(|(v, team)| Op::Join { v, team }),
        1 => (0..50usize, 0..3usize).prop_map(|(v, team)| Op::Leave { v, team }),
        8 => (0..50usize, 0..6usize, 0..MAX_DAY, 1..=32u32, proptest::bool::weighted(0.85))
            .prop_map(|(v, kind, day, quarter_hours, verify)| Op::Serve { v, kind, day, quarter_hours, verify }),
        2 => (0..50usize, 1..=50u32).prop_map(|(v, points)| Op::Award { v, points }),
        2 => (0..50usize, 1..=80u32).prop_map(|(v, points)| Op::Redeem { v, points }),
        2 => (0..50usize, 0..20usize).prop_map(|(v, k)| Op::Reverse { v, k }),
        1 => (0..4usize, 0..50usize, 0..MAX_DAY, any::<bool>())
            .prop_map(|(stairwell, v, day, confirm)| Op::Wish { stairwell, v, day, confirm }),
        3 => (0..4usize, 0..20u32, 0..1000u32).prop_map(|(stairwell, month, base)| Op::Inspect { stairwell, month, base }),
        1 => (0..4usize, 1..=15u32).prop_map(|(stairwell, deduction)| Op::Issue { stairwell, deduction }),
        1 => (0..10usize).prop_map(|k| Op::Resolve { k }),
        1 => (0..50usize).prop_map(|v| Op::Depart { v }),
    ]
}

pub const KINDS: [ServiceKind; 6] = ServiceKind::ALL;

/// Rooms the random histories put volunteers in (the same room in two stairwells is
/// two households).
pub const HOUSEHOLDS: [&str; 3] = ["1-101", "1-102", "2-201"];

/// "2025-01" + `month` months.
pub fn month_name(month: u32) -> String {
    format!("{}-{:02}", 2025 + month / 12, month % 12 + 1)
}

impl World {
    /// Applies a random history (three volunteers are registered first).
    pub async fn apply(&mut self, ops: &[Op]) {
        for (i, (s, t)) in [(0usize, 0usize), (1, 1), (3, 2)].into_iter().enumerate() {
            self.register(&format!("志愿者{i}"), s, &[t], &["党员"])
                .await;
        }
        for op in ops {
            let n = self.volunteers.len();
            match op.clone() {
                Op::Register {
                    stairwell,
                    team,
                    tag,
                    household,
                } => {
                    let teams: Vec<usize> = team.into_iter().collect();
                    let tags: &[&str] = if tag { &["五老"] } else { &[] };
                    let household = household.map(|h| HOUSEHOLDS[h]);
                    self.register_in(&format!("志愿者{n}"), stairwell, &teams, tags, household)
                        .await;
                }
                Op::Move {
                    v,
                    stairwell,
                    household,
                } => {
                    self.move_to(v % n, stairwell, household.map(|h| HOUSEHOLDS[h]))
                        .await;
                }
                Op::Join { v, team } => {
                    let (volunteer_id, team_id) = (self.volunteers[v % n], self.teams[team]);
                    self.run(JoinTeam {
                        volunteer_id,
                        team_id,
                    })
                    .await;
                }
                Op::Leave { v, team } => {
                    let (volunteer_id, team_id) = (self.volunteers[v % n], self.teams[team]);
                    self.run(LeaveTeam {
                        volunteer_id,
                        team_id,
                    })
                    .await;
                }
                Op::Serve {
                    v,
                    kind,
                    day: d,
                    quarter_hours,
                    verify,
                } => {
                    let hours = Decimal::new(i64::from(quarter_hours) * 25, 2).to_string();
                    self.serve(v % n, KINDS[kind], day(d), &hours, verify).await;
                }
                Op::Award { v, points } => {
                    self.award(v % n, &points.to_string()).await;
                }
                Op::Redeem { v, points } => {
                    self.redeem(v % n, &points.to_string()).await;
                }
                Op::Reverse { v, k } => {
                    let v = v % n;
                    if !self.entries[v].is_empty() {
                        let e = self.entries[v][k % self.entries[v].len()];
                        self.reverse(v, e).await;
                    }
                }
                Op::Wish {
                    stairwell,
                    v,
                    day: d,
                    confirm,
                } => {
                    self.wish(stairwell, v % n, day(d), "1.5", confirm).await;
                }
                Op::Inspect {
                    stairwell,
                    month,
                    base,
                } => {
                    self.inspect(stairwell, &month_name(month), base).await;
                }
                Op::Issue {
                    stairwell,
                    deduction,
                } => {
                    self.issue(stairwell, &deduction.to_string()).await;
                }
                Op::Resolve { k } => {
                    self.resolve(k).await;
                }
                Op::Depart { v } => {
                    let volunteer_id = self.volunteers[v % n];
                    self.run(DepartVolunteer {
                        volunteer_id,
                        reason: "搬离".into(),
                    })
                    .await;
                }
            }
        }
    }
}

/// Parses the CSV layout of `reports::render_csv` (after the BOM): sections of a title
/// line, a header line and data lines, separated by empty lines.
pub fn parse_csv_sections(text: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let mut records: Vec<Vec<String>> = Vec::new();
    let mut field = String::new();
    let mut record: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                at_start = true;
            }
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    let mut sections = Vec::new();
    let mut current: Option<(String, Vec<Vec<String>>)> = None;
    for r in records {
        if r.len() == 1 && r[0].is_empty() {
            if let Some(s) = current.take() {
                sections.push(s);
            }
            continue;
        }
        match current.as_mut() {
            None => {
                let title = r[0]
                    .trim_start_matches('【')
                    .trim_end_matches('】')
                    .to_string();
                current = Some((title, Vec::new()));
            }
            Some((_, rows)) => rows.push(
                r.into_iter()
                    .map(|f| match f.strip_prefix('\'') {
                        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_string(),
                        _ => f,
                    })
                    .collect(),
            ),
        }
    }
    if let Some(s) = current.take() {
        sections.push(s);
    }
    sections
}

/// Checks that `html` is well-formed XML: balanced, properly nested elements, one root,
/// valid entities. Returns the number of elements of each name.
pub fn check_well_formed(html: &str) -> BTreeMap<String, usize> {
    use quick_xml::events::Event as X;
    let mut reader = quick_xml::Reader::from_str(html);
    let mut stack: Vec<String> = Vec::new();
    let mut counts = BTreeMap::new();
    let mut roots = 0;
    loop {
        let event = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => panic!("not well-formed at byte {}: {e}", reader.error_position()),
        };
        match event {
            X::Start(e) => {
                let name = {
                    let q = e.name();
                    let n: &str = q.as_ref();
                    n.to_string()
                };
                if stack.is_empty() {
                    roots += 1;
                }
                *counts.entry(name.clone()).or_insert(0) += 1;
                stack.push(name);
            }
            X::End(e) => {
                let name = {
                    let q = e.name();
                    let n: &str = q.as_ref();
                    n.to_string()
                };
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.as_str()),
                    "mismatched end tag"
                );
            }
            X::Empty(e) => {
                let name = {
                    let q = e.name();
                    let n: &str = q.as_ref();
                    n.to_string()
                };
                if stack.is_empty() {
                    roots += 1;
                }
                *counts.entry(name).or_insert(0) += 1;
            }
            X::GeneralRef(r) => {
                let name: &str = r.as_ref();
                let name = name.to_string();
                assert!(
                    ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_str())
                        || name.starts_with('#'),
                    "entity &{name}; is not an XML entity"
                );
            }
            X::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert_eq!(roots, 1, "exactly one root element");
    counts
}

/// A fixed history: six volunteers, services in 2025 and 2026, awards, a redemption,
/// inspections, an issue and a wish. Returns the volunteers' indices by name order.
pub async fn scenario(w: &mut World) {
    use ServiceKind::*;
    let names = [
        ("张三", 0, 0),
        ("李四", 1, 1),
        ("王五", 2, 2),
        ("赵六", 3, 0),
        ("钱七", 0, 1),
        ("孙八", 1, 2),
    ];
    for (name, s, t) in names {
        w.register(name, s, &[t], &["党员"]).await;
    }
    let plan: [(usize, ServiceKind, (i32, u32, u32), &str); 14] = [
        (0, Patrol, (2025, 1, 10), "3"),
        (0, Repair, (2025, 2, 14), "2.5"),
        (0, ElderlyVisit, (2025, 3, 3), "1.5"),
        (1, Patrol, (2025, 1, 20), "4"),
        (1, Mediation, (2025, 5, 5), "2"),
        (2, Other, (2025, 3, 18), "1"),
        (2, Patrol, (2025, 12, 31), "2"),
        (3, ElderlyVisit, (2025, 6, 1), "6"),
        (4, Repair, (2025, 1, 11), "0.5"),
        (5, Patrol, (2025, 2, 2), "8"),
        (0, Patrol, (2026, 1, 5), "2"),
        (1, Repair, (2026, 3, 9), "3"),
        (2, Patrol, (2026, 4, 9), "1.25"),
        (3, Other, (2026, 6, 30), "2"),
    ];
    for (v, kind, (y, m, d), h) in plan {
        w.serve(v, kind, ymd(y, m, d), h, true)
            .await
            .expect("verified");
    }
    // One logged but never verified (does not count).
    w.serve(4, Patrol, ymd(2025, 4, 4), "2", false).await;
    w.award(1, "15").await.expect("award");
    w.award(3, "7.5").await.expect("award");
    assert!(w.redeem(1, "20").await);
    for (s, months) in [(0usize, 1..=6u32), (1, 1..=6), (2, 1..=3), (3, 2..=4)] {
        for m in months {
            assert!(
                w.inspect(s, &format!("2025-{m:02}"), (s as u32 + 1) * 7 + m * 3)
                    .await
            );
        }
    }
    assert!(w.inspect(0, "2026-11", 5).await);
    w.issue(0, "5").await.expect("issue");
    w.wish(2, 2, ymd(2026, 11, 1), "1.5", true).await;
}
