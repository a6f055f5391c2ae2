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
use layers::query::{Query, select_page};
use layers::{Bbox, LayerIndex};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CRS84, Format, base_url, html, link, negotiate, negotiated};
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
    query: Query,
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
    let datetime = match get("datetime") {
        None => None,
        Some(s) => Some(Datetime::parse(s, layer.data.fields(), &layer.meta.id)?),
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
        parts.push(cql::compile_isolated(text, lang, queryables)?);
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
        query: Query {
            bbox,
            datetime,
            filter,
            limit,
            offset,
            ..Query::default()
        },
        keep,
    })
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
        if f != self_f {
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
