//! `timebank import roster FILE.xlsx|FILE.csv --community ID [--dry-run] [--map A=B]…
//! [--rejected OUT]`: a community's roster (花名册) checked row by row, then registered
//! (see the `import` crate). Prints what happened to each row that did not simply go
//! through, and the totals; the rejected rows go to `OUT` (default: beside the file,
//! `NAME.rejected.xlsx` or `.csv`) with a 错误原因 column, to fix and import again.
//! Importing the same file again adds nothing.

use anyhow::{bail, Context};
use import::{RowStatus, Sheet};
use ledger::command::{Actor, CommandHandler};
use ledger::ids::CommunityId;
use ledger::Store;
use std::path::{Path, PathBuf};

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

pub async fn roster(
    store: Store,
    actor: Actor,
    file: &Path,
    community: uuid::Uuid,
    dry_run: bool,
    map: &[String],
    rejected: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mapping = mapping(map)?;
    let sheet: Sheet = import::sheet::read(file)?;
    let handler = CommandHandler::new(store);
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("registering [{bar:40}] {pos}/{len} rows ({eta})")?
            .progress_chars("=> "),
    );
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let outcome = import::import_roster(
        &handler,
        &actor,
        CommunityId(community),
        &sheet,
        &mapping,
        dry_run,
        &mut progress,
    )
    .await
    .with_context(|| format!("importing {}", file.display()))?;
    bar.finish_and_clear();
    for r in &outcome.rows {
        let what = match &r.status {
            RowStatus::Registered { .. } if dry_run => continue,
            RowStatus::Registered { volunteer_number } => {
                format!("registered {}", volunteer_number.as_deref().unwrap_or(""))
            }
            RowStatus::AlreadyImported { volunteer_number } => {
                format!("imported before as {volunteer_number}")
            }
            RowStatus::AlreadyRegistered { volunteer_number } => {
                format!("registered before as {volunteer_number}: skipped")
            }
            RowStatus::Rejected { reason } => format!("rejected: {reason}"),
        };
        println!("row {:>4} {}: {what}", r.row, r.name);
    }
    let (new, before, bad) = outcome.counts();
    if dry_run {
        println!("dry run, nothing written: {new} rows would be registered, {before} are registered already, {bad} rejected");
        return Ok(());
    }
    println!("{new} rows registered, {before} were registered already, {bad} rejected");
    if bad > 0 {
        let out = rejected.unwrap_or_else(|| rejected_path(file));
        import::sheet::write_rejected(&sheet, &outcome.rejected(&sheet), &out)?;
        println!(
            "the rejected rows, with 错误原因, are in {} (fix them and import that file)",
            out.display()
        );
    }
    Ok(())
}
