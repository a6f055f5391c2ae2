//! Layers' styles as a MapLibre style document (style specification v8):
//! one vector source per layer pointing at its TileJSON, and per layer a
//! `fill` and outline `line` for areas, a `line` for lines and a `circle`
//! for points, repeated per category or class of the layer's
//! [`LayerStyle`] with a filter and a constant colour. Opens in MapLibre
//! GL JS and QGIS (which imports MapLibre styles for vector tile layers;
//! `tests/qgis.rs` checks it).
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

/// One part of a style: the features it draws (`None`: all), their
/// colour, the legend's label, and the suffix of its style layers' ids.
struct Part<'s> {
    suffix: String,
    filter: Option<Value>,
    colour: &'s str,
    label: &'s str,
}

/// The parts of `style`, drawn in this order: values no category or class
/// names first (under the others), then each category or class.
///
/// Each part is a filter and a constant colour rather than one `match` or
/// `step` expression in the paint: QGIS's MapLibre import (3.22, Debian 12)
/// skips `step`, `case` and data-driven `circle-color`, but keeps filters
/// of `==`, `!=`, `has`, `<`, `>=`, `all` and `any`.
fn parts(style: &LayerStyle) -> Vec<Part<'_>> {
    let single = |colour| {
        vec![Part {
            suffix: String::new(),
            filter: None,
            colour,
            label: "",
        }]
    };
    let Some(p) = style.property.as_deref() else {
        return single(&style.color);
    };
    let other = |filter| Part {
        suffix: "-other".to_owned(),
        filter: Some(filter),
        colour: &style.color,
        label: "",
    };
    match style.kind {
        Kind::Single => single(&style.color),
        Kind::Categories => {
            let text = json!(["to-string", ["get", p]]);
            let mut none = vec![json!("all")];
            none.extend(
                style
                    .categories
                    .iter()
                    .map(|c| json!(["!=", text, c.value])),
            );
            let mut out = vec![other(Value::Array(none))];
            out.extend(style.categories.iter().enumerate().map(|(i, c)| Part {
                suffix: format!("-{i}"),
                filter: Some(json!(["==", text, c.value])),
                colour: &c.color,
                label: &c.label,
            }));
            out
        }
        Kind::Classes => {
            let (Some(first), Some(last)) = (style.classes.first(), style.classes.last()) else {
                return single(&style.color);
            };
            let x = json!(["to-number", ["get", p]]);
            let n = style.classes.len();
            // Outside every class: missing, below, above, or in a gap.
            let mut outside = vec![
                json!("any"),
                json!(["!", ["has", p]]),
                json!(["<", x, first.min]),
                json!([">", x, last.max]),
            ];
            outside.extend(
                style
                    .classes
                    .windows(2)
                    .filter(|w| w[0].max < w[1].min)
                    .map(|w| json!(["all", [">", x, w[0].max], ["<", x, w[1].min]])),
            );
            let mut out = vec![other(Value::Array(outside))];
            out.extend(style.classes.iter().enumerate().map(|(i, c)| {
                let upper = if i + 1 == n { "<=" } else { "<" };
                Part {
                    suffix: format!("-{i}"),
                    filter: Some(json!([
                        "all",
                        ["has", p],
                        [">=", x, c.min],
                        [upper, x, c.max]
                    ])),
                    colour: &c.color,
                    label: &c.label,
                }
            }));
            out
        }
    }
}

/// Features of the geometry types `kinds` (and their `Multi` forms).
fn of_kinds(kinds: &[&str]) -> Value {
    let mut any = vec![json!("any")];
    any.extend(
        kinds
            .iter()
            .flat_map(|k| [k.to_string(), format!("Multi{k}")])
            .map(|k| json!(["==", ["geometry-type"], k])),
    );
    Value::Array(any)
}

/// `kinds` and, when given, `part`.
fn filter(kinds: &[&str], part: Option<&Value>) -> Value {
    match part {
        Some(p) => json!(["all", of_kinds(kinds), p]),
        None => of_kinds(kinds),
    }
}

