//! Reads of the boards of a community: rankings (by period and scope, the caller's own
//! rank), the wish board, 文明楼道 scores and the red flag, and the dashboard; with the
//! parsing of periods and scopes, and who may read a board.
// The resolvers' arguments are the operation's GraphQL arguments.
#![allow(clippy::too_many_arguments)]

use super::{bad_cursor, page_size, wait};
use crate::auth::Principal;
use crate::errors::{gql_error, ApiError};
use crate::schema::args::{board_access, community_of, forbidden, not_found, parse_id};
use crate::schema::types::*;
use crate::schema::{app, principal};
use async_graphql::{Context, ErrorExtensions, Object, ID};
use chrono::{DateTime, NaiveDate, Utc};
use ledger::command::Role;
use ledger::ids::*;
use projections::common::Period;
use projections::rankings::Scope;
use uuid::Uuid;

type Res<T> = async_graphql::Result<T>;

/// Most wishes read per query (the read model's cap).
const WISH_READ_CAP: usize = 500;

/// How names show on the boards: shortened on displays.
fn board_visibility(p: &Principal) -> Visibility {
    if p.role() == Role::Display {
        Visibility::Public
    } else {
        Visibility::Masked
    }
}

/// "ALL", "2024", "2024-Q1" or "2024-03".
pub fn parse_period(s: &str) -> Res<Period> {
    let bad = || {
        gql_error(
            "INVALID_INPUT",
            format!("period {s:?}: use ALL, YYYY, YYYY-Qn or YYYY-MM"),
        )
    };
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") || s.is_empty() {
        return Ok(Period::AllTime);
    }
    let (y, rest) = match s.split_once('-') {
        Some((y, r)) => (y, Some(r)),
        None => (s, None),
    };
    let year: i32 = y.parse().map_err(|_| bad())?;
    if !(2000..=2200).contains(&year) {
        return Err(bad());
    }
    match rest {
        None => Ok(Period::Year(year)),
        Some(r) if r.starts_with(['Q', 'q']) => {
            let q: u32 = r[1..].parse().map_err(|_| bad())?;
            if (1..=4).contains(&q) {
                Ok(Period::Quarter(year, q))
            } else {
                Err(bad())
            }
        }
        Some(r) => {
            let m: u32 = r.parse().map_err(|_| bad())?;
            NaiveDate::from_ymd_opt(year, m, 1).ok_or_else(bad)?;
            Ok(Period::Month(year, m))
        }
    }
}

/// A ranking scope as given: COMMUNITY, GRID:<id>, TEAM:<id> or TAG:<tag>.
enum ScopeArg {
    Community,
    Grid(GridId),
    Team(TeamId),
    Tag(String),
}

fn parse_scope(s: Option<&str>) -> Res<ScopeArg> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(ScopeArg::Community);
    };
    if s.eq_ignore_ascii_case("community") {
        return Ok(ScopeArg::Community);
    }
    let bad = || {
        gql_error(
            "INVALID_INPUT",
            "scope: use COMMUNITY, GRID:<id>, TEAM:<id> or TAG:<tag>",
        )
    };
    let (kind, value) = s.split_once(':').ok_or_else(bad)?;
    match kind.to_ascii_uppercase().as_str() {
        "GRID" => Ok(ScopeArg::Grid(GridId(parse_id(
            &ID(value.into()),
            "scope",
        )?))),
        "TEAM" => Ok(ScopeArg::Team(TeamId(parse_id(
            &ID(value.into()),
            "scope",
        )?))),
        "TAG" if !value.trim().is_empty() && value.chars().count() <= 50 => {
            Ok(ScopeArg::Tag(value.trim().to_string()))
        }
        _ => Err(bad()),
    }
}

/// The read model's scope, after checking that a grid or team is the community's own
/// (a caller reads only the boards of their community).
async fn resolve_scope(ctx: &Context<'_>, community: CommunityId, scope: ScopeArg) -> Res<Scope> {
    let check = |found: bool, what: String| {
        if found {
            Ok(())
        } else {
            Err(not_found(format!("{what} in community {community}")))
        }
    };
    Ok(match scope {
        ScopeArg::Community => Scope::Community(community),
        ScopeArg::Tag(t) => Scope::Tag(community, t),
        ScopeArg::Grid(g) => {
            let c = app(ctx).reads.community(community).await?;
            check(
                c.is_some_and(|c| c.grids.contains_key(&g)),
                format!("grid {g}"),
            )?;
            Scope::Grid(g)
        }
        ScopeArg::Team(t) => {
            let c = app(ctx).reads.community(community).await?;
            check(
                c.is_some_and(|c| c.teams.contains_key(&t)),
                format!("team {t}"),
            )?;
            Scope::Team(t)
        }
    })
}

