//! Uploads: `POST /api/layers` (a new layer) and `POST /api/layers/{id}/versions`
//! (a new version of one). The body is multipart (a `file` part plus
//! metadata fields) or the raw file with metadata in the query string.
//!
//! The file is spooled to a temporary file (never named after anything in
//! the request), read and validated on a blocking thread, and stored as a
//! draft with its validation report, or as a rejected version when it has
//! errors. Nothing published changes until `.../publish`.

use std::collections::HashMap;
use std::path::Path;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use layers::model::LayerSpec;
use layers::model::about::LayerAbout;
use layers::model::style::LayerStyle;
use layers::model::version::Status;
use layers::staging::{Staged, Then, file_reader, stage};
use layers::store::writer::{WriteMode, WriteOptions};
use layers::{Visibility, ingest};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::auth::{Principal, is_admin, write_guard};
use crate::client::Client;
use crate::error::{ApiError, ApiResult, problem_response};
use crate::extract::ApiPath;
use crate::state::AppState;

/// Longest metadata field accepted in a multipart upload.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// `POST /api/layers`: creates a layer from an upload; its first version
/// is a draft.
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    req: Request,
) -> ApiResult<Response> {
    refuse_anonymous(&who)?;
    let watch = Cancelled::log_if_dropped(req.uri().path().to_owned());
    let done = async {
        let upload = Upload::read(&state, req).await?;
        let id = upload
            .field("id")
            .ok_or_else(|| ApiError::bad_request("invalid-request", "Lapisan perlu id (misalnya ?id=pura-desa). / The layer needs an id (e.g. ?id=pura-desa)."))?
            .to_owned();
        run(&state, &who, &client, id, upload, WriteMode::Create).await
    }
    .await;
    watch.finished();
    done
}

/// `POST /api/layers/{id}/versions`: uploads a new version of layer `id`
/// as a draft.
pub async fn replace(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<String>,
    req: Request,
) -> ApiResult<Response> {
    refuse_anonymous(&who)?;
    // A layer the caller may not see or change is refused before a byte
    // of the body is read (and checked again inside the write).
    match state.store.owner(&id).await? {
        Some(owner) => write_guard(&who)(&owner)?,
        None => return Err(ApiError::no_layer(&id)),
    }
    let watch = Cancelled::log_if_dropped(req.uri().path().to_owned());
    let done = async {
        let upload = Upload::read(&state, req).await?;
        run(&state, &who, &client, id, upload, WriteMode::Replace).await
    }
    .await;
    watch.finished();
    done
}

/// Refuses an upload by nobody before its body is read: the caller is
/// known from the headers alone (session cookie or API token), so an
/// anonymous client cannot make the server spool hundreds of MiB.
fn refuse_anonymous(who: &Principal) -> ApiResult<()> {
    match who {
        Principal::Anonymous => Err(ApiError::log_in("mengunggah lapisan", "upload layers")),
        Principal::User(_) => Ok(()),
    }
}

async fn run(
    state: &AppState,
    who: &Principal,
    client: &Client,
    id: String,
    upload: Upload,
    mode: WriteMode,
) -> ApiResult<Response> {
    let Some(account) = who.account() else {
        return Err(ApiError::log_in("mengunggah lapisan", "upload layers"));
    };
    let visibility = upload
        .field("visibility")
        .map(|v| {
            v.parse::<Visibility>()
                .map_err(|e| ApiError::bad_request("invalid-request", e))
        })
        .transpose()?;
    // Staff upload for their own agency; only admins name another one.
    let agency = match (upload.field("agency"), is_admin(who)) {
        (Some(a), true) => Some(a.to_owned()),
        (Some(a), false) if Some(a) != account.agency.as_deref() => {
            return Err(ApiError::forbidden(format!(
                "{} may only upload layers of their own agency",
                account.name
            )));
        }
        _ if mode == WriteMode::Create => account.agency.clone(),
        _ => None,
    };
    let category = match (upload.field("category"), mode) {
        (Some(c), _) => c.to_owned(),
        (None, WriteMode::Replace) => String::new(),
        (None, _) => {
            return Err(ApiError::bad_request(
                "invalid-request",
                "a new layer needs a category (see GET /api/categories)",
            ));
        }
    };
    let spec = LayerSpec {
        id: id.clone(),
        category,
        title_id: upload.field("title_id").map(str::to_owned),
        title_en: upload.field("title_en").map(str::to_owned),
        agency,
        visibility,
        source_name: upload.file_name.clone(),
        about: about_of(&upload)?,
        style: style_of(&upload)?,
    };
    let format = upload.format()?;
    let guard = write_guard(who);
    let opts = WriteOptions {
        mode,
        guard: Some(&guard),
        actor: client.actor(who),
        format: format.name(),
        name_field: upload.field("name_field"),
    };
    let limits = state.writes.limits.clone();
    let read = file_reader(upload.path(), format, &limits);
    let staged = stage(&state.store, &spec, &opts, limits, Then::Draft, read).await?;
    drop(upload);
    Ok(staged_response(&state.config.public_url, &staged))
}

