//! Each volunteer's inbox (消息): what the ledger did that concerns them, one message per
//! event — signed up or on the waiting list, moved up, an activity changed or
//! cancelled, a record in its 公示 notice, an objection raised or decided, hours and
//! points credited, a service rejected, points awarded, redeemed or refunded, a correction, hours
//! received or spent, a wish claimed, released, confirmed or cancelled, and a welcome
//! at registration. Which events and why is in `fold`.
//!
//! A message keeps its facts (kind, subject, amounts, reason), not a sentence: the
//! pages word it in the reader's language. Whether it was read is not a fact of the
//! ledger: the API keeps each volunteer's last read position beside the log.
//!
//! - `fold`: the messages of an event;
//! - `store`: the rows a batch holds, read back and written in bulk;
//! - `query`: a volunteer's messages, the unread count, a community's recent awards.

mod fold;
mod query;
mod store;

pub use query::*;

use crate::db::Tx;
use crate::error::Result;
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use futures::future::BoxFuture;
use store::InboxState;
use uuid::Uuid;

pub const NAME: &str = "inbox";

const TABLES: &[TableDef] = &[
    // One row per message; amounts as minutes and hundredths; times epoch milliseconds.
    TableDef {
        name: "pj_inbox",
        columns: "volunteer_id TEXT NOT NULL, position BIGINT NOT NULL, community_id TEXT NOT NULL,
            kind TEXT NOT NULL, subject TEXT NOT NULL, minutes BIGINT, hundredths BIGINT,
            detail TEXT NOT NULL, other TEXT, until_at BIGINT, at BIGINT NOT NULL,
            PRIMARY KEY (volunteer_id, position)",
        indexes: &["(community_id, position)"],
    },
    // What messages name: activities (title), wishes (text and claimer), services not
    // yet verified (description) and volunteers (number and community).
    TableDef {
        name: "pj_inbox_subjects",
        columns:
            "id TEXT NOT NULL PRIMARY KEY, text TEXT NOT NULL, community_id TEXT NOT NULL, who TEXT",
        indexes: &[],
    },
];

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Kind {
    Welcome,
    SignedUp,
    Waitlisted,
    MovedUp,
    ActivityChanged,
    ActivityCancelled,
    /// A record approved into its 公示 notice (hours, points, until).
    OnNotice,
    ObjectionRaised,
    ObjectionDismissed,
    ObjectionCorrected,
    ObjectionRejected,
    /// A verified service: hours and points in the balance.
    ServiceCredited,
    ServiceRejected,
    PointsAwarded,
    PointsRedeemed,
    /// A redemption cancelled before collection: its points back.
    PointsRefunded,
    /// Points whose validity ended (积分到期).
    PointsExpired,
    EntryReversed,
    HoursReceived,
    HoursSpent,
    WishClaimed,
    WishReleased,
    WishConfirmed,
    WishCancelled,
    /// The record moved to another community (subject: the new number).
    Transferred,
}

impl Kind {
    pub const ALL: [Kind; 25] = [
        Kind::Welcome,
        Kind::SignedUp,
        Kind::Waitlisted,
        Kind::MovedUp,
        Kind::ActivityChanged,
        Kind::ActivityCancelled,
        Kind::OnNotice,
        Kind::ObjectionRaised,
        Kind::ObjectionDismissed,
        Kind::ObjectionCorrected,
        Kind::ObjectionRejected,
        Kind::ServiceCredited,
        Kind::ServiceRejected,
        Kind::PointsAwarded,
        Kind::PointsRedeemed,
        Kind::PointsRefunded,
        Kind::PointsExpired,
        Kind::EntryReversed,
        Kind::HoursReceived,
        Kind::HoursSpent,
        Kind::WishClaimed,
        Kind::WishReleased,
        Kind::WishConfirmed,
        Kind::WishCancelled,
        Kind::Transferred,
    ];

    /// The name stored (`POINTS_AWARDED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Welcome => "WELCOME",
            Kind::SignedUp => "SIGNED_UP",
            Kind::Waitlisted => "WAITLISTED",
            Kind::MovedUp => "MOVED_UP",
            Kind::ActivityChanged => "ACTIVITY_CHANGED",
            Kind::ActivityCancelled => "ACTIVITY_CANCELLED",
            Kind::OnNotice => "ON_NOTICE",
            Kind::ObjectionRaised => "OBJECTION_RAISED",
            Kind::ObjectionDismissed => "OBJECTION_DISMISSED",
            Kind::ObjectionCorrected => "OBJECTION_CORRECTED",
            Kind::ObjectionRejected => "OBJECTION_REJECTED",
            Kind::ServiceCredited => "SERVICE_CREDITED",
            Kind::ServiceRejected => "SERVICE_REJECTED",
            Kind::PointsAwarded => "POINTS_AWARDED",
            Kind::PointsRedeemed => "POINTS_REDEEMED",
            Kind::PointsRefunded => "POINTS_REFUNDED",
            Kind::PointsExpired => "POINTS_EXPIRED",
            Kind::EntryReversed => "ENTRY_REVERSED",
            Kind::HoursReceived => "HOURS_RECEIVED",
            Kind::HoursSpent => "HOURS_SPENT",
            Kind::WishClaimed => "WISH_CLAIMED",
            Kind::WishReleased => "WISH_RELEASED",
            Kind::WishConfirmed => "WISH_CONFIRMED",
            Kind::WishCancelled => "WISH_CANCELLED",
            Kind::Transferred => "TRANSFERRED",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One message of a volunteer's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub volunteer: Uuid,
    /// The position of the event it tells of (its key with the volunteer).
    pub position: u64,
    pub community: Uuid,
    pub kind: Kind,
    /// The activity's title, the wish's text, the service's description, the item.
    pub subject: String,
    pub minutes: Option<i64>,
    pub hundredths: Option<i64>,
    /// The reason given (an award's, a change's, a rejection's, …).
    pub detail: String,
    /// Another volunteer it names (who gave the hours).
    pub other: Option<Uuid>,
    /// When a notice ends, epoch milliseconds.
    pub until: Option<i64>,
    /// When it happened, epoch milliseconds.
    pub at: i64,
}

/// A thing messages name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub text: String,
    pub community: Uuid,
    /// A wish's claimer; a service's volunteer.
    pub who: Option<Uuid>,
}

/// The inbox projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Inbox;

impl Projection for Inbox {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        1
    }
    fn tables(&self) -> &'static [TableDef] {
        TABLES
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut Tx<'_>,
        names: &'a Names,
        events: &'a [Envelope],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(apply_with_state(
            Box::new(InboxState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(InboxState::new(fresh)))
    }
}
