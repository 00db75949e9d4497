//! # ledger: timebank's source of truth
//!
//! Every volunteer action is an append-only event; nothing is updated or deleted.
//!
//! ## Crate map
//!
//! - [`actor`]: who issues a command ([`actor::Actor`]) and their [`actor::Role`]; a
//!   leaf that the domain and the command layer both use.
//! - [`amount`]: exact amounts, points in hundredths and hours in minutes.
//! - [`ids`]: typed UUID ids and stream names.
//! - [`event`]: the domain events, their schema versions and upcasting.
//! - [`domain`]: pure decide/evolve per aggregate — [`domain::community`],
//!   [`domain::volunteer`] (registration and personal-data corrections, services, points
//!   and hours, points expiry, relatives, the service record's training,
//!   commendations and evaluations, and the move to another community, 转移接续), [`domain::wish`], [`domain::stairwell`], [`domain::activity`],
//!   [`domain::shop`] (the points shop's items and redemptions) — each
//!   with its command payloads beside the rules that decide them, and
//!   [`domain::DomainError`] with its stable codes.
//! - [`command`]: the list of commands and their typed results ([`command::Outcome`]),
//!   one plan file per family (community, street, volunteer, service, account, wish,
//!   stairwell, activity, approval, shop, record, history, transfer), the role matrix ([`command::authorize`]), and the
//!   [`command::CommandHandler`] loop (idempotency, load, decide, append, retry).
//! - [`store`]: the event store (append with expected version, group commit, reads,
//!   live head), on SQLite and PostgreSQL, plus personal data and command records kept
//!   beside the log.
//! - [`demo`]: a deterministic, realistic community history generated through commands,
//!   and this week around today for `serve --demo` ([`demo::present`]).
//! - [`bulk`]: a district's valid history written straight to the store in large
//!   appends, for benchmarks (`timebank bulk-load`).
//! - [`testing`]: fresh stores for tests on each backend, and `given / when / then` for
//!   the domain's rules.
//!
//! Direction: `actor`, `ids`, `amount` ← `event` ← `domain` ← `command` → `store`;
//! nothing in `domain` knows the handler or the store.
//!
//! ## To add a command (four files)
//!
//! 1. `domain/<aggregate>.rs` (or a file of `domain/volunteer/`): the payload struct
//!    (serde, `Clone`, `PartialEq`) and its rule, a pure function from the states and the
//!    payload to `DomainResult<Vec<Event>>` (a new event also goes in `event.rs`).
//! 2. `command/<family>.rs`: `impl Payload { fn locks(&self); async fn plan(&self, d) }`
//!    — the streams it writes, the states it loads through the [`command`] module's
//!    `Decision`, the rule, and its result type (a struct there, serde, whose JSON is
//!    what its command record keeps).
//! 3. `command/mod.rs`: one line in the `commands!` list, `Payload => Result`, and a
//!    `pub use` of the payload. [`command::authorize`] needs a line only if volunteers
//!    may issue it or it is for administrators alone.
//! 4. `tests/domain/<concept>.rs`: given / when / then ([`testing::given`]).
//!
//! The API's mutation goes in `api/src/schema/mutation/<family>.rs` (see the api
//! crate's map).

pub mod actor;
pub mod amount;
pub mod bulk;
pub mod command;
pub mod demo;
pub mod domain;
pub mod event;
pub mod ids;
pub mod store;
#[doc(hidden)]
pub mod testing;

pub use store::Store;