/// What the upload's form says the layer is about: an `about` field of
/// JSON, or the fields one by one (`description_id`, `description_en`,
/// `source`, `licence`, `contact_unit`, `contact_email`,
/// `update_frequency`, `keywords` separated by commas, `data_date`).
/// `None` when it says nothing, which keeps what the layer says.
fn about_of(upload: &Upload) -> ApiResult<Option<LayerAbout>> {
    let bad = |e: String| ApiError::bad_request("invalid-request", e);
    let about = if let Some(json) = upload.field("about") {
        serde_json::from_str::<LayerAbout>(json).map_err(|e| bad(format!("about: {e}")))?
    } else {
        let text = |k: &str| upload.field(k).map(str::to_owned);
        LayerAbout {
            description_id: text("description_id"),
            description_en: text("description_en"),
            source: text("source"),
            licence: text("licence"),
            contact_unit: text("contact_unit"),
            contact_email: text("contact_email"),
            update_frequency: upload
                .field("update_frequency")
                .filter(|f| !f.trim().is_empty())
                .map(str::parse)
                .transpose()
                .map_err(bad)?,
            keywords: upload
                .field("keywords")
                .map(|k| k.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            data_date: text("data_date"),
        }
    };
    let about = about.normalised().map_err(bad)?;
    Ok((!about.is_empty()).then_some(about))
}

/// The upload's `style` field (JSON of a [`LayerStyle`]), checked.
fn style_of(upload: &Upload) -> ApiResult<Option<LayerStyle>> {
    let Some(json) = upload.field("style").filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let style: LayerStyle = serde_json::from_str(json)
        .map_err(|e| ApiError::bad_request("invalid-request", format!("style: {e}")))?;
    style
        .check()
        .map_err(|e| ApiError::bad_request("invalid-request", e))?;
    Ok(Some(style))
}

/// Logs an upload whose request future was dropped before it finished:
/// its client went away or the server is stopping. Dropping the future
/// drops the version writer (its transaction rolls back) and the channel
/// the reader feeds, so the reader stops at its next feature.
struct Cancelled {
    path: String,
    done: bool,
}

impl Cancelled {
    fn log_if_dropped(path: String) -> Self {
        Cancelled { path, done: false }
    }

    fn finished(mut self) {
        self.done = true;
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if !self.done && !std::thread::panicking() {
            tracing::info!(
                path = %self.path,
                "upload cancelled before it finished; nothing was written"
            );
        }
    }
}

/// 201 with the report for a draft; 422 problem JSON with the report for
/// a rejected upload.
fn staged_response(base: &str, s: &Staged) -> Response {
    let version_url = format!("{base}/api/layers/{}/versions/{}", s.layer, s.version);
    if s.status == Status::Rejected {
        let first = s
            .report
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        let mut extra = serde_json::Map::new();
        extra.insert("layer".into(), json!(s.layer));
        extra.insert("version".into(), json!(s.version));
        extra.insert("report".into(), json!(s.report));
        return problem_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-upload",
            &format!(
                "{} error(s) in the upload; it was kept as rejected version {} and nothing published changed. First: {first}",
                s.report.error_count, s.version
            ),
            extra,
        );
    }
    let body = json!({
        "layer": s.layer,
        "version": s.version,
        "status": s.status,
        "report": s.report,
        "seconds": s.seconds,
        "links": [
            { "rel": "self", "href": version_url },
            { "rel": "preview", "type": "application/geo+json",
              "href": format!("{base}/api/layers/{}/features?version={}", s.layer, s.version) },
            { "rel": "publish", "href": format!("{base}/api/layers/{}/publish?version={}", s.layer, s.version) },
        ],
    });
    let mut res = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&version_url) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// An upload spooled to disk, with its metadata fields.
struct Upload {
    file: tempfile::NamedTempFile,
    file_name: Option<String>,
    content_type: Option<String>,
    head: Vec<u8>,
    fields: HashMap<String, String>,
}

