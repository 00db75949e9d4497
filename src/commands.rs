//! One function per sub-command; all I/O of the command line lives here.

use crate::cli::{Cli, Command, PersonAction};
use anyhow::Context;
use futures::StreamExt;
use ledger::Store;
use std::io::Write;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = Store::open(&cli.database_url)
        .await
        .with_context(|| format!("opening {}", cli.database_url))?;
    match cli.command {
        Some(Command::Migrate) => {
            // Opening the store applied them.
            println!(
                "migrations applied; log head is at position {}",
                store.head().await?
            );
            Ok(())
        }
        Some(Command::Events {
            stream,
            after,
            limit,
            follow,
        }) => events(&store, stream, after, limit, follow).await,
        Some(Command::Person {
            action: PersonAction::Erase { id },
        }) => {
            if store.erase_person(id).await? {
                println!(
                    "erased the personal data of volunteer {id}; their events and totals are kept"
                );
            } else {
                println!("volunteer {id} has no personal data stored (already erased or unknown)");
            }
            Ok(())
        }
        Some(Command::Demo {
            volunteers,
            events,
            seed,
            communities,
        }) => demo(store, volunteers, events, seed, communities).await,
        None => anyhow::bail!("this command is not available yet"),
    }
}

fn json_line(e: &ledger::store::RecordedEvent) -> anyhow::Result<String> {
    Ok(serde_json::to_string(e)?)
}

async fn events(
    store: &Store,
    stream: Option<String>,
    after: u64,
    limit: Option<u64>,
    follow: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut left = limit.unwrap_or(u64::MAX);
    if let Some(stream) = stream {
        for e in store.read_stream(&stream, 0).await? {
            if e.position > after && left > 0 {
                writeln!(out, "{}", json_line(&e)?)?;
                left -= 1;
            }
        }
        return Ok(out.flush()?);
    }
    if follow {
        drop(out);
        let mut sub = std::pin::pin!(store.subscribe_all(after, 1000));
        while left > 0 {
            let Some(e) = sub.next().await else { break };
            println!("{}", json_line(&e?)?);
            left -= 1;
        }
        return Ok(());
    }
    let mut pos = after;
    while left > 0 {
        let page = store.read_all(pos, 1000.min(left) as u32).await?;
        let Some(last) = page.last() else { break };
        pos = last.position;
        for e in &page {
            writeln!(out, "{}", json_line(e)?)?;
        }
        left -= page.len() as u64;
    }
    Ok(out.flush()?)
}

async fn demo(
    store: Store,
    volunteers: u64,
    events: u64,
    seed: u64,
    communities: u32,
) -> anyhow::Result<()> {
    use ledger::demo::{generate, DemoOptions};
    let handler = ledger::command::CommandHandler::new(store);
    let bar = indicatif::ProgressBar::new(events).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} demo [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        )?
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let opts = DemoOptions {
        volunteers,
        events,
        seed,
        communities: communities.into(),
        ..DemoOptions::default()
    };
    let summary = generate(&handler, opts, |done| bar.set_position(done)).await?;
    bar.finish_and_clear();
    eprintln!(
        "demo: {} events in {:.1}s (seed {seed})",
        summary.events_written,
        started.elapsed().as_secs_f64()
    );
    for id in summary.community_ids {
        println!("{id}");
    }
    Ok(())
}
