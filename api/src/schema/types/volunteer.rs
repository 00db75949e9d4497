//! A volunteer (志愿者): the account from the `balances` read model (balances, totals,
//! stars), the profile and the personal data through the request's DataLoaders; and a
//! page of volunteers.

use super::loaders::Profiles;
use super::person::{person_fields, show_name, Visibility};
use super::{hours_of, points_of};
use crate::auth::{mask_id_number, mask_phone};
use crate::reads::Profile;
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::id;
use async_graphql::{Context, ErrorExtensions, Object, SimpleObject, ID};
use chrono::NaiveDate;
use std::sync::Arc;
use uuid::Uuid;

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
    /// Points earned it also takes, when the star rule asks for points.
    pub threshold_points: Option<PointsScalar>,
    /// The day (UTC+8) the verified hours last crossed the threshold.
    pub reached_on: NaiveDate,
}

/// Everything a volunteer's account holds (积分 and 时间银行).
#[derive(SimpleObject, Clone)]
pub struct AccountTotals {
    pub points_earned: PointsScalar,
    pub points_spent: PointsScalar,
    pub points_reversed: PointsScalar,
    /// Points whose validity ended (积分到期).
    pub points_expired: PointsScalar,
    /// Points that stayed with a community the volunteer moved away from (转移接续).
    pub points_left: PointsScalar,
    pub hours_gifted: HoursScalar,
    pub hours_received: HoursScalar,
    pub hours_spent: HoursScalar,
    pub hours_reversed: HoursScalar,
    /// The community's star thresholds, in verified hours.
    pub star_thresholds: Vec<HoursScalar>,
    /// Its points thresholds, when the star rule asks for points too.
    pub star_points_thresholds: Option<Vec<PointsScalar>>,
    /// Points earned net of reversals (spending does not lower them): what a star rule
    /// with points counts.
    pub star_points: PointsScalar,
    pub stars: Vec<StarReached>,
}

