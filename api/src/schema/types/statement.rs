//! The lines of a volunteer's statement (账户明细) with running balances, and a page
//! of them.

use super::{hours_of, points_of};
use crate::scalars::{HoursScalar, PointsScalar};
use crate::schema::args::id;
use async_graphql::{SimpleObject, ID};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One line of a statement (账户明细).
#[derive(SimpleObject, Clone)]
pub struct StatementEntry {
    pub entry_id: ID,
    /// SERVICE_VERIFIED, POINTS_AWARDED, POINTS_REDEEMED, POINTS_REFUNDED (a redemption
    /// cancelled before collection), POINTS_EXPIRED (积分到期), REVERSAL, HOURS_GIFTED,
    /// HOURS_RECEIVED or HOURS_SPENT.
    pub kind: String,
    pub points_delta: PointsScalar,
    pub hours_delta: HoursScalar,
    pub points_balance: PointsScalar,
    pub hours_balance: HoursScalar,
    /// What the entry was: for a service its kind, place and note, with （活动签到） or
    /// （补录） for an activity's record ("巡逻 小区北门 北门巡逻（活动签到）"); the reason
    /// of an award or a reversal; the item redeemed; what hours were spent on; the
    /// gift of hours, 赠送时长 or 收到赠送的时长 (the other volunteer is `counterpart`).
    pub description: String,
    /// The entry this one reverses.
    pub reverses: Option<ID>,
    /// The reversal (冲正) that undid this entry.
    pub reversed_by: Option<ID>,
    /// The other volunteer of a gift, or the volunteer who gave a service paid for with
    /// hours.
    pub counterpart: Option<ID>,
    /// The event that wrote the entry, and its log position.
    pub event_id: ID,
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    /// Opaque cursor of this entry.
    pub cursor: String,
}

/// The API's name of a statement kind of the read model.
fn entry_kind(kind: &str) -> String {
    match kind {
        "entry_reversed" => "REVERSAL".to_string(),
        other => other.to_ascii_uppercase(),
    }
}

impl From<projections::statement::StatementEntry> for StatementEntry {
    fn from(e: projections::statement::StatementEntry) -> Self {
        let mark = projections::statement::PROVIDER_MARK;
        let counterpart = match e.kind.as_str() {
            "hours_gifted" => e.detail.strip_prefix("to "),
            "hours_received" => e.detail.strip_prefix("from "),
            "hours_spent" => e
                .detail
                .split_once(mark)
                .and_then(|(_, p)| p.strip_prefix("from ")),
            _ => None,
        }
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
        .map(id);
        let description = match e.kind.as_str() {
            "hours_gifted" => "赠送时长".to_string(),
            "hours_received" => "收到赠送的时长".to_string(),
            "hours_spent" => e.detail.split(mark).next().unwrap_or_default().to_string(),
            _ => e.detail.clone(),
        };
        StatementEntry {
            entry_id: id(e.entry_id.0),
            kind: entry_kind(&e.kind),
            points_delta: points_of(e.points_delta),
            hours_delta: hours_of(e.hours_delta),
            points_balance: points_of(e.points_balance),
            hours_balance: hours_of(e.hours_balance),
            description,
            reverses: e.reverses.map(|r| id(r.0)),
            reversed_by: e.reversed_by.map(|r| id(r.0)),
            counterpart,
            event_id: id(e.event_id),
            position: e.position,
            recorded_at: e.recorded_at,
            cursor: e.seq.to_string(),
        }
    }
}

/// A page of a statement.
#[derive(SimpleObject)]
pub struct StatementPage {
    pub entries: Vec<StatementEntry>,
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}
