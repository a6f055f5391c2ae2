//! Minimal server-rendered HTML of the OGC resources (`f=html`). Every
//! piece of text, including link targets, goes through [`esc`]; pages have
//! no scripts.

use std::fmt::Write;

use serde_json::Value;

pub use crate::http::esc;

/// A link target: only http(s) and relative URLs are made links.
fn href(s: &str) -> String {
    if s.starts_with("http://") || s.starts_with("https://") || s.starts_with('/') {
        esc(s)
    } else {
        "#".into()
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"id\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title><style>body{{font-family:sans-serif;margin:1em 2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}}</style>\
         </head><body><nav><a href=\"/ogc?f=html\">OGC API</a> · <a href=\"/ogc/collections?f=html\">collections</a></nav><h1>{t}</h1>\n{body}</body></html>\n",
        t = esc(title)
    )
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn links(v: &Value) -> String {
    let mut out = String::from("<ul class=\"links\">");
    for l in v.as_array().into_iter().flatten() {
        let _ = write!(
            out,
            "<li><a href=\"{}\">{}</a> ({}, {})</li>",
            href(&str_of(&l["href"])),
            esc(&str_of(&l["title"])),
            esc(&str_of(&l["rel"])),
            esc(&str_of(&l["type"]))
        );
    }
    out.push_str("</ul>");
    out
}

fn table(props: &serde_json::Map<String, Value>) -> String {
    let mut out = String::from("<table><tr><th>property</th><th>value</th></tr>");
    for (k, v) in props {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(k),
            esc(&str_of(v))
        );
    }
    out.push_str("</table>");
    out
}

/// The landing page.
pub fn landing(doc: &Value) -> String {
    page(
        &str_of(&doc["title"]),
        &format!(
            "<p>{}</p>{}",
            esc(&str_of(&doc["description"])),
            links(&doc["links"])
        ),
    )
}

/// The conformance classes.
pub fn conformance(classes: &[&str]) -> String {
    let mut body = String::from("<ul>");
    for c in classes {
        let _ = write!(body, "<li>{}</li>", esc(c));
    }
    body.push_str("</ul>");
    page("Conformance", &body)
}

/// The list of collections.
pub fn collections(doc: &Value) -> String {
    let mut body = String::from("<table><tr><th>id</th><th>title</th><th>description</th></tr>");
    for c in doc["collections"].as_array().into_iter().flatten() {
        let id = str_of(&c["id"]);
        let enc: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let _ = write!(
            body,
            "<tr><td><a href=\"/ogc/collections/{}?f=html\">{}</a></td><td>{}</td><td>{}</td></tr>",
            esc(&enc),
            esc(&id),
            esc(&str_of(&c["title"])),
            esc(&str_of(&c["description"]))
        );
    }
    body.push_str("</table>");
    page("Collections", &body)
}

/// One collection.
pub fn collection(doc: &Value) -> String {
    let mut body = format!("<p>{}</p>", esc(&str_of(&doc["description"])));
    if let Some(b) = doc["extent"]["spatial"]["bbox"].get(0) {
        let _ = write!(body, "<p>extent (CRS84): {}</p>", esc(&b.to_string()));
    }
    if let Some(t) = doc["extent"]["temporal"]["interval"].get(0) {
        let _ = write!(body, "<p>time: {}</p>", esc(&t.to_string()));
    }
    body.push_str(&links(&doc["links"]));
    page(&str_of(&doc["title"]), &body)
}

/// The queryables of a collection.
pub fn queryables(doc: &Value) -> String {
    let mut body = String::from("<table><tr><th>name</th><th>type</th></tr>");
    for (k, v) in doc["properties"].as_object().into_iter().flatten() {
        let ty = v
            .get("type")
            .or_else(|| v.get("format"))
            .map(str_of)
            .unwrap_or_default();
        let _ = write!(body, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(&ty));
    }
    body.push_str("</table>");
    page(&format!("Queryables of {}", str_of(&doc["title"])), &body)
}

/// A page of features.
pub fn items(doc: &Value, features: &[Value]) -> String {
    let id = str_of(&doc["id"]);
    let enc: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let mut body = format!(
        "<p>{} of {} features</p>{}",
        esc(&str_of(&doc["numberReturned"])),
        esc(&str_of(&doc["numberMatched"])),
        links(&doc["links"])
    );
    body.push_str("<table><tr><th>id</th><th>properties</th></tr>");
    for f in features {
        let fid = str_of(&f["id"]);
        let fenc: String = form_urlencoded::byte_serialize(fid.as_bytes()).collect();
        let props = f["properties"].as_object().map(table).unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td><a href=\"/ogc/collections/{}/items/{}?f=html\">{}</a></td><td>{}</td></tr>",
            esc(&enc),
            esc(&fenc),
            esc(&fid),
            props
        );
    }
    body.push_str("</table>");
    page(&str_of(&doc["title"]), &body)
}

/// One feature.
pub fn item(collection: &str, title: &str, feature: &Value) -> String {
    let enc: String = form_urlencoded::byte_serialize(collection.as_bytes()).collect();
    let mut body = format!(
        "<p><a href=\"/ogc/collections/{}/items?f=html\">{}</a></p>",
        esc(&enc),
        esc(title)
    );
    if let Some(p) = feature["properties"].as_object() {
        body.push_str(&table(p));
    }
    let _ = write!(
        body,
        "<p>geometry: <code>{}</code></p>",
        esc(&feature["geometry"].to_string())
    );
    page(&format!("{} {}", title, str_of(&feature["id"])), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything() {
        assert_eq!(
            esc("<script>\"a\"&'b'</script>"),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(href("javascript:alert(1)"), "#");
        let f = serde_json::json!({"id": "<x>", "properties": {"<b>": "<img src=x>"}, "geometry": null});
        let html = item("c", "<t>", &f);
        assert!(!html.contains("<img") && !html.contains("<b>") && !html.contains("<x>"));
    }
}
