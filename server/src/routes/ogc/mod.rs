//! OGC API - Features under `/ogc`: Part 1 (Core, GeoJSON, HTML, OpenAPI
//! 3.0) and Part 3 filtering with CQL2, over the same in-memory index and
//! the same visibility rule ([`visible_layer`], [`visible_layers`]) as the
//! rest of the API.
//!
//! Links are absolute (GDAL and QGIS follow them as given): built from
//! `--public-url` when set, else from the request's `Host` header.

mod crs;
mod html;
pub mod items;
mod names;
mod openapi;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use layers::LayerIndex;
use layers::query::{cql2 as cql, datetime as time};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Principal, visible_layer, visible_layers};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::http::layer_tag;
use crate::http::{Caching, GEOJSON, respond};
use crate::state::AppState;

pub use names::{CONFORMANCE, CRS84, HTML, OPENAPI, SCHEMA_JSON};

/// The representations a resource can be answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON (GeoJSON for features).
    Json,
    /// A server-rendered HTML page.
    Html,
    /// FlatGeobuf (features only).
    Fgb,
}

/// Picks the representation: `f=` first, else the best `Accept` match
/// among `offered` (the first offered wins ties and `*/*`).
pub fn negotiate(f: Option<&str>, headers: &HeaderMap, offered: &[Format]) -> ApiResult<Format> {
    if let Some(f) = f {
        let wanted = match f.trim().to_ascii_lowercase().as_str() {
            "json" | "geojson" => Some(Format::Json),
            "html" => Some(Format::Html),
            "fgb" | "flatgeobuf" => Some(Format::Fgb),
            _ => None,
        };
        let names: Vec<&str> = offered
            .iter()
            .map(|o| match o {
                Format::Json => "json",
                Format::Html => "html",
                Format::Fgb => "fgb",
            })
            .collect();
        return wanted.filter(|w| offered.contains(w)).ok_or_else(|| {
            ApiError::bad_request(
                "invalid-parameter",
                format!("f must be one of {}, got {f:?}", names.join(", ")),
            )
        });
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(offered[0]);
    };
    let mut best = (offered[0], 0.0f32, usize::MAX);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        for (rank, o) in offered.iter().enumerate() {
            let hit = match o {
                Format::Json => matches!(
                    media.as_str(),
                    "application/geo+json" | "application/json" | "application/*" | "*/*"
                ),
                Format::Html => matches!(media.as_str(), "text/html" | "text/*" | "*/*"),
                Format::Fgb => media == "application/flatgeobuf",
            };
            // Wildcards never beat an explicit type of the same weight.
            let rank = if media.contains('*') {
                rank + 100
            } else {
                rank
            };
            if hit && q > 0.0 && (q > best.1 || (q == best.1 && rank < best.2)) {
                best = (*o, q, rank);
            }
        }
    }
    Ok(best.0)
}

/// The absolute base URL for links: `--public-url`, else `http(s)://Host`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if !state.config.public_url.is_empty() {
        return state.config.public_url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
        });
    match host {
        Some(h) => {
            let scheme = if state.config.behind_tls {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{h}")
        }
        None => String::new(),
    }
}

/// Makes the OGC API's responses honest about the `Host` header when no
/// `--public-url` is configured and [`base_url`] builds absolute links from
/// it: each response says `Vary: Host`, and its `ETag` gets a suffix naming
/// the host, so a shared cache never answers one host's request with links
/// that a forged `Host` put in another's (and a tag from another host never
/// earns a 304). With `--public-url` links name only that origin and
/// responses are left as they are.
pub async fn host_links(
    State(state): State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !state.config.public_url.is_empty() {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let suffix = format!("-h{:016x}\"", layers::hash::fnv1a(host.as_bytes()));
    if let Some(inm) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        // Only tags made for this host can match: ours lose their suffix
        // for the route's comparison, others are dropped.
        let kept: Vec<String> = inm
            .split(',')
            .map(str::trim)
            .filter_map(|t| {
                if t == "*" {
                    return Some(t.to_owned());
                }
                t.strip_suffix(suffix.as_str())
                    .map(|base| format!("{base}\""))
            })
            .collect();
        let headers = req.headers_mut();
        match HeaderValue::from_str(&kept.join(", ")) {
            Ok(v) if !kept.is_empty() => {
                headers.insert(header::IF_NONE_MATCH, v);
            }
            _ => {
                headers.remove(header::IF_NONE_MATCH);
            }
        }
    }
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if let Some(tagged) = headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| HeaderValue::from_str(&format!("{t}{suffix}")).ok())
    {
        headers.insert(header::ETAG, tagged);
    }
    headers.append(header::VARY, HeaderValue::from_static("Host"));
    res
}

