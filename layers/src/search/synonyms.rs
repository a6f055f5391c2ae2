//! Indonesian and English words for the same kind of place, so that a
//! visitor's "kuta beach" finds *Pantai Kuta* and "pantai" finds a layer
//! titled *Beaches*. One word each way; folded (lower case, no accents).

/// (Indonesian, English) pairs.
const PAIRS: &[(&str, &str)] = &[
    ("pantai", "beach"),
    ("pura", "temple"),
    ("sekolah", "school"),
    ("pasar", "market"),
    ("jalan", "road"),
    ("jalan", "street"),
    ("kantor", "office"),
    ("taman", "park"),
    ("taman", "garden"),
    ("danau", "lake"),
    ("sungai", "river"),
    ("gunung", "mountain"),
    ("bukit", "hill"),
    ("masjid", "mosque"),
    ("gereja", "church"),
    ("vihara", "monastery"),
    ("puskesmas", "clinic"),
    ("penginapan", "lodging"),
    ("jembatan", "bridge"),
    ("bandara", "airport"),
    ("pelabuhan", "harbour"),
    ("pelabuhan", "port"),
    ("lapangan", "field"),
    ("kuburan", "cemetery"),
    ("makam", "cemetery"),
    ("setra", "cemetery"),
    ("sawah", "ricefield"),
    ("hutan", "forest"),
    ("desa", "village"),
    ("banjir", "flood"),
    ("lampu", "light"),
    ("irigasi", "irrigation"),
    ("perpustakaan", "library"),
    ("museum", "museum"),
];

/// The other language's words for `word` (folded), if any.
pub fn of(word: &str) -> impl Iterator<Item = &'static str> {
    PAIRS
        .iter()
        .filter_map(move |&(id, en)| {
            if id == word {
                Some(en)
            } else if en == word {
                Some(id)
            } else {
                None
            }
        })
        .filter(move |w| *w != word)
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_ways() {
        assert_eq!(super::of("beach").collect::<Vec<_>>(), ["pantai"]);
        assert_eq!(super::of("jalan").collect::<Vec<_>>(), ["road", "street"]);
        assert_eq!(super::of("cemetery").count(), 3);
        assert_eq!(super::of("museum").count(), 0);
        assert_eq!(super::of("kuta").count(), 0);
    }
}