/// A wish board cursor: "<posted_at millis>:<wish id>" of the last wish shown.
fn wish_cursor(after: Option<&str>) -> Res<Option<(DateTime<Utc>, Uuid)>> {
    let Some(s) = after else { return Ok(None) };
    let (ms, id) = s.split_once(':').ok_or_else(bad_cursor)?;
    let ms: i64 = ms.parse().map_err(|_| bad_cursor())?;
    let at = DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(bad_cursor)?;
    let id = Uuid::parse_str(id).map_err(|_| bad_cursor())?;
    Ok(Some((at, id)))
}

#[derive(Default)]
pub struct BoardQuery;

#[Object]
impl BoardQuery {
    /// A ranking by points or hours for a period (ALL, YYYY, YYYY-Qn, YYYY-MM) and a
    /// scope (COMMUNITY, GRID:<id>, TEAM:<id>, TAG:<tag>): dense ranks, ties share a
    /// rank. Each entry counts in the grid, teams and tags its volunteer had when it
    /// happened.
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    async fn ranking(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        metric: RankMetric,
        #[graphql(default_with = "String::from(\"ALL\")")] period: String,
        scope: Option<String>,
        first: Option<i32>,
        at_least: Option<u64>,
    ) -> Res<Ranking> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        board_access(p, community)?;
        let window = parse_period(&period)?;
        let scope = parse_scope(scope.as_deref())?;
        let n = page_size(first)?;
        wait(ctx, at_least).await?;
        let scope = resolve_scope(ctx, community, scope).await?;
        let reads = &app(ctx).reads;
        let position = reads.position().await?;
        let ranking = reads
            .ranking(&scope, window, metric.into(), n as u32, None)
            .await?;
        let ids: Vec<Uuid> = ranking.top.iter().map(|e| e.volunteer_id.0).collect();
        prefetch(ctx, &ids, selects(ctx, &["rows"], &["name"]), false).await?;
        let vis = board_visibility(p);
        Ok(Ranking {
            community_id,
            metric,
            period,
            rows: ranking.top.iter().map(|e| RankRow::new(e, vis)).collect(),
            position,
        })
    }

    /// The caller's own rank (volunteer tokens), or a volunteer's rank (staff, admin);
    /// null while the volunteer has nothing to rank by in that period and scope.
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn my_rank(
        &self,
        ctx: &Context<'_>,
        metric: RankMetric,
        #[graphql(default_with = "String::from(\"ALL\")")] period: String,
        scope: Option<String>,
        volunteer_id: Option<ID>,
        at_least: Option<u64>,
    ) -> Res<Option<RankRow>> {
        let p = principal(ctx)?;
        let vid = match (&volunteer_id, p.actor.volunteer_id) {
            (Some(v), _) => VolunteerId(parse_id(v, "volunteerId")?),
            (None, Some(own)) => own,
            (None, None) => return Err(gql_error("INVALID_INPUT", "volunteerId is required")),
        };
        if p.role() == Role::Display
            || (p.role() == Role::Volunteer && p.actor.volunteer_id != Some(vid))
        {
            return Err(forbidden("volunteers read only their own rank"));
        }
        let window = parse_period(&period)?;
        let scope = parse_scope(scope.as_deref())?;
        wait(ctx, at_least).await?;
        let community = community_of(ctx, vid).await?;
        if !p.reads_account_of(vid, Some(community)) {
            return Err(forbidden("that volunteer is not in your community"));
        }
        let scope = resolve_scope(ctx, community, scope).await?;
        let ranking = app(ctx)
            .reads
            .ranking(&scope, window, metric.into(), 0, Some(vid))
            .await?;
        Ok(ranking.me.map(|e| RankRow::new(&e, board_visibility(p))))
    }

    /// The wish board (小心愿) of a community, optionally by status, newest first.
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    async fn wishes(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        status: Option<WishStatus>,
        first: Option<i32>,
        after: Option<String>,
        at_least: Option<u64>,
    ) -> Res<WishPage> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        board_access(p, community)?;
        let n = page_size(first)?;
        let cursor = wish_cursor(after.as_deref())?;
        wait(ctx, at_least).await?;
        let reads = &app(ctx).reads;
        let status = status.map(WishStatus::as_str);
        // Newest first by (posted at, id); the read model pages by time alone, so the
        // cursor's own millisecond is read again and what was shown is skipped.
        let before_cursor = |w: &projections::wishes::Wish| match cursor {
            None => true,
            Some(c) => (w.posted_at, w.wish_id.0) < c,
        };
        let mut limit = (n + 1 + if cursor.is_some() { 8 } else { 0 }).min(WISH_READ_CAP);
        let mut page = loop {
            let got = reads
                .wishes(community, status, cursor.map(|c| c.0), limit as u32)
                .await?;
            let exhausted = got.len() < limit || limit >= WISH_READ_CAP;
            let mut page: Vec<_> = got.into_iter().filter(before_cursor).collect();
            if page.len() > n || exhausted {
                page.sort_by_key(|w| std::cmp::Reverse((w.posted_at, w.wish_id.0)));
                break page;
            }
            limit = (limit * 2).min(WISH_READ_CAP);
        };
        let has_next = page.len() > n;
        page.truncate(n);
        let claimers: Vec<Uuid> = page.iter().filter_map(|w| w.claimer.map(|v| v.0)).collect();
        prefetch(
            ctx,
            &claimers,
            selects(ctx, &["wishes"], &["claimerName"]),
            false,
        )
        .await?;
        let vis = board_visibility(p);
        Ok(WishPage {
            end_cursor: page
                .last()
                .map(|w| format!("{}:{}", w.posted_at.timestamp_millis(), w.wish_id.0)),
            wishes: page.into_iter().map(|w| Wish::new(w, vis)).collect(),
            has_next_page: has_next,
        })
    }

    /// 文明楼道 scores of a community's inspected stairwells for a month ("YYYY-MM"),
    /// ranked (public: volunteers and displays of the community read them too).
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    async fn stairwell_scores(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        month: String,
        at_least: Option<u64>,
    ) -> Res<Vec<StairwellScore>> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        board_access(p, community)?;
        check_month(&month)?;
        wait(ctx, at_least).await?;
        let scores = app(ctx)
            .reads
            .monthly_scores(community, &month)
            .await
            .map_err(|e| e.extend())?;
        Ok(scores.into_iter().map(Into::into).collect())
    }

    /// The 流动红旗 (rotating red flag) holder of a month, if the month was inspected.
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn red_flag(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        month: String,
        at_least: Option<u64>,
    ) -> Res<Option<StairwellScore>> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        board_access(p, community)?;
        check_month(&month)?;
        wait(ctx, at_least).await?;
        let scores = app(ctx)
            .reads
            .monthly_scores(community, &month)
            .await
            .map_err(|e| e.extend())?;
        Ok(scores.into_iter().find(|s| s.red_flag).map(Into::into))
    }

    /// 文明楼道 averages of a community's stairwells over a quarter ("YYYY-Qn") or a
    /// year ("YYYY"): the mean of the months each was scored in, ranked, the first
    /// holding the period's red flag (public like the monthly scores).
    #[graphql(complexity = "crate::schema::list_cost(crate::schema::LIST_ROWS, child_complexity)")]
    async fn stairwell_averages(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        period: String,
        at_least: Option<u64>,
    ) -> Res<Vec<StairwellAverage>> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        board_access(p, community)?;
        let parsed = match parse_period(&period)? {
            pd @ (Period::Quarter(..) | Period::Year(_)) => pd,
            _ => {
                return Err(gql_error(
                    "INVALID_INPUT",
                    "period: a quarter (YYYY-Qn) or a year (YYYY)",
                ))
            }
        };
        wait(ctx, at_least).await?;
        let db = app(ctx).reads.db().await.map_err(|e| e.extend())?;
        let list = projections::stairwells::average_scores(db, community, parsed)
            .await
            .map_err(|e| crate::errors::ApiError::from(e).extend())?;
        let key = parsed.key();
        Ok(list
            .into_iter()
            .enumerate()
            .map(|(i, s)| StairwellAverage::new(s, &key, i == 0))
            .collect())
    }

    /// A community's dashboard for this month and year (staff, admin).
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        at_least: Option<u64>,
    ) -> Res<Dashboard> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.oversees(community) {
            return Err(forbidden(
                "the dashboard is for staff of the community and administrators",
            ));
        }
        wait(ctx, at_least).await?;
        let proj = app(ctx).reads.projections().await.map_err(|e| e.extend())?;
        let position = proj.min_position();
        let today = ledger::domain::local_date(chrono::Utc::now());
        let d = projections::dashboard::dashboard(proj.db(), community, today)
            .await
            .map_err(|e| ApiError::from(e).extend())?;
        Ok(Dashboard {
            community_id,
            active_volunteers: d.active_volunteers,
            open_wishes: d.open_wishes,
            wishes_in_progress: d.wishes_in_progress,
            month: d.month,
            this_month: d.this_month.into(),
            this_year: d.this_year.into(),
            red_flag: d.red_flag.map(Into::into),
            position,
        })
    }
}

fn check_month(month: &str) -> Res<()> {
    ledger::domain::stairwell::parse_month(month)
        .map(|_| ())
        .map_err(|e| gql_error("INVALID_INPUT", e.to_string()))
}