impl Upload {
    async fn read(state: &AppState, req: Request) -> ApiResult<Upload> {
        let max = state.writes.max_upload_bytes;
        let dir = state
            .writes
            .upload_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        let headers = req.headers().clone();
        let is_multipart = content_type(&headers)
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"));
        if is_multipart {
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|e| ApiError::bad_request("invalid-upload", e.body_text()))?;
            let mut fields = HashMap::new();
            let mut spooled = None;
            let mut meta_bytes = 0usize;
            while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
                let name = field.name().unwrap_or_default().to_owned();
                if name == "file" {
                    if spooled.is_some() {
                        return Err(ApiError::bad_request(
                            "invalid-upload",
                            "the upload has more than one file part; send one file per upload",
                        ));
                    }
                    let file_name = field.file_name().map(str::to_owned);
                    let ct = field.content_type().map(str::to_owned);
                    let stream = futures_util::stream::unfold(field, |mut f| async move {
                        match f.chunk().await {
                            Ok(Some(c)) => Some((Ok(c), f)),
                            Ok(None) => None,
                            Err(e) => Some((Err(multipart_error(e)), f)),
                        }
                    });
                    let (file, head) = spool(stream, max, &dir).await?;
                    spooled = Some((file, head, file_name, ct));
                } else {
                    let value = field.text().await.map_err(multipart_error)?;
                    meta_bytes += value.len();
                    if value.len() > MAX_FIELD_BYTES || meta_bytes > 16 * MAX_FIELD_BYTES {
                        return Err(ApiError::bad_request(
                            "limit-exceeded",
                            format!(
                                "form field {name:?} is too long (limit {MAX_FIELD_BYTES} bytes)"
                            ),
                        ));
                    }
                    fields.insert(name, value);
                }
            }
            let (file, head, file_name, content_type) = spooled.ok_or_else(|| {
                ApiError::bad_request("invalid-upload", "Formulir tidak berisi bagian \"file\"; lampirkan berkasnya. / The form has no \"file\" part; attach the file.")
            })?;
            Ok(Upload {
                file,
                file_name,
                content_type,
                head,
                fields,
            })
        } else {
            let fields: HashMap<String, String> = req
                .uri()
                .query()
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default();
            let stream = req
                .into_body()
                .into_data_stream()
                .map(|r| r.map_err(|e| ApiError::bad_request("invalid-upload", e.to_string())));
            let (file, head) = spool(stream, max, &dir).await?;
            if head.is_empty() {
                return Err(ApiError::bad_request(
                    "invalid-upload",
                    "the upload is empty; send the file as the body or as the \"file\" part of a form",
                ));
            }
            let file_name = fields.get("filename").cloned();
            Ok(Upload {
                file,
                file_name,
                content_type: content_type(&headers).map(str::to_owned),
                head,
                fields,
            })
        }
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    fn path(&self) -> &Path {
        self.file.path()
    }

    fn format(&self) -> ApiResult<ingest::Format> {
        if let Some(f) = self.field("format") {
            return f
                .parse::<ingest::Format>()
                .map_err(|e| ApiError::bad_request("unsupported-format", e.to_string()));
        }
        ingest::Format::detect(
            self.file_name.as_deref(),
            self.content_type.as_deref(),
            &self.head,
        )
        .ok_or_else(|| ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            kind: "unsupported-format",
            detail: "cannot tell the format of the upload: send GeoJSON, FlatGeobuf, a zipped Shapefile, KML/KMZ, CSV or GeoPackage, with its file name or a format field".into(),
        })
    }
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::too_large(e.body_text());
    }
    ApiError::bad_request("invalid-upload", e.body_text())
}

/// How spooled uploads are named: `bsc-upload-PID-RANDOM`, so that a
/// server starting later can tell the files of a process that died from
/// those of a live one sharing the folder.
const SPOOL_PREFIX: &str = "bsc-upload-";

/// A spooled upload older than this is removed at start even if its
/// process seems alive (its process id was reused).
const SPOOL_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes the spooled uploads in `dir` that a crashed or killed server
/// left behind: files named `bsc-upload-…` (`SPOOL_PREFIX`) whose process
/// is gone (no `/proc/PID`), and any older than a day. Files of a live server on the
/// same host are kept. Returns how many were removed.
pub fn remove_leftovers(dir: &Path) -> std::io::Result<usize> {
    let have_proc = Path::new("/proc/self").exists();
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(SPOOL_PREFIX)) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let pid = rest
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        let alive = match pid {
            Some(pid) if have_proc => {
                pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
            }
            // No way to tell (no /proc, or a name from an older version):
            // only the age decides.
            _ => true,
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > SPOOL_MAX_AGE);
        if (!alive || old) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Writes `stream` to a new temporary file in `dir`, refusing more than
/// `max` bytes; returns the file and its first bytes (to sniff the format).
async fn spool<S>(stream: S, max: u64, dir: &Path) -> ApiResult<(tempfile::NamedTempFile, Vec<u8>)>
where
    S: Stream<Item = ApiResult<bytes::Bytes>>,
{
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{SPOOL_PREFIX}{}-", std::process::id()))
        .tempfile_in(dir)
        .map_err(ApiError::internal)?;
    let mut out = tokio::fs::File::from_std(tmp.reopen().map_err(ApiError::internal)?);
    let mut head = Vec::new();
    let mut total = 0u64;
    let mut stream = std::pin::pin!(stream);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        total += chunk.len() as u64;
        if total > max {
            return Err(ApiError::too_large(format!(
                "the upload is larger than {max} bytes (limit max_upload_bytes)"
            )));
        }
        if head.len() < 4096 {
            let take = (4096 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    Ok((tmp, head))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn leftovers_of_dead_servers_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // A process that has ended: its id names no live process now.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let files = [
            (format!("{SPOOL_PREFIX}{dead}-abc123"), false),
            (format!("{SPOOL_PREFIX}{}-def456", std::process::id()), true),
            ("somebody-elses.geojson".to_owned(), true),
        ];
        for (name, _) in &files {
            std::fs::write(dir.path().join(name), b"{}").unwrap();
        }
        assert_eq!(remove_leftovers(dir.path()).unwrap(), 1);
        for (name, kept) in &files {
            assert_eq!(dir.path().join(name).exists(), *kept, "{name}");
        }
    }
}
