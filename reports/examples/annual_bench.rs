//! Times the annual report in all three formats on a large demo dataset, at the head and
//! reproduced at an old position (not a timed test; see BENCHMARKS.md).
//!
//! ```text
//! cargo run --release -p reports --example annual_bench -- \
//!     [--database-url URL] [--volunteers 5000] [--events 1000000] [--seed 1] [--year YEAR] \\
//!     [--runs N] [--read-floor]
//! ```
//!
//! `--runs N` times every report N times and prints the medians; `--read-floor` also
//! times reading (and decoding) the whole log through `Store::read_all`.
//!
//! Without `--database-url` a SQLite file in the system temporary directory is used (and
//! kept, so a second run reuses the generated history). A database that already holds
//! events is not generated again.

use anyhow::{anyhow, Context, Result};
use ledger::command::CommandHandler;
use ledger::demo::{generate, DemoOptions};
use ledger::ids::{parse_stream, CommunityId, StreamKind};
use ledger::store::Store;
use reports::{annual_report, render, Format};
use std::time::Instant;

struct Args {
    url: String,
    volunteers: u64,
    events: u64,
    seed: u64,
    year: Option<i32>,
    runs: usize,
    read_floor: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        url: String::new(),
        volunteers: 5_000,
        events: 1_000_000,
        seed: 1,
        year: None,
        runs: 1,
        read_floor: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => args.url = value()?,
            "--volunteers" => args.volunteers = value()?.parse()?,
            "--events" => args.events = value()?.parse()?,
            "--seed" => args.seed = value()?.parse()?,
            "--year" => args.year = Some(value()?.parse()?),
            "--runs" => args.runs = value()?.parse::<usize>()?.max(1),
            "--read-floor" => args.read_floor = true,
            other => return Err(anyhow!("unknown argument {other}")),
        }
    }
    if args.url.is_empty() {
        let path = std::env::temp_dir().join(format!(
            "timebank-annual-bench-{}-{}-{}.db",
            args.volunteers, args.events, args.seed
        ));
        args.url = format!("sqlite://{}", path.display());
    }
    Ok(args)
}

