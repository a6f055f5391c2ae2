//! `/setup`: the first admin, on a server that has none. `bsc serve`
//! prints a one-time link (`/setup?token=...`, see [`crate::setup`]);
//! `GET /setup?token=` shows a small bilingual form (server-rendered, no
//! script) where the first admin chooses a name and password, and `POST
//! /setup` (a form: `token`, `name`, `password`, `password2`) creates the
//! admin (audited as `user_add` and `setup_admin`), signs them in and sends them to the map.
//! The link then stops working, as it does once any admin exists. A wrong,
//! expired or used token gets one and the same page (403); a client
//! sending many wrong tokens waits (429).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use layers::model::access::Role;
use layers::store::accounts::{Credentials, LoginPolicy, NewUser, SESSION_COOKIE};
use serde::Deserialize;

use crate::auth::same_origin;
use crate::client::Client;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::http::esc;
use crate::setup::Check;
use crate::state::AppState;

/// Query parameters of `GET /setup`.
#[derive(Deserialize)]
pub struct SetupParams {
    #[serde(default)]
    token: String,
}

const INVALID: &str = "Tautan penyiapan ini tidak berlaku: salah, kedaluwarsa (berlaku satu jam) atau sudah dipakai. \
Jalankan ulang <code>bsc serve</code> untuk tautan baru bila belum ada admin, atau minta admin membuat akun Anda. \
/ This setup link does not work: it is wrong, expired (it lasts an hour) or used. Restart <code>bsc serve</code> \
for a new link while there is no admin, or ask an admin for an account.";

fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"id\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Penyiapan / Setup · Peta Badung Smart City</title>\
         <link rel=\"icon\" href=\"/web/icon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/web/style.css\"></head>\
         <body class=\"setup-page\"><main class=\"setup\">\
         <h1>Penyiapan admin pertama <span lang=\"en\">/ First admin setup</span></h1>\n{body}</main></body></html>\n"
    );
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    // The link's token goes to no other site; `no-referrer` would also
    // make the browser send `Origin: null` with the form, which the
    // same-origin check refuses.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

fn invalid() -> Response {
    page(
        StatusCode::FORBIDDEN,
        &format!(
            "<p class=\"error\" id=\"setup-invalid\">{INVALID}</p><p><a href=\"/\">Ke peta / To the map</a></p>"
        ),
    )
}

fn throttled(wait: u64) -> Response {
    let mut res = page(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "<p class=\"error\">Terlalu banyak tautan salah dari alamat ini; coba lagi dalam {wait} detik. \
             / Too many wrong links from this address; try again in {wait} s.</p>"
        ),
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    res
}

fn form(token: &str, name: &str, error: Option<&str>) -> String {
    let error = error.map_or_else(String::new, |e| {
        format!(
            "<p class=\"error\" role=\"alert\" id=\"setup-error\">{}</p>",
            esc(e)
        )
    });
    format!(
        "<p>Belum ada admin di server ini. Pilih nama dan kata sandi admin pertama; tautan ini berlaku sekali saja. \
         <span lang=\"en\">/ This server has no admin yet. Choose the first admin's name and password; this link works once.</span></p>\
         {error}\
         <form method=\"post\" action=\"/setup\" id=\"setup-form\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <label class=\"field\"><span>Nama pengguna / User name</span>\
         <input name=\"name\" value=\"{name}\" autocomplete=\"username\" required maxlength=\"64\" autocapitalize=\"off\" spellcheck=\"false\"></label>\
         <label class=\"field\"><span>Kata sandi (minimal 10 karakter) / Password (10 characters or more)</span>\
         <input name=\"password\" type=\"password\" autocomplete=\"new-password\" required minlength=\"10\"></label>\
         <label class=\"field\"><span>Ulangi kata sandi / Repeat the password</span>\
         <input name=\"password2\" type=\"password\" autocomplete=\"new-password\" required minlength=\"10\"></label>\
         <button type=\"submit\" class=\"btn primary\">Buat admin dan masuk / Create the admin and sign in</button>\
         </form>",
        token = esc(token),
        name = esc(name),
    )
}

/// Whether the link still works: it is in time and no admin exists (the
/// link is closed as soon as one does).
async fn link_open(state: &AppState) -> ApiResult<bool> {
    if !state.setup.is_open() {
        return Ok(false);
    }
    if state.store.admin_count().await? > 0 {
        state.setup.close();
        return Ok(false);
    }
    Ok(true)
}

/// `GET /setup?token=`: the form, or the page saying the link does not work.
pub async fn setup_page(
    State(state): State<AppState>,
    client: Client,
    ApiQuery(p): ApiQuery<SetupParams>,
) -> ApiResult<Response> {
    let addr = client.addr.unwrap_or_default();
    match state.setup.check(&p.token, &addr) {
        Check::Throttled(wait) => return Ok(throttled(wait)),
        Check::Invalid => return Ok(invalid()),
        Check::Valid => {}
    }
    if !link_open(&state).await? {
        return Ok(invalid());
    }
    Ok(page(StatusCode::OK, &form(&p.token, "", None)))
}

/// `POST /setup`: creates the first admin and signs them in (303 to `/`
/// with the session cookie). A name or password the rules refuse shows the
/// form again with the reason (400).
pub async fn setup_submit(
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
            "Penyiapan harus dikirim dari situs ini. / The setup must come from this site.",
        ));
    }
    let mut token = String::new();
    let mut name = String::new();
    let mut password = String::new();
    let mut password2 = String::new();
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "token" => token = v.into_owned(),
            "name" => name = v.trim().to_owned(),
            "password" => password = v.into_owned(),
            "password2" => password2 = v.into_owned(),
            _ => {}
        }
    }
    let addr = client.addr.clone().unwrap_or_default();
    match state.setup.check(&token, &addr) {
        Check::Throttled(wait) => return Ok(throttled(wait)),
        Check::Invalid => return Ok(invalid()),
        Check::Valid => {}
    }
    if !link_open(&state).await? {
        return Ok(invalid());
    }
    let again = |msg: &str| page(StatusCode::BAD_REQUEST, &form(&token, &name, Some(msg)));
    if password != password2 {
        return Ok(again(
            "Kedua kata sandi tidak sama. / The two passwords differ.",
        ));
    }
    let created = state
        .store
        .create_user(
            &NewUser {
                name: &name,
                role: Role::Admin,
                agency: None,
                create_agency: false,
                password: &password,
            },
            client.actor(&crate::auth::Principal::Anonymous),
        )
        .await;
    match created {
        Ok(_) => {
            state.setup.close();
            layers::store::audit::record_anonymous(
                state.store.pool(),
                &layers::store::audit::Entry {
                    action: "setup_admin",
                    client: client.addr.as_deref(),
                    detail: Some(serde_json::json!({"user": name})),
                    ..Default::default()
                },
            )
            .await?;
        }
        Err(layers::Error::BadRequest(m) | layers::Error::Conflict(m)) => return Ok(again(&m)),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(user = %name, "first admin created through the setup link");
    let login = state
        .store
        .login(
            &Credentials {
                name: &name,
                password: &password,
                otp: None,
            },
            client.addr.as_deref(),
            &LoginPolicy {
                ttl: state.config.session_ttl,
                // The admin has just been made; the second factor comes after.
                require_totp: false,
            },
        )
        .await?;
    let mut cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/",
        login.token
    );
    if state.config.behind_tls {
        cookie.push_str("; Secure");
    }
    let mut res = StatusCode::SEE_OTHER.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/"));
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
