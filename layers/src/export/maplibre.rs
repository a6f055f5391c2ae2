//! Layers' styles as a MapLibre style document (style specification v8):
//! one vector source per layer pointing at its TileJSON, and per layer a
//! `fill` and outline `line` for areas, a `line` for lines and a `circle`
//! for points, coloured by the layer's [`LayerStyle`] with `match`
//! (categories) and `step` (classes) expressions. Opens in MapLibre GL JS
//! and QGIS (which imports MapLibre styles for vector tile layers).
//! Labels are left out: a `symbol` layer needs a glyph server.

use serde_json::{Value, json};

use crate::model::style::{Kind, LayerStyle};

/// What the style needs of one layer.
#[derive(Debug, Clone)]
pub struct StyledLayer<'a> {
    /// Layer id: the source's name and the tiles' layer name.
    pub id: &'a str,
    /// Its title, for the style layers' metadata.
    pub title: &'a str,
    /// Its geometry types (`Point`, `LineString`, `Polygon`, `Multi…`).
    pub geometry_types: &'a [String],
    /// Its style, or `None` for one symbol of `fallback_color`.
    pub style: Option<&'a LayerStyle>,
    /// The colour of a layer without a style (its category's).
    pub fallback_color: &'a str,
}

/// The colour expression of `style`.
fn colour(style: &LayerStyle) -> Value {
    let Some(property) = style.property.as_deref() else {
        return json!(style.color);
    };
    match style.kind {
        Kind::Single => json!(style.color),
        Kind::Categories => {
            let mut e = vec![json!("match"), json!(["to-string", ["get", property]])];
            for c in &style.categories {
                e.push(json!(c.value));
                e.push(json!(c.color));
            }
            e.push(json!(style.color));
            Value::Array(e)
        }
        Kind::Classes => {
            let (Some(first), Some(last)) = (style.classes.first(), style.classes.last()) else {
                return json!(style.color);
            };
            let x = json!(["to-number", ["get", property]]);
            let mut step = vec![json!("step"), x.clone(), json!(first.color)];
            for c in &style.classes[1..] {
                step.push(json!(c.min));
                step.push(json!(c.color));
            }
            json!([
                "case",
                ["!", ["has", property]],
                style.color,
                ["<", x, first.min],
                style.color,
                [">", x, last.max],
                style.color,
                Value::Array(step)
            ])
        }
    }
}

fn of_kinds(kinds: &[&str]) -> Value {
    json!(["in", ["geometry-type"], ["literal", kinds]])
}

/// The style layers drawing `l`.
fn style_layers(l: &StyledLayer<'_>) -> Vec<Value> {
    let fallback = LayerStyle::single(l.fallback_color);
    let s = l.style.unwrap_or(&fallback);
    let c = colour(s);
    let has = |k: &str| {
        l.geometry_types
            .iter()
            .any(|t| t.trim_start_matches("Multi") == k)
    };
    let meta = json!({ "bsc:layer": l.id, "bsc:title": l.title });
    let mut out = Vec::new();
    if has("Polygon") {
        out.push(json!({
            "id": format!("{}-fill", l.id), "type": "fill", "source": l.id, "source-layer": l.id,
            "filter": of_kinds(&["Polygon", "MultiPolygon"]), "metadata": meta,
            "paint": { "fill-color": c, "fill-opacity": s.fill_opacity }
        }));
        out.push(json!({
            "id": format!("{}-outline", l.id), "type": "line", "source": l.id, "source-layer": l.id,
            "filter": of_kinds(&["Polygon", "MultiPolygon"]), "metadata": meta,
            "paint": { "line-color": c, "line-width": (s.stroke_width / 2.0).max(0.5) }
        }));
    }
    if has("LineString") {
        out.push(json!({
            "id": format!("{}-line", l.id), "type": "line", "source": l.id, "source-layer": l.id,
            "filter": of_kinds(&["LineString", "MultiLineString"]), "metadata": meta,
            "layout": { "line-cap": "round", "line-join": "round" },
            "paint": { "line-color": c, "line-width": s.stroke_width }
        }));
    }
    if has("Point") {
        out.push(json!({
            "id": format!("{}-circle", l.id), "type": "circle", "source": l.id, "source-layer": l.id,
            "filter": of_kinds(&["Point", "MultiPoint"]), "metadata": meta,
            "paint": {
                "circle-color": c, "circle-radius": s.point_radius,
                "circle-stroke-color": "#ffffff", "circle-stroke-width": 1
            }
        }));
    }
    out
}

