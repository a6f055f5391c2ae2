//! `/ogc/collections/{id}/items` and `/ogc/collections/{id}/items/{fid}`.
//!
//! Selection: the R-tree (`bbox`, or the envelope of a spatial filter),
//! then per candidate the `datetime`, property equality and CQL2 filters,
//! evaluated in Rust against the feature's parsed properties and geometry.
//! The page is streamed from the pre-encoded feature bytes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use layers::index::Query;
use layers::{Bbox, LayerIndex};
use serde::Deserialize;
use serde_json::{Value, json};

use super::cql::{self, Candidate, Cmp, Node, Operand};
use super::{CRS84, Format, base_url, html, link, negotiate, negotiated, time};
use crate::auth::{Principal, visible_layer};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, int_param};
use crate::http::layer_tag;
use crate::http::{Caching, GEOJSON, feature_list_body, respond};
use crate::state::AppState;

/// Query parameters with a meaning of their own; any other parameter
/// naming a queryable is an equality filter, the rest are ignored.
const RESERVED: &[&str] = &[
    "f",
    "bbox",
    "bbox-crs",
    "limit",
    "offset",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "crs",
];

/// Candidate sets larger than this are filtered on the blocking pool.
const INLINE_FILTER: usize = 2_000;
/// Selections expected to look at more features than this run on the blocking pool.
const INLINE_SELECT: usize = 20_000;
/// Stack of the thread that parses a filter.
const PARSE_STACK: usize = 64 << 20;
/// The longest filter accepted, in bytes.
const MAX_FILTER_BYTES: usize = 64 * 1024;

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid-parameter", detail)
}

fn is_crs84(s: &str) -> bool {
    let s = s.trim();
    s == CRS84
        || s == "https://www.opengis.net/def/crs/OGC/1.3/CRS84"
        || s.eq_ignore_ascii_case("[OGC:CRS84]")
        || s.eq_ignore_ascii_case("OGC:CRS84")
}

