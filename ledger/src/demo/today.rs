//! The demo's present (`timebank serve --demo`): the generated history ends in the past,
//! so a new user would open a hall with no red flag this month and a phone with no
//! activity. This adds, around `now`, what a community's week looks like: an activity
//! under way with people checked in, one tomorrow still recruiting, one that ended
//! yesterday waiting for its approval, one on its 公示 notice with an objection; this
//! month's awards and verified services, this month's inspections (all but two
//! stairwells: a red flag, and work left), wishes in every state, and the points shop
//! (积分超市) with redemptions waiting, collected and cancelled, and the service record
//! (training, a commendation, evaluations, a service received to rate). It runs through
//! the command layer like the rest of the demo; its keys derive from the day, so
//! running it twice on one day adds nothing.

use super::chain::run_one;
use super::*;
use crate::domain::{Aggregate, CommunityState, VolunteerState};
use crate::event::Event;
use std::sync::Arc;

/// The community's active volunteers, by number (at most `n`).
async fn active_volunteers(
    handler: &CommandHandler,
    community: CommunityId,
    n: usize,
) -> Result<Vec<VolunteerId>, DemoError> {
    let store = handler.store();
    let recorded = store
        .read_stream(&community_stream(community), 0)
        .await
        .map_err(|e| DemoError::Unexpected(e.to_string()))?;
    let mut out = Vec::new();
    for r in recorded {
        let Ok(Event::VolunteerEnrolled { volunteer_id, .. }) = Event::decode(&r) else {
            continue;
        };
        let events: Vec<Event> = store
            .read_stream(&volunteer_stream(volunteer_id), 0)
            .await
            .map_err(|e| DemoError::Unexpected(e.to_string()))?
            .iter()
            .filter_map(|r| Event::decode(r).ok())
            .collect();
        if !VolunteerState::from_events(&events).departed {
            out.push(volunteer_id);
            if out.len() >= n {
                break;
            }
        }
    }
    Ok(out)
}

/// What the present added: where, and a volunteer to log in as on the phone (one
/// with activities, awards and messages of this week).
#[derive(Debug, Clone, PartialEq)]
pub struct PresentDay {
    pub community_id: CommunityId,
    pub volunteer_id: VolunteerId,
    pub events_written: u64,
}

/// Adds the present around `now` to the first community of the log.
pub async fn present(
    handler: &CommandHandler,
    now: DateTime<Utc>,
) -> Result<PresentDay, DemoError> {
    let store = handler.store().clone();
    let first = store
        .read_all(0, 1)
        .await
        .map_err(|e| DemoError::Unexpected(e.to_string()))?;
    let Some(Ok(Event::CommunityEstablished { community_id, .. })) =
        first.first().map(Event::decode)
    else {
        return Err(DemoError::Unexpected(
            "the log starts with no community".into(),
        ));
    };
    let events: Vec<Event> = store
        .read_stream(&community_stream(community_id), 0)
        .await
        .map_err(|e| DemoError::Unexpected(e.to_string()))?
        .iter()
        .filter_map(|r| Event::decode(r).ok())
        .collect();
    let community = CommunityState::from_events(&events);
    let people = active_volunteers(handler, community_id, 40).await?;
    if people.len() < 20 {
        return Err(DemoError::Unexpected(
            "the demo community has too few volunteers".into(),
        ));
    }
    let clock = Arc::new(FixedClock::new(now));
    let h = CommandHandler::with_clock(store, clock.clone());
    let day = crate::domain::local_date(now);
    let staff = Actor::staff(
        uuid_of(day.num_days_from_ce() as u64, "staff"),
        community_id,
    );
    let mut p = Present {
        h: &h,
        clock: &clock,
        staff,
        day,
        step: 0,
        written: 0,
    };
    p.awards(&people, now).await?;
    p.inspections(&community, community_id, now).await?;
    p.wishes(&community, community_id, &people, now).await?;
    p.activities(community_id, &people, now).await?;
    p.shop(community_id, &people, now).await?;
    p.record(&people, now).await?;
    clock.set(now);
    Ok(PresentDay {
        community_id,
        volunteer_id: people[0],
        events_written: p.written,
    })
}