/// A MapLibre style of `layers`, their tiles under `base`
/// (`{base}/tiles/{layer}.json`), named `name`, centred on `center`.
pub fn style(name: &str, base: &str, layers: &[StyledLayer<'_>], center: [f64; 2]) -> Value {
    let mut sources = serde_json::Map::new();
    let mut drawn = vec![json!({
        "id": "background", "type": "background", "paint": { "background-color": "#f5f7f8" }
    })];
    // Areas under lines under points, whatever order the layers come in.
    let mut by_kind: [Vec<Value>; 3] = Default::default();
    for l in layers {
        sources.insert(
            l.id.to_owned(),
            json!({ "type": "vector", "url": format!("{base}/tiles/{}.json", l.id) }),
        );
        for sl in style_layers(l) {
            let k = match sl["type"].as_str() {
                Some("fill") => 0,
                Some("line") if sl["id"].as_str().is_some_and(|i| i.ends_with("-outline")) => 0,
                Some("line") => 1,
                _ => 2,
            };
            by_kind[k].push(sl);
        }
    }
    drawn.extend(by_kind.into_iter().flatten());
    json!({
        "version": 8,
        "name": name,
        "center": center,
        "zoom": 11,
        "sources": sources,
        "layers": drawn,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::style::{Category, Method};

    #[test]
    fn categories_classes_and_geometry_kinds() {
        let cats = LayerStyle {
            kind: Kind::Categories,
            property: Some("zona".into()),
            categories: vec![Category {
                value: "merah".into(),
                label: "Merah".into(),
                color: "#d7191c".into(),
            }],
            ..LayerStyle::single("#999999")
        };
        let classes =
            LayerStyle::graduated("n", &[0.0, 10.0, 20.0, 30.0], Method::Equal, 3).unwrap();
        let polys = ["Polygon".to_owned()];
        let points = ["Point".to_owned(), "MultiPoint".to_owned()];
        let lines = ["MultiLineString".to_owned()];
        let doc = style(
            "uji",
            "https://peta.example",
            &[
                StyledLayer {
                    id: "zona",
                    title: "Zona",
                    geometry_types: &polys,
                    style: Some(&cats),
                    fallback_color: "#000000",
                },
                StyledLayer {
                    id: "posko",
                    title: "Posko",
                    geometry_types: &points,
                    style: Some(&classes),
                    fallback_color: "#000000",
                },
                StyledLayer {
                    id: "jalan",
                    title: "Jalan",
                    geometry_types: &lines,
                    style: None,
                    fallback_color: "#123456",
                },
            ],
            [115.2, -8.6],
        );
        let ids: Vec<&str> = doc["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "background",
                "zona-fill",
                "zona-outline",
                "jalan-line",
                "posko-circle"
            ]
        );
        assert_eq!(
            doc["sources"]["zona"]["url"],
            "https://peta.example/tiles/zona.json"
        );
        let fill = &doc["layers"][1]["paint"]["fill-color"];
        assert_eq!(fill[0], "match");
        assert_eq!(fill[2], "merah");
        assert_eq!(fill[4], "#999999");
        let circle = &doc["layers"][4]["paint"]["circle-color"];
        assert_eq!(circle[0], "case");
        assert_eq!(circle[7][0], "step");
        assert_eq!(doc["layers"][3]["paint"]["line-color"], "#123456");
    }
}
