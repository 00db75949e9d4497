//! Wrong check-in codes are throttled per volunteer: after [`MAX_WRONG_CODES`] wrong (or
//! expired) codes within a minute, a code from that volunteer is refused with
//! `TOO_MANY_ATTEMPTS` until the oldest of them is a minute old, so that guessing the
//! 10⁶ codes of a period is out of reach. Kept in the process (a cluster of N
//! processes allows N times as many guesses: still a few a minute).

use super::Command;
use crate::domain::DomainError;
use crate::ids::VolunteerId;
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Wrong codes a volunteer may send within `WINDOW_SECONDS` (a minute).
pub const MAX_WRONG_CODES: usize = 5;
const WINDOW_SECONDS: i64 = 60;

#[derive(Default)]
pub(crate) struct CodeThrottle {
    wrong: Mutex<HashMap<VolunteerId, VecDeque<DateTime<Utc>>>>,
}

/// The volunteer a command sends a code for, if it sends one.
pub(crate) fn code_sender(command: &Command) -> Option<VolunteerId> {
    match command {
        Command::CheckIn(c) if c.code.is_some() => Some(c.volunteer_id),
        Command::CheckOut(c) if c.code.is_some() => Some(c.volunteer_id),
        _ => None,
    }
}

impl CodeThrottle {
    /// Refuses a code from `v` while they have sent too many wrong ones.
    pub(crate) fn check(&self, v: VolunteerId, now: DateTime<Utc>) -> Result<(), DomainError> {
        let mut wrong = self.wrong.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = wrong.get_mut(&v) else {
            return Ok(());
        };
        let since = now - Duration::seconds(WINDOW_SECONDS);
        while times.front().is_some_and(|t| *t <= since) {
            times.pop_front();
        }
        match times.front() {
            Some(oldest) if times.len() >= MAX_WRONG_CODES => Err(DomainError::TooManyAttempts {
                volunteer_id: v,
                retry_after_seconds: (*oldest - since).num_seconds().max(1) as u32,
            }),
            None => {
                wrong.remove(&v);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Counts a wrong code from `v`.
    pub(crate) fn wrong(&self, v: VolunteerId, now: DateTime<Utc>) {
        let mut wrong = self.wrong.lock().unwrap_or_else(|e| e.into_inner());
        if wrong.len() > 100_000 {
            let since = now - Duration::seconds(WINDOW_SECONDS);
            wrong.retain(|_, t| t.back().is_some_and(|last| *last > since));
        }
        wrong.entry(v).or_default().push_back(now);
    }
}
