//! `GET /api/layers/{id}/download?format=fgb|geojson|csv|xlsx`: a whole
//! layer as a file.
//!
//! The FlatGeobuf of a layer version is built once on the blocking pool and
//! kept in a small cache keyed by version (the features of a published
//! version never change), served with a strong `ETag`, `Accept-Ranges:
//! bytes` and single byte ranges (`206`, `416`), so FlatGeobuf clients can
//! read a bbox through the file's index over HTTP. The GeoJSON download
//! streams the whole collection from the pre-encoded features. CSV and
//! XLSX ([`layers::export::csv`], [`layers::export::xlsx`]) are built and
//! cached like FlatGeobuf, and answered whole with a strong `ETag` (`304`
//! on `If-None-Match`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use layers::LayerIndex;
use serde::Deserialize;

use crate::auth::{Principal, visible_layer};
use crate::caches::fgb::Built;
use crate::error::{ApiError, ApiResult, problem_response};
use crate::extract::{ApiPath, ApiQuery};
use crate::http::layer_tag;
use crate::http::{Caching, GEOJSON, feature_list_body, respond};
use crate::state::AppState;

/// The formats a download may name.
pub const FORMATS: &str = "fgb, geojson, csv, xlsx";

/// `?format=` of a download.
#[derive(Debug, Deserialize)]
pub struct DownloadParams {
    format: Option<String>,
}

/// `GET /api/layers/{id}/download`.
pub async fn download(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<DownloadParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let layer = visible_layer(&state.catalog.snapshot(), &who, &id)?;
    match p.format.as_deref().map(str::trim).unwrap_or("fgb") {
        "fgb" | "flatgeobuf" => fgb(&state, layer, &who, &headers).await,
        "geojson" | "json" => Ok(geojson(layer, &who, &headers)),
        "csv" => table(&state, layer, &who, &headers, Built::Csv).await,
        "xlsx" => table(&state, layer, &who, &headers, Built::Xlsx).await,
        other => Err(ApiError::bad_request(
            "invalid-parameter",
            format!("format must be one of {FORMATS}, got {other:?}"),
        )),
    }
}

fn attachment(res: &mut Response, name: &str) {
    // Layer ids are slugs; anything else is replaced to keep the header well-formed.
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
}

fn geojson(layer: Arc<LayerIndex>, who: &Principal, headers: &HeaderMap) -> Response {
    let caching = Caching::new(
        &format!("dl-{}", layer_tag(&layer, who)),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(headers) {
        return r;
    }
    let n = layer.data.len();
    let all: Vec<u32> = (0..n as u32).collect();
    let head = format!(
        r#"{{"type":"FeatureCollection","name":{},"numberMatched":{n},"numberReturned":{n},"features":["#,
        serde_json::Value::String(layer.meta.id.clone())
    );
    let name = format!("{}.geojson", layer.meta.id);
    let body = feature_list_body(layer, head.into_bytes(), all, b"]}");
    let mut res = respond(body, GEOJSON, &caching);
    attachment(&mut res, &name);
    res
}

/// The CSV or XLSX of a layer: built once per version, served whole.
async fn table(
    state: &AppState,
    layer: Arc<LayerIndex>,
    who: &Principal,
    headers: &HeaderMap,
    format: Built,
) -> ApiResult<Response> {
    let (ext, media) = match format {
        Built::Xlsx => ("xlsx", layers::export::xlsx::MEDIA_TYPE),
        _ => ("csv", layers::export::csv::MEDIA_TYPE),
    };
    let v = &layer.data.version;
    let caching = Caching::new(
        &format!("{ext}-{}-{}-{}", layer.meta.id, v.id, v.photos_rev),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(headers) {
        return Ok(r);
    }
    let file = state.fgb.file(layer.clone(), format).await?;
    let mut res = respond(Body::from(file), media, &caching);
    attachment(&mut res, &format!("{}.{ext}", layer.meta.id));
    Ok(res)
}

/// A single byte range of a file of `len` bytes: `Ok(None)` for the whole
/// file (no or an ignorable `Range`), `Err(())` when unsatisfiable.
/// Public for the fuzzer (`fuzz/`).
#[allow(
    clippy::result_unit_err,
    reason = "the one error is told by the 416 answer"
)]
pub fn byte_range(headers: &HeaderMap, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(raw) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return Ok(None); // another unit: ignored (RFC 9110 §14.2)
    };
    if spec.contains(',') {
        return Ok(None); // several ranges: the whole file is a valid answer
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let num = |s: &str| s.trim().parse::<u64>().ok();
    let (start, end) = match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, true) => return Ok(None),
        (true, false) => {
            let Some(n) = num(b) else { return Ok(None) };
            if n == 0 || len == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len - 1)
        }
        (false, _) => {
            let Some(s) = num(a) else { return Ok(None) };
            let e = if b.trim().is_empty() {
                u64::MAX
            } else {
                match num(b) {
                    Some(e) if e >= s => e,
                    _ => return Ok(None),
                }
            };
            if s >= len {
                return Err(());
            }
            (s, e.min(len - 1))
        }
    };
    Ok(Some((start, end)))
}

