//! The deterministic synthetic Badung data set behind `bsc serve --demo`.
//!
//! Every generated feature lies inside the real regency boundary (GADM 4.1
//! level 2, in `layers/data/`), and its `kecamatan` property is the real
//! kecamatan (GADM level 3) that contains it. The same size and seed always
//! give the same features, so screenshots, tests and benchmarks compare.
//!
//! This module generates the features and picks the features that get a
//! photo; `picture` paints the photos.

use std::io::Cursor;

use serde_json::{Map, Value, json};

use crate::error::Result;
use crate::ingest::Limits;
use crate::model::about::{Frequency, LayerAbout};
use crate::model::style::{
    Category as StyleCategory, Kind as StyleKind, LayerStyle, Method as StyleMethod,
};
use crate::model::{LayerSpec, Visibility};
use crate::regency::{BOUNDARY_GEOJSON, KECAMATAN_GEOJSON};
use crate::staging::{ImportReport, import_geojson};
use crate::store::Store;
use picture::{Scene, picture};
use rng::Rng;

mod picture;
mod rng;

/// Seven real beaches of Badung from OpenStreetMap (ODbL).
pub const BEACHES_GEOJSON: &str = include_str!("../../data/beaches.geojson");

/// Default number of generated features.
pub const DEFAULT_FEATURES: usize = 20_000;

/// Seed of the demo data set `bsc serve --demo` loads: fixed, so every
/// demo server (and every test that loads the demo) shows the same map.
pub const SEED: u64 = 20_260_101;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Point,
    Line,
    Polygon,
}

struct LayerDef {
    id: &'static str,
    category: &'static str,
    title_id: &'static str,
    title_en: &'static str,
    agency: &'static str,
    kind: Kind,
    share: f64,
    prefix: &'static str,
    internal: bool,
}

// One argument per column keeps the LAYERS table below readable as a table.
#[allow(clippy::too_many_arguments)]
#[rustfmt::skip]
const fn def(id: &'static str, category: &'static str, title_id: &'static str, title_en: &'static str,
             agency: &'static str, kind: Kind, share: f64, prefix: &'static str) -> LayerDef {
    LayerDef { id, category, title_id, title_en, agency, kind, share, prefix, internal: false }
}

#[rustfmt::skip]
const LAYERS: &[LayerDef] = &[
    def("kantor-pemerintah", "general", "Kantor pemerintahan", "Government offices", "Bagian Umum", Kind::Point, 0.01, "Kantor Desa"),
    def("jalan", "infrastructure", "Jaringan jalan", "Road network", "Dinas PUPR", Kind::Line, 0.14, "Jalan"),
    def("saluran-irigasi", "infrastructure", "Saluran irigasi", "Irrigation channels", "Dinas PUPR", Kind::Line, 0.05, "Saluran"),
    def("lampu-jalan", "infrastructure", "Lampu penerangan jalan", "Street lights", "Dinas Perhubungan", Kind::Point, 0.12, "PJU"),
    def("posko-covid", "covid-19-response", "Posko dan vaksinasi COVID-19", "COVID-19 posts and vaccination sites", "Dinas Kesehatan", Kind::Point, 0.02, "Posko"),
    LayerDef { internal: true, ..def("zona-covid", "covid-19-response", "Zona risiko COVID-19 per banjar", "COVID-19 risk zones by banjar", "Dinas Kesehatan", Kind::Polygon, 0.02, "Banjar") },
    def("objek-wisata", "tourism", "Objek wisata", "Tourist attractions", "Dinas Pariwisata", Kind::Point, 0.04, "Objek Wisata"),
    def("akomodasi", "tourism", "Hotel dan akomodasi", "Hotels and lodging", "Dinas Pariwisata", Kind::Point, 0.08, "Hotel"),
    def("subak", "agriculture-plantation", "Subak dan sawah", "Subak rice fields", "Dinas Pertanian", Kind::Polygon, 0.07, "Subak"),
    def("perikanan", "fisheries-livestock", "Usaha perikanan dan peternakan", "Fisheries and livestock", "Dinas Perikanan", Kind::Point, 0.02, "Kelompok Nelayan"),
    def("simpang-lalu-lintas", "traffic", "Simpang dan CCTV lalu lintas", "Junctions and traffic cameras", "Dinas Perhubungan", Kind::Point, 0.03, "Simpang"),
    def("pasar-umkm", "economy", "Pasar dan UMKM", "Markets and small businesses", "Dinas Koperasi UMKM", Kind::Point, 0.05, "Pasar"),
    def("sekolah", "education", "Sekolah", "Schools", "Dinas Pendidikan", Kind::Point, 0.05, "SD Negeri"),
    def("panti-sosial", "social", "Panti dan layanan sosial", "Social care homes and services", "Dinas Sosial", Kind::Point, 0.01, "Panti"),
    LayerDef { internal: true, ..def("bantuan-sosial", "social", "Penerima bantuan sosial (agregat banjar)", "Social aid (banjar aggregates)", "Dinas Sosial", Kind::Polygon, 0.02, "Banjar") },
    def("fasilitas-kesehatan", "health", "Fasilitas kesehatan", "Health facilities", "Dinas Kesehatan", Kind::Point, 0.03, "Puskesmas Pembantu"),
    def("sanggar-seni", "arts-culture", "Sanggar seni dan budaya", "Arts and culture studios", "Dinas Kebudayaan", Kind::Point, 0.02, "Sanggar"),
    def("pura", "places-of-worship", "Pura", "Hindu temples", "Dinas Kebudayaan", Kind::Point, 0.15, "Pura"),
    def("tempat-ibadah-lain", "places-of-worship", "Tempat ibadah lain", "Other places of worship", "Bagian Kesra", Kind::Point, 0.03, "Tempat Ibadah"),
    def("setra", "setra-cemeteries", "Setra dan kuburan", "Setra and cemeteries", "Dinas Perumahan", Kind::Polygon, 0.04, "Setra"),
];

