//! Balances per volunteer (积分 and 时间银行): points balance, earned, spent and
//! reversed; hours banked (the hours balance), gifted, received, spent and reversed;
//! verified service hours; the star level (星级) under the thresholds in force and the
//! date each star was reached; the negative-balance flag.
//!
//! Rules:
//! - points earned = verified service points + awards; balance = earned − spent −
//!   reversed − expired (积分到期);
//! - hours banked = verified hours + received − gifted − spent − reversed hours;
//! - verified service hours = verified hours − reversed hours;
//! - star thresholds are versioned: the version in force on a day is the one with the
//!   latest `effective_from` on or before it (ties: the higher version), the national
//!   default 100/300/600/1000/1500 h before any (as `CommunityState::star_thresholds_on`);
//! - a version may ask for points as well (star points = points earned − points
//!   reversed; spending does not lower them): a star is then held when both the verified
//!   hours and the star points reach its thresholds;
//! - the current star level counts the stars held under the thresholds in force *today*;
//! - a star is held on a day when the account meets its thresholds in force that day;
//!   the date it was reached is the (UTC+8) day it was last taken from not held to
//!   held: by an entry (under the thresholds in force on the entry's day), or by a new
//!   version coming into force (on its `effective_from`). A star not held has no date.
//!
//! The read model keeps every dated version and each account's timeline of verified
//! hours and star points, and evaluates stars when read, for the reading day: a version dated in the
//! future changes nothing until its day comes, and then applies without any new event.
//!
//! - `account`: one volunteer's account and how an event changes it.
//! - `stars`: the star rules (thresholds in force on a day, the dates stars were reached).
//! - `rows`: how an account and a threshold version are kept in rows.
//! - `state`: the accounts in memory: read back, folded, written.
//! - `query`: a volunteer's balances, a community's (by number, points or hours, and
//!   their totals), the flagged ones.

mod account;
mod query;
mod rows;
mod stars;
mod state;

pub use account::{evolve, Account};
pub use query::{
    accounts_with_points, balance, balance_on, balances_of_community, balances_of_community_by,
    communities_of, community_totals, negative_balances, threshold_versions, threshold_versions_of,
    today, Balance, BalanceOrder, CommunityTotals, Star,
};
pub use stars::{
    default_thresholds, star_level, star_step, stars_on, thresholds_on, Criteria, Progress,
    StarsOn, ThresholdVersion,
};

use crate::db::Tx;
use crate::error::Result;
use crate::projection::{apply_with_state, Envelope, Names, Projection, State, TableDef};
use futures::future::BoxFuture;
use state::BalanceState;

pub const NAME: &str = "balances";

const TABLES: &[TableDef] = &[
    TableDef {
        name: "pj_balances",
        columns: "volunteer_id TEXT NOT NULL PRIMARY KEY, community_id TEXT NOT NULL, volunteer_number TEXT NOT NULL,
            points_balance BIGINT NOT NULL, points_earned BIGINT NOT NULL, points_spent BIGINT NOT NULL, points_reversed BIGINT NOT NULL,
            hours_banked BIGINT NOT NULL, hours_gifted BIGINT NOT NULL, hours_received BIGINT NOT NULL, hours_spent BIGINT NOT NULL,
            hours_reversed BIGINT NOT NULL, verified_minutes BIGINT NOT NULL,
            negative BIGINT NOT NULL, position BIGINT NOT NULL, timeline TEXT NOT NULL, points_expired BIGINT NOT NULL,
            points_left BIGINT NOT NULL",
        // The second serves a street's star counts: only the accounts at or above the
        // first star's hours are read, from the index alone.
        indexes: &[
            "(community_id, volunteer_number)",
            "(community_id, verified_minutes, points_earned, points_reversed)",
        ],
    },
    TableDef {
        name: "pj_balances_stars",
        columns: "community_id TEXT NOT NULL, version BIGINT NOT NULL, effective_from BIGINT NOT NULL,
            thresholds TEXT NOT NULL, PRIMARY KEY (community_id, version)",
        indexes: &[],
    },
];

/// The balances projection.
#[derive(Debug, Default, Clone, Copy)]
pub struct Balances;

impl Projection for Balances {
    fn name(&self) -> &'static str {
        NAME
    }
    fn version(&self) -> u32 {
        // 3: dated threshold versions, stars evaluated when read. 4: a negative hours
        // balance flags the account too. 5: star rules with points (the timeline keeps
        // the points earned). 6: points expired. 7: moves between communities
        // (转移接续) and the points that stayed; an index for star counts.
        7
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
            Box::new(BalanceState::new(false)),
            tx,
            names,
            events,
        ))
    }
    fn state(&self, fresh: bool) -> Option<Box<dyn State>> {
        Some(Box::new(BalanceState::new(fresh)))
    }
    fn retired_tables(&self) -> &'static [&'static str] {
        &["pj_balances_timeline"]
    }
}
