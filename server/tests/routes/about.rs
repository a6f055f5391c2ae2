//! What a layer is about (description, source, licence, …): named at
//! upload, served once its version is published, restored by a rollback,
//! and shown in the layer API, the OGC collection and TileJSON.

use axum::http::StatusCode;
use layers::model::access::Role;

use crate::support::{World, points};

#[tokio::test]
async fn about_follows_its_version() {
    let w = World::new().await;
    let staff = w
        .user("staf_koperasi", Role::OpdStaff, Some("Dinas Koperasi"))
        .await;
    let about = "description_id=Pasar%20tradisional%20di%20Badung.%0A%0A**Diperbarui**%20tiap%20bulan.\
        &source=%3Cb%3ESurvei%3C%2Fb%3E%202024&licence=CC-BY-4.0\
        &keywords=pasar,%20ekonomi,Pasar&update_frequency=monthly&data_date=2024-06\
        &contact_unit=Bidang%20Pasar&contact_email=pasar%40badungkab.go.id";
    w.created(
        &format!("/api/layers?id=pasar&category=economy&title_id=Pasar&filename=a.geojson&{about}"),
        &staff,
        points(&["Pasar Mengwi"]),
    )
    .await;
    // A draft says nothing yet.
    w.problem("/api/layers/pasar", 404).await;
    let r = w.post("/api/layers/pasar/publish", Some(&staff), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let meta = w.json("/api/layers/pasar").await;
    let a = &meta["about"];
    assert_eq!(
        a["description_id"],
        "Pasar tradisional di Badung.\n\n**Diperbarui** tiap bulan."
    );
    assert_eq!(a["keywords"], serde_json::json!(["pasar", "ekonomi"]));
    assert_eq!(a["update_frequency"], "monthly");
    assert_eq!(a["data_date"], "2024-06");
    assert_eq!(a["contact_email"], "pasar@badungkab.go.id");
    assert!(a.get("description_en").is_none(), "{a}");

    let c = w.json("/ogc/collections/pasar").await;
    assert!(
        c["description"]
            .as_str()
            .unwrap()
            .starts_with("Pasar tradisional di Badung."),
        "{c}"
    );
    assert_eq!(c["keywords"], serde_json::json!(["pasar", "ekonomi"]));
    let licence = c["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "license")
        .unwrap();
    assert_eq!(licence["href"], "https://spdx.org/licenses/CC-BY-4.0.html");
    let tj = w.json("/tiles/pasar.json").await;
    assert!(
        tj["description"]
            .as_str()
            .unwrap()
            .starts_with("Pasar tradisional"),
        "{tj}"
    );
    // Shown as HTML by MapLibre: escaped.
    assert_eq!(
        tj["attribution"],
        "&lt;b&gt;Survei&lt;/b&gt; 2024 (CC-BY-4.0)"
    );

    // The open-data catalogue says the same.
    let dcat = w.get("/data/catalog.jsonld", None).await.text();
    for said in [
        "Pasar tradisional di Badung.",
        "pasar@badungkab.go.id",
        "Bidang Pasar",
        "CC-BY-4.0",
        "2024-06-01",
        "2024-06-30",
        "/frequency/MONTHLY",
        "ekonomi",
    ] {
        assert!(dcat.contains(said), "the catalogue lacks {said:?}: {dcat}");
    }

    // A new description waits for its version.
    w.created(
        "/api/layers/pasar/versions?filename=b.geojson&description_id=Versi%20kedua",
        &staff,
        points(&["Pasar Mengwi", "Pasar Kuta"]),
    )
    .await;
    let served = w.json("/api/layers/pasar").await;
    assert!(
        served["about"]["description_id"]
            .as_str()
            .unwrap()
            .starts_with("Pasar tradisional")
    );
    let r = w
        .post("/api/layers/pasar/publish?version=2", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v2 = w.json("/api/layers/pasar").await;
    assert_eq!(v2["about"]["description_id"], "Versi kedua");
    // The whole about is the version's: what it does not say is not said.
    assert!(v2["about"].get("licence").is_none(), "{v2}");
    // A rollback brings version 1's words back.
    let r = w
        .post("/api/layers/pasar/rollback?to=1", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(w.json("/api/layers/pasar").await["about"], *a);
    // An upload that says nothing keeps what the layer says.
    w.created(
        "/api/layers/pasar/versions?filename=c.geojson",
        &staff,
        points(&["Pasar Sempidi"]),
    )
    .await;
    let r = w
        .post("/api/layers/pasar/publish?version=3", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(w.json("/api/layers/pasar").await["about"], *a);
}

#[tokio::test]
async fn bad_about_fields_are_400_saying_which() {
    let w = World::new().await;
    let staff = w
        .user("staf_koperasi", Role::OpdStaff, Some("Dinas Koperasi"))
        .await;
    for (field, says) in [
        ("contact_email=nope", "contact_email"),
        ("update_frequency=sometimes", "daily"),
        ("data_date=kemarin", "data_date"),
        ("about=%7B%22colour%22%3A1%7D", "colour"),
        ("about=not-json", "about"),
    ] {
        let r = w
            .post(
                &format!("/api/layers?id=pasar&category=economy&filename=a.geojson&{field}"),
                Some(&staff),
                points(&["Pasar Mengwi"]),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.text());
        let p = r.json();
        assert!(p["detail"].as_str().unwrap().contains(says), "{field}: {p}");
    }
}

#[tokio::test]
async fn a_draft_of_the_current_version_changes_the_words_not_the_data() {
    let w = World::new().await;
    let staff = w
        .user("staf_koperasi", Role::OpdStaff, Some("Dinas Koperasi"))
        .await;
    let other = w
        .user("staf_pupr", Role::OpdStaff, Some("Dinas PUPR"))
        .await;
    w.created(
        "/api/layers?id=pasar&category=economy&filename=a.geojson&licence=CC0-1.0",
        &staff,
        points(&["Pasar Mengwi", "Pasar Kuta"]),
    )
    .await;
    let r = w.post("/api/layers/pasar/publish", Some(&staff), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let before = w.json("/api/layers/pasar/features").await;

    // Another agency's staff and the public: the same 404 as a missing layer.
    for token in [Some(other.as_str()), None] {
        let r = w.post("/api/layers/pasar/drafts", token, "").await;
        let missing = w.post("/api/layers/tidak-ada/drafts", token, "").await;
        assert_eq!(r.status, missing.status, "{}", r.text());
        assert!(r.status == StatusCode::NOT_FOUND || r.status == StatusCode::UNAUTHORIZED);
    }
    let r = w.post("/api/layers/pasar/drafts", Some(&staff), "").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["version"], 2);
    let draft = w
        .call(
            axum::http::Method::PATCH,
            "/api/layers/pasar/versions/2",
            Some(&staff),
            serde_json::json!({"about": {"description_id": "Pasar rakyat.", "licence": "CC-BY-4.0"}})
                .to_string(),
        )
        .await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.text());
    assert_eq!(draft.json()["feature_count"], 2, "{}", draft.text());
    // Not served before it is published.
    assert_eq!(
        w.json("/api/layers/pasar").await["about"]["licence"],
        "CC0-1.0"
    );
    let r = w
        .post("/api/layers/pasar/publish?version=2", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let meta = w.json("/api/layers/pasar").await;
    assert_eq!(meta["about"]["licence"], "CC-BY-4.0");
    assert_eq!(meta["about"]["description_id"], "Pasar rakyat.");
    assert_eq!(meta["version"], 2);
    // The same features, byte for byte.
    assert_eq!(
        w.json("/api/layers/pasar/features").await["features"],
        before["features"]
    );
    // A published version's words change only through a draft.
    let r = w
        .call(
            axum::http::Method::PATCH,
            "/api/layers/pasar/versions/2",
            Some(&staff),
            r#"{"about": {"source": "x"}}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("/drafts"), "{}", r.text());
    let bad = w
        .call(
            axum::http::Method::PATCH,
            "/api/layers/pasar/versions/2",
            Some(&staff),
            r#"{"about": {"contact_email": "nope"}}"#,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());
    // The audit log tells who made the draft and changed the words.
    let audit = w
        .json_as(
            "/api/audit?layer=pasar",
            crate::support::Auth::Bearer(&w.user("pimpinan", Role::Leader, None).await),
        )
        .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"draft") && actions.contains(&"about"),
        "{actions:?}"
    );
}
