//! The HTTP surface of `bsc`.

mod admin;
mod audit;
mod backups;
mod changes;
pub mod download;
mod draft_features;
mod features;
mod health;
mod metadata;
pub mod ogc;
pub mod open_data;
mod photos;
mod reports;
mod search;
mod session;
mod setup;
pub mod share;
mod stats;
mod styles;
pub mod uploads;
mod vector_tiles;
mod versions;
pub mod web;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::{get, patch, post, put};
use axum::{Router, middleware};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::cors::{Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::state::AppState;

/// Builds the whole HTTP application over `state`.
pub fn app(state: AppState) -> Router {
    // Multipart bodies are counted by axum against these (the routes also
    // count what they spool); the slack is for the form's other fields.
    let slack = 1 << 20;
    let upload_limit = DefaultBodyLimit::max(
        usize::try_from(state.writes.max_upload_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(slack),
    );
    let photo_limit = DefaultBodyLimit::max(state.writes.max_photo_bytes.saturating_add(slack));
    let mut api = Router::new()
        .route("/api/categories", get(metadata::categories))
        .route(
            "/api/layers",
            get(metadata::list).merge(post(uploads::create).layer(upload_limit)),
        )
        .route(
            "/api/layers/{id}",
            get(metadata::one).delete(versions::delete),
        )
        .route("/api/layers/{id}/features", get(features::list))
        .route("/api/layers/{id}/features/{fid}", get(features::one))
        .route("/api/layers/{id}/download", get(download::download))
        .route(
            "/api/layers/{id}/versions",
            get(versions::list).merge(post(uploads::replace).layer(upload_limit)),
        )
        .route(
            "/api/layers/{id}/versions/{n}",
            get(versions::one).patch(versions::patch),
        )
        .route("/api/layers/{id}/drafts", post(versions::draft))
        .route(
            "/api/layers/{id}/drafts/{version}/features",
            post(draft_features::add),
        )
        .route(
            "/api/layers/{id}/drafts/{version}/features/{fid}",
            patch(draft_features::edit).delete(draft_features::remove),
        )
        .route("/api/layers/{id}/publish", post(versions::publish))
        .route("/api/layers/{id}/rollback", post(versions::rollback))
        .route("/api/layers/{id}/restore", post(versions::restore))
        .route("/api/manage/layers", get(versions::managed))
        .route(
            "/api/layers/{id}/features/{fid}/photos",
            post(photos::add).layer(photo_limit),
        )
        .route("/api/photos/{id}", get(photos::get).delete(photos::delete))
        .route(
            "/api/session",
            get(session::current)
                .post(session::login)
                .delete(session::logout),
        )
        .route("/api/audit", get(audit::list))
        .route("/api/admin/users", get(admin::users).post(admin::add_user))
        .route("/api/admin/users/{name}", patch(admin::patch_user))
        .route(
            "/api/admin/users/{name}/password",
            post(admin::set_password),
        )
        .route(
            "/api/admin/agencies",
            get(admin::agencies).post(admin::add_agency),
        )
        .route("/api/admin/agencies/{id}", patch(admin::rename_agency))
        .route(
            "/api/admin/tokens",
            get(admin::tokens).post(admin::add_token),
        )
        .route(
            "/api/admin/tokens/{id}",
            axum::routing::delete(admin::revoke_token),
        )
        .route("/api/demo-accounts", get(admin::demo_accounts))
        .route("/setup", get(setup::setup_page).post(setup::setup_submit))
        .route("/api/admin/backups", get(backups::list).post(backups::take))
        .route("/api/admin/backups/{name}", get(backups::download))
        .route("/api/report-types", get(reports::types))
        .route("/api/report-types/{id}", put(reports::route_type))
        .route("/api/reports", post(reports::submit).layer(photo_limit))
        .route("/api/reports/stats", get(reports::stats))
        .route("/api/reports/{key}", get(reports::track))
        .route("/api/reports/{key}/rating", post(reports::rate))
        .route("/api/reports/{key}/status", post(reports::set_status))
        .route("/api/reports/{key}/agency", post(reports::reroute))
        .route("/api/manage/reports", get(reports::queue))
        .route("/api/report-photos/{id}", get(reports::photo))
        .route("/api/changes", get(changes::changes))
        .route("/api/search", get(search::search))
        .route("/api/stats", get(stats::stats))
        .route("/api/areas/kecamatan", get(stats::kecamatan))
        .route("/", get(web::index))
        .route("/web/{*path}", get(web::file))
        .route("/api/config", get(web::config))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(vector_tiles::tile))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics));
    // The OGC API builds absolute links, from the request's Host when no
    // --public-url is set: see ogc::host_links.
    let ogc_api = Router::new()
        .route("/ogc", get(ogc::landing))
        .route("/ogc/", get(ogc::landing))
        .route("/ogc/conformance", get(ogc::conformance))
        .route("/ogc/api", get(ogc::api))
        .route("/ogc/collections", get(ogc::collections))
        .route("/ogc/collections/{id}", get(ogc::collection))
        .route("/ogc/collections/{id}/queryables", get(ogc::queryables))
        .route("/ogc/collections/{id}/sortables", get(ogc::sortables))
        .route("/ogc/collections/{id}/items", get(ogc::items::items))
        .route("/ogc/collections/{id}/items/{fid}", get(ogc::items::item))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ogc::host_links,
        ));
    api = api.merge(ogc_api);
    // Sharing a place: absolute addresses from the Host too (see share.rs).
    let share_api = Router::new()
        .route("/p/{layer}/{fid}", get(share::share_page))
        .route("/api/layers/{id}/features/{fid}/qr.svg", get(share::qr))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ogc::host_links,
        ));
    api = api.merge(share_api);
    // The open data catalogue: absolute addresses from the Host too.
    let open_data = Router::new()
        .route("/data", get(open_data::data_page))
        .route("/data/catalog.jsonld", get(open_data::catalog))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ogc::host_links,
        ));
    api = api.merge(open_data);
    // MapLibre styles: their sources are absolute TileJSON addresses, and
    // TileJSON's tile addresses absolute too (QGIS and a MapLibre page of
    // another origin read them as given).
    let styles_api = Router::new()
        .route("/styles/{name}", get(styles::style_json))
        .route("/tiles/{name}", get(vector_tiles::tilejson))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            ogc::host_links,
        ));
    api = api.merge(styles_api);
    if state.config.bench_ceiling {
        api = api.route("/bench/ceiling", get(health::ceiling));
    }
    api.route_layer(middleware::from_fn_with_state(state.clone(), health::track))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::HEAD])
                // Range readers on other origins (FlatGeobuf in the browser)
                // ask by range and must see what came back.
                // A browser's EventSource resumes the change feed with Last-Event-ID.
                .allow_headers([
                    header::IF_NONE_MATCH,
                    header::RANGE,
                    HeaderName::from_static("last-event-id"),
                ])
                .expose_headers([
                    header::ETAG,
                    header::CONTENT_RANGE,
                    header::ACCEPT_RANGES,
                    header::CONTENT_LENGTH,
                ]),
        )
        // Problem details in the caller's language (before compression).
        .layer(middleware::from_fn(crate::language::problem_language))
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        // 5xx we cause are logged where they happen (ApiError::internal); a
        // 503 from /readyz while loading is expected, not an error.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::DEBUG)))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::no_resource()
}

async fn method_not_allowed() -> ApiError {
    ApiError {
        status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
        kind: "method-not-allowed",
        detail: "this resource does not accept that method".into(),
    }
}
