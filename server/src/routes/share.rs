//! Sharing one place: `GET /p/{layer}/{fid}`, a small page for link
//! previews (Open Graph and Twitter card tags) that sends the browser on to
//! the map at `/#feature=LAYER/FID`, and
//! `GET /api/layers/{id}/features/{fid}/qr.svg`, a printable QR code of
//! that page's address.
//!
//! Both answer only for features the caller may see ([`visible_layer`]):
//! an internal, unpublished or missing layer is the same 404 problem JSON
//! as on every other route. Absolute addresses are built like the OGC
//! API's ([`base_url`]: `--public-url`, else the request's `Host`), so the
//! routes sit behind [`super::ogc::host_links`] (`Vary: Host`, tags naming
//! the host).

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use layers::LayerIndex;
use layers::store::photos::PHOTOS_PROPERTY;
use qrcodegen::{QrCode, QrCodeEcc};
use serde_json::{Map, Value};

use super::ogc::base_url;
use crate::auth::{Principal, visible_layer};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiPath;
use crate::http::{Caching, layer_tag, respond};
use crate::state::AppState;

/// Modules of white around the code: the 4 the QR standard asks for.
const QUIET_ZONE: i32 = 4;

/// The share page's policy: no scripts at all, styles and images only
/// from this server, never framed (stricter than the viewer's, which it
/// links to).
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                        base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The QR code's policy: an image that can load and run nothing.
const SVG_CSP: &str = "default-src 'none'; sandbox";

/// Encodes one path segment (or a hash part) of a URL: everything but the
/// unreserved characters of RFC 3986 as `%XX`.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

pub use crate::http::esc;

/// The path of the share page of feature `fid` of `layer`.
pub fn share_path(layer: &str, fid: &str) -> String {
    format!("/p/{}/{}", segment(layer), segment(fid))
}

/// The map's address showing feature `fid` of `layer` (relative).
pub fn map_path(layer: &str, fid: &str) -> String {
    format!("/#feature={}/{}", segment(layer), segment(fid))
}

/// The layer and the handle of the feature, if `who` may see them.
fn visible_feature(
    state: &AppState,
    who: &Principal,
    id: &str,
    fid: &str,
) -> ApiResult<(std::sync::Arc<LayerIndex>, u32)> {
    let layer = visible_layer(&state.catalog.snapshot(), who, id)?;
    let index = layer
        .data
        .find(fid)
        .ok_or_else(|| ApiError::no_feature(id, fid))?;
    Ok((layer, index))
}

/// Caching of a response built from `layer` for `who` (the host part is
/// added by `host_links`).
fn caching(kind: &str, layer: &LayerIndex, who: &Principal) -> Caching {
    Caching::new(
        &format!("{kind}-{}", layer_tag(layer, who)),
        who.is_anonymous(),
    )
}

/// An SVG of `qr`: one black path on a white square with the quiet zone
/// around it, one user unit per module, scaled by whoever shows it.
pub fn qr_svg(qr: &QrCode) -> String {
    let size = qr.size();
    let full = size + 2 * QUIET_ZONE;
    let mut path = String::new();
    for y in 0..size {
        let mut x = 0;
        while x < size {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            // One horizontal run of dark modules per subpath.
            let start = x;
            while x < size && qr.get_module(x, y) {
                x += 1;
            }
            let _ = write!(
                path,
                "M{},{}h{}v1h-{}z",
                start + QUIET_ZONE,
                y + QUIET_ZONE,
                x - start,
                x - start
            );
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 {full} {full}\" \
         width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\">\n\
         <rect width=\"{full}\" height=\"{full}\" fill=\"#ffffff\"/>\n\
         <path d=\"{path}\" fill=\"#000000\"/>\n</svg>\n",
        px = full * 8
    )
}

/// `GET /api/layers/{id}/features/{fid}/qr.svg`: a QR code of the
/// feature's share page (`/p/{id}/{fid}`, absolute), black on white with a
/// quiet zone, to print.
pub async fn qr(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((id, fid)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (layer, _) = visible_feature(&state, &who, &id, &fid)?;
    let caching = caching("qr", &layer, &who);
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let url = format!(
        "{}{}",
        base_url(&state, &headers),
        share_path(&layer.meta.id, &fid)
    );
    let code = QrCode::encode_text(&url, QrCodeEcc::Medium).map_err(|_| {
        ApiError::bad_request(
            "invalid-parameter",
            "the feature's address is too long for a QR code",
        )
    })?;
    let mut res = respond(qr_svg(&code).into(), "image/svg+xml", &caching);
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SVG_CSP),
    );
    Ok(res)
}

/// Text of a property value for the page (strings as they are, numbers as
/// written, nothing for objects and empty values).
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The address of the first photo of a feature with `props`, if it has one.
fn first_photo(props: &Map<String, Value>) -> Option<&str> {
    props
        .get(PHOTOS_PROPERTY)?
        .as_array()?
        .iter()
        .filter_map(|p| p.get("url")?.as_str())
        .find(|u| u.starts_with("/api/photos/"))
}