impl From<&projections::balances::Balance> for AccountTotals {
    fn from(b: &projections::balances::Balance) -> Self {
        AccountTotals {
            points_earned: points_of(b.points_earned),
            points_spent: points_of(b.points_spent),
            points_reversed: points_of(b.points_reversed),
            points_expired: points_of(b.points_expired),
            points_left: points_of(b.points_left),
            hours_gifted: hours_of(b.hours_gifted),
            hours_received: hours_of(b.hours_received),
            hours_spent: hours_of(b.hours_spent),
            hours_reversed: hours_of(b.hours_reversed),
            star_thresholds: b.star_thresholds.iter().map(|h| hours_of(*h)).collect(),
            star_points_thresholds: b
                .star_points_thresholds
                .as_ref()
                .map(|p| p.iter().map(|x| points_of(*x)).collect()),
            star_points: points_of(b.star_points),
            stars: b
                .stars
                .iter()
                .map(|s| StarReached {
                    level: s.level as i32,
                    threshold_hours: hours_of(s.threshold_hours),
                    threshold_points: s.threshold_points.map(points_of),
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

    /// Linked relatives (家属), to whom hours may be gifted where the community's hours
    /// rules allow only them.
    async fn relatives(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Relative>> {
        Ok(self
            .profile(ctx)
            .await?
            .relatives
            .into_iter()
            .map(|(v, relation)| Relative {
                volunteer_id: id(v.0),
                relation,
                relative: v.0,
                vis: self.vis,
            })
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

    /// Hours and points of activity records in their 公示 notice (公示中): shown here,
    /// not in the balance until final (not shown on public displays).
    async fn pending(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::PendingRecords>> {
        if self.vis == Visibility::Public {
            return Ok(None);
        }
        let (hours, points) = crate::schema::app(ctx)
            .reads
            .pending_records(self.account.volunteer_id)
            .await
            .map_err(|e| e.extend())?;
        Ok(Some(super::PendingRecords {
            hours: super::hours_of(hours),
            points: super::points_of(points),
        }))
    }

    /// Earned, spent, reversed, gifted and received totals and the stars reached (not
    /// shown on public displays).
    async fn totals(&self) -> Option<AccountTotals> {
        (self.vis != Visibility::Public).then(|| AccountTotals::from(self.account.as_ref()))
    }

    /// Training, commendations and the evaluations of services (服务档案; not shown on
    /// public displays).
    async fn service_record(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::ServiceRecord>> {
        if self.vis == Visibility::Public {
            return Ok(None);
        }
        let state = account_state(ctx, self.account.volunteer_id).await?;
        let mut record = super::ServiceRecord::from(state.as_ref());
        // Whether each service received has been evaluated is on its provider's account.
        for (r, x) in record
            .received
            .iter_mut()
            .zip(state.record.received.iter().rev())
        {
            let provider = account_state(ctx, x.provider).await?;
            r.satisfaction = provider
                .record
                .evaluation(x.service_id)
                .map(|e| i32::from(e.satisfaction));
        }
        Ok(Some(record))
    }

    /// Points that will expire within `days` days (1–366, default 90), under the points
    /// expiry of their community (not shown on public displays).
    async fn points_expiring(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 90)] days: i32,
    ) -> async_graphql::Result<Option<ExpiringPoints>> {
        if self.vis == Visibility::Public {
            return Ok(None);
        }
        let state = account_state(ctx, self.account.volunteer_id).await?;
        let today = ledger::domain::local_date(crate::schema::app(ctx).handler.now());
        let until = today + chrono::Duration::days(i64::from(days.clamp(1, 366)));
        // Due by today and not yet expired by the server counts as expiring today.
        let soon = state.expiring(NaiveDate::MIN, until);
        let total = soon.iter().fold(ledger::amount::Points::ZERO, |s, (_, p)| {
            s.saturating_add(*p)
        });
        Ok(Some(ExpiringPoints {
            total: PointsScalar(total),
            days: soon
                .into_iter()
                .map(|(on, p)| ExpiringOn {
                    on: on.max(today),
                    points: PointsScalar(p),
                })
                .collect(),
        }))
    }

    /// Log position of the last event that changed the volunteer's account.
    async fn position(&self) -> u64 {
        self.account.position
    }
}

/// Points that will expire soon (积分即将到期).
#[derive(SimpleObject, Clone)]
pub struct ExpiringPoints {
    /// All of them, over the days asked.
    pub total: PointsScalar,
    /// Per day they expire on (the first day they are no longer valid), soonest first.
    pub days: Vec<ExpiringOn>,
}

/// Points expiring on one day.
#[derive(SimpleObject, Clone)]
pub struct ExpiringOn {
    pub on: NaiveDate,
    pub points: PointsScalar,
}

/// A volunteer's account as the commands see it (its service record, its points' lots).
async fn account_state(
    ctx: &Context<'_>,
    id: ledger::ids::VolunteerId,
) -> async_graphql::Result<Arc<ledger::domain::VolunteerState>> {
    crate::schema::app(ctx)
        .handler
        .volunteer_state(id)
        .await
        .map_err(|e| crate::errors::ApiError::Command(e).extend())
}

/// A page of volunteers.
#[derive(SimpleObject)]
pub struct VolunteerPage {
    pub volunteers: Vec<Volunteer>,
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// A linked relative (家属).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Relative {
    pub volunteer_id: ID,
    /// What the relative is to the volunteer (母亲, 配偶…); empty when not said.
    pub relation: String,
    #[graphql(skip)]
    pub relative: Uuid,
    #[graphql(skip)]
    pub vis: Visibility,
}

#[async_graphql::ComplexObject]
impl Relative {
    /// The relative's name as the caller may see it; null once erased.
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let p = person_fields(ctx, self.relative).await?;
        Ok(show_name(&p, self.vis))
    }
}
