//! Output types shared by the roots, and the DataLoaders that batch their lookups.

use crate::auth::{mask_id_number, mask_phone, shorten_name, Principal};
use crate::errors::ApiError;
use crate::reads::{Account, StatementLine};
use crate::scalars::{HoursScalar, PointsScalar};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use ledger::command::Role;
use ledger::domain::{local_date, CommunityState};
use ledger::ids::CommunityId;
use ledger::store::Person;
use ledger::Store;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Kind of a volunteer service.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ledger::event::ServiceKind")]
pub enum ServiceKind {
    /// 巡逻
    Patrol,
    /// 维修
    Repair,
    /// 上门探访
    ElderlyVisit,
    /// 小心愿
    Wish,
    /// 调解
    Mediation,
    /// 其他
    Other,
}

/// Lifecycle of a wish (小心愿).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum WishStatus {
    Open,
    Claimed,
    Fulfilled,
    Confirmed,
    Cancelled,
}

impl WishStatus {
    pub fn of(s: &ledger::domain::wish::WishStatus) -> WishStatus {
        use ledger::domain::wish::WishStatus as W;
        match s {
            W::Open => WishStatus::Open,
            W::Claimed { .. } => WishStatus::Claimed,
            W::Fulfilled { .. } => WishStatus::Fulfilled,
            W::Confirmed { .. } => WishStatus::Confirmed,
            W::Cancelled => WishStatus::Cancelled,
        }
    }

    pub fn parse(s: &str) -> Option<WishStatus> {
        match s {
            "open" => Some(WishStatus::Open),
            "claimed" => Some(WishStatus::Claimed),
            "fulfilled" => Some(WishStatus::Fulfilled),
            "confirmed" => Some(WishStatus::Confirmed),
            "cancelled" => Some(WishStatus::Cancelled),
            _ => None,
        }
    }
}

/// Role of a token.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ledger::command::Role")]
pub enum TokenRole {
    Admin,
    Staff,
    Volunteer,
    Display,
}

/// Batches personal-data lookups (one query per request for a whole list).
pub struct PersonLoader(pub Store);

impl Loader<Uuid> for PersonLoader {
    type Value = Person;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Person>, Self::Error> {
        let mut out = HashMap::new();
        if keys.is_empty() {
            return Ok(out);
        }
        let wrap = |e: sqlx::Error| Arc::new(ApiError::Database(e));
        if let Some(pool) = self.0.sqlite_pool() {
            let marks = vec!["?"; keys.len()].join(",");
            let sql = format!(
                "SELECT volunteer_id, name, phone, id_number FROM persons WHERE volunteer_id IN ({marks})"
            );
            let mut q = sqlx::query(&sql);
            for k in keys {
                q = q.bind(k.to_string());
            }
            for r in q.fetch_all(pool).await.map_err(wrap)? {
                let id: String = r.try_get("volunteer_id").map_err(wrap)?;
                if let Ok(id) = Uuid::parse_str(&id) {
                    out.insert(
                        id,
                        Person {
                            volunteer_id: id,
                            name: r.try_get("name").map_err(wrap)?,
                            phone: r.try_get("phone").map_err(wrap)?,
                            id_number: r.try_get("id_number").map_err(wrap)?,
                        },
                    );
                }
            }
        } else if let Some(pool) = self.0.postgres_pool() {
            let rows = sqlx::query(
                "SELECT volunteer_id, name, phone, id_number FROM persons WHERE volunteer_id = ANY($1)",
            )
            .bind(keys.to_vec())
            .fetch_all(pool)
            .await
            .map_err(wrap)?;
            for r in rows {
                let id: Uuid = r.try_get("volunteer_id").map_err(wrap)?;
                out.insert(
                    id,
                    Person {
                        volunteer_id: id,
                        name: r.try_get("name").map_err(wrap)?,
                        phone: r.try_get("phone").map_err(wrap)?,
                        id_number: r.try_get("id_number").map_err(wrap)?,
                    },
                );
            }
        }
        Ok(out)
    }
}

/// Batches community folds (star thresholds, names) within a request.
pub struct CommunityLoader(pub crate::reads::ReadSide);

impl Loader<CommunityId> for CommunityLoader {
    type Value = Arc<CommunityState>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[CommunityId],
    ) -> Result<HashMap<CommunityId, Arc<CommunityState>>, Self::Error> {
        let mut out = HashMap::new();
        for k in keys {
            if let Some(c) = self.0.community(*k).await.map_err(Arc::new)? {
                out.insert(*k, Arc::new(c));
            }
        }
        Ok(out)
    }
}

