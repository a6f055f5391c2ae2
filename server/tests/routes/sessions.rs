//! Logins, session cookies, API tokens as bearer, the login throttle, the
//! same-origin rule for cookie writes, and what a role sees. In-process
//! through `server::app` (moved from the end-to-end tests/accounts.rs,
//! which keeps the command line: users, tokens, TOTP, audit, backups).

use crate::support::{Auth, PASSWORD, Reply, World};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use server::config::ApiConfig;

async fn session(w: &World, auth: Auth<'_>) -> Value {
    w.json_as("/api/session", auth).await["user"].clone()
}

fn layer_ids(v: &Value) -> Vec<String> {
    let list = v.as_array().or_else(|| v["layers"].as_array()).unwrap();
    list.iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `POST /api/session` with a JSON body, and `extra` headers.
async fn login_attempt(w: &World, name: &str, password: &str, extra: &[(&str, &str)]) -> Reply {
    let mut req = Request::post("/api/session").header(header::CONTENT_TYPE, "application/json");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    w.send(
        req.body(Body::from(
            json!({"name": name, "password": password}).to_string(),
        ))
        .unwrap(),
    )
    .await
}

#[tokio::test]
async fn login_session_and_logout() {
    let w = World::new().await;
    w.add_user("ayu", "leader", None).await;
    assert_eq!(session(&w, Auth::Anonymous).await, Value::Null);

    // Wrong password and unknown user: the same 401, naming neither.
    let wrong = login_attempt(&w, "ayu", "not-the-password", &[])
        .await
        .problem(401);
    let unknown = login_attempt(&w, "nobody", "not-the-password", &[])
        .await
        .problem(401);
    assert_eq!(wrong["detail"], unknown["detail"]);
    w.send(
        Request::post("/api/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{not json"))
            .unwrap(),
    )
    .await
    .problem(400);

    let r = login_attempt(&w, "ayu", PASSWORD, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let set = r.header("set-cookie").unwrap();
    assert!(set.starts_with("bsc_session="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "{set}");
    let body = r.json();
    assert_eq!(body["user"]["name"], "ayu");
    assert_eq!(body["user"]["role"], "leader");
    let cookie = set.split(';').next().unwrap().to_owned();
    // The token is random: 128 bits in hex, and only its hash is stored.
    let token = cookie.trim_start_matches("bsc_session=");
    assert_eq!(token.len(), 32);
    let stored = w.sql_strings("SELECT token_hash FROM sessions");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);

    let user = session(&w, Auth::Cookie(&cookie)).await;
    assert_eq!(
        user,
        json!({"name": "ayu", "role": "leader", "agency": null})
    );

    // A form login works too.
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("name", "ayu")
        .append_pair("password", PASSWORD)
        .finish();
    let r = w
        .send(
            Request::post("/api/session")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let r = w
        .call_as(Method::DELETE, "/api/session", Auth::Cookie(&cookie), "")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(session(&w, Auth::Cookie(&cookie)).await, Value::Null);
    // A forged or stale cookie is just the public.
    assert_eq!(
        session(
            &w,
            Auth::Cookie("bsc_session=00000000000000000000000000000000")
        )
        .await,
        Value::Null
    );
}

#[tokio::test]
async fn session_cookie_is_secure_behind_tls() {
    let w = World::with_config(ApiConfig {
        behind_tls: true,
        session_ttl: std::time::Duration::from_secs(3600),
        ..ApiConfig::default()
    })
    .await;
    w.add_user("ayu", "admin", None).await;
    let r = login_attempt(&w, "ayu", PASSWORD, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("; Secure") && set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    // The session lasts an hour from now (sliding).
    let expires: jiff::Timestamp = w.sql_strings("SELECT expires_at FROM sessions")[0]
        .parse()
        .unwrap();
    let secs = expires
        .duration_since(jiff::Timestamp::now())
        .as_secs_f64()
        .round();
    assert!((3500.0..=3600.0).contains(&secs), "{secs}");
}

#[tokio::test]
async fn the_sixth_failure_for_an_account_is_throttled() {
    let w = World::new().await;
    w.add_user("ayu", "admin", None).await;
    w.add_user("made", "leader", None).await;
    for _ in 0..5 {
        assert_eq!(
            login_attempt(&w, "ayu", "wrong-password", &[]).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused now, with a time to wait.
    let r = login_attempt(&w, "ayu", PASSWORD, &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    assert_eq!(r.json()["status"], 429);
    // Names compare without case, so the throttle does too.
    assert_eq!(
        login_attempt(&w, "AYU", PASSWORD, &[]).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another account from the same client is not locked out.
    assert_eq!(
        login_attempt(&w, "made", PASSWORD, &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn api_tokens_work_as_bearer() {
    let w = World::new().await;
    w.add_user("wayan", "opd_staff", Some("Dinas Kesehatan"))
        .await;
    let token = w.token("wayan", "qgis-laptop").await;
    assert_eq!(token.len(), 4 + 64);
    let stored = w.sql_strings("SELECT token_hash FROM api_tokens");
    assert!(!stored[0].contains(&token[4..]));

    assert_eq!(
        session(&w, Auth::Bearer(&token)).await,
        json!({"name": "wayan", "role": "opd_staff", "agency": "dinas-kesehatan"})
    );
    // Bearer writes need no Origin.
    let r = w
        .call_as(Method::DELETE, "/api/session", Auth::Bearer(&token), "")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // A bad token is a 401, never the public.
    for bad in ["bsc_0000", &format!("bsc_{}", "0".repeat(64)), "nonsense"] {
        w.get_as("/api/session", Auth::Bearer(bad))
            .await
            .problem(401);
        w.get_as("/api/layers", Auth::Bearer(bad))
            .await
            .problem(401);
    }
}

#[tokio::test]
async fn cookie_writes_need_this_sites_origin() {
    let w = World::with_config(ApiConfig {
        public_url: "https://peta.badungkab.go.id".to_owned(),
        ..ApiConfig::default()
    })
    .await;
    w.add_user("ayu", "admin", None).await;
    let cookie = w.login("ayu", PASSWORD).await;
    let delete = async |extra: &[(&str, &str)]| {
        let mut req = Request::delete("/api/session").header(header::COOKIE, &cookie);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        w.send(req.body(Body::empty()).unwrap()).await
    };

    delete(&[]).await.problem(403);
    delete(&[("origin", "http://evil.example")])
        .await
        .problem(403);
    delete(&[("origin", "null")]).await.problem(403);
    delete(&[("referer", "http://evil.example/page")])
        .await
        .problem(403);
    // Still logged in after all that.
    assert_eq!(session(&w, Auth::Cookie(&cookie)).await["name"], "ayu");
    // A login posted from another site is refused too.
    login_attempt(&w, "ayu", PASSWORD, &[("origin", "http://evil.example")])
        .await
        .problem(403);
    // The public URL's host counts as this site; so does a Referer from here.
    let r = delete(&[("origin", "https://peta.badungkab.go.id")]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let cookie2 = w.login("ayu", PASSWORD).await;
    let r = w
        .send(
            Request::delete("/api/session")
                .header(header::COOKIE, &cookie2)
                .header(
                    "referer",
                    format!("http://{}/index.html", crate::support::HOST),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_leader_sees_internal_layers_the_public_does_not() {
    let w = World::new().await;
    w.add_user("made", "leader", None).await;
    layers::demo::load(&w.state.store, 500, layers::demo::SEED)
        .await
        .unwrap();
    w.sync().await;
    let public = layer_ids(&w.json("/api/layers").await);
    assert!(!public.contains(&"zona-covid".to_owned()), "{public:?}");
    assert!(!public.contains(&"bantuan-sosial".to_owned()));
    let cookie = w.login("made", PASSWORD).await;
    let seen = layer_ids(&w.json_as("/api/layers", Auth::Cookie(&cookie)).await);
    assert!(seen.contains(&"zona-covid".to_owned()), "{seen:?}");
    assert!(seen.contains(&"bantuan-sosial".to_owned()));
    assert!(seen.len() > public.len());
    // After logout, the cookie is the public again.
    let r = w
        .call_as(Method::DELETE, "/api/session", Auth::Cookie(&cookie), "")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        layer_ids(&w.json_as("/api/layers", Auth::Cookie(&cookie)).await),
        public
    );
}

/// Item 11: an over-long login name is refused like any wrong login, and
/// leaves nothing in the throttling table; distinct names and addresses
/// cannot grow it past its keys' bounded length. (Such a user cannot be
/// created: tests/accounts.rs.)
#[tokio::test]
async fn an_over_long_login_name_is_a_plain_401_that_leaves_no_trace() {
    let w = World::new().await;
    w.add_user("ayu", "admin", None).await;
    let long = "a".repeat(65);
    let count = |sql: &str| -> i64 {
        w.sql_strings(&format!("SELECT CAST(({sql}) AS TEXT)"))[0]
            .parse()
            .unwrap()
    };
    let wrong = login_attempt(&w, "ayu", "not-the-password", &[])
        .await
        .problem(401);
    let before = count("SELECT count(*) FROM login_attempts");
    assert_eq!(before, 2);
    for name in [long.clone(), "b".repeat(100_000)] {
        let detail = login_attempt(&w, &name, "not-the-password", &[])
            .await
            .problem(401);
        assert_eq!(detail["detail"], wrong["detail"]);
    }
    assert_eq!(count("SELECT count(*) FROM login_attempts"), before);
    assert!(count("SELECT max(length(key)) FROM login_attempts") <= 5 + 64);
    // Nor are they written to the audit log.
    let failed = count("SELECT count(*) FROM audit_log WHERE action = 'login_failed'");
    assert_eq!(failed, 1);
    w.login("ayu", PASSWORD).await;
}
