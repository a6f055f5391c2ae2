//! `/api/admin/*`: what administrators do from the page, through the same
//! store functions (and so the same checks and audit records) as `bsc
//! user` and `bsc token`:
//!
//! - `GET /api/admin/users`, `POST /api/admin/users` (`{name, role,
//!   agency?, password?}`: without a password a random one is made and
//!   returned once), `PATCH /api/admin/users/{name}` (`{role?, agency?,
//!   disabled?}`), `POST /api/admin/users/{name}/password` (`{password?}`,
//!   the same: given and checked by the password rules, or made and
//!   returned once);
//! - `GET /api/admin/agencies`, `POST /api/admin/agencies` (`{name}`),
//!   `PATCH /api/admin/agencies/{id}` (`{name}`: a rename, the slug stays);
//! - `GET /api/admin/tokens?user=`, `POST /api/admin/tokens` (`{user,
//!   name}`: the token is in this answer only), `DELETE
//!   /api/admin/tokens/{id}`.
//!
//! Admins only ([`crate::auth::admin_only`]: 401 for the public, 403 for
//! other users). No answer holds a password hash or a token hash; answers
//! are `no-store`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use layers::model::access::Role;
use layers::store::accounts::NewUser;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{Principal, admin_only};
use crate::client::Client;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

fn no_store(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

fn json_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "invalid-body",
            format!(
                "Isi permintaan bukan JSON yang diharapkan: {e}. / The body is not the expected JSON: {e}."
            ),
        )
    })
}

fn role(raw: &str) -> ApiResult<Role> {
    raw.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid-body",
            format!(
                "Peran {raw:?} tidak dikenal: admin, leader atau opd_staff. / Unknown role {raw:?}: admin, leader or opd_staff."
            ),
        )
    })
}