/// Well-known places of Badung that people search for by name, placed
/// over the first synthetic features of their layer (so the layer sizes
/// do not change). Coordinates are approximate (to about 100 m), typed
/// for the demo from public maps; each says so in its `sumber`.
const LANDMARKS: &[(&str, &str, [f64; 2])] = &[
    ("objek-wisata", "Pantai Kuta", [115.1686, -8.7184]),
    ("objek-wisata", "Pantai Legian", [115.1660, -8.7060]),
    ("objek-wisata", "Pantai Seminyak", [115.1575, -8.6910]),
    ("objek-wisata", "Pantai Berawa", [115.1395, -8.6640]),
    ("objek-wisata", "Pantai Pandawa", [115.1860, -8.8450]),
    ("objek-wisata", "Pantai Melasti", [115.1680, -8.8480]),
    ("objek-wisata", "Pantai Tanjung Benoa", [115.2140, -8.7580]),
    ("objek-wisata", "Garuda Wisnu Kencana", [115.1669, -8.8104]),
    ("objek-wisata", "Alas Pala Sangeh", [115.2066, -8.4817]),
    ("pura", "Pura Luhur Uluwatu", [115.0849, -8.8291]),
    ("pura", "Pura Taman Ayun", [115.1733, -8.5418]),
    ("fasilitas-kesehatan", "RSD Mangusada", [115.1760, -8.5850]),
    (
        "kantor-pemerintah",
        "Pusat Pemerintahan Kabupaten Badung",
        [115.1790, -8.5980],
    ),
];

const SYLLABLES: &[&str] = &[
    "ba", "du", "ng", "ku", "ta", "se", "mi", "nya", "pe", "tang", "sem", "al", "ka", "ran", "da",
    "lung", "ji", "mba", "nu", "sa", "ga", "pu", "ra", "de", "wa", "ngi", "ke", "bu", "le", "gi",
    "an",
];

/// Desa (villages) of each kecamatan, for realistic addresses.
const DESA: &[(&str, &[&str])] = &[
    (
        "Kuta Selatan",
        &[
            "Jimbaran",
            "Benoa",
            "Tanjung Benoa",
            "Ungasan",
            "Kutuh",
            "Pecatu",
        ],
    ),
    (
        "Kuta",
        &["Kuta", "Legian", "Seminyak", "Kedonganan", "Tuban"],
    ),
    (
        "Kuta Utara",
        &[
            "Kerobokan",
            "Kerobokan Kelod",
            "Kerobokan Kaja",
            "Canggu",
            "Dalung",
            "Tibubeneng",
        ],
    ),
    (
        "Mengwi",
        &[
            "Mengwi",
            "Kapal",
            "Abianbase",
            "Sempidi",
            "Sading",
            "Lukluk",
            "Munggu",
            "Cemagi",
        ],
    ),
    (
        "Abiansemal",
        &[
            "Abiansemal",
            "Blahkiuh",
            "Sangeh",
            "Ayunan",
            "Mambal",
            "Sibang Gede",
            "Darmasaba",
        ],
    ),
    (
        "Petang",
        &[
            "Petang",
            "Pelaga",
            "Belok Sidan",
            "Carangsari",
            "Getasan",
            "Pangsan",
            "Sulangai",
        ],
    ),
];

