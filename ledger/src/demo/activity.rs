//! Activities of the demo history: each community's activities spread over the
//! timeline, run by a handler whose clock is moved through each one (the decisions are
//! dated as they would have been): posting, sign-ups past the places onto the waiting
//! list, a withdrawal that moves the first waiting up, check-in with the rotating code
//! or by staff for elders without a phone, check-out (or none, settled at the end), the
//! approval in one command with an exclusion, a 补录; from two thirds of the timeline a
//! 3-day 公示 notice, with an objection upheld by a correction and one dismissed, then
//! finality. Generated after the rest of the history, with a random source of its own,
//! so the rest is the same with or without activities.

use super::setup::CommunitySetup;
use super::*;
use std::sync::Arc;

const TITLES: [(&str, ServiceKind, &str); 6] = [
    ("北门治安巡逻", ServiceKind::Patrol, "小区北门"),
    ("楼道清理日", ServiceKind::Other, "各楼道"),
    ("敬老院探访", ServiceKind::ElderlyVisit, "街道敬老院"),
    ("家电义务维修", ServiceKind::Repair, "社区活动中心"),
    ("垃圾分类宣传", ServiceKind::Other, "中心花园"),
    ("邻里纠纷调解", ServiceKind::Mediation, "社区议事厅"),
];

/// Events an activity command wrote (replays counted too).
fn events_in(o: &Outcome) -> u64 {
    match o {
        Outcome::ApproveAttendance(a) | Outcome::FinaliseAttendance(a) => {
            let finality = if a.final_records > 0 {
                1 + 2 * u64::from(a.final_records)
            } else {
                0
            };
            u64::from(matches!(o, Outcome::ApproveAttendance(_))) + finality
        }
        Outcome::RecordLateAttendance(l) => 1 + if l.notice_until.is_none() { 3 } else { 0 },
        Outcome::WithdrawSignUp(c) | Outcome::ChangeActivity(c) => 1 + c.moved_up.len() as u64,
        _ => 1,
    }
}

