//! End-to-end tests of the web map (`web/`, served at `/`) in a real
//! browser: Debian's headless Chromium driven by playwright-core from
//! `tests/browser/` (`npm ci --prefix tests/browser`).
//!
//! This test starts the real `bsc` with the demo data set twice over one
//! database (once with `--basemap-url none`, once with the default basemap),
//! creates a leader and two OPD staff accounts (one of Dinas PUPR, where
//! damaged roads are reported to), publishes a layer whose
//! properties hold script payloads, one too dense to load whole and one
//! whose style the staff edit, starts a third `bsc` over an empty database
//! for its first-run setup link, and runs `tests/browser/viewer.spec.mjs`,
//! which prints one line per check and closes with `N passed, N failed`.
//!
//! Without Chromium, Node.js or `tests/browser/node_modules` it prints a
//! `SKIPPED` line and passes, unless `BSC_BROWSER_TESTS=required` (as in
//! `.ci/run`). Screenshots and `metrics.json` go to
//! `target/tmp/browser/`, or to the folder named by `BSC_BROWSER_OUT`
//! (`BSC_BROWSER_OUT=docs/screenshots` refreshes the README's pictures).
//! `BSC_BROWSER_ONLY=REGEX` runs only the checks whose names match.
#![allow(clippy::unwrap_used)] // test: a failed unwrap is a failed test

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Auth, Server, Workspace};
use reqwest::Method;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::json;

const LEADER: (&str, &str) = ("bupati", "leader-pass-4821");
const STAFF: (&str, &str) = ("ayu", "staff-pass-7315");
const STAFF_AGENCY: &str = "Dinas Lingkungan Hidup";
/// Staff of the agency damaged roads are reported to (migration 0006).
const PUPR: (&str, &str) = ("wayan", "pupr-pass-5092");
const PUPR_AGENCY: &str = "dinas-pupr";
/// The layer whose texts are script payloads.
const XSS_LAYER: &str = "uji-xss";
/// The layer with more features than the viewer loads at once.
const DENSE_LAYER: &str = "uji-padat";
/// Its size: above the viewer's `TILED_FROM` (5,000).
const DENSE_FEATURES: usize = 6_000;
/// The layer whose style the staff edit in the page.
const STYLE_LAYER: &str = "uji-gaya";
/// The whole node run may take this long before it is killed.
const NODE_TIMEOUT: Duration = Duration::from_secs(300);

/// The repository root (this file's crate is `server/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// What the browser run needs, or why it cannot run.
fn prerequisites() -> Result<(PathBuf, String), String> {
    let chromium = std::env::var_os("BSC_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        return Err(format!(
            "{} not found (apt-get install chromium, or set BSC_CHROMIUM)",
            chromium.display()
        ));
    }
    let node = Command::new("node").arg("--version").output();
    let node = match node {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => return Err("node not found (apt-get install nodejs npm)".into()),
    };
    let pw = root().join("tests/browser/node_modules/playwright-core/package.json");
    if !pw.is_file() {
        return Err(format!(
            "{} missing (run `npm ci --prefix tests/browser`)",
            pw.display()
        ));
    }
    Ok((chromium, node))
}

/// GeoJSON of the payload layer: every text a browser might render from it
/// (names, other properties, a property name, a link) is a script payload.
fn xss_layer() -> Vec<u8> {
    let fc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 1, "geometry": {"type": "Point", "coordinates": [115.17, -8.65]},
         "properties": {
            "nama": "<img src=x onerror=\"window.__xss=1\">",
            "keterangan": "<script>window.__xss=2</script>",
            "alamat": "<svg onload=alert(3)></svg><b>tebal</b>",
            "situs": "javascript:window.__xss=4",
            "<img src=x onerror=\"window.__xss=5\">": "kunci"
         }},
        {"type": "Feature", "id": 2, "geometry": {"type": "Point", "coordinates": [115.18, -8.66]},
         "properties": {"nama": "Uji Aman <script>window.__xss=6</script>"}}
    ]});
    serde_json::to_vec(&fc).unwrap()
}

/// GeoJSON of the dense layer: more lines than the viewer loads at once, so
/// it draws them from vector tiles below zoom 15; each has a `tanggal` in
/// 2023, so the time slider filters tiles too. Feature 1 is a long road
/// along latitude −8.62; the short ones keep away from it, so a click on it
/// finds feature 1 only.
fn dense_layer() -> Vec<u8> {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        // xorshift64: fixed data without a dependency.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut features = vec![json!({"type": "Feature", "id": 1,
        "geometry": {"type": "LineString", "coordinates": [[115.08, -8.62], [115.26, -8.62]]},
        "properties": {"nama": "Jalan Uji 1", "panjang_m": 19800, "tanggal": "2023-01-01"}})];
    for id in 2..=DENSE_FEATURES {
        let lon = 115.05 + next() * 0.22;
        let lat = if next() < 0.5 {
            -8.85 + next() * 0.21
        } else {
            -8.60 + next() * 0.3
        };
        let (dx, dy) = (next() * 0.004 - 0.002, next() * 0.004 - 0.002);
        features.push(json!({"type": "Feature", "id": id,
            "geometry": {"type": "LineString", "coordinates": [[lon, lat], [lon + dx, lat + dy]]},
            // A day of 2023 (from the id: no draw), for the time slider on tiles.
            "properties": {"nama": format!("Jalan Uji {id}"),
                           "tanggal": format!("2023-{:02}-{:02}", id * 7 % 12 + 1, id % 28 + 1)}}));
    }
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).unwrap()
}

