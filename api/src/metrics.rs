//! Prometheus metrics in the text exposition format, kept with atomics and small maps.
//!
//! - `timebank_http_requests_total{route}` and `timebank_http_errors_total{route}`
//!   (responses with status ≥ 400 or a GraphQL `errors` entry);
//! - `timebank_graphql_errors_total{code}`;
//! - `timebank_commands_total{command,outcome}` and the histogram
//!   `timebank_command_duration_seconds`;
//! - from the store's group-commit writer: `timebank_append_batches_total`,
//!   `timebank_append_appends_total`, `timebank_append_events_total`, and the mean
//!   batch size `timebank_append_batch_size_mean`;
//! - `timebank_log_head_position`, `timebank_projection_position` and
//!   `timebank_projection_lag_events`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the command latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<&'static str, u64>>,
    http_errors: Mutex<BTreeMap<&'static str, u64>>,
    graphql_errors: Mutex<BTreeMap<String, u64>>,
    commands: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
    *m.entry(key).or_insert(0) += 1;
}

/// Values of the store and read side sampled when metrics are rendered.
pub struct Sampled {
    pub batches: u64,
    pub appends: u64,
    pub events: u64,
    pub head: u64,
    pub projection_position: u64,
}

impl Metrics {
    pub fn request(&self, route: &'static str) {
        bump(&self.requests, route);
    }

    pub fn http_error(&self, route: &'static str) {
        bump(&self.http_errors, route);
    }

    pub fn graphql_error(&self, code: &str) {
        let mut m = self
            .graphql_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if m.len() < 100 || m.contains_key(code) {
            *m.entry(code.to_string()).or_insert(0) += 1;
        }
    }

    pub fn command(&self, name: &'static str, ok: bool, took: Duration) {
        bump(&self.commands, (name, if ok { "ok" } else { "error" }));
        let secs = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The text exposition.
    pub fn render(&self, s: &Sampled) -> String {
        let mut out = String::new();
        let _ = self.render_into(&mut out, s);
        out
    }

    fn render_into(&self, out: &mut String, s: &Sampled) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP timebank_http_requests_total HTTP requests by route."
        )?;
        writeln!(out, "# TYPE timebank_http_requests_total counter")?;
        for (route, n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            writeln!(out, "timebank_http_requests_total{{route=\"{route}\"}} {n}")?;
        }
        writeln!(
            out,
            "# HELP timebank_http_errors_total Responses with an error, by route."
        )?;
        writeln!(out, "# TYPE timebank_http_errors_total counter")?;
        for (route, n) in self
            .http_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            writeln!(out, "timebank_http_errors_total{{route=\"{route}\"}} {n}")?;
        }
        writeln!(
            out,
            "# HELP timebank_graphql_errors_total GraphQL errors by extensions.code."
        )?;
        writeln!(out, "# TYPE timebank_graphql_errors_total counter")?;
        for (code, n) in self
            .graphql_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            writeln!(out, "timebank_graphql_errors_total{{code=\"{code}\"}} {n}")?;
        }
        writeln!(
            out,
            "# HELP timebank_commands_total Commands executed, by command and outcome."
        )?;
        writeln!(out, "# TYPE timebank_commands_total counter")?;
        for ((cmd, outcome), n) in self
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            writeln!(
                out,
                "timebank_commands_total{{command=\"{cmd}\",outcome=\"{outcome}\"}} {n}"
            )?;
        }
        writeln!(out, "# HELP timebank_command_duration_seconds Command latency, including the durable append.")?;
        writeln!(out, "# TYPE timebank_command_duration_seconds histogram")?;
        for (i, b) in BUCKETS.iter().enumerate() {
            writeln!(
                out,
                "timebank_command_duration_seconds_bucket{{le=\"{b}\"}} {}",
                self.latency_buckets[i].load(Ordering::Relaxed)
            )?;
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        writeln!(
            out,
            "timebank_command_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        )?;
        writeln!(
            out,
            "timebank_command_duration_seconds_sum {}",
            self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        )?;
        writeln!(out, "timebank_command_duration_seconds_count {count}")?;
        let gauge = |out: &mut String, name: &str, help: &str, kind: &str, v: String| {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} {kind}")?;
            writeln!(out, "{name} {v}")
        };
        gauge(
            out,
            "timebank_append_batches_total",
            "Group-commit transactions of the log writer.",
            "counter",
            s.batches.to_string(),
        )?;
        gauge(
            out,
            "timebank_append_appends_total",
            "Appends committed by the log writer.",
            "counter",
            s.appends.to_string(),
        )?;
        gauge(
            out,
            "timebank_append_events_total",
            "Events committed by the log writer.",
            "counter",
            s.events.to_string(),
        )?;
        let mean = if s.batches == 0 {
            0.0
        } else {
            s.appends as f64 / s.batches as f64
        };
        gauge(
            out,
            "timebank_append_batch_size_mean",
            "Mean appends per group-commit batch.",
            "gauge",
            format!("{mean:.3}"),
        )?;
        gauge(
            out,
            "timebank_log_head_position",
            "Position of the last committed event.",
            "gauge",
            s.head.to_string(),
        )?;
        gauge(
            out,
            "timebank_projection_position",
            "Position the read models have reached.",
            "gauge",
            s.projection_position.to_string(),
        )?;
        gauge(
            out,
            "timebank_projection_lag_events",
            "Events committed but not yet in the read models.",
            "gauge",
            s.head.saturating_sub(s.projection_position).to_string(),
        )
    }
}