/// How much of a person the caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Staff of the person's own community: everything.
    Full,
    /// Everyone else: phone and ID number masked.
    Masked,
    /// Public displays: names shortened, no phone or ID number.
    Public,
}

impl Visibility {
    pub fn for_caller(p: &Principal, community: Option<CommunityId>) -> Visibility {
        if p.role() == Role::Display {
            Visibility::Public
        } else if p.sees_personal_data_of(community) {
            Visibility::Full
        } else {
            Visibility::Masked
        }
    }
}

/// Personal data shown of a person (absent once erased).
pub async fn person_fields(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Option<Person>> {
    let loader = ctx.data_unchecked::<DataLoader<PersonLoader>>();
    loader
        .load_one(id)
        .await
        .map_err(|e| async_graphql::Error::new(e.public_message()))
}

pub fn show_name(p: &Option<Person>, vis: Visibility) -> Option<String> {
    p.as_ref().map(|p| match vis {
        Visibility::Public => shorten_name(&p.name),
        _ => p.name.clone(),
    })
}

/// Balances of a volunteer.
#[derive(SimpleObject, Clone)]
pub struct Balance {
    /// Current points balance (积分余额); negative only after a flagged reversal.
    pub points: PointsScalar,
    /// Banked hours (时间银行余额).
    pub hours: HoursScalar,
    /// Verified service hours, cumulative (星级依据).
    pub verified_hours: HoursScalar,
    /// Redemptions are refused until the balance is back above zero.
    pub flagged: bool,
    /// Star level (星级) 0–5 under the thresholds in force today.
    pub stars: i32,
}

/// A volunteer (志愿者).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Volunteer {
    pub id: ID,
    pub volunteer_number: String,
    pub community_id: ID,
    pub stairwell_id: Option<ID>,
    pub grid_id: Option<ID>,
    pub tags: Vec<String>,
    pub team_ids: Vec<ID>,
    pub departed: bool,
    #[graphql(skip)]
    pub account: Arc<Account>,
    #[graphql(skip)]
    pub vis: Visibility,
}

impl Volunteer {
    pub fn new(account: Account, vis: Visibility) -> Volunteer {
        let s = &account.state;
        Volunteer {
            id: ID(account.id.0.to_string()),
            volunteer_number: s.volunteer_number.clone(),
            community_id: ID(s.community_id.map(|c| c.0.to_string()).unwrap_or_default()),
            stairwell_id: s.stairwell_id.map(|x| ID(x.0.to_string())),
            grid_id: s.grid_id.map(|x| ID(x.0.to_string())),
            tags: s.tags.clone(),
            team_ids: s.teams.iter().map(|t| ID(t.0.to_string())).collect(),
            departed: s.departed,
            account: Arc::new(account),
            vis,
        }
    }
}

#[ComplexObject]
impl Volunteer {
    /// Name; shortened on public displays; null once personal data is erased.
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let p = person_fields(ctx, self.account.id.0).await?;
        Ok(show_name(&p, self.vis))
    }

    /// Phone, masked (138****5678) for all but staff of the volunteer's community.
    async fn phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if self.vis == Visibility::Public {
            return Ok(None);
        }
        let p = person_fields(ctx, self.account.id.0).await?;
        Ok(p.and_then(|p| p.phone).map(|ph| {
            if self.vis == Visibility::Full {
                ph
            } else {
                mask_phone(&ph)
            }
        }))
    }

    /// ID number, masked for all but staff of the volunteer's community.
    async fn id_number(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if self.vis == Visibility::Public {
            return Ok(None);
        }
        let p = person_fields(ctx, self.account.id.0).await?;
        Ok(p.and_then(|p| p.id_number).map(|n| {
            if self.vis == Visibility::Full {
                n
            } else {
                mask_id_number(&n)
            }
        }))
    }

    /// Whether the volunteer's personal data was erased (events and totals remain).
    async fn erased(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(person_fields(ctx, self.account.id.0).await?.is_none())
    }

    /// Balances (not shown on public displays).
    async fn balance(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Balance>> {
        if self.vis == Visibility::Public {
            return Ok(None);
        }
        let s = &self.account.state;
        let mut stars = 0;
        if let Some(cid) = s.community_id {
            let loader = ctx.data_unchecked::<DataLoader<CommunityLoader>>();
            let comm = loader
                .load_one(cid)
                .await
                .map_err(|e| async_graphql::Error::new(e.public_message()))?;
            let thresholds = match comm {
                Some(c) => c.star_thresholds_on(local_date(Utc::now())).thresholds,
                None => ledger::event::default_star_thresholds(),
            };
            stars = thresholds
                .iter()
                .filter(|t| s.verified_hours >= **t)
                .count() as i32;
        }
        Ok(Some(Balance {
            points: PointsScalar(s.points),
            hours: HoursScalar(s.hours),
            verified_hours: HoursScalar(s.verified_hours),
            flagged: s.flagged(),
            stars,
        }))
    }

    /// Log position of the volunteer's last event.
    async fn position(&self) -> u64 {
        self.account.position
    }
}

