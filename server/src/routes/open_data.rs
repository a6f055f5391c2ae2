//! Open data: `GET /data/catalog.jsonld`, the public layers as a DCAT-AP
//! catalogue in JSON-LD for harvesters (CKAN with ckanext-dcat, as Satu
//! Data Indonesia's portals run), and `GET /data`, the same catalogue as
//! a page to read, in Indonesian and English, with the download links.
//!
//! Both list PUBLIC layers only, whoever asks: the catalogue is for
//! harvesting and linking, and an internal layer never appears in it,
//! not even for a signed-in leader. What is said about each layer comes
//! from [`Dataset::of`] ([`layers::export::dcat`]) with the licence of
//! `--data-licence`. The JSON-LD's links are absolute, built like the OGC
//! API's ([`base_url`]), so the routes sit behind
//! [`super::ogc::host_links`]. The page is server-rendered, every value
//! escaped, under a policy that allows no script.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use layers::Visibility;
use layers::catalog::Snapshot;
use layers::export::dcat::{self, Dataset, Defaults};

use super::ogc::base_url;
use super::share::{esc, segment};
use crate::http::{Caching, respond};
use crate::state::AppState;

/// Media type of the catalogue.
pub const JSONLD: &str = "application/ld+json";

/// The page's policy: no scripts, styles and images from this server only.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                        base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The public layers of `snapshot` as catalogue entries, in display order.
fn datasets(state: &AppState, snapshot: &Snapshot) -> Vec<Dataset> {
    let defaults = Defaults {
        licence: state.config.data_licence.clone(),
    };
    snapshot
        .layers
        .iter()
        .filter(|l| l.meta.visibility == Visibility::Public)
        .map(|l| {
            let category = state.categories.iter().find(|c| c.id == l.meta.category);
            Dataset::of(l, category, &defaults)
        })
        .collect()
}

/// Validators of both documents: the served layers and the licence.
fn caching(what: &str, state: &AppState, snapshot: &Snapshot) -> Caching {
    let licence = layers::hash::fnv1a(state.config.data_licence.as_bytes());
    Caching::new(
        &format!("{what}-{}-{licence:016x}", snapshot.generation),
        true,
    )
}

/// `GET /data/catalog.jsonld`: DCAT-AP JSON-LD of the public layers.
pub async fn catalog(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let snapshot = state.catalog.snapshot();
    let caching = caching("dcat", &state, &snapshot);
    if let Some(r) = caching.not_modified(&headers) {
        return r;
    }
    let base = base_url(&state, &headers);
    let doc = dcat::catalog(
        &base,
        &datasets(&state, &snapshot),
        &state.config.data_licence,
    );
    match serde_json::to_vec_pretty(&doc) {
        Ok(body) => respond(body.into(), JSONLD, &caching),
        Err(e) => crate::error::ApiError::internal(e).into_response(),
    }
}

/// The licence as a link when it has an address, else as text.
fn licence_html(licence: &str) -> String {
    match dcat::licence_url(licence) {
        Some(url) => format!("<a href=\"{}\">{}</a>", esc(&url), esc(licence)),
        None => esc(licence),
    }
}

