//! Editing a draft feature by feature (the page's editor):
//! `PATCH /api/layers/{id}/drafts/{version}/features/{fid}` (a GeoJSON
//! Feature, or a partial one with the changed `properties` and/or
//! `geometry`), `POST /api/layers/{id}/drafts/{version}/features` (a new
//! feature) and `DELETE /api/layers/{id}/drafts/{version}/features/{fid}`.
//!
//! A draft comes from `POST /api/layers/{id}/drafts` (or an upload) and is
//! published as any other. Those who may not see the layer's history get
//! the same 404 as for a missing layer before the body is read; the write
//! itself is decided by [`write_guard`] inside the store's transaction,
//! which also checks the feature as an upload would (an invalid one is a
//! 422 problem with its errors, and nothing changes) and audits the edit.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use geojson::feature::Id;
use layers::store::draft_features::{Edited, FeatureChange};
use serde_json::{Map, Value, json};

use super::versions::{history_visible, private_json};
use crate::auth::{Principal, write_guard};
use crate::client::Client;
use crate::error::{ApiError, ApiResult, problem_response};
use crate::extract::ApiPath;
use crate::state::AppState;

/// `PATCH /api/layers/{id}/drafts/{version}/features/{fid}`: changes one
/// feature of a draft. A body with `"type": "Feature"` replaces the
/// feature's properties with its own; without it, the `properties` given
/// are merged into the feature's (a `null` value is kept as `null`). A
/// `geometry` member replaces the geometry (`null`: none). Answers the
/// feature as stored and the checks' warnings.
pub async fn edit(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath((id, version, fid)): ApiPath<(String, i64, String)>,
    req: Request,
) -> ApiResult<Response> {
    history_visible(&state, &who, &id).await?;
    let body = object_of(&state, req).await?;
    let members = Members::of(body)?;
    if let Some(given) = &members.id
        && fid_of(given) != fid
    {
        return Err(ApiError::bad_request(
            "invalid-request",
            format!(
                "Id fitur tidak dapat diubah ({fid:?} dalam alamat, {} dalam badan). / A feature's id cannot change ({fid:?} in the path, {} in the body).",
                fid_of(given),
                fid_of(given)
            ),
        ));
    }
    if members.properties.is_none() && members.geometry.is_none() {
        return Err(ApiError::bad_request(
            "invalid-request",
            "Badan tidak memuat properties maupun geometry. / The body has neither properties nor geometry.",
        ));
    }
    let change = FeatureChange {
        properties: members.properties.map(Option::unwrap_or_default),
        replace_properties: members.is_feature,
        geometry: members.geometry,
    };
    let guard = write_guard(&who);
    let done = state
        .store
        .edit_draft_feature(
            &id,
            version,
            &fid,
            change,
            &state.writes.limits,
            &guard,
            client.actor(&who),
        )
        .await;
    answer(&id, version, done, StatusCode::OK)
}

/// `POST /api/layers/{id}/drafts/{version}/features`: adds a feature (a
/// GeoJSON Feature; without an `id` it gets the next free number) to a
/// draft. Answers `201` with the feature as stored.
pub async fn add(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath((id, version)): ApiPath<(String, i64)>,
    req: Request,
) -> ApiResult<Response> {
    history_visible(&state, &who, &id).await?;
    let body = object_of(&state, req).await?;
    let members = Members::of(body)?;
    let feature = geojson::Feature {
        bbox: None,
        geometry: members.geometry.flatten(),
        id: members.id,
        properties: members.properties.flatten(),
        foreign_members: None,
    };
    let guard = write_guard(&who);
    let done = state
        .store
        .add_draft_feature(
            &id,
            version,
            feature,
            &state.writes.limits,
            &guard,
            client.actor(&who),
        )
        .await;
    answer(&id, version, done, StatusCode::CREATED)
}

