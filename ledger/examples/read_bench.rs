//! How fast the log reads back: `read_all` in pages over a whole database.
//!
//! ```text
//! cargo run --release -p ledger --example read_bench -- DATABASE_URL [PAGE]
//! ```

use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: read_bench DATABASE_URL [PAGE]")?;
    let page: u32 = std::env::args()
        .nth(2)
        .and_then(|p| p.parse().ok())
        .unwrap_or(10_000);
    let store = ledger::Store::open(&url).await?;
    for round in 0..3 {
        let started = Instant::now();
        let (mut after, mut n) = (0, 0u64);
        loop {
            let events = store.read_all(after, page).await?;
            let Some(last) = events.last() else { break };
            after = last.position;
            n += events.len() as u64;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "round {round}: {n} events in {secs:.2}s = {:.0} events/s (page {page})",
            n as f64 / secs
        );
    }
    Ok(())
}
