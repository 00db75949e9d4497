//! One function per sub-command; all I/O of the command line lives here.

use crate::cli::{
    CertificateAction, Cli, Command, ImportKind, PersonAction, ReportKind, ServeArgs, TokenAction,
};
use anyhow::Context;
use ledger::Store;
use std::io::Write;

/// The principal of commands given on the command line (an administrator's).
const CLI_PRINCIPAL: uuid::Uuid = uuid::Uuid::from_u128(0x7462_636c_6900_0000_0000_0000_0000_0001);

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
            // The command line acts as an administrator of its own; the erasure is
            // recorded in the log like any other.
            let handler = ledger::command::CommandHandler::new(store);
            let actor = ledger::command::Actor::admin(CLI_PRINCIPAL);
            let command = ledger::command::ErasePersonalData {
                volunteer_id: ledger::ids::VolunteerId(id),
            };
            let key = format!("person-erase-{}", uuid::Uuid::new_v4());
            let outcome = handler.run(&actor, &key, command).await?;
            if outcome.result.erased {
                println!(
                    "erased the personal data of volunteer {id} (log position {}); their events and totals are kept",
                    outcome.position
                );
            } else {
                println!("the personal data of volunteer {id} was already erased");
            }
            Ok(())
        }
        Some(Command::Demo {
            volunteers,
            events,
            seed,
            communities,
            activities,
        }) => demo(store, volunteers, events, seed, communities, activities).await,
        Some(Command::BulkLoad {
            streets,
            communities_per_street,
            volunteers,
            events,
            seed,
        }) => {
            let opts = ledger::bulk::BulkOptions {
                streets,
                communities_per_street,
                volunteers,
                events,
                seed,
            };
            bulk_load(&store, &opts).await
        }
        Some(Command::Serve(args)) => serve(store, args).await,
        None => serve(store, cli.serve).await,
        Some(Command::Token { action }) => token(&store, action).await,
        Some(Command::Report {
            kind:
                ReportKind::Annual {
                    community,
                    year,
                    format,
                    out,
                    at,
                },
        }) => annual_report(&store, community, year, &format, out, at).await,
        Some(Command::Certificate { action }) => certificate(&store, action).await,
        Some(Command::Statement {
            volunteer,
            format,
            out,
            at,
        }) => statement(&store, volunteer, &format, out, at).await,
        Some(Command::Rebuild { projection }) => rebuild(&store, projection.as_deref()).await,
        Some(Command::WhatIf {
            community,
            rules,
            year,
            json,
        }) => crate::whatif::run(&store, community, &rules, year, json).await,
        Some(Command::Import { kind }) => {
            // As the command line's administrator: importing again replays its commands.
            let actor = ledger::command::Actor::admin(CLI_PRINCIPAL);
            match kind {
                ImportKind::Roster(args) => {
                    crate::import::sheet(store, actor, crate::import::Kind::Roster, args).await
                }
                ImportKind::History(args) => {
                    crate::import::sheet(store, actor, crate::import::Kind::History, args).await
                }
                ImportKind::Reverse { batch, reason } => {
                    crate::import::reverse(store, actor, batch, reason).await
                }
            }
        }
    }
}

