//! Reads of the points shop (积分超市): a community's catalogue (its boards' readers),
//! redemptions (a volunteer their own; staff their community's, by volunteer, status or
//! the code shown at the outlet) and the monthly stock sheet (staff).

use super::wait;
use crate::errors::gql_error;
use crate::schema::args::{board_access, forbidden, not_found, parse_id};
use crate::schema::types::*;
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, ID};
use chrono::NaiveDate;
use ledger::ids::*;

type Res<T> = async_graphql::Result<T>;

#[derive(Default)]
pub struct ShopQuery;

#[Object]
impl ShopQuery {
    /// The items of a community's points shop by name, those offered first; withdrawn
    /// ones (下架) only with `withWithdrawn` (staff, volunteers and displays of the
    /// community, admins).
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    async fn shop_items(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        #[graphql(default)] with_withdrawn: bool,
        at_least: Option<u64>,
    ) -> Res<Vec<ShopItem>> {
        let p = principal(ctx)?;
        let c = CommunityId(parse_id(&community_id, "communityId")?);
        board_access(p, c)?;
        wait(ctx, at_least).await?;
        let app = app(ctx);
        let db = app.reads.db().await.map_err(|e| e.extend())?;
        let today = ledger::domain::local_date(app.handler.now());
        Ok(projections::shop::shop_items(db, c, with_withdrawn)
            .await
            .map_err(|e| crate::errors::ApiError::from(e).extend())?
            .into_iter()
            .map(|i| ShopItem::new(i, today))
            .collect())
    }

    /// One item of a points shop (its community's boards' readers).
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn shop_item(&self, ctx: &Context<'_>, id: ID, at_least: Option<u64>) -> Res<ShopItem> {
        let p = principal(ctx)?;
        let item = ShopItemId(parse_id(&id, "id")?);
        wait(ctx, at_least).await?;
        let app = app(ctx);
        let db = app.reads.db().await.map_err(|e| e.extend())?;
        let i = projections::shop::shop_item(db, item)
            .await
            .map_err(|e| crate::errors::ApiError::from(e).extend())?
            .ok_or_else(|| not_found(format!("shop item {item}")))?;
        board_access(p, i.community_id)?;
        Ok(ShopItem::new(
            i,
            ledger::domain::local_date(app.handler.now()),
        ))
    }

    /// Redemptions, newest first (at most 200): a volunteer token reads its own; staff
    /// and admins a community's, of one volunteer, of one status, or those with the
    /// code a volunteer shows at the outlet (spaces and case ignored).
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn redemptions(
        &self,
        ctx: &Context<'_>,
        community_id: Option<ID>,
        volunteer_id: Option<ID>,
        status: Option<RedemptionStatus>,
        code: Option<String>,
        at_least: Option<u64>,
    ) -> Res<Vec<Redemption>> {
        use projections::shop as q;
        let p = principal(ctx)?;
        let wanted = volunteer_id
            .map(|v| parse_id(&v, "volunteerId").map(VolunteerId))
            .transpose()?;
        let community = community_id
            .map(|c| parse_id(&c, "communityId").map(CommunityId))
            .transpose()?;
        wait(ctx, at_least).await?;
        let app = app(ctx);
        let db = app.reads.db().await.map_err(|e| e.extend())?;
        let fail = |e| crate::errors::ApiError::from(e).extend();
        let list = if let Some(own) = p.actor.volunteer_id {
            if wanted.is_some_and(|v| v != own) {
                return Err(forbidden("a volunteer reads only their own redemptions"));
            }
            q::redemptions_of(db, own).await.map_err(fail)?
        } else {
            let Some(c) = community.or(p.community()) else {
                return Err(gql_error("INVALID_INPUT", "communityId is required"));
            };
            if !p.manages(c) {
                return Err(forbidden("only the community's staff read its redemptions"));
            }
            match (wanted, code) {
                (_, Some(code)) => q::redemptions_by_code(db, c, &code).await.map_err(fail)?,
                (Some(v), None) => q::redemptions_of(db, v)
                    .await
                    .map_err(fail)?
                    .into_iter()
                    .filter(|r| r.community_id == c)
                    .collect(),
                (None, None) => q::community_redemptions(db, c, status.map(Into::into))
                    .await
                    .map_err(fail)?,
            }
        };
        let vis = Visibility::for_caller(p, community.or(p.community()));
        Ok(list
            .into_iter()
            .filter(|r| status.is_none_or(|s| r.status == s.into()))
            .map(|r| Redemption::new(r, vis))
            .collect())
    }

    /// The monthly stock and redemption sheet of a community's shop: per item, the
    /// stock at the month's start, added, counted off, redeemed, returned and at its
    /// end (China Standard Time; staff of the community, admins). `month` is "YYYY-MM".
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    async fn shop_stock(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        month: String,
        at_least: Option<u64>,
    ) -> Res<Vec<StockLine>> {
        let p = principal(ctx)?;
        let c = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.manages(c) {
            return Err(forbidden("only the community's staff read its stock sheet"));
        }
        let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .map_err(|_| gql_error("INVALID_INPUT", "month: expected YYYY-MM"))?;
        wait(ctx, at_least).await?;
        let db = app(ctx).reads.db().await.map_err(|e| e.extend())?;
        Ok(projections::shop::stock_month(db, c, first)
            .await
            .map_err(|e| crate::errors::ApiError::from(e).extend())?
            .into_iter()
            .map(StockLine::from)
            .collect())
    }
}
