//! `/ogc/collections/{id}/items` and `/ogc/collections/{id}/items/{fid}`.
//!
//! The request's parameters become a [`Query`] (bbox, `datetime`, CQL2 and
//! property equality filters, paging) answered by [`select_page`]; the page
//! is streamed from the pre-encoded feature bytes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use layers::query::cql2::{self as cql, Cmp, Node, Operand};
use layers::query::datetime::Datetime;
use layers::query::{Query, SortKey, select_page};
use layers::store::photos::{PHOTO_URL_PROPERTY, PHOTOS_PROPERTY};
use layers::{Bbox, LayerIndex};
use serde::Deserialize;
use serde_json::{Value, json};

use super::crs::{self, OutCrs, Transform};
use super::names::RESERVED;
use super::{CRS84, Format, base_url, html, link, negotiate, negotiated};
use crate::auth::{Principal, visible_layer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, int_param};
use crate::http::layer_tag;
use crate::http::{Caching, GEOJSON, feature_list_body, respond};
use crate::state::AppState;

/// The longest filter accepted, in bytes.
const MAX_FILTER_BYTES: usize = 64 * 1024;

/// The most keys in `sortby`.
const MAX_SORT_KEYS: usize = 8;

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid-parameter", detail)
}

/// The filter languages accepted: CQL2 and the draft name GDAL and older
/// clients send for CQL2 text (`cql-text`).
fn filter_lang(lang: &str) -> Option<&'static str> {
    match lang.trim() {
        "cql2-text" | "cql-text" => Some("cql2-text"),
        "cql2-json" => Some("cql2-json"),
        _ => None,
    }
}

/// What `items` was asked for, parsed and checked.
pub struct Request {
    format: Format,
    query: Query,
    /// Parameters to repeat in paging links (all but limit/offset/f).
    keep: Vec<(String, String)>,
    /// What each served feature looks like.
    shape: Shape,
    /// The filters sent, for the metrics: `cql2`, `property`, `datetime`,
    /// `bbox` joined by `+`, or empty.
    filter_kind: String,
}

/// How served features differ from the stored ones.
#[derive(Debug, Default)]
pub struct Shape {
    /// Only these properties (`properties=`), in this order.
    properties: Option<Vec<String>>,
    /// No geometry (`skipGeometry=true`).
    skip_geometry: bool,
    /// The output system.
    crs: Option<OutCrs>,
}

impl Shape {
    fn out_crs(&self) -> OutCrs {
        self.crs.unwrap_or(OutCrs::Crs84)
    }

    /// Whether features must be re-encoded rather than copied.
    fn reshapes(&self) -> bool {
        self.properties.is_some() || self.skip_geometry || self.out_crs() != OutCrs::Crs84
    }
}

/// The property names a request may use in `properties`: the layer's
/// fields and the photo properties.
fn output_properties(layer: &LayerIndex) -> Vec<String> {
    let mut names: Vec<String> = super::queryables_of(layer).keys().cloned().collect();
    for extra in [PHOTOS_PROPERTY, PHOTO_URL_PROPERTY] {
        if !names.iter().any(|n| n == extra) {
            names.push(extra.to_owned());
        }
    }
    names
}

fn parse_crs(name: &str, value: &str) -> ApiResult<OutCrs> {
    OutCrs::parse(value).ok_or_else(|| {
        let list = crs::offered().join(", ");
        bad(format!(
            "{name} {value:?} tidak didukung; pilih salah satu: {list}. / {name} {value:?} is not supported; use one of: {list}."
        ))
    })
}

fn parse_sortby(text: &str, layer: &LayerIndex) -> ApiResult<Vec<SortKey>> {
    let fields = super::queryables_of(layer);
    let mut keys = Vec::new();
    for part in text.split(',') {
        // A `+` left unescaped in the URL arrives as a space.
        let part = part.trim_end();
        let (descending, name) = match part.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, part.trim_start().trim_start_matches('+')),
        };
        let name = name.trim();
        if !fields.contains_key(name) {
            let list: Vec<&str> = fields.keys().map(String::as_str).collect();
            let list = list.join(", ");
            return Err(bad(format!(
                "sortby: {name:?} bukan properti yang bisa diurutkan; yang bisa: {list}. / sortby: {name:?} is not a sortable property; sortables: {list}."
            )));
        }
        keys.push(SortKey {
            property: name.to_owned(),
            descending,
        });
    }
    if keys.len() > MAX_SORT_KEYS {
        return Err(bad(format!(
            "sortby memuat lebih dari {MAX_SORT_KEYS} kunci. / sortby has more than {MAX_SORT_KEYS} keys."
        )));
    }
    Ok(keys)
}