/// The community with the most events in the first batches of the log.
async fn first_community(store: &Store) -> Result<CommunityId> {
    let events = store.read_all(0, 1_000).await?;
    events
        .iter()
        .find_map(|e| match parse_stream(&e.stream_id) {
            Some((StreamKind::Community, id)) => Some(CommunityId(id)),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no community in the log"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let store = Store::open(&args.url).await.context("open store")?;
    if store.head().await? == 0 {
        println!(
            "generating {} volunteers, {} events (seed {}) into {}",
            args.volunteers, args.events, args.seed, args.url
        );
        let started = Instant::now();
        let handler = CommandHandler::new(store.clone());
        let opts = DemoOptions {
            volunteers: args.volunteers,
            events: args.events,
            seed: args.seed,
            ..DemoOptions::default()
        };
        let step = (args.events / 10).max(1);
        generate(&handler, opts, |n| {
            if n % step < 50 {
                eprintln!("  … {n} events");
            }
        })
        .await
        .map_err(|e| anyhow!("demo: {e}"))?;
        println!("generated in {:.1} s", started.elapsed().as_secs_f64());
    }
    let head = store.head().await?;
    let community = first_community(&store).await?;
    // The demo's timeline ends late in 2025 (or a day before today).
    let year = args.year.unwrap_or(2025);
    println!("log head {head}, community {community}, year {year}");
    if args.read_floor {
        // What reading the log alone costs (the floor of any pinned document).
        let started = Instant::now();
        let mut n = 0u64;
        reports::fold::scan(&store, head, &|_, _| {}, |_| {
            n += 1;
            Ok(())
        })
        .await?;
        println!(
            "reading {n} events: {:.3} s",
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let mut decoded = 0u64;
        reports::fold::scan(&store, head, &|_, _| {}, |e| {
            ledger::event::Event::decode(e)?;
            decoded += 1;
            Ok(())
        })
        .await?;
        println!(
            "reading and decoding {decoded} events: {:.3} s",
            started.elapsed().as_secs_f64()
        );
    }
    // What reading the community's events alone costs (the floor of the report).
    for _ in 0..args.runs {
        let started = Instant::now();
        let mut n = 0u64;
        reports::fold::scan_community(
            &store,
            community.0,
            &reports::annual::WANTED,
            head,
            &|_, _| {},
            |_| {
                n += 1;
                Ok(())
            },
        )
        .await?;
        println!(
            "scanning {n} events of the community: {:.3} s",
            started.elapsed().as_secs_f64()
        );
    }
    // What-if replay (规则试算) of the whole log under other point rules and stars, beside
    // the annual report in the same run.
    let proposal = reports::Proposal {
        point_rules: Some((
            ledger::amount::Points::whole(15),
            [(
                ledger::event::ServiceKind::ElderlyVisit,
                rust_decimal::Decimal::TWO,
            )]
            .into(),
        )),
        stars: Some((
            [50, 150, 300, 500, 800]
                .map(ledger::amount::Hours::whole)
                .to_vec(),
            None,
        )),
    };
    let today = ledger::domain::local_date(chrono::Utc::now());
    let mut times = Vec::new();
    for _ in 0..args.runs {
        let started = Instant::now();
        let w = reports::what_if(&store, community, &proposal, None, today).await?;
        let took = started.elapsed().as_secs_f64();
        println!(
            "what-if of the whole log ({} volunteers changed, up to position {}): {took:.3} s",
            w.changes.len(),
            w.position
        );
        times.push(took);
    }
    println!(
        "what-if median of {} runs: {:.3} s",
        args.runs,
        median(&mut times)
    );
    // A 文明楼道 rubric tried on the year's inspections (the annual report's fold, and a
    // scan of the inspections).
    let item = |key: &str, max: i64| ledger::event::RubricItem {
        key: key.into(),
        name: key.into(),
        max: rust_decimal::Decimal::from(max),
    };
    let rubric = reports::RubricProposal {
        items: vec![
            item("cleanliness", 40),
            item("clutter", 20),
            item("fire_safety", 20),
        ],
        participation_max: rust_decimal::Decimal::from(20),
    };
    let mut times = Vec::new();
    for _ in 0..args.runs {
        let started = Instant::now();
        let w = reports::rubric_what_if(&store, community, &rubric, year).await?;
        let took = started.elapsed().as_secs_f64();
        let moved = w.red_flags.iter().filter(|f| f.changes_hands).count();
        println!(
            "rubric what-if of {year} ({} stairwells, {moved} of {} red flags change hands): {took:.3} s",
            w.stairwells.len(),
            w.red_flags.len()
        );
        times.push(took);
    }
    println!(
        "rubric what-if median of {} runs: {:.3} s",
        args.runs,
        median(&mut times)
    );
    println!(
        "{:<28} {:>10} {:>10} {:>12}",
        "run", "compute s", "render s", "bytes"
    );
    let mut medians = Vec::new();
    for (label, at) in [("at head", None), ("reproduced at head/2", Some(head / 2))] {
        for format in [Format::Xlsx, Format::Csv, Format::Html] {
            let label = format!("{label} {}", format.extension());
            let (mut computes, mut renders) = (Vec::new(), Vec::new());
            for _ in 0..args.runs {
                let started = Instant::now();
                let report = annual_report(&store, community, year, at, |_, _| {}).await?;
                let computed = started.elapsed();
                let bytes = render(&report, format)?;
                let rendered = started.elapsed() - computed;
                println!(
                    "{:<28} {:>10.3} {:>10.3} {:>12}",
                    label,
                    computed.as_secs_f64(),
                    rendered.as_secs_f64(),
                    bytes.len()
                );
                computes.push(computed.as_secs_f64());
                renders.push(rendered.as_secs_f64());
            }
            medians.push((label, median(&mut computes), median(&mut renders)));
        }
    }
    if args.runs > 1 {
        println!("medians of {} runs", args.runs);
        for (label, compute, render) in medians {
            println!("{label:<28} {compute:>10.3} {render:>10.3}");
        }
    }
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
