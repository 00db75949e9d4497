//! Points expire on time (积分到期): every [`EXPIRY_EVERY`] the server looks, in the
//! communities whose rules make points expire, for accounts with points whose validity
//! has ended, and expires what is left of them (`ExpirePoints`, as the system
//! administrator), so that the expiry is an event in the log on its day, never a
//! figure computed when read: documents pinned to a position stay the same. Only the
//! process that leads the `balances` read model does it; if two ever do, the key of the
//! day makes the second a replay that writes nothing. Staff may run it for one account
//! by hand too (`expirePoints`).

use crate::finality::SERVER_PRINCIPAL;
use ledger::amount::Points;
use ledger::command::{Actor, CommandHandler, ExpirePoints};
use ledger::domain::local_date;
use ledger::ids::{CommunityId, VolunteerId};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;

/// How often the server looks for points due to expire.
pub const EXPIRY_EVERY: Duration = Duration::from_secs(3600);

/// One pass: expires what is due today; the accounts and the points this pass expired.
pub async fn expire_due(
    handler: &CommandHandler,
    projections: &projections::Projections,
) -> anyhow::Result<Vec<(VolunteerId, Points)>> {
    if !projections.is_leader(projections::balances::NAME) {
        return Ok(vec![]);
    }
    let today = local_date(handler.now());
    let actor = Actor::admin(SERVER_PRINCIPAL);
    let mut expiring: HashMap<CommunityId, bool> = HashMap::new();
    let mut done = Vec::new();
    for (volunteer_id, community_id) in
        projections::balances::accounts_with_points(projections.db()).await?
    {
        let rules = match expiring.get(&community_id) {
            Some(r) => *r,
            None => {
                let c = handler.community_state(community_id).await?;
                let r = c.points_expiry.iter().any(|r| r.valid_months > 0);
                expiring.insert(community_id, r);
                r
            }
        };
        if !rules
            || handler
                .volunteer_state(volunteer_id)
                .await?
                .due_on(today)
                .is_empty()
        {
            continue;
        }
        // One key a day: a pass retried (here or in another process) replays.
        let key = format!("expiry:{}:{today}", volunteer_id.0);
        match handler
            .run(&actor, &key, ExpirePoints { volunteer_id })
            .await
        {
            Ok(o) if o.replayed => {}
            Ok(o) => {
                let state = handler.volunteer_state(volunteer_id).await?;
                let expired = state
                    .entry(o.result.entry_id)
                    .map_or(Points::ZERO, |e| e.points);
                done.push((volunteer_id, expired));
            }
            Err(e) if e.code() == "NOTHING_DUE" => {}
            Err(e) => tracing::warn!(%volunteer_id, error = %e, "could not expire points"),
        }
    }
    Ok(done)
}

/// Runs [`expire_due`] every `every` until `shutdown` becomes true.
pub fn spawn(
    handler: CommandHandler,
    projections: projections::Projections,
    every: Duration,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    crate::finality::periodically(every, projections.clone(), shutdown, move || {
        let (handler, projections) = (handler.clone(), projections.clone());
        async move {
            match expire_due(&handler, &projections).await {
                Ok(done) => {
                    for (volunteer_id, points) in done {
                        tracing::info!(%volunteer_id, %points, "points expired");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "looking for points due to expire failed"),
            }
        }
    })
}
