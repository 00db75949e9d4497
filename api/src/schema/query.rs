//! Queries. Every read accepts `atLeast: position` (read-your-writes): it waits,
//! bounded, until the read side reflects that log position, or fails with STALE_READ.
//!
//! Who reads what: admin everything; staff everything of their community; volunteers
//! their own account and the boards (rankings, wishes) of their community; displays
//! only the boards, with names shortened.
// The resolvers' arguments are the operation's GraphQL arguments.
#![allow(clippy::too_many_arguments)]

use super::mutation::parse_id;
use super::types::*;
use super::{app, principal, DEFAULT_PAGE, MAX_PAGE};
use crate::auth::Principal;
use crate::errors::{gql_error, ApiError};
use crate::reads::Window;
use crate::scalars::{HoursScalar, PointsScalar};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ErrorExtensions, Object, ID};
use chrono::NaiveDate;
use ledger::command::Role;
use ledger::ids::*;

type Res<T> = async_graphql::Result<T>;

/// Page size: default 20, at most [`MAX_PAGE`].
pub fn page_size(first: Option<i32>) -> Res<usize> {
    let n = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&n) {
        return Err(gql_error(
            "INVALID_INPUT",
            format!("first must be between 0 and {MAX_PAGE}, got {n}"),
        ));
    }
    Ok(n as usize)
}

fn offset_cursor(after: Option<&str>) -> Res<usize> {
    match after {
        None => Ok(0),
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| gql_error("INVALID_INPUT", "after: not a cursor from this API")),
    }
}

async fn wait(ctx: &Context<'_>, at_least: Option<u64>) -> Res<()> {
    if let Some(p) = at_least {
        app(ctx).reads.wait_for(p).await.map_err(|e| e.extend())?;
    }
    Ok(())
}

fn forbidden(msg: &str) -> async_graphql::Error {
    ApiError::forbidden(msg.to_string()).extend()
}

fn not_found(what: String) -> async_graphql::Error {
    ApiError::NotFound(what).extend()
}

/// May `p` read the account of volunteer `v` of `community`?
fn may_read_account(p: &Principal, v: VolunteerId, community: Option<CommunityId>) -> bool {
    match p.role() {
        Role::Admin => true,
        Role::Staff => community.is_some() && p.community() == community,
        Role::Volunteer => p.actor.volunteer_id == Some(v),
        Role::Display => false,
    }
}

fn board_access(p: &Principal, community: CommunityId) -> Res<()> {
    if p.reads_boards_of(community) {
        Ok(())
    } else {
        Err(forbidden("this token cannot read that community"))
    }
}

/// "ALL", "2024", "2024-Q1" or "2024-03".
pub fn parse_period(s: &str) -> Res<Window> {
    let bad = || {
        gql_error(
            "INVALID_INPUT",
            format!("period {s:?}: use ALL, YYYY, YYYY-Qn or YYYY-MM"),
        )
    };
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") || s.is_empty() {
        return Ok(Window::All);
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
        None => Ok(Window::Year(year)),
        Some(r) if r.starts_with(['Q', 'q']) => {
            let q: u32 = r[1..].parse().map_err(|_| bad())?;
            if (1..=4).contains(&q) {
                Ok(Window::Quarter(year, q))
            } else {
                Err(bad())
            }
        }
        Some(r) => {
            let m: u32 = r.parse().map_err(|_| bad())?;
            NaiveDate::from_ymd_opt(year, m, 1).ok_or_else(bad)?;
            Ok(Window::Month(year, m))
        }
    }
}

/// A ranking scope: COMMUNITY, GRID:<id>, TEAM:<id> or TAG:<tag>.
enum Scope {
    Community,
    Grid(GridId),
    Team(TeamId),
    Tag(String),
}

fn parse_scope(s: Option<&str>) -> Res<Scope> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(Scope::Community);
    };
    if s.eq_ignore_ascii_case("community") {
        return Ok(Scope::Community);
    }
    let bad = || {
        gql_error(
            "INVALID_INPUT",
            "scope: use COMMUNITY, GRID:<id>, TEAM:<id> or TAG:<tag>",
        )
    };
    let (kind, value) = s.split_once(':').ok_or_else(bad)?;
    match kind.to_ascii_uppercase().as_str() {
        "GRID" => Ok(Scope::Grid(GridId(parse_id(&ID(value.into()), "scope")?))),
        "TEAM" => Ok(Scope::Team(TeamId(parse_id(&ID(value.into()), "scope")?))),
        "TAG" => Ok(Scope::Tag(value.to_string())),
        _ => Err(bad()),
    }
}

