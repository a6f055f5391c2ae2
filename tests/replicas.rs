//! Two `bsc serve` replicas on one PostgreSQL: a change published on one is
//! served by the other long before its periodic sync, set to a minute here,
//! could find it (LISTEN/NOTIFY; milliseconds in practice, the log says how
//! many); sessions are shared; and when
//! PostgreSQL is killed, reads go on from memory, writes get 503 problems,
//! `/readyz` says not ready, and everything recovers when it returns. A
//! follower of the change feed on one replica hears every change made on
//! either, under the same ids the other streams, across the outage.
//!
//! The test runs its own PostgreSQL instance (initdb on a temporary
//! directory, a free port) so that killing it disturbs nothing else. It
//! needs PostgreSQL's server binaries and PostGIS (Debian:
//! `postgresql-15-postgis-3`); without them it is skipped, unless
//! `BSC_POSTGRES_TESTS=required` (as CI sets it), when it fails.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Auth, Server, Workspace};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "kata-sandi-replika";

/// A PostgreSQL instance of this test's own.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

/// The newest installed PostgreSQL server binaries.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL program, as the `postgres` user when we are root
/// (PostgreSQL refuses to run as root).
fn pg(bin: &Path, program: &str, args: &[&str]) {
    let exe = bin.join(program);
    let out = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&exe)
            .args(args)
            .output()
    } else {
        Command::new(&exe).args(args).output()
    }
    .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postgres {
    fn start() -> Option<Postgres> {
        let required = std::env::var("BSC_POSTGRES_TESTS").as_deref() == Ok("required");
        let Some(bin) = postgres_bin() else {
            assert!(!required, "PostgreSQL server binaries are missing");
            common::skipped(
                "replicas on a private PostgreSQL: no PostgreSQL server binaries in /usr/lib/postgresql \
                 (apt-get install postgresql-15-postgis-3)",
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let data_s = data.to_str().unwrap();
        pg(
            &bin,
            "initdb",
            &[
                "-D",
                data_s,
                "-U",
                "bsc",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let port = free_port();
        let pg = Postgres {
            bin,
            data,
            port,
            _dir: dir,
        };
        pg.run();
        Some(pg)
    }

    fn run(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.display()
        );
        pg(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "-l",
                "/dev/null",
                "start",
            ],
        );
    }

    /// Kills the server at once, without a clean shutdown.
    fn kill(&self) {
        pg(
            &self.bin,
            "pg_ctl",
            &["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"],
        );
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://bsc@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new(if is_root() { "runuser" } else { "true" })
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
        if !is_root() {
            let _ = Command::new(self.bin.join("pg_ctl"))
                .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
                .output();
        }
    }
}

fn points(names: &[&str]) -> Vec<u8> {
    let features: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({"type": "Feature", "id": i + 1, "properties": {"nama": n},
                   "geometry": {"type": "Point", "coordinates": [115.17 + i as f64 * 0.001, -8.72]}})
        })
        .collect();
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).unwrap()
}

