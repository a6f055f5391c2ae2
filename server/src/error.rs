//! The one mapping from errors to HTTP responses: RFC 9457 problem JSON.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// An error answered as `application/problem+json`.
#[derive(Debug, thiserror::Error)]
#[error("{status} {detail}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Short machine-readable kind, the last part of the problem `type` URI.
    pub kind: &'static str,
    /// What went wrong, for a person.
    pub detail: String,
}

#[derive(Serialize)]
struct Problem<'a> {
    r#type: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    /// 404 for layer `id`, missing or not visible (never told apart).
    pub fn no_layer(id: &str) -> Self {
        ApiError::not_found(format!(
            "Lapisan {id:?} tidak ditemukan. / No layer {id:?}."
        ))
    }

    /// 404 for feature `fid` of layer `id`.
    pub fn no_feature(id: &str, fid: &str) -> Self {
        ApiError::not_found(format!(
            "Lapisan {id:?} tidak punya objek {fid:?}. / Layer {id:?} has no feature {fid:?}."
        ))
    }

    /// 404 for version `n` of layer `id`.
    pub fn no_version(id: &str, n: i64) -> Self {
        ApiError::not_found(format!(
            "Lapisan {id:?} tidak punya versi {n}. / Layer {id:?} has no version {n}."
        ))
    }

    /// 401: log in to do `what` (`id`: in Indonesian, `en`: in English).
    pub fn log_in(id: &str, en: &str) -> Self {
        ApiError::unauthorized(format!("Masuk dahulu untuk {id}. / Log in to {en}."))
    }

    /// 404 for an address that names nothing.
    pub fn no_resource() -> Self {
        ApiError::not_found("Alamat ini tidak ada. / No such resource.")
    }

    /// 400: a parameter or body the client sent is wrong.
    pub fn bad_request(kind: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind,
            detail: detail.into(),
        }
    }

    /// 404: nothing here, or nothing the caller may see (the two are never told apart).
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "not-found",
            detail: detail.into(),
        }
    }

    /// 401: the request needs a logged-in user.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            kind: "unauthorized",
            detail: detail.into(),
        }
    }

    /// 403: the caller may see the thing but not do this to it.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            kind: "forbidden",
            detail: detail.into(),
        }
    }

    /// 413: the body is larger than a configured limit (named in `detail`).
    pub fn too_large(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            kind: "limit-exceeded",
            detail: detail.into(),
        }
    }

    /// 429: too many attempts; the caller adds `Retry-After`.
    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            kind: "too-many-requests",
            detail: detail.into(),
        }
    }

    /// 503: the server cannot answer right now.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "unavailable",
            detail: detail.into(),
        }
    }

    /// 500: a fault of ours. The detail is logged, never sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "internal",
            detail: "Server gagal menjawab; kesalahannya tercatat di log server. / The server failed to answer; the error is in its log.".into(),
        }
    }
}

