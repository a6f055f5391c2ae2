//! Crash safety: `kill -9` at any moment of an upload or a publish leaves
//! the database consistent and the last published version served after a
//! restart.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Rng, Workspace};
use serde_json::{Value, json};

const PASSWORD: &str = "kata-sandi-rahasia-1";

fn layer(n: usize, tag: &str, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    let features: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "Feature", "id": i + 1,
                   "properties": {"nama": format!("{tag} {i}"), "keterangan": "x".repeat(40)},
                   "geometry": {"type": "Point", "coordinates": [r.between(115.1, 115.25), r.between(-8.8, -8.5)]}})
        })
        .collect();
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).unwrap()
}

/// What the database says is current, and that it is intact.
fn database_state(ws: &Workspace) -> (Option<i64>, i64, i64) {
    use sqlx::Row;
    if ws.is_sqlite() {
        let ok: Vec<String> = ws
            .sql("PRAGMA integrity_check")
            .iter()
            .map(|r| r.try_get(0).unwrap())
            .collect();
        assert_eq!(ok, ["ok"]);
        assert!(ws.sql("PRAGMA foreign_key_check").is_empty());
    }
    let current: Option<i64> = ws.sql("SELECT current_version FROM layers WHERE id = 'besar'")[0]
        .try_get(0)
        .unwrap();
    let count = ws.sql_i64(
        "SELECT v.feature_count FROM layers l JOIN layer_versions v ON v.layer_id = l.id AND v.version = l.current_version WHERE l.id = 'besar'",
    );
    // Every version row's count matches the features it holds: no half-written version.
    let torn = ws.sql_i64(
        "SELECT COUNT(*) FROM layer_versions v WHERE v.feature_count <> (SELECT COUNT(*) FROM features f WHERE f.version_id = v.id)",
    );
    (current, count, torn)
}

#[test]
fn kill_9_during_upload_or_publish_keeps_the_database_consistent() {
    let ws = Workspace::new();
    let v1 = ws.path("v1.geojson");
    std::fs::write(&v1, layer(1000, "Satu", 1)).unwrap();
    ws.import_ok(&v1, "besar", "general", &["--agency", "Dinas PUPR"]);
    ws.add_user("staf", "opd_staff", Some("dinas-pupr"), PASSWORD);
    let big = layer(150_000, "Dua", 2);

    // Killed while the upload is being written.
    let s = ws.serve(&[]);
    let cookie = s.login("staf", PASSWORD);
    let url = s.url("/api/layers/besar/versions?filename=big.geojson");
    let (base, body) = (s.base.clone(), big.clone());
    let cookie2 = cookie.clone();
    let uploading = std::thread::spawn(move || {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        client
            .post(url)
            .header("cookie", cookie2)
            .header("origin", base)
            .body(body)
            .send()
    });
    // Wait until the server is busy writing: the upload is large enough to take seconds.
    std::thread::sleep(Duration::from_millis(1500));
    drop(s); // kill -9
    // Usually cut off mid-write; on a fast machine it may have finished as a
    // draft. Either way version 1 stays current and no version is torn.
    let cut_off = uploading.join().unwrap().is_err();
    eprintln!("upload cut off by kill -9: {cut_off}");
    let (current, count, torn) = database_state(&ws);
    assert_eq!((current, count, torn), (Some(1), 1000, 0));
    let s = ws.serve(&[]);
    assert_eq!(
        s.json("/api/layers/besar/features?limit=1")["numberMatched"],
        1000
    );
    assert_eq!(s.json("/api/layers/besar")["version"], 1);

    // A complete draft, then publishes and rollbacks killed at random moments.
    let cookie = s.login("staf", PASSWORD);
    let r = s
        .request(
            reqwest::Method::POST,
            "/api/layers/besar/versions?filename=v2.geojson",
        )
        .header("cookie", &cookie)
        .header("origin", &s.base)
        .body(layer(20_000, "Dua", 3))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    drop(s);
    let mut rng = Rng(7);
    let mut seen = std::collections::BTreeSet::new();
    for round in 0..6 {
        let s = ws.serve(&[]);
        let (current, _, _) = database_state(&ws);
        let path = if current == Some(1) && round == 0 {
            "/api/layers/besar/publish?version=2".to_owned()
        } else if current == Some(1) {
            "/api/layers/besar/rollback?to=2".to_owned()
        } else {
            "/api/layers/besar/rollback?to=1".to_owned()
        };
        let cookie = s.login("staf", PASSWORD);
        let (url, base) = (s.url(&path), s.base.clone());
        let req = std::thread::spawn(move || {
            reqwest::blocking::Client::new()
                .post(url)
                .header("cookie", cookie)
                .header("origin", base)
                .send()
        });
        std::thread::sleep(Duration::from_micros(rng.next() % 30_000));
        drop(s);
        let _ = req.join();
        let (current, count, torn) = database_state(&ws);
        assert_eq!(torn, 0);
        seen.insert(current);
        // After a restart the server serves exactly what the database says is current.
        let s = ws.serve(&[]);
        let layer = s.json("/api/layers/besar");
        assert_eq!(layer["version"].as_i64(), current, "round {round}");
        assert_eq!(
            s.json("/api/layers/besar/features?limit=1")["numberMatched"],
            count
        );
        drop(s);
    }
    assert!(seen.contains(&Some(1)) || seen.contains(&Some(2)));
}

#[test]
fn backup_while_uploading_restores_a_consistent_database() {
    if !common::backend_is_sqlite() {
        // `bsc backup` is SQLite's; PostgreSQL has pg_dump (see the README).
        return;
    }
    let ws = Workspace::new();
    let v1 = ws.path("v1.geojson");
    std::fs::write(&v1, layer(1000, "Satu", 1)).unwrap();
    ws.import_ok(&v1, "besar", "general", &["--agency", "Dinas PUPR"]);
    ws.add_user("staf", "opd_staff", Some("dinas-pupr"), PASSWORD);
    let s = ws.serve(&[]);
    let cookie = s.login("staf", PASSWORD);
    let (url, base) = (
        s.url("/api/layers/besar/versions?filename=big.geojson"),
        s.base.clone(),
    );
    let body = layer(100_000, "Dua", 2);
    let uploading = std::thread::spawn(move || {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap()
            .post(url)
            .header("cookie", cookie)
            .header("origin", base)
            .body(body)
            .send()
            .unwrap()
            .status()
    });
    // Snapshots taken while the upload's transaction is open see the
    // database before it; one taken after sees the whole draft. Never half.
    let mut backups = Vec::new();
    for i in 0..4 {
        std::thread::sleep(Duration::from_millis(400));
        let file = ws.path(&format!("backup-{i}.db"));
        ws.bsc_ok(&["backup", file.to_str().unwrap()], "");
        backups.push(file);
    }
    assert_eq!(uploading.join().unwrap(), 201);
    drop(s);
    for file in backups {
        let restored = Workspace::new();
        restored.bsc_ok(&["restore", file.to_str().unwrap()], "");
        let (current, count, torn) = database_state(&restored);
        assert_eq!(
            (current, count, torn),
            (Some(1), 1000, 0),
            "{}",
            file.display()
        );
        let s = restored.serve(&[]);
        assert_eq!(
            s.json("/api/layers/besar/features?limit=1")["numberMatched"],
            1000
        );
        // The staff account came along and may see its layer's history.
        let cookie = s.login("staf", PASSWORD);
        let versions = s.json_as("/api/layers/besar/versions", common::Auth::Cookie(&cookie));
        let n = versions["versions"].as_array().unwrap().len();
        assert!(n == 1 || n == 2, "{versions}");
    }
}