fn send(
    s: &Server,
    method: Method,
    path: &str,
    cookie: &str,
    body: Option<Vec<u8>>,
) -> (u16, Value) {
    let mut rb = s.authed(method, path, Auth::Cookie(cookie));
    if let Some(b) = body {
        rb = rb.body(b);
    }
    let r = rb.send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The served version of `layer` on `s`, if it serves it.
fn served_version(s: &Server, layer: &str) -> Option<i64> {
    let r = s.get(&format!("/api/layers/{layer}"));
    if r.status() != 200 {
        return None;
    }
    r.json::<Value>().unwrap()["version"].as_i64()
}

/// How long a replica may take to follow a change made on the other: far
/// below the 60 s sync interval the replicas run with, so only a
/// notification explains it, and loose enough for a loaded machine (they
/// follow in milliseconds; the log shows how long each took).
const NOTIFIED: Duration = Duration::from_secs(10);

/// Waits until `s` serves `want` for `layer`, the `what` change made on the
/// other replica; fails once [`NOTIFIED`] has passed.
fn follows(s: &Server, layer: &str, want: Option<i64>, what: &str) {
    let started = Instant::now();
    while served_version(s, layer) != want {
        assert!(
            started.elapsed() < NOTIFIED,
            "{} did not follow {what} ({layer} version {want:?}) within {NOTIFIED:?}",
            s.base
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("{} followed {what} after {:?}", s.base, started.elapsed());
}

/// One Server-Sent Event: id, event, data.
type Sse = (Option<i64>, String, Value);

/// A follower of `GET path` on a server, read on a thread of its own.
struct Feed {
    rx: mpsc::Receiver<Sse>,
}

impl Feed {
    fn follow(s: &Server, path: &str) -> Feed {
        let url = s.url(path);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder()
                .timeout(None)
                .build()
                .unwrap();
            let r = client.get(url).send().unwrap();
            assert_eq!(r.status(), 200);
            let (mut id, mut event, mut data) = (None, None, String::new());
            for line in BufReader::new(r).lines() {
                let Ok(line) = line else { return };
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                } else if line.is_empty() {
                    if let Some(e) = event.take() {
                        let v = serde_json::from_str(&data).unwrap();
                        if tx.send((id.take(), e, v)).is_err() {
                            return;
                        }
                    }
                    data.clear();
                    id = None;
                }
            }
        });
        Feed { rx }
    }

    /// The next event, which must come within [`NOTIFIED`].
    fn next(&self, what: &str) -> Sse {
        self.rx
            .recv_timeout(NOTIFIED)
            .unwrap_or_else(|e| panic!("no change event for {what} within {NOTIFIED:?}: {e}"))
    }
}

/// The kind, layer and version of an event.
fn gist(e: &Sse) -> (String, String, Option<i64>) {
    (
        e.1.clone(),
        e.2["layer"].as_str().unwrap_or_default().to_owned(),
        e.2["version"].as_i64(),
    )
}

