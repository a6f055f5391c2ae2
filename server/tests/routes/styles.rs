//! Styles by attribute: a style uploaded with a layer is served with it
//! once published, and every style exports as a MapLibre style that the
//! style specification's own validator (`gl-style-validate` from
//! `@maplibre/maplibre-gl-style-spec`, in tests/browser's node_modules)
//! accepts.

use std::path::PathBuf;
use std::process::Command;

use axum::http::StatusCode;
use layers::model::access::Role;
use serde_json::{Value, json};

use crate::support::{World, points};

/// Runs the MapLibre style validator on `doc`; `false` when it is not
/// installed (then the caller says SKIPPED, unless the browser tools are
/// required, as `.ci/run` sets).
fn validate(doc: &Value, name: &str) -> bool {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = root.join("tests/browser/node_modules/.bin/gl-style-validate");
    if !bin.exists() {
        assert_ne!(
            std::env::var("BSC_BROWSER_TESTS").as_deref(),
            Ok("required"),
            "gl-style-validate is missing: npm ci --prefix tests/browser"
        );
        println!("SKIPPED: MapLibre style validation (npm ci --prefix tests/browser)");
        return false;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = Command::new(&bin).arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[tokio::test]
async fn demo_styles_export_as_valid_maplibre_styles() {
    let w = World::new().await;
    layers::demo::load(&w.state.store, 600, layers::demo::SEED)
        .await
        .unwrap();
    w.sync().await;
    let leader = w.user("pimpinan", Role::Leader, None).await;

    // The public's style has no internal layer; the leader's has the zones.
    let public = w.json("/styles/bsc.json").await;
    assert!(public["sources"].get("zona-covid").is_none());
    let all = w
        .json_as("/styles/bsc.json", crate::support::Auth::Bearer(&leader))
        .await;
    let layers = all["layers"].as_array().unwrap();
    let find = |id: &str| layers.iter().find(|l| l["id"] == id).unwrap();
    // The zones by category: one fill per zone colour, and one for the rest.
    let merah = layers
        .iter()
        .find(|l| {
            l["source"] == "zona-covid"
                && l["type"] == "fill"
                && l["metadata"]["bsc:class"]
                    .as_str()
                    .is_some_and(|c| c.contains("Merah"))
        })
        .unwrap();
    assert_eq!(merah["paint"]["fill-color"], "#d7191c", "{merah}");
    assert!(
        find("zona-covid-fill-other")["filter"]
            .to_string()
            .contains("!=")
    );
    // Subak by graduated classes of its area.
    let subak = find("subak-fill-0");
    assert!(subak["filter"].to_string().contains("luas_ha"), "{subak}");
    // Hidden and missing: the same 404.
    let hidden = w.problem("/styles/zona-covid.json", 404).await;
    let missing = w.problem("/styles/tidak-ada.json", 404).await;
    assert_eq!(
        hidden.replace("zona-covid", "X"),
        missing.replace("tidak-ada", "X")
    );
    // Every source is this server's TileJSON, and answers.
    for (_, s) in all["sources"].as_object().unwrap() {
        let url = s["url"].as_str().unwrap();
        let path = &url[url.find("/tiles/").unwrap()..];
        let r = w.get_as(path, crate::support::Auth::Bearer(&leader)).await;
        assert_eq!(r.status, StatusCode::OK, "{url}");
    }
    let jalan = w.json("/styles/jalan.json").await;
    if validate(&public, "bsc") {
        validate(&all, "bsc-leader");
        validate(&jalan, "jalan");
        println!("MapLibre style spec validator: bsc.json (public, leader) and jalan.json valid");
    }
}

#[tokio::test]
async fn a_style_waits_for_its_version_and_bad_styles_are_400() {
    let w = World::new().await;
    let staff = w
        .user("staf_dinkes", Role::OpdStaff, Some("Dinas Kesehatan"))
        .await;
    let style = json!({
        "type": "categories", "property": "nama", "color": "#777777",
        "categories": [{"value": "Posko A", "label": "A", "color": "#ff0000"}]
    });
    let q =
        |s: &Value| form_urlencoded::byte_serialize(s.to_string().as_bytes()).collect::<String>();
    w.created(
        &format!(
            "/api/layers?id=posko&category=health&filename=a.geojson&style={}",
            q(&style)
        ),
        &staff,
        points(&["Posko A", "Posko B"]),
    )
    .await;
    let r = w.post("/api/layers/posko/publish", Some(&staff), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let served = w.json("/api/layers/posko").await["style"].clone();
    assert_eq!(served["categories"], style["categories"]);
    assert_eq!(served["point_radius"], 6.0, "defaults filled in");
    let exported = w.json("/styles/posko.json").await;
    let posko_a = exported["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "posko-circle-0")
        .unwrap();
    assert_eq!(posko_a["paint"]["circle-color"], "#ff0000");
    assert_eq!(posko_a["metadata"]["bsc:class"], "A");
    validate(&exported, "posko");

    // A draft's style is not served until published.
    let r = w.post("/api/layers/posko/drafts", Some(&staff), "").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let single = json!({"type": "single", "color": "#00ff00", "point_radius": 9});
    let r = w
        .call(
            axum::http::Method::PATCH,
            "/api/layers/posko/versions/2",
            Some(&staff),
            json!({ "style": single }).to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(w.json("/api/layers/posko").await["style"], served);
    let r = w
        .post("/api/layers/posko/publish?version=2", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let served = w.json("/api/layers/posko").await;
    assert_eq!(served["style"]["color"], "#00ff00");
    assert_eq!(served["style"]["point_radius"], 9.0);

    for (bad, says) in [
        (json!({"type": "single", "color": "red"}), "#rrggbb"),
        (
            json!({"type": "classes", "property": "n", "color": "#000000", "classes": []}),
            "3 to 7",
        ),
        (
            json!({"type": "categories", "color": "#000000"}),
            "property",
        ),
        (
            json!({"type": "single", "color": "#000000", "fill_opacity": 3}),
            "fill_opacity",
        ),
        (json!({"type": "dots", "color": "#000000"}), "style"),
    ] {
        let r = w
            .post(
                &format!(
                    "/api/layers?id=buruk&category=health&filename=a.geojson&style={}",
                    q(&bad)
                ),
                Some(&staff),
                points(&["A"]),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
        assert!(r.text().contains(says), "{bad}: {}", r.text());
    }
}
