//! A volunteer's inbox (消息): messages as the `inbox` read model keeps them (facts, not
//! sentences: the pages word them), a page of them with the unread count, and the
//! community's recent awards for the hall display (names as the caller may see them).

use super::person::{person_fields, show_name, Visibility};
use super::{hours_of, points_of};
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::id;
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use projections::common::{from_millis, hours_dec, points_dec};
use uuid::Uuid;

/// What a message tells.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "projections::inbox::Kind")]
pub enum InboxKind {
    /// Registered: the volunteer number (subject).
    Welcome,
    /// Signed up for the activity (subject: its title).
    SignedUp,
    /// On the activity's waiting list.
    Waitlisted,
    /// Moved up from the waiting list to a place.
    MovedUp,
    /// The activity changed (detail: why).
    ActivityChanged,
    /// The activity was cancelled (detail: why).
    ActivityCancelled,
    /// Attendance approved into its 公示 notice (hours, points, until).
    OnNotice,
    /// Someone objected to the volunteer's record (detail: the reason).
    ObjectionRaised,
    /// The objection was dismissed: the record stands.
    ObjectionDismissed,
    /// The objection was upheld: the record corrected to these hours and points.
    ObjectionCorrected,
    /// The objection was upheld: the record is not counted.
    ObjectionRejected,
    /// A service verified: hours and points in the balance (subject: the service).
    ServiceCredited,
    /// A service rejected (detail: why).
    ServiceRejected,
    /// Points awarded (detail: the reason).
    PointsAwarded,
    /// Points redeemed (subject: the item).
    PointsRedeemed,
    /// A redemption cancelled before collection: its points back (subject: the item;
    /// detail: why).
    PointsRefunded,
    /// Points whose validity ended (积分到期).
    PointsExpired,
    /// An entry corrected (冲正): these points and hours taken back (detail: why).
    EntryReversed,
    /// Hours received from another volunteer.
    HoursReceived,
    /// Hours spent on a service received (subject: what).
    HoursSpent,
    /// Claimed the wish (subject: the wish).
    WishClaimed,
    /// Released the wish.
    WishReleased,
    /// The wish the volunteer fulfilled was confirmed.
    WishConfirmed,
    /// The wish was cancelled (detail: why).
    WishCancelled,
    /// The record moved to another community (转移接续; subject: the new volunteer
    /// number; points: what stayed with the old community, if any).
    Transferred,
}

/// A message of a volunteer's inbox.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct InboxMessage {
    /// The log position of the event it tells of.
    pub position: u64,
    pub kind: InboxKind,
    /// The activity's title, the wish's text, the service's description, the item.
    pub subject: String,
    pub hours: Option<HoursScalar>,
    pub points: Option<PointsScalar>,
    /// The reason given with it.
    pub detail: String,
    /// When a 公示 notice ends.
    pub until: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
    /// Not read yet (after the position the volunteer last read up to).
    pub unread: bool,
    /// Whose message it is (in a community's list of recent awards).
    pub volunteer_id: ID,
    #[graphql(skip)]
    pub volunteer: Uuid,
    #[graphql(skip)]
    pub other: Option<Uuid>,
    #[graphql(skip)]
    pub vis: Visibility,
}

impl InboxMessage {
    pub fn new(m: projections::inbox::Message, seen: u64, vis: Visibility) -> InboxMessage {
        InboxMessage {
            position: m.position,
            kind: m.kind.into(),
            subject: m.subject,
            hours: m.minutes.map(|x| hours_of(hours_dec(x))),
            points: m.hundredths.map(|x| points_of(points_dec(x))),
            detail: m.detail,
            until: m.until.map(from_millis),
            at: from_millis(m.at),
            unread: m.position > seen,
            volunteer_id: id(m.volunteer),
            volunteer: m.volunteer,
            other: m.other,
            vis,
        }
    }
}

#[ComplexObject]
impl InboxMessage {
    /// The volunteer's name as the caller may see it (shortened on displays).
    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(show_name(
            &person_fields(ctx, self.volunteer).await?,
            self.vis,
        ))
    }

    /// The other volunteer it names (who gave the hours), shortened.
    async fn other_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(o) = self.other else { return Ok(None) };
        Ok(show_name(&person_fields(ctx, o).await?, Visibility::Public))
    }
}

/// A page of the inbox, newest first.
#[derive(SimpleObject)]
pub struct InboxPage {
    pub messages: Vec<InboxMessage>,
    /// Messages after the position read up to, in the whole inbox.
    pub unread: u64,
    /// The newest message's position (pass it to `markInboxRead`).
    pub newest: u64,
    pub has_next_page: bool,
    /// Pass as `before` for the next (older) page.
    pub end_cursor: Option<u64>,
}
