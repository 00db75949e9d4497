//! `timebank import roster|history FILE.xlsx|FILE.csv --community ID [--dry-run]
//! [--map A=B]… [--rejected OUT]`: a community's roster (花名册) or its history of
//! services (历史服务记录) checked row by row, then registered or recorded (see the
//! `import` crate). Prints what happened to each row that did not simply go through,
//! and the totals (and a history import's batch); the rejected rows go to `OUT`
//! (default: beside the file, `NAME.rejected.xlsx` or `.csv`) with a 错误原因 column,
//! to fix and import again. Importing the same file again adds nothing.
//!
//! `timebank import reverse BATCH --reason WHY`: a history import reversed as one.

use crate::cli::SheetArgs;
use anyhow::{bail, Context};
use import::{RowStatus, Sheet};
use ledger::command::{Actor, CommandHandler, ReverseImportBatch};
use ledger::ids::{CommunityId, ImportBatchId};
use ledger::Store;
use std::path::{Path, PathBuf};

/// What a sheet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Roster,
    History,
}

/// `--map 联系方式=手机号`: a header of the file, and the header of ours it means.
fn mapping(pairs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((theirs, ours)) if !theirs.trim().is_empty() && !ours.trim().is_empty() => {
                Ok((theirs.trim().to_string(), ours.trim().to_string()))
            }
            _ => bail!("--map {p:?}: use THEIR_HEADER=OUR_HEADER, e.g. 联系方式=手机号"),
        })
        .collect()
}

/// Where the rejected rows go by default: `NAME.rejected.EXT` beside the file.
fn rejected_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("import");
    let ext = file.extension().and_then(|s| s.to_str()).unwrap_or("xlsx");
    file.with_file_name(format!("{stem}.rejected.{ext}"))
}

pub async fn sheet(store: Store, actor: Actor, kind: Kind, args: SheetArgs) -> anyhow::Result<()> {
    let SheetArgs {
        file,
        community,
        dry_run,
        map,
        rejected,
    } = args;
    let mapping = mapping(&map)?;
    let sheet: Sheet = import::sheet::read(&file)?;
    let handler = CommandHandler::new(store);
    let doing = match kind {
        Kind::Roster => "registering",
        Kind::History => "recording",
    };
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{doing} [{{bar:40}}] {{pos}}/{{len}} rows ({{eta}})"
        ))?
        .progress_chars("=> "),
    );
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let community = CommunityId(community);
    let outcome = match kind {
        Kind::Roster => {
            import::import_roster(
                &handler,
                &actor,
                community,
                &sheet,
                &mapping,
                dry_run,
                &mut progress,
            )
            .await
        }
        Kind::History => {
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
            import::import_history(
                &handler,
                &actor,
                community,
                name,
                &sheet,
                &mapping,
                dry_run,
                &mut progress,
            )
            .await
        }
    }
    .with_context(|| format!("importing {}", file.display()))?;
    bar.finish_and_clear();
    for r in &outcome.rows {
        let what = match &r.status {
            RowStatus::Registered { .. } | RowStatus::Recorded { .. } if dry_run => continue,
            RowStatus::Registered { volunteer_number } => {
                format!("registered {}", volunteer_number.as_deref().unwrap_or(""))
            }
            RowStatus::Recorded { volunteer_number } => format!("recorded for {volunteer_number}"),
            RowStatus::AlreadyImported { volunteer_number } => {
                format!("imported before ({volunteer_number})")
            }
            RowStatus::AlreadyRegistered { volunteer_number } => {
                format!("registered before as {volunteer_number}: skipped")
            }
            RowStatus::Rejected { reason } => format!("rejected: {reason}"),
        };
        println!("row {:>4} {}: {what}", r.row, r.name);
    }
    let (new, before, bad) = outcome.counts();
    let done = match kind {
        Kind::Roster => "registered",
        Kind::History => "recorded",
    };
    if dry_run {
        println!("dry run, nothing written: {new} rows would be {done}, {before} are {done} already, {bad} rejected");
        return Ok(());
    }
    println!("{new} rows {done}, {before} were {done} already, {bad} rejected");
    if let Some(batch) = outcome.batch {
        println!("batch {batch} (to reverse it: timebank import reverse {batch} --reason WHY)");
    }
    if bad > 0 {
        let out = rejected.unwrap_or_else(|| rejected_path(&file));
        import::sheet::write_rejected(&sheet, &outcome.rejected(&sheet), &out)?;
        println!(
            "the rejected rows, with 错误原因, are in {} (fix them and import that file)",
            out.display()
        );
    }
    Ok(())
}

pub async fn reverse(
    store: Store,
    actor: Actor,
    batch: uuid::Uuid,
    reason: String,
) -> anyhow::Result<()> {
    let handler = CommandHandler::new(store);
    let cmd = ReverseImportBatch {
        batch_id: ImportBatchId(batch),
        reason,
        impacts: vec![],
    };
    let done = handler
        .run(&actor, &format!("reverse-import-{batch}"), cmd)
        .await
        .with_context(|| format!("reversing import batch {batch}"))?;
    let r = done.result;
    if done.replayed {
        println!(
            "batch {batch} was reversed before: {} entries of {} volunteers",
            r.entries, r.volunteers
        );
    } else {
        println!(
            "batch {batch} reversed: {} entries of {} volunteers corrected",
            r.entries, r.volunteers
        );
    }
    Ok(())
}
