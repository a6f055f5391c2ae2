//! The set of layers being served, swapped atomically.
//!
//! Readers take a [`Snapshot`] (one atomic load) and keep using it for the
//! whole request, so a publish never shows them half a layer or a mix of
//! versions. [`Catalog::sync`] brings the set in line with the database,
//! loading only the layers whose published version changed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arc_swap::ArcSwap;
use futures_util::StreamExt;

use crate::error::{Error, Result};
use crate::index::build::LayerBuilder;
use crate::index::{LayerData, LayerIndex};
use crate::model::{FeatureRow, VersionInfo};
use crate::store::Store;
use crate::store::photos::with_photos;

/// Rows read by one query when loading a layer.
const LOAD_BATCH: usize = 20_000;
/// Range queries in flight at once when loading (the pool has 4 connections).
const READERS: usize = 3;

/// The served layers at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Layers in display order (category, then id).
    pub layers: Vec<Arc<LayerIndex>>,
    by_id: HashMap<String, usize>,
    /// The name field of each served layer's version, by layer id, when
    /// it has one: what the loaded features' names come from.
    name_fields: HashMap<String, String>,
    /// Increases with every change; part of list ETags.
    pub generation: u64,
}

impl Snapshot {
    /// The layer with this id, if served.
    pub fn get(&self, id: &str) -> Option<&Arc<LayerIndex>> {
        self.by_id.get(id).map(|&i| &self.layers[i])
    }

    /// The property the served features of layer `id` take their names
    /// from, if it has one.
    pub fn name_field(&self, id: &str) -> Option<&str> {
        self.name_fields.get(id).map(String::as_str)
    }
}

/// What a [`Catalog::sync`] changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Layers whose features were (re)loaded.
    pub loaded: Vec<String>,
    /// Layers no longer served.
    pub removed: Vec<String>,
    /// Layers whose metadata alone changed.
    pub updated: Vec<String>,
}

impl SyncReport {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.loaded.is_empty() && self.removed.is_empty() && self.updated.is_empty()
    }
}

/// Work done on each layer version after it loads and before it is
/// served, on a blocking thread.
pub type Prepare = Arc<dyn Fn(&LayerData) + Send + Sync>;