/// One generated layer: how to import it and its GeoJSON text.
pub struct DemoLayer {
    /// Layer id, category, titles, agency, visibility.
    pub spec: LayerSpec,
    /// A GeoJSON FeatureCollection.
    pub geojson: String,
}

/// A polygon set prepared for fast point-in-polygon tests: edges bucketed
/// into horizontal bands, so a test looks at a few dozen edges, not
/// thousands. Even-odd rule over all rings, so holes are handled.
struct Region {
    miny: f64,
    band: f64,
    bbox: [f64; 4],
    bands: Vec<Vec<[f64; 4]>>,
}

impl Region {
    fn new(geometry: &Value) -> Region {
        let mut edges = Vec::new();
        let polys: Vec<&Value> = match geometry["type"].as_str() {
            Some("MultiPolygon") => geometry["coordinates"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
            _ => vec![&geometry["coordinates"]],
        };
        for poly in polys {
            for ring in poly.as_array().into_iter().flatten() {
                let pts: Vec<[f64; 2]> = ring
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| Some([p[0].as_f64()?, p[1].as_f64()?]))
                    .collect();
                for w in pts.windows(2) {
                    edges.push([w[0][0], w[0][1], w[1][0], w[1][1]]);
                }
            }
        }
        let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for e in &edges {
            bbox = [
                bbox[0].min(e[0]),
                bbox[1].min(e[1]),
                bbox[2].max(e[0]),
                bbox[3].max(e[1]),
            ];
        }
        let n = 512;
        let band = (bbox[3] - bbox[1]) / n as f64;
        let mut bands = vec![Vec::new(); n];
        for e in edges {
            let (lo, hi) = (e[1].min(e[3]), e[1].max(e[3]));
            let a = (((lo - bbox[1]) / band) as usize).min(n - 1);
            let b = (((hi - bbox[1]) / band) as usize).min(n - 1);
            for slot in &mut bands[a..=b] {
                slot.push(e);
            }
        }
        Region {
            miny: bbox[1],
            band,
            bbox,
            bands,
        }
    }

    fn contains(&self, x: f64, y: f64) -> bool {
        if x < self.bbox[0] || x > self.bbox[2] || y < self.bbox[1] || y > self.bbox[3] {
            return false;
        }
        let i = (((y - self.miny) / self.band) as usize).min(self.bands.len() - 1);
        let mut inside = false;
        for &[x1, y1, x2, y2] in &self.bands[i] {
            if (y1 > y) != (y2 > y) && x < (x2 - x1) * (y - y1) / (y2 - y1) + x1 {
                inside = !inside;
            }
        }
        inside
    }
}

struct Generator {
    rng: Rng,
    regency: Region,
    kecamatan: Vec<(String, Region)>,
}

