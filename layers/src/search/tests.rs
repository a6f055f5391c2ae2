use super::*;
use crate::index::build::LayerBuilder;
use crate::model::{FeatureRow, VersionInfo};

fn version(n: usize) -> VersionInfo {
    VersionInfo {
        id: 1,
        version: 1,
        feature_count: n as i64,
        geometry_types: vec![],
        bbox: None,
        created_at: String::new(),
        photos_rev: 0,
    }
}

fn layer(places: &[(&str, [f64; 2])]) -> LayerData {
    let mut b = LayerBuilder::new(version(places.len()));
    for (i, (name, [x, y])) in places.iter().enumerate() {
        b.push(FeatureRow {
            fid: (i + 1).to_string(),
            fid_json: (i + 1).to_string(),
            geometry: Some(format!(r#"{{"type":"Point","coordinates":[{x},{y}]}}"#)),
            properties: serde_json::json!({ "nama": name }).to_string(),
            name: Some((*name).to_owned()),
            bbox: Some([*x, *y, *x, *y]),
        })
        .unwrap();
    }
    b.finish().unwrap()
}

const KUTA: [f64; 2] = [115.17, -8.72];
const MENGWI: [f64; 2] = [115.18, -8.55];

struct World {
    layers: Vec<(LayerData, [&'static str; 2], [&'static str; 2])>,
    names: Vec<NameIndex>,
}

impl World {
    fn new() -> World {
        let layers = vec![
            (
                layer(&[
                    ("SD Negeri 1 Kuta", KUTA),
                    ("SD Negeri 2 Mengwi", MENGWI),
                    ("SMP Negeri 1 Kuta", [115.171, -8.721]),
                ]),
                ["Sekolah", "Schools"],
                ["Pendidikan", "Education"],
            ),
            (
                layer(&[
                    ("Kuta Beach", [115.168, -8.718]),
                    ("Pantai Petitenget", [115.15, -8.68]),
                    ("Jimbaran Beach", [115.16, -8.78]),
                ]),
                ["Pantai", "Beaches"],
                ["Pariwisata", "Tourism"],
            ),
            (
                layer(&[("PJU Kutaraya 1", KUTA), ("PJU Jalan Kuta 3", KUTA)]),
                ["Lampu penerangan jalan", "Street lights"],
                ["Infrastruktur", "Infrastructure"],
            ),
            (
                layer(&[("Pura Dalem Jérman", MENGWI), ("Pura Puseh", MENGWI)]),
                ["Pura", "Hindu temples"],
                ["Tempat ibadah", "Places of worship"],
            ),
        ];
        let names = layers.iter().map(|l| NameIndex::build(&l.0)).collect();
        World { layers, names }
    }

    fn sources(&self) -> Vec<Source<'_>> {
        self.layers
            .iter()
            .zip(&self.names)
            .map(|((data, titles, category_titles), names)| Source {
                data,
                names,
                titles: *titles,
                category_titles: *category_titles,
            })
            .collect()
    }

    /// Results as "layer title" or "feature name".
    fn find(&self, q: &str, near: Option<[f64; 2]>, limit: usize) -> Vec<String> {
        let sources = self.sources();
        search(&Query::parse(q).unwrap(), &sources, near, limit)
            .into_iter()
            .map(|h| match h.found {
                Found::Layer => format!("layer {}", sources[h.source].titles[0]),
                Found::Feature { index, .. } => {
                    sources[h.source].data.name(index).unwrap().to_owned()
                }
            })
            .collect()
    }
}

#[test]
fn a_layer_title_finds_the_layer_then_its_features() {
    let w = World::new();
    let got = w.find("sekolah", None, 10);
    assert_eq!(got[0], "layer Sekolah");
    assert_eq!(got.len(), 4, "{got:?}");
    // By the English title and the category too.
    assert_eq!(w.find("schools", None, 1), ["layer Sekolah"]);
    assert_eq!(w.find("pendidikan", None, 10).len(), 4);
}

#[test]
fn words_may_match_the_layer_and_the_name() {
    let w = World::new();
    assert_eq!(w.find("pantai kuta", None, 1), ["Kuta Beach"]);
    assert_eq!(w.find("beach kuta", None, 1), ["Kuta Beach"]);
    // The other language's word.
    assert_eq!(w.find("beach petitenget", None, 5), ["Pantai Petitenget"]);
    // A name holding both words beats one that needs its layer's title.
    let got = w.find("pantai petitenget", None, 5);
    assert_eq!(got, ["Pantai Petitenget"]);
}

#[test]
fn whole_words_before_prefixes_and_typos() {
    let w = World::new();
    let got = w.find("kuta", None, 20);
    let prefix = got.iter().position(|n| n == "PJU Kutaraya 1").unwrap();
    for exact in ["Kuta Beach", "SD Negeri 1 Kuta", "PJU Jalan Kuta 3"] {
        let at = got.iter().position(|n| n == exact).unwrap();
        assert!(at < prefix, "{exact} before the prefix match: {got:?}");
    }
    // Fewer words first among equals.
    assert_eq!(got[0], "Kuta Beach");
    // The word being typed matches as a prefix; earlier words do not.
    assert_eq!(w.find("jimba", None, 5), ["Jimbaran Beach"]);
    assert!(w.find("jimba beach", None, 5).is_empty());
}

#[test]
fn typos_are_forgiven_by_word_length() {
    let w = World::new();
    // One edit from 4 letters, two from 8; a transposition counts one.
    assert_eq!(w.find("petitnget", None, 1), ["Pantai Petitenget"]);
    assert_eq!(w.find("pantia", None, 1), ["layer Pantai"]);
    assert_eq!(w.find("jimbarn", None, 1), ["Jimbaran Beach"]);
    assert_eq!(w.find("pusehh", None, 1), ["Pura Puseh"]);
    // Too short for a typo, and digits must be exact.
    assert!(w.find("pur", None, 5).iter().all(|n| n.contains("Pura")));
    assert!(w.find("sd negeri 7", None, 5).is_empty());
    // The name holding the word before the feature that needs its layer's title.
    assert_eq!(
        w.find("jalan", None, 3),
        [
            "layer Lampu penerangan jalan",
            "PJU Jalan Kuta 3",
            "PJU Kutaraya 1"
        ]
    );
}

#[test]
fn case_and_accents_fold() {
    let w = World::new();
    for q in ["jerman", "JÉRMAN", "Jerman", "jérman"] {
        assert_eq!(w.find(q, None, 1), ["Pura Dalem Jérman"], "{q}");
    }
}

#[test]
fn near_orders_equal_matches_by_distance() {
    let w = World::new();
    assert_eq!(w.find("sd", Some(MENGWI), 1), ["SD Negeri 2 Mengwi"]);
    assert_eq!(w.find("sd", Some(KUTA), 1), ["SD Negeri 1 Kuta"]);
    let sources = w.sources();
    let hits = search(&Query::parse("sd").unwrap(), &sources, Some(KUTA), 2);
    let Found::Feature { distance_m, .. } = hits[1].found else {
        panic!("{hits:?}")
    };
    // Kuta to Mengwi is about 19 km.
    let d = distance_m.unwrap();
    assert!((18_000.0..20_000.0).contains(&d), "{d}");
}

#[test]
fn empty_and_long_queries() {
    let w = World::new();
    assert!(w.find("🙂 -- ?", None, 5).is_empty());
    assert!(w.find("kuta", None, 0).is_empty());
    assert_eq!(
        Query::parse("a b c d e f g h i").unwrap_err(),
        Error::TooManyWords
    );
}

#[test]
fn the_best_survive_the_cut() {
    // More candidates than the bounded list holds: the nearest must win
    // whatever the order the layers and features are visited in.
    let mut rng = 7u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 100_000) as f64 / 100_000.0
    };
    let places: Vec<(String, [f64; 2])> = (0..5000)
        .map(|i| (format!("Titik {i}"), [115.0 + next(), -8.5 - next()]))
        .collect();
    let refs: Vec<(&str, [f64; 2])> = places.iter().map(|(n, p)| (n.as_str(), *p)).collect();
    let data = layer(&refs);
    let names = NameIndex::build(&data);
    let sources = [Source {
        data: &data,
        names: &names,
        titles: ["Titik", "Points"],
        category_titles: ["Umum", "General"],
    }];
    let near = [115.5, -9.0];
    let hits = search(&Query::parse("titik").unwrap(), &sources, Some(near), 7);
    let mut want: Vec<f64> = (0..5000u32)
        .map(|i| metres(near, names.centre(i).unwrap()))
        .collect();
    want.sort_by(f64::total_cmp);
    let got: Vec<f64> = hits
        .iter()
        .filter_map(|h| match h.found {
            Found::Feature { distance_m, .. } => distance_m,
            Found::Layer => None,
        })
        .collect();
    assert_eq!(hits[0].found, Found::Layer);
    assert_eq!(got, want[..6]);
}