/// `DELETE /api/layers/{id}/drafts/{version}/features/{fid}`: deletes a
/// feature of a draft. Answers `204`.
pub async fn remove(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath((id, version, fid)): ApiPath<(String, i64, String)>,
) -> ApiResult<Response> {
    history_visible(&state, &who, &id).await?;
    let guard = write_guard(&who);
    state
        .store
        .delete_draft_feature(
            &id,
            version,
            &fid,
            &state.writes.limits,
            &guard,
            client.actor(&who),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The members of a body this API reads: `type` (only `"Feature"`), `id`,
/// `properties` (an object or `null`) and `geometry` (a GeoJSON geometry
/// or `null`); others (foreign members) are ignored. Each is `None` when
/// absent.
struct Members {
    is_feature: bool,
    id: Option<Id>,
    properties: Option<Option<Map<String, Value>>>,
    geometry: Option<Option<geojson::Geometry>>,
}

impl Members {
    fn of(mut body: Map<String, Value>) -> ApiResult<Members> {
        let bad = |why: String| {
            ApiError::bad_request(
                "invalid-request",
                format!(
                    "Badan harus GeoJSON Feature atau sebagiannya ({{\"properties\": {{…}}, \"geometry\": {{…}}}}). / The body must be a GeoJSON Feature or part of one ({{\"properties\": {{…}}, \"geometry\": {{…}}}}): {why}"
                ),
            )
        };
        let is_feature = match body.remove("type") {
            None => false,
            Some(Value::String(t)) if t == "Feature" => true,
            Some(other) => return Err(bad(format!("type is {other}, not \"Feature\""))),
        };
        let id = match body.remove("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Id::String(s)),
            Some(Value::Number(n)) => Some(Id::Number(n)),
            Some(other) => return Err(bad(format!("id is {other}, not a string or number"))),
        };
        let properties = match body.remove("properties") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::Object(o)) => Some(Some(o)),
            Some(other) => return Err(bad(format!("properties is {other}, not an object"))),
        };
        let geometry = match body.remove("geometry") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(g) => Some(Some(
                serde_json::from_value::<geojson::Geometry>(g).map_err(|e| ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    kind: "invalid-feature",
                    detail: format!(
                        "Geometri tidak dapat dibaca sebagai GeoJSON: {e}. / The geometry is not GeoJSON: {e}."
                    ),
                })?,
            )),
        };
        Ok(Members {
            is_feature,
            id,
            properties,
            geometry,
        })
    }
}

fn fid_of(id: &Id) -> String {
    match id {
        Id::String(s) => s.clone(),
        Id::Number(n) => n.to_string(),
    }
}

/// The request's body as a JSON object, read only up to the limit of one
/// feature (`max_feature_bytes`).
async fn object_of(state: &AppState, req: Request) -> ApiResult<Map<String, Value>> {
    let limit = state.writes.limits.max_feature_bytes;
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| {
            ApiError::too_large(format!(
                "Badan lebih besar dari {limit} byte. / The body is larger than {limit} bytes (limit max_feature_bytes)."
            ))
        })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid-request",
            format!("Badan harus objek JSON. / The body must be a JSON object: {e}"),
        )
    })
}

/// The answer to an edit: the feature as stored, or the problem.
fn answer(
    id: &str,
    version: i64,
    done: layers::Result<Edited>,
    status: StatusCode,
) -> ApiResult<Response> {
    let e = match done {
        Ok(e) => e,
        Err(layers::Error::Invalid { problems, count }) => {
            let (said_id, said_en) = problems
                .first()
                .map(|p| {
                    (
                        p.said(layers::text::Lang::Id),
                        p.said(layers::text::Lang::En),
                    )
                })
                .unwrap_or_default();
            let mut extra = Map::new();
            extra.insert("layer".into(), json!(id));
            extra.insert("version".into(), json!(version));
            extra.insert("errors".into(), json!(problems));
            extra.insert("error_count".into(), json!(count));
            return Ok(problem_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-feature",
                &format!(
                    "Objek tidak sah, {said_id} Tidak ada yang diubah. / The feature is not valid, {said_en} Nothing was changed."
                ),
                extra,
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let mut r = private_json(json!({
        "layer": id,
        "version": version,
        "fid": e.fid,
        "number": e.number,
        "feature": e.feature,
        "warnings": e.warnings,
        "feature_count": e.feature_count,
    }));
    *r.status_mut() = status;
    if status == StatusCode::CREATED
        && let Ok(v) = header::HeaderValue::from_str(&format!(
            "/api/layers/{id}/features/{}?version={version}",
            urlencoding(&e.fid)
        ))
    {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// `fid` as one URL path segment.
fn urlencoding(fid: &str) -> String {
    form_urlencoded::byte_serialize(fid.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
