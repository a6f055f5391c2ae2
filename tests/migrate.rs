//! `bsc migrate-data`: a SQLite installation copied to PostgreSQL (and back)
//! serves exactly the same answers. Runs in the PostgreSQL pass of the
//! suite (`BSC_TEST_BACKEND=postgres`), which has a server to copy to.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Output};

use common::{Auth, BSC, PgDatabase, Server, Workspace};
use serde_json::Value;

const PASSWORD: &str = "kata-sandi-pindah";

fn migrate(from: &str, to: &str) -> Output {
    Command::new(BSC)
        .args(["migrate-data", "--from", from, "--to", to])
        .output()
        .unwrap()
}

/// Answers that must not change when the data moves to another backend.
fn answers(s: &Server, token: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let layers = s.json_as("/api/layers", Auth::Bearer(token));
    for l in layers["layers"].as_array().unwrap() {
        let id = l["id"].as_str().unwrap();
        let path = format!("/api/layers/{id}/features?limit=10000");
        out.push((path.clone(), s.json_as(&path, Auth::Bearer(token))));
        let path = format!("/api/layers/{id}/versions");
        out.push((path.clone(), s.json_as(&path, Auth::Bearer(token))));
    }
    out.push(("/api/layers".into(), layers));
    for path in [
        "/api/categories",
        "/api/search?q=pura&limit=50",
        "/api/audit?limit=1000",
    ] {
        out.push((path.into(), s.json_as(path, Auth::Bearer(token))));
    }
    out
}

#[test]
fn migrate_data_copies_everything_to_postgres_and_back() {
    if common::backend_is_sqlite() {
        eprintln!("skipped: runs in the PostgreSQL pass (BSC_TEST_BACKEND=postgres)");
        return;
    }
    let sqlite = Workspace::new_sqlite();
    sqlite.add_user("ayu", "admin", None, PASSWORD);
    let token = sqlite.create_token("ayu", "pindah");
    let before = {
        let s = sqlite.serve(&["--demo", "--demo-features", "3000"]);
        s.login("ayu", PASSWORD);
        answers(&s, &token)
    };
    // A photo's bytes travel too.
    let photo_path = before
        .iter()
        .find_map(|(_, v)| {
            v["features"].as_array()?.iter().find_map(|f| {
                f["properties"]["photos"][0]["url"]
                    .as_str()
                    .map(str::to_owned)
            })
        })
        .expect("the demo data has photos");

    let pg = PgDatabase::create();
    let out = migrate(&sqlite.db(), &pg.url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("every count matches"), "{printed}");

    let on_pg = Workspace::on(pg.url.clone());
    let s = on_pg.serve(&[]);
    let after = answers(&s, &token);
    assert_eq!(before.len(), after.len());
    for ((path, a), (_, b)) in before.iter().zip(&after) {
        // Login events differ (ayu logged in on SQLite only); the rest is equal.
        if path.starts_with("/api/audit") {
            let n = |v: &Value| v["entries"].as_array().unwrap().len();
            assert!(n(a) > 20 && n(b) >= n(a), "{path}: {} then {}", n(a), n(b));
            continue;
        }
        assert_eq!(a, b, "{path} differs after moving to PostgreSQL");
    }
    let photo = |s: &Server| s.get(&photo_path).bytes().unwrap();
    let photo_bytes = {
        let s = sqlite.serve(&[]);
        photo(&s)
    };
    assert!(photo_bytes.len() > 100);
    assert_eq!(photo(&s), photo_bytes);
    drop(s);

    // Into a database that holds data: refused in one line, nothing changed.
    let again = migrate(&sqlite.db(), &pg.url);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && err.trim().lines().count() == 1,
        "{err}"
    );
    assert!(err.contains("empty"), "{err}");

    // And back to a new SQLite file.
    let back = Workspace::new_sqlite();
    let out = migrate(&pg.url, &back.db());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = back.serve(&[]);
    let returned = answers(&s, &token);
    for ((path, a), (_, b)) in after.iter().zip(&returned) {
        if path.starts_with("/api/audit") {
            continue;
        }
        assert_eq!(a, b, "{path} differs after moving back to SQLite");
    }
}