impl Generator {
    fn new(seed: u64) -> Generator {
        let boundary: Value = serde_json::from_str(BOUNDARY_GEOJSON).unwrap_or_default();
        let kec: Value = serde_json::from_str(KECAMATAN_GEOJSON).unwrap_or_default();
        let regency = Region::new(&boundary["features"][0]["geometry"]);
        let kecamatan = kec["features"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    f["properties"]["kecamatan"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    Region::new(&f["geometry"]),
                )
            })
            .collect();
        Generator {
            rng: Rng(seed),
            regency,
            kecamatan,
        }
    }

    fn point(&mut self) -> [f64; 2] {
        let [minx, miny, maxx, maxy] = self.regency.bbox;
        loop {
            let x = minx + self.rng.f64() * (maxx - minx);
            let y = miny + self.rng.f64() * (maxy - miny);
            if self.regency.contains(x, y) {
                return [round7(x), round7(y)];
            }
        }
    }

    fn all_inside(&self, pts: &[[f64; 2]]) -> bool {
        pts.iter().all(|p| self.regency.contains(p[0], p[1]))
    }

    fn line(&mut self, start: [f64; 2]) -> Option<Vec<[f64; 2]>> {
        let n = self.rng.range(4, 25);
        let mut heading = self.rng.f64() * std::f64::consts::TAU;
        let mut pts = vec![start];
        let [mut x, mut y] = start;
        for _ in 0..n {
            heading += (self.rng.f64() - 0.5) * 0.8;
            x += 0.0004 * heading.cos();
            y += 0.0004 * heading.sin();
            pts.push([round7(x), round7(y)]);
        }
        self.all_inside(&pts).then_some(pts)
    }

    fn polygon(&mut self, c: [f64; 2], radius: f64) -> Option<Vec<[f64; 2]>> {
        let n = self.rng.range(6, 24);
        let mut pts: Vec<[f64; 2]> = (0..n)
            .map(|k| {
                let a = std::f64::consts::TAU * k as f64 / n as f64;
                let r = radius * (0.6 + 0.4 * self.rng.f64());
                [round7(c[0] + r * a.cos()), round7(c[1] + r * a.sin())]
            })
            .collect();
        pts.push(pts[0]);
        self.all_inside(&pts).then_some(pts)
    }

    fn geometry(&mut self, kind: Kind, radius: f64) -> (Value, [f64; 2]) {
        loop {
            let c = self.point();
            let g = match kind {
                Kind::Point => Some(json!({"type": "Point", "coordinates": c})),
                Kind::Line => self
                    .line(c)
                    .map(|p| json!({"type": "LineString", "coordinates": p})),
                Kind::Polygon => self
                    .polygon(c, radius)
                    .map(|p| json!({"type": "Polygon", "coordinates": [p]})),
            };
            if let Some(g) = g {
                return (g, c);
            }
        }
    }

    fn word(&mut self) -> String {
        let n = self.rng.range(2, 3);
        let w: String = (0..n).map(|_| *self.rng.pick(SYLLABLES)).collect();
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }

    fn kecamatan_of(&self, p: [f64; 2]) -> &str {
        self.kecamatan
            .iter()
            .find(|(_, r)| r.contains(p[0], p[1]))
            .map(|(n, _)| n.as_str())
            // Points on a shared edge may fall between the GADM polygons.
            .unwrap_or("Mengwi")
    }

    fn properties(&mut self, l: &LayerDef, at: [f64; 2]) -> Map<String, Value> {
        let kecamatan = self.kecamatan_of(at).to_owned();
        let desa_list = DESA
            .iter()
            .find(|(k, _)| *k == kecamatan)
            .map(|(_, d)| *d)
            .unwrap_or(&["Mengwi"]);
        let desa = (*self.rng.pick(desa_list)).to_owned();
        // A school is named after its level (SD Negeri, SMP Negeri, …): the
        // level is drawn here, where the other layers draw nothing, and not
        // again below, so every layer after it stays as it was.
        let level = (l.id == "sekolah").then(|| *self.rng.pick(&["SD", "SMP", "SMA", "SMK"]));
        let word = self.word();
        let name = match (l.id, level) {
            (_, Some(level)) => format!("{level} Negeri {word}"),
            // Fisher and fish-farmer groups, by the word (no draw).
            ("perikanan", _) if word.len().is_multiple_of(2) => format!("Kelompok Nelayan {word}"),
            ("perikanan", _) => format!("Kelompok Pembudidaya Ikan {word}"),
            _ => format!("{} {word}", l.prefix),
        };
        let street = self.word();
        let mut p = Map::new();
        p.insert("nama".into(), json!(name));
        p.insert("kecamatan".into(), json!(kecamatan));
        p.insert("desa".into(), json!(desa));
        p.insert(
            "alamat".into(),
            json!(format!(
                "Jl. {street} No. {}, {desa}",
                self.rng.range(1, 200)
            )),
        );
        p.insert("opd".into(), json!(l.agency));
        let note = *self.rng.pick(&[
            "",
            "Data survei lapangan",
            "Diperbarui triwulan ini",
            "Perlu verifikasi",
        ]);
        p.insert("keterangan".into(), json!(note));
        p.insert("tahun_data".into(), json!(self.rng.range(2019, 2025)));
        match l.id {
            "jalan" => {
                p.insert(
                    "status_jalan".into(),
                    json!(
                        *self
                            .rng
                            .pick(&["nasional", "provinsi", "kabupaten", "desa"])
                    ),
                );
                p.insert(
                    "lebar_m".into(),
                    json!(*self.rng.pick(&[3.0, 4.5, 6.0, 7.0, 12.0])),
                );
            }
            "posko-covid" | "zona-covid" => {
                p.insert(
                    "zona".into(),
                    json!(*self.rng.pick(&["hijau", "kuning", "oranye", "merah"])),
                );
                p.insert("kasus_aktif".into(), json!(self.rng.range(0, 40)));
            }
            "bantuan-sosial" => {
                p.insert("penerima_kk".into(), json!(self.rng.range(5, 300)));
            }
            "akomodasi" | "objek-wisata" | "sanggar-seni" | "pura" => {
                let stars = (30 + self.rng.range(0, 20)) as f64 / 10.0;
                // Nobody rates a temple with stars: the draw stays, so the
                // layers after it stay as they were.
                if l.id != "pura" {
                    p.insert("rating".into(), json!(stars));
                }
            }
            "sekolah" => {
                p.insert("jenjang".into(), json!(level.unwrap_or("SD")));
                p.insert("jumlah_siswa".into(), json!(self.rng.range(80, 1200)));
            }
            _ => {}
        }
        p
    }
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// Generates the demo layers: the real regency and kecamatan boundaries,
/// the real beaches, and `features` synthetic features spread over 20
/// layers in all 14 categories (two of them internal).
pub fn generate(features: usize, seed: u64) -> Vec<DemoLayer> {
    let mut g = Generator::new(seed);
    // The COVID posts' opening dates come from their own stream, so the
    // other layers' features stay as they were before the posts had dates.
    let mut dates = Rng(seed ^ OPENING_DATES_STREAM);
    let mut out = vec![
        real(
            "batas-kabupaten",
            "Batas Kabupaten Badung",
            "Badung regency boundary",
            BOUNDARY_GEOJSON,
        ),
        real(
            "batas-kecamatan",
            "Batas kecamatan",
            "Kecamatan (district) boundaries",
            KECAMATAN_GEOJSON,
        ),
        DemoLayer {
            spec: spec(
                "pantai",
                "tourism",
                "Pantai",
                "Beaches",
                "Dinas Pariwisata",
                Visibility::Public,
            )
            .with_about(LayerAbout {
                keywords: vec!["pantai".to_owned(), "wisata".to_owned(), "beach".to_owned()],
                contact_unit: Some("Dinas Pariwisata".to_owned()),
                ..real_about(
                    "OpenStreetMap",
                    "ODbL-1.0",
                    "Tujuh pantai nyata di Badung dari OpenStreetMap, dengan nama Indonesianya (nama di OSM tercatat pada kolom sumber).",
                    "Seven real beaches of Badung from OpenStreetMap, by their Indonesian names (the name in OSM is kept in the source column).",
                )
            }),
            geojson: BEACHES_GEOJSON.to_owned(),
        },
    ];
    for l in LAYERS {
        let count = ((features as f64 * l.share).round() as usize).max(1);
        let radius = if l.id == "subak" { 0.003 } else { 0.0012 };
        let mut feats = Vec::with_capacity(count);
        for i in 0..count {
            let (geometry, at) = g.geometry(l.kind, radius);
            let mut properties = g.properties(l, at);
            if l.id == "subak" {
                // The field's area, from its polygon (no draw from the RNG).
                properties.insert("luas_ha".into(), json!(hectares(&geometry)));
            }
            if l.id == "posko-covid" {
                // The demo's time layer: each post's opening date.
                properties.insert("tanggal".into(), json!(opening_date(&mut dates)));
            }
            feats.push(json!({"type": "Feature", "id": i + 1, "properties": properties, "geometry": geometry}));
        }
        let landmarks = LANDMARKS.iter().filter(|(layer, ..)| *layer == l.id);
        for (f, (_, name, at)) in feats.iter_mut().zip(landmarks) {
            let mut properties = g.properties(l, *at);
            properties.insert("nama".into(), json!(name));
            properties.insert(
                "sumber".into(),
                json!("Tempat nyata, koordinat perkiraan untuk demo"),
            );
            f["properties"] = Value::Object(properties);
            f["geometry"] = json!({"type": "Point", "coordinates": at});
        }
        let visibility = if l.internal {
            Visibility::Internal
        } else {
            Visibility::Public
        };
        let mut spec = spec(
            l.id, l.category, l.title_id, l.title_en, l.agency, visibility,
        );
        spec.style = demo_style(l.id, &feats);
        out.push(DemoLayer {
            spec,
            geojson: json!({"type": "FeatureCollection", "features": feats}).to_string(),
        });
    }
    out
}

