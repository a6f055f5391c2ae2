//! Name search across the layers the caller may see.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use layers::search::{Found, Source, names_of};
use serde::Deserialize;
use serde_json::json;

use super::features::MAX_QUERY_CHARS;
use crate::auth::{Principal, visible_layers};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, int_param};
use crate::http::{Caching, respond};
use crate::state::AppState;

/// Query parameters of `GET /api/search`.
#[derive(Debug, Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    limit: Option<String>,
    near: Option<String>,
}

/// `GET /api/search?q=&near=lon,lat&limit=`: places whose name, layer
/// title or category title (either language) match `q`, ranked by
/// [`layers::search`]: exact names first, then by match cost, then by
/// distance to `near` (or shorter names). Each result says its type
/// (`layer` or `feature`), layer and category with their titles; a
/// feature result carries the feature and, with `near`, `distance_m`.
pub async fn search(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(p): ApiQuery<SearchParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let q = p.q.as_deref().map(str::trim).unwrap_or_default();
    if q.is_empty() || q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(
            "invalid-parameter",
            format!("q must hold 1 to {MAX_QUERY_CHARS} characters"),
        ));
    }
    let limit = int_param("limit", p.limit.as_deref(), 20, 1, 100)?;
    let near = p.near.as_deref().map(parse_near).transpose()?;
    let query = layers::search::Query::parse(q)
        .map_err(|e| ApiError::bad_request("invalid-parameter", e.to_string()))?;
    let snapshot = state.catalog.snapshot();
    let caching = Caching::new(
        &format!("search-{}-{}", snapshot.generation, who.cache_class()),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let layers: Vec<_> = visible_layers(&snapshot, &who).cloned().collect();
    let categories = state.categories.clone();
    let echo = q.to_owned();
    let body = tokio::task::spawn_blocking(move || {
        let names: Vec<_> = layers.iter().map(|l| names_of(&l.data)).collect();
        let category = |id: &str| categories.iter().find(|c| c.id == id);
        let sources: Vec<Source<'_>> = layers
            .iter()
            .zip(&names)
            .map(|(l, names)| {
                let c = category(&l.meta.category);
                Source {
                    data: &l.data,
                    names,
                    titles: [&l.meta.title_id, &l.meta.title_en],
                    category_titles: [
                        c.map_or("", |c| c.title_id.as_str()),
                        c.map_or("", |c| c.title_en.as_str()),
                    ],
                }
            })
            .collect();
        let hits = layers::search::search(&query, &sources, near, limit);
        let mut out = serde_json::to_vec(&json!({ "query": echo })).unwrap_or_default();
        out.pop();
        out.extend_from_slice(
            format!(r#","numberReturned":{},"results":["#, hits.len()).as_bytes(),
        );
        for (n, hit) in hits.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            let (l, s) = (&layers[hit.source], &sources[hit.source]);
            let mut head = json!({
                "layer": l.meta.id,
                "category": l.meta.category,
                "layer_title": { "id": s.titles[0], "en": s.titles[1] },
                "category_title": { "id": s.category_titles[0], "en": s.category_titles[1] },
            });
            match hit.found {
                Found::Layer => {
                    head["type"] = "layer".into();
                    head["name"] = s.titles[0].into();
                    head["bbox"] = json!(l.data.version.bbox);
                    out.extend_from_slice(head.to_string().as_bytes());
                }
                Found::Feature { index, distance_m } => {
                    head["type"] = "feature".into();
                    head["name"] = l.data.name(index).unwrap_or_default().into();
                    if let Some(d) = distance_m {
                        head["distance_m"] = json!(d.round());
                    }
                    // The feature's bytes are spliced in as they are served.
                    let mut head = head.to_string().into_bytes();
                    head.pop();
                    out.extend_from_slice(&head);
                    out.extend_from_slice(br#","feature":"#);
                    out.extend_from_slice(l.data.feature_bytes(index));
                    out.push(b'}');
                }
            }
        }
        out.extend_from_slice(b"]}");
        out
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(respond(Body::from(body), "application/json", &caching))
}

/// `near=lon,lat` as `[lon, lat]`.
fn parse_near(s: &str) -> ApiResult<[f64; 2]> {
    let bad = || {
        ApiError::bad_request(
            "invalid-parameter",
            "near must be lon,lat in degrees (WGS 84), e.g. near=115.17,-8.72",
        )
    };
    let (x, y) = s.split_once(',').ok_or_else(bad)?;
    let parse = |v: &str| v.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    let (x, y) = (parse(x).ok_or_else(bad)?, parse(y).ok_or_else(bad)?);
    if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        return Err(bad());
    }
    Ok([x, y])
}