/// `bbox` in the system `bbox-crs` names, as a CRS84 box.
fn parse_bbox(s: &str, crs: OutCrs) -> ApiResult<Bbox> {
    let invalid = |e: String| ApiError::bad_request("invalid-bbox", e);
    if crs == OutCrs::Crs84 {
        return s.parse::<Bbox>().map_err(|e| invalid(e.to_string()));
    }
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>().ok().filter(|n| n.is_finite()))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| {
            invalid(format!(
                "bbox {s:?} harus berupa 4 atau 6 angka. / bbox {s:?} must be 4 or 6 numbers."
            ))
        })?;
    let corners = match v.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        [a, b, _, d, e, _] => [*a, *b, *d, *e],
        _ => {
            return Err(invalid(format!(
                "bbox {s:?} harus berupa 4 atau 6 angka. / bbox {s:?} must be 4 or 6 numbers."
            )));
        }
    };
    let b = crs.bbox_to_crs84(corners).ok_or_else(|| {
        invalid(format!(
            "bbox {s:?} tidak bisa diubah dari {}. / bbox {s:?} cannot be reprojected from {}.",
            crs.uri(),
            crs.uri()
        ))
    })?;
    // Checked as a CRS84 box: latitude order, ranges.
    format!(
        "{},{},{},{}",
        b.minx.clamp(-180.0, 180.0),
        b.miny.clamp(-90.0, 90.0),
        b.maxx.clamp(-180.0, 180.0),
        b.maxy.clamp(-90.0, 90.0)
    )
    .parse::<Bbox>()
    .map_err(|e| invalid(e.to_string()))
}