/// Mixed into the seed for the stream of the COVID posts' opening dates.
const OPENING_DATES_STREAM: u64 = 0x7461_6E67_6761_6C00;

/// The first and last day a demo COVID post opened: from Indonesia's first
/// cases to the end of 2022.
const FIRST_OPENING: jiff::civil::Date = jiff::civil::Date::constant(2020, 3, 2);
const LAST_OPENING: jiff::civil::Date = jiff::civil::Date::constant(2022, 12, 31);

/// An opening date (`YYYY-MM-DD`) uniformly in `FIRST_OPENING..=LAST_OPENING`.
fn opening_date(rng: &mut Rng) -> String {
    let days = FIRST_OPENING
        .until(LAST_OPENING)
        .map_or(0, |s| usize::try_from(s.get_days()).unwrap_or(0));
    let day = i64::try_from(rng.range(0, days)).unwrap_or(0);
    FIRST_OPENING
        .checked_add(jiff::Span::new().days(day))
        .unwrap_or(FIRST_OPENING)
        .to_string()
}

/// The area of a GeoJSON polygon in hectares, to 0.1.
fn hectares(geometry: &Value) -> f64 {
    use geo::GeodesicArea;
    let area = serde_json::from_value::<geojson::Geometry>(geometry.clone())
        .ok()
        .and_then(|g| geo::Geometry::<f64>::try_from(g).ok())
        .map_or(0.0, |g| g.geodesic_area_unsigned());
    (area / 1000.0).round() / 10.0
}

