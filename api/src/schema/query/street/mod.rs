//! Reads above the community: the streets (街道) and districts (区), and their roll-ups
//! — one ranking of the volunteers of all their communities and one table with a line
//! per community — taken as the organisation was on the period's last day; `boards`:
//! its 文明楼道 of a month and its teams ranked together.
//!
//! Who reads them: administrators every street and district; a street office its own
//! street (names as for staff of another community: phones and ID numbers never).

use super::{page_size, wait};
use crate::auth::Principal;
use crate::errors::{gql_error, ApiError};
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::{forbidden, id, not_found, parse_id};
use crate::schema::types::{hours_of, points_of, RankMetric, RankRow, Visibility};
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, SimpleObject, ID};
use chrono::NaiveDate;
use ledger::command::Role;
use ledger::ids::*;
use projections::org::{Org, Unit, UnitKind};
use projections::rankings::Scope;

mod boards;

pub use boards::StreetBoardQuery;

type Res<T> = async_graphql::Result<T>;

/// A community as a street or district lists it.
#[derive(SimpleObject, Clone)]
pub struct OrgCommunity {
    pub community_id: ID,
    pub name: String,
}

/// A street (街道) with its district and its communities today.
#[derive(SimpleObject)]
pub struct StreetInfo {
    pub street_id: ID,
    pub name: String,
    pub district_id: Option<ID>,
    pub district_name: Option<String>,
    pub communities: Vec<OrgCommunity>,
}

/// A district (区) with its streets today.
#[derive(SimpleObject)]
pub struct DistrictInfo {
    pub district_id: ID,
    pub name: String,
    pub streets: Vec<OrgCommunity>,
}

/// One volunteer in a street's or district's ranking, with their community.
#[derive(SimpleObject)]
pub struct OrgRankRow {
    #[graphql(flatten)]
    pub row: RankRow,
    pub community_id: Option<ID>,
    pub community_name: Option<String>,
}

/// A ranking across the communities of a street or a district.
#[derive(SimpleObject)]
pub struct OrgRanking {
    /// STREET:<id> or DISTRICT:<id>, as asked.
    pub scope: String,
    pub name: String,
    pub metric: RankMetric,
    pub period: String,
    /// The day the organisation was taken on (the period's last day, or today).
    pub as_of: NaiveDate,
    pub communities: Vec<OrgCommunity>,
    pub rows: Vec<OrgRankRow>,
    pub position: u64,
}

/// One community's line in a street's or district's table.
#[derive(SimpleObject)]
pub struct OrgTableLine {
    pub community_id: ID,
    pub name: String,
    /// Registered, not departed.
    pub volunteers: u64,
    /// Served at least once in the period (活跃志愿者).
    pub active_volunteers: u64,
    pub hours: HoursScalar,
    pub points: PointsScalar,
    pub services: u64,
    pub activities: u64,
    /// Volunteers holding 1★ … 5★ today (first is 1★).
    pub stars: Vec<u64>,
}

/// A street's or district's table: a line per community and the total.
#[derive(SimpleObject)]
pub struct OrgTable {
    pub scope: String,
    pub name: String,
    pub period: String,
    pub as_of: NaiveDate,
    pub lines: Vec<OrgTableLine>,
    pub total: OrgTableLine,
    pub position: u64,
}

/// A roll-up's scope as asked: STREET:<id> or DISTRICT:<id>.
#[derive(Debug, Clone, Copy)]
pub(super) enum OrgScope {
    Street(StreetId),
    District(DistrictId),
}

pub(super) fn parse_org_scope(s: &str) -> Res<OrgScope> {
    let bad = || gql_error("INVALID_INPUT", "scope: use STREET:<id> or DISTRICT:<id>");
    let (kind, value) = s.trim().split_once(':').ok_or_else(bad)?;
    let uuid = parse_id(&ID(value.trim().into()), "scope")?;
    match kind.to_ascii_uppercase().as_str() {
        "STREET" => Ok(OrgScope::Street(StreetId(uuid))),
        "DISTRICT" => Ok(OrgScope::District(DistrictId(uuid))),
        _ => Err(bad()),
    }
}

