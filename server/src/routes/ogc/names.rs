//! The names the OGC API speaks in: CRS URIs, media types, conformance
//! classes and the items route's own parameters.

/// The stored CRS and the default of every response: WGS 84
/// longitude/latitude.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// Media type of the OpenAPI document.
pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
/// Media type of JSON Schema documents (queryables).
pub const SCHEMA_JSON: &str = "application/schema+json";
/// Media type of HTML pages.
pub const HTML: &str = "text/html; charset=utf-8";

/// The conformance classes claimed by `/ogc/conformance`.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/property-selection",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
];

/// Query parameters with a meaning of their own; any other parameter
/// naming a queryable is an equality filter, and anything else is refused.
pub const RESERVED: &[&str] = &[
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
    "sortby",
    "properties",
    "skipGeometry",
];
