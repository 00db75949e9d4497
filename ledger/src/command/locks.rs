//! In-process locks per stream: commands of one process on the same stream queue up
//! here instead of retrying against each other's version conflicts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

/// In-process per-stream locks.
#[derive(Default)]
pub(crate) struct StreamLocks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Held locks; dropping them releases the streams (and forgets locks nobody waits on).
pub(crate) struct StreamGuards<'a> {
    guards: Vec<OwnedMutexGuard<()>>,
    keys: Vec<String>,
    locks: &'a StreamLocks,
}

impl Drop for StreamGuards<'_> {
    fn drop(&mut self) {
        self.guards.clear();
        let mut map = self.locks.map.lock().unwrap_or_else(|e| e.into_inner());
        for k in &self.keys {
            if map.get(k).is_some_and(|m| Arc::strong_count(m) == 1) {
                map.remove(k);
            }
        }
    }
}

impl StreamLocks {
    /// Locks `keys` in a fixed order (so two commands cannot deadlock).
    pub(crate) async fn lock(&self, mut keys: Vec<String>) -> StreamGuards<'_> {
        keys.sort();
        keys.dedup();
        let mut guards = Vec::with_capacity(keys.len());
        for k in &keys {
            let m = {
                let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
                map.entry(k.clone()).or_default().clone()
            };
            guards.push(m.lock_owned().await);
        }
        StreamGuards {
            guards,
            keys,
            locks: self,
        }
    }
}
