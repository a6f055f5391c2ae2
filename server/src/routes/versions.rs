//! A layer's versions and the writes that move between them: publish,
//! rollback, delete and restore, plus the list of layers a user manages.
//!
//! Each write runs in one store transaction that checks ownership with
//! [`write_guard`] and records the audit entry; the catalog is then synced
//! at once so this server serves the change before answering (others pick
//! it up within their sync interval).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use layers::model::about::LayerAbout;
use layers::model::style::LayerStyle;
use layers::model::version::Status;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Principal, admin_guard, can_see_history, can_write, is_admin, write_guard};
use crate::client::Client;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// `?version=` / `?to=` of publish and rollback.
#[derive(Debug, Deserialize)]
pub struct VersionParam {
    version: Option<String>,
    to: Option<String>,
}

/// A version number parameter (`?version=`, `?to=`): a whole number from 1.
pub(crate) fn version_number(name: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    raw.map(|v| {
        v.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid-parameter",
                    format!("{name} must be a version number from 1, got {v:?}"),
                )
            })
    })
    .transpose()
}

/// Who may list versions: those who may see drafts of the layer.
pub(crate) async fn history_visible(state: &AppState, who: &Principal, id: &str) -> ApiResult<()> {
    match state.store.owner(id).await? {
        Some(o) if can_see_history(who, &o) => Ok(()),
        _ => Err(ApiError::no_layer(id)),
    }
}

/// `GET /api/layers/{id}/versions`: every version, newest first, for the
/// layer's agency staff and admins.
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    history_visible(&state, &who, &id).await?;
    let versions = state.store.versions(&id).await?;
    Ok(private_json(json!({ "layer": id, "versions": versions })))
}

/// `GET /api/layers/{id}/versions/{n}`: one version with its validation report.
pub async fn one(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((id, n)): ApiPath<(String, i64)>,
) -> ApiResult<Response> {
    history_visible(&state, &who, &id).await?;
    let (summary, report) = state
        .store
        .version(&id, n)
        .await?
        .ok_or_else(|| ApiError::no_version(&id, n))?;
    let report: Value = match report {
        Some(r) => serde_json::from_str(&r).map_err(ApiError::internal)?,
        None => Value::Null,
    };
    let mut out = serde_json::to_value(&summary).map_err(ApiError::internal)?;
    out["layer"] = json!(id);
    out["report"] = report;
    Ok(private_json(out))
}

/// The body of `PATCH /api/layers/{id}/versions/{n}`: an object with
/// `name_field` (a property name or `null`: no names), `about` (what the
/// layer is about, for a draft), `style` (how it is drawn, for a draft),
/// or several of them. A body with neither is refused
/// rather than read as `null`.
struct Patch {
    name_field: Option<Option<String>>,
    about: Option<LayerAbout>,
    style: Option<LayerStyle>,
}

fn patch_of(body: &[u8]) -> ApiResult<Patch> {
    let refuse = |why: String| {
        ApiError::bad_request(
            "invalid-request",
            format!(
                "Badan permintaan harus JSON {{\"name_field\": \"nama kolom\"}}, {{\"name_field\": null}} dan/atau {{\"about\": {{…}}}}. / The body must be JSON {{\"name_field\": \"field name\"}}, {{\"name_field\": null}} and/or {{\"about\": {{…}}}}: {why}"
            ),
        )
    };
    let mut object: serde_json::Map<String, Value> =
        serde_json::from_slice(body).map_err(|e| refuse(e.to_string()))?;
    let name_field = object.remove("name_field");
    let about = object.remove("about");
    let style = object.remove("style");
    if let Some(other) = object.keys().next() {
        return Err(refuse(format!("unknown member {other:?}")));
    }
    if name_field.is_none() && about.is_none() && style.is_none() {
        return Err(refuse("it has none of name_field, about, style".to_owned()));
    }
    let name_field = match name_field {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s)),
        Some(other) => {
            return Err(refuse(format!(
                "name_field is {other}, not a string or null"
            )));
        }
    };
    let about = about
        .map(|a| {
            serde_json::from_value::<LayerAbout>(a)
                .map_err(|e| refuse(format!("about: {e}")))?
                .normalised()
                .map_err(|e| ApiError::bad_request("invalid-request", e))
        })
        .transpose()?;
    let style = style
        .map(|st| {
            let st = serde_json::from_value::<LayerStyle>(st)
                .map_err(|e| refuse(format!("style: {e}")))?;
            st.check()
                .map_err(|e| ApiError::bad_request("invalid-request", e))?;
            Ok::<_, ApiError>(st)
        })
        .transpose()?;
    Ok(Patch {
        name_field,
        about,
        style,
    })
}

