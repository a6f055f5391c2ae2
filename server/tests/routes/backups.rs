//! Backups from the admin page (`/api/admin/backups`): who may, what the
//! list says, taking one (checked, with the photos inside), downloading
//! it, keeping the newest N, the metrics and the audit log.

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use layers::model::access::Role;
use layers::store::backup;
use serde_json::Value;
use server::config::{BackupConfig, Config};

use crate::support::{Auth, HOST, World};

/// A server whose backups go to `dir`, keeping `keep`.
async fn world_with_backups(dir: &Path, keep: usize) -> World {
    World::with_server_config(Config {
        backups: BackupConfig {
            dir: Some(dir.to_path_buf()),
            keep,
            ..BackupConfig::default()
        },
        ..Config::default()
    })
    .await
}

/// A published layer of agency Dinas PUPR with a photo on feature 1.
async fn layer_with_photo(w: &World) {
    let staff = w
        .user("staf_pupr", Role::OpdStaff, Some("Dinas PUPR"))
        .await;
    w.created(
        "/api/layers?id=pura-uji&category=places-of-worship&title_id=Pura&filename=a.geojson",
        &staff,
        crate::support::points(&["Pura Dalem", "Pura Puseh"]),
    )
    .await;
    let r = w
        .post("/api/layers/pura-uji/publish", Some(&staff), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = w
        .post(
            "/api/layers/pura-uji/features/1/photos?caption=gapura",
            Some(&staff),
            testkit::PNG,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

fn bilingual(problem: &Value) {
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(". / "), "Indonesian. / English.: {detail}");
}

#[tokio::test]
async fn only_admins_see_take_and_download_backups() {
    let dir = tempfile::tempdir().unwrap();
    let w = world_with_backups(dir.path(), 14).await;
    let leader = w.user("bupati", Role::Leader, None).await;
    let staff = w.user("staf", Role::OpdStaff, Some("Dinas PUPR")).await;
    let name = backup::file_name(1_795_000_000, "db");
    std::fs::write(dir.path().join(&name), b"x").unwrap();
    let download = format!("/api/admin/backups/{name}");
    for (method, path) in [
        (Method::GET, "/api/admin/backups"),
        (Method::POST, "/api/admin/backups"),
        (Method::GET, download.as_str()),
    ] {
        let r = w.call(method.clone(), path, None, Body::empty()).await;
        bilingual(&r.problem(401));
        for token in [&leader, &staff] {
            let r = w
                .call(method.clone(), path, Some(token), Body::empty())
                .await;
            bilingual(&r.problem(403));
        }
    }
    // Nothing was taken by the refused calls.
    assert_eq!(backup::list(dir.path()).unwrap().len(), 1);
}

#[tokio::test]
async fn without_a_backup_folder_the_list_is_empty_and_taking_one_is_404() {
    let w = World::new().await;
    let admin = w.user("admin", Role::Admin, None).await;
    let list = w.json_as("/api/admin/backups", Auth::Bearer(&admin)).await;
    insta::assert_json_snapshot!("backups_unconfigured", list);
    let r = w.post("/api/admin/backups", Some(&admin), "").await;
    let p = r.problem(404);
    bilingual(&p);
    insta::assert_json_snapshot!("backups_unconfigured_take", p);
    w.get(
        &format!(
            "/api/admin/backups/{}",
            backup::file_name(1_795_000_000, "db")
        ),
        Some(&admin),
    )
    .await
    .problem(404);
}

#[tokio::test]
async fn an_admin_takes_a_checked_backup_with_the_photos_and_downloads_it() {
    // PostgreSQL backups need pg_dump: see `layers::store::backup`.
    if !testkit::backend_is_sqlite() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = world_with_backups(dir.path(), 14).await;
    layer_with_photo(&w).await;
    w.add_user("admin", "admin", None).await;
    let cookie = w.login("admin", crate::support::PASSWORD).await;

    let r = w
        .call_as(
            Method::POST,
            "/api/admin/backups",
            Auth::Cookie(&cookie),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let taken = r.json();
    let name = taken["name"].as_str().unwrap().to_owned();
    assert!(backup::parse_name(&name).is_some(), "{name}");
    assert!(name.ends_with(".db"), "{name}");
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("/api/admin/backups/{name}").as_str())
    );
    assert_eq!(taken["verified"], true);
    let file = dir.path().join(&name);
    assert_eq!(
        taken["bytes"].as_u64().unwrap(),
        std::fs::metadata(&file).unwrap().len()
    );
    // Nothing half written is left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, std::slice::from_ref(&name));

    let list = w.json_as("/api/admin/backups", Auth::Cookie(&cookie)).await;
    assert_eq!(list["backups"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["backups"][0], taken);
    assert_eq!(list["last_success"], taken["created_at"]);
    assert!(list["age_seconds"].as_i64().unwrap() >= 0, "{list}");
    assert_eq!(list["dir"], true);
    assert_eq!(list["every_seconds"], 86_400);
    assert_eq!(list["keep"], 14);
    insta::assert_json_snapshot!("backups_list", list, {
        ".backups[].name" => "[name]",
        ".backups[].bytes" => "[bytes]",
        ".backups[].created_at" => "[time]",
        ".last_success" => "[time]",
        ".age_seconds" => "[age]",
    });

    // The download is the file, as an attachment.
    let r = w
        .get_as(&format!("/api/admin/backups/{name}"), Auth::Cookie(&cookie))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"{name}\""))
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/vnd.sqlite3")
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.body, std::fs::read(&file).unwrap());

    // The photo is inside the backup, byte for byte, and so is the layer.
    let copy = format!("sqlite://{}?mode=ro", file.display());
    let photo = testkit::sql(&copy, "SELECT bytes FROM photos");
    let bytes: Vec<u8> = sqlx::Row::try_get(&photo[0], 0).unwrap();
    assert_eq!(bytes, testkit::PNG);
    assert_eq!(
        testkit::sql_strings(&copy, "SELECT id FROM layers"),
        ["pura-uji"]
    );

    // The audit log names the admin; the metrics show the backup.
    let who = w.sql_strings("SELECT actor_name FROM audit_log WHERE action = 'backup'");
    assert_eq!(who, ["admin"]);
    let metrics = w.get("/metrics", None).await.text();
    let value = |metric: &str| -> i64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{metric} ")))
            .unwrap_or_else(|| panic!("no {metric} in\n{metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(
        value("bsc_backup_last_success_timestamp_seconds"),
        backup::parse_name(&name).unwrap()
    );
    assert_eq!(value("bsc_backup_bytes"), taken["bytes"].as_i64().unwrap());
    assert_eq!(value("bsc_backup_failures_total"), 0);
    assert!((0..60).contains(&value("bsc_backup_last_age_seconds")));
}

