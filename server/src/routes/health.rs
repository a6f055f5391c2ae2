//! Liveness, readiness, metrics and the benchmark ceiling route.

use std::sync::OnceLock;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use layers::LayerIndex;
use serde::Deserialize;

use crate::auth::{Principal, visible_layers};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, int_param};
use crate::state::AppState;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Response {
    axum::Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: layers are loaded and the database answers.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Response> {
    if !state.is_ready() {
        return Err(ApiError::unavailable("layers are still loading"));
    }
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::unavailable(format!("database unavailable: {e}")))?;
    Ok(axum::Json(serde_json::json!({ "status": "ready" })).into_response())
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>, who: Principal) -> Response {
    let snapshot = state.catalog.snapshot();
    let visible: Vec<&LayerIndex> = visible_layers(&snapshot, &who).map(|l| &**l).collect();
    let text = state.metrics.render(&visible);
    let mut res = Response::new(Body::from(text));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

/// Query of `/bench/ceiling`.
#[derive(Deserialize)]
pub struct CeilingParams {
    bytes: Option<String>,
}

const CEILING_MAX: usize = 16 << 20;

/// `GET /bench/ceiling?bytes=N` (only with `--bench-ceiling`): N bytes of a
/// fixed buffer, no lookup, no copy. What the HTTP stack alone can serve,
/// to compare real routes against.
pub async fn ceiling(ApiQuery(p): ApiQuery<CeilingParams>) -> ApiResult<Response> {
    static BUF: OnceLock<Bytes> = OnceLock::new();
    let n = int_param("bytes", p.bytes.as_deref(), 1024, 0, CEILING_MAX)?;
    let buf = BUF.get_or_init(|| Bytes::from(vec![b' '; CEILING_MAX]));
    let mut res = Response::new(Body::from(buf.slice(..n)));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}

/// Middleware counting every request by its route template (never the
/// raw path, which would let clients create unbounded label values).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .record(&route, &method, res.status().as_str(), started.elapsed());
    res
}
