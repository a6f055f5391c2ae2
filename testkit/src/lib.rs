//! Test helpers shared by the in-process route tests (`server/tests/routes/`)
//! and the end-to-end tests of the `bsc` binary (`tests/`), kept once:
//! the test database on the backend `BSC_TEST_BACKEND` names, a seeded
//! random generator, generated layers, fixture paths and PNG bytes.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::path::PathBuf;

use serde_json::{Value, json};

/// The database the tests run on, from `BSC_TEST_BACKEND`: `sqlite` (the
/// default) or `postgres`. The README's test command (`tests/run.sh`) runs
/// the suite once with each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `BSC_TEST_POSTGRES`.
    Postgres,
}

/// The backend `BSC_TEST_BACKEND` names (SQLite when unset).
pub fn backend() -> Backend {
    match std::env::var("BSC_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("BSC_TEST_BACKEND={other:?}: use sqlite or postgres"),
    }
}

/// Whether the suite runs on SQLite.
pub fn backend_is_sqlite() -> bool {
    backend() == Backend::Sqlite
}

/// The PostgreSQL server the tests create their databases on (a role that
/// may create databases; PostGIS installed), from `BSC_TEST_POSTGRES`.
pub fn postgres_admin_url() -> String {
    std::env::var("BSC_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://bsc:bsc@127.0.0.1:5432/postgres".to_owned())
}

/// `url` (a PostgreSQL URL) with its database name replaced by `name`.
pub fn postgres_url_for(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let root = &base[..base.rfind('/').expect("a PostgreSQL URL has a path")];
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// Runs an async block on a small runtime of its own (for sync tests).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Runs `f` on a thread of its own and waits for it: a runtime may be
/// started there even when the caller is inside one (an async test).
fn on_own_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f)
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// A fresh PostgreSQL database for one test, dropped with it.
pub struct PgDatabase {
    /// Its name (generated, unique).
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl PgDatabase {
    /// Creates a database on the server of [`postgres_admin_url`]; works
    /// from sync and async tests alike.
    pub fn create() -> PgDatabase {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "bsc_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let admin = postgres_admin_url();
        let (n, a) = (name.clone(), admin.clone());
        on_own_thread(move || {
            block_on(async move {
                use sqlx::{Connection, Executor};
                let mut c = sqlx::PgConnection::connect(&a).await.unwrap_or_else(|e| {
                    panic!(
                        "BSC_TEST_BACKEND=postgres needs a PostgreSQL server with PostGIS at \
                         BSC_TEST_POSTGRES ({a}): {e}"
                    )
                });
                // The name is generated above, never taken from input.
                c.execute(format!("CREATE DATABASE {n}").as_str())
                    .await
                    .unwrap();
            })
        });
        PgDatabase {
            url: postgres_url_for(&admin, &name),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = postgres_admin_url();
        let name = self.name.clone();
        on_own_thread(move || {
            block_on(async move {
                use sqlx::{Connection, Executor};
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = c
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            })
        });
    }
}

/// A temporary folder and a database for one test: a SQLite file in the
/// folder, or a fresh PostgreSQL database when `BSC_TEST_BACKEND=postgres`.
pub struct TestDb {
    /// The temporary folder (removed on drop).
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database, on that backend.
    pub pg: Option<PgDatabase>,
}

impl TestDb {
    /// A database on the backend of [`backend`].
    pub fn new() -> TestDb {
        TestDb {
            dir: tempfile::tempdir().expect("temp dir"),
            pg: (backend() == Backend::Postgres).then(PgDatabase::create),
        }
    }

    /// A database on a SQLite file whichever backend the suite runs on.
    pub fn sqlite() -> TestDb {
        TestDb {
            dir: tempfile::tempdir().expect("temp dir"),
            pg: None,
        }
    }

    /// The database's URL.
    pub fn url(&self) -> String {
        match &self.pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", self.dir.path().join("bsc.db").display()),
        }
    }
}

impl Default for TestDb {
    fn default() -> TestDb {
        TestDb::new()
    }
}

/// Runs one SQL query on the database at `url` (either backend) and
/// returns its rows; works from sync and async tests alike.
pub fn sql(url: &str, sql: &str) -> Vec<sqlx::any::AnyRow> {
    sqlx::any::install_default_drivers();
    let (url, sql) = (url.to_owned(), sql.to_owned());
    on_own_thread(move || {
        block_on(async move {
            use sqlx::Connection;
            let mut c = sqlx::AnyConnection::connect(&url).await.unwrap();
            sqlx::query(&sql).fetch_all(&mut c).await.unwrap()
        })
    })
}

/// The first column of each row of a query, as strings.
pub fn sql_strings(url: &str, query: &str) -> Vec<String> {
    use sqlx::Row;
    sql(url, query)
        .iter()
        .map(|r| r.try_get(0).unwrap())
        .collect()
}

/// A tiny deterministic generator (SplitMix64) for fixtures.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits. (Named as the tests have always called it;
    /// the generator is endless, so it is no `Iterator`.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`.
    pub fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `[lo, hi)`.
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + self.f() * (hi - lo)
    }
}

