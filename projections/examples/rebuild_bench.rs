//! Measures a rebuild of every projection (events per second, where the time went, peak
//! resident memory) and the ranking query (top 20 and one volunteer's rank).
//!
//! ```text
//! cargo run --release -p projections --example rebuild_bench -- [DATABASE_URL] [EVENTS] [VOLUNTEERS]
//! ```
//!
//! Without a URL a fresh SQLite file in the temp directory is used. When the log is
//! empty it is filled first: with the events of the store at `COPY_FROM` (a database
//! URL, e.g. a SQLite demo copied into PostgreSQL), or else with a `ledger::demo`
//! history of EVENTS events (default 100000) and VOLUNTEERS volunteers (default 2000).
//!
//! Environment: `RUNS` rebuilds of everything (default 1, the median is reported),
//! `HOLD_MB` the megabytes of state a rebuild may hold (default: the production bound),
//! `BATCH` events per page of the log (default: the production page), `PURGE_MS` the
//! allocator's delay before freed memory goes back to the system (default: that of
//! `timebank rebuild`, [`projections::alloc::REBUILD_PURGE_DELAY_MS`]),
//! `PER_PROJECTION=1` also rebuilds each projection alone, `CATCH_UP=1` also replays
//! the log the way the runner catches up (batches of 5,000 events, each loaded, folded
//! and written in its own transaction), `RANK_CALLS` ranking queries per case (default
//! 300). Peak RSS is the process's high-water mark (`VmHWM`): run on a filled log so
//! that it covers the rebuilds and the queries only. CPU is user + system time of the
//! whole process (all threads, SQLite's included), a figure that depends less on other
//! load on the machine than the elapsed time does.

use ledger::command::CommandHandler;
use ledger::demo::{generate, DemoOptions};
use ledger::ids::{CommunityId, VolunteerId};
use ledger::store::{AppendRequest, ExpectedVersion, NewEvent, StreamWrite};
use ledger::Store;
use projections::common::Period;
use projections::rankings::{ranking, Metric, Scope};
use projections::rebuild::{rebuild_timed, Timings};
use projections::{Db, Projection};
use std::time::{Duration, Instant};

/// The allocator of the `timebank` binary, so that this measures what it runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn status_mb(field: &str) -> f64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0.0;
    };
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// User + system CPU seconds of this process (all threads), from /proc/self/stat.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3; utime and stime are fields 14 and 15.
    let ticks = |i: usize| {
        f.get(i - 3)
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(14) + ticks(15)) / 100.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or_default()
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Appends every event of `from` to `to` in large atomic appends (new timestamps).
async fn copy_log(from: &Store, to: &Store) -> anyhow::Result<u64> {
    let mut after = 0;
    let mut copied = 0u64;
    let mut writes: Vec<StreamWrite> = Vec::new();
    let mut in_request = 0usize;
    loop {
        let page = from.read_all(after, 20_000).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for r in page {
            let ev = NewEvent {
                event_id: r.event_id,
                event_type: r.event_type,
                schema_version: r.schema_version,
                payload: r.payload,
                metadata: r.metadata,
                community_id: r.community_id,
            };
            match writes.last_mut() {
                Some(w) if w.stream_id == r.stream_id => w.events.push(ev),
                _ => {
                    if in_request >= 5_000 || writes.iter().any(|w| w.stream_id == r.stream_id) {
                        to.append_request(AppendRequest {
                            writes: std::mem::take(&mut writes),
                            command: None,
                        })
                        .await?;
                        in_request = 0;
                    }
                    writes.push(StreamWrite {
                        stream_id: r.stream_id,
                        expected: ExpectedVersion::Any,
                        events: vec![ev],
                    });
                }
            }
            in_request += 1;
            copied += 1;
        }
    }
    if !writes.is_empty() {
        to.append_request(AppendRequest {
            writes,
            command: None,
        })
        .await?;
    }
    Ok(copied)
}

