//! How a layer is drawn: one symbol, categories of a text property, or
//! graduated classes of a numeric property; with colours, line width,
//! point size, fill opacity and a label field.
//!
//! It belongs to a version like the rest of a layer's metadata (named at
//! upload or on a draft, served once published, restored by a rollback).
//! The viewer draws GeoJSON and vector tiles with it and lists each class
//! in the legend; `/styles/{layer}.json` exports it as a MapLibre style.

use serde::{Deserialize, Serialize};

/// Most categories of a categorised style.
pub const MAX_CATEGORIES: usize = 30;
/// Fewest and most classes of a graduated style.
pub const CLASS_RANGE: std::ops::RangeInclusive<usize> = 3..=7;

/// A colour as `#rrggbb`.
pub type Colour = String;

/// What the symbols depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// One symbol for every feature.
    Single,
    /// A colour per value of a text property.
    Categories,
    /// A colour per class of a numeric property.
    Classes,
}

/// One value of a categorised style.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// The property's value (compared as text).
    pub value: String,
    /// What the legend says.
    pub label: String,
    /// Its colour.
    pub color: Colour,
}

/// One class of a graduated style: values from `min` (included) up to
/// `max` (excluded, but included for the last class).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Class {
    /// Lowest value.
    pub min: f64,
    /// Highest value.
    pub max: f64,
    /// What the legend says.
    pub label: String,
    /// Its colour.
    pub color: Colour,
}

/// How classes were cut, for the editor to cut them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Classes of equal width.
    Equal,
    /// Classes of (about) equal counts.
    Quantile,
}

/// How a layer is drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerStyle {
    /// One symbol, categories or classes.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The property categories or classes depend on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// The colour of a single symbol, and of values no category names.
    pub color: Colour,
    /// The categories, in legend order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<Category>,
    /// The classes, ascending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<Class>,
    /// How the classes were cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Line width (lines and outlines), pixels, 0.5-10.
    #[serde(default = "default_width")]
    pub stroke_width: f64,
    /// Point radius, pixels, 2-20.
    #[serde(default = "default_radius")]
    pub point_radius: f64,
    /// Fill opacity of areas, 0-1.
    #[serde(default = "default_opacity")]
    pub fill_opacity: f64,
    /// The property shown as a label, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_field: Option<String>,
}

fn default_width() -> f64 {
    2.0
}
fn default_radius() -> f64 {
    6.0
}
fn default_opacity() -> f64 {
    0.45
}

