//! `/api/search`: ranking rules on a small layer, and the quality set, a
//! list of what people type with the result they expect at the top, on
//! the demo data (`bsc serve --demo`, seeded, 3,000 features).

use serde_json::Value;

use crate::support::World;

/// Names of the results of `path`, as "layer TITLE" for layer results.
fn names(r: &Value) -> Vec<String> {
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| match h["type"].as_str().unwrap() {
            "layer" => format!("layer {}", h["name"].as_str().unwrap()),
            _ => h["name"].as_str().unwrap().to_owned(),
        })
        .collect()
}

fn query(q: &str) -> String {
    q.replace(' ', "%20")
}

#[tokio::test]
async fn exact_names_then_fewer_words_then_prefixes() {
    let w = World::new().await;
    let names_in = [
        "Pasar Badung",
        "Badung",
        "Pura Badung Sari",
        "Badungan",
        "Jalan Kebadungan",
    ];
    let feats: Vec<String> = names_in
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(r#"{{"type":"Feature","id":{i},"properties":{{"nama":"{n}"}},"geometry":{{"type":"Point","coordinates":[115.2,-8.6]}}}}"#)
        })
        .collect();
    let file = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        feats.join(",")
    );
    w.import(
        &file,
        "cari",
        "economy",
        &["--title-id", "Cari", "--title-en", "Find"],
    )
    .await;
    let r = w.json("/api/search?q=BADUNG").await;
    // Whole words, fewer words first, then the word as a prefix; a word
    // inside another ("Kebadungan") is not a match.
    assert_eq!(
        names(&r),
        ["Badung", "Pasar Badung", "Pura Badung Sari", "Badungan"]
    );
    let top = &r["results"][0];
    assert_eq!(top["type"], "feature");
    assert_eq!(top["layer"], "cari");
    assert_eq!(top["category"], "economy");
    assert_eq!(top["layer_title"]["id"], "Cari");
    assert_eq!(top["category_title"]["en"], "Economy");
    assert_eq!(top["feature"]["properties"]["nama"], "Badung");
    assert!(top.get("distance_m").is_none());
    assert_eq!(
        w.json("/api/search?q=badung&limit=2").await["numberReturned"],
        2
    );
    // The layer's title finds the layer, then its features.
    let r = w.json("/api/search?q=cari").await;
    assert_eq!(names(&r)[0], "layer Cari");
    assert_eq!(r["results"][0]["bbox"].as_array().unwrap().len(), 4);
    assert_eq!(r["numberReturned"], 6);
    // The features route keeps its substring filter.
    let filtered = w.json("/api/layers/cari/features?q=pura").await;
    assert_eq!(filtered["numberMatched"], 1);
}

#[tokio::test]
async fn bad_near_and_long_queries_are_400() {
    let w = World::new().await;
    for (path, says) in [
        ("/api/search?q=pura&near=115", "near must be lon,lat"),
        ("/api/search?q=pura&near=115,-8.7,1", "near must be lon,lat"),
        ("/api/search?q=pura&near=abc,def", "near must be lon,lat"),
        ("/api/search?q=pura&near=215,-8.7", "near must be lon,lat"),
        ("/api/search?q=pura&near=NaN,1", "near must be lon,lat"),
        (
            "/api/search?q=a%20b%20c%20d%20e%20f%20g%20h%20i",
            "more than 8 words",
        ),
    ] {
        let detail = w.problem(path, 400).await;
        assert!(detail.contains(says), "{path}: {detail}");
    }
    // No letters or digits: nothing to find, not an error.
    let r = w.json("/api/search?q=%F0%9F%99%82%20--").await;
    assert_eq!(r["numberReturned"], 0);
}

