//! Given past events, when a command, then these events or this error: the domain's
//! rules tested the way cqrs-es's `TestFramework` reads, with no database. The
//! command's real plan runs (its authorization, the states it loads, the rule it calls
//! and the result it answers), on states folded from the given events.
//!
//! ```
//! use ledger::command::{Actor, EstablishCommunity};
//! use ledger::event::Event;
//! use ledger::ids::CommunityId;
//! use ledger::testing::given;
//! use uuid::Uuid;
//!
//! let admin = Actor::admin(Uuid::nil());
//! let then = given().when(&admin, EstablishCommunity { name: "幸福社区".into() });
//! let id = CommunityId(then.id("community"));
//! then.then_expect_events(vec![Event::CommunityEstablished {
//!     community_id: id,
//!     name: "幸福社区".into(),
//! }]);
//! ```

use crate::actor::Actor;
use crate::command::decision::{Decision, Keys};
use crate::command::{Command, CommandError, CommandHandler, Outcome};
use crate::domain::activity::CodeKey;
use crate::domain::volunteer::HouseholdKey;
use crate::domain::{Ctx, DomainError, IdSource};
use crate::event::Event;
use crate::ids::*;
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// Past events, per stream, and the time the command is decided at.
#[derive(Debug, Clone)]
pub struct Given {
    streams: HashMap<String, Vec<Event>>,
    now: DateTime<Utc>,
    key: String,
}

/// Nothing has happened yet; the time is 2025-06-01 12:00 in China (04:00 UTC), the
/// idempotency key `test`.
pub fn given() -> Given {
    Given {
        streams: HashMap::new(),
        now: Utc
            .with_ymd_and_hms(2025, 6, 1, 4, 0, 0)
            .single()
            .expect("a valid time"),
        key: "test".to_string(),
    }
}

impl Given {
    /// These events happened on `stream`, after those given before.
    pub fn stream(
        mut self,
        stream: impl Into<String>,
        events: impl IntoIterator<Item = Event>,
    ) -> Given {
        self.streams
            .entry(stream.into())
            .or_default()
            .extend(events);
        self
    }

    pub fn community(self, id: CommunityId, events: impl IntoIterator<Item = Event>) -> Given {
        self.stream(community_stream(id), events)
    }

    pub fn volunteer(self, id: VolunteerId, events: impl IntoIterator<Item = Event>) -> Given {
        self.stream(volunteer_stream(id), events)
    }

    pub fn wish(self, id: WishId, events: impl IntoIterator<Item = Event>) -> Given {
        self.stream(wish_stream(id), events)
    }

    pub fn stairwell(self, id: StairwellId, events: impl IntoIterator<Item = Event>) -> Given {
        self.stream(stairwell_stream(id), events)
    }

    pub fn shop_item(self, id: ShopItemId, events: impl IntoIterator<Item = Event>) -> Given {
        self.stream(shop_item_stream(id), events)
    }

    /// The command is decided at `now`.
    pub fn at(mut self, now: DateTime<Utc>) -> Given {
        self.now = now;
        self
    }

    /// The command's idempotency key (the ids it creates derive from it).
    pub fn key(mut self, key: &str) -> Given {
        self.key = key.to_string();
        self
    }

    /// `actor` issues `command`.
    pub fn when(self, actor: &Actor, command: impl Into<Command>) -> Then {
        let command = command.into();
        let ids = CommandHandler::ids_for(actor, &self.key);
        let keys = Keys {
            household: HouseholdKey::new("given"),
            codes: CodeKey::new("given"),
        };
        let ctx = Ctx::new(self.now, actor, ids);
        let decision = Decision::on_given(ctx, &command, &keys, &self.streams);
        let result = futures::executor::block_on(command.plan(&decision)).map(|plan| {
            let writes = plan
                .writes
                .into_iter()
                .map(|w| (w.stream, w.events))
                .collect();
            (plan.result, writes)
        });
        Then {
            command: command.name(),
            ids,
            result,
        }
    }
}

/// A command's result and its writes: the events per stream.
type Decided = (Outcome, Vec<(String, Vec<Event>)>);

/// What the command decided.
#[derive(Debug)]
pub struct Then {
    command: &'static str,
    ids: IdSource,
    result: Result<Decided, CommandError>,
}

impl Then {
    /// An id the command created, by its label (`entry`, `wish`, `service`, …).
    pub fn id(&self, label: &str) -> Uuid {
        self.ids.id(label)
    }

    /// The events the command appends, in order, over all its streams.
    pub fn events(&self) -> Vec<Event> {
        self.writes().iter().flat_map(|(_, e)| e.clone()).collect()
    }

    fn writes(&self) -> &[(String, Vec<Event>)] {
        &self.decided().1
    }

    #[track_caller]
    fn decided(&self) -> &Decided {
        match &self.result {
            Ok(decided) => decided,
            Err(e) => panic!("{} was refused ({}): {e}", self.command, e.code()),
        }
    }

    /// Then the command appends exactly these events (over all its streams, in order).
    #[track_caller]
    pub fn then_expect_events(self, expected: Vec<Event>) -> Then {
        assert_eq!(self.events(), expected, "the events of {}", self.command);
        self
    }

    /// Then the command appends exactly these events to `stream`.
    #[track_caller]
    pub fn then_expect_stream(self, stream: &str, expected: Vec<Event>) -> Then {
        let written: Vec<Event> = self
            .writes()
            .iter()
            .filter(|(s, _)| s == stream)
            .flat_map(|(_, e)| e.clone())
            .collect();
        assert_eq!(
            written, expected,
            "the events of {} on {stream}",
            self.command
        );
        self
    }

    /// Then the command is refused with this code; the error, to look at its facts.
    #[track_caller]
    pub fn then_expect_error(self, code: &str) -> DomainError {
        match self.result {
            Ok((_, writes)) => panic!(
                "{} was expected to fail with {code}, but it wrote {writes:?}",
                self.command
            ),
            Err(e) => {
                assert_eq!(e.code(), code, "the error of {}: {e}", self.command);
                match e {
                    CommandError::Domain(d) => d,
                    other => panic!("{} failed outside the domain: {other}", self.command),
                }
            }
        }
    }

    /// The command's result.
    #[track_caller]
    pub fn outcome(&self) -> Outcome {
        self.decided().0.clone()
    }
}
