//! End-to-end tests of accounts from the command line (users, tokens, the
//! second factor, the audit log, backup and restore) against the real
//! `bsc` binary. Logins, sessions, bearer tokens, the throttle and the
//! same-origin rule are tested in-process in server/tests/routes/sessions.rs.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{Auth, Server, Workspace};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "kata-sandi-rahasia";

/// Runs one SQL query returning strings against the workspace's database.
fn db_strings(ws: &Workspace, sql: &str) -> Vec<String> {
    use sqlx::Row;
    ws.sql(sql).iter().map(|r| r.try_get(0).unwrap()).collect()
}

fn session(s: &Server, auth: Auth<'_>) -> Value {
    s.json_as("/api/session", auth)["user"].clone()
}

fn layer_ids(v: &Value) -> Vec<String> {
    let list = v.as_array().or_else(|| v["layers"].as_array()).unwrap();
    list.iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn user_add_reads_the_password_from_stdin_and_stores_argon2id() {
    let ws = Workspace::new();
    // A password on the command line is a usage error, and creates nothing.
    let out = ws.bsc(
        &["user", "add", "ayu", "--role", "admin", "secret-password-1"],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // Too short.
    let out = ws.bsc(&["user", "add", "ayu", "--role", "admin"], "short\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("at least 10"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // No password at all.
    assert!(
        !ws.bsc(&["user", "add", "ayu", "--role", "admin"], "")
            .status
            .success()
    );
    // opd_staff needs an agency, and an unknown one is named with the known ones.
    let out = ws.bsc(
        &["user", "add", "made", "--role", "opd_staff"],
        "sandi-baru-rahasia\n",
    );
    assert!(!out.status.success());
    ws.add_user("wayan", "opd_staff", Some("Dinas PUPR"), "sandi-dinas-pupr");
    let out = ws.bsc(
        &[
            "user",
            "add",
            "made",
            "--role",
            "opd_staff",
            "--agency",
            "Dinas Nowhere",
        ],
        "sandi-baru-rahasia\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("unknown agency") && err.contains("dinas-pupr"),
        "{err}"
    );

    ws.add_user("ayu", "admin", None, PASSWORD);
    // Names are unique regardless of case.
    let out = ws.bsc(
        &["user", "add", "AYU", "--role", "leader"],
        "password-other\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists"));

    let hashes = db_strings(&ws, "SELECT password_hash FROM users WHERE name = 'ayu'");
    let hash = &hashes[0];
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    let params = hash.split('$').nth(3).unwrap();
    let get = |k: &str| -> u32 {
        params
            .split(',')
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        get("m") >= 19_456 && get("t") >= 2 && get("p") >= 1,
        "{params}"
    );

    let users: Value = serde_json::from_str(&ws.bsc_ok(&["user", "list", "--json"], "")).unwrap();
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["name"], "ayu");
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users[1]["agency"], "dinas-pupr");
    let table = ws.bsc_ok(&["user", "list"], "");
    assert!(
        table.starts_with("NAME") && table.contains("wayan"),
        "{table}"
    );
}

#[test]
fn a_disabled_user_cannot_log_in_and_their_sessions_and_tokens_end() {
    let ws = Workspace::new();
    ws.add_user("ayu", "leader", None, PASSWORD);
    let token = ws.create_token("ayu", "qgis");
    let s = ws.serve(&[]);
    let cookie = s.login("ayu", PASSWORD);
    assert_eq!(session(&s, Auth::Cookie(&cookie))["name"], "ayu");
    assert_eq!(session(&s, Auth::Bearer(&token))["name"], "ayu");

    ws.bsc_ok(&["user", "disable", "ayu"], "");
    assert_eq!(session(&s, Auth::Cookie(&cookie)), Value::Null);
    Server::expect_problem(
        s.authed(Method::GET, "/api/session", Auth::Bearer(&token)),
        401,
    );
    Server::expect_problem(
        s.request(Method::POST, "/api/session")
            .json(&json!({"name": "ayu", "password": PASSWORD})),
        401,
    );
    let users: Value = serde_json::from_str(&ws.bsc_ok(&["user", "list", "--json"], "")).unwrap();
    assert_eq!(users[0]["disabled"], true);
    assert!(!ws.bsc(&["user", "disable", "nobody"], "").status.success());
}

