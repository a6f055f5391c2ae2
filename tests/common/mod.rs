//! Shared harness for the end-to-end tests: runs the real `bsc` binary with
//! a temporary database and generates deterministic fixtures.
#![allow(dead_code, clippy::unwrap_used)] // test harness: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Path of the `bsc` binary cargo built for these tests.
pub const BSC: &str = env!("CARGO_BIN_EXE_bsc");

/// Reports a part of a test that cannot run here as a `SKIPPED` line,
/// straight to stderr past the test harness's capture, so that it shows in
/// every run's output.
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}

// The helpers the in-process tests (server/tests/) share live once, in
// the workspace's `testkit` crate. Each test file uses some of them.
#[allow(unused_imports)]
pub use testkit::{
    Backend, EXTENT, PNG, PgDatabase, Rng, backend, backend_is_sqlite, block_on, f64s, fixture,
    fixtures, id_key, mixed_layer, postgres_admin_url, postgres_url_for,
};

/// A temporary working directory, and a database: a SQLite file in it, or
/// a fresh PostgreSQL database when the suite runs on PostgreSQL.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub pg: Option<PgDatabase>,
    /// A database given by the test itself (see [`Workspace::on`]).
    pub url: Option<String>,
}

impl Workspace {
    pub fn new() -> Workspace {
        let db = testkit::TestDb::new();
        Workspace {
            dir: db.dir,
            pg: db.pg,
            url: None,
        }
    }

    /// A workspace on a SQLite file whichever backend the suite runs on.
    pub fn new_sqlite() -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bsc.db").display());
        Workspace {
            dir,
            pg: None,
            url: Some(url),
        }
    }

    /// A workspace over the database at `url`, which the test manages.
    pub fn on(url: String) -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
            pg: None,
            url: Some(url),
        }
    }

    pub fn db(&self) -> String {
        match (&self.url, &self.pg) {
            (Some(url), _) => url.clone(),
            (None, Some(pg)) => pg.url.clone(),
            (None, None) => format!("sqlite://{}", self.dir.path().join("bsc.db").display()),
        }
    }

    /// Runs one SQL query on this workspace's database (either backend)
    /// and returns its rows.
    pub fn sql(&self, sql: &str) -> Vec<sqlx::any::AnyRow> {
        testkit::sql(&self.db(), sql)
    }

    /// The first column of a one-row, one-column query, as an integer.
    pub fn sql_i64(&self, sql: &str) -> i64 {
        use sqlx::Row;
        self.sql(sql)[0].try_get(0).unwrap()
    }

    /// Whether this test runs on SQLite; tests of SQLite's own file
    /// (backup, restore, integrity checks) run only there.
    pub fn is_sqlite(&self) -> bool {
        self.db().starts_with("sqlite:")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write fixture");
        p
    }

    /// Runs `bsc import FILE --layer L --category C EXTRA...` on this
    /// database, in English (`LANG=C.UTF-8`) whatever the machine's locale.
    pub fn import(&self, file: &Path, layer: &str, category: &str, extra: &[&str]) -> Output {
        self.import_in("C.UTF-8", file, layer, category, extra)
    }

    /// [`Workspace::import`] with `LANG=lang` (and no `LC_ALL` or
    /// `LC_MESSAGES` overriding it).
    pub fn import_in(
        &self,
        lang: &str,
        file: &Path,
        layer: &str,
        category: &str,
        extra: &[&str],
    ) -> Output {
        Command::new(BSC)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", lang)
            .arg("import")
            .arg(file)
            .args([
                "--layer",
                layer,
                "--category",
                category,
                "--database",
                &self.db(),
            ])
            .args(extra)
            .output()
            .expect("run bsc import")
    }

    /// Imports and asserts success.
    pub fn import_ok(&self, file: &Path, layer: &str, category: &str, extra: &[&str]) {
        let out = self.import(file, layer, category, extra);
        assert!(
            out.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts `bsc serve` on a free port over this database.
    pub fn serve(&self, extra: &[&str]) -> Server {
        Server::start(&self.db(), self.dir.path(), extra)
    }
}

/// A running `bsc serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<Vec<String>>>,
    client: reqwest::blocking::Client,
}

