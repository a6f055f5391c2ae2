//! The open data catalogue: the public layers described in DCAT-AP
//! (W3C DCAT 2 with the European application profile's choices), written
//! as JSON-LD, so that CKAN-based portals (Satu Data Indonesia) can
//! harvest them with ckanext-dcat.
//!
//! What the catalogue says about a layer is a plain [`Dataset`], filled
//! by the one function [`Dataset::of`] from what a layer carries today
//! (titles, category, agency, counts, extent, times) and the server's
//! defaults ([`Defaults`]: the licence of `--data-licence`). When layers
//! carry their own description, licence, contact, keywords and time span,
//! only [`Dataset::of`] changes. Every link is absolute, from `base`.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::bbox::Bbox;
use crate::index::LayerIndex;
use crate::model::Category;

/// Who publishes the catalogue, and every layer without an agency.
pub const REGENCY: &str = "Pemerintah Kabupaten Badung";

/// What the server says about every layer that does not say it itself.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// The licence: an SPDX id (`CC-BY-4.0`), a URL, or a text.
    pub licence: String,
}

/// A point of contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// The organisation's name.
    pub name: String,
    /// An e-mail address, if known.
    pub email: Option<String>,
    /// A web page where it can be reached, relative to the server or absolute.
    pub url: Option<String>,
}

/// What the catalogue says about one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The layer id.
    pub id: String,
    /// Indonesian title.
    pub title_id: String,
    /// English title (may equal the Indonesian one).
    pub title_en: String,
    /// Indonesian description.
    pub description_id: String,
    /// English description.
    pub description_en: Option<String>,
    /// The publisher: the agency (OPD), else [`REGENCY`].
    pub publisher: String,
    /// The publisher's slug, for its IRI.
    pub publisher_id: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// The category: id, Indonesian and English titles.
    pub theme: (String, String, String),
    /// The licence: an SPDX id, a URL or a text.
    pub licence: String,
    /// Who to ask about the data.
    pub contact: Contact,
    /// The time the data describes (start, end), as ISO 8601 dates or times.
    pub temporal: Option<(Option<String>, Option<String>)>,
    /// How often it is updated, as a Dublin Core frequency IRI.
    pub frequency: Option<String>,
    /// Last change (RFC 3339).
    pub modified: String,
    /// Number of features.
    pub features: i64,
    /// Geometry types present.
    pub geometry_types: Vec<String>,
    /// Extent in WGS 84.
    pub bbox: Option<Bbox>,
}

/// The words for a layer's geometry (Indonesian, English), when it has one kind.
fn geometry_words(types: &[String]) -> Option<(&'static str, &'static str)> {
    let all =
        |kinds: &[&str]| !types.is_empty() && types.iter().all(|t| kinds.contains(&t.as_str()));
    if all(&["Point", "MultiPoint"]) {
        Some(("titik", "point"))
    } else if all(&["LineString", "MultiLineString"]) {
        Some(("garis", "line"))
    } else if all(&["Polygon", "MultiPolygon"]) {
        Some(("area", "area"))
    } else {
        None
    }
}

