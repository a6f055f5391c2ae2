//! In-process harness for route tests: the whole application from
//! `server::app` over a fresh database (SQLite in a temporary folder, or a
//! PostgreSQL database of its own with `BSC_TEST_BACKEND=postgres`; see
//! the `testkit` crate), driven with `tower::ServiceExt::oneshot`, no
//! socket and no process.
#![allow(dead_code, clippy::unwrap_used)] // test harness: a failed unwrap is a failed test

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use layers::Store;
use layers::model::access::Actor;
use layers::model::access::Role;
use layers::store::accounts::NewUser;
use serde_json::{Value, json};
use server::AppState;
use server::config::{ApiConfig, Config};
use tower::ServiceExt;

// Shared with the end-to-end tests (the `testkit` crate); each test file uses some.
#[allow(unused_imports)]
pub use testkit::{EXTENT, PNG, Rng, f64s, id_key, mixed_layer, named_points};

/// A password every test account has.
pub const PASSWORD: &str = "Kata-sandi-uji-2026";

/// The `Host` of requests that name none, as a browser on this machine
/// would send it; links in documents start with `http://{HOST}`.
pub const HOST: &str = "127.0.0.1:8080";

/// The address requests come from (the client of the login throttle and
/// the audit log).
pub const PEER: &str = "127.0.0.1:50000";

/// One server in memory with its own database.
pub struct World {
    /// The state the routes share.
    pub state: AppState,
    /// The application over `state`, built once.
    router: Router,
    /// The database (dropped after the state).
    pub db: testkit::TestDb,
}

/// A response read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's values as text, joined by `, ` when it has several.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// Asserts a problem JSON with `status` and returns the whole problem.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        let v = self.json();
        assert_eq!(v["status"], status, "{v}");
        assert!(v["type"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
        assert!(v["title"].as_str().is_some(), "{v}");
        v
    }
}

