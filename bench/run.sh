#!/usr/bin/env bash
# Benchmark of bsc core: import, index load, memory, and bbox GeoJSON
# throughput against the server's own ceiling (a fixed buffer route).
#
#   bench/run.sh [FEATURES] [DURATION]      defaults: 1000000 features, 15s per run
#   BSC=/tmp/bsc-old OUT=bench/out/old bench/run.sh …   another binary, its own output folder
#
# Needs ../shared (gen_badung.py, urls.py, paths.lua), wrk and curl.
# Writes everything under bench/out/ and prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FEATURES=${1:-1000000}
DURATION=${2:-15s}
SHARED=${SHARED:-../shared}
OUT=${OUT:-bench/out}
DATA=${DATA:-$OUT/data-$FEATURES}
DB=$OUT/bench-$FEATURES.db
PORT=${PORT:-18181}
LAYERS=${LAYERS:-pura,jalan,subak}
mkdir -p "$OUT"

command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
# BSC=path/to/bsc benchmarks a given binary (e.g. an older build, side by
# side with this one in the same session); else this checkout's release build.
if [ -z "${BSC:-}" ]; then
  cargo build --release --quiet
  BSC=target/release/bsc
fi

if [ ! -f "$DATA/manifest.json" ]; then
  echo "generating $FEATURES features into $DATA" >&2
  python3 "$SHARED/tools/gen_badung.py" "$DATA" --features "$FEATURES" --seed 1 >&2
fi
GEOJSON_BYTES=$(du -cb "$DATA"/*.geojson | tail -1 | cut -f1)

# --- import -----------------------------------------------------------------
rm -f "$DB" "$DB-wal" "$DB-shm"
start=$(date +%s.%N)
import_data "$BSC" "$DATA" "sqlite://$DB"
end=$(date +%s.%N)
IMPORT_S=$(python3 -c "print(f'{$end-$start:.1f}')")
DB_BYTES=$(du -cb "$DB"* | tail -1 | cut -f1)

# --- start and load ---------------------------------------------------------
start=$(date +%s.%N)
"$BSC" serve --database "sqlite://$DB" --bind "127.0.0.1:$PORT" --bench-ceiling --log warn,server=info > "$OUT/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
  kill -0 $PID 2>/dev/null || { cat "$OUT/serve.log" >&2; exit 1; }
  sleep 0.05
done
end=$(date +%s.%N)
LOAD_S=$(python3 -c "print(f'{$end-$start:.1f}')")
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$PID/status; }
ratio() { python3 -c "print(f'{$1*1024/$GEOJSON_BYTES:.2f}')"; }
RSS_KB=$(rss_kb)
# jemalloc's background threads return the load's transient buffers within seconds.
sleep 30
RSS_SETTLED_KB=$(rss_kb)

# --- throughput -------------------------------------------------------------
row() { # name paths-file
  local res
  res=$(PATHS="$2" wrk -t2 -c32 -d"$DURATION" -s "$SHARED/bench/paths.lua" "http://127.0.0.1:$PORT" | grep RESULT)
  local rps p50 p99 err
  rps=$(sed -E 's/.*req_per_s=([0-9.]+).*/\1/' <<<"$res")
  p50=$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$res")
  p99=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$res")
  err=$(sed -E 's/.*non2xx_or_err=([0-9]+).*/\1/' <<<"$res")
  echo "| $1 | $rps | $p50 | $p99 | $err | $3 |"
}
avg_bytes() { # paths-file: mean body size over the first 300 paths
  head -300 "$1" | while read -r p; do curl -s -o /dev/null -w '%{size_download}\n' "http://127.0.0.1:$PORT$p"; done |
    awk '{s+=$1; n++} END {printf "%d", s/n}'
}