fn parse_request(
    layer: &LayerIndex,
    raw: Option<&str>,
    headers: &HeaderMap,
    state: &AppState,
) -> ApiResult<Request> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let queryables = super::queryables_of(layer);
    // Unknown parameters are refused (Part 1, /req/core/query-param-unknown)
    // rather than ignored: a misspelt filter must not answer the whole layer.
    if let Some((k, _)) = pairs
        .iter()
        .find(|(k, _)| !RESERVED.contains(&k.as_str()) && !queryables.contains_key(k))
    {
        // The name as the client wrote it, short, and unable to split the
        // two languages apart.
        let k: String = k.chars().take(64).collect::<String>().replace(" / ", " ∕ ");
        let mut allowed: Vec<&str> = RESERVED.to_vec();
        allowed.extend(queryables.keys().map(String::as_str));
        let allowed = allowed.join(", ");
        return Err(ApiError::bad_request(
            "unknown-parameter",
            format!(
                "Parameter {k:?} tidak dikenal; yang boleh: {allowed}. / Unknown parameter {k:?}; allowed: {allowed}."
            ),
        ));
    }
    let get = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let format = negotiate(
        get("f"),
        headers,
        &[Format::Json, Format::Html, Format::Fgb],
    )?;
    let cfg = &state.config;
    let limit = int_param("limit", get("limit"), cfg.default_limit, 1, cfg.max_limit)?;
    let offset = int_param("offset", get("offset"), 0, 0, u32::MAX as usize)?;
    let bbox_crs = get("bbox-crs")
        .map(|c| parse_crs("bbox-crs", c))
        .transpose()?;
    let out_crs = get("crs").map(|c| parse_crs("crs", c)).transpose()?;
    if let Some(c) = get("filter-crs")
        && OutCrs::parse(c) != Some(OutCrs::Crs84)
    {
        return Err(bad(format!(
            "filter-crs {c:?} tidak didukung: hanya {CRS84}. / filter-crs {c:?} is not supported: only {CRS84} is."
        )));
    }
    let bbox = get("bbox")
        .map(|s| parse_bbox(s, bbox_crs.unwrap_or(OutCrs::Crs84)))
        .transpose()?;
    let datetime = match get("datetime") {
        None => None,
        Some(s) => Some(Datetime::parse(s, layer.data.fields(), &layer.meta.id)?),
    };
    let sort = get("sortby")
        .map(|s| parse_sortby(s, layer))
        .transpose()?
        .unwrap_or_default();
    let properties = match get("properties") {
        None => None,
        Some(list) => {
            let known = output_properties(layer);
            let mut names = Vec::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if !known.iter().any(|k| k == name) {
                    let list = known.join(", ");
                    return Err(bad(format!(
                        "properties: {name:?} bukan properti koleksi ini; yang ada: {list}. / properties: {name:?} is not a property of this collection; properties: {list}."
                    )));
                }
                names.push(name.to_owned());
            }
            Some(names)
        }
    };
    let skip_geometry = match get("skipGeometry").map(str::trim) {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            return Err(bad(format!(
                "skipGeometry harus true atau false, bukan {v:?}. / skipGeometry must be true or false, not {v:?}."
            )));
        }
    };
    let shape = Shape {
        properties,
        skip_geometry,
        crs: out_crs,
    };
    if format == Format::Fgb && shape.reshapes() {
        return Err(bad(
            "FlatGeobuf (f=fgb) selalu memuat semua properti dan geometri dalam CRS84; pakai f=json untuk crs, properties dan skipGeometry. / FlatGeobuf (f=fgb) always carries every property and the geometry in CRS84; use f=json for crs, properties and skipGeometry.",
        ));
    }
    let mut parts: Vec<Node> = Vec::new();
    if let Some(text) = get("filter") {
        if text.len() > MAX_FILTER_BYTES {
            return Err(bad(format!(
                "filter lebih dari {MAX_FILTER_BYTES} byte. / filter is longer than {MAX_FILTER_BYTES} bytes."
            )));
        }
        let lang = match get("filter-lang") {
            None => "cql2-text",
            Some(l) => filter_lang(l).ok_or_else(|| {
                bad(format!(
                    "filter-lang harus cql2-text (atau cql-text) atau cql2-json, bukan {l:?}. / filter-lang must be cql2-text (or cql-text) or cql2-json, not {l:?}."
                ))
            })?,
        };
        parts.push(cql::compile_isolated(text, lang, queryables)?);
    } else if let Some(lang) = get("filter-lang")
        && filter_lang(lang).is_none()
    {
        return Err(bad(format!(
            "filter-lang harus cql2-text (atau cql-text) atau cql2-json, bukan {lang:?}. / filter-lang must be cql2-text (or cql-text) or cql2-json, not {lang:?}."
        )));
    }
    let mut keep = Vec::new();
    for (k, v) in &pairs {
        if RESERVED.contains(&k.as_str()) {
            if !matches!(k.as_str(), "f" | "limit" | "offset") {
                keep.push((k.clone(), v.clone()));
            }
            continue;
        }
        let Some(t) = queryables.get(k) else {
            continue;
        };
        let value = match cql::Type::of_field(t) {
            cql::Type::String => Operand::Str(v.clone()),
            cql::Type::Number => Operand::Num(
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| {
                        bad(format!(
                            "{k} adalah properti angka; {v:?} bukan angka. / {k} is a number property; {v:?} is not a number."
                        ))
                    })?,
            ),
            cql::Type::Boolean => match v.trim() {
                "true" => Operand::Bool(true),
                "false" => Operand::Bool(false),
                _ => {
                    return Err(bad(format!(
                        "{k} adalah properti boolean; pakai true atau false, bukan {v:?}. / {k} is a boolean property; use true or false, not {v:?}."
                    )));
                }
            },
        };
        parts.push(Node::Compare(
            Cmp::Eq,
            Operand::Prop(k.clone(), cql::Type::of_field(t)),
            value,
        ));
        keep.push((k.clone(), v.clone()));
    }
    let cql2 = get("filter").is_some();
    let property = parts.len() > usize::from(cql2);
    let filter_kind = [
        (cql2, "cql2"),
        (property, "property"),
        (datetime.is_some(), "datetime"),
        (bbox.is_some(), "bbox"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| *name)
    .collect::<Vec<_>>()
    .join("+");
    let filter = match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Node::And(parts)),
    };
    Ok(Request {
        format,
        query: Query {
            bbox,
            datetime,
            filter,
            limit,
            offset,
            sort,
            ..Query::default()
        },
        keep,
        shape,
        filter_kind,
    })
}