/// Extent the fixtures are spread over (a piece of Badung).
pub const EXTENT: [f64; 4] = [115.10, -8.80, 115.25, -8.50];

/// A mixed layer of `n` features: points, multipoints, L-shaped lines
/// (whose envelopes cover space the line does not), polygons with holes,
/// multipolygons, and some features without geometry; ids alternate
/// between numbers and strings.
pub fn mixed_layer(n: usize, seed: u64) -> Value {
    let mut r = Rng(seed);
    let mut features = Vec::with_capacity(n);
    for i in 0..n {
        let x = r.between(EXTENT[0], EXTENT[2]);
        let y = r.between(EXTENT[1], EXTENT[3]);
        let d = r.between(0.001, 0.02);
        let geometry = match i % 7 {
            0 | 1 => json!({"type": "Point", "coordinates": [x, y]}),
            2 => json!({"type": "LineString", "coordinates": [[x, y], [x, y + d], [x + d, y + d]]}),
            3 => json!({"type": "Polygon", "coordinates": [
                [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]],
                [[x + d * 0.2, y + d * 0.2], [x + d * 0.2, y + d * 0.8], [x + d * 0.8, y + d * 0.8], [x + d * 0.8, y + d * 0.2], [x + d * 0.2, y + d * 0.2]]
            ]}),
            4 => json!({"type": "MultiPoint", "coordinates": [[x, y], [x + d, y + d]]}),
            5 => json!({"type": "MultiPolygon", "coordinates": [
                [[[x, y], [x + d / 3.0, y], [x, y + d / 3.0], [x, y]]],
                [[[x + d, y + d], [x + d, y + d * 0.7], [x + d * 0.7, y + d], [x + d, y + d]]]
            ]}),
            _ => {
                if i % 14 == 6 {
                    Value::Null
                } else {
                    json!({"type": "Point", "coordinates": [x, y]})
                }
            }
        };
        let id = if i % 2 == 0 {
            json!(i + 1)
        } else {
            json!(format!("f-{}", i + 1))
        };
        features.push(json!({
            "type": "Feature",
            "id": id,
            "properties": {"nama": format!("Objek {} {}", ["Pura", "Pantai", "Pasar", "Sekolah"][i % 4], i + 1), "urut": i},
            "geometry": geometry
        }));
    }
    json!({"type": "FeatureCollection", "features": features})
}

/// A GeoJSON FeatureCollection of points named `names`, ids 1, 2, …, a
/// thousandth of a degree apart from `at` eastwards.
pub fn named_points(names: &[&str], at: [f64; 2]) -> Value {
    let features: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({"type": "Feature", "id": i + 1, "properties": {"nama": n},
                   "geometry": {"type": "Point", "coordinates": [at[0] + i as f64 * 0.001, at[1]]}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// The districts the OGC layer's features lie in, in turn.
pub const KECAMATAN: [&str; 6] = [
    "Kuta",
    "Kuta Selatan",
    "Kuta Utara",
    "Mengwi",
    "Abiansemal",
    "Petang",
];
/// Features of [`ogc_layer`].
pub const OGC_N: usize = 350;

/// The layer the OGC API tests serve (as `pura`): 350 features: points, and every tenth a square polygon; properties of
/// each queryable type, a nullable one, a year, awkward text.
pub fn ogc_layer() -> Value {
    let mut r = Rng(7);
    let features: Vec<Value> = (0..OGC_N)
        .map(|i| {
            let (x, y) = (r.between(115.10, 115.25), r.between(-8.80, -8.50));
            let geometry = if i % 10 == 0 {
                let d = 0.01;
                json!({"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]})
            } else {
                json!({"type": "Point", "coordinates": [x, y]})
            };
            let nama = match i {
                3 => "<script>alert('x')</script> & \"Pura\"".to_owned(),
                _ => format!("{} {}", ["Pura Dalem", "Pura Desa", "Pantai", "Pasar"][i % 4], i),
            };
            json!({
                "type": "Feature", "id": i + 1,
                "properties": {
                    "nama": nama,
                    "nomor": i,
                    "luas": (i as f64) * 1.5,
                    "aktif": i % 3 == 0,
                    "kecamatan": KECAMATAN[i % 6],
                    "catatan": if i % 5 == 0 { Value::Null } else { json!(format!("catatan {i}")) },
                    "tahun_data": 2019 + (i % 5) as i64,
                },
                "geometry": geometry
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// A JSON array of numbers (a bbox, say) as `f64`s.
pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The feature id of a GeoJSON id value as it appears in a URL.
pub fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A 2x1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7B, 0x40, 0xE8,
    0xDD, 0x00, 0x00, 0x00, 0x0F, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// The folder of fixture files, `tests/fixtures/` of the workspace.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// The bytes of the fixture at `tests/fixtures/{name}`.
pub fn fixture(name: &str) -> Vec<u8> {
    let p = fixtures().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
