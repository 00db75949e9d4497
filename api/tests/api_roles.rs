//! The role matrix: every mutation tried with every role and with no token; only the
//! allowed ones succeed (others get FORBIDDEN, or UNAUTHENTICATED without a token).
//! Each attempt gets fresh fixtures, so an allowed role always has valid input.

mod common;

use common::*;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Nobody,
    Admin,
    Staff,
    OtherStaff,
    Volunteer,
    Display,
}

const EVERYONE: [Who; 6] = [
    Who::Nobody,
    Who::Admin,
    Who::Staff,
    Who::OtherStaff,
    Who::Volunteer,
    Who::Display,
];

struct Fx<'a> {
    s: &'a Server,
    c: &'a Community,
}

impl Fx<'_> {
    async fn admin(&self, q: &str, v: Value) -> Value {
        self.s.ok(&self.s.admin, q, v).await
    }
    async fn stairwell(&self) -> String {
        self.admin("mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"9栋\", unit: \"1单元\", households: 10) { stairwellId } }", json!({"k": key(), "c": self.c.id}))
            .await["registerStairwell"]["stairwellId"].as_str().unwrap().to_string()
    }
    async fn volunteer(&self) -> String {
        self.admin("mutation($k: String!, $c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"王五\", phone: \"13700001111\") { volunteerId } }", json!({"k": key(), "c": self.c.id, "s": self.c.stairwell}))
            .await["registerVolunteer"]["volunteerId"].as_str().unwrap().to_string()
    }
    /// A service of v1 logged by v1 (so no staff or admin verifies their own).
    async fn service(&self) -> String {
        self.s.ok(&self.c.vol1, "mutation($k: String!) { logService(idempotencyKey: $k, kind: REPAIR, startedAt: \"2024-05-01T02:00:00Z\", hours: \"1\") { serviceId } }", json!({"k": key()}))
            .await["logService"]["serviceId"].as_str().unwrap().to_string()
    }
    async fn bank_hours(&self) {
        let sid = self.service().await;
        self.admin("mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { position } }", json!({"k": key(), "v": self.c.v1, "s": sid})).await;
    }
    async fn award(&self) -> String {
        self.admin("mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"10.00\", reason: \"好人好事\") { entryId } }", json!({"k": key(), "v": self.c.v1}))
            .await["awardPoints"]["entryId"].as_str().unwrap().to_string()
    }
    async fn wish(&self) -> String {
        self.admin("mutation($k: String!, $c: ID!, $s: ID!) { postWish(idempotencyKey: $k, communityId: $c, stairwellId: $s, category: \"维修\", description: \"修水管\", residentLabel: \"2单元老人\") { wishId } }", json!({"k": key(), "c": self.c.id, "s": self.c.stairwell}))
            .await["postWish"]["wishId"].as_str().unwrap().to_string()
    }
    async fn claimed_wish(&self) -> String {
        let w = self.wish().await;
        self.admin("mutation($k: String!, $w: ID!, $v: ID!) { claimWish(idempotencyKey: $k, wishId: $w, volunteerId: $v) { status } }", json!({"k": key(), "w": w, "v": self.c.v1})).await;
        w
    }
    async fn fulfilled_wish(&self) -> String {
        let w = self.claimed_wish().await;
        self.admin("mutation($k: String!, $w: ID!, $v: ID!) { fulfilWish(idempotencyKey: $k, wishId: $w, volunteerId: $v, hours: \"0.5\") { status } }", json!({"k": key(), "w": w, "v": self.c.v1})).await;
        w
    }
    /// An item of the community's shop: 1 point a unit, 5 in stock.
    async fn shop_item(&self) -> String {
        self.admin("mutation($k: String!, $c: ID!) { listShopItem(idempotencyKey: $k, communityId: $c, name: \"毛巾\", price: \"1\", stock: 5, collectAt: \"服务站\") { itemId } }", json!({"k": key(), "c": self.c.id}))
            .await["listShopItem"]["itemId"].as_str().unwrap().to_string()
    }
    /// v1 redeemed a unit of a new item: (item, redemption).
    async fn redeemed(&self) -> (String, String) {
        self.award().await;
        let i = self.shop_item().await;
        let r = self.admin("mutation($k: String!, $i: ID!, $v: ID!) { redeemShopItem(idempotencyKey: $k, itemId: $i, volunteerId: $v) { redemptionId } }", json!({"k": key(), "i": i, "v": self.c.v1}))
            .await["redeemShopItem"]["redemptionId"].as_str().unwrap().to_string();
        (i, r)
    }
    async fn team(&self) -> String {
        self.admin("mutation($k: String!, $c: ID!, $n: String!) { formTeam(idempotencyKey: $k, communityId: $c, name: $n) { teamId } }", json!({"k": key(), "c": self.c.id, "n": format!("服务队{}", &key()[..8])}))
            .await["formTeam"]["teamId"].as_str().unwrap().to_string()
    }
    async fn issue(&self) -> (String, String) {
        let sw = self.stairwell().await;
        let i = self.admin("mutation($k: String!, $c: ID!, $s: ID!) { reportStairwellIssue(idempotencyKey: $k, communityId: $c, stairwellId: $s, description: \"堆放杂物\", deduction: \"5\") { issueId } }", json!({"k": key(), "c": self.c.id, "s": sw}))
            .await["reportStairwellIssue"]["issueId"].as_str().unwrap().to_string();
        (sw, i)
    }

    /// An activity of the community: starting in `start_min` minutes, lasting an hour,
    /// walk-ins allowed.
    async fn activity(&self, start_min: i64) -> String {
        let start = chrono::Utc::now() + chrono::Duration::minutes(start_min);
        self.admin("mutation($k: String!, $c: ID!, $s: DateTime!, $e: DateTime!) { postActivity(idempotencyKey: $k, communityId: $c, title: \"巡逻\", kind: PATROL, place: \"北门\", startsAt: $s, endsAt: $e, places: 10, walkIns: true) { activityId } }",
            json!({"k": key(), "c": self.c.id, "s": start.to_rfc3339(), "e": (start + chrono::Duration::hours(1)).to_rfc3339()}))
            .await["postActivity"]["activityId"].as_str().unwrap().to_string()
    }
    async fn signed_up(&self, start_min: i64) -> String {
        let a = self.activity(start_min).await;
        self.admin("mutation($k: String!, $a: ID!, $v: ID!) { signUp(idempotencyKey: $k, activityId: $a, volunteerId: $v) { position } }", json!({"k": key(), "a": a, "v": self.c.v1})).await;
        a
    }
    async fn code(&self, a: &str) -> String {
        self.admin(
            "query($a: ID!) { activityCheckInCode(activityId: $a) { code } }",
            json!({"a": a}),
        )
        .await["activityCheckInCode"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    }
    async fn ended_with(&self, v: &str) -> String {
        ended_activity(self.s, self.c, v).await
    }
    /// As [`Fx::ended_with`], its attendance approved.
    async fn approved(&self, v: &str) -> String {
        let a = self.ended_with(v).await;
        self.admin("mutation($k: String!, $a: ID!) { approveAttendance(idempotencyKey: $k, activityId: $a) { position } }", json!({"k": key(), "a": a})).await;
        a
    }
    /// As [`Fx::approved`], under a 3-day notice: `v`'s record waits.
    async fn on_notice(&self, v: &str) -> String {
        self.admin("mutation($k: String!, $c: ID!) { setActivityRules(idempotencyKey: $k, communityId: $c, timeUnitMinutes: 15, lateRecordDays: 30, noticeDays: 3, effectiveFrom: \"2000-01-01\") { version } }", json!({"k": key(), "c": self.c.id})).await;
        self.approved(v).await
    }

    async fn street(&self) -> Value {
        self.admin("mutation($k: String!) { establishStreet(idempotencyKey: $k, name: \"街道\") { streetId } }", json!({"k": key()}))
            .await["establishStreet"]["streetId"].clone()
    }
    async fn district(&self) -> Value {
        self.admin("mutation($k: String!) { establishDistrict(idempotencyKey: $k, name: \"区\") { districtId } }", json!({"k": key()}))
            .await["establishDistrict"]["districtId"].clone()
    }

    /// A history import of one row for v1, recorded by the importer: its batch.
    async fn import_batch(&self) -> String {
        use ledger::ids::*;
        let id = |s: &str| uuid::Uuid::parse_str(s).unwrap();
        let h = ledger::command::CommandHandler::new(self.s.store.clone());
        let clerk =
            ledger::command::Actor::staff(uuid::Uuid::new_v4(), CommunityId(id(&self.c.id)));
        let batch = ImportBatchId(uuid::Uuid::new_v4());
        let row = ledger::command::ImportHistoryRow {
            community_id: CommunityId(id(&self.c.id)),
            batch_id: batch,
            file: "台账.xlsx".into(),
            row: 2,
            volunteer_id: VolunteerId(id(&self.c.v1)),
            kind: ledger::event::ServiceKind::Patrol,
            date: chrono::NaiveDate::from_ymd_opt(2019, 5, 1).unwrap(),
            hours: 1.into(),
            note: String::new(),
        };
        h.run(&clerk, &key(), row).await.unwrap();
        batch.0.to_string()
    }

    /// The request for one mutation, with fresh fixtures.
    async fn request(&self, mutation: &str) -> (String, Value) {
        let c = self.c;
        let k = key();
        let (q, v) = match mutation {
            "establishCommunity" => ("mutation($k: String!) { establishCommunity(idempotencyKey: $k, name: \"新社区\") { position } }", json!({"k": k})),
            "registerStairwell" => ("mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"1栋\", unit: \"1单元\", households: 12) { position } }", json!({"k": k, "c": c.id})),
            "formTeam" => ("mutation($k: String!, $c: ID!, $n: String!) { formTeam(idempotencyKey: $k, communityId: $c, name: $n) { position } }", json!({"k": k, "c": c.id, "n": format!("服务队{}", &k[..8])})),
            "registerVolunteer" => ("mutation($k: String!, $c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"赵六\") { position } }", json!({"k": k, "c": c.id, "s": c.stairwell})),
            "logService" => ("mutation($k: String!, $v: ID!) { logService(idempotencyKey: $k, volunteerId: $v, kind: PATROL, startedAt: \"2024-05-02T02:00:00Z\", hours: \"2\") { position } }", json!({"k": k, "v": c.v1})),
            "verifyService" => {
                let sid = self.service().await;
                ("mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { position } }", json!({"k": k, "v": c.v1, "s": sid}))
            }
            "rejectService" => {
                let sid = self.service().await;
                ("mutation($k: String!, $v: ID!, $s: ID!) { rejectService(idempotencyKey: $k, volunteerId: $v, serviceId: $s, reason: \"重复\") { position } }", json!({"k": k, "v": c.v1, "s": sid}))
            }
            "awardPoints" => ("mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", reason: \"奖励\") { position } }", json!({"k": k, "v": c.v1})),
            "redeemPoints" => {
                self.award().await;
                ("mutation($k: String!, $v: ID!) { redeemPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", item: \"毛巾\") { position } }", json!({"k": k, "v": c.v1}))
            }
            "reverseEntry" => {
                let e = self.award().await;
                ("mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"录入错误\") { position } }", json!({"k": k, "v": c.v1, "e": e}))
            }
            "reverseImportBatch" => {
                let b = self.import_batch().await;
                ("mutation($k: String!, $b: ID!) { reverseImportBatch(idempotencyKey: $k, batchId: $b, reason: \"导错了\") { position } }", json!({"k": k, "b": b}))
            }
            "giftHours" => {
                self.bank_hours().await;
                ("mutation($k: String!, $f: ID!, $t: ID!) { giftHours(idempotencyKey: $k, fromVolunteerId: $f, toVolunteerId: $t, hours: \"0.5\") { position } }", json!({"k": k, "f": c.v1, "t": c.v2}))
            }
            "spendHours" => {
                self.bank_hours().await;
                ("mutation($k: String!, $v: ID!) { spendHours(idempotencyKey: $k, volunteerId: $v, hours: \"0.5\", description: \"理发\") { position } }", json!({"k": k, "v": c.v1}))
            }
            "postWish" => ("mutation($k: String!, $c: ID!, $s: ID!) { postWish(idempotencyKey: $k, communityId: $c, stairwellId: $s, category: \"陪伴\", description: \"聊天\", residentLabel: \"独居老人\") { position } }", json!({"k": k, "c": c.id, "s": c.stairwell})),
            "claimWish" => {
                let w = self.wish().await;
                ("mutation($k: String!, $w: ID!, $v: ID!) { claimWish(idempotencyKey: $k, wishId: $w, volunteerId: $v) { position } }", json!({"k": k, "w": w, "v": c.v1}))
            }
            "releaseWish" => {
                let w = self.claimed_wish().await;
                ("mutation($k: String!, $w: ID!) { releaseWish(idempotencyKey: $k, wishId: $w) { position } }", json!({"k": k, "w": w}))
            }
            "fulfilWish" => {
                let w = self.claimed_wish().await;
                ("mutation($k: String!, $w: ID!, $v: ID!) { fulfilWish(idempotencyKey: $k, wishId: $w, volunteerId: $v, hours: \"1\") { position } }", json!({"k": k, "w": w, "v": c.v1}))
            }
            "confirmWish" => {
                let w = self.fulfilled_wish().await;
                ("mutation($k: String!, $w: ID!) { confirmWish(idempotencyKey: $k, wishId: $w) { position } }", json!({"k": k, "w": w}))
            }
            "cancelWish" => {
                let w = self.wish().await;
                ("mutation($k: String!, $w: ID!) { cancelWish(idempotencyKey: $k, wishId: $w, reason: \"已解决\") { position } }", json!({"k": k, "w": w}))
            }
            "recordInspection" => {
                let sw = self.stairwell().await;
                ("mutation($k: String!, $c: ID!, $s: ID!) { recordInspection(idempotencyKey: $k, communityId: $c, stairwellId: $s, month: \"2024-05\", scores: [{item: \"cleanliness\", score: \"28\"}, {item: \"clutter\", score: \"20\"}, {item: \"fire_safety\", score: \"25\"}]) { total position } }", json!({"k": k, "c": c.id, "s": sw}))
            }
            "reportStairwellIssue" => ("mutation($k: String!, $c: ID!, $s: ID!) { reportStairwellIssue(idempotencyKey: $k, communityId: $c, stairwellId: $s, description: \"楼道堆物\", deduction: \"3\") { position } }", json!({"k": k, "c": c.id, "s": c.stairwell})),
            "resolveStairwellIssue" => {
                let (sw, i) = self.issue().await;
                ("mutation($k: String!, $c: ID!, $s: ID!, $i: ID!) { resolveStairwellIssue(idempotencyKey: $k, communityId: $c, stairwellId: $s, issueId: $i) { position } }", json!({"k": k, "c": c.id, "s": sw, "i": i}))
            }
            "setPointRules" => ("mutation($k: String!, $c: ID!) { setPointRules(idempotencyKey: $k, communityId: $c, pointsPerHour: \"10\", coefficients: [{kind: ELDERLY_VISIT, coefficient: \"1.5\"}], maxHoursPerRecord: \"4\", effectiveFrom: \"2024-01-01\") { version position } }", json!({"k": k, "c": c.id})),
            "setStarThresholds" => ("mutation($k: String!, $c: ID!) { setStarThresholds(idempotencyKey: $k, communityId: $c, thresholds: [\"100\", \"200\", \"500\", \"800\", \"1000\"], effectiveFrom: \"2024-01-01\") { version position } }", json!({"k": k, "c": c.id})),
            "eraseVolunteerPersonalData" => {
                let v = self.volunteer().await;
                ("mutation($k: String!, $v: ID!) { eraseVolunteerPersonalData(idempotencyKey: $k, volunteerId: $v) { erased position } }", json!({"k": k, "v": v}))
            }
            "addGrid" => ("mutation($k: String!, $c: ID!, $n: String!) { addGrid(idempotencyKey: $k, communityId: $c, name: $n) { gridId position } }", json!({"k": k, "c": c.id, "n": format!("网格{}", &k[..8])})),
            "moveVolunteer" => {
                let (v, sw) = (self.volunteer().await, self.stairwell().await);
                ("mutation($k: String!, $v: ID!, $s: ID!) { moveVolunteer(idempotencyKey: $k, volunteerId: $v, stairwellId: $s) { position } }", json!({"k": k, "v": v, "s": sw}))
            }
            "joinTeam" => {
                let (v, t) = (self.volunteer().await, self.team().await);
                ("mutation($k: String!, $v: ID!, $t: ID!) { joinTeam(idempotencyKey: $k, volunteerId: $v, teamId: $t) { position } }", json!({"k": k, "v": v, "t": t}))
            }
            "leaveTeam" => {
                let (v, t) = (self.volunteer().await, self.team().await);
                self.admin("mutation($k: String!, $v: ID!, $t: ID!) { joinTeam(idempotencyKey: $k, volunteerId: $v, teamId: $t) { position } }", json!({"k": key(), "v": v, "t": t})).await;
                ("mutation($k: String!, $v: ID!, $t: ID!) { leaveTeam(idempotencyKey: $k, volunteerId: $v, teamId: $t) { position } }", json!({"k": k, "v": v, "t": t}))
            }
            "departVolunteer" => {
                let v = self.volunteer().await;
                ("mutation($k: String!, $v: ID!) { departVolunteer(idempotencyKey: $k, volunteerId: $v, reason: \"搬离社区\") { position } }", json!({"k": k, "v": v}))
            }
            // The built-in items again, so that later inspections still score them.
            "setRubric" => ("mutation($k: String!, $c: ID!) { setRubric(idempotencyKey: $k, communityId: $c, items: [{key: \"cleanliness\", name: \"楼道卫生\", max: \"30\"}, {key: \"clutter\", name: \"杂物清理\", max: \"25\"}, {key: \"fire_safety\", name: \"消防安全\", max: \"25\"}], participationMax: \"20\", effectiveFrom: \"2024-01-01\") { version position } }", json!({"k": k, "c": c.id})),
            "issueCertificate" => ("mutation($k: String!, $v: ID!) { issueCertificate(idempotencyKey: $k, volunteerId: $v, issuer: {organisation: \"海棠社区志愿服务站\"}) { number position } }", json!({"k": k, "v": c.v1})),
            "issueToken" => ("mutation($c: ID!) { issueToken(role: DISPLAY, communityId: $c, label: \"大厅屏\") { tokenId token } }", json!({"c": c.id})),
            "correctPersonalData" => {
                let v = self.volunteer().await;
                ("mutation($k: String!, $v: ID!) { correctPersonalData(idempotencyKey: $k, volunteerId: $v, name: \"王五\", phone: \"13700002222\") { position } }", json!({"k": k, "v": v}))
            }
            "setVolunteerTags" => {
                let v = self.volunteer().await;
                ("mutation($k: String!, $v: ID!) { setVolunteerTags(idempotencyKey: $k, volunteerId: $v, tags: [\"党员\"]) { position } }", json!({"k": k, "v": v}))
            }
            "awardPointsToMany" => ("mutation($k: String!, $a: ID!, $b: ID!) { awardPointsToMany(idempotencyKey: $k, volunteerIds: [$a, $b], points: \"2\", reason: \"楼道清扫\") { position } }", json!({"k": k, "a": c.v1, "b": c.v2})),
            "markInboxRead" => ("mutation { markInboxRead(upTo: 1) }", json!({})),
            "revokeSession" => {
                let v = Some(uuid::Uuid::parse_str(&c.v1).unwrap());
                let community = Some(uuid::Uuid::parse_str(&c.id).unwrap());
                let (id, _) = api::issue_token_with_id(&self.s.store, api::Role::Volunteer, community, v, "session: 志愿者").await.unwrap();
                ("mutation($t: ID!) { revokeSession(sessionId: $t) }", json!({"t": id.to_string()}))
            }
            "revokeToken" => {
                let (id, _) = api::issue_token_with_id(&self.s.store, api::Role::Display, None, None, "to revoke").await.unwrap();
                ("mutation($t: ID!) { revokeToken(tokenId: $t) }", json!({"t": id.to_string()}))
            }
            "setActivityRules" => ("mutation($k: String!, $c: ID!) { setActivityRules(idempotencyKey: $k, communityId: $c, timeUnitMinutes: 15, lateRecordDays: 30, noticeDays: 0, effectiveFrom: \"2000-01-01\") { version position } }", json!({"k": k, "c": c.id})),
            "postActivity" => ("mutation($k: String!, $c: ID!) { postActivity(idempotencyKey: $k, communityId: $c, title: \"义诊\", kind: OTHER, place: \"活动中心\", startsAt: \"2030-05-01T01:00:00Z\", endsAt: \"2030-05-01T03:00:00Z\", places: 20) { activityId position } }", json!({"k": k, "c": c.id})),
            "changeActivity" => {
                let a = self.activity(60 * 24).await;
                ("mutation($k: String!, $a: ID!) { changeActivity(idempotencyKey: $k, activityId: $a, change: {places: 12}, reason: \"加名额\") { position } }", json!({"k": k, "a": a}))
            }
            "cancelActivity" => {
                let a = self.activity(60 * 24).await;
                ("mutation($k: String!, $a: ID!) { cancelActivity(idempotencyKey: $k, activityId: $a, reason: \"下雨\") { position } }", json!({"k": k, "a": a}))
            }
            "signUp" => {
                let a = self.activity(60 * 24).await;
                ("mutation($k: String!, $a: ID!, $v: ID!) { signUp(idempotencyKey: $k, activityId: $a, volunteerId: $v) { waitingRank position } }", json!({"k": k, "a": a, "v": c.v1}))
            }
            "withdrawSignUp" => {
                let a = self.signed_up(60 * 24).await;
                ("mutation($k: String!, $a: ID!, $v: ID!) { withdrawSignUp(idempotencyKey: $k, activityId: $a, volunteerId: $v) { position } }", json!({"k": k, "a": a, "v": c.v1}))
            }
            "checkIn" => {
                let a = self.signed_up(10).await;
                let code = self.code(&a).await;
                ("mutation($k: String!, $a: ID!, $v: ID!, $code: String) { checkIn(idempotencyKey: $k, activityId: $a, volunteerId: $v, code: $code) { at position } }", json!({"k": k, "a": a, "v": c.v1, "code": code}))
            }
            "checkOut" => {
                let a = self.signed_up(10).await;
                self.admin("mutation($k: String!, $a: ID!, $v: ID!) { checkIn(idempotencyKey: $k, activityId: $a, volunteerId: $v) { position } }", json!({"k": key(), "a": a, "v": c.v1})).await;
                let code = self.code(&a).await;
                ("mutation($k: String!, $a: ID!, $v: ID!, $code: String) { checkOut(idempotencyKey: $k, activityId: $a, volunteerId: $v, code: $code) { at position } }", json!({"k": k, "a": a, "v": c.v1, "code": code}))
            }
            "approveAttendance" => {
                let a = self.ended_with(&c.v2).await;
                ("mutation($k: String!, $a: ID!) { approveAttendance(idempotencyKey: $k, activityId: $a) { records position } }", json!({"k": k, "a": a}))
            }
            "recordLateAttendance" => {
                let a = self.approved(&c.v2).await;
                ("mutation($k: String!, $a: ID!, $v: ID!) { recordLateAttendance(idempotencyKey: $k, activityId: $a, volunteerId: $v, hours: \"0.5\", reason: \"未带手机\") { position } }", json!({"k": k, "a": a, "v": c.v1}))
            }
            "raiseObjection" => {
                let a = self.on_notice(&c.v2).await;
                ("mutation($k: String!, $a: ID!, $v: ID!) { raiseObjection(idempotencyKey: $k, activityId: $a, volunteerId: $v, reason: \"时长不实\") { objectionId position } }", json!({"k": k, "a": a, "v": c.v2}))
            }
            "resolveObjection" => {
                let a = self.on_notice(&c.v2).await;
                let o = self.admin("mutation($k: String!, $a: ID!, $v: ID!) { raiseObjection(idempotencyKey: $k, activityId: $a, volunteerId: $v, reason: \"时长不实\") { objectionId } }", json!({"k": key(), "a": a, "v": c.v2}))
                    .await["raiseObjection"]["objectionId"].as_str().unwrap().to_string();
                ("mutation($k: String!, $a: ID!, $o: ID!) { resolveObjection(idempotencyKey: $k, activityId: $a, objectionId: $o, verdict: DISMISS, reason: \"核实无误\") { position } }", json!({"k": k, "a": a, "o": o}))
            }
            "finaliseAttendance" => {
                let a = self.approved(&c.v2).await;
                ("mutation($k: String!, $a: ID!) { finaliseAttendance(idempotencyKey: $k, activityId: $a) { finalRecords position } }", json!({"k": k, "a": a}))
            }
            "listShopItem" => ("mutation($k: String!, $c: ID!) { listShopItem(idempotencyKey: $k, communityId: $c, name: \"食用油\", price: \"20\", stock: 3, collectAt: \"服务站\", validUntil: \"2099-12-31\", perPerson: 1) { itemId stock position } }", json!({"k": k, "c": c.id})),
            "changeShopItem" => {
                let i = self.shop_item().await;
                ("mutation($k: String!, $i: ID!) { changeShopItem(idempotencyKey: $k, itemId: $i, name: \"毛巾\", price: \"2\", collectAt: \"服务站二楼\") { position } }", json!({"k": k, "i": i}))
            }
            "adjustShopStock" => {
                let i = self.shop_item().await;
                ("mutation($k: String!, $i: ID!) { adjustShopStock(idempotencyKey: $k, itemId: $i, change: 10, reason: \"补货\") { stock position } }", json!({"k": k, "i": i}))
            }
            "withdrawShopItem" => {
                let i = self.shop_item().await;
                ("mutation($k: String!, $i: ID!) { withdrawShopItem(idempotencyKey: $k, itemId: $i, reason: \"停售\") { position } }", json!({"k": k, "i": i}))
            }
            "redeemShopItem" => {
                self.award().await;
                let i = self.shop_item().await;
                ("mutation($k: String!, $i: ID!, $v: ID!) { redeemShopItem(idempotencyKey: $k, itemId: $i, volunteerId: $v) { code pointsBalance stock position } }", json!({"k": k, "i": i, "v": c.v1}))
            }
            "collectRedemption" => {
                let (i, r) = self.redeemed().await;
                ("mutation($k: String!, $i: ID!, $r: ID!) { collectRedemption(idempotencyKey: $k, itemId: $i, redemptionId: $r) { status position } }", json!({"k": k, "i": i, "r": r}))
            }
            "cancelRedemption" => {
                let (i, r) = self.redeemed().await;
                ("mutation($k: String!, $i: ID!, $r: ID!) { cancelRedemption(idempotencyKey: $k, itemId: $i, redemptionId: $r, reason: \"不要了\") { status refundEntryId position } }", json!({"k": k, "i": i, "r": r}))
            }
            "setHoursRules" => ("mutation($k: String!, $c: ID!) { setHoursRules(idempotencyKey: $k, communityId: $c, giftsToRelativesOnly: false, effectiveFrom: \"2000-01-01\") { version position } }", json!({"k": k, "c": c.id})),
            "linkRelative" => {
                let r = self.volunteer().await;
                ("mutation($k: String!, $v: ID!, $r: ID!) { linkRelative(idempotencyKey: $k, volunteerId: $v, relativeId: $r, relation: \"母亲\", consent: true) { position } }", json!({"k": k, "v": c.v1, "r": r}))
            }
            "unlinkRelative" => {
                let r = self.volunteer().await;
                self.admin("mutation($k: String!, $v: ID!, $r: ID!) { linkRelative(idempotencyKey: $k, volunteerId: $v, relativeId: $r, relation: \"母亲\", consent: true) { position } }", json!({"k": key(), "v": c.v1, "r": r})).await;
                ("mutation($k: String!, $v: ID!, $r: ID!) { unlinkRelative(idempotencyKey: $k, volunteerId: $v, relativeId: $r, reason: \"不再同住\") { position } }", json!({"k": k, "v": c.v1, "r": r}))
            }
            "recordTraining" => ("mutation($k: String!, $v: ID!) { recordTraining(idempotencyKey: $k, volunteerId: $v, course: \"急救\", hours: \"2\", date: \"2024-05-01\") { position } }", json!({"k": k, "v": c.v1})),
            "giveCommendation" => ("mutation($k: String!, $v: ID!) { giveCommendation(idempotencyKey: $k, volunteerId: $v, title: \"优秀志愿者\", date: \"2024-05-01\") { position } }", json!({"k": k, "v": c.v1})),
            "withdrawRecord" => {
                let r = self.admin("mutation($k: String!, $v: ID!) { recordTraining(idempotencyKey: $k, volunteerId: $v, course: \"急救\", hours: \"2\", date: \"2024-05-01\") { recordId } }", json!({"k": key(), "v": c.v1})).await["recordTraining"]["recordId"].clone();
                ("mutation($k: String!, $v: ID!, $r: ID!) { withdrawRecord(idempotencyKey: $k, volunteerId: $v, recordId: $r, reason: \"录错\") { position } }", json!({"k": k, "v": c.v1, "r": r}))
            }
            "evaluateService" => {
                let sid = self.service().await;
                ("mutation($k: String!, $v: ID!, $s: ID!) { evaluateService(idempotencyKey: $k, volunteerId: $v, serviceId: $s, satisfaction: 5) { position } }", json!({"k": k, "v": c.v1, "s": sid}))
            }
            "setPointsExpiry" => ("mutation($k: String!, $c: ID!) { setPointsExpiry(idempotencyKey: $k, communityId: $c, validMonths: 36, rounding: YEAR_END, effectiveFrom: \"2000-01-01\") { version position } }", json!({"k": k, "c": c.id})),
            "expirePoints" => ("mutation($k: String!, $v: ID!) { expirePoints(idempotencyKey: $k, volunteerId: $v) { position } }", json!({"k": k, "v": c.v1})),
            "establishStreet" => ("mutation($k: String!) { establishStreet(idempotencyKey: $k, name: \"和平街道\") { position } }", json!({"k": k})),
            "establishDistrict" => ("mutation($k: String!) { establishDistrict(idempotencyKey: $k, name: \"和平区\") { position } }", json!({"k": k})),
            "renameStreet" => ("mutation($k: String!, $s: ID!) { renameStreet(idempotencyKey: $k, streetId: $s, name: \"新街道\") { position } }", json!({"k": k, "s": self.street().await})),
            "renameDistrict" => ("mutation($k: String!, $d: ID!) { renameDistrict(idempotencyKey: $k, districtId: $d, name: \"新区\") { position } }", json!({"k": k, "d": self.district().await})),
            // A fresh street each time: the community moves to it.
            "joinStreet" => ("mutation($k: String!, $c: ID!, $s: ID!) { joinStreet(idempotencyKey: $k, communityId: $c, streetId: $s) { position } }", json!({"k": k, "c": c.id, "s": self.street().await})),
            "leaveStreet" => {
                let s = self.street().await;
                self.admin("mutation($k: String!, $c: ID!, $s: ID!) { joinStreet(idempotencyKey: $k, communityId: $c, streetId: $s) { position } }", json!({"k": key(), "c": c.id, "s": s})).await;
                ("mutation($k: String!, $c: ID!) { leaveStreet(idempotencyKey: $k, communityId: $c) { position } }", json!({"k": k, "c": c.id}))
            }
            "joinDistrict" => ("mutation($k: String!, $s: ID!, $d: ID!) { joinDistrict(idempotencyKey: $k, streetId: $s, districtId: $d) { position } }", json!({"k": k, "s": self.street().await, "d": self.district().await})),
            "leaveDistrict" => {
                let s = self.street().await;
                self.admin("mutation($k: String!, $s: ID!, $d: ID!) { joinDistrict(idempotencyKey: $k, streetId: $s, districtId: $d) { position } }", json!({"k": key(), "s": s, "d": self.district().await})).await;
                ("mutation($k: String!, $s: ID!) { leaveDistrict(idempotencyKey: $k, streetId: $s) { position } }", json!({"k": k, "s": s}))
            }
            "setTransferRules" => ("mutation($k: String!, $c: ID!) { setTransferRules(idempotencyKey: $k, communityId: $c, pointsFollow: false, effectiveFrom: \"2000-01-01\") { version position } }", json!({"k": k, "c": c.id})),
            // A fresh volunteer of the community moves to the other one.
            "transferVolunteer" => {
                let v = self.admin("mutation($k: String!, $c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"周八\") { volunteerId } }", json!({"k": key(), "c": c.id, "s": c.stairwell})).await["registerVolunteer"]["volunteerId"].clone();
                let sw = self.admin("mutation($k: String!, $c: ID!) { registerStairwell(idempotencyKey: $k, communityId: $c, building: \"9栋\", unit: \"1单元\", households: 12) { stairwellId } }", json!({"k": key(), "c": c.other_id})).await["registerStairwell"]["stairwellId"].clone();
                ("mutation($k: String!, $v: ID!, $c: ID!, $s: ID!) { transferVolunteer(idempotencyKey: $k, volunteerId: $v, toCommunityId: $c, stairwellId: $s, reason: \"搬家\") { position } }", json!({"k": k, "v": v, "c": c.other_id, "s": sw}))
            }
            other => panic!("no request for {other}"),
        };
        (q.to_string(), v)
    }
}