/// One line of a statement (账户明细).
#[derive(SimpleObject, Clone)]
pub struct StatementEntry {
    pub entry_id: ID,
    /// SERVICE_VERIFIED, POINTS_AWARDED, POINTS_REDEEMED, REVERSAL, HOURS_GIFTED,
    /// HOURS_RECEIVED or HOURS_SPENT.
    pub kind: String,
    pub points_delta: PointsScalar,
    pub hours_delta: HoursScalar,
    pub points_balance: PointsScalar,
    pub hours_balance: HoursScalar,
    pub description: String,
    /// The entry this one reverses.
    pub reverses: Option<ID>,
    /// The other volunteer of a gift.
    pub counterpart: Option<ID>,
    /// Log position of the entry's event.
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    /// Opaque cursor of this entry.
    pub cursor: String,
}

impl From<StatementLine> for StatementEntry {
    fn from(l: StatementLine) -> Self {
        StatementEntry {
            entry_id: ID(l.entry_id.0.to_string()),
            kind: l.kind.to_string(),
            points_delta: PointsScalar(l.points_delta),
            hours_delta: HoursScalar(l.hours_delta),
            points_balance: PointsScalar(l.points_balance),
            hours_balance: HoursScalar(l.hours_balance),
            description: l.description,
            reverses: l.reverses.map(|r| ID(r.0.to_string())),
            counterpart: l.counterpart.map(|r| ID(r.0.to_string())),
            position: l.position,
            recorded_at: l.recorded_at,
            cursor: l.position.to_string(),
        }
    }
}

