//! The change feed (`GET /api/changes`): Server-Sent Events of what
//! changed, each with an id; only what the caller may see; resumed with
//! `Last-Event-ID` (or `after`) without a gap; a `reset` when the id is no
//! longer kept; filters; and problems for bad input. Replicas streaming the
//! same events is tested end to end in tests/replicas.rs.

use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::http::{Method, Request, StatusCode, header};
use futures_util::StreamExt;
use layers::model::access::Role;
use serde_json::{Value, json};

use crate::support::{Auth, World, points};

/// How long a test waits for an event it expects (the feed's poller looks
/// every half second).
const WAIT: Duration = Duration::from_secs(10);

/// One Server-Sent Event.
#[derive(Debug, Clone)]
struct Sse {
    id: Option<i64>,
    event: String,
    data: Value,
}

/// An open `GET /api/changes` stream, read event by event.
struct Feed {
    body: BodyDataStream,
    buf: String,
}

impl Feed {
    /// Opens the feed at `path` as `auth` (with `Last-Event-ID` when
    /// given), asserts it is an event stream and reads its `open` event.
    async fn open(w: &World, path: &str, auth: Auth<'_>, last_id: Option<&str>) -> (Feed, Sse) {
        let mut req = World::request(Method::GET, path, auth);
        if let Some(id) = last_id {
            req = req.header("last-event-id", id);
        }
        let res = w.open(req.body(Body::empty()).unwrap()).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/event-stream",
            "{path}"
        );
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        let mut feed = Feed {
            body: res.into_body().into_data_stream(),
            buf: String::new(),
        };
        let open = feed.next().await.expect("the stream opens with an event");
        assert_eq!(open.event, "open");
        assert_eq!(open.id, None, "the open event does not move Last-Event-ID");
        (feed, open)
    }

    /// The next event, or `None` when none came within [`WAIT`].
    async fn next(&mut self) -> Option<Sse> {
        self.next_within(WAIT).await
    }

    async fn next_within(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if let Some(e) = parse(&block) {
                    return Some(e);
                }
                continue; // a keep-alive comment
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??
                .unwrap();
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

/// An event block's fields; `None` for a block without `event:` (a comment).
fn parse(block: &str) -> Option<Sse> {
    let (mut id, mut event, mut data) = (None, None, String::new());
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = Some(v.trim().parse().unwrap());
        } else if let Some(v) = line.strip_prefix("event:") {
            event = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim());
        }
    }
    Some(Sse {
        id,
        event: event?,
        data: serde_json::from_str(&data).unwrap(),
    })
}