/// What `items` was asked for, parsed and checked.
struct Request {
    format: Format,
    limit: usize,
    offset: usize,
    bbox: Option<Bbox>,
    datetime: Option<(i64, i64)>,
    time: Option<(&'static str, time::TimeKind)>,
    filter: Option<Node>,
    /// Parameters to repeat in paging links (all but limit/offset/f).
    keep: Vec<(String, String)>,
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
    if let Some(c) = get("bbox-crs")
        && !is_crs84(c)
    {
        return Err(bad(format!(
            "bbox-crs {c:?} is not supported: only {CRS84} (longitude, latitude) is"
        )));
    }
    if let Some(c) = get("crs")
        && !is_crs84(c)
    {
        return Err(bad(format!("crs {c:?} is not supported: only {CRS84} is")));
    }
    if let Some(c) = get("filter-crs")
        && !is_crs84(c)
    {
        return Err(bad(format!(
            "filter-crs {c:?} is not supported: only {CRS84} is"
        )));
    }
    let bbox = match get("bbox") {
        None => None,
        Some(s) => {
            // Six numbers (with heights) are allowed; the heights are ignored.
            let parts: Vec<&str> = s.split(',').collect();
            let s2 = if parts.len() == 6 {
                format!("{},{},{},{}", parts[0], parts[1], parts[3], parts[4])
            } else {
                s.to_owned()
            };
            Some(
                s2.parse::<Bbox>()
                    .map_err(|e| ApiError::bad_request("invalid-bbox", e.to_string()))?,
            )
        }
    };
    let time = time::time_property(layer.data.fields());
    let datetime = match get("datetime") {
        None => None,
        Some(s) => {
            if time.is_none() {
                return Err(bad(format!(
                    "datetime cannot be used on collection {:?}: it has no time property (one of {})",
                    layer.meta.id,
                    time::TIME_PROPERTIES
                        .iter()
                        .map(|(n, _, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            Some(time::parse_param(s).map_err(bad)?)
        }
    };
    let queryables = super::queryables_of(layer);
    let mut parts: Vec<Node> = Vec::new();
    if let Some(text) = get("filter") {
        if text.len() > MAX_FILTER_BYTES {
            return Err(bad(format!(
                "filter is longer than {MAX_FILTER_BYTES} bytes"
            )));
        }
        let lang = get("filter-lang").unwrap_or("cql2-text");
        // The parser is recursive: it runs on a thread with a large stack
        // (the filter's nesting is also limited), and a panic in it is a bad filter.
        let node = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("cql2-parse".into())
                .stack_size(PARSE_STACK)
                .spawn_scoped(scope, || cql::compile(text, lang, queryables))
                .map(|h| h.join())
        })
        .map_err(ApiError::internal)?
        .unwrap_or_else(|_| {
            Err(cql::FilterError(
                "the filter could not be parsed".to_owned(),
            ))
        })
        .map_err(|e| ApiError::bad_request("invalid-filter", e.0))?;
        parts.push(node);
    } else if let Some(lang) = get("filter-lang")
        && lang != "cql2-text"
        && lang != "cql2-json"
    {
        return Err(bad(format!(
            "filter-lang must be cql2-text or cql2-json, got {lang:?}"
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
                        bad(format!("{k} is a number property; {v:?} is not a number"))
                    })?,
            ),
            cql::Type::Boolean => match v.trim() {
                "true" => Operand::Bool(true),
                "false" => Operand::Bool(false),
                _ => {
                    return Err(bad(format!(
                        "{k} is a boolean property; use true or false, not {v:?}"
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
    let filter = match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Node::And(parts)),
    };
    Ok(Request {
        format,
        limit,
        offset,
        bbox,
        datetime,
        time,
        filter,
        keep,
    })
}

#[derive(Deserialize)]
struct Parsed {
    #[serde(default)]
    properties: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    geometry: Option<geojson::Geometry>,
}

#[derive(Deserialize)]
struct PropsOnly {
    #[serde(default)]
    properties: Option<serde_json::Map<String, Value>>,
}

/// The features of `layer` that match `req`, in the stable order of
/// [`layers::index::LayerData::select`].
fn matching(layer: &LayerIndex, req: &Request) -> Vec<u32> {
    let pre = req
        .bbox
        .or_else(|| req.filter.as_ref().and_then(Node::envelope));
    let candidates = layer.data.select(&Query {
        bbox: pre,
        name_contains: None,
    });
    if req.filter.is_none() && req.datetime.is_none() {
        return candidates;
    }
    let geometry = req.filter.as_ref().is_some_and(Node::needs_geometry);
    candidates
        .into_iter()
        .filter(|&i| {
            let bytes = layer.data.feature_bytes(i);
            let (props, geom) = if geometry {
                match serde_json::from_slice::<Parsed>(bytes) {
                    Ok(p) => (
                        p.properties,
                        p.geometry
                            .and_then(|g| geo::Geometry::<f64>::try_from(g).ok()),
                    ),
                    Err(_) => return false,
                }
            } else {
                match serde_json::from_slice::<PropsOnly>(bytes) {
                    Ok(p) => (p.properties, None),
                    Err(_) => return false,
                }
            };
            if let (Some((lo, hi)), Some((name, kind))) = (req.datetime, req.time) {
                let t = props
                    .as_ref()
                    .and_then(|p| p.get(name))
                    .and_then(|v| time::of_value(v, kind));
                match t {
                    Some((a, b)) if a <= hi && b >= lo => {}
                    _ => return false,
                }
            }
            match &req.filter {
                None => true,
                Some(f) => {
                    f.eval(&Candidate {
                        properties: props.as_ref(),
                        geometry: geom,
                    }) == Some(true)
                }
            }
        })
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
    let estimate = layer.data.estimate(&Query {
        bbox: req.bbox,
        name_contains: None,
    });
    let heavy = estimate > INLINE_SELECT
        || ((req.filter.is_some() || req.datetime.is_some()) && estimate > INLINE_FILTER);
    let (layer, req, matched) = if heavy {
        tokio::task::spawn_blocking(move || {
            let m = matching(&layer, &req);
            (layer, req, m)
        })
        .await
        .map_err(ApiError::internal)?
    } else {
        let m = matching(&layer, &req);
        (layer, req, m)
    };
    let number_matched = matched.len();
    let start = req.offset.min(number_matched);
    let end = req.offset.saturating_add(req.limit).min(number_matched);
    let page = matched[start..end].to_vec();
    drop(matched);

    let base = base_url(&state, &headers);
    let href = |off: usize, f: &str| {
        let mut qs = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &req.keep {
            qs.append_pair(k, v);
        }
        qs.append_pair("limit", &req.limit.to_string());
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
    let mut links = vec![link(
        "self",
        self_type,
        href(req.offset, self_f),
        "this page",
    )];
    for (f, ty) in [
        ("json", GEOJSON),
        ("html", "text/html"),
        ("fgb", layers::export::fgb::MEDIA_TYPE),
    ] {
        if f != self_f {
            links.push(link("alternate", ty, href(req.offset, f), "this page"));
        }
    }
    let (next_f, next_type) = if req.format == Format::Html {
        ("html", "text/html")
    } else {
        ("", GEOJSON)
    };
    if end < number_matched {
        links.push(link("next", next_type, href(end, next_f), "next page"));
    }
    if req.offset > 0 {
        links.push(link(
            "prev",
            next_type,
            href(req.offset.saturating_sub(req.limit), next_f),
            "previous page",
        ));
    }
    links.push(link(
        "collection",
        "application/json",
        format!("{base}/ogc/collections/{}", layer.meta.id),
        "the collection",
    ));
    let stamp = time::now();
    match req.format {
        Format::Json => {
            let head = format!(
                r#"{{"type":"FeatureCollection","numberMatched":{number_matched},"numberReturned":{},"timeStamp":"{stamp}","links":{},"features":["#,
                page.len(),
                Value::Array(links)
            );
            let body = feature_list_body(layer, head.into_bytes(), page, b"]}");
            Ok(negotiated(respond(body, GEOJSON, &caching)))
        }
        Format::Html => {
            let features: Vec<Value> = page
                .iter()
                .filter_map(|&i| serde_json::from_slice(layer.data.feature_bytes(i)).ok())
                .collect();
            let doc = json!({
                "title": layer.meta.title_id,
                "id": layer.meta.id,
                "numberMatched": number_matched,
                "numberReturned": page.len(),
                "links": links,
            });
            Ok(super::html_body(html::items(&doc, &features), &caching))
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

/// `?f=` of one item.
#[derive(Debug, Deserialize)]
pub struct ItemParams {
    f: Option<String>,
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
    let index = layer
        .data
        .find(&fid)
        .ok_or_else(|| ApiError::not_found(format!("collection {id:?} has no feature {fid:?}")))?;
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
    match format {
        Format::Json => {
            // The stored feature ends with its closing brace: add the links before it.
            let bytes = layer.data.feature_bytes(index);
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
            Ok(negotiated(respond(Body::from(out), GEOJSON, &caching)))
        }
        Format::Html => {
            let feature: Value =
                serde_json::from_slice(layer.data.feature_bytes(index)).unwrap_or(Value::Null);
            Ok(super::html_body(
                html::item(&layer.meta.id, &layer.meta.title_id, &feature),
                &caching,
            ))
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