/// One link object.
pub fn link(rel: &str, ty: &str, href: String, title: &str) -> Value {
    json!({ "rel": rel, "type": ty, "title": title, "href": href })
}

fn negotiated(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    res
}

fn json_body(v: &Value, ty: &'static str, caching: &Caching) -> Response {
    negotiated(respond(
        Body::from(serde_json::to_vec(v).unwrap_or_default()),
        ty,
        caching,
    ))
}

fn html_body(page: String, caching: &Caching) -> Response {
    negotiated(respond(Body::from(page), HTML, caching))
}

/// `?f=` of the non-feature resources.
#[derive(Debug, Deserialize)]
pub struct FParam {
    f: Option<String>,
}

fn static_tag(name: &str, who: &Principal, f: Format) -> String {
    format!(
        "ogc-{name}-{}-{f:?}-{}",
        env!("CARGO_PKG_VERSION"),
        who.cache_class()
    )
}

/// `GET /ogc`: the landing page.
pub async fn landing(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(p): ApiQuery<FParam>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let f = negotiate(p.f.as_deref(), &headers, &[Format::Json, Format::Html])?;
    let caching = Caching::new(&static_tag("landing", &who, f), who.is_anonymous());
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let base = base_url(&state, &headers);
    let doc = json!({
        "title": "Badung Smart City map server",
        "description": "Map layers of Kabupaten Badung, Bali, as OGC API - Features (GeoJSON, HTML, FlatGeobuf) with CQL2 filtering.",
        "links": [
            link("self", "application/json", format!("{base}/ogc?f=json"), "this document"),
            link("alternate", "text/html", format!("{base}/ogc?f=html"), "this document as HTML"),
            link("service-desc", OPENAPI, format!("{base}/ogc/api"), "the API definition (OpenAPI 3.0)"),
            link("conformance", "application/json", format!("{base}/ogc/conformance"), "conformance classes"),
            link("http://www.opengis.net/def/rel/ogc/1.0/conformance", "application/json", format!("{base}/ogc/conformance"), "conformance classes"),
            link("data", "application/json", format!("{base}/ogc/collections"), "the feature collections"),
            link("http://www.opengis.net/def/rel/ogc/1.0/data", "application/json", format!("{base}/ogc/collections"), "the feature collections"),
        ],
    });
    Ok(match f {
        Format::Html => html_body(html::landing(&doc), &caching),
        _ => json_body(&doc, "application/json", &caching),
    })
}

/// `GET /ogc/conformance`.
pub async fn conformance(
    who: Principal,
    ApiQuery(p): ApiQuery<FParam>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let f = negotiate(p.f.as_deref(), &headers, &[Format::Json, Format::Html])?;
    let caching = Caching::new(&static_tag("conformance", &who, f), who.is_anonymous());
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let doc = json!({ "conformsTo": CONFORMANCE });
    Ok(match f {
        Format::Html => html_body(html::conformance(CONFORMANCE), &caching),
        _ => json_body(&doc, "application/json", &caching),
    })
}