/// Uploads `names` as a draft of `layer` (a new one with `query`) as
/// `token`, and publishes it; returns the published version.
async fn publish(w: &World, layer: &str, query: &str, token: &str, names: &[&str]) -> i64 {
    let path = if query.is_empty() {
        format!("/api/layers/{layer}/versions?filename=a.geojson")
    } else {
        format!("/api/layers?id={layer}&{query}&filename=a.geojson")
    };
    let v = w.created(&path, token, points(names)).await;
    let version = v["version"].as_i64().unwrap();
    let r = w
        .post(
            &format!("/api/layers/{layer}/publish?version={version}"),
            Some(token),
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    version
}

/// The kind, layer and version of an event, for comparing sequences.
fn gist(e: &Sse) -> (String, Option<String>, Option<i64>) {
    (
        e.event.clone(),
        e.data["layer"].as_str().map(str::to_owned),
        e.data["version"].as_i64(),
    )
}

/// The gist of the next event of `f`, which must come.
async fn next(f: &mut Feed) -> (String, Option<String>, Option<i64>) {
    gist(&f.next().await.expect("an event"))
}

fn step(kind: &str, layer: &str, version: Option<i64>) -> (String, Option<String>, Option<i64>) {
    (kind.to_owned(), Some(layer.to_owned()), version)
}

#[tokio::test]
async fn a_follower_sees_each_change_once_with_growing_ids() {
    let w = World::new().await;
    let admin = w.user("admin", Role::Admin, None).await;
    let (mut feed, open) = Feed::open(&w, "/api/changes", Auth::Anonymous, None).await;
    let newest = open.data["newest"].as_i64().unwrap();

    publish(
        &w,
        "pura",
        "category=places-of-worship",
        &admin,
        &["Pura Dalem"],
    )
    .await;
    publish(&w, "pura", "", &admin, &["Pura Dalem", "Pura Puseh"]).await;
    let r = w
        .post("/api/layers/pura/rollback?to=1", Some(&admin), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = w
        .call(
            Method::DELETE,
            "/api/layers/pura",
            Some(&admin),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = w.post("/api/layers/pura/restore", Some(&admin), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(feed.next().await.expect("an event for each change"));
    }
    // The public sees what is served change, never the drafts before.
    assert_eq!(
        seen.iter().map(gist).collect::<Vec<_>>(),
        vec![
            step("publish", "pura", Some(1)),
            step("publish", "pura", Some(2)),
            step("rollback", "pura", Some(1)),
            step("delete", "pura", None),
            step("restore", "pura", None),
        ]
    );
    let ids: Vec<i64> = seen.iter().map(|e| e.id.unwrap()).collect();
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "{ids:?}");
    assert!(ids[0] > newest);
    for e in &seen {
        assert_eq!(e.data["id"], json!(e.id.unwrap()));
        assert_eq!(e.data["kind"], json!(e.event));
        assert!(e.data["at"].as_str().unwrap().ends_with('Z'));
    }
    insta::assert_json_snapshot!(
        "change_event_publish",
        seen[0].data,
        { ".id" => "[id]", ".at" => "[time]" }
    );
    assert!(
        feed.next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "nothing more happened"
    );
}

#[tokio::test]
async fn each_caller_sees_only_the_changes_of_what_they_may_see() {
    let w = World::new().await;
    let admin = w.user("admin", Role::Admin, None).await;
    let leader = w.user("bupati", Role::Leader, None).await;
    let pupr = w.user("ayu", Role::OpdStaff, Some("dinas-pupr")).await;
    let dinkes = w
        .user("made", Role::OpdStaff, Some("dinas-kesehatan"))
        .await;
    let (mut public, _) = Feed::open(&w, "/api/changes", Auth::Anonymous, None).await;
    let (mut lead, _) = Feed::open(&w, "/api/changes", Auth::Bearer(&leader), None).await;
    let (mut own, _) = Feed::open(&w, "/api/changes", Auth::Bearer(&pupr), None).await;
    let (mut other, _) = Feed::open(&w, "/api/changes", Auth::Bearer(&dinkes), None).await;

    // An internal layer of Dinas PUPR: a draft, then its publish; then a
    // public layer's publish, which everybody sees.
    let draft = w
        .created(
            "/api/layers?id=saluran&category=infrastructure&visibility=internal&filename=a.geojson",
            &pupr,
            points(&["Saluran Satu"]),
        )
        .await;
    assert_eq!(draft["version"], 1);
    let r = w
        .post("/api/layers/saluran/publish?version=1", Some(&pupr), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    publish(&w, "pasar", "category=economy", &admin, &["Pasar Badung"]).await;

    // The agency's staff: its draft, its publish, the public layer.
    assert_eq!(next(&mut own).await, step("draft", "saluran", Some(1)));
    assert_eq!(next(&mut own).await, step("publish", "saluran", Some(1)));
    assert_eq!(next(&mut own).await, step("publish", "pasar", Some(1)));
    // Leaders see internal layers but not drafts.
    assert_eq!(next(&mut lead).await, step("publish", "saluran", Some(1)));
    assert_eq!(next(&mut lead).await, step("publish", "pasar", Some(1)));
    // The public and another agency see only the public layer (the admin's
    // upload of `pasar` was a draft first: not theirs either).
    assert_eq!(next(&mut public).await, step("publish", "pasar", Some(1)));
    assert_eq!(next(&mut other).await, step("publish", "pasar", Some(1)));

    // A layer made internal by its publish still tells the public it
    // changed (so a screen showing it drops it), and nothing after.
    let r = w
        .call(
            Method::POST,
            "/api/layers/pasar/versions?filename=b.geojson&visibility=internal",
            Some(&admin),
            points(&["Pasar Badung"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = w
        .post("/api/layers/pasar/publish?version=2", Some(&admin), "")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(next(&mut public).await, step("publish", "pasar", Some(2)));
    let gone = w.get("/api/layers/pasar", None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn report_changes_reach_the_agency_and_never_carry_the_citizen() {
    let w = World::new().await;
    let pupr = w.user("ayu", Role::OpdStaff, Some("dinas-pupr")).await;
    let bpbd = w.user("gede", Role::OpdStaff, Some("bpbd")).await;
    let (mut own, _) = Feed::open(&w, "/api/changes", Auth::Bearer(&pupr), None).await;
    let (mut other, _) = Feed::open(
        &w,
        "/api/changes?kinds=report_new,report_status",
        Auth::Bearer(&bpbd),
        None,
    )
    .await;
    let (mut public, _) = Feed::open(&w, "/api/changes", Auth::Anonymous, None).await;

    let contact = "+62 812 7777 4242";
    let r = w
        .send(
            Request::post("/api/reports")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"type": "jalan-rusak", "lon": 115.1686, "lat": -8.7184,
                           "description": "Lubang besar di Jalan Legian dekat pasar",
                           "name": "Ni Luh Sekar", "contact": contact})
                    .to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sent = own.next().await.expect("the agency hears of the report");
    assert_eq!(sent.event, "report_new");
    let id = sent.data["report"].as_i64().unwrap();
    assert_eq!(sent.data["status"], "baru");
    assert_eq!(sent.data["agency"], "dinas-pupr");
    let mut keys: Vec<&String> = sent.data.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["agency", "at", "id", "kind", "report", "status"]);

    // Verified: the agency hears the status; the report is now on the
    // public layer, which everybody hears of (the layer, not the report).
    let r = w
        .call(
            Method::POST,
            &format!("/api/reports/{id}/status"),
            Some(&pupr),
            Body::from(json!({"status": "diverifikasi", "note": "Sudah dicek"}).to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let moved = own.next().await.unwrap();
    assert_eq!(
        (moved.event.as_str(), &moved.data["status"]),
        ("report_status", &json!("diverifikasi"))
    );
    assert_eq!(
        gist(&own.next().await.unwrap()),
        step("publish", "laporan-warga", Some(1))
    );
    let first = public.next().await.unwrap();
    assert_eq!(gist(&first), step("publish", "laporan-warga", Some(1)));
    // Routed to BPBD: now theirs (their filter keeps report kinds only, so
    // the route event is not among them but the next status is).
    let r = w
        .call(
            Method::POST,
            &format!("/api/reports/{id}/agency"),
            Some(&pupr),
            Body::from(json!({"agency": "bpbd"}).to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let routed = own.next().await.unwrap();
    assert_eq!(
        (routed.event.as_str(), &routed.data["agency"]),
        ("report_route", &json!("bpbd"))
    );
    assert_eq!(routed.data["from_agency"], "dinas-pupr");
    let r = w
        .call(
            Method::POST,
            &format!("/api/reports/{id}/status"),
            Some(&bpbd),
            Body::from(json!({"status": "ditangani"}).to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let theirs = other.next().await.unwrap();
    assert_eq!(
        (theirs.event.as_str(), &theirs.data["status"]),
        ("report_status", &json!("ditangani"))
    );
    assert_eq!(theirs.data["report"], json!(id));

    // Nothing the citizen wrote, in any stream, in the table behind them.
    for e in [&sent, &moved, &routed, &theirs, &first] {
        let text = e.data.to_string();
        assert!(
            !text.contains(contact) && !text.contains("Sekar") && !text.contains("Legian"),
            "{text}"
        );
    }
    let code_like =
        w.sql_strings("SELECT COALESCE(status, '') || COALESCE(agency_id, '') FROM change_events");
    assert!(code_like.iter().all(|s| !s.contains("Sekar")));
}

#[tokio::test]
async fn a_follower_resumes_after_the_last_id_it_saw() {
    let w = World::new().await;
    let admin = w.user("admin", Role::Admin, None).await;
    publish(
        &w,
        "pura",
        "category=places-of-worship",
        &admin,
        &["Pura Dalem"],
    )
    .await;
    let (_, open) = Feed::open(&w, "/api/changes", Auth::Anonymous, None).await;
    let mark = open.data["newest"].as_i64().unwrap();
    publish(&w, "pura", "", &admin, &["Pura Dalem", "Pura Puseh"]).await;
    publish(&w, "pasar", "category=economy", &admin, &["Pasar Badung"]).await;

    // Away while two layers were published: both come back, in order,
    // by the header and by the parameter alike.
    let want = vec![
        step("publish", "pura", Some(2)),
        step("publish", "pasar", Some(1)),
    ];
    let (mut by_header, _) =
        Feed::open(&w, "/api/changes", Auth::Anonymous, Some(&mark.to_string())).await;
    let (mut by_param, _) = Feed::open(
        &w,
        &format!("/api/changes?after={mark}"),
        Auth::Anonymous,
        None,
    )
    .await;
    for f in [&mut by_header, &mut by_param] {
        let got = vec![
            gist(&f.next().await.unwrap()),
            gist(&f.next().await.unwrap()),
        ];
        assert_eq!(got, want);
    }
    // Filters: one layer, one kind.
    let (mut pasar, _) = Feed::open(
        &w,
        &format!("/api/changes?after={mark}&layer=pasar"),
        Auth::Anonymous,
        None,
    )
    .await;
    assert_eq!(
        gist(&pasar.next().await.unwrap()),
        step("publish", "pasar", Some(1))
    );
    // And live events continue after the replay.
    let r = w
        .post("/api/layers/pura/rollback?to=1", Some(&admin), "")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        gist(&by_header.next().await.unwrap()),
        step("rollback", "pura", Some(1))
    );

    // An id this database never gave (a restored backup, another site) and
    // one older than the kept window: a reset, then live events.
    let (mut unknown, _) = Feed::open(&w, "/api/changes", Auth::Anonymous, Some("999999")).await;
    let reset = unknown.next().await.unwrap();
    assert_eq!(reset.event, "reset");
    assert!(
        reset.data["detail"]
            .as_str()
            .unwrap()
            .contains("muat ulang")
    );
    let removed = w.state.store.prune_changes(Duration::ZERO).await.unwrap();
    assert!(removed >= 4, "{removed}");
    let (mut old, _) = Feed::open(&w, "/api/changes?after=1", Auth::Anonymous, None).await;
    assert_eq!(old.next().await.unwrap().event, "reset");
    // Resuming from the newest id removed is still exact: nothing missed.
    let newest = w.state.store.change_bounds().await.unwrap();
    assert_eq!(newest.pruned_through, newest.newest);
    let (mut exact, _) = Feed::open(
        &w,
        &format!("/api/changes?after={}", newest.newest),
        Auth::Anonymous,
        None,
    )
    .await;
    publish(&w, "pasar", "", &admin, &["Pasar Kuta"]).await;
    let e = exact.next().await.unwrap();
    assert_eq!(gist(&e), step("publish", "pasar", Some(2)));
    assert_eq!(
        e.id,
        Some(newest.newest + 2),
        "the draft's id is skipped, not reused"
    );
}

#[tokio::test]
async fn bad_feed_requests_are_problems() {
    let w = World::new().await;
    for (path, last, needle) in [
        ("/api/changes?after=-1", None, "after must be an event id"),
        ("/api/changes?after=satu", None, "after must be an event id"),
        ("/api/changes", Some("abc"), "Last-Event-ID must be"),
        (
            "/api/changes?kinds=publish,terbit",
            None,
            "Unknown change kind \"terbit\"",
        ),
        ("/api/changes?kecamatan=kuta", None, "kecamatan"),
    ] {
        let mut req = World::request(Method::GET, path, Auth::Anonymous);
        if let Some(id) = last {
            req = req.header("last-event-id", id);
        }
        let r = w.send(req.body(Body::empty()).unwrap()).await;
        let p = r.problem(400);
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{path}: {detail}");
    }
}
