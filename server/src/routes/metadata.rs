//! Categories and layer metadata.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use layers::LayerIndex;
use layers::bbox::Bbox;
use layers::model::Agency;
use serde::Serialize;

use crate::auth::{Principal, visible_layer, visible_layers};
use crate::error::ApiResult;
use crate::extract::ApiPath;
use crate::http::{Caching, json_response, layer_tag};
use crate::state::AppState;

#[derive(Serialize)]
struct CategoryOut<'a> {
    #[serde(flatten)]
    category: &'a layers::Category,
    layer_count: usize,
}

/// `GET /api/categories`: the 14 categories with the number of layers the caller may see.
pub async fn categories(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
) -> Response {
    let snapshot = state.catalog.snapshot();
    let caching = Caching::new(
        &format!("categories-{}-{}", snapshot.generation, who.cache_class()),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return r;
    }
    let visible: Vec<_> = visible_layers(&snapshot, &who).collect();
    let out: Vec<CategoryOut> = state
        .categories
        .iter()
        .map(|c| CategoryOut {
            category: c,
            layer_count: visible.iter().filter(|l| l.meta.category == c.id).count(),
        })
        .collect();
    json_response(&serde_json::json!({ "categories": out }), &caching)
}

/// A layer as the API describes it.
#[derive(Serialize)]
pub struct LayerOut<'a> {
    id: &'a str,
    category: &'a str,
    title_id: &'a str,
    title_en: &'a str,
    agency: Option<&'a Agency>,
    visibility: layers::Visibility,
    geometry_type: Option<&'a str>,
    geometry_types: &'a [String],
    feature_count: usize,
    bbox: Option<Bbox>,
    version: i64,
    /// The property the features' names come from, if any.
    name_field: Option<&'a str>,
    updated_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    about: Option<&'a layers::model::about::LayerAbout>,
    #[serde(skip_serializing_if = "Option::is_none")]
    style: Option<&'a layers::model::style::LayerStyle>,
    /// The time property and the dates its values span, when the layer
    /// has one with readable values (what `datetime` filters by).
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<TimeOut>,
    links: [Link; 2],
}

/// A layer's time: `{"property": "tanggal", "kind": "date", "extent":
/// ["2020-03-02", "2022-12-31"]}`. The extent's ends are the days (UTC) of
/// the earliest start and the latest end; `kind` is `date` for text dates
/// and date-times, `year` for year numbers.
#[derive(Serialize)]
struct TimeOut {
    property: &'static str,
    kind: &'static str,
    extent: [String; 2],
}

impl TimeOut {
    fn of(l: &LayerIndex) -> Option<TimeOut> {
        use layers::query::datetime::{TimeKind, format, temporal};
        let t = temporal(&l.data)?;
        let [a, b] = t.extent?;
        let day = |secs: i64| format(secs).get(..10).unwrap_or_default().to_owned();
        Some(TimeOut {
            property: t.property,
            kind: match t.kind {
                TimeKind::Text => "date",
                TimeKind::Year => "year",
            },
            extent: [day(a), day(b)],
        })
    }
}

#[derive(Serialize)]
struct Link {
    rel: &'static str,
    r#type: &'static str,
    href: String,
}

impl<'a> LayerOut<'a> {
    /// Describes `l`, whose features' names come from `name_field`, with
    /// links under `base`.
    pub fn new(l: &'a LayerIndex, name_field: Option<&'a str>, base: &str) -> Self {
        let types = &l.data.version.geometry_types;
        LayerOut {
            id: &l.meta.id,
            category: &l.meta.category,
            title_id: &l.meta.title_id,
            title_en: &l.meta.title_en,
            agency: l.meta.agency.as_ref(),
            visibility: l.meta.visibility,
            geometry_type: match types.len() {
                0 => None,
                1 => Some(types[0].as_str()),
                _ => Some("Mixed"),
            },
            geometry_types: types,
            feature_count: l.data.len(),
            bbox: l.data.version.bbox,
            version: l.data.version.version,
            name_field,
            updated_at: &l.meta.updated_at,
            about: l.meta.about.as_ref(),
            style: l.meta.style.as_ref(),
            time: TimeOut::of(l),
            links: [
                Link {
                    rel: "self",
                    r#type: "application/json",
                    href: format!("{base}/api/layers/{}", l.meta.id),
                },
                Link {
                    rel: "items",
                    r#type: crate::http::GEOJSON,
                    href: format!("{base}/api/layers/{}/features", l.meta.id),
                },
            ],
        }
    }
}

/// `GET /api/layers`: the layers the caller may see.
pub async fn list(State(state): State<AppState>, who: Principal, headers: HeaderMap) -> Response {
    let snapshot = state.catalog.snapshot();
    let caching = Caching::new(
        &format!("layers-{}-{}", snapshot.generation, who.cache_class()),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return r;
    }
    let base = &state.config.public_url;
    let out: Vec<LayerOut> = visible_layers(&snapshot, &who)
        .map(|l| LayerOut::new(l, snapshot.name_field(&l.meta.id), base))
        .collect();
    json_response(&serde_json::json!({ "layers": out }), &caching)
}

/// `GET /api/layers/{id}`: one layer.
pub async fn one(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let snapshot = state.catalog.snapshot();
    let layer = visible_layer(&snapshot, &who, &id)?;
    let caching = Caching::new(&layer_tag(&layer, &who), who.is_anonymous());
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    Ok(json_response(
        &LayerOut::new(&layer, snapshot.name_field(&id), &state.config.public_url),
        &caching,
    ))
}
