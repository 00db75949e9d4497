//! Output types shared by the roots, and the DataLoaders that batch their lookups.

use super::args::id;
use crate::auth::{mask_id_number, mask_phone, shorten_name, Principal};
use crate::errors::ApiError;
use crate::reads::{Profile, ReadSide};
use crate::scalars::{HoursScalar, PointsScalar};
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::amount::{Hours, Points};
use ledger::command::Role;
use ledger::ids::CommunityId;
use ledger::store::Person;
use ledger::Store;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Points of a read model (exact hundredths) as the `Points` scalar.
pub fn points_of(d: Decimal) -> PointsScalar {
    PointsScalar(Points::from_hundredths(
        (d * Decimal::ONE_HUNDRED)
            .round()
            .to_i64()
            .unwrap_or_default(),
    ))
}

/// Hours of a read model (whole minutes) as the `Hours` scalar.
pub fn hours_of(d: Decimal) -> HoursScalar {
    HoursScalar(Hours::from_minutes(
        (d * Decimal::from(60)).round().to_i64().unwrap_or_default(),
    ))
}

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
    /// The status as the wish board stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            WishStatus::Open => "open",
            WishStatus::Claimed => "claimed",
            WishStatus::Fulfilled => "fulfilled",
            WishStatus::Confirmed => "confirmed",
            WishStatus::Cancelled => "cancelled",
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

/// Personal data of a request, batched and kept for the request: a list resolver loads
/// its whole page at once ([`prefetch`]), and its rows' fields then read what it
/// loaded, so that a page costs one query however large it is.
pub type People = DataLoader<PersonLoader, HashMapCache>;
/// Volunteer profiles of a request, batched and kept like [`People`].
pub type Profiles = DataLoader<ProfileLoader, HashMapCache>;

/// The loaders of one HTTP request (kept for the request).
pub fn request_loaders(store: Store, reads: ReadSide) -> (People, Profiles) {
    (
        DataLoader::with_cache(PersonLoader(store), tokio::spawn, HashMapCache::default()),
        DataLoader::with_cache(ProfileLoader(reads), tokio::spawn, HashMapCache::default()),
    )
}

/// The loaders of a WebSocket connection: batched, but nothing kept (a connection may
/// live for days).
pub fn connection_loaders(store: Store, reads: ReadSide) -> (People, Profiles) {
    let (people, profiles) = request_loaders(store, reads);
    people.enable_all_cache(false);
    profiles.enable_all_cache(false);
    (people, profiles)
}

/// Loads, in one batch each, the personal data and the profiles of `ids` that a list
/// is about to show (`None` for what its selection does not ask).
pub async fn prefetch(
    ctx: &Context<'_>,
    ids: &[Uuid],
    people: bool,
    profiles: bool,
) -> async_graphql::Result<()> {
    let err = |e: Arc<ApiError>| async_graphql::Error::new(e.public_message());
    let load_people = async {
        if people {
            ctx.data_unchecked::<People>()
                .load_many(ids.iter().copied())
                .await
                .map_err(err)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let load_profiles = async {
        if profiles {
            ctx.data_unchecked::<Profiles>()
                .load_many(ids.iter().copied())
                .await
                .map_err(err)?;
        }
        Ok::<_, async_graphql::Error>(())
    };
    let (a, b) = futures::join!(load_people, load_profiles);
    a.and(b)
}

/// Whether the selection of the field being resolved asks, under `path` (fields of its
/// result, outermost first), for any of `fields`.
pub fn selects(ctx: &Context<'_>, path: &[&str], fields: &[&str]) -> bool {
    let mut at = ctx.look_ahead();
    for p in path {
        at = at.field(p);
    }
    fields.iter().any(|f| at.field(f).exists())
}

/// Fields of a [`Volunteer`] that read personal data.
pub const PERSON_FIELDS: [&str; 4] = ["name", "phone", "idNumber", "erased"];
/// Fields of a [`Volunteer`] that read its profile.
pub const PROFILE_FIELDS: [&str; 5] = ["stairwellId", "gridId", "tags", "teamIds", "departed"];

/// Batches personal-data lookups (one query for a whole list). Every key gets an
/// answer (`None` once erased), so that an absence is kept too.
pub struct PersonLoader(pub Store);

impl Loader<Uuid> for PersonLoader {
    type Value = Option<Person>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Option<Person>>, Self::Error> {
        let mut out: HashMap<Uuid, Option<Person>> = keys.iter().map(|k| (*k, None)).collect();
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
                        Some(Person {
                            volunteer_id: id,
                            name: r.try_get("name").map_err(wrap)?,
                            phone: r.try_get("phone").map_err(wrap)?,
                            id_number: r.try_get("id_number").map_err(wrap)?,
                        }),
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
                    Some(Person {
                        volunteer_id: id,
                        name: r.try_get("name").map_err(wrap)?,
                        phone: r.try_get("phone").map_err(wrap)?,
                        id_number: r.try_get("id_number").map_err(wrap)?,
                    }),
                );
            }
        }
        Ok(out)
    }
}