/// What people type, and what they should see first.
#[tokio::test]
async fn the_quality_set_on_the_demo_data() {
    let w = World::new().await;
    layers::demo::load(&w.state.store, 3000, layers::demo::SEED)
        .await
        .unwrap();
    w.sync().await;
    let search = |q: &str, extra: &str| {
        let path = format!("/api/search?q={}{extra}", query(q));
        let w = &w;
        async move { w.json(&path).await }
    };

    // (query, the top result's name)
    for (q, top) in [
        ("Pantai Kuta", "Pantai Kuta"),
        ("pantai kuta", "Pantai Kuta"),
        ("pantai kutá", "Pantai Kuta"),
        ("kuta beach", "Pantai Kuta"),
        ("sekolah", "layer Sekolah"),
        ("schools", "layer Sekolah"),
        ("pantai", "layer Pantai"),
        ("beaches", "layer Pantai"),
        ("uluwatu", "Pura Luhur Uluwatu"),
        ("pura uluwtu", "Pura Luhur Uluwatu"),
        ("taman ayun", "Pura Taman Ayun"),
        ("garuda wisnu", "Garuda Wisnu Kencana"),
        ("garuda wisnu kencan", "Garuda Wisnu Kencana"),
        ("mangusada", "RSD Mangusada"),
        ("pemerintahan badung", "Pusat Pemerintahan Kabupaten Badung"),
        ("sangeh", "Alas Pala Sangeh"),
        ("hindu temples", "layer Pura"),
    ] {
        let r = search(q, "").await;
        let got = names(&r);
        assert_eq!(got.first().map(String::as_str), Some(top), "{q}: {got:?}");
    }

    // "sekolah": the layer, then schools, though their names say "SD Negeri", "SMP Negeri", ….
    let r = search("sekolah", "&limit=10").await;
    for h in r["results"].as_array().unwrap().iter().skip(1) {
        assert_eq!(h["layer"], "sekolah", "{h}");
    }
    // "pantai": the beaches layer, then beaches: the real ones (the layer
    // `pantai`) and tourist sites named Pantai;
    // after all of them, names one typo away ("Panti").
    let r = search("pantai", "&limit=30").await;
    let beach =
        |h: &Value| h["layer"] == "pantai" || h["name"].as_str().unwrap().starts_with("Pantai ");
    let hits = &r["results"].as_array().unwrap()[1..];
    let beaches = hits.iter().take_while(|h| beach(h)).count();
    assert!(beaches >= 14, "{hits:?}");
    assert!(hits[beaches..].iter().all(|h| !beach(h)), "{hits:?}");
    // "kuta": every name holding the word Kuta comes before names that
    // merely begin with it, and no street light comes first.
    let r = search("kuta", "&limit=30").await;
    let got = names(&r);
    let whole = |n: &str| n.split(' ').any(|w| w.eq_ignore_ascii_case("kuta"));
    let first_partial = got.iter().position(|n| !whole(n)).unwrap_or(got.len());
    assert!(first_partial > 0, "{got:?}");
    assert!(got[first_partial..].iter().all(|n| !whole(n)), "{got:?}");
    assert_ne!(r["results"][0]["layer"], "lampu-jalan", "{got:?}");

    // Near Uluwatu, the temple there comes first among the temples, with
    // its distance.
    let r = search("pura", "&near=115.0849,-8.8291&limit=3").await;
    assert_eq!(names(&r)[0], "layer Pura");
    assert_eq!(r["results"][1]["name"], "Pura Luhur Uluwatu");
    assert_eq!(r["results"][1]["distance_m"], 0.0);
    let d: Vec<f64> = r["results"].as_array().unwrap()[1..]
        .iter()
        .map(|h| h["distance_m"].as_f64().unwrap())
        .collect();
    assert!(d.windows(2).all(|p| p[0] <= p[1]), "{d:?}");
    // Near Mengwi, the nearest school is another one.
    let kuta = search("sekolah", "&near=115.1686,-8.7184&limit=2").await;
    let mengwi = search("sekolah", "&near=115.18,-8.55&limit=2").await;
    assert_ne!(kuta["results"][1]["name"], mengwi["results"][1]["name"]);
}
