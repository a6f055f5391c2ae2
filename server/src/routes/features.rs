//! Features of a layer: bbox/name queries with paging, and single features.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use layers::Bbox;
use layers::query::datetime::Datetime;
use layers::query::{Query, select_page};
use serde::Deserialize;

use crate::extract::{ApiPath, ApiQuery, int_param};
use crate::http::layer_tag;
use std::sync::Arc;

use layers::LayerIndex;

use super::versions::version_number;
use crate::auth::{Principal, can_see_history, visible_layer};
use crate::error::{ApiError, ApiResult};
use crate::http::{Caching, GEOJSON, feature_list_body, respond};
use crate::state::AppState;

/// Query parameters of `GET /api/layers/{id}/features`.
#[derive(Debug, Deserialize)]
pub struct FeatureParams {
    bbox: Option<String>,
    datetime: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    q: Option<String>,
    version: Option<String>,
}

/// `?version=` of the single-feature route.
#[derive(Debug, Deserialize)]
pub struct OneParams {
    version: Option<String>,
}

/// The layer to answer from: the served one, or with `?version=N` that
/// version (a draft, a rejected upload or an older one) for those who may
/// see drafts. The tag part names what the answer was built from.
async fn layer_version(
    state: &AppState,
    who: &Principal,
    id: &str,
    version: Option<&str>,
) -> ApiResult<Arc<LayerIndex>> {
    let snapshot = state.catalog.snapshot();
    let Some(n) = version_number("version", version)? else {
        return visible_layer(&snapshot, who, id);
    };
    if let Ok(l) = visible_layer(&snapshot, who, id)
        && l.data.version.version == n
    {
        return Ok(l);
    }
    let missing = || ApiError::no_version(id, n);
    let owner = state.store.owner(id).await?.ok_or_else(missing)?;
    if !can_see_history(who, &owner) {
        return Err(missing());
    }
    let meta = state.store.layer_meta(id).await?.ok_or_else(missing)?;
    let info = state.store.version_info(id, n).await?.ok_or_else(missing)?;
    let data = state.previews.get(&state.store, id, info).await?;
    Ok(Arc::new(LayerIndex {
        meta: Arc::new(meta),
        data,
    }))
}

/// The longest name filter or search text accepted.
pub const MAX_QUERY_CHARS: usize = 200;

/// `GET /api/layers/{id}/features`: a GeoJSON FeatureCollection page with
/// `numberMatched`, `numberReturned` and `next`/`prev` links, selected by
/// `bbox`, `q` (name contains) and `datetime` (as OGC items read it).
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<FeatureParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let layer = layer_version(&state, &who, &id, p.version.as_deref()).await?;
    let cfg = &state.config;
    let bbox = match p.bbox.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse::<Bbox>()
                .map_err(|e| ApiError::bad_request("invalid-bbox", e.to_string()))?,
        ),
    };
    let limit = int_param(
        "limit",
        p.limit.as_deref(),
        cfg.default_limit,
        1,
        cfg.max_limit,
    )?;
    let offset = int_param("offset", p.offset.as_deref(), 0, 0, u32::MAX as usize)?;
    let q = match p.q.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
            return Err(ApiError::bad_request(
                "invalid-parameter",
                format!("q must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        Some(q) => Some(q.to_owned()),
    };
    // As OGC items read it: the same parser, the same 400s.
    let datetime = match p.datetime.as_deref() {
        None => None,
        Some(s) => Some(Datetime::parse(s, layer.data.fields(), &layer.meta.id)?),
    };
    let caching = Caching::new(&layer_tag(&layer, &who), who.is_anonymous());
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }

    let query = Query {
        bbox,
        name_contains: q.clone(),
        datetime,
        limit,
        offset,
        ..Query::default()
    };
    // Selection is CPU work proportional to the features looked at: small
    // ones (a map view's bbox) are cheaper inline than a hop to the
    // blocking pool; large ones must not stall the async workers.
    let page = if query.is_light(&layer.data) {
        select_page(&layer.data, &query)
    } else {
        let selecting = layer.clone();
        tokio::task::spawn_blocking(move || select_page(&selecting.data, &query))
            .await
            .map_err(ApiError::internal)?
    };
    let number_matched = page.number_matched;

    let href = |off: usize| {
        let mut qs = form_urlencoded::Serializer::new(String::new());
        if let Some(b) = &bbox {
            qs.append_pair("bbox", &b.to_string());
        }
        if let Some(q) = &q {
            qs.append_pair("q", q);
        }
        if let Some(d) = &p.datetime {
            qs.append_pair("datetime", d);
        }
        if p.version.is_some() {
            qs.append_pair("version", &layer.data.version.version.to_string());
        }
        qs.append_pair("limit", &limit.to_string());
        qs.append_pair("offset", &off.to_string());
        format!(
            "{}/api/layers/{}/features?{}",
            cfg.public_url,
            layer.meta.id,
            qs.finish()
        )
    };
    let mut links = vec![link("self", href(offset))];
    if let Some(next) = page.next {
        links.push(link("next", href(next)));
    }
    if offset > 0 {
        links.push(link("prev", href(offset.saturating_sub(limit))));
    }
    let head = format!(
        r#"{{"type":"FeatureCollection","numberMatched":{number_matched},"numberReturned":{},"links":{},"features":["#,
        page.items.len(),
        serde_json::Value::Array(links)
    );
    let body = feature_list_body(layer, head.into_bytes(), page.items, b"]}");
    Ok(respond(body, GEOJSON, &caching))
}

fn link(rel: &str, href: String) -> serde_json::Value {
    serde_json::json!({ "rel": rel, "type": GEOJSON, "href": href })
}

/// `GET /api/layers/{id}/features/{fid}`: one GeoJSON Feature.
pub async fn one(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((id, fid)): ApiPath<(String, String)>,
    ApiQuery(p): ApiQuery<OneParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let layer = layer_version(&state, &who, &id, p.version.as_deref()).await?;
    let index = layer
        .data
        .find(&fid)
        .ok_or_else(|| ApiError::no_feature(&id, &fid))?;
    let caching = Caching::new(&layer_tag(&layer, &who), who.is_anonymous());
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    Ok(respond(
        Body::from(layer.data.feature(index)),
        GEOJSON,
        &caching,
    ))
}
