//! Vector tiles: `/tiles/{layer}/{z}/{x}/{y}.mvt`, `/tiles/all/{z}/{x}/{y}.mvt`
//! (every layer the caller may see, one MVT layer each) and TileJSON 3.0 at
//! `/tiles/{layer}.json` and `/tiles/all.json`.
//!
//! Tiles are rendered from the in-memory index on the blocking pool and
//! kept in a memory-capped cache whose key holds the layer versions and the
//! caller's visibility class, so a publish never serves a stale tile and an
//! internal feature never reaches a tile made for someone who may not see it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use layers::LayerIndex;
use layers::catalog::Snapshot;
use serde_json::json;
use tiles::TileId;

use crate::auth::{Principal, visible_layer, visible_layers};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiPath;
use crate::http::{Caching, json_response, respond};
use crate::state::AppState;

/// Media type of Mapbox Vector Tiles.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";

/// The id that names every visible layer at once.
const ALL: &str = "all";

/// The layers a tile of `id` is made of, for `who`.
fn tile_layers(snapshot: &Snapshot, who: &Principal, id: &str) -> ApiResult<Vec<Arc<LayerIndex>>> {
    if id == ALL {
        return Ok(visible_layers(snapshot, who).cloned().collect());
    }
    Ok(vec![visible_layer(snapshot, who, id)?])
}

/// What a tile's bytes depend on: the address, each layer's version and
/// photo revision, and the caller's visibility class.
fn tile_key(layers: &[Arc<LayerIndex>], who: &Principal, id: &str, t: TileId) -> String {
    let mut key = format!("{id}/{t}/{}", who.cache_class());
    for l in layers {
        key.push_str(&format!(
            "/{}:{}:{}",
            l.meta.id, l.data.version.id, l.data.version.photos_rev
        ));
    }
    key
}

fn parse_tile(z: &str, x: &str, y: &str) -> ApiResult<TileId> {
    let y = y.strip_suffix(".mvt").unwrap_or(y);
    let bad = || {
        ApiError::bad_request(
            "invalid-tile",
            format!("tile {z}/{x}/{y} is not a z/x/y address of whole numbers"),
        )
    };
    let z: u8 = z.parse().map_err(|_| bad())?;
    let x: u32 = x.parse().map_err(|_| bad())?;
    let y: u32 = y.parse().map_err(|_| bad())?;
    TileId::new(z, x, y).map_err(|e| ApiError::bad_request("invalid-tile", e.to_string()))
}

/// `GET /tiles/{layer}/{z}/{x}/{y}.mvt`: one vector tile; 204 when empty.
pub async fn tile(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((id, z, x, y)): ApiPath<(String, String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let t = parse_tile(&z, &x, &y)?;
    let layers = tile_layers(&state.catalog.snapshot(), &who, &id)?;
    let key = tile_key(&layers, &who, &id, t);
    // The key changes with every publish, so it is a strong enough tag.
    let caching = Caching::new(
        &format!("{:016x}", layers::hash::fnv1a(key.as_bytes())),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let bytes = state.tiles.get(key, layers, t).await?;
    if bytes.is_empty() {
        let mut res = StatusCode::NO_CONTENT.into_response();
        caching.apply(res.headers_mut());
        return Ok(res);
    }
    Ok(respond(Body::from(bytes), MVT, &caching))
}

/// `GET /tiles/{layer}.json`: TileJSON 3.0 for one layer, or every visible
/// layer with `all.json`.
pub async fn tilejson(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = name
        .strip_suffix(".json")
        .ok_or_else(ApiError::no_resource)?;
    // One snapshot for the layers and the tag, so they cannot disagree.
    let snapshot = state.catalog.snapshot();
    let layers = tile_layers(&snapshot, &who, id)?;
    let caching = Caching::new(
        &format!(
            "tilejson-{id}-{}-{}",
            snapshot.generation,
            who.cache_class()
        ),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let base = &super::ogc::base_url(&state, &headers);
    let mut bounds: Option<layers::Bbox> = None;
    let vector_layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            if let Some(b) = l.data.version.bbox {
                bounds = Some(bounds.map_or(b, |x| x.union(&b)));
            }
            let description = l
                .meta
                .about
                .as_ref()
                .and_then(|a| a.description_id.clone())
                .unwrap_or_else(|| l.meta.title_id.clone());
            json!({
                "id": l.meta.id,
                "description": description,
                "minzoom": 0,
                "maxzoom": tiles::tile_id::MAX_ZOOM,
                "fields": l.data.fields(),
            })
        })
        .collect();
    let b = bounds.map_or([-180.0, -85.0511, 180.0, 85.0511], |b| b.to_array());
    // Sources and licences, once each, as the attribution.
    let mut credits: Vec<String> = Vec::new();
    for l in &layers {
        if let Some(a) = &l.meta.about {
            let c = match (&a.source, &a.licence) {
                (Some(s), Some(l)) => format!("{s} ({l})"),
                (Some(s), None) => s.clone(),
                (None, Some(l)) => l.clone(),
                (None, None) => continue,
            };
            if !credits.contains(&c) {
                credits.push(c);
            }
        }
    }
    let single = (id != ALL).then(|| layers.first()).flatten();
    let description = single
        .and_then(|l| l.meta.about.as_ref()?.description_id.clone())
        .unwrap_or_else(|| {
            single.map_or_else(
                || "Badung Smart City".to_owned(),
                |l| l.meta.title_id.clone(),
            )
        });
    let mut doc = json!({
        "description": description,
        "tilejson": "3.0.0",
        "name": if id == ALL { "bsc".to_owned() } else { id.to_owned() },
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{id}/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": tiles::tile_id::MAX_ZOOM,
        "bounds": b,
        "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 12],
        "vector_layers": vector_layers,
    });
    if !credits.is_empty() {
        // Clients such as MapLibre show the attribution as HTML.
        doc["attribution"] = json!(crate::http::esc(&credits.join("; ")));
    }
    Ok(json_response(&doc, &caching))
}