/// `PATCH /api/layers/{id}/versions/{n}` with `{"name_field": "nama pura"}`
/// (or `null`), `{"about": {...}}` and/or `{"style": {...}}`: the property
/// the version's feature names come from, and (drafts only) what the layer
/// is about and how it is drawn once the draft is published; for the
/// layer's agency staff and admins. Names
/// are recomputed and each change audited; answers the version as `GET`
/// does.
pub async fn patch(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath((id, n)): ApiPath<(String, i64)>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    // A version is seen by those who see the layer's history: anyone else
    // gets the same 404 as for a missing layer, as from `GET` here, and
    // learns nothing from the body. The write itself is decided by
    // `write_guard` inside the store's transaction.
    history_visible(&state, &who, &id).await?;
    let patch = patch_of(&body)?;
    {
        let guard = write_guard(&who);
        if patch.about.is_some() || patch.style.is_some() {
            state
                .store
                .set_draft_meta(
                    &id,
                    n,
                    patch.about.as_ref(),
                    patch.style.as_ref(),
                    &guard,
                    client.actor(&who),
                )
                .await?;
        }
        if let Some(field) = &patch.name_field {
            state
                .store
                .set_name_field(&id, n, field.as_deref(), &guard, client.actor(&who))
                .await?;
        }
    }
    sync(&state).await?;
    one(State(state), who, ApiPath((id, n))).await
}

/// `POST /api/layers/{id}/drafts`: a new draft holding exactly the
/// current version, to change (its `about`, its name field) and publish
/// without uploading the data again. Answers `201` with its `version`.
pub async fn draft(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    history_visible(&state, &who, &id).await?;
    let version = {
        let guard = write_guard(&who);
        state
            .store
            .draft_from_current(&id, &guard, client.actor(&who))
            .await?
    };
    let mut r = private_json(json!({ "layer": id, "version": version, "status": "draft" }));
    *r.status_mut() = StatusCode::CREATED;
    Ok(r)
}

/// `POST /api/layers/{id}/publish[?version=N]`: makes a draft (the newest
/// one when no version is named) the current version.
pub async fn publish(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<VersionParam>,
) -> ApiResult<Response> {
    let guard = write_guard(&who);
    let version = match version_number("version", p.version.as_deref())? {
        Some(v) => v,
        None => {
            // Check the right to see the layer before telling what its drafts are.
            match state.store.owner(&id).await? {
                Some(o) => guard(&o)?,
                None => return Err(ApiError::no_layer(&id)),
            }
            newest_draft(&state, &id).await?
        }
    };
    let before = state
        .store
        .make_current(&id, version, "publish", &guard, client.actor(&who))
        .await?;
    changed(&state, &id, before, version, "published").await
}

/// `POST /api/layers/{id}/rollback?to=N`: makes an older published version current again.
pub async fn rollback(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<VersionParam>,
) -> ApiResult<Response> {
    let to = version_number("to", p.to.as_deref())?.ok_or_else(|| {
        ApiError::bad_request(
            "invalid-parameter",
            "name the version to roll back to with ?to=N",
        )
    })?;
    let guard = write_guard(&who);
    let before = state
        .store
        .make_current(&id, to, "rollback", &guard, client.actor(&who))
        .await?;
    changed(&state, &id, before, to, "rolled back").await
}

/// `DELETE /api/layers/{id}`: hides a layer from everyone; its versions
/// are kept and an admin can restore it.
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let guard = write_guard(&who);
    state
        .store
        .set_deleted(&id, true, &guard, client.actor(&who))
        .await?;
    sync(&state).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/layers/{id}/restore`: brings a deleted layer back (admins only).
pub async fn restore(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    if who.account().is_none() {
        return Err(ApiError::log_in("memulihkan lapisan", "restore layers"));
    }
    let guard = admin_guard(&who);
    state
        .store
        .set_deleted(&id, false, &guard, client.actor(&who))
        .await?;
    sync(&state).await?;
    Ok(private_json(json!({ "layer": id, "deleted": false })))
}

/// `GET /api/manage/layers`: the layers the caller may change, published
/// or not, with their newest version's status (hidden ones for admins).
pub async fn managed(State(state): State<AppState>, who: Principal) -> ApiResult<Response> {
    if who.account().is_none() {
        return Err(ApiError::log_in("mengelola lapisan", "manage layers"));
    }
    let admin = is_admin(&who);
    let layers: Vec<_> = state
        .store
        .managed_layers()
        .await?
        .into_iter()
        .filter(|l| can_write(&who, l.agency.as_deref()) && (l.deleted_at.is_none() || admin))
        .collect();
    Ok(private_json(json!({ "layers": layers })))
}

async fn newest_draft(state: &AppState, id: &str) -> ApiResult<i64> {
    state
        .store
        .versions(id)
        .await?
        .into_iter()
        .find(|v| v.status == Status::Draft)
        .map(|v| v.version)
        .ok_or_else(|| {
            ApiError::from(layers::Error::Conflict(format!(
                "layer {id:?} has no draft to publish; upload one first"
            )))
        })
}

async fn changed(
    state: &AppState,
    id: &str,
    before: Option<i64>,
    now: i64,
    what: &str,
) -> ApiResult<Response> {
    sync(state).await?;
    Ok(private_json(json!({
        "layer": id,
        "current_version": now,
        "previous_version": before,
        "message": format!("version {now} of {id} {what}"),
    })))
}

/// Brings this server's catalog up to date so it serves the change it just made.
async fn sync(state: &AppState) -> ApiResult<()> {
    state.catalog.sync(&state.store).await?;
    Ok(())
}

pub(crate) fn private_json(v: Value) -> Response {
    let mut res = Json(v).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    res
}