/// Computes a whole ranking (every volunteer in scope), dense ranks with a stable
/// tie-break by volunteer number.
async fn ranking_rows(
    ctx: &Context<'_>,
    community: CommunityId,
    metric: RankMetric,
    window: Window,
    scope: &Scope,
) -> Res<Vec<(RankRow, VolunteerId)>> {
    let app = app(ctx);
    let p = principal(ctx)?;
    let mut rows = Vec::new();
    for v in app.reads.community_volunteers(community).await? {
        let Some(acc) = app.reads.account(v).await? else {
            continue;
        };
        let s = &acc.state;
        let in_scope = match scope {
            Scope::Community => true,
            Scope::Grid(g) => s.grid_id == Some(*g),
            Scope::Team(t) => s.teams.contains(t),
            Scope::Tag(tag) => s.tags.iter().any(|x| x == tag),
        };
        if !in_scope {
            continue;
        }
        let t = app.reads.totals(v, window).await?;
        rows.push((acc, t));
    }
    rows.sort_by(|(a, ta), (b, tb)| {
        let key = |t: &crate::reads::Totals| match metric {
            RankMetric::Points => (t.points.hundredths(), t.hours.minutes()),
            RankMetric::Hours => (t.hours.minutes(), t.points.hundredths()),
        };
        key(tb)
            .0
            .cmp(&key(ta).0)
            .then(a.state.volunteer_number.cmp(&b.state.volunteer_number))
            .then(a.id.cmp(&b.id))
    });
    let loader = ctx.data_unchecked::<DataLoader<PersonLoader>>();
    let people = loader
        .load_many(rows.iter().map(|(a, _)| a.id.0))
        .await
        .map_err(|e| async_graphql::Error::new(e.public_message()))?;
    let vis = if p.role() == Role::Display {
        Visibility::Public
    } else {
        Visibility::Masked
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut rank = 0;
    let mut last: Option<i64> = None;
    for (acc, t) in rows {
        let value = match metric {
            RankMetric::Points => t.points.hundredths(),
            RankMetric::Hours => t.hours.minutes(),
        };
        if last != Some(value) {
            rank += 1;
            last = Some(value);
        }
        let person = people.get(&acc.id.0).cloned();
        out.push((
            RankRow {
                rank,
                volunteer_id: ID(acc.id.0.to_string()),
                name: show_name(&person, vis),
                volunteer_number: acc.state.volunteer_number.clone(),
                points: PointsScalar(t.points),
                hours: HoursScalar(t.hours),
            },
            acc.id,
        ));
    }
    Ok(out)
}

pub struct Query;

#[Object]
impl Query {
    /// The caller: token, role, community and (for volunteers) their account.
    async fn me(&self, ctx: &Context<'_>, at_least: Option<u64>) -> Res<Me> {
        let p = principal(ctx)?.clone();
        wait(ctx, at_least).await?;
        Ok(Me { principal: p })
    }

    /// A volunteer: their own account for volunteers; any of their community for staff.
    async fn volunteer(&self, ctx: &Context<'_>, id: ID, at_least: Option<u64>) -> Res<Volunteer> {
        let p = principal(ctx)?;
        let vid = VolunteerId(parse_id(&id, "id")?);
        if p.role() == Role::Display {
            return Err(forbidden(
                "displays read only rankings, the red flag and the wish board",
            ));
        }
        if p.role() == Role::Volunteer && p.actor.volunteer_id != Some(vid) {
            return Err(forbidden("volunteers read only their own account"));
        }
        wait(ctx, at_least).await?;
        let acc = app(ctx)
            .reads
            .account(vid)
            .await?
            .ok_or_else(|| not_found(format!("volunteer {vid}")))?;
        if !may_read_account(p, vid, acc.state.community_id) {
            return Err(forbidden("that volunteer is not in your community"));
        }
        let vis = Visibility::for_caller(p, acc.state.community_id);
        Ok(Volunteer::new(acc, vis))
    }

    /// Volunteers of a community (staff and admin), optionally matching `search`
    /// (name or volunteer number).
    async fn volunteers(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        at_least: Option<u64>,
    ) -> Res<VolunteerPage> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.manages(community) {
            return Err(forbidden(
                "only staff of the community and administrators list volunteers",
            ));
        }
        let n = page_size(first)?;
        let start = offset_cursor(after.as_deref())?;
        if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(gql_error(
                "INVALID_INPUT",
                "search is longer than 100 characters",
            ));
        }
        wait(ctx, at_least).await?;
        let app = app(ctx);
        let ids = app.reads.community_volunteers(community).await?;
        let needle = search
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let people = if needle.is_some() {
            ctx.data_unchecked::<DataLoader<PersonLoader>>()
                .load_many(ids.iter().map(|v| v.0))
                .await
                .map_err(|e| async_graphql::Error::new(e.public_message()))?
        } else {
            Default::default()
        };
        let mut page = Vec::new();
        let mut index = 0usize;
        let mut has_next = false;
        for v in ids {
            let Some(acc) = app.reads.account(v).await? else {
                continue;
            };
            if let Some(n) = &needle {
                let name_hit = people
                    .get(&v.0)
                    .is_some_and(|p| p.name.contains(n.as_str()));
                if !name_hit && !acc.state.volunteer_number.contains(n.as_str()) {
                    continue;
                }
            }
            index += 1;
            if index <= start {
                continue;
            }
            if page.len() == n {
                has_next = true;
                break;
            }
            let vis = Visibility::for_caller(p, acc.state.community_id);
            page.push(Volunteer::new(acc, vis));
        }
        Ok(VolunteerPage {
            end_cursor: (!page.is_empty()).then(|| (start + page.len()).to_string()),
            volunteers: page,
            has_next_page: has_next,
        })
    }

    /// A volunteer's statement (账户明细): every entry with running balances, oldest
    /// first, paged by cursor.
    async fn statement(
        &self,
        ctx: &Context<'_>,
        volunteer_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        at_least: Option<u64>,
    ) -> Res<StatementPage> {
        let p = principal(ctx)?;
        let vid = match volunteer_id {
            Some(v) => VolunteerId(parse_id(&v, "volunteerId")?),
            None => p
                .actor
                .volunteer_id
                .ok_or_else(|| gql_error("INVALID_INPUT", "volunteerId is required"))?,
        };
        if p.role() == Role::Display
            || (p.role() == Role::Volunteer && p.actor.volunteer_id != Some(vid))
        {
            return Err(forbidden("volunteers read only their own statement"));
        }
        let n = page_size(first)?;
        let after_pos: u64 = match after {
            None => 0,
            Some(s) => s
                .parse()
                .map_err(|_| gql_error("INVALID_INPUT", "after: not a cursor from this API"))?,
        };
        wait(ctx, at_least).await?;
        let app = app(ctx);
        let community = crate::auth::volunteer_community(&app.store, vid.0)
            .await?
            .ok_or_else(|| not_found(format!("volunteer {vid}")))?;
        if !may_read_account(p, vid, Some(community)) {
            return Err(forbidden("that volunteer is not in your community"));
        }
        let lines = app.reads.statement(vid).await?;
        let mut rest = lines.into_iter().filter(|l| l.position > after_pos);
        let entries: Vec<StatementEntry> = rest.by_ref().take(n).map(Into::into).collect();
        let has_next = rest.next().is_some();
        Ok(StatementPage {
            end_cursor: entries.last().map(|e| e.cursor.clone()),
            entries,
            has_next_page: has_next,
        })
    }

    /// A ranking by points or hours for a period (ALL, YYYY, YYYY-Qn, YYYY-MM) and a
    /// scope (COMMUNITY, GRID:<id>, TEAM:<id>, TAG:<tag>): dense ranks, ties share a rank.
    #[allow(clippy::too_many_arguments)]
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
        let position = app(ctx).reads.position().await?;
        let rows = ranking_rows(ctx, community, metric, window, &scope).await?;
        Ok(Ranking {
            community_id,
            metric,
            period,
            rows: rows.into_iter().take(n).map(|(r, _)| r).collect(),
            position,
        })
    }

    /// The caller's own rank (volunteer tokens), or a volunteer's rank (staff, admin).
    #[allow(clippy::too_many_arguments)]
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
        let community = crate::auth::volunteer_community(&app(ctx).store, vid.0)
            .await?
            .ok_or_else(|| not_found(format!("volunteer {vid}")))?;
        if !may_read_account(p, vid, Some(community)) {
            return Err(forbidden("that volunteer is not in your community"));
        }
        let rows = ranking_rows(ctx, community, metric, window, &scope).await?;
        Ok(rows.into_iter().find(|(_, v)| *v == vid).map(|(r, _)| r))
    }

    /// The wish board (小心愿) of a community, optionally by status, oldest first.
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
        let start = offset_cursor(after.as_deref())?;
        wait(ctx, at_least).await?;
        let app = app(ctx);
        let mut page = Vec::new();
        let mut index = 0usize;
        let mut has_next = false;
        for w in app.reads.community_wishes(community).await? {
            let Some((state, events)) = app.reads.wish(w).await? else {
                continue;
            };
            let st = WishStatus::of(&state.status);
            if status.is_some_and(|s| s != st) {
                continue;
            }
            index += 1;
            if index <= start {
                continue;
            }
            if page.len() == n {
                has_next = true;
                break;
            }
            page.push(wish_view(w, community, &state, &events));
        }
        Ok(WishPage {
            end_cursor: (!page.is_empty()).then(|| (start + page.len()).to_string()),
            wishes: page,
            has_next_page: has_next,
        })
    }

    /// 文明楼道 scores of a community's inspected stairwells for a month ("YYYY-MM"),
    /// ranked (public: volunteers and displays of the community read them too).
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
        let reads = &app(ctx).reads;
        if let Some(pos) = at_least {
            reads.wait_projected(pos).await.map_err(|e| e.extend())?;
        }
        let db = reads.projections().map_err(|e| e.extend())?.db();
        let scores = projections::stairwells::monthly_scores(db, community, &month)
            .await
            .map_err(|e| ApiError::Projection(e.to_string()).extend())?;
        Ok(scores.into_iter().map(Into::into).collect())
    }

    /// The 流动红旗 (rotating red flag) holder of a month, if the month was inspected.
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
        let reads = &app(ctx).reads;
        if let Some(pos) = at_least {
            reads.wait_projected(pos).await.map_err(|e| e.extend())?;
        }
        let db = reads.projections().map_err(|e| e.extend())?.db();
        let scores = projections::stairwells::monthly_scores(db, community, &month)
            .await
            .map_err(|e| ApiError::Projection(e.to_string()).extend())?;
        Ok(scores.into_iter().find(|s| s.red_flag).map(Into::into))
    }

    /// A community's dashboard for this month and year (staff, admin).
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        at_least: Option<u64>,
    ) -> Res<Dashboard> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.manages(community) {
            return Err(forbidden(
                "the dashboard is for staff of the community and administrators",
            ));
        }
        let reads = &app(ctx).reads;
        if let Some(pos) = at_least {
            reads.wait_projected(pos).await.map_err(|e| e.extend())?;
        }
        let proj = reads.projections().map_err(|e| e.extend())?;
        let position = proj.min_position();
        let today = ledger::domain::local_date(chrono::Utc::now());
        let d = projections::dashboard::dashboard(proj.db(), community, today)
            .await
            .map_err(|e| ApiError::Projection(e.to_string()).extend())?;
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

    /// The event log after `after` (admin audit), at most `first` events.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] after: u64,
        first: Option<i32>,
        at_least: Option<u64>,
    ) -> Res<Vec<LedgerEvent>> {
        let p = principal(ctx)?;
        if p.role() != Role::Admin {
            return Err(forbidden("the audit log is for administrators"));
        }
        let n = page_size(first)?;
        wait(ctx, at_least).await?;
        let events = app(ctx).reads.events(after, n as u32).await?;
        Ok(events.iter().map(LedgerEvent::from).collect())
    }
}

