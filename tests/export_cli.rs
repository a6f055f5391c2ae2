//! `bsc export pmtiles`: the public layers as a PMTiles v3 archive whose
//! tiles are byte for byte the ones the server serves the public at
//! `/tiles/all/{z}/{x}/{y}.mvt`; internal layers never in it; bad flags
//! one line and a non-zero exit.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Workspace, block_on, mixed_layer};
use pmtiles::{AsyncPmTilesReader, TileCoord};

#[test]
fn the_archive_holds_the_public_tiles_the_server_serves() {
    let ws = Workspace::new();
    let public = ws.write("umum.geojson", &mixed_layer(300, 7).to_string());
    ws.import_ok(&public, "umum", "general", &[]);
    let secret = ws.write("rahasia.geojson", &mixed_layer(50, 9).to_string());
    ws.import_ok(&secret, "rahasia", "health", &["--visibility", "internal"]);

    let out = ws.path("bsc.pmtiles");
    let out_s = out.to_str().unwrap();
    let said = ws.bsc_ok(&["export", "pmtiles", out_s, "--max-zoom", "12"], "");
    assert!(
        said.contains("tiles") && said.contains("zoom 0-12"),
        "{said}"
    );
    // Never over an existing file.
    let again = ws.bsc(&["export", "pmtiles", out_s], "");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    let server = ws.serve(&[]);
    let (header, tiles) = block_on(async {
        let r = AsyncPmTilesReader::new_with_path(&out).await.unwrap();
        let h = r.get_header();
        let (zooms, w, s, e, nn) = (
            (h.min_zoom, h.max_zoom),
            h.min_longitude,
            h.min_latitude,
            h.max_longitude,
            h.max_latitude,
        );
        // Every tile at zoom 12 over the archive's bounds, archive against server.
        let n = 4096.0_f64;
        let col = |lon: f64| ((lon + 180.0) / 360.0 * n).floor() as u32;
        let row = |lat: f64| {
            let r = lat.to_radians();
            ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32
        };
        let (x0, x1) = (col(w), col(e));
        let (y0, y1) = (row(nn), row(s));
        let mut found = Vec::new();
        for x in x0..=x1 {
            for y in y0..=y1 {
                let c = TileCoord::new(12, x, y).unwrap();
                if let Some(b) = r.get_tile_decompressed(c).await.unwrap() {
                    found.push((x, y, b.to_vec()));
                }
            }
        }
        (zooms, found)
    });
    assert_eq!(header, (0, 12));
    assert!(!tiles.is_empty(), "no tile at zoom 12 in the archive");
    for (x, y, bytes) in &tiles {
        let served = server.get(&format!("/tiles/all/12/{x}/{y}.mvt"));
        assert_eq!(served.status(), 200, "12/{x}/{y}");
        assert_eq!(&served.bytes().unwrap()[..], &bytes[..], "tile 12/{x}/{y}");
        let text = String::from_utf8_lossy(bytes);
        assert!(
            text.contains("umum") && !text.contains("rahasia"),
            "12/{x}/{y}"
        );
    }
    eprintln!(
        "{said}; {} tiles at zoom 12 equal the server's",
        tiles.len()
    );

    // Bad flags: one line, non-zero.
    for args in [
        vec!["export", "pmtiles", "x.pmtiles", "--layers", "rahasia"],
        vec![
            "export",
            "pmtiles",
            "y.pmtiles",
            "--min-zoom",
            "9",
            "--max-zoom",
            "3",
        ],
    ] {
        let o = ws.bsc(&args, "");
        assert!(!o.status.success(), "{args:?}");
        // (after the log lines of loading the layers)
        let err = String::from_utf8_lossy(&o.stderr);
        let last = err.trim().lines().last().unwrap_or_default();
        assert!(last.starts_with("error: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