#[test]
fn passwd_changes_the_password_and_ends_sessions() {
    let ws = Workspace::new();
    ws.add_user("ayu", "admin", None, PASSWORD);
    let s = ws.serve(&[]);
    let cookie = s.login("ayu", PASSWORD);
    ws.bsc_ok(&["user", "passwd", "ayu"], "another-password\n");
    assert_eq!(session(&s, Auth::Cookie(&cookie)), Value::Null);
    s.login("ayu", "another-password");
    Server::expect_problem(
        s.request(Method::POST, "/api/session")
            .json(&json!({"name": "ayu", "password": PASSWORD})),
        401,
    );
}

#[test]
fn api_tokens_are_listed_and_revoked_from_the_command_line() {
    // How tokens work as bearer is tested in-process (server/tests/routes/sessions.rs).
    let ws = Workspace::new();
    ws.add_user("wayan", "opd_staff", Some("Dinas Kesehatan"), PASSWORD);
    let token = ws.create_token("wayan", "qgis-laptop");
    let s = ws.serve(&[]);
    assert_eq!(session(&s, Auth::Bearer(&token))["name"], "wayan");

    let list: Value =
        serde_json::from_str(&ws.bsc_ok(&["token", "list", "wayan", "--json"], "")).unwrap();
    let id = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["name"], "qgis-laptop");
    assert!(list[0]["revoked_at"].is_null());
    assert!(!list.to_string().contains(&token[4..]));
    ws.bsc_ok(&["token", "revoke", &id.to_string()], "");
    Server::expect_problem(
        s.authed(Method::GET, "/api/session", Auth::Bearer(&token)),
        401,
    );
    let list: Value = serde_json::from_str(&ws.bsc_ok(&["token", "list", "--json"], "")).unwrap();
    assert!(list[0]["revoked_at"].is_string());
    assert!(!ws.bsc(&["token", "revoke", "999"], "").status.success());
    assert!(!ws.bsc(&["token", "create", "nobody"], "").status.success());
}