async fn bulk_load(store: &Store, opts: &ledger::bulk::BulkOptions) -> anyhow::Result<()> {
    let bar = indicatif::ProgressBar::new(opts.events).with_style(
        indicatif::ProgressStyle::with_template(
            "loading [{bar:40}] {pos}/{len} events ({per_sec}, {eta})",
        )?
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let done = ledger::bulk::load(store, opts, |n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "bulk-load: {} events in {secs:.1} s ({:.0} events/s), {} communities in {} streets, {} volunteers",
        done.events(),
        done.events() as f64 / secs.max(1e-9),
        done.communities().len(),
        done.streets.len(),
        done.volunteers()
    );
    println!("district {}", done.district);
    for s in &done.streets {
        println!("street {s}");
    }
    Ok(())
}

fn json_line(e: &ledger::store::RecordedEvent) -> anyhow::Result<String> {
    Ok(serde_json::to_string(e)?)
}

/// How often `events --follow` looks for events appended by other processes (on
/// SQLite nothing tells this process of them; on PostgreSQL it is a fallback).
const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_millis(200);

async fn events(
    store: &Store,
    stream: Option<String>,
    after: u64,
    limit: Option<u64>,
    follow: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut left = limit.unwrap_or(u64::MAX);
    let mut head = store.watch_head();
    // Where the next read starts: a log position, or a version of the stream.
    let mut pos = after;
    let mut version = 0;
    while left > 0 {
        // Seen before reading: a commit of this process during the read still wakes.
        head.borrow_and_update();
        let page = match &stream {
            Some(stream) => {
                let page = store.read_stream(stream, version).await?;
                if let Some(last) = page.last() {
                    version = last.stream_version;
                }
                page
            }
            None => {
                let page = store.read_all(pos, 1000.min(left) as u32).await?;
                if let Some(last) = page.last() {
                    pos = last.position;
                }
                page
            }
        };
        let read = page.len();
        for e in page.iter().filter(|e| e.position > after) {
            if left == 0 {
                break;
            }
            writeln!(out, "{}", json_line(e)?)?;
            left -= 1;
        }
        if read > 0 {
            if follow {
                out.flush()?;
            }
            continue;
        }
        if !follow {
            break;
        }
        out.flush()?;
        tokio::select! {
            changed = head.changed() => {
                if changed.is_err() {
                    // The store is closing: keep polling.
                    tokio::time::sleep(FOLLOW_POLL).await;
                }
            }
            _ = tokio::time::sleep(FOLLOW_POLL) => {}
        }
    }
    Ok(out.flush()?)
}

async fn demo(
    store: Store,
    volunteers: u64,
    events: u64,
    seed: u64,
    communities: u32,
    activities: u64,
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
        activities,
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

async fn serve(store: Store, args: ServeArgs) -> anyhow::Result<()> {
    let config = api::ServeConfig {
        listen: args.listen,
        request_timeout: std::time::Duration::from_secs(args.request_timeout),
        max_body_bytes: usize::try_from(args.max_body_bytes)?,
        replica_url: args.replica_url.clone(),
    };
    crate::pages::before_serving(&store, &args).await?;
    let web = web::WebConfig {
        secure_cookies: match args.secure_cookies.as_str() {
            "always" => Some(true),
            "never" => Some(false),
            _ => None,
        },
    };
    api::serve_with(
        store,
        config,
        move |state| web::routes(state, web),
        shutdown_signal(),
    )
    .await
}

/// Ctrl-C or SIGTERM: stop accepting, let in-flight commands finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn token(store: &Store, action: TokenAction) -> anyhow::Result<()> {
    match action {
        TokenAction::Issue {
            role,
            community,
            volunteer,
            street,
            label,
        } => {
            let role = api::parse_role(&role)?;
            let t =
                api::auth::issue_bound(store, role, community, volunteer, street, &label).await?;
            let (id, token) = (t.token_id, t.token);
            eprintln!("token id {id} (keep the token below: it is shown only once)");
            println!("{token}");
        }
        TokenAction::Revoke { token } => {
            if api::revoke_token(store, &token).await? {
                println!("revoked");
            } else {
                anyhow::bail!("no active token matches {token:?}");
            }
        }
    }
    Ok(())
}

async fn rebuild(store: &Store, projection: Option<&str>) -> anyhow::Result<()> {
    projections::alloc::tune_for_rebuild();
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>12} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        )?
        .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let progress = |p: projections::Progress| {
        bar.set_length(p.head);
        bar.set_position(p.position);
        bar.set_message(p.projection);
    };
    let position = projections::rebuild(store, projection, Some(&progress)).await?;
    bar.finish_and_clear();
    println!(
        "rebuilt {} up to position {} in {:.1}s",
        projection.unwrap_or("all projections"),
        position,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn write_out(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

async fn annual_report(
    store: &Store,
    community: uuid::Uuid,
    year: i32,
    format: &str,
    out: Option<std::path::PathBuf>,
    at: Option<u64>,
) -> anyhow::Result<()> {
    let format: reports::Format = format.parse()?;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "report [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
        )?
        .progress_chars("=> "),
    );
    let report = reports::annual_report(
        store,
        ledger::ids::CommunityId(community),
        year,
        at,
        |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .await?;
    bar.finish_and_clear();
    let bytes = reports::render(&report, format)?;
    let path = out.unwrap_or_else(|| format!("annual-{year}.{}", format.extension()).into());
    write_out(&path, &bytes)?;
    println!(
        "{} (年度表彰 {year}, pinned at log position {})",
        path.display(),
        report.position
    );
    Ok(())
}

async fn certificate(store: &Store, action: CertificateAction) -> anyhow::Result<()> {
    match action {
        CertificateAction::Issue {
            volunteer,
            organisation,
            person_in_charge,
            handler,
            contact,
            out,
        } => {
            let issuer = reports::IssuingOrganisation {
                organisation,
                person_in_charge,
                handler,
                contact,
            };
            // Issued from the command line by the operator of this installation.
            let cert = reports::issue_certificate(
                store,
                ledger::ids::VolunteerId(volunteer),
                uuid::Uuid::nil(),
                &issuer,
                None,
            )
            .await?;
            let path = out.unwrap_or_else(|| format!("certificate-{}.html", cert.number).into());
            write_out(&path, reports::certificate_html(&cert).as_bytes())?;
            println!(
                "{} {} (pinned at log position {}; check code {})",
                cert.number,
                path.display(),
                cert.position,
                reports::certificate::display_check_code(&cert.check_code)
            );
        }
        CertificateAction::Check { number } => {
            match reports::check_certificate(store, &number).await? {
                Some(check) => println!("{}", serde_json::to_string_pretty(&check)?),
                None => anyhow::bail!("no certificate numbered {number}"),
            }
        }
    }
    Ok(())
}

async fn statement(
    store: &Store,
    volunteer: uuid::Uuid,
    format: &str,
    out: Option<std::path::PathBuf>,
    at: Option<u64>,
) -> anyhow::Result<()> {
    let st = reports::statement(store, ledger::ids::VolunteerId(volunteer), at).await?;
    let (bytes, ext) = match format {
        "csv" => (reports::statement_csv(&st), "csv"),
        "xlsx" => (reports::statement_xlsx(&st)?, "xlsx"),
        other => anyhow::bail!("unknown statement format {other:?}: use csv or xlsx"),
    };
    let path = out.unwrap_or_else(|| format!("statement-{volunteer}.{ext}").into());
    write_out(&path, &bytes)?;
    println!("{}", path.display());
    Ok(())
}
