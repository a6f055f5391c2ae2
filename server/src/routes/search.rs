//! Name search across the layers the caller may see.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use layers::query::{Order, Query, select_page};
use serde::Deserialize;

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
}

/// `GET /api/search?q=`: features whose name contains `q` (any case),
/// exact matches first, then prefixes, word prefixes, and the rest;
/// shorter names first within each.
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
    let snapshot = state.catalog.snapshot();
    let caching = Caching::new(
        &format!("search-{}-{}", snapshot.generation, who.cache_class()),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let needle = q.to_lowercase();
    let layers: Vec<_> = visible_layers(&snapshot, &who).cloned().collect();
    let body = tokio::task::spawn_blocking(move || {
        let query = Query {
            name_contains: Some(needle.clone()),
            order: Order::Name,
            limit,
            ..Query::default()
        };
        let mut hits = Vec::new();
        for (order, l) in layers.iter().enumerate() {
            hits.extend(
                select_page(&l.data, &query)
                    .name_matches
                    .into_iter()
                    .map(|h| (h, order)),
            );
        }
        hits.sort_unstable_by(|(a, la), (b, lb)| {
            (a.rank, a.name_len, la, a.index).cmp(&(b.rank, b.name_len, lb, b.index))
        });
        hits.truncate(limit);
        let mut out = format!(
            r#"{{"query":{},"numberReturned":{},"results":["#,
            json_str(&needle),
            hits.len()
        )
        .into_bytes();
        for (n, (h, order)) in hits.iter().enumerate() {
            let l = &layers[*order];
            if n > 0 {
                out.push(b',');
            }
            let name = l.data.name(h.index).unwrap_or_default();
            out.extend_from_slice(
                format!(
                    r#"{{"layer":{},"category":{},"name":{},"feature":"#,
                    json_str(&l.meta.id),
                    json_str(&l.meta.category),
                    json_str(name)
                )
                .as_bytes(),
            );
            out.extend_from_slice(l.data.feature_bytes(h.index));
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        out
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(respond(Body::from(body), "application/json", &caching))
}

fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}
