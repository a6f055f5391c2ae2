//! Importing a file as a new published version of a layer: read and
//! validate on a blocking thread, insert batches in one transaction, publish
//! only if the whole input was valid.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::bbox::Bbox;
use crate::error::{Error, Result};
use crate::ingest::{Limits, ParsedFeature, geojson};
use crate::model::LayerSpec;
use crate::store::Store;

/// Features handed from the reader thread to the writer at a time.
const BATCH: usize = 2000;

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// Layer id.
    pub layer: String,
    /// The version created and published.
    pub version: i64,
    /// Features stored.
    pub features: usize,
    /// Features per geometry type (`null` for features without geometry).
    pub geometry_types: BTreeMap<String, usize>,
    /// Extent of all geometries.
    pub bbox: Option<Bbox>,
    /// Wall time of the whole import.
    pub seconds: f64,
}

/// Imports GeoJSON from `reader` as a new version of the layer `spec`
/// names and publishes it. On any problem in the input the database is left
/// exactly as it was and [`Error::Invalid`] lists the problems.
pub async fn import_geojson<R>(
    store: &Store,
    spec: &LayerSpec,
    reader: R,
    limits: Limits,
) -> Result<ImportReport>
where
    R: Read + Send + 'static,
{
    let started = Instant::now();
    let mut writer = store.begin_version(spec).await?;
    let (tx, mut rx) = mpsc::channel::<Vec<ParsedFeature>>(4);
    let reading = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(BATCH);
        let outcome = geojson::read(reader, &limits, |f| {
            batch.push(f);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                // The writer is gone only when it failed; its error wins.
                tx.blocking_send(full).map_err(|_| ())?;
            }
            Ok::<_, ()>(())
        });
        if let Ok(o) = &outcome
            && o.error_count == 0
            && !batch.is_empty()
        {
            let _ = tx.blocking_send(batch);
        }
        outcome
    });

    let mut stats = Stats::default();
    let mut write_error = None;
    while let Some(batch) = rx.recv().await {
        stats.add(&batch);
        if let Err(e) = writer.insert(&batch).await {
            write_error = Some(e);
            break;
        }
    }
    drop(rx);
    let outcome = reading
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?;
    if let Some(e) = write_error {
        return Err(e);
    }
    let outcome = outcome.map_err(|()| Error::Io(std::io::Error::other("reader stopped")))?;
    if outcome.error_count > 0 {
        return Err(Error::Invalid {
            problems: outcome.errors,
            count: outcome.error_count,
        });
    }
    let types: Vec<String> = stats
        .types
        .keys()
        .filter(|k| *k != "null")
        .cloned()
        .collect();
    let version = writer.publish(&types, stats.bbox).await?;
    Ok(ImportReport {
        layer: spec.id.clone(),
        version,
        features: stats.features,
        geometry_types: stats.types,
        bbox: stats.bbox,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[derive(Default)]
struct Stats {
    features: usize,
    types: BTreeMap<String, usize>,
    bbox: Option<Bbox>,
}

impl Stats {
    fn add(&mut self, batch: &[ParsedFeature]) {
        self.features += batch.len();
        for f in batch {
            *self
                .types
                .entry(f.geometry_type.unwrap_or("null").to_owned())
                .or_default() += 1;
            if let Some([a, b, c, d]) = f.bbox {
                let fb = Bbox::new(a, b, c, d);
                self.bbox = Some(self.bbox.map_or(fb, |x| x.union(&fb)));
            }
        }
    }
}