/// An optional text field: blank counts as absent.
fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /api/admin/users`: `{"users": [{id, name, role, agency, disabled,
/// totp, created_at}]}`, by name.
pub async fn users(State(state): State<AppState>, who: Principal) -> ApiResult<Response> {
    admin_only(&who)?;
    let users = state.store.users().await?;
    Ok(no_store(StatusCode::OK, &json!({ "users": users })))
}

/// The body of `POST /api/admin/users`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    name: String,
    role: String,
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/admin/users`: 201 `{"user": {...}, "password": "..."?}`;
/// `password` is there only when the server made it. 409 for a name in
/// use, 400 for a bad name, password, role or agency (an unknown agency
/// is not created: add it first).
pub async fn add_user(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    body: Bytes,
) -> ApiResult<Response> {
    admin_only(&who)?;
    let b: NewUserBody = json_body(&body)?;
    let role = role(&b.role)?;
    let made = given(b.password.as_deref())
        .is_none()
        .then(layers::password::random_password);
    let password = made
        .as_deref()
        .or(b.password.as_deref())
        .unwrap_or_default();
    let user = state
        .store
        .create_user(
            &NewUser {
                name: b.name.trim(),
                role,
                agency: given(b.agency.as_deref()),
                create_agency: false,
                password,
            },
            client.actor(&who),
        )
        .await?;
    Ok(no_store(
        StatusCode::CREATED,
        &json!({ "user": user, "password": made }),
    ))
}

/// The body of `PATCH /api/admin/users/{name}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    disabled: Option<bool>,
}

/// `PATCH /api/admin/users/{name}` with `{role?, agency?, disabled?}`:
/// the user as changed. An agency alone moves a staff member to another
/// agency; a role alone keeps a staff member's agency (other roles have
/// none). Disabling ends their sessions and revokes their tokens; an
/// admin cannot disable themselves, and the last enabled admin can be
/// neither disabled nor given another role (409).
pub async fn patch_user(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(name): ApiPath<String>,
    body: Bytes,
) -> ApiResult<Response> {
    admin_only(&who)?;
    let b: UserPatch = json_body(&body)?;
    let Some(current) = state.store.user(&name).await? else {
        return Err(ApiError::not_found(format!(
            "Pengguna {name:?} tidak ada. / No user named {name:?}."
        )));
    };
    let actor = client.actor(&who);
    if b.role.is_some() || b.agency.is_some() {
        let role = match given(b.role.as_deref()) {
            Some(r) => role(r)?,
            None => current.role,
        };
        // A staff member keeps their agency unless another is named.
        let agency = given(b.agency.as_deref()).or(if role == Role::OpdStaff {
            current.agency.as_deref()
        } else {
            None
        });
        state
            .store
            .set_role(&current.name, role, agency, actor)
            .await?;
    }
    match b.disabled {
        Some(true) if !current.disabled => {
            if who
                .account()
                .is_some_and(|a| a.name.eq_ignore_ascii_case(&current.name))
            {
                return Err(ApiError {
                    status: StatusCode::CONFLICT,
                    kind: "conflict",
                    detail: "Anda tidak dapat menonaktifkan akun Anda sendiri. / You cannot disable your own account.".into(),
                });
            }
            state.store.disable_user(&current.name, actor).await?;
        }
        Some(false) => state.store.enable_user(&current.name, actor).await?,
        _ => {}
    }
    let user = state.store.user(&current.name).await?;
    Ok(no_store(StatusCode::OK, &json!({ "user": user })))
}

/// The body of `POST /api/admin/users/{name}/password`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/admin/users/{name}/password` with `{password?}`: sets the
/// given password (checked by the password rules: 400 with the reason) or
/// a random one, returned once as `password`. Their sessions end; their
/// API tokens stay.
pub async fn set_password(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(name): ApiPath<String>,
    body: Bytes,
) -> ApiResult<Response> {
    admin_only(&who)?;
    let b: PasswordBody = if body.iter().all(u8::is_ascii_whitespace) {
        PasswordBody::default()
    } else {
        json_body(&body)?
    };
    let Some(user) = state.store.user(&name).await? else {
        return Err(ApiError::not_found(format!(
            "Pengguna {name:?} tidak ada. / No user named {name:?}."
        )));
    };
    let made = given(b.password.as_deref())
        .is_none()
        .then(layers::password::random_password);
    let password = made
        .as_deref()
        .or(b.password.as_deref())
        .unwrap_or_default();
    state
        .store
        .set_password(&user.name, password, client.actor(&who))
        .await?;
    Ok(no_store(
        StatusCode::OK,
        &json!({ "user": user.name, "password": made }),
    ))
}

/// `GET /api/admin/agencies`: `{"agencies": [{id, name, users}]}`, by id;
/// `users` counts the agency's staff.
pub async fn agencies(State(state): State<AppState>, who: Principal) -> ApiResult<Response> {
    admin_only(&who)?;
    let agencies = state.store.agencies().await?;
    let users = state.store.users().await?;
    let list: Vec<Value> = agencies
        .into_iter()
        .map(|(id, name)| {
            let n = users
                .iter()
                .filter(|u| u.agency.as_deref() == Some(id.as_str()))
                .count();
            json!({"id": id, "name": name, "users": n})
        })
        .collect();
    Ok(no_store(StatusCode::OK, &json!({ "agencies": list })))
}

/// The body of `POST /api/admin/agencies` and `PATCH /api/admin/agencies/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyBody {
    name: String,
}

/// `POST /api/admin/agencies` with `{name}`: 201 `{id, name}`; the id is
/// the name's slug. 409 when one exists.
pub async fn add_agency(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    body: Bytes,
) -> ApiResult<Response> {
    admin_only(&who)?;
    let b: AgencyBody = json_body(&body)?;
    let (id, name) = state
        .store
        .create_agency(&b.name, client.actor(&who))
        .await?;
    Ok(no_store(
        StatusCode::CREATED,
        &json!({"id": id, "name": name}),
    ))
}

/// `PATCH /api/admin/agencies/{id}` with `{name}`: renames the agency.
pub async fn rename_agency(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> ApiResult<Response> {
    admin_only(&who)?;
    let b: AgencyBody = json_body(&body)?;
    let (id, name) = state
        .store
        .rename_agency(&id, &b.name, client.actor(&who))
        .await?;
    Ok(no_store(StatusCode::OK, &json!({"id": id, "name": name})))
}

/// Query parameters of `GET /api/admin/tokens`.
#[derive(Deserialize)]
pub struct TokenParams {
    user: Option<String>,
}

/// `GET /api/admin/tokens?user=`: `{"tokens": [{id, user, name, prefix,
/// created_at, revoked_at, last_used_at}]}`, oldest first: never a token.
pub async fn tokens(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(p): ApiQuery<TokenParams>,
) -> ApiResult<Response> {
    admin_only(&who)?;
    let tokens = state.store.tokens(given(p.user.as_deref())).await?;
    Ok(no_store(StatusCode::OK, &json!({ "tokens": tokens })))
}

/// The body of `POST /api/admin/tokens`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    user: String,
    name: String,
}

/// `POST /api/admin/tokens` with `{user, name}`: 201 `{id, user, name,
/// token}`. The token is shown in this answer only; the server keeps its
/// hash.
pub async fn add_token(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    body: Bytes,
) -> ApiResult<Response> {
    admin_only(&who)?;
    let b: NewTokenBody = json_body(&body)?;
    let made = state
        .store
        .create_token(b.user.trim(), &b.name, client.actor(&who))
        .await?;
    Ok(no_store(
        StatusCode::CREATED,
        &json!({"id": made.id, "user": b.user.trim(), "name": b.name.trim(), "token": made.token}),
    ))
}

/// `DELETE /api/admin/tokens/{id}`: revokes the token; 204 (also when it
/// was revoked already), 404 for an unknown id.
pub async fn revoke_token(
    State(state): State<AppState>,
    who: Principal,
    client: Client,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    admin_only(&who)?;
    state.store.revoke_token(id, client.actor(&who)).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// `GET /api/demo-accounts`: on a server run with `--demo`, `{"accounts":
/// [{name, role, agency, password}]}` for the sign-in page; 404 otherwise.
pub async fn demo_accounts(State(state): State<AppState>) -> ApiResult<Response> {
    if state.demo_accounts.is_empty() {
        return Err(ApiError::not_found(
            "Server ini tidak berjalan dalam mode demo. / This server does not run in demo mode.",
        ));
    }
    Ok(no_store(
        StatusCode::OK,
        &json!({ "accounts": *state.demo_accounts }),
    ))
}