pub(super) fn may_read(p: &Principal, scope: OrgScope) -> Res<()> {
    match (p.role(), scope) {
        (Role::Admin, _) => Ok(()),
        (Role::Street, OrgScope::Street(s)) if p.street() == Some(s) => Ok(()),
        _ => Err(forbidden(
            "a street's roll-ups are for administrators and that street's office",
        )),
    }
}

fn listed(units: &[&Unit]) -> Vec<OrgCommunity> {
    units
        .iter()
        .map(|u| OrgCommunity {
            community_id: id(u.id),
            name: u.name.clone(),
        })
        .collect()
}

/// The whole organisation (two small reads of its read model).
async fn read_org(ctx: &Context<'_>) -> Res<Org> {
    let db = app(ctx).reads.db().await.map_err(|e| e.extend())?;
    projections::org::org(db)
        .await
        .map_err(|e| ApiError::from(e).extend())
}

/// The scope's name and its communities on `day`, with the organisation.
pub(super) async fn communities_of(
    ctx: &Context<'_>,
    scope: OrgScope,
    day: NaiveDate,
) -> Res<(Org, String, Vec<Unit>)> {
    let org = read_org(ctx).await?;
    let (uuid, kind) = match scope {
        OrgScope::Street(s) => (s.0, UnitKind::Street),
        OrgScope::District(d) => (d.0, UnitKind::District),
    };
    let name = match org.unit(uuid) {
        Some(u) if u.kind == kind => u.name.clone(),
        _ => return Err(not_found(format!("{scope:?}"))),
    };
    let communities = match scope {
        OrgScope::Street(s) => org.communities_of_street(s, day),
        OrgScope::District(d) => org.communities_of_district(d, day),
    }
    .into_iter()
    .cloned()
    .collect();
    Ok((org, name, communities))
}

#[derive(Default)]
pub struct StreetQuery;

#[Object]
impl StreetQuery {
    /// The streets, by name, with their district and communities today: every street
    /// for administrators, its own for a street office.
    async fn streets(&self, ctx: &Context<'_>, at_least: Option<u64>) -> Res<Vec<StreetInfo>> {
        let p = principal(ctx)?;
        if !matches!(p.role(), Role::Admin | Role::Street) {
            return Err(forbidden(
                "streets are for administrators and street offices",
            ));
        }
        wait(ctx, at_least).await?;
        let org = read_org(ctx).await?;
        let day = projections::balances::today();
        Ok(org
            .units(UnitKind::Street)
            .into_iter()
            .filter(|s| p.role() == Role::Admin || p.street() == Some(StreetId(s.id)))
            .map(|s| {
                let district = org.parent_on(s.id, day).and_then(|d| org.unit(d));
                StreetInfo {
                    street_id: id(s.id),
                    name: s.name.clone(),
                    district_id: district.map(|d| id(d.id)),
                    district_name: district.map(|d| d.name.clone()),
                    communities: listed(&org.communities_of_street(StreetId(s.id), day)),
                }
            })
            .collect())
    }

    /// The districts, by name, with their streets today (administrators).
    async fn districts(&self, ctx: &Context<'_>, at_least: Option<u64>) -> Res<Vec<DistrictInfo>> {
        if principal(ctx)?.role() != Role::Admin {
            return Err(forbidden("districts are for administrators"));
        }
        wait(ctx, at_least).await?;
        let org = read_org(ctx).await?;
        let day = projections::balances::today();
        Ok(org
            .units(UnitKind::District)
            .into_iter()
            .map(|d| DistrictInfo {
                district_id: id(d.id),
                name: d.name.clone(),
                streets: listed(&org.streets_of_district(DistrictId(d.id), day)),
            })
            .collect())
    }