/// How a test request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// No credentials: the public.
    Anonymous,
    /// A session cookie as [`World::login`] returns it (`bsc_session=...`);
    /// requests also carry this server's `Origin`, so writes pass the
    /// same-origin check.
    Cookie(&'a str),
    /// An API token (`bsc_...`) sent as `Authorization: Bearer`.
    Bearer(&'a str),
}

impl World {
    /// A server over an empty database, with the given API settings.
    pub async fn with_config(config: ApiConfig) -> World {
        World::with_server_config(Config {
            api: config,
            ..Config::default()
        })
        .await
    }

    /// A server over an empty database, with the given settings (all of
    /// them: backups, caches, …).
    pub async fn with_server_config(config: Config) -> World {
        let db = testkit::TestDb::new();
        let store = Store::open(&db.url()).await.unwrap();
        let state = AppState::new(store, config).await.unwrap();
        state.catalog.sync(&state.store).await.unwrap();
        state.set_ready(true);
        World {
            router: server::app(state.clone()),
            state,
            db,
        }
    }

    /// A server over an empty database with default settings.
    pub async fn new() -> World {
        World::with_config(ApiConfig::default()).await
    }

    /// The database's URL.
    pub fn db_url(&self) -> String {
        self.db.url()
    }

    /// The first column of each row of `sql` on this database, as strings.
    pub fn sql_strings(&self, sql: &str) -> Vec<String> {
        testkit::sql_strings(&self.db.url(), sql)
    }

    /// The application (a handle on the one built with the world).
    pub fn app(&self) -> Router {
        self.router.clone()
    }

    /// Imports `geojson` as a new published version of `layer`, as
    /// `bsc import FILE --layer LAYER --category CATEGORY EXTRA...` does
    /// (`EXTRA`: `--agency A`, `--visibility V`, `--title-id T`,
    /// `--title-en T`), and shows it to the routes at once (as the
    /// server's sync would within its interval).
    pub async fn import(&self, geojson: &str, layer: &str, category: &str, extra: &[&str]) {
        let mut spec = layers::model::LayerSpec {
            about: None,
            style: None,
            id: layer.to_owned(),
            category: category.to_owned(),
            title_id: None,
            title_en: None,
            agency: None,
            visibility: None,
            source_name: Some(format!("{layer}.geojson")),
        };
        for pair in extra.chunks(2) {
            let value = pair[1].to_owned();
            match pair[0] {
                "--agency" => spec.agency = Some(value),
                "--title-id" => spec.title_id = Some(value),
                "--title-en" => spec.title_en = Some(value),
                "--visibility" => spec.visibility = Some(value.parse().unwrap()),
                other => panic!("World::import: unknown option {other}"),
            }
        }
        let reader = std::io::Cursor::new(geojson.as_bytes().to_vec());
        layers::staging::import_geojson(&self.state.store, &spec, reader, Default::default())
            .await
            .unwrap_or_else(|e| panic!("import {layer}: {e}"));
        self.sync().await;
    }

    /// Loads what changed in the database into the catalog.
    pub async fn sync(&self) {
        self.state.catalog.sync(&self.state.store).await.unwrap();
    }

    /// Adds a user with [`PASSWORD`] (`role`: `admin`, `leader` or
    /// `opd_staff`; `agency`, a slug or name, is created if missing).
    pub async fn add_user(&self, name: &str, role: &str, agency: Option<&str>) {
        let role: Role = role.parse().unwrap();
        self.state
            .store
            .create_user(
                &NewUser {
                    name,
                    role,
                    agency,
                    create_agency: true,
                    password: PASSWORD,
                },
                Actor {
                    account: None,
                    client: None,
                },
            )
            .await
            .unwrap();
    }

    /// Adds a user and returns an API token of theirs (`Bearer` value).
    pub async fn user(&self, name: &str, role: Role, agency: Option<&str>) -> String {
        let cli = Actor {
            account: None,
            client: None,
        };
        self.state
            .store
            .create_user(
                &NewUser {
                    name,
                    role,
                    agency,
                    create_agency: true,
                    password: PASSWORD,
                },
                cli,
            )
            .await
            .unwrap();
        self.token(name, "tests").await
    }

    /// A new API token of user `name` labelled `label`, as `bsc token
    /// create` makes it.
    pub async fn token(&self, name: &str, label: &str) -> String {
        let cli = Actor {
            account: None,
            client: None,
        };
        self.state
            .store
            .create_token(name, label, cli)
            .await
            .unwrap()
            .token
    }

    /// Logs in with `POST /api/session` (asserting 200); returns the
    /// cookie pair `bsc_session=...` for [`Auth::Cookie`].
    pub async fn login(&self, name: &str, password: &str) -> String {
        let r = self
            .send(
                Request::post("/api/session")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        json!({"name": name, "password": password}).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {name}: {}", r.text());
        let cookie = r.header("set-cookie").expect("login sets a cookie");
        cookie.split(';').next().unwrap().trim().to_owned()
    }

    /// Sends `req` through the application and reads the whole response.
    /// A request without `Host` gets [`HOST`], and every request comes
    /// from [`PEER`], as over a socket.
    pub async fn send(&self, mut req: Request<Body>) -> Reply {
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut()
                .insert(header::HOST, header::HeaderValue::from_static(HOST));
        }
        let peer: SocketAddr = PEER.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        let res = self.app().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        }
    }

    /// Sends `req` through the application as [`World::send`] does, and
    /// returns the response with its body unread (a stream).
    pub async fn open(&self, mut req: Request<Body>) -> axum::response::Response {
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut()
                .insert(header::HOST, header::HeaderValue::from_static(HOST));
        }
        let peer: SocketAddr = PEER.parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        self.app().oneshot(req).await.unwrap()
    }

    /// A request builder as `auth` (cookie requests carry this site's
    /// `Origin`).
    pub fn request(method: Method, path: &str, auth: Auth<'_>) -> axum::http::request::Builder {
        let req = Request::builder().method(method).uri(path);
        match auth {
            Auth::Anonymous => req,
            Auth::Cookie(c) => req
                .header(header::COOKIE, c)
                .header(header::ORIGIN, format!("http://{HOST}")),
            Auth::Bearer(t) => req.header(header::AUTHORIZATION, format!("Bearer {t}")),
        }
    }

    /// A request as `auth` with `body`.
    pub async fn call_as(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: impl Into<Body>,
    ) -> Reply {
        self.send(
            World::request(method, path, auth)
                .body(body.into())
                .unwrap(),
        )
        .await
    }

    /// `GET path` as `auth`.
    pub async fn get_as(&self, path: &str, auth: Auth<'_>) -> Reply {
        self.call_as(Method::GET, path, auth, Body::empty()).await
    }

    /// `GET path` as `auth`, expecting 200 and a JSON body.
    pub async fn json_as(&self, path: &str, auth: Auth<'_>) -> Value {
        let r = self.get_as(path, auth).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        r.json()
    }

    /// Anonymous `GET path`, expecting 200 and a JSON body.
    pub async fn json(&self, path: &str) -> Value {
        self.json_as(path, Auth::Anonymous).await
    }

    /// Anonymous `GET path` expecting a problem JSON with `status`;
    /// returns its detail.
    pub async fn problem(&self, path: &str, status: u16) -> String {
        let v = self.get(path, None).await.problem(status);
        v["detail"].as_str().unwrap_or_default().to_owned()
    }

    /// A request as `token`'s user (`None`: anonymous).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: impl Into<Body>,
    ) -> Reply {
        let auth = token.map_or(Auth::Anonymous, Auth::Bearer);
        self.call_as(method, path, auth, body).await
    }

    /// `GET path` as `token`'s user (`None`: anonymous).
    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, Body::empty()).await
    }

    /// An upload (`POST path` with `body` as `token`'s user) that must
    /// answer 201; returns its answer.
    pub async fn created(&self, path: &str, token: &str, body: impl Into<Body>) -> Value {
        let r = self.post(path, Some(token), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "POST {path}: {}", r.text());
        r.json()
    }

    /// `POST path` with `body` as `token`'s user.
    pub async fn post(&self, path: &str, token: Option<&str>, body: impl Into<Body>) -> Reply {
        self.call(Method::POST, path, token, body).await
    }
}

/// A GeoJSON FeatureCollection of points named `names`, inside Badung.
pub fn points(names: &[&str]) -> String {
    named_points(names, [115.17, -8.7]).to_string()
}

/// `v` with what changes from run to run blanked out, for snapshots:
/// times (`timeStamp`, `*_at`) become `[time]`, tags (`etag`) `[etag]`,
/// and paths in temporary folders `[temp]`. The host is [`HOST`] in every
/// run, so links need nothing.
pub fn redact(v: &Value) -> Value {
    fn walk(key: Option<&str>, v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), walk(Some(k), v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|v| walk(key, v)).collect()),
            Value::String(s) => {
                let key = key.unwrap_or_default();
                if key == "timeStamp" || key.ends_with("_at") {
                    json!("[time]")
                } else if key.eq_ignore_ascii_case("etag") {
                    json!("[etag]")
                } else if s.contains(&std::env::temp_dir().display().to_string()) {
                    json!("[temp]")
                } else {
                    v.clone()
                }
            }
            other => other.clone(),
        }
    }
    walk(None, v)
}
