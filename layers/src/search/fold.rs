//! Folding text for search: lower case, accents removed, split into words.
//!
//! "Pura Dalem Jérman" and "pura dalem jerman" fold to the same words, so
//! a search typed on a phone without accents finds a name written with
//! them, and the other way round.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `text` in lower case, with accents and other combining marks removed
/// (canonical decomposition, then the marks dropped). ASCII text, nearly
/// every name, takes a fast path without decomposition.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words of folded text: runs of letters and digits. Punctuation,
/// spaces and symbols (emoji) separate words and are not searched.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold("Pura DALEM"), "pura dalem");
        assert_eq!(fold("Café Jérman Ñusa"), "cafe jerman nusa");
        assert_eq!(fold("ÅNGSTRÖM"), "angstrom");
        assert_eq!(fold("日本語"), "日本語");
    }

    #[test]
    fn splits_on_anything_but_letters_and_digits() {
        let f = fold("Jl. Raya Kuta No.12, <b>café</b> 🙂");
        assert_eq!(
            words(&f).collect::<Vec<_>>(),
            ["jl", "raya", "kuta", "no", "12", "b", "cafe", "b"]
        );
        assert_eq!(words("  -- ").count(), 0);
    }
}