#[tokio::test]
async fn only_backup_names_in_the_folder_can_be_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    let w = world_with_backups(dir.path(), 14).await;
    let admin = w.user("admin", Role::Admin, None).await;
    // A file beside the backups that is not one, and one beside the folder.
    std::fs::write(dir.path().join("bsc.db"), b"secret").unwrap();
    std::fs::write(dir.path().join(".bsc-20261118T110640Z.db.partial"), b"half").unwrap();
    for name in [
        "bsc.db",
        ".bsc-20261118T110640Z.db.partial",
        "bsc-20261118T110640Z.db",
        "..%2Fbsc-20261118T110640Z.db",
        "bsc-20261118T110640Z.db%00",
        "%2E%2E",
    ] {
        let p = w
            .get(&format!("/api/admin/backups/{name}"), Some(&admin))
            .await
            .problem(404);
        bilingual(&p);
    }
}

#[tokio::test]
async fn one_backup_at_a_time_and_a_cookie_post_from_elsewhere_is_refused() {
    // PostgreSQL backups need pg_dump: see `layers::store::backup`.
    if !testkit::backend_is_sqlite() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = world_with_backups(dir.path(), 14).await;
    w.add_user("admin", "admin", None).await;
    let cookie = w.login("admin", crate::support::PASSWORD).await;
    {
        let _held = w.state.backups.try_hold().unwrap();
        let r = w
            .call_as(
                Method::POST,
                "/api/admin/backups",
                Auth::Cookie(&cookie),
                "",
            )
            .await;
        bilingual(&r.problem(409));
    }
    let r = w
        .send(
            Request::post("/api/admin/backups")
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, "https://evil.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    r.problem(403);
    assert!(backup::list(dir.path()).unwrap().is_empty());
    // From this site it works.
    let r = w
        .send(
            Request::post("/api/admin/backups")
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, format!("http://{HOST}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn the_newest_backups_are_kept_and_other_files_are_left_alone() {
    if !testkit::backend_is_sqlite() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = world_with_backups(dir.path(), 2).await;
    let admin = w.user("admin", Role::Admin, None).await;
    std::fs::write(dir.path().join("notes.txt"), b"keep me").unwrap();
    let old = backup::file_name(1_000_000_000, "db");
    std::fs::write(dir.path().join(&old), b"x").unwrap();
    let mut names = Vec::new();
    for _ in 0..3 {
        names.push(w.created("/api/admin/backups", &admin, "").await["name"].clone());
    }
    let left: Vec<Value> = w.json_as("/api/admin/backups", Auth::Bearer(&admin)).await["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].clone())
        .collect();
    assert_eq!(left, [names[2].clone(), names[1].clone()]);
    assert!(dir.path().join("notes.txt").exists());
    assert!(!dir.path().join(&old).exists());
}

/// The checks hold while the database is being written: the rows per
/// table of the copy equal those of the same snapshot.
#[tokio::test]
async fn backups_taken_during_writes_pass_their_checks() {
    if !testkit::backend_is_sqlite() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = world_with_backups(dir.path(), 14).await;
    layer_with_photo(&w).await;
    let store = w.state.store.clone();
    let writing = tokio::spawn(async move {
        for i in 0.. {
            layers::store::audit::record(
                store.pool(),
                &layers::store::audit::Entry {
                    action: "test_write",
                    detail: Some(serde_json::json!({"i": i})),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    for _ in 0..3 {
        let taken = backup::take(&w.state.store, dir.path()).await.unwrap();
        assert!(taken.counts["audit_log"] > 0);
        assert_eq!(taken.counts["photos"], 1);
        let file = dir.path().join(&taken.file.name);
        backup::verify_sqlite(&file, &taken.counts).await.unwrap();
        // One row more or less than the copy holds is caught.
        let mut wrong = taken.counts.clone();
        *wrong.get_mut("audit_log").unwrap() += 1;
        let e = backup::verify_sqlite(&file, &wrong).await.unwrap_err();
        assert!(e.to_string().contains("audit_log"), "{e}");
    }
    writing.abort();
}

#[tokio::test]
async fn a_damaged_copy_fails_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("damaged.db");
    std::fs::write(&file, b"SQLite format 3\0 and then nothing useful").unwrap();
    assert!(
        backup::verify_sqlite(&file, &backup::Counts::new())
            .await
            .is_err()
    );
}

/// On PostgreSQL with `pg_dump` on the `PATH`: a custom-format archive,
/// checked by its table of contents, that restores into an empty database
/// with the same layers and the photo.
#[tokio::test]
async fn on_postgresql_a_backup_is_a_pg_dump_archive_that_restores() {
    if testkit::backend_is_sqlite() {
        return;
    }
    if !backup::pg_dump_available() {
        testkit_skipped("PostgreSQL backups: pg_dump is not on the PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = world_with_backups(dir.path(), 14).await;
    layer_with_photo(&w).await;
    let admin = w.user("admin", Role::Admin, None).await;
    let taken = w.created("/api/admin/backups", &admin, "").await;
    let name = taken["name"].as_str().unwrap().to_owned();
    assert!(name.ends_with(".dump"), "{name}");
    let file = dir.path().join(&name);
    let toc = std::process::Command::new("pg_restore")
        .arg("--list")
        .arg(&file)
        .output()
        .unwrap();
    let toc = String::from_utf8_lossy(&toc.stdout);
    assert!(toc.contains("TABLE DATA public photos "), "{toc}");
    let r = w
        .get(&format!("/api/admin/backups/{name}"), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(r.body, std::fs::read(&file).unwrap());

    // The drill: into an empty database, then opened as bsc opens it.
    let fresh = testkit::PgDatabase::create();
    let out = std::process::Command::new("pg_restore")
        .arg("--no-owner")
        .arg("--dbname")
        .arg(&fresh.url)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = layers::Store::open(&fresh.url).await.unwrap();
    restored.close().await;
    let query = "SELECT CAST(COUNT(*) AS TEXT) FROM photos";
    assert_eq!(testkit::sql_strings(&fresh.url, query), ["1"]);
    assert_eq!(
        testkit::sql_strings(&fresh.url, "SELECT id FROM layers"),
        ["pura-uji"]
    );
}

fn testkit_skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}

/// A backup that cannot be written is a problem naming the reason,
/// counted in the metrics; nothing is left behind and the server serves on.
#[tokio::test]
async fn a_failed_backup_is_reported_and_counted() {
    if !testkit::backend_is_sqlite() && !backup::pg_dump_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The folder is a file: nothing can be written there.
    let not_a_dir = dir.path().join("cadangan");
    std::fs::write(&not_a_dir, b"a file").unwrap();
    let w = world_with_backups(&not_a_dir, 14).await;
    let admin = w.user("admin", Role::Admin, None).await;
    let r = w.post("/api/admin/backups", Some(&admin), "").await;
    let p = r.problem(500);
    bilingual(&p);
    assert_eq!(p["type"], "urn:bsc:problem:backup-failed", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("cadangan"), "{p}");
    let metrics = w.get("/metrics", None).await.text();
    assert!(
        metrics.contains("bsc_backup_failures_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("bsc_backup_last_success_timestamp_seconds 0\n"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("bsc_backup_last_age_seconds"),
        "{metrics}"
    );
    assert_eq!(std::fs::read(&not_a_dir).unwrap(), b"a file");
    let list = w.json_as("/api/admin/backups", Auth::Bearer(&admin)).await;
    assert_eq!(list["last_success"], Value::Null);
    assert_eq!(list["dir"], true);
}
