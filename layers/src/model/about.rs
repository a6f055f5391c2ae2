//! What a layer is about: its narrative and the facts an open-data
//! catalogue asks for (description, source, licence, contact, update
//! frequency, keywords, the date the data describes).
//!
//! It belongs to a version like the rest of a layer's metadata: named at
//! upload or on a draft, served once that version is published, restored
//! by a rollback. Descriptions are plain text with a small safe subset of
//! Markdown (paragraphs, `- ` lists, `**bold**`, `*italic*` and
//! `[text](https://…)` links) that the viewer renders as text nodes,
//! never as HTML.

use serde::{Deserialize, Serialize};

/// Longest description, in characters, per language.
pub const MAX_DESCRIPTION: usize = 5000;
/// Longest short field (source, licence, contact unit), in characters.
pub const MAX_SHORT: usize = 300;
/// Most keywords.
pub const MAX_KEYWORDS: usize = 20;
/// Longest keyword, in characters.
pub const MAX_KEYWORD: usize = 50;

/// How often a layer is updated (the EU frequency vocabulary's terms that
/// DCAT-AP harvesters know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Every day.
    Daily,
    /// Every week.
    Weekly,
    /// Every month.
    Monthly,
    /// Every three months.
    Quarterly,
    /// Every year.
    Annual,
    /// From time to time.
    Irregular,
    /// Not updated: a one-off data set.
    Never,
}

impl Frequency {
    /// Every frequency, in order.
    pub const ALL: [Frequency; 7] = [
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::Annual,
        Frequency::Irregular,
        Frequency::Never,
    ];

    /// The word in URLs and JSON (`monthly`).
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Annual => "annual",
            Frequency::Irregular => "irregular",
            Frequency::Never => "never",
        }
    }

    /// The EU frequency vocabulary's URI, for DCAT (`dct:accrualPeriodicity`).
    pub fn uri(self) -> &'static str {
        match self {
            Frequency::Daily => "http://publications.europa.eu/resource/authority/frequency/DAILY",
            Frequency::Weekly => {
                "http://publications.europa.eu/resource/authority/frequency/WEEKLY"
            }
            Frequency::Monthly => {
                "http://publications.europa.eu/resource/authority/frequency/MONTHLY"
            }
            Frequency::Quarterly => {
                "http://publications.europa.eu/resource/authority/frequency/QUARTERLY"
            }
            Frequency::Annual => {
                "http://publications.europa.eu/resource/authority/frequency/ANNUAL"
            }
            Frequency::Irregular => {
                "http://publications.europa.eu/resource/authority/frequency/IRREG"
            }
            Frequency::Never => "http://publications.europa.eu/resource/authority/frequency/NEVER",
        }
    }
}

impl std::str::FromStr for Frequency {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        Frequency::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Frequency::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "frekuensi pembaruan {s:?} tidak dikenal; pilih salah satu: {} / unknown update frequency {s:?}; use one of: {}",
                    all.join(", "),
                    all.join(", ")
                )
            })
    }
}

/// What a layer is about. Every field is optional; an empty value is
/// `None` (or an empty list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerAbout {
    /// Description in Indonesian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_id: Option<String>,
    /// Description in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_en: Option<String>,
    /// Where the data comes from ("Survei lapangan Dinas PUPR 2024").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// An SPDX licence id (`CC-BY-4.0`) or the licence's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
    /// The unit to contact ("Bidang Bina Marga, Dinas PUPR").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_unit: Option<String>,
    /// The e-mail address to contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// How often the data is updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_frequency: Option<Frequency>,
    /// Keywords, for search and catalogues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The date or period the data describes: `2024`, `2024-06`,
    /// `2024-06-30`, or two of them as `start/end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_date: Option<String>,
}

impl LayerAbout {
    /// Trims every value, drops empty ones and duplicate keywords, and
    /// checks lengths, the e-mail address and the date; the message says
    /// which field and what to do, in Indonesian and English.
    pub fn normalised(mut self) -> Result<LayerAbout, String> {
        fn clean(v: &mut Option<String>) {
            if let Some(s) = v {
                let t = s.trim();
                *v = (!t.is_empty()).then(|| t.to_owned());
            }
        }
        for v in [
            &mut self.description_id,
            &mut self.description_en,
            &mut self.source,
            &mut self.licence,
            &mut self.contact_unit,
            &mut self.contact_email,
            &mut self.data_date,
        ] {
            clean(v);
        }
        let too_long = |field: &str, v: &Option<String>, max: usize| {
            v.as_ref().filter(|s| s.chars().count() > max).map(|_| {
                format!(
                    "{field} terlalu panjang: paling banyak {max} huruf / {field} is too long: at most {max} characters"
                )
            })
        };
        let checks = [
            too_long("description_id", &self.description_id, MAX_DESCRIPTION),
            too_long("description_en", &self.description_en, MAX_DESCRIPTION),
            too_long("source", &self.source, MAX_SHORT),
            too_long("licence", &self.licence, MAX_SHORT),
            too_long("contact_unit", &self.contact_unit, MAX_SHORT),
            too_long("contact_email", &self.contact_email, MAX_SHORT),
        ];
        if let Some(e) = checks.into_iter().flatten().next() {
            return Err(e);
        }
        if let Some(e) = &self.contact_email
            && !looks_like_email(e)
        {
            return Err(format!(
                "contact_email {e:?} bukan alamat surel (contoh: pupr@badungkab.go.id) / contact_email {e:?} is not an e-mail address (e.g. pupr@badungkab.go.id)"
            ));
        }
        if let Some(d) = &self.data_date
            && !valid_period(d)
        {
            return Err(format!(
                "data_date {d:?}: tulis tahun, bulan atau tanggal (2024, 2024-06, 2024-06-30) atau dua dengan garis miring (2024-01/2024-06) / data_date {d:?}: give a year, month or date (2024, 2024-06, 2024-06-30) or two of them as start/end"
            ));
        }
        let mut keywords: Vec<String> = Vec::new();
        for k in self
            .keywords
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
        {
            if k.chars().count() > MAX_KEYWORD {
                return Err(format!(
                    "kata kunci {k:?} terlalu panjang: paling banyak {MAX_KEYWORD} huruf / keyword {k:?} is too long: at most {MAX_KEYWORD} characters"
                ));
            }
            if !keywords.iter().any(|o| o.eq_ignore_ascii_case(k)) {
                keywords.push(k.to_owned());
            }
        }
        if keywords.len() > MAX_KEYWORDS {
            return Err(format!(
                "paling banyak {MAX_KEYWORDS} kata kunci / at most {MAX_KEYWORDS} keywords"
            ));
        }
        self.keywords = keywords;
        Ok(self)
    }