/// ColorBrewer's YlOrRd, 3 to 7 classes (Cynthia Brewer, Apache-2.0).
const YL_OR_RD: [&[&str]; 5] = [
    &["#ffeda0", "#feb24c", "#f03b20"],
    &["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
    &["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    &[
        "#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026",
    ],
    &[
        "#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026",
    ],
];

impl LayerStyle {
    /// One symbol of `color`.
    pub fn single(color: &str) -> LayerStyle {
        LayerStyle {
            kind: Kind::Single,
            property: None,
            color: color.to_owned(),
            categories: Vec::new(),
            classes: Vec::new(),
            method: None,
            stroke_width: default_width(),
            point_radius: default_radius(),
            fill_opacity: default_opacity(),
            label_field: None,
        }
    }

    /// `n` graduated classes (3-7) of `values` of `property`, cut by
    /// `method`, coloured from yellow to red; `None` without values.
    pub fn graduated(
        property: &str,
        values: &[f64],
        method: Method,
        n: usize,
    ) -> Option<LayerStyle> {
        let n = n.clamp(*CLASS_RANGE.start(), *CLASS_RANGE.end());
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let (lo, hi) = (v[0], v[v.len() - 1]);
        let mut breaks: Vec<f64> = (0..=n)
            .map(|i| match method {
                Method::Equal => lo + (hi - lo) * i as f64 / n as f64,
                Method::Quantile => v[((v.len() - 1) * i) / n],
            })
            .collect();
        breaks.dedup();
        if breaks.len() < 2 {
            breaks = vec![lo, lo + 1.0];
        }
        let palette = YL_OR_RD[(breaks.len() - 1).clamp(3, 7) - 3];
        let classes = breaks
            .windows(2)
            .enumerate()
            .map(|(i, w)| Class {
                min: w[0],
                max: w[1],
                label: format!("{} – {}", short(w[0]), short(w[1])),
                color: palette[i.min(palette.len() - 1)].to_owned(),
            })
            .collect();
        Some(LayerStyle {
            kind: Kind::Classes,
            property: Some(property.to_owned()),
            color: "#bdbdbd".to_owned(),
            classes,
            method: Some(method),
            ..LayerStyle::single("#bdbdbd")
        })
    }

    /// Checks the style; the message names the part and says what to do,
    /// in Indonesian and English.
    pub fn check(&self) -> Result<(), String> {
        let bad = |id: &str, en: &str| Err(format!("gaya: {id} / style: {en}"));
        for c in std::iter::once(&self.color)
            .chain(self.categories.iter().map(|c| &c.color))
            .chain(self.classes.iter().map(|c| &c.color))
        {
            if !is_colour(c) {
                return bad(
                    &format!("warna {c:?} harus ditulis #rrggbb"),
                    &format!("colour {c:?} must be #rrggbb"),
                );
            }
        }
        let ranged = |v: f64, r: std::ops::RangeInclusive<f64>| v.is_finite() && r.contains(&v);
        if !ranged(self.stroke_width, 0.5..=10.0)
            || !ranged(self.point_radius, 2.0..=20.0)
            || !ranged(self.fill_opacity, 0.0..=1.0)
        {
            return bad(
                "tebal garis 0,5-10, jari-jari titik 2-20, keburaman isian 0-1",
                "stroke_width 0.5-10, point_radius 2-20, fill_opacity 0-1",
            );
        }
        let texts = self
            .categories
            .iter()
            .flat_map(|c| [&c.value, &c.label])
            .chain(self.classes.iter().map(|c| &c.label))
            .chain(self.property.iter())
            .chain(self.label_field.iter());
        if texts.into_iter().any(|t| t.chars().count() > 200) {
            return bad(
                "teks paling panjang 200 huruf",
                "texts are at most 200 characters",
            );
        }
        match self.kind {
            Kind::Single => Ok(()),
            _ if self.property.as_deref().is_none_or(str::is_empty) => bad(
                "kategori dan kelas memerlukan properti",
                "categories and classes need a property",
            ),
            Kind::Categories => {
                if self.categories.is_empty() || self.categories.len() > MAX_CATEGORIES {
                    return bad(
                        &format!("1 sampai {MAX_CATEGORIES} kategori"),
                        &format!("1 to {MAX_CATEGORIES} categories"),
                    );
                }
                let mut seen = std::collections::HashSet::new();
                for c in &self.categories {
                    if !seen.insert(&c.value) {
                        return bad(
                            &format!("nilai {:?} muncul dua kali", c.value),
                            &format!("value {:?} appears twice", c.value),
                        );
                    }
                }
                Ok(())
            }
            Kind::Classes => {
                if !CLASS_RANGE.contains(&self.classes.len()) {
                    return bad("3 sampai 7 kelas", "3 to 7 classes");
                }
                let ordered = self
                    .classes
                    .iter()
                    .all(|c| c.min.is_finite() && c.max.is_finite() && c.min < c.max)
                    && self.classes.windows(2).all(|w| w[0].max <= w[1].min);
                if !ordered {
                    return bad(
                        "kelas harus naik: min < max, dan tiap kelas mulai dari akhir kelas sebelumnya",
                        "classes must ascend: min < max, each starting where the one before ends",
                    );
                }
                Ok(())
            }
        }
    }

    /// The colour of a feature whose `property` is `value` (JSON).
    pub fn colour_of(&self, value: Option<&serde_json::Value>) -> &str {
        match (self.kind, value) {
            (Kind::Categories, Some(v)) => {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.categories
                    .iter()
                    .find(|c| c.value == text)
                    .map_or(&self.color, |c| &c.color)
            }
            (Kind::Classes, Some(v)) => {
                let x = v
                    .as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()));
                let last = self.classes.len().saturating_sub(1);
                x.and_then(|x| {
                    self.classes
                        .iter()
                        .enumerate()
                        .find(|(i, c)| x >= c.min && (x < c.max || (*i == last && x <= c.max)))
                })
                .map_or(&self.color, |(_, c)| &c.color)
            }
            _ => &self.color,
        }
    }
}

