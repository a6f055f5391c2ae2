//! `bsc export pmtiles`: the public layers as a PMTiles archive.

use std::fs::File;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use layers::{Catalog, LayerIndex, Store, Visibility};
use tiles::archive::{ArchiveLayer, write_pmtiles};

use crate::cli::{ExportCommand, PmtilesArgs};

/// Runs one `bsc export` command.
pub async fn export(cmd: ExportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ExportCommand::Pmtiles(args) => pmtiles(args).await,
    }
}

/// Loads the published layers as the server does, keeps the public ones
/// (`--layers` narrows them), renders their tiles as `/tiles/all/…` does
/// for the public and writes them to a temporary file beside `OUT`,
/// renamed into place when complete.
async fn pmtiles(args: PmtilesArgs) -> anyhow::Result<ExitCode> {
    let out = args.out.clone();
    if out.exists() {
        bail!("{} exists; refusing to overwrite it", out.display());
    }
    let store = Store::open(&args.db.database)
        .await
        .with_context(|| format!("opening {}", super::terminal::redact(&args.db.database)))?;
    let started = Instant::now();
    let catalog = Catalog::with_prepare(Arc::new(crate::caches::prepare));
    catalog.sync(&store).await?;
    store.close().await;
    let snapshot = catalog.snapshot();
    let public: Vec<Arc<LayerIndex>> = snapshot
        .layers
        .iter()
        .filter(|l| l.meta.visibility == Visibility::Public)
        .filter(|l| args.layers.is_empty() || args.layers.contains(&l.meta.id))
        .cloned()
        .collect();
    for name in &args.layers {
        if !public.iter().any(|l| &l.meta.id == name) {
            bail!("--layers: no published public layer {name:?}");
        }
    }
    let partial = out.with_extension("pmtiles.partial");
    let file = File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let (min_zoom, max_zoom) = (args.min_zoom, args.max_zoom);
    let summary = tokio::task::spawn_blocking(move || {
        let layers: Vec<ArchiveLayer<'_>> = public
            .iter()
            .map(|l| ArchiveLayer {
                name: &l.meta.id,
                data: &l.data,
                description: l
                    .meta
                    .about
                    .as_ref()
                    .and_then(|a| a.description_id.clone())
                    .unwrap_or_else(|| l.meta.title_id.clone()),
            })
            .collect();
        let mut credits: Vec<String> = Vec::new();
        for l in &public {
            if let Some(c) = l.meta.about.as_ref().and_then(|a| a.source.clone())
                && !credits.contains(&c)
            {
                credits.push(c);
            }
        }
        write_pmtiles(
            &layers,
            min_zoom,
            max_zoom,
            &credits.join("; "),
            &tiles::TileOptions::default(),
            file,
            |z, n| tracing::info!(zoom = z, tiles = n, "zoom written"),
        )
    })
    .await?;
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    };
    std::fs::rename(&partial, &out).with_context(|| format!("writing {}", out.display()))?;
    let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!(
        "{}: {} tiles (of {} looked at) of {} layers, zoom {min_zoom}-{max_zoom}, {bytes} bytes in {:.1} s",
        out.display(),
        summary.tiles,
        summary.tiles_considered,
        snapshot
            .layers
            .iter()
            .filter(|l| l.meta.visibility == Visibility::Public)
            .filter(|l| args.layers.is_empty() || args.layers.contains(&l.meta.id))
            .count(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
