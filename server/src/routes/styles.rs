//! `GET /styles/{layer}.json` and `GET /styles/bsc.json`: how layers are
//! drawn, as MapLibre styles over bsc's own vector tiles (see
//! [`layers::export::maplibre`]), with the same visibility as every route.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use layers::export::maplibre::{StyledLayer, style};

use super::ogc::base_url;
use crate::auth::{Principal, visible_layer, visible_layers};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiPath;
use crate::http::{Caching, json_response};
use crate::state::AppState;

/// The name of the style of every layer the caller may see.
const ALL: &str = "bsc";

/// `GET /styles/{name}.json`.
pub async fn style_json(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = name
        .strip_suffix(".json")
        .ok_or_else(ApiError::no_resource)?;
    let snapshot = state.catalog.snapshot();
    let chosen: Vec<_> = if id == ALL {
        visible_layers(&snapshot, &who).cloned().collect()
    } else {
        vec![visible_layer(&snapshot, &who, id)?]
    };
    let caching = Caching::new(
        &format!("style-{id}-{}-{}", snapshot.generation, who.cache_class()),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let colour = |category: &str| {
        state
            .categories
            .iter()
            .find(|c| c.id == category)
            .map_or("#607d8b", |c| c.color.as_str())
    };
    let styled: Vec<StyledLayer<'_>> = chosen
        .iter()
        .map(|l| StyledLayer {
            id: &l.meta.id,
            title: &l.meta.title_id,
            geometry_types: &l.data.version.geometry_types,
            style: l.meta.style.as_ref(),
            fallback_color: colour(&l.meta.category),
        })
        .collect();
    let bounds = chosen
        .iter()
        .filter_map(|l| l.data.version.bbox)
        .reduce(|a, b| a.union(&b));
    let center = bounds.map_or([115.18, -8.6], |b| {
        [(b.minx + b.maxx) / 2.0, (b.miny + b.maxy) / 2.0]
    });
    let name = match chosen.first() {
        Some(l) if id != ALL => l.meta.title_id.clone(),
        _ => "Badung Smart City".to_owned(),
    };
    let doc = style(&name, &base_url(&state, &headers), &styled, center);
    Ok(json_response(&doc, &caching))
}
