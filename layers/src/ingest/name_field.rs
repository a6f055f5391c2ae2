//! The layer's name field: which property names its features.
//!
//! A feature's display name (what search finds and popups title) is the
//! value of one property of its layer, the *name field*. It is detected at
//! upload from the collected schema by [`detect`], in this order (keys
//! compared without regard to case; within one rule the first in schema
//! order wins):
//!
//! 1. exactly `nama`;
//! 2. exactly `name`;
//! 3. `nama_*` or `nama *` (`nama_objek`, `nama pura`, …);
//! 4. `*_name` or `* name` (`road_name`, …);
//! 5. the other keys of [`NAME_KEYS`]: `title`, `judul`,
//!    `namobj` (the RBI maps' object name);
//! 6. the first text column that looks like names: mostly strings with
//!    letters, mostly distinct, 3 to 80 characters on average, and neither
//!    numbers, codes (`K-001`), dates, links nor e-mail addresses; columns
//!    whose key says they are something else (`id`, `kode`, `keterangan`,
//!    `alamat`, …) are never taken by this rule.
//!
//! Only columns that hold strings qualify for rules 1 to 5, and only if no
//! column does, a column matching rules 1 to 5 that holds numbers (plot
//! numbers named `name`, say): that keeps the names of layers named by
//! number as they were. Rule 6 takes strings only: a column of numbers is
//! never a name. A layer with no qualifying column has no name field and
//! its features no names (staff may pick one later).
//!
//! While reading, each feature takes its name from its own best key by
//! rules 1 to 5 ([`name_key`]), so that for a uniform schema the names are
//! right without a second pass; [`NameKeys`] remembers which keys the
//! features used, and tells whether the names must be recomputed once the
//! field is known ([`NameKeys::names_follow`]).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::NAME_KEYS;

/// Values of each field looked at by the "looks like names" rule: the
/// first ones in the input are enough to tell, and the cost of reading a
/// million features does not grow with them.
const SAMPLE: u32 = 500;

/// Keys (or their parts between `_`, ` `, `-`) that say a column holds
/// something other than names: never taken by the "looks like names" rule.
const NOT_NAMES: &[&str] = &[
    "id",
    "fid",
    "gid",
    "uuid",
    "objectid",
    "kode",
    "kd",
    "code",
    "no",
    "nomor",
    "number",
    "keterangan",
    "ket",
    "deskripsi",
    "description",
    "desc",
    "catatan",
    "note",
    "notes",
    "remark",
    "remarks",
    "alamat",
    "address",
    "url",
    "link",
    "foto",
    "photo",
    "gambar",
    "email",
    "telp",
    "telepon",
    "phone",
    "tanggal",
    "tgl",
    "date",
    "waktu",
    "time",
    "tahun",
    "year",
    "status",
    "kondisi",
    "jenis",
    "type",
    "tipe",
    "kategori",
    "category",
    "kelas",
    "class",
];

/// How well a key names features by rules 1 to 5: lower is better; `None`
/// when the key matches none of them.
pub fn rank(key: &str) -> Option<u8> {
    let k = key.trim();
    let b = k.as_bytes();
    let starts = |p: &str| b.len() > p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    let ends =
        |s: &str| b.len() > s.len() && b[b.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes());
    if k.eq_ignore_ascii_case("nama") {
        Some(0)
    } else if k.eq_ignore_ascii_case("name") {
        Some(1)
    } else if starts("nama_") || starts("nama ") {
        Some(2)
    } else if ends("_name") || ends(" name") {
        Some(3)
    } else if NAME_KEYS.iter().any(|o| k.eq_ignore_ascii_case(o)) {
        Some(4)
    } else {
        None
    }
}

/// The key a feature takes its name from while reading: its own best key
/// by rules 1 to 5, the first in its order among equals, whatever it holds.
pub fn name_key(props: &Map<String, Value>) -> Option<&str> {
    let mut best: Option<(u8, &str)> = None;
    for k in props.keys() {
        if let Some(r) = rank(k)
            && best.is_none_or(|(b, _)| r < b)
        {
            best = Some((r, k.as_str()));
            if r == 0 {
                break;
            }
        }
    }
    best.map(|(_, k)| k)
}

