//! Words for people, in Indonesian and English: what a validation report
//! says about a feature, chosen by the reader's language (the page's, an
//! HTTP client's `Accept-Language`, the command line's `LANG`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A message in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    /// Indonesian.
    pub id: String,
    /// English.
    pub en: String,
}

impl Text {
    /// A message said in both languages.
    pub fn new(id: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            id: id.into(),
            en: en.into(),
        }
    }

    /// A technical detail only known in English (a parser's own words):
    /// the Indonesian side says so before quoting it.
    pub fn technical(en: impl Into<String>) -> Text {
        let en = en.into();
        Text {
            id: format!("Rincian teknis (dalam bahasa Inggris): {en}"),
            en,
        }
    }

    /// The message in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Id => &self.id,
            Lang::En => &self.en,
        }
    }
}

impl From<String> for Text {
    fn from(en: String) -> Text {
        Text::technical(en)
    }
}

impl From<&str> for Text {
    fn from(en: &str) -> Text {
        Text::technical(en)
    }
}

impl fmt::Display for Text {
    /// Both languages, Indonesian first: `Indonesian / English`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.id, self.en)
    }
}

/// One of the two languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Bahasa Indonesia.
    Id,
    /// English (the command line's default).
    #[default]
    En,
}

impl Lang {
    /// The language an `Accept-Language` header prefers among the two
    /// (`id-ID,id;q=0.9,en;q=0.8` → Indonesian), by quality and then
    /// order; `None` when it names neither.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("id" | "in") => Lang::Id,
                Some("en") => Lang::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The command line's language from the environment (`LC_ALL`,
    /// `LC_MESSAGES`, then `LANG`, as POSIX orders them): Indonesian for
    /// `id_ID.UTF-8` and the like, else English.
    pub fn from_env() -> Lang {
        let var = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_default();
        Lang::from_locale(&var)
    }

    /// The language of a POSIX locale name (`id_ID.UTF-8` → Indonesian).
    pub fn from_locale(locale: &str) -> Lang {
        let l = locale.to_ascii_lowercase();
        if l == "id" || l.starts_with("id_") || l.starts_with("id.") || l.starts_with("in_") {
            Lang::Id
        } else {
            Lang::En
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_by_quality_then_order() {
        let l = Lang::from_accept_language;
        assert_eq!(l("id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7"), Some(Lang::Id));
        assert_eq!(l("en-GB,en;q=0.9,id;q=0.8"), Some(Lang::En));
        assert_eq!(l("fr, en;q=0.5, id;q=0.9"), Some(Lang::Id));
        assert_eq!(l("id;q=0, en"), Some(Lang::En));
        assert_eq!(l("en;q=0.5,id"), Some(Lang::Id));
        assert_eq!(l("fr, de"), None);
        assert_eq!(l(""), None);
        assert_eq!(l("*"), None);
    }

    #[test]
    fn locales() {
        assert_eq!(Lang::from_locale("id_ID.UTF-8"), Lang::Id);
        assert_eq!(Lang::from_locale("id"), Lang::Id);
        assert_eq!(Lang::from_locale("C.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale(""), Lang::En);
    }

    #[test]
    fn technical_details_say_they_are_english() {
        let t = Text::from("invalid type: map, expected a string");
        assert_eq!(t.en, "invalid type: map, expected a string");
        assert!(t.id.starts_with("Rincian teknis"));
        assert!(t.id.ends_with(&t.en));
        assert_eq!(Text::new("a", "b").to_string(), "a / b");
    }
}
