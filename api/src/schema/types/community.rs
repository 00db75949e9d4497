//! A community as its staff set it up: grids (网格), stairwells (楼道) with their open
//! issues, teams (服务队), and the rules in force today with every version (积分规则,
//! 星级标准, 文明楼道评分细则, 活动规则). Read from the community's own stream (the
//! ledger's aggregate, cached per community by the read side).

use super::ServiceKind;
use crate::scalars::{DecimalScalar, HoursScalar, PointsScalar};
use crate::schema::args::id;
use async_graphql::{ComplexObject, Context, SimpleObject, ID};
use chrono::NaiveDate;
use ledger::domain::community::{ActivityRules as LActivityRules, PointRules as LPointRules};
use ledger::domain::{Aggregate, CommunityState, StairwellState};
use ledger::event::Event;
use ledger::ids::{stairwell_stream, StairwellId};
use std::sync::Arc;

/// A grid (网格), or a micro-grid (微网格) under `parentId`.
#[derive(SimpleObject, Clone)]
pub struct Grid {
    pub id: ID,
    pub name: String,
    pub parent_id: Option<ID>,
}

/// A stairwell (楼道): building (楼栋) and unit (单元).
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "CommunityStairwell")]
pub struct Stairwell {
    pub id: ID,
    pub grid_id: ID,
    pub building: String,
    pub unit: String,
    pub households: i32,
    #[graphql(skip)]
    pub stairwell: StairwellId,
}

/// An issue reported in a stairwell and not yet resolved (deducted from the score while open).
#[derive(SimpleObject, Clone)]
pub struct StairwellIssue {
    pub id: ID,
    pub description: String,
    /// Points it takes off the stairwell's score while open.
    pub deduction: DecimalScalar,
}

#[ComplexObject]
impl Stairwell {
    /// Issues reported and not yet resolved (read from the stairwell's stream).
    async fn open_issues(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StairwellIssue>> {
        let store = &crate::schema::app(ctx).store;
        let recorded = store
            .read_stream(&stairwell_stream(self.stairwell), 0)
            .await
            .map_err(|e| crate::errors::gql_error("INTERNAL", e.to_string()))?;
        let mut state = StairwellState::default();
        let mut text = std::collections::HashMap::new();
        for r in &recorded {
            let e = Event::decode(r)
                .map_err(|e| crate::errors::gql_error("INTERNAL", e.to_string()))?;
            if let Event::StairwellIssueReported {
                issue_id,
                description,
                ..
            } = &e
            {
                text.insert(*issue_id, description.clone());
            }
            state.evolve(&e);
        }
        Ok(state
            .issues
            .iter()
            .filter(|(_, i)| !i.resolved)
            .map(|(k, i)| StairwellIssue {
                id: id(k.0),
                description: text.get(k).cloned().unwrap_or_default(),
                deduction: DecimalScalar(i.deduction),
            })
            .collect())
    }
}

/// How many issues are open in a stairwell.
#[derive(SimpleObject, Clone)]
pub struct IssueCount {
    pub stairwell_id: ID,
    pub open: u64,
}

/// How many wishes are in a status.
#[derive(SimpleObject, Clone)]
pub struct WishCount {
    pub status: super::WishStatus,
    pub count: u64,
}

/// A team (志愿服务队).
#[derive(SimpleObject, Clone)]
pub struct Team {
    pub id: ID,
    pub name: String,
}

/// A kind's coefficient in point rules.
#[derive(SimpleObject, Clone)]
pub struct Coefficient {
    pub kind: ServiceKind,
    pub value: DecimalScalar,
}

/// A version of the point rules (积分规则); version 0 is the built-in default.
#[derive(SimpleObject, Clone)]
pub struct PointRules {
    pub version: i32,
    pub points_per_hour: PointsScalar,
    pub coefficients: Vec<Coefficient>,
    pub max_hours_per_record: HoursScalar,
    pub effective_from: NaiveDate,
}

impl From<&LPointRules> for PointRules {
    fn from(r: &LPointRules) -> Self {
        PointRules {
            version: r.version as i32,
            points_per_hour: PointsScalar(r.points_per_hour),
            coefficients: r
                .coefficients
                .iter()
                .map(|(k, v)| Coefficient {
                    kind: (*k).into(),
                    value: DecimalScalar(*v),
                })
                .collect(),
            max_hours_per_record: HoursScalar(r.max_hours_per_record),
            effective_from: r.effective_from,
        }
    }
}

/// A version of the star thresholds (星级标准), in verified hours, and in points earned
/// when the version asks for points too.
#[derive(SimpleObject, Clone)]
pub struct StarThresholdsVersion {
    pub version: i32,
    pub thresholds: Vec<HoursScalar>,
    pub effective_from: NaiveDate,
    /// Points earned each star also takes; null when hours alone count.
    pub points: Option<Vec<crate::scalars::PointsScalar>>,
}

/// An item of the stairwell rubric.
#[derive(SimpleObject, Clone)]
pub struct RubricItemRule {
    pub key: String,
    pub name: String,
    pub max: DecimalScalar,
}

/// A version of the 文明楼道 rubric (评分细则).
#[derive(SimpleObject, Clone)]
pub struct RubricVersion {
    pub version: i32,
    pub items: Vec<RubricItemRule>,
    /// Most points residents' participation (居民参与) adds.
    pub participation_max: DecimalScalar,
    pub effective_from: NaiveDate,
}

/// A version of the activity rules (活动规则).
#[derive(SimpleObject, Clone)]
pub struct ActivityRulesVersion {
    pub version: i32,
    pub time_unit_minutes: i32,
    pub late_record_days: i32,
    pub notice_days: i32,
    pub checkin_opens_minutes: i32,
    pub code_period_seconds: i32,
    pub effective_from: NaiveDate,
}

impl From<&LActivityRules> for ActivityRulesVersion {
    fn from(r: &LActivityRules) -> Self {
        ActivityRulesVersion {
            version: r.version as i32,
            time_unit_minutes: r.time_unit_minutes as i32,
            late_record_days: r.late_record_days as i32,
            notice_days: r.notice_days as i32,
            checkin_opens_minutes: r.checkin_opens_minutes as i32,
            code_period_seconds: r.code_period_seconds as i32,
            effective_from: r.effective_from,
        }
    }
}

/// A community (社区): its organisation and its rules.
#[derive(Clone)]
pub struct Community {
    pub state: Arc<CommunityState>,
    /// The day (UTC+8) the rules "in force" are those of.
    pub today: NaiveDate,
}

impl Community {
    /// The stairwells in the order people read them (2栋 before 10栋).
    fn stairwells_sorted(&self) -> Vec<Stairwell> {
        use ledger::domain::stairwell::natural_cmp;
        let mut list: Vec<Stairwell> = self
            .state
            .stairwells
            .iter()
            .map(|(s, v)| Stairwell {
                id: id(s.0),
                grid_id: id(v.grid_id.0),
                building: v.building.clone(),
                unit: v.unit.clone(),
                households: v.households as i32,
                stairwell: *s,
            })
            .collect();
        list.sort_by(|a, b| {
            natural_cmp(&a.building, &b.building).then_with(|| natural_cmp(&a.unit, &b.unit))
        });
        list
    }
}

#[async_graphql::Object]
impl Community {
    async fn id(&self) -> ID {
        self.state.community_id.map(|c| id(c.0)).unwrap_or_default()
    }