/// A feature's name from the value of its name field: a string trimmed
/// (`None` when blank) or a number as written; anything else is no name.
pub fn name_value(value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// A feature's name when its layer's name field is `field`.
pub fn name_of(props: &Map<String, Value>, field: Option<&str>) -> Option<String> {
    field.and_then(|f| name_value(props.get(f)))
}

/// One column of a report's schema as [`detect`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    /// The property name.
    pub name: &'a str,
    /// Its type in the schema (`string`, `integer`, `number`, `mixed`, …).
    pub kind: &'a str,
    /// What a sample of its values looks like.
    pub stats: &'a TextStats,
}

/// The name field of a layer with these columns, in schema order (see the
/// module's rules).
pub fn detect(schema: &[Column<'_>]) -> Option<String> {
    let by_rank = |strings: bool| {
        schema
            .iter()
            .filter(|f| {
                if strings {
                    f.stats.strings > 0
                } else {
                    matches!(f.kind, "integer" | "number")
                }
            })
            .filter_map(|f| rank(f.name).map(|r| (r, f)))
            // min_by_key keeps the first of equals: schema order.
            .min_by_key(|(r, _)| *r)
            .map(|(_, f)| f.name.to_owned())
    };
    by_rank(true).or_else(|| by_rank(false)).or_else(|| {
        schema
            .iter()
            .find(|f| looks_like_names(f))
            .map(|f| f.name.to_owned())
    })
}

/// Rule 6: whether `f` is a text column that looks like names.
fn looks_like_names(f: &Column<'_>) -> bool {
    let s = f.stats;
    if s.strings == 0 || !matches!(f.kind, "string" | "mixed") || says_not_names(f.name) {
        return false;
    }
    let strings = f64::from(s.strings);
    let most = |n: u32| f64::from(n) >= 0.8 * strings;
    let few = |n: u32| f64::from(n) <= 0.2 * strings;
    let average = s.chars as f64 / strings;
    f64::from(s.others) <= 0.25 * f64::from(s.strings + s.others)
        && most(s.letters)
        && few(s.numeric)
        && few(s.dates)
        && few(s.links)
        && f64::from(s.codes) <= 0.5 * strings
        && (3.0..=80.0).contains(&average)
        && s.distinct.len() as f64 >= 0.5 * strings
}

/// Whether the key says the column holds ids, codes, descriptions,
/// addresses, dates, links or categories rather than names.
fn says_not_names(key: &str) -> bool {
    let lower = key.trim().to_lowercase();
    lower
        .split(['_', ' ', '-', '.'])
        .any(|part| NOT_NAMES.contains(&part))
}

/// What a sample of a column's values looks like, for rule 6. Kept beside
/// each field of a report's schema while reading; not serialized.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextStats {
    /// Non-blank strings sampled.
    pub strings: u32,
    /// Non-null values of other types sampled.
    pub others: u32,
    /// Strings with at least one letter.
    pub letters: u32,
    /// Strings that read as a number (`12`, `-8.7`).
    pub numeric: u32,
    /// Strings that read as a date (`2024-01-31`, `31/01/2024`).
    pub dates: u32,
    /// Links and e-mail addresses.
    pub links: u32,
    /// Codes: one word of at most 16 characters with a digit (`K-001`).
    pub codes: u32,
    /// Characters of the trimmed strings in all.
    pub chars: u64,
    /// Hashes of the distinct strings sampled.
    pub distinct: HashSet<u64>,
}

impl TextStats {
    /// Whether more values are wanted.
    pub fn wants_more(&self) -> bool {
        self.strings + self.others < SAMPLE
    }

    /// Counts one non-null value.
    pub fn add(&mut self, value: &Value) {
        if !self.wants_more() {
            return;
        }
        let Value::String(s) = value else {
            self.others += 1;
            return;
        };
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        self.strings += 1;
        let mut chars = 0u64;
        let (mut letter, mut digit, mut space) = (false, false, false);
        for c in s.chars() {
            chars += 1;
            letter |= c.is_alphabetic();
            digit |= c.is_ascii_digit();
            space |= c.is_whitespace();
        }
        self.chars += chars;
        self.letters += u32::from(letter);
        self.numeric += u32::from(s.parse::<f64>().is_ok());
        self.dates += u32::from(looks_like_date(s));
        self.links += u32::from(looks_like_link(s));
        self.codes += u32::from(digit && !space && chars <= 16);
        self.distinct.insert(crate::hash::fnv1a(s.as_bytes()));
    }
}