/// Six points with a text `jenis` (three values) and a number `luas`.
fn style_layer() -> Vec<u8> {
    let kinds = ["sawah", "hutan", "taman", "sawah", "hutan", "taman"];
    let features: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            json!({
                "type": "Feature",
                "id": i + 1,
                "properties": { "nama": format!("Titik {}", i + 1), "jenis": k, "luas": (i as f64 + 1.0) * 250.0 },
                "geometry": { "type": "Point", "coordinates": [115.16 + 0.01 * i as f64, -8.58] }
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "type": "FeatureCollection", "features": features })).unwrap()
}

/// Uploads a public layer as the staff user and publishes it.
fn publish(s: &Server, cookie: &str, id: &str, titles: (&str, &str), geojson: Vec<u8>) {
    let form = Form::new()
        .text("id", id.to_owned())
        // The last category, so the layer stays out of the screenshots.
        .text("category", "setra-cemeteries")
        .text("title_id", titles.0.to_owned())
        .text("title_en", titles.1.to_owned())
        .text("visibility", "public")
        // Payloads in what the layer is about, shown by "Tentang lapisan ini".
        .text(
            "description_id",
            "Uraian <img src=x onerror=\"window.__xss=10\"> [tautan](javascript:window.__xss=11) **tebal**",
        )
        .text("source", "<script>window.__xss=12</script>")
        .part(
            "file",
            Part::bytes(geojson)
                .file_name("uji.geojson")
                .mime_str("application/geo+json")
                .unwrap(),
        );
    let r = s
        .authed(Method::POST, "/api/layers", Auth::Cookie(cookie))
        .multipart(form)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(status, 201, "upload {id}: {}", r.text().unwrap());
    let r = s
        .authed(
            Method::POST,
            &format!("/api/layers/{id}/publish"),
            Auth::Cookie(cookie),
        )
        .send()
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(status, 200, "publish {id}: {}", r.text().unwrap());
}

/// Publishes the payload layer as the staff user, with a photo whose
/// caption is a payload too (the photo's bytes are a demo photo's).
fn publish_xss_layer(s: &Server, cookie: &str) {
    let titles = (
        "Uji <img src=x onerror=\"window.__xss=7\">",
        "Test <script>window.__xss=8</script>",
    );
    publish(s, cookie, XSS_LAYER, titles, xss_layer());

    // A demo photo's bytes, attached with a payload caption.
    let pura = s.json("/api/layers/pura/features?limit=100");
    let url = pura["features"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|f| f["properties"]["photos"][0]["url"].as_str())
        .map(str::to_owned);
    let Some(url) = url else {
        println!("note: no demo photo found, the payload feature gets no photo");
        return;
    };
    let png = s.get(&url).bytes().unwrap().to_vec();
    let form = Form::new()
        .text("caption", "<img src=x onerror=\"window.__xss=9\">")
        .part(
            "file",
            Part::bytes(png)
                .file_name("foto.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let r = s
        .authed(
            Method::POST,
            &format!("/api/layers/{XSS_LAYER}/features/1/photos"),
            Auth::Cookie(cookie),
        )
        .multipart(form)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    assert!(
        (200..300).contains(&status),
        "photo for {XSS_LAYER}: {status} {}",
        r.text().unwrap()
    );
}

/// Runs node on the spec with a hard time limit, echoing its output line by
/// line; returns whether it succeeded and everything it printed.
fn run_node(args: &[String], envs: &[(&str, String)]) -> (bool, String) {
    let mut cmd = Command::new("node");
    cmd.current_dir(root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start node");
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        }));
    }
    drop(tx);
    let deadline = Instant::now() + NODE_TIMEOUT;
    let mut out = String::new();
    let mut timed_out = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                println!("  {line}");
                out.push_str(&line);
                out.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() > deadline {
            timed_out = true;
            let _ = child.kill();
            break;
        }
    }
    let status = child.wait().expect("wait for node");
    for r in readers {
        let _ = r.join();
    }
    if timed_out {
        out.push_str(&format!("killed after {} s\n", NODE_TIMEOUT.as_secs()));
        return (false, out);
    }
    (status.success(), out)
}