#[test]
fn audit_log_records_account_events_for_admins_and_leaders() {
    let ws = Workspace::new();
    ws.add_user("ayu", "admin", None, PASSWORD);
    ws.add_user("made", "leader", None, PASSWORD);
    ws.add_user("wayan", "opd_staff", Some("Dinas Sosial"), PASSWORD);
    let token = ws.create_token("wayan", "script");
    let list: Value = serde_json::from_str(&ws.bsc_ok(&["token", "list", "--json"], "")).unwrap();
    ws.bsc_ok(&["token", "revoke", &list[0]["id"].to_string()], "");
    let s = ws.serve(&[]);

    let failed = s
        .request(Method::POST, "/api/session")
        .json(&json!({"name": "ayu", "password": "wrong-password"}))
        .send()
        .unwrap();
    assert_eq!(failed.status(), 401);
    let admin = s.login("ayu", PASSWORD);
    let staff = s.login("wayan", PASSWORD);
    let leader = s.login("made", PASSWORD);
    let r = s
        .authed(Method::DELETE, "/api/session", Auth::Cookie(&staff))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);

    // Who may read it.
    Server::expect_problem(s.request(Method::GET, "/api/audit"), 401);
    let staff = s.login("wayan", PASSWORD);
    Server::expect_problem(
        s.authed(Method::GET, "/api/audit", Auth::Cookie(&staff)),
        403,
    );
    Server::expect_problem(
        s.authed(Method::GET, "/api/audit", Auth::Bearer(&token)),
        401,
    );
    let log = s.json_as("/api/audit?limit=1000", Auth::Cookie(&leader));
    let entries = log["entries"].as_array().unwrap();
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");

    let find = |action: &str, actor: Option<&str>| {
        entries
            .iter()
            .find(|e| e["action"] == action && actor.is_none_or(|a| e["actor"] == a))
            .unwrap_or_else(|| panic!("no {action} by {actor:?} in {log}"))
            .clone()
    };
    assert_eq!(find("user_add", None)["actor"], "cli");
    for name in ["ayu", "made", "wayan"] {
        assert!(
            entries
                .iter()
                .any(|e| e["action"] == "user_add" && e["detail"]["user"] == name)
        );
    }
    assert_eq!(find("token_create", Some("cli"))["detail"]["user"], "wayan");
    find("token_revoke", Some("cli"));
    let login = find("login", Some("ayu"));
    assert_eq!(login["client"], "127.0.0.1");
    assert!(login["at"].as_str().unwrap().ends_with('Z'));
    let logout = find("logout", Some("wayan"));
    assert_eq!(logout["client"], "127.0.0.1");
    let fail = find("login_failed", None);
    assert!(fail["actor"].is_null());
    assert_eq!(fail["client"], "127.0.0.1");
    assert_eq!(fail["detail"]["user"], "ayu");
    assert!(!fail.to_string().contains("wrong-password"));

    // Filters and paging.
    let logins = s.json_as("/api/audit?action=login", Auth::Cookie(&admin));
    let logins = logins["entries"].as_array().unwrap();
    assert_eq!(logins.len(), 4);
    assert!(logins.iter().all(|e| e["action"] == "login"));
    let page = s.json_as("/api/audit?limit=2", Auth::Cookie(&admin));
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().unwrap();
    let older = s.json_as(next, Auth::Cookie(&admin));
    assert!(older["entries"][0]["id"].as_i64() < page["entries"][1]["id"].as_i64());
    Server::expect_problem(
        s.authed(Method::GET, "/api/audit?limit=0", Auth::Cookie(&admin)),
        400,
    );
    Server::expect_problem(
        s.authed(Method::GET, "/api/audit?before=x", Auth::Cookie(&admin)),
        400,
    );

    // The same log from the command line.
    let cli: Value =
        serde_json::from_str(&ws.bsc_ok(&["audit", "--limit", "5", "--json"], "")).unwrap();
    assert_eq!(cli.as_array().unwrap().len(), 5);
    let table = ws.bsc_ok(&["audit"], "");
    assert!(
        table.starts_with("ID") && table.contains("login_failed"),
        "{table}"
    );
}