impl Server {
    pub fn start(db: &str, cwd: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(BSC)
            .current_dir(cwd)
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--database",
                db,
                "--log",
                "info",
            ])
            .args(if extra.contains(&"--sync-interval-ms") {
                &[][..]
            } else {
                &["--sync-interval-ms", "200"][..]
            })
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bsc serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        // Drains stderr for the whole life of the server so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let addr = line[at + "listening on http://".len()..].trim().to_owned();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("bsc serve did not start: {:?}", log.lock().unwrap())
            });
        let server = Server {
            child,
            base: format!("http://{addr}"),
            log,
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        };
        server.wait_ready();
        server
    }

    pub fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(r) = self.client.get(self.url("/readyz")).send()
                && r.status() == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "bsc serve never became ready: {:?}",
            self.log.lock().unwrap()
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.client.get(self.url(path)).send().expect("request")
    }

    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::blocking::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// GET expecting 200 and a JSON body.
    pub fn json(&self, path: &str) -> Value {
        let r = self.get(path);
        let status = r.status();
        let text = r.text().unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    }

    /// GET expecting a problem JSON with `status`; returns its detail.
    pub fn problem(&self, path: &str, status: u16) -> String {
        let r = self.get(path);
        assert_eq!(r.status().as_u16(), status, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(ct, "application/problem+json", "{path}");
        let v: Value = r.json().unwrap();
        assert_eq!(v["status"], status, "{path}: {v}");
        assert!(v["type"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
        assert!(v["title"].as_str().is_some(), "{v}");
        v["detail"].as_str().unwrap().to_owned()
    }

    /// Waits until `check` holds, polling; panics after `secs`.
    pub fn eventually(&self, secs: u64, mut check: impl FnMut(&Server) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if check(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("condition not met within {secs} s");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// Accounts: users, logins, tokens and authenticated requests.
// ---------------------------------------------------------------------------

/// How a test request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// No credentials: the public.
    Anonymous,
    /// A session cookie as [`Server::login`] returns it (`bsc_session=...`);
    /// requests also carry this server's `Origin`, so writes pass the
    /// same-origin check.
    Cookie(&'a str),
    /// An API token (`bsc_...`) sent as `Authorization: Bearer`.
    Bearer(&'a str),
}

impl Workspace {
    /// Runs `bsc ARGS... --database DB` with `stdin` as standard input (a
    /// pipe, so never a terminal).
    pub fn bsc(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new(BSC)
            .current_dir(self.dir.path())
            .args(args)
            .args(["--database", &self.db()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run bsc");
        // The command may exit before reading (e.g. a usage error): ignore EPIPE.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().expect("wait for bsc")
    }

    /// Runs `bsc ARGS...` like [`Workspace::bsc`] and asserts success;
    /// returns standard output.
    pub fn bsc_ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.bsc(args, stdin);
        assert!(
            out.status.success(),
            "bsc {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Creates a user with `bsc user add`, the password on standard input.
    /// `role` is `admin`, `leader` or `opd_staff`; `agency` (slug or name)
    /// is created if missing.
    pub fn add_user(&self, name: &str, role: &str, agency: Option<&str>, password: &str) {
        let mut args = vec!["user", "add", name, "--role", role];
        if let Some(a) = agency {
            args.extend(["--agency", a, "--create-agency"]);
        }
        self.bsc_ok(&args, &format!("{password}\n"));
    }

    /// Creates an API token for `user` with `bsc token create`; returns it.
    pub fn create_token(&self, user: &str, label: &str) -> String {
        let out = self.bsc_ok(&["token", "create", user, "--name", label], "");
        let token = out.trim().to_owned();
        assert!(token.starts_with("bsc_"), "not a token: {out:?}");
        token
    }
}

impl Server {
    /// Logs in with `POST /api/session` (asserting 200); returns the cookie
    /// pair `bsc_session=...` for [`Auth::Cookie`].
    pub fn login(&self, name: &str, password: &str) -> String {
        let r = self
            .request(reqwest::Method::POST, "/api/session")
            .json(&json!({"name": name, "password": password}))
            .send()
            .expect("request");
        let status = r.status();
        let cookie = r
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            status,
            200,
            "login {name}: {}",
            r.text().unwrap_or_default()
        );
        let cookie = cookie.expect("login sets a cookie");
        cookie.split(';').next().unwrap().trim().to_owned()
    }

    /// A request authenticated by `auth` (see [`Auth`]).
    pub fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Auth<'_>,
    ) -> reqwest::blocking::RequestBuilder {
        let rb = self.request(method, path);
        match auth {
            Auth::Anonymous => rb,
            Auth::Cookie(c) => rb.header("cookie", c).header("origin", &self.base),
            Auth::Bearer(t) => rb.bearer_auth(t),
        }
    }

    /// GET as `auth`, expecting 200 and a JSON body.
    pub fn json_as(&self, path: &str, auth: Auth<'_>) -> Value {
        let r = self
            .authed(reqwest::Method::GET, path, auth)
            .send()
            .expect("request");
        let status = r.status();
        let text = r.text().unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    }

    /// Sends `rb` expecting a problem JSON with `status`; returns its detail.
    pub fn expect_problem(rb: reqwest::blocking::RequestBuilder, status: u16) -> String {
        let r = rb.send().expect("request");
        let got = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = r.text().unwrap();
        assert_eq!(got, status, "{text}");
        assert_eq!(ct.as_deref(), Some("application/problem+json"), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["status"], status, "{v}");
        v["detail"].as_str().unwrap_or_default().to_owned()
    }
}
