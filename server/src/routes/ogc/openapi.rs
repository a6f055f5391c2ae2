//! The OpenAPI 3.0 document of the OGC API and the downloads (`/ogc/api`).

use serde_json::{Value, json};

fn param(name: &str, location: &str, description: &str, schema: Value, required: bool) -> Value {
    let mut p = json!({
        "name": name,
        "in": location,
        "description": description,
        "required": required,
        "schema": schema,
    });
    if location == "query" {
        p["style"] = json!("form");
        p["explode"] = json!(false);
    }
    p
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn ok(description: &str, content: Value) -> Value {
    json!({ "description": description, "content": content })
}

fn html() -> Value {
    json!({ "schema": { "type": "string" } })
}

/// A collection listed in the document with its own items path: its id
/// and its queryables (name, JSON Schema type).
pub struct Listed {
    /// The collection id.
    pub id: String,
    /// Each queryable's name and JSON type.
    pub queryables: Vec<(String, &'static str)>,
}

/// The document, with `base` (absolute or empty) + `/ogc` as its server.
///
/// Paths are relative to `/ogc` (`/collections/{collectionId}/items`):
/// QGIS reads the parameters of paths named `/collections/<id>/items`
/// (literally, under the server URL) to learn which properties it may
/// filter on with `property=value`, so each visible collection also gets
/// its own items path declaring one such parameter per queryable.
pub fn document(base: &str, default_limit: usize, max_limit: usize, listed: &[Listed]) -> Value {
    let server = format!("{base}/ogc");
    let root = if base.is_empty() { "/" } else { base };
    let f_json_html = param(
        "f",
        "query",
        "The representation: json or html (else by Accept).",
        json!({ "type": "string", "enum": ["json", "html"] }),
        false,
    );
    let f_items = param(
        "f",
        "query",
        "The representation: json (GeoJSON), html or fgb (FlatGeobuf); else by Accept.",
        json!({ "type": "string", "enum": ["json", "html", "fgb"] }),
        false,
    );
    let collection_id = param(
        "collectionId",
        "path",
        "The collection (layer) id.",
        json!({ "type": "string" }),
        true,
    );
    let feature_id = param(
        "featureId",
        "path",
        "The feature id.",
        json!({ "type": "string" }),
        true,
    );
    let limit_ref = json!({ "$ref": "#/components/parameters/limit" });
    let e400 = problem("A parameter is invalid or unknown; the detail names it.");
    let e404 = problem("No such collection or feature (or not visible to the caller).");
    let crs_uris = super::crs::offered();
    let items_common = vec![
        param(
            "bbox",
            "query",
            "Only features whose geometry intersects this box: minx,miny,maxx,maxy (or 6 numbers with heights), in CRS84 unless bbox-crs says otherwise. minx > maxx crosses the antimeridian.",
            json!({ "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } }),
            false,
        ),
        param(
            "bbox-crs",
            "query",
            "The CRS of bbox (EPSG:4326 is latitude first).",
            json!({ "type": "string", "format": "uri", "enum": crs_uris.clone(), "default": super::names::CRS84 }),
            false,
        ),
        limit_ref.clone(),
        param(
            "offset",
            "query",
            "Features to skip.",
            json!({ "type": "integer", "minimum": 0, "maximum": u32::MAX, "default": 0 }),
            false,
        ),
        param(
            "datetime",
            "query",
            "An RFC 3339 date or date-time, or an interval a/b with open ends as .. ; matched against the collection's time property (its `temporalProperty`: the first of datetime, tanggal, dilaporkan, date, waktu, timestamp, updated, updated_at, tanggal_update as text, or tahun_data, tahun as a year). 400 on collections without one.",
            json!({ "type": "string" }),
            false,
        ),
        param(
            "filter",
            "query",
            "A CQL2 filter on the queryables.",
            json!({ "type": "string" }),
            false,
        ),
        param(
            "filter-lang",
            "query",
            "The encoding of filter (cql-text, the draft name, is read as cql2-text).",
            json!({ "type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text" }),
            false,
        ),
        param(
            "filter-crs",
            "query",
            "The CRS of geometries in filter; only CRS84.",
            json!({ "type": "string", "format": "uri", "enum": [super::names::CRS84] }),
            false,
        ),
        param(
            "crs",
            "query",
            "The CRS of the response's geometries (EPSG:4326 is latitude first; projected systems in metres). The response says it in Content-Crs.",
            json!({ "type": "string", "format": "uri", "enum": crs_uris.clone(), "default": super::names::CRS84 }),
            false,
        ),
        param(
            "sortby",
            "query",
            "Sort keys: comma-separated sortables (see /sortables), each optionally prefixed by + (ascending, the default) or - (descending). Without it: file order, or the layer's spatial order with a bbox.",
            json!({ "type": "array", "items": { "type": "string", "pattern": "^[+-]?[^,]+$" } }),
            false,
        ),
        param(
            "properties",
            "query",
            "Only these properties in each feature (comma-separated; empty: none).",
            json!({ "type": "array", "items": { "type": "string" } }),
            false,
        ),
        param(
            "skipGeometry",
            "query",
            "true: features without geometry.",
            json!({ "type": "boolean", "default": false }),
            false,
        ),
    ];
    let mut items_params = vec![collection_id.clone()];
    items_params.extend(items_common.iter().cloned());
    items_params.push(f_items.clone());
    let json_ct = |schema: &str| json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } }, "text/html": html() });
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Badung Smart City map server: OGC API - Features",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "OGC API - Features Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0) and Part 3 (CQL2 filters) over the layers of the Badung Smart City map, plus whole-layer downloads (FlatGeobuf with HTTP Range support, GeoJSON, CSV, XLSX). Internal layers are visible only to logged-in users allowed to see them.",
            "license": { "name": "MIT OR Apache-2.0" }
        },
        "servers": [ { "url": server } ],
        "paths": {
            "/": { "get": {
                "operationId": "getLandingPage", "summary": "Landing page", "tags": ["Capabilities"],
                "parameters": [f_json_html],
                "responses": { "200": ok("The landing page.", json_ct("LandingPage")), "400": e400.clone() }
            }},
            "/conformance": { "get": {
                "operationId": "getConformance", "summary": "Conformance classes", "tags": ["Capabilities"],
                "parameters": [f_json_html],
                "responses": { "200": ok("The conformance classes.", json_ct("Conformance")), "400": e400.clone() }
            }},
            "/api": { "get": {
                "operationId": "getApi", "summary": "This API definition", "tags": ["Capabilities"],
                "responses": { "200": ok("The OpenAPI 3.0 document.", json!({ "application/vnd.oai.openapi+json;version=3.0": { "schema": { "type": "object" } } })) }
            }},
            "/collections": { "get": {
                "operationId": "getCollections", "summary": "The feature collections the caller may see", "tags": ["Capabilities"],
                "parameters": [f_json_html],
                "responses": { "200": ok("The collections.", json_ct("Collections")), "400": e400.clone() }
            }},
            "/collections/{collectionId}": { "get": {
                "operationId": "getCollection", "summary": "One feature collection", "tags": ["Capabilities"],
                "parameters": [collection_id, f_json_html],
                "responses": { "200": ok("The collection.", json_ct("Collection")), "400": e400.clone(), "404": e404.clone() }
            }},
            "/collections/{collectionId}/sortables": { "get": {
                "operationId": "getSortables", "summary": "The properties sortby may name (JSON Schema)", "tags": ["Data"],
                "parameters": [collection_id, f_json_html],
                "responses": {
                    "200": ok("The sortables.", json!({ "application/schema+json": { "schema": { "type": "object" } }, "text/html": html() })),
                    "400": e400.clone(), "404": e404.clone()
                }
            }},
            "/collections/{collectionId}/queryables": { "get": {
                "operationId": "getQueryables", "summary": "The properties filters may name (JSON Schema)", "tags": ["Filter"],
                "parameters": [collection_id, f_json_html],
                "responses": {
                    "200": ok("The queryables.", json!({ "application/schema+json": { "schema": { "type": "object" } }, "text/html": html() })),
                    "400": e400.clone(), "404": e404.clone()
                }
            }},
            "/collections/{collectionId}/items": { "get": {
                "operationId": "getFeatures", "summary": "Features of a collection, filtered and paged", "tags": ["Data"],
                "description": "Any other query parameter that names a queryable of the collection is an equality filter on that property (e.g. kecamatan=Kuta). Features come in a stable order: file order, or the layer's spatial order with a bbox.",
                "parameters": items_params.clone(),
                "responses": {
                    "200": ok("A page of features.", json!({
                        "application/geo+json": { "schema": { "$ref": "#/components/schemas/FeatureCollection" } },
                        "text/html": html(),
                        "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } }
                    })),
                    "400": e400.clone(), "404": e404.clone()
                }
            }},
            "/collections/{collectionId}/items/{featureId}": { "get": {
                "operationId": "getFeature", "summary": "One feature", "tags": ["Data"],
                "parameters": [collection_id, feature_id, f_items,
                    param("crs", "query", "The CRS of the response's geometry.", json!({ "type": "string", "format": "uri", "enum": crs_uris, "default": super::names::CRS84 }), false)],
                "responses": {
                    "200": ok("The feature.", json!({
                        "application/geo+json": { "schema": { "$ref": "#/components/schemas/Feature" } },
                        "text/html": html(),
                        "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } }
                    })),
                    "400": e400.clone(), "404": e404.clone()
                }
            }},
            "/api/layers/{layerId}/download": {
                "servers": [ { "url": root } ],
                "get": {
                "operationId": "downloadLayer", "summary": "The whole layer as a file", "tags": ["Data"],
                "description": "FlatGeobuf with a packed Hilbert R-tree index (supports single byte ranges, strong ETag), GeoJSON, CSV (UTF-8 with BOM, WKT geometry, lon/lat for points) or XLSX.",
                "parameters": [
                    param("layerId", "path", "The layer id.", json!({ "type": "string" }), true),
                    param("format", "query", "File format.", json!({ "type": "string", "enum": ["fgb", "geojson", "csv", "xlsx"], "default": "fgb" }), false),
                    { "name": "Range", "in": "header", "required": false, "description": "One byte range (FlatGeobuf only).", "schema": { "type": "string" } }
                ],
                "responses": {
                    "200": ok("The file.", json!({
                        "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } },
                        "application/geo+json": { "schema": { "$ref": "#/components/schemas/FeatureCollection" } },
                        "text/csv": { "schema": { "type": "string" } },
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } }
                    })),
                    "206": ok("The requested byte range.", json!({ "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } } })),
                    "400": e400, "404": e404,
                    "416": problem("The range cannot be satisfied.")
                }
            }}
        },
        "components": {
            "parameters": {
                "limit": param("limit", "query", "Features per page.", json!({ "type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit }), false)
            },
            "schemas": {
                "Link": {
                    "type": "object", "required": ["href"],
                    "properties": {
                        "href": { "type": "string" }, "rel": { "type": "string" },
                        "type": { "type": "string" }, "title": { "type": "string" }
                    }
                },
                "Links": { "type": "array", "items": { "$ref": "#/components/schemas/Link" } },
                "LandingPage": {
                    "type": "object", "required": ["links"],
                    "properties": {
                        "title": { "type": "string" }, "description": { "type": "string" },
                        "links": { "$ref": "#/components/schemas/Links" }
                    }
                },
                "Conformance": {
                    "type": "object", "required": ["conformsTo"],
                    "properties": { "conformsTo": { "type": "array", "items": { "type": "string" } } }
                },
                "Extent": {
                    "type": "object",
                    "properties": {
                        "spatial": { "type": "object", "properties": {
                            "bbox": { "type": "array", "items": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } } },
                            "crs": { "type": "string" }
                        }},
                        "temporal": { "type": "object", "properties": {
                            "interval": { "type": "array", "items": { "type": "array", "minItems": 2, "maxItems": 2, "items": { "type": "string", "nullable": true } } },
                            "trs": { "type": "string" }
                        }}
                    }
                },
                "Collection": {
                    "type": "object", "required": ["id", "links"],
                    "properties": {
                        "id": { "type": "string" }, "title": { "type": "string" },
                        "description": { "type": "string" }, "itemType": { "type": "string" },
                        "crs": { "type": "array", "items": { "type": "string" } },
                        "storageCrs": { "type": "string" },
                        "temporalProperty": { "type": "string" },
                        "extent": { "$ref": "#/components/schemas/Extent" },
                        "links": { "$ref": "#/components/schemas/Links" }
                    }
                },
                "Collections": {
                    "type": "object", "required": ["links", "collections"],
                    "properties": {
                        "links": { "$ref": "#/components/schemas/Links" },
                        "collections": { "type": "array", "items": { "$ref": "#/components/schemas/Collection" } }
                    }
                },
                "Geometry": { "type": "object", "nullable": true, "required": ["type"], "properties": { "type": { "type": "string" } } },
                "Feature": {
                    "type": "object", "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": { "type": "string", "enum": ["Feature"] },
                        "id": { "oneOf": [ { "type": "string" }, { "type": "integer" } ] },
                        "geometry": { "$ref": "#/components/schemas/Geometry" },
                        "properties": { "type": "object", "nullable": true },
                        "links": { "$ref": "#/components/schemas/Links" }
                    }
                },
                "FeatureCollection": {
                    "type": "object", "required": ["type", "features"],
                    "properties": {
                        "type": { "type": "string", "enum": ["FeatureCollection"] },
                        "features": { "type": "array", "items": { "$ref": "#/components/schemas/Feature" } },
                        "links": { "$ref": "#/components/schemas/Links" },
                        "timeStamp": { "type": "string", "format": "date-time" },
                        "numberMatched": { "type": "integer", "minimum": 0 },
                        "numberReturned": { "type": "integer", "minimum": 0 }
                    }
                },
                "Problem": {
                    "type": "object", "required": ["type", "title", "status"],
                    "properties": {
                        "type": { "type": "string" }, "title": { "type": "string" },
                        "status": { "type": "integer" }, "detail": { "type": "string" }
                    }
                }
            }
        },
        "tags": [
            { "name": "Capabilities", "description": "What the server offers." },
            { "name": "Data", "description": "Features and files." },
            { "name": "Filter", "description": "CQL2 filtering." }
        ]
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        for l in listed {
            let mut params: Vec<Value> = items_common.clone();
            params.push(f_items.clone());
            for (name, ty) in &l.queryables {
                if super::names::RESERVED.contains(&name.as_str()) {
                    continue;
                }
                params.push(param(
                    name,
                    "query",
                    &format!("Only features whose {name} equals this value."),
                    json!({ "type": ty }),
                    false,
                ));
            }
            paths.insert(
                format!("/collections/{}/items", l.id),
                json!({ "get": {
                    "operationId": format!("getFeatures.{}", l.id),
                    "summary": format!("Features of {}, filtered and paged", l.id),
                    "tags": ["Data"],
                    "description": "As /collections/{collectionId}/items for this collection, with one equality parameter per queryable.",
                    "parameters": params,
                    "responses": {
                        "200": ok("A page of features.", json!({
                            "application/geo+json": { "schema": { "$ref": "#/components/schemas/FeatureCollection" } },
                            "text/html": html(),
                            "application/flatgeobuf": { "schema": { "type": "string", "format": "binary" } }
                        })),
                        "400": e400.clone(), "404": e404.clone()
                    }
                }}),
            );
        }
    }
    doc
}
