//! Backups that run themselves, through the real binary: `bsc serve
//! --backup-dir DIR --backup-every 2s --backup-keep 2` takes checked
//! backups while it serves a layer with a photo, keeps the newest two, and
//! the restore drill of the README (the newest backup, downloaded from the
//! admin API into a fresh folder and served) shows the same layers,
//! features and photo. Also: when the first backup is due, and bad flags.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use common::{Auth, PNG, Server, Workspace};
use reqwest::Method;
use serde_json::Value;

const PASSWORD: &str = "Kata-sandi-uji-2026";

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The backup files in `dir`, sorted by name (oldest first).
fn backup_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.starts_with("bsc-") && n.ends_with(".db"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The seconds since 1970 a backup's name says (`bsc-YYYYMMDDTHHMMSSZ.db`).
fn taken_at(name: &str) -> i64 {
    layers::store::backup::parse_name(name).unwrap()
}

#[test]
fn scheduled_backups_keep_the_newest_and_the_newest_serves_the_same_map() {
    let ws = Workspace::new_sqlite();
    ws.add_user("admin", "admin", None, PASSWORD);
    ws.add_user("staf", "opd_staff", Some("Dinas PUPR"), PASSWORD);
    let staff = ws.create_token("staf", "e2e");
    let admin = ws.create_token("admin", "e2e");
    let dir = ws.path("cadangan");
    let s = ws.serve(&[
        "--backup-dir",
        dir.to_str().unwrap(),
        "--backup-every",
        "2s",
        "--backup-keep",
        "2",
    ]);

    // A layer uploaded over HTTP, published, with a photo on a feature.
    let geojson = testkit::named_points(&["Pura Dalem", "Pura Puseh", "Pura Desa"], [115.17, -8.7]);
    let r = s
        .authed(
            Method::POST,
            "/api/layers?id=pura-uji&category=places-of-worship&title_id=Pura&filename=a.geojson",
            Auth::Bearer(&staff),
        )
        .body(geojson.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    let r = s
        .authed(
            Method::POST,
            "/api/layers/pura-uji/publish",
            Auth::Bearer(&staff),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let r = s
        .authed(
            Method::POST,
            "/api/layers/pura-uji/features/1/photos?caption=gapura",
            Auth::Bearer(&staff),
        )
        .body(PNG.to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
    let photo: Value = r.json().unwrap();
    let photo_url = photo["url"].as_str().unwrap().to_owned();
    let photo_added = unix_now();

    // A backup taken after the photo, and two more since: two are kept.
    s.eventually(30, |s| {
        let list = s.json_as("/api/admin/backups", Auth::Bearer(&admin));
        list["backups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| taken_at(b["name"].as_str().unwrap()) > photo_added)
            .count()
            >= 1
            && ws.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'backup' AND actor_name = 'scheduler'") >= 3
    });
    let list = s.json_as("/api/admin/backups", Auth::Bearer(&admin));
    let files = backup_files(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    let listed = list["backups"].as_array().unwrap();
    assert!(listed.iter().all(|b| b["verified"] == true), "{list}");
    assert_eq!(list["every_seconds"], 2);
    assert_eq!(list["keep"], 2);
    assert!(list["age_seconds"].as_i64().unwrap() <= 10, "{list}");
    let metrics = s.get("/metrics").text().unwrap();
    assert!(metrics.contains("bsc_backup_failures_total 0"), "{metrics}");
    assert!(
        metrics.contains("\nbsc_backup_last_success_timestamp_seconds 1"),
        "{metrics}"
    );

    // The drill: download the newest backup into a fresh folder, serve it.
    let newest = listed[0]["name"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let r = s
        .authed(
            Method::GET,
            &format!("/api/admin/backups/{newest}"),
            Auth::Bearer(&admin),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().unwrap();
    let drill = tempfile::tempdir().unwrap();
    let copy = drill.path().join("bsc.db");
    std::fs::write(&copy, &bytes).unwrap();
    let restored = Server::start(&format!("sqlite://{}", copy.display()), drill.path(), &[]);
    eprintln!(
        "restore drill: {} bytes downloaded and served in {} ms",
        bytes.len(),
        started.elapsed().as_millis()
    );
    let layers = |s: &Server| -> Vec<(String, u64)> {
        let v = s.json("/api/layers");
        v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["id"].as_str().unwrap().to_owned(),
                    l["feature_count"].as_u64().unwrap_or_default(),
                )
            })
            .collect()
    };
    assert_eq!(layers(&restored), layers(&s));
    assert!(layers(&s).iter().any(|(id, _)| id == "pura-uji"));
    let features = |s: &Server| s.json("/api/layers/pura-uji/features")["features"].clone();
    assert_eq!(features(&restored), features(&s));
    let served = restored.get(&photo_url);
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().unwrap().as_ref(), PNG);
    drop(restored);
    drop(s);
}

#[test]
fn the_first_backup_is_taken_at_start_only_when_the_newest_is_too_old() {
    let ws = Workspace::new_sqlite();
    ws.bsc_ok(&["user", "list"], "");
    let dir = ws.path("cadangan");
    std::fs::create_dir_all(&dir).unwrap();
    // An old backup: one is due at once.
    std::fs::write(dir.join("bsc-20010101T000000Z.db"), b"old").unwrap();
    let args = [
        "--backup-dir",
        dir.to_str().unwrap(),
        "--backup-every",
        "1h",
        "--backup-keep",
        "5",
    ];
    let s = ws.serve(&args);
    s.eventually(30, |_| backup_files(&dir).len() == 2);
    drop(s);
    // A fresh one: none at start.
    let s = ws.serve(&args);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(backup_files(&dir).len(), 2, "{:?}", backup_files(&dir));
    let metrics = s.get("/metrics").text().unwrap();
    let newest = taken_at(backup_files(&dir).last().unwrap());
    assert!(
        metrics.contains(&format!(
            "bsc_backup_last_success_timestamp_seconds {newest}\n"
        )),
        "{metrics}"
    );
    drop(s);
}

#[test]
fn bad_backup_flags_are_one_line_errors() {
    let ws = Workspace::new_sqlite();
    for (flag, value) in [
        ("--backup-every", "soon"),
        ("--backup-every", "0h"),
        ("--backup-every", "24"),
        ("--backup-keep", "0"),
    ] {
        let out = ws.bsc(&["serve", "--bind", "127.0.0.1:0", flag, value], "");
        assert!(!out.status.success(), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(flag), "{err}");
    }
}
