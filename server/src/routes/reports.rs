//! Laporan warga (citizen reports): report types (`GET /api/report-types`,
//! routing changed by admins with `PUT /api/report-types/{id}`), submitting
//! without an account (`POST /api/reports`), tracking by code
//! (`GET /api/reports/{code}`), rating a finished report
//! (`POST /api/reports/{code}/rating`), the agencies' queue
//! (`GET /api/manage/reports`), handling (`POST /api/reports/{id}/status`,
//! `POST /api/reports/{id}/agency`), the leaders' figures
//! (`GET /api/reports/stats`) and report photos
//! (`GET /api/report-photos/{id}`).
//!
//! Who may do what is decided in [`crate::auth`]; the reporter's name and
//! contact appear only in the queue and single-report answers to those who
//! handle the report and to leaders, never in tracking, the public layer,
//! logs or the audit log.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use layers::model::report::{ReportError, Status};
use layers::store::reports::NewReport;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{
    Principal, can_route_report_types, can_see_report, can_see_report_stats, report_guard,
    sees_all_reports,
};
use crate::client::Client;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// The honeypot field: people never see it, so only bots fill it.
const HONEYPOT: &str = "website";

fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid-report", detail)
}

fn login_first() -> ApiError {
    ApiError::unauthorized("Silakan masuk terlebih dahulu. / Log in first.")
}

/// `GET /api/report-types`: what can be reported, with titles, category
/// and the agency it is routed to.
pub async fn types(State(state): State<AppState>) -> ApiResult<Response> {
    let types = state.store.report_types().await?;
    Ok(Json(json!({ "types": types })).into_response())
}

/// The body of `PUT /api/report-types/{id}` and `POST /api/reports/{id}/agency`.
#[derive(Deserialize)]
pub struct RouteBody {
    /// Agency slug or name.
    agency: String,
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            "Isi permintaan bukan JSON yang benar: {e}. / The body is not the expected JSON: {e}."
        ))
    })
}

/// `PUT /api/report-types/{id}` with `{"agency": ...}`: routes a report
/// type to another agency (admins).
pub async fn route_type(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> ApiResult<Response> {
    if who.account().is_none() {
        return Err(login_first());
    }
    if !can_route_report_types(&who) {
        return Err(ApiError::forbidden(
            "Hanya admin yang dapat mengubah tujuan laporan. / Only administrators may change report routing.",
        ));
    }
    let b: RouteBody = json_body(&body)?;
    let t = state
        .store
        .route_report_type(&id, &b.agency, client.actor(&who))
        .await?;
    Ok(Json(t).into_response())
}

/// The JSON form of a submission (without photo).
#[derive(Deserialize, Default)]
struct SubmitJson {
    #[serde(rename = "type")]
    type_id: Option<String>,
    lon: Option<Value>,
    lat: Option<Value>,
    description: Option<String>,
    name: Option<String>,
    contact: Option<String>,
    website: Option<String>,
}

fn coordinate(v: Option<&Value>, field: &str) -> ApiResult<f64> {
    let n = match v {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    n.filter(|x| x.is_finite()).ok_or_else(|| {
        invalid(format!(
            "{field} wajib diisi dengan angka (WGS 84). / {field} is required, a number (WGS 84)."
        ))
    })
}

/// `POST /api/reports`: a citizen's report, without an account, as a
/// multipart form (`type`, `lon`, `lat`, `description`, optional `photo`,
/// `name`, `contact`) or as JSON without a photo. Answers 201 with the
/// tracking `code` and the status `baru`.
pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    req: Request,
) -> ApiResult<Response> {
    let max = state.writes.max_photo_bytes;
    let too_large = || {
        ApiError::too_large(format!(
            "Foto lebih besar dari {max} byte. / The photo is larger than {max} bytes (limit max_photo_bytes)."
        ))
    };
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"));
    let mut form = SubmitJson::default();
    let mut photo = None;
    if is_multipart {
        let bad_form = |e: axum::extract::multipart::MultipartError| {
            invalid(format!(
                "Formulir rusak. / The form is damaged: {}",
                e.body_text()
            ))
        };
        let mut mp = Multipart::from_request(req, &state)
            .await
            .map_err(|e| invalid(e.body_text()))?;
        while let Some(mut field) = mp.next_field().await.map_err(bad_form)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "photo" {
                let mut buf = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
                    if buf.len() + chunk.len() > max {
                        return Err(too_large());
                    }
                    buf.extend_from_slice(&chunk);
                }
                photo = Some(buf);
                continue;
            }
            let text = field.text().await.map_err(bad_form)?;
            if text.len() > 16 * 1024 {
                return Err(invalid(format!(
                    "Isian {name:?} terlalu panjang. / The field {name:?} is too long."
                )));
            }
            match name.as_str() {
                "type" => form.type_id = Some(text),
                "lon" => form.lon = Some(Value::String(text)),
                "lat" => form.lat = Some(Value::String(text)),
                "description" => form.description = Some(text),
                "name" => form.name = Some(text),
                "contact" => form.contact = Some(text),
                HONEYPOT => form.website = Some(text),
                _ => {}
            }
        }
    } else {
        let body = axum::body::to_bytes(req.into_body(), 64 * 1024)
            .await
            .map_err(|_| {
                ApiError::too_large(
                    "Isi laporan terlalu besar. / The report is too large (64 KiB without a photo).",
                )
            })?;
        form = json_body(&body)?;
    }
    if form
        .website
        .as_deref()
        .is_some_and(|w| !w.trim().is_empty())
    {
        // Nothing is stored, and nothing is logged of what was sent.
        return Err(invalid(
            "Laporan ditolak. / The report was refused (a field that must stay empty was filled).",
        ));
    }
    let new = NewReport {
        type_id: form.type_id.unwrap_or_default().trim().to_owned(),
        lon: coordinate(form.lon.as_ref(), "lon")?,
        lat: coordinate(form.lat.as_ref(), "lat")?,
        description: form.description.unwrap_or_default(),
        photo,
        name: form.name,
        contact: form.contact,
    };
    let sent = match state
        .store
        .submit_report(&new, client.addr.as_deref(), max)
        .await
    {
        Err(layers::Error::Report(e @ ReportError::RateLimited { retry_after })) => {
            let mut res = ApiError::from(layers::Error::Report(e)).into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return Ok(res);
        }
        other => other?,
    };
    let location = format!("/api/reports/{}", sent.code);
    let mut res = no_store((StatusCode::CREATED, Json(json!(sent))).into_response());
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

