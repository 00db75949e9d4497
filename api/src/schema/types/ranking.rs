//! Rankings (排行榜) by points or hours: the rows with their dense ranks, names as the
//! caller may see them.

use super::person::{person_fields, show_name, Visibility};
use super::{hours_of, points_of};
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::id;
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use uuid::Uuid;

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

impl From<projections::rankings::Metric> for RankMetric {
    fn from(m: projections::rankings::Metric) -> Self {
        match m {
            projections::rankings::Metric::Points => RankMetric::Points,
            projections::rankings::Metric::Hours => RankMetric::Hours,
        }
    }
}

impl From<RankMetric> for projections::rankings::Metric {
    fn from(m: RankMetric) -> Self {
        match m {
            RankMetric::Points => projections::rankings::Metric::Points,
            RankMetric::Hours => projections::rankings::Metric::Hours,
        }
    }
}