/// How the demo draws a layer: risk zones and COVID posts by their zone's
/// colour, roads by status, rice fields and aid by graduated classes.
fn demo_style(layer: &str, features: &[Value]) -> Option<LayerStyle> {
    let categories = |property: &str, cats: &[(&str, &str, &str)]| LayerStyle {
        kind: StyleKind::Categories,
        property: Some(property.to_owned()),
        categories: cats
            .iter()
            .map(|(value, label, color)| StyleCategory {
                value: (*value).to_owned(),
                label: (*label).to_owned(),
                color: (*color).to_owned(),
            })
            .collect(),
        ..LayerStyle::single("#9e9e9e")
    };
    let values = |property: &str| -> Vec<f64> {
        features
            .iter()
            .filter_map(|f| f["properties"][property].as_f64())
            .collect()
    };
    let zones = [
        ("hijau", "Hijau (risiko rendah)", "#1a9641"),
        ("kuning", "Kuning", "#ffd92f"),
        ("oranye", "Oranye", "#fd8d3c"),
        ("merah", "Merah (risiko tinggi)", "#d7191c"),
    ];
    match layer {
        "zona-covid" | "posko-covid" => Some(categories("zona", &zones)),
        "jalan" => Some(LayerStyle {
            stroke_width: 3.0,
            ..categories(
                "status_jalan",
                &[
                    ("nasional", "Jalan nasional", "#d7191c"),
                    ("provinsi", "Jalan provinsi", "#fd8d3c"),
                    ("kabupaten", "Jalan kabupaten", "#2b83ba"),
                    ("desa", "Jalan desa", "#8c8c8c"),
                ],
            )
        }),
        "subak" => LayerStyle::graduated("luas_ha", &values("luas_ha"), StyleMethod::Equal, 5),
        "bantuan-sosial" => LayerStyle::graduated(
            "penerima_kk",
            &values("penerima_kk"),
            StyleMethod::Quantile,
            5,
        ),
        _ => None,
    }
}

fn real(id: &str, title_id: &str, title_en: &str, geojson: &str) -> DemoLayer {
    let mut spec = spec(
        id,
        "general",
        title_id,
        title_en,
        "Bappeda",
        Visibility::Public,
    );
    spec.about = Some(real_about(
        "GADM 4.1, gadm.org",
        "GADM: bebas untuk keperluan non-komersial / free for non-commercial use",
        &format!("{title_id} menurut GADM 4.1 (koordinat dibulatkan ke 1e-6°)."),
        &format!("{title_en} from GADM 4.1 (coordinates rounded to 1e-6°)."),
    ));
    DemoLayer {
        spec,
        geojson: geojson.to_owned(),
    }
}

fn spec(
    id: &str,
    category: &str,
    title_id: &str,
    title_en: &str,
    agency: &str,
    visibility: Visibility,
) -> LayerSpec {
    LayerSpec {
        id: id.to_owned(),
        category: category.to_owned(),
        title_id: Some(title_id.to_owned()),
        title_en: Some(title_en.to_owned()),
        agency: Some(agency.to_owned()),
        visibility: Some(visibility),
        source_name: Some("bsc demo data".to_owned()),
        about: Some(LayerAbout {
            description_id: Some(format!(
                "{title_id} di Kabupaten Badung, dikelola oleh {agency}.\n\n\
                 **Data contoh**: dibuat acak oleh bsc untuk mencoba peta, bukan data resmi."
            )),
            description_en: Some(format!(
                "{title_en} in Badung Regency, kept by {agency}.\n\n\
                 **Sample data**: made up at random by bsc to try the map, not official data."
            )),
            source: Some("Data contoh sintetis bsc / bsc synthetic sample data".to_owned()),
            licence: Some("CC0-1.0".to_owned()),
            contact_unit: Some(agency.to_owned()),
            update_frequency: Some(Frequency::Monthly),
            keywords: vec![
                title_id.to_lowercase(),
                "badung".to_owned(),
                "contoh".to_owned(),
            ],
            data_date: Some("2025".to_owned()),
            ..LayerAbout::default()
        }),
        style: None,
    }
}