    async fn name(&self) -> &str {
        &self.state.name
    }

    async fn grids(&self) -> Vec<Grid> {
        self.state
            .grids
            .iter()
            .map(|(g, v)| Grid {
                id: id(g.0),
                name: v.name.clone(),
                parent_id: v.parent.map(|p| id(p.0)),
            })
            .collect()
    }

    /// One stairwell of the community, or null.
    async fn stairwell(&self, id: ID) -> Option<Stairwell> {
        let want = uuid::Uuid::parse_str(id.as_str()).ok()?;
        self.stairwells_sorted()
            .into_iter()
            .find(|s| s.stairwell.0 == want)
    }

    /// Stairwells in the order people read them (2栋 before 10栋).
    async fn stairwells(&self) -> Vec<Stairwell> {
        self.stairwells_sorted()
    }

    /// How many issues are open in each stairwell that has any (from the 文明楼道 read
    /// model: one query for the whole community, where `openIssues` reads each stairwell).
    async fn open_issue_counts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<IssueCount>> {
        let Some(c) = self.state.community_id else {
            return Ok(Vec::new());
        };
        let counts = crate::schema::app(ctx)
            .reads
            .open_issue_counts(c)
            .await
            .map_err(|e| async_graphql::ErrorExtensions::extend(&e))?;
        Ok(counts
            .into_iter()
            .map(|(s, n)| IssueCount {
                stairwell_id: id(s.0),
                open: n,
            })
            .collect())
    }

    /// The stairwells inspected in `month` ("YYYY-MM"), from the 文明楼道 read model (the
    /// ones not listed are still due).
    async fn inspected_stairwells(
        &self,
        ctx: &Context<'_>,
        month: String,
    ) -> async_graphql::Result<Vec<ID>> {
        let Some(c) = self.state.community_id else {
            return Ok(Vec::new());
        };
        let ids = crate::schema::app(ctx)
            .reads
            .inspected_in(c, &month)
            .await
            .map_err(|e| async_graphql::ErrorExtensions::extend(&e))?;
        Ok(ids.into_iter().map(|s| id(s.0)).collect())
    }