/// The served layer set.
#[derive(Default)]
pub struct Catalog {
    current: ArcSwap<Snapshot>,
    generation: AtomicU64,
    /// One sync at a time: a slow sync that read the database earlier must
    /// not swap in its older view over a newer one.
    syncing: tokio::sync::Mutex<()>,
    prepare: Option<Prepare>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("current", &self.current)
            .field("generation", &self.generation)
            .field("prepare", &self.prepare.is_some())
            .finish_non_exhaustive()
    }
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty catalog that runs `prepare` on every layer version it
    /// loads before serving it. The server builds each version's vector
    /// tile generalisation there, so that no tile request waits for it and
    /// a publish is served at full speed from its first tile.
    pub fn with_prepare(prepare: Prepare) -> Self {
        Catalog {
            prepare: Some(prepare),
            ..Self::default()
        }
    }

    /// The layers being served now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Loads every published layer whose version, photos or name field
    /// differ from what is served, drops layers no longer published, and
    /// swaps the new set in.
    pub async fn sync(&self, store: &Store) -> Result<SyncReport> {
        let _one_at_a_time = self.syncing.lock().await;
        let published = store.published_layers().await?;
        let old = self.snapshot();
        let mut report = SyncReport::default();
        let mut layers = Vec::with_capacity(published.len());
        let mut name_fields = HashMap::new();
        let mut preparing = Vec::new();
        for p in published {
            let prior = old.get(&p.meta.id);
            if let Some(f) = &p.name_field {
                name_fields.insert(p.meta.id.clone(), f.clone());
            }
            let data = match prior {
                Some(l)
                    if l.data.version.id == p.version.id
                        && l.data.version.photos_rev == p.version.photos_rev
                        && old.name_field(&p.meta.id) == p.name_field.as_deref() =>
                {
                    if *l.meta != p.meta {
                        report.updated.push(p.meta.id.clone());
                    }
                    l.data.clone()
                }
                _ => {
                    let started = Instant::now();
                    let data = Arc::new(load(store, &p.meta.id, p.version).await?);
                    tracing::info!(
                        layer = %p.meta.id,
                        version = data.version.version,
                        features = data.len(),
                        ms = started.elapsed().as_millis() as u64,
                        "loaded layer"
                    );
                    if let Some(prepare) = &self.prepare {
                        // While the next layer loads.
                        let (prepare, data) = (prepare.clone(), data.clone());
                        preparing.push(tokio::task::spawn_blocking(move || prepare(&data)));
                    }
                    report.loaded.push(p.meta.id.clone());
                    data
                }
            };
            let meta = match prior {
                Some(l) if *l.meta == p.meta => l.meta.clone(),
                _ => Arc::new(p.meta),
            };
            layers.push(Arc::new(LayerIndex { meta, data }));
        }
        for l in &old.layers {
            if !layers.iter().any(|n| n.meta.id == l.meta.id) {
                report.removed.push(l.meta.id.clone());
            }
        }
        for task in preparing {
            task.await
                .map_err(|e| Error::Corrupt(format!("preparing a layer failed: {e}")))?;
        }
        if !report.is_empty() || old.layers.len() != layers.len() {
            self.swap(layers, name_fields);
        }
        Ok(report)
    }

    /// Serves exactly `layers` from now on (with the name fields served
    /// now for those that were).
    pub fn replace(&self, layers: Vec<Arc<LayerIndex>>) {
        let old = self.snapshot();
        let name_fields = layers
            .iter()
            .filter_map(|l| {
                let f = old.name_field(&l.meta.id)?;
                Some((l.meta.id.clone(), f.to_owned()))
            })
            .collect();
        self.swap(layers, name_fields);
    }

    fn swap(&self, layers: Vec<Arc<LayerIndex>>, name_fields: HashMap<String, String>) {
        let by_id = layers
            .iter()
            .enumerate()
            .map(|(i, l)| (l.meta.id.clone(), i))
            .collect();
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.current.store(Arc::new(Snapshot {
            layers,
            by_id,
            name_fields,
            generation,
        }));
    }
}

/// Reads version `version` of layer `layer` and builds its index, with the
/// layer's photos in the features' properties. The rows are read in
/// ranges over several pooled connections at once (each SQLite connection
/// has its own worker thread), in order, while a blocking thread encodes
/// them.
pub async fn load(store: &Store, layer: &str, version: VersionInfo) -> Result<LayerData> {
    let mut photos = store.photo_refs(layer).await?;
    let fields = store.version_fields(version.id).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<FeatureRow>>(READERS);
    let version_id = version.id;
    let count = version.feature_count;
    let building = tokio::task::spawn_blocking(move || {
        let mut builder = LayerBuilder::new(version);
        builder.set_fields(fields);
        while let Some(batch) = rx.blocking_recv() {
            for mut row in batch {
                if !photos.is_empty()
                    && let Some(list) = photos.remove(&row.fid)
                {
                    row.properties = with_photos(&row.properties, &list)?;
                }
                builder.push(row)?;
            }
        }
        builder.finish()
    });
    let ranges = (0..count)
        .step_by(LOAD_BATCH)
        .map(|from| (from, (from + LOAD_BATCH as i64).min(count)));
    let mut reads = futures_util::stream::iter(ranges)
        .map(|(from, to)| store.feature_rows(version_id, from, to))
        .buffered(READERS);
    let mut read = Ok(());
    let mut loaded = 0i64;
    while let Some(batch) = reads.next().await {
        match batch {
            Ok(rows) => {
                loaded += rows.len() as i64;
                // A closed channel means the builder failed; its error is returned below.
                if tx.send(rows).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                read = Err(e);
                break;
            }
        }
    }
    drop(tx);
    let built = building
        .await
        .map_err(|e| Error::Corrupt(format!("index builder panicked: {e}")))?;
    read?;
    if loaded != count {
        return Err(Error::Corrupt(format!(
            "version {version_id} should have {count} features, found {loaded}"
        )));
    }
    built
}