/// Batches volunteer profiles (stairwell, grid, teams, tags, departed): one query of
/// the log's attribution events for a whole list.
pub struct ProfileLoader(pub ReadSide);

impl Loader<Uuid> for ProfileLoader {
    type Value = Profile;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Profile>, Self::Error> {
        let mut found = self.0.profiles(keys).await.map_err(Arc::new)?;
        // Every key gets an answer, so that an unknown volunteer is kept too.
        for k in keys {
            found.entry(*k).or_default();
        }
        Ok(found)
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
    let loader = ctx.data_unchecked::<People>();
    Ok(loader
        .load_one(id)
        .await
        .map_err(|e| async_graphql::Error::new(e.public_message()))?
        .flatten())
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
    /// A reversal left the points or the hours balance below zero: redemptions are
    /// refused until both are back to zero or above.
    pub flagged: bool,
    /// Star level (星级) 0–5 under the community's star thresholds.
    pub stars: i32,
}

impl From<&projections::balances::Balance> for Balance {
    fn from(b: &projections::balances::Balance) -> Self {
        Balance {
            points: points_of(b.points_balance),
            hours: hours_of(b.hours_banked),
            verified_hours: hours_of(b.verified_hours),
            flagged: b.negative,
            stars: b.star_level as i32,
        }
    }
}

/// A star (星级) reached.
#[derive(SimpleObject, Clone)]
pub struct StarReached {
    /// 1–5.
    pub level: i32,
    /// Verified hours the star takes.
    pub threshold_hours: HoursScalar,
    /// The day (UTC+8) the verified hours last crossed the threshold.
    pub reached_on: NaiveDate,
}

/// Everything a volunteer's account holds (积分 and 时间银行).
#[derive(SimpleObject, Clone)]
pub struct AccountTotals {
    pub points_earned: PointsScalar,
    pub points_spent: PointsScalar,
    pub points_reversed: PointsScalar,
    pub hours_gifted: HoursScalar,
    pub hours_received: HoursScalar,
    pub hours_spent: HoursScalar,
    pub hours_reversed: HoursScalar,
    /// The community's star thresholds, in verified hours.
    pub star_thresholds: Vec<HoursScalar>,
    pub stars: Vec<StarReached>,
}

impl From<&projections::balances::Balance> for AccountTotals {
    fn from(b: &projections::balances::Balance) -> Self {
        AccountTotals {
            points_earned: points_of(b.points_earned),
            points_spent: points_of(b.points_spent),
            points_reversed: points_of(b.points_reversed),
            hours_gifted: hours_of(b.hours_gifted),
            hours_received: hours_of(b.hours_received),
            hours_spent: hours_of(b.hours_spent),
            hours_reversed: hours_of(b.hours_reversed),
            star_thresholds: b.star_thresholds.iter().map(|h| hours_of(*h)).collect(),
            stars: b
                .stars
                .iter()
                .map(|s| StarReached {
                    level: s.level as i32,
                    threshold_hours: hours_of(s.threshold_hours),
                    reached_on: s.reached_on,
                })
                .collect(),
        }
    }
}

/// A volunteer (志愿者): the account from the `balances` read model, the profile and
/// personal data through DataLoaders (one query per list, not per volunteer).
#[derive(Clone)]
pub struct Volunteer {
    pub account: Arc<projections::balances::Balance>,
    pub vis: Visibility,
}

impl Volunteer {
    pub fn new(account: Arc<projections::balances::Balance>, vis: Visibility) -> Volunteer {
        Volunteer { account, vis }
    }