fn allowed(mutation: &str) -> &'static [Who] {
    match mutation {
        "establishCommunity" | "setPointRules" | "setStarThresholds" | "setRubric"
        | "setActivityRules" | "setHoursRules" | "setPointsExpiry" | "issueToken"
        | "revokeToken" | "establishStreet" | "establishDistrict" | "renameStreet"
        | "renameDistrict" | "joinStreet" | "leaveStreet" | "joinDistrict" | "leaveDistrict"
        | "setTransferRules" => &[Who::Admin],
        "logService" | "claimWish" | "releaseWish" | "fulfilWish" | "giftHours" | "spendHours"
        | "signUp" | "withdrawSignUp" | "checkIn" | "checkOut" | "raiseObjection"
        | "redeemShopItem" | "cancelRedemption" | "unlinkRelative" => {
            &[Who::Admin, Who::Staff, Who::Volunteer]
        }
        "markInboxRead" => &[Who::Volunteer],
        _ => &[Who::Admin, Who::Staff],
    }
}

/// Every mutation of the schema (a test checks that none is missing).
const MUTATIONS: [&str; 78] = [
    "establishCommunity",
    "registerStairwell",
    "formTeam",
    "registerVolunteer",
    "logService",
    "verifyService",
    "rejectService",
    "awardPoints",
    "redeemPoints",
    "reverseEntry",
    "giftHours",
    "spendHours",
    "postWish",
    "claimWish",
    "releaseWish",
    "fulfilWish",
    "confirmWish",
    "cancelWish",
    "recordInspection",
    "reportStairwellIssue",
    "resolveStairwellIssue",
    "setPointRules",
    "setStarThresholds",
    "eraseVolunteerPersonalData",
    "addGrid",
    "moveVolunteer",
    "joinTeam",
    "leaveTeam",
    "departVolunteer",
    "setRubric",
    "issueCertificate",
    "issueToken",
    "revokeToken",
    "setActivityRules",
    "postActivity",
    "changeActivity",
    "cancelActivity",
    "signUp",
    "withdrawSignUp",
    "checkIn",
    "checkOut",
    "approveAttendance",
    "recordLateAttendance",
    "raiseObjection",
    "resolveObjection",
    "finaliseAttendance",
    "correctPersonalData",
    "setVolunteerTags",
    "awardPointsToMany",
    "markInboxRead",
    "revokeSession",
    "listShopItem",
    "changeShopItem",
    "adjustShopStock",
    "withdrawShopItem",
    "redeemShopItem",
    "collectRedemption",
    "cancelRedemption",
    "setHoursRules",
    "linkRelative",
    "unlinkRelative",
    "recordTraining",
    "giveCommendation",
    "withdrawRecord",
    "evaluateService",
    "setPointsExpiry",
    "expirePoints",
    "establishStreet",
    "establishDistrict",
    "renameStreet",
    "renameDistrict",
    "joinStreet",
    "leaveStreet",
    "joinDistrict",
    "leaveDistrict",
    "reverseImportBatch",
    "transferVolunteer",
    "setTransferRules",
];