/// A number as a legend shows it: up to two decimals, no trailing zeros.
fn short(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn is_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn categories_and_classes_colour_features() {
        let s: LayerStyle = serde_json::from_value(json!({
            "type": "categories", "property": "zona", "color": "#999999",
            "categories": [
                {"value": "merah", "label": "Merah", "color": "#d7191c"},
                {"value": "hijau", "label": "Hijau", "color": "#1a9641"}
            ]
        }))
        .unwrap();
        s.check().unwrap();
        assert_eq!(s.colour_of(Some(&json!("merah"))), "#d7191c");
        assert_eq!(s.colour_of(Some(&json!("ungu"))), "#999999");
        assert_eq!(s.colour_of(None), "#999999");
        let g = LayerStyle::graduated(
            "kasus",
            &[0.0, 1.0, 2.0, 10.0, 20.0, 40.0],
            Method::Equal,
            4,
        )
        .unwrap();
        g.check().unwrap();
        assert_eq!(g.classes.len(), 4);
        assert_eq!(g.classes[0].min, 0.0);
        assert_eq!(g.classes[3].max, 40.0);
        assert_eq!(g.colour_of(Some(&json!(0))), g.classes[0].color);
        assert_eq!(
            g.colour_of(Some(&json!(40))),
            g.classes[3].color,
            "the last class includes its max"
        );
        assert_eq!(g.colour_of(Some(&json!("15"))), g.classes[1].color);
        assert_eq!(g.colour_of(Some(&json!(99))), "#bdbdbd");
        let q = LayerStyle::graduated(
            "kasus",
            &[1.0, 1.0, 1.0, 2.0, 3.0, 100.0],
            Method::Quantile,
            5,
        )
        .unwrap();
        q.check().unwrap();
        assert!(LayerStyle::graduated("x", &[], Method::Equal, 3).is_none());
        // The same cuts as the page's editor (web/js/styleedit.js `graduated`;
        // tests/browser checks these labels there).
        let luas = [250.0, 500.0, 750.0, 1000.0, 1250.0, 1500.0];
        let labels = |m| {
            LayerStyle::graduated("luas", &luas, m, 4)
                .unwrap()
                .classes
                .into_iter()
                .map(|c| c.label)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            labels(Method::Equal),
            [
                "250 – 562.5",
                "562.5 – 875",
                "875 – 1187.5",
                "1187.5 – 1500"
            ]
        );
        assert_eq!(labels(Method::Quantile)[0], "250 – 500");
    }

    #[test]
    fn bad_styles_say_what() {
        let mut s = LayerStyle::single("#12345");
        assert!(s.check().unwrap_err().contains("#rrggbb"));
        s.color = "#123456".into();
        s.stroke_width = 50.0;
        assert!(s.check().unwrap_err().contains("stroke_width"));
        s.stroke_width = 2.0;
        s.kind = Kind::Classes;
        assert!(s.check().unwrap_err().contains("property"));
        s.property = Some("n".into());
        assert!(s.check().unwrap_err().contains("3 to 7"));
        s.kind = Kind::Categories;
        s.categories = vec![
            Category {
                value: "a".into(),
                label: "A".into(),
                color: "#000000".into(),
            },
            Category {
                value: "a".into(),
                label: "B".into(),
                color: "#000000".into(),
            },
        ];
        assert!(s.check().unwrap_err().contains("twice"));
        assert!(
            serde_json::from_value::<LayerStyle>(
                json!({"type": "single", "color": "#000000", "x": 1})
            )
            .is_err()
        );
    }
}
