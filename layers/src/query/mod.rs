//! Selecting features of a layer: one [`Query`] (bbox, name, `datetime`,
//! CQL2 filter, paging) and one [`select_page`] that the feature list,
//! the OGC items and the name search all answer from.
//!
//! Selection: the R-tree (the bbox, or else the envelope of a spatial
//! filter), the name, then per candidate the `datetime` and filter,
//! evaluated in Rust against the feature's parsed properties and geometry.
//! The order is stable (file order without a bbox, the layer's spatial
//! order with one), or the name search's ranking, so paging never skips or
//! repeats a feature.

pub mod cql2;
pub mod datetime;

use serde::Deserialize;
use serde_json::Value;

use self::cql2::{Candidate, Node};
use self::datetime::Datetime;
use crate::bbox::Bbox;
use crate::index::LayerData;

/// Selections expected to look at more features than this should run on
/// a blocking thread.
pub const INLINE_SELECT: usize = 20_000;
/// Filtered selections of more candidates than this should run on a
/// blocking thread.
pub const INLINE_FILTER: usize = 2_000;

/// What to select from a layer, and which page of it.
#[derive(Debug, Clone)]
pub struct Query {
    /// Only features whose geometry meets this box.
    pub bbox: Option<Bbox>,
    /// Only features whose display name contains this text (any case).
    pub name_contains: Option<String>,
    /// Only features whose time meets this interval.
    pub datetime: Option<Datetime>,
    /// Only features for which this compiled CQL2 filter (with any
    /// property equalities) is true.
    pub filter: Option<Node>,
    /// The most features on the page.
    pub limit: usize,
    /// Matching features skipped before the page.
    pub offset: usize,
    /// The order of the matches, by these properties in turn (empty: the
    /// stable order above).
    pub sort: Vec<SortKey>,
}

/// One key of a sort: a property, ascending or descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The property sorted by.
    pub property: String,
    /// Largest first.
    pub descending: bool,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            bbox: None,
            name_contains: None,
            datetime: None,
            filter: None,
            limit: usize::MAX,
            offset: 0,
            sort: Vec::new(),
        }
    }
}

impl Query {
    /// Whether the query is cheap enough to run on an async worker rather
    /// than a blocking thread: it looks at few features, and filters fewer.
    pub fn is_light(&self, data: &LayerData) -> bool {
        let estimate = data.estimate(self.bbox);
        estimate <= INLINE_SELECT
            && (estimate <= INLINE_FILTER
                || (self.filter.is_none() && self.datetime.is_none() && self.sort.is_empty()))
    }
}

/// One page of a selection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Handles of the page's features, in order.
    pub items: Vec<u32>,
    /// How many features match in all (`numberMatched`).
    pub number_matched: usize,
    /// The offset of the next page, if there is one.
    pub next: Option<usize>,
}

#[derive(Deserialize)]
struct Parsed {
    #[serde(default)]
    properties: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    geometry: Option<geojson::Geometry>,
}

#[derive(Deserialize)]
struct PropsOnly {
    #[serde(default)]
    properties: Option<serde_json::Map<String, Value>>,
}

/// The page of `data`'s features that `q` asks for. CPU work in
/// proportion to the features looked at: see [`Query::is_light`].
pub fn select_page(data: &LayerData, q: &Query) -> Page {
    let needle = q.name_contains.as_deref().map(str::to_lowercase);
    let pre = q
        .bbox
        .or_else(|| q.filter.as_ref().and_then(Node::envelope));
    let mut matched = data.select(pre, needle.as_deref());
    if q.filter.is_some() || q.datetime.is_some() {
        matched.retain(|&i| selected(data, i, q));
    }
    if !q.sort.is_empty() {
        let needed = q.offset.saturating_add(q.limit);
        sort(data, &mut matched, &q.sort, needed);
    }
    let number_matched = matched.len();
    let start = q.offset.min(number_matched);
    let end = q.offset.saturating_add(q.limit).min(number_matched);
    Page {
        items: matched[start..end].to_vec(),
        number_matched,
        next: (end < number_matched).then_some(end),
    }
}

/// A property's value as a sort key. Across types: booleans, then
/// numbers, then text; a missing or null value sorts after all of them.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Bool(bool),
    Num(f64),
    Text(Box<str>),
    Null,
}

impl Key {
    fn of(v: Option<&Value>) -> Key {
        match v {
            Some(Value::Bool(b)) => Key::Bool(*b),
            Some(Value::Number(n)) => n.as_f64().map_or(Key::Null, Key::Num),
            Some(Value::String(s)) => Key::Text(s.as_str().into()),
            Some(Value::Null) | None => Key::Null,
            // Arrays and objects are not sortable: kept last, in order.
            Some(_) => Key::Null,
        }
    }

    fn order(&self, other: &Key) -> std::cmp::Ordering {
        self.partial_cmp(other).unwrap_or(std::cmp::Ordering::Equal)
    }
}