#[test]
fn backup_while_serving_and_restore_checked_files() {
    let ws = Workspace::new();
    if !ws.is_sqlite() {
        // PostgreSQL is backed up with its own tools; bsc says so.
        for cmd in ["backup", "restore"] {
            let out = ws.bsc(&[cmd, "x.db"], "");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success() && err.contains("pg_dump"), "{err}");
        }
        return;
    }
    ws.add_user("ayu", "admin", None, PASSWORD);
    let s = ws.serve(&["--demo", "--demo-features", "500"]);
    s.login("ayu", PASSWORD);
    let users_then = ws.bsc_ok(&["user", "list", "--json"], "");
    let layers_then = db_strings(&ws, "SELECT id FROM layers ORDER BY id");
    assert!(layers_then.len() > 10);

    let backup = ws.path("backup.db");
    let out = ws.bsc_ok(&["backup", backup.to_str().unwrap()], "");
    assert!(out.contains("backed up"), "{out}");
    assert!(backup.exists());
    // Never overwrites.
    let out = ws.bsc(&["backup", backup.to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists"));
    // Restoring under a running server is refused.
    let out = ws.bsc(&["restore", backup.to_str().unwrap()], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use"), "{err}");
    drop(s);

    // Changes after the backup...
    ws.add_user("later", "leader", None, PASSWORD);
    let users_now = ws.bsc_ok(&["user", "list", "--json"], "");
    assert_ne!(users_now, users_then);

    // ...survive refused restores of damaged or foreign files.
    let bytes = std::fs::read(&backup).unwrap();
    let truncated = ws.path("truncated.db");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let mut rng = common::Rng(99);
    let random = ws.path("random.db");
    std::fs::write(
        &random,
        (0..100_000).map(|_| rng.next() as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    let foreign = ws.path("foreign.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}?mode=rwc", foreign.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    for bad in [&truncated, &random, &foreign, &ws.path("missing.db")] {
        let out = ws.bsc(&["restore", bad.to_str().unwrap()], "");
        assert!(!out.status.success(), "{bad:?} was restored");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("error: ") && err.trim().lines().count() == 1,
            "{err}"
        );
        assert_eq!(ws.bsc_ok(&["user", "list", "--json"], ""), users_now);
    }

    let out = ws.bsc_ok(&["restore", backup.to_str().unwrap()], "");
    assert!(out.contains("restored"), "{out}");
    assert_eq!(ws.bsc_ok(&["user", "list", "--json"], ""), users_then);
    assert_eq!(
        db_strings(&ws, "SELECT id FROM layers ORDER BY id"),
        layers_then
    );
    let audit: Value = serde_json::from_str(&ws.bsc_ok(&["audit", "--json"], "")).unwrap();
    assert_eq!(audit[0]["action"], "restore");

    // The restored database serves, and its users can log in.
    let s = ws.serve(&[]);
    s.login("ayu", PASSWORD);
    assert!(!layer_ids(&s.json("/api/layers")).is_empty());
}

/// Item 10: the password policy on every path that sets a password, with
/// the reason in the message.
#[test]
fn weak_passwords_are_refused_with_the_reason() {
    let ws = Workspace::new();
    for (password, reason) in [
        ("password123", "most common"),
        ("Bismillah2024!", "most common"),
        ("qwerty123456", "most common"),
        ("badung12345", "most common"),
        ("aaaaaaaaaaaa", "repeats one character"),
        ("            ", "only spaces"),
        ("0123456789", "straight run"),
        ("1234567890", "most common"),
        ("ketut-ketut-2024", "contains the user name"),
        ("KETUT is my name", "contains the user name"),
    ] {
        let out = ws.bsc(
            &["user", "add", "ketut", "--role", "leader"],
            &format!("{password}\n"),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{password:?} was accepted");
        assert!(
            err.starts_with("error: ") && err.contains(reason) && err.contains("kata sandi"),
            "{password:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert_eq!(ws.sql_i64("SELECT count(*) FROM users"), 0);
    ws.add_user("ketut", "leader", None, PASSWORD);
    // `passwd` applies the same policy.
    let out = ws.bsc(&["user", "passwd", "ketut"], "indonesia1945\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("most common"),
        "{err}"
    );
    let s = ws.serve(&[]);
    s.login("ketut", PASSWORD);
}

/// Item 11: an over-long login name is refused like any wrong login, and
/// leaves nothing in the throttling table; distinct names and addresses
/// cannot grow it past its keys' bounded length.
#[test]
fn an_over_long_login_name_is_refused_when_the_user_is_created() {
    let ws = Workspace::new();
    ws.add_user("ayu", "admin", None, PASSWORD);
    // Longer than the limit: refused when the user is created.
    let long = "a".repeat(65);
    let out = ws.bsc(
        &["user", "add", &long, "--role", "leader"],
        &format!("{PASSWORD}\n"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("at most 64"), "{err}");
    assert!(!err.contains(&long), "{err}");
    // At login it is a plain 401 that leaves no trace: tested in-process
    // (server/tests/routes/sessions.rs).
}

/// The secret of an `otpauth://` URL.
fn otpauth_secret(url: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("secret="))
        .unwrap()
        .to_owned()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Item 10: the optional second factor, enrolled from the command line,
/// checked at login (a missing, wrong or reused code is the same 401 as a
/// wrong password), and required of admins and leaders by `--require-totp`.
#[test]
fn a_second_factor_is_enrolled_checked_and_required_by_the_flag() {
    let ws = Workspace::new();
    ws.add_user("ayu", "admin", None, PASSWORD);
    ws.add_user("made", "leader", None, PASSWORD);
    ws.add_user("wayan", "opd_staff", Some("Dinas Sosial"), PASSWORD);
    let token = ws.create_token("made", "qgis");

    let out = ws.bsc(&["user", "totp", "ayu"], "");
    assert!(out.status.success(), "{out:?}");
    let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        url.starts_with("otpauth://totp/BSC%20Badung:ayu?secret="),
        "{url}"
    );
    let secret = otpauth_secret(&url);
    assert_eq!(secret.len(), 32);
    let help = String::from_utf8_lossy(&out.stderr);
    assert!(help.contains("authenticator"), "{help}");
    // Stored, listed as enrolled, never in the audit log.
    assert_eq!(
        db_strings(&ws, "SELECT totp_secret FROM users WHERE name = 'ayu'"),
        std::slice::from_ref(&secret)
    );
    let users: Value = serde_json::from_str(&ws.bsc_ok(&["user", "list", "--json"], "")).unwrap();
    assert_eq!(users[0]["totp"], true);
    assert_eq!(users[1]["totp"], false);
    assert!(!users.to_string().contains(&secret));
    assert!(!ws.bsc(&["user", "totp", "nobody"], "").status.success());

    let s = ws.serve(&["--require-totp"]);
    let code = layers::totp::code(&secret, now_secs()).unwrap();
    let attempt = |name: &str, password: &str, otp: Option<&str>| {
        let mut body = json!({"name": name, "password": password});
        if let Some(otp) = otp {
            body["otp"] = json!(otp);
        }
        s.request(Method::POST, "/api/session").json(&body)
    };
    let wrong_password = Server::expect_problem(attempt("ayu", "not-the-password", None), 401);
    let other = if code == "000000" { "111111" } else { "000000" };
    // No code, an empty one or a wrong one: the same 401 as a wrong password.
    for otp in [None, Some(""), Some(other)] {
        assert_eq!(
            Server::expect_problem(attempt("ayu", PASSWORD, otp), 401),
            wrong_password,
            "{otp:?}"
        );
    }
    assert_eq!(
        ws.sql_i64("SELECT count(*) FROM login_attempts WHERE key = 'user:ayu'"),
        4
    );
    let r = attempt("ayu", PASSWORD, Some(&code)).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        ws.sql_i64("SELECT count(*) FROM login_attempts WHERE key = 'user:ayu'"),
        0
    );
    // The same code a second time is refused; so is a right code with a
    // wrong password, and something that is no code at all. Each counts.
    let next = layers::totp::code(&secret, now_secs() + 30).unwrap();
    for (password, otp) in [
        (PASSWORD, code.as_str()),
        ("not-the-password", next.as_str()),
        (PASSWORD, "not a code"),
    ] {
        assert_eq!(
            Server::expect_problem(attempt("ayu", password, Some(otp)), 401),
            wrong_password,
            "{otp:?}"
        );
    }
    assert_eq!(
        ws.sql_i64("SELECT count(*) FROM login_attempts WHERE key = 'user:ayu'"),
        3
    );
    // A form login takes the code too (the next step's, as a phone a bit ahead).
    let r = s
        .request(Method::POST, "/api/session")
        .form(&[("name", "ayu"), ("password", PASSWORD), ("otp", &next)])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // A leader without a second factor: told to enrol, only once the password is right.
    assert_eq!(
        Server::expect_problem(attempt("made", "not-the-password", None), 401),
        wrong_password
    );
    let r = attempt("made", PASSWORD, None).send().unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = r.json().unwrap();
    assert_eq!(v["type"], "urn:bsc:problem:second-factor-required");
    assert!(
        v["detail"].as_str().unwrap().contains("bsc user totp made"),
        "{v}"
    );
    // API tokens are not concerned; neither is staff.
    assert_eq!(session(&s, Auth::Bearer(&token))["name"], "made");
    s.login("wayan", PASSWORD);
    drop(s);

    // Without the flag the leader logs in with the password alone; after
    // `--disable` so does the admin.
    let s = ws.serve(&[]);
    s.login("made", PASSWORD);
    ws.bsc_ok(&["user", "totp", "ayu", "--disable"], "");
    assert_eq!(
        ws.sql_i64("SELECT count(*) FROM users WHERE totp_secret IS NOT NULL"),
        0
    );
    s.login("ayu", PASSWORD);
    let audit = ws.bsc_ok(&["audit", "--limit", "1000", "--json"], "");
    assert!(audit.contains("user_totp_enable") && audit.contains("user_totp_disable"));
    assert!(!audit.contains(&secret) && !audit.contains(&code));
}

/// The setup link a server printed (in its log and on standard error).
fn setup_link(s: &Server) -> Option<String> {
    let log = s.log.lock().unwrap();
    log.iter().find_map(|line| {
        let at = line.find("/setup?token=")?;
        let start = line[..at].rfind(|c: char| c.is_whitespace() || c == '=' || c == '"')? + 1;
        let end = at + "/setup?token=".len() + 32;
        Some(line.get(start..end)?.to_owned())
    })
}

#[test]
fn the_first_run_prints_a_setup_link_that_makes_the_first_admin_once() {
    let ws = Workspace::new();
    let s = ws.serve(&[]);
    let link =
        setup_link(&s).unwrap_or_else(|| panic!("no setup link in {:?}", s.log.lock().unwrap()));
    assert!(
        link.starts_with(&format!("{}/setup?token=", s.base)),
        "{link}"
    );
    let token = link.rsplit('=').next().unwrap().to_owned();
    assert_eq!(token.len(), 32);
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(&link).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("setup-form"));
    let submit = |name: &str| {
        client
            .post(s.url("/setup"))
            .header("origin", &s.base)
            .form(&[
                ("token", token.as_str()),
                ("name", name),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ])
            .send()
            .unwrap()
    };
    let r = submit("ayu");
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(session(&s, Auth::Cookie(&cookie))["role"], "admin");
    // The token then stops working, and the admin is in the audit log.
    assert_eq!(submit("ketut").status(), 403);
    assert_eq!(client.get(&link).send().unwrap().status(), 403);
    let users = ws.bsc_ok(&["user", "list", "--json"], "");
    assert!(
        users.contains("\"ayu\"") && !users.contains("ketut"),
        "{users}"
    );
    let audit = ws.bsc_ok(&["audit", "--json"], "");
    assert!(audit.contains("setup_admin"), "{audit}");
    drop(s);
    // With an admin, no link; with --public-url, the link names it.
    let s = ws.serve(&[]);
    assert_eq!(setup_link(&s), None);
    drop(s);
    let other = Workspace::new();
    let s = other.serve(&["--public-url", "https://peta.example.go.id"]);
    let link = setup_link(&s).unwrap();
    assert!(
        link.starts_with("https://peta.example.go.id/setup?token="),
        "{link}"
    );
}

#[test]
fn demo_mode_prints_demo_accounts_and_shows_them_to_the_sign_in_page() {
    let ws = Workspace::new();
    let s = ws.serve(&["--demo", "--demo-features", "300"]);
    let accounts = s.json("/api/demo-accounts")["accounts"].clone();
    let list = accounts.as_array().unwrap();
    let roles: Vec<&str> = list.iter().map(|a| a["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["admin", "leader", "opd_staff"]);
    assert_eq!(list[2]["agency"], "dinas-kesehatan");
    let log = s.log.lock().unwrap().join("\n");
    for a in list {
        let (name, password) = (a["name"].as_str().unwrap(), a["password"].as_str().unwrap());
        assert!(log.contains(password), "{name}'s password printed");
        let cookie = s.login(name, password);
        assert_eq!(session(&s, Auth::Cookie(&cookie))["name"], name);
    }
    assert!(log.contains("never run --demo in production"), "{log}");
    // An admin exists: no setup link.
    assert_eq!(setup_link(&s), None);
    let old = list[0]["password"].as_str().unwrap().to_owned();
    drop(s);
    // A restart with --demo gives new passwords; without it, none are shown.
    let s = ws.serve(&["--demo"]);
    let again = s.json("/api/demo-accounts")["accounts"].clone();
    assert_eq!(again.as_array().unwrap().len(), 3);
    assert_ne!(again[0]["password"].as_str().unwrap(), old);
    drop(s);
    let s = ws.serve(&[]);
    Server::expect_problem(
        s.authed(Method::GET, "/api/demo-accounts", Auth::Anonymous),
        404,
    );
}