/// Whether the layer's features may carry a relative `photo_url` to make
/// absolute (only layers that ever had photos do).
fn has_photos(layer: &LayerIndex) -> bool {
    layer.data.version.photos_rev > 0
}

/// The stored feature `bytes` with a relative `photo_url` made absolute
/// under `base` (no copy when there is none).
fn absolute_photo_url<'a>(bytes: &'a [u8], base: &str) -> std::borrow::Cow<'a, [u8]> {
    const KEY: &[u8] = br#""photo_url":"/"#;
    if base.is_empty() {
        return bytes.into();
    }
    match bytes.windows(KEY.len()).rposition(|w| w == KEY) {
        Some(at) => {
            let cut = at + KEY.len() - 1;
            let mut out = Vec::with_capacity(bytes.len() + base.len());
            out.extend_from_slice(&bytes[..cut]);
            out.extend_from_slice(base.as_bytes());
            out.extend_from_slice(&bytes[cut..]);
            out.into()
        }
        None => bytes.into(),
    }
}

/// One feature as served: the stored bytes, or re-encoded for `shape`.
fn shaped_feature(
    bytes: &[u8],
    shape: &Shape,
    transform: Option<&Transform>,
    base: &str,
) -> Vec<u8> {
    let bytes = absolute_photo_url(bytes, base);
    if !shape.reshapes() {
        return bytes.into_owned();
    }
    let Ok(mut f) = serde_json::from_slice::<Value>(&bytes) else {
        return bytes.into_owned();
    };
    if shape.skip_geometry {
        f["geometry"] = Value::Null;
    } else if let Some(t) = transform
        && let Some(g) = f.get_mut("geometry")
        && !t.geometry(g)
    {
        // Outside the system's domain: no geometry rather than a wrong one.
        *g = Value::Null;
    }
    if let Some(names) = &shape.properties
        && let Some(Value::Object(props)) = f.get_mut("properties")
    {
        let mut kept = serde_json::Map::new();
        for n in names {
            if let Some(v) = props.remove(n) {
                kept.insert(n.clone(), v);
            }
        }
        *props = kept;
    }
    serde_json::to_vec(&f).unwrap_or_default()
}

/// The features of a page as served, each re-encoded when `shape` or the
/// photos ask for it.
fn shaped_page(layer: &LayerIndex, page: &[u32], shape: &Shape, base: &str) -> Vec<Vec<u8>> {
    let transform = shape.out_crs().transformer();
    page.iter()
        .map(|&i| shaped_feature(layer.data.feature_bytes(i), shape, transform.as_ref(), base))
        .collect()
}

