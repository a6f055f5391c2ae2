//! Staging an input as a new version of a layer: read and validate on a
//! blocking thread, insert batches in one transaction, then keep it as a
//! draft (uploads over HTTP) or publish it (the command line's import).

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::bbox::Bbox;
use crate::error::{Error, Result};
use crate::ingest::{Collector, Limits, ParsedFeature, Report, geojson};
use crate::model::LayerSpec;
use crate::model::access::Actor;
use crate::model::version::Status;
use crate::store::Store;
use crate::store::writer::{VersionSummaryIn, WriteMode, WriteOptions};

/// Features handed from the reader thread to the writer at a time.
const BATCH: usize = 2000;

/// Where a reader sends features: the writer, through a channel.
pub type Sink = Box<dyn FnMut(ParsedFeature) -> std::result::Result<(), ()> + Send>;

/// What a reader does with the collector: read the whole input into it.
pub type ReadFn = Box<dyn FnOnce(&mut Collector<'_, Sink, ()>) + Send>;

/// What to do with a valid input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Keep it as a draft to be published later; an invalid input is kept
    /// as a rejected version with its report.
    Draft,
    /// Publish it at once; an invalid input changes nothing at all.
    Publish,
}

/// What staging an input did.
#[derive(Debug, Clone, Serialize)]
pub struct Staged {
    /// Layer id.
    pub layer: String,
    /// The version created.
    pub version: i64,
    /// Draft, published or rejected.
    pub status: Status,
    /// The validation report.
    pub report: Report,
    /// Wall time of the whole import.
    pub seconds: f64,
}