/// `GET /ogc/api`: the OpenAPI 3.0 document, with an items path for each
/// collection the caller may see.
pub async fn api(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let snapshot = state.catalog.snapshot();
    let caching = Caching::new(
        &format!(
            "{}-{}",
            static_tag("api", &who, Format::Json),
            snapshot.generation
        ),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let listed: Vec<openapi::Listed> = visible_layers(&snapshot, &who)
        .map(|l| openapi::Listed {
            id: l.meta.id.clone(),
            queryables: queryables_of(l)
                .iter()
                .map(|(name, t)| {
                    let ty = match cql::Type::of_field(t) {
                        cql::Type::String => "string",
                        cql::Type::Number => "number",
                        cql::Type::Boolean => "boolean",
                    };
                    (name.clone(), ty)
                })
                .collect(),
        })
        .collect();
    let doc = openapi::document(
        &base_url(&state, &headers),
        state.config.default_limit,
        state.config.max_limit,
        &listed,
    );
    Ok(json_body(&doc, OPENAPI, &caching))
}

/// The queryable properties of a layer: its schema's fields.
pub fn queryables_of(layer: &LayerIndex) -> &cql::Queryables {
    layer.data.fields()
}

/// The time property of a layer and the extent of its values (min start,
/// max end), kept with the version.
fn temporal_extent(layer: &LayerIndex) -> Option<(String, [i64; 2])> {
    let t = time::temporal(&layer.data)?;
    Some((t.property.to_owned(), t.extent?))
}

/// The collection document of one layer.
fn collection_doc(layer: &LayerIndex, base: &str) -> Value {
    let id = &layer.meta.id;
    let title = if layer.meta.title_en.is_empty() {
        &layer.meta.title_id
    } else {
        &layer.meta.title_en
    };
    let about = layer.meta.about.as_ref();
    let summary = format!(
        "{} ({}); category {}{}; {} features, version {}",
        layer.meta.title_id,
        layer.meta.title_en,
        layer.meta.category,
        layer
            .meta
            .agency
            .as_ref()
            .map(|a| format!(", agency {}", a.name))
            .unwrap_or_default(),
        layer.data.len(),
        layer.data.version.version
    );
    // The layer's own words when it has them (English first: the OGC
    // API's language), then the facts.
    let description =
        match about.and_then(|a| a.description_en.as_ref().or(a.description_id.as_ref())) {
            Some(d) => format!("{d}\n\n{summary}"),
            None => summary,
        };
    let mut extent = serde_json::Map::new();
    if let Some(b) = layer.data.version.bbox {
        extent.insert(
            "spatial".into(),
            json!({ "bbox": [[b.minx, b.miny, b.maxx, b.maxy]], "crs": CRS84 }),
        );
    }
    let mut time_prop = Value::Null;
    if let Some((name, [a, b])) = temporal_extent(layer) {
        extent.insert(
            "temporal".into(),
            json!({
                "interval": [[time::format(a), time::format(b)]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }),
        );
        time_prop = Value::String(name);
    }
    let items = format!("{base}/ogc/collections/{id}/items");
    let mut doc = json!({
        "id": id,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": crs::offered(),
        "storageCrs": CRS84,
        "links": [
            link("self", "application/json", format!("{base}/ogc/collections/{id}"), "this collection"),
            link("alternate", "text/html", format!("{base}/ogc/collections/{id}?f=html"), "this collection as HTML"),
            link("items", GEOJSON, items.clone(), "the features as GeoJSON"),
            link("items", "text/html", format!("{items}?f=html"), "the features as HTML"),
            link("items", layers::export::fgb::MEDIA_TYPE, format!("{items}?f=fgb"), "the features as FlatGeobuf"),
            link("http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON, format!("{base}/ogc/collections/{id}/queryables"), "the queryable properties"),
            link("http://www.opengis.net/def/rel/ogc/1.0/sortables", SCHEMA_JSON, format!("{base}/ogc/collections/{id}/sortables"), "the sortable properties"),
            link("enclosure", layers::export::fgb::MEDIA_TYPE, format!("{base}/api/layers/{id}/download?format=fgb"), "the whole layer as FlatGeobuf"),
            link("enclosure", GEOJSON, format!("{base}/api/layers/{id}/download?format=geojson"), "the whole layer as GeoJSON"),
        ],
    });
    if !extent.is_empty() {
        doc["extent"] = Value::Object(extent);
    }
    if !time_prop.is_null() {
        doc["temporalProperty"] = time_prop;
    }
    if let Some(a) = about {
        if !a.keywords.is_empty() {
            doc["keywords"] = json!(a.keywords);
        }
        if let (Some(l), Some(links)) = (&a.licence, doc["links"].as_array_mut()) {
            let href = a
                .licence_url()
                .unwrap_or_else(|| format!("{base}/api/layers/{id}"));
            links.push(link("license", "text/html", href, l));
        }
        if let Some(s) = &a.source {
            doc["attribution"] = json!(s);
        }
    }
    doc
}

/// `GET /ogc/collections`: the layers the caller may see.
pub async fn collections(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(p): ApiQuery<FParam>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let f = negotiate(p.f.as_deref(), &headers, &[Format::Json, Format::Html])?;
    let snapshot = state.catalog.snapshot();
    let caching = Caching::new(
        &format!(
            "ogc-collections-{}-{f:?}-{}",
            snapshot.generation,
            who.cache_class()
        ),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let base = base_url(&state, &headers);
    let layers: Vec<Arc<LayerIndex>> = visible_layers(&snapshot, &who).cloned().collect();
    let docs: Vec<Value> = layers.iter().map(|l| collection_doc(l, &base)).collect();
    let doc = json!({
        "links": [
            link("self", "application/json", format!("{base}/ogc/collections"), "this document"),
            link("alternate", "text/html", format!("{base}/ogc/collections?f=html"), "this document as HTML"),
        ],
        "collections": docs,
    });
    Ok(match f {
        Format::Html => html_body(html::collections(&doc), &caching),
        _ => json_body(&doc, "application/json", &caching),
    })
}

/// A collection found for a document: the layer, the format and the caching.
type Found = (Arc<LayerIndex>, Format, Caching);

/// The visible layer, negotiated format and caching of a per-collection
/// JSON/HTML document, or the `304` that answers it.
fn layer_document(
    state: &AppState,
    who: &Principal,
    id: &str,
    p: &FParam,
    headers: &HeaderMap,
    tag: &str,
) -> ApiResult<Result<Found, Response>> {
    let layer = visible_layer(&state.catalog.snapshot(), who, id)?;
    let f = negotiate(p.f.as_deref(), headers, &[Format::Json, Format::Html])?;
    let caching = Caching::new(
        &format!("{tag}-{}-{f:?}", layer_tag(&layer, who)),
        who.is_anonymous(),
    );
    Ok(match caching.not_modified(headers) {
        Some(r) => Err(r),
        None => Ok((layer, f, caching)),
    })
}

/// `GET /ogc/collections/{id}`.
pub async fn collection(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<FParam>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (layer, f, caching) = match layer_document(&state, &who, &id, &p, &headers, "ogc")? {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let doc = collection_doc(&layer, &base_url(&state, &headers));
    Ok(match f {
        Format::Html => html_body(html::collection(&doc), &caching),
        _ => json_body(&doc, "application/json", &caching),
    })
}

/// `GET /ogc/collections/{id}/queryables`: a JSON Schema of the properties
/// filters may name.
pub async fn queryables(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<FParam>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (layer, f, caching) = match layer_document(&state, &who, &id, &p, &headers, "ogc-q")? {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let doc = property_schema(&layer, &base_url(&state, &headers), "queryables");
    Ok(match f {
        Format::Html => html_body(html::queryables(&doc), &caching),
        _ => json_body(&doc, SCHEMA_JSON, &caching),
    })
}

/// `GET /ogc/collections/{id}/sortables`: a JSON Schema of the properties
/// `sortby` may name (the queryables but the geometry).
pub async fn sortables(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<FParam>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (layer, f, caching) = match layer_document(&state, &who, &id, &p, &headers, "ogc-s")? {
        Ok(found) => found,
        Err(not_modified) => return Ok(not_modified),
    };
    let doc = property_schema(&layer, &base_url(&state, &headers), "sortables");
    Ok(match f {
        Format::Html => html_body(html::queryables(&doc), &caching),
        _ => json_body(&doc, SCHEMA_JSON, &caching),
    })
}

/// The JSON Schema of a layer's `queryables` (with the geometry) or
/// `sortables` (without).
fn property_schema(layer: &LayerIndex, base: &str, kind: &str) -> Value {
    let mut props = serde_json::Map::new();
    for (name, t) in queryables_of(layer) {
        let ty = match cql::Type::of_field(t) {
            cql::Type::String => "string",
            cql::Type::Number => "number",
            cql::Type::Boolean => "boolean",
        };
        props.insert(name.clone(), json!({ "title": name, "type": ty }));
    }
    if kind == "queryables" {
        props.insert(
            cql::GEOMETRY.into(),
            json!({ "title": "geometry", "format": "geometry-any" }),
        );
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{base}/ogc/collections/{}/{kind}", layer.meta.id),
        "type": "object",
        "title": layer.meta.title_id,
        "properties": props,
        "additionalProperties": false,
    })
}