/// What the real layers say about themselves: their source and licence.
fn real_about(
    source: &str,
    licence: &str,
    description_id: &str,
    description_en: &str,
) -> LayerAbout {
    LayerAbout {
        description_id: Some(description_id.to_owned()),
        description_en: Some(description_en.to_owned()),
        source: Some(source.to_owned()),
        licence: Some(licence.to_owned()),
        contact_unit: Some("Bappeda".to_owned()),
        update_frequency: Some(Frequency::Irregular),
        keywords: vec!["badung".to_owned(), "batas wilayah".to_owned()],
        ..LayerAbout::default()
    }
}

/// Imports the demo data set into `store` through the ordinary import path.
pub async fn load(store: &Store, features: usize, seed: u64) -> Result<Vec<ImportReport>> {
    let layers = tokio::task::spawn_blocking(move || generate(features, seed))
        .await
        .map_err(|e| crate::error::Error::Io(std::io::Error::other(e)))?;
    let photos = tokio::task::spawn_blocking({
        let picks: Vec<(String, String)> = layers
            .iter()
            .map(|l| (l.spec.id.clone(), l.geojson.clone()))
            .filter(|(id, _)| PHOTO_LAYERS.iter().any(|(p, _)| p == id))
            .collect();
        move || demo_photos(&picks)
    });
    let mut reports = Vec::with_capacity(layers.len());
    for l in layers {
        let bytes = l.geojson.into_bytes();
        reports.push(import_geojson(store, &l.spec, Cursor::new(bytes), Limits::default()).await?);
    }
    let started = std::time::Instant::now();
    let photos = photos
        .await
        .map_err(|e| crate::error::Error::Io(std::io::Error::other(e)))?;
    let count = photos.len();
    let actor = crate::model::access::Actor {
        account: None,
        client: None,
    };
    for p in photos {
        store
            .add_photo(
                &p.layer,
                &p.fid,
                &p.png,
                Some(&p.caption),
                &|_| Ok(()),
                actor,
            )
            .await?;
    }
    tracing::info!(
        photos = count,
        ms = started.elapsed().as_millis() as u64,
        "attached demo photos"
    );
    Ok(reports)
}

/// Layers whose first features get a generated photo, and how many.
const PHOTO_LAYERS: &[(&str, usize)] = &[("pura", 30), ("objek-wisata", 30), ("pantai", 7)];

/// A generated photo for one demo feature.
struct DemoPhoto {
    layer: String,
    fid: String,
    png: Vec<u8>,
    caption: String,
}

/// Draws a photo for the first features of each [`PHOTO_LAYERS`] layer.
fn demo_photos(layers: &[(String, String)]) -> Vec<DemoPhoto> {
    let mut out = Vec::new();
    for (id, geojson) in layers {
        let Some(&(_, n)) = PHOTO_LAYERS.iter().find(|(p, _)| p == id) else {
            continue;
        };
        let fc: Value = serde_json::from_str(geojson).unwrap_or_default();
        for f in fc["features"].as_array().into_iter().flatten().take(n) {
            let fid = match &f["id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            let name = f["properties"]["nama"].as_str().unwrap_or(id);
            let place = f["properties"]["desa"]
                .as_str()
                .or_else(|| f["properties"]["alamat"].as_str())
                .unwrap_or("Badung");
            let scene = match id.as_str() {
                "pura" => Scene::Temple,
                "pantai" => Scene::Beach,
                _ => Scene::Hills,
            };
            let Ok(png) = picture(scene, crate::hash::fnv1a(fid.as_bytes())) else {
                continue;
            };
            out.push(DemoPhoto {
                layer: id.clone(),
                fid,
                png,
                caption: format!("{name}, {place} (gambar ilustrasi data demo)"),
            });
        }
    }
    out
}

/// One demo account: who it is and its password, shown on the sign-in
/// page of a `--demo` server (never on a real one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DemoAccount {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: crate::model::access::Role,
    /// Agency slug (the `opd_staff` account only).
    pub agency: Option<String>,
    /// The password, random, given out at start.
    pub password: String,
}

/// The demo accounts: one per role, the staff one for the agency that
/// keeps the health layers (one of them internal).
pub const DEMO_ACCOUNTS: &[(&str, crate::model::access::Role, Option<&str>)] = &[
    ("demo-admin", crate::model::access::Role::Admin, None),
    ("demo-pimpinan", crate::model::access::Role::Leader, None),
    (
        "demo-opd",
        crate::model::access::Role::OpdStaff,
        Some("Dinas Kesehatan"),
    ),
];