    fn uuid(&self) -> Uuid {
        self.account.volunteer_id.0
    }

    async fn profile(&self, ctx: &Context<'_>) -> async_graphql::Result<Profile> {
        let loader = ctx.data_unchecked::<Profiles>();
        Ok(loader
            .load_one(self.uuid())
            .await
            .map_err(|e| async_graphql::Error::new(e.public_message()))?
            .unwrap_or_default())
    }
}

/// A volunteer (志愿者).
#[Object]
impl Volunteer {
    async fn id(&self) -> ID {
        id(self.uuid())
    }

    /// Number within the community (志愿者编号).
    async fn volunteer_number(&self) -> &str {
        &self.account.volunteer_number
    }

    async fn community_id(&self) -> ID {
        ID(self
            .account
            .community_id
            .map(|c| c.0.to_string())
            .unwrap_or_default())
    }

    /// Home stairwell (楼道) today.
    async fn stairwell_id(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ID>> {
        Ok(self.profile(ctx).await?.stairwell_id.map(|s| id(s.0)))
    }

    /// Grid (网格) of the home stairwell today.
    async fn grid_id(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ID>> {
        Ok(self.profile(ctx).await?.grid_id.map(|g| id(g.0)))
    }

    /// 党员, 五老, 青年, …
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(self.profile(ctx).await?.tags)
    }

    /// Teams (服务队) the volunteer is in today.
    async fn team_ids(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ID>> {
        Ok(self
            .profile(ctx)
            .await?
            .teams
            .iter()
            .map(|t| id(t.0))
            .collect())
    }

    async fn departed(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.profile(ctx).await?.departed)
    }

    /// Name; shortened on public displays; null once personal data is erased.
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let p = person_fields(ctx, self.uuid()).await?;
        Ok(show_name(&p, self.vis))
    }

    /// Phone, masked (138****5678) for all but staff of the volunteer's community.
    async fn phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if self.vis == Visibility::Public {
            return Ok(None);
        }
        let p = person_fields(ctx, self.uuid()).await?;
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
        let p = person_fields(ctx, self.uuid()).await?;
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
        Ok(person_fields(ctx, self.uuid()).await?.is_none())
    }

    /// Balances (not shown on public displays).
    async fn balance(&self) -> Option<Balance> {
        (self.vis != Visibility::Public).then(|| Balance::from(self.account.as_ref()))
    }

    /// Earned, spent, reversed, gifted and received totals and the stars reached (not
    /// shown on public displays).
    async fn totals(&self) -> Option<AccountTotals> {
        (self.vis != Visibility::Public).then(|| AccountTotals::from(self.account.as_ref()))
    }

    /// Log position of the last event that changed the volunteer's account.
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
    /// Reason, item, description or counterparty.
    pub description: String,
    /// The entry this one reverses.
    pub reverses: Option<ID>,
    /// The reversal (冲正) that undid this entry.
    pub reversed_by: Option<ID>,
    /// The other volunteer of a gift.
    pub counterpart: Option<ID>,
    /// The event that wrote the entry, and its log position.
    pub event_id: ID,
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    /// Opaque cursor of this entry.
    pub cursor: String,
}

/// The API's name of a statement kind of the read model.
fn entry_kind(kind: &str) -> String {
    match kind {
        "entry_reversed" => "REVERSAL".to_string(),
        other => other.to_ascii_uppercase(),
    }
}