fn print_timings(t: &Timings, cpu: f64) {
    let secs = t.total.as_secs_f64();
    println!(
        "  {} events in {:.2}s: {:.0} events/s (CPU {:.1}s: {:.0} events per CPU-second)",
        t.events,
        secs,
        t.events as f64 / secs,
        cpu,
        t.events as f64 / cpu.max(1e-9)
    );
    println!(
        "  states held at most {:.0} MB (estimated); read+decode {:.2}s (in the reader task; folds waited {:.2}s), indexes {:.2}s, swap {:.2}s",
        t.peak_state_bytes as f64 / (1024.0 * 1024.0),
        t.read.as_secs_f64(),
        t.read_wait.as_secs_f64(),
        t.indexes.as_secs_f64(),
        t.swap.as_secs_f64()
    );
    for p in &t.projections {
        println!(
            "  {:>11}: {:6.2}s  (fold {:.2}s, write {:.2}s in {} flushes, read back {:.2}s, {} evictions; held up to {:.0} MB, changes up to {:.0} MB)",
            p.name,
            p.total().as_secs_f64(),
            p.fold.as_secs_f64(),
            p.flush.as_secs_f64(),
            p.flushes,
            p.load.as_secs_f64(),
            p.evictions,
            p.peak_held as f64 / 1048576.0,
            p.peak_pending as f64 / 1048576.0
        );
    }
}

async fn rebuild(store: &Store, list: &[&dyn Projection]) -> anyhow::Result<(Timings, f64)> {
    let batch = env_num("BATCH", projections::rebuild::REBUILD_BATCH as u64) as u32;
    rebuild_batched(store, list, batch).await
}

/// A projection as the runner applies it to a batch (load, fold and write in one
/// transaction), without its rebuild state: a rebuild of these measures catch-up.
struct CatchUp(std::sync::Arc<dyn Projection>);

impl Projection for CatchUp {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn version(&self) -> u32 {
        self.0.version()
    }
    fn tables(&self) -> &'static [projections::TableDef] {
        self.0.tables()
    }
    fn apply<'a>(
        &'a self,
        tx: &'a mut projections::db::Tx<'_>,
        names: &'a projections::Names,
        events: &'a [projections::Envelope],
    ) -> futures::future::BoxFuture<'a, projections::Result<()>> {
        self.0.apply(tx, names, events)
    }
}

async fn rebuild_batched(
    store: &Store,
    list: &[&dyn Projection],
    batch: u32,
) -> anyhow::Result<(Timings, f64)> {
    let db = Db::of_store(store);
    let mut t = Timings::default();
    let cpu = cpu_secs();
    rebuild_timed(store, &db, list, batch, limits(), None, &mut t).await?;
    Ok((t, cpu_secs() - cpu))
}

/// The rebuild's memory bounds: the defaults, or `HOLD_MB` megabytes of states.
fn limits() -> projections::rebuild::Limits {
    let mut l = projections::rebuild::Limits::default();
    if let Some(mb) = std::env::var("HOLD_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        l.hold_bytes = mb << 20;
    }
    l
}