fn check_month(month: &str) -> Res<()> {
    ledger::domain::stairwell::parse_month(month)
        .map(|_| ())
        .map_err(|e| gql_error("INVALID_INPUT", e.to_string()))
}

fn wish_view(
    id: WishId,
    community: CommunityId,
    state: &ledger::domain::WishState,
    events: &[(ledger::store::RecordedEvent, ledger::event::Event)],
) -> Wish {
    use ledger::event::Event as E;
    let mut w = Wish {
        id: ID(id.0.to_string()),
        community_id: ID(community.0.to_string()),
        stairwell_id: state.stairwell_id.map(|s| ID(s.0.to_string())),
        category: state.category.clone(),
        description: String::new(),
        resident_label: String::new(),
        status: WishStatus::of(&state.status),
        claimed_by: state.claimer().map(|v| ID(v.0.to_string())),
        posted_at: None,
        claimed_at: None,
        fulfilled_at: None,
        confirmed_at: None,
        position: events.last().map(|(r, _)| r.position).unwrap_or(0),
    };
    for (r, e) in events {
        match e {
            E::WishPosted {
                description,
                resident_label,
                ..
            } => {
                w.description = description.clone();
                w.resident_label = resident_label.clone();
                w.posted_at = Some(r.recorded_at);
            }
            E::WishClaimed { .. } => w.claimed_at = Some(r.recorded_at),
            E::WishReleased { .. } => {
                w.claimed_at = None;
                w.fulfilled_at = None;
            }
            E::WishFulfilled { fulfilled_at, .. } => w.fulfilled_at = Some(*fulfilled_at),
            E::WishConfirmed { .. } => w.confirmed_at = Some(r.recorded_at),
            _ => {}
        }
    }
    w
}
