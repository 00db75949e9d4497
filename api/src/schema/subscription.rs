//! Subscriptions over WebSocket (graphql-transport-ws): each follows the log from the
//! moment of subscribing, through [`ledger::Store::subscribe_all`].

use super::args::{board_access, parse_id};
use super::types::{Balance, LedgerEvent};
use super::{app, principal};
use crate::errors::ApiError;
use crate::scalars::{HoursScalar, PointsScalar};
use async_graphql::{Context, ErrorExtensions, SimpleObject, Subscription, ID};
use futures::{Stream, StreamExt};
use ledger::domain::{Aggregate, VolunteerState};
use ledger::event::Event;
use ledger::ids::*;
use std::collections::BTreeSet;

type Res<T> = async_graphql::Result<T>;

/// Events read from the log per query while following it.
const FOLLOW_BATCH: u32 = 256;

/// Rankings of a community changed: re-query them. Sent once the `rankings` read model
/// has applied `position`, so a re-query without `atLeast` already sees the change.
/// Changes that arrive together are sent as one.
#[derive(SimpleObject, Clone)]
pub struct RankingChange {
    pub community_id: ID,
    /// The volunteer of the last change.
    pub volunteer_id: ID,
    /// Every volunteer whose points or hours changed, in order of their first change.
    pub volunteer_ids: Vec<ID>,
    /// Log position of the last change.
    pub position: u64,
}

/// A volunteer's balances after an entry.
#[derive(SimpleObject, Clone)]
pub struct BalanceChange {
    pub volunteer_id: ID,
    pub entry_id: ID,
    pub event_type: String,
    pub balance: Balance,
    pub position: u64,
}

/// An activity changed: a sign-up, a withdrawal, a check-in or check-out, an approval…
/// with its counts after the change (for the organiser's screen and the hall display).
#[derive(SimpleObject, Clone)]
pub struct ActivityUpdate {
    pub activity_id: ID,
    pub event_type: String,
    /// The volunteer the change is about, if one.
    pub volunteer_id: Option<ID>,
    pub taken: i32,
    pub waiting: i32,
    pub checked_in: i32,
    pub cancelled: bool,
    pub position: u64,
}

pub struct Subscription;

/// The volunteer an activity event is about.
fn activity_volunteer(e: &Event) -> Option<VolunteerId> {
    match e {
        Event::SignedUp { volunteer_id, .. }
        | Event::SignUpWithdrawn { volunteer_id, .. }
        | Event::MovedUp { volunteer_id }
        | Event::CheckedIn { volunteer_id, .. }
        | Event::CheckedOut { volunteer_id, .. }
        | Event::ObjectionRaised { volunteer_id, .. }
        | Event::ObjectionResolved { volunteer_id, .. } => Some(*volunteer_id),
        _ => None,
    }
}

fn is_balance_event(event_type: &str) -> bool {
    matches!(
        event_type,
        "ServiceVerified"
            | "PointsAwarded"
            | "PointsRedeemed"
            | "PointsRefunded"
            | "PointsExpired"
            | "EntryReversed"
            | "HoursGifted"
            | "HoursReceived"
            | "HoursSpent"
            | "VolunteerTransferred"
    )
}

/// Events that change rankings (earned points and verified hours; redemptions, gifts
/// and spending do not).
fn is_ranking_event(event_type: &str) -> bool {
    matches!(
        event_type,
        "ServiceVerified" | "PointsAwarded" | "EntryReversed"
    )
}

#[Subscription]
impl Subscription {
    /// Every event of a community as it is committed (staff of the community, admin).
    async fn ledger_events(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Res<LedgerEvent>>> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.manages(community) {
            return Err(ApiError::forbidden(
                "only staff of the community and administrators follow its events",
            )
            .extend());
        }
        let app = app(ctx).clone();
        let head = app
            .store
            .head()
            .await
            .map_err(|e| ApiError::Store(e).extend())?;
        Ok(app
            .store
            .subscribe_all(head, FOLLOW_BATCH)
            .filter_map(move |r| async move {
                match r {
                    Ok(e) if e.community_id == Some(community.0) => Some(Ok(LedgerEvent::from(&e))),
                    Ok(_) => None,
                    Err(e) => Some(Err(ApiError::Store(e).extend())),
                }
            }))
    }

