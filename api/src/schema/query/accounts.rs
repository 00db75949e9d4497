//! Reads of accounts: the caller (`me`), a volunteer, the volunteers of a community
//! (paged, searchable by name or number), and a volunteer's statement.

use super::{bad_cursor, page_size, wait};
use crate::errors::gql_error;
use crate::schema::args::{community_of, forbidden, not_found, parse_id};
use crate::schema::types::*;
use crate::schema::{app, principal};
use async_graphql::{Context, Object, ID};
use ledger::command::Role;
use ledger::ids::*;
use uuid::Uuid;

type Res<T> = async_graphql::Result<T>;

/// Rows read per query when a search filters a community's volunteers.
const SEARCH_CHUNK: u32 = 500;

/// A volunteers cursor: the last volunteer number shown.
fn volunteer_cursor(after: Option<String>) -> Res<Option<String>> {
    match after {
        None => Ok(None),
        Some(s) if s.is_empty() || s.chars().count() > 100 => Err(bad_cursor()),
        Some(s) => Ok(Some(s)),
    }
}

/// The order of a list of volunteers.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum VolunteerOrder {
    /// By volunteer number (志愿者编号).
    Number,
    /// Points balance, highest first (ties by number).
    Points,
    /// Verified service hours, highest first (ties by number): the stars' order too.
    Hours,
}

impl VolunteerOrder {
    fn balance_order(self) -> Option<projections::balances::BalanceOrder> {
        use projections::balances::BalanceOrder;
        match self {
            VolunteerOrder::Number => None,
            VolunteerOrder::Points => Some(BalanceOrder::Points),
            VolunteerOrder::Hours => Some(BalanceOrder::VerifiedHours),
        }
    }
}

