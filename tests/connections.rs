//! What the real binary does with slow and idle clients and with SIGTERM
//! in the middle of a request: sockets are closed after their timeouts,
//! and a stop never waits longer than its grace, rolling back what was
//! being written.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Workspace;

/// Whether the server has closed `s`: reads end or fail within `within`
/// (a response such as a 408 may come first).
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// A workspace with one OPD staff member, and an API token of theirs.
fn staff_workspace() -> (Workspace, String) {
    let ws = Workspace::new();
    ws.add_user(
        "staf",
        "opd_staff",
        Some("Dinas PUPR"),
        "Kata-sandi-uji-2026",
    );
    let token = ws.create_token("staf", "uji");
    (ws, token)
}

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

#[test]
fn slow_and_idle_clients_are_disconnected() {
    let (ws, token) = staff_workspace();
    let s = ws.serve(&["--header-timeout-secs", "2", "--body-timeout-secs", "2"]);
    let at = addr(&s.base);
    // Idle sockets, sockets that never finish their headers, and one that
    // stops sending its body.
    let mut idle: Vec<TcpStream> = (0..150).map(|_| TcpStream::connect(&at).unwrap()).collect();
    let mut slow: Vec<TcpStream> = (0..150)
        .map(|_| {
            let mut c = TcpStream::connect(&at).unwrap();
            c.write_all(b"GET /api/layers HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            c
        })
        .collect();
    let mut body = TcpStream::connect(&at).unwrap();
    write!(
        body,
        "POST /api/layers?id=lambat&category=general HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/geo+json\r\nContent-Length: 100000\r\n\r\n{{\"type\":"
    )
    .unwrap();
    // While they hang, the server still answers.
    assert_eq!(s.get("/api/layers").status(), 200);
    // Past both timeouts (2 s) with room to spare, every one is closed:
    // each gets a short look, not a wait of its own.
    std::thread::sleep(Duration::from_secs(5));
    for (what, sockets) in [("idle", &mut idle), ("slow headers", &mut slow)] {
        let open = sockets
            .iter_mut()
            .map(|c| closed_within(c, Duration::from_millis(200)))
            .filter(|closed| !closed)
            .count();
        assert_eq!(open, 0, "{open} {what} sockets still open");
    }
    assert!(
        closed_within(&mut body, Duration::from_secs(2)),
        "a stalled body kept its connection"
    );
    assert_eq!(s.get("/api/layers").status(), 200);
    assert_eq!(
        ws.sql_i64("SELECT COUNT(*) FROM layers WHERE id = 'lambat'"),
        0
    );
}

#[test]
fn sigterm_stops_the_server_within_its_grace_even_mid_upload() {
    let (ws, token) = staff_workspace();
    let mut s = ws.serve(&["--shutdown-grace-secs", "2"]);
    let at = addr(&s.base);
    // An upload whose body keeps coming, slowly, for as long as the server
    // listens: a stop that waits for open requests would wait forever.
    let mut up = TcpStream::connect(&at).unwrap();
    write!(
        up,
        "POST /api/layers?id=setengah&category=general&filename=a.geojson HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/geo+json\r\nContent-Length: 100000000\r\n\r\n{{\"type\":\"FeatureCollection\",\"features\":["
    )
    .unwrap();
    let dripping = std::thread::spawn(move || {
        let feature = br#"{"type":"Feature","properties":{"nama":"Titik"},"geometry":{"type":"Point","coordinates":[115.17,-8.7]}},"#;
        while up.write_all(feature).is_ok() {
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    std::thread::sleep(Duration::from_secs(1));
    let stopped = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(code) = s.child.try_wait().unwrap() {
            break code;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM: {:?}",
            s.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit {exit:?}: {:?}", s.log.lock().unwrap());
    dripping.join().unwrap();
    // Nothing of the upload was written.
    assert_eq!(
        ws.sql_i64("SELECT COUNT(*) FROM layers WHERE id = 'setengah'"),
        0
    );
    let log = s.log.lock().unwrap().join("\n");
    assert!(log.contains("cancelling"), "{log}");
}

#[test]
fn an_upload_stops_when_its_client_goes_away() {
    let (ws, token) = staff_workspace();
    let s = ws.serve(&[]);
    // Enough points that reading them takes a while after the body is in.
    let mut rng = common::Rng(7);
    let features: Vec<String> = (0..300_000)
        .map(|i| {
            format!(
                r#"{{"type":"Feature","id":{i},"properties":{{"nama":"Titik {i}"}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}"#,
                rng.between(115.1, 115.25),
                rng.between(-8.8, -8.3)
            )
        })
        .collect();
    let body = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    let mut up = TcpStream::connect(addr(&s.base)).unwrap();
    write!(
        up,
        "POST /api/layers?id=ditinggal&category=general&filename=a.geojson HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/geo+json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    up.write_all(body.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    drop(up);
    s.eventually(20, |s| {
        s.log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("upload cancelled"))
    });
    // The writer is free at once, and nothing of the upload was kept.
    let r = s
        .request(reqwest::Method::POST, "/api/layers?id=kecil&category=general&filename=k.geojson")
        .bearer_auth(&token)
        .body(r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"nama":"a"},"geometry":{"type":"Point","coordinates":[115.17,-8.7]}}]}"#)
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        ws.sql_i64("SELECT COUNT(*) FROM layers WHERE id = 'ditinggal'"),
        0
    );
    assert_eq!(
        ws.sql_i64("SELECT COUNT(*) FROM layers WHERE id = 'kecil'"),
        1
    );
}