/// Ranking queries over the community with the most ranked volunteers.
async fn bench_rankings(db: &Db, calls: u64) -> anyhow::Result<()> {
    let rows = db
        .fetch(
            "SELECT v.volunteer_id, v.attribution FROM pj_rank_volunteers v ORDER BY v.vol",
            &[],
        )
        .await?;
    let mut by_community: std::collections::BTreeMap<uuid::Uuid, Vec<uuid::Uuid>> =
        Default::default();
    for r in &rows {
        let a: projections::common::Attribution = serde_json::from_str(&r.text(1)?)?;
        by_community
            .entry(a.community)
            .or_default()
            .push(uuid::Uuid::parse_str(&r.text(0)?)?);
    }
    let Some((community, members)) = by_community.iter().max_by_key(|(_, m)| m.len()) else {
        println!("no volunteers: no ranking benchmark");
        return Ok(());
    };
    let scope = Scope::Community(CommunityId(*community));
    // The year with the most ranked cells.
    let year = db
        .fetch_optional(
            "SELECT k.k FROM pj_rank_keys k JOIN pj_rank_cells c ON c.period = k.id
             WHERE length(k.k) = 4 GROUP BY k.k ORDER BY COUNT(*) DESC LIMIT 1",
            &[],
        )
        .await?
        .and_then(|r| r.opt_text(0).ok().flatten())
        .and_then(|y| y.parse::<i32>().ok());
    let mut periods = vec![("all time", Period::AllTime)];
    if let Some(y) = year {
        periods.push(("busiest year", Period::Year(y)));
    }
    println!(
        "ranking (top 20 + one volunteer's rank), community with {} of {} volunteers, {calls} calls each:",
        members.len(),
        rows.len()
    );
    for (label, period) in periods {
        for metric in [Metric::Points, Metric::Hours] {
            let mut times = Vec::with_capacity(calls as usize);
            let mut ranked = 0u64;
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            for _ in 0..calls {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let me = members[(seed % members.len() as u64) as usize];
                let t = Instant::now();
                let r = ranking(db, &scope, period, metric, 20, Some(VolunteerId(me))).await?;
                times.push(t.elapsed());
                ranked += u64::from(r.me.is_some());
            }
            println!(
                "  {label:>11} by {metric:?}: median {:.2} ms, p90 {:.2} ms, max {:.2} ms ({ranked} of {calls} asked were ranked)",
                median(times.clone()).as_secs_f64() * 1e3,
                percentile(times.clone(), 0.9).as_secs_f64() * 1e3,
                percentile(times, 1.0).as_secs_f64() * 1e3,
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The allocator setting of `timebank rebuild`, or `PURGE_MS` for trials.
    match std::env::var("PURGE_MS").ok().and_then(|v| v.parse().ok()) {
        Some(ms) => projections::alloc::purge_freed_memory_after(ms),
        None => projections::alloc::tune_for_rebuild(),
    }
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
    let runs = env_num("RUNS", 1).max(1);
    let calls = env_num("RANK_CALLS", 300).max(1);
    println!("database: {url}");
    let store = Store::open(&url).await?;
    if store.head().await? == 0 {
        let t = Instant::now();
        if let Ok(from) = std::env::var("COPY_FROM") {
            let source = Store::open(&from).await?;
            let n = copy_log(&source, &store).await?;
            println!("copied {n} events in {:.1}s", t.elapsed().as_secs_f64());
        } else {
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
    }
    let head = store.head().await?;
    println!(
        "log head: {head} events; RSS before rebuilding {:.0} MB",
        status_mb("VmRSS:")
    );
    let all = projections::all();
    if std::env::var("PER_PROJECTION").is_ok() {
        println!("each projection rebuilt alone:");
        for p in &all {
            let (t, cpu) = rebuild(&store, &[p.as_ref()]).await?;
            println!(
                "  {:>11}: {:.2}s (CPU {cpu:.1}s), of which its own fold+write {:.2}s",
                p.name(),
                t.total.as_secs_f64(),
                t.projections
                    .first()
                    .map(|x| x.total())
                    .unwrap_or_default()
                    .as_secs_f64()
            );
        }
    }
    if std::env::var("CATCH_UP").is_ok() {
        // Batches of the runner's default size, each applied as the runner does.
        let batch = projections::Options::default().batch_size;
        let wrapped: Vec<CatchUp> = all.iter().map(|p| CatchUp(p.clone())).collect();
        let list: Vec<&dyn Projection> = wrapped.iter().map(|p| p as &dyn Projection).collect();
        let (t, cpu) = rebuild_batched(&store, &list, batch).await?;
        println!("catch-up (every projection, batches of {batch}, one transaction each):");
        print_timings(&t, cpu);
    }
    let list: Vec<&dyn Projection> = all.iter().map(|p| p.as_ref()).collect();
    let mut totals = Vec::new();
    for run in 1..=runs {
        let (t, cpu) = rebuild(&store, &list).await?;
        println!(
            "rebuild of all projections, run {run}/{runs}: peak RSS so far {:.0} MB (now: anonymous {:.0} MB, file {:.0} MB, shared {:.0} MB)",
            status_mb("VmHWM:"),
            status_mb("RssAnon:"),
            status_mb("RssFile:"),
            status_mb("RssShmem:")
        );
        print_timings(&t, cpu);
        totals.push(t.total);
    }
    let m = median(totals);
    println!(
        "rebuilt all projections over {head} events: median of {runs} runs {:.2}s = {:.0} events/s; peak RSS {:.0} MB",
        m.as_secs_f64(),
        head as f64 / m.as_secs_f64(),
        status_mb("VmHWM:")
    );
    bench_rankings(&Db::of_store(&store), calls).await?;
    println!("peak RSS {:.0} MB", status_mb("VmHWM:"));
    Ok(())
}
