//! Subscriptions over WebSocket (graphql-transport-ws): each follows the log from the
//! moment of subscribing, through [`ledger::Store::subscribe_all`].

use super::mutation::parse_id;
use super::types::{Balance, LedgerEvent};
use super::{app, principal};
use crate::errors::ApiError;
use crate::scalars::{HoursScalar, PointsScalar};
use async_graphql::{Context, ErrorExtensions, SimpleObject, Subscription, ID};
use futures::{Stream, StreamExt};
use ledger::command::Role;
use ledger::domain::{Aggregate, VolunteerState};
use ledger::event::Event;
use ledger::ids::*;

type Res<T> = async_graphql::Result<T>;

/// A ranking of a community may have changed: re-query it (at least at `position`).
#[derive(SimpleObject, Clone)]
pub struct RankingChange {
    pub community_id: ID,
    pub volunteer_id: ID,
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

pub struct Subscription;

fn is_balance_event(event_type: &str) -> bool {
    matches!(
        event_type,
        "ServiceVerified"
            | "PointsAwarded"
            | "PointsRedeemed"
            | "EntryReversed"
            | "HoursGifted"
            | "HoursReceived"
            | "HoursSpent"
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
            .subscribe_all(head, 256)
            .filter_map(move |r| async move {
                match r {
                    Ok(e) if e.community_id == Some(community.0) => Some(Ok(LedgerEvent::from(&e))),
                    Ok(_) => None,
                    Err(e) => Some(Err(ApiError::Store(e).extend())),
                }
            }))
    }

    /// A volunteer's balances after every entry (the volunteer, staff of the
    /// community, admin).
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
        let community = crate::auth::volunteer_community(&app.store, vid.0)
            .await
            .map_err(|e| e.extend())?
            .ok_or_else(|| ApiError::NotFound(format!("volunteer {vid}")).extend())?;
        let allowed = match p.role() {
            Role::Admin => true,
            Role::Staff => p.community() == Some(community),
            Role::Volunteer => p.actor.volunteer_id == Some(vid),
            Role::Display => false,
        };
        if !allowed {
            return Err(ApiError::forbidden("cannot follow that volunteer's balance").extend());
        }
        let stream_name = volunteer_stream(vid);
        let head = app
            .store
            .head()
            .await
            .map_err(|e| ApiError::Store(e).extend())?;
        let thresholds = app
            .reads
            .community(community)
            .await
            .map_err(|e| e.extend())?
            .map(|c| {
                c.star_thresholds_on(ledger::domain::local_date(chrono::Utc::now()))
                    .thresholds
            })
            .unwrap_or_else(ledger::event::default_star_thresholds);
        let store = app.store.clone();
        Ok(app.store.subscribe_all(head, 256).filter_map(move |r| {
            let stream_name = stream_name.clone();
            let store = store.clone();
            let thresholds = thresholds.clone();
            async move {
                let e = match r {
                    Ok(e) => e,
                    Err(e) => return Some(Err(ApiError::Store(e).extend())),
                };
                if e.stream_id != stream_name || !is_balance_event(&e.event_type) {
                    return None;
                }
                let entry = Event::decode(&e).ok().and_then(|ev| ev.entry_id());
                // The state as of this event.
                let events = match store.read_stream(&stream_name, 0).await {
                    Ok(v) => v,
                    Err(err) => return Some(Err(ApiError::Store(err).extend())),
                };
                let mut s = VolunteerState::default();
                for r in events.iter().filter(|r| r.position <= e.position) {
                    if let Ok(ev) = Event::decode(r) {
                        s.evolve(&ev);
                    }
                }
                let stars = thresholds
                    .iter()
                    .filter(|t| s.verified_hours >= **t)
                    .count() as i32;
                Some(Ok(BalanceChange {
                    volunteer_id: ID(vid.0.to_string()),
                    entry_id: ID(entry.map(|x| x.0.to_string()).unwrap_or_default()),
                    event_type: e.event_type.clone(),
                    balance: Balance {
                        points: PointsScalar(s.points),
                        hours: HoursScalar(s.hours),
                        verified_hours: HoursScalar(s.verified_hours),
                        flagged: s.flagged(),
                        stars,
                    },
                    position: e.position,
                }))
            }
        }))
    }

    /// A ranking of the community may have changed (any balance-changing entry).
    async fn ranking_changed(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Res<RankingChange>>> {
        let p = principal(ctx)?;
        let community = CommunityId(parse_id(&community_id, "communityId")?);
        if !p.reads_boards_of(community) {
            return Err(ApiError::forbidden("this token cannot read that community").extend());
        }
        let app = app(ctx).clone();
        let head = app
            .store
            .head()
            .await
            .map_err(|e| ApiError::Store(e).extend())?;
        Ok(app
            .store
            .subscribe_all(head, 256)
            .filter_map(move |r| async move {
                match r {
                    Ok(e)
                        if e.community_id == Some(community.0)
                            && is_balance_event(&e.event_type) =>
                    {
                        let volunteer = parse_stream(&e.stream_id)
                            .map(|(_, id)| id.to_string())
                            .unwrap_or_default();
                        Some(Ok(RankingChange {
                            community_id: ID(community.0.to_string()),
                            volunteer_id: ID(volunteer),
                            position: e.position,
                        }))
                    }
                    Ok(_) => None,
                    Err(e) => Some(Err(ApiError::Store(e).extend())),
                }
            }))
    }
}
