//! Place search across layers: feature names, layer titles and category
//! titles in both languages, folded (case and accents), with a typo or two
//! forgiven, ranked by how well they match and then by distance.
//!
//! A query is split into folded words. Every word must match a word of
//! the feature's name, or of its layer's or category's titles ("sekolah"
//! finds the schools of the layer *Sekolah* even when their names say
//! "SD Negeri"; "pantai kuta" finds *Kuta Beach* in the layer *Pantai*).
//! A word matches a term exactly, as its prefix (the last word only: the
//! one being typed), or within a Levenshtein distance (transpositions
//! count one) of 1 from four letters and 2 from eight; words with digits
//! and words of one letter match only exactly. A few words of places have
//! their other language's word ("beach" for "pantai", see `synonyms.rs`),
//! which matches at the cost of a prefix.
//!
//! Results are ranked by, in order: a name (or title) that is exactly the
//! query; the summed match cost of the words (exact 0, prefix 1, one typo
//! 2 or 3, two typos 4 or 5); how many words matched only the layer's
//! titles; then the distance to `near` when given, else fewer unmatched
//! name words, smaller layers and shorter names. Layers whose titles match are results
//! of their own and rank before features of the same cost.

use std::sync::LazyLock;

use fst::automaton::{Automaton, Str};
use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder};

use crate::index::LayerData;

pub mod fold;
mod names;
mod synonyms;

pub use names::NameIndex;

/// The name index of `data`, built on first use and kept as long as the
/// version is (the server builds it as each version loads).
pub fn names_of(data: &LayerData) -> std::sync::Arc<NameIndex> {
    data.derived(NameIndex::build)
}

/// Most words a query may have.
pub const MAX_WORDS: usize = 8;

/// Why a query cannot be searched.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// More words than [`MAX_WORDS`].
    #[error("q has more than {MAX_WORDS} words")]
    TooManyWords,
}

/// Levenshtein automaton builders for one and two edits, built once
/// (a few milliseconds for two).
static LEVENSHTEIN: LazyLock<[LevenshteinAutomatonBuilder; 2]> = LazyLock::new(|| {
    [
        LevenshteinAutomatonBuilder::new(1, true),
        LevenshteinAutomatonBuilder::new(2, true),
    ]
});

/// One folded word of a query and the automata that match it.
struct Word {
    text: String,
    /// The last word, of two letters or more: terms it begins match.
    prefix: bool,
    /// Whole terms within the allowed edits (none: exact only).
    typo: Option<DFA>,
    /// Terms beginning with something within the allowed edits.
    typo_prefix: Option<DFA>,
    /// The word in the other language ("beach" for "pantai"), matched
    /// whole at the cost of a prefix.
    also: Vec<&'static str>,
}

impl Word {
    fn new(text: &str, last: bool) -> Word {
        let chars = text.chars().count();
        let prefix = last && chars >= 2;
        let edits = if text.chars().any(|c| c.is_numeric()) {
            0
        } else if chars >= 8 {
            2
        } else if chars >= 4 {
            1
        } else {
            0
        };
        let builder = (edits > 0).then(|| &LEVENSHTEIN[edits - 1]);
        Word {
            text: text.to_owned(),
            prefix,
            typo: builder.map(|b| b.build_dfa(text)),
            typo_prefix: builder.filter(|_| prefix).map(|b| b.build_prefix_dfa(text)),
            also: synonyms::of(text).collect(),
        }
    }

    /// The cost of matching `term` (folded): 0 exact, 1 prefix, 2 or 4
    /// for one or two edits, 3 or 5 for a prefix within one or two
    /// edits; `None` when it does not match.
    fn cost(&self, term: &[u8]) -> Option<u8> {
        let text = self.text.as_bytes();
        if term == text {
            return Some(0);
        }
        if (self.prefix && term.starts_with(text)) || self.also.iter().any(|a| a.as_bytes() == term)
        {
            return Some(1);
        }
        let edits = |dfa: &Option<DFA>| match dfa.as_ref().map(|d| d.eval(term)) {
            Some(Distance::Exact(d)) if d > 0 => Some(d),
            _ => None,
        };
        let whole = edits(&self.typo).map(|d| 2 * d);
        let begins = edits(&self.typo_prefix).map(|d| 2 * d + 1);
        whole.into_iter().chain(begins).min()
    }

    /// Calls `found` with every term of `names` this word matches, its
    /// cost and its postings.
    fn each_term(&self, names: &NameIndex, mut found: impl FnMut(u8, &[u32])) {
        let mut visit = |term: &[u8], postings: &[u32]| {
            if let Some(c) = self.cost(term) {
                found(c, postings);
            }
        };
        // The widest automaton that can match; `cost` then ranks each term.
        match (&self.typo_prefix, &self.typo) {
            (Some(dfa), _) => names.matching(dfa, &mut visit),
            (None, Some(dfa)) => names.matching(dfa, &mut visit),
            (None, None) if self.prefix => {
                names.matching(Str::new(&self.text).starts_with(), &mut visit)
            }
            (None, None) => names.matching(Str::new(&self.text), &mut visit),
        }
        for a in &self.also {
            names.matching(Str::new(a), &mut visit);
        }
    }

