//! Measures `demo::generate` throughput: `cargo run -p ledger --release --example
//! demo_throughput -- EVENTS VOLUNTEERS [DATABASE_URL]` (default: a temporary SQLite file).

use ledger::command::CommandHandler;
use ledger::demo::{generate, DemoOptions};
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let events: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let volunteers: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let concurrency: usize = std::env::var("DEMO_CONCURRENCY")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DemoOptions::default().concurrency);
    let dir = ledger::testing::TempDir::new();
    let url = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("demo.db").display()));
    let store = ledger::Store::open(&url).await?;
    let handler = CommandHandler::new(store.clone());
    let started = Instant::now();
    let opts = DemoOptions {
        volunteers,
        events,
        concurrency,
        ..DemoOptions::default()
    };
    let summary = generate(&handler, opts, |_| {}).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} events in {:.1} s: {:.0} events/s; writer {:?}",
        summary.events_written,
        secs,
        summary.events_written as f64 / secs,
        store.writer_stats()
    );
    Ok(())
}