impl From<projections::statement::StatementEntry> for StatementEntry {
    fn from(e: projections::statement::StatementEntry) -> Self {
        let counterpart = match e.kind.as_str() {
            "hours_gifted" => e.detail.strip_prefix("to "),
            "hours_received" => e.detail.strip_prefix("from "),
            _ => None,
        }
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
        .map(id);
        StatementEntry {
            entry_id: id(e.entry_id.0),
            kind: entry_kind(&e.kind),
            points_delta: points_of(e.points_delta),
            hours_delta: hours_of(e.hours_delta),
            points_balance: points_of(e.points_balance),
            hours_balance: hours_of(e.hours_balance),
            description: e.detail,
            reverses: e.reverses.map(|r| id(r.0)),
            reversed_by: e.reversed_by.map(|r| id(r.0)),
            counterpart,
            event_id: id(e.event_id),
            position: e.position,
            recorded_at: e.recorded_at,
            cursor: e.seq.to_string(),
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
#[graphql(complex)]
pub struct RankRow {
    /// Dense rank (ties share a rank).
    pub rank: i32,
    pub volunteer_id: ID,
    pub volunteer_number: String,
    pub points: PointsScalar,
    pub hours: HoursScalar,
    #[graphql(skip)]
    pub volunteer: Uuid,
    #[graphql(skip)]
    pub vis: Visibility,
}

impl RankRow {
    pub fn new(e: &projections::rankings::RankEntry, vis: Visibility) -> RankRow {
        RankRow {
            rank: i32::try_from(e.rank).unwrap_or(i32::MAX),
            volunteer_id: id(e.volunteer_id.0),
            volunteer_number: e.volunteer_number.clone(),
            points: points_of(e.points),
            hours: hours_of(e.hours),
            volunteer: e.volunteer_id.0,
            vis,
        }
    }
}

#[ComplexObject]
impl RankRow {
    /// Name, shortened on displays; null once erased.
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let p = person_fields(ctx, self.volunteer).await?;
        Ok(show_name(&p, self.vis))
    }
}

/// A ranking (排行榜).
#[derive(SimpleObject)]
pub struct Ranking {
    pub community_id: ID,
    pub metric: RankMetric,
    pub period: String,
    pub rows: Vec<RankRow>,
    /// Log position the read models had reached.
    pub position: u64,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RankMetric {
    Points,
    Hours,
}

impl From<RankMetric> for projections::rankings::Metric {
    fn from(m: RankMetric) -> Self {
        match m {
            RankMetric::Points => projections::rankings::Metric::Points,
            RankMetric::Hours => projections::rankings::Metric::Hours,
        }
    }
}

/// A wish (小心愿).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
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
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Hours the claimer reported when fulfilling.
    pub hours: Option<HoursScalar>,
    /// Seconds from posted to (last) claimed.
    pub seconds_to_claim: Option<i64>,
    /// Seconds from posted to fulfilled.
    pub seconds_to_fulfil: Option<i64>,
    /// Log position of the wish's last event.
    pub position: u64,
    #[graphql(skip)]
    pub claimer: Option<Uuid>,
    #[graphql(skip)]
    pub vis: Visibility,
}

impl Wish {
    pub fn new(w: projections::wishes::Wish, vis: Visibility) -> Wish {
        Wish {
            id: id(w.wish_id.0),
            community_id: id(w.community_id.0),
            stairwell_id: Some(id(w.stairwell_id.0)),
            category: w.category,
            description: w.description,
            resident_label: w.resident_label,
            status: WishStatus::parse(&w.status).unwrap_or(WishStatus::Open),
            claimed_by: w.claimer.map(|v| id(v.0)),
            posted_at: Some(w.posted_at),
            claimed_at: w.claimed_at,
            fulfilled_at: w.fulfilled_at,
            confirmed_at: w.confirmed_at,
            cancelled_at: w.cancelled_at,
            hours: w.hours.map(hours_of),
            seconds_to_claim: w.seconds_to_claim,
            seconds_to_fulfil: w.seconds_to_fulfil,
            position: w.position,
            claimer: w.claimer.map(|v| v.0),
            vis,
        }
    }
}

#[ComplexObject]
impl Wish {
    /// Name of the claimer, shortened on displays; null once erased.
    async fn claimer_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(v) = self.claimer else {
            return Ok(None);
        };
        let p = person_fields(ctx, v).await?;
        Ok(show_name(&p, self.vis))
    }
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
    /// The caller's own volunteer account (volunteer tokens, and staff tokens bound to
    /// the staff member's account).
    async fn volunteer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Volunteer>> {
        let Some(v) = self.principal.actor.volunteer_id else {
            return Ok(None);
        };
        let app = super::app(ctx);
        let Some(b) = app.reads.balance(v).await? else {
            return Ok(None);
        };
        let vis = Visibility::for_caller(&self.principal, b.community_id);
        Ok(Some(Volunteer::new(b, vis)))
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
    /// Households of the stairwell with a volunteer who served that month (a volunteer
    /// with no household given counts as one).
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