/// `GET /ogc/collections/{id}/items`.
pub async fn items(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let layer = visible_layer(&state.catalog.snapshot(), &who, &id)?;
    let req = parse_request(&layer, raw.as_deref(), &headers, &state)?;
    let caching = Caching::new(
        &format!("ogc-items-{}-{:?}", layer_tag(&layer, &who), req.format),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let (layer, req, page) = if req.query.is_light(&layer.data) {
        let p = select_page(&layer.data, &req.query);
        (layer, req, p)
    } else {
        tokio::task::spawn_blocking(move || {
            let p = select_page(&layer.data, &req.query);
            (layer, req, p)
        })
        .await
        .map_err(ApiError::internal)?
    };
    let number_matched = page.number_matched;
    let (limit, offset) = (req.query.limit, req.query.offset);
    let page_next = page.next;
    let page = page.items;
    let page_len = page.len();
    state.metrics.record_ogc_items(&req.filter_kind, page_len);
    tracing::debug!(layer = %layer.meta.id, filter = %req.filter_kind, features = page_len, query = raw.as_deref().unwrap_or(""), "ogc items");

    let base = base_url(&state, &headers);
    let href = |off: usize, f: &str| {
        let mut qs = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &req.keep {
            qs.append_pair(k, v);
        }
        qs.append_pair("limit", &limit.to_string());
        qs.append_pair("offset", &off.to_string());
        if !f.is_empty() {
            qs.append_pair("f", f);
        }
        format!(
            "{base}/ogc/collections/{}/items?{}",
            layer.meta.id,
            qs.finish()
        )
    };
    let (self_f, self_type) = match req.format {
        Format::Json => ("json", GEOJSON),
        Format::Html => ("html", "text/html"),
        Format::Fgb => ("fgb", layers::export::fgb::MEDIA_TYPE),
    };
    let mut links = vec![link("self", self_type, href(offset, self_f), "this page")];
    for (f, ty) in [
        ("json", GEOJSON),
        ("html", "text/html"),
        ("fgb", layers::export::fgb::MEDIA_TYPE),
    ] {
        // FlatGeobuf is always the whole feature in CRS84.
        if f != self_f && !(f == "fgb" && req.shape.reshapes()) {
            links.push(link("alternate", ty, href(offset, f), "this page"));
        }
    }
    let (next_f, next_type) = if req.format == Format::Html {
        ("html", "text/html")
    } else {
        ("", GEOJSON)
    };
    if let Some(next) = page_next {
        links.push(link("next", next_type, href(next, next_f), "next page"));
    }
    if offset > 0 {
        links.push(link(
            "prev",
            next_type,
            href(offset.saturating_sub(limit), next_f),
            "previous page",
        ));
    }
    links.push(link(
        "collection",
        "application/json",
        format!("{base}/ogc/collections/{}", layer.meta.id),
        "the collection",
    ));
    let stamp = layers::clock::stamp();
    let content_crs = req.shape.out_crs().header();
    match req.format {
        Format::Json => {
            let head = format!(
                r#"{{"type":"FeatureCollection","numberMatched":{number_matched},"numberReturned":{},"timeStamp":"{stamp}","links":{},"features":["#,
                page.len(),
                Value::Array(links)
            );
            let body = if !req.shape.reshapes() && !has_photos(&layer) {
                // The fast path: the stored bytes, copied or streamed.
                feature_list_body(layer, head.into_bytes(), page, b"]}")
            } else {
                let shape = req.shape;
                let encode = move || {
                    let features = shaped_page(&layer, &page, &shape, &base);
                    let mut out = head.into_bytes();
                    for (n, f) in features.iter().enumerate() {
                        if n > 0 {
                            out.push(b',');
                        }
                        out.extend_from_slice(f);
                    }
                    out.extend_from_slice(b"]}");
                    out
                };
                let bytes = if page_len <= INLINE_SHAPE {
                    encode()
                } else {
                    tokio::task::spawn_blocking(encode)
                        .await
                        .map_err(ApiError::internal)?
                };
                Body::from(bytes)
            };
            let mut res = respond(body, GEOJSON, &caching);
            insert_content_crs(&mut res, &content_crs);
            Ok(negotiated(res))
        }
        Format::Html => {
            let features: Vec<Value> = shaped_page(&layer, &page, &req.shape, &base)
                .iter()
                .filter_map(|f| serde_json::from_slice(f).ok())
                .collect();
            let doc = json!({
                "title": layer.meta.title_id,
                "id": layer.meta.id,
                "numberMatched": number_matched,
                "numberReturned": page.len(),
                "links": links,
            });
            let mut res = super::html_body(html::items(&doc, &features), &caching);
            insert_content_crs(&mut res, &content_crs);
            Ok(res)
        }
        Format::Fgb => {
            let name = layer.meta.id.clone();
            let bytes = tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                layers::export::fgb::write(&layer.data, &page, &name, &mut out).map(|()| out)
            })
            .await
            .map_err(ApiError::internal)??;
            let mut res = respond(Body::from(bytes), layers::export::fgb::MEDIA_TYPE, &caching);
            res.headers_mut()
                .insert("OGC-NumberMatched", number_matched.into());
            Ok(negotiated(res))
        }
    }
}