/// Reads an input with `read` as a new version of the layer `spec` names.
///
/// With [`Then::Publish`] an invalid input returns [`Error::Invalid`] and
/// leaves the database exactly as it was. With [`Then::Draft`] it is kept
/// as a rejected version holding only its report. Either way, what is
/// published does not change unless the whole input was valid.
pub async fn stage(
    store: &Store,
    spec: &LayerSpec,
    opts: &WriteOptions<'_>,
    limits: Limits,
    then: Then,
    read: ReadFn,
) -> Result<Staged> {
    let started = Instant::now();
    let mut writer = store.begin_version(spec, opts).await?;
    let (tx, mut rx) = mpsc::channel::<Vec<ParsedFeature>>(4);
    let format_name = opts.format.to_owned();
    let reading = tokio::task::spawn_blocking(move || {
        // Shared with the sink so that the last, partial batch can be sent
        // once the reader is done.
        let pending = Arc::new(Mutex::new(Vec::with_capacity(BATCH)));
        let (batches, batch) = (tx.clone(), pending.clone());
        let sink: Sink = Box::new(move |f| {
            // The writer is gone: it failed, or the import was cancelled
            // (its request ended or the server is stopping). Stop at this
            // feature rather than read the rest of the input for nothing.
            if batches.is_closed() {
                return Err(());
            }
            let mut b = batch.lock().map_err(|_| ())?;
            b.push(f);
            if b.len() == BATCH {
                let full = std::mem::replace(&mut *b, Vec::with_capacity(BATCH));
                // The writer is gone only when it failed; its error wins.
                batches.blocking_send(full).map_err(|_| ())?;
            }
            Ok(())
        });
        let mut collector = Collector::new(&format_name, &limits, sink);
        read(&mut collector);
        let report = collector.finish();
        if let Ok(r) = &report
            && r.is_ok()
        {
            let rest = pending.lock().map(|mut b| std::mem::take(&mut *b));
            if let Ok(rest) = rest
                && !rest.is_empty()
            {
                let _ = tx.blocking_send(rest);
            }
        }
        report
    });

    let mut write_error = None;
    while let Some(batch) = rx.recv().await {
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
    let mut report = outcome.map_err(|()| Error::Io(std::io::Error::other("reader stopped")))?;
    if report.is_ok() {
        if let Some(f) = opts.name_field {
            if !report.schema.iter().any(|s| s.name == f) {
                writer.abort().await?;
                let names: Vec<&str> = report.schema.iter().map(|s| s.name.as_str()).collect();
                return Err(Error::BadRequest(format!(
                    "Kolom nama {f:?} tidak ada dalam berkas; kolomnya: {list}. / The name field {f:?} is not in the file; its fields: {list}.",
                    list = names.join(", ")
                )));
            }
            report.name_field = Some(f.to_owned());
        }
        let field = report.name_field.as_deref();
        writer
            .name_features(field, !report.name_keys.names_follow(field))
            .await?;
    }
    let summary = VersionSummaryIn {
        geometry_types: report
            .geometry_types
            .keys()
            .filter(|k| *k != "null")
            .cloned()
            .collect(),
        bbox: report.bbox,
        report: Some(serde_json::to_string(&report).map_err(std::io::Error::other)?),
    };
    let (version, status) = if !report.is_ok() {
        writer.abort().await?;
        if then == Then::Publish {
            return Err(Error::Invalid {
                problems: report.errors,
                count: report.error_count,
            });
        }
        // The features written so far are rolled back; a fresh transaction
        // keeps the rejected version with its report and nothing else.
        let writer = store.begin_version(spec, opts).await?;
        let summary = VersionSummaryIn {
            geometry_types: Vec::new(),
            bbox: None,
            ..summary
        };
        (
            writer.finish_draft(&summary, true, opts.actor).await?,
            Status::Rejected,
        )
    } else if then == Then::Publish {
        (
            writer.publish(&summary, opts.actor).await?,
            Status::Published,
        )
    } else {
        (
            writer.finish_draft(&summary, false, opts.actor).await?,
            Status::Draft,
        )
    };
    Ok(Staged {
        layer: spec.id.clone(),
        version,
        status,
        report,
        seconds: started.elapsed().as_secs_f64(),
    })
}

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

/// Imports the file at `path`, read as `format`, as a new published
/// version of the layer `spec` names, as the command line does. On any
/// problem the database is left exactly as it was and [`Error::Invalid`]
/// lists the problems.
pub async fn import_path(
    store: &Store,
    spec: &LayerSpec,
    path: &std::path::Path,
    format: crate::ingest::Format,
    limits: Limits,
) -> Result<ImportReport> {
    let read = file_reader(path, format, &limits);
    import_with(store, spec, limits, format.name(), read).await
}

/// A [`ReadFn`] that reads the file at `path` as `format` within `limits`.
pub fn file_reader(
    path: &std::path::Path,
    format: crate::ingest::Format,
    limits: &Limits,
) -> ReadFn {
    let (path, limits) = (path.to_owned(), limits.clone());
    Box::new(move |c| crate::ingest::read_path(&path, format, &limits, c))
}

/// Imports GeoJSON from `reader` as a new version of the layer `spec`
/// names and publishes it, as the command line does (no ownership check:
/// whoever runs it has the database file). On any problem in the input the
/// database is left exactly as it was and [`Error::Invalid`] lists the
/// problems.
pub async fn import_geojson<R>(
    store: &Store,
    spec: &LayerSpec,
    reader: R,
    limits: Limits,
) -> Result<ImportReport>
where
    R: Read + Send + 'static,
{
    let read_limits = limits.clone();
    let read: ReadFn = Box::new(move |c| geojson::read_into(reader, &read_limits, c));
    import_with(store, spec, limits, "geojson", read).await
}

async fn import_with(
    store: &Store,
    spec: &LayerSpec,
    limits: Limits,
    format: &str,
    read: ReadFn,
) -> Result<ImportReport> {
    let opts = WriteOptions {
        mode: WriteMode::Upsert,
        guard: None,
        actor: Actor {
            account: None,
            client: None,
        },
        format,
        name_field: None,
    };
    let staged = stage(store, spec, &opts, limits, Then::Publish, read).await?;
    Ok(ImportReport {
        layer: staged.layer,
        version: staged.version,
        features: staged.report.features,
        geometry_types: staged.report.geometry_types,
        bbox: staged.report.bbox,
        seconds: staged.seconds,
    })
}