/// The demo's activities of every community; the events they hold.
pub(super) async fn activities(
    handler: &CommandHandler,
    opts: &DemoOptions,
    admin: &Actor,
    setups: &[CommunitySetup],
    sims: &[Sim],
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Result<u64, DemoError> {
    if opts.activities == 0 {
        return Ok(0);
    }
    let seed = opts.seed;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6163_7469_7669_7479);
    let clock = Arc::new(FixedClock::new(start));
    let h = CommandHandler::with_clock(handler.store().clone(), clock.clone());
    let mut written = 0;
    let mut step = 0u64;
    let mut run = |actor: &Actor, command: Command| {
        step += 1;
        let key = format!("demo:{seed}:activity:{step}");
        let h = h.clone();
        let actor = actor.clone();
        async move {
            match run_one(&h, &actor, key, command).await {
                Ok((o, _)) => Ok(Some(o)),
                // a sign-up past the places without the waiting list, and the like
                Err(DemoError::Command { ref source, .. }) if source.domain().is_some() => Ok(None),
                Err(e) => Err(e),
            }
        }
    };
    let notice_from = start + (end - start) * 2 / 3;
    for (ci, s) in setups.iter().enumerate() {
        clock.set(start - Duration::days(1));
        let rules = SetActivityRules {
            community_id: s.id,
            time_unit_minutes: 15,
            late_record_days: 30,
            notice_days: 3,
            checkin_opens_minutes: 30,
            code_period_seconds: 30,
            effective_from: crate::domain::local_date(notice_from),
        };
        if let Some(o) = run(admin, rules.into()).await? {
            written += events_in(&o);
        }
        let people: Vec<VolunteerId> = sims
            .iter()
            .filter(|x| x.community == ci && !x.departed)
            .map(|x| x.id)
            .collect();
        if people.is_empty() {
            continue;
        }
        let n = opts.activities;
        for i in 0..n {
            let day = start + (end - start) * (i as i32 + 1) / (n as i32 + 1);
            // 8:00 in China (midnight UTC) of that day
            let at = day_start(crate::domain::local_date(day));
            let (title, kind, place) = TITLES[rng.gen_range(0..TITLES.len())];
            let places = rng.gen_range(4..=12u32).min(people.len() as u32);
            let ends = at + Duration::hours(2);
            clock.set(at - Duration::days(3));
            let post = PostActivity {
                community_id: s.id,
                title: title.into(),
                kind,
                place: place.into(),
                starts_at: at,
                ends_at: ends,
                places,
                signup_deadline: Some(at - Duration::hours(12)),
                eligibility: Default::default(),
                walk_ins: rng.gen_bool(0.3),
            };
            let Some(Outcome::PostActivity(NewActivity { activity_id: a })) =
                run(&s.staff, post.into()).await?
            else {
                continue;
            };
            written += 1;
            let mut chosen = people.clone();
            chosen.shuffle(&mut rng);
            chosen.truncate((places as usize + 3).min(people.len()));
            for v in &chosen {
                let me = Actor::volunteer(*v, s.id);
                let sign = SignUp {
                    activity_id: a,
                    volunteer_id: *v,
                    waitlist: true,
                };
                if let Some(o) = run(&me, sign.into()).await? {
                    written += events_in(&o);
                }
            }
            if chosen.len() > places as usize && rng.gen_bool(0.5) {
                let v = chosen.remove(0);
                let me = Actor::volunteer(v, s.id);
                let out = WithdrawSignUp {
                    activity_id: a,
                    volunteer_id: v,
                    reason: "临时有事".into(),
                };
                if let Some(o) = run(&me, out.into()).await? {
                    written += events_in(&o);
                }
            }
            let placed: Vec<VolunteerId> = chosen.iter().take(places as usize).copied().collect();
            clock.set(at + Duration::minutes(rng.gen_range(-20..10)));
            let mut attended = Vec::new();
            for v in &placed {
                if !rng.gen_bool(0.85) {
                    continue;
                }
                // An elder without a phone is checked in by staff.
                let (actor, code) = if rng.gen_bool(0.2) {
                    (s.staff.clone(), None)
                } else {
                    let code = shown_code(&h, a).await?;
                    (Actor::volunteer(*v, s.id), Some(code))
                };
                let ci = CheckIn {
                    activity_id: a,
                    volunteer_id: *v,
                    code,
                };
                if let Some(o) = run(&actor, ci.into()).await? {
                    written += events_in(&o);
                    attended.push(*v);
                }
                clock.advance(Duration::seconds(rng.gen_range(5..90)));
            }
            clock.set(ends - Duration::minutes(rng.gen_range(0..40)));
            let code = shown_code(&h, a).await?;
            for v in &attended {
                if rng.gen_bool(0.7) {
                    let co = CheckOut {
                        activity_id: a,
                        volunteer_id: *v,
                        code: Some(code.clone()),
                    };
                    if let Some(o) = run(&Actor::volunteer(*v, s.id), co.into()).await? {
                        written += events_in(&o);
                    }
                }
            }
            clock.set(ends + Duration::hours(3));
            let exclusions = match attended.last() {
                Some(v) if attended.len() > 3 && rng.gen_bool(0.3) => {
                    vec![Exclusion {
                        volunteer_id: *v,
                        reason: "中途离开未返回".into(),
                    }]
                }
                _ => vec![],
            };
            let approve = ApproveAttendance {
                activity_id: a,
                adjustments: vec![],
                exclusions,
            };
            let Some(approved) = run(&s.staff, approve.into()).await? else {
                continue;
            };
            written += events_in(&approved);
            // A 补录 for a volunteer who came without signing up.
            if let Some(v) = people.iter().find(|v| !chosen.contains(v)) {
                if rng.gen_bool(0.4) {
                    let late = RecordLateAttendance {
                        activity_id: a,
                        volunteer_id: *v,
                        hours: Decimal::from(1),
                        reason: "现场参加，未带手机签到".into(),
                    };
                    if let Some(o) = run(&s.staff, late.into()).await? {
                        written += events_in(&o);
                    }
                }
            }
            let Outcome::ApproveAttendance(outcome) = approved else {
                continue;
            };
            if outcome.notice_until.is_none() {
                continue;
            }
            // During the notice: an objection upheld by a correction, one dismissed.
            for (j, v) in attended.iter().take(2).enumerate() {
                if !rng.gen_bool(0.5) {
                    continue;
                }
                let neighbour = people.iter().find(|p| *p != v).copied().unwrap_or(*v);
                let raise = RaiseObjection {
                    activity_id: a,
                    volunteer_id: *v,
                    reason: "签到后提前离开".into(),
                };
                let Some(Outcome::RaiseObjection(ObjectionRef { objection_id, .. })) =
                    run(&Actor::volunteer(neighbour, s.id), raise.into()).await?
                else {
                    continue;
                };
                written += 1;
                let verdict = if j == 0 {
                    Verdict::Correct {
                        hours: Decimal::from(1),
                    }
                } else {
                    Verdict::Dismiss
                };
                let resolve = ResolveObjection {
                    impact: None,
                    activity_id: a,
                    objection_id,
                    verdict,
                    reason: "核对签到记录".into(),
                };
                if let Some(o) = run(&s.staff, resolve.into()).await? {
                    written += events_in(&o);
                }
            }
            clock.set(ends + Duration::days(4));
            let fin = FinaliseAttendance { activity_id: a };
            if let Some(o) = run(&s.staff, fin.into()).await? {
                written += events_in(&o);
            }
        }
    }
    Ok(written)
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The six digits the organiser's screen shows now.
async fn shown_code(h: &CommandHandler, a: ActivityId) -> Result<String, DemoError> {
    let (shown, _) = h
        .check_in_code(a)
        .await
        .map_err(|source| DemoError::Command {
            command: "CheckInCode",
            key: a.to_string(),
            source,
        })?;
    Ok(shown.code)
}
