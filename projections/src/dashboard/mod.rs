//! The community dashboard: active volunteers, volunteers who served, hours and points
//! this month and this year, services by kind, open wishes and wishes in progress, and
//! the current 流动红旗 stairwell (read from [`crate::stairwells`]).
//!
//! Hours and services count verified services by the (UTC+8) month they started;
//! points count verified-service points by that month and awards by the month they were
//! recorded; a reversal removes its entry from the month the entry was counted in.
//! Active volunteers: registered and not departed. Open wishes: posted or released and
//! not claimed; in progress: claimed or fulfilled but not yet confirmed.
//!
//! - `fold`: the rows in memory and how events change them (counts kept as deltas).
//! - `store`: the rows a batch reads back, and the changed rows and deltas written.
//! - `query`: a community's dashboard for a day.
//! - `rollup`: one community's line in a street's or district's table.

mod active;
mod fold;
mod query;
mod rollup;
mod store;

pub use query::{dashboard, CommunityDashboard, KindCount, PeriodTotals};
pub use rollup::{communities_figures, community_figures, CommunityFigures};

use crate::db::Tx;
use crate::error::Result;
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use fold::DashState;
use futures::future::BoxFuture;
use ledger::event::Event;

pub const NAME: &str = "dashboard";

const TABLES: &[TableDef] = &[
    // The periods' active volunteers (see `active`): the volunteers' counts per
    // community, period and volunteer, keyed `community|period|volunteer`, and how
    // many have some.
    TableDef {
        name: "pj_dash_active_vols",
        columns: "k TEXT NOT NULL PRIMARY KEY, services BIGINT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_active",
        columns: "community_id TEXT NOT NULL, period TEXT NOT NULL, volunteers BIGINT NOT NULL,
            PRIMARY KEY (community_id, period)",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_communities",
        columns: "community_id TEXT NOT NULL PRIMARY KEY, active_volunteers BIGINT NOT NULL, open_wishes BIGINT NOT NULL,
            wishes_in_progress BIGINT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_months",
        columns: "community_id TEXT NOT NULL, month TEXT NOT NULL, points BIGINT NOT NULL, minutes BIGINT NOT NULL,
            services BIGINT NOT NULL, PRIMARY KEY (community_id, month)",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_kinds",
        columns: "community_id TEXT NOT NULL, month TEXT NOT NULL, kind TEXT NOT NULL, services BIGINT NOT NULL,
            minutes BIGINT NOT NULL, PRIMARY KEY (community_id, month, kind)",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_served",
        columns: "community_id TEXT NOT NULL, month TEXT NOT NULL, volunteer_id TEXT NOT NULL, services BIGINT NOT NULL,
            PRIMARY KEY (community_id, month, volunteer_id)",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_volunteers",
        columns: "volunteer_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, departed BIGINT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_services",
        columns: "service_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, month TEXT NOT NULL, kind TEXT,
            volunteer_id TEXT NOT NULL",
        indexes: &[],
    },
    TableDef {
        name: "pj_dash_wishes",
        columns: "wish_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, bucket TEXT NOT NULL",
        indexes: &[],
    },
];

/// Dashboard bucket of a wish status event.
pub fn wish_bucket(event: &Event) -> Option<&'static str> {
    Some(match event {
        Event::WishPosted { .. } | Event::WishReleased { .. } => "open",
        Event::WishClaimed { .. } | Event::WishFulfilled { .. } => "in_progress",
        Event::WishConfirmed { .. } | Event::WishCancelled { .. } => "closed",
        _ => return None,
    })
}

/// The dashboard projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Dashboard;

impl Projection for Dashboard {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        // 3: the periods' active volunteers (pj_dash_active).
        3
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
            Box::new(DashState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(DashState::new(fresh)))
    }
    fn retired_tables(&self) -> &'static [&'static str] {
        &[
            "pj_dash_kv_volunteers",
            "pj_dash_kv_services",
            "pj_dash_kv_entries",
            "pj_dash_kv_wishes",
            "pj_dash_entries",
        ]
    }
}
