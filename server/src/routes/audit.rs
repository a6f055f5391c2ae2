//! `GET /api/audit`: the audit log, newest first, for admins and leaders.
//! Anonymous callers get 401 (log in first), other users 403: the log's
//! existence is no secret, only its content.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use layers::model::access::Role;
use layers::store::audit::{self, Filter, MAX_LIST};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, int_param};
use crate::state::AppState;

/// Query parameters of `GET /api/audit`.
#[derive(Debug, Deserialize)]
pub struct AuditParams {
    limit: Option<String>,
    before: Option<String>,
    action: Option<String>,
    layer: Option<String>,
}

/// `GET /api/audit?limit=&before=&action=&layer=`: `{"entries": [...],
/// "next": URL?}`; `next` pages back from the oldest entry returned.
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Response> {
    match who.account() {
        None => return Err(ApiError::log_in("membaca log audit", "read the audit log")),
        Some(a) if !matches!(a.role, Role::Admin | Role::Leader) => {
            return Err(ApiError::forbidden(
                "only admins and leaders may read the audit log",
            ));
        }
        Some(_) => {}
    }
    let limit = int_param("limit", p.limit.as_deref(), 100, 1, MAX_LIST)?;
    let before = match p.before.as_deref() {
        None => None,
        Some(raw) => Some(raw.trim().parse::<i64>().map_err(|_| {
            ApiError::bad_request(
                "invalid-parameter",
                format!("before must be an entry id (a whole number), got {raw:?}"),
            )
        })?),
    };
    let entries = audit::list(
        &state.store,
        &Filter {
            limit,
            before,
            action: p.action.as_deref(),
            layer: p.layer.as_deref(),
        },
    )
    .await?;
    let next = (entries.len() == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten()
        .map(|oldest| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("limit", &limit.to_string());
            q.append_pair("before", &oldest.to_string());
            if let Some(a) = &p.action {
                q.append_pair("action", a);
            }
            if let Some(l) = &p.layer {
                q.append_pair("layer", l);
            }
            format!("{}/api/audit?{}", state.config.public_url, q.finish())
        });
    let mut res = Json(json!({"entries": entries, "next": next})).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
