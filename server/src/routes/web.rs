//! The viewer: the files of `web/`, built into the binary, served at `/`
//! and under `/web/`, and `GET /api/config`, the few settings the page
//! reads at start (the basemap and the regency's extent).
//!
//! The files are compiled in with `include_bytes!` (Cargo rebuilds when one
//! changes), so the release binary needs nothing beside it and works with no
//! internet. Every response carries a strong `ETag` (a hash of the bytes)
//! and `Cache-Control: public, no-cache`, so a browser revalidates each file
//! and gets a `304` until the binary changes. The HTML page carries a strict
//! Content-Security-Policy: scripts, styles and requests only from this
//! server, images also from the basemap's origin.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::Principal;
use crate::config::basemap_origin;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::http::{Caching, json_response};
use crate::state::AppState;

/// One embedded file of `web/`.
struct Asset {
    path: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../web/", $path)),
            content_type: $type,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every file the page may load. A unit test checks this list against the
/// folder, so a file added to `web/` and forgotten here fails the tests.
static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("js/main.js", JS),
    asset!("js/store.js", JS),
    asset!("js/hooks.js", JS),
    asset!("js/map.js", JS),
    asset!("js/ui.js", JS),
    asset!("js/layers.js", JS),
    asset!("js/popup.js", JS),
    asset!("js/panel.js", JS),
    asset!("js/reports.js", JS),
    asset!("js/search.js", JS),
    asset!("js/session.js", JS),
    asset!("js/overview.js", JS),
    asset!("js/dashboard.js", JS),
    asset!("js/share.js", JS),
    asset!("js/about.js", JS),
    asset!("js/style.js", JS),
    asset!("js/styleedit.js", JS),
    asset!("js/controls.js", JS),
    asset!("js/live.js", JS),
    asset!("js/time.js", JS),
    asset!("js/editor.js", JS),
    asset!("js/admin.js", JS),
    asset!("i18n.js", JS),
    asset!("manage.js", JS),
    asset!("dom.js", JS),
    asset!("style.css", CSS),
    asset!("icon.svg", "image/svg+xml"),
    asset!("icons.svg", "image/svg+xml"),
    asset!("vendor/leaflet/leaflet.js", JS),
    asset!("vendor/leaflet/leaflet.css", CSS),
    asset!("vendor/leaflet/LICENSE", TEXT),
    asset!("vendor/leaflet/images/layers.png", "image/png"),
    asset!("vendor/leaflet/images/layers-2x.png", "image/png"),
    asset!("vendor/leaflet/images/marker-icon.png", "image/png"),
    asset!("vendor/leaflet/images/marker-icon-2x.png", "image/png"),
    asset!("vendor/leaflet/images/marker-shadow.png", "image/png"),
    asset!("vendor/leaflet.markercluster/leaflet.markercluster.js", JS),
    asset!("vendor/leaflet.markercluster/MarkerCluster.css", CSS),
    asset!("vendor/leaflet.markercluster/LICENSE", TEXT),
    asset!(
        "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
        JS
    ),
    asset!("vendor/leaflet.vectorgrid/LICENSE", TEXT),
    asset!("vendor/leaflet-geoman/leaflet-geoman.min.js", JS),
    asset!("vendor/leaflet-geoman/leaflet-geoman.css", CSS),
    asset!("vendor/leaflet-geoman/LICENSE", TEXT),
    asset!("vendor/README.md", "text/markdown; charset=utf-8"),
];

/// Assets by path with their entity tags, computed once.
static INDEX: LazyLock<HashMap<&'static str, (&'static Asset, HeaderValue)>> =
    LazyLock::new(|| {
        ASSETS
            .iter()
            .map(|a| {
                let tag = format!(
                    "\"{:016x}-{:x}\"",
                    layers::hash::fnv1a(a.bytes),
                    a.bytes.len()
                );
                let etag = HeaderValue::from_str(&tag)
                    .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
                (a.path, (a, etag))
            })
            .collect()
    });

/// The Content-Security-Policy of the viewer's pages.
fn content_security_policy(state: &AppState) -> String {
    let tiles = state
        .config
        .basemap_url
        .as_deref()
        .and_then(|u| basemap_origin(u).ok())
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{tiles}; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

fn serve(state: &AppState, path: &str, headers: &HeaderMap) -> Response {
    let Some((asset, etag)) = INDEX.get(path) else {
        return ApiError::not_found(format!("no file {path:?} in the viewer")).into_response();
    };
    let hit = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| {
            let ours = etag.to_str().unwrap_or_default();
            inm.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == ours)
        });
    let mut res = if hit {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = asset.bytes.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        r
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, etag.clone());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    );
    if asset.content_type.starts_with("text/html") {
        if let Ok(csp) = HeaderValue::from_str(&content_security_policy(state)) {
            h.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    res
}

/// `GET /`: the viewer's page.
pub async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve(&state, "index.html", &headers)
}

/// `GET /web/{path}`: a file of the viewer.
pub async fn file(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<String>,
    headers: HeaderMap,
) -> Response {
    serve(&state, &path, &headers)
}

/// `GET /api/config`: what the page needs to know before it draws the map.
pub async fn config(State(state): State<AppState>, who: Principal, headers: HeaderMap) -> Response {
    let snapshot = state.catalog.snapshot();
    // The regency outline's extent when it is loaded, else the extent uploads are checked against.
    let view = crate::auth::visible_layer(&snapshot, &who, "batas-kabupaten")
        .ok()
        .and_then(|l| l.data.version.bbox)
        .map_or_else(|| json!(layers::model::REGENCY_EXTENT), |b| json!(b));
    let caching = Caching::new(
        &format!("config-{}-{}", snapshot.generation, who.cache_class()),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return r;
    }
    let basemap = state
        .config
        .basemap_url
        .as_ref()
        .map(|url| json!({ "url": url, "attribution": state.config.basemap_attribution }));
    json_response(
        &json!({
            "basemap": basemap,
            "regency_bbox": view,
            "extent": layers::model::REGENCY_EXTENT,
            "outline_layers": ["batas-kabupaten", "batas-kecamatan"],
            "default_layers": ["pura", "objek-wisata", "pantai"],
            "max_limit": state.config.max_limit,
            // Demo mode: the sign-in dialog asks /api/demo-accounts.
            "demo": !state.demo_accounts.is_empty(),
        }),
        &caching,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_web_is_embedded_and_nothing_else() {
        fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else {
                    out.push(
                        p.strip_prefix(base)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        let mut on_disk = Vec::new();
        walk(&base, &base, &mut on_disk);
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }
}