    /// A volunteer's balances after every entry (the volunteer, staff of the
    /// community, admin). Exact: the volunteer's stream is folded once when subscribing,
    /// then each of its events as it is committed.
    async fn balance_changed(
        &self,
        ctx: &Context<'_>,
        volunteer_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = Res<BalanceChange>>> {
        let p = principal(ctx)?;
        let vid = match &volunteer_id {
            Some(v) => VolunteerId(parse_id(v, "volunteerId")?),
            None => p.actor.volunteer_id.ok_or_else(|| {
                crate::errors::gql_error("INVALID_INPUT", "volunteerId is required")
            })?,
        };
        let app = app(ctx).clone();
        let community = app
            .reads
            .volunteer_community(vid)
            .await
            .map_err(|e| e.extend())?
            .ok_or_else(|| ApiError::NotFound(format!("volunteer {vid}")).extend())?;
        if !p.reads_account_of(vid, Some(community)) {
            return Err(ApiError::forbidden("cannot follow that volunteer's balance").extend());
        }
        let stream_name = volunteer_stream(vid);
        let head = app
            .store
            .head()
            .await
            .map_err(|e| ApiError::Store(e).extend())?;
        // Stars by the thresholds in force on the day of each change (as the balance
        // query and the documents count them): the community's versions as of `head`,
        // then each new version as it is committed.
        let community_stream_name = community_stream(community);
        let mut rules = ledger::domain::CommunityState::default();
        fold_until(&app.store, &community_stream_name, head, &mut rules, |r| {
            r.event_type == "StarThresholdsSet"
        })
        .await?;
        // The state as of `head`; the subscription delivers what comes after it.
        let mut state = VolunteerState::default();
        fold_until(&app.store, &stream_name, head, &mut state, |_| true).await?;
        let events = Box::pin(app.store.subscribe_all(head, FOLLOW_BATCH));
        Ok(futures::stream::unfold(
            (events, (state, rules)),
            move |(mut events, (mut state, mut rules))| {
                let stream_name = stream_name.clone();
                let community_stream_name = community_stream_name.clone();
                async move {
                    loop {
                        let e = match events.next().await? {
                            Ok(e) => e,
                            Err(err) => {
                                let err = ApiError::Store(err).extend();
                                return Some((Err(err), (events, (state, rules))));
                            }
                        };
                        if e.stream_id == community_stream_name
                            && e.event_type == "StarThresholdsSet"
                        {
                            match Event::decode(&e) {
                                Ok(ev) => rules.evolve(&ev),
                                Err(err) => {
                                    let err = ApiError::Internal(err.to_string()).extend();
                                    return Some((Err(err), (events, (state, rules))));
                                }
                            }
                            continue;
                        }
                        if e.stream_id != stream_name {
                            continue;
                        }
                        let ev = match Event::decode(&e) {
                            Ok(ev) => ev,
                            Err(err) => {
                                let err = ApiError::Internal(err.to_string()).extend();
                                return Some((Err(err), (events, (state, rules))));
                            }
                        };
                        state.evolve(&ev);
                        if !is_balance_event(&e.event_type) {
                            continue;
                        }
                        let today = ledger::domain::local_date(chrono::Utc::now());
                        let stars = rules
                            .star_thresholds_on(today)
                            .thresholds
                            .iter()
                            .filter(|t| state.verified_hours >= **t)
                            .count() as i32;
                        let change = BalanceChange {
                            volunteer_id: ID(vid.0.to_string()),
                            entry_id: ID(ev
                                .entry_id()
                                .map(|x| x.0.to_string())
                                .unwrap_or_default()),
                            event_type: e.event_type.clone(),
                            balance: Balance {
                                points: PointsScalar(state.points),
                                hours: HoursScalar(state.hours),
                                verified_hours: HoursScalar(state.verified_hours),
                                flagged: state.flagged(),
                                stars,
                            },
                            position: e.position,
                        };
                        return Some((Ok(change), (events, (state, rules))));
                    }
                }
            },
        ))
    }

    /// Each change of an activity as it is committed: sign-ups, withdrawals, check-ins
    /// and check-outs, approval (whoever reads the community's boards: staff,
    /// volunteers, the hall display). The counts are exact: the activity is folded
    /// once when subscribing, then each of its events.
    async fn activity_changed(
        &self,
        ctx: &Context<'_>,
        activity_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Res<ActivityUpdate>>> {
        let p = principal(ctx)?;
        let aid = ActivityId(parse_id(&activity_id, "activityId")?);
        let app = app(ctx).clone();
        let head = app
            .store
            .head()
            .await
            .map_err(|e| ApiError::Store(e).extend())?;
        let mut state = ledger::domain::ActivityState::default();
        fold_until(&app.store, &activity_stream(aid), head, &mut state, |_| {
            true
        })
        .await?;
        let community = state
            .require(aid)
            .map_err(|_| ApiError::NotFound(format!("activity {aid}")).extend())?;
        board_access(p, community)?;
        Ok(Subscription::activity_updates(app, aid, state, head))
    }

    /// Rankings of the community changed (verified service, awarded points, a
    /// reversal); sent once the rankings read model shows the change.
    async fn ranking_changed(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Res<RankingChange>>> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        board_access(p, community)?;
        let app = app(ctx).clone();
        let head = app
            .store
            .head()
            .await
            .map_err(|e| ApiError::Store(e).extend())?;
        let reads = app.reads.clone();
        Ok(app
            .store
            .subscribe_all(head, FOLLOW_BATCH)
            // What has been read together is reported together.
            .ready_chunks(FOLLOW_BATCH as usize)
            .filter_map(move |chunk| {
                let reads = reads.clone();
                async move {
                    let mut volunteers: Vec<ID> = Vec::new();
                    let mut seen = BTreeSet::new();
                    let mut last = None;
                    for r in chunk {
                        let e = match r {
                            Ok(e) => e,
                            Err(err) => return Some(Err(ApiError::Store(err).extend())),
                        };
                        if e.community_id != Some(community.0) || !is_ranking_event(&e.event_type) {
                            continue;
                        }
                        let Some((StreamKind::Volunteer, v)) = parse_stream(&e.stream_id) else {
                            continue;
                        };
                        if seen.insert(v) {
                            volunteers.push(ID(v.to_string()));
                        }
                        last = Some((v, e.position));
                    }
                    let (volunteer, position) = last?;
                    // Bounded; past it the client still re-queries with `atLeast`.
                    reads
                        .wait_for_projection(projections::rankings::NAME, position)
                        .await;
                    Some(Ok(RankingChange {
                        community_id: ID(community.0.to_string()),
                        volunteer_id: ID(volunteer.to_string()),
                        volunteer_ids: volunteers,
                        position,
                    }))
                }
            }))
    }
}

impl Subscription {
    /// The updates of one activity after `head`, folded from its state at `head`.
    fn activity_updates(
        app: std::sync::Arc<super::AppCtx>,
        aid: ActivityId,
        state: ledger::domain::ActivityState,
        head: u64,
    ) -> impl Stream<Item = Res<ActivityUpdate>> {
        let stream_name = activity_stream(aid);
        let events = Box::pin(app.store.subscribe_all(head, FOLLOW_BATCH));
        futures::stream::unfold((events, state), move |(mut events, mut state)| {
            let stream_name = stream_name.clone();
            async move {
                loop {
                    let e = match events.next().await? {
                        Ok(e) if e.stream_id == stream_name => e,
                        Ok(_) => continue,
                        Err(err) => {
                            return Some((Err(ApiError::Store(err).extend()), (events, state)))
                        }
                    };
                    let ev = match Event::decode(&e) {
                        Ok(ev) => ev,
                        Err(err) => {
                            let err = ApiError::Internal(err.to_string()).extend();
                            return Some((Err(err), (events, state)));
                        }
                    };
                    state.evolve(&ev);
                    let n = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
                    let update = ActivityUpdate {
                        activity_id: ID(aid.0.to_string()),
                        event_type: e.event_type.clone(),
                        volunteer_id: activity_volunteer(&ev).map(|v| ID(v.0.to_string())),
                        taken: n(state.taken() as usize),
                        waiting: n(state.waiting.len()),
                        checked_in: n(state
                            .people
                            .values()
                            .filter(|p| p.checked_in.is_some())
                            .count()),
                        cancelled: state.cancelled,
                        position: e.position,
                    };
                    return Some((Ok(update), (events, state)));
                }
            }
        })
    }
}

/// Folds into `state` the events of `stream` up to position `head` that `keep` takes.
async fn fold_until<S: Aggregate>(
    store: &ledger::Store,
    stream: &str,
    head: u64,
    state: &mut S,
    keep: impl Fn(&ledger::store::RecordedEvent) -> bool,
) -> async_graphql::Result<()> {
    let recorded = store
        .read_stream(stream, 0)
        .await
        .map_err(|e| ApiError::Store(e).extend())?;
    for r in recorded.iter().filter(|r| r.position <= head && keep(r)) {
        let e = Event::decode(r).map_err(|e| ApiError::Internal(e.to_string()).extend())?;
        state.evolve(&e);
    }
    Ok(())
}