#[test]
fn two_replicas_share_changes_at_once_and_survive_a_postgres_outage() {
    let Some(pg) = Postgres::start() else { return };
    common::block_on(async {
        use sqlx::{Connection, Executor};
        let mut c = sqlx::PgConnection::connect(&pg.url("postgres"))
            .await
            .unwrap();
        c.execute("CREATE DATABASE bsc").await.unwrap();
    });
    let ws = Workspace::on(pg.url("bsc"));
    ws.add_user("ayu", "opd_staff", Some("dinas-pupr"), PASSWORD);
    // The periodic sync is set to a minute: only the notification can make
    // a replica see another's change within the second asserted below.
    let slow_sync = ["--sync-interval-ms", "60000"];
    let a = ws.serve(&slow_sync);
    let b = ws.serve(&slow_sync);
    // The public follows the change feed on B.
    let feed = Feed::follow(&b, "/api/changes");
    let open = feed.next("the opening");
    assert_eq!(open.1, "open");
    let newest = open.2["newest"].as_i64().unwrap();

    // A session made on A is valid on B: sessions live in the database.
    let cookie = a.login("ayu", PASSWORD);
    assert_eq!(
        b.json_as("/api/session", Auth::Cookie(&cookie))["user"]["name"],
        "ayu"
    );

    // Upload and publish on A; B follows at once, not at its next sync.
    let (st, v) = send(
        &a,
        Method::POST,
        "/api/layers?id=jalan-baru&category=infrastructure&filename=a.geojson",
        &cookie,
        Some(points(&["Jalan Satu"])),
    );
    assert_eq!(st, 201, "{v}");
    let (st, v) = send(
        &a,
        Method::POST,
        "/api/layers/jalan-baru/publish",
        &cookie,
        None,
    );
    assert_eq!(st, 200, "{v}");
    follows(&b, "jalan-baru", Some(1), "the publish on A");
    let started = Instant::now();
    let first = feed.next("the publish on A");
    eprintln!(
        "the feed on B told of the publish on A after {:?} more",
        started.elapsed()
    );
    assert_eq!(
        gist(&first),
        ("publish".into(), "jalan-baru".into(), Some(1))
    );
    // A follower of A resuming from the same place gets the same event
    // under the same id.
    let on_a = Feed::follow(&a, &format!("/api/changes?after={newest}"));
    assert_eq!(on_a.next("the opening on A").1, "open");
    let same = on_a.next("the publish, replayed by A");
    assert_eq!((same.0, gist(&same)), (first.0, gist(&first)));
    let names = b.json("/api/layers/jalan-baru/features");
    assert_eq!(names["features"][0]["properties"]["nama"], "Jalan Satu");

    // A second version published on B reaches A; a rollback on A reaches B;
    // a delete on B reaches A.
    let (st, v) = send(
        &b,
        Method::POST,
        "/api/layers/jalan-baru/versions?filename=b.geojson",
        &cookie,
        Some(points(&["Jalan Dua", "Jalan Tiga"])),
    );
    assert_eq!(st, 201, "{v}");
    assert_eq!(
        send(
            &b,
            Method::POST,
            "/api/layers/jalan-baru/publish?version=2",
            &cookie,
            None
        )
        .0,
        200
    );
    follows(&a, "jalan-baru", Some(2), "the publish on B");
    assert_eq!(
        a.json("/api/layers/jalan-baru/features")["features"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        send(
            &a,
            Method::POST,
            "/api/layers/jalan-baru/rollback?to=1",
            &cookie,
            None
        )
        .0,
        200
    );
    follows(&b, "jalan-baru", Some(1), "the rollback on A");

    // PostgreSQL dies.
    pg.kill();
    for s in [&a, &b] {
        // Reads are served from memory...
        let v = s.json("/api/layers/jalan-baru/features");
        assert_eq!(v["features"][0]["properties"]["nama"], "Jalan Satu");
        // (the tile holding the feature at 115.17, -8.72)
        assert_eq!(s.get("/tiles/jalan-baru/14/13433/8590.mvt").status(), 200);
        // ...the server says it is not ready...
        s.problem("/readyz", 503);
        // ...and writes get a 503 problem, not a 500 or a hang.
        let started = Instant::now();
        let detail = Server::expect_problem(
            s.authed(
                Method::POST,
                "/api/layers/jalan-baru/versions?filename=c.geojson",
                Auth::Cookie(&cookie),
            )
            .body(points(&["Jalan Empat"])),
            503,
        );
        assert!(detail.contains("unavailable"), "{detail}");
        assert!(started.elapsed() < Duration::from_secs(15));
        let detail = Server::expect_problem(
            s.request(Method::POST, "/api/session")
                .json(&json!({"name": "ayu", "password": PASSWORD})),
            503,
        );
        assert!(detail.contains("unavailable"), "{detail}");
    }

    // PostgreSQL returns: both become ready, and changes flow again.
    pg.run();
    for s in [&a, &b] {
        s.wait_ready();
    }
    let cookie = b.login("ayu", PASSWORD);
    assert_eq!(
        send(
            &b,
            Method::POST,
            "/api/layers/jalan-baru/publish?version=2",
            &cookie,
            None
        )
        .0,
        409
    );
    assert_eq!(
        send(
            &b,
            Method::POST,
            "/api/layers/jalan-baru/rollback?to=2",
            &cookie,
            None
        )
        .0,
        200
    );
    follows(
        &a,
        "jalan-baru",
        Some(2),
        "the publish on B after the outage",
    );
    assert_eq!(
        send(&b, Method::DELETE, "/api/layers/jalan-baru", &cookie, None).0,
        204
    );
    follows(&a, "jalan-baru", None, "the delete on B");

    // B's follower heard every change, from either replica, in order and
    // across the outage; A's, the same under the same ids.
    let want = [
        ("publish", Some(2)),
        ("rollback", Some(1)),
        ("rollback", Some(2)),
        ("delete", None),
    ];
    for (kind, version) in want {
        let on_b = feed.next(kind);
        let on_a = on_a.next(kind);
        assert_eq!(gist(&on_b), (kind.into(), "jalan-baru".into(), version));
        assert_eq!((on_a.0, gist(&on_a)), (on_b.0, gist(&on_b)));
    }
}
