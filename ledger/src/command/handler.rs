//! The command handler: idempotency, loading states, deciding, and the atomic append.
//!
//! Flow of [`CommandHandler::execute`]:
//! 1. take the in-process locks of the streams the command writes (so commands on one
//!    stream queue up instead of retrying against each other);
//! 2. load the states it needs (a fold of `Event::decode` over the stream, cached per
//!    stream as `(version, state)` and caught up with the log on load; the first
//!    decision takes the streams it writes from the cache without a read, as the
//!    append checks their versions: see [`Decision`]);
//! 3. authorize and decide (pure; the command's plan in its family's file);
//! 4. append all writes in one atomic request, each with the version it was decided
//!    on, together with the command record. An idempotency key is the caller's own:
//!    it is stored (and its event ids derived) scoped to the actor's principal, so two
//!    callers never share a key, and nobody replays someone else's command to read its
//!    result. The store checks the idempotency key in the same transaction: if a
//!    command with that key is stored, nothing is written and its result comes back
//!    (`replayed = true`), or `IDEMPOTENCY_MISMATCH` if it was a different command. So
//!    a retry costs no extra read in the common case; only a refused decision, or one
//!    that would write personal data, looks the key up first. Event ids are UUID v5 of
//!    the idempotency key and the event's index, so a retry is deduplicated by the
//!    store too;
//! 5. on a version conflict (another writer, e.g. another process, got there first)
//!    reload and decide again, up to [`MAX_CONFLICT_RETRIES`] times with a small
//!    jittered backoff.

use super::clock::{Clock, SystemClock};
use super::decision::{current, Caches, Decision, Keys, Plan};
use super::locks::StreamLocks;
use super::throttle::{code_sender, CodeThrottle};
use super::{Actor, Command, CommandPayload, Outcome};
use crate::domain::activity::{CodeKey, ShownCode};
use crate::domain::volunteer::HouseholdKey;
use crate::domain::*;
use crate::event::DecodeError;
use crate::ids::*;
use crate::store::{
    AppendRequest, CommandRecord, ExpectedVersion, Metadata, Store, StoreError, StreamWrite,
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Attempts of one command against version conflicts before `VERSION_CONFLICT`.
pub const MAX_CONFLICT_RETRIES: u32 = 50;
/// How long the personal data of a registration whose append never came may hold its
/// ID number (a registration takes milliseconds; a process may stop in between).
const ABANDONED_REGISTRATION: chrono::Duration = chrono::Duration::minutes(2);

/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 200;

/// What a command did; `T` is its result ([`Outcome`] for any command, or one
/// command's own result type through [`CommandHandler::run`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome<T = Outcome> {
    /// Log position of the command's last event.
    pub position: u64,
    /// Ids created, entry id, new balances… (stored with the command and returned on a
    /// retry).
    pub result: T,
    /// True when this is the stored result of an earlier execution with the same key.
    pub replayed: bool,
    /// Events written by this execution (0 when replayed).
    pub events: usize,
}

impl<T> CommandOutcome<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> CommandOutcome<U> {
        CommandOutcome {
            position: self.position,
            result: f(self.result),
            replayed: self.replayed,
            events: self.events,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("cannot encode or decode a command result: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("{0}")]
    Internal(String),
}

impl CommandError {
    /// A stable code: the domain code, or `STORE_ERROR` / `CORRUPT_EVENT` / `INTERNAL`.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Domain(e) => e.code(),
            CommandError::Store(StoreError::VersionConflict { .. }) => "VERSION_CONFLICT",
            CommandError::Store(_) => "STORE_ERROR",
            CommandError::Decode(_) => "CORRUPT_EVENT",
            CommandError::Encode(_) | CommandError::Internal(_) => "INTERNAL",
        }
    }

    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            CommandError::Domain(e) => Some(e),
            _ => None,
        }
    }
}

/// The key a command record is stored under: the caller's idempotency key within the
/// actor's principal (a volunteer's id, or a token's id for staff, admin and displays).
fn scoped_key(actor: &Actor, idempotency_key: &str) -> String {
    format!("{}/{idempotency_key}", actor.principal.simple())
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    caches: Caches,
    locks: StreamLocks,
    throttle: CodeThrottle,
    /// Read from the store on first use.
    keys: tokio::sync::OnceCell<Keys>,
}

/// Executes commands against a [`Store`]. Cheap to clone (shared state).
#[derive(Clone)]
pub struct CommandHandler {
    inner: Arc<Inner>,
}