async fn fgb(
    state: &AppState,
    layer: Arc<LayerIndex>,
    who: &Principal,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let v = &layer.data.version;
    let tag = format!("\"fgb-{}-{}-{}\"", layer.meta.id, v.id, v.photos_rev);
    let etag = HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"fgb\""));
    let cache_control = HeaderValue::from_static(if who.is_anonymous() {
        "public, no-cache"
    } else {
        "private, no-cache"
    });
    let name = format!("{}.fgb", layer.meta.id);
    let common = |res: &mut Response| {
        let h = res.headers_mut();
        h.insert(header::ETAG, etag.clone());
        h.insert(header::CACHE_CONTROL, cache_control.clone());
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        // Keeps the compression layer off: byte ranges address the file itself.
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(layers::export::fgb::MEDIA_TYPE),
        );
    };
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && (inm.trim() == "*"
            || inm
                .split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag))
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        common(&mut res);
        res.headers_mut().remove(header::CONTENT_TYPE);
        return Ok(res);
    }
    let file = state.fgb.get(layer.clone()).await?;
    let len = file.len() as u64;
    // If-Range with another validator: the whole (new) file.
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == tag);
    let range = if if_range_ok {
        byte_range(headers, len)
    } else {
        Ok(None)
    };
    match range {
        Err(()) => {
            let mut res = problem_response(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                &format!("the file has {len} bytes"),
                serde_json::Map::new(),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                res.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            res.headers_mut()
                .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            Ok(res)
        }
        Ok(None) => {
            let mut res = Response::new(Body::from(file));
            common(&mut res);
            attachment(&mut res, &name);
            Ok(res)
        }
        Ok(Some((start, end))) => {
            let part = file.slice(start as usize..=end as usize);
            let mut res = Response::new(Body::from(part));
            *res.status_mut() = StatusCode::PARTIAL_CONTENT;
            common(&mut res);
            attachment(&mut res, &name);
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                res.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            Ok(res)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn r(s: &str, len: u64) -> Result<Option<(u64, u64)>, ()> {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(s).unwrap());
        byte_range(&h, len)
    }

    #[test]
    fn ranges() {
        assert_eq!(r("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(r("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(r("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(r("bytes=-1000", 100), Ok(Some((0, 99))));
        assert_eq!(r("bytes=50-5000", 100), Ok(Some((50, 99))));
        assert_eq!(r("bytes=100-", 100), Err(()));
        assert_eq!(r("bytes=-0", 100), Err(()));
        assert_eq!(r("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(r("bytes=9-1", 100), Ok(None));
        assert_eq!(r("items=0-1", 100), Ok(None));
        assert_eq!(r("bytes=x-1", 100), Ok(None));
    }
}