/// What the share page says about one feature.
struct Card {
    title: String,
    description: String,
    url: String,
    image: Option<String>,
    map: String,
}

fn card(base: &str, layer: &LayerIndex, index: u32, fid: &str) -> Card {
    let props: Map<String, Value> =
        serde_json::from_slice(layer.data.properties_bytes(index)).unwrap_or_default();
    let meta = &layer.meta;
    let title = layer
        .data
        .name(index)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} {fid}", meta.title_id));
    let mut description = meta.title_id.clone();
    if !meta.title_en.is_empty() && meta.title_en != meta.title_id {
        let _ = write!(description, " ({})", meta.title_en);
    }
    if let Some(k) = text_of(props.get("kecamatan")) {
        let _ = write!(description, " · Kecamatan {k}");
    }
    description.push_str(" · Peta Badung Smart City");
    Card {
        title,
        description,
        url: format!("{base}{}", share_path(&meta.id, fid)),
        image: first_photo(&props).map(|u| format!("{base}{u}")),
        map: map_path(&meta.id, fid),
    }
}

fn page(c: &Card) -> String {
    let mut tags = String::new();
    let mut meta = |attr: &str, key: &str, value: &str| {
        let _ = writeln!(tags, "<meta {attr}=\"{key}\" content=\"{}\">", esc(value));
    };
    meta("property", "og:type", "website");
    meta("property", "og:site_name", "Peta Badung Smart City");
    meta("property", "og:locale", "id_ID");
    meta("property", "og:title", &c.title);
    meta("property", "og:description", &c.description);
    meta("property", "og:url", &c.url);
    if let Some(img) = &c.image {
        meta("property", "og:image", img);
    }
    let card = if c.image.is_some() {
        "summary_large_image"
    } else {
        "summary"
    };
    meta("name", "twitter:card", card);
    meta("name", "twitter:title", &c.title);
    meta("name", "twitter:description", &c.description);
    if let Some(img) = &c.image {
        meta("name", "twitter:image", img);
    }
    meta("name", "description", &c.description);
    let map = esc(&c.map);
    format!(
        "<!doctype html>\n<html lang=\"id\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · Peta Badung Smart City</title>\n\
         <link rel=\"canonical\" href=\"{url}\">\n\
         <link rel=\"icon\" href=\"/web/icon.svg\" type=\"image/svg+xml\">\n{tags}\
         <meta http-equiv=\"refresh\" content=\"0; url={map}\">\n\
         <link rel=\"stylesheet\" href=\"/web/style.css\">\n</head>\n<body class=\"share-page\">\n\
         <h1>{title}</h1>\n<p>{description}</p>\n\
         <p><a href=\"{map}\">Buka di peta</a> · <a href=\"{map}\" lang=\"en\">Open on the map</a></p>\n\
         </body>\n</html>\n",
        title = esc(&c.title),
        url = esc(&c.url),
        description = esc(&c.description),
    )
}

/// `GET /p/{layer}/{fid}`: the share page of one feature: Open Graph and
/// Twitter card tags for link previews, and a refresh (no script) on to
/// the map at `/#feature={layer}/{fid}`.
pub async fn share_page(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((id, fid)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (layer, index) = visible_feature(&state, &who, &id, &fid)?;
    let caching = caching("share", &layer, &who);
    if let Some(r) = caching.not_modified(&headers) {
        return Ok(r);
    }
    let c = card(&base_url(&state, &headers), &layer, index, &fid);
    let mut res = respond(page(&c).into(), "text/html; charset=utf-8", &caching);
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_text_are_escaped() {
        assert_eq!(segment("pura"), "pura");
        assert_eq!(segment("a b/c&d#é"), "a%20b%2Fc%26d%23%C3%A9");
        assert_eq!(share_path("pura", "12"), "/p/pura/12");
        assert_eq!(map_path("pura", "x/y"), "/#feature=pura/x%2Fy");
        assert_eq!(
            esc(r#"<script>"a" & 'b'"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;"
        );
    }

    #[test]
    fn the_svg_has_a_quiet_zone_and_only_dark_modules_drawn() {
        let Ok(code) = QrCode::encode_text("https://peta.example/p/pura/1", QrCodeEcc::Medium)
        else {
            panic!("encodable");
        };
        let svg = qr_svg(&code);
        let full = code.size() + 2 * QUIET_ZONE;
        assert!(svg.contains(&format!("viewBox=\"0 0 {full} {full}\"")));
        // The top-left finder starts at the quiet zone's edge.
        assert!(svg.contains(&format!("M{QUIET_ZONE},{QUIET_ZONE}h7")));
    }
}
