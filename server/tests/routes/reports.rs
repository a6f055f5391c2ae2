//! Laporan warga (citizen reports): the whole flow from a citizen's report
//! to the public layer and the leaders' figures, the rate limit and the
//! honeypot, photo metadata stripped, the regency boundary, and the
//! reporter's contact never in a public response.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use layers::model::access::Role;
use serde_json::{Value, json};

use crate::support::{Auth, Reply, World};

/// A place in Kuta, inside Badung.
const KUTA: [f64; 2] = [115.1686, -8.7184];
/// The reporter's contact: must never appear in anything public.
const CONTACT: &str = "+62 812 7777 4242";
const NAME: &str = "Ni Luh Sekar";

fn report_json(extra: Value) -> String {
    let mut v = json!({
        "type": "jalan-rusak",
        "lon": KUTA[0],
        "lat": KUTA[1],
        "description": "Lubang besar di Jalan Legian dekat pasar",
        "name": NAME,
        "contact": CONTACT,
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            o.insert(k.clone(), x.clone());
        }
    }
    v.to_string()
}

async fn submit(w: &World, body: String) -> Reply {
    w.send(
        Request::post("/api/reports")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn post_json(w: &World, path: &str, auth: Auth<'_>, body: Value) -> Reply {
    w.send(
        World::request(Method::POST, path, auth)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

fn multipart(fields: &[(&str, &str)], photo: Option<&[u8]>) -> (String, Vec<u8>) {
    let boundary = "----bsc-laporan-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some(p) = photo {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"IMG_0001.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(p);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn report_count(w: &World) -> usize {
    w.sql_strings("SELECT code FROM reports").len()
}

#[tokio::test]
async fn report_types_are_seeded_with_titles_categories_and_agencies() {
    let w = World::new().await;
    let v = w.json("/api/report-types").await;
    let types = v["types"].as_array().unwrap();
    assert!(types.len() >= 8, "{v}");
    for id in [
        "jalan-rusak",
        "lampu-jalan-mati",
        "saluran-tersumbat",
        "sampah",
        "banjir",
        "pohon-tumbang",
        "fasilitas-rusak",
        "lainnya",
    ] {
        let t = types.iter().find(|t| t["id"] == id).expect(id);
        for f in ["title_id", "title_en", "category", "agency", "agency_name"] {
            assert!(
                t[f].as_str().is_some_and(|s| !s.is_empty()),
                "{id}.{f}: {t}"
            );
        }
    }
    let lamp = types
        .iter()
        .find(|t| t["id"] == "lampu-jalan-mati")
        .unwrap();
    assert_eq!(lamp["agency"], "dinas-perhubungan");

    // Admins change the routing; others may not.
    let admin = w.user("admin", Role::Admin, None).await;
    let staff = w.user("staf", Role::OpdStaff, Some("Dinas PUPR")).await;
    let route = json!({"agency": "BPBD"});
    let r = w
        .send(
            World::request(
                Method::PUT,
                "/api/report-types/sampah",
                Auth::Bearer(&staff),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(route.to_string()))
            .unwrap(),
        )
        .await;
    r.problem(403);
    let r = w
        .send(
            World::request(
                Method::PUT,
                "/api/report-types/sampah",
                Auth::Bearer(&admin),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(route.to_string()))
            .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["agency"], "bpbd");
}

#[tokio::test]
async fn the_whole_flow_from_report_to_public_layer_rating_and_figures() {
    let started = Instant::now();
    let w = World::new().await;
    let pupr = w
        .user("staf_pupr", Role::OpdStaff, Some("Dinas PUPR"))
        .await;
    let dishub = w
        .user("staf_dishub", Role::OpdStaff, Some("Dinas Perhubungan"))
        .await;
    let leader = w.user("pimpinan", Role::Leader, None).await;
    let mut public_bodies: Vec<String> = Vec::new();

    // A citizen reports, without an account.
    let r = submit(&w, report_json(json!({}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    public_bodies.push(r.text());
    let sent = r.json();
    assert_eq!(sent["status"], "baru");
    let code = sent["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 11, "{code}");
    assert_eq!(&code[5..6], "-");
    assert!(
        code.chars()
            .all(|c| c == '-' || "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c)),
        "{code}"
    );

    // Tracking, by the code in any case.
    let t = w
        .json(&format!("/api/reports/{}", code.to_lowercase()))
        .await;
    assert_eq!(t["status"], "baru");
    assert_eq!(t["type"], "jalan-rusak");
    assert_eq!(t["kecamatan"], "Kuta");
    assert_eq!(t["history"].as_array().unwrap().len(), 1);
    public_bodies.push(t.to_string());
    w.problem("/api/reports/ABCDE-FGHJK", 404).await;

    // Nothing is public before an agency verifies it.
    w.problem("/api/layers/laporan-warga", 404).await;
    let layers = w.get("/api/layers", None).await;
    assert!(!layers.text().contains("laporan-warga"));

    // The queue: the routed agency and leaders see it with the contact.
    let q = w
        .json_as("/api/manage/reports?status=baru", Auth::Bearer(&pupr))
        .await;
    assert_eq!(q["count"], 1, "{q}");
    let report = &q["reports"][0];
    assert_eq!(report["contact"], CONTACT);
    assert_eq!(report["name"], NAME);
    let id = report["id"].as_i64().unwrap();
    let q = w
        .json_as("/api/manage/reports", Auth::Bearer(&dishub))
        .await;
    assert_eq!(q["count"], 0, "{q}");
    let q = w
        .json_as("/api/manage/reports", Auth::Bearer(&leader))
        .await;
    assert_eq!(q["count"], 1, "{q}");
    w.get("/api/manage/reports", None).await.problem(401);

    // Only the routed agency (and admins) move it; another agency's staff
    // get the same 404 as for a missing report; leaders see but may not.
    let status_path = format!("/api/reports/{id}/status");
    let verify = json!({"status": "diverifikasi", "note": "Sudah dicek petugas"});
    let other = post_json(&w, &status_path, Auth::Bearer(&dishub), verify.clone()).await;
    let missing = post_json(
        &w,
        "/api/reports/999999/status",
        Auth::Bearer(&dishub),
        verify.clone(),
    )
    .await;
    assert_eq!(
        other.problem(404)["detail"]
            .as_str()
            .map(|d| d.replace(&id.to_string(), "N")),
        missing.problem(404)["detail"]
            .as_str()
            .map(|d| d.replace("999999", "N"))
    );
    post_json(&w, &status_path, Auth::Bearer(&leader), verify.clone())
        .await
        .problem(403);
    post_json(&w, &status_path, Auth::Anonymous, verify.clone())
        .await
        .problem(401);
    post_json(
        &w,
        &status_path,
        Auth::Bearer(&pupr),
        json!({"status": "selesai"}),
    )
    .await
    .problem(409);
    let r = post_json(&w, &status_path, Auth::Bearer(&pupr), verify).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "diverifikasi");

    // Verified: on the public layer, served by the normal routes.
    let fc = w.json("/api/layers/laporan-warga/features").await;
    assert_eq!(fc["features"].as_array().unwrap().len(), 1, "{fc}");
    let p = &fc["features"][0]["properties"];
    assert_eq!(p["status"], "diverifikasi");
    assert_eq!(p["kategori"], "infrastructure");
    assert_eq!(p["kecamatan"], "Kuta");
    assert_eq!(p["catatan"], "Sudah dicek petugas");
    // Its time is the day the report came in: the slider's and `datetime`'s.
    let day = &p["dilaporkan"].as_str().unwrap()[..10];
    let time = &w.json("/api/layers/laporan-warga").await["time"];
    assert_eq!(
        *time,
        json!({"property": "dilaporkan", "kind": "date", "extent": [day, day]})
    );
    for (datetime, n) in [(format!("../{day}"), 1), ("../1999-12-31".to_owned(), 0)] {
        let page = w
            .json(&format!(
                "/api/layers/laporan-warga/features?datetime={datetime}"
            ))
            .await;
        assert_eq!(page["numberMatched"], n, "{datetime}");
    }
    let plain = fc.to_string();
    assert!(
        !plain.contains(&code) && !plain.contains(&code.replace('-', "")),
        "code-free: {plain}"
    );
    public_bodies.push(fc.to_string());
    for path in [
        "/api/layers",
        "/api/layers/laporan-warga",
        "/ogc/collections/laporan-warga/items",
        "/tiles/laporan-warga.json",
        "/api/search?q=Jalan",
    ] {
        let r = w.get(path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        public_bodies.push(r.text());
    }

    // Handled, finished, with the public history.
    for (status, note) in [
        ("ditangani", "Perbaikan dijadwalkan"),
        ("selesai", "Jalan sudah ditambal"),
    ] {
        let r = post_json(
            &w,
            &status_path,
            Auth::Bearer(&pupr),
            json!({"status": status, "note": note}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let t = w.json(&format!("/api/reports/{code}")).await;
    assert_eq!(t["status"], "selesai");
    let history: Vec<&str> = t["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["baru", "diverifikasi", "ditangani", "selesai"]);
    assert_eq!(t["history"][3]["note"], "Jalan sudah ditambal");
    assert!(t["history"][3]["at"].as_str().is_some());
    assert_eq!(t["can_rate"], true);
    public_bodies.push(t.to_string());
    let fc = w.json("/api/layers/laporan-warga/features").await;
    assert_eq!(fc["features"][0]["properties"]["status"], "selesai");
    public_bodies.push(fc.to_string());

    // The reporter rates it, once.
    let rate_path = format!("/api/reports/{code}/rating");
    let r = post_json(
        &w,
        &rate_path,
        Auth::Anonymous,
        json!({"rating": 4, "comment": "Cepat"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    post_json(&w, &rate_path, Auth::Anonymous, json!({"rating": 5}))
        .await
        .problem(409);
    post_json(
        &w,
        "/api/reports/ABCDE-FGHJK/rating",
        Auth::Anonymous,
        json!({"rating": 5}),
    )
    .await
    .problem(404);

    // The leaders' figures.
    let s = w.json_as("/api/reports/stats", Auth::Bearer(&leader)).await;
    let a = s["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agency"] == "dinas-pupr")
        .unwrap()
        .clone();
    assert_eq!(a["total"], 1, "{s}");
    assert_eq!(a["open"], 0, "{s}");
    assert_eq!(a["mean_rating"], 4.0, "{s}");
    assert!(a["median_hours_to_first_response"].as_f64().unwrap() >= 0.0);
    assert!(a["median_hours_to_selesai"].as_f64().unwrap() >= 0.0);
    w.get("/api/reports/stats", Some(&pupr)).await.problem(403);
    w.get("/api/reports/stats", None).await.problem(401);

    // A re-route by the handling agency, audited.
    let r = post_json(
        &w,
        &format!("/api/reports/{id}/agency"),
        Auth::Bearer(&pupr),
        json!({"agency": "Dinas Perhubungan"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["agency"], "dinas-perhubungan");
    let actions =
        w.sql_strings("SELECT action FROM audit_log WHERE action LIKE 'report%' ORDER BY id");
    assert_eq!(
        actions,
        [
            "report-submit",
            "report-status",
            "report-status",
            "report-status",
            "report-rate",
            "report-route"
        ]
    );

    // The contact and name are in no public answer and not in the audit log.
    let audit =
        w.sql_strings("SELECT CAST(detail AS TEXT) FROM audit_log WHERE detail IS NOT NULL");
    for text in public_bodies.iter().chain(audit.iter()) {
        assert!(!text.contains("7777"), "contact leaked: {text}");
        assert!(!text.contains("Sekar"), "name leaked: {text}");
    }
    eprintln!("whole report flow in-process: {:?}", started.elapsed());
}

#[tokio::test]
async fn rejected_reports_never_reach_the_public_layer() {
    let w = World::new().await;
    let pupr = w
        .user("staf_pupr", Role::OpdStaff, Some("Dinas PUPR"))
        .await;
    for _ in 0..2 {
        assert_eq!(
            submit(&w, report_json(json!({}))).await.status,
            StatusCode::CREATED
        );
    }
    let q = w.json_as("/api/manage/reports", Auth::Bearer(&pupr)).await;
    let ids: Vec<i64> = q["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let r = post_json(
        &w,
        &format!("/api/reports/{}/status", ids[0]),
        Auth::Bearer(&pupr),
        json!({"status": "ditolak", "note": "Duplikat"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    w.problem("/api/layers/laporan-warga", 404).await;
    let r = post_json(
        &w,
        &format!("/api/reports/{}/status", ids[1]),
        Auth::Bearer(&pupr),
        json!({"status": "diverifikasi"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let fc = w.json("/api/layers/laporan-warga/features").await;
    assert_eq!(fc["features"].as_array().unwrap().len(), 1);
    assert_eq!(fc["features"][0]["id"], ids[1]);
    // Rejecting the verified one empties the public set: the layer goes,
    // for staff and leaders too (no stale version holding the rejected one).
    let r = post_json(
        &w,
        &format!("/api/reports/{}/status", ids[1]),
        Auth::Bearer(&pupr),
        json!({"status": "ditolak"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    w.problem("/api/layers/laporan-warga", 404).await;
    let seen = w.get("/api/layers/laporan-warga", Some(&pupr)).await;
    assert_eq!(seen.status, StatusCode::NOT_FOUND, "{}", seen.text());
    // A newly verified report brings it back, public.
    assert_eq!(
        submit(&w, report_json(json!({}))).await.status,
        StatusCode::CREATED
    );
    let q = w
        .json_as("/api/manage/reports?status=baru", Auth::Bearer(&pupr))
        .await;
    let id = q["reports"][0]["id"].as_i64().unwrap();
    let r = post_json(
        &w,
        &format!("/api/reports/{id}/status"),
        Auth::Bearer(&pupr),
        json!({"status": "diverifikasi"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let fc = w.json("/api/layers/laporan-warga/features").await;
    assert_eq!(fc["features"].as_array().unwrap().len(), 1, "{fc}");
    assert_eq!(fc["features"][0]["id"], id);
}

#[tokio::test]
async fn five_reports_an_hour_then_429_with_retry_after() {
    let w = World::new().await;
    for i in 0..5 {
        let r = submit(&w, report_json(json!({}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "report {i}: {}", r.text());
    }
    let r = submit(&w, report_json(json!({}))).await;
    let p = r.problem(429);
    assert!(
        p["detail"].as_str().unwrap().contains("Terlalu banyak"),
        "{p}"
    );
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    assert_eq!(report_count(&w), 5);
    // The address itself is never stored.
    let hashes = w.sql_strings("SELECT client_hash FROM reports");
    assert!(
        hashes
            .iter()
            .all(|h| h.len() == 64 && !h.contains("127.0.0.1"))
    );
}

#[tokio::test]
async fn a_filled_honeypot_and_bad_fields_store_nothing() {
    let w = World::new().await;
    let r = submit(&w, report_json(json!({"website": "http://spam.example"}))).await;
    r.problem(400);
    for bad in [
        json!({"description": "pendek"}),
        json!({"description": "x".repeat(2001)}),
        json!({"type": "ufo"}),
        json!({"lon": "timur"}),
        json!({"contact": "hubungi saya"}),
    ] {
        let r = submit(&w, report_json(bad.clone())).await;
        let p = r.problem(400);
        assert!(
            p["detail"].as_str().unwrap().contains(" / "),
            "bilingual: {p}"
        );
    }
    let r = submit(&w, "{not json".to_owned()).await;
    r.problem(400);
    assert_eq!(report_count(&w), 0);
}

#[tokio::test]
async fn a_report_outside_the_regency_is_refused() {
    let w = World::new().await;
    // Denpasar (the city, not the regency), and the sea south of Bali.
    for [lon, lat] in [[115.2625, -8.65], [115.0, -9.0]] {
        let r = submit(&w, report_json(json!({"lon": lon, "lat": lat}))).await;
        let p = r.problem(422);
        assert_eq!(
            p["detail"],
            "Lokasi di luar Kabupaten Badung. / The location is outside Badung Regency."
        );
    }
    assert_eq!(report_count(&w), 0);
}

#[tokio::test]
async fn photo_gps_tags_are_stripped_and_the_photo_is_public_only_after_verification() {
    let w = World::new().await;
    let pupr = w
        .user("staf_pupr", Role::OpdStaff, Some("Dinas PUPR"))
        .await;
    let original = layers::photo_meta::jpeg_with_gps();
    let gps = |bytes: &[u8]| -> usize {
        exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(bytes))
            .map(|e| {
                e.fields()
                    .filter(|f| f.tag.context() == exif::Context::Gps)
                    .count()
            })
            .unwrap_or(0)
    };
    assert!(gps(&original) >= 4, "the test photo carries GPS tags");
    let lon = KUTA[0].to_string();
    let lat = KUTA[1].to_string();
    let (ct, body) = multipart(
        &[
            ("type", "lampu-jalan-mati"),
            ("lon", &lon),
            ("lat", &lat),
            ("description", "Lampu jalan mati sejak seminggu"),
            ("contact", "sekar@example.id"),
            ("website", ""),
        ],
        Some(&original),
    );
    let r = w
        .send(
            Request::post("/api/reports")
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id: i64 = w.sql_strings("SELECT CAST(id AS TEXT) FROM reports")[0]
        .parse()
        .unwrap();
    // What is stored has no GPS tags (read with a real EXIF reader).
    let stored = testkit::sql(&w.db_url(), "SELECT photo FROM reports");
    let stored: Vec<u8> = sqlx::Row::try_get(&stored[0], 0).unwrap();
    assert_eq!(gps(&stored), 0);
    assert!(!stored.windows(5).any(|x| x == b"Canon"));
    // Routed to Dinas Perhubungan: Dinas PUPR does not see it.
    let path = format!("/api/report-photos/{id}");
    w.get(&path, None).await.problem(404);
    w.get(&path, Some(&pupr)).await.problem(404);
    let dishub = w
        .user("staf_dishub", Role::OpdStaff, Some("Dinas Perhubungan"))
        .await;
    let r = w.get(&path, Some(&dishub)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(gps(&r.body), 0);
    assert_eq!(r.header("content-type").as_deref(), Some("image/jpeg"));
    let r = post_json(
        &w,
        &format!("/api/reports/{id}/status"),
        Auth::Bearer(&dishub),
        json!({"status": "diverifikasi"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let served = w.get(&path, None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(gps(&served.body), 0);
    let fc = w.json("/api/layers/laporan-warga/features").await;
    assert_eq!(fc["features"][0]["properties"]["foto"], path);
    assert!(!fc.to_string().contains("sekar@"));
}

#[tokio::test]
async fn a_cookie_status_change_from_another_site_is_refused() {
    let w = World::new().await;
    w.add_user("staf_pupr", "opd_staff", Some("Dinas PUPR"))
        .await;
    assert_eq!(
        submit(&w, report_json(json!({}))).await.status,
        StatusCode::CREATED
    );
    let id = w.sql_strings("SELECT CAST(id AS TEXT) FROM reports")[0].clone();
    let cookie = w.login("staf_pupr", crate::support::PASSWORD).await;
    let r = w
        .send(
            Request::post(format!("/api/reports/{id}/status"))
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"status": "ditolak"}).to_string()))
                .unwrap(),
        )
        .await;
    r.problem(403);
    let r = post_json(
        &w,
        &format!("/api/reports/{id}/status"),
        Auth::Cookie(&cookie),
        json!({"status": "diverifikasi"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}