TABLE=$OUT/results-$FEATURES.md
{
  echo "bsc ${BSC_LABEL:-$(git rev-parse --short HEAD 2>/dev/null || echo "?")}, $FEATURES features requested, $(nproc) cores, wrk -t2 -c32 -d$DURATION, layers $LAYERS"
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| GeoJSON on disk | $((GEOJSON_BYTES / 1048576)) MiB |"
  echo "| import (bsc import, all layers) | $IMPORT_S s |"
  echo "| database size | $((DB_BYTES / 1048576)) MiB |"
  echo "| start-up until /readyz (index load) | $LOAD_S s |"
  echo "| resident memory right after load | $((RSS_KB / 1024)) MiB ($(ratio "$RSS_KB") x GeoJSON size) |"
  echo "| resident memory 30 s after load | $((RSS_SETTLED_KB / 1024)) MiB ($(ratio "$RSS_SETTLED_KB") x GeoJSON size) |"
  echo
  echo "| route | req/s | p50 ms | p99 ms | errors | mean body bytes |"
  echo "|---|---|---|---|---|---|"
} > "$TABLE"
for size in 0.01 0.05; do
  P=$OUT/bbox-$size.txt
  python3 "$SHARED/bench/urls.py" bbox 2000 "$size" "/api/layers/{layer}/features?bbox={bbox}&limit=10000" --layers "$LAYERS" > "$P"
  AVG=$(avg_bytes "$P")
  row "bbox $size° GeoJSON" "$P" "$AVG" >> "$TABLE"
  C=$OUT/ceiling-$size.txt
  echo "/bench/ceiling?bytes=$AVG" > "$C"
  row "ceiling: fixed buffer of $AVG bytes" "$C" "$AVG" >> "$TABLE"
done
# --- vector tiles: z10-16 over the regency, the same three layers ----------
T=$OUT/tiles.txt
python3 "$SHARED/bench/urls.py" tiles 10 16 "/tiles/{layer}/{z}/{x}/{y}.mvt" --layers "$LAYERS" > "$T"
TAVG=$(avg_bytes "$T")
# Warm: every tile of the list is fetched once, then the measured pass is served from the cache.
sort -u "$T" | xargs -P4 -I{} curl -s -o /dev/null "http://127.0.0.1:$PORT{}"
row "tiles z10-16, warm cache" "$T" "$TAVG" >> "$TABLE"
RSS_AFTER_KB=$(rss_kb)
kill $PID; wait $PID 2>/dev/null || true
# Uncached: every request renders its tile from the R-tree.
"$BSC" serve --database "sqlite://$DB" --bind "127.0.0.1:$PORT" --tile-cache-mb 0 --log warn > "$OUT/serve-nocache.log" 2>&1 &
PID=$!
until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.1; done
row "tiles z10-16, no cache (every tile rendered)" "$T" "$TAVG" >> "$TABLE"
O=$OUT/ogc-0.01.txt
python3 "$SHARED/bench/urls.py" bbox 2000 0.01 "/ogc/collections/{layer}/items?bbox={bbox}&limit=10000" --layers "$LAYERS" > "$O"
if curl -fs -o /dev/null "http://127.0.0.1:$PORT$(head -1 "$O")"; then
  row "OGC items bbox 0.01°" "$O" "$(avg_bytes "$O")" >> "$TABLE"
fi
# --- place search: what people type, each near a random point ---------------
S=$OUT/search.txt
python3 - "$S" <<'PY'
import random, sys, urllib.parse
random.seed(7)
qs = ["sekolah", "pantai kuta", "kuta", "titik", "puskesmsa", "jalan wata", "pura dalem", "hotel",
      "pasar", "subak", "setra ba", "pantai", "sanggar", "kantor desa", "beach", "temple"]
with open(sys.argv[1], "w") as f:
    for _ in range(2000):
        near = f"{random.uniform(115.05, 115.25):.4f},{random.uniform(-8.85, -8.45):.4f}"
        f.write("/api/search?" + urllib.parse.urlencode({"q": random.choice(qs), "near": near, "limit": 12}) + "\n")
PY
row "search, 16 queries near random points" "$S" "$(avg_bytes "$S")" >> "$TABLE"
echo >> "$TABLE"
echo "resident memory after the runs: $((RSS_AFTER_KB / 1024)) MiB ($(ratio "$RSS_AFTER_KB") x GeoJSON size)" >> "$TABLE"
cat "$TABLE"