/// The mutations the served schema has.
fn schema_mutations() -> std::collections::BTreeSet<String> {
    let sdl = api::sdl();
    let block = sdl
        .split("type Mutation {")
        .nth(1)
        .and_then(|b| b.split("\n}").next())
        .expect("a Mutation type");
    block
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let name = l.split('(').next()?;
            (l.contains('(') && !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
                .then(|| name.to_string())
        })
        .collect()
}

#[test]
fn the_matrix_covers_every_mutation() {
    let listed: std::collections::BTreeSet<String> =
        MUTATIONS.iter().map(|m| m.to_string()).collect();
    assert_eq!(listed.len(), MUTATIONS.len(), "a mutation is listed twice");
    assert_eq!(listed, schema_mutations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_mutation_with_every_role() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let fx = Fx { s: &s, c: &c };
        let mut failures = Vec::new();
        for m in MUTATIONS {
            for who in EVERYONE {
                let (q, v) = fx.request(m).await;
                let token = match who {
                    Who::Nobody => None,
                    Who::Admin => Some(s.admin.as_str()),
                    Who::Staff => Some(c.staff.as_str()),
                    Who::OtherStaff => Some(c.other_staff.as_str()),
                    Who::Volunteer => Some(c.vol1.as_str()),
                    Who::Display => Some(c.display.as_str()),
                };
                let (status, body) = s.gql(token, &q, v).await;
                // A finality or an expiry with nothing due (a notice or a validity cannot
                // end during the test) got past who may issue it.
                let ok = status == 200
                    && (body.get("errors").is_none()
                        || (matches!(m, "finaliseAttendance" | "expirePoints")
                            && code(&body) == "NOTHING_DUE"));
                let expected_ok = allowed(m).contains(&who);
                let expected_code = if who == Who::Nobody {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                };
                if expected_ok != ok || (!expected_ok && code(&body) != expected_code) {
                    failures.push(format!("{m} as {who:?}: status {status}, {body}"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} unexpected outcomes:\n{}",
            failures.len(),
            failures.join("\n")
        );
        s.stop().await;
    }
}

/// Who may run each query (others get FORBIDDEN, or UNAUTHENTICATED without a token).
fn read_allowed(query: &str) -> &'static [Who] {
    use Who::*;
    match query {
        "me" => &[Admin, Staff, OtherStaff, Volunteer, Display],
        "volunteer" | "statement" | "myRank" => &[Admin, Staff, Volunteer],
        "volunteers" | "dashboard" => &[Admin, Staff],
        "ranking" | "wishes" | "stairwellScores" | "redFlag" | "stairwellAverages" => {
            &[Admin, Staff, Volunteer, Display]
        }
        "events" => &[Admin],
        "activity" | "activities" => &[Admin, Staff, Volunteer, Display],
        "activityCheckInCode" => &[Admin, Staff],
        "community" | "recentAwards" => &[Admin, Staff, Volunteer, Display],
        "communities" => &[Admin, Staff, OtherStaff, Volunteer, Display],
        "volunteerTotals" | "sessions" | "communityCertificates" => &[Admin, Staff],
        "inbox" => &[Volunteer],
        "shopItems" => &[Admin, Staff, Volunteer, Display],
        "redemptions" => &[Admin, Staff, Volunteer],
        "shopStock" => &[Admin, Staff],
        other => panic!("no rule for {other}"),
    }
}

/// The read matrix: every query with every role, on the community of `c` and its
/// volunteer v1 (the volunteer token is v1's).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_query_with_every_role() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let a = s.ok(&s.admin, "mutation($k: String!, $c: ID!) { postActivity(idempotencyKey: $k, communityId: $c, title: \"巡逻\", kind: PATROL, place: \"北门\", startsAt: \"2030-05-01T01:00:00Z\", endsAt: \"2030-05-01T02:00:00Z\", places: 5) { activityId } }", json!({"k": key(), "c": c.id}))
            .await["postActivity"]["activityId"].as_str().unwrap().to_string();
        let head = s.head().await;
        let queries: [(&str, &str); 25] = [
            ("me", "query($p: Int) { me(atLeast: $p) { role } }"),
            ("volunteer", "query($v: ID!, $p: Int) { volunteer(id: $v, atLeast: $p) { id balance { points } } }"),
            ("volunteers", "query($c: ID!, $p: Int) { volunteers(communityId: $c, atLeast: $p) { volunteers { id } } }"),
            ("statement", "query($v: ID!, $p: Int) { statement(volunteerId: $v, atLeast: $p) { entries { kind } } }"),
            ("ranking", "query($c: ID!, $p: Int) { ranking(communityId: $c, metric: POINTS, atLeast: $p) { rows { rank } } }"),
            ("myRank", "query($v: ID!, $p: Int) { myRank(metric: HOURS, volunteerId: $v, atLeast: $p) { rank } }"),
            ("wishes", "query($c: ID!, $p: Int) { wishes(communityId: $c, atLeast: $p) { wishes { id } } }"),
            ("stairwellScores", "query($c: ID!, $p: Int) { stairwellScores(communityId: $c, month: \"2024-05\", atLeast: $p) { total } }"),
            ("redFlag", "query($c: ID!, $p: Int) { redFlag(communityId: $c, month: \"2024-05\", atLeast: $p) { total } }"),
            ("dashboard", "query($c: ID!, $p: Int) { dashboard(communityId: $c, atLeast: $p) { month } }"),
            ("events", "query($p: Int) { events(first: 1, atLeast: $p) { position } }"),
            ("activity", "query($a: ID!, $p: Int) { activity(id: $a, atLeast: $p) { title roster { name } } }"),
            ("activities", "query($c: ID!, $p: Int) { activities(communityId: $c, atLeast: $p) { id taken } }"),
            ("activityCheckInCode", "query($a: ID!) { activityCheckInCode(activityId: $a) { code changesAt link } }"),
            ("community", "query($c: ID!) { community(id: $c) { name stairwells { building openIssues { description } } pointRules { pointsPerHour } } }"),
            ("recentAwards", "query($c: ID!, $p: Int) { recentAwards(communityId: $c, atLeast: $p) { name points } }"),
            ("volunteerTotals", "query($c: ID!, $p: Int) { volunteerTotals(communityId: $c, atLeast: $p) { volunteers points } }"),
            ("sessions", "query($c: ID!) { sessions(communityId: $c) { id role name } }"),
            ("communityCertificates", "query($c: ID!) { communityCertificates(communityId: $c, year: 2026) { number } }"),
            ("inbox", "query($p: Int) { inbox(atLeast: $p) { unread messages { kind } } }"),
            ("communities", "query { communities { id name } }"),
            ("shopItems", "query($c: ID!, $p: Int) { shopItems(communityId: $c, atLeast: $p) { name price stock available } }"),
            ("redemptions", "query($c: ID!, $v: ID!, $p: Int) { redemptions(communityId: $c, volunteerId: $v, atLeast: $p) { code status volunteerName } }"),
            ("stairwellAverages", "query($c: ID!, $p: Int) { stairwellAverages(communityId: $c, period: \"2026-Q4\", atLeast: $p) { average rank redFlag } }"),
            ("shopStock", "query($c: ID!, $p: Int) { shopStock(communityId: $c, month: \"2026-12\", atLeast: $p) { name opening closing } }"),
        ];
        let mut failures = Vec::new();
        for (name, q) in queries {
            for who in EVERYONE {
                let token = match who {
                    Who::Nobody => None,
                    Who::Admin => Some(s.admin.as_str()),
                    Who::Staff => Some(c.staff.as_str()),
                    Who::OtherStaff => Some(c.other_staff.as_str()),
                    Who::Volunteer => Some(c.vol1.as_str()),
                    Who::Display => Some(c.display.as_str()),
                };
                let vars = json!({"c": c.id, "v": c.v1, "p": head, "a": a});
                let (status, body) = s.gql(token, q, vars).await;
                let ok = status == 200 && body.get("errors").is_none();
                let expected_ok = read_allowed(name).contains(&who);
                let expected_code = if who == Who::Nobody {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                };
                if expected_ok != ok || (!expected_ok && code(&body) != expected_code) {
                    failures.push(format!("{name} as {who:?}: status {status}, {body}"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} unexpected outcomes:\n{}",
            failures.len(),
            failures.join("\n")
        );
        s.stop().await;
    }
}

/// Volunteer 1 acting on volunteer 2's account: every attempt is refused with a clear
/// code and writes nothing; the same on their own account works (gifting their own
/// hours to a relative included).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_volunteer_acts_only_on_their_own_account() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let fx = Fx { s: &s, c: &c };
        // Banked hours and points for both, a certificate and a wish claimed by v2, an
        // open wish, and a service v2 logged.
        fx.bank_hours().await;
        let log2 = "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2024-05-03T02:00:00Z\", hours: \"2\") { serviceId } }";
        let v2_service = s.ok(&c.vol2, log2, json!({"k": key()})).await["logService"]["serviceId"]
            .as_str()
            .unwrap()
            .to_string();
        let banked = s.ok(&c.vol2, log2, json!({"k": key()})).await["logService"]["serviceId"]
            .as_str()
            .unwrap()
            .to_string();
        let v2_entry = s
            .ok(&s.admin, "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId } }", json!({"k": key(), "v": c.v2, "s": banked}))
            .await["verifyService"]["entryId"]
            .as_str()
            .unwrap()
            .to_string();
        let cert = s
            .ok(&s.admin, "mutation($k: String!, $v: ID!) { issueCertificate(idempotencyKey: $k, volunteerId: $v, issuer: {organisation: \"站\"}) { number } }", json!({"k": key(), "v": c.v2}))
            .await["issueCertificate"]["number"]
            .as_str()
            .unwrap()
            .to_string();
        let claimed_by_v2 = fx.wish().await;
        s.ok(
            &c.vol2,
            "mutation($k: String!, $w: ID!) { claimWish(idempotencyKey: $k, wishId: $w) { status } }",
            json!({"k": key(), "w": claimed_by_v2}),
        )
        .await;
        let open = fx.wish().await;

        let head = s.head().await;
        let attempts: Vec<(&str, &str, Value, &str)> = vec![
            ("log service for v2", "mutation($k: String!, $v: ID!) { logService(idempotencyKey: $k, volunteerId: $v, kind: PATROL, startedAt: \"2024-05-02T02:00:00Z\", hours: \"2\") { position } }", json!({"k": key(), "v": c.v2}), "FORBIDDEN"),
            ("claim a wish for v2", "mutation($k: String!, $w: ID!, $v: ID!) { claimWish(idempotencyKey: $k, wishId: $w, volunteerId: $v) { position } }", json!({"k": key(), "w": open, "v": c.v2}), "FORBIDDEN"),
            ("release v2's wish", "mutation($k: String!, $w: ID!) { releaseWish(idempotencyKey: $k, wishId: $w) { position } }", json!({"k": key(), "w": claimed_by_v2}), "NOT_CLAIMER"),
            ("fulfil v2's wish as v2", "mutation($k: String!, $w: ID!, $v: ID!) { fulfilWish(idempotencyKey: $k, wishId: $w, volunteerId: $v, hours: \"1\") { position } }", json!({"k": key(), "w": claimed_by_v2, "v": c.v2}), "FORBIDDEN"),
            ("fulfil v2's wish", "mutation($k: String!, $w: ID!) { fulfilWish(idempotencyKey: $k, wishId: $w, hours: \"1\") { position } }", json!({"k": key(), "w": claimed_by_v2}), "NOT_CLAIMER"),
            ("gift v2's hours", "mutation($k: String!, $f: ID!, $t: ID!) { giftHours(idempotencyKey: $k, fromVolunteerId: $f, toVolunteerId: $t, hours: \"0.5\") { position } }", json!({"k": key(), "f": c.v2, "t": c.v1}), "FORBIDDEN"),
            ("spend v2's hours", "mutation($k: String!, $v: ID!) { spendHours(idempotencyKey: $k, volunteerId: $v, hours: \"0.5\", description: \"理发\") { position } }", json!({"k": key(), "v": c.v2}), "FORBIDDEN"),
            ("verify v2's service", "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { position } }", json!({"k": key(), "v": c.v2, "s": v2_service}), "FORBIDDEN"),
            ("reverse v2's entry", "mutation($k: String!, $v: ID!, $e: ID!) { reverseEntry(idempotencyKey: $k, volunteerId: $v, entryId: $e, reason: \"x\") { position } }", json!({"k": key(), "v": c.v2, "e": v2_entry}), "FORBIDDEN"),
            ("redeem v2's points", "mutation($k: String!, $v: ID!) { redeemPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", item: \"毛巾\") { position } }", json!({"k": key(), "v": c.v2}), "FORBIDDEN"),
            ("award v2", "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"1.00\", reason: \"x\") { position } }", json!({"k": key(), "v": c.v2}), "FORBIDDEN"),
            ("read v2's account", "query($v: ID!) { volunteer(id: $v) { balance { points } } }", json!({"v": c.v2}), "FORBIDDEN"),
            ("read v2's statement", "query($v: ID!) { statement(volunteerId: $v) { entries { kind } } }", json!({"v": c.v2}), "FORBIDDEN"),
            ("read v2's rank", "query($v: ID!) { myRank(metric: HOURS, volunteerId: $v) { rank } }", json!({"v": c.v2}), "FORBIDDEN"),
            ("list v2's certificates", "query($v: ID!) { certificates(volunteerId: $v) { number } }", json!({"v": c.v2}), "FORBIDDEN"),
            ("export v2's statement", "query($v: ID!) { statementExport(volunteerId: $v) { url } }", json!({"v": c.v2}), "FORBIDDEN"),
        ];
        let mut failures = Vec::new();
        for (what, q, v, expected) in attempts {
            let (status, body) = s.gql(Some(&c.vol1), q, v).await;
            if code(&body) != expected
                || body["data"]
                    .as_object()
                    .is_some_and(|d| d.values().any(|x| !x.is_null()))
            {
                failures.push(format!("{what}: status {status}, {body}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(s.head().await, head, "a refused attempt wrote events");
        // The download routes refuse too.
        for path in [
            format!("/documents/statement?volunteerId={}", c.v2),
            format!("/documents/certificates/{cert}"),
        ] {
            let r = s
                .http
                .get(s.url(&path))
                .bearer_auth(&c.vol1)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{path}");
        }

        // On their own account the same work goes through: log, claim, fulfil,
        // release, spend, and gift their own hours to volunteer 2 (a relative).
        let own = [
            "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2024-05-02T02:00:00Z\", hours: \"2\") { position } }",
            "mutation($k: String!) { spendHours(idempotencyKey: $k, hours: \"0.25\", description: \"理发\") { position } }",
        ];
        for q in own {
            s.ok(&c.vol1, q, json!({"k": key()})).await;
        }
        let gift = s
            .ok(&c.vol1, "mutation($k: String!, $t: ID!) { giftHours(idempotencyKey: $k, toVolunteerId: $t, hours: \"0.25\") { position } }", json!({"k": key(), "t": c.v2}))
            .await["giftHours"]["position"]
            .as_u64()
            .unwrap();
        for (q, w) in [
            ("mutation($k: String!, $w: ID!) { claimWish(idempotencyKey: $k, wishId: $w) { status } }", &open),
            ("mutation($k: String!, $w: ID!) { releaseWish(idempotencyKey: $k, wishId: $w) { status } }", &open),
            ("mutation($k: String!, $w: ID!) { claimWish(idempotencyKey: $k, wishId: $w) { status } }", &open),
            ("mutation($k: String!, $w: ID!) { fulfilWish(idempotencyKey: $k, wishId: $w, hours: \"1\") { status } }", &open),
        ] {
            s.ok(&c.vol1, q, json!({"k": key(), "w": w})).await;
        }
        let received = s
            .ok(
                &c.vol2,
                "query($p: Int) { statement(atLeast: $p) { entries { kind counterpart } } }",
                json!({"p": gift}),
            )
            .await;
        let entries = received["statement"]["entries"].as_array().unwrap();
        assert!(
            entries
                .iter()
                .any(|e| e["kind"] == "HOURS_RECEIVED" && e["counterpart"] == c.v1.as_str()),
            "{received}"
        );
        s.stop().await;
    }
}

/// A staff member who is also a volunteer of the community, with a staff token bound to
/// their own account: they cannot verify or reject their own service, nor confirm a
/// wish they fulfilled (SELF_VERIFICATION), nor award themselves points (SELF_AWARD),
/// nothing written; a colleague can; their
/// staff work on others' accounts goes on as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn staff_who_volunteer_cannot_verify_their_own_service() {
    for (backend, store, _dir) in backends().await {
        eprintln!("backend: {backend}");
        let s = Server::start(store).await;
        let c = seed(&s).await;
        let uuid = |x: &str| uuid::Uuid::parse_str(x).unwrap();
        let reg = "mutation($k: String!, $c: ID!, $s: ID!) { registerVolunteer(idempotencyKey: $k, communityId: $c, stairwellId: $s, name: \"王书记\") { volunteerId } }";
        let me_v = s
            .ok(
                &s.admin,
                reg,
                json!({"k": key(), "c": c.id, "s": c.stairwell}),
            )
            .await["registerVolunteer"]["volunteerId"]
            .as_str()
            .unwrap()
            .to_string();
        // Bound only to a volunteer of the token's own community.
        let (status, body) = s
            .gql(Some(&s.admin), "mutation($c: ID!, $v: ID!) { issueToken(role: STAFF, communityId: $c, volunteerId: $v) { token } }", json!({"c": c.other_id, "v": me_v}))
            .await;
        assert_eq!(code(&body), "INVALID_INPUT", "{status} {body}");
        let (_, body) = s
            .gql(Some(&s.admin), "mutation($c: ID!, $v: ID!) { issueToken(role: STAFF, communityId: $c, volunteerId: $v) { token } }", json!({"c": c.id, "v": key()}))
            .await;
        assert_eq!(code(&body), "NOT_FOUND", "{body}");
        let me = s
            .ok(&s.admin, "mutation($c: ID!, $v: ID!) { issueToken(role: STAFF, communityId: $c, volunteerId: $v, label: \"王书记\") { token } }", json!({"c": c.id, "v": me_v}))
            .await["issueToken"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        // The same from the library entry point the command line uses.
        let me2 = api::issue_token(
            &s.store,
            api::Role::Staff,
            Some(uuid(&c.id)),
            Some(uuid(&me_v)),
            "王书记 2",
        )
        .await
        .unwrap();
        assert!(api::issue_token(
            &s.store,
            api::Role::Staff,
            Some(uuid(&c.other_id)),
            Some(uuid(&me_v)),
            "x"
        )
        .await
        .is_err());
        let head = s.head().await;
        let who = s
            .ok(
                &me2,
                "query($p: Int) { me(atLeast: $p) { role volunteer { id } } }",
                json!({"p": head}),
            )
            .await;
        assert_eq!(who["me"]["role"], "STAFF");
        assert_eq!(who["me"]["volunteer"]["id"], me_v.as_str());

        // Their own service, logged on their own account.
        let log = "mutation($k: String!) { logService(idempotencyKey: $k, kind: PATROL, startedAt: \"2024-05-02T02:00:00Z\", hours: \"2\") { serviceId } }";
        let own = s.ok(&me, log, json!({"k": key()})).await["logService"]["serviceId"]
            .as_str()
            .unwrap()
            .to_string();
        let verify = "mutation($k: String!, $v: ID!, $s: ID!) { verifyService(idempotencyKey: $k, volunteerId: $v, serviceId: $s) { entryId } }";
        let reject = "mutation($k: String!, $v: ID!, $s: ID!) { rejectService(idempotencyKey: $k, volunteerId: $v, serviceId: $s, reason: \"重复\") { position } }";
        // A wish they claimed and fulfilled.
        let wish = Fx { s: &s, c: &c }.wish().await;
        for q in [
            "mutation($k: String!, $w: ID!) { claimWish(idempotencyKey: $k, wishId: $w) { status } }",
            "mutation($k: String!, $w: ID!) { fulfilWish(idempotencyKey: $k, wishId: $w, hours: \"1.5\") { status } }",
        ] {
            s.ok(&me, q, json!({"k": key(), "w": wish})).await;
        }
        let confirm = "mutation($k: String!, $w: ID!) { confirmWish(idempotencyKey: $k, wishId: $w) { volunteerId points } }";

        let head = s.head().await;
        for (what, q, v) in [
            ("verify", verify, json!({"k": key(), "v": me_v, "s": own})),
            ("reject", reject, json!({"k": key(), "v": me_v, "s": own})),
            ("confirm", confirm, json!({"k": key(), "w": wish})),
        ] {
            for token in [&me, &me2] {
                let (status, body) = s.gql(Some(token), q, v.clone()).await;
                assert_eq!(
                    code(&body),
                    "SELF_VERIFICATION",
                    "{what} their own: {status} {body}"
                );
            }
        }
        // Nor award points to themselves.
        let award = "mutation($k: String!, $v: ID!) { awardPoints(idempotencyKey: $k, volunteerId: $v, points: \"50\", reason: \"自己\") { entryId } }";
        for token in [&me, &me2] {
            let (status, body) = s
                .gql(Some(token), award, json!({"k": key(), "v": me_v}))
                .await;
            assert_eq!(code(&body), "SELF_AWARD", "award to self: {status} {body}");
        }
        assert_eq!(
            s.head().await,
            head,
            "a refused self-verification wrote events"
        );

        // Their colleague can; and they still verify others' service.
        s.ok(&c.staff, verify, json!({"k": key(), "v": me_v, "s": own}))
            .await;
        let confirmed = s
            .ok(&c.staff, confirm, json!({"k": key(), "w": wish}))
            .await;
        assert_eq!(confirmed["confirmWish"]["volunteerId"], me_v.as_str());
        let theirs = s.ok(&c.vol1, log, json!({"k": key()})).await["logService"]["serviceId"]
            .as_str()
            .unwrap()
            .to_string();
        s.ok(&me, verify, json!({"k": key(), "v": c.v1, "s": theirs}))
            .await;
        s.ok(&me, award, json!({"k": key(), "v": c.v1})).await;
        s.ok(&c.staff, award, json!({"k": key(), "v": me_v})).await;
        s.stop().await;
    }
}