/// Pages of at most this many features are re-encoded on the async worker.
const INLINE_SHAPE: usize = 200;

/// Says in which system the coordinates are (Part 2, `Content-Crs`).
fn insert_content_crs(res: &mut Response, value: &str) {
    if let Ok(v) = axum::http::HeaderValue::from_str(value) {
        res.headers_mut().insert("Content-Crs", v);
    }
}

/// `?f=` and `?crs=` of one item; other parameters are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemParams {
    f: Option<String>,
    crs: Option<String>,
}

/// `GET /ogc/collections/{id}/items/{fid}`: one feature, with `self` and
/// `collection` links.
pub async fn item(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((id, fid)): ApiPath<(String, String)>,
    crate::extract::ApiQuery(p): crate::extract::ApiQuery<ItemParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let layer: Arc<LayerIndex> = visible_layer(&state.catalog.snapshot(), &who, &id)?;
    let format = negotiate(
        p.f.as_deref(),
        &headers,
        &[Format::Json, Format::Html, Format::Fgb],
    )?;
    let shape = Shape {
        crs: p.crs.as_deref().map(|c| parse_crs("crs", c)).transpose()?,
        ..Shape::default()
    };
    if format == Format::Fgb && shape.reshapes() {
        return Err(bad(
            "FlatGeobuf (f=fgb) selalu dalam CRS84; pakai f=json untuk crs. / FlatGeobuf (f=fgb) is always in CRS84; use f=json for crs.",
        ));
    }
    let index = layer
        .data
        .find(&fid)
        .ok_or_else(|| ApiError::no_feature(&id, &fid))?;
    let caching = Caching::new(
        &format!("ogc-item-{}-{format:?}", layer_tag(&layer, &who)),
        who.is_anonymous(),
    );
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let base = base_url(&state, &headers);
    let fid_enc: String = form_urlencoded::byte_serialize(fid.as_bytes()).collect();
    let me = format!("{base}/ogc/collections/{}/items/{fid_enc}", layer.meta.id);
    let links = json!([
        link("self", GEOJSON, me.clone(), "this feature"),
        link(
            "alternate",
            "text/html",
            format!("{me}?f=html"),
            "this feature as HTML"
        ),
        link(
            "collection",
            "application/json",
            format!("{base}/ogc/collections/{}", layer.meta.id),
            "the collection"
        ),
    ]);
    let content_crs = shape.out_crs().header();
    let transform = shape.out_crs().transformer();
    let served = shaped_feature(
        layer.data.feature_bytes(index),
        &shape,
        transform.as_ref(),
        &base,
    );
    match format {
        Format::Json => {
            // The feature ends with its closing brace: add the links before it.
            let bytes = &served;
            let mut out = Vec::with_capacity(bytes.len() + 512);
            match bytes.iter().rposition(|&b| b == b'}') {
                Some(end) => {
                    out.extend_from_slice(&bytes[..end]);
                    out.extend_from_slice(br#","links":"#);
                    out.extend_from_slice(links.to_string().as_bytes());
                    out.extend_from_slice(&bytes[end..]);
                }
                None => out.extend_from_slice(bytes),
            }
            let mut res = respond(Body::from(out), GEOJSON, &caching);
            insert_content_crs(&mut res, &content_crs);
            Ok(negotiated(res))
        }
        Format::Html => {
            let feature: Value = serde_json::from_slice(&served).unwrap_or(Value::Null);
            let mut res = super::html_body(
                html::item(&layer.meta.id, &layer.meta.title_id, &feature),
                &caching,
            );
            insert_content_crs(&mut res, &content_crs);
            Ok(res)
        }
        Format::Fgb => {
            let name = layer.meta.id.clone();
            let bytes = tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                layers::export::fgb::write(&layer.data, &[index], &name, &mut out).map(|()| out)
            })
            .await
            .map_err(ApiError::internal)??;
            let mut res = respond(Body::from(bytes), layers::export::fgb::MEDIA_TYPE, &caching);
            res.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                axum::http::HeaderValue::from_static("inline"),
            );
            Ok(negotiated(res))
        }
    }
}