/// One command being run: who, under which key, and what it is.
struct Run<'a> {
    actor: &'a Actor,
    /// The key as the caller gave it (kept in the events' metadata).
    client_key: &'a str,
    /// The key within the caller's principal (the command record's key).
    key: String,
    ids: IdSource,
    command: &'a Command,
    fingerprint: Value,
}

/// How one attempt at a command ended.
enum Attempt {
    Done(CommandOutcome),
    /// Decided on a cached state the append would not check, or refused on one: decide
    /// again on states read from the log.
    Stale,
    /// Another writer changed this stream first.
    Conflict(String),
}

impl CommandHandler {
    pub fn new(store: Store) -> CommandHandler {
        CommandHandler::with_clock(store, Arc::new(SystemClock))
    }

    pub fn with_clock(store: Store, clock: Arc<dyn Clock>) -> CommandHandler {
        CommandHandler {
            inner: Arc::new(Inner {
                store,
                clock,
                caches: Caches::default(),
                locks: StreamLocks::default(),
                throttle: CodeThrottle::default(),
                keys: tokio::sync::OnceCell::new(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The deployment's keys: household pseudonyms (`household`) and check-in codes
    /// (`activity-codes`).
    async fn keys(&self) -> Result<&Keys, StoreError> {
        self.inner
            .keys
            .get_or_try_init(|| async {
                let store = &self.inner.store;
                Ok(Keys {
                    household: HouseholdKey::new(&store.deployment_key("household").await?),
                    codes: CodeKey::new(&store.deployment_key("activity-codes").await?),
                })
            })
            .await
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The ids a command of `actor` with this idempotency key creates (see
    /// [`IdSource`]).
    pub fn ids_for(actor: &Actor, idempotency_key: &str) -> IdSource {
        IdSource::from_key(&scoped_key(actor, idempotency_key))
    }

    /// The check-in code an activity's organiser shows now, when it changes, and the
    /// activity's community (its staff alone may see the code: the caller checks who
    /// asks). Read from the log, so an activity just posted has one.
    pub async fn check_in_code(
        &self,
        activity_id: ActivityId,
    ) -> Result<(ShownCode, CommunityId), CommandError> {
        let inner = &self.inner;
        let activity: Arc<ActivityState> =
            current(&inner.store, &inner.caches, activity_stream(activity_id)).await?;
        let community_id = activity.require(activity_id)?;
        let community: Arc<CommunityState> =
            current(&inner.store, &inner.caches, community_stream(community_id)).await?;
        let period = activity.rules(&community).code_period_seconds;
        let keys = self.keys().await?;
        Ok((
            keys.codes.shown(activity_id, self.now(), period),
            community_id,
        ))
    }

    /// A volunteer's account as the commands see it (read from the log through their
    /// cache): its service record (training, commendations, evaluations) and its
    /// services, for reads that show them.
    pub async fn volunteer_state(
        &self,
        volunteer_id: VolunteerId,
    ) -> Result<Arc<VolunteerState>, CommandError> {
        let inner = &self.inner;
        current(&inner.store, &inner.caches, volunteer_stream(volunteer_id)).await
    }

    /// A community as the commands see it (its rules), read from the log through their
    /// cache.
    pub async fn community_state(
        &self,
        community_id: CommunityId,
    ) -> Result<Arc<CommunityState>, CommandError> {
        let inner = &self.inner;
        current(&inner.store, &inner.caches, community_stream(community_id)).await
    }

    /// An activity as the commands see it (its records and objections), read from the
    /// log through their cache.
    pub async fn activity_state(
        &self,
        activity_id: ActivityId,
    ) -> Result<Arc<ActivityState>, CommandError> {
        let inner = &self.inner;
        current(&inner.store, &inner.caches, activity_stream(activity_id)).await
    }

    /// A history import as the commands see it (its rows, whether it was reversed).
    pub async fn import_batch_state(
        &self,
        batch_id: ImportBatchId,
    ) -> Result<Arc<ImportBatchState>, CommandError> {
        let inner = &self.inner;
        current(&inner.store, &inner.caches, import_stream(batch_id)).await
    }

    /// Runs one command and answers its own result type (see [`Self::execute`]).
    pub async fn run<C: CommandPayload>(
        &self,
        actor: &Actor,
        idempotency_key: &str,
        command: C,
    ) -> Result<CommandOutcome<C::Output>, CommandError> {
        let outcome = self.execute(actor, idempotency_key, command.into()).await?;
        let name = outcome.result.command_name();
        let position = outcome.position;
        match C::output(outcome.result) {
            Some(result) => Ok(CommandOutcome {
                position,
                result,
                replayed: outcome.replayed,
                events: outcome.events,
            }),
            None => Err(CommandError::Internal(format!(
                "the outcome of {name} answered another command"
            ))),
        }
    }

    /// Runs a command: see the module documentation.
    pub async fn execute(
        &self,
        actor: &Actor,
        idempotency_key: &str,
        command: Command,
    ) -> Result<CommandOutcome, CommandError> {
        // Check-in codes: refused while the sender has sent too many wrong ones.
        let sender = code_sender(&command);
        if let Some(v) = sender {
            self.inner.throttle.check(v, self.now())?;
        }
        let outcome = self.run_command(actor, idempotency_key, &command).await;
        if let (Some(v), Err(e)) = (sender, &outcome) {
            if matches!(
                e.domain(),
                Some(DomainError::WrongCode { .. } | DomainError::CodeExpired { .. })
            ) {
                self.inner.throttle.wrong(v, self.now());
            }
        }
        match (&command, &outcome) {
            // The erasure is done on every success, a retry's too: it is what the
            // command is for, and a first attempt may have stopped after its append.
            (Command::ErasePersonalData(c), Ok(_)) => {
                self.inner.store.erase_person(c.volunteer_id.0).await?;
            }
            // A registration that did not go through may have stored its personal
            // data (written before the append): it must not stay behind.
            (Command::RegisterVolunteer(_), Err(_)) => {
                let ids = IdSource::from_key(&scoped_key(actor, idempotency_key));
                let id = VolunteerId(ids.id("volunteer"));
                let store = &self.inner.store;
                if store.stream_version(&volunteer_stream(id)).await? == 0 {
                    store.erase_person(id.0).await?;
                }
            }
            _ => {}
        }
        outcome
    }

    /// The loop: decide and append until it is done, refused, or out of attempts.
    async fn run_command(
        &self,
        actor: &Actor,
        client_key: &str,
        command: &Command,
    ) -> Result<CommandOutcome, CommandError> {
        if client_key.trim().is_empty() {
            return Err(DomainError::Required {
                field: "idempotency_key",
            }
            .into());
        }
        text("idempotency_key", client_key, MAX_IDEMPOTENCY_KEY)?;
        let key = scoped_key(actor, client_key);
        let keys = self.keys().await?;
        let run = Run {
            actor,
            client_key,
            ids: IdSource::from_key(&key),
            fingerprint: command.fingerprint(&key, keys.household.pepper()),
            key,
            command,
        };
        let written = command.locks();
        let _guards = self.inner.locks.lock(written.clone()).await;
        let mut last_conflict: String;
        let mut attempt = 0;
        // The first decision may use cached states of the streams the command writes
        // without reading the log (see `Decision`); after that, every state is read.
        let mut trusted: &[String] = &written;
        loop {
            match self.attempt(&run, keys, trusted).await? {
                Attempt::Done(outcome) => return Ok(outcome),
                Attempt::Stale => {
                    trusted = &[];
                    continue;
                }
                Attempt::Conflict(stream) => last_conflict = stream,
            }
            attempt += 1;
            if attempt >= MAX_CONFLICT_RETRIES {
                return Err(DomainError::VersionConflict {
                    stream: last_conflict,
                    attempts: MAX_CONFLICT_RETRIES,
                }
                .into());
            }
            trusted = &[];
            if let Some(outcome) = self.replay(&run).await? {
                return Ok(outcome);
            }
            backoff(attempt).await;
        }
    }

    /// One decision and its append.
    async fn attempt(
        &self,
        run: &Run<'_>,
        keys: &Keys,
        trusted: &[String],
    ) -> Result<Attempt, CommandError> {
        let ctx = Ctx::new(self.inner.clock.now(), run.actor, run.ids);
        let inner = &self.inner;
        let decision =
            Decision::on_log(ctx, run.command, keys, &inner.store, &inner.caches, trusted);
        let planned = run.command.plan(&decision).await;
        let cached = decision.served();
        let plan = match planned {
            Ok(plan) if plan.checks(&cached) => plan,
            // A retry of a command that went through may no longer be decidable (a
            // redemption that spent the balance it checks): its stored result wins.
            Err(refusal) if cached.is_empty() => {
                return match self.replay(run).await? {
                    Some(outcome) => Ok(Attempt::Done(outcome)),
                    None => Err(refusal),
                }
            }
            _ => return Ok(Attempt::Stale),
        };
        // Personal data is written before the append: a retry must not write it again
        // (the person may have been erased since), and an append that does not go
        // through puts back what was there.
        let mut previous = None;
        if let Some(person) = &plan.person {
            if let Some(outcome) = self.replay(run).await? {
                return Ok(Attempt::Done(outcome));
            }
            previous = Some((
                person.volunteer_id,
                inner.store.get_person(person.volunteer_id).await?,
            ));
            match inner.store.put_person(person).await {
                // Another registration with the same ID number got there first: decide
                // again, and the decision names that record once it is in the log. One
                // that never went through (its process stopped after this first write)
                // is cleared once it is clearly abandoned.
                Err(StoreError::IdNumberTaken) => {
                    if let Some(n) = &person.id_number {
                        inner
                            .store
                            .clear_abandoned_person(n, ABANDONED_REGISTRATION)
                            .await?;
                    }
                    return Ok(Attempt::Conflict("persons".into()));
                }
                other => other?,
            }
        }
        let (request, events) = append_request(run, &plan)?;
        let appended = inner.store.append_request(request).await;
        if let (Some((id, before)), false) = (
            previous,
            matches!(&appended, Ok(o) if o.duplicate_of.is_none()),
        ) {
            match before {
                Some(p) => inner.store.put_person(&p).await?,
                None => {
                    inner.store.erase_person(id).await?;
                }
            }
        }
        match appended {
            Ok(out) => {
                if let Some(record) = out.duplicate_of {
                    return compare(run, record).map(Attempt::Done);
                }
                for w in &plan.writes {
                    inner.caches.refresh(w);
                }
                Ok(Attempt::Done(CommandOutcome {
                    position: out.last_position,
                    result: plan.result,
                    replayed: false,
                    events,
                }))
            }
            Err(StoreError::VersionConflict { stream, .. }) => Ok(Attempt::Conflict(stream)),
            Err(e) => Err(e.into()),
        }
    }

    /// The stored record of `actor`'s command with this idempotency key, if any.
    pub async fn command_record(
        &self,
        actor: &Actor,
        idempotency_key: &str,
    ) -> Result<Option<CommandRecord>, CommandError> {
        Ok(self
            .inner
            .store
            .command_record(&scoped_key(actor, idempotency_key))
            .await?)
    }

    async fn replay(&self, run: &Run<'_>) -> Result<Option<CommandOutcome>, CommandError> {
        match self.inner.store.command_record(&run.key).await? {
            Some(record) => compare(run, record).map(Some),
            None => Ok(None),
        }
    }
}

/// The append of a plan with its command record, and the number of its events. The
/// events' ids derive from the idempotency key, so a retry is deduplicated.
fn append_request(
    run: &Run<'_>,
    plan: &Plan<Outcome>,
) -> Result<(AppendRequest, usize), CommandError> {
    let metadata = Metadata {
        actor: Some(run.actor.principal),
        role: Some(run.actor.role.as_str().to_string()),
        // The command (its scoped idempotency key) caused every event it writes, and
        // begins the conversation they belong to.
        correlation_id: Some(run.ids.seed()),
        causation_id: Some(run.ids.seed()),
        idempotency_key: Some(run.client_key.to_string()),
    };
    let mut index = 0usize;
    let mut writes = Vec::with_capacity(plan.writes.len());
    for w in &plan.writes {
        let mut events = Vec::with_capacity(w.events.len());
        for e in &w.events {
            let id = Uuid::new_v5(&run.ids.seed(), format!("event-{index}").as_bytes());
            index += 1;
            events.push(e.to_new_event(id, metadata.clone(), w.community)?);
        }
        writes.push(StreamWrite {
            stream_id: w.stream.clone(),
            expected: if w.expected == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exact(w.expected)
            },
            events,
        });
    }
    let request = AppendRequest {
        writes,
        command: Some((
            run.key.clone(),
            run.fingerprint.clone(),
            plan.result.to_json()?,
        )),
    };
    Ok((request, index))
}

/// A stored record of the run's key: its result if it is the same command, else
/// `IDEMPOTENCY_MISMATCH`.
fn compare(run: &Run<'_>, record: CommandRecord) -> Result<CommandOutcome, CommandError> {
    if record.command == run.fingerprint {
        Ok(CommandOutcome {
            position: record.position,
            result: run.command.decode_outcome(record.result)?,
            replayed: true,
            events: 0,
        })
    } else {
        Err(DomainError::IdempotencyMismatch {
            key: run.key.clone(),
        }
        .into())
    }
}

async fn backoff(attempt: u32) {
    let cap_us = 200u64 * u64::from(attempt.min(20));
    let jitter = rand::random::<u64>() % cap_us.max(1);
    tokio::time::sleep(Duration::from_micros(100 + jitter)).await;
}