/// A page of a statement.
#[derive(SimpleObject)]
pub struct StatementPage {
    pub entries: Vec<StatementEntry>,
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// A page of volunteers.
#[derive(SimpleObject)]
pub struct VolunteerPage {
    pub volunteers: Vec<Volunteer>,
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// One row of a ranking.
#[derive(SimpleObject, Clone)]
pub struct RankRow {
    /// Dense rank (ties share a rank).
    pub rank: i32,
    pub volunteer_id: ID,
    /// Name, shortened on displays; null once erased.
    pub name: Option<String>,
    pub volunteer_number: String,
    pub points: PointsScalar,
    pub hours: HoursScalar,
}

/// A ranking (排行榜).
#[derive(SimpleObject)]
pub struct Ranking {
    pub community_id: ID,
    pub metric: RankMetric,
    pub period: String,
    pub rows: Vec<RankRow>,
    /// Log position the ranking is pinned to.
    pub position: u64,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RankMetric {
    Points,
    Hours,
}

/// A wish (小心愿).
#[derive(SimpleObject, Clone)]
pub struct Wish {
    pub id: ID,
    pub community_id: ID,
    pub stairwell_id: Option<ID>,
    pub category: String,
    pub description: String,
    pub resident_label: String,
    pub status: WishStatus,
    pub claimed_by: Option<ID>,
    pub posted_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub position: u64,
}

/// A page of wishes.
#[derive(SimpleObject)]
pub struct WishPage {
    pub wishes: Vec<Wish>,
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// An event of the log (admin audit).
#[derive(SimpleObject, Clone)]
pub struct LedgerEvent {
    pub position: u64,
    pub stream_id: String,
    pub stream_version: u64,
    pub event_id: ID,
    pub event_type: String,
    pub schema_version: u32,
    pub community_id: Option<ID>,
    pub recorded_at: DateTime<Utc>,
    /// The payload as JSON text.
    pub payload: String,
    /// Who and why (actor, role, idempotency key) as JSON text.
    pub metadata: String,
}

impl From<&ledger::store::RecordedEvent> for LedgerEvent {
    fn from(r: &ledger::store::RecordedEvent) -> Self {
        LedgerEvent {
            position: r.position,
            stream_id: r.stream_id.clone(),
            stream_version: r.stream_version,
            event_id: ID(r.event_id.to_string()),
            event_type: r.event_type.clone(),
            schema_version: r.schema_version,
            community_id: r.community_id.map(|c| ID(c.to_string())),
            recorded_at: r.recorded_at,
            payload: r.payload.to_string(),
            metadata: serde_json::to_string(&r.metadata).unwrap_or_default(),
        }
    }
}

/// Who the caller is.
pub struct Me {
    pub principal: Principal,
}

#[Object]
impl Me {
    async fn token_id(&self) -> ID {
        ID(self.principal.token_id.to_string())
    }
    async fn role(&self) -> TokenRole {
        self.principal.role().into()
    }
    async fn community_id(&self) -> Option<ID> {
        self.principal.community().map(|c| ID(c.0.to_string()))
    }
    async fn label(&self) -> &str {
        &self.principal.label
    }
    /// The caller's own volunteer account (volunteer tokens).
    async fn volunteer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Volunteer>> {
        let Some(v) = self.principal.actor.volunteer_id else {
            return Ok(None);
        };
        let app = super::app(ctx);
        let Some(acc) = app.reads.account(v).await? else {
            return Ok(None);
        };
        let vis = Visibility::for_caller(&self.principal, acc.state.community_id);
        Ok(Some(Volunteer::new(acc, vis)))
    }
}

/// A stairwell's 文明楼道 score for a month.
#[derive(SimpleObject, Clone)]
pub struct StairwellScore {
    pub stairwell_id: ID,
    pub building: String,
    pub unit: String,
    pub households: u32,
    /// "YYYY-MM".
    pub month: String,
    /// Sum of the inspection's rubric items.
    pub items: crate::scalars::DecimalScalar,
    /// Volunteers of the stairwell who served that month.
    pub served: u32,
    pub participation: crate::scalars::DecimalScalar,
    pub deductions: crate::scalars::DecimalScalar,
    /// Clamped to 0–100.
    pub total: crate::scalars::DecimalScalar,
    /// Dense rank within the community for the month.
    pub rank: u64,
    /// Holder of the month's 流动红旗.
    pub red_flag: bool,
}

impl From<projections::stairwells::StairwellScore> for StairwellScore {
    fn from(s: projections::stairwells::StairwellScore) -> Self {
        use crate::scalars::DecimalScalar as D;
        StairwellScore {
            stairwell_id: ID(s.stairwell_id.0.to_string()),
            building: s.building,
            unit: s.unit,
            households: s.households,
            month: s.month,
            items: D(s.items),
            served: s.served,
            participation: D(s.participation),
            deductions: D(s.deductions),
            total: D(s.total),
            rank: s.rank,
            red_flag: s.red_flag,
        }
    }
}

/// Services of one kind.
#[derive(SimpleObject, Clone)]
pub struct KindTotals {
    pub kind: String,
    pub services: u64,
    pub hours: crate::scalars::DecimalScalar,
}

/// Totals of a period.
#[derive(SimpleObject, Clone)]
pub struct PeriodTotals {
    pub hours: crate::scalars::DecimalScalar,
    pub points: crate::scalars::DecimalScalar,
    pub services: u64,
    /// Volunteers with a verified service in the period.
    pub volunteers_served: u64,
    pub by_kind: Vec<KindTotals>,
}

impl From<projections::dashboard::PeriodTotals> for PeriodTotals {
    fn from(t: projections::dashboard::PeriodTotals) -> Self {
        use crate::scalars::DecimalScalar as D;
        PeriodTotals {
            hours: D(t.hours),
            points: D(t.points),
            services: t.services,
            volunteers_served: t.volunteers_served,
            by_kind: t
                .by_kind
                .into_iter()
                .map(|k| KindTotals {
                    kind: k.kind,
                    services: k.services,
                    hours: D(k.hours),
                })
                .collect(),
        }
    }
}

/// A community's dashboard (社区看板).
#[derive(SimpleObject, Clone)]
pub struct Dashboard {
    pub community_id: ID,
    pub active_volunteers: u64,
    pub open_wishes: u64,
    pub wishes_in_progress: u64,
    /// "YYYY-MM" of today (UTC+8).
    pub month: String,
    pub this_month: PeriodTotals,
    pub this_year: PeriodTotals,
    /// The red-flag holder of the latest inspected month up to this month.
    pub red_flag: Option<StairwellScore>,
    /// Position the read models had reached.
    pub position: u64,
}
