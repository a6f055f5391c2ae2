//! The word index of one layer version's feature names.
//!
//! Each distinct folded word of the names is a term in an [`fst::Map`]
//! (sorted, compressed, searched by automata: exact, prefix and
//! Levenshtein); each term points at its postings, the ascending handles
//! of the features whose name holds the word. Beside it, per feature, the
//! number of words in its name (to prefer names that say only what was
//! asked) and the centre of its envelope (to rank by distance).
//!
//! Built once per version (see [`crate::index::LayerData::derived`]); at
//! 160,000 names of two or three words it takes a few tens of
//! milliseconds and holds about 12 bytes per feature plus 4 per word.

use std::collections::HashMap;

use fst::{Automaton, IntoStreamer, Map, Streamer};

use super::fold::{fold, words};
use crate::index::LayerData;

/// The word index of one layer version's names.
pub struct NameIndex {
    terms: Map<Vec<u8>>,
    /// Postings of term `t`: `postings[starts[t]..starts[t + 1]]`.
    starts: Vec<u32>,
    postings: Vec<u32>,
    /// Words in each feature's name (saturating at 255).
    word_counts: Vec<u8>,
    /// Centre of each feature's envelope, `[NaN, NaN]` without geometry.
    centres: Vec<[f32; 2]>,
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameIndex")
            .field("terms", &self.terms.len())
            .field("postings", &self.postings.len())
            .field("features", &self.word_counts.len())
            .finish()
    }
}

impl NameIndex {
    /// Indexes the names of `data`'s features.
    pub fn build(data: &LayerData) -> NameIndex {
        let n = data.len();
        let mut ids: HashMap<String, u32> = HashMap::new();
        // (term as first seen, handle), in handle order.
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(n * 2);
        let mut word_counts = Vec::with_capacity(n);
        let mut seen: Vec<u32> = Vec::new();
        for i in 0..n as u32 {
            let folded = data.name(i).map(fold).unwrap_or_default();
            seen.clear();
            let mut count = 0u8;
            for w in words(&folded) {
                count = count.saturating_add(1);
                let next = ids.len() as u32;
                let id = *ids.entry(w.to_owned()).or_insert(next);
                // A word twice in one name is one posting.
                if !seen.contains(&id) {
                    seen.push(id);
                    pairs.push((id, i));
                }
            }
            word_counts.push(count);
        }
        // Terms in byte order, as the fst needs them; `rank[first-seen id]`
        // is the term's number in that order.
        let mut sorted: Vec<(String, u32)> = ids.into_iter().collect();
        sorted.sort_unstable();
        let mut rank = vec![0u32; sorted.len()];
        for (r, (_, id)) in sorted.iter().enumerate() {
            rank[*id as usize] = r as u32;
        }
        let mut starts = vec![0u32; sorted.len() + 1];
        for (id, _) in &pairs {
            starts[rank[*id as usize] as usize + 1] += 1;
        }
        for t in 1..starts.len() {
            starts[t] += starts[t - 1];
        }
        // Filled in handle order, so each term's postings come out sorted.
        let mut fill = starts.clone();
        let mut postings = vec![0u32; pairs.len()];
        for (id, handle) in pairs {
            let t = rank[id as usize] as usize;
            postings[fill[t] as usize] = handle;
            fill[t] += 1;
        }
        let terms = Map::from_iter(
            sorted
                .iter()
                .enumerate()
                .map(|(r, (w, _))| (w.as_str(), r as u64)),
        )
        // Keys are sorted and distinct by construction; the only other
        // failure is I/O, and this writes to memory.
        .unwrap_or_default();
        let mut centres = vec![[f32::NAN; 2]; n];
        data.visit_envelopes([f64::MIN, f64::MIN, f64::MAX, f64::MAX], |i, e, _| {
            centres[i as usize] = [((e[0] + e[2]) / 2.0) as f32, ((e[1] + e[3]) / 2.0) as f32];
        });
        NameIndex {
            terms,
            starts,
            postings,
            word_counts,
            centres,
        }
    }

    /// Calls `found` with each term `automaton` accepts and its postings.
    pub(super) fn matching<A: Automaton>(
        &self,
        automaton: A,
        mut found: impl FnMut(&[u8], &[u32]),
    ) {
        let mut stream = self.terms.search(automaton).into_stream();
        while let Some((term, t)) = stream.next() {
            let t = t as usize;
            found(
                term,
                &self.postings[self.starts[t] as usize..self.starts[t + 1] as usize],
            );
        }
    }

    /// The number of words in the name of the feature with handle `index`.
    pub(super) fn word_count(&self, index: u32) -> u8 {
        self.word_counts[index as usize]
    }

    /// The centre of the feature's envelope, if it has a geometry.
    pub(super) fn centre(&self, index: u32) -> Option<[f32; 2]> {
        let c = self.centres[index as usize];
        (!c[0].is_nan()).then_some(c)
    }

    /// Number of distinct words.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }
}
