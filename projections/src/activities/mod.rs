//! Activities (志愿活动): each activity with its counts, every volunteer in it (sign-up,
//! waiting list, check-in and check-out, their record and its status through the 公示
//! notice), and the objections raised against records.
//!
//! - `fold`: how each activity event changes the rows;
//! - `store`: the rows held by a batch, read back and written in bulk;
//! - `query`: what the API and the server's finality task read.
//!
//! Statuses: an activity is `open` (recruiting, running or ended, until its attendance
//! is approved), `approved` or `cancelled`; a record is `pending` (in its notice),
//! `final` (credited to the account), `rejected` (by an upheld objection), or the
//! volunteer was `excluded` at approval. Times are epoch milliseconds; hours are stored
//! as minutes and points as hundredths.

mod fold;
mod query;
mod store;

pub use query::*;

use crate::db::Tx;
use crate::error::Result;
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use futures::future::BoxFuture;
use uuid::Uuid;

pub const NAME: &str = "activities";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_activities",
        columns: "activity_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, title TEXT NOT NULL,
            kind TEXT NOT NULL, place TEXT NOT NULL, starts_at BIGINT NOT NULL, ends_at BIGINT NOT NULL,
            places BIGINT NOT NULL, signup_deadline BIGINT NOT NULL, team TEXT, grid TEXT, tag TEXT,
            walk_ins BIGINT NOT NULL, status TEXT NOT NULL, taken BIGINT NOT NULL, waiting BIGINT NOT NULL,
            checked_in BIGINT NOT NULL, pending BIGINT NOT NULL, approved_at BIGINT, notice_until BIGINT,
            seq BIGINT NOT NULL, posted_at BIGINT NOT NULL, position BIGINT NOT NULL",
        indexes: &["(community_id, starts_at)"],
    },
    TableDef {
        name: "pj_activity_people",
        columns: "k TEXT NOT NULL PRIMARY KEY, activity_id TEXT NOT NULL, volunteer_id TEXT NOT NULL,
            community_id TEXT NOT NULL, signup TEXT NOT NULL, seq BIGINT, signed_up_at BIGINT,
            checked_in BIGINT, checked_out BIGINT, walk_in BIGINT NOT NULL, by_staff BIGINT NOT NULL,
            record TEXT, source TEXT, record_from BIGINT, record_until BIGINT, checkout_missing BIGINT NOT NULL,
            minutes BIGINT, points BIGINT, notice_until BIGINT, adjusted TEXT, excluded TEXT,
            position BIGINT NOT NULL",
        indexes: &["(activity_id)", "(volunteer_id, record)", "(record, notice_until)"],
    },
    TableDef {
        name: "pj_activity_objections",
        columns: "objection_id TEXT NOT NULL PRIMARY KEY, activity_id TEXT NOT NULL, volunteer_id TEXT NOT NULL,
            reason TEXT NOT NULL, raised_by TEXT NOT NULL, raised_at BIGINT NOT NULL, open BIGINT NOT NULL,
            decision TEXT, resolution TEXT, resolved_at BIGINT, minutes BIGINT",
        indexes: &["(activity_id)"],
    },
];

/// An activity as folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityRow {
    pub community_id: Uuid,
    pub title: String,
    pub kind: String,
    pub place: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub places: i64,
    pub signup_deadline: i64,
    pub team: Option<Uuid>,
    pub grid: Option<Uuid>,
    pub tag: Option<String>,
    pub walk_ins: bool,
    pub status: String,
    /// Places held.
    pub taken: i64,
    /// On the waiting list.
    pub waiting: i64,
    pub checked_in: i64,
    /// Records in their notice.
    pub pending: i64,
    pub approved_at: Option<i64>,
    pub notice_until: Option<i64>,
    /// Counts sign-ups, to keep the waiting list's order.
    pub seq: i64,
    pub posted_at: i64,
    pub position: u64,
}

/// A volunteer in an activity, as folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonRow {
    pub activity_id: Uuid,
    pub volunteer_id: Uuid,
    pub community_id: Uuid,
    /// `place`, `waiting` or `none`.
    pub signup: String,
    /// The order of the sign-up (the waiting list's order).
    pub seq: Option<i64>,
    pub signed_up_at: Option<i64>,
    pub checked_in: Option<i64>,
    pub checked_out: Option<i64>,
    pub walk_in: bool,
    pub by_staff: bool,
    /// `pending`, `final`, `rejected`, `excluded`.
    pub record: Option<String>,
    /// `attendance` or `late` (补录).
    pub source: Option<String>,
    pub record_from: Option<i64>,
    pub record_until: Option<i64>,
    pub checkout_missing: bool,
    pub minutes: Option<i64>,
    pub points: Option<i64>,
    pub notice_until: Option<i64>,
    pub adjusted: Option<String>,
    pub excluded: Option<String>,
    pub position: u64,
}

/// An objection, as folded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectionRow {
    pub activity_id: Uuid,
    pub volunteer_id: Uuid,
    pub reason: String,
    pub raised_by: Uuid,
    pub raised_at: i64,
    pub open: bool,
    /// `dismissed`, `corrected`, `rejected`.
    pub decision: Option<String>,
    pub resolution: Option<String>,
    pub resolved_at: Option<i64>,
    /// The corrected hours, as minutes.
    pub minutes: Option<i64>,
}

/// The key of a volunteer's row in an activity.
pub(crate) fn person_key(activity: Uuid, volunteer: Uuid) -> String {
    format!("{activity}:{volunteer}")
}

/// The activities projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Activities;

impl Projection for Activities {
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
            Box::new(store::ActivityState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(store::ActivityState::new(fresh)))
    }
}
