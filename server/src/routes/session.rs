//! Login sessions: `POST /api/session` logs in and sets the session cookie,
//! `GET /api/session` tells who is logged in, `DELETE /api/session` logs out.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use layers::model::access::Account;
use layers::store::accounts::{LoginPolicy, SESSION_COOKIE};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Principal, cookie, same_origin};
use crate::client::Client;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The body of a login, as JSON or as an HTML form. `otp` is the code of
/// the user's authenticator app, needed when they have a second factor; an
/// empty one counts as none.
#[derive(Deserialize)]
struct Credentials {
    name: String,
    password: String,
    #[serde(default)]
    otp: Option<String>,
}

fn user_json(account: Option<&Account>) -> Value {
    json!({
        "user": account.map(|a| json!({"name": a.name, "role": a.role, "agency": a.agency}))
    })
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn credentials(headers: &HeaderMap, body: &[u8]) -> ApiResult<Credentials> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let bad = || {
        ApiError::bad_request(
            "invalid-body",
            "send the credentials as JSON {\"name\": ..., \"password\": ..., \"otp\": ...} or as a form with fields name, password and otp (otp only for a user with a second factor)",
        )
    };
    if form {
        let mut name = None;
        let mut password = None;
        let mut otp = None;
        for (k, v) in form_urlencoded::parse(body) {
            match &*k {
                "name" => name = Some(v.into_owned()),
                "password" => password = Some(v.into_owned()),
                "otp" => otp = Some(v.into_owned()),
                _ => {}
            }
        }
        match (name, password) {
            (Some(name), Some(password)) => Ok(Credentials {
                name,
                password,
                otp,
            }),
            _ => Err(bad()),
        }
    } else {
        serde_json::from_slice(body).map_err(|_| bad())
    }
}

/// `POST /api/session`: checks `{name, password, otp?}` and sets the
/// session cookie. 401 for any wrong part (never saying which: a wrong or
/// missing authenticator code answers as a wrong password does), 429 with
/// `Retry-After` when throttled. A login sent from another site's page
/// (an `Origin` that is not this server) is refused with 403; so is, with
/// the problem type `urn:bsc:problem:second-factor-required`, the right
/// password of an admin or leader without a second factor on a server run
/// with `--require-totp`.
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    if headers.contains_key(header::ORIGIN)
        && !same_origin(&headers, &uri, &state.config.public_url)
    {
        return Err(ApiError::forbidden(
            "a login must come from this site: its Origin header names another",
        ));
    }
    let creds = credentials(&headers, &body)?;
    let login = state
        .store
        .login(
            &layers::store::accounts::Credentials {
                name: &creds.name,
                password: &creds.password,
                otp: creds.otp.as_deref().filter(|c| !c.trim().is_empty()),
            },
            client.addr.as_deref(),
            &LoginPolicy {
                ttl: state.config.session_ttl,
                require_totp: state.config.require_totp,
            },
        )
        .await;
    let login = match login {
        Ok(login) => login,
        Err(layers::Error::Throttled { retry_after }) => {
            let mut res = ApiError::too_many_requests(format!(
                "too many failed logins; try again in {retry_after} s"
            ))
            .into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return Ok(res);
        }
        Err(layers::Error::Forbidden(m)) => {
            return Err(ApiError {
                status: StatusCode::FORBIDDEN,
                kind: "second-factor-required",
                detail: m,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let mut value = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/",
        login.token
    );
    if state.config.behind_tls {
        value.push_str("; Secure");
    }
    let mut res = axum::Json(user_json(Some(&login.account))).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&value).map_err(ApiError::internal)?,
    );
    Ok(no_store(res))
}

/// `GET /api/session`: `{"user": {"name", "role", "agency"}}`, or
/// `{"user": null}` for the public.
pub async fn current(who: Principal) -> Response {
    no_store(axum::Json(user_json(who.account())).into_response())
}

/// `DELETE /api/session`: ends the cookie's session (if any) and clears
/// the cookie; 204. Like every cookie-authenticated write, it needs an
/// `Origin` of this site (checked by the [`Principal`] extractor).
pub async fn logout(
    State(state): State<AppState>,
    _who: Principal,
    client: Client,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.store.logout(token, client.addr.as_deref()).await?;
    }
    let mut value = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
    if state.config.behind_tls {
        value.push_str("; Secure");
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&value).map_err(ApiError::internal)?,
    );
    Ok(no_store(res))
}