/// The style layers drawing `l`.
fn style_layers(l: &StyledLayer<'_>) -> Vec<Value> {
    let fallback = LayerStyle::single(l.fallback_color);
    let s = l.style.unwrap_or(&fallback);
    let has = |k: &str| {
        l.geometry_types
            .iter()
            .any(|t| t.trim_start_matches("Multi") == k)
    };
    let mut out = Vec::new();
    for part in parts(s) {
        let (c, sfx, f) = (part.colour, &part.suffix, part.filter.as_ref());
        let mut meta = json!({ "bsc:layer": l.id, "bsc:title": l.title });
        if !part.label.is_empty() {
            meta["bsc:class"] = json!(part.label);
        }
        if has("Polygon") {
            out.push(json!({
                "id": format!("{}-fill{sfx}", l.id), "type": "fill", "source": l.id, "source-layer": l.id,
                "filter": filter(&["Polygon"], f), "metadata": meta,
                // The outline again as the fill's: QGIS draws polygons'
                // strokes from it (its import puts `line` layers on lines only).
                "paint": { "fill-color": c, "fill-opacity": s.fill_opacity, "fill-outline-color": c }
            }));
            out.push(json!({
                "id": format!("{}-outline{sfx}", l.id), "type": "line", "source": l.id, "source-layer": l.id,
                "filter": filter(&["Polygon"], f), "metadata": meta,
                "paint": { "line-color": c, "line-width": (s.stroke_width / 2.0).max(0.5) }
            }));
        }
        if has("LineString") {
            out.push(json!({
                "id": format!("{}-line{sfx}", l.id), "type": "line", "source": l.id, "source-layer": l.id,
                "filter": filter(&["LineString"], f), "metadata": meta,
                "layout": { "line-cap": "round", "line-join": "round" },
                "paint": { "line-color": c, "line-width": s.stroke_width }
            }));
        }
        if has("Point") {
            out.push(json!({
                "id": format!("{}-circle{sfx}", l.id), "type": "circle", "source": l.id, "source-layer": l.id,
                "filter": filter(&["Point"], f), "metadata": meta,
                "paint": {
                    "circle-color": c, "circle-radius": s.point_radius,
                    "circle-stroke-color": "#ffffff", "circle-stroke-width": 1
                }
            }));
        }
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
                Some("line")
                    if sl["id"]
                        .as_str()
                        .and_then(|i| i.strip_prefix(l.id))
                        .is_some_and(|rest| rest.starts_with("-outline")) =>
                {
                    0
                }
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
        let layers = doc["layers"].as_array().unwrap();
        let ids: Vec<&str> = layers.iter().map(|l| l["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "background",
                "zona-fill-other",
                "zona-outline-other",
                "zona-fill-0",
                "zona-outline-0",
                "jalan-line",
                "posko-circle-other",
                "posko-circle-0",
                "posko-circle-1",
                "posko-circle-2",
            ]
        );
        assert_eq!(
            doc["sources"]["zona"]["url"],
            "https://peta.example/tiles/zona.json"
        );
        let by_id = |id: &str| layers.iter().find(|l| l["id"] == id).unwrap();
        // A category: its value's filter and colour; the rest: every other value.
        let merah = by_id("zona-fill-0");
        assert_eq!(merah["paint"]["fill-color"], "#d7191c");
        assert_eq!(merah["metadata"]["bsc:class"], "Merah");
        assert_eq!(
            merah["filter"][2],
            json!(["==", ["to-string", ["get", "zona"]], "merah"])
        );
        let rest = by_id("zona-fill-other");
        assert_eq!(rest["paint"]["fill-color"], "#999999");
        assert_eq!(
            rest["filter"][2],
            json!(["all", ["!=", ["to-string", ["get", "zona"]], "merah"]])
        );
        // Classes: from min (included) to max (excluded, but for the last).
        let x = json!(["to-number", ["get", "n"]]);
        let first = by_id("posko-circle-0");
        assert_eq!(
            first["filter"][2],
            json!(["all", ["has", "n"], [">=", x, 0.0], ["<", x, 10.0]])
        );
        assert_eq!(first["paint"]["circle-color"], classes.classes[0].color);
        assert_eq!(
            by_id("posko-circle-2")["filter"][2][3],
            json!(["<=", x, 30.0])
        );
        assert_eq!(
            by_id("posko-circle-other")["filter"][2],
            json!(["any", ["!", ["has", "n"]], ["<", x, 0.0], [">", x, 30.0]])
        );
        let jalan = by_id("jalan-line");
        assert_eq!(jalan["paint"]["line-color"], "#123456");
        assert_eq!(
            jalan["filter"],
            json!([
                "any",
                ["==", ["geometry-type"], "LineString"],
                ["==", ["geometry-type"], "MultiLineString"]
            ])
        );
    }
}