/// The offset of an ordered page's cursor (`@N`), 0 without one.
fn offset_cursor(after: Option<&str>) -> Res<u64> {
    match after {
        None => Ok(0),
        Some(a) => a
            .strip_prefix('@')
            .and_then(|n| n.parse().ok())
            .ok_or_else(bad_cursor),
    }
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The caller: token, role, community and (for volunteers) their account.
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
    async fn me(&self, ctx: &Context<'_>, at_least: Option<u64>) -> Res<Me> {
        let p = principal(ctx)?.clone();
        wait(ctx, at_least).await?;
        Ok(Me { principal: p })
    }

    /// A volunteer: their own account for volunteers; any of their community for staff.
    #[graphql(complexity = "crate::schema::read_cost(child_complexity)")]
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
        let account = app(ctx)
            .reads
            .balance(vid)
            .await?
            .ok_or_else(|| not_found(format!("volunteer {vid}")))?;
        if !p.reads_account_of(vid, account.community_id) {
            return Err(forbidden("that volunteer is not in your community"));
        }
        let vis = Visibility::for_caller(p, account.community_id);
        Ok(Volunteer::new(account, vis))
    }

    /// Volunteers of a community (staff and admin) in `orderBy` order (by volunteer
    /// number unless said), optionally matching `search` (name, volunteer number, or
    /// the last digits of the phone: at least 4), found in volunteer-number order.
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn volunteers(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        search: Option<String>,
        order_by: Option<VolunteerOrder>,
        first: Option<i32>,
        after: Option<String>,
        at_least: Option<u64>,
    ) -> Res<VolunteerPage> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.oversees(community) {
            return Err(forbidden(
                "only staff of the community and administrators list volunteers",
            ));
        }
        let n = page_size(first)?;
        let mut cursor = volunteer_cursor(after)?;
        if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(gql_error(
                "INVALID_INPUT",
                "search is longer than 100 characters",
            ));
        }
        wait(ctx, at_least).await?;
        let reads = &app(ctx).reads;
        let needle = search
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let mut found = Vec::with_capacity(n + 1);
        let order = order_by.unwrap_or(VolunteerOrder::Number).balance_order();
        let mut next_offset = None;
        match (needle, order) {
            // Ordered by points or hours: pages by offset (`@N`).
            (None, Some(order)) => {
                let offset = offset_cursor(cursor.as_deref())?;
                found = reads
                    .community_balances_by(community, order, offset, n as u32 + 1)
                    .await?;
                next_offset = Some(offset + n as u64);
            }
            // One query for the page (and one more row to know whether there is more).
            (None, None) => {
                found = reads
                    .community_balances(community, cursor.as_deref(), n as u32 + 1)
                    .await?;
            }
            // Scan the community in chunks, names batched per chunk.
            (Some(needle), _) => {
                let digits = needle.len() >= 4 && needle.chars().all(|c| c.is_ascii_digit());
                let people = ctx.data_unchecked::<People>();
                loop {
                    let chunk = reads
                        .community_balances(community, cursor.as_deref(), SEARCH_CHUNK)
                        .await?;
                    let Some(last) = chunk.last() else { break };
                    cursor = Some(last.volunteer_number.clone());
                    let complete = chunk.len() < SEARCH_CHUNK as usize;
                    let names = people
                        .load_many(chunk.iter().map(|b| b.volunteer_id.0))
                        .await
                        .map_err(|e| async_graphql::Error::new(e.public_message()))?;
                    for b in chunk {
                        let person = names.get(&b.volunteer_id.0).and_then(Option::as_ref);
                        let name_hit = person.is_some_and(|p| p.name.contains(needle.as_str()));
                        // The last digits of a phone, which its mask shows too.
                        let phone_hit = digits
                            && person
                                .and_then(|p| p.phone.as_deref())
                                .is_some_and(|ph| ph.ends_with(needle.as_str()));
                        if name_hit || phone_hit || b.volunteer_number.contains(needle.as_str()) {
                            found.push(b);
                            if found.len() > n {
                                break;
                            }
                        }
                    }
                    if found.len() > n || complete {
                        break;
                    }
                }
            }
        }
        let has_next = found.len() > n;
        found.truncate(n);
        // The page's personal data and profiles, one query each.
        let ids: Vec<Uuid> = found.iter().map(|b| b.volunteer_id.0).collect();
        prefetch(
            ctx,
            &ids,
            selects(ctx, &["volunteers"], &PERSON_FIELDS),
            selects(ctx, &["volunteers"], &PROFILE_FIELDS),
        )
        .await?;
        let vis = Visibility::for_caller(p, Some(community));
        Ok(VolunteerPage {
            end_cursor: match next_offset {
                Some(o) => has_next.then(|| format!("@{o}")),
                None => found.last().map(|b| b.volunteer_number.clone()),
            },
            volunteers: found.into_iter().map(|b| Volunteer::new(b, vis)).collect(),
            has_next_page: has_next,
        })
    }

    /// A volunteer's statement (账户明细): every entry with running balances, oldest
    /// first (or newest first with `newestFirst`), paged by cursor.
    #[graphql(complexity = "crate::schema::page_cost(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn statement(
        &self,
        ctx: &Context<'_>,
        volunteer_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] newest_first: bool,
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
        let after: Option<u64> = after
            .map(|s| s.parse().map_err(|_| bad_cursor()))
            .transpose()?;
        wait(ctx, at_least).await?;
        let community = community_of(ctx, vid).await?;
        if !p.reads_account_of(vid, Some(community)) {
            return Err(forbidden("that volunteer is not in your community"));
        }
        let page = app(ctx)
            .reads
            .statement(vid, after, n.max(1) as u32, newest_first)
            .await?;
        let (entries, has_next) = if n == 0 {
            (Vec::new(), !page.entries.is_empty())
        } else {
            (page.entries, page.next_cursor.is_some())
        };
        let entries: Vec<StatementEntry> = entries.into_iter().map(Into::into).collect();
        Ok(StatementPage {
            end_cursor: entries.last().map(|e| e.cursor.clone()),
            entries,
            has_next_page: has_next,
        })
    }
}
