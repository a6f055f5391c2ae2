//! The leaders' dashboard figures: `GET /api/stats` (a layer's features
//! counted per kecamatan by real geometry, or per property value, with
//! groups, sums and means; see `layers::stats`) and `GET
//! /api/areas/kecamatan` (the kecamatan boundaries its choropleth is drawn
//! on).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use layers::LayerIndex;
use layers::stats::{Areas, By, Spec, StatsError, compute};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Principal, visible_layer};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::http::{Caching, GEOJSON, json_response, layer_tag, respond};
use crate::state::AppState;

/// The layer whose polygons `by=desa` counts in (each named by its `desa`
/// or `nama` property).
pub const DESA_LAYER: &str = "batas-desa";

/// The most properties `sum` or `mean` may name.
pub const MAX_NUMERIC: usize = 10;
/// The longest property name accepted.
const MAX_NAME: usize = 100;

/// Query parameters of `GET /api/stats`.
#[derive(Debug, Deserialize)]
pub struct StatsParams {
    layer: Option<String>,
    by: Option<String>,
    group: Option<String>,
    sum: Option<String>,
    mean: Option<String>,
}

fn bad(detail: String) -> ApiError {
    ApiError::bad_request("invalid-parameter", detail)
}

/// A property name given in `param`: non-blank, not too long.
fn property(param: &str, raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(bad(format!(
            "{param} must name a property (1 to {MAX_NAME} characters), got {raw:?}"
        )));
    }
    Ok(name.to_owned())
}

/// A comma-separated list of property names given in `param`.
fn properties(param: &str, raw: Option<&str>) -> ApiResult<Vec<String>> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    for p in raw.split(',') {
        let p = property(param, p)?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.len() > MAX_NUMERIC {
        return Err(bad(format!(
            "{param} may name at most {MAX_NUMERIC} properties, got {}",
            out.len()
        )));
    }
    Ok(out)
}

/// `GET /api/stats?layer=ID&by=kecamatan|<property>&group=P&sum=A,B&mean=A,B`.
///
/// Per kecamatan (`by=kecamatan`, the default) each feature counts once,
/// in the kecamatan that contains it (points) or its interior point
/// (lines, polygons); `by=desa` the same over the polygons of the layer
/// [`DESA_LAYER`] when there is one the caller may see; per property (`by=<property>`) by its value. `group`
/// splits each count by a second property's values; `sum` and `mean` add
/// numeric properties. Areas come sorted by count, largest first. The
/// layer is looked up as on every read route: hidden and missing layers
/// answer the same 404.
pub async fn stats(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(p): ApiQuery<StatsParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Some(id) = p.layer.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(bad("layer is required: the id of the layer to count".into()));
    };
    let by = property("by", p.by.as_deref().unwrap_or("kecamatan"))?;
    let group = p
        .group
        .as_deref()
        .map(|g| property("group", g))
        .transpose()?;
    let sum = properties("sum", p.sum.as_deref())?;
    let mean = properties("mean", p.mean.as_deref())?;

    let snapshot = state.catalog.snapshot();
    let layer = visible_layer(&snapshot, &who, id)?;
    // by=desa: the desa boundaries, if the caller may see them.
    let desa: Option<Arc<LayerIndex>> = match by.as_str() {
        "desa" => Some(visible_layer(&snapshot, &who, DESA_LAYER).map_err(|_| {
            bad(format!(
                "by=desa needs a layer of desa boundaries ({DESA_LAYER:?}), and there is none; use by=kecamatan or by=<property>"
            ))
        })?),
        _ => None,
    };
    let by_areas = by == "kecamatan" || desa.is_some();
    // The answer changes with the layer and, per desa, with the boundaries.
    let desa_tag = desa
        .as_ref()
        .map(|d| format!("-{}", d.data.version.id))
        .unwrap_or_default();
    let caching = Caching::new(
        &format!("stats-{}{desa_tag}", layer_tag(&layer, &who)),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let counting = layer.clone();
    let (by_c, group_c, sum_c, mean_c) = (by.clone(), group.clone(), sum.clone(), mean.clone());
    let result = tokio::task::spawn_blocking(move || {
        // Prepared once per version of the desa layer.
        let desa_areas = desa.map(|d| d.data.derived(|d| Areas::from_layer(d, &["desa", "nama"])));
        let spec = Spec {
            by: if let Some(a) = &desa_areas {
                By::Areas(a)
            } else if by_areas {
                By::Areas(Areas::kecamatan())
            } else {
                By::Property(&by_c)
            },
            group: group_c.as_deref(),
            sum: &sum_c,
            mean: &mean_c,
        };
        compute(&counting.data, &spec)
    })
    .await
    .map_err(ApiError::internal)?;
    let stats = result.map_err(|e| match e {
        StatsError::TooManyValues { .. } | StatsError::UnknownProperty { .. } => bad(e.to_string()),
    })?;
    let body = json!({
        "layer": layer.meta.id,
        "version": layer.data.version.version,
        "by": by,
        "group": group,
        "sum": sum,
        "mean": mean,
        "areas": stats.areas,
        "outside": stats.outside,
        "total": stats.total,
        "fields": layer.data.fields(),
    });
    Ok(json_response(&body, &caching))
}

/// `GET /api/areas/kecamatan`: the six kecamatan of Badung as GeoJSON
/// (GADM 4.1; `kecamatan` is the name `/api/stats` answers with). Public:
/// it is the published boundary, the same for everyone.
pub async fn kecamatan(headers: HeaderMap) -> Response {
    let text = layers::regency::KECAMATAN_GEOJSON;
    let caching = Caching::new(
        &format!("kecamatan-{:016x}", layers::hash::fnv1a(text.as_bytes())),
        true,
    );
    if let Some(r) = caching.not_modified(&headers) {
        return r;
    }
    respond(Body::from(text), GEOJSON, &caching)
}