/// Thousands grouped with dots, as Indonesian writes them.
fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The page of `datasets`.
pub fn page(datasets: &[Dataset], licence: &str) -> String {
    let mut body = String::new();
    if datasets.is_empty() {
        body.push_str(
            "<p>Belum ada lapisan publik. <span lang=\"en\">No public layers yet.</span></p>\n",
        );
    }
    for d in datasets {
        let _ = write!(
            body,
            "<article class=\"dataset\" id=\"{id}\">\n<h2>{title}",
            id = esc(&d.id),
            title = esc(&d.title_id),
        );
        if d.title_en != d.title_id {
            let _ = write!(body, " <small lang=\"en\">({})</small>", esc(&d.title_en));
        }
        let _ = write!(body, "</h2>\n<p>{}</p>\n", esc(&d.description_id));
        if let Some(en) = &d.description_en {
            let _ = writeln!(body, "<p lang=\"en\">{}</p>", esc(en));
        }
        let modified = d.modified.get(..10).unwrap_or(&d.modified);
        let _ = write!(
            body,
            "<dl>\n<dt>OPD <span lang=\"en\">/ Publisher</span></dt><dd>{publisher}</dd>\n\
             <dt>Kategori <span lang=\"en\">/ Category</span></dt><dd>{theme}</dd>\n\
             <dt>Lisensi <span lang=\"en\">/ Licence</span></dt><dd>{licence}</dd>\n\
             <dt>Jumlah objek <span lang=\"en\">/ Features</span></dt><dd>{count}</dd>\n\
             <dt>Diperbarui <span lang=\"en\">/ Modified</span></dt><dd><time datetime=\"{modified_attr}\">{modified}</time></dd>\n\
             <dt>ID</dt><dd><code>{id}</code></dd>\n</dl>\n",
            publisher = esc(&d.publisher),
            theme = esc(&d.theme.1),
            licence = licence_html(&d.licence),
            count = count(d.features),
            modified_attr = esc(&d.modified),
            modified = esc(modified),
            id = esc(&d.id),
        );
        body.push_str("<p class=\"links\">Unduh <span lang=\"en\">/ Download</span>: ");
        let links: Vec<String> = dcat::distributions(&d.id)
            .iter()
            .map(|x| format!("<a href=\"{}\">{}</a>", esc(&x.url), esc(x.title)))
            .collect();
        body.push_str(&links.join(" · "));
        let _ = write!(
            body,
            " · <a href=\"/#layers={}\">Lihat di peta <span lang=\"en\">/ View on the map</span></a></p>\n</article>\n",
            esc(&segment(&d.id)),
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"id\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Data terbuka · Peta Badung Smart City</title>\n\
         <link rel=\"icon\" href=\"/web/icon.svg\" type=\"image/svg+xml\">\n\
         <link rel=\"alternate\" type=\"{JSONLD}\" href=\"/data/catalog.jsonld\">\n\
         <link rel=\"stylesheet\" href=\"/web/style.css\">\n</head>\n\
         <body class=\"share-page data-page\">\n\
         <h1>Data terbuka <small lang=\"en\">/ Open data</small></h1>\n\
         <p>Lapisan peta publik {regency}: setiap lapisan dapat diunduh sebagai GeoJSON, FlatGeobuf, CSV dan XLSX, \
         dibaca melalui OGC API - Features, atau ditampilkan sebagai vector tiles. Lisensi: {licence}.</p>\n\
         <p lang=\"en\">The public map layers of Badung Regency: each can be downloaded as GeoJSON, FlatGeobuf, CSV and XLSX, \
         read through OGC API - Features, or shown as vector tiles. Licence: {licence}.</p>\n\
         <p class=\"links\"><a href=\"/data/catalog.jsonld\">Katalog DCAT-AP (JSON-LD)</a> · \
         <a href=\"/ogc\">OGC API - Features</a> · <a href=\"/\">Peta <span lang=\"en\">/ Map</span></a></p>\n\
         {body}</body>\n</html>\n",
        regency = esc(dcat::REGENCY),
        licence = licence_html(licence),
    )
}

/// `GET /data`: the catalogue as a page.
pub async fn data_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let snapshot = state.catalog.snapshot();
    let caching = caching("data", &state, &snapshot);
    if let Some(r) = caching.not_modified(&headers) {
        return r;
    }
    let html = page(&datasets(&state, &snapshot), &state.config.data_licence);
    let mut res = respond(html.into(), "text/html; charset=utf-8", &caching);
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
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(140), "140");
        assert_eq!(count(1234567), "1.234.567");
        assert_eq!(count(-1000), "-1.000");
    }
}