pub(super) struct Present<'a> {
    pub(super) h: &'a CommandHandler,
    clock: &'a FixedClock,
    pub(super) staff: Actor,
    day: chrono::NaiveDate,
    step: u64,
    written: u64,
}

impl Present<'_> {
    /// Runs a command as `actor` at `at`; a refusal of the rules is skipped.
    pub(super) async fn run(
        &mut self,
        actor: &Actor,
        at: DateTime<Utc>,
        command: impl Into<Command>,
    ) -> Result<Option<Outcome>, DemoError> {
        self.step += 1;
        self.clock.set(at);
        let key = format!("demo:today:{}:{}", self.day, self.step);
        match run_one(self.h, actor, key, command.into()).await {
            Ok((o, n)) => {
                self.written += n;
                Ok(Some(o))
            }
            Err(DemoError::Command { ref source, .. }) if source.domain().is_some() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// This month's awards and verified services: the month's best are not empty.
    async fn awards(
        &mut self,
        people: &[VolunteerId],
        now: DateTime<Utc>,
    ) -> Result<(), DemoError> {
        let staff = self.staff.clone();
        let award = AwardPointsToMany {
            volunteer_ids: people[..8].to_vec(),
            points: Decimal::from(5),
            reason: "楼道清扫日".into(),
        };
        self.run(&staff, now - Duration::hours(30), award).await?;
        for (i, v) in people[..12].iter().enumerate() {
            let started = now - Duration::hours(20 + 7 * i as i64);
            let log = LogService {
                volunteer_id: *v,
                kind: [
                    ServiceKind::Patrol,
                    ServiceKind::ElderlyVisit,
                    ServiceKind::Repair,
                ][i % 3],
                started_at: started,
                hours: dec_minutes(60 + 30 * (i as i64 % 4)),
                place: ["小区北门", "3栋独居老人家", "社区活动中心"][i % 3].into(),
                note: String::new(),
            };
            let Some(Outcome::LogService(s)) =
                self.run(&staff, started + Duration::hours(3), log).await?
            else {
                continue;
            };
            let verify = VerifyService {
                volunteer_id: *v,
                service_id: s.service_id,
            };
            self.run(&staff, started + Duration::hours(4), verify)
                .await?;
        }
        let award = AwardPoints {
            volunteer_id: people[3],
            points: Decimal::from(20),
            reason: "见义勇为，帮助走失老人回家".into(),
        };
        self.run(&staff, now - Duration::hours(2), award).await?;
        Ok(())
    }

    /// The points shop: four items; the phone's volunteer has a towel waiting to be
    /// collected, another volunteer collected rice, a third cancelled oil.
    async fn shop(
        &mut self,
        cid: CommunityId,
        people: &[VolunteerId],
        now: DateTime<Utc>,
    ) -> Result<(), DemoError> {
        let staff = self.staff.clone();
        let place = "社区服务站一楼";
        let goods: [(&str, i64, u32, Option<u32>); 4] = [
            ("毛巾", 8, 30, Some(2)),
            ("大米 5kg", 40, 20, None),
            ("食用油 1.8L", 30, 15, None),
            ("洗衣液", 20, 12, None),
        ];
        let mut ids = Vec::new();
        for (name, price, stock, per_person) in goods {
            let list = ListShopItem {
                community_id: cid,
                name: name.into(),
                price: Decimal::from(price),
                stock,
                collect_at: place.into(),
                valid_until: None,
                per_person,
            };
            if let Some(Outcome::ListShopItem(r)) =
                self.run(&staff, now - Duration::days(6), list).await?
            {
                ids.push(r.item_id);
            }
        }
        if ids.len() < 3 {
            return Ok(());
        }
        let mut redeemed = Vec::new();
        for (who, item, hours_ago) in [(0, 0, 5), (1, 1, 50), (2, 2, 28)] {
            let v = people[who];
            let actor = Actor::volunteer(v, cid);
            let redeem = RedeemShopItem {
                item_id: ids[item],
                volunteer_id: v,
            };
            let at = now - Duration::hours(hours_ago);
            if let Some(Outcome::RedeemShopItem(r)) = self.run(&actor, at, redeem).await? {
                redeemed.push((who, r));
            }
        }
        for (who, r) in redeemed.iter().filter(|(who, _)| *who > 0) {
            let at = now - Duration::hours(20);
            if *who == 1 {
                let collect = CollectRedemption {
                    item_id: r.item_id,
                    redemption_id: r.redemption_id,
                };
                self.run(&staff, at, collect).await?;
            } else {
                let cancel = CancelRedemption {
                    item_id: r.item_id,
                    redemption_id: r.redemption_id,
                    reason: "本人不需要了".into(),
                };
                self.run(&staff, at, cancel).await?;
            }
        }
        Ok(())
    }

    /// This month's inspections, all but the last two stairwells.
    async fn inspections(
        &mut self,
        c: &CommunityState,
        cid: CommunityId,
        now: DateTime<Utc>,
    ) -> Result<(), DemoError> {
        let staff = self.staff.clone();
        let month = format!("{}", self.day.format("%Y-%m"));
        let rubric = c.rubric_on(self.day);
        let ids: Vec<StairwellId> = c.stairwells.keys().copied().collect();
        let done = ids.len().saturating_sub(2);
        for (i, s) in ids.iter().take(done).enumerate() {
            let scores = rubric
                .items
                .iter()
                .enumerate()
                .map(|(j, item)| {
                    let off = Decimal::from(((i * 7 + j * 3) % 9) as i64);
                    (item.key.clone(), (item.max - off).max(Decimal::ZERO))
                })
                .collect();
            let inspect = RecordInspection {
                community_id: cid,
                stairwell_id: *s,
                month: month.clone(),
                scores,
                note: "月度检查".into(),
            };
            self.run(&staff, now - Duration::hours(26), inspect).await?;
        }
        Ok(())
    }

    /// Wishes open, claimed, and fulfilled waiting for staff to confirm.
    async fn wishes(
        &mut self,
        c: &CommunityState,
        cid: CommunityId,
        people: &[VolunteerId],
        now: DateTime<Utc>,
    ) -> Result<(), DemoError> {
        let staff = self.staff.clone();
        let stairwell = *c
            .stairwells
            .keys()
            .next()
            .ok_or_else(|| DemoError::Unexpected("no stairwell".into()))?;
        let list = [
            ("维修", "厨房水龙头漏水，想请人看看", "3栋独居老人"),
            ("陪伴", "周末想有人陪着去公园走走", "5栋王奶奶"),
            ("代购", "帮忙买一袋大米送上楼", "2栋李爷爷"),
            ("学习", "想学用手机挂号", "1栋退休教师"),
        ];
        for (i, (category, text, who)) in list.iter().enumerate() {
            let post = PostWish {
                community_id: cid,
                stairwell_id: stairwell,
                category: category.to_string(),
                description: text.to_string(),
                resident_label: who.to_string(),
            };
            let at = now - Duration::hours(50 - 6 * i as i64);
            let Some(Outcome::PostWish(w)) = self.run(&staff, at, post).await? else {
                continue;
            };
            let v = people[10 + i];
            let me = Actor::volunteer(v, cid);
            if i >= 2 {
                let claim = ClaimWish {
                    wish_id: w.wish_id,
                    volunteer_id: v,
                };
                self.run(&me, at + Duration::hours(2), claim).await?;
            }
            if i == 3 {
                let done = FulfilWish {
                    wish_id: w.wish_id,
                    volunteer_id: v,
                    hours: dec_minutes(90),
                    note: "教会了用小程序挂号".into(),
                    fulfilled_at: None,
                };
                self.run(&me, at + Duration::hours(20), done).await?;
            }
        }
        Ok(())
    }

    /// Posts an activity `hours` long from `starts`, signs up `who` two days before.
    async fn activity(
        &mut self,
        c: CommunityId,
        (title, kind, place): (&str, ServiceKind, &str),
        starts: DateTime<Utc>,
        places: u32,
        who: &[VolunteerId],
    ) -> Result<Option<ActivityId>, DemoError> {
        let staff = self.staff.clone();
        let post = PostActivity {
            community_id: c,
            title: title.into(),
            kind,
            place: place.into(),
            starts_at: starts,
            ends_at: starts + Duration::hours(2),
            places,
            signup_deadline: None,
            eligibility: Default::default(),
            walk_ins: false,
        };
        let Some(Outcome::PostActivity(a)) =
            self.run(&staff, starts - Duration::days(4), post).await?
        else {
            return Ok(None);
        };
        let a = a.activity_id;
        for (i, v) in who.iter().enumerate() {
            let me = Actor::volunteer(*v, c);
            let at = starts - Duration::days(3) + Duration::minutes(17 * i as i64);
            let signup = SignUp {
                activity_id: a,
                volunteer_id: *v,
                waitlist: true,
            };
            self.run(&me, at, signup).await?;
        }
        Ok(Some(a))
    }

    /// The first `n` of `who` check in with the code on the organiser's screen at `at`.
    async fn check_in(
        &mut self,
        c: CommunityId,
        a: ActivityId,
        who: &[VolunteerId],
        at: DateTime<Utc>,
    ) -> Result<(), DemoError> {
        for (i, v) in who.iter().enumerate() {
            let t = at + Duration::minutes(2 * i as i64);
            self.clock.set(t);
            let code = self
                .h
                .check_in_code(a)
                .await
                .map_err(|source| DemoError::Command {
                    command: "CheckInCode",
                    key: a.to_string(),
                    source,
                })?
                .0
                .code;
            let me = Actor::volunteer(*v, c);
            let check_in = CheckIn {
                activity_id: a,
                volunteer_id: *v,
                code: Some(code),
            };
            self.run(&me, t, check_in).await?;
        }
        Ok(())
    }

    /// Four activities around now: under way, tomorrow, ended yesterday (to approve),
    /// and on its notice with an objection.
    async fn activities(
        &mut self,
        c: CommunityId,
        people: &[VolunteerId],
        now: DateTime<Utc>,
    ) -> Result<(), DemoError> {
        let staff = self.staff.clone();
        // Under way, and today's in China even just after midnight.
        let midnight = Utc.from_utc_datetime(
            &crate::domain::local_date(now)
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default(),
        ) - Duration::hours(8);
        let start = (now - Duration::minutes(40)).max(midnight + Duration::minutes(1));
        let today = (("北门治安巡逻", ServiceKind::Patrol, "小区北门"), start, 12);
        if let Some(a) = self
            .activity(c, today.0, today.1, today.2, &people[20..30])
            .await?
        {
            self.check_in(c, a, &people[20..26], start - Duration::minutes(12))
                .await?;
        }
        let tomorrow = crate::domain::local_date(now) + Duration::days(1);
        let nine = Utc.from_utc_datetime(&tomorrow.and_hms_opt(1, 0, 0).unwrap_or_default());
        let mut helpers = vec![people[0]];
        helpers.extend_from_slice(&people[5..12]);
        self.activity(
            c,
            ("楼道清理日", ServiceKind::Other, "各楼道"),
            nine,
            20,
            &helpers,
        )
        .await?;
        let yesterday = now - Duration::days(1) - Duration::hours(4);
        if let Some(a) = self
            .activity(
                c,
                ("敬老院探访", ServiceKind::ElderlyVisit, "街道敬老院"),
                yesterday,
                8,
                &people[12..20],
            )
            .await?
        {
            self.check_in(c, a, &people[12..19], yesterday - Duration::minutes(10))
                .await?;
        }
        let before = now - Duration::days(2) - Duration::hours(5);
        if let Some(a) = self
            .activity(
                c,
                ("家电义务维修", ServiceKind::Repair, "社区活动中心"),
                before,
                6,
                &people[30..36],
            )
            .await?
        {
            self.check_in(c, a, &people[30..36], before - Duration::minutes(5))
                .await?;
            let approve = ApproveAttendance {
                activity_id: a,
                adjustments: vec![],
                exclusions: vec![],
            };
            self.run(&staff, before + Duration::hours(3), approve)
                .await?;
            let objection = RaiseObjection {
                activity_id: a,
                volunteer_id: people[31],
                reason: "当天只待了半小时就走了".into(),
            };
            let neighbour = Actor::volunteer(people[0], c);
            self.run(&neighbour, before + Duration::hours(20), objection)
                .await?;
        }
        Ok(())
    }
}