impl From<layers::Error> for ApiError {
    fn from(e: layers::Error) -> Self {
        match e {
            layers::Error::BadRequest(m) => ApiError::bad_request("invalid-request", m),
            layers::Error::NotFound(m) => ApiError::not_found(m),
            layers::Error::Forbidden(m) => ApiError::forbidden(m),
            layers::Error::Conflict(m) => ApiError {
                status: StatusCode::CONFLICT,
                kind: "conflict",
                detail: m,
            },
            layers::Error::Unauthorized(m) => ApiError::unauthorized(m),
            // Routes that take features answer with the problems listed
            // (see routes/draft_features.rs); this is the short form.
            e @ layers::Error::Invalid { .. } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                kind: "invalid-feature",
                detail: e.to_string(),
            },
            layers::Error::Report(e) => report_error(e),
            e @ layers::Error::Throttled { .. } => ApiError::too_many_requests(e.to_string()),
            layers::Error::Database(e) if is_busy(&e) => {
                tracing::warn!(error = %e, "database busy");
                ApiError::unavailable(
                    "Basis data sedang sibuk dengan penulisan lain; coba lagi sebentar lagi. / The database is busy with another write; try again shortly.",
                )
            }
            layers::Error::Database(e) if is_unreachable(&e) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::unavailable(
                    "Basis data tidak dapat dihubungi; data yang sudah dimuat tetap disajikan, perubahan harus menunggu. / The database is unavailable; what is loaded is still served, changes must wait.",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<layers::query::cql2::FilterError> for ApiError {
    fn from(e: layers::query::cql2::FilterError) -> Self {
        use layers::query::cql2::FilterError;
        match e {
            FilterError::Invalid(m) => ApiError::bad_request("invalid-filter", m),
            e @ FilterError::Thread(_) => ApiError::internal(e),
        }
    }
}

impl From<layers::query::datetime::DatetimeError> for ApiError {
    fn from(e: layers::query::datetime::DatetimeError) -> Self {
        ApiError::bad_request("invalid-parameter", e.0)
    }
}

/// A refused citizen report: the place, the limits, the handling order.
/// (A rate-limited submission also gets `Retry-After` from its route.)
fn report_error(e: layers::model::report::ReportError) -> ApiError {
    use layers::model::report::ReportError as R;
    let (status, kind) = match &e {
        R::OutsideRegency => (StatusCode::UNPROCESSABLE_ENTITY, "outside-regency"),
        R::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "too-many-requests"),
        R::Transition { .. } | R::Rating(_) => (StatusCode::CONFLICT, "conflict"),
        _ => (StatusCode::BAD_REQUEST, "invalid-report"),
    };
    ApiError {
        status,
        kind,
        detail: e.to_string(),
    }
}

/// Another writer held the database past its wait: SQLite's write lock past
/// the busy timeout (a long upload, `bsc import`), or a PostgreSQL
/// serialization failure or deadlock. The client may retry.
fn is_busy(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    matches!(db.code().as_deref(), Some("5" | "40001" | "40P01"))
}

/// The database cannot be reached (PostgreSQL down, restarting, or out of
/// connections): a server keeps answering from memory what it can.
fn is_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exceptions; 57P0x: the server is shutting
        // down or starting; 53300: too many connections.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0") || c == "53300"),
        _ => false,
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::bad_request("invalid-parameter", e.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError::bad_request("invalid-path", e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem_response(self.status, self.kind, &self.detail, serde_json::Map::new())
    }
}

/// `detail` in both languages, `Indonesian. / English.`, as every problem
/// is sent (and [`crate::language`] cuts to the caller's): as written when
/// it is, else (a parser's or a library's own words, in English) framed by
/// what the status means, in Indonesian, before the English.
pub fn bilingual(status: StatusCode, detail: &str) -> String {
    if crate::language::in_language(detail, layers::text::Lang::Id).is_some() {
        return detail.to_owned();
    }
    let frame = match status.as_u16() {
        400 | 422 => "Permintaan tidak dapat diproses",
        401 => "Masuk dahulu",
        403 => "Tidak diizinkan",
        404 => "Tidak ditemukan",
        405 => "Metode ini tidak diterima di alamat ini",
        409 => "Bertentangan dengan keadaan sekarang",
        413 => "Melebihi batas",
        415 => "Jenis isi tidak didukung",
        429 => "Terlalu banyak permintaan; coba lagi nanti",
        503 => "Layanan sedang tidak tersedia; coba lagi sebentar lagi",
        _ => "Terjadi kesalahan",
    };
    let d = detail.trim();
    let end = if d.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    format!("{frame} (rincian dalam bahasa Inggris): {d}{end} / {d}{end}")
}

/// A problem JSON response with extension members `extra` (RFC 9457 §3.2),
/// e.g. the validation report of a rejected upload.
pub fn problem_response(
    status: StatusCode,
    kind: &str,
    detail: &str,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Response {
    {
        let title = status.canonical_reason().unwrap_or("Error");
        let detail = bilingual(status, detail);
        let body = Problem {
            r#type: format!("urn:bsc:problem:{kind}"),
            title,
            status: status.as_u16(),
            detail: &detail,
            extra,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut res = (status, json).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}
