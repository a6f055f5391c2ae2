//! HTTP helpers shared by routes: conditional requests and GeoJSON bodies.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use layers::LayerIndex;

use crate::auth::Principal;

/// Media type of GeoJSON (RFC 7946).
pub const GEOJSON: &str = "application/geo+json";

/// Bodies up to this size are built whole (with a Content-Length); larger
/// ones are streamed in chunks of about [`CHUNK`] bytes, so a 10,000-feature
/// page never sits in memory twice.
const WHOLE_BODY_MAX: usize = 1 << 20;
const CHUNK: usize = 256 * 1024;

/// Cache validators and policy for one response.
pub struct Caching {
    /// Weak entity tag, e.g. `W/"pura-v3-public"`.
    pub etag: HeaderValue,
    /// Whether shared caches may store the response.
    pub public: bool,
}

impl Caching {
    /// Validators from a tag that changes whenever the response would.
    pub fn new(tag: &str, public: bool) -> Caching {
        let etag = HeaderValue::from_str(&format!("W/\"{tag}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""));
        Caching { etag, public }
    }

    /// `304 Not Modified` if the request's `If-None-Match` names our tag.
    pub fn not_modified(&self, req: &HeaderMap) -> Option<Response> {
        let inm = req.get(header::IF_NONE_MATCH)?.to_str().ok()?;
        let ours = self.etag.to_str().ok()?;
        let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        let hit = inm.trim() == "*" || inm.split(',').any(|t| strip(t) == strip(ours));
        hit.then(|| {
            let mut res = StatusCode::NOT_MODIFIED.into_response();
            self.apply(res.headers_mut());
            res
        })
    }

    /// Adds `ETag` and `Cache-Control`: cacheable, but revalidated on every
    /// use, so a publish shows at once while unchanged data costs a 304.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(header::ETAG, self.etag.clone());
        let policy = if self.public {
            "public, no-cache"
        } else {
            "private, no-cache"
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
}

/// A response body made of a JSON head, the listed features of one layer
/// separated by commas, and a tail.
pub fn feature_list_body(
    layer: Arc<LayerIndex>,
    head: Vec<u8>,
    indices: Vec<u32>,
    tail: &'static [u8],
) -> Body {
    let data = &layer.data;
    let total = head.len()
        + tail.len()
        + indices
            .iter()
            .map(|&i| data.feature_len(i) + 1)
            .sum::<usize>();
    if total <= WHOLE_BODY_MAX {
        let mut buf = Vec::with_capacity(total);
        buf.extend_from_slice(&head);
        for (n, &i) in indices.iter().enumerate() {
            if n > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(data.feature_bytes(i));
        }
        buf.extend_from_slice(tail);
        return Body::from(buf);
    }
    let chunks = FeatureChunks {
        layer,
        indices,
        next: 0,
        head: Some(Bytes::from(head)),
        tail: Some(tail),
    };
    Body::from_stream(futures_util::stream::iter(
        chunks.map(Ok::<_, std::convert::Infallible>),
    ))
}

struct FeatureChunks {
    layer: Arc<LayerIndex>,
    indices: Vec<u32>,
    next: usize,
    head: Option<Bytes>,
    tail: Option<&'static [u8]>,
}

impl Iterator for FeatureChunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if let Some(h) = self.head.take() {
            return Some(h);
        }
        if self.next < self.indices.len() {
            let mut buf = BytesMut::with_capacity(CHUNK + 4096);
            while self.next < self.indices.len() && buf.len() < CHUNK {
                if self.next > 0 {
                    buf.extend_from_slice(b",");
                }
                buf.extend_from_slice(self.layer.data.feature_bytes(self.indices[self.next]));
                self.next += 1;
            }
            return Some(buf.freeze());
        }
        self.tail.take().map(Bytes::from_static)
    }
}

/// Wraps a body with a content type and caching headers.
pub fn respond(body: Body, content_type: &'static str, caching: &Caching) -> Response {
    let mut res = Response::new(body);
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    caching.apply(res.headers_mut());
    res
}

/// A JSON response with caching headers.
pub fn json_response<T: serde::Serialize>(value: &T, caching: &Caching) -> Response {
    match serde_json::to_vec(value) {
        Ok(v) => respond(Body::from(v), "application/json", caching),
        Err(e) => crate::error::ApiError::internal(e).into_response(),
    }
}

/// The entity tag of everything derived from one served layer version
/// (and its revision: photos, and the edits of a draft being previewed).
pub fn layer_tag(l: &LayerIndex, who: &Principal) -> String {
    let stamp: String = l
        .meta
        .updated_at
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!(
        "{}-{}.{}-{stamp}-{}",
        l.meta.id,
        l.data.version.id,
        l.data.version.photos_rev,
        who.cache_class()
    )
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
