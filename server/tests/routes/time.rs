//! Time on the viewer's routes: `datetime` on `/api/layers/{id}/features`
//! (counted against the demo's COVID posts' opening dates, read from the
//! generator's own output as plain text), the `time` of each layer in
//! `/api/layers`, and the problems of a bad value, of a layer without a
//! time property and of a hidden layer.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::support::World;

/// The demo size these tests load.
const FEATURES: usize = 3000;

/// The opening dates (`YYYY-MM-DD`) and longitudes of the demo's COVID
/// posts, straight from the generator.
fn posts() -> &'static [(String, f64)] {
    static POSTS: OnceLock<Vec<(String, f64)>> = OnceLock::new();
    POSTS.get_or_init(|| {
        let layer = layers::demo::generate(FEATURES, layers::demo::SEED)
            .into_iter()
            .find(|l| l.spec.id == "posko-covid")
            .unwrap();
        let fc: Value = serde_json::from_str(&layer.geojson).unwrap();
        fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["properties"]["tanggal"].as_str().unwrap().to_owned(),
                    f["geometry"]["coordinates"][0].as_f64().unwrap(),
                )
            })
            .collect()
    })
}

async fn demo() -> World {
    let w = World::new().await;
    layers::demo::load(&w.state.store, FEATURES, layers::demo::SEED)
        .await
        .unwrap();
    w.sync().await;
    w
}

/// `numberMatched` of the posts' features with `query`.
async fn matched(w: &World, query: &str) -> u64 {
    let page = w
        .json(&format!("/api/layers/posko-covid/features?{query}"))
        .await;
    page["numberMatched"].as_u64().unwrap()
}

#[tokio::test]
async fn datetime_selects_the_posts_opened_in_range() {
    let w = demo().await;
    let posts = posts();
    assert_eq!(matched(&w, "limit=1").await, posts.len() as u64);
    // Dates as text compare in time order: an independent count.
    let count = |f: &dyn Fn(&str) -> bool| posts.iter().filter(|(d, _)| f(d)).count() as u64;
    let cases: [(&str, u64); 6] = [
        ("../2021-03-12", count(&|d| d <= "2021-03-12")),
        ("2021-03-12/..", count(&|d| d >= "2021-03-12")),
        (
            "2021-01-01/2021-06-30",
            count(&|d| ("2021-01-01"..="2021-06-30").contains(&d)),
        ),
        // An instant meets the whole day of a date value.
        ("2021-03-12T08:00:00Z", count(&|d| d == "2021-03-12")),
        ("../2020-03-01", 0),
        ("2020-03-02/2022-12-31", posts.len() as u64),
    ];
    let mut some = 0;
    for (datetime, want) in cases {
        let got = matched(&w, &format!("datetime={datetime}&limit=1")).await;
        assert_eq!(got, want, "datetime={datetime}");
        some += u64::from(want > 0 && want < posts.len() as u64);
    }
    assert!(some >= 3, "the cases split the posts");

    // With a bbox too: both hold.
    let west = count(&|d| d <= "2021-12-31");
    let west_of = |x: f64| {
        posts
            .iter()
            .filter(|(d, lon)| d.as_str() <= "2021-12-31" && *lon <= x)
            .count() as u64
    };
    assert!(west > 0);
    assert_eq!(
        matched(&w, "datetime=../2021-12-31&bbox=114.0,-9.0,115.18,-8.0").await,
        west_of(115.18)
    );

    // Pages keep the parameter in their links.
    let page = w
        .json("/api/layers/posko-covid/features?datetime=../2021-12-31&limit=5")
        .await;
    let next = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap();
    assert!(
        next["href"]
            .as_str()
            .unwrap()
            .contains("datetime=..%2F2021-12-31"),
        "{next}"
    );
}

#[tokio::test]
async fn layers_carry_their_time_property_and_extent() {
    let w = demo().await;
    let posts = posts();
    let first = posts.iter().map(|(d, _)| d).min().unwrap();
    let last = posts.iter().map(|(d, _)| d).max().unwrap();
    let list = w.json("/api/layers").await;
    let by_id = |id: &str| {
        list["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .cloned()
            .unwrap()
    };
    let want = json!({"property": "tanggal", "kind": "date", "extent": [first, last]});
    assert_eq!(by_id("posko-covid")["time"], want);
    assert_eq!(w.json("/api/layers/posko-covid").await["time"], want);
    // Year numbers are whole years.
    let pura = by_id("pura");
    assert_eq!(pura["time"]["property"], "tahun_data");
    assert_eq!(pura["time"]["kind"], "year");
    assert!(
        pura["time"]["extent"][0]
            .as_str()
            .unwrap()
            .ends_with("-01-01")
    );
    assert!(
        pura["time"]["extent"][1]
            .as_str()
            .unwrap()
            .ends_with("-12-31")
    );
    // Only layers with one have it.
    assert!(by_id("batas-kecamatan").get("time").is_none());
    assert!(by_id("pantai").get("time").is_none());
    // The OGC collection says the same.
    let c = w.json("/ogc/collections/posko-covid").await;
    assert_eq!(c["temporalProperty"], "tanggal");
    assert_eq!(
        c["extent"]["temporal"]["interval"][0],
        json!([format!("{first}T00:00:00Z"), format!("{last}T23:59:59Z")])
    );
}

#[tokio::test]
async fn datetime_problems_match_the_ogc_items_route() {
    let w = demo().await;
    for bad in ["yesterday", "2021-02-30", "../..", "2022-01-01/2021-01-01"] {
        let features = w
            .get(
                &format!("/api/layers/posko-covid/features?datetime={bad}"),
                None,
            )
            .await
            .problem(400);
        let items = w
            .get(
                &format!("/ogc/collections/posko-covid/items?datetime={bad}"),
                None,
            )
            .await
            .problem(400);
        assert_eq!(features["detail"], items["detail"], "{bad}");
        assert_eq!(features["type"], items["type"], "{bad}");
    }
    let bad = w
        .get("/api/layers/posko-covid/features?datetime=yesterday", None)
        .await
        .problem(400);
    insta::assert_json_snapshot!("features_datetime_invalid", bad);
    let timeless = w
        .get(
            "/api/layers/batas-kecamatan/features?datetime=../2021-03-12",
            None,
        )
        .await
        .problem(400);
    insta::assert_json_snapshot!("features_datetime_no_time_property", timeless);

    // Hidden and missing layers are 404 whatever the datetime, the same as
    // without one.
    for path in [
        "/api/layers/zona-covid/features?datetime=../2021-03-12",
        "/api/layers/zona-covid/features?datetime=yesterday",
        "/api/layers/tidak-ada/features?datetime=yesterday",
    ] {
        w.get(path, None).await.problem(404);
    }
}