impl Dataset {
    /// What the catalogue says about `layer` of `category`: everything the
    /// layer knows, the rest from `defaults`, and a description made of
    /// its title, category, agency and feature count.
    pub fn of(layer: &LayerIndex, category: Option<&Category>, defaults: &Defaults) -> Dataset {
        let meta = &layer.meta;
        let v = &layer.data.version;
        let (publisher, publisher_id) = match &meta.agency {
            Some(a) => (a.name.clone(), a.id.clone()),
            None => (REGENCY.to_owned(), "kabupaten-badung".to_owned()),
        };
        let theme = match category {
            Some(c) => (c.id.clone(), c.title_id.clone(), c.title_en.clone()),
            None => (
                meta.category.clone(),
                meta.category.clone(),
                meta.category.clone(),
            ),
        };
        let title_en = if meta.title_en.trim().is_empty() {
            meta.title_id.clone()
        } else {
            meta.title_en.clone()
        };
        let (kind_id, kind_en) = geometry_words(&v.geometry_types)
            .map_or((String::new(), String::new()), |(i, e)| {
                (format!(" {i}"), format!("{e} "))
            });
        let description_id = format!(
            "Lapisan {} ({}) dari {publisher}: {} objek{kind_id}.",
            meta.title_id, theme.1, v.feature_count
        );
        let plural = if v.feature_count == 1 { "" } else { "s" };
        let description_en = format!(
            "Layer {title_en} ({}) from {publisher}: {} {kind_en}feature{plural}.",
            theme.2, v.feature_count
        );
        let about = meta.about.as_ref();
        let mut keywords: Vec<String> = about.map(|a| a.keywords.clone()).unwrap_or_default();
        for k in [
            theme.1.clone(),
            theme.2.clone(),
            "Badung".to_owned(),
            "Bali".to_owned(),
        ] {
            if !keywords.iter().any(|o| o.eq_ignore_ascii_case(&k)) {
                keywords.push(k);
            }
        }
        // The layer's own words first, then the facts.
        let description_id = match about.and_then(|a| a.description_id.as_ref()) {
            Some(d) => format!("{d}\n\n{description_id}"),
            None => description_id,
        };
        let description_en = match about.and_then(|a| a.description_en.as_ref()) {
            Some(d) => format!("{d}\n\n{description_en}"),
            None => description_en,
        };
        Dataset {
            id: meta.id.clone(),
            title_id: meta.title_id.clone(),
            title_en,
            description_id,
            description_en: Some(description_en),
            contact: Contact {
                name: about
                    .and_then(|a| a.contact_unit.clone())
                    .unwrap_or_else(|| publisher.clone()),
                email: about.and_then(|a| a.contact_email.clone()),
                url: Some("/data".to_owned()),
            },
            publisher,
            publisher_id,
            keywords,
            theme,
            licence: about
                .and_then(|a| a.licence.clone())
                .unwrap_or_else(|| defaults.licence.clone()),
            temporal: about.and_then(|a| a.data_date.as_deref()).map(period),
            frequency: about
                .and_then(|a| a.update_frequency)
                .map(|f| f.uri().to_owned()),
            modified: meta.updated_at.clone(),
            features: v.feature_count,
            geometry_types: v.geometry_types.clone(),
            bbox: v.bbox,
        }
    }
}

/// A layer's `data_date` (`2024`, `2024-06`, `2024-06-30`, or `start/end`
/// of those) as the first and last day it covers.
fn period(d: &str) -> (Option<String>, Option<String>) {
    let (a, b) = d.split_once('/').unwrap_or((d, d));
    (first_day(a), last_day(b))
}

fn first_day(p: &str) -> Option<String> {
    match p.len() {
        4 => Some(format!("{p}-01-01")),
        7 => Some(format!("{p}-01")),
        10 => Some(p.to_owned()),
        _ => None,
    }
}

fn last_day(p: &str) -> Option<String> {
    match p.len() {
        4 => Some(format!("{p}-12-31")),
        7 => format!("{p}-01")
            .parse::<jiff::civil::Date>()
            .ok()
            .map(|d| d.last_of_month().to_string()),
        10 => Some(p.to_owned()),
        _ => None,
    }
}

/// One way to get a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// Short name, used in IRIs (`geojson`, `fgb`…).
    pub key: &'static str,
    /// What it is called.
    pub title: &'static str,
    /// Where it is, relative to the server.
    pub url: String,
    /// Whether `url` is the file itself (`dcat:downloadURL`).
    pub download: bool,
    /// Its IANA media type, if registered.
    pub media_type: Option<&'static str>,
    /// The EU file type code, if it has one.
    pub file_type: Option<&'static str>,
    /// The service it comes from: (endpoint, description, specification).
    pub service: Option<(String, String, &'static str)>,
}

