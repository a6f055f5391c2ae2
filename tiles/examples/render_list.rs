//! Renders a list of tile paths from a `bsc` database, without HTTP, and
//! prints the time and bytes per layer and zoom: where tile time goes.
//!
//! ```sh
//! cargo run --release -p tiles --example render_list -- \
//!     sqlite:///tmp/copy-of.db bench/out/tiles.txt [passes]
//! ```
//!
//! Paths are `/tiles/{layer}/{z}/{x}/{y}.mvt`; only the layers they name
//! are loaded. The database is migrated when opened: use a copy.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use geozero::mvt::{Message, Tile};
use layers::Store;
use layers::catalog::load;
use layers::index::LayerData;
use tiles::{Overview, TileId, TileOptions, render_tile};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Per (layer, zoom): tiles, time, bytes, slowest, features, geometry words.
type Stats = (u32, Duration, usize, Duration, usize, usize);

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(db), Some(list)) = (args.get(1), args.get(2)) else {
        return Err("usage: render_list DATABASE_URL PATHS_FILE [PASSES]".into());
    };
    let passes: u32 = args.get(3).map_or(Ok(1), |p| p.parse())?;
    let mut tiles: Vec<(String, TileId)> = Vec::new();
    for line in std::fs::read_to_string(list)?.lines() {
        let parts: Vec<&str> = line.trim_end_matches(".mvt").split('/').collect();
        if let [_, "tiles", layer, z, x, y] = parts[..] {
            tiles.push((
                layer.to_owned(),
                TileId::new(z.parse()?, x.parse()?, y.parse()?)?,
            ));
        }
    }
    let store = Store::open(db).await?;
    let mut opts = TileOptions::default();
    if let Ok(max) = std::env::var("MAX_BYTES") {
        opts.max_bytes = max.parse()?;
    }
    let mut data: HashMap<String, Arc<LayerData>> = HashMap::new();
    for p in store.published_layers().await? {
        if tiles.iter().any(|(l, _)| *l == p.meta.id) {
            let loaded = Arc::new(load(&store, &p.meta.id, p.version).await?);
            let started = Instant::now();
            let overview = Overview::of(&loaded, &opts);
            println!(
                "{}: {} features, {} vertices, overview {} ms, {} KiB",
                p.meta.id,
                loaded.len(),
                loaded.vertex_count(),
                started.elapsed().as_millis(),
                overview.heap_bytes() / 1024
            );
            data.insert(p.meta.id, loaded);
        }
    }
    let mut stats: BTreeMap<(String, u8), Stats> = BTreeMap::new();
    let mut walls: Vec<(Duration, usize)> = Vec::new();
    for _ in 0..passes {
        for (layer, t) in &tiles {
            let Some(d) = data.get(layer) else { continue };
            let wall = Instant::now();
            let started = cpu_time();
            let encoded = render_tile(&[(layer.as_str(), d)], *t, &opts).unwrap_or_default();
            let took = cpu_time().saturating_sub(started);
            walls.push((wall.elapsed(), encoded.len()));
            let tile = Tile::decode(encoded.as_slice())?;
            let features = tile.layers.iter().flat_map(|l| &l.features);
            let s = stats.entry((layer.clone(), t.z)).or_default();
            s.0 += 1;
            s.1 += took;
            s.2 += encoded.len();
            s.3 = s.3.max(took);
            s.4 += features.clone().count();
            s.5 += features.map(|f| f.geometry.len()).sum::<usize>();
        }
    }
    let mut total = Duration::ZERO;
    for ((layer, z), (n, time, bytes, slowest, features, words)) in &stats {
        total += *time;
        let n_ = *n as usize;
        println!(
            "{layer:>8} z{z:<2} {n:>5} tiles  mean {:>7.2} ms  max {:>7.1} ms  mean {:>7} B {:>6} features {:>7} geometry words",
            time.as_secs_f64() * 1e3 / f64::from(*n),
            slowest.as_secs_f64() * 1e3,
            bytes / n_,
            features / n_,
            words / n_
        );
    }
    walls.sort_unstable();
    let at = |q: f64| walls[((walls.len() - 1) as f64 * q) as usize];
    for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
        let (t, bytes) = at(q);
        println!(
            "wall time p{}: {:.2} ms ({bytes} B)",
            q * 100.0,
            t.as_secs_f64() * 1e3
        );
    }
    let n: u32 = stats.values().map(|s| s.0).sum();
    println!(
        "{n} tiles in {:.2} s of CPU: {:.0} tiles/s on one core",
        total.as_secs_f64(),
        f64::from(n) / total.as_secs_f64()
    );
    Ok(())
}

/// CPU time of this thread so far (Linux), so that other processes on a
/// busy machine do not count; wall time elsewhere.
fn cpu_time() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or_else(
            || START.get_or_init(Instant::now).elapsed(),
            Duration::from_nanos,
        )
}