#[test]
fn the_web_map_in_a_real_browser() {
    let required = std::env::var("BSC_BROWSER_TESTS").is_ok_and(|v| v == "required");
    let (chromium, node) = match prerequisites() {
        Ok(p) => p,
        Err(why) => {
            assert!(
                !required,
                "BSC_BROWSER_TESTS=required but the browser tests cannot run: {why}"
            );
            // Straight to stderr, past the test harness's capture, so the
            // skip shows in every run's output.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED browser tests: {why}");
            return;
        }
    };

    let ws = Workspace::new();
    ws.add_user(LEADER.0, "leader", None, LEADER.1);
    ws.add_user(STAFF.0, "opd_staff", Some(STAFF_AGENCY), STAFF.1);
    ws.add_user(PUPR.0, "opd_staff", Some(PUPR_AGENCY), PUPR.1);
    let started = Instant::now();
    // The demo data set at its default size, as `bsc serve --demo` serves it.
    let s = ws.serve(&["--demo", "--basemap-url", "none"]);
    // A second server over the same database with the default basemap,
    // for the page weight with tiles.
    let with_basemap = ws.serve(&[]);
    println!(
        "servers ready in {:.1} s: {} (no basemap), {} (default basemap); {node}",
        started.elapsed().as_secs_f64(),
        s.base,
        with_basemap.base
    );

    // A third server over an empty database: no admin, so a setup link.
    let first_run = Workspace::new();
    let fresh = first_run.serve(&["--basemap-url", "none"]);
    let setup_link = fresh
        .log
        .lock()
        .unwrap()
        .iter()
        .find_map(|l| {
            let at = l.find("http://")?;
            let link = l[at..].split_whitespace().next()?;
            link.contains("/setup?token=").then(|| link.to_owned())
        })
        .expect("a server without an admin prints a setup link");

    let page = s.get("/");
    let status = page.status().as_u16();
    let ctype = page
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        status == 200 && ctype.starts_with("text/html"),
        "the viewer is not served at /: {status} {ctype}"
    );

    let cookie = s.login(STAFF.0, STAFF.1);
    publish_xss_layer(&s, &cookie);
    publish(
        &s,
        &cookie,
        DENSE_LAYER,
        ("Uji jalan padat", "Dense road test"),
        dense_layer(),
    );
    publish(
        &s,
        &cookie,
        STYLE_LAYER,
        ("Uji gaya", "Style test"),
        style_layer(),
    );
    // The second server picks the new layers up within its sync interval.
    with_basemap.eventually(10, |b| {
        [XSS_LAYER, DENSE_LAYER]
            .iter()
            .all(|l| b.get(&format!("/api/layers/{l}")).status() == 200)
    });

    let out_dir = match std::env::var_os("BSC_BROWSER_OUT") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() { d } else { root().join(d) }
        }
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser"),
    };
    std::fs::create_dir_all(&out_dir).unwrap();

    let args = vec![
        "tests/browser/viewer.spec.mjs".to_owned(),
        s.base.clone(),
        out_dir.display().to_string(),
    ];
    let mut envs = vec![
        ("BSC_CHROMIUM", chromium.display().to_string()),
        ("BSC_BASE_BASEMAP", with_basemap.base.clone()),
        ("BSC_LEADER", format!("{}:{}", LEADER.0, LEADER.1)),
        ("BSC_STAFF", format!("{}:{}", STAFF.0, STAFF.1)),
        ("BSC_PUPR", format!("{}:{}", PUPR.0, PUPR.1)),
        ("BSC_XSS_LAYER", XSS_LAYER.to_owned()),
        ("BSC_DENSE_LAYER", DENSE_LAYER.to_owned()),
        ("BSC_STYLE_LAYER", STYLE_LAYER.to_owned()),
        ("BSC_SETUP_LINK", setup_link),
    ];
    if let Ok(only) = std::env::var("BSC_BROWSER_ONLY") {
        envs.push(("BSC_BROWSER_ONLY", only));
    }
    println!("running node {}", args.join(" "));
    let (ok, out) = run_node(&args, &envs);
    if !ok {
        let log = s.log.lock().unwrap();
        let tail: Vec<&String> = log.iter().rev().take(40).collect();
        eprintln!("last server log lines (newest first):");
        for l in tail {
            eprintln!("  {l}");
        }
    }
    let failures: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("FAIL") || l.starts_with("killed"))
        .collect();
    assert!(
        ok,
        "browser tests failed (their output is above):\n{}",
        failures.join("\n")
    );
    assert!(
        out.lines().any(|l| l.ends_with(" passed, 0 failed")),
        "no summary line from the browser tests:\n{out}"
    );
    println!("screenshots and metrics.json in {}", out_dir.display());
}
