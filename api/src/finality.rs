//! Records become final on time: the server looks every [`FINALITY_EVERY`] for
//! activities with records whose 公示 notice has passed and that no open objection holds,
//! and makes them final (`FinaliseAttendance`, as the system administrator), which
//! credits them to the volunteers' accounts. Only the process that leads the
//! `activities` read model does it, so that several processes on one PostgreSQL do not
//! all try; if two ever do, the second finds nothing due (`NOTHING_DUE`) and writes
//! nothing. Staff may make records final by hand too (`finaliseAttendance`).

use ledger::command::{Actor, CommandHandler, FinaliseAttendance};
use ledger::ids::ActivityId;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// How often the server looks for records due.
pub const FINALITY_EVERY: Duration = Duration::from_secs(60);

/// The principal of what the server itself does (the events' `finalised_by`).
pub const SERVER_PRINCIPAL: Uuid = Uuid::from_u128(0x7469_6d65_6261_6e6b_0000_0000_0000_0001);

/// One pass: makes final what is due now; the activities and how many records this
/// pass made final.
pub async fn finalise_due(
    handler: &CommandHandler,
    projections: &projections::Projections,
) -> anyhow::Result<Vec<(ActivityId, u32)>> {
    if !projections.is_leader(projections::activities::NAME) {
        return Ok(vec![]);
    }
    let now = handler.now();
    let due = projections::activities::due_for_finality(projections.db(), now).await?;
    let actor = Actor::admin(SERVER_PRINCIPAL);
    let mut done = Vec::new();
    for activity_id in due {
        // One key a minute: a pass retried after a crash replays instead of writing.
        let key = format!("finality:{}:{}", activity_id.0, now.timestamp() / 60);
        match handler
            .run(&actor, &key, FinaliseAttendance { activity_id })
            .await
        {
            // A replay: another pass (this minute, maybe in another process) did it.
            Ok(o) if o.replayed => {}
            Ok(o) => done.push((activity_id, o.result.final_records)),
            Err(e) if e.code() == "NOTHING_DUE" => {}
            Err(e) => tracing::warn!(%activity_id, error = %e, "could not make records final"),
        }
    }
    Ok(done)
}

/// Runs [`finalise_due`] every `every` until `shutdown` becomes true.
pub fn spawn(
    handler: CommandHandler,
    projections: projections::Projections,
    every: Duration,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    periodically(every, projections.clone(), shutdown, move || {
        let (handler, projections) = (handler.clone(), projections.clone());
        async move {
            match finalise_due(&handler, &projections).await {
                Ok(done) => {
                    for (activity_id, records) in done {
                        tracing::info!(%activity_id, records, "records made final after their notice");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "looking for records due to become final failed")
                }
            }
        }
    })
}

/// Runs `pass` every `every` until `shutdown` becomes true, each time once the read
/// models are built (a new database, an upgrade: what is due is read from them). The
/// server's timed tasks (finality, points expiry) run on it.
pub fn periodically<F, Fut>(
    every: Duration,
    projections: projections::Projections,
    mut shutdown: watch::Receiver<bool>,
    mut pass: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            if projections.wait_built(every).await.is_err() {
                continue;
            }
            pass().await;
        }
    })
}