    /// How many wishes the community has in each status (statuses with none left out).
    async fn wish_counts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WishCount>> {
        let Some(c) = self.state.community_id else {
            return Ok(Vec::new());
        };
        let counts = crate::schema::app(ctx)
            .reads
            .wish_counts(c)
            .await
            .map_err(|e| async_graphql::ErrorExtensions::extend(&e))?;
        Ok(counts
            .into_iter()
            .filter_map(|(s, n)| {
                Some(WishCount {
                    status: super::WishStatus::parse(&s)?,
                    count: n,
                })
            })
            .collect())
    }

    async fn teams(&self) -> Vec<Team> {
        self.state
            .teams
            .iter()
            .map(|(t, name)| Team {
                id: id(t.0),
                name: name.clone(),
            })
            .collect()
    }

    /// The point rules in force today.
    async fn point_rules(&self) -> PointRules {
        (&self.state.point_rules_on(self.today)).into()
    }

    /// Every version of the point rules the community set, in version order.
    async fn point_rule_versions(&self) -> Vec<PointRules> {
        self.state.point_rules.iter().map(Into::into).collect()
    }

    /// The star thresholds in force today.
    async fn star_thresholds(&self) -> StarThresholdsVersion {
        let t = self.state.star_thresholds_on(self.today);
        StarThresholdsVersion {
            version: t.version as i32,
            thresholds: t.thresholds.iter().map(|h| HoursScalar(*h)).collect(),
            effective_from: t.effective_from,
            points: t
                .points
                .map(|p| p.into_iter().map(crate::scalars::PointsScalar).collect()),
        }
    }

    /// The 文明楼道 rubric in force today.
    async fn rubric(&self) -> RubricVersion {
        let r = self.state.rubric_on(self.today);
        RubricVersion {
            version: r.version as i32,
            items: r
                .items
                .iter()
                .map(|i| RubricItemRule {
                    key: i.key.clone(),
                    name: i.name.clone(),
                    max: DecimalScalar(i.max),
                })
                .collect(),
            participation_max: DecimalScalar(r.participation_max),
            effective_from: r.effective_from,
        }
    }

    /// The activity rules in force today.
    async fn activity_rules(&self) -> ActivityRulesVersion {
        (&self.state.activity_rules_on(self.today)).into()
    }

    /// The points expiry (积分有效期) in force today.
    async fn points_expiry(&self) -> PointsExpiryVersion {
        let r = self.state.points_expiry_on(self.today);
        PointsExpiryVersion {
            version: r.version as i32,
            valid_months: r.valid_months as i32,
            rounding: r.rounding.into(),
            effective_from: r.effective_from,
        }
    }

    /// The hours rules (时间银行规则) in force today.
    async fn hours_rules(&self) -> HoursRulesVersion {
        let r = self.state.hours_rules_on(self.today);
        HoursRulesVersion {
            version: r.version as i32,
            gifts_to_relatives_only: r.gifts_to_relatives_only,
            effective_from: r.effective_from,
            stored_hours_cap: r.stored_hours_cap.map(HoursScalar),
        }
    }

    /// The transfer rules (转移接续规则) in force today.
    async fn transfer_rules(&self) -> TransferRulesVersion {
        let r = self.state.transfer_rules_on(self.today);
        TransferRulesVersion {
            version: r.version as i32,
            points_follow: r.points_follow,
            effective_from: r.effective_from,
        }
    }
}

/// A version of the transfer rules (转移接续规则); version 0: points follow.
#[derive(SimpleObject)]
pub struct TransferRulesVersion {
    pub version: i32,
    /// A volunteer moving to another community takes their points balance along
    /// (else it stays here). Hours and stars always follow.
    pub points_follow: bool,
    pub effective_from: NaiveDate,
}

/// A version of the points expiry (积分有效期); version 0: points do not expire.
#[derive(SimpleObject)]
pub struct PointsExpiryVersion {
    pub version: i32,
    /// Months points stay valid after their credit; 0: they do not expire.
    pub valid_months: i32,
    pub rounding: super::ExpiryRounding,
    pub effective_from: NaiveDate,
}

/// A version of the hours rules (时间银行规则); version 0 is the built-in default.
#[derive(SimpleObject)]
pub struct HoursRulesVersion {
    pub version: i32,
    /// Banked hours may be gifted only to a linked relative (家属).
    pub gifts_to_relatives_only: bool,
    pub effective_from: NaiveDate,
    /// The most hours an account banks (存储上限); null: no cap.
    pub stored_hours_cap: Option<HoursScalar>,
}