/// `2024-01-31`, `2024/01/31`, `31-01-2024`, `31/01/2024`, with or without a time.
fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let sep = |i: usize| matches!(b.get(i), Some(b'-' | b'/' | b'.'));
    (d(0) && d(1) && d(2) && d(3) && sep(4) && d(5))
        || (d(0) && d(1) && sep(2) && d(3) && d(4) && sep(5) && d(6))
}

/// Links and e-mail addresses.
fn looks_like_link(s: &str) -> bool {
    s.contains("://")
        || s.starts_with("www.")
        || (!s.contains(char::is_whitespace)
            && s.split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.')))
}

/// Which keys the features of one input took their names from while
/// reading ([`name_key`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NameKeys {
    /// No feature had a name key.
    #[default]
    None,
    /// Every feature that had one used this key.
    One(String),
    /// Features used different keys.
    Several,
}

impl NameKeys {
    /// Records that a feature took its name from `key`.
    pub fn note(&mut self, key: Option<&str>) {
        let Some(key) = key else { return };
        match self {
            NameKeys::None => *self = NameKeys::One(key.to_owned()),
            NameKeys::One(k) if k == key => {}
            NameKeys::One(_) => *self = NameKeys::Several,
            NameKeys::Several => {}
        }
    }

    /// Whether the names taken while reading are those `field` gives, so
    /// that nothing needs recomputing: every feature that had a name key
    /// used `field`, and `field` is one by rules 1 to 5 (a feature without
    /// a name key then has no `field` either). A field of rule 6, or
    /// none while features used a key, needs a second pass.
    pub fn names_follow(&self, field: Option<&str>) -> bool {
        match (self, field) {
            (NameKeys::None, None) => true,
            (NameKeys::One(k), Some(f)) => k == f,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column as the collector describes it.
    struct Field {
        name: String,
        kind: String,
        stats: TextStats,
    }

    fn detect(schema: &[Field]) -> Option<String> {
        let columns: Vec<Column<'_>> = schema
            .iter()
            .map(|f| Column {
                name: &f.name,
                kind: &f.kind,
                stats: &f.stats,
            })
            .collect();
        super::detect(&columns)
    }

    /// A field named `name` whose sampled values are `values` (JSON).
    fn field(name: &str, values: &[Value]) -> Field {
        let mut f = Field {
            name: name.to_owned(),
            kind: "null".to_owned(),
            stats: TextStats::default(),
        };
        for v in values {
            let kind = match v {
                Value::String(_) => "string",
                Value::Number(n) if n.is_i64() => "integer",
                Value::Number(_) => "number",
                Value::Null => continue,
                _ => "object",
            };
            f.kind = match (f.kind.as_str(), kind) {
                ("null", k) => k.to_owned(),
                (a, b) if a == b => a.to_owned(),
                _ => "mixed".to_owned(),
            };
            f.stats.add(v);
        }
        f
    }

    fn strings(values: &[&str]) -> Vec<Value> {
        values.iter().map(|s| Value::from(*s)).collect()
    }

    fn names() -> Vec<Value> {
        strings(&["Pura Dalem", "Pura Desa", "Pura Puseh", "Pura Segara"])
    }

    #[test]
    fn exact_nama_comes_first() {
        let schema = [
            field("name", &names()),
            field("nama_objek", &names()),
            field("NAMA", &names()),
        ];
        assert_eq!(detect(&schema).as_deref(), Some("NAMA"));
    }

    #[test]
    fn exact_name_comes_before_patterns() {
        let schema = [field("nama_objek", &names()), field("NAME", &names())];
        assert_eq!(detect(&schema).as_deref(), Some("NAME"));
    }

    #[test]
    fn nama_with_an_underscore_or_a_space() {
        let schema = [
            field("kode", &strings(&["K-001", "K-002"])),
            field("nama pura", &names()),
            field("nama_desa", &names()),
        ];
        assert_eq!(detect(&schema).as_deref(), Some("nama pura"));
        let schema = [field("Nama_Objek", &names()), field("road_name", &names())];
        assert_eq!(detect(&schema).as_deref(), Some("Nama_Objek"));
    }

    #[test]
    fn names_ending_in_name() {
        let schema = [
            field("title", &names()),
            field("road_name", &names()),
            field("owner name", &names()),
        ];
        assert_eq!(detect(&schema).as_deref(), Some("road_name"));
    }

    #[test]
    fn titles_and_rbi_object_names() {
        let schema = [field("keterangan", &names()), field("Judul", &names())];
        assert_eq!(detect(&schema).as_deref(), Some("Judul"));
        let schema = [field("NAMOBJ", &names())];
        assert_eq!(detect(&schema).as_deref(), Some("NAMOBJ"));
    }

    #[test]
    fn a_name_column_of_numbers_only_when_no_string_one() {
        let numbers: Vec<Value> = (1..=4).map(Value::from).collect();
        let schema = [field("nama", &numbers), field("nama_jalan", &names())];
        assert_eq!(detect(&schema).as_deref(), Some("nama_jalan"));
        let schema = [field("name", &numbers), field("luas", &numbers)];
        assert_eq!(detect(&schema).as_deref(), Some("name"));
        // A column of nulls holds no names.
        let schema = [field("nama", &[Value::Null]), field("lokasi", &names())];
        assert_eq!(detect(&schema).as_deref(), Some("lokasi"));
    }

    #[test]
    fn the_first_text_column_that_looks_like_names() {
        let schema = [
            field("luas", &[Value::from(1.5), Value::from(2.5)]),
            field("kode_pura", &strings(&["K-001", "K-002", "K-003"])),
            field("sku", &strings(&["K-001", "K-002", "K-003"])),
            field(
                "dibangun",
                &strings(&["2001-01-31", "1999-12-01", "2010-05-05"]),
            ),
            field(
                "situs",
                &strings(&["https://a.id", "https://b.id", "https://c.id"]),
            ),
            field("kontak", &strings(&["a@b.id", "c@d.id", "e@f.id"])),
            field("jumlah", &strings(&["12", "13", "14"])),
            field("kecamatan", &strings(&["Kuta", "Kuta", "Kuta", "Kuta"])),
            field("tempat", &names()),
            field("lain", &names()),
        ];
        assert_eq!(detect(&schema).as_deref(), Some("tempat"));
    }

    #[test]
    fn too_short_or_too_long_is_not_a_name() {
        let long = "x".repeat(120);
        let schema = [
            field("huruf", &strings(&["a", "b", "c"])),
            field("teks", &strings(&[&long, &format!("{long}y")])),
        ];
        assert_eq!(detect(&schema), None);
    }

    #[test]
    fn descriptions_and_codes_are_not_names() {
        let schema = [
            field(
                "keterangan",
                &strings(&["Rusak ringan", "Baik sekali", "Perlu dicat ulang"]),
            ),
            field("kode", &strings(&["K-001", "K-002", "K-003"])),
        ];
        assert_eq!(detect(&schema), None);
    }

    #[test]
    fn numbers_are_not_names() {
        let schema = [
            field("luas", &[Value::from(1.5), Value::from(2.5)]),
            field("jumlah", &[Value::from(3), Value::from(4)]),
        ];
        assert_eq!(detect(&schema), None);
        assert_eq!(detect(&[]), None);
    }

    #[test]
    fn each_feature_takes_its_best_key() {
        let props = |json: &str| -> Map<String, Value> { serde_json::from_str(json).unwrap() };
        let p = props(r#"{"kode":"K-1","road_name":"Jl. A","nama pura":"Pura B","title":"C"}"#);
        assert_eq!(name_key(&p), Some("nama pura"));
        assert_eq!(name_of(&p, name_key(&p)).as_deref(), Some("Pura B"));
        let p = props(r#"{"NAME":" Pantai Kuta ","nama_x":"y"}"#);
        assert_eq!(name_key(&p), Some("NAME"));
        assert_eq!(name_of(&p, Some("NAME")).as_deref(), Some("Pantai Kuta"));
        let p = props(r#"{"nama":12,"x":"y"}"#);
        assert_eq!(name_of(&p, name_key(&p)).as_deref(), Some("12"));
        let p = props(r#"{"nama":"  ","keterangan":"y"}"#);
        assert_eq!(name_of(&p, name_key(&p)), None);
        assert_eq!(name_key(&props(r#"{"keterangan":"y"}"#)), None);
    }

    #[test]
    fn names_follow_the_field_only_when_the_features_used_it() {
        let mut keys = NameKeys::default();
        assert!(keys.names_follow(None));
        assert!(!keys.names_follow(Some("tempat")), "rule 6 needs a pass");
        keys.note(None);
        keys.note(Some("nama"));
        keys.note(Some("nama"));
        assert!(keys.names_follow(Some("nama")));
        assert!(!keys.names_follow(Some("name")));
        assert!(!keys.names_follow(None));
        keys.note(Some("name"));
        assert_eq!(keys, NameKeys::Several);
        assert!(!keys.names_follow(Some("nama")));
    }
}
