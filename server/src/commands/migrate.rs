//! `bsc migrate-data`: one database copied into another, empty one.

use std::process::ExitCode;

use anyhow::{Context, bail};
use layers::Store;

use super::terminal::redact;
use crate::cli::MigrateDataArgs;

/// `bsc migrate-data --from URL --to URL`: copies one database into
/// another, empty one, and prints what was copied.
pub async fn migrate_data(args: MigrateDataArgs) -> anyhow::Result<ExitCode> {
    let (from_name, to_name) = (redact(&args.from), redact(&args.to));
    if from_name == to_name {
        bail!("--from and --to name the same database");
    }
    let from = Store::open(&args.from)
        .await
        .with_context(|| format!("opening {from_name}"))?;
    let to = Store::open(&args.to)
        .await
        .with_context(|| format!("opening {to_name}"))?;
    let started = std::time::Instant::now();
    let report = layers::store::copy::copy(&from, &to).await?;
    for (table, rows) in &report.tables {
        println!("{table:<15} {rows:>10}");
    }
    println!(
        "copied {from_name} to {to_name} in {:.1} s; every count matches",
        started.elapsed().as_secs_f64()
    );
    from.close().await;
    to.close().await;
    Ok(ExitCode::SUCCESS)
}
