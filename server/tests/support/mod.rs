//! In-process harness for route tests: the whole application from
//! `server::app` over a fresh SQLite database in a temporary folder,
//! driven with `tower::ServiceExt::oneshot`, no socket and no process.
#![allow(dead_code, clippy::unwrap_used)] // test harness: a failed unwrap is a failed test

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use layers::Store;
use layers::model::access::{Actor, Role};
use layers::store::accounts::NewUser;
use serde_json::{Value, json};
use server::AppState;
use server::state::ApiConfig;
use tower::ServiceExt;

/// A password every test account has.
pub const PASSWORD: &str = "Kata-sandi-uji-2026";

/// One server in memory with its own database.
pub struct World {
    /// The state the routes share.
    pub state: AppState,
    _dir: tempfile::TempDir,
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
}

impl World {
    /// A server over an empty database, with the given API settings.
    pub async fn with_config(config: ApiConfig) -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("bsc.db").to_str().unwrap())
            .await
            .unwrap();
        let state = AppState::new(store, config).await.unwrap();
        state.catalog.sync(&state.store).await.unwrap();
        state.set_ready(true);
        World { state, _dir: dir }
    }

    /// A server over an empty database with default settings.
    pub async fn new() -> World {
        World::with_config(ApiConfig::default()).await
    }

    /// The application.
    pub fn app(&self) -> Router {
        server::app(self.state.clone())
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
        self.state
            .store
            .create_token(name, "tests", cli)
            .await
            .unwrap()
            .token
    }

    /// Sends `req` through the application and reads the whole response.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.app().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        }
    }

    /// A request as `token`'s user (`None`: anonymous).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: impl Into<Body>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(req.body(body.into()).unwrap()).await
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
    let features: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({"type": "Feature", "id": i + 1, "properties": {"nama": n},
                   "geometry": {"type": "Point", "coordinates": [115.17 + i as f64 * 0.001, -8.7]}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}
