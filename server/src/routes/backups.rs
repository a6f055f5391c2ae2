//! Backups from the admin page: list (`GET /api/admin/backups`), take one
//! now (`POST /api/admin/backups`) and download one
//! (`GET /api/admin/backups/{name}`). Admins only: anonymous callers get
//! 401, other users 403. Backups are named by the server; a name in a
//! request only ever selects one of the files listed, never makes a path.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use layers::model::access::Actor;
use layers::store::backup::{self, BackupError, BackupFile};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::auth::{Principal, is_admin};
use crate::backups::TakeError;
use crate::client::Client;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiPath;
use crate::state::AppState;

/// 401 for the public, 403 for users other than admins.
fn admin_only(who: &Principal) -> ApiResult<()> {
    if who.account().is_none() {
        return Err(ApiError::unauthorized(
            "Silakan masuk sebagai admin terlebih dahulu. / Log in as an administrator first.",
        ));
    }
    if !is_admin(who) {
        return Err(ApiError::forbidden(
            "Hanya admin yang dapat mengelola cadangan. / Only administrators may manage backups.",
        ));
    }
    Ok(())
}

/// A backup as listed: every file with a backup's name has passed its
/// checks (it gets that name only then), so `verified` is always true.
fn entry(b: &BackupFile) -> Value {
    json!({
        "name": b.name,
        "bytes": b.bytes,
        "created_at": b.created_at,
        "verified": true,
    })
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /api/admin/backups`: `{"backups": [{"name", "bytes", "created_at",
/// "verified"}], "last_success", "age_seconds", "dir", "every_seconds",
/// "keep"}`, newest first; `dir` says whether a backup folder is
/// configured, and the schedule's fields are null when it is not.
pub async fn list(State(state): State<AppState>, who: Principal) -> ApiResult<Response> {
    admin_only(&who)?;
    let backups = &state.backups;
    // A folder that cannot be read lists nothing (and says why in the
    // log): the page still shows the schedule and the last success, and
    // taking a backup names the reason.
    let files = backups.list().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "listing the backups failed");
        Vec::new()
    });
    let last = backups.last_success();
    let configured = backups.dir().is_some();
    let config = backups.config();
    Ok(no_store(
        Json(json!({
            "backups": files.iter().map(entry).collect::<Vec<_>>(),
            "last_success": last.as_ref().map(|b| b.created_at.clone()),
            "age_seconds": last
                .as_ref()
                .map(|b| (layers::clock::unix_seconds() - b.created_unix).max(0)),
            "dir": configured,
            "every_seconds": configured.then_some(config.every.as_secs()),
            "keep": configured.then_some(config.keep),
        }))
        .into_response(),
    ))
}

/// `POST /api/admin/backups`: takes and checks a backup now; 201 with its
/// entry. 409 while another runs, 404 without `--backup-dir`. The backup
/// finishes even if the caller goes away.
pub async fn take(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
) -> ApiResult<Response> {
    admin_only(&who)?;
    let (backups, store) = (state.backups.clone(), state.store.clone());
    let account = who.account().cloned();
    let task = tokio::spawn(async move {
        let actor = Actor {
            account: account.as_ref(),
            client: client.addr.as_deref(),
        };
        backups.take(&store, Some(actor)).await
    });
    let taken = match task.await.map_err(ApiError::internal)? {
        Ok(t) => t,
        Err(TakeError::NotConfigured) => {
            return Err(ApiError::not_found(
                "Cadangan belum diatur: server berjalan tanpa --backup-dir. / Backups are not set up: the server runs without --backup-dir.",
            ));
        }
        Err(TakeError::Busy) => {
            return Err(ApiError {
                status: StatusCode::CONFLICT,
                kind: "conflict",
                detail: "Cadangan lain sedang dibuat; coba lagi sebentar lagi. / Another backup is being taken; try again shortly.".into(),
            });
        }
        Err(TakeError::Failed(BackupError::NoPgDump)) => {
            return Err(ApiError::unavailable(
                "pg_dump tidak ada di server ini; cadangan PostgreSQL menjadi tugas basis data (lihat README). / pg_dump is not on this server; backups of PostgreSQL are the database's job (see the README).",
            ));
        }
        Err(e) => {
            return Err(ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                kind: "backup-failed",
                detail: format!("Cadangan gagal: {e}. / The backup failed: {e}."),
            });
        }
    };
    let mut res = (StatusCode::CREATED, Json(entry(&taken.file))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/admin/backups/{}", taken.file.name)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(no_store(res))
}

/// `GET /api/admin/backups/{name}`: the backup file as an attachment;
/// 404 unless `name` is exactly a backup's name and that file is in the
/// backup folder.
pub async fn download(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Response> {
    admin_only(&who)?;
    let missing = || {
        ApiError::not_found(format!(
            "Tidak ada cadangan bernama {name:?}. / No backup named {name:?}."
        ))
    };
    let Some(dir) = state.backups.dir() else {
        return Err(missing());
    };
    let (path, file) = backup::find(dir, &name)
        .map_err(ApiError::internal)?
        .ok_or_else(missing)?;
    let reader = tokio::fs::File::open(&path).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            missing()
        } else {
            ApiError::internal(format!("{}: {e}", path.display()))
        }
    })?;
    let chunks = futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let mut buf = vec![0u8; 256 << 10];
        match reader.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((
                    Ok::<_, std::io::Error>(bytes::Bytes::from(buf)),
                    Some(reader),
                ))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let content_type = if file.name.ends_with(".db") {
        "application/vnd.sqlite3"
    } else {
        "application/octet-stream"
    };
    let mut res = Response::new(Body::from_stream(chunks));
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.bytes));
    // The name is a backup's name: letters, digits, `-` and `.` only.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(no_store(res))
}
