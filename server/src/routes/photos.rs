//! Photos of features: attach (`POST /api/layers/{id}/features/{fid}/photos`),
//! fetch (`GET /api/photos/{id}`) and remove (`DELETE /api/photos/{id}`).
//!
//! A photo is served under the same visibility rules as its layer, with
//! the content type sniffed at upload, `nosniff`, and a sandboxing CSP so
//! that even a file that fooled the sniffer could not run as a page.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::{Principal, can_see, can_see_drafts, write_guard};
use crate::client::Client;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiPath;
use crate::http::Caching;
use crate::state::AppState;

/// `POST /api/layers/{id}/features/{fid}/photos`: a multipart form with a
/// `file` part (and an optional `caption`), or the image as the raw body
/// with `?caption=`.
pub async fn add(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath((id, fid)): ApiPath<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    if who.account().is_none() {
        return Err(ApiError::log_in("menambahkan foto", "attach photos"));
    }
    // A layer the caller may not see or change is refused before the body
    // is read (and checked again inside the write).
    match state.store.owner(&id).await? {
        Some(owner) => write_guard(&who)(&owner)?,
        None => return Err(ApiError::no_layer(&id)),
    }
    let max = state.writes.max_photo_bytes;
    let too_large = || {
        ApiError::too_large(format!(
            "the photo is larger than {max} bytes (limit max_photo_bytes)"
        ))
    };
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (bytes, caption) = if is_multipart {
        let mut mp = Multipart::from_request(req, &state)
            .await
            .map_err(|e| ApiError::bad_request("invalid-upload", e.body_text()))?;
        let (mut bytes, mut caption) = (None, None);
        while let Some(mut field) = mp
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request("invalid-upload", e.body_text()))?
        {
            match field.name() {
                Some("file") => {
                    let mut buf = Vec::new();
                    while let Some(chunk) = field
                        .chunk()
                        .await
                        .map_err(|e| ApiError::bad_request("invalid-upload", e.body_text()))?
                    {
                        if buf.len() + chunk.len() > max {
                            return Err(too_large());
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    bytes = Some(buf);
                }
                Some("caption") => {
                    caption = Some(
                        field
                            .text()
                            .await
                            .map_err(|e| ApiError::bad_request("invalid-upload", e.body_text()))?,
                    );
                }
                _ => {}
            }
        }
        (
                bytes.ok_or_else(|| {
                    ApiError::bad_request("invalid-upload", "Formulir tidak berisi bagian \"file\"; lampirkan berkasnya. / The form has no \"file\" part; attach the file.")
                })?,
                caption,
            )
    } else {
        let caption = req.uri().query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "caption")
                .map(|(_, v)| v.into_owned())
        });
        let body = axum::body::to_bytes(req.into_body(), max)
            .await
            .map_err(|_| too_large())?;
        (body.to_vec(), caption)
    };
    let guard = write_guard(&who);
    let photo = state
        .store
        .add_photo(
            &id,
            &fid,
            &bytes,
            caption.as_deref(),
            &guard,
            client.actor(&who),
        )
        .await?;
    state.catalog.sync(&state.store).await?;
    let mut res = (StatusCode::CREATED, axum::Json(json!(photo))).into_response();
    if let Ok(v) = HeaderValue::from_str(&photo.url) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Whether `who` may see the photos of layer `id`: as its published layer,
/// or as its drafts.
async fn photo_visible(state: &AppState, who: &Principal, layer: &str) -> ApiResult<()> {
    if let Some(l) = state.catalog.snapshot().get(layer)
        && can_see(who, &l.meta)
    {
        return Ok(());
    }
    match state.store.owner(layer).await? {
        Some(o) if !o.deleted && can_see_drafts(who, o.agency.as_deref()) => Ok(()),
        _ => Err(ApiError::not_found(
            "Foto tidak ditemukan. / No such photo.",
        )),
    }
}

/// `GET /api/photos/{id}`: the image, with the layer's visibility rules.
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let photo = state
        .store
        .photo(id)
        .await?
        .ok_or_else(|| ApiError::not_found("Foto tidak ditemukan. / No such photo."))?;
    photo_visible(&state, &who, &photo.layer).await?;
    // A photo's bytes never change: its id names them.
    let caching = Caching::new(&format!("photo-{}", photo.id), who.is_anonymous());
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let mut res = Bytes::from(photo.bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&photo.content_type).map_err(ApiError::internal)?,
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    caching.apply(h);
    Ok(res)
}

/// `DELETE /api/photos/{id}`: detaches a photo (its layer's staff and admins).
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    if who.account().is_none() {
        return Err(ApiError::log_in("menghapus foto", "remove photos"));
    }
    let guard = write_guard(&who);
    state
        .store
        .delete_photo(id, &guard, client.actor(&who))
        .await?;
    state.catalog.sync(&state.store).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