    /// Whether nothing is said.
    pub fn is_empty(&self) -> bool {
        *self == LayerAbout::default()
    }

    /// The licence's address when it is an SPDX id (`CC-BY-4.0`).
    pub fn licence_url(&self) -> Option<String> {
        let l = spdx_id(self.licence.as_deref()?)?;
        Some(format!("https://spdx.org/licenses/{l}.html"))
    }
}

/// `licence` (trimmed) when it looks like an SPDX licence id (`CC-BY-4.0`,
/// `ODbL-1.0`): 1-64 ASCII letters, digits, `-`, `.` and `+`.
pub fn spdx_id(licence: &str) -> Option<&str> {
    let l = licence.trim();
    let spdx = !l.is_empty()
        && l.len() <= 64
        && l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.+".contains(&b));
    spdx.then_some(l)
}

/// A light check: one `@`, something before it, a dot after it, no spaces.
fn looks_like_email(e: &str) -> bool {
    let Some((user, host)) = e.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        && !host.contains('@')
}

/// `2024`, `2024-06`, `2024-06-30`, or `start/end` of those.
fn valid_period(s: &str) -> bool {
    let one = |p: &str| -> bool {
        let parts: Vec<&str> = p.split('-').collect();
        let num = |x: &str, n: usize| x.len() == n && x.bytes().all(|b| b.is_ascii_digit());
        match parts.as_slice() {
            [y] => num(y, 4),
            [y, m] => num(y, 4) && num(m, 2) && (1..=12).contains(&m.parse::<u8>().unwrap_or(0)),
            [_, _, _] => p.parse::<jiff::civil::Date>().is_ok(),
            _ => false,
        }
    };
    match s.split_once('/') {
        Some((a, b)) => one(a) && one(b) && a <= b,
        None => one(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_checks() {
        let a = LayerAbout {
            description_id: Some("  Jaringan jalan kabupaten.  ".into()),
            source: Some("   ".into()),
            contact_email: Some("pupr@badungkab.go.id".into()),
            keywords: vec!["jalan".into(), " Jalan ".into(), "".into(), "PUPR".into()],
            data_date: Some("2024-01/2024-06".into()),
            ..LayerAbout::default()
        }
        .normalised()
        .unwrap();
        assert_eq!(
            a.description_id.as_deref(),
            Some("Jaringan jalan kabupaten.")
        );
        assert_eq!(a.source, None);
        assert_eq!(a.keywords, ["jalan", "PUPR"]);
        for bad in ["pupr", "a@b", "a b@c.id", "@badung.id", "x@y.id<script>"] {
            let e = LayerAbout {
                contact_email: Some(bad.into()),
                ..LayerAbout::default()
            }
            .normalised()
            .unwrap_err();
            assert!(e.contains("contact_email"), "{bad}: {e}");
        }
        for (d, ok) in [
            ("2024", true),
            ("2024-06", true),
            ("2024-06-30", true),
            ("2024-02-30", false),
            ("2024-13", false),
            ("2024-06/2023", false),
            ("kemarin", false),
            ("2020/2024-12-31", true),
        ] {
            let r = LayerAbout {
                data_date: Some(d.into()),
                ..LayerAbout::default()
            }
            .normalised();
            assert_eq!(r.is_ok(), ok, "{d}");
        }
        let long = LayerAbout {
            description_en: Some("x".repeat(MAX_DESCRIPTION + 1)),
            ..LayerAbout::default()
        };
        assert!(long.normalised().unwrap_err().contains("description_en"));
        assert!(LayerAbout::default().normalised().unwrap().is_empty());
    }

    #[test]
    fn licences_and_frequencies() {
        let a = |l: &str| LayerAbout {
            licence: Some(l.into()),
            ..LayerAbout::default()
        };
        assert_eq!(
            a("CC-BY-4.0").licence_url().as_deref(),
            Some("https://spdx.org/licenses/CC-BY-4.0.html")
        );
        assert_eq!(a("Hak cipta Pemkab Badung").licence_url(), None);
        assert_eq!("Monthly".parse::<Frequency>(), Ok(Frequency::Monthly));
        assert!(
            "sometimes"
                .parse::<Frequency>()
                .unwrap_err()
                .contains("daily")
        );
        assert!(Frequency::Irregular.uri().ends_with("/IRREG"));
        let json: LayerAbout =
            serde_json::from_str(r#"{"update_frequency":"annual","keywords":["a"]}"#).unwrap();
        assert_eq!(json.update_frequency, Some(Frequency::Annual));
        assert!(serde_json::from_str::<LayerAbout>(r#"{"colour":"red"}"#).is_err());
    }
}