fn not_found_report() -> ApiError {
    ApiError::not_found("Laporan tidak ditemukan. / No such report.")
}

/// `GET /api/reports/{code}`: the type, place, status and public history
/// of a report, for whoever holds its code; never the contact.
pub async fn track(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let t = state
        .store
        .track_report(&code)
        .await?
        .ok_or_else(not_found_report)?;
    Ok(no_store(Json(t).into_response()))
}

/// The body of `POST /api/reports/{code}/rating`.
#[derive(Deserialize)]
struct RatingBody {
    rating: i64,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /api/reports/{code}/rating` with `{"rating": 1..5, "comment"}`:
/// the reporter rates a finished report, once.
pub async fn rate(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let b: RatingBody = json_body(&body)?;
    state
        .store
        .rate_report(&code, b.rating, b.comment.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn report_id(key: &str) -> ApiResult<i64> {
    key.parse().map_err(|_| not_found_report())
}

/// The body of `POST /api/reports/{id}/status`.
#[derive(Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/reports/{id}/status` with `{"status", "note"}`: the handling
/// agency's staff (and admins) move a report on; the note is public.
pub async fn set_status(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(key): ApiPath<String>,
    body: Bytes,
) -> ApiResult<Response> {
    if who.account().is_none() {
        return Err(login_first());
    }
    let id = report_id(&key)?;
    let b: StatusBody = json_body(&body)?;
    let to: Status = b.status.parse().map_err(layers::Error::Report)?;
    let guard = report_guard(&who, id);
    let r = state
        .store
        .set_report_status(id, to, b.note.as_deref(), &guard, client.actor(&who))
        .await?;
    state.catalog.sync(&state.store).await?;
    Ok(no_store(Json(r).into_response()))
}

/// `POST /api/reports/{id}/agency` with `{"agency"}`: re-routes a report
/// to another agency (its current agency's staff and admins).
pub async fn reroute(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(key): ApiPath<String>,
    body: Bytes,
) -> ApiResult<Response> {
    if who.account().is_none() {
        return Err(login_first());
    }
    let id = report_id(&key)?;
    let b: RouteBody = json_body(&body)?;
    let guard = report_guard(&who, id);
    let r = state
        .store
        .reroute_report(id, &b.agency, &guard, client.actor(&who))
        .await?;
    Ok(no_store(Json(r).into_response()))
}

/// The query of `GET /api/manage/reports`.
#[derive(Deserialize)]
pub struct QueueQuery {
    /// Only reports in this status.
    status: Option<String>,
    /// Only this agency's (leaders and admins; staff always see their own).
    agency: Option<String>,
}

/// `GET /api/manage/reports?status=&agency=`: the queue, with names and
/// contacts: staff see their agency's, leaders and admins everyone's.
pub async fn queue(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Response> {
    let Some(account) = who.account() else {
        return Err(login_first());
    };
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<Status>().map_err(layers::Error::Report)?),
        None => None,
    };
    let agency = if sees_all_reports(&who) {
        q.agency.filter(|a| !a.is_empty())
    } else {
        match &account.agency {
            Some(a) => Some(a.clone()),
            None => return Err(ApiError::forbidden("Tidak ada antrean. / No queue.")),
        }
    };
    let reports = state.store.report_queue(agency.as_deref(), status).await?;
    // The store filtered by agency; the rule is checked once more per row.
    let reports: Vec<_> = reports
        .into_iter()
        .filter(|r| can_see_report(&who, &r.agency))
        .collect();
    Ok(no_store(
        Json(json!({ "count": reports.len(), "reports": reports })).into_response(),
    ))
}

/// `GET /api/reports/stats`: per agency, reports open, the median hours to
/// the first response and to `selesai`, and the mean rating (leaders and
/// admins).
pub async fn stats(State(state): State<AppState>, who: Principal) -> ApiResult<Response> {
    if who.account().is_none() {
        return Err(login_first());
    }
    if !can_see_report_stats(&who) {
        return Err(ApiError::forbidden(
            "Hanya pimpinan dan admin yang melihat angka ini. / Only leaders and admins see these figures.",
        ));
    }
    let agencies = state.store.report_stats().await?;
    Ok(no_store(
        Json(json!({ "agencies": agencies })).into_response(),
    ))
}

/// `GET /api/report-photos/{id}`: a report's photo (metadata stripped),
/// public once an agency verified the report, before that only to those
/// who may see the report.
pub async fn photo(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let p = state
        .store
        .report_photo(id)
        .await?
        .filter(|p| p.status.is_public() || can_see_report(&who, &p.agency))
        .ok_or_else(|| ApiError::not_found("Foto tidak ditemukan. / No such photo."))?;
    let public = p.status.is_public();
    let mut res = Bytes::from(p.bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&p.content_type).map_err(ApiError::internal)?,
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if public {
            "public, max-age=300"
        } else {
            "private, no-store"
        }),
    );
    Ok(res)
}