    /// One ranking of the volunteers of every community of a street or district
    /// (scope STREET:<id> or DISTRICT:<id>) by points or hours for a period (ALL, YYYY,
    /// YYYY-Qn, YYYY-MM): the communities it had on the period's last day (today for
    /// the period in progress), each entry counted where it was made.
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    async fn org_ranking(
        &self,
        ctx: &Context<'_>,
        scope: String,
        metric: RankMetric,
        #[graphql(default_with = "String::from(\"ALL\")")] period: String,
        first: Option<i32>,
        at_least: Option<u64>,
    ) -> Res<OrgRanking> {
        let p = principal(ctx)?;
        let org_scope = parse_org_scope(&scope)?;
        may_read(p, org_scope)?;
        let window = super::parse_period(&period)?;
        let n = page_size(first)?;
        wait(ctx, at_least).await?;
        let as_of = Org::day_of(window, projections::balances::today());
        let (org, name, communities) = communities_of(ctx, org_scope, as_of).await?;
        let reads = &app(ctx).reads;
        let position = reads.position().await.map_err(|e| e.extend())?;
        let scopes: Vec<Scope> = communities
            .iter()
            .map(|c| Scope::Community(CommunityId(c.id)))
            .collect();
        let db = reads.db().await.map_err(|e| e.extend())?;
        let ranking = projections::rankings::ranking_across(
            db,
            &scopes,
            window,
            metric.into(),
            n as u32,
            None,
        )
        .await
        .map_err(|e| ApiError::from(e).extend())?;
        let ids: Vec<VolunteerId> = ranking.top.iter().map(|e| e.volunteer_id).collect();
        let of = projections::balances::communities_of(db, &ids)
            .await
            .map_err(|e| ApiError::from(e).extend())?;
        let rows = ranking
            .top
            .iter()
            .map(|e| {
                let c = of.get(&e.volunteer_id);
                OrgRankRow {
                    row: RankRow::new(e, Visibility::Masked),
                    community_id: c.map(|c| id(c.0)),
                    community_name: c.and_then(|c| org.unit(c.0)).map(|u| u.name.clone()),
                }
            })
            .collect();
        Ok(OrgRanking {
            scope,
            name,
            metric,
            period,
            as_of,
            communities: listed(&communities.iter().collect::<Vec<_>>()),
            rows,
            position,
        })
    }

    /// A street's or district's table (scope STREET:<id> or DISTRICT:<id>) for a period:
    /// a line per community it had on the period's last day, and the total.
    async fn org_table(
        &self,
        ctx: &Context<'_>,
        scope: String,
        #[graphql(default_with = "String::from(\"ALL\")")] period: String,
        at_least: Option<u64>,
    ) -> Res<OrgTable> {
        let p = principal(ctx)?;
        let org_scope = parse_org_scope(&scope)?;
        may_read(p, org_scope)?;
        let window = super::parse_period(&period)?;
        wait(ctx, at_least).await?;
        let day = projections::balances::today();
        let as_of = Org::day_of(window, day);
        let (_, name, communities) = communities_of(ctx, org_scope, as_of).await?;
        let reads = &app(ctx).reads;
        let position = reads.position().await.map_err(|e| e.extend())?;
        let db = reads.db().await.map_err(|e| e.extend())?;
        let mut lines = Vec::with_capacity(communities.len());
        let mut total = OrgTableLine {
            community_id: ID(String::new()),
            name: "合计".into(),
            volunteers: 0,
            active_volunteers: 0,
            hours: hours_of(0.into()),
            points: points_of(0.into()),
            services: 0,
            activities: 0,
            stars: Vec::new(),
        };
        let (mut hours, mut points) = (rust_decimal::Decimal::ZERO, rust_decimal::Decimal::ZERO);
        let ids: Vec<CommunityId> = communities.iter().map(|c| CommunityId(c.id)).collect();
        let figures = projections::dashboard::communities_figures(db, &ids, window, day)
            .await
            .map_err(|e| ApiError::from(e).extend())?;
        for (c, f) in communities.into_iter().zip(figures) {
            total.volunteers += f.volunteers;
            total.active_volunteers += f.active_volunteers;
            total.services += f.services;
            total.activities += f.activities;
            hours += f.hours;
            points += f.points;
            if total.stars.len() < f.stars.len() {
                total.stars.resize(f.stars.len(), 0);
            }
            for (i, n) in f.stars.iter().enumerate() {
                total.stars[i] += n;
            }
            lines.push(OrgTableLine {
                community_id: id(c.id),
                name: c.name,
                volunteers: f.volunteers,
                active_volunteers: f.active_volunteers,
                hours: hours_of(f.hours),
                points: points_of(f.points),
                services: f.services,
                activities: f.activities,
                stars: f.stars,
            });
        }
        total.hours = hours_of(hours);
        total.points = points_of(points);
        Ok(OrgTable {
            scope,
            name,
            period,
            as_of,
            lines,
            total,
            position,
        })
    }
}