/// Gives every demo account ([`DEMO_ACCOUNTS`]) a new random password and
/// returns them. With `create` (the demo data was just loaded into an
/// empty database) missing accounts are created; without it only existing
/// ones get a new password, so `--demo` on a database that never had them
/// adds no account. Disabled accounts stay disabled and are not listed.
/// Audited as the command line (`user_add`, `user_passwd`).
pub async fn accounts(store: &Store, create: bool) -> Result<Vec<DemoAccount>> {
    use crate::model::access::Actor;
    use crate::store::accounts::NewUser;
    let cli = Actor {
        account: None,
        client: None,
    };
    let mut out = Vec::new();
    for &(name, role, agency) in DEMO_ACCOUNTS {
        let password = crate::password::random_password();
        let user = match store.user(name).await? {
            Some(u) if u.disabled => continue,
            Some(u) => {
                store.set_password(name, &password, cli).await?;
                u
            }
            None if create => {
                store
                    .create_user(
                        &NewUser {
                            name,
                            role,
                            agency,
                            create_agency: true,
                            password: &password,
                        },
                        cli,
                    )
                    .await?
            }
            None => continue,
        };
        out.push(DemoAccount {
            name: user.name,
            role: user.role,
            agency: user.agency,
            password,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn landmarks_lie_in_the_regency_on_point_layers() {
        for (layer, name, [x, y]) in super::LANDMARKS {
            assert!(crate::regency::in_regency(*x, *y), "{name}");
            let l = super::LAYERS.iter().find(|l| l.id == *layer).unwrap();
            assert!(matches!(l.kind, super::Kind::Point), "{name} on {layer}");
        }
    }

    use super::*;
    use geo::{Contains, MultiPolygon};

    fn regency() -> MultiPolygon<f64> {
        let fc: geojson::FeatureCollection = BOUNDARY_GEOJSON.parse().unwrap();
        let g = fc.features[0].geometry.clone().unwrap();
        MultiPolygon::try_from(g).unwrap()
    }

    #[test]
    fn is_deterministic_and_covers_all_categories() {
        let a = generate(2000, 7);
        let b = generate(2000, 7);
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x.geojson == y.geojson));
        let mut cats: Vec<&str> = a.iter().map(|l| l.spec.category.as_str()).collect();
        cats.sort_unstable();
        cats.dedup();
        assert_eq!(cats.len(), 14);
        assert!(
            a.iter()
                .any(|l| l.spec.visibility == Some(Visibility::Internal))
        );
    }

    #[test]
    fn covid_posts_have_opening_dates_and_other_layers_none() {
        let layers = generate(2000, 7);
        let mut dates = Vec::new();
        for l in &layers {
            let fc: Value = serde_json::from_str(&l.geojson).unwrap();
            for f in fc["features"].as_array().unwrap() {
                let d = f["properties"].get("tanggal").and_then(Value::as_str);
                if l.spec.id == "posko-covid" {
                    dates.push(d.unwrap().to_owned());
                } else {
                    assert_eq!(d, None, "{}", l.spec.id);
                }
            }
        }
        assert_eq!(dates.len(), 40);
        for d in &dates {
            let day: jiff::civil::Date = d.parse().unwrap();
            assert!((FIRST_OPENING..=LAST_OPENING).contains(&day), "{d}");
        }
        dates.sort_unstable();
        dates.dedup();
        assert!(dates.len() > 30, "spread over many days: {dates:?}");
    }

    #[test]
    fn demo_photos_are_small_deterministic_pngs_with_captions() {
        let layers: Vec<(String, String)> = generate(2000, 7)
            .into_iter()
            .map(|l| (l.spec.id, l.geojson))
            .collect();
        let a = demo_photos(&layers);
        let b = demo_photos(&layers);
        assert_eq!(a.len(), 30 + 30 + 7);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.png, y.png);
            let s = crate::store::photos::sniff(&x.png).unwrap();
            assert_eq!((s.content_type, s.width, s.height), ("image/png", 320, 200));
            assert!(x.png.len() < 8 * 1024, "{} bytes", x.png.len());
            assert!(
                x.caption.starts_with("Pura") || x.layer != "pura",
                "{}",
                x.caption
            );
        }
        assert_ne!(a[0].png, a[1].png);
    }

    #[test]
    fn every_vertex_lies_inside_the_regency() {
        // Checked with geo's exact point-in-polygon, independent of Region.
        let regency = regency();
        for l in generate(1500, 3).iter().skip(3) {
            let fc: geojson::FeatureCollection = l.geojson.parse().unwrap();
            for f in fc.features {
                let g = geo::Geometry::<f64>::try_from(f.geometry.unwrap()).unwrap();
                use geo::CoordsIter;
                for c in g.coords_iter() {
                    assert!(
                        regency.contains(&geo::Point::from(c)),
                        "{} {:?}",
                        l.spec.id,
                        c
                    );
                }
            }
        }
    }
}
