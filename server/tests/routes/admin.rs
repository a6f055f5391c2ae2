//! Administration from the page: `/api/admin/*` (users, agencies, API
//! tokens) for admins only, the audit log's filters, the first run's
//! `/setup` link and the demo accounts' route. Every change is audited as
//! the command line's is, and no answer carries a password hash or a token
//! hash.

use crate::support::{Auth, PASSWORD, Reply, World};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use layers::model::access::Role;
use serde_json::{Value, json};

/// A JSON request as `auth`.
async fn send(w: &World, method: Method, path: &str, auth: Auth<'_>, body: Value) -> Reply {
    w.send(
        World::request(method, path, auth)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// Nothing secret in an answer: no argon2 hash, no stored token hash.
fn no_secrets(w: &World, r: &Reply) {
    let text = r.text();
    assert!(!text.contains("$argon2"), "{text}");
    assert!(
        !text.contains("password_hash") && !text.contains("token_hash"),
        "{text}"
    );
    for hash in w.sql_strings("SELECT token_hash FROM api_tokens") {
        assert!(!text.contains(&hash), "{text}");
    }
}

/// `GET /api/audit?{q}` as `auth`.
async fn audit(w: &World, auth: Auth<'_>, q: &str) -> Value {
    w.json_as(&format!("/api/audit?{q}"), auth).await
}

/// The audit actions recorded so far, oldest first.
fn actions(w: &World) -> Vec<String> {
    w.sql_strings("SELECT action FROM audit_log ORDER BY id")
}

#[tokio::test]
async fn only_admins_administer_and_leaders_read_the_audit_log() {
    let w = World::new().await;
    let admin = w.user("ayu", Role::Admin, None).await;
    let leader = w.user("made", Role::Leader, None).await;
    let staff = w.user("wayan", Role::OpdStaff, Some("Dinas PUPR")).await;
    let reads = [
        "/api/admin/users",
        "/api/admin/agencies",
        "/api/admin/tokens",
    ];
    let writes: [(Method, &str, Value); 7] = [
        (
            Method::POST,
            "/api/admin/users",
            json!({"name": "x", "role": "leader"}),
        ),
        (
            Method::PATCH,
            "/api/admin/users/made",
            json!({"disabled": true}),
        ),
        (Method::POST, "/api/admin/users/made/password", json!({})),
        (
            Method::POST,
            "/api/admin/agencies",
            json!({"name": "Dinas X"}),
        ),
        (
            Method::PATCH,
            "/api/admin/agencies/dinas-pupr",
            json!({"name": "Dinas Y"}),
        ),
        (
            Method::POST,
            "/api/admin/tokens",
            json!({"user": "made", "name": "x"}),
        ),
        (Method::DELETE, "/api/admin/tokens/1", json!(null)),
    ];
    let before = actions(&w);
    for (who, auth, status) in [
        ("anonymous", Auth::Anonymous, 401),
        ("leader", Auth::Bearer(&leader), 403),
        ("staff", Auth::Bearer(&staff), 403),
    ] {
        for path in reads {
            let r = w.get_as(path, auth).await;
            assert_eq!(r.status.as_u16(), status, "{who} GET {path}: {}", r.text());
            r.problem(status);
        }
        for (method, path, body) in &writes {
            let r = send(&w, method.clone(), path, auth, body.clone()).await;
            assert_eq!(
                r.status.as_u16(),
                status,
                "{who} {method} {path}: {}",
                r.text()
            );
        }
    }
    // Nothing refused changed anything.
    assert_eq!(actions(&w), before);
    let detail = w
        .get_as("/api/admin/users", Auth::Bearer(&leader))
        .await
        .problem(403);
    insta::assert_json_snapshot!("admin_forbidden_to_leaders", detail);
    for path in reads {
        let r = w.get_as(path, Auth::Bearer(&admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(
            r.header("cache-control").as_deref(),
            Some("private, no-store")
        );
        no_secrets(&w, &r);
    }
    // The audit log: leaders and admins, not staff or the public.
    assert_eq!(
        w.get_as("/api/audit", Auth::Bearer(&leader)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        w.get_as("/api/audit", Auth::Bearer(&admin)).await.status,
        StatusCode::OK
    );
    w.get_as("/api/audit", Auth::Bearer(&staff))
        .await
        .problem(403);
    w.get_as("/api/audit", Auth::Anonymous).await.problem(401);
    // The demo accounts' route exists only in demo mode.
    w.get("/api/demo-accounts", None).await.problem(404);
}

#[tokio::test]
async fn an_admin_manages_users_from_the_page() {
    let w = World::new().await;
    w.add_user("ayu", "admin", None).await;
    let cookie = w.login("ayu", PASSWORD).await;
    let me = Auth::Cookie(&cookie);
    w.add_user("wayan", "opd_staff", Some("Dinas PUPR")).await;
    send(
        &w,
        Method::POST,
        "/api/admin/agencies",
        me,
        json!({"name": "Dinas Kesehatan"}),
    )
    .await;

    // Added with a password of the server's making, shown once.
    let r = send(
        &w,
        Method::POST,
        "/api/admin/users",
        me,
        json!({"name": "putu", "role": "opd_staff", "agency": "Dinas PUPR"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    no_secrets(&w, &r);
    let made = r.json();
    let password = made["password"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 19);
    insta::assert_json_snapshot!(
        "admin_user_added",
        crate::support::redact(&json!({"user": made["user"]}))
    );
    w.login("putu", &password).await;
    // With a given password; the rules apply; names are unique.
    let r = send(
        &w,
        Method::POST,
        "/api/admin/users",
        me,
        json!({"name": "made", "role": "leader", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["password"], Value::Null);
    for (body, status) in [
        (json!({"name": "Made", "role": "leader"}), 409),
        (
            json!({"name": "nyoman", "role": "leader", "password": "password123"}),
            400,
        ),
        (json!({"name": "nyoman", "role": "boss"}), 400),
        (json!({"name": "nyoman", "role": "opd_staff"}), 400),
        (
            json!({"name": "nyoman", "role": "opd_staff", "agency": "Dinas Baru"}),
            400,
        ),
        (json!({"name": "bad name", "role": "leader"}), 400),
        (json!({"name": "nyoman", "role": "leader", "extra": 1}), 400),
    ] {
        let r = send(&w, Method::POST, "/api/admin/users", me, body.clone()).await;
        let p = r.problem(status);
        assert!(p["detail"].as_str().unwrap().len() > 10, "{body}: {p}");
    }
    assert!(w.state.store.user("nyoman").await.unwrap().is_none());

    // Role and agency, disabling and enabling.
    let r = send(
        &w,
        Method::PATCH,
        "/api/admin/users/putu",
        me,
        json!({"agency": "dinas-kesehatan"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["user"]["agency"], "dinas-kesehatan");
    let r = send(
        &w,
        Method::PATCH,
        "/api/admin/users/putu",
        me,
        json!({"role": "opd_staff"}),
    )
    .await;
    assert_eq!(
        r.json()["user"]["agency"],
        "dinas-kesehatan",
        "{}",
        r.text()
    );
    let r = send(
        &w,
        Method::PATCH,
        "/api/admin/users/putu",
        me,
        json!({"role": "leader", "agency": null}),
    )
    .await;
    assert_eq!(r.json()["user"]["role"], "leader", "{}", r.text());
    assert_eq!(r.json()["user"]["agency"], Value::Null);
    let r = send(
        &w,
        Method::PATCH,
        "/api/admin/users/putu",
        me,
        json!({"disabled": true}),
    )
    .await;
    assert_eq!(r.json()["user"]["disabled"], true);
    let refused = w
        .send(
            Request::post("/api/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"name": "putu", "password": password}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    refused.problem(401);
    let r = send(
        &w,
        Method::PATCH,
        "/api/admin/users/putu",
        me,
        json!({"disabled": false}),
    )
    .await;
    assert_eq!(r.json()["user"]["disabled"], false);
    w.login("putu", &password).await;
    // Not oneself, and not the last admin; unknown users are 404.
    send(
        &w,
        Method::PATCH,
        "/api/admin/users/ayu",
        me,
        json!({"disabled": true}),
    )
    .await
    .problem(409);
    send(
        &w,
        Method::PATCH,
        "/api/admin/users/ayu",
        me,
        json!({"role": "leader"}),
    )
    .await
    .problem(409);
    send(
        &w,
        Method::PATCH,
        "/api/admin/users/nobody",
        me,
        json!({"disabled": true}),
    )
    .await
    .problem(404);

    // Passwords: a weak one refused with the reason, a made one returned once.
    let p = send(
        &w,
        Method::POST,
        "/api/admin/users/made/password",
        me,
        json!({"password": "password123"}),
    )
    .await
    .problem(400);
    assert!(p["detail"].as_str().unwrap().contains("paling umum"), "{p}");
    let r = send(
        &w,
        Method::POST,
        "/api/admin/users/made/password",
        me,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let new = r.json()["password"].as_str().unwrap().to_owned();
    w.login("made", &new).await;
    let r = send(
        &w,
        Method::POST,
        "/api/admin/users/made/password",
        me,
        json!({"password": "Kata-sandi-baru-2026"}),
    )
    .await;
    assert_eq!(r.json(), json!({"user": "made", "password": null}));
    w.login("made", "Kata-sandi-baru-2026").await;

    // A cookie write from another site is refused.
    let r = w
        .send(
            Request::post("/api/admin/users")
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"name": "evil", "role": "admin"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    r.problem(403);

    // The list: every user, no hash.
    let r = w.get_as("/api/admin/users", me).await;
    no_secrets(&w, &r);
    let names: Vec<String> = r.json()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["ayu", "made", "putu", "wayan"]);

    // Each change audited with the admin and the client, as the CLI's are.
    let log = audit(&w, me, "actor=AYU&limit=100").await;
    let mut seen: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    seen.dedup();
    for a in [
        "agency_add",
        "user_add",
        "user_role",
        "user_disable",
        "user_enable",
        "user_passwd",
    ] {
        assert!(seen.contains(&a), "{a} in {seen:?}");
    }
    for e in log["entries"].as_array().unwrap() {
        assert_eq!(e["actor"], "ayu");
        assert_eq!(e["client"], "127.0.0.1");
        assert!(!e.to_string().contains(&new) && !e.to_string().contains(&password));
    }
}

#[tokio::test]
async fn agencies_and_tokens() {
    let w = World::new().await;
    let admin = w.user("ayu", Role::Admin, None).await;
    let me = Auth::Bearer(&admin);
    w.add_user("made", "leader", None).await;
    let r = send(
        &w,
        Method::POST,
        "/api/admin/agencies",
        me,
        json!({"name": "Dinas Sosial"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.json(),
        json!({"id": "dinas-sosial", "name": "Dinas Sosial"})
    );
    send(
        &w,
        Method::POST,
        "/api/admin/agencies",
        me,
        json!({"name": "dinas sosial"}),
    )
    .await
    .problem(409);
    send(
        &w,
        Method::POST,
        "/api/admin/agencies",
        me,
        json!({"name": "  "}),
    )
    .await
    .problem(400);
    let r = send(
        &w,
        Method::PATCH,
        "/api/admin/agencies/dinas-sosial",
        me,
        json!({"name": "Dinas Sosial P3A"}),
    )
    .await;
    assert_eq!(r.json()["name"], "Dinas Sosial P3A");
    send(
        &w,
        Method::PATCH,
        "/api/admin/agencies/nope",
        me,
        json!({"name": "X"}),
    )
    .await
    .problem(404);
    let list = w.json_as("/api/admin/agencies", me).await;
    insta::assert_json_snapshot!("admin_agencies", list);

    // A token for made: shown once, works, listed without its value, revoked.
    let r = send(
        &w,
        Method::POST,
        "/api/admin/tokens",
        me,
        json!({"user": "made", "name": "QGIS kantor"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let made = r.json();
    let token = made["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("bsc_"));
    let session = w.json_as("/api/session", Auth::Bearer(&token)).await;
    assert_eq!(session["user"]["name"], "made");
    let r = w.get_as("/api/admin/tokens?user=made", me).await;
    no_secrets(&w, &r);
    assert!(!r.text().contains(&token));
    let tokens = r.json()["tokens"].as_array().unwrap().clone();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["name"], "QGIS kantor");
    assert_eq!(tokens[0]["revoked_at"], Value::Null);
    // All tokens: ayu's test token too.
    assert_eq!(
        w.json_as("/api/admin/tokens", me).await["tokens"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    send(
        &w,
        Method::POST,
        "/api/admin/tokens",
        me,
        json!({"user": "nobody", "name": "x"}),
    )
    .await
    .problem(404);
    send(
        &w,
        Method::POST,
        "/api/admin/tokens",
        me,
        json!({"user": "made", "name": ""}),
    )
    .await
    .problem(400);
    let id = made["id"].as_i64().unwrap();
    let r = w
        .call_as(
            Method::DELETE,
            &format!("/api/admin/tokens/{id}"),
            me,
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    w.get_as("/api/session", Auth::Bearer(&token))
        .await
        .problem(401);
    w.call_as(Method::DELETE, "/api/admin/tokens/999", me, Body::empty())
        .await
        .problem(404);
    w.call_as(Method::DELETE, "/api/admin/tokens/abc", me, Body::empty())
        .await
        .problem(400);
    let a = actions(&w);
    for x in [
        "agency_add",
        "agency_rename",
        "token_create",
        "token_revoke",
    ] {
        assert!(a.iter().any(|y| y == x), "{x} in {a:?}");
    }
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_time_action_and_layer() {
    let w = World::new().await;
    let admin = w.user("ayu", Role::Admin, None).await;
    let leader = w.user("made", Role::Leader, None).await;
    let me = Auth::Bearer(&admin);
    send(
        &w,
        Method::POST,
        "/api/admin/agencies",
        me,
        json!({"name": "Dinas A"}),
    )
    .await;
    send(
        &w,
        Method::POST,
        "/api/admin/agencies",
        me,
        json!({"name": "Dinas B"}),
    )
    .await;
    let as_leader = Auth::Bearer(&leader);
    let n = |v: &Value| v["entries"].as_array().unwrap().len();
    assert_eq!(n(&audit(&w, as_leader, "actor=ayu").await), 2);
    assert_eq!(
        n(&audit(&w, as_leader, "actor=cli").await),
        4,
        "two users and two tokens by the CLI"
    );
    assert_eq!(n(&audit(&w, as_leader, "actor=nobody").await), 0);
    assert_eq!(
        n(&audit(&w, as_leader, "actor=ayu&action=agency_add").await),
        2
    );
    assert_eq!(
        n(&audit(
            &w,
            as_leader,
            "since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00%2B08:00"
        )
        .await),
        6
    );
    assert_eq!(
        n(&audit(&w, as_leader, "since=2999-01-01T00:00:00Z").await),
        0
    );
    assert_eq!(
        n(&audit(&w, as_leader, "until=2000-01-01T00:00:00Z").await),
        0
    );
    assert_eq!(n(&audit(&w, as_leader, "layer=pura").await), 0);
    // Paging keeps the filters.
    let page = audit(
        &w,
        as_leader,
        "actor=ayu&limit=1&since=2000-01-01T00:00:00Z",
    )
    .await;
    let next = page["next"].as_str().unwrap();
    assert!(
        next.contains("actor=ayu") && next.contains("since=2000"),
        "{next}"
    );
    let p = w
        .get_as("/api/audit?since=yesterday", Auth::Bearer(&leader))
        .await
        .problem(400);
    insta::assert_json_snapshot!("audit_bad_time", p);
}

#[tokio::test]
async fn the_setup_link_makes_the_first_admin_once() {
    let w = World::new().await;
    let token = w.state.setup.issue(server::setup::SETUP_TTL);
    let r = w.get(&format!("/setup?token={token}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("setup-form") && r.text().contains(&token));
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("form-action 'self'")
    );
    // Not no-referrer: with it browsers post the form with `Origin: null`.
    assert_eq!(r.header("referrer-policy").as_deref(), Some("same-origin"));
    // Wrong: the same page as expired or used.
    let wrong = w.get("/setup?token=0123", None).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let post = |body: String| {
        w.send(
            Request::post("/setup")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
    };
    let form = |t: &str, name: &str, p1: &str, p2: &str| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("token", t)
            .append_pair("name", name)
            .append_pair("password", p1)
            .append_pair("password2", p2)
            .finish()
    };
    // The rules apply, and the form comes back with the reason.
    let r = post(form(&token, "ayu", "password123", "password123")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("setup-error"), "{}", r.text());
    let r = post(form(&token, "ayu", PASSWORD, "something-else")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(w.state.store.user("ayu").await.unwrap().is_none());
    let r = post(form(&token, "ayu", PASSWORD, PASSWORD)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location").as_deref(), Some("/"));
    let cookie = r.header("set-cookie").unwrap();
    let cookie = cookie.split(';').next().unwrap();
    let me = w.json_as("/api/session", Auth::Cookie(cookie)).await;
    assert_eq!(me["user"]["role"], "admin");
    // Used: refused, with the page a wrong token gets.
    let again = post(form(&token, "ketut", PASSWORD, PASSWORD)).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert_eq!(again.text(), wrong.text());
    assert_eq!(
        w.get(&format!("/setup?token={token}"), None).await.text(),
        wrong.text()
    );
    assert!(w.state.store.user("ketut").await.unwrap().is_none());
    let a = actions(&w);
    assert!(
        a.contains(&"user_add".to_owned()) && a.contains(&"setup_admin".to_owned()),
        "{a:?}"
    );
    // A new link does nothing once an admin exists.
    let token = w.state.setup.issue(server::setup::SETUP_TTL);
    assert_eq!(
        w.get(&format!("/setup?token={token}"), None).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn wrong_setup_tokens_are_throttled() {
    let w = World::new().await;
    let token = w.state.setup.issue(server::setup::SETUP_TTL);
    for _ in 0..server::setup::MAX_WRONG_TOKENS {
        assert_eq!(
            w.get("/setup?token=guess", None).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let r = w.get(&format!("/setup?token={token}"), None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("retry-after").is_some());
}