/// The ways to get layer `id`: four files, the OGC API collection and
/// the vector tiles.
pub fn distributions(id: &str) -> Vec<Distribution> {
    let seg = segment(id);
    let file = |key, title, format: &str, media_type, file_type| Distribution {
        key,
        title,
        url: format!("/api/layers/{seg}/download?format={format}"),
        download: true,
        media_type,
        file_type,
        service: None,
    };
    vec![
        file(
            "geojson",
            "GeoJSON",
            "geojson",
            Some("application/geo+json"),
            Some("GEOJSON"),
        ),
        // FlatGeobuf has no registered media type (the format's own
        // documents use application/flatgeobuf): it is named by label only.
        file("fgb", "FlatGeobuf", "fgb", None, None),
        file("csv", "CSV", "csv", Some("text/csv"), Some("CSV")),
        file(
            "xlsx",
            "XLSX",
            "xlsx",
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            Some("XLSX"),
        ),
        Distribution {
            key: "ogc",
            title: "OGC API - Features",
            url: format!("/ogc/collections/{seg}"),
            download: false,
            media_type: None,
            file_type: None,
            service: Some((
                "/ogc".to_owned(),
                "/ogc/api".to_owned(),
                "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            )),
        },
        Distribution {
            key: "tiles",
            title: "Vector tiles (TileJSON, MVT)",
            url: format!("/tiles/{seg}.json"),
            download: false,
            media_type: Some("application/vnd.mapbox-vector-tile"),
            file_type: None,
            service: Some((
                format!("/tiles/{seg}.json"),
                format!("/tiles/{seg}.json"),
                "https://github.com/mapbox/tilejson-spec/tree/master/3.0.0",
            )),
        },
    ]
}

/// Percent-encodes a path segment (everything but RFC 3986's unreserved).
fn segment(s: &str) -> String {
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

/// The address of a licence: a URL as it is, an SPDX id as its page in
/// the SPDX licence list; `None` for a licence given as text.
pub fn licence_url(licence: &str) -> Option<String> {
    let l = licence.trim();
    if l.starts_with("https://") || l.starts_with("http://") {
        return Some(l.to_owned());
    }
    crate::model::about::spdx_id(l).map(|id| format!("http://spdx.org/licenses/{id}"))
}

fn licence_node(licence: &str) -> Value {
    match licence_url(licence) {
        Some(url) => {
            json!({"@id": url, "@type": "dct:LicenseDocument", "rdfs:label": licence.trim()})
        }
        None => json!({"@type": "dct:LicenseDocument", "rdfs:label": licence.trim()}),
    }
}

fn texts(id: &str, en: Option<&str>) -> Value {
    let mut v = vec![json!({"@value": id, "@language": "id"})];
    if let Some(en) = en.filter(|e| !e.is_empty()) {
        v.push(json!({"@value": en, "@language": "en"}));
    }
    Value::Array(v)
}

fn time(t: &str) -> Value {
    let kind = if t.len() == 10 {
        "xsd:date"
    } else {
        "xsd:dateTime"
    };
    json!({"@value": t, "@type": kind})
}

/// The JSON-LD `@context`: the prefixes of DCAT-AP.
pub fn context() -> Value {
    json!({
        "dcat": "http://www.w3.org/ns/dcat#",
        "dct": "http://purl.org/dc/terms/",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "vcard": "http://www.w3.org/2006/vcard/ns#",
        "locn": "http://www.w3.org/ns/locn#",
        "adms": "http://www.w3.org/ns/adms#",
        "spdx": "http://spdx.org/rdf/terms#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "gsp": "http://www.opengis.net/ont/geosparql#"
    })
}

fn spatial(b: &Bbox) -> Value {
    let ring = [
        [b.minx, b.miny],
        [b.maxx, b.miny],
        [b.maxx, b.maxy],
        [b.minx, b.maxy],
        [b.minx, b.miny],
    ];
    let wkt = format!(
        "POLYGON(({}))",
        ring.iter()
            .map(|[x, y]| format!("{x} {y}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let geojson = json!({"type": "Polygon", "coordinates": [ring]}).to_string();
    json!({
        "@type": "dct:Location",
        "locn:geometry": {"@value": geojson, "@type": "gsp:geoJSONLiteral"},
        "dcat:bbox": {"@value": wkt, "@type": "gsp:wktLiteral"}
    })
}

fn distribution(base: &str, d: &Dataset, x: &Distribution) -> Value {
    let url = format!("{base}{}", x.url);
    let mut n = json!({
        "@id": format!("{base}/data#{}-{}", segment(&d.id), x.key),
        "@type": "dcat:Distribution",
        "dct:title": x.title,
        "dcat:accessURL": {"@id": url},
        "dct:license": licence_node(&d.licence),
        "dct:modified": time(&d.modified),
    });
    let o = n.as_object_mut().into_iter().next();
    let Some(o) = o else { return n };
    if x.download {
        o.insert("dcat:downloadURL".into(), json!({"@id": url}));
    }
    if let Some(mt) = x.media_type {
        o.insert(
            "dcat:mediaType".into(),
            json!({"@id": format!("https://www.iana.org/assignments/media-types/{mt}")}),
        );
    }
    let format = match x.file_type {
        Some(code) => json!({
            "@id": format!("http://publications.europa.eu/resource/authority/file-type/{code}"),
            "@type": "dct:MediaTypeOrExtent",
            "rdfs:label": x.title
        }),
        None => json!({"@type": "dct:MediaTypeOrExtent", "rdfs:label": x.title}),
    };
    o.insert("dct:format".into(), format);
    if let Some((endpoint, description, spec)) = &x.service {
        o.insert(
            "dcat:accessService".into(),
            json!({
                "@id": format!("{base}{endpoint}"),
                "@type": "dcat:DataService",
                "dct:title": x.title,
                "dcat:endpointURL": {"@id": format!("{base}{endpoint}")},
                "dcat:endpointDescription": {"@id": format!("{base}{description}")},
                "dct:conformsTo": {"@id": spec},
                "dcat:servesDataset": {"@id": format!("{base}/api/layers/{}", segment(&d.id))}
            }),
        );
    }
    n
}

fn dataset(base: &str, d: &Dataset) -> Value {
    let mut n = json!({
        "@id": format!("{base}/api/layers/{}", segment(&d.id)),
        "@type": "dcat:Dataset",
        "dct:identifier": d.id,
        "dct:title": texts(&d.title_id, (d.title_en != d.title_id).then_some(d.title_en.as_str())),
        "dct:description": texts(&d.description_id, d.description_en.as_deref()),
        "dct:publisher": {
            "@id": format!("{base}/data#publisher-{}", segment(&d.publisher_id)),
            "@type": "foaf:Agent",
            "foaf:name": d.publisher
        },
        "dcat:keyword": d.keywords,
        "dcat:theme": {
            "@id": format!("{base}/data#theme-{}", segment(&d.theme.0)),
            "@type": "skos:Concept",
            "skos:prefLabel": texts(&d.theme.1, Some(&d.theme.2))
        },
        "dct:modified": time(&d.modified),
        "dct:license": licence_node(&d.licence),
        "dct:accessRights": {"@id": "http://publications.europa.eu/resource/authority/access-right/PUBLIC"},
        "dcat:landingPage": {"@id": format!("{base}/#layers={}", segment(&d.id))},
        "dcat:distribution": distributions(&d.id).iter().map(|x| distribution(base, d, x)).collect::<Vec<_>>(),
    });
    let Some(o) = n.as_object_mut() else { return n };
    let mut contact = json!({"@type": "vcard:Organization", "vcard:fn": d.contact.name});
    if let Some(c) = contact.as_object_mut() {
        if let Some(e) = &d.contact.email {
            c.insert(
                "vcard:hasEmail".into(),
                json!({"@id": format!("mailto:{e}")}),
            );
        }
        if let Some(u) = &d.contact.url {
            let u = if u.starts_with('/') {
                format!("{base}{u}")
            } else {
                u.clone()
            };
            c.insert("vcard:hasURL".into(), json!({"@id": u}));
        }
    }
    o.insert("dcat:contactPoint".into(), contact);
    if let Some(b) = &d.bbox {
        o.insert("dct:spatial".into(), spatial(b));
    }
    if let Some((start, end)) = &d.temporal {
        let mut t = json!({"@type": "dct:PeriodOfTime"});
        if let Some(t) = t.as_object_mut() {
            if let Some(s) = start {
                t.insert("dcat:startDate".into(), time(s));
            }
            if let Some(e) = end {
                t.insert("dcat:endDate".into(), time(e));
            }
        }
        o.insert("dct:temporal".into(), t);
    }
    if let Some(f) = &d.frequency {
        o.insert("dct:accrualPeriodicity".into(), json!({"@id": f}));
    }
    n
}

/// The catalogue of `datasets` as DCAT-AP JSON-LD, links under `base`
/// (e.g. `https://peta.badungkab.go.id`), its own licence `licence`.
pub fn catalog(base: &str, datasets: &[Dataset], licence: &str) -> Value {
    let modified = datasets.iter().map(|d| d.modified.as_str()).max();
    let mut n = json!({
        "@context": context(),
        "@id": format!("{base}/data"),
        "@type": "dcat:Catalog",
        "dct:title": texts("Data Terbuka Peta Badung Smart City", Some("Badung Smart City map open data")),
        "dct:description": texts(
            "Lapisan peta publik Kabupaten Badung, Bali: unduhan GeoJSON, FlatGeobuf, CSV dan XLSX, OGC API - Features dan vector tiles.",
            Some("Public map layers of Badung Regency, Bali: GeoJSON, FlatGeobuf, CSV and XLSX downloads, OGC API - Features and vector tiles."),
        ),
        "dct:publisher": {
            "@id": format!("{base}/data#publisher-kabupaten-badung"),
            "@type": "foaf:Agent",
            "foaf:name": REGENCY
        },
        "foaf:homepage": {"@id": format!("{base}/data")},
        "dct:language": [
            {"@id": "http://publications.europa.eu/resource/authority/language/IND"},
            {"@id": "http://publications.europa.eu/resource/authority/language/ENG"}
        ],
        "dct:license": licence_node(licence),
        "dcat:dataset": datasets.iter().map(|d| dataset(base, d)).collect::<Vec<_>>(),
    });
    if let (Some(m), Some(o)) = (modified, n.as_object_mut()) {
        o.insert("dct:modified".into(), time(m));
    }
    n
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn data_dates_become_periods() {
        let p = |d: &str| super::period(d);
        assert_eq!(
            p("2024"),
            (Some("2024-01-01".into()), Some("2024-12-31".into()))
        );
        assert_eq!(
            p("2024-02"),
            (Some("2024-02-01".into()), Some("2024-02-29".into()))
        );
        assert_eq!(
            p("2024-06-30"),
            (Some("2024-06-30".into()), Some("2024-06-30".into()))
        );
        assert_eq!(
            p("2020/2024-06"),
            (Some("2020-01-01".into()), Some("2024-06-30".into()))
        );
    }

    #[test]
    fn licences() {
        assert_eq!(
            licence_url("CC-BY-4.0").as_deref(),
            Some("http://spdx.org/licenses/CC-BY-4.0")
        );
        assert_eq!(
            licence_url("https://example.org/l").as_deref(),
            Some("https://example.org/l")
        );
        assert_eq!(licence_url("Lisensi daerah Badung"), None);
        assert_eq!(
            licence_node("Lisensi daerah")["rdfs:label"],
            "Lisensi daerah"
        );
    }

    #[test]
    fn six_distributions_with_encoded_ids() {
        let d = distributions("pura uji");
        assert_eq!(d.len(), 6);
        assert_eq!(d[2].url, "/api/layers/pura%20uji/download?format=csv");
        assert!(d.iter().filter(|x| x.download).count() == 4);
    }

    #[test]
    fn geometry_words_need_one_kind() {
        assert_eq!(geometry_words(&["Point".into()]), Some(("titik", "point")));
        assert_eq!(geometry_words(&["Point".into(), "Polygon".into()]), None);
        assert_eq!(geometry_words(&[]), None);
    }
}
