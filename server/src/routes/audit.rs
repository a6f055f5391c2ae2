//! `GET /api/audit`: the audit log, newest first, for admins and leaders
//! ([`crate::auth::can_read_audit`]).
//! Anonymous callers get 401 (log in first), other users 403: the log's
//! existence is no secret, only its content.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use layers::store::audit::{self, Filter, MAX_LIST};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Principal, can_read_audit};
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
    actor: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// An optional text parameter: blank counts as absent.
fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// An optional RFC 3339 parameter in the stored shape.
fn time_param(name: &str, raw: Option<&str>) -> ApiResult<Option<String>> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    layers::clock::parse_rfc3339(raw).map(Some).ok_or_else(|| {
        ApiError::bad_request(
            "invalid-parameter",
            format!(
                "{name} harus berupa waktu RFC 3339, mis. 2026-12-01T08:00:00Z atau 2026-12-01T16:00:00+08:00, bukan {raw:?}. / {name} must be an RFC 3339 time, e.g. 2026-12-01T08:00:00Z or 2026-12-01T16:00:00+08:00, not {raw:?}."
            ),
        )
    })
}

/// `GET /api/audit?limit=&before=&action=&layer=&actor=&since=&until=`:
/// `{"entries": [...], "next": URL?}`; `next` pages back from the oldest
/// entry returned with the same filters. `actor` is a user name (any case)
/// or `cli`; `since` and `until` are RFC 3339 times, both included.
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Response> {
    match who.account() {
        None => return Err(ApiError::log_in("membaca log audit", "read the audit log")),
        Some(_) if !can_read_audit(&who) => {
            return Err(ApiError::forbidden(
                "Hanya admin dan pimpinan yang boleh membaca log audit. / Only admins and leaders may read the audit log.",
            ));
        }
        Some(_) => {}
    }
    let since = time_param("since", p.since.as_deref())?;
    let until = time_param("until", p.until.as_deref())?;

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
            action: nonempty(&p.action),
            layer: nonempty(&p.layer),
            actor: nonempty(&p.actor),
            since: since.as_deref(),
            until: until.as_deref(),
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
            for (k, v) in [
                ("action", &p.action),
                ("layer", &p.layer),
                ("actor", &p.actor),
                ("since", &p.since),
                ("until", &p.until),
            ] {
                if let Some(v) = nonempty(v) {
                    q.append_pair(k, v);
                }
            }
            format!("{}/api/audit?{}", state.config.public_url, q.finish())
        });
    let mut res = Json(json!({"entries": entries, "next": next})).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