/// A member name, borrowed from the bytes unless it has escapes.
struct Name<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Name<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(std::borrow::Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Name<'de>, E> {
                Ok(Name(std::borrow::Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads the sort keys out of one feature's properties object: the
/// members named by a key are parsed, every other member is skipped
/// without building it.
struct Pick<'a> {
    keys: &'a [SortKey],
    out: &'a mut [Key],
}

impl<'de> serde::de::DeserializeSeed<'de> for Pick<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Pick<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a properties object or null")
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
            match self.keys.iter().position(|k| k.property == *name) {
                Some(at) => {
                    let v: Value = map.next_value()?;
                    // The last of repeated members wins, as in a map.
                    for (k, slot) in self.keys.iter().zip(self.out.iter_mut()).skip(at) {
                        if k.property == *name {
                            *slot = Key::of(Some(&v));
                        }
                    }
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Orders `handles` by `keys` so that at least the first `needed` are in
/// their final places (the rest follow in no particular order): each
/// feature's properties are read once into one flat array of keys, and
/// positions are ordered by them, ties by the selection's order (so paging
/// is stable). O(n) property reads, O(n + needed log needed) comparisons
/// when `needed` is small, O(n log n) otherwise; the memory is the keys,
/// never the features' JSON. A descending key puts missing values first,
/// as the reverse of ascending.
pub fn sort(data: &LayerData, handles: &mut [u32], keys: &[SortKey], needed: usize) {
    let width = keys.len();
    let mut flat: Vec<Key> = Vec::with_capacity(handles.len() * width);
    for &i in handles.iter() {
        let start = flat.len();
        flat.resize(start + width, Key::Null);
        let mut de = serde_json::Deserializer::from_slice(data.properties_bytes(i));
        let picked = serde::de::DeserializeSeed::deserialize(
            Pick {
                keys,
                out: &mut flat[start..],
            },
            &mut de,
        );
        if picked.is_err() {
            flat[start..].fill(Key::Null);
        }
    }
    let compare = |a: &u32, b: &u32| {
        let (ka, kb) = (
            &flat[*a as usize * width..][..width],
            &flat[*b as usize * width..][..width],
        );
        for ((x, y), k) in ka.iter().zip(kb).zip(keys) {
            let o = x.order(y);
            let o = if k.descending { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        a.cmp(b)
    };
    let mut order: Vec<u32> = (0..u32::try_from(handles.len()).unwrap_or(u32::MAX)).collect();
    if needed > 0 && needed < order.len() / 2 {
        order.select_nth_unstable_by(needed - 1, compare);
        order[..needed].sort_unstable_by(compare);
    } else {
        order.sort_unstable_by(compare);
    }
    let before: Vec<u32> = handles.to_vec();
    for (slot, pos) in handles.iter_mut().zip(order) {
        *slot = before[pos as usize];
    }
}

/// Whether the feature with handle `i` passes the `datetime` and filter of `q`.
fn selected(data: &LayerData, i: u32, q: &Query) -> bool {
    let bytes = data.feature_bytes(i);
    let geometry = q.filter.as_ref().is_some_and(Node::needs_geometry);
    let (props, geom) = if geometry {
        match serde_json::from_slice::<Parsed>(bytes) {
            Ok(p) => (
                p.properties,
                p.geometry
                    .and_then(|g| geo::Geometry::<f64>::try_from(g).ok()),
            ),
            Err(_) => return false,
        }
    } else {
        match serde_json::from_slice::<PropsOnly>(bytes) {
            Ok(p) => (p.properties, None),
            Err(_) => return false,
        }
    };
    if let Some(d) = &q.datetime
        && !d.matches(props.as_ref())
    {
        return false;
    }
    match &q.filter {
        None => true,
        Some(f) => {
            f.eval(&Candidate {
                properties: props.as_ref(),
                geometry: geom,
            }) == Some(true)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::index::build::LayerBuilder;
    use crate::model::FeatureRow;
    use crate::model::VersionInfo;

    /// Twenty points on a line of longitude 115.0 .. 115.19, ids 1..=20,
    /// names "Pura 1" .. "Pura 20", `nomor` 1..=20, `tahun` 2001..=2020.
    fn layer() -> LayerData {
        let mut b = LayerBuilder::new(VersionInfo {
            id: 1,
            version: 1,
            feature_count: 0,
            geometry_types: vec![],
            bbox: None,
            created_at: String::new(),
            photos_rev: 0,
        });
        for n in 1..=20 {
            let x = 115.0 + f64::from(n - 1) / 100.0;
            b.push(FeatureRow {
                fid: n.to_string(),
                fid_json: n.to_string(),
                geometry: Some(format!(r#"{{"type":"Point","coordinates":[{x},-8.5]}}"#)),
                properties: format!(r#"{{"nama":"Pura {n}","nomor":{n},"tahun":{}}}"#, 2000 + n),
                name: Some(format!("Pura {n}")),
                bbox: Some([x, -8.5, x, -8.5]),
            })
            .unwrap();
        }
        let mut fields = serde_json::Map::new();
        fields.insert("nama".into(), "String".into());
        fields.insert("nomor".into(), "Number".into());
        fields.insert("tahun".into(), "Number".into());
        b.set_fields(fields);
        b.finish().unwrap()
    }

    /// The `nomor` of each handle.
    fn numbers(l: &LayerData, items: &[u32]) -> Vec<i64> {
        let mut v: Vec<i64> = items
            .iter()
            .map(|&i| {
                let f: Value = serde_json::from_slice(l.feature_bytes(i)).unwrap();
                f["properties"]["nomor"].as_i64().unwrap()
            })
            .collect();
        v.sort_unstable();
        v
    }

    fn filter(l: &LayerData, text: &str) -> Option<Node> {
        Some(cql2::compile(text, "cql2-text", l.fields()).unwrap())
    }

    #[test]
    fn pages_through_every_match_once() {
        let l = layer();
        let mut seen = Vec::new();
        let mut offset = Some(0);
        while let Some(o) = offset {
            let p = select_page(
                &l,
                &Query {
                    limit: 7,
                    offset: o,
                    ..Query::default()
                },
            );
            assert_eq!(p.number_matched, 20);
            assert!(p.items.len() <= 7);
            seen.extend(p.items);
            offset = p.next;
        }
        assert_eq!(numbers(&l, &seen), (1..=20).collect::<Vec<_>>());
        // Past the end: an empty page that still counts the matches.
        let p = select_page(
            &l,
            &Query {
                limit: 5,
                offset: 40,
                ..Query::default()
            },
        );
        assert_eq!((p.items.len(), p.number_matched, p.next), (0, 20, None));
        // The last full page has no next one.
        let p = select_page(
            &l,
            &Query {
                limit: 10,
                offset: 10,
                ..Query::default()
            },
        );
        assert_eq!((p.items.len(), p.next), (10, None));
    }

    #[test]
    fn bbox_and_filter_combine() {
        let l = layer();
        // The box holds nomor 1..=10; the filter keeps the even ones above 4.
        let q = Query {
            bbox: Some("114.9,-9,115.095,-8".parse().unwrap()),
            filter: filter(&l, "nomor > 4 AND nomor IN (2, 4, 6, 8, 10, 12)"),
            limit: 2,
            ..Query::default()
        };
        let p = select_page(&l, &q);
        assert_eq!(p.number_matched, 3);
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.next, Some(2));
        let rest = select_page(&l, &Query { offset: 2, ..q });
        let mut all = p.items;
        all.extend(rest.items);
        assert_eq!(numbers(&l, &all), vec![6, 8, 10]);
        // A spatial filter alone narrows the R-tree lookup to its envelope.
        let q = Query {
            filter: filter(&l, "S_INTERSECTS(geometry, BBOX(115.015, -9, 115.035, -8))"),
            ..Query::default()
        };
        assert!(q.filter.as_ref().unwrap().envelope().is_some());
        assert_eq!(numbers(&l, &select_page(&l, &q).items), vec![3, 4]);
    }

    #[test]
    fn datetime_and_name_select() {
        let l = layer();
        let q = Query {
            datetime: Some(Datetime::parse("2018-06-01/..", l.fields(), "pura").unwrap()),
            name_contains: Some("PURA 1".into()),
            ..Query::default()
        };
        let p = select_page(&l, &q);
        assert_eq!(numbers(&l, &p.items), vec![18, 19]);
        assert_eq!(p.number_matched, 2);
    }

    #[test]
    fn sorts_by_several_keys() {
        let l = layer();
        let nomor = |items: &[u32]| -> Vec<i64> {
            items
                .iter()
                .map(|&i| {
                    let f: Value = serde_json::from_slice(l.feature_bytes(i)).unwrap();
                    f["properties"]["nomor"].as_i64().unwrap()
                })
                .collect()
        };
        let q = Query {
            sort: vec![SortKey {
                property: "nomor".into(),
                descending: true,
            }],
            limit: 3,
            offset: 1,
            ..Query::default()
        };
        assert_eq!(nomor(&select_page(&l, &q).items), vec![19, 18, 17]);
        // Text order: "Pura 1" < "Pura 10" < ... < "Pura 2"; a missing key last.
        let q = Query {
            sort: vec![
                SortKey {
                    property: "absent".into(),
                    descending: false,
                },
                SortKey {
                    property: "nama".into(),
                    descending: false,
                },
            ],
            limit: 4,
            ..Query::default()
        };
        assert_eq!(nomor(&select_page(&l, &q).items), vec![1, 10, 11, 12]);
    }

    #[test]
    fn heavy_queries_are_told_apart() {
        let l = layer();
        assert!(Query::default().is_light(&l));
        assert!(
            Query {
                filter: filter(&l, "nomor = 1"),
                ..Query::default()
            }
            .is_light(&l)
        );
    }
}
