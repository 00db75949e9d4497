//! Measures a rebuild of every projection: events per second and peak resident memory.
//!
//! ```text
//! cargo run --release -p projections --example rebuild_bench -- [DATABASE_URL] [EVENTS] [VOLUNTEERS]
//! ```
//!
//! Without a URL a fresh SQLite file in the temp directory is used. When the log is
//! empty, a `ledger::demo` history of EVENTS events (default 100000) is generated first.

use ledger::command::CommandHandler;
use ledger::demo::{generate, DemoOptions};
use ledger::Store;
use std::time::Instant;

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = match args.first() {
        Some(u) => u.clone(),
        None => {
            let path = std::env::temp_dir().join(format!(
                "timebank-bench-{}.db",
                uuid::Uuid::new_v4().simple()
            ));
            format!("sqlite://{}", path.display())
        }
    };
    let events: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let volunteers: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2_000);
    println!("database: {url}");
    let store = Store::open(&url).await?;
    if store.head().await? == 0 {
        let t = Instant::now();
        let handler = CommandHandler::new(store.clone());
        let summary = generate(
            &handler,
            DemoOptions {
                volunteers,
                events,
                seed: 1,
                ..DemoOptions::default()
            },
            |_| {},
        )
        .await?;
        println!(
            "generated {} events in {:.1}s",
            summary.events_written,
            t.elapsed().as_secs_f64()
        );
    }
    let head = store.head().await?;
    if std::env::var("PER_PROJECTION").is_ok() {
        for p in projections::all() {
            let t = Instant::now();
            projections::rebuild(&store, Some(p.name()), None).await?;
            println!("{:>12}: {:.2}s", p.name(), t.elapsed().as_secs_f64());
        }
    }
    let rss_before = peak_rss_mb().unwrap_or(0.0);
    let t = Instant::now();
    projections::rebuild(&store, None, None).await?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "rebuilt all projections over {head} events in {secs:.2}s: {:.0} events/s; peak RSS {:.0} MB (before rebuild {:.0} MB)",
        head as f64 / secs,
        peak_rss_mb().unwrap_or(0.0),
        rss_before
    );
    Ok(())
}