    /// The cheapest match of this word among `terms`.
    fn best<'t>(&self, terms: impl IntoIterator<Item = &'t str>) -> Option<u8> {
        terms
            .into_iter()
            .filter_map(|t| self.cost(t.as_bytes()))
            .min()
    }
}

/// A parsed search query.
pub struct Query {
    words: Vec<Word>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.words.iter().map(|w| &w.text))
            .finish()
    }
}

impl Query {
    /// Folds and splits `q`; a query without letters or digits has no
    /// words and finds nothing.
    pub fn parse(q: &str) -> Result<Query, Error> {
        let folded = fold::fold(q);
        let texts: Vec<&str> = fold::words(&folded).collect();
        if texts.len() > MAX_WORDS {
            return Err(Error::TooManyWords);
        }
        let last = texts.len().saturating_sub(1);
        Ok(Query {
            words: texts
                .iter()
                .enumerate()
                .map(|(i, w)| Word::new(w, i == last))
                .collect(),
        })
    }

    /// Whether the query has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// One layer to search: its features and what it is called.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The version's features.
    pub data: &'a LayerData,
    /// Its name index ([`NameIndex::build`] on `data`).
    pub names: &'a NameIndex,
    /// The layer's own titles (Indonesian, English), shown for a layer hit.
    pub titles: [&'a str; 2],
    /// Its category's titles (Indonesian, English).
    pub category_titles: [&'a str; 2],
}

/// What a result is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found {
    /// The layer itself: its titles match.
    Layer,
    /// One of its features, with the distance in metres from `near`
    /// when given and the feature has a geometry.
    Feature {
        /// Handle of the feature in the layer.
        index: u32,
        /// Metres from the point searched near.
        distance_m: Option<f64>,
    },
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Position of its layer in the sources searched.
    pub source: usize,
    /// The layer or one of its features.
    pub found: Found,
}

/// The best `limit` results of `query` over `sources`, best first.
/// `near` is `[lon, lat]`.
pub fn search(
    query: &Query,
    sources: &[Source<'_>],
    near: Option<[f64; 2]>,
    limit: usize,
) -> Vec<Hit> {
    let mut top = Top::new(limit);
    if query.is_empty() || limit == 0 {
        return Vec::new();
    }
    for (s, source) in sources.iter().enumerate() {
        search_layer(query, s, source, near, &mut top);
    }
    top.finish()
        .into_iter()
        .map(|(_, source, index)| {
            let found = if index == LAYER {
                Found::Layer
            } else {
                let names = sources[source].names;
                Found::Feature {
                    index,
                    distance_m: near.zip(names.centre(index)).map(|(n, c)| metres(n, c)),
                }
            };
            Hit { source, found }
        })
        .collect()
}

/// The handle standing for the layer itself in [`Top`].
const LAYER: u32 = u32::MAX;

fn search_layer(
    query: &Query,
    s: usize,
    source: &Source<'_>,
    near: Option<[f64; 2]>,
    top: &mut Top,
) {
    let folded_titles: Vec<String> = source
        .titles
        .iter()
        .chain(&source.category_titles)
        .map(|t| fold::fold(t))
        .collect();
    let title_words: Vec<&str> = folded_titles.iter().flat_map(|t| fold::words(t)).collect();
    let on_layer: Vec<Option<u8>> = query
        .words
        .iter()
        .map(|w| w.best(title_words.iter().copied()))
        .collect();
    let n_words = query.words.len();

    // The layer itself, when its titles hold every word.
    if let Some(costs) = on_layer.iter().copied().collect::<Option<Vec<u8>>>() {
        let sum: u32 = costs.iter().map(|&c| u32::from(c)).sum();
        let own = &folded_titles[..2];
        let exact = sum == 0
            && own.iter().any(|t| {
                let mut a: Vec<&str> = fold::words(t).collect();
                let mut b: Vec<&str> = query.words.iter().map(|w| w.text.as_str()).collect();
                a.sort_unstable();
                b.sort_unstable();
                a == b
            });
        let title_len = fold::words(&own[0]).count();
        let secondary = if near.is_some() {
            0
        } else {
            order_by_name(title_len.saturating_sub(n_words), 0, own[0].len())
        };
        top.push(key(exact, sum, 0, secondary), s, LAYER);
    }

    // Each word's matching features, ascending by handle: `handle << 8 | cost`.
    let mut lists: Vec<Vec<u64>> = Vec::with_capacity(n_words);
    for w in &query.words {
        let mut list = Vec::new();
        let mut terms = 0;
        w.each_term(source.names, |cost, postings| {
            terms += 1;
            list.extend(
                postings
                    .iter()
                    .map(|&h| u64::from(h) << 8 | u64::from(cost)),
            );
        });
        if terms > 1 {
            // Sorted by handle, then cost: the first of each handle is its cheapest.
            list.sort_unstable();
            list.dedup_by_key(|e| *e >> 8);
        }
        lists.push(list);
    }
    // Words the layer's titles do not hold must be in the name: walk the
    // shortest such list; with none, every feature of the layer.
    let driver = (0..n_words)
        .filter(|&i| on_layer[i].is_none())
        .min_by_key(|&i| lists[i].len());
    let candidates: Box<dyn Iterator<Item = u32>> = match driver {
        Some(i) => Box::new(lists[i].iter().map(|e| (e >> 8) as u32)),
        None => Box::new(0..source.data.len() as u32),
    };
    let mut cursors = vec![0usize; n_words];
    'candidates: for h in candidates {
        let (mut sum, mut layer_only) = (0u32, 0u32);
        for (i, list) in lists.iter().enumerate() {
            let c = &mut cursors[i];
            while *c < list.len() && ((list[*c] >> 8) as u32) < h {
                *c += 1;
            }
            if *c < list.len() && (list[*c] >> 8) as u32 == h {
                sum += (list[*c] & 0xff) as u32;
            } else if let Some(cost) = on_layer[i] {
                sum += u32::from(cost);
                layer_only += 1;
            } else {
                continue 'candidates;
            }
        }
        let in_name = n_words as u32 - layer_only;
        let extra = u32::from(source.names.word_count(h)).saturating_sub(in_name) as usize;
        let exact = sum == 0 && layer_only == 0 && extra == 0;
        let secondary = match near {
            Some(n) => {
                let d = source.names.centre(h).map_or(u32::MAX as u64, |c| {
                    metres(n, c).min(f64::from(u32::MAX)) as u64
                });
                d << 8 | extra.min(255) as u64
            }
            None => {
                let len = source.data.name(h).map_or(0, str::len);
                order_by_name(extra, source.data.len(), len)
            }
        };
        top.push(key(exact, sum, layer_only, secondary), s, h);
    }
}

/// The secondary order without a point: fewer unmatched words, then
/// features of smaller layers (a kecamatan or a landmark before one of
/// 100,000 street lights of the same name: the fewer features a layer
/// has, the more each stands for), then shorter names.
fn order_by_name(extra: usize, layer_size: usize, len: usize) -> u64 {
    let size_class = usize::BITS - layer_size.leading_zeros();
    (extra.min(255) as u64) << 32 | u64::from(size_class) << 24 | len.min(0xff_ffff) as u64
}

/// The rank of a result as one integer, smaller first: exactness, then
/// the summed cost, then words matched only by the layer's titles, then
/// the 40-bit secondary order.
fn key(exact: bool, sum: u32, layer_only: u32, secondary: u64) -> u64 {
    u64::from(!exact) << 63
        | u64::from(sum.min(0xff)) << 52
        | u64::from(layer_only.min(0xf)) << 48
        | secondary.min((1 << 48) - 1)
}

/// Metres between `near` (`[lon, lat]`) and `c`, on an equirectangular
/// approximation: exact enough over a regency to order by.
fn metres(near: [f64; 2], c: [f32; 2]) -> f64 {
    let lat = near[1].to_radians();
    let dx = (f64::from(c[0]) - near[0]) * lat.cos() * 111_320.0;
    let dy = (f64::from(c[1]) - near[1]) * 110_574.0;
    (dx * dx + dy * dy).sqrt()
}

/// The best results seen so far, kept bounded: every so often the list is
/// cut to `limit` and anything ranked after its last is skipped.
struct Top {
    limit: usize,
    items: Vec<(u64, usize, u32)>,
    /// Results ranked after this cannot make the list.
    worst: u64,
}

impl Top {
    fn new(limit: usize) -> Top {
        Top {
            limit,
            items: Vec::new(),
            worst: u64::MAX,
        }
    }

    fn push(&mut self, key: u64, source: usize, index: u32) {
        if key > self.worst {
            return;
        }
        self.items.push((key, source, index));
        if self.items.len() >= (self.limit * 4).max(1024) {
            self.cut();
        }
    }

    fn cut(&mut self) {
        let order = |a: &(u64, usize, u32), b: &(u64, usize, u32)| {
            // Layers (index u32::MAX) before features at equal key.
            (a.0, a.2 != LAYER, a.1, a.2).cmp(&(b.0, b.2 != LAYER, b.1, b.2))
        };
        if self.items.len() > self.limit {
            self.items.select_nth_unstable_by(self.limit - 1, order);
            self.items.truncate(self.limit);
        }
        self.items.sort_unstable_by(order);
        if self.items.len() == self.limit {
            self.worst = self.items.last().map_or(u64::MAX, |l| l.0);
        }
    }

    fn finish(mut self) -> Vec<(u64, usize, u32)> {
        self.cut();
        self.items
    }
}

#[cfg(test)]
mod tests;
